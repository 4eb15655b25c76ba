"""The safetensors file format (Hugging Face), written and read with numpy alone.

A file is an 8-byte little-endian header length N, N bytes of JSON (each tensor's ``dtype``, ``shape`` and
``data_offsets`` into the byte buffer that follows, and an optional ``__metadata__`` of strings, padded with
spaces to a multiple of 8 bytes) and the tensors' raw little-endian bytes, in C order, one after another. This is
the whole format (https://github.com/huggingface/safetensors, "Format"), so toyjax writes it without the
package. This module imports numpy, `toyjax.errors` and `toyjax.fileio`.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from toyjax.errors import ResultsError
from toyjax.fileio import atomic_write

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U8": "u1", "BOOL": "?"}  # safetensors dtype -> numpy dtype
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def to_bytes(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """The safetensors bytes of `arrays` (name -> array of a dtype in `DTYPES`), in name order."""
    header: dict = {"__metadata__": dict(metadata)} if metadata else {}
    chunks, offset = [], 0
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        dtype = array.dtype.newbyteorder("<")
        data = np.ascontiguousarray(array, dtype=dtype).tobytes()
        header[name] = {"dtype": NAMES[dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write(path: str | os.PathLike, arrays: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write `arrays` to a safetensors file at `path`, atomically (`toyjax.fileio.atomic_write`)."""
    data = to_bytes(arrays, metadata)
    atomic_write(path, lambda f: f.write(data))


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(the arrays, the metadata) of a safetensors file; `ResultsError` names a file that is not one."""
    raw = Path(path).read_bytes()
    try:
        (length,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + length])
        buffer = raw[8 + length:]
        metadata = header.pop("__metadata__", None) or {}
        arrays = {name: np.frombuffer(buffer[start:stop], DTYPES[entry["dtype"]]).reshape(entry["shape"])
                  for name, entry in header.items() for start, stop in [entry["data_offsets"]]}
    except (struct.error, ValueError, KeyError, TypeError) as e:
        raise ResultsError(f"{path}: not a safetensors file ({e})") from None
    return arrays, metadata
