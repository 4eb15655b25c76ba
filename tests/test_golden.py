"""Results are pinned bit for bit: a small run of every preset against arrays saved by the engine earlier.

`tests/fixtures/make_golden.py` wrote the arrays (see there for the sizes and the commit). A refactor that
changes a single bit of any preset's params, losses or history fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import toyjax

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFIGS = json.loads((FIXTURES / "golden.json").read_text())


@pytest.fixture(scope="module")
def golden():
    with np.load(FIXTURES / "golden.npz") as npz:
        return {k: npz[k] for k in npz.files}


def flat(results) -> dict[str, np.ndarray]:
    out = {f"params/{k}": v for k, v in results.params.items()}
    out.update(loss=results.loss, eval_loss=results.eval_loss, diverged=results.diverged)
    for k, v in results.history.items():
        if isinstance(v, dict):
            out.update({f"history/params/{p}": a for p, a in v.items()})
        else:
            out[f"history/{k}"] = v
    return {k: np.asarray(v) for k, v in out.items()}


@pytest.mark.parametrize("preset", sorted(CONFIGS))
def test_preset_results_are_bit_identical_to_the_saved_ones(preset, golden):
    expected = {k.split("/", 1)[1]: v for k, v in golden.items() if k.split("/", 1)[0] == preset}
    got = flat(toyjax.run(toyjax.compose(preset, CONFIGS[preset])))
    assert set(expected) <= set(got), sorted(set(expected) - set(got))
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=f"{preset}: {name}")
