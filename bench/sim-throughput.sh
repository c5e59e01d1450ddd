#!/usr/bin/env bash
# The simulator's own download throughput, measured with curl to /dev/null: uncapped (it must
# never be the bottleneck: 1 GiB/s or more) and with a 20 MiB/s per-connection cap (which must
# hold the cap). Self-contained: builds and runs only the release `zoom-sim` binary, loopback only.
# Usage: bench/sim-throughput.sh [UNCAPPED_SIZE, default 2GiB] [CAPPED_SIZE, default 100MiB] [RUNS, default 3]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZE=${1:-2GiB}
CAPPED_SIZE=${2:-100MiB}
RUNS=${3:-3}
WORK=$(mktemp -d /tmp/zoom-sim-bench.XXXXXX)
SIM_PID=""
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$ROOT" && cargo build --release -q -p zoom-sim)
SIM="$ROOT/target/release/zoom-sim"

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# measure LABEL SIZE zoom-sim-args...: one file of SIZE, RUNS downloads, prints the median.
measure() {
  local label=$1 size=$2; shift 2
  "$SIM" --preset big --meetings 1 --files-per-meeting 1 --file-size "$size" --no-rate-limits "$@" \
    > "$WORK/sim.out" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 100); do
    grep -q '^ACCOUNT ' "$WORK/sim.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^ACCOUNT ' "$WORK/sim.out" || { cat "$WORK/sim.out"; echo "zoom-sim did not start" >&2; exit 1; }
  local control base tok url speeds=()
  control=$(sed -n 's/^CONTROL=//p' "$WORK/sim.out")
  base=$(sed -n 's/^ZVM_OAUTH_BASE=//p' "$WORK/sim.out")
  # The token stays in a variable: never printed.
  tok=$(curl -s -X POST "$control/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  url=$(curl -s "$control/manifest" | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(next(f["id"] for mt in m["meetings"] for f in mt["files"] if f["status"] == "completed"))')
  url="$base/rec/download/$url"
  for _ in $(seq 1 "$RUNS"); do
    speeds+=("$(curl -s -L -H "Authorization: Bearer $tok" -o /dev/null -w '%{speed_download}' "$url")")
  done
  local med
  med=$(printf '%s\n' "${speeds[@]}" | median)
  printf '%-28s %-8s median %8.1f MiB/s  (runs: %s)\n' "$label" "$size" "$(echo "$med / 1048576" | bc -l)" \
    "$(printf '%s ' "${speeds[@]}" | awk '{for(i=1;i<=NF;i++) printf "%.0f ", $i/1048576}')"
  kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
  SIM_PID=""
}

echo "zoom-sim throughput, curl -o /dev/null, median of $RUNS runs ($(nproc) cores)"
measure "uncapped" "$SIZE"
measure "capped 20 MiB/s per conn" "$CAPPED_SIZE" --bandwidth 20MiB
