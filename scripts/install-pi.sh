#!/usr/bin/env bash
# Installs the teachcam .deb on a Raspberry Pi over ssh, in the order the pins need:
#
#   1. install    copy the .deb and `apt-get install --reinstall` it (a first install does not
#                 start the service; an update keeps the data and config, and restarts a running one)
#   2. configure  /etc/teachcam/teachcam.toml: offers to open it on the Pi (sudoedit); the
#                 defaults match the README's wiring (CSI camera, the pins of "Wiring")
#   3. selftest   `teachcam selftest` on the Pi: each LED blinks in turn, then every button
#                 press is printed; press each button, then Ctrl-C. The service is stopped first
#                 if it runs (both cannot hold the pins)
#   4. start      `systemctl enable --now teachcam`: now and at every boot
#
#   scripts/install-pi.sh [OPTIONS] [USER@]HOST [PATH/TO/teachcam_*_arm64.deb]
#
#   --no-enable    stop after step 3; start the service yourself later
#   --no-selftest  skip step 3 (e.g. an update of a Pi whose wiring was checked before)
#   --edit         open the config in step 2 without asking
#   --no-edit      skip step 2 without asking
#   -h, --help     this text
#
# Steps 2 and 3 need a terminal; without one (stdin not a terminal) they are skipped and the
# service is not started (start it after checking the wiring). Without a .deb argument the newest
# target/debian/teachcam_*_arm64.deb is used (build one with scripts/build-deb.sh). The Pi must
# run 64-bit Raspberry Pi OS Bookworm (or newer) and accept ssh logins from you; sudo on the Pi
# may ask for your password. ssh options can be passed in $SSH_OPTS, e.g.
# SSH_OPTS="-p 2222 -i ~/.ssh/pi".
set -euo pipefail
cd "$(dirname "$0")/.."

help_text() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}
usage() {
    echo "usage: scripts/install-pi.sh [--no-enable] [--no-selftest] [--edit|--no-edit] [USER@]HOST [DEB] (--help for more)" >&2
    exit 2
}
die() {
    echo "install-pi: $*" >&2
    exit 1
}

enable=1
selftest=1
edit=ask
args=()
for arg in "$@"; do
    case "$arg" in
    --no-enable) enable=0 ;;
    --no-selftest) selftest=0 ;;
    --edit) edit=yes ;;
    --no-edit) edit=no ;;
    -h | --help)
        help_text
        exit 0
        ;;
    -*)
        echo "install-pi: unknown option '$arg'" >&2
        usage
        ;;
    *) args+=("$arg") ;;
    esac
done
if [ ${#args[@]} -lt 1 ] || [ ${#args[@]} -gt 2 ]; then usage; fi
host="${args[0]}"
deb="${args[1]:-}"

interactive=0
[ -t 0 ] && interactive=1

if [ -z "$deb" ]; then
    dir="${CARGO_TARGET_DIR:-target}/debian"
    deb="$(find "$dir" -maxdepth 1 -name 'teachcam_*_arm64.deb' -printf '%T@ %p\n' 2>/dev/null |
        sort -n | tail -1 | cut -d' ' -f2- || true)"
    [ -n "$deb" ] || die "no .deb in $dir: run scripts/build-deb.sh first, or pass its path"
fi
[ -f "$deb" ] || die "$deb not found"

# shellcheck disable=SC2206 # SSH_OPTS is split on purpose
ssh_opts=(${SSH_OPTS:-})
# scp spells the port option -P where ssh has -p.
scp_opts=()
for ((i = 0; i < ${#ssh_opts[@]}; i++)); do
    if [ "${ssh_opts[i]}" = -p ]; then scp_opts+=(-P); else scp_opts+=("${ssh_opts[i]}"); fi
done
# The commands are meant to expand on the Pi, so they go through unexpanded. -n: they must not
# read the answers typed for this script.
# shellcheck disable=SC2029
on_pi() { ssh -n "${ssh_opts[@]}" "$host" "$@"; }
# -t: a terminal on the Pi, for sudo's password prompt, the editor and selftest's Ctrl-C.
on_pi_tty() { ssh -t "${ssh_opts[@]}" "$host" "$@"; }
ask() { # ask QUESTION: yes when the answer starts with y
    local answer
    read -r -p "$1 [y/N] " answer
    [[ "$answer" == [yY]* ]]
}

config=/etc/teachcam/teachcam.toml
echo "== checking $host"
arch="$(on_pi dpkg --print-architecture)"
[ "$arch" = arm64 ] || die "$host runs a $arch system; teachcam needs 64-bit Raspberry Pi OS (arm64)"

echo "== 1/4 install: copying $deb to $host"
# A world-readable folder, so that apt's unprivileged _apt user can read the .deb.
# shellcheck disable=SC2016 # $d expands on the Pi
remote_dir="$(on_pi 'd=$(mktemp -d /tmp/teachcam-install.XXXXXX) && chmod 755 "$d" && echo "$d"')"
remote_deb="$remote_dir/$(basename "$deb")"
scp "${scp_opts[@]}" "$deb" "$host:$remote_deb"
# On an update, apt restarts a service that runs; a first install leaves it stopped. --reinstall:
# a build of a newer commit can carry the same version, which apt would otherwise skip.
on_pi_tty "sudo apt-get install --reinstall -y '$remote_deb'; status=\$?; rm -rf '$remote_dir'; exit \$status"

echo "== 2/4 configure: $config"
if [ "$edit" = ask ]; then
    edit=no
    if [ "$interactive" = 1 ] &&
        ask "   The defaults match the README's wiring and a CSI camera. Edit $config on the Pi now?"; then
        edit=yes
    fi
fi
if [ "$edit" = yes ]; then
    on_pi_tty sudoedit "$config"
else
    echo "   kept as it is (change it later with: ssh -t $host sudoedit $config)"
fi

selftest_cmd="teachcam --config $config selftest"
if [ "$selftest" = 1 ] && [ "$interactive" = 1 ]; then
    echo "== 3/4 selftest: each LED blinks in turn; then press each button (its LED lights), and Ctrl-C"
    if on_pi systemctl is-active --quiet teachcam; then
        echo "   stopping the running service: it holds the pins"
        on_pi_tty sudo systemctl stop teachcam
    fi
    if ! on_pi_tty "$selftest_cmd"; then
        die "the selftest failed (see above): fix the wiring or $config, check again with
   ssh -t $host $selftest_cmd
and then start the service: ssh -t $host sudo systemctl enable --now teachcam"
    fi
    if [ "$enable" = 1 ] && ! ask "   Did every LED light and every button print? Start the service?"; then
        enable=0
    fi
elif [ "$selftest" = 1 ]; then
    echo "== 3/4 selftest: skipped (no terminal); run it with: ssh -t $host $selftest_cmd"
    enable=0
else
    echo "== 3/4 selftest: skipped (--no-selftest)"
fi

if [ "$enable" = 1 ]; then
    echo "== 4/4 start: enabling and starting the service"
    on_pi_tty "sudo systemctl enable --now teachcam && systemctl --no-pager --lines=5 status teachcam"
    echo "== done. Follow the service with: ssh $host journalctl -u teachcam -f"
else
    echo "== 4/4 start: not started. When the wiring checks out, run:"
    echo "   ssh -t $host sudo systemctl enable --now teachcam"
fi
