#!/usr/bin/env bash
# Soak test: FRAMES (default 1 000 000) small synthetic frames through the live loop with
# periodic captures, UNDOs and TRAINs (see scripts/soak.rs for the schedule and what "flat"
# means). Builds the example with cargo (progress shown), then runs it; its last line is
#   soak: frames=F captures=C trainings=T rss_start_kb=A rss_end_kb=B fds_start=X fds_end=Y
# and the exit status is non-zero when RSS or open file descriptors grew.
# Usage: scripts/soak.sh [FRAMES]
set -euo pipefail
cd "$(dirname "$0")/.."
frames="${1:-1000000}"
echo "== building the soak example" >&2
cargo build --release --example soak >&2
exec "${CARGO_TARGET_DIR:-target}/release/examples/soak" --frames "$frames"
