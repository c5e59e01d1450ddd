#!/usr/bin/env bash
# What zstd would save on each file type of a Zoom account (issue #15: the seed's compression
# stage), measured with the `zstd` CLI at level 3 (its default) and 19, single-threaded.
#  A. Simulator-shaped: one file of each type from `zoom-sim --preset demo`. The simulator's
#     bytes are a pseudo-random stream for every type, so this row says what the simulator
#     is, not what Zoom's files are.
#  B. Realistic: media encoded by ffmpeg as Zoom encodes it (H.264 + AAC in MP4, AAC in M4A;
#     the picture is ffmpeg's moving test pattern with camera-like noise, the sound a tone
#     with noise), a real JPEG for the thumbnail, and text in Zoom's formats (WebVTT transcript
#     and captions, the chat log, the timeline and chat-message JSON) filled with real English
#     prose (sentences of the Rust book shipped with the toolchain, standing in for speech).
#  C. A one-hour meeting: the byte share of each type at the sizes a one-hour recording has
#     (bitrates below), with the savings of B.
# Usage: bench/zstd-bench.sh. Needs ffmpeg and zstd (installed if missing).
source "$(dirname "$0")/common.sh"
command -v zstd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zstd; }
command -v ffmpeg >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg; }
build_release
D="$WORK/files"; mkdir -p "$D/sim" "$D/real"

# row NAME FILE: size, zstd -3 and -19 sizes, saving, and -3's speed.
row() {
  local name=$1 f=$2 n z3 z19 t0 t1
  n=$(stat -c %s "$f")
  t0=$(date +%s.%N); zstd -q -3 -T1 -c "$f" > "$f.z3"; t1=$(date +%s.%N)
  zstd -q -19 -T1 -c "$f" > "$f.z19"
  z3=$(stat -c %s "$f.z3"); z19=$(stat -c %s "$f.z19")
  printf '  %-26s %11d B  zstd-3 %11d B (saves %5.1f %%, %6.0f MB/s)  zstd-19 %11d B (saves %5.1f %%)\n' \
    "$name" "$n" "$z3" "$(echo "100 * (1 - $z3 / $n)" | bc -l)" "$(echo "$n / 1000000 / ($t1 - $t0)" | bc -l)" \
    "$z19" "$(echo "100 * (1 - $z19 / $n)" | bc -l)"
  echo "$name $n $z3" >> "$D/savings.txt"
}

echo "== A. simulator-shaped (zoom-sim --preset demo), one file of each type"
start_sim --preset demo --no-rate-limits
TOK=$(sim_token)
curl -s "$CONTROL/manifest" | python3 -c '
import json, sys, os
m = json.load(sys.stdin)
seen = {}
for mt in m["meetings"]:
    for f in mt["files"]:
        key = f["file_type"] + "." + f["file_extension"].lower()
        if f["status"] == "completed" and key not in seen and f["size"] > 0:
            seen[key] = f["id"]
for key, fid in sorted(seen.items()):
    print(key, os.environ["ZVM_OAUTH_BASE"] + "/rec/download/" + fid)' > "$WORK/typed-urls.txt"
while read -r name url; do
  curl -s -L -H "Authorization: Bearer $TOK" -o "$D/sim/$name" "$url"
  row "sim $name" "$D/sim/$name"
done < "$WORK/typed-urls.txt"
stop_sim
: > "$D/savings.txt"

echo "== B. realistic content"
# One minute of 1280x720 H.264 at 25 fps, ~1 Mbit/s, with AAC audio: Zoom's recording format.
ffmpeg -loglevel error -f lavfi -i "testsrc2=size=1280x720:rate=25,noise=alls=12:allf=t" \
  -f lavfi -i "sine=frequency=220:sample_rate=32000" -f lavfi -i "anoisesrc=color=pink:amplitude=0.05:sample_rate=32000" \
  -filter_complex "[1][2]amix=inputs=2[a]" -map 0:v -map "[a]" -t 60 \
  -c:v libx264 -preset veryfast -b:v 1000k -c:a aac -b:a 64k "$D/real/MP4.mp4"
ffmpeg -loglevel error -f lavfi -i "sine=frequency=220:sample_rate=32000" -f lavfi -i "anoisesrc=color=pink:amplitude=0.05:sample_rate=32000" \
  -filter_complex "[0][1]amix=inputs=2" -t 60 -c:a aac -b:a 64k "$D/real/M4A.m4a"
