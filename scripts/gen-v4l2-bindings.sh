#!/usr/bin/env bash
# Regenerates vendor/v4l2-sys-mit/src/{x86_64,aarch64}.rs: the V4L2 bindings teachcam ships so
# that building it needs no libclang (see vendor/v4l2-sys-mit/README.md). Needs clang,
# libclang-dev, and for aarch64 the cross headers (apt-get install libc6-dev-arm64-cross).
# Uses bindgen-cli 0.65.1 (the version upstream's build script used), installed into a cache.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
tools=${XDG_CACHE_HOME:-$HOME/.cache}/teachcam/bindgen-0.65.1
if [ ! -x "$tools/bin/bindgen" ]; then
    echo "== installing bindgen-cli 0.65.1 into $tools"
    cargo install --locked --root "$tools" bindgen-cli@0.65.1
fi
out=vendor/v4l2-sys-mit/src
header=$(mktemp --suffix=.h)
trap 'rm -f "$header"' EXIT
echo '#include <linux/videodev2.h>' >"$header"
echo "== x86_64"
"$tools/bin/bindgen" "$header" -o "$out/x86_64.rs" -- --target=x86_64-unknown-linux-gnu
echo "== aarch64"
"$tools/bin/bindgen" "$header" -o "$out/aarch64.rs" -- --target=aarch64-linux-gnu \
    -isystem /usr/aarch64-linux-gnu/include
echo "done: git diff --stat $out"
