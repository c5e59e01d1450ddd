#!/usr/bin/env bash
# The listing, re-sync and start-up benchmark of the performance issue (#5); every figure is
# measured in this run and printed with its ratio to the target.
#  1. `zvm list --all-users` of MEETINGS meetings over YEARS years, under the simulator's
#     per-second rate limits for PLAN (zvm's pacer sized by the same --plan):
#       requests against the floor (one-month windows per user x pages of 300, plus the user
#       list), share answered 429 (< 1%), wall time against the floor the rate limit sets
#       (floor requests / Medium per second; target 1.1x), peak RSS (target 128 MiB).
#  2. A re-sync of FILES already-verified files (no rate limits, no latency): wall time of
#     the second `zvm sync` (target < 1 s) and download requests it made (target 0).
#  3. `zvm --version`: median of 100 runs against /bin/true in the same loop (target < 5 ms).
# Usage: bench/listing-bench.sh [runs, default 3]
# Environment: MEETINGS (100000), YEARS (10), PLAN (pro), FILES (10000), PARTS (123).
source "$(dirname "$0")/common.sh"
RUNS=${1:-3}
MEETINGS=${MEETINGS:-100000}
YEARS=${YEARS:-10}
PLAN=${PLAN:-pro}
FILES=${FILES:-10000}
PARTS=${PARTS:-123}
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
command -v bc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc; }
build_release
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"

# timed OUT CMD...: runs CMD under /usr/bin/time; OUT gets "wall user sys maxrss_kib".
timed() {
  local out=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" > "$WORK/cmd.log" 2> "$WORK/cmd.err" || {
    tail -5 "$WORK/cmd.err"; return 1; }
}
stats() { curl -s "$CONTROL/stats" > "$1"; }
ratio() { echo "$1 / $2" | bc -l; }

