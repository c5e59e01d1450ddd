#!/usr/bin/env bash
# The benchmark of `zvm sync` the sync issue asks for, every figure measured in the same run:
#  A. 2 GiB in 500 files (4 MiB each) from the simulator with a 20 MiB/s per-connection cap and
#     20 ms latency per request: zvm's wall time (listing included) against the ideal
#     bytes / (transfers x cap), and against `aria2c -j N` fetching the same URL list.
#  B. One uncapped 4 GiB file: zvm's throughput and CPU time against `curl -o`.
#  Peak RSS of zvm in both.
#  C. Memory: a 20 GiB account of two 10 GiB files, uncapped: zvm's peak RSS (target 64 MiB).
# Usage: bench/sync-bench.sh [N transfers, default 8] [runs, default 3]
# PARTS=B bench/sync-bench.sh 8 3 runs part B only (default PARTS=AB; C needs 20 GiB of disk
# and runs once: PARTS=ABC).
source "$(dirname "$0")/common.sh"
N=${1:-8}
RUNS=${2:-3}
PARTS=${PARTS:-AB}
command -v aria2c >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq aria2; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
command -v bc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc; }
build_release

# timed OUT_PREFIX CMD...: runs CMD under /usr/bin/time; leaves "wall user sys maxrss_kib".
timed() {
  local out=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; return 1; }
}

if [[ $PARTS == *A* ]]; then
echo "== A. 500 x 4 MiB, 20 MiB/s per connection, 20 ms latency, N=$N, $RUNS runs (machine: $(nproc) cores)"
start_sim --preset big --meetings 500 --files-per-meeting 1 --file-size 4MiB --bandwidth 20MiB --latency-ms 20 --no-rate-limits --years 1
BYTES=$((500 * 4 * 1048576))
IDEAL=$(echo "$BYTES / ($N * 20 * 1048576)" | bc -l)
TOK=$(sim_token)
sim_urls > "$WORK/urls.txt"
zvm_walls=(); aria_walls=(); zvm_rss=(); np_walls=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/z" "$WORK/a" "$WORK/z.db"*
  timed "$WORK/t.zvm" "$BIN/zvm" sync "$WORK/z" --all-users --from 13m --state "$WORK/z.db" -j "$N" --plan unlimited --quiet
  read -r w u s m < "$WORK/t.zvm"; zvm_walls+=("$w"); zvm_rss+=("$m")
  rm -rf "$WORK/z" "$WORK/z.db"*
  # The same without opening the next file early: what pipelining is worth.
  timed "$WORK/t.np" "$BIN/zvm" sync "$WORK/z" --all-users --from 13m --state "$WORK/z.db" -j "$N" --plan unlimited --quiet --no-pipelining
  read -r w u s m < "$WORK/t.np"; np_walls+=("$w")
  [ "$(find "$WORK/z" -name '*.mp4' | wc -l)" = 500 ] || { echo "zvm did not fetch 500 files"; exit 1; }
  timed "$WORK/t.aria" aria2c -q -j "$N" -x 1 -s 1 --file-allocation=none --allow-overwrite=true \
    --header="Authorization: Bearer $TOK" -i "$WORK/urls.txt" -d "$WORK/a"
  read -r w u s m < "$WORK/t.aria"; aria_walls+=("$w")
  echo "  run $r: zvm ${zvm_walls[-1]} s, zvm --no-pipelining ${np_walls[-1]} s, aria2c ${aria_walls[-1]} s"
done
NM=$(printf '%s\n' "${np_walls[@]}" | median)
ZM=$(printf '%s\n' "${zvm_walls[@]}" | median)
AM=$(printf '%s\n' "${aria_walls[@]}" | median)
RSS=$(printf '%s\n' "${zvm_rss[@]}" | sort -g | tail -1)
printf '  ideal bytes/(N x cap)   %7.2f s\n' "$IDEAL"
printf '  zvm sync (median)       %7.2f s   %.3f x ideal   %.3f x aria2c   peak RSS %d MiB\n' "$ZM" "$(echo "$ZM / $IDEAL" | bc -l)" "$(echo "$ZM / $AM" | bc -l)" "$((RSS / 1024))"
printf '  zvm --no-pipelining     %7.2f s   %.3f x ideal   %.3f x aria2c\n' "$NM" "$(echo "$NM / $IDEAL" | bc -l)" "$(echo "$NM / $AM" | bc -l)"
printf '  aria2c -j %-2s (median)   %7.2f s   %.3f x ideal\n' "$N" "$AM" "$(echo "$AM / $IDEAL" | bc -l)"
stop_sim

fi

