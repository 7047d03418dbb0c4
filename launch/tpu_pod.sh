#!/usr/bin/env bash
# One run on a Cloud TPU VM slice (TPUStrategy). Every host of the slice gets the package (--worker=all); the
# training program is TensorFlow's single client: it runs on host 0, in the background with its log in
# ~/<run name>.log there, and drives the TPU chips of every host through --tpu=<TPU name>. Data and workdir
# must be on a bucket the TPU's service account can read and write; prepare the data once
# (tfds build cifar10 --data_dir=gs://bucket/tfds) before launching.
#
#   PACKAGE=gs://bucket/wheels/jare_tf-0.1.0-py3-none-any.whl TPU=my-v4-32 ZONE=us-central2-b \
#       launch/tpu_pod.sh C jare gs://bucket/tfds gs://bucket/runs/C_jare
#   DRY_RUN=1 ...                                    # print the gcloud commands only
#
# PACKAGE is what pip installs on every host: a wheel (gs:// wheels are copied first), a git URL or a path.
# Untested here (no TPU); the commands follow the Cloud TPU VM documentation for TensorFlow.
set -euo pipefail
# DRY_RUN=1 prints the command (shell-quoted) instead of running it.
run() { if [[ -n "${DRY_RUN:-}" ]]; then printf '%q ' "$@"; echo; else "$@"; fi; }
if [[ $# -lt 4 || -z "${TPU:-}" || -z "${ZONE:-}" || -z "${PACKAGE:-}" ]]; then
  echo "usage: PACKAGE=wheel-or-url TPU=name ZONE=zone $0 SETTING METHOD GS_DATA_DIR GS_WORKDIR [jare-train flags...]" >&2
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
if [[ "$PACKAGE" == gs://* ]]; then
  install="gsutil cp $(printf '%q' "$PACKAGE") /tmp/ && python3 -m pip install -q /tmp/$(printf '%q' "$(basename "$PACKAGE")")"
else
  install="python3 -m pip install -q $(printf '%q' "$PACKAGE")"
fi
log="$(basename "$workdir").log"
printf -v train '%q ' python3 -m jare_tf.train --setting="$setting" --method="$method" --data_dir="$data_dir" \
  --workdir="$workdir" --strategy=tpu --tpu="$TPU" "$@"
train="TPU_LOAD_LIBRARY=0 nohup ${train}> $(printf '%q' "$log") 2>&1 &"
ssh=(gcloud compute tpus tpu-vm ssh "$TPU" --zone="$ZONE")
run "${ssh[@]}" --worker=all --command="$install"
run "${ssh[@]}" --worker=0 --command="$train"
