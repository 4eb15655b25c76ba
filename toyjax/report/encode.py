"""Numbers for the report page: floats rounded to 4 significant digits, and JSON safe inside an HTML page.

Everything the page embeds goes through `plain`: NumPy arrays become nested lists, floats keep `DIGITS`
significant digits (``0.1234``, ``1.234e-05``), NaN and ±inf become ``null``. Rounding is what keeps a
page of thousands of models small; 4 digits is finer than any colour scale or hover label shows.
`to_json` writes the result compactly and escapes ``</`` so that it can sit in a ``<script>`` element.
This module imports only numpy.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

DIGITS = 4


def number(x: float, digits: int = DIGITS) -> float | int | None:
    """`x` to `digits` significant digits (an int when whole, which is shorter), None when not finite."""
    x = float(x)
    if not math.isfinite(x):
        return None
    r = float(f"{x:.{digits}g}")
    return int(r) if r.is_integer() and abs(r) < 1e15 else r


def plain(obj: Any, digits: int = DIGITS) -> Any:
    """`obj` (dicts, lists, tuples, NumPy arrays and scalars) as plain JSON values with rounded floats."""
    if isinstance(obj, dict):
        return {str(k): plain(v, digits) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return _array(obj, digits)
    if isinstance(obj, list | tuple):
        return [plain(v, digits) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return number(obj, digits)
    return obj


def _array(a: np.ndarray, digits: int) -> list:
    if a.dtype == bool:
        return a.tolist()
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.int64).tolist()
    if not np.issubdtype(a.dtype, np.floating):
        return plain(a.tolist(), digits)
    if a.ndim == 0:
        return number(a, digits)
    flat = [number(x, digits) for x in a.astype(np.float64).ravel().tolist()]
    return np.asarray(flat, dtype=object).reshape(a.shape).tolist() if a.ndim > 1 else flat


def to_json(obj: Any) -> str:
    """Compact JSON of `plain(obj)` that can be placed inside an HTML ``<script>`` element."""
    text = json.dumps(plain(obj), separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")
