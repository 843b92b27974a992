#!/usr/bin/env bash
# The main job: teach teachcam cats and dogs from 20 photos each, train, and evaluate it on
# 1 000 photos it has never seen, against the original ImageNet model, and check that photos
# showing neither light nothing ("nothing known").
# Usage: scripts/demo.sh [PHOTOS_DIR]   (default: $TEACHCAM_DATA_DIR or ../shared/data/catsdogs)
# Builds teachcam with cargo first (its binary: ${CARGO_TARGET_DIR:-target}/release/teachcam);
# TEACHCAM_BIN=PATH uses that teachcam binary instead and builds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
photos="${1:-${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}}"
if [ ! -d "$photos/train/cat" ]; then
  echo "demo: photo folder $photos not found (pass it as an argument or set TEACHCAM_DATA_DIR)" >&2
  exit 1
fi
. scripts/lib/teachcam.sh
tc=$(teachcam_binary)
data=$(mktemp -d /tmp/teachcam-demo.XXXXXX)
trap 'rm -rf "$data" "$data-nothing"' EXIT
for label in cat dog; do
  files=()
  for i in $(seq 0 19); do files+=("$photos/train/$label/$label.$i.jpg"); done
  "$tc" --data "$data" import --label "$label" "${files[@]}"
done
"$tc" --data "$data" status
"$tc" --data "$data" train
echo
none="${TEACHCAM_NONE_DIR:-$photos/../none}"
if [ -d "$none" ]; then
  # Photos that show neither a cat nor a dog (the half the built-in background set was not
  # made from): how many would light an LED.
  . scripts/lib/scenario.sh
  n=$(scenario_link_none_half "$none" eval "$data-nothing/nothing")
  echo "== evaluation on $photos/test, and on $n photos that show neither"
  "$tc" --data "$data" eval "$photos/test" --background "$data-nothing"
else
  echo "== evaluation on $photos/test ($none not found: no photos that show neither)"
  "$tc" --data "$data" eval "$photos/test"
fi
