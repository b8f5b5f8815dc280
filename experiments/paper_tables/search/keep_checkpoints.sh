#!/usr/bin/env bash
# Copies a sweep's checkpoints from a step on into a folder of their own as they are written, so
# that those orbax's max_to_keep (3) would drop stay for reading afterwards: e.g. a sampler
# variant evaluated over the last fifth of grid step 20's runs without retraining them
# (README, grid step 20). Copies only finalised steps (folders named by their step); stop it
# with Ctrl-C or kill once the sweep has finished.
#
#   bash experiments/paper_tables/search/keep_checkpoints.sh \
#       runs/search/probe_grid_ratio_classifier_confirm runs/search/kept_ratio_classifier_confirm 20000
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: keep_checkpoints.sh SWEEP_WORKDIR KEEP_FOLDER FROM_STEP" >&2
  exit 2
fi
sweep=$1 keep=$2 from=$3
mkdir -p "$keep"
while true; do
  for step_dir in "$sweep"/checkpoints/*/[0-9]*; do
    [ -d "$step_dir" ] || continue
    step=$(basename "$step_dir")
    [[ "$step" =~ ^[0-9]+$ ]] && [ "$step" -ge "$from" ] || continue
    [ -d "$keep/$step" ] && continue
    sleep 20  # a step folder is renamed into place when written; let it settle
    cp -a "$step_dir" "$keep/$step.partial" && mv "$keep/$step.partial" "$keep/$step"
    echo "kept step $step of $sweep in $keep ($(date))"
  done
  sleep 30
done
