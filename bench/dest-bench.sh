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
#                      file in flight holds is a few parts, whatever its size)
#   RSS_RUNS:          runs of the RSS set (default: runs; 0 skips it)
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
(cd "$ROOT" && cargo build --release -q --locked -p zvm-cli --features s3 && cargo build --release -q --locked -p zoom-sim)

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
start_sim --preset big --meetings "$FILES" --files-per-meeting 1 --file-size "$SIZE" --no-rate-limits --years 1
total=$(( FILES * $(bytes_of "$SIZE") ))
# The same files on the local disk for rclone, fetched once from the simulator.
mkdir -p "$WORK/src"
token=$(sim_token)
i=0
while read -r u; do
  i=$((i + 1))
  # -L: Zoom's download URL redirects to the CDN (without it the file is the redirect page).
  curl -fsL -H "Authorization: Bearer $token" -o "$WORK/src/f$i.mp4" "$u"
done < <(sim_urls)
have=$(du -cb "$WORK"/src/*.mp4 | tail -1 | cut -f1)
[ "$have" = "$total" ] || { echo "the local copy for rclone holds $have bytes, not $total" >&2; exit 1; }
echo "set: $FILES x $SIZE ($total bytes), S3 server $S3"
BASE=${ZVM_BASE:-}
for r in $(seq 1 "$RUNS"); do
  if [ -n "$BASE" ]; then
    b=base-$r; mkbucket "$b"
    rm -f "$WORK/z.db"*
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$BASE" sync "s3://$b/z?endpoint=$S3" --all-users --from 13m \
      --state "$WORK/z.db" -j 8 --plan unlimited --quiet > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
    read -r bw_ brss_ < "$WORK/t"
    rclone purge ":s3:base-$r" "${rclone_s3[@]}" >/dev/null 2>&1 || true
    echo "run $r: base zvm ${bw_}s ($(echo "scale=1; $total / $bw_ / 1048576" | bc) MiB/s, peak RSS ${brss_} KiB)"
    echo "$bw_" >> "$WORK/basew"
  fi
  b=zvm-$r; mkbucket "$b"
  rm -f "$WORK/z.db"*
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN/zvm" sync "s3://$b/z?endpoint=$S3" --all-users --from 13m \
    --state "$WORK/z.db" -j 8 --plan unlimited --quiet > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
  read -r zw zrss < "$WORK/t"
  b=rclone-$r; mkbucket "$b"
  /usr/bin/time -f "%e %M" -o "$WORK/t" env -u AWS_CA_BUNDLE rclone copy "$WORK/src" ":s3:$b/r" "${rclone_s3[@]}" --transfers 8 \
    > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
  read -r rw rrss < "$WORK/t"
  # Both buckets emptied again: moto keeps large objects in files under $WORK.
  rclone purge ":s3:zvm-$r" "${rclone_s3[@]}" >/dev/null 2>&1 || true
  rclone purge ":s3:rclone-$r" "${rclone_s3[@]}" >/dev/null 2>&1 || true
  echo "run $r: zvm ${zw}s ($(echo "scale=1; $total / $zw / 1048576" | bc) MiB/s, peak RSS ${zrss} KiB)  rclone ${rw}s ($(echo "scale=1; $total / $rw / 1048576" | bc) MiB/s, peak RSS ${rrss} KiB)  zvm/rclone throughput $(echo "scale=3; $rw / $zw" | bc)"
  echo "$zw" >> "$WORK/zw"; echo "$rw" >> "$WORK/rw"
done
zm=$(median < "$WORK/zw"); rm_=$(median < "$WORK/rw")
echo "median: zvm ${zm}s, rclone ${rm_}s, zvm/rclone throughput $(echo "scale=3; $rm_ / $zm" | bc)"
if [ -n "$BASE" ]; then
  bm=$(median < "$WORK/basew")
  echo "median: base zvm ${bm}s, base/rclone throughput $(echo "scale=3; $rm_ / $bm" | bc)"
fi
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
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN/zvm" sync "s3://zvm-big/z?endpoint=$S3" --all-users --from 13m \
    --state "$WORK/z.db" -j 8 --plan unlimited --quiet > "$WORK/cmd.log" 2>&1 || { cat "$WORK/cmd.log"; exit 1; }
  read -r bw brss < "$WORK/t"
  rclone purge ":s3:zvm-big/z" "${rclone_s3[@]}" >/dev/null 2>&1 || true
  echo "large run $r: $BIG_FILES x $BIG_SIZE at -j 8: ${bw}s, zvm peak RSS ${brss} KiB ($(( brss / 1024 )) MiB)"
  echo "$brss" >> "$WORK/brss"; echo "$bw" >> "$WORK/bw"
done
echo "large median: $(median < "$WORK/bw")s, zvm peak RSS $(( $(median < "$WORK/brss" | cut -d. -f1) / 1024 )) MiB"
if [ -n "$BASE" ]; then
  echo "large median: base zvm peak RSS $(( $(median < "$WORK/base_brss" | cut -d. -f1) / 1024 )) MiB"
fi