if [[ $PARTS == *B* ]]; then
echo "== B. one uncapped 4 GiB file, $RUNS runs"
start_sim --preset big --meetings 1 --files-per-meeting 1 --file-size 4GiB --no-rate-limits --years 1
TOK=$(sim_token)
URL=$(sim_urls | head -1)
zw=(); zc=(); cw=(); cc=(); zr=(); sw=(); pr=(); pc=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/z" "$WORK/z.db"* "$WORK/curl.bin"
  timed "$WORK/t.zvm" "$BIN/zvm" sync "$WORK/z" --all-users --from 13m --state "$WORK/z.db" --plan unlimited --quiet
  read -r w u s m < "$WORK/t.zvm"; zw+=("$w"); zc+=("$(echo "$u + $s" | bc -l)"); zr+=("$m")
  rm -rf "$WORK/z"
  timed "$WORK/t.curl" curl -s -L -H "Authorization: Bearer $TOK" -o "$WORK/curl.bin" "$URL"
  read -r w u s m < "$WORK/t.curl"; cw+=("$w"); cc+=("$(echo "$u + $s" | bc -l)")
  rm -f "$WORK/curl.bin"
  # The same with the durability zvm gives every file (fsync before it counts as done).
  timed "$WORK/t.cs" sh -c 'curl -s -L -H "Authorization: Bearer $1" -o "$2" "$3" && sync "$2"' _ "$TOK" "$WORK/curl.bin" "$URL"
  read -r w u s m < "$WORK/t.cs"; sw+=("$w")
  rm -f "$WORK/curl.bin"
  # Each run's own ratios: the machine's speed drifts between runs, less within one.
  pr+=("$(echo "${cw[-1]} / ${zw[-1]}" | bc -l)"); pc+=("$(echo "${zc[-1]} / ${cc[-1]}" | bc -l)")
  printf '  run %d: zvm %s s (cpu %s s), curl %s s (cpu %s s), curl+fsync %s s; throughput zvm/curl %.3f\n' \
    "$r" "${zw[-1]}" "${zc[-1]}" "${cw[-1]}" "${cc[-1]}" "${sw[-1]}" "${pr[-1]}"
done
ZW=$(printf '%s\n' "${zw[@]}" | median); ZC=$(printf '%s\n' "${zc[@]}" | median)
CW=$(printf '%s\n' "${cw[@]}" | median); CC=$(printf '%s\n' "${cc[@]}" | median)
ZR=$(printf '%s\n' "${zr[@]}" | sort -g | tail -1)
printf '  zvm  (median) %6.2f s  %7.1f MiB/s  cpu %5.2f s = %.2f s/GiB   peak RSS %d MiB\n' "$ZW" "$(echo "4096 / $ZW" | bc -l)" "$ZC" "$(echo "$ZC / 4" | bc -l)" "$((ZR / 1024))"
printf '  curl (median) %6.2f s  %7.1f MiB/s  cpu %5.2f s = %.2f s/GiB\n' "$CW" "$(echo "4096 / $CW" | bc -l)" "$CC" "$(echo "$CC / 4" | bc -l)"
printf '  ratios: throughput zvm/curl %.3f, cpu per GiB zvm/curl %.3f\n' "$(echo "$CW / $ZW" | bc -l)" "$(echo "$ZC / $CC" | bc -l)"
printf '  median of the per-run ratios: throughput zvm/curl %.3f, cpu per GiB zvm/curl %.3f\n' \
  "$(printf '%s\n' "${pr[@]}" | median)" "$(printf '%s\n' "${pc[@]}" | median)"
SW=$(printf '%s\n' "${sw[@]}" | median)
printf '  curl -o && sync FILE (median) %6.2f s  %7.1f MiB/s; zvm/that throughput %.3f\n' "$SW" "$(echo "4096 / $SW" | bc -l)" "$(echo "$SW / $ZW" | bc -l)"
fi

if [[ $PARTS == *C* ]]; then
echo "== C. memory: two 10 GiB files (a 20 GiB account), uncapped, once"
stop_sim
start_sim --preset big --meetings 2 --files-per-meeting 1 --file-size 10GiB --no-rate-limits --years 1
rm -rf "$WORK/z" "$WORK/z.db"*
timed "$WORK/t.c" "$BIN/zvm" sync "$WORK/z" --all-users --from 13m --state "$WORK/z.db" --plan unlimited --quiet
read -r w u s m < "$WORK/t.c"
[ "$(find "$WORK/z" -name '*.mp4' -size +10000000k | wc -l)" = 2 ] || { echo "zvm did not fetch both files"; exit 1; }
printf '  zvm  %6.2f s  %7.1f MiB/s   peak RSS %d MiB (target 64 MiB: %.2f of it)\n' "$w" "$(echo "20480 / $w" | bc -l)" "$((m / 1024))" "$(echo "$m / 65536" | bc -l)"
rm -rf "$WORK/z"
fi
