#!/usr/bin/env bash
# The three-object-label task (issue 8): "nothing known" with labels that are not cats and dogs.
# Labels are three kinds of things from the EVALUATION half of ../shared/data/none (the build half
# made the shipped background set, so nothing here was built from): vehicles, food and clothing,
# 12-14 photos each, alternately to train (6-7 per label) and to test. The other 105 photos of
# the evaluation half are the "nothing taught" test. Prints `teachcam eval` with --background.
# Usage: scripts/objects_task.sh [NONE_DIR]   (TEACHCAM_BIN=PATH: use that binary, build nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/scenario.sh
none="$(cd "${1:-${TEACHCAM_NONE_DIR:-../shared/data/none}}" && pwd)"
. scripts/lib/teachcam.sh
tc=$(teachcam_binary)
work=$(mktemp -d /tmp/teachcam-objects.XXXXXX)
trap 'rm -rf "$work"' EXIT
scenario_link_none_half "$none" eval "$work/eval" >/dev/null
declare -A groups=(
  [vehicle]="container_ship electric_locomotive fire_engine golfcart jeep lifeboat Model_T moped recreational_vehicle speedboat trailer_truck trimaran warplane"
  [food]="trifle bagel mashed_potato zucchini cucumber mushroom lemon jackfruit carbonara pizza espresso corn"
  [clothing]="bib bolo_tie brassiere chain_mail clog cowboy_boot lab_coat pajama poncho sandal sock suit swimming_trunks vestment"
)
for g in vehicle food clothing; do
  mkdir -p "$work/train/$g" "$work/test/$g"
  i=0
  for c in ${groups[$g]}; do
    f=$(find "$work/eval" -name "n*_$c.jpg" | head -1)
    [ -n "$f" ] || { echo "objects_task: no photo of $c in the evaluation half" >&2; exit 1; }
    if [ $((i % 2)) = 0 ]; then mv "$f" "$work/train/$g/"; else mv "$f" "$work/test/$g/"; fi
    i=$((i + 1))
  done
done
mkdir -p "$work/nothing"
mv "$work/eval" "$work/nothing/nothing"
echo "== $(find "$work/nothing" -name '*.jpg' | wc -l) photos that show none of the labels"
printf 'labels = ["vehicle", "food", "clothing"]\n' >"$work/objects.toml"
for g in vehicle food clothing; do
  env -u TEACHCAM_CONFIG "$tc" --config "$work/objects.toml" --data "$work/data" import --label "$g" "$work/train/$g"
done
env -u TEACHCAM_CONFIG "$tc" --config "$work/objects.toml" --data "$work/data" train
env -u TEACHCAM_CONFIG "$tc" --config "$work/objects.toml" --data "$work/data" eval "$work/test" --background "$work/nothing"
