#!/usr/bin/env bash
# bench-peers.sh: teachcam's tract path against ONNX Runtime on the same model, the same
# preprocessed input and the same thread counts, in one run (issue 10).
#
# Usage: scripts/bench-peers.sh [--aarch64] [--skip-x86] [--rounds N] [--iters N]
#                               [--photo FILE] [--model FILE] [--venv DIR] [--help]
#
# What it does, from the repository root:
#  1. builds `cargo build --release --example peer_tract` (teachcam's own Embedder/TractBackbone,
#     the daemon's path) and makes a Python venv with ONNX Runtime, numpy and onnx from PyPI
#     (pinned: $PEERS_PIP, default onnxruntime==1.32.0 numpy==2.4.6 onnx==1.23.2);
#  2. makes the fp32 form of the model: each DequantizeLinear of an int8 initializer (per-channel
#     scale, zero point) folded into a float initializer. ONNX Runtime is much slower on the
#     int8-weights form, so its fair peer is the fp32 form; both are timed, and the ratio is
#     taken against ONNX Runtime's faster form;
#  3. preprocesses one real photo once with teachcam's preprocessing and feeds the same f32
#     bytes to both engines;
#  4. N rounds; each round, for 1 and 2 threads, runs tract (model.threads = T) and ONNX Runtime
#     (intra_op_num_threads = T, inter_op 1, sequential; int8 and fp32 forms), alternating which
#     engine goes first, so machine noise hits all of them; each run times --iters inferences
#     after 2 warm-up ones (model load excluded);
#  5. prints medians per engine and thread count, and how far the embeddings of the two engines
#     are apart (max abs diff, cosine). The last lines are exactly
#       tract/onnxruntime ratio 1 thread: R1
#       tract/onnxruntime ratio 2 threads: R2
#
# --aarch64 also counts guest instructions per embedding for both engines under
# `qemu-aarch64 -cpu cortex-a72` and `-cpu cortex-a76` with the shared tools
# ($TEACHCAM_AARCH64_COST, default ../shared/tools/aarch64-cost: build-plugin.sh, compare.sh).
# That needs root (apt, debootstrap, chroot, binfmt_misc) and takes long the first time (an
# arm64 Debian root and the aarch64 build). It cross-builds teachcam
# (`cargo build --release --target aarch64-unknown-linux-gnu`), makes a data folder with a head
# trained on the model (x86 build: import a few photos per label, train), and then ends with
#       aarch64 A72 instructions ratio: R
# (tract on the shipped model / ONNX Runtime's best form). Instruction counts repeat run to run;
# emulated time means nothing and is never printed. --skip-x86 skips the x86 timing (steps 3-5).
#
# Progress goes to stderr, figures to stdout. Work files: ${XDG_CACHE_HOME:-~/.cache}/teachcam.
# Figures are medians on a machine that may be shared: run it on a quiet machine.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
BENCH_NAME=bench-peers
. scripts/lib/bench.sh

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

aarch64=0
skip_x86=0
rounds=5
iters=20
photos=${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}
photo=""
model=models/efficientnet-lite0-int8.onnx
cache=${XDG_CACHE_HOME:-$HOME/.cache}/teachcam
venv=""
while [ $# -gt 0 ]; do
    case $1 in
        --aarch64) aarch64=1 ;;
        --skip-x86) skip_x86=1 ;;
        --rounds) rounds=${2:?--rounds needs a number}; shift ;;
        --iters) iters=${2:?--iters needs a number}; shift ;;
        --photo) photo=${2:?--photo needs a file}; shift ;;
        --model) model=${2:?--model needs a file}; shift ;;
        --venv) venv=${2:?--venv needs a folder}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench-peers: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench-peers: --rounds must be a positive number" >&2; exit 2; }
