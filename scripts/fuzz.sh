#!/usr/bin/env bash
# Fuzzes the readers of untrusted input with cargo-fuzz (libFuzzer), one target after another,
# each for a bounded time. The targets (fuzz/fuzz_targets/, entry points in src/fuzzing.rs):
#   mjpeg    the MJPEG stream splitter (rpicam-vid's output)
#   config   the config file: TOML text to a validated config, and a daemon built from it
#   embfile  the store's .emb reader
#   index    the store's index.json reader
#   image    image decoding
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (defaults: 60, every target)
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz when it is
# missing. Each target starts from its kept seeds (fuzz/corpus/<target>/) and from what earlier
# runs found (fuzz/work/<target>/, git-ignored), with its dictionary (fuzz/dict/<target>.dict)
# when there is one; a crash input is written to fuzz/artifacts/<target>/. Keep a fixed crash's input in fuzz/regressions/<target>/, so that
# tests/fuzz_corpora.rs replays it on stable Rust. Per target it prints the iterations executed
# and whether it crashed; the last line is `fuzz: targets=T iterations=I crashes=C`, and the exit
# status is 1 when C is not 0.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
case "$secs" in
'' | *[!0-9]* | 0)
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
  ;;
esac
shift $(($# > 0 ? 1 : 0))
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: needs the nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked >&2
fi
cd fuzz
# The fuzz build has its own target folder (fuzz/target), whatever CARGO_TARGET_DIR says.
unset CARGO_TARGET_DIR
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
echo "== building the fuzz targets (the first build takes ~15 min)" >&2
cargo +nightly fuzz build >&2

total=0
crashes=0
for target in "${targets[@]}"; do
  mkdir -p "work/$target" "artifacts/$target"
  log="work/$target.log"
  echo "== $target: ${secs} s" >&2
  options=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  if [ -f "dict/$target.dict" ]; then
    options+=(-dict="dict/$target.dict")
  fi
  status=0
  cargo +nightly fuzz run "$target" "work/$target" "corpus/$target" -- "${options[@]}" >"$log" 2>&1 || status=$?
  iterations=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  if [ -z "$iterations" ]; then
    # No final stats (a crash ends the run): the last progress line's "#N".
    iterations=$(sed -nE 's/^#([0-9]+)[[:space:]].*/\1/p' "$log" | tail -n 1)
  fi
  iterations=${iterations:-0}
  total=$((total + iterations))
  if [ "$status" -eq 0 ]; then
    echo "fuzz $target: $iterations iterations in ${secs} s, no crash"
  else
    crashes=$((crashes + 1))
    unit=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
    echo "fuzz $target: $iterations iterations, CRASH (exit status $status): ${unit:-no input written, see fuzz/$log}"
    grep -m 5 -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|SUMMARY' "$log" | sed 's/^/    /' || true
    echo "    reproduce: cd fuzz && cargo +nightly fuzz run $target ${unit:-ARTIFACT}; full log: fuzz/$log"
  fi
done
echo "fuzz: targets=${#targets[@]} iterations=$total crashes=$crashes"
[ "$crashes" -eq 0 ]
