#!/usr/bin/env bash
# Motion gating's saving, measured on the real daemon loop (`teachcam run`, the shipped model):
#   1. a static scene: one photo replayed as a looping camera at FPS frames/s;
#   2. a changing scene: a different photo on every frame.
# Each runs with [gate] enabled = true and = false (everything else the defaults: 1 inference
# thread, a head trained on 10 + 10 photos, "nothing known" on). Prints the CPU seconds per wall
# second of the teachcam process (utime + stime from /proc/PID/stat, over SECONDS after a
# warm-up that covers the model load), the frames embedded and reused (from the status lines),
# and the ratios. The last line is `gating CPU reduction on a static scene: Rx`.
# Usage: scripts/bench-gating.sh [PHOTOS_DIR] [SECONDS] [FPS]
#   (defaults: $TEACHCAM_DATA_DIR or ../shared/data/catsdogs, 20, 10)
# The static scene is the first test cat photo (200 × 200, so decoding it costs little); set
# TEACHCAM_GATING_FRAME=FILE.jpg to repeat a camera frame instead (its decoding is paid on every
# frame, gated or not).
# Builds teachcam with cargo first; TEACHCAM_BIN=PATH uses that binary instead.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
photos="$(cd "${1:-${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}}" && pwd)"
secs="${2:-20}"
fps="${3:-10}"
warmup=4
. scripts/lib/teachcam.sh
tc=$(teachcam_binary)
case "$tc" in /*) ;; *) tc="$repo/$tc" ;; esac
work=$(mktemp -d /tmp/teachcam-gating.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)

# Scenes as folders of links (no photo is copied).
mkdir -p "$work/static" "$work/changing" "$work/teach/cat" "$work/teach/dog"
# (awk, not head, reads all its input: no SIGPIPE under pipefail)
first=$(find "$photos/test/cat" -name '*.jpg' | sort | awk 'NR == 1')
still="$(realpath "${TEACHCAM_GATING_FRAME:-$first}")"
ln -s "$still" "$work/static/frame.${still##*.}"
echo "== static scene: $still"
frames=$(awk -v s="$secs" -v f="$fps" 'BEGIN { print int((s + 10) * f) }')
i=0
while IFS= read -r photo; do
    i=$((i + 1))
    ln -s "$photo" "$(printf '%s/changing/%06d.jpg' "$work" "$i")"
done < <(find "$photos/test/cat" "$photos/test/dog" -name '*.jpg' | sort | awk -v n="$frames" 'NR <= n')
for label in cat dog; do
    find "$photos/train/$label" -name '*.jpg' | sort | awk 'NR <= 10' | xargs -I{} ln -s {} "$work/teach/$label/"
done

# config FILE SCENE ENABLED
config() {
    cat >"$1" <<EOF
data_dir = "$work/data"
labels = ["cat", "dog"]
[model]
path = "$repo/models/efficientnet-lite0-int8.onnx"
[live]
log_every_s = 2.0
[gate]
enabled = $3
[source]
kind = "replay"
dir = "$2"
fps = $fps
looping = true
[panel]
kind = "simulated"
EOF
}

config "$work/teach.toml" "$work/static" true
echo "== teaching: 10 cat and 10 dog photos, then training"
for label in cat dog; do
    "$tc" --config "$work/teach.toml" import --label "$label" "$work/teach/$label" >/dev/null
done
"$tc" --config "$work/teach.toml" train >/dev/null

# cpu_ticks PID: utime + stime of the process (all its threads), in clock ticks.
cpu_ticks() {
    # Fields after the command name, which is in parentheses: utime and stime are 12 and 13.
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# measure NAME SCENE ENABLED: prints "NAME: X CPU s per wall s (E embedded, R reused)" and
# sets $load to X.
measure() {
    local name=$1 cfg="$work/$1.toml" log="$work/$1.log"
    config "$cfg" "$2" "$3"
    echo "== $name: ${warmup} s warm-up, then ${secs} s measured" >&2
    RUST_LOG=info "$tc" --config "$cfg" run 2>"$log" &
    pid=$!
    sleep "$warmup"
    local c0 t0 c1 t1
    c0=$(cpu_ticks "$pid")
    t0=$(date +%s.%N)
    for ((i = 0; i < secs; i++)); do
        sleep 1
        printf '.' >&2
    done
    printf '\n' >&2
    c1=$(cpu_ticks "$pid")
    t1=$(date +%s.%N)
    kill -INT "$pid"
    wait "$pid" || true
    pid=""
    load=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz / (e - s) }')
    # Frames over the status lines after the warm-up (the first line comes at 2 s).
    local counts
    counts=$(grep -o '([0-9]* embedded, [0-9]* reused), embed [0-9]* ms, gate [0-9]* µs' "$log" | tail -n +3 |
        awk '{ gsub(/[(),]/, ""); e += $1; r += $3; ms += $6 * $1; us += $9 * ($1 + $3) }
             END { printf "%d embedded, %d reused; embed %.0f ms per embedded frame, gate %.0f µs per frame",
                   e, r, (e ? ms / e : 0), (e + r ? us / (e + r) : 0) }')
    echo "$name: $load CPU s per wall s ($counts)"
}

measure static-gated "$work/static" true
static_on=$load
measure static-ungated "$work/static" false
static_off=$load
measure changing-gated "$work/changing" true
changing_on=$load
measure changing-ungated "$work/changing" false
changing_off=$load

awk -v on="$changing_on" -v off="$changing_off" \
    'BEGIN { printf "changing scene, CPU with gating / without: %.2f\n", (off > 0 ? on / off : 0) }'
awk -v on="$static_on" -v off="$static_off" \
    'BEGIN { printf "gating CPU reduction on a static scene: %.1fx\n", (on > 0 ? off / on : 0) }'
