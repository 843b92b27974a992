#!/usr/bin/env bash
# Installs the teachcam .deb on a Raspberry Pi over ssh, then enables and starts the service.
#
#   scripts/install-pi.sh [--no-enable] [USER@]HOST [PATH/TO/teachcam_*_arm64.deb]
#
# Without a .deb argument the newest target/debian/teachcam_*_arm64.deb is used (build one with
# scripts/build-deb.sh). The Pi must run 64-bit Raspberry Pi OS Bookworm (or newer) and accept
# ssh logins from you; sudo on the Pi may ask for your password. ssh options can be passed in
# $SSH_OPTS, e.g. SSH_OPTS="-p 2222 -i ~/.ssh/pi".
#   --no-enable   install only; do not `systemctl enable --now teachcam`
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

enable=1
if [ "${1:-}" = --no-enable ]; then
    enable=0
    shift
fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
host="$1"
case "$host" in -*) usage ;; esac
deb="${2:-}"

if [ -z "$deb" ]; then
    dir="${CARGO_TARGET_DIR:-target}/debian"
    deb="$(find "$dir" -maxdepth 1 -name 'teachcam_*_arm64.deb' -printf '%T@ %p\n' 2>/dev/null |
        sort -n | tail -1 | cut -d' ' -f2- || true)"
    [ -n "$deb" ] || {
        echo "install-pi: no .deb in $dir: run scripts/build-deb.sh first, or pass its path" >&2
        exit 1
    }
fi
[ -f "$deb" ] || {
    echo "install-pi: $deb not found" >&2
    exit 1
}

# shellcheck disable=SC2206 # SSH_OPTS is split on purpose
ssh_opts=(${SSH_OPTS:-})
# scp spells the port option -P where ssh has -p.
scp_opts=()
for ((i = 0; i < ${#ssh_opts[@]}; i++)); do
    if [ "${ssh_opts[i]}" = -p ]; then scp_opts+=(-P); else scp_opts+=("${ssh_opts[i]}"); fi
done

echo "== checking $host"
arch="$(ssh "${ssh_opts[@]}" "$host" dpkg --print-architecture)"
if [ "$arch" != arm64 ]; then
    echo "install-pi: $host runs a $arch system; teachcam needs 64-bit Raspberry Pi OS (arm64)" >&2
    exit 1
fi

# A world-readable folder, so that apt's unprivileged _apt user can read the .deb.
remote_dir="$(ssh "${ssh_opts[@]}" "$host" 'd=$(mktemp -d /tmp/teachcam-install.XXXXXX) && chmod 755 "$d" && echo "$d"')"
remote_deb="$remote_dir/$(basename "$deb")"
echo "== copying $deb to $host:$remote_deb"
scp "${scp_opts[@]}" "$deb" "$host:$remote_deb"

remote_cmd="sudo apt-get install -y '$remote_deb'"
if [ "$enable" = 1 ]; then
    remote_cmd="$remote_cmd && sudo systemctl enable --now teachcam && systemctl --no-pager --lines=5 status teachcam"
fi
remote_cmd="$remote_cmd; status=\$?; rm -rf '$remote_dir'; exit \$status"
echo "== installing on $host"
# -t: a terminal for sudo's password prompt.
ssh -t "${ssh_opts[@]}" "$host" "$remote_cmd"

echo "== done. Follow the service with: ssh $host journalctl -u teachcam -f"
if [ "$enable" = 0 ]; then
    echo "   Start it with: ssh -t $host sudo systemctl enable --now teachcam"
fi
