"""Figures of the reproduction: a run's own declared figure as one PNG, or a small figure drawn here.

The document shows one PNG per claim, kept small (PNG only, `DPI`). Where a claim reads one run, its figure is
that run's declared figure (`toyjax.plots.FIGURES`), the one ``toyjax-plot`` draws; claims that compare runs
or need a measurement of their own draw it with the helpers below. This module imports matplotlib, PIL (a
matplotlib dependency) and `toyjax.plots`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from PIL import Image

from toyjax.plots import common
from toyjax.plots.registry import FIGURES

DPI = 90
COLOURS = 256  # PNGs are stored with an adaptive palette of this many colours: a third of the bytes


def declared(results, path: Path, figure: str | None = None) -> Path:
    """Draw `figure` (default: the run's declared figure) of `results` into the PNG `path`."""
    name = figure or results.run_info.report.figure
    with tempfile.TemporaryDirectory() as tmp:
        written = FIGURES[name](results, Path(tmp), name=name)
        png = next(p for p in written if p.suffix == ".png")
        shutil.move(str(png), path)
    return shrink(path)


def shrink(path: Path) -> Path:
    """Re-encode the PNG `path` with an adaptive palette of `COLOURS` colours (figures have few colours)."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    return path


def save(fig, path: Path) -> Path:
    """Write `fig` as the PNG `path` at `DPI`, close it, and `shrink` the file."""
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return shrink(path)


def panels(count: int, width: float = 4.2, height: float = 3.4, rows: int = 1):
    """A figure with `count` panels in `rows` rows (constrained layout); returns (figure, flat axes)."""
    cols = -(-count // rows)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False,
                             constrained_layout=True)
    for ax in axes.ravel()[count:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def density_axis(ax) -> None:
    """Log x axis labelled as the paper's feature density."""
    ax.set_xscale("log")
    ax.set_xlabel(common.DENSITY_LABEL)