[[ $iters =~ ^[1-9][0-9]*$ ]] || { echo "bench-peers: --iters must be a positive number" >&2; exit 2; }
[ -f "$model" ] || { echo "bench-peers: no model file $model" >&2; exit 1; }
if [ -z "$photo" ]; then
    photo=$(find "$photos/test/cat" -maxdepth 1 -iname '*.jpg' 2>/dev/null | LC_ALL=C sort | head -1 || true)
    [ -n "$photo" ] || { echo "bench-peers: no photo under $photos/test/cat (pass --photo or set TEACHCAM_DATA_DIR)" >&2; exit 1; }
fi
[ -f "$photo" ] || { echo "bench-peers: no photo $photo" >&2; exit 1; }
venv=${venv:-$cache/peers-venv}
pip_pkgs=${PEERS_PIP:-"onnxruntime==1.32.0 numpy==2.4.6 onnx==1.23.2"}
ort_outputs=${PEERS_ORT_OUTPUTS:-embedding,logits} # what teachcam's default config computes
tools=${TEACHCAM_AARCH64_COST:-../shared/tools/aarch64-cost}
target=${CARGO_TARGET_DIR:-target}
work=$cache/peers
mkdir -p "$work"
model_sha=$(sha256sum "$model" | cut -c1-16)


# ---- 1. builds and the Python venv -----------------------------------------------------------
bench_step "building the tract side (cargo build --release --example peer_tract)"
nice cargo build --release --example peer_tract >&2
peer=$target/release/examples/peer_tract

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.pkgs" 2>/dev/null)" != "$pip_pkgs" ]; then
    bench_step "making the venv $venv ($pip_pkgs)"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --progress-bar off $pip_pkgs >&2
    echo "$pip_pkgs" >"$venv/.pkgs"
fi
py=$venv/bin/python
bench_step "$("$py" -c 'import onnxruntime as o, numpy as n; print(f"onnxruntime {o.__version__}, numpy {n.__version__}")')"

# ---- 2. the fp32 form of the model -------------------------------------------------------------
fp32=$work/fp32-$model_sha.onnx
if [ ! -f "$fp32" ]; then
    bench_step "making $fp32 (DequantizeLinear of int8 initializers folded into float weights)"
    "$py" scripts/lib/fold_dequantize.py "$model" "$fp32.tmp"
    mv "$fp32.tmp" "$fp32"
fi

# ---- 3-5. x86 timing -----------------------------------------------------------------------------
cat >"$work/ort_time.py" <<'EOF'
# Times ONNX Runtime on a raw f32 input: MODEL INPUT.f32 THREADS ITERS OUTPUTS [EMBEDDING.f32]
# CPU provider, intra_op_num_threads = THREADS, inter_op 1, sequential, all graph optimisations;
# 2 warm-up runs, then ITERS timed ones; prints "times_ms" and each run's milliseconds.
import sys
import time
import numpy as np
import onnxruntime as ort

path, inp, threads, iters, outputs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
meta = s.get_inputs()[0]
x = np.fromfile(inp, dtype="<f4")
shape = [d if isinstance(d, int) else 1 for d in meta.shape]
x = x.reshape(shape) if int(np.prod(shape)) == x.size else x.reshape(1, 3, 224, 224)
names = outputs.split(",")
feed = {meta.name: x}
for _ in range(2):
    out = s.run(names, feed)
times = []
for _ in range(iters):
    t = time.perf_counter()
    s.run(names, feed)
    times.append((time.perf_counter() - t) * 1e3)
if len(sys.argv) > 6:
    out[0].astype("<f4").tofile(sys.argv[6])
print("times_ms " + " ".join(f"{t:.3f}" for t in times))
EOF

