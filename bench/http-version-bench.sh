#!/usr/bin/env bash
# HTTP/1.1 (one connection per transfer, zvm's default) against HTTP/2 (every transfer a
# stream on one connection; h2c with prior knowledge on the simulator) for the downloads, in
# one run, on three scenarios:
#  1. a CDN that caps each TCP connection: 300 x 4 MiB, 20 MiB/s per connection, 20 ms
#     latency, -j 8 (the ideal for 8 connections is bytes / (8 x cap));
#  2. many small files, uncapped: 2000 x 256 KiB, 20 ms latency, -j 8 (where HTTP/2 could win:
#     no connection set-up, no head-of-line wait for a free connection);
#  3. one uncapped 2 GiB file: throughput and CPU seconds (HTTP/2 framing and flow control).
# Usage: bench/http-version-bench.sh [runs, default 3]   (SCENARIOS="1 2 3")
source "$(dirname "$0")/common.sh"
RUNS=${1:-3}
SCENARIOS=${SCENARIOS:-"1 2 3"}
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
command -v bc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc; }
build_release
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); runs: $RUNS"

scenario() {
  case $1 in
    1) TITLE="per-connection cap (300 x 4 MiB, 20 MiB/s per connection, 20 ms, -j 8)"
       SIM=(--meetings 300 --file-size 4MiB --bandwidth 20MiB --latency-ms 20); J=8
       IDEAL=$(echo "300 * 4 / (8 * 20)" | bc -l) ;;
    2) TITLE="many small files, uncapped (2000 x 256 KiB, 20 ms, -j 8)"
       SIM=(--meetings 2000 --file-size 256KiB --latency-ms 20); J=8; IDEAL="" ;;
    3) TITLE="one uncapped 2 GiB file"
       SIM=(--meetings 1 --file-size 2GiB); J=8; IDEAL="" ;;
  esac
}

for sc in $SCENARIOS; do
  scenario "$sc"
  echo "== $sc. $TITLE"
  start_sim --preset big --files-per-meeting 1 --no-rate-limits --years 1 "${SIM[@]}"
  h1=(); h2=(); c1=(); c2=(); ratios=()
  for r in $(seq 1 "$RUNS"); do
    for v in 1 2; do
      extra=(); [ "$v" = 2 ] && extra=(--downloads-http2)
      rm -rf "$WORK/z" "$WORK/z.db"*
      /usr/bin/time -f "%e %U %S" -o "$WORK/t" "$BIN/zvm" sync "$WORK/z" --all-users --from 13m \
        --state "$WORK/z.db" -j "$J" --plan unlimited --quiet "${extra[@]}" > "$WORK/log" 2>&1 \
        || { cat "$WORK/log"; exit 1; }
      read -r w u s < "$WORK/t"
      if [ "$v" = 1 ]; then h1+=("$w"); c1+=("$(echo "$u + $s" | bc -l)"); else h2+=("$w"); c2+=("$(echo "$u + $s" | bc -l)"); fi
    done
    ratios+=("$(echo "${h2[-1]} / ${h1[-1]}" | bc -l)")
    printf '  run %d: HTTP/1.1 %s s (cpu %.2f s), HTTP/2 %s s (cpu %.2f s)\n' "$r" "${h1[-1]}" "${c1[-1]}" "${h2[-1]}" "${c2[-1]}"
  done
  M1=$(printf '%s\n' "${h1[@]}" | median); M2=$(printf '%s\n' "${h2[@]}" | median)
  C1=$(printf '%s\n' "${c1[@]}" | median); C2=$(printf '%s\n' "${c2[@]}" | median)
  R=$(printf '%s\n' "${ratios[@]}" | median)
  if [ -n "$IDEAL" ]; then
    printf '  ideal bytes/(8 x cap)  %7.2f s\n' "$IDEAL"
    printf '  HTTP/1.1 median %7.2f s  %.3f x ideal   cpu %.2f s\n' "$M1" "$(echo "$M1 / $IDEAL" | bc -l)" "$C1"
    printf '  HTTP/2   median %7.2f s  %.3f x ideal   cpu %.2f s\n' "$M2" "$(echo "$M2 / $IDEAL" | bc -l)" "$C2"
  else
    printf '  HTTP/1.1 median %7.2f s   cpu %.2f s\n' "$M1" "$C1"
    printf '  HTTP/2   median %7.2f s   cpu %.2f s\n' "$M2" "$C2"
  fi
  printf '  HTTP/2 / HTTP/1.1 wall time: median of the per-run ratios %.3f; cpu %.3f\n' "$R" "$(echo "$C2 / $C1" | bc -l)"
  stop_sim
done
