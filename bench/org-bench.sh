#!/usr/bin/env bash
# Organisation-scale benchmark of issue #14; every figure is measured in this run and printed
# with its ratio to the target.
#  1. An account of 13 users (one deactivated), 300 meetings over 3 years, Pro rate limits,
#     summaries on: `zvm sync --all-users` against a baseline script that does what an admin's
#     40-line script does (account endpoint month by month, each meeting's details for its
#     participant audio, then `aria2c -j 8`). Target: zvm <= 0.95x the baseline's wall time
#     (zvm also fetches the summaries) and <= 1.1x the rate-limit floor of its own requests.
#     Runs alternate baseline and zvm so both see the same machine.
#  2. A re-run of that sync with nothing new: wall time (target < 1 s), requests by route,
#     downloads (target 0).
#  3. Listing 1,000 users x 6 years: the account strategy under Pro limits (requests, wall,
#     ratio to its floor; target <= 1.1x), and the per-user strategy (the simulator refuses
#     the account endpoint) without rate limits, to count its requests: its wall at Pro is
#     those requests at 20 a second, which this script states as a floor rather than waiting
#     an hour for it.
# Usage: bench/org-bench.sh [runs, default 3]   Environment: PARTS (123).
source "$(dirname "$0")/common.sh"
RUNS=${1:-3}
PARTS=${PARTS:-123}
command -v aria2c >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends aria2; }
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
command -v bc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc; }
[ -n "${NO_BUILD:-}" ] || build_release
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
ratio() { echo "$1 / $2" | bc -l; }
stats() { curl -s "$CONTROL/stats" > "$1"; }
END=$(date -u +%F)

# The account of part 1 (the shape the issue measured against an independent fake).
cat > "$WORK/org.toml" <<EOF
preset = "test"
seed = 14
plan = "pro"
[account]
active_users = 12
inactive_users = 1
pending_users = 0
meetings = 300
years = 3
end_date = "$END"
mp4_size = [60_000, 400_000]
small_size = [1_000, 16_000]
processing_fraction = 0.0
in_progress_fraction = 0.0
summary_fraction = 0.2
participant_audio_fraction = 0.3
[rate_limits]
enabled = true
EOF

# The baseline: list the account month by month, ask each meeting for its participant audio,
# download everything with aria2c -j 8. Prints "listing_seconds files bytes".
cat > "$WORK/baseline.py" <<'EOF'
import base64, calendar, datetime, json, os, sys, time, urllib.error, urllib.parse, urllib.request
api, oauth, out, frm, to = os.environ["ZVM_API_BASE"], os.environ["ZVM_OAUTH_BASE"], sys.argv[1], sys.argv[2], sys.argv[3]
basic = base64.b64encode(f'{os.environ["ZOOM_CLIENT_ID"]}:{os.environ["ZOOM_CLIENT_SECRET"]}'.encode()).decode()
req = urllib.request.Request(f'{oauth}/oauth/token?grant_type=account_credentials&account_id={os.environ["ZOOM_ACCOUNT_ID"]}', method="POST", headers={"Authorization": "Basic " + basic})
token = json.load(urllib.request.urlopen(req))["access_token"]
def get(path):
    while True:
        try:
            return json.load(urllib.request.urlopen(urllib.request.Request(api + path, headers={"Authorization": "Bearer " + token})))
        except urllib.error.HTTPError as e:
            if e.code == 429 or e.code >= 500:
                time.sleep(0.2); continue
            raise
def minus_month(d):
    y, m = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    return datetime.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))
t0 = time.monotonic()
lo, hi, meetings = datetime.date.fromisoformat(frm), datetime.date.fromisoformat(to), []
while hi >= lo:
    w_from, page = max(lo, minus_month(hi)), ""
    while True:
        r = get(f"/accounts/me/recordings?from={w_from}&to={hi}&page_size=300&next_page_token={page}")
        meetings += r["meetings"]; page = r.get("next_page_token", "")
        if not page: break
    hi = w_from - datetime.timedelta(days=1)
lines, n, size = [], 0, 0
for m in meetings:
    uuid = urllib.parse.quote(urllib.parse.quote(m["uuid"], safe=""), safe="")
    d = get(f"/meetings/{uuid}/recordings")
    for f in d.get("recording_files", []) + d.get("participant_audio_files", []):
        if f.get("status", "completed") != "completed" or not f.get("download_url"): continue
        n += 1; size += f.get("file_size", 0)
        lines.append(f'{f["download_url"]}\n  out={m["id"]}/{f["id"]}.{f.get("file_extension","bin").lower()}\n  header=Authorization: Bearer {token}\n')
