#!/usr/bin/env bash
# Builds teachcam for 64-bit Raspberry Pi OS (arm64) and packages it as a .deb with dpkg-deb
# from a staged tree. Prints the path of the .deb on the last line of stdout.
#
#   scripts/build-deb.sh              # build (showing cargo's progress), then package
#   scripts/build-deb.sh --no-build   # package the binary that is already built
#   scripts/build-deb.sh --dry-run    # print what would be run, run nothing
#   scripts/build-deb.sh --help       # this text
#
# Where it runs decides how it builds (the host architecture, from `dpkg --print-architecture`):
#   arm64 (a Raspberry Pi, 64-bit OS): natively, `cargo build --release`, binary in
#          target/release/teachcam. Needs rustup's Rust and build-essential (cc, strip, objdump).
#          The first build takes roughly 20-40 minutes on a Pi 4 and 8-15 on a Pi 5 (estimates,
#          see README.md, "From a bare Pi"); with 2 GB of memory or less set CARGO_BUILD_JOBS=2.
#   amd64 (an x86-64 PC): cross-builds, `cargo build --release --target aarch64-unknown-linux-gnu`.
#          Needs gcc-aarch64-linux-gnu libc6-dev-arm64-cross (linker, strip, objdump) and the
#          rustup target aarch64-unknown-linux-gnu; scripts/ci-aarch64.sh installs them.
#
# Environment: CARGO_TARGET_DIR (honoured), DEB_REVISION (default 1), STRIP and OBJDUMP (the
# tools' names), TEACHCAM_DEB_HOST_ARCH (arm64 or amd64: overrides the detected host, e.g. to
# see the native commands with --dry-run on a PC).
#
# Package layout (see "What the package installs" under "On a Raspberry Pi" in README.md):
#   /usr/bin/teachcam                       stripped binary
#   /usr/share/teachcam/models/             the ONNX model, class names, model card
#   /etc/teachcam/teachcam.toml             conffile: config/teachcam.toml with data_dir and
#                                           model.path rewritten to absolute paths
#   /lib/systemd/system/teachcam.service    config/systemd/teachcam.service (not enabled on install)
#   /usr/share/doc/teachcam/                README.md, copyright, changelog.Debian.gz
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
    echo "build-deb: error: $*" >&2
    exit 1
}
usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

build=1
dry_run=0
for arg in "$@"; do
    case "$arg" in
    --no-build) build=0 ;;
    --dry-run | -n) dry_run=1 ;;
    --help | -h)
        usage
        exit 0
        ;;
    *) die "unknown argument '$arg' (usage: scripts/build-deb.sh [--no-build] [--dry-run] [--help])" ;;
    esac
done

# The host: the Debian architecture (a Pi with a 64-bit kernel under a 32-bit OS says armhf
# there and aarch64 in uname -m, and cannot build or run the arm64 package).
if [ -n "${TEACHCAM_DEB_HOST_ARCH:-}" ]; then
    host_arch="$TEACHCAM_DEB_HOST_ARCH"
elif command -v dpkg >/dev/null; then
    host_arch="$(dpkg --print-architecture)"
else
    host_arch="$(uname -m)"
fi
case "$host_arch" in
arm64 | aarch64) host_arch=arm64 ;;
amd64 | x86_64) host_arch=amd64 ;;
armhf | armel | armv7l | armv6l)
    die "this is a 32-bit ($host_arch) system: teachcam needs 64-bit Raspberry Pi OS (arm64); flash it, or build on an x86-64 PC"
    ;;
*) die "cannot build on a $host_arch host: build natively on arm64 (a Pi with 64-bit Raspberry Pi OS) or cross-build on x86-64 (amd64)" ;;
esac

TARGET=aarch64-unknown-linux-gnu
DEB_ARCH=arm64
REVISION="${DEB_REVISION:-1}"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
OUT_DIR="$TARGET_DIR/debian"
ROOT="$OUT_DIR/teachcam-root"
if [ "$host_arch" = arm64 ]; then
    mode=native
    cargo_cmd=(cargo build --release --locked --bin teachcam)
    BIN="$TARGET_DIR/release/teachcam"
    STRIP="${STRIP:-strip}"
    OBJDUMP="${OBJDUMP:-objdump}"
    # .cargo/config.toml names the cross linker for this triple, and cargo applies it to
    # native builds too: link with the system's cc instead.
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-cc}"
    linker=cc
    install_hint="install Rust with rustup (https://rustup.rs) and run: sudo apt install build-essential"
else
    mode=cross
    cargo_cmd=(cargo build --release --locked --target "$TARGET" --bin teachcam)
    BIN="$TARGET_DIR/$TARGET/release/teachcam"
    STRIP="${STRIP:-aarch64-linux-gnu-strip}"
    OBJDUMP="${OBJDUMP:-aarch64-linux-gnu-objdump}"
    linker=aarch64-linux-gnu-gcc
    install_hint="run scripts/ci-aarch64.sh, or: sudo apt install gcc-aarch64-linux-gnu libc6-dev-arm64-cross; rustup target add $TARGET"
