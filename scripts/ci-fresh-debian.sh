#!/usr/bin/env bash
# Proves the README's first command works on a fresh Debian machine with only rustup's Rust:
# makes a minimal Debian root with debootstrap (the host's release; no clang, no libclang, no
# Python, no -dev libraries; gcc and libc6-dev only, which rustup's Rust needs to link), and runs
# `scripts/demo.sh` in it, then builds the test suite there (`cargo test --release --no-run`).
#
#   scripts/ci-fresh-debian.sh            # needs root (debootstrap, chroot, mounts)
#
# Into the root go, at their own paths: this repository (read-write: the build lands in its
# target/, so the host's `cargo test --release` afterwards reuses it), the photo folder
# (read-only), and the host's rustup toolchain ($RUSTUP_HOME read-only, $CARGO_HOME for the
# crate downloads). Nothing else of the host is visible. The root is kept in
# $TEACHCAM_FRESH_ROOT (default /var/tmp/teachcam-fresh-debian) and reused when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
die() {
    echo "ci-fresh-debian: FAILED: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, bind mounts)"
repo=$PWD
photos=$(realpath "${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}")
[ -d "$photos/train/cat" ] || die "photo folder $photos not found (set TEACHCAM_DATA_DIR)"
shared=$(realpath "$photos/..")
# rustup's homes, wherever this machine keeps them (~/.rustup and ~/.cargo, or $RUSTUP_HOME and
# $CARGO_HOME as in the rust container images).
cargo_bin=$(command -v cargo) || die "cargo not found"
cargo_home=$(realpath "${CARGO_HOME:-$(dirname "$(dirname "$cargo_bin")")}")
rustup_home=$(realpath "${RUSTUP_HOME:-$(rustup show home 2>/dev/null || echo "$HOME/.rustup")}")
if [ ! -x "$cargo_home/bin/cargo" ] || [ ! -d "$rustup_home/toolchains" ]; then
    die "rustup's Rust not found (cargo home $cargo_home, rustup home $rustup_home)"
fi
root=${TEACHCAM_FRESH_ROOT:-/var/tmp/teachcam-fresh-debian}
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

command -v debootstrap >/dev/null || {
    echo "== installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}
if [ ! -x "$root/usr/bin/gcc" ]; then
    echo "== debootstrap $suite (minbase + gcc) into $root"
    rm -rf "$root"
    t0=$(date +%s)
    debootstrap --variant=minbase --include=gcc,libc6-dev,ca-certificates "$suite" "$root" \
        http://deb.debian.org/debian >"$root.log" 2>&1 || {
        tail -20 "$root.log" >&2
        die "debootstrap failed (log: $root.log)"
    }
    echo "   $(($(date +%s) - t0)) s"
fi
# The point of the exercise: nothing that bindgen, Python or a system library would provide.
for absent in clang libclang-dev python3 pkg-config libv4l-dev; do
    # shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
    if chroot "$root" dpkg-query -W -f='${db:Status-Status}' "$absent" 2>/dev/null | grep -qx installed; then
        die "$absent is installed in the fresh root"
    fi
done
if compgen -G "$root/usr/lib/llvm-*/lib/libclang*" >/dev/null; then die "libclang is in the fresh root"; fi

mounts=()
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() { # bind SOURCE [ro]: SOURCE at the same path inside the root
    mkdir -p "$root$1"
    mount --bind "$1" "$root$1"
    mounts+=("$root$1")
    if [ "${2:-}" = ro ]; then mount -o remount,bind,ro "$root$1"; fi
}
mkdir -p "$root/proc" "$root/dev"
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
mount --rbind /dev "$root/dev" && mounts+=("$root/dev")
cp /etc/resolv.conf "$root/etc/resolv.conf"
bind "$repo"
bind "$shared" ro
bind "$rustup_home" ro
bind "$cargo_home"

run_in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
        PATH="$cargo_home/bin:/usr/local/bin:/usr/bin:/bin" RUSTUP_HOME="$rustup_home" CARGO_HOME="$cargo_home" \
        CARGO_TERM_COLOR=never TEACHCAM_DATA_DIR="$photos" TEACHCAM_NONE_DIR="$shared/none" \
        /bin/bash -ec "cd '$repo' && $1"
}
echo "== in the fresh root: rustc $(run_in_root 'rustc --version' | cut -d' ' -f2), no clang"
echo "== in the fresh root: scripts/demo.sh (the README's main command)"
t0=$(date +%s)
run_in_root 'scripts/demo.sh' | tee "$root.demo.log"
grep -q "accuracy" "$root.demo.log" || die "demo.sh printed no accuracy"
echo "   demo: $(($(date +%s) - t0)) s"
echo "== in the fresh root: cargo test --release --no-run (the README's test command builds)"
t0=$(date +%s)
run_in_root 'cargo test --release --no-run'
echo "   $(($(date +%s) - t0)) s"
echo "ci-fresh-debian: ok"
