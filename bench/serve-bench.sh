#!/usr/bin/env bash
# Load test of `zvm serve`'s HTTP side (issue #16): 100 connections at once x 50 requests,
# first of distinct signed webhook events, then of GET /metrics; success %, req/s, mean and
# p95 latency; events lost (accepted with 200 but not in the state's queue: must be 0); and
# the daemon's resident memory when idle (after start, before any request). To tell where
# the time goes: the same load on GET /healthz first (the HTTP exchange alone, the ceiling
# on this machine), the CPU seconds the daemon, the simulator and the load generator each
# used during the webhook load, how far the worker got through the queued events by the end
# of it, and the load average before and after.
#
# The daemon runs against the simulator (release builds of zvm and zoom-sim); the load
# generator is bench/serve-load.rs (`cargo run --example serve-load -p zvm-serve`).
# Usage: bench/serve-bench.sh [connections, default 100] [requests each, default 50]
# ZVM_BIN=path: run that zvm binary instead of this tree's release build (to compare builds).
# WORKER_WAIT_S=n: wait at most n s for the worker's first pass over the events (default 300);
# STALL_S=n: call it a stall after n s without progress (default 60).
source "$(dirname "$0")/common.sh"
CONNS=${1:-100}
REQS=${2:-50}
build_release
(cd "$ROOT" && cargo build --release -q -p zvm-serve --example serve-load)
LOAD="$ROOT/target/release/examples/serve-load"
ZVM=${ZVM_BIN:-$BIN/zvm}

start_sim --preset big --meetings 20 --files-per-meeting 1 --file-size 1MiB --no-rate-limits --years 1
export ZVM_WEBHOOK_SECRET_TOKEN="bench-secret-$RANDOM$RANDOM"
STATE="$WORK/state.sqlite3"
"$ZVM" serve "$WORK/dest" --all-users --from 1y --state "$STATE" --listen 127.0.0.1:0 \
  > "$WORK/serve.out" 2> "$WORK/serve.log" &
SERVE_PID=$!
trap 'kill -TERM $SERVE_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(grep -o 'http://[0-9.:]*' "$WORK/serve.out" | head -1)
[ -n "$BASE" ] || { cat "$WORK/serve.log"; echo "zvm serve did not start" >&2; exit 1; }
sleep 2
IDLE_RSS_KIB=$(awk '/^VmRSS:/ {print $2}' /proc/$SERVE_PID/status)
echo "idle RSS: $IDLE_RSS_KIB KiB ($(echo "scale=1; $IDLE_RSS_KIB/1024" | bc) MiB)"

# CPU seconds (user + system) a process has used so far (USER_HZ = 100).
cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "--- /healthz (the HTTP exchange alone): $CONNS connections x $REQS requests"
"$LOAD" --base "$BASE" --target healthz --connections "$CONNS" --requests "$REQS"

echo "--- webhooks: $CONNS connections x $REQS distinct signed events"
D0=$(cpu_s $SERVE_PID); S0=$(cpu_s $SIM_PID)
"$LOAD" --base "$BASE" --target webhook --connections "$CONNS" --requests "$REQS" | tee "$WORK/webhook.txt"
D1=$(cpu_s $SERVE_PID); S1=$(cpu_s $SIM_PID)
echo "CPU s during the webhook load: daemon $(echo "$D1 - $D0" | bc), simulator $(echo "$S1 - $S0" | bc), load generator $(grep -o 'load_cpu_s=[0-9.]*' "$WORK/webhook.txt" | cut -d= -f2)"
RUN=$(grep -o 'run=[0-9]*' "$WORK/webhook.txt" | cut -d= -f2)
OK=$(grep -o ' ok=[0-9]*' "$WORK/webhook.txt" | cut -d= -f2)
QUEUED=$(python3 - "$STATE" "$RUN" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
like = (f"load-{sys.argv[2]}-%",)
print(c.execute("SELECT COUNT(DISTINCT meeting_uuid) FROM webhook_events WHERE meeting_uuid LIKE ?",
                like).fetchone()[0])
by = dict(c.execute("SELECT status, COUNT(*) FROM webhook_events WHERE meeting_uuid LIKE ? "
                    "GROUP BY status", like).fetchall())
tried = c.execute("SELECT COUNT(*) FROM webhook_events WHERE meeting_uuid LIKE ? AND "
                  "(status != 'queued' OR attempts > 0)", like).fetchone()[0]
print(f"worker by the end of the load: {tried} events taken up, by status {by}", file=sys.stderr)
PY
)
echo "accepted (200): $OK, in the queue: $QUEUED, events lost: $((OK - QUEUED))"

# The worker copies the queued events (here: meetings Zoom does not have, so each attempt
# fails and waits a minute). Its first pass is waited for, so that the /metrics load does
# not share the cores with it; how long it took is the worker's pace. The wait ends when
# every event was tried, when no event was taken up for STALL_S s (default 60: the worker
# settles a batch of up to 1,000 events when its one run ends, and a run asks Zoom for each
# meeting at the plan's rate; a stall: said so), or after
# WORKER_WAIT_S seconds (default 300; said so: still progressing). The wait is timed by the clock, not by a count of
# polls (each poll starts python, slow on a busy machine).
W0=$(date +%s.%N)
LAST_MOVE=$(date +%s)
SEEN=""
WHY=""
while :; do
  LEFT=$(python3 - "$STATE" "$RUN" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT COUNT(*) FROM webhook_events WHERE meeting_uuid LIKE ? AND status = 'queued' "
                "AND attempts = 0", (f"load-{sys.argv[2]}-%",)).fetchone()[0])
PY
)
  NOW=$(date +%s)
  [ "$LEFT" = 0 ] && { WHY="done"; break; }
  [ "$LEFT" != "$SEEN" ] && LAST_MOVE=$NOW
  SEEN=$LEFT
  [ $((NOW - LAST_MOVE)) -ge "${STALL_S:-60}" ] && { WHY="STALLED ($LEFT left, none taken up for ${STALL_S:-60} s)"; break; }
  [ "$(echo "$NOW - $W0 >= ${WORKER_WAIT_S:-300}" | bc)" = 1 ] && { WHY="NOT done after ${WORKER_WAIT_S:-300} s ($LEFT left, still progressing)"; break; }
  sleep 0.5
done
echo "worker: first attempt at every event: $WHY, $(echo "$(date +%s.%N) - $W0" | bc) s after the load ended"

echo "--- /metrics: $CONNS connections x $REQS requests"
"$LOAD" --base "$BASE" --target metrics --connections "$CONNS" --requests "$REQS"

echo "RSS after the load: $(awk '/^VmRSS:/ {print $2}' /proc/$SERVE_PID/status) KiB"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
START=$(date +%s.%N)
kill -TERM $SERVE_PID
wait $SERVE_PID; CODE=$?
echo "stopped after SIGTERM in $(echo "$(date +%s.%N) - $START" | bc) s, exit $CODE"