JPG=$(find "${RUSTUP_HOME:-$HOME/.rustup}" -name '*.jpg' -size +50k 2>/dev/null | head -1)
[ -n "$JPG" ] && cp "$JPG" "$D/real/TB.jpg"
BOOK=$(find "${RUSTUP_HOME:-$HOME/.rustup}" -path '*html/book/ch*.html' 2>/dev/null | sort | head -40)
[ -n "$BOOK" ] || { echo "no English prose found (the Rust book of the toolchain)"; exit 1; }
# shellcheck disable=SC2086
python3 - "$D/real" $BOOK <<'PY'
import html, json, random, re, sys
out, books = sys.argv[1], sys.argv[2:]
text = " ".join(open(b, encoding="utf-8", errors="replace").read() for b in books)
text = re.sub(r"(?s)<(script|style|pre|code)[^>]*>.*?</\1>", " ", text)
text = html.unescape(re.sub(r"<[^>]+>", " ", text))
sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text))
             if 20 <= len(s.strip()) <= 160 and "{" not in s]
rng = random.Random(15)
people = ["Aiko Tanaka", "Ben Smith", "Chloé Dubois", "Daichi Sato", "Eve Jones", "Farid Haddad"]
ids = {p: str(16778240 + 1024 * i) for i, p in enumerate(people)}
def ts(ms, sep="."):
    h, ms = divmod(ms, 3600000); m, ms = divmod(ms, 60000); s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"
# An hour of speech: a cue every 3-6 s, one or two sentences each.
t, cues = 0, []
while t < 3600000:
    d = rng.randint(3000, 6000)
    cues.append((t, t + d, rng.choice(people), " ".join(rng.sample(sentences, rng.randint(1, 2)))))
    t += d
with open(f"{out}/TRANSCRIPT.vtt", "w") as f:
    f.write("WEBVTT\n\n")
    for i, (a, b, who, say) in enumerate(cues, 1):
        f.write(f"{i}\n{ts(a)} --> {ts(b)}\n{who}: {say}\n\n")
with open(f"{out}/CC.vtt", "w") as f:
    f.write("WEBVTT\n\n")
    for i, (a, b, who, say) in enumerate(cues, 1):
        f.write(f"{i}\n{ts(a)} --> {ts(b)}\n{say}\n\n")
with open(f"{out}/CHAT.txt", "w") as f:
    for i in range(120):
        who = rng.choice(people)
        f.write(f"{ts(rng.randint(0, 3599999))[:8]} From {who} to Everyone:\n\t{rng.choice(sentences)}\n")
timeline = {"timeline": []}
for (a, b, who, say) in cues:
    timeline["timeline"].append({"ts": ts(a), "users": [{"username": who, "multiple_people": False,
        "user_id": ids[who], "zoom_userid": f"{ids[who]}_{abs(hash(who)) % 10**9}",
        "email_address": who.split()[0].lower() + "@example.com"}]})
json.dump(timeline, open(f"{out}/TIMELINE.json", "w"), ensure_ascii=False, indent=2)
messages = [{"id": f"{i:08x}-{rng.getrandbits(32):08x}", "sender_name": rng.choice(people),
             "date_time": "2026-05-04T10:" + ts(rng.randint(0, 3599999), "")[3:8].replace(":", ":") + "Z",
             "message": rng.choice(sentences)} for i in range(120)]
json.dump({"messages": messages}, open(f"{out}/CHAT_MESSAGE.json", "w"), ensure_ascii=False)
PY
for f in MP4.mp4 M4A.m4a TB.jpg TRANSCRIPT.vtt CC.vtt CHAT.txt TIMELINE.json CHAT_MESSAGE.json; do
  [ -f "$D/real/$f" ] && row "$f" "$D/real/$f"
done

echo "== C. a one-hour meeting (video at 1 Mbit/s, audio at 64 kbit/s; text as generated in B)"
python3 - "$D" <<'PY'
import os, sys
d = sys.argv[1]
saved = {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in open(f"{d}/savings.txt")}
hour = {"MP4.mp4": 3600 * (1_000_000 + 64_000) // 8, "M4A.m4a": 3600 * 64_000 // 8}
total = zipped = 0
for name, (n, z) in saved.items():
    size = hour.get(name, n)  # media scaled to an hour; text is an hour's already
    total += size; zipped += size * z / n
    print(f"  {name:20s} {size:12d} B  {100 * size / sum(hour.get(k, v[0]) for k, v in saved.items()):7.3f} % of the meeting")
print(f"  the whole meeting: {total} B, zstd -3 would save {total - zipped:.0f} B = {100 * (1 - zipped / total):.3f} %")
PY
