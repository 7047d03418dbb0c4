#!/usr/bin/env bash
# One worker of a multi-worker run (MultiWorkerMirroredStrategy). Start it on every machine of the cluster with
# the same WORKERS list and that machine's INDEX; worker 0 is the chief and writes the workdir, which must be
# shared by all workers (a bucket, gs://..., or a network file system).
#
#   # on host1:                                   # on host2:
#   launch/multi_worker.sh host1:2222,host2:2222 0 C jare gs://bucket/runs/C_jare
#                                                 launch/multi_worker.sh host1:2222,host2:2222 1 C jare gs://bucket/runs/C_jare
set -euo pipefail
# DRY_RUN=1 prints the command (shell-quoted) instead of running it.
run() { if [[ -n "${DRY_RUN:-}" ]]; then printf '%q ' "$@"; echo; else "$@"; fi; }
if [[ $# -lt 5 ]]; then
  echo "usage: $0 HOST:PORT[,HOST:PORT...] INDEX SETTING METHOD WORKDIR [jare-train flags...]" >&2
  exit 2
fi
workers=$1 index=$2 setting=$3 method=$4 workdir=$5
shift 5
IFS=, read -r -a hosts <<< "$workers"
if ! [[ "$index" =~ ^[0-9]+$ ]] || (( index >= ${#hosts[@]} )); then
  echo "$0: INDEX must be this worker's position in the list (0 to $(( ${#hosts[@]} - 1 ))), got '$index'." >&2
  exit 2
fi
for host in "${hosts[@]}"; do        # each entry HOST:PORT, so TF_CONFIG is valid JSON with no empty worker
  if ! [[ "$host" =~ ^([A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\]):[0-9]+$ ]]; then
    echo "$0: every worker must read HOST:PORT (letters, digits, '.', '_', '-'), got '$host' in '$workers'." >&2
    exit 2
  fi
done
if [[ "$workdir" == -* ]]; then
  echo "$0: WORKDIR (the 5th argument) is '$workdir', which looks like a flag; flags go after it." >&2
  exit 2
fi
cluster=$(printf '"%s",' "${hosts[@]}")
export TF_CONFIG="{\"cluster\": {\"worker\": [${cluster%,}]}, \"task\": {\"type\": \"worker\", \"index\": ${index}}}"
run env TF_CONFIG="$TF_CONFIG" jare-train --setting="$setting" --method="$method" --workdir="$workdir" \
  --strategy=multi_worker "$@"
