#!/usr/bin/env bash
# The daemon's bar on real photos, through `teachcam scenario`:
#   1. hold CAT over 20 training cat photos, hold DOG over 20 dog photos, press TRAIN,
#      then show all 1 000 test photos, 5 frames each;
#   2. the same test frames again with the same data folder and no capture or training
#      (the detector comes back from disk).
# Usage: scripts/catsdogs_scenario.sh [PHOTOS_DIR] [SHOTS]   (defaults: ../shared/data/catsdogs, 20)
set -euo pipefail
cd "$(dirname "$0")/.."
photos="$(cd "${1:-${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}}" && pwd)"
shots="${2:-20}"
cargo build --release --quiet
work=$(mktemp -d /tmp/teachcam-scenario.XXXXXX)
trap 'rm -rf "$work"' EXIT
for label in cat dog; do
  mkdir -p "$work/teach/$label"
  for i in $(seq 0 $((shots - 1))); do
    ln -s "$photos/train/$label/$label.$i.jpg" "$work/teach/$label/$(printf '%03d' "$i").jpg"
  done
done
cat > "$work/teach.toml" <<TOML
data = "$work/data"
[[step]]
frames = "$work/teach/cat"
hold = "cat"
[[step]]
frames = "$work/teach/dog"
hold = "dog"
[[step]]
press = "train"
[[step]]
frames = "$photos/test"
recurse = true
repeat = 5
TOML
cat > "$work/again.toml" <<TOML
data = "$work/data"
[[step]]
frames = "$photos/test"
recurse = true
repeat = 5
TOML
echo "== teach, train, detect"
target/release/teachcam scenario "$work/teach.toml" --out "$work/teach.jsonl"
echo "== restart with the same data folder: detect only"
target/release/teachcam scenario "$work/again.toml" --out "$work/again.jsonl"
if cmp -s <(grep -o '"leds":{[^}]*}' "$work/teach.jsonl" | tail -n 5000) <(grep -o '"leds":{[^}]*}' "$work/again.jsonl"); then
  echo "LED states of the 5 000 test frames: identical in both runs"
else
  echo "LED states of the 5 000 test frames: DIFFER between the runs" >&2
  exit 1
fi
