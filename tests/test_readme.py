"""The README says each number once, and says what the code does: preset times, output paths, commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from toyjax import presets

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
HELP = (ROOT / "conf" / "config.yaml").read_text()


def header_time(name: str) -> str:
    text = (presets.sweeps_dir() / f"{name}.yaml").read_text()
    return re.search(r"^# time: (.*?) on 2 CPU cores", text, re.M).group(1)


@pytest.mark.parametrize("name", presets.preset_names())
def test_each_presets_time_is_its_headers(name):
    rows = re.findall(rf"^\| `{name}` \|.*\| ([^|]+) \|$", README, re.M)
    assert rows == [header_time(name)], (name, rows)


def test_the_run_directory_is_named_as_the_config_names_it():
    assert "outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}_${sweep.name}" in HELP
    assert "outputs/<date>/<time>_<preset>/" in README
    assert not re.search(r"outputs/<date>/<time>/", README)


def test_times_are_not_stated_twice():
    """The Quickstart and --help point at the table instead of giving numbers of their own."""
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert not re.search(r"~\s*\d+(\.\d+)?\s*(s|min)\b", quickstart)
    assert not re.search(r"\(~\d", HELP)
