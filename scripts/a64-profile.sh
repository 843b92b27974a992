#!/usr/bin/env bash
# a64-profile.sh: where teachcam's aarch64 instructions go, per function, per embedding.
#
# Usage: scripts/a64-profile.sh [--cpu cortex-a72|cortex-a76] [--config FILE]
#
# Runs the aarch64 build of `teachcam predict` on 1 and on 3 copies of a 224x224 PNG under
# `qemu-aarch64 -cpu CPU` with a qemu plugin (scripts/tools/symcount.c) that counts the guest
# instructions of each translation block under the symbol of its first instruction, and prints
# the difference per function divided by 2: instructions per embedding, start-up cancelled out.
# "?" is code without a symbol: tract-linalg's assembly matrix kernels.
# It reuses what `scripts/bench-peers.sh --aarch64` makes under ~/.cache/teachcam/aarch64-cost
# (the emulated Pi prefix with its cpuinfo, the arm64 root, the qemu plugin header, a config
# and images): run that first. Instruction counts repeat exactly; emulated time means nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
CPU=cortex-a72
WORK=${WORK:-$HOME/.cache/teachcam/aarch64-cost}
CONFIG=$WORK/cfg/int8.toml
while [ $# -gt 0 ]; do
    case $1 in
        --cpu) CPU=$2; shift 2 ;;
        --config) CONFIG=$2; shift 2 ;;
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "a64-profile: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
BIN=target/aarch64-unknown-linux-gnu/release/teachcam
for f in "$WORK/pfx/$CPU" "$WORK/plugin/qemu-plugin.h" "$CONFIG" "$WORK/img/p0.png" "$BIN"; do
    [ -e "$f" ] || { echo "a64-profile: missing $f: run scripts/bench-peers.sh --aarch64 first" >&2; exit 1; }
done
PLUGIN=$WORK/plugin/libsymcount.so
if [ ! -f "$PLUGIN" ] || [ scripts/tools/symcount.c -nt "$PLUGIN" ]; then
    cc -shared -fPIC -O2 -I"$WORK/plugin" -o "$PLUGIN" scripts/tools/symcount.c -lpthread
fi
for i in 0 1 2; do cp -u "$WORK/img/p0.png" "$WORK/img/prof$i.png"; done
run() { # images... -> the plugin's per-symbol lines
    env -i PATH=/usr/bin:/bin HOME=/root qemu-aarch64 -L "$WORK/pfx/$CPU" -cpu "$CPU" -plugin "$PLUGIN" \
        "$BIN" --config "$CONFIG" predict "$@" 2>&1 >/dev/null | grep '^sym'
}
echo "a64-profile: counting 1 and 3 embeddings on $CPU" >&2
run "$WORK/img/prof0.png" >"$WORK/sym-1.txt"
run "$WORK/img/prof0.png" "$WORK/img/prof1.png" "$WORK/img/prof2.png" >"$WORK/sym-3.txt"
python3 - "$WORK/sym-1.txt" "$WORK/sym-3.txt" <<'PY'
import sys
def load(f):
    d = {}
    for line in open(f):
        if line.startswith("sym "):
            _, n, name = line.split(None, 2)
            d[name.strip()] = int(n)
    return d
one, three = load(sys.argv[1]), load(sys.argv[2])
rows = sorted((((three.get(k, 0) - one.get(k, 0)) / 2, k) for k in one.keys() | three.keys()), reverse=True)
print(f"{sum(r[0] for r in rows) / 1e6:8.1f} M instructions per embedding, by function:")
for v, k in rows[:20]:
    if v > 1e4:
        print(f"{v / 1e6:8.2f} M  {k[:110]}")
PY
