#!/usr/bin/env bash
# Time this checkout against an earlier revision, alternating old and new in one session, so that a refactor
# can show it did not slow the engine down. Each round runs, for each side and workload, a fresh process that
# compiles once and then trains the grid 3 times at 1000 steps, printing the fastest train time.
#
#   scripts/speed_vs.sh 763261d [ROUNDS]      # prints one line per side, round and workload, then the ratios
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: scripts/speed_vs.sh OLD_REV [ROUNDS]}
rounds=${2:-6}
old=$(mktemp -d)
trap 'git worktree remove --force "$old"' EXIT
git worktree add --quiet --detach "$old" "$old_rev"
timing=$(mktemp)
cat > "$timing" <<'PY'
import sys, toyjax
shapes = {"intro": ({"kind": "relu_output", "n_features": 5, "n_hidden": 2}, {"importance_decay": 0.9}, 256),
          "uniform_geometry": ({"kind": "relu_output", "n_features": 400, "n_hidden": 30}, {}, 20)}
model, data, models = shapes[sys.argv[1]]
cfg = {"model": model, "data": data, "grid": {"axes": {"density": f"log:0.01:1:{models}"}},
       "train": {"steps": 1000}, "record": {"eval_samples": 16, "snapshots": 16}, "progress": False}
toyjax.run(cfg)  # compiles
print(min(toyjax.run(cfg).timing["train_s"] for _ in range(3)))
PY
results=$(mktemp)
for round in $(seq "$rounds"); do
  for side in old new; do
    root=$PWD; [[ $side == old ]] && root=$old
    for workload in intro uniform_geometry; do
      seconds=$(PYTHONPATH=$root JAX_PLATFORMS=cpu python "$timing" "$workload" 2>/dev/null | tail -1)
      echo "$side $round $workload $seconds" | tee -a "$results"
    done
  done
done
python - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for w in ("intro", "uniform_geometry"):
    old = [float(r[3]) for r in rows if r[0] == "old" and r[2] == w]
    new = [float(r[3]) for r in rows if r[0] == "new" and r[2] == w]
    paired = statistics.median(o / n for o, n in zip(old, new))
    print(f"{w}: new/old speed {statistics.median(old) / statistics.median(new):.3f} (medians), "
          f"{paired:.3f} (median of paired rounds), {min(old) / min(new):.3f} (best of each)")
PY
