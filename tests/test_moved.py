"""Modules that moved into engine/, families/ and data/ still import from their old paths, with a warning."""

from __future__ import annotations

import json
import subprocess
import sys

from toyjax._moved import MOVED

SCRIPT = """
import importlib, json, sys, warnings
import toyjax
out = {}
for old in sys.argv[1:]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    out[old] = [module.__name__, [str(w.message) for w in caught]]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from toyjax import toy, sae_train
out["from toyjax import"] = [[toy.__name__, sae_train.__name__], len(caught)]
print(json.dumps(out))
"""


def test_every_old_path_loads_the_moved_module_and_warns():
    done = subprocess.run([sys.executable, "-c", SCRIPT, *MOVED], capture_output=True, text=True, check=True,
                          env={"JAX_PLATFORMS": "cpu", "PATH": ""})
    found = json.loads(done.stdout)
    for old, new in MOVED.items():
        name, warned = found[old]
        assert name == new and warned == [f"{old} is deprecated; use {new}"], (old, found[old])
    assert found["from toyjax import"][0] == ["toyjax.families.toy.train", "toyjax.families.sae.train"]


def test_the_new_packages_import_no_jax_for_the_config():
    done = subprocess.run([sys.executable, "-c", "import sys, toyjax.config; print('jax' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
