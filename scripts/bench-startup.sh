#!/usr/bin/env bash
# bench-startup.sh: start-up and memory (issue 10's bar: peak RSS <= 80 MB while running; first
# prediction <= 1 s after start on this machine; A72 instructions to first prediction reported).
#
# Usage: scripts/bench-startup.sh [--aarch64] [--runs N] [--seconds S] [--help]
#   --runs N      `teachcam predict` runs timed (default 5; the median is printed)
#   --seconds S   how long `teachcam run` runs for its peak RSS (default 20)
#
# Prints, for the shipped model and a data folder with a head trained on 5 photos per label:
#  - `teachcam predict ONE.jpg`: wall time from process start to exit with the prediction
#    printed (median and range of N runs) and peak RSS (/usr/bin/time %M);
#  - `teachcam run` on a replay of different photos at 30 frames/s (live.log_every_s = 0.1):
#    time from process start to the first status line with a decision (an upper bound on the
#    first decision, within the 0.1 s status period), and the peak RSS (VmHWM) after S seconds;
#  - with --aarch64: guest instructions of `teachcam predict ONE.png` (224x224, model.threads =
#    1) under `qemu-aarch64 -cpu cortex-a72` with the instruction-count plugin: the whole run
#    (start-up + one prediction) with `model.cache = "off"`, on the run that makes the model
#    cache, and on a run that uses it; start-up alone = the whole run minus one image
#    (count(2 images) − count(1 image)).
#    It uses the emulated Pi prefix, arm64 root, plugin and aarch64 build that
#    `scripts/bench-peers.sh --aarch64` makes (it runs that first when they are missing;
#    root needed). Emulated time is never printed: only instruction counts repeat.
# Figures only, no assertions; timings are noisy on a shared machine. Progress on stderr.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
BENCH_NAME=bench-startup
. scripts/lib/bench.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
aarch64=0
runs=5
seconds=20
while [ $# -gt 0 ]; do
    case $1 in
        --aarch64) aarch64=1 ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        --seconds) seconds=${2:?--seconds needs a number}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench-startup: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for v in runs seconds; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-startup: --$v must be a positive number" >&2; exit 2; }
