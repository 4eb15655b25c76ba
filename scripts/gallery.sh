#!/usr/bin/env bash
# Regenerate docs/gallery/: train every preset at "gallery size" on this CPU, render its figures, and copy one
# PNG per preset into docs/gallery/. Gallery size = the presets with fewer steps, seeds and grid points (the
# overrides below, one line per preset); about 55 minutes on 2 CPU cores in all (docs/gallery.md gives each part's
# measured time), so name the entries to redo only those. The paper-size double_descent preset is for accelerators;
# its reduced double_descent_small stands for it here.
#
#   scripts/gallery.sh                        # every entry: train + render + copy (runs land in outputs/gallery/<name>/)
#   scripts/gallery.sh --plot-only            # re-render the saved runs with toyjax-plot and copy, no training
#   scripts/gallery.sh NAME [NAME ...]        # only these entries (the names below), e.g. intro sae_intro
#   scripts/gallery.sh --plot-only NAME ...   # re-render and copy only these
set -euo pipefail
cd "$(dirname "$0")/.."
export JAX_PLATFORMS=cpu MPLBACKEND=Agg
OUT=outputs/gallery
DOCS=docs/gallery
PLOT_ONLY=0
ONLY=()
for arg in "$@"; do
  if [[ "$arg" == "--plot-only" ]]; then PLOT_ONLY=1; else ONLY+=("$arg"); fi
done

# preset | Hydra overrides at gallery size (first word "-m": a multirun whose combined figure is shown)
#   [| the presets of that multirun, when it runs several under one gallery name]
PRESETS=(
  "intro|"
  "demonstrating_superposition|-m model.kind=linear,relu_output"
  "demonstrating_superposition_n80|train.steps=5000"
  "phase_n2m1|train.steps=4000 grid.axes.density=log:0.01:1:12 grid.axes.extra_importance=log:0.1:10:12 grid.axes.seed=4"
  "phase_n3m2|train.steps=4000 grid.axes.density=log:0.01:1:10 grid.axes.extra_importance=log:0.1:10:10 grid.axes.seed=4"
  "uniform_geometry|train.steps=4000 grid.axes.density=log:0.001:1:16"
  "nonuniform_pentagon|train.steps=5000 grid.axes.extra_density=log:0.005:0.1:12 grid.axes.seed=6"
  "correlated|"
  "anticorrelated|"
  "collapse|train.steps=5000 grid.axes.density=log:0.01:1:12 grid.axes.seed=2"
  "dynamics|"
  "adversarial|train.steps=5000 grid.axes.density=log:0.01:1:12 grid.axes.seed=2"
  "privileged_basis|grid.axes.density=[1.0,0.5,0.2,0.12,0.05,0.03] grid.axes.seed=32 grid.block_size=256"
  "abs_small|"
  "abs_computation|train.steps=5000"
  "ways_out_price|"
  "ways_out_computation|"
  "ways_out_width|-m model.n_hidden=5,6,7,8,10 grid.axes.seed=4"
  "ways_out_hybrid|train.steps=5000 grid.axes.seed=1"
  "double_descent_small|"
  "sae_intro|"
  "sae_sharkey|"
  "sae_superposition|"
  "sae_frontier|-m|sae_frontier_relu,sae_frontier_topk"
  "sae_absorption|-m sae.tied=false,true|sae_absorption"
  "sae_hierarchy|-m|sae_matryoshka_batchtopk,sae_matryoshka"
  "sae_synthbench|"
)

# the PNG shown for a preset: a multirun's combined figure, else the figure the run declares (report.figure)
figure() {
  if [[ -f "$1/summary.json" ]]; then echo combined.png; return; fi
  python -c "import sys, toyjax; print(toyjax.load(sys.argv[1]).run_info.report.figure + '.png')" "$1"
}

# the entries to run: all of PRESETS, or those named on the command line (an unknown name stops before any work)
selected=()
(( ${#ONLY[@]} == 0 )) && selected=("${PRESETS[@]}")
for want in "${ONLY[@]}"; do
  found=""
  for entry in "${PRESETS[@]}"; do [[ "${entry%%|*}" == "$want" ]] && found=$entry; done
  if [[ -z "$found" ]]; then
    echo "gallery: error: $want: not a gallery entry (the names of PRESETS in $0)" >&2
    exit 2
  fi
  selected+=("$found")
done

mkdir -p "$OUT" "$DOCS"
start=$SECONDS
for entry in "${selected[@]}"; do
  IFS='|' read -r name overrides sweeps <<< "$entry"
  read -r -a args <<< "$overrides"
  sweeps=${sweeps:-$name}
  dir="$OUT/$name"
  if [[ $PLOT_ONLY == 0 ]]; then
    rm -rf "$dir"
    t0=$SECONDS
    if [[ "${args[0]:-}" == "-m" ]]; then
      toyjax -m "sweep=$sweeps" progress=false "hydra.sweep.dir=$dir" "${args[@]:1}" > /dev/null
    else
      toyjax "sweep=$name" progress=false "hydra.run.dir=$dir" "${args[@]}" > /dev/null
    fi
    echo "gallery: $name trained in $((SECONDS - t0)) s"
  fi
  toyjax-plot "$dir" > /dev/null
  cp "$dir/$(figure "$dir")" "$DOCS/$name.png"
done
echo "gallery: done in $((SECONDS - start)) s; $(du -ch "$DOCS"/*.png | tail -1 | cut -f1) of PNGs in $DOCS"
