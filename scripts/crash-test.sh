#!/usr/bin/env bash
# kill -9 harness: the daemon never loses an acknowledged example and never leaves a damaged one.
#
# Usage: scripts/crash-test.sh [TRIALS]   (default 20)
#
# Builds the release binary (cargo's progress shown; TEACHCAM_BIN=PATH uses that binary), then
# per trial runs the real daemon loop through `teachcam scenario` (replayed photos from
# ${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}, simulated buttons: hold CAT over some cat
# photos, hold DOG over some dog photos, TRAIN, detect, hold CAT again, TRAIN) on a data folder
# that persists across trials, and kills it with SIGKILL at a random moment of one of three
# kinds, chosen at random:
#   capture  after a random number of acknowledged captures, plus 0-150 ms;
#   train    after a training started, plus 0-TRAIN_MS ms (default 400; a training takes 30-300 ms);
#   any      0-ANY_MS ms after the start (default 6000: store opening, recovery, anything).
# After each kill, `teachcam check --json` verifies the store read-only (SQLite's integrity check,
# every example's image readable, matching its hash and decodable) and the acknowledged captures
# are looked up in its list of ids.
# A capture is acknowledged by the log line `captured LABEL (N examples), id ID`, which the daemon
# writes only once the example is durable. The next trial is the restart on the same folder.
#
# The last line is exactly `trials=N acknowledged=A lost=L damaged=D` (A counts acknowledged
# captures over all trials, L those missing from the store, D examples the check reports
# damaged, plus one per check that could not run); the exit status is 1 when L or D is not 0.
#
# CRASH_SEED=N repeats a run's choices (kill kinds, counts and delays; the timing of the
# daemon itself varies). Photos absent: NOT RUN (exit 0, or 1 under TEACHCAM_REQUIRE_DATA=1).
# Needs bash, GNU coreutils, sed, awk and the model in models/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/teachcam.sh
. scripts/lib/scenario.sh

trials="${1:-20}"
shots=12       # photos per label per hold step
train_ms="${TRAIN_MS:-400}"
any_ms="${ANY_MS:-6000}"
photos="${TEACHCAM_DATA_DIR:-../shared/data/catsdogs}"
case "$trials" in
'' | *[!0-9]*)
  echo "usage: scripts/crash-test.sh [TRIALS]" >&2
  exit 2
  ;;
esac
if [ ! -d "$photos/train/cat" ] || [ ! -d "$photos/train/dog" ]; then
  echo "*** NOT RUN: no photos at $photos/train/{cat,dog} (set TEACHCAM_DATA_DIR) ***" >&2
  [ -z "${TEACHCAM_REQUIRE_DATA:-}" ] || exit 1
  exit 0
fi
seed="${CRASH_SEED:-$(($(date +%s%N) % 32768))}"
RANDOM="$seed"
echo "== crash test: $trials trials, seed $seed (CRASH_SEED=$seed repeats the choices)"

