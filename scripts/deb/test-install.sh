#!/usr/bin/env bash
# Installs, upgrades, removes and purges the arm64 teachcam .deb in a throw-away copy of this
# machine, so that the real maintainer scripts run under dpkg and apt, then checks the result
# of each step. Needs root, overlayfs, Debian's package mirror (for libc6:arm64), and
# qemu-user-static (to run the installed binary once).
#
#   scripts/deb/test-install.sh target/debian/teachcam_0.1.0-1_arm64.deb
#
# The copy is an overlay of / whose writable layer is a tmpfs, entered with chroot: `dpkg
# --add-architecture arm64`, the apt lists, libc6:arm64, the teachcam user and everything else
# land in the tmpfs and vanish at the end. The host's package database is never touched.
# Inside there is no systemd (no /run/systemd/system), as in a chroot or an image build:
# the scripts' systemd branches that need a running manager (daemon-reload, try-restart,
# stop) are skipped there, as they are in any chroot; everything else runs.
#
# What it covers: Depends resolve on arm64; postinst creates the system user and puts it in
# gpio and video; /var/lib/teachcam; the unit is registered but not enabled; an admin's enable
# and local conffile edit survive an upgrade; the installed binary runs as the teachcam user
# with the installed config (model found, data folder writable); remove keeps data, user and
# config; purge removes them and the unit's enable state.
# The checks are shell code run inside the overlay, hence single-quoted.
# shellcheck disable=SC2016
set -euo pipefail
TEST_NAME=test-install
# shellcheck source=scripts/deb/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: scripts/deb/test-install.sh PATH/TO/teachcam_*_arm64.deb"
use_deb "$1"
need_root "overlay mounts, chroot"

make_overlay install-test
mount_proc_dev
tracked_mount --bind /sys "$root/sys"
mountpoint -q /dev/pts && tracked_mount --bind /dev/pts "$root/dev/pts"
tracked_mount -t tmpfs tmpfs "$root/run"
tracked_mount -t tmpfs tmpfs "$root/tmp"
if [ -f /etc/resolv.conf ]; then
    touch "$root/etc/resolv.conf"
    tracked_mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
fi
cp "$deb" "$root/tmp/teachcam.deb"
fixture="$(fixture_png)"
cp "$fixture" "$root/tmp/example.png"

# Runs a shell command inside the copy.
in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        LANG=C.UTF-8 http_proxy="${http_proxy:-}" https_proxy="${https_proxy:-}" \
        /bin/sh -ec "$1"
}
check() {
    local what="$1" cmd="$2"
    if in_root "$cmd" >/dev/null 2>&1; then
        echo "  ok: $what"
    else
        echo "  command: $cmd" >&2
        in_root "$cmd" >&2 || true
        die "$what"
    fi
}
apt_q() {
    in_root "apt-get -q -y -o Dpkg::Use-Pty=0 $1" >"$work/apt.log" 2>&1 || {
        tail -30 "$work/apt.log" >&2
        die "apt-get $1"
    }
}

echo "== package test: arm64 multiarch and package lists (inside the overlay)"
t0=$(date +%s)
in_root 'dpkg --add-architecture arm64'
apt_q update
# The Raspberry Pi OS gpio group, absent on plain Debian, so postinst's group handling runs.
in_root 'getent group gpio >/dev/null || groupadd --system gpio'
echo "   $(($(date +%s) - t0)) s"