fi

# cargo also reads the crate's version for --no-build; the linker is needed only to build.
tools=(cargo dpkg-deb "$STRIP" "$OBJDUMP" gzip)
[ "$build" = 1 ] && tools+=("$linker")

if [ "$dry_run" = 1 ]; then
    echo "host: $host_arch, so a $mode build"
    [ "$mode" = native ] && echo "env:   CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"
    [ "$build" = 1 ] && echo "build: ${cargo_cmd[*]}"
    echo "binary: $BIN"
    echo "strip: $STRIP --strip-unneeded $ROOT/usr/bin/teachcam"
    echo "deps:  $OBJDUMP -T / -p on the stripped binary"
    echo "needs: ${tools[*]}"
    echo "deb:   $OUT_DIR/teachcam_<version>-${REVISION}_$DEB_ARCH.deb"
    exit 0
fi

for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || die "$tool not found ($install_hint)"
done
if [ "$mode" = cross ] && [ "$build" = 1 ] && command -v rustup >/dev/null &&
    ! rustup target list --installed | grep -qx "$TARGET"; then
    die "the Rust target $TARGET is not installed: rustup target add $TARGET"
fi

if [ "$build" = 1 ]; then
    echo "== ${cargo_cmd[*]} ($mode build; the first one takes a while, see --help)" >&2
    start=$SECONDS
    # cargo's progress goes to stderr; its stdout too, so that stdout keeps only the .deb's path.
    "${cargo_cmd[@]}" >&2
    echo "== built in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s" >&2
fi
[ -x "$BIN" ] || die "$BIN not found: build it first (without --no-build)"
bin_format="$("$OBJDUMP" -f "$BIN" 2>&1 || true)"
grep -q 'architecture: aarch64' <<<"$bin_format" ||
    die "$BIN is not an arm64 binary ($OBJDUMP -f: $(grep -o 'architecture: [^,]*\|file format not recognized' <<<"$bin_format" | head -1))"

MODEL_DIR=/usr/share/teachcam/models
DATA_DIR=/var/lib/teachcam
CONFIG_SRC=config/teachcam.toml

