"""The optional plotting library of the report page: plotly, imported only when a page is built.

Plotly is an optional extra (``pip install 'toyjax[report]'``); `available` says whether it is installed,
`graph_objects` and `subplots` import it lazily, and `plotly_js` gives plotly.js for inlining into a page.
plotly.js is 4.8 MB as text, which alone would fill a page meant to stay under 5 MB, so the page carries it
once, gzip-compressed and base64-encoded (about 2 MB), and the browser unpacks it with its built-in
``DecompressionStream``: nothing is fetched from the network. This module imports the standard library only
(plotly lazily).
"""

from __future__ import annotations

import base64
import functools
import gzip
import importlib.util

INSTALL_HINT = "pip install 'toyjax[report]'"


def available() -> bool:
    """True when plotly can be imported."""
    return importlib.util.find_spec("plotly") is not None


def graph_objects():
    """``plotly.graph_objects``."""
    import plotly.graph_objects as go

    return go


def subplots():
    """``plotly.subplots.make_subplots``."""
    from plotly.subplots import make_subplots

    return make_subplots


@functools.lru_cache(maxsize=1)
def plotly_js() -> tuple[str, str]:
    """(plotly.js gzip-compressed and base64-encoded, its version), computed once per process."""
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    packed = gzip.compress(get_plotlyjs().encode(), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii"), get_plotlyjs_version()
