#!/usr/bin/env bash
# Segmented downloads (issue #15): zvm against aria2c and curl on the same simulator, the
# tools alternating within each run so the machine's noise falls on all alike; every ratio is
# taken within this one invocation.
#  1. One 4 GiB file, 20 MiB/s per connection, 20 ms per request: `zvm sync` (defaults:
#     -j auto, --segments auto), `zvm sync -j 8 --segments 8` (aria2c's connection count), and
#     `aria2c -x 8 -s 8` on the file's URL.
#  2. A mixed account: 60 meetings, 300 files, 3.67 GB, one of them a 1 GiB recording (the
#     rest 8.28 MiB each), same cap and latency: `zvm sync` (defaults) against
#     `aria2c -x 8 -s 8 -i URLS` (aria2c's default of 5 files at once).
#  3. One uncapped 4 GiB file: `zvm sync` (defaults) against `curl -o`, throughput.
# Peak RSS of zvm in each. Each copy is checked (count and size) before it counts.
# Usage: bench/segments-bench.sh [runs, default 3]. PARTS=13 runs parts 1 and 3 only.
# SIZE=1GiB shrinks the single files of parts 1 and 3 (for a machine too busy for 4 GiB).
source "$(dirname "$0")/common.sh"
RUNS=${1:-3}
PARTS=${PARTS:-123}
SIZE=${SIZE:-4GiB}
command -v aria2c >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq aria2; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
command -v bc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc; }
build_release

