# shellcheck shell=bash
# Set-up shared by scripts/deb/test-install.sh and scripts/deb/test-service.sh, which source it
# after setting TEST_NAME (the script's name, for messages). Not packaged.
#
# Globals it sets: repo (the repository root), deb (realpath of the .deb), work (a tmpfs) and
# root (a throw-away overlay of / on it); mounts (every mount made through tracked_mount).

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mounts=()

# die MESSAGE...: "TEST_NAME: FAILED: MESSAGE" on stderr, exit 1 (the EXIT trap unmounts).
die() {
    echo "$TEST_NAME: FAILED: $*" >&2
    exit 1
}

# need_root WHY: dies unless run as root.
need_root() {
    [ "$(id -u)" = 0 ] || die "needs root ($1)"
}

# use_deb PATH: sets deb to PATH's absolute path; dies when it is not a file.
use_deb() {
    deb="$(realpath "$1")"
    [ -f "$deb" ] || die "$deb not found"
}

# tracked_mount MOUNT-ARGUMENTS... TARGET: mount, remembering TARGET for cleanup. Fails as
# mount does (also after `cond &&`, where set -e does not act inside the function).
tracked_mount() {
    mount "$@" || return
    mounts+=("${!#}")
}

# cleanup: unmounts everything tracked_mount mounted, innermost (latest) first, then removes
# the work folder. Lazy unmounts, so that a stray process cannot keep the test mounted. Mounts
# already undone (umount in the script) are skipped.
cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        mountpoint -q "${mounts[i]}" 2>/dev/null && umount -l "${mounts[i]}"
    done
    rmdir "$work" 2>/dev/null || true
}

# make_overlay NAME: work = a new /tmp/teachcam-NAME.XXXXXX folder with a 2 GB tmpfs on it,
# root = $work/root, an overlay of / whose writable layer is in that tmpfs (the host is never
# written). Sets the EXIT trap that undoes it all.
make_overlay() {
    work="$(mktemp -d "/tmp/teachcam-$1.XXXXXX")"
    root="$work/root"
    trap cleanup EXIT
    tracked_mount -t tmpfs -o size=2g tmpfs "$work"
    mkdir -p "$work/upper" "$work/scratch" "$root"
    tracked_mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/scratch" "$root"
}

# mount_proc_dev: /proc and the host's /dev in the overlay, for chroot.
mount_proc_dev() {
    tracked_mount -t proc proc "$root/proc"
    tracked_mount --bind /dev "$root/dev"
}

# fixture_png: prints the first PNG under tests/fixtures (an image to import); dies when none.
fixture_png() {
    local f
    f="$(find "$repo/tests/fixtures" -name '*.png' | sort | head -1)"
    [ -n "$f" ] || die "no PNG under tests/fixtures"
    echo "$f"
}
