#!/usr/bin/env bash
# toyjax on one GPU, in one prepared run of under 8 minutes: benchmarks with the roofline, bit-identity on the
# device, the paper's presets at their size, one paper-sized double-descent grid timed per step, and CPU against
# GPU agreement at highest and tensorfloat32 precision (scripts/device_check.py says what each section does).
#
#   scripts/device_check.sh          # on a machine with a GPU: installs jax[cuda12] if JAX sees no GPU
#   scripts/device_check.sh --dry    # every section at a toy size on any backend (CI runs this on a CPU)
#
# Everything goes under $OUT (default ./device_check): device_check.json and .md (the summary), log.txt,
# device_tests.txt and bench/ (bench.json, bench.md, bench.png).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-device_check}"
dry=""
if [[ "${1:-}" == "--dry" ]]; then dry="--dry"; fi
mkdir -p "$OUT"
# The script runs the bench, the device tests and a CPU reference in processes of their own beside it.
export XLA_PYTHON_CLIENT_PREALLOCATE=false

PY="$(command -v python || command -v python3)"
if [[ -z "$dry" ]] && ! "$PY" -c "import jax, sys; sys.exit(jax.devices()[0].platform != 'gpu')" 2>/dev/null; then
  "$PY" -m pip install --quiet --upgrade 'jax[cuda12]'
fi
"$PY" -c "import toyjax, hydra" 2>/dev/null || "$PY" -m pip install --quiet -e '.[test]'

"$PY" -u scripts/device_check.py --out "$OUT" $dry 2>&1 | tee "$OUT/log.txt"