echo "== install"
t0=$(date +%s)
apt_q "install --no-install-recommends /tmp/teachcam.deb"
echo "   $(($(date +%s) - t0)) s (with libc6:arm64 and its dependencies)"
check "package installed" '[ "$(dpkg-query -W -f="\${Status}" teachcam)" = "install ok installed" ]'
check "system user teachcam" 'uid=$(id -u teachcam) && [ "$uid" -lt 1000 ] && [ "$(getent passwd teachcam | cut -d: -f7)" = /usr/sbin/nologin ]'
check "teachcam in gpio and video" 'id -nG teachcam | tr " " "\n" | grep -qx gpio && id -nG teachcam | tr " " "\n" | grep -qx video'
check "/var/lib/teachcam owned by teachcam, 0750" '[ "$(stat -c "%U:%G %a" /var/lib/teachcam)" = "teachcam:teachcam 750" ]'
check "conffile registered" 'dpkg-query -W -f="\${Conffiles}" teachcam | grep -q " /etc/teachcam/teachcam.toml "'
check "config uses absolute paths" 'grep -qx "data_dir = \"/var/lib/teachcam\"" /etc/teachcam/teachcam.toml && grep -qx "path = \"/usr/share/teachcam/models/efficientnet-lite0-int8.onnx\"" /etc/teachcam/teachcam.toml'
check "unit installed" '[ -f /lib/systemd/system/teachcam.service ]'
check "unit registered with deb-systemd-helper" 'DPKG_MAINTSCRIPT_PACKAGE=teachcam deb-systemd-helper debian-installed teachcam.service'
check "unit not enabled on install" '! systemctl is-enabled --quiet teachcam.service && [ ! -e /etc/systemd/system/multi-user.target.wants/teachcam.service ]'
check "systemd-analyze verify of the installed unit is silent" 'out=$(systemd-analyze verify --man=no /lib/systemd/system/teachcam.service 2>&1) && [ -z "$out" ]'

echo "== the installed binary, as the teachcam user, with the installed config (under qemu)"
t0=$(date +%s)
run_as='cd /var/lib/teachcam && runuser -u teachcam -- env RUST_LOG=warn qemu-aarch64-static /usr/bin/teachcam --config /etc/teachcam/teachcam.toml'
in_root "$run_as import --label cat /tmp/example.png" | sed 's/^/   /'
in_root "$run_as status" | sed 's/^/   /'
check "example stored under /var/lib/teachcam by the teachcam user" '[ -n "$(find /var/lib/teachcam -user teachcam -name teachcam.db)" ]'
check "the store holds it" 'in_store=$(cd /var/lib/teachcam && runuser -u teachcam -- qemu-aarch64-static /usr/bin/teachcam --config /etc/teachcam/teachcam.toml check --json) && echo "$in_store" | grep -q "\"examples\":1"'
echo "   $(($(date +%s) - t0)) s"

echo "== upgrade (reinstall) after an admin enabled the unit and edited the config"
in_root 'systemctl enable teachcam.service && echo "# local edit" >>/etc/teachcam/teachcam.toml'
apt_q "install --reinstall --no-install-recommends /tmp/teachcam.deb"
check "still enabled after the upgrade" '[ -L /etc/systemd/system/multi-user.target.wants/teachcam.service ]'
check "local config edit kept" 'grep -qx "# local edit" /etc/teachcam/teachcam.toml'
check "examples kept" '[ -n "$(find /var/lib/teachcam -name teachcam.db -size +1k)" ]'

echo "== remove"
apt_q "remove teachcam"
check "binary gone" '[ ! -e /usr/bin/teachcam ]'
check "state config-files" '[ "$(dpkg-query -W -f="\${Status}" teachcam)" = "deinstall ok config-files" ]'
check "user kept" 'getent passwd teachcam'
check "data kept" '[ -n "$(find /var/lib/teachcam -name teachcam.db -size +1k)" ]'
check "config kept" 'grep -qx "# local edit" /etc/teachcam/teachcam.toml'

echo "== purge"
apt_q "purge teachcam"
check "package unknown to dpkg" '! dpkg-query -W -f="\${Status}" teachcam 2>/dev/null | grep -q installed'
check "user and group gone" '! getent passwd teachcam && ! getent group teachcam'
check "data gone" '[ ! -e /var/lib/teachcam ]'
check "config gone" '[ ! -e /etc/teachcam ]'
check "enable symlink and deb-systemd-helper state gone" '[ ! -e /etc/systemd/system/multi-user.target.wants/teachcam.service ] && ! DPKG_MAINTSCRIPT_PACKAGE=teachcam deb-systemd-helper debian-installed teachcam.service'
getent passwd teachcam >/dev/null && die "a teachcam user exists on the host"
dpkg --print-foreign-architectures | grep -qx arm64 && echo "  note: arm64 was already a foreign architecture on the host"
echo "== package test passed"
