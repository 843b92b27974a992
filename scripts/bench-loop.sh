#!/usr/bin/env bash
# bench-loop.sh: how much the live loop costs on top of embedding (issue 10's bar: frames/s of
# run/scenario vs embed-only throughput, overhead <= 10 %).
#
# Usage: scripts/bench-loop.sh [--threads T] [--frames N] [--seconds S] [--help]
#   --threads T   model.threads for every measurement (default 1)
#   --frames N    different photos replayed (default 200: alternating test cats and dogs)
#   --seconds S   how long `teachcam run` runs (default 20)
#
# On the same N photos, the same model and thread count, after a head is trained on 5 photos
# per label (so every frame is decided, as on the device), it measures:
#   embed-only   `peer_tract files` (teachcam's Embedder in a plain loop): read + decode +
#                preprocess + embed per photo, then inference alone on the photos' tensors;
#   scenario     `teachcam scenario` on the photos: the real daemon loop with the capture thread
#                in lockstep (it decodes the next photo while the current one is embedded);
#                frames/s = (N - N/4) / (time of N frames - time of N/4 frames), so model load
#                and start-up cancel out (each the faster of two runs);
#   run          `teachcam run` on a looping replay of the photos, each stopped with SIGINT
#                after S seconds: paced at 1.5 times the inference-alone rate (like a camera
#                that is never the bottleneck: only the newest frame is embedded, the others
#                are decoded and dropped); unpaced (fps = 0: one frame per frame consumed,
#                like scenario); and flooded, paced at 1000 frames/s (the capture thread
#                decodes flat out and drops nearly everything: the worst case);
#                frames/s = median of the daemon's own status lines (live.log_every_s = 2; the
#                first one, with the warm-up, dropped);
# and prints frames/s of each and the overhead of the loop against each embed-only figure,
# with the CPU time per frame of each and the loop's extra CPU per frame against read + decode +
# preprocess + embed (that figure hardly depends on other load on the machine; frames/s does).
# Extra CPU per frame shows where an overhead goes: the capture thread's decoding of frames that
# are then dropped, logging, the loop itself.
# Figures are noisy on a shared machine. Progress goes to stderr, figures to stdout.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
BENCH_NAME=bench-loop
. scripts/lib/bench.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
threads=1
frames=200
seconds=20
while [ $# -gt 0 ]; do
    case $1 in
        --threads) threads=${2:?--threads needs a number}; shift ;;
        --frames) frames=${2:?--frames needs a number}; shift ;;
        --seconds) seconds=${2:?--seconds needs a number}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench-loop: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for v in threads frames seconds; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-loop: --$v must be a positive number" >&2; exit 2; }