listed = time.monotonic() - t0
open(os.path.join(out, "aria2.txt"), "w").writelines(lines)
print(f"{listed:.3f} {n} {size}")
EOF

if [[ $PARTS == *1* || $PARTS == *2* ]]; then
start_sim --scenario "$WORK/org.toml"
curl -s "$CONTROL/manifest" > "$WORK/manifest.json"
FROM=$(date -u -d "$END - 3 years" +%F)
read -r MEETINGS FILES BYTES SUMMARIES < <(python3 - "$WORK/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
files = [f for mt in m["meetings"] for f in mt["files"] + mt["participant_audio"] if f["status"] == "completed"]
print(len(m["meetings"]), len(files), sum(f["size"] for f in files), sum(1 for mt in m["meetings"] if mt.get("has_summary")))
EOF
)
echo "== account: $MEETINGS meetings, $FILES files, $((BYTES / 1000000)) MB, $SUMMARIES summaries; Pro limits; $FROM..$END"
# by_route A B ROUTE...: requests to ROUTEs between two stats snapshots.
by_route() {
  python3 - "$@" <<'EOF'
import json, sys
a, b = (json.load(open(p))["requests"] for p in sys.argv[1:3])
out = {}
for r in set(a) | set(b):
    n = sum(b.get(r, {}).values()) - sum(a.get(r, {}).values())
    if n: out[r] = n
print(json.dumps(out, sort_keys=True))
EOF
}
SYNC=("$BIN/zvm" sync "$WORK/zvm" --all-users --from "$FROM" --to "$END" --plan pro --state "$WORK/zvm.db" --quiet)
bw=(); bl=(); zw=(); zf=(); rw=(); rr=()
for r in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/base" "$WORK/zvm" "$WORK/zvm.db"*; mkdir -p "$WORK/base"
  t0=$(date +%s.%N)
  read -r listed n _ < <(python3 "$WORK/baseline.py" "$WORK/base" "$FROM" "$END")
  aria2c -q -j 8 -x 1 --file-allocation=none --summary-interval=0 --auto-file-renaming=false --allow-overwrite=true -d "$WORK/base" -i "$WORK/base/aria2.txt"
  b=$(echo "$(date +%s.%N) - $t0" | bc -l)
  got=$(find "$WORK/base" -type f ! -name aria2.txt | wc -l)
  [ "$got" = "$n" ] || { echo "baseline fetched $got of $n files"; exit 1; }
  stats "$WORK/s0.json"
  t0=$(date +%s.%N)
  "${SYNC[@]}"
  z=$(echo "$(date +%s.%N) - $t0" | bc -l)
  stats "$WORK/s1.json"
  by_route "$WORK/s0.json" "$WORK/s1.json" > "$WORK/routes1.json"
  # zvm's floor: each rate-limit category is its own bucket, so the floor is the slowest one.
  fl=$(python3 - "$WORK/routes1.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
light = sum(v for k, v in r.items() if k.startswith("GET /v2/meetings/{uuid}") or k == "GET /v2/users/{id}")
medium = sum(v for k, v in r.items() if k in ("GET /v2/users", "GET /v2/users/{id}/recordings", "GET /v2/accounts/{id}/recordings", "GET /v2/meetings/meeting_summaries"))
print(max(light / 30, medium / 20))
EOF
)
  # Part 2: the same sync again, nothing new.
  stats "$WORK/s2.json"
  t0=$(date +%s.%N)
  "${SYNC[@]}"
  re=$(echo "$(date +%s.%N) - $t0" | bc -l)
  stats "$WORK/s3.json"
  by_route "$WORK/s2.json" "$WORK/s3.json" > "$WORK/routes2.json"
  reqs=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1])).values()))' "$WORK/routes2.json")
  bw+=("$b"); bl+=("$listed"); zw+=("$z"); zf+=("$(ratio "$z" "$fl")"); rw+=("$re"); rr+=("$reqs")
  printf '  run %d: baseline %.2f s (listing %.2f s), zvm %.2f s (%.3fx its floor %.2f s), re-run %.3f s with %d requests\n' \
    "$r" "$b" "$listed" "$z" "$(ratio "$z" "$fl")" "$fl" "$re" "$reqs"
  echo "    zvm requests: $(cat "$WORK/routes1.json")"
  echo "    re-run requests: $(cat "$WORK/routes2.json")"
