#!/usr/bin/env bash
# A/B of two builds of zvm on the same simulator, alternating run by run so that the machine's
# noise falls on both alike; prints each run's wall and CPU seconds, each run's new/old ratio,
# and the medians. It is the script behind the "old binary against new binary" figures in
# BENCHMARKS.md.
#
# Usage: bench/ab-binaries.sh OLD_REV NEW_REV SCENARIO [runs, default 5]
#   OLD_REV, NEW_REV: git revisions (built in release mode once each, cached in
#                     target/ab/<commit>/zvm), or paths to zvm binaries.
#   SCENARIO:  list-business  `zvm list --all-users --json` of 100,000 meetings over 10 years
#                             on the Business plan's rate limits (output to /dev/null)
#              one-4gib       `zvm sync` of one uncapped 4 GiB file
#              progress-json  `zvm sync -j 8 --json > /dev/null` of 500 x 4 MiB at 20 MiB/s per
#                             connection, 20 ms per request: every event serialised
#              progress-bars  the same with the progress bars, drawn on a pseudo-terminal
#                             (`script`); the time is zvm's own, measured inside it
# The simulator is the current tree's, the same for both builds.
source "$(dirname "$0")/common.sh"
OLD=${1:?usage: bench/ab-binaries.sh OLD_REV NEW_REV SCENARIO [runs]}
NEW=${2:?usage: bench/ab-binaries.sh OLD_REV NEW_REV SCENARIO [runs]}
SCENARIO=${3:?usage: bench/ab-binaries.sh OLD_REV NEW_REV SCENARIO [runs]}
RUNS=${4:-5}
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
command -v bc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc; }
build_release

# binary_of REV: a path to a zvm binary built from REV (or REV itself when it is a file).
# Builds happen one after another in one scratch checkout and one target directory, so the
# second build recompiles only the workspace crates that differ.
binary_of() {
  local rev=$1
  if [ -x "$rev" ] && [ -f "$rev" ]; then echo "$rev"; return; fi
  local commit
  commit=$(cd "$ROOT" && git rev-parse --verify "$rev^{commit}") || { echo "no such revision: $rev" >&2; exit 2; }
  local out="$ROOT/target/ab/$commit/zvm"
  if [ ! -x "$out" ]; then
    local src="$ROOT/target/ab/src"
    rm -rf "$src"; mkdir -p "$src"
    (cd "$ROOT" && git archive "$commit") | tar -x -C "$src"
    (cd "$src" && CARGO_TARGET_DIR="$ROOT/target/ab/build" cargo build --release -q --locked -p zvm-cli) >&2
    mkdir -p "$(dirname "$out")"
    cp "$ROOT/target/ab/build/release/zvm" "$out"
  fi
  echo "$out"
}
OLD_BIN=$(binary_of "$OLD")
NEW_BIN=$(binary_of "$NEW")

# run_one BIN OUT: one timed run of the scenario with BIN; leaves "wall user sys" in OUT.
case "$SCENARIO" in
  list-business)
    start_sim --meetings 100000 --years 10 --plan business
    TO=$(date -u +%F); FROM=$(date -u -d "$TO - 3650 days" +%F)
    run_one() {
      /usr/bin/time -f "%e %U %S" -o "$2" "$1" list --all-users --from "$FROM" --to "$TO" --plan business --json \
        > /dev/null 2> "$WORK/cmd.log" \
        || { cat "$WORK/cmd.log"; exit 1; }
    }
    ;;
  one-4gib)
    start_sim --preset big --meetings 1 --files-per-meeting 1 --file-size 4GiB --no-rate-limits --years 1
    run_one() {
      rm -rf "$WORK/z" "$WORK/z.db"*
      /usr/bin/time -f "%e %U %S" -o "$2" "$1" sync "$WORK/z" --all-users --from 13m --state "$WORK/z.db" --quiet \
        > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
      [ "$(find "$WORK/z" -name '*.mp4' -size +4194303k | wc -l)" = 1 ] || { echo "the 4 GiB file did not arrive whole"; exit 1; }
    }
    ;;
  progress-json|progress-bars)
    start_sim --preset big --meetings 500 --files-per-meeting 1 --file-size 4MiB --bandwidth 20MiB --latency-ms 20 --no-rate-limits --years 1
    run_one() {
      rm -rf "$WORK/z" "$WORK/z.db"*
      local sync=("$1" sync "$WORK/z" --all-users --from 13m --state "$WORK/z.db" -j 8 --plan unlimited)
      if [ "$SCENARIO" = progress-json ]; then
        /usr/bin/time -f "%e %U %S" -o "$2" "${sync[@]}" --json > /dev/null 2> "$WORK/cmd.log" \
          || { cat "$WORK/cmd.log"; exit 1; }
      else
        script -qec "/usr/bin/time -f '%e %U %S' -o '$2' ${sync[*]}" /dev/null > "$WORK/cmd.log" 2>&1 \
          || { tail -5 "$WORK/cmd.log"; exit 1; }
      fi
      [ "$(find "$WORK/z" -name '*.mp4' | wc -l)" = 500 ] || { echo "zvm did not fetch 500 files"; exit 1; }
    }
    ;;
  *) echo "unknown scenario: $SCENARIO (list-business, one-4gib, progress-json or progress-bars)" >&2; exit 2 ;;
esac

echo "== A/B $SCENARIO, $RUNS runs alternating (old $OLD, new $NEW; machine: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
old_w=(); new_w=(); old_c=(); new_c=(); ratios=()
for r in $(seq 1 "$RUNS"); do
  # Alternate which goes first, so neither always runs on a warmer or cooler machine.
  if (( r % 2 )); then order="old new"; else order="new old"; fi
  for which in $order; do
    if [ "$which" = old ]; then run_one "$OLD_BIN" "$WORK/t"; else run_one "$NEW_BIN" "$WORK/t"; fi
    read -r w u s < "$WORK/t"
    c=$(echo "$u + $s" | bc -l)
    if [ "$which" = old ]; then old_w+=("$w"); old_c+=("$c"); else new_w+=("$w"); new_c+=("$c"); fi
  done
  ratio=$(echo "${new_w[-1]} / ${old_w[-1]}" | bc -l)
  ratios+=("$ratio")
  printf '  run %d: old %6.2f s (cpu %5.2f)   new %6.2f s (cpu %5.2f)   new/old wall %.3f\n' \
    "$r" "${old_w[-1]}" "${old_c[-1]}" "${new_w[-1]}" "${new_c[-1]}" "$ratio"
done
OW=$(printf '%s\n' "${old_w[@]}" | median); NW=$(printf '%s\n' "${new_w[@]}" | median)
OC=$(printf '%s\n' "${old_c[@]}" | median); NC=$(printf '%s\n' "${new_c[@]}" | median)
RM=$(printf '%s\n' "${ratios[@]}" | median)
printf '  medians: old %.2f s (cpu %.2f)   new %.2f s (cpu %.2f)\n' "$OW" "$OC" "$NW" "$NC"
printf '  new/old: wall, median of per-run ratios %.3f; wall, ratio of medians %.3f; cpu, ratio of medians %.3f\n' \
  "$RM" "$(echo "$NW / $OW" | bc -l)" "$(echo "$NC / $OC" | bc -l)"
