# Shared helpers of the bench scripts: build, start the simulator, read its URLs, stop it.
# Sourced, not run. Only loopback traffic; every run is bounded in time.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# ZVM_BENCH_BIN: a folder holding other builds of zvm and zoom-sim to measure (two builds of
# one change compared in turn); nothing is built then.
BIN="${ZVM_BENCH_BIN:-$ROOT/target/release}"
WORK=$(mktemp -d /tmp/zvm-bench.XXXXXX)
SIM_PID=""

cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

build_release() {
  [ -n "${ZVM_BENCH_BIN:-}" ] && return 0
  (cd "$ROOT" && cargo build --release -q -p zvm-cli -p zoom-sim)
}

# start_sim ARGS...: starts zoom-sim, exports ZVM_API_BASE, ZVM_OAUTH_BASE, ZOOM_* and CONTROL.
start_sim() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
  "$BIN/zoom-sim" "$@" > "$WORK/sim.out" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 100); do
    grep -q '^ACCOUNT ' "$WORK/sim.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q '^ACCOUNT ' "$WORK/sim.out" || { cat "$WORK/sim.out"; echo "zoom-sim did not start" >&2; exit 1; }
  set -a
  # shellcheck disable=SC1090
  . <(grep -E '^(ZVM_API_BASE|ZVM_OAUTH_BASE|ZOOM_ACCOUNT_ID|ZOOM_CLIENT_ID|ZOOM_CLIENT_SECRET|CONTROL)=' "$WORK/sim.out")
  set +a
}

stop_sim() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
  wait "$SIM_PID" 2>/dev/null || true
  SIM_PID=""
}

# A bearer token for curl/aria2 (never printed).
sim_token() {
  curl -s -X POST "$CONTROL/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Download URLs of every completed file, one per line.
sim_urls() {
  curl -s "$CONTROL/manifest" | python3 -c '
import json, sys, os
m = json.load(sys.stdin)
base = os.environ["ZVM_OAUTH_BASE"]
for mt in m["meetings"]:
    for f in mt["files"] + mt["participant_audio"]:
        if f["status"] == "completed" and f["cloud"] == "present":
            print(base + "/rec/download/" + f["id"])'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# zvm must not read the real config; the toolchain still lives in the real home.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/config" XDG_DATA_HOME="$WORK/home/data"
