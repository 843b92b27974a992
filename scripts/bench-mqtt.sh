#!/usr/bin/env bash
# bench-mqtt.sh: does MQTT cost the live loop anything, with the broker there or gone? (issue 11:
# "the loop's frames/s with the broker killed").
#
# Usage: scripts/bench-mqtt.sh [--seconds S] [--frames N] [--help]
#   --seconds S   length of each measured phase (default 20)
#   --frames N    different photos replayed in a loop (default 100: alternating test cats and
#                 dogs, so the detected label changes nearly every frame: a publishing worst case)
#
# With the real model, one thread, a head trained on 5 photos per label, `teachcam run` on an
# unpaced looping replay (lockstep, inference-bound) runs
#   1. without [mqtt] for S seconds;
#   2. with [mqtt] and a mosquitto on a loopback port for S seconds, then the broker is killed
#      and it runs S seconds more;
# and prints the median frames/s of the daemon's status lines (live.log_every_s = 2, the first
# line of each phase dropped) of each phase, and the messages a mosquitto_sub saw while the
# broker was there. Needs mosquitto and mosquitto-clients. Figures are noisy on a shared machine.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
BENCH_NAME=bench-mqtt
. scripts/lib/bench.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
seconds=20
frames=100
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) seconds=${2:?--seconds needs a number}; shift ;;
        --frames) frames=${2:?--frames needs a number}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench-mqtt: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for v in seconds frames; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-mqtt: --$v must be a positive number" >&2; exit 2; }
done
[ "$seconds" -ge 6 ] || { echo "bench-mqtt: --seconds must be at least 6" >&2; exit 2; }
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
if [ ! -x "$mosquitto" ] || ! command -v mosquitto_sub >/dev/null; then
    echo "bench-mqtt: needs mosquitto and mosquitto_sub (apt-get install mosquitto mosquitto-clients)" >&2
    exit 1
fi
photos=${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}
[ -d "$photos/test/cat" ] || { echo "bench-mqtt: no photos at $photos/test/cat (set TEACHCAM_DATA_DIR)" >&2; exit 1; }
photos=$(cd "$photos" && pwd)
target=${CARGO_TARGET_DIR:-target}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/teachcam
work=$(mktemp -d /tmp/teachcam-bench-mqtt.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

bench_step "building teachcam (cargo build --release)"
nice cargo build --release --bin teachcam >&2
tc=$target/release/teachcam
model_sha=$(sha256sum models/efficientnet-lite0-int8.onnx | cut -c1-16)
data=$cache/peers/a64-data-$model_sha
bench_trained_data "$tc" "$photos" "$data"
bench_link_frames "$photos" "$frames" "$work/frames"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"

write_config() { # [mqtt]: yes/no
    cat >"$work/config.toml" <<EOF
data_dir = "$work/data"
labels = ["cat", "dog"]
[model]
path = "models/efficientnet-lite0-int8.onnx"
threads = 1
[live]
log_every_s = 2.0
[source]
kind = "replay"
dir = "$work/frames"
fps = 0.0
looping = true
[panel]
kind = "simulated"
EOF
    if [ "$1" = yes ]; then
        printf '[mqtt]\nbroker = "127.0.0.1:%s"\ntopic_prefix = "bench"\nclient_id = "teachcam-bench"\n' "$port" \
            >>"$work/config.toml"
    fi
}
# median_fps FILE: the median frames/s of the status lines in FILE, the first one dropped.
median_fps() {
    sed -n 's/.* \([0-9.]*\) frames\/s.*/\1/p' "$1" | tail -n +2 | sort -n \
        | awk '{ f[NR] = $1 } END { if (NR) print f[int((NR + 1) / 2)] " (" NR " lines)"; else print "?" }'
}
start_daemon() {
    rm -rf "$work/data"
    cp -r "$data" "$work/data"
    RUST_LOG=info "$tc" --config "$work/config.toml" run 2>"$work/run.log" &
    daemon=$!
    pids+=("$daemon")
}
stop_daemon() {
    kill -INT "$daemon"
    wait "$daemon" || { cat "$work/run.log" >&2; echo "bench-mqtt: teachcam run failed" >&2; exit 1; }
}

bench_step "teachcam run without [mqtt] for $seconds s"
write_config no
start_daemon
sleep "$seconds"
stop_daemon
without=$(median_fps "$work/run.log")

bench_step "teachcam run with [mqtt], broker alive for $seconds s, then killed for $seconds s"
"$mosquitto" -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
broker=$!
pids+=("$broker")
sleep 0.5
mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'bench/#' >"$work/sub.txt" 2>/dev/null &
pids+=("$!")
write_config yes
start_daemon
sleep "$seconds"
cp "$work/run.log" "$work/alive.log"
kill "$broker"
wait "$broker" 2>/dev/null || true
sleep "$seconds"
stop_daemon
alive=$(median_fps "$work/alive.log")
tail -n +"$(($(wc -l <"$work/alive.log") + 1))" "$work/run.log" >"$work/dead.log"
dead=$(median_fps "$work/dead.log")
lost=$(grep -c 'MQTT: lost the broker' "$work/run.log" || true)

echo "teachcam run, real model, 1 thread, $frames photos looping (unpaced), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "frames/s without MQTT:              $without"
echo "frames/s with MQTT, broker alive:   $alive"
echo "frames/s with MQTT, broker killed:  $dead"
echo "messages seen while the broker was alive: $(wc -l <"$work/sub.txt") ($(grep -c '^bench/label ' "$work/sub.txt" || true) label changes)"
echo "'lost the broker' logged $lost time(s) in $seconds s without it"