if [ "$skip_x86" = 0 ]; then
    input=$work/input.f32
    bench_step "preprocessing $photo with teachcam's preprocessing → $input"
    "$peer" --model "$model" input "$photo" "$input" >&2
    res=$work/times
    rm -rf "$res"
    mkdir -p "$res"
    run_tract() { # threads round
        "$peer" --model "$model" time "$input" --threads "$1" --iters "$iters" --embedding "$res/emb-tract-$1.f32" \
            | sed -n 's/^times_ms //p' >>"$res/tract-$1"
    }
    run_ort() { # form threads round
        local m=$model
        [ "$1" = fp32 ] && m=$fp32
        "$py" "$work/ort_time.py" "$m" "$input" "$2" "$iters" "$ort_outputs" "$res/emb-ort-$1-$2.f32" \
            | sed -n 's/^times_ms //p' >>"$res/ort-$1-$2"
    }
    for ((r = 1; r <= rounds; r++)); do
        for t in 1 2; do
            bench_step "round $r/$rounds, $t thread(s): tract, onnxruntime int8, onnxruntime fp32 ($iters inferences each)"
            if ((r % 2)); then
                run_tract "$t"; run_ort int8 "$t"; run_ort fp32 "$t"
            else
                run_ort fp32 "$t"; run_ort int8 "$t"; run_tract "$t"
            fi
        done
    done
    echo "tract (teachcam $(git rev-parse --short HEAD 2>/dev/null || echo '?')) vs $("$py" -c 'import onnxruntime as o; print("onnxruntime", o.__version__)')"
    echo "model $model (sha256 $model_sha…), fp32 form $fp32; input: $photo; $rounds rounds × $iters inferences"
    "$py" - "$res" <<'EOF'
import sys
import numpy as np

res = sys.argv[1]
def times(name):
    return np.array([float(v) for line in open(f"{res}/{name}") for v in line.split()])
def emb(name):
    return np.fromfile(f"{res}/emb-{name}.f32", dtype="<f4").astype(np.float64)
print(f"{'engine':<28}{'threads':>8}{'median ms':>11}{'p10 ms':>9}{'p90 ms':>9}{'runs':>6}")
ratios = {}
for t in (1, 2):
    med = {}
    for name, label in ((f"tract-{t}", "tract (teachcam, int8 file)"), (f"ort-int8-{t}", "onnxruntime int8 file"),
                        (f"ort-fp32-{t}", "onnxruntime fp32 form")):
        v = times(name)
        med[name] = float(np.median(v))
        print(f"{label:<28}{t:>8}{med[name]:>11.2f}{np.percentile(v, 10):>9.2f}{np.percentile(v, 90):>9.2f}{v.size:>6}")
    best = min(med[f"ort-int8-{t}"], med[f"ort-fp32-{t}"])
    ratios[t] = med[f"tract-{t}"] / best
for form in ("int8", "fp32"):
    a, b = emb("tract-1"), emb(f"ort-{form}-1")
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    print(f"embeddings tract vs onnxruntime {form}: max abs diff {np.abs(a - b).max():.2e} "
          f"(largest |value| {np.abs(a).max():.2f}), cosine {cos:.6f}")
a1, a2 = emb("tract-1"), emb("tract-2")
print(f"embeddings tract 1 vs 2 threads: max abs diff {np.abs(a1 - a2).max():.2e}")
print(f"tract/onnxruntime ratio 1 thread: {ratios[1]:.2f}")
print(f"tract/onnxruntime ratio 2 threads: {ratios[2]:.2f}")
EOF
fi

[ "$aarch64" = 1 ] || exit 0

# ---- aarch64 instruction counts (qemu + the counting plugin) ----------------------------------
[ "$(id -u)" = 0 ] || { echo "bench-peers: --aarch64 needs root (debootstrap, chroot, binfmt_misc)" >&2; exit 1; }
[ -x "$tools/compare.sh" ] || { echo "bench-peers: no $tools/compare.sh (set TEACHCAM_AARCH64_COST)" >&2; exit 1; }
tools=$(cd "$tools" && pwd)
bench_step "building teachcam for x86 (the head for the aarch64 run is trained with it)"
nice cargo build --release --bin teachcam >&2
bench_step "cross-building teachcam (cargo build --release --target aarch64-unknown-linux-gnu)"
nice cargo build --release --target aarch64-unknown-linux-gnu --bin teachcam >&2
a64_bin=$(readlink -f "$target/aarch64-unknown-linux-gnu/release/teachcam")