# Version: the crate's, from Cargo.toml. `cargo pkgid` prints ...#teachcam@0.1.0 or ...#0.1.0.
pkgid="$(cargo pkgid --offline 2>/dev/null || cargo pkgid)"
VERSION="${pkgid##*[#@]}"
[[ "$VERSION" =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || die "cannot read the crate version from '$pkgid'"
DEB_VERSION="$VERSION-$REVISION"

rm -rf "$ROOT"
mkdir -p "$ROOT/DEBIAN" "$ROOT/usr/bin" "$ROOT$MODEL_DIR" "$ROOT/etc/teachcam" \
    "$ROOT/lib/systemd/system" "$ROOT/usr/share/doc/teachcam"

# Binary, stripped (debug info and symbol table off: about a quarter of the size).
install -m 0755 "$BIN" "$ROOT/usr/bin/teachcam"
"$STRIP" --strip-unneeded "$ROOT/usr/bin/teachcam"

# Model files, read-only data.
install -m 0644 models/efficientnet-lite0-int8.onnx models/efficientnet-lite0-int8.background.bin models/imagenet_classes.txt \
    "$ROOT$MODEL_DIR/"
install -m 0644 models/README.md "$ROOT$MODEL_DIR/README.md"

# The config. Relative paths in a config are resolved against the working directory, so the
# installed one must use absolute paths: data_dir and model.path are set here (the source
# file keeps its repository-relative paths for `cargo run`). An existing top-level data_dir
# line or [model] path line is replaced; a missing one is added.
conf="$ROOT/etc/teachcam/teachcam.toml"
if [ -f "$CONFIG_SRC" ]; then
    awk -v data_dir="$DATA_DIR" -v model="$MODEL_DIR/efficientnet-lite0-int8.onnx" '
        function leave_table() {
            if (table == "model" && !n_model) { print "path = \"" model "\""; n_model++ }
        }
        /^[ \t]*\[/ {
            if (table == "" && !n_data) { print "data_dir = \"" data_dir "\"\n"; n_data++ }
            leave_table()
            table = $0; sub(/#.*/, "", table); gsub(/[ \t\[\]"]/, "", table)
            if (table == "model") seen_model = 1
            print; next
        }
        table == "" && /^[ \t]*data_dir[ \t]*=/ { print "data_dir = \"" data_dir "\""; n_data++; next }
        table == "model" && /^[ \t]*path[ \t]*=/ { print "path = \"" model "\""; n_model++; next }
        { print }
        END {
            if (!n_data) { print "data_dir = \"" data_dir "\""; n_data++ }
            leave_table()
            if (!seen_model) { print "\n[model]\npath = \"" model "\""; n_model++ }
            if (n_data != 1 || n_model != 1) {
                printf "build-deb: error: config/teachcam.toml sets data_dir %d times and [model] path %d times\n", n_data, n_model > "/dev/stderr"
                exit 1
            }
        }' "$CONFIG_SRC" >"$conf"
else
    # Placeholder until config/teachcam.toml lands: built-in defaults, absolute paths.
    echo "build-deb: warning: $CONFIG_SRC not found; packaging a minimal config" >&2
    cat >"$conf" <<EOF
# teachcam configuration (minimal placeholder: every other key takes its built-in default).
data_dir = "$DATA_DIR"

[model]
path = "$MODEL_DIR/efficientnet-lite0-int8.onnx"
EOF
fi
chmod 0644 "$conf"
grep -q "^data_dir = \"$DATA_DIR\"" "$conf" || die "the packaged config lacks data_dir = \"$DATA_DIR\""
grep -q "^path = \"$MODEL_DIR/efficientnet-lite0-int8.onnx\"" "$conf" ||
    die "the packaged config lacks the absolute model path"

install -m 0644 config/systemd/teachcam.service "$ROOT/lib/systemd/system/teachcam.service"

# Documentation.
install -m 0644 README.md "$ROOT/usr/share/doc/teachcam/README.md"
install -m 0644 scripts/deb/copyright "$ROOT/usr/share/doc/teachcam/copyright"
# The date of the last commit, so that two builds of one commit give the same changelog.
date_rfc2822="$(LC_ALL=C date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")"
cat <<EOF | gzip -9n >"$ROOT/usr/share/doc/teachcam/changelog.Debian.gz"
teachcam ($DEB_VERSION) bookworm; urgency=medium

  * Built from $(git describe --always --dirty 2>/dev/null || echo "a source tree") by scripts/build-deb.sh.

 -- teachcam maintainers <teachcam@localhost>  $date_rfc2822
EOF
chmod 0644 "$ROOT/usr/share/doc/teachcam/changelog.Debian.gz"

# Dependencies from the binary itself: the newest glibc symbol version it needs, and
# libgcc_s when it is linked (unwinding).
glibc_max="$("$OBJDUMP" -T "$ROOT/usr/bin/teachcam" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
glibc_max="${glibc_max#GLIBC_}"
[ -n "$glibc_max" ] || die "no GLIBC symbol versions found in the binary"
depends="libc6 (>= $glibc_max)"
needed="$("$OBJDUMP" -p "$ROOT/usr/bin/teachcam" | awk '/NEEDED/ { print $2 }')"
if grep -qx 'libgcc_s.so.1' <<<"$needed"; then
    depends="$depends, libgcc-s1"
fi
for lib in $needed; do
    case "$lib" in
    libc.so.6 | libm.so.6 | libdl.so.2 | libpthread.so.0 | librt.so.1 | ld-linux-aarch64.so.1 | libgcc_s.so.1) ;;
    *) die "unexpected shared library $lib: add its package to Depends in scripts/build-deb.sh" ;;
    esac
done
depends="$depends, adduser, init-system-helpers"

installed_size="$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)"
cat >"$ROOT/DEBIAN/control" <<EOF
Package: teachcam
Version: $DEB_VERSION
Architecture: $DEB_ARCH
Maintainer: teachcam maintainers <teachcam@localhost>
Installed-Size: $installed_size
Depends: $depends
Recommends: rpicam-apps-lite | rpicam-apps
Suggests: v4l-utils
Section: misc
Priority: optional
Description: teachable image classifier for the Raspberry Pi
 Teach a Raspberry Pi with a camera, buttons and LEDs to tell things apart,
 offline: press a label's button a few times with the thing in view, press
 TRAIN, and the label's LED lights for whatever is in view.
 .
 Frames are embedded by an int8 EfficientNet-Lite0 model run with tract; a
 small softmax head is trained on the device. The teachcam service is not
 enabled on install: wire the buttons and LEDs, check them with
 "teachcam --config /etc/teachcam/teachcam.toml selftest", then run
 "sudo systemctl enable --now teachcam".
EOF
echo /etc/teachcam/teachcam.toml >"$ROOT/DEBIAN/conffiles"
install -m 0755 scripts/deb/postinst scripts/deb/prerm scripts/deb/postrm "$ROOT/DEBIAN/"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"

# Files as root:root whoever builds; mtimes clamped for a reproducible archive.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
deb="$OUT_DIR/teachcam_${DEB_VERSION}_${DEB_ARCH}.deb"
rm -f "$deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$deb" >&2
echo "$deb"
