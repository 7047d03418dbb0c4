#!/usr/bin/env bash
# One run on a Cloud TPU VM slice (TPUStrategy). Every host of the slice gets the package (--worker=all); the
# training program is TensorFlow's single client: it runs on host 0 and drives the TPU chips of every host
# through --tpu=<TPU name>. Data and workdir must be on a bucket the TPU's service account can read and write;
# prepare the data once (tfds build cifar10 --data_dir=gs://bucket/tfds) before launching.
#
#   TPU=my-v4-32 ZONE=us-central2-b launch/tpu_pod.sh C jare gs://bucket/tfds gs://bucket/runs/C_jare
#   DRY_RUN=1 TPU=my-v4-32 ZONE=us-central2-b launch/tpu_pod.sh ...      # print the gcloud commands only
#
# INSTALL (default: pip install PACKAGE, default "jare_tf") runs first on every host. A single-host TPU VM
# (v4-8, v3-8) works the same way; there --tpu=local would also do.
set -euo pipefail
# DRY_RUN=1 prints the command (shell-quoted) instead of running it.
run() { if [[ -n "${DRY_RUN:-}" ]]; then printf '%q ' "$@"; echo; else "$@"; fi; }
if [[ $# -lt 4 || -z "${TPU:-}" || -z "${ZONE:-}" ]]; then
  echo "usage: TPU=name ZONE=zone $0 SETTING METHOD GS_DATA_DIR GS_WORKDIR [jare-train flags...]" >&2
  exit 2
fi
setting=$1 method=$2 data_dir=$3 workdir=$4
shift 4
for path in "$data_dir" "$workdir"; do
  if [[ "$path" != gs://* ]]; then
    echo "$0: $path is not a gs:// path; the TPU hosts must read the data and write the workdir." >&2
    exit 2
  fi
done
install=${INSTALL:-"pip install -q ${PACKAGE:-jare_tf}"}
train="TPU_LOAD_LIBRARY=0 jare-train --setting=$setting --method=$method --data_dir=$data_dir"
train+=" --workdir=$workdir --strategy=tpu --tpu=$TPU $*"
ssh=(gcloud compute tpus tpu-vm ssh "$TPU" --zone="$ZONE")
run "${ssh[@]}" --worker=all --command="$install"
run "${ssh[@]}" --worker=0 --command="$train"