data=$work/a64-data-$model_sha
bench_trained_data "$target/release/teachcam" "$photos" "$data"

# teachcam keeps the analysed model in its cache ($HOME/.cache/teachcam under compare.sh's
# clean environment, HOME=/root): make it now, or compare.sh's first tract run would pay for
# making it and its last ones would not, and the start-up would not cancel out.
printf 'data_dir = "%s"\n[model]\npath = "%s"\n' "$data" "$(readlink -f "$model")" >"$work/a64-warm.toml"
bench_step "making teachcam's model cache for the aarch64 build (one predict under qemu)"
env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 qemu-aarch64-static -cpu cortex-a72 -L /usr/aarch64-linux-gnu \
    "$a64_bin" --config "$work/a64-warm.toml" predict "$photo" >&2
# The same for the fp32 form (the cache is keyed by the model's sha256, not its path). Its head
# is made by compare.sh later, so this predict ends with "no trained head" after the model load
# that makes the cache.
printf 'data_dir = "%s"\n[model]\npath = "%s"\n' "$work/a64-warm-fp32" "$(readlink -f "$fp32")" >"$work/a64-warm-fp32.toml"
env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 qemu-aarch64-static -cpu cortex-a72 -L /usr/aarch64-linux-gnu \
    "$a64_bin" --config "$work/a64-warm-fp32.toml" predict "$photo" >&2 2>/dev/null || true
a64_work=${WORK:-$cache/aarch64-cost}
a64_out=$work/a64-compare.txt
bench_step "counting guest instructions under qemu ($tools/compare.sh; work dir $a64_work, log $a64_work/a64-cost.log)"
WORK=$a64_work TEACHCAM=$a64_bin INT8_MODEL=$(readlink -f "$model") FP32_MODEL=$fp32 DATA=$data \
    "$tools/compare.sh" | tee "$a64_out"
# compare.sh lines: "aarch64 A72[ fp32] instructions per embedding: tract=<M>M onnxruntime=<M>M ratio=<R>"
awk '
    /instructions per embedding:/ {
        cpu = $2; form = ($3 == "fp32") ? "fp32" : "int8"
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^tract=/) { v = $i; sub(/^tract=/, "", v); sub(/M$/, "", v); tract[cpu, form] = v + 0 }
            if ($i ~ /^onnxruntime=/) { v = $i; sub(/^onnxruntime=/, "", v); sub(/M$/, "", v); ort[cpu, form] = v + 0 }
        }
        seen[cpu] = 1
    }
    END {
        if (!(("A72", "int8") in tract)) { print "bench-peers: no A72 figures from compare.sh" > "/dev/stderr"; exit 1 }
        split("A72 A76", order, " ")
        for (k = 1; k <= 2; k++) {
            c = order[k]
            if (!((c, "int8") in tract)) continue
            best = ort[c, "int8"]; form = "int8 file"
            if ((c, "fp32") in ort && ort[c, "fp32"] < best) { best = ort[c, "fp32"]; form = "fp32 form" }
            printf "aarch64 %s guest instructions per embedding: tract %.1fM (shipped int8 file), onnxruntime %.1fM (%s, its best)\n", c, tract[c, "int8"], best, form
        }
        for (k = 1; k <= 2; k++) {
            c = order[k]
            if (!((c, "int8") in tract)) continue
            best = ort[c, "int8"]
            if ((c, "fp32") in ort && ort[c, "fp32"] < best) best = ort[c, "fp32"]
            ratio[c] = tract[c, "int8"] / best
        }
        if (("A76", "int8") in tract) printf "aarch64 A76 instructions ratio: %.3f\n", ratio["A76"]
        printf "aarch64 A72 instructions ratio: %.3f\n", ratio["A72"]
    }' "$a64_out"