done
[ "$frames" -ge 8 ] || { echo "bench-loop: --frames must be at least 8" >&2; exit 2; }
photos=${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}
[ -d "$photos/test/cat" ] || { echo "bench-loop: no photos at $photos/test/cat (set TEACHCAM_DATA_DIR)" >&2; exit 1; }
photos=$(cd "$photos" && pwd)
target=${CARGO_TARGET_DIR:-target}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/teachcam
work=$(mktemp -d /tmp/teachcam-bench-loop.XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

bench_step "building teachcam and the peer_tract example (cargo build --release)"
nice cargo build --release --bin teachcam --example peer_tract >&2
tc=$target/release/teachcam
peer=$target/release/examples/peer_tract
model_sha=$(sha256sum models/efficientnet-lite0-int8.onnx | cut -c1-16)
data=$cache/peers/a64-data-$model_sha
bench_trained_data "$tc" "$photos" "$data"
quarter=$((frames / 4))
bench_link_frames "$photos" "$frames" "$work/frames"
bench_link_frames "$photos" "$quarter" "$work/quarter"

cat >"$work/config.toml" <<EOF
data_dir = "$work/data"
labels = ["cat", "dog"]
[model]
path = "models/efficientnet-lite0-int8.onnx"
threads = $threads
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
fresh_data() { rm -rf "$work/data"; cp -r "$data" "$work/data"; }
# timed CMD...: runs CMD, its stdout to $work/out; sets wall and cpu (seconds, /usr/bin/time).
timed() {
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >"$work/out"
    read -r wall user sys <"$work/time"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
}

bench_step "embed-only: peer_tract files on $frames photos, $threads thread(s)"
timed "$peer" --config "$work/config.toml" files "$work"/frames/*.jpg --threads "$threads"
read -r full full_cpu_ms < <(sed -n 's/^decode+preprocess+embed \([0-9.]*\) frames\/s \([0-9.]*\) cpu_ms.*/\1 \2/p' "$work/out") || true
read -r alone alone_cpu_ms < <(sed -n 's/^inference alone \([0-9.]*\) frames\/s \([0-9.]*\) cpu_ms.*/\1 \2/p' "$work/out") || true
if [ -z "${full:-}" ] || [ -z "${alone:-}" ]; then
    cat "$work/out" >&2
    echo "bench-loop: no figures from peer_tract" >&2
    exit 1
fi

scenario_time() { # folder -> wall seconds of `teachcam scenario` on its photos
    fresh_data
    printf 'data = "%s"\n[[step]]\nframes = "%s"\n' "$work/data" "$1" >"$work/scenario.toml"
    timed "$tc" --config "$work/config.toml" scenario "$work/scenario.toml" --json 2>>"$work/scenario.log"
    echo "$wall $cpu"
}
bench_step "scenario: $quarter then $frames frames through the daemon loop (lockstep replay)"
# Each twice, the faster run kept: a single run's noise would go straight into the difference.
read -r wall_q cpu_q < <({ scenario_time "$work/quarter"; scenario_time "$work/quarter"; } | sort -n | head -1)
read -r wall_n cpu_n < <({ scenario_time "$work/frames"; scenario_time "$work/frames"; } | sort -n | head -1)
scenario_fps=$(awk -v a="$wall_q" -v b="$wall_n" -v n="$((frames - quarter))" 'BEGIN { printf "%.2f", n / (b - a) }')
scenario_cpu_ms=$(awk -v a="$cpu_q" -v b="$cpu_n" -v n="$((frames - quarter))" 'BEGIN { printf "%.1f", (b - a) * 1e3 / n }')

# run_loop FPS: `teachcam run` on the looping replay paced at FPS (0: unpaced) for $seconds s;
# prints "frames/s embed_ms cpu_ms_per_frame status_lines dropped".
run_loop() {
    local fps=$1 warm=4 ticks cpu_warm cpu_end line f e n dropped reused
    sed -i "s/^fps = .*/fps = $fps/" "$work/config.toml"
    fresh_data
    RUST_LOG=info "$tc" --config "$work/config.toml" run 2>"$work/run.log" &
    pid=$!
    ticks=$(getconf CLK_TCK)
    # CPU per frame is taken after the first $warm seconds (model load, first frames).
    sleep "$warm"
    cpu_warm=$(awk -v t="$ticks" '{ print ($14 + $15) / t }' "/proc/$pid/stat")
    sleep $((seconds - warm))
    cpu_end=$(awk -v t="$ticks" '{ print ($14 + $15) / t }' "/proc/$pid/stat")
    kill -INT "$pid"
    wait "$pid" || { cat "$work/run.log" >&2; echo "bench-loop: teachcam run failed" >&2; return 1; }
    pid=""
    # The daemon's status lines, the first one (warm-up) dropped; the median by frames/s.
    # "F frames/s[ (… embedded, … reused)], embed E ms, …"
    line=$(sed -n 's/.* \([0-9.]*\) frames\/s\( ([^)]*)\)\{0,1\}, embed \([0-9.]*\) ms.*/\1 \3/p' "$work/run.log" | tail -n +2 \
        | sort -n | awk '{ f[NR] = $1; e[NR] = $2 } END { if (NR) { m = int((NR + 1) / 2); print f[m], e[m], NR } }')
    [ -n "$line" ] || { cat "$work/run.log" >&2; echo "bench-loop: no status lines from teachcam run" >&2; return 1; }
    read -r f e n <<<"$line"
    dropped=$(sed -n 's/.* \([0-9]*\) stale frames were dropped.*/\1/p' "$work/run.log" | tail -1)
    # With motion gating (on by default), frames like the last embedded one reuse its
    # embedding: every photo here differs from the one before, so this should stay 0.
    reused=$(sed -n 's/.* frames\/s ([0-9]* embedded, \([0-9]*\) reused).*/\1/p' "$work/run.log" \
        | awk '{ n += $1 } END { print n + 0 }')
    awk -v a="$cpu_warm" -v b="$cpu_end" -v f="$f" -v s="$((seconds - warm))" -v e="$e" -v n="$n" -v d="${dropped:-?}" \
        -v r="$reused" 'BEGIN { printf "%s %s %.1f %s %s %s\n", f, e, (b - a) * 1e3 / (f * s), n, d, r }'
}
# A camera-like pace: frames arrive 1.5 times faster than inference alone can take them, so the
# source never limits the loop and the capture thread decodes about as much as it would with a
# camera; unpaced (lockstep); flooded (the capture thread decodes flat out, most frames dropped).
paced=$(awk -v a="$alone" 'BEGIN { printf "%d", a * 1.5 + 1 }')
bench_step "run: teachcam run on a looping replay paced at $paced frames/s for $seconds s"
run_loop "$paced" >"$work/paced"
read -r run_fps run_embed run_cpu run_lines run_dropped run_reused <"$work/paced"
bench_step "run: teachcam run on an unpaced looping replay for $seconds s"
run_loop 0 >"$work/unpaced"
read -r lock_fps lock_embed lock_cpu lock_lines lock_dropped lock_reused <"$work/unpaced"
bench_step "run: teachcam run on a looping replay paced at 1000 frames/s for $seconds s"
run_loop 1000 >"$work/flooded"
read -r fast_fps fast_embed fast_cpu fast_lines fast_dropped fast_reused <"$work/flooded"

echo "live loop vs embed-only: $frames photos, $threads thread(s), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
row() { printf '%-46s %8s frames/s  %6s ms CPU/frame%s\n' "$@"; }
row "embed-only: read+decode+preprocess+embed" "$full" "$full_cpu_ms" ""
row "embed-only: inference alone" "$alone" "$alone_cpu_ms" ""
row "scenario (daemon loop, lockstep capture)" "$scenario_fps" "$scenario_cpu_ms" ""
row "run (replay paced at $paced frames/s)" "$run_fps" "$run_cpu" \
    "  (embed $run_embed ms; $run_lines status lines; $run_dropped frames dropped, $run_reused reused)"
row "run (unpaced replay: lockstep)" "$lock_fps" "$lock_cpu" \
    "  (embed $lock_embed ms; $lock_lines status lines; $lock_dropped frames dropped, $lock_reused reused)"
row "run (replay at 1000 frames/s: worst case)" "$fast_fps" "$fast_cpu" \
    "  (embed $fast_embed ms; $fast_lines status lines; $fast_dropped frames dropped, $fast_reused reused)"
for l in "scenario $scenario_fps $scenario_cpu_ms" "run $run_fps $run_cpu" "run-unpaced $lock_fps $lock_cpu" \
    "run-flooded $fast_fps $fast_cpu"; do
    read -r name fps cpu_ms <<<"$l"
    awk -v n="$name" -v s="$fps" -v f="$full" -v a="$alone" -v c="$cpu_ms" -v fc="$full_cpu_ms" 'BEGIN {
        printf "overhead %-12s %+6.1f %% vs read+decode+preprocess+embed, %+6.1f %% vs inference alone; CPU per frame %+6.1f %%\n",
            n ":", (1 - s / f) * 100, (1 - s / a) * 100, (c / fc - 1) * 100 }'
done
