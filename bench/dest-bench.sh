#!/usr/bin/env bash
# Uploads to an S3-compatible server: zvm (sync from the simulator straight into the bucket,
# no temporary file) against `rclone copy` of the same files from the local disk to the same
# server, and zvm's peak RSS at -j 8 with large files. The figures in BENCHMARKS.md
# ("Destinations: S3") come from this script.
#
# Usage: bench/dest-bench.sh [runs, default 3]
#   FILES, SIZE:       the throughput set (default 16 files of 64MiB)
#   BIG_FILES, BIG_SIZE: the RSS set at -j 8 (default 8 files of 512MiB; the issue's 10 GiB
#                      recordings scaled down to what the disk and moto's spool hold: what a
#                      file in flight holds is a few parts, whatever its size; above the
#                      200 MiB upload_cutoff, so multipart; a BIG_SIZE under it measures
#                      single PUTs)
#   RSS_RUNS:          runs of the RSS set (default: runs; 0 skips it)
#   BIG_QUERY:         query options added to this tree's URL in the RSS set (e.g.
#                      "upload_memory=16MiB"; the base, if any, runs with none)
#   ZVM_BENCH_S3_ENDPOINT: an S3-compatible server to use instead of starting moto's
#   ZVM_BASE:          another zvm binary (e.g. one built from main) measured in the same
#                      runs, right before this tree's, for a before/after on the same load
# Needs: moto_server (pip install 'moto[server]'), rclone (Debian's), /usr/bin/time.
source "$(dirname "$0")/common.sh"
RUNS=${1:-3}
FILES=${FILES:-16}
SIZE=${SIZE:-64MiB}
BIG_FILES=${BIG_FILES:-8}
BIG_SIZE=${BIG_SIZE:-512MiB}
RSS_RUNS=${RSS_RUNS:-$RUNS}
command -v rclone >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rclone; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
[ -n "${ZVM_BENCH_BIN:-}" ] || (cd "$ROOT" && cargo build --release -q --locked -p zvm-cli --features s3 && cargo build --release -q --locked -p zoom-sim)