done
photos=${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}
[ -d "$photos/test/cat" ] || { echo "bench-startup: no photos at $photos/test/cat (set TEACHCAM_DATA_DIR)" >&2; exit 1; }
photos=$(cd "$photos" && pwd)
target=${CARGO_TARGET_DIR:-target}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/teachcam
model=models/efficientnet-lite0-int8.onnx
work=$(mktemp -d /tmp/teachcam-bench-startup.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

bench_step "building teachcam (cargo build --release)"
nice cargo build --release --bin teachcam >&2
tc=$target/release/teachcam
model_sha=$(sha256sum "$model" | cut -c1-16)
data=$cache/peers/a64-data-$model_sha
bench_trained_data "$tc" "$photos" "$data"
one=$(find "$photos/test/cat" -maxdepth 1 -iname '*.jpg' | LC_ALL=C sort | head -1 || true)
[ -n "$one" ] || { echo "bench-startup: no photo in $photos/test/cat" >&2; exit 1; }

# ---- predict: start to first prediction, peak RSS ----------------------------------------------
bench_step "timing $runs runs of teachcam predict $one"
: >"$work/predict"
for ((i = 1; i <= runs; i++)); do
    /usr/bin/time -a -o "$work/predict" -f '%e %M' "$tc" --data "$data" predict "$one" >"$work/out"
done
read -r p_med p_min p_max p_rss < <(sort -n "$work/predict" | awk '{ t[NR] = $1; if ($2 > m) m = $2 }
    END { printf "%.2f %.2f %.2f %.1f\n", t[int((NR + 1) / 2)], t[1], t[NR], m / 1024 }')

# ---- run: start to first decision, peak RSS while running ----------------------------------------
bench_link_frames "$photos" 50 "$work/frames"
cp -r "$data" "$work/data"
cat >"$work/config.toml" <<EOF
data_dir = "$work/data"
labels = ["cat", "dog"]
[model]
path = "$model"
threads = 1
[live]
log_every_s = 0.1
[source]
kind = "replay"
dir = "$work/frames"
fps = 30.0
looping = true
[panel]
kind = "simulated"
EOF
bench_step "teachcam run on a replay at 30 frames/s for $seconds s (first decision, peak RSS)"
start=$EPOCHREALTIME
RUST_LOG=info "$tc" --config "$work/config.toml" run \
    2> >(while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done >"$work/run.log") &
pid=$!
sleep "$seconds"
hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
kill -INT "$pid"
wait "$pid" || { cat "$work/run.log" >&2; echo "bench-startup: teachcam run failed" >&2; exit 1; }
pid=""
sleep 0.2 # the log reader finishes
first=$(grep ' frames/s[ ,]' "$work/run.log" | grep -v -e 'no frame decided yet' -e 'no head yet' | head -1 | cut -d' ' -f1 || true)
[ -n "$first" ] || { cat "$work/run.log" >&2; echo "bench-startup: no decision in the daemon's log" >&2; exit 1; }
first_s=$(awk -v a="$start" -v b="$first" 'BEGIN { printf "%.2f", b - a }')

echo "start-up and memory: teachcam $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "predict ONE.jpg: start to prediction ${p_med} s (median of $runs; ${p_min}–${p_max} s), peak RSS ${p_rss} MB"
echo "run (replay, 30 frames/s): start to first decision ${first_s} s (status line, ±0.1 s), peak RSS after ${seconds} s ${hwm} MB"

[ "$aarch64" = 1 ] || exit 0

# ---- aarch64: guest instructions to the first prediction -----------------------------------------
a64_work=${WORK:-$cache/aarch64-cost}
pfx=$a64_work/pfx/cortex-a72
plugin=$a64_work/plugin/libinscount.so
cfg=$a64_work/cfg/int8.toml
png=$a64_work/img/p224.png
if [ ! -d "$pfx" ] || [ ! -f "$plugin" ] || [ ! -f "$cfg" ] || [ ! -f "$png" ]; then
    bench_step "no emulated Pi prefix yet in $a64_work: running scripts/bench-peers.sh --aarch64 --skip-x86 first"
    scripts/bench-peers.sh --aarch64 --skip-x86 >&2
fi
bench_step "cross-building teachcam (cargo build --release --target aarch64-unknown-linux-gnu)"
nice cargo build --release --target aarch64-unknown-linux-gnu --bin teachcam >&2
a64_bin=$(readlink -f "$target/aarch64-unknown-linux-gnu/release/teachcam")
# The root's site-packages are not needed here: teachcam is a plain aarch64 binary.
counted() { # config images... -> guest instructions of `teachcam predict IMAGES` on the emulated A72
    local cfg=$1 out
    shift
    out=$(env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 taskset -c 0 \
        qemu-aarch64 -L "$pfx" -cpu cortex-a72 -plugin "$plugin" "$a64_bin" --config "$cfg" predict "$@" 2>&1) \
        || { echo "$out" >&2; echo "bench-startup: teachcam predict failed under qemu" >&2; return 1; }
    echo "$out" | sed -n 's/^guest instructions: \([0-9]*\)$/\1/p' | tail -1
}
cp "$png" "$work/a.png"
cp "$png" "$work/b.png"
# compare.sh's config (its [model] section last), without and with a model cache of our own.
{ cat "$cfg"; echo 'cache = "off"'; } >"$work/cold.toml"
{ cat "$cfg"; echo "cache = \"$work/nnef\""; } >"$work/warm.toml"
bench_step "counting A72 guest instructions of teachcam predict: no model cache (1 image, then 2), then with one (making it, then using it)"
cold1=$(counted "$work/cold.toml" "$work/a.png")
cold2=$(counted "$work/cold.toml" "$work/a.png" "$work/b.png")
making=$(counted "$work/warm.toml" "$work/a.png")
warm1=$(counted "$work/warm.toml" "$work/a.png")
for c in "$cold1" "$cold2" "$making" "$warm1"; do
    [[ $c =~ ^[0-9]+$ ]] || { echo "bench-startup: no instruction count" >&2; exit 1; }
done
awk -v a="$cold1" -v b="$cold2" -v m="$making" -v w="$warm1" 'BEGIN {
    e = b - a
    printf "aarch64 A72 instructions per image (predict, 2 images - 1): %.1fM\n", e / 1e6
    printf "aarch64 A72 instructions to first prediction, model cache off: %.0fM (start-up %.0fM)\n", a / 1e6, (a - e) / 1e6
    printf "aarch64 A72 instructions to first prediction, first run making the cache: %.0fM\n", m / 1e6
    printf "aarch64 A72 instructions to first prediction, model cache used: %.0fM (start-up %.0fM)\n", w / 1e6, (w - e) / 1e6 }'
