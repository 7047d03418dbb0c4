#!/usr/bin/env bash
# One run on this machine's default device.
#
#   launch/local.sh C jare runs/C_jare [extra jare-train flags...]
#   launch/local.sh C jare runs/C_jare_smoke --fake_data --num_steps=50 --batch_size=16
set -euo pipefail
# DRY_RUN=1 prints the command (shell-quoted) instead of running it.
run() { if [[ -n "${DRY_RUN:-}" ]]; then printf '%q ' "$@"; echo; else "$@"; fi; }
if [[ $# -lt 3 ]]; then
  echo "usage: $0 SETTING METHOD WORKDIR [jare-train flags...]" >&2
  exit 2
fi
setting=$1 method=$2 workdir=$3
if [[ "$workdir" == -* ]]; then
  echo "$0: WORKDIR (the 3rd argument) is '$workdir', which looks like a flag; flags go after it." >&2
  exit 2
fi
shift 3
run jare-train --setting="$setting" --method="$method" --workdir="$workdir" "$@"
