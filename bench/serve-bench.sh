#!/usr/bin/env bash
# Load test of `zvm serve`'s HTTP side (issue #16): 100 connections at once x 50 requests,
# first of distinct signed webhook events, then of GET /metrics; success %, req/s, mean and
# p95 latency; events lost (accepted with 200 but not in the state's queue: must be 0); and
# the daemon's resident memory when idle (after start, before any request).
#
# The daemon runs against the simulator (release builds of zvm and zoom-sim); the load
# generator is bench/serve-load.rs (`cargo run --example serve-load -p zvm-serve`).
# Usage: bench/serve-bench.sh [connections, default 100] [requests each, default 50]
source "$(dirname "$0")/common.sh"
CONNS=${1:-100}
REQS=${2:-50}
build_release
(cd "$ROOT" && cargo build --release -q -p zvm-serve --example serve-load)
LOAD="$ROOT/target/release/examples/serve-load"

start_sim --preset big --meetings 20 --files-per-meeting 1 --file-size 1MiB --no-rate-limits --years 1
export ZVM_WEBHOOK_SECRET_TOKEN="bench-secret-$RANDOM$RANDOM"
STATE="$WORK/state.sqlite3"
"$BIN/zvm" serve "$WORK/dest" --all-users --from 1y --state "$STATE" --listen 127.0.0.1:0 \
  > "$WORK/serve.out" 2> "$WORK/serve.log" &
SERVE_PID=$!
trap 'kill -TERM $SERVE_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(grep -o 'http://[0-9.:]*' "$WORK/serve.out" | head -1)
[ -n "$BASE" ] || { cat "$WORK/serve.log"; echo "zvm serve did not start" >&2; exit 1; }
sleep 2
IDLE_RSS_KIB=$(awk '/^VmRSS:/ {print $2}' /proc/$SERVE_PID/status)
echo "idle RSS: $IDLE_RSS_KIB KiB ($(echo "scale=1; $IDLE_RSS_KIB/1024" | bc) MiB)"

echo "--- webhooks: $CONNS connections x $REQS distinct signed events"
"$LOAD" --base "$BASE" --target webhook --connections "$CONNS" --requests "$REQS" | tee "$WORK/webhook.txt"
RUN=$(grep -o 'run=[0-9]*' "$WORK/webhook.txt" | cut -d= -f2)
OK=$(grep -o ' ok=[0-9]*' "$WORK/webhook.txt" | cut -d= -f2)
QUEUED=$(python3 - "$STATE" "$RUN" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT COUNT(DISTINCT meeting_uuid) FROM webhook_events WHERE meeting_uuid LIKE ?",
                (f"load-{sys.argv[2]}-%",)).fetchone()[0])
PY
)
echo "accepted (200): $OK, in the queue: $QUEUED, events lost: $((OK - QUEUED))"

echo "--- /metrics: $CONNS connections x $REQS requests"
"$LOAD" --base "$BASE" --target metrics --connections "$CONNS" --requests "$REQS"

echo "RSS after the load: $(awk '/^VmRSS:/ {print $2}' /proc/$SERVE_PID/status) KiB"
START=$(date +%s.%N)
kill -TERM $SERVE_PID
wait $SERVE_PID; CODE=$?
echo "stopped after SIGTERM in $(echo "$(date +%s.%N) - $START" | bc) s, exit $CODE"