if [[ $PARTS == *1* ]]; then
echo "== 1. zvm list --all-users: $MEETINGS meetings over $YEARS years, plan $PLAN, $RUNS runs"
TO=$(date -u +%F)
FROM=$(date -u -d "$TO - $((YEARS * 365)) days" +%F)
T0=$(date +%s.%N)
start_sim --meetings "$MEETINGS" --years "$YEARS" --plan "$PLAN"
printf '  simulator generated and serving in %.2f s (%s)\n' "$(echo "$(date +%s.%N) - $T0" | bc -l)" "$(grep '^ACCOUNT' "$WORK/sim.out")"
curl -s "$CONTROL/manifest" > "$WORK/manifest.json"
# The floor, from the manifest alone: every active and inactive user, every one-month window
# of [FROM, TO] walked back from TO, max(1, ceil(n / 300)) pages per window, plus the pages of
# users of each status. A one-month window is what Zoom answers without narrowing it
# (zoom-api.md §2: "the month that ends at `to`"): from = to - 1 month, the day clamped to
# the month's end; the next window ends the day before.
read -r FLOOR WINDOWS USERS PER_SEC < <(python3 - "$WORK/manifest.json" "$FROM" "$TO" "$PLAN" <<'EOF'
import json, sys, datetime, calendar, collections
m = json.load(open(sys.argv[1]))
lo = datetime.date.fromisoformat(sys.argv[2]); hi = datetime.date.fromisoformat(sys.argv[3])
per_sec = {"free": 2, "pro": 20, "business": 60}[sys.argv[4]]
def minus_month(d):
    y, mo = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    return datetime.date(y, mo, min(d.day, calendar.monthrange(y, mo)[1]))
windows, to = [], hi
while to >= lo:
    frm = max(lo, minus_month(to))
    windows.append((frm, to)); to = frm - datetime.timedelta(days=1)
users = [u for u in m["users"] if u["status"] in ("active", "inactive") and u["id"]]
by_user = collections.defaultdict(list)
for mt in m["meetings"]:
    if any(f["cloud"] == "present" for f in mt["files"]):
        by_user[mt["host_id"]].append(datetime.date.fromisoformat(mt["start_time"][:10]))
pages = 0
for u in users:
    days = sorted(by_user[u["id"]])
    import bisect
    for frm, to in windows:
        n = bisect.bisect_right(days, to) - bisect.bisect_left(days, frm)
        pages += max(1, -(-n // 300))
statuses = {u["status"] for u in users}
user_pages = sum(max(1, -(-sum(1 for u in m["users"] if u["status"] == s) // 300)) for s in ("active", "inactive"))
print(pages + user_pages, len(windows), len(users), per_sec)
EOF
)
FLOOR_WALL=$(ratio "$FLOOR" "$PER_SEC")
echo "  floor: $USERS users x $WINDOWS windows -> $FLOOR requests (Medium); at $PER_SEC/s: $(printf %.2f "$FLOOR_WALL") s"
walls=(); reqs=(); r429=(); rss=()
for r in $(seq 1 "$RUNS"); do
  stats "$WORK/s0.json"
  timed "$WORK/t.list" "$BIN/zvm" list --all-users --from "$FROM" --to "$TO" --plan "$PLAN" --json
  stats "$WORK/s1.json"
  read -r w _ _ m < "$WORK/t.list"
  n=$(wc -l < "$WORK/cmd.log")
  read -r total lim < <(python3 - "$WORK/s0.json" "$WORK/s1.json" <<'EOF'
import json, sys
a, b = (json.load(open(p))["requests"] for p in sys.argv[1:3])
routes = ("GET /v2/users", "GET /v2/users/{id}/recordings")
def count(s, r, st=None):
    return sum(v for k, v in s.get(r, {}).items() if st is None or k == str(st))
print(sum(count(b, r) - count(a, r) for r in routes), sum(count(b, r, 429) - count(a, r, 429) for r in routes))
EOF
)
  walls+=("$w"); reqs+=("$total"); r429+=("$lim"); rss+=("$m")
  printf '  run %d: %d meetings listed, %d requests (%d answered 429), %.2f s, peak RSS %d MiB\n' "$r" "$n" "$total" "$lim" "$w" "$((m / 1024))"
done
W=$(printf '%s\n' "${walls[@]}" | median)
REQ=$(printf '%s\n' "${reqs[@]}" | median)
L429=$(printf '%s\n' "${r429[@]}" | sort -g | tail -1)
RSS=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
printf '  requests (median)   %6d   %.3f x floor (%d)      target 1.000\n' "$REQ" "$(ratio "$REQ" "$FLOOR")" "$FLOOR"
printf '  answered 429 (max)  %6d   %.2f %% of requests       target < 1 %%\n' "$L429" "$(echo "100 * $L429 / $REQ" | bc -l)"
printf '  wall (median)      %6.2f s  %.3f x floor (%.2f s)  target <= 1.1\n' "$W" "$(ratio "$W" "$FLOOR_WALL")" "$FLOOR_WALL"
printf '  peak RSS (max)     %6d MiB  %.3f x 128 MiB        target <= 1\n' "$((RSS / 1024))" "$(ratio "$RSS" $((128 * 1024)))"
stop_sim
fi

if [[ $PARTS == *2* ]]; then
echo "== 2. re-sync of $FILES verified files (no rate limits, no latency), $RUNS runs"
start_sim --preset big --meetings "$FILES" --files-per-meeting 1 --file-size 1KiB --no-rate-limits --years 1
SYNC=("$BIN/zvm" sync "$WORK/r" --all-users --from 13m --state "$WORK/r.db" --plan unlimited --quiet -j 8)
timed "$WORK/t.first" "${SYNC[@]}"
read -r w _ _ _ < "$WORK/t.first"
got=$(find "$WORK/r" -name '*.mp4' | wc -l)
[ "$got" = "$FILES" ] || { echo "the first sync fetched $got of $FILES files"; exit 1; }
printf '  first sync: %d files in %.2f s\n' "$got" "$w"
walls=(); dls=(); lists=()
for r in $(seq 1 "$RUNS"); do
  stats "$WORK/s0.json"
  timed "$WORK/t.re" "${SYNC[@]}"
  stats "$WORK/s1.json"
  read -r w _ _ _ < "$WORK/t.re"
  # Download requests: to the web URL (every download starts there) and to the CDN.
  read -r dl cdn < <(python3 -c 'import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:3]); w=lambda s: sum(s["requests"].get("GET /rec/download/{id}",{}).values()); print(w(b)-w(a), sum(b["downloads"].values())-sum(a["downloads"].values()))' "$WORK/s0.json" "$WORK/s1.json")
  dl=$((dl + cdn))
  # The listing alone (same windows, no state, no destination), to split the re-sync.
  timed "$WORK/t.l" "$BIN/zvm" list --all-users --from 13m --plan unlimited --json
  read -r lw _ _ _ < "$WORK/t.l"
  walls+=("$w"); dls+=("$dl"); lists+=("$lw")
  printf '  run %d: re-sync %.3f s, download requests %d; zvm list alone %.3f s\n' "$r" "$w" "$dl" "$lw"
done
W=$(printf '%s\n' "${walls[@]}" | median)
LW=$(printf '%s\n' "${lists[@]}" | median)
DL=$(printf '%s\n' "${dls[@]}" | sort -g | tail -1)
printf '  re-sync wall (median)          %6.3f s   %.3f x 1 s   target < 1\n' "$W" "$W"
printf '  of which after listing (median) %6.3f s   (re-sync minus zvm list alone)\n' "$(echo "$W - $LW" | bc -l)"
printf '  download requests (max)        %6d     target 0\n' "$DL"
stop_sim
fi

if [[ $PARTS == *3* ]]; then
echo "== 3. zvm --version, 100 runs (each loop alternates zvm and /bin/true)"
# posix_spawn + waitpid: the loop's own cost is what /bin/true takes (subprocess.run adds ~3 ms).
python3 - "$BIN/zvm" <<'EOF'
import os, sys, time, statistics
zvm = sys.argv[1]
null = os.open(os.devnull, os.O_WRONLY)
def run(argv):
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
    _, status = os.waitpid(pid, 0)
    assert status == 0, argv
    return time.perf_counter() - t
z, t = [], []
for _ in range(100):
    z.append(run([zvm, "--version"])); t.append(run(["/bin/true"]))
zm, tm = statistics.median(z) * 1000, statistics.median(t) * 1000
print(f"  zvm --version (median) {zm:6.2f} ms   {zm / 5:.3f} x 5 ms   target < 1")
print(f"  /bin/true     (median) {tm:6.2f} ms   zvm - true = {zm - tm:.2f} ms, zvm / true = {zm / tm:.2f}")
EOF
fi