# timed OUT CMD...: runs CMD under /usr/bin/time; leaves "wall user sys maxrss_kib" in OUT.
timed() {
  local out=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; return 1; }
}
ratio() { echo "$1 / $2" | bc -l; }
bytes_of() { case "$1" in *GiB) echo $(( ${1%GiB} << 30 ));; *MiB) echo $(( ${1%MiB} << 20 ));; *) echo "$1";; esac; }
# check_copy DIR COUNT BYTES: DIR holds COUNT .mp4 files of BYTES in total.
check_copy() {
  local n total
  n=$(find "$1" -name '*.mp4' -type f | wc -l)
  total=$(find "$1" -name '*.mp4' -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
  [ "$n" = "$2" ] && [ "$total" = "$3" ] || { echo "copy in $1: $n files, $total bytes; expected $2 files, $3 bytes" >&2; exit 1; }
}
# The aria2c copy: every file under its (URL) name, sizes summed.
check_aria() {
  local n total
  n=$(find "$1" -type f ! -name '*.aria2' | wc -l)
  total=$(find "$1" -type f ! -name '*.aria2' -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
  [ "$n" = "$2" ] && [ "$total" = "$3" ] || { echo "aria2c copy in $1: $n files, $total bytes; expected $2 files, $3 bytes" >&2; exit 1; }
}
ZVM_SYNC=("$BIN/zvm" sync "$WORK/z" --all-users --from 13m --state "$WORK/z.db" --plan unlimited --quiet)
ARIA=(aria2c -q --file-allocation=none --allow-overwrite=true --auto-file-renaming=false)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $RUNS runs"

if [[ $PARTS == *1* ]]; then
echo "== 1. one $SIZE file, 20 MiB/s per connection, 20 ms per request"
start_sim --preset big --meetings 1 --files-per-meeting 1 --file-size "$SIZE" --bandwidth 20MiB --latency-ms 20 --no-rate-limits --years 1
BYTES=$(bytes_of "$SIZE")
TOK=$(sim_token); URL=$(sim_urls | head -1)
zw=(); z8=(); aw=(); zr=(); z8r=(); r1=(); r8=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/z" "$WORK/z.db"* "$WORK/a"
  timed "$WORK/t" "${ZVM_SYNC[@]}"; read -r w u s m < "$WORK/t"; zw+=("$w"); zr+=("$m")
  check_copy "$WORK/z" 1 "$BYTES"; rm -rf "$WORK/z" "$WORK/z.db"*
  timed "$WORK/t" "${ARIA[@]}" -x 8 -s 8 --header="Authorization: Bearer $TOK" -d "$WORK/a" "$URL"
  read -r w u s m < "$WORK/t"; aw+=("$w")
  check_aria "$WORK/a" 1 "$BYTES"; rm -rf "$WORK/a"
  timed "$WORK/t" "${ZVM_SYNC[@]}" -j 8 --segments 8; read -r w u s m < "$WORK/t"; z8+=("$w"); z8r+=("$m")
  check_copy "$WORK/z" 1 "$BYTES"; rm -rf "$WORK/z" "$WORK/z.db"*
  r1+=("$(ratio "${zw[-1]}" "${aw[-1]}")"); r8+=("$(ratio "${z8[-1]}" "${aw[-1]}")")
  printf '  run %d: zvm %s s, zvm -j 8 --segments 8 %s s, aria2c -x 8 -s 8 %s s; zvm/aria2c %.3f, zvm -j 8/aria2c %.3f\n' \
    "$r" "${zw[-1]}" "${z8[-1]}" "${aw[-1]}" "${r1[-1]}" "${r8[-1]}"
done
ZW=$(printf '%s\n' "${zw[@]}" | median); Z8=$(printf '%s\n' "${z8[@]}" | median); AW=$(printf '%s\n' "${aw[@]}" | median)
printf '  medians: zvm %.2f s (%.0f MiB/s), zvm -j 8 --segments 8 %.2f s, aria2c %.2f s; ideal at 8 connections %.2f s\n' \
  "$ZW" "$(echo "$BYTES / 1048576 / $ZW" | bc -l)" "$Z8" "$AW" "$(echo "$BYTES / (8 * 20 * 1048576)" | bc -l)"
printf '  wall zvm/aria2c: median of per-run ratios %.3f (ratio of medians %.3f); zvm -j 8 --segments 8/aria2c %.3f (%.3f)\n' \
  "$(printf '%s\n' "${r1[@]}" | median)" "$(ratio "$ZW" "$AW")" "$(printf '%s\n' "${r8[@]}" | median)" "$(ratio "$Z8" "$AW")"
printf '  peak RSS: zvm %d MiB, zvm -j 8 --segments 8 %d MiB\n' "$(( $(printf '%s\n' "${zr[@]}" | sort -g | tail -1) / 1024 ))" \
  "$(( $(printf '%s\n' "${z8r[@]}" | sort -g | tail -1) / 1024 ))"
stop_sim
fi

if [[ $PARTS == *2* ]]; then
echo "== 2. mixed account: 60 meetings, 300 files (one 1 GiB, 299 x 8.28 MiB), 20 MiB/s per connection, 20 ms per request"
start_sim --preset big --meetings 60 --files-per-meeting 5 --file-size 8.28MiB --large-file 1GiB --bandwidth 20MiB --latency-ms 20 --no-rate-limits --years 1
TOK=$(sim_token); sim_urls > "$WORK/urls.txt"
N=$(wc -l < "$WORK/urls.txt")
BYTES=$(curl -s "$CONTROL/manifest" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(f["size"] for mt in m["meetings"] for f in mt["files"]))')
echo "  $N files, $BYTES bytes"
zw=(); aw=(); zr=(); rr=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/z" "$WORK/z.db"* "$WORK/a"
  if (( r % 2 )); then order="zvm aria"; else order="aria zvm"; fi
  for which in $order; do
    if [ "$which" = zvm ]; then
      timed "$WORK/t" "${ZVM_SYNC[@]}"; read -r w u s m < "$WORK/t"; zw+=("$w"); zr+=("$m")
      check_copy "$WORK/z" "$N" "$BYTES"; rm -rf "$WORK/z" "$WORK/z.db"*
    else
      timed "$WORK/t" "${ARIA[@]}" -x 8 -s 8 --header="Authorization: Bearer $TOK" -i "$WORK/urls.txt" -d "$WORK/a"
      read -r w u s m < "$WORK/t"; aw+=("$w")
      check_aria "$WORK/a" "$N" "$BYTES"; rm -rf "$WORK/a"
    fi
  done
  rr+=("$(ratio "${zw[-1]}" "${aw[-1]}")")
  printf '  run %d: zvm %s s, aria2c -x 8 -s 8 %s s; zvm/aria2c %.3f\n' "$r" "${zw[-1]}" "${aw[-1]}" "${rr[-1]}"
done
ZW=$(printf '%s\n' "${zw[@]}" | median); AW=$(printf '%s\n' "${aw[@]}" | median)
printf '  medians: zvm %.2f s, aria2c %.2f s; wall zvm/aria2c: median of per-run ratios %.3f (ratio of medians %.3f); zvm peak RSS %d MiB\n' \
  "$ZW" "$AW" "$(printf '%s\n' "${rr[@]}" | median)" "$(ratio "$ZW" "$AW")" "$(( $(printf '%s\n' "${zr[@]}" | sort -g | tail -1) / 1024 ))"
stop_sim
fi

if [[ $PARTS == *3* ]]; then
echo "== 3. one uncapped $SIZE file: throughput against curl"
start_sim --preset big --meetings 1 --files-per-meeting 1 --file-size "$SIZE" --no-rate-limits --years 1
BYTES=$(bytes_of "$SIZE")
TOK=$(sim_token); URL=$(sim_urls | head -1)
zw=(); cw=(); zr=(); rr=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/z" "$WORK/z.db"* "$WORK/curl.bin"
  if (( r % 2 )); then order="zvm curl"; else order="curl zvm"; fi
  for which in $order; do
    if [ "$which" = zvm ]; then
      timed "$WORK/t" "${ZVM_SYNC[@]}"; read -r w u s m < "$WORK/t"; zw+=("$w"); zr+=("$m")
      check_copy "$WORK/z" 1 "$BYTES"; rm -rf "$WORK/z" "$WORK/z.db"*
    else
      timed "$WORK/t" curl -s -L -H "Authorization: Bearer $TOK" -o "$WORK/curl.bin" "$URL"
      read -r w u s m < "$WORK/t"; cw+=("$w")
      [ "$(stat -c %s "$WORK/curl.bin")" = "$BYTES" ] || { echo "curl's copy is short"; exit 1; }
      rm -f "$WORK/curl.bin"
    fi
  done
  rr+=("$(ratio "${cw[-1]}" "${zw[-1]}")")
  printf '  run %d: zvm %s s, curl %s s; throughput zvm/curl %.3f\n' "$r" "${zw[-1]}" "${cw[-1]}" "${rr[-1]}"
done
ZW=$(printf '%s\n' "${zw[@]}" | median); CW=$(printf '%s\n' "${cw[@]}" | median)
printf '  medians: zvm %.2f s (%.0f MiB/s), curl %.2f s (%.0f MiB/s); throughput zvm/curl: median of per-run ratios %.3f (ratio of medians %.3f); zvm peak RSS %d MiB\n' \
  "$ZW" "$(echo "$BYTES / 1048576 / $ZW" | bc -l)" "$CW" "$(echo "$BYTES / 1048576 / $CW" | bc -l)" \
  "$(printf '%s\n' "${rr[@]}" | median)" "$(ratio "$CW" "$ZW")" "$(( $(printf '%s\n' "${zr[@]}" | sort -g | tail -1) / 1024 ))"
stop_sim
fi
