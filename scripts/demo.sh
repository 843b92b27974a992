#!/usr/bin/env bash
# The main job: teach teachcam cats and dogs from 20 photos each, train, and evaluate it on
# 1 000 photos it has never seen, against the original ImageNet model.
# Usage: scripts/demo.sh [PHOTOS_DIR]   (default: $TEACHCAM_DATA_DIR or ../shared/data/catsdogs)
set -euo pipefail
cd "$(dirname "$0")/.."
photos="${1:-${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}}"
if [ ! -d "$photos/train/cat" ]; then
  echo "demo: photo folder $photos not found (pass it as an argument or set TEACHCAM_DATA_DIR)" >&2
  exit 1
fi
cargo build --release --quiet
tc=target/release/teachcam
data=$(mktemp -d /tmp/teachcam-demo.XXXXXX)
trap 'rm -rf "$data"' EXIT
for label in cat dog; do
  "$tc" --data "$data" import --label "$label" $(for i in $(seq 0 19); do echo "$photos/train/$label/$label.$i.jpg"; done)
done
"$tc" --data "$data" status
"$tc" --data "$data" train
echo
echo "== evaluation on $photos/test"
"$tc" --data "$data" eval "$photos/test"
