#!/usr/bin/env bash
# Grid steps 15-16, 18 and 20 on one GPU (probe_grid_full_nets[_cosine].py, probe_grid_budget_drs.py,
# probe_grid_ratio_classifier.py):
# PacGAN's nets at each packing in $PACKS (default "2 4"; the config's argument), seeds 0-9 and the
# confirmation seeds 100-109, as one sweep per packing and seed set, all at once (one group each:
# the GPU is far from full with one, and the processes compile in parallel). Then the metrics come back as one
# archive. Stopped by `timeout` (SIGTERM), a sweep checkpoints and the same command resumes it.
#
#   bash experiments/paper_tables/search/gpu_full_nets.sh [SECONDS [CONFIG]]   # 330, step 15
#   PACKS="3 4" SEED_SETS=0 bash experiments/paper_tables/search/gpu_full_nets.sh 480 \
#       probe_grid_budget_drs   # step 18, seeds 0-9 first (its rule reads 100-109 only after)
#   PACKS="3 4" SEED_SETS=0 bash experiments/paper_tables/search/gpu_full_nets.sh 480 \
#       probe_grid_ratio_classifier   # step 20, the same way
#   STEPS=200 bash experiments/paper_tables/search/gpu_full_nets.sh   # a short check, any device
#
# Results: $OUT (else gpu_out/)/<CONFIG>_metrics.tgz (each sweep's log, results and metrics).
set -uo pipefail
cd "$(dirname "$0")/../../.."
LIMIT="${1:-330}"
NAME="${2:-probe_grid_full_nets}"  # or probe_grid_full_nets_cosine (step 16)
DIR="${OUT:-gpu_out}"
PYTHON="${PYTHON:-python3}"
PACKS="${PACKS:-2 4}"
SEED_SETS="${SEED_SETS:-0 100}"  # first seeds of the sets of ten: 0 (search), 100 (confirmation)
mkdir -p "$DIR"
CONFIG="experiments/paper_tables/search/$NAME.py"
EXTRA=()
if [ -n "${STEPS:-}" ]; then
  EXTRA=(--config.num_steps="$STEPS" --config.eval_every=$((STEPS / 2))
         --config.checkpoint_every=$((STEPS / 2)) --config.sweep.seeds=2)
fi
# One workdir per process (a workdir takes one process at a time).
ROOT="runs/search/$NAME"
# Each process takes memory as it needs it, not 75 % of the GPU up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p "$ROOT/logs"
start=$SECONDS
for pack in $PACKS; do
  for seed in $SEED_SETS; do
    suffix=$([ "$seed" = 0 ] && echo "" || echo "_confirm")
    timeout "$LIMIT" "$PYTHON" -m gan_jax.main --config="$CONFIG:$pack" \
      --workdir="$ROOT/pack$pack$suffix" --config.seed="$seed" "${EXTRA[@]}" \
      > "$ROOT/logs/pack${pack}_seed${seed}.log" 2>&1 &
  done
done
wait
echo "$NAME: the sweeps are done or stopped in $((SECONDS - start)) s"
tar czf "$DIR/${NAME}_metrics.tgz" "$ROOT"/logs "$ROOT"/*/results.csv "$ROOT"/*/*.json "$ROOT"/*/*.md \
  "$ROOT"/*/runs/*/metrics.jsonl "$ROOT"/*/runs/*/*.json 2> /dev/null
for seed in $SEED_SETS; do
  suffix=$([ "$seed" = 0 ] && echo "" || echo "_confirm")
  for pack in $PACKS; do
    "$PYTHON" experiments/paper_tables/recipe.py "$ROOT/pack$pack$suffix" grid 2>&1 | tail -20
  done
done
