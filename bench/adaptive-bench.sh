#!/usr/bin/env bash
# `zvm sync -j auto` against every fixed number of transfers, on three scenarios, in one run:
#  1. few large files: 6 x 128 MiB, 20 MiB/s per connection, 20 ms latency;
#  2. many small files: 2000 x 256 KiB, 20 MiB/s per connection, 20 ms latency, and a
#     200 MiB/s line shared by every connection (the user's link);
#  3. a server that limits connections: 300 x 4 MiB, 20 MiB/s per connection, 20 ms latency,
#     at most 6 downloads at once (more are answered 429, Retry-After: 1).
# For each: the median wall time of each setting, and auto's ratio to the best fixed one
# (target: at most 1.05).
# Usage: bench/adaptive-bench.sh [runs, default 3]   (FIXED="2 4 8 16 32" SCENARIOS="1 2 3")
source "$(dirname "$0")/common.sh"
RUNS=${1:-3}
FIXED=${FIXED:-"2 4 8 16 32"}
SCENARIOS=${SCENARIOS:-"1 2 3"}
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
build_release
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); runs: $RUNS"

scenario() {
  case $1 in
    1) TITLE="few large files (6 x 128 MiB, 20 MiB/s per connection, 20 ms)"
       SIM=(--meetings 6 --file-size 128MiB --bandwidth 20MiB --latency-ms 20) ;;
    2) TITLE="many small files (2000 x 256 KiB, 20 MiB/s per connection, 20 ms, 200 MiB/s line)"
       SIM=(--meetings 2000 --file-size 256KiB --bandwidth 20MiB --latency-ms 20 --link-bandwidth 200MiB) ;;
    3) TITLE="server allows 6 connections (300 x 4 MiB, 20 MiB/s per connection, 20 ms)"
       SIM=(--meetings 300 --file-size 4MiB --bandwidth 20MiB --latency-ms 20 --max-downloads 6) ;;
  esac
}

for sc in $SCENARIOS; do
  scenario "$sc"
  echo "== $sc. $TITLE"
  start_sim --preset big --files-per-meeting 1 --no-rate-limits --years 1 "${SIM[@]}"
  declare -A walls=()
  for r in $(seq 1 "$RUNS"); do
    line="  run $r:"
    for j in $FIXED auto; do
      rm -rf "$WORK/z" "$WORK/z.db"*
      /usr/bin/time -f "%e" -o "$WORK/t" "$BIN/zvm" sync "$WORK/z" --all-users --from 13m \
        --state "$WORK/z.db" -j "$j" --plan unlimited --quiet > "$WORK/log" 2>&1 \
        || { cat "$WORK/log"; exit 1; }
      w=$(cat "$WORK/t")
      walls[$j]="${walls[$j]:-} $w"
      line="$line -j $j ${w}s,"
    done
    echo "${line%,}"
  done
  best=""; bestj=""
  for j in $FIXED; do
    m=$(printf '%s\n' ${walls[$j]} | median)
    printf '  -j %-4s median %7.2f s\n' "$j" "$m"
    if [ -z "$best" ] || [ "$(echo "$m < $best" | bc -l)" = 1 ]; then best=$m; bestj=$j; fi
  done
  am=$(printf '%s\n' ${walls[auto]} | median)
  printf '  -j auto median %7.2f s   %.3f x the best fixed (-j %s)\n' "$am" "$(echo "$am / $best" | bc -l)" "$bestj"
  unset walls
  stop_sim
done
