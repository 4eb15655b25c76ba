"""The claims toyjax reproduces at the paper's size, checked in CI at `toyjax-reproduce`'s quick size.

Each test trains its claim's runs at quick size (`toyjax.reproduce.runs.RUNS`, fewer steps, seeds or grid
points), measures the claim with the same measurement and status rule as docs/reproduction.md, and requires
the status "reproduced". Only the claims whose quick size still tests them are here (``ci=True`` in the
registry); the others are reproduced, or explained, at paper size in docs/reproduction.md. The paper's own
size for each is printed (``pytest -m slow -s``) from the claim's setup, beside the quick runs' commands.
"""

from __future__ import annotations

import pytest

from toyjax.reproduce import CLAIMS, store
from toyjax.reproduce.registry import REPRODUCED
from toyjax.reproduce.runs import RUNS

pytestmark = pytest.mark.slow

CI = [claim for claim in CLAIMS if claim.ci]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("reproduce")


@pytest.mark.parametrize("claim", CI, ids=[claim.key for claim in CI])
def test_claim_reproduces_at_quick_size(claim, out):
    runs = {name: store.obtain(name, RUNS[name], "quick", out, log=lambda _: None) for name in claim.runs}
    found = claim.measure(runs)
    print(f"\n{claim.section} {claim.key} — paper size: {claim.setup}\nquick size: "
          + "; ".join(RUNS[name].command("quick") for name in claim.runs) + f"\nmeasured: {found.measured}")
    assert found.status == REPRODUCED, found.measured