export AWS_ACCESS_KEY_ID=bench-key AWS_SECRET_ACCESS_KEY=bench-secret
S3=${ZVM_BENCH_S3_ENDPOINT:-}
S3_PID=""
if [ -z "$S3" ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # moto keeps objects over its spool size in temporary files: large uploads go to disk.
  TMPDIR="$WORK" moto_server -H 127.0.0.1 -p "$port" > "$WORK/moto.log" 2>&1 &
  S3_PID=$!
  S3="http://127.0.0.1:$port"
  for _ in $(seq 1 120); do curl -fs -o /dev/null "$S3/" && break; sleep 0.5; done
fi
trap '[ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null; cleanup' EXIT
mkbucket() { curl -fs -X PUT "$S3/$1" -o /dev/null; }
rclone_s3=(--s3-provider Other --s3-endpoint "$S3" --s3-access-key-id "$AWS_ACCESS_KEY_ID"
  --s3-secret-access-key "$AWS_SECRET_ACCESS_KEY" --s3-region us-east-1 --s3-force-path-style=true)

# rclone's S3 client fails to start when AWS_CA_BUNDLE is set ("unable to load custom CA
# bundle, HTTPClient's transport unsupported type", rclone 1.60); the server is plain HTTP.
rclone() { env -u AWS_CA_BUNDLE rclone "$@"; }  # (under /usr/bin/time: env -u as well)

bytes_of() { numfmt --from=iec "${1%B}" 2>/dev/null || numfmt --from=iec "${1%iB}"; }

# --- throughput: FILES x SIZE, -j 8 / --transfers 8 ---
# Each run times, in an order that alternates between runs (odd: zvm first, even: rclone
# first), on the same server and set:
#   zvm VARIANT  `zvm sync` from the simulator into the bucket, once per entry of VARIANTS
#                (query options added to the URL, e.g. "upload_concurrency=2", or
#                "upload_cutoff=0" for every file multipart; "-": none;
#                "+NAME=VALUE" after it sets an environment variable for zvm, e.g.
#                "-+MALLOC_ARENA_MAX=2")
#   rclone-disk  `rclone copy --transfers 8` of the same files from the local disk (the
#                upload side alone; files under rclone's --s3-upload-cutoff, 200 MiB, go in
#                one PUT each)
#   rclone-mp    the same with --s3-upload-cutoff 0: every file in multipart uploads of
#                5 MiB parts, 4 at once per file (rclone's defaults), as zvm sends them
#   zvm-download `zvm sync` of the same files into a local folder: zvm's download side alone
# (`curl | rclone rcat`, the same work as zvm's, was tried: rclone 1.60's streamed uploads
# end in 400 Bad Request from moto.)
# and for each: wall time, CPU seconds of the tool (user+sys), of moto and of the simulator.
start_sim --preset big --meetings "$FILES" --files-per-meeting 1 --file-size "$SIZE" --no-rate-limits --years 1
total=$(( FILES * $(bytes_of "$SIZE") ))
# The same files on the local disk for rclone, fetched once from the simulator.
mkdir -p "$WORK/src"
token=$(sim_token)
sim_urls > "$WORK/urls"
i=0
while read -r u; do
  i=$((i + 1))
  # -L: Zoom's download URL redirects to the CDN (without it the file is the redirect page).
  curl -fsL -H "Authorization: Bearer $token" -o "$WORK/src/f$i.mp4" "$u"
done < "$WORK/urls"
have=$(du -cb "$WORK"/src/*.mp4 | tail -1 | cut -f1)
[ "$have" = "$total" ] || { echo "the local copy for rclone holds $have bytes, not $total" >&2; exit 1; }
echo "set: $FILES x $SIZE ($total bytes), S3 server $S3; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
BASE=${ZVM_BASE:-}
VARIANTS=${VARIANTS:--}
HZ=$(getconf CLK_TCK)
# CPU seconds so far of the processes whose command line matches $1 (threads included).
cpu_of() {
  local t=0 p
  for p in $(pgrep -f "$1"); do
    t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) ))
  done
  echo "scale=2; $t / $HZ" | bc
}
moto_pat=${S3_PID:+"moto_server -H 127.0.0.1 -p ${S3##*:}"}
moto_cpu() { if [ -n "$moto_pat" ]; then cpu_of "$moto_pat"; else echo 0; fi; }
sim_cpu() { cpu_of "$BIN/zoom-sim"; }
# measure NAME CMD...: runs CMD under /usr/bin/time, prints one line and appends the time to
# $WORK/t.NAME.
measure() {
  local name=$1; shift
  local m0 s0 m1 s1
  m0=$(moto_cpu); s0=$(sim_cpu)
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/t" "$@" > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
  m1=$(moto_cpu); s1=$(sim_cpu)
  local w rss u s
  read -r w rss u s < "$WORK/t"
  printf '  %-28s %7.2fs %6.1f MiB/s  peak RSS %7d KiB  CPU: tool %6.2fs  moto %6.2fs  sim %6.2fs\n' \
    "$name" "$w" "$(echo "scale=1; $total / $w / 1048576" | bc)" "$rss" "$(echo "$u + $s" | bc)" \
    "$(echo "$m1 - $m0" | bc)" "$(echo "$s1 - $s0" | bc)"
  echo "$w" >> "$WORK/t.$name"
}
run_zvm() {  # run_zvm NAME BINARY VARIANT (QUERY[+ENV=VALUE...], "-": no query)
  local b=$1-$r
  mkbucket "$b"
  rm -f "$WORK/z.db"*
  local query=${3%%+*} q="" envs=()
  [ "$query" != "-" ] && q="&$query"
  [ "$3" != "$query" ] && IFS=+ read -r -a envs <<< "${3#*+}"
  measure "$1" env "${envs[@]}" "$2" sync "s3://$b/z?endpoint=$S3$q" --all-users --from 13m \
    --state "$WORK/z.db" -j 8 --plan unlimited --quiet
  rclone purge ":s3:$b" "${rclone_s3[@]}" >/dev/null 2>&1 || true
}
run_rclone_disk() {
  mkbucket "rclone-$r"
  measure rclone-disk env -u AWS_CA_BUNDLE rclone copy "$WORK/src" ":s3:rclone-$r/r" "${rclone_s3[@]}" --transfers 8
  rclone purge ":s3:rclone-$r" "${rclone_s3[@]}" >/dev/null 2>&1 || true
  mkbucket "rclonemp-$r"
  measure rclone-mp env -u AWS_CA_BUNDLE rclone copy "$WORK/src" ":s3:rclonemp-$r/r" "${rclone_s3[@]}" --transfers 8 --s3-upload-cutoff 0
  rclone purge ":s3:rclonemp-$r" "${rclone_s3[@]}" >/dev/null 2>&1 || true
}
run_zvm_variants() {
  [ -n "$BASE" ] && run_zvm base "$BASE" -
  local v i=0
  for v in $VARIANTS; do
    i=$((i + 1))
    echo "  (zvm-$i: ${v})"
    run_zvm "zvm-$i" "$BIN/zvm" "$v"
  done
}
run_download() {
  rm -rf "$WORK/dl" "$WORK/z.db"*
  measure zvm-download "$BIN/zvm" sync "$WORK/dl" --all-users --from 13m \
    --state "$WORK/z.db" -j 8 --plan unlimited --quiet
  rm -rf "$WORK/dl"
}
# Warms moto up (its first requests load code) before anything is timed.
mkbucket warmup
env -u AWS_CA_BUNDLE rclone copy "$WORK/src/f1.mp4" ":s3:warmup/w" "${rclone_s3[@]}" >/dev/null 2>&1
rclone purge ":s3:warmup" "${rclone_s3[@]}" >/dev/null 2>&1 || true
for r in $(seq 1 "$RUNS"); do
  echo "run $r (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
  if [ $((r % 2)) = 1 ]; then
    run_zvm_variants; run_rclone_disk; run_download
  else
    run_download; run_rclone_disk; run_zvm_variants
  fi
done
echo "medians over $RUNS runs (load average after: $(cut -d' ' -f1-3 /proc/loadavg)):"
rd=$(median < "$WORK/t.rclone-disk")
for f in "$WORK"/t.*; do
  name=${f##*/t.}
  m=$(median < "$f")
  echo "  $name ${m}s  throughput vs rclone-disk $(echo "scale=3; $rd / $m" | bc)x"
done
rm -rf "$WORK/src"
stop_sim

# --- peak RSS at -j 8 with large files (RSS_RUNS runs, the bucket emptied after each) ---
[ "$RSS_RUNS" -gt 0 ] || exit 0
start_sim --preset big --meetings "$BIG_FILES" --files-per-meeting 1 --file-size "$BIG_SIZE" --no-rate-limits --years 1
mkbucket zvm-big
for r in $(seq 1 "$RSS_RUNS"); do
  if [ -n "$BASE" ]; then
    rm -f "$WORK/z.db"*
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$BASE" sync "s3://zvm-big/z?endpoint=$S3" --all-users --from 13m \
      --state "$WORK/z.db" -j 8 --plan unlimited --quiet > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
    read -r bw_ brss_ < "$WORK/t"
    rclone purge ":s3:zvm-big/z" "${rclone_s3[@]}" >/dev/null 2>&1 || true
    echo "large run $r: base zvm ${bw_}s, peak RSS ${brss_} KiB ($(( brss_ / 1024 )) MiB)"
    echo "$brss_" >> "$WORK/base_brss"
  fi
  rm -f "$WORK/z.db"*
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN/zvm" sync "s3://zvm-big/z?endpoint=$S3${BIG_QUERY:+&$BIG_QUERY}" --all-users --from 13m \
    --state "$WORK/z.db" -j 8 --plan unlimited --quiet > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
  read -r bw brss < "$WORK/t"
  rclone purge ":s3:zvm-big/z" "${rclone_s3[@]}" >/dev/null 2>&1 || true
  echo "large run $r: $BIG_FILES x $BIG_SIZE at -j 8${BIG_QUERY:+ ($BIG_QUERY)}: ${bw}s, zvm peak RSS ${brss} KiB ($(( brss / 1024 )) MiB)"
  echo "$brss" >> "$WORK/brss"; echo "$bw" >> "$WORK/bw"
done
echo "large median: $(median < "$WORK/bw")s, zvm peak RSS $(( $(median < "$WORK/brss" | cut -d. -f1) / 1024 )) MiB"
if [ -n "$BASE" ]; then
  echo "large median: base zvm peak RSS $(( $(median < "$WORK/base_brss" | cut -d. -f1) / 1024 )) MiB"
fi
