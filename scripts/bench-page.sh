#!/usr/bin/env bash
# bench-page.sh: does the status page slow detection? (issue 11's bar: frames/s of the loop with
# the page open and streaming no more than 5 % below frames/s with it closed.)
#
# Usage: scripts/bench-page.sh [--seconds S] [--rounds R] [--threads T] [--help]
#   --seconds S   seconds measured per phase (default 20)
#   --rounds R    closed/open pairs, interleaved so that drift in machine load cancels (default 2)
#   --threads T   model.threads (default 1)
#
# One `teachcam run` (real model, a head trained on 10 photos per label, an unpaced looping
# replay of 40 test photos: fps = 0, so the loop runs flat out) with the page on a free local
# port. Phases alternate: "closed" (nobody connected) and "open" (what a browser on the page
# does: the MJPEG live view at view_fps 5, the event stream, /api/state every 2 s). Frames/s is
# the mean of the daemon's own figure (/api/state speed.fps, a 3 s window) read every second
# after a 3 s settling time, with the daemon's CPU milliseconds per frame (all its threads, the
# web ones included: less sensitive to other load on the machine than frames/s). Also prints
# the page's transfer size.
# Needs curl and jq; photos from $TEACHCAM_DATA_DIR (default ../shared/data/catsdogs).
# TEACHCAM_BIN=PATH uses that binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=20 rounds=2 threads=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --help|-h) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "bench-page.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "bench-page.sh: $tool is needed" >&2; exit 1; }
done
photos="$(cd "${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}" && pwd)"
. scripts/lib/teachcam.sh
BENCH_NAME=bench-page
. scripts/lib/bench.sh
tc=$(teachcam_binary)
work=$(mktemp -d /tmp/teachcam-bench-page.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bench_link_frames "$photos" 40 "$work/frames"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/teachcam.toml" <<EOF
data_dir = "$work/data"
labels = ["cat", "dog"]
[model]
path = "$PWD/models/efficientnet-lite0-int8.onnx"
threads = $threads
[source]
kind = "replay"
dir = "$work/frames"
fps = 0
looping = true
[panel]
kind = "simulated"
[web]
enabled = true
listen = "127.0.0.1:$port"
view_fps = 5.0
EOF
bench_trained_data "$tc" "$photos" "$work/data" 10
RUST_LOG=warn "$tc" --config "$work/teachcam.toml" run 2>"$work/daemon.log" &
daemon=$!
pids+=("$daemon")
url="http://127.0.0.1:$port"
for _ in $(seq 100); do
  fps=$(curl -sf "$url/api/state" | jq -r '.speed.fps' 2>/dev/null || true)
  [ -n "$fps" ] && [ "$fps" != "0" ] && break
  sleep 0.3
done
[ -n "$fps" ] || { echo "bench-page.sh: the daemon did not come up:" >&2; cat "$work/daemon.log" >&2; exit 1; }

# The page's transfer size: the HTML and everything it loads (no compression), and one state.
page=0
for p in / /style.css /app.js /icon.svg; do
  page=$((page + $(curl -sf -o /dev/null -w '%{size_download}' "$url$p")))
done
state=$(curl -sf -o /dev/null -w '%{size_download}' "$url/api/state")
frame=$(curl -sf -o /dev/null -w '%{size_download}' "$url/api/frame.jpg")
echo "page transfer: $page bytes (HTML+CSS+JS+icon), /api/state $state bytes, one live frame $frame bytes"

# The daemon's CPU time so far (all threads, web ones included), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon/stat"; }
hz=$(getconf CLK_TCK)
# Mean frames/s over a phase, after settling, and the daemon's CPU milliseconds per frame.
measure() {
  sleep 3
  local sum=0 n=0 f c0 c1
  c0=$(cpu_ticks)
  for _ in $(seq "$seconds"); do
    f=$(curl -sf "$url/api/state" | jq -r '.speed.fps')
    sum=$(echo "$sum + $f" | bc -l); n=$((n + 1))
    sleep 1
  done
  c1=$(cpu_ticks)
  echo "$(echo "scale=2; $sum / $n" | bc -l) $(echo "scale=1; ($c1 - $c0) * 1000 / $hz / ($sum / $n * $n)" | bc -l)"
}
open_page() {
  curl -sN "$url/api/stream.mjpg" -o "$work/stream.bin" &
  viewers=($!)
  curl -sN "$url/api/events" -o /dev/null &
  viewers+=($!)
  ( while true; do curl -sf -o /dev/null "$url/api/state"; sleep 2; done ) &
  viewers+=($!)
  pids+=("${viewers[@]}")
}
close_page() {
  for p in "${viewers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

closed_sum=0 open_sum=0
for r in $(seq "$rounds"); do
  read -r c ccpu < <(measure)
  open_page
  read -r o ocpu < <(measure)
  close_page
  bytes=$(stat -c %s "$work/stream.bin")
  echo "round $r: closed $c frames/s ($ccpu CPU ms/frame), open $o frames/s ($ocpu CPU ms/frame; live view sent $((bytes / 1024)) KiB)"
  closed_sum=$(echo "$closed_sum + $c" | bc -l); open_sum=$(echo "$open_sum + $o" | bc -l)
done
closed=$(echo "scale=2; $closed_sum / $rounds" | bc -l)
open=$(echo "scale=2; $open_sum / $rounds" | bc -l)
ratio=$(echo "scale=4; $open / $closed" | bc -l)
echo "frames/s: page closed $closed, page open and streaming $open; open/closed = $ratio (bar: >= 0.95)"
