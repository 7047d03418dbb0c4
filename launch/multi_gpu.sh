#!/usr/bin/env bash
# One run over every GPU of this machine (MirroredStrategy). --batch_size is the global batch; it must divide
# by the number of GPUs. Setting A's batch norm uses each GPU's own statistics unless
# --config.sync_batch_norm=true.
#
#   launch/multi_gpu.sh A jare runs/A_jare --batch_size=256
#   CUDA_VISIBLE_DEVICES=0,1 launch/multi_gpu.sh C conopt runs/C_conopt
set -euo pipefail
# DRY_RUN=1 prints the command (shell-quoted) instead of running it.
run() { if [[ -n "${DRY_RUN:-}" ]]; then printf '%q ' "$@"; echo; else "$@"; fi; }
if [[ $# -lt 3 ]]; then
  echo "usage: $0 SETTING METHOD WORKDIR [jare-train flags...]" >&2
  exit 2
fi
setting=$1 method=$2 workdir=$3
shift 3
run jare-train --setting="$setting" --method="$method" --workdir="$workdir" \
  --strategy=mirrored "$@"
