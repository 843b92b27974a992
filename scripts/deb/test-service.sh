#!/usr/bin/env bash
# Boots systemd (Bookworm's, as on the Pi) in a container made from a throw-away overlay of this
# machine, with the teachcam package installed, and starts teachcam.service with its full
# sandbox: checks that the hardening leaves the program what it needs.
#
#   scripts/deb/test-service.sh target/debian/teachcam_0.1.0-1_arm64.deb target/release/teachcam
#
# The second argument is a native (x86-64) teachcam binary, put in place of the packaged arm64
# one: under qemu, MemoryDenyWriteExecute= would stop the emulator itself (its code generator
# writes code), and the test is about the unit, not the instruction set. A drop-in replaces
# ExecStart= with an import of one image plus `status`, since the daemon needs a camera. Checked,
# as the unit's user and inside its sandbox:
#   - the user has the gpio and video groups (from postinst, without SupplementaryGroups=);
#   - a gpio-group device node can be opened (no device policy closes /dev), and a root-only
#     one cannot;
#   - the model loads and is run (tract's threads under SystemCallFilter= and
#     MemoryDenyWriteExecute=), and the example is written to /var/lib/teachcam (StateDirectory=);
#   - /etc is read-only (ProtectSystem=strict);
#   - systemd-analyze security of the loaded unit.
# Not covered: device cgroup rules (DeviceAllow=, DevicePolicy=, and ProtectClock=, which implies
# DeviceAllow=char-rtc and so closes every other device) are not enforced inside this container;
# ci-aarch64.sh refuses those directives in the unit instead. PrivateDevices= (a mount
# namespace) is caught here.
# Needs root, overlayfs and systemd-nspawn (package systemd-container). No network.
set -euo pipefail
TEST_NAME=test-service
# shellcheck source=scripts/deb/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: scripts/deb/test-service.sh PATH/TO/teachcam_*_arm64.deb NATIVE_TEACHCAM_BINARY"
use_deb "$1"
native="$(realpath "$2")"
[ -x "$native" ] || die "$native not found"
need_root "overlay mounts, systemd-nspawn"
command -v systemd-nspawn >/dev/null || die "systemd-nspawn not found (apt-get install systemd-container)"

make_overlay service-test

# Install the package with its maintainer scripts. Its arm64 dependencies are not needed
# (the binary is replaced), hence the forced architecture and dependencies: this root is
# thrown away.
cp "$deb" "$root/root/teachcam.deb"
mount_proc_dev
# shellcheck disable=SC2016 # expanded by the shell inside the chroot
chroot "$root" /bin/sh -ec '
    getent group gpio >/dev/null || groupadd --system gpio
    dpkg --force-architecture --force-depends -i /root/teachcam.deb >/dev/null 2>&1
    dpkg-query -W -f="\${Status}\n" teachcam'
umount "$root/dev" "$root/proc"
install -m 0755 "$native" "$root/usr/bin/teachcam"
mkdir -p "$root/usr/share/teachcam-test"
fixture="$(fixture_png)"
cp "$fixture" "$root/usr/share/teachcam-test/example.png"

mkdir -p "$root/etc/systemd/system/teachcam.service.d"
cat >"$root/etc/systemd/system/teachcam.service.d/test.conf" <<'EOF'
[Service]
Type=oneshot
Restart=no
# '+': outside the sandbox, as root. Two stand-in device nodes (the same device as /dev/null):
# one like /dev/gpiomem (root:gpio 0660), one root-only.
ExecStartPre=+/bin/sh -c 'mknod -m 0660 /dev/teachcam-test-gpio c 1 3 && chgrp gpio /dev/teachcam-test-gpio && mknod -m 0600 /dev/teachcam-test-root c 1 3'
ExecStartPre=/bin/sh -c 'echo "CHECK groups: $(id -nG)"'
ExecStartPre=/bin/sh -c 'if (exec 3<>/dev/teachcam-test-gpio) 2>/dev/null; then echo "CHECK gpio-device: opened"; else echo "CHECK gpio-device: refused"; fi'
ExecStartPre=/bin/sh -c 'if (exec 3<>/dev/teachcam-test-root) 2>/dev/null; then echo "CHECK root-device: opened"; else echo "CHECK root-device: refused"; fi'
ExecStart=
ExecStart=/usr/bin/teachcam --config /etc/teachcam/teachcam.toml import --label cat /usr/share/teachcam-test/example.png
ExecStartPost=/usr/bin/teachcam --config /etc/teachcam/teachcam.toml status
ExecStartPost=/bin/sh -c 'if touch /etc/teachcam-test 2>/dev/null; then echo "CHECK etc: writable"; else echo "CHECK etc: read-only"; fi'
ExecStartPost=/bin/sh -c 'echo "CHECK stored: $(find /var/lib/teachcam -name teachcam.db -user teachcam | wc -l)"'
EOF
cat >"$root/etc/systemd/system/teachcam-test-report.service" <<'EOF'
[Unit]
Description=teachcam service test: report, then power off
After=teachcam.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c '{ systemctl show teachcam -p Result; journalctl -b -u teachcam --no-pager -o cat; systemd-analyze security teachcam --no-pager | tail -1; } >/root/report.txt 2>&1; systemctl poweroff'
[Install]
WantedBy=multi-user.target
EOF
chroot "$root" systemctl enable teachcam.service teachcam-test-report.service >/dev/null 2>&1
rm -f "$root/etc/machine-id"
echo teachcam-test >"$root/etc/hostname"

echo "== booting systemd in the container"
t0=$(date +%s)
timeout 300 systemd-nspawn -q -D "$root" -b --register=no --keep-unit >"$work/boot.log" 2>&1 || {
    tail -20 "$work/boot.log" >&2
    die "the container did not boot and power off"
}
echo "   $(($(date +%s) - t0)) s"
report="$root/root/report.txt"
[ -f "$report" ] || die "no report from inside the container"
sed 's/^/   /' "$report"

expect() {
    grep -qx "$2" "$report" || die "$1: expected a line '$2'"
    echo "  ok: $1"
}
expect "service succeeded" "Result=success"
if grep -q '^CHECK groups: .*\bgpio\b' "$report" && grep -q '^CHECK groups: .*\bvideo\b' "$report"; then
    echo "  ok: runs with the gpio and video groups"
else
    die "gpio/video groups missing"
fi
expect "gpio-group device opens" "CHECK gpio-device: opened"
expect "root-only device refused" "CHECK root-device: refused"
expect "/etc read-only" "CHECK etc: read-only"
expect "example written to /var/lib/teachcam" "CHECK stored: 1"
grep -q 'head: not trained yet' "$report" || die "status did not run"
echo "  ok: status ran"
echo "== service test passed"