done
B=$(printf '%s\n' "${bw[@]}" | median); Z=$(printf '%s\n' "${zw[@]}" | median)
printf '  baseline wall (median)  %6.2f s (listing %.2f s)\n' "$B" "$(printf '%s\n' "${bl[@]}" | median)"
printf '  zvm wall (median)       %6.2f s   %.3f x baseline     target <= 0.95\n' "$Z" "$(ratio "$Z" "$B")"
printf '  zvm / its floor (median) %.3f                        target <= 1.1\n' "$(printf '%s\n' "${zf[@]}" | median)"
printf '  no-op re-run (median)   %6.3f s, %d requests (median) target < 1 s\n' "$(printf '%s\n' "${rw[@]}" | median)" "$(printf '%s\n' "${rr[@]}" | median)"
stop_sim
fi

if [[ $PARTS == *3* ]]; then
YEARS=6
FROM=$(date -u -d "$END - $YEARS years" +%F)
echo "== listing 1,000 users x $YEARS years ($FROM..$END)"
big_toml() {
  cat <<EOF
preset = "big"
plan = "pro"
[access]
account_listing = "$1"
[account]
active_users = 990
inactive_users = 10
pending_users = 0
meetings = 20000
years = $YEARS
end_date = "$END"
files_per_meeting = 1
file_size = 1000
[rate_limits]
enabled = $2
EOF
}
big_toml allowed true > "$WORK/acct.toml"
start_sim --scenario "$WORK/acct.toml"
walls=(); reqs=(); fls=()
for r in $(seq 1 "$RUNS"); do
  stats "$WORK/s0.json"
  t0=$(date +%s.%N)
  "$BIN/zvm" list --all-users --from "$FROM" --to "$END" --plan pro --json > "$WORK/list.json"
  w=$(echo "$(date +%s.%N) - $t0" | bc -l)
  stats "$WORK/s1.json"
  n=$(python3 -c 'import json,sys; a,b=(json.load(open(p))["requests"] for p in sys.argv[1:3]); print(sum(sum(b.get(k,{}).values())-sum(a.get(k,{}).values()) for k in set(a)|set(b) if "token" not in k))' "$WORK/s0.json" "$WORK/s1.json")
  fl=$(ratio "$n" 20)
  walls+=("$w"); reqs+=("$n"); fls+=("$fl")
  printf '  account strategy run %d: %d requests, %.2f s, %.3f x floor (%.2f s), %d meetings\n' "$r" "$n" "$w" "$(ratio "$w" "$fl")" "$fl" "$(wc -l < "$WORK/list.json")"
done
W=$(printf '%s\n' "${walls[@]}" | median); F=$(printf '%s\n' "${fls[@]}" | median)
printf '  account strategy (median) %6.2f s  %.3f x floor  target <= 1.1\n' "$W" "$(ratio "$W" "$F")"
stop_sim
big_toml scope_4711 false > "$WORK/users.toml"
start_sim --scenario "$WORK/users.toml"
stats "$WORK/s0.json"
t0=$(date +%s.%N)
"$BIN/zvm" list --all-users --from "$FROM" --to "$END" --plan unlimited --json > "$WORK/list2.json"
w=$(echo "$(date +%s.%N) - $t0" | bc -l)
stats "$WORK/s1.json"
n=$(python3 -c 'import json,sys; a,b=(json.load(open(p))["requests"] for p in sys.argv[1:3]); print(sum(sum(b.get(k,{}).values())-sum(a.get(k,{}).values()) for k in set(a)|set(b) if "token" not in k))' "$WORK/s0.json" "$WORK/s1.json")
printf '  per-user strategy: %d requests (%.2f s without limits); at Pro'"'"'s 20 a second its floor is %.0f s, %.1fx the account strategy'"'"'s wall\n' \
  "$n" "$w" "$(ratio "$n" 20)" "$(ratio "$(ratio "$n" 20)" "$W")"
[ "$(wc -l < "$WORK/list2.json")" = "$(wc -l < "$WORK/list.json")" ] || echo "  !! the two strategies listed different numbers of meetings"
stop_sim
fi
