#!/usr/bin/env bash
# Crash test for checkpoints (docs/operations.md, "Checkpoints and resume"):
# replays a seeded generated stream, SIGKILLs `tocsin run --checkpoint` at seeded random moments
# several times, resumes each time, and requires the final alerts and dead-letter files to be
# byte-identical to an uninterrupted run.
#
# Usage: scripts/crash-test.sh [TOCSIN_BINARY]   (default .build/debug/tocsin)
# Env:   CRASH_SEED (default 6), CRASH_EVENTS (default 200000), CRASH_KILLS (default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
TOCSIN=${1:-.build/debug/tocsin}
SEED=${CRASH_SEED:-6}
EVENTS=${CRASH_EVENTS:-200000}
KILLS=${CRASH_KILLS:-4}
WORK=$(mktemp -d)
trap 'if [ $? -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi' EXIT

"$TOCSIN" generate --events "$EVENTS" --users 5000 --seed "$SEED" -o "$WORK/events.ndjson"
# A few bad lines, so the dead-letter file has content to cut back too.
sed -i '1000s/.*/{"broken"/; 90000s/.*/not json/' "$WORK/events.ndjson"

start=$(date +%s%N)
"$TOCSIN" run rules -i "$WORK/events.ndjson" -o "$WORK/reference.ndjson" \
  --dead-letter "$WORK/reference.dl" --quiet
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "uninterrupted run: ${full_ms} ms, $(wc -l < "$WORK/reference.ndjson") alerts"

RANDOM=$SEED
interval=$(( EVENTS / 8 ))
# `exec`, so that a backgrounded `run &` is the tocsin process itself and `kill -9` hits it.
run() {
  exec "$TOCSIN" run rules -i "$WORK/events.ndjson" -o "$WORK/alerts.ndjson" --dead-letter "$WORK/dl.ndjson" \
    --checkpoint "$WORK/checkpoints" --checkpoint-interval "$interval" --resume --quiet \
    2>>"$WORK/stderr.log"
}
for i in $(seq 1 "$KILLS"); do
  # Kill somewhere in the first 90% of an uninterrupted run's time.
  delay_ms=$(( 200 + RANDOM % (full_ms * 9 / 10) ))
  run &
  pid=$!
  sleep "$(awk "BEGIN { print $delay_ms / 1000 }")"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    echo "kill $i: SIGKILL after ${delay_ms} ms ($(ls "$WORK/checkpoints" 2>/dev/null | wc -l) checkpoint files)"
  else
    wait "$pid"
    echo "kill $i: the run finished before ${delay_ms} ms"
  fi
done
(run)
grep -c '^resuming from' "$WORK/stderr.log" | sed 's/^/resumed from a checkpoint: /; s/$/ times/'
cmp "$WORK/alerts.ndjson" "$WORK/reference.ndjson"
cmp "$WORK/dl.ndjson" "$WORK/reference.dl"
echo "crash test passed: alerts and dead letters byte-identical after $KILLS kills"
