"""The report page as one HTML file: the sections, the model panel, the data, plotly.js and the glue.

The page holds everything it shows and fetches nothing: the figures as plotly JSON and the grid's numbers
in one ``<script type="application/json" id="toyjax-data">`` element, plotly.js once (compressed, see
`toyjax.report.lib`), and the small glue of ``assets/glue.js`` that draws the figures and wires clicks and
selectors to ``Plotly.react``. This module imports numpy and the report's `encode`, `lib`, `model` and `parts`.
"""

from __future__ import annotations

import html

from toyjax.report import encode, lib, parts
from toyjax.report.model import ModelPanel

LIST_MAX = 64  # W and b are listed as numbers under the model panel up to this many entries
SLOTS = {"m-dirs": (400, "44%"), "m-gram": (400, ""), "m-bars": (300, ""), "m-curve": (300, ""),
         "m-graph": (460, "52%"), "m-traj": (480, "100%"), "m-stack": (340, "100%")}


def _template() -> dict:
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


def model_section(panel: ModelPanel, note: str) -> parts.Section:
    """The selected model: what it is, its seeds, and the panel's figures."""
    slots = [parts.slot(fig_id, *SLOTS.get(fig_id, (360, ""))) for fig_id in panel.figures]
    body = ('<div class="controls"><label>seed <select id="seed-select"></select></label></div>'
            '<div id="model-info"></div>' + parts.row(*slots) + parts.note(f"Rounded to 4 significant digits; {note}."))
    return parts.Section("selected model", body, dict(panel.figures), id="model")


def render(title: str, subtitle: str, sections: list[parts.Section], data: dict) -> str:
    """The whole page: `sections` in order, `data` (grid, model rows, ...) and every section's figures."""
    figures = {k: v for s in sections for k, v in s.figures.items()}
    clicks = [c for s in sections for c in s.clicks]
    payload = encode.to_json({**data, "figures": figures, "clicks": clicks, "template": _template()})
    packed, version = lib.plotly_js()
    body = "".join(f'<section id="{s.id or f"s-{i}"}"><h2>{html.escape(s.title)}</h2>{s.html}</section>'
                   for i, s in enumerate(sections))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{parts.asset('style.css')}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>"
        f"<p>toyjax report; plotly.js {html.escape(version)} is embedded, nothing is fetched from the network.</p>"
        f'</header><main>{body}</main><div id="loading">unpacking plotly.js …</div>'
        f'<script type="application/json" id="toyjax-data">{payload}</script>'
        f'<script type="application/octet-stream" id="plotly-gz">{packed}</script>'
        f"<script>{parts.asset('glue.js')}</script></body></html>\n"
    )