tc=$(teachcam_binary)
work=$(mktemp -d /tmp/teachcam-crash.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The session every trial plays, on the same data folder.
data="$work/data"
for label in cat dog; do
  scenario_link_first "$photos/train/$label" "$shots" "$work/teach/$label"
done
scenario="$work/session.toml"
scenario_write_toml "$scenario" "$data" "$work/teach" "$work/teach" 1 cat dog
{
  echo '[[step]]'
  echo "frames = $(scenario_toml_string "$work/teach/cat")"
  echo 'hold = "cat"'
  echo '[[step]]'
  echo 'press = "train"'
} >>"$scenario"
printf 'labels = ["cat", "dog"]\n' >"$work/config.toml"

# sleep_ms MS
sleep_ms() {
  sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"
}

# count_lines FILE TEXT: complete lines of FILE containing TEXT.
count_lines() {
  complete_lines "$1" | grep -cF -- "$2" || true
}

# complete_lines FILE: FILE without a last line cut short (a kill can stop a write midway).
complete_lines() {
  if [ -n "$(tail -c 1 "$1")" ]; then sed '$d' "$1"; else cat "$1"; fi
}

# wait_lines FILE TEXT N: waits until FILE has N complete lines containing TEXT, or the daemon
# ended, or 120 s passed.
wait_lines() {
  local i
  for ((i = 0; i < 6000; i++)); do
    [ "$(count_lines "$1" "$2")" -lt "$3" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.02
  done
}

# acknowledged LOG: the ids of the captures LOG acknowledges, one per line.
acknowledged() {
  complete_lines "$1" | sed -nE 's/.* captured [A-Za-z0-9_-]+ \([0-9]+ examples?\), id ([^ ]+)$/\1/p'
}

# check_store: runs `teachcam check --json` on the data folder (read-only); writes the stored
# ids to $work/present and prints the number of damaged examples plus store problems (SQLite's
# integrity check, damaged files), or 1 when the check gives no report. Only the damaged
# examples' objects have an "id" key, so counting `"id":` counts them.
check_store() {
  local json status=0 problems
  json=$("$tc" --config "$work/config.toml" --data "$data" check --json 2>"$work/check.err") || status=$?
  if [ "${json:0:1}" != "{" ]; then
    echo "check gave no report (exit status $status): $(cat "$work/check.err")" >&2
    : >"$work/present"
    echo 1
    return
  fi
  printf '%s\n' "$json" | sed -nE 's/.*"ids":\[([^]]*)\].*/\1/p' | tr ',' '\n' | sed -nE 's/^"(.*)"$/\1/p' \
    >"$work/present"
  problems=$(printf '%s\n' "$json" | sed -nE 's/.*"problems":\[(("([^"\\]|\\.)*",?)*)\].*/\1/p')
  if [ -n "$problems" ] || [ "$status" -ne 0 ]; then
    echo "check: $json" >&2
  fi
  printf '%s\n' "$json" | { grep -o '"id":' || true; } | wc -l | awk -v p="$problems" '{ print $1 + (p == "" ? 0 : gsub(/","/, "", p) + 1) }'
}

: >"$work/acked"
damaged_total=0
started=$SECONDS
for ((t = 1; t <= trials; t++)); do
  log="$work/trial-$t.log"
  kinds=(capture train any)
  kind=${kinds[RANDOM % 3]}
  trial_start=$SECONDS
  : >"$log"
  RUST_LOG=info "$tc" --config "$work/config.toml" scenario "$scenario" >/dev/null 2>>"$log" &
  pid=$!
  case "$kind" in
  capture)
    n=$((1 + RANDOM % (2 * shots)))
    wait_lines "$log" " captured " "$n"
    delay=$((RANDOM % 150))
    what="after $n captures +${delay} ms"
    ;;
  train)
    n=$((1 + RANDOM % 2))
    wait_lines "$log" "training on " "$n"
    delay=$((RANDOM % (train_ms + 1)))
    what="after training $n started +${delay} ms"
    ;;
  any)
    delay=$((RANDOM % (any_ms + 1)))
    what="at +${delay} ms"
    ;;
  esac
  sleep_ms "$delay"
  kill -9 "$pid" 2>/dev/null || true
  status=0
  wait "$pid" 2>/dev/null || status=$?
  pid=""
  case "$status" in
  137) outcome="killed" ;;
  0) outcome="ended by itself before the kill" ;;
  *)
    # A daemon that cannot start again after a crash has a damaged store as far as the user
    # is concerned.
    outcome="FAILED (exit status $status)"
    echo "trial $t: teachcam failed:" >&2
    tail -n 5 "$log" >&2
    damaged_total=$((damaged_total + 1))
    ;;
  esac
  acknowledged "$log" >>"$work/acked"
  damaged=$(check_store)
  damaged_total=$((damaged_total + damaged))
  lost=$(sort -u "$work/acked" | comm -23 - <(sort -u "$work/present") | wc -l)
  echo "trial $t/$trials: $kind, $outcome $what ($((SECONDS - trial_start)) s): acknowledged" \
    "$(acknowledged "$log" | wc -l), stored $(wc -l <"$work/present"), lost so far $lost, damaged $damaged"
  if grep -q 'panicked' "$log"; then
    echo "trial $t: the daemon panicked:" >&2
    grep -A3 'panicked' "$log" >&2
  fi
done
acked=$(sort -u "$work/acked" | wc -l)
lost=$(sort -u "$work/acked" | comm -23 - <(sort -u "$work/present") | wc -l)
if [ "$lost" -gt 0 ]; then
  echo "lost (acknowledged, not in the store):" >&2
  sort -u "$work/acked" | comm -23 - <(sort -u "$work/present") >&2
fi
echo "$trials trials in $((SECONDS - started)) s, seed $seed"
echo "trials=$trials acknowledged=$acked lost=$lost damaged=$damaged_total"
[ "$lost" -eq 0 ] && [ "$damaged_total" -eq 0 ]
