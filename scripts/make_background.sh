#!/usr/bin/env bash
# Makes the built-in background set, models/efficientnet-lite0-int8.background.bin: the embeddings
# of the BUILD half of ../shared/data/none (photos of objects, food, vehicles, scenes and people,
# one per ImageNet class, no animals). The fixed rule: the file names in byte order, and every
# other one starting with the first (indices 0, 2, 4, ...). The other half is the EVALUATION
# half, used only to measure (scripts/catsdogs_scenario.sh, tests/catsdogs.rs); nothing is built
# from it. The halves come from scenario_link_none_half in scripts/lib/scenario.sh.
# Usage: scripts/make_background.sh [NONE_DIR] [OUT]
#   NONE_DIR defaults to $TEACHCAM_NONE_DIR or ../shared/data/none.
# TEACHCAM_BIN=PATH uses that teachcam binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
none="${1:-${TEACHCAM_NONE_DIR:-../shared/data/none}}"
out="${2:-models/efficientnet-lite0-int8.background.bin}"
[ -d "$none" ] || { echo "make_background: $none not found" >&2; exit 1; }
. scripts/lib/teachcam.sh
tc=$(teachcam_binary)
. scripts/lib/scenario.sh
build=$(mktemp -d /tmp/teachcam-background.XXXXXX)
trap 'rm -rf "$build"' EXIT
n=$(scenario_link_none_half "$none" build "$build")
echo "== $n photos (the build half of $none)"
env -u TEACHCAM_CONFIG "$tc" background --out "$out" "$build"
sha256sum "$out"
