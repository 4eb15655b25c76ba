"""The safetensors format written and read with numpy alone (`toyjax.tensorfiles`)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from toyjax import tensorfiles
from toyjax.errors import ResultsError


def test_safetensors_files_are_the_format_and_read_back(tmp_path):
    arrays = {"W": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5], np.float32),
              "n": np.arange(3, dtype=np.int32)}
    raw = tensorfiles.to_bytes(arrays, {"format": "pt"})
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    offsets = sorted(entry["data_offsets"] for name, entry in header.items() if name != "__metadata__")
    assert length % 8 == 0 and header["__metadata__"] == {"format": "pt"} and header["W"]["dtype"] == "F32"
    assert offsets[0][0] == 0 and all(a[1] == b[0] for a, b in zip(offsets, offsets[1:], strict=False))
    assert offsets[-1][1] == len(raw) - 8 - length
    tensorfiles.write(tmp_path / "x.safetensors", arrays, {"format": "pt"})
    back, metadata = tensorfiles.read(tmp_path / "x.safetensors")
    assert metadata == {"format": "pt"} and all(np.array_equal(back[k], v) and back[k].dtype == v.dtype
                                                for k, v in arrays.items())
    (tmp_path / "bad").write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{nope")
    with pytest.raises(ResultsError, match="not a safetensors file"):
        tensorfiles.read(tmp_path / "bad")
