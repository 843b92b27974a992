#!/usr/bin/env bash
# The daemon's bar on real photos, through `teachcam scenario`:
#   1. hold CAT over 20 training cat photos, hold DOG over 20 dog photos, press TRAIN,
#      then show all 1 000 test photos, 5 frames each;
#      and the evaluation half of the photos that show neither ($TEACHCAM_NONE_DIR, default
#      PHOTOS_DIR/../none), 5 frames each;
#   2. the same frames again with the same data folder and no capture or training (the
#      detector comes back from disk).
# Usage: scripts/catsdogs_scenario.sh [PHOTOS_DIR] [SHOTS]   (defaults: ../shared/data/catsdogs, 20)
# Builds teachcam with cargo first (its binary: ${CARGO_TARGET_DIR:-target}/release/teachcam);
# TEACHCAM_BIN=PATH uses that teachcam binary instead and builds nothing. Each run's summary is
# also printed as a line "json: {...}" (`teachcam scenario --json`); tests/scenario.rs reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/scenario.sh
photos="$(cd "${1:-${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}}" && pwd)"
shots="${2:-20}"
none="${TEACHCAM_NONE_DIR:-$photos/../none}"
. scripts/lib/teachcam.sh
tc=$(teachcam_binary)
work=$(mktemp -d /tmp/teachcam-scenario.XXXXXX)
trap 'rm -rf "$work"' EXIT
for label in cat dog; do
  scenario_link_first "$photos/train/$label" "$shots" "$work/teach/$label"
done
scenario_write_toml "$work/teach.toml" "$work/data" "$work/teach" "$photos/test" 5 cat dog
scenario_write_toml "$work/again.toml" "$work/data" "" "$photos/test" 5
# Then the evaluation half of the photos that show neither a cat nor a dog, in a folder named
# `nothing`: each must light no LED (the summary's nothing_lit).
if [ -d "$none" ]; then
  n=$(scenario_link_none_half "$none" eval "$work/nothing/nothing")
  echo "== and $n photos that show neither (the evaluation half of $none)"
  scenario_add_frames "$work/teach.toml" "$work/nothing" 5
  scenario_add_frames "$work/again.toml" "$work/nothing" 5
else
  echo "*** $none not found: the photos that show neither are NOT RUN (set TEACHCAM_NONE_DIR) ***"
fi
echo "== teach, train, detect"
teach=$("$tc" scenario "$work/teach.toml" --out "$work/teach.jsonl" --json)
scenario_print_summary "$work/teach.toml" "$teach"
echo "json: $teach"
echo "== restart with the same data folder: detect only"
again=$("$tc" scenario "$work/again.toml" --out "$work/again.jsonl" --json)
scenario_print_summary "$work/again.toml" "$again"
echo "json: $again"
# The restart run shows the test frames only: compare them with the last frames of the first run.
n=$(scenario_json_get "$again" frames)
if cmp -s <(grep -o '"leds":{[^}]*}' "$work/teach.jsonl" | tail -n "$n") <(grep -o '"leds":{[^}]*}' "$work/again.jsonl"); then
  echo "LED states of the $n test frames: identical in both runs"
else
  echo "LED states of the $n test frames: DIFFER between the runs" >&2
  exit 1
fi
