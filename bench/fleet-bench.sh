#!/usr/bin/env bash
# Throughput of a fleet of `zvm serve` workers on one PostgreSQL state (issue 19): the same
# account copied by 1, 2 and 3 workers, on a simulator whose CDN caps each TCP connection,
# so one worker's transfers (-j) bind until the workers are added. For each fleet size: the
# time from the scheduled listing's work offered to every meeting done, MiB/s, and each
# worker's peak resident memory (VmHWM). Every worker writes into one local folder (a
# shared filesystem; the object store is measured in dest-bench.sh).
#
# Needs a PostgreSQL database the user may create schemas in:
#   ZVM_BENCH_POSTGRES_URL=postgres://user:password@127.0.0.1:5432/db bench/fleet-bench.sh
# Usage: bench/fleet-bench.sh [meetings, default 24] [file size, default 16MiB]
#        [per-connection cap, default 4MiB] [transfers per worker, default 2]
# ZVM_BIN=path: that zvm (built with --features postgres) instead of this tree's release
# build, e.g. target/debug/zvm. LINK=20MiB: the CDN's total bandwidth, shared by every
# connection (the simulator's --link-bandwidth), to show where adding workers stops paying.
# FLEETS="1 2 3 4": the fleet sizes measured (default 1 2 3).
source "$(dirname "$0")/common.sh"
MEETINGS=${1:-24}
SIZE=${2:-16MiB}
CAP=${3:-4MiB}
J=${4:-2}
URL=${ZVM_BENCH_POSTGRES_URL:?set ZVM_BENCH_POSTGRES_URL to a PostgreSQL database URL}
PSQL=${PSQL:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql}
if [ -z "${ZVM_BIN:-}" ]; then
  build_release
  (cd "$ROOT" && cargo build --release -q -p zvm-cli --features postgres)
fi
ZVM=${ZVM_BIN:-$BIN/zvm}
SIM_BIN=${SIM_BIN:-$BIN/zoom-sim}
export ZVM_WEBHOOK_SECRET_TOKEN="bench-secret-$RANDOM$RANDOM"

sql() { PGOPTIONS=--client-min-messages=warning "$PSQL" "$1" -qtA -c "$2"; }

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); zvm: $ZVM"
LINK_ARGS=()
[ -n "${LINK:-}" ] && LINK_ARGS=(--link-bandwidth "$LINK")
echo "account: $MEETINGS meetings x 1 file of $SIZE; CDN cap $CAP per connection${LINK:+, $LINK in all}; -j $J per worker"
for WORKERS in ${FLEETS:-1 2 3}; do
  SCHEMA="zvm_fleet_bench_$$_$WORKERS"
  sql "$URL" "CREATE SCHEMA $SCHEMA"
  STATE="$URL?options=-c%20search_path%3D$SCHEMA"
  "$SIM_BIN" --preset big --meetings "$MEETINGS" --files-per-meeting 1 --file-size "$SIZE" \
    --bandwidth "$CAP" "${LINK_ARGS[@]}" --no-rate-limits --years 1 --users 3 > "$WORK/sim.out" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 100); do grep -q '^ACCOUNT ' "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done
  set -a
  # shellcheck disable=SC1090
  . <(grep -E '^(ZVM_API_BASE|ZVM_OAUTH_BASE|ZOOM_ACCOUNT_ID|ZOOM_CLIENT_ID|ZOOM_CLIENT_SECRET|CONTROL)=' "$WORK/sim.out")
  set +a
  DEST="$WORK/dest-$WORKERS"
  PIDS=()
  for i in $(seq 1 "$WORKERS"); do
    ZVM_PLAN=unlimited "$ZVM" serve "$DEST" --state "$STATE" --worker-id "w$i" --all-users \
      --from 2y --listen 127.0.0.1:0 -j "$J" --segments 1 --sync-every 1h \
      > "$WORK/w$i.out" 2> "$WORK/w$i.log" &
    PIDS+=($!)
  done
  # From the first work offered to none left open (the listing itself is one worker's).
  T0=""
  for _ in $(seq 1 6000); do
    OPEN=$(sql "$STATE" "SELECT COUNT(*) FILTER (WHERE NOT done) || ' ' || COUNT(*) FROM work_leases" 2>/dev/null || echo "x 0")
    if [ -z "$T0" ] && [ "${OPEN#* }" -gt 0 ] 2>/dev/null; then T0=$(date +%s.%N); fi
    if [ -n "$T0" ] && [ "$OPEN" = "0 $MEETINGS" ]; then break; fi
    sleep 0.1
  done
  T1=$(date +%s.%N)
  [ "$OPEN" = "0 $MEETINGS" ] || { tail -20 "$WORK/w1.log"; echo "the fleet of $WORKERS did not finish" >&2; exit 1; }
  BYTES=$(du -sb --apparent-size "$DEST" | cut -f1)
  SECS=$(echo "$T1 - $T0" | bc -l)
  RATE=$(echo "scale=1; $BYTES / 1048576 / $SECS" | bc -l)
  MEM=""
  for p in "${PIDS[@]}"; do
    MEM="$MEM $(awk '/^VmHWM:/ {printf "%.0f", $2/1024}' /proc/$p/status)MiB"
  done
  echo "workers=$WORKERS  seconds=$(printf %.1f "$SECS")  MiB/s=$RATE  peak RSS per worker:$MEM  load=$(cut -d' ' -f1 /proc/loadavg)"
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  stop_sim
  sql "$URL" "DROP SCHEMA $SCHEMA CASCADE"
done
