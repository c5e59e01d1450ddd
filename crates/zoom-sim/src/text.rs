//! The text a meeting's transcript, closed captions and chat hold: real WebVTT and Zoom's
//! chat format, in English or Japanese, computed from the file's key like every other file
//! (no disk, any offset), so an archive can be searched as a user's would be.
//!
//! A text file's key carries what it is: bit 63 marks text, bits 60..62 its kind and bit 59
//! Japanese; the rest seeds the cues. [`crate::content::fill`] serves such a key from
//! [`document`], and the listing's `file_size` is the document's length. Tests read the
//! cues back with [`cues`] to know what a search must find, and at which offset.

const TEXT: u64 = 1 << 63;

/// A binary file's key from a random number: bit 63 clear, so it never reads as text.
pub fn binary_key(raw: u64) -> u64 {
    raw & !TEXT
}
const KIND_SHIFT: u32 = 60;
const KIND_MASK: u64 = 0b111 << KIND_SHIFT;
const JAPANESE: u64 = 1 << 59;
const SEED_MASK: u64 = JAPANESE - 1;

/// What a text file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// `audio_transcript`, WebVTT with the speaker before each line.
    Transcript,
    /// `closed_caption`, WebVTT.
    Captions,
    /// `chat_file`, Zoom's text chat export.
    Chat,
}

impl TextKind {
    fn of_file_type(file_type: &str) -> Option<TextKind> {
        match file_type {
            "TRANSCRIPT" => Some(TextKind::Transcript),
            "CC" => Some(TextKind::Captions),
            "CHAT" => Some(TextKind::Chat),
            _ => None,
        }
    }

    fn code(self) -> u64 {
        match self {
            TextKind::Transcript => 1,
            TextKind::Captions => 2,
            TextKind::Chat => 3,
        }
    }

    fn from_code(c: u64) -> Option<TextKind> {
        match c {
            1 => Some(TextKind::Transcript),
            2 => Some(TextKind::Captions),
            3 => Some(TextKind::Chat),
            _ => None,
        }
    }
}

/// One line said (or typed) in a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    /// Milliseconds from the start of the recording.
    pub start_ms: u64,
    pub end_ms: u64,
    pub speaker: String,
    pub text: String,
}

/// Whether a topic is a Japanese one (its meeting is held in Japanese).
pub fn is_japanese(topic: &str) -> bool {
    topic.chars().any(|c| {
        matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
    })
}

/// A transcript's, captions' or chat's key and size as a text file of a meeting with this
/// topic (its key says what it is, its size is its document's length); `None` for other
/// file types, which stay binary.
pub fn as_text(file_type: &str, key: u64, topic: &str) -> Option<(u64, u64)> {
    let kind = TextKind::of_file_type(file_type)?;
    let lang = if is_japanese(topic) { JAPANESE } else { 0 };
    let key = TEXT | (kind.code() << KIND_SHIFT) | lang | (key & SEED_MASK);
    Some((key, document(key).map_or(0, |d| d.len() as u64)))
}

/// The kind of a text key, or `None` for a binary file's key.
pub fn kind_of(key: u64) -> Option<TextKind> {
    if key & TEXT == 0 {
        return None;
    }
    TextKind::from_code((key & KIND_MASK) >> KIND_SHIFT)
}

const SPEAKERS_EN: &[&str] = &["Aiko Tanaka", "Ben Smith", "Chloé Dubois", "Grace Jones"];
const SPEAKERS_JA: &[&str] = &["田中 愛子", "佐藤 大地", "鈴木 花子", "高橋 健"];

const OPENERS_EN: &[&str] = &[
    "Let's look at",
    "Today we discuss",
    "Can someone explain",
    "I have a question about",
    "Remember to review",
    "The homework covers",
    "We ran out of time on",
    "Next week we start",
];
/// Subjects of the simulator's meetings; each cue names one, so searches have something
/// specific to find.
pub const SUBJECTS_EN: &[&str] = &[
    "the quadratic formula",
    "photosynthesis in leaves",
    "the quarterly budget",
    "the French Revolution",
    "supply and demand",
    "the project timeline",
    "plate tectonics",
    "the marketing plan",
    "Newton's second law",
    "the hiring pipeline",
    "prime factorisation",
    "the onboarding checklist",
];
const OPENERS_JA: &[&str] = &[
    "今日は",
    "来週は",
    "宿題では",
    "質問ですが、",
    "もう一度確認すると、",
    "次回までに",
];
const ENDINGS_JA: &[&str] = &[
    "について考えます。",
    "を復習してください。",
    "が大切です。",
    "の説明をお願いします。",
];
/// The Japanese subjects, in the order of [`SUBJECTS_EN`].
pub const SUBJECTS_JA: &[&str] = &[
    "二次方程式の解の公式",
    "葉の光合成",
    "四半期の予算",
    "フランス革命",
    "需要と供給",
    "プロジェクトの日程",
    "プレートテクトニクス",
    "マーケティング計画",
    "ニュートンの第二法則",
    "採用の流れ",
    "素因数分解",
    "新人研修のチェックリスト",
];

/// splitmix64: the cues' dice (cheap, and the same on every machine).
fn next(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn pick<'a>(s: &mut u64, from: &[&'a str]) -> &'a str {
    from[(next(s) % from.len() as u64) as usize]
}

/// The cues of a text file, in order; empty for a binary file's key.
pub fn cues(key: u64) -> Vec<Cue> {
    if kind_of(key).is_none() {
        return Vec::new();
    }
    let japanese = key & JAPANESE != 0;
    let mut s = key & SEED_MASK;
    let n = 12 + next(&mut s) % 40;
    let mut at = 1_000 + next(&mut s) % 5_000;
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (speaker, text) = if japanese {
            let subject = pick(&mut s, SUBJECTS_JA);
            let text = format!(
                "{}{}{}",
                pick(&mut s, OPENERS_JA),
                subject,
                pick(&mut s, ENDINGS_JA)
            );
            (pick(&mut s, SPEAKERS_JA), text)
        } else {
            let text = format!(
                "{} {}.",
                pick(&mut s, OPENERS_EN),
                pick(&mut s, SUBJECTS_EN)
            );
            (pick(&mut s, SPEAKERS_EN), text)
        };
        let len = 1_500 + next(&mut s) % 6_000;
        out.push(Cue {
            start_ms: at,
            end_ms: at + len,
            speaker: speaker.to_string(),
            text,
        });
        at += len + next(&mut s) % 4_000;
    }
    out
}

/// `HH:MM:SS.mmm`, WebVTT's timestamp.
fn vtt_time(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1_000 % 60,
        ms % 1_000
    )
}

/// The whole file, or `None` for a binary file's key.
pub fn document(key: u64) -> Option<Vec<u8>> {
    let kind = kind_of(key)?;
    let mut out = String::new();
    match kind {
        TextKind::Transcript | TextKind::Captions => {
            out.push_str("WEBVTT\n");
            for (i, c) in cues(key).iter().enumerate() {
                out.push_str(&format!(
                    "\n{}\n{} --> {}\n{}: {}\n",
                    i + 1,
                    vtt_time(c.start_ms),
                    vtt_time(c.end_ms),
                    c.speaker,
                    c.text
                ));
            }
        }
        TextKind::Chat => {
            // Zoom's chat export: the time from the start of the recording, who to whom,
            // then the message on its own tab-indented line.
            for c in cues(key) {
                let t = c.start_ms / 1_000;
                out.push_str(&format!(
                    "{:02}:{:02}:{:02} From {} to Everyone:\n\t{}\n",
                    t / 3_600,
                    t / 60 % 60,
                    t % 60,
                    c.speaker,
                    c.text
                ));
            }
        }
    }
    Some(out.into_bytes())
}

/// The subject a meeting's AI Companion summary is about, in its language.
pub fn summary_subject(meeting_id: i64, topic: &str) -> &'static str {
    let i = (meeting_id.unsigned_abs() % SUBJECTS_EN.len() as u64) as usize;
    if is_japanese(topic) {
        SUBJECTS_JA[i]
    } else {
        SUBJECTS_EN[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_is_webvtt_of_its_cues_and_its_size_is_its_length() {
        let (key, size) = as_text("TRANSCRIPT", 0x1234_5678, "Math 101 — Lecture").unwrap();
        let doc = String::from_utf8(document(key).unwrap()).unwrap();
        assert_eq!(size, doc.len() as u64);
        assert!(doc.starts_with("WEBVTT\n\n1\n00:00:0"), "{doc}");
        let cues = cues(key);
        assert!(cues.len() >= 12);
        for c in &cues {
            assert!(!is_japanese(&c.text), "{}", c.text);
            assert!(doc.contains(&format!("{}: {}", c.speaker, c.text)));
            assert!(doc.contains(&vtt_time(c.start_ms)));
        }
        assert!(cues.windows(2).all(|w| w[0].end_ms <= w[1].start_ms));
    }

    #[test]
    fn a_japanese_topic_gets_japanese_text_and_a_chat_gets_zooms_format() {
        let (key, _) = as_text("CHAT", 99, "数学Ⅱ 第3回 授業").unwrap();
        let doc = String::from_utf8(document(key).unwrap()).unwrap();
        let first = &cues(key)[0];
        assert!(is_japanese(&first.text), "{}", first.text);
        let t = first.start_ms / 1000;
        let head = format!(
            "{:02}:{:02}:{:02} From {} to Everyone:\n\t{}\n",
            t / 3600,
            t / 60 % 60,
            t % 60,
            first.speaker,
            first.text
        );
        assert!(doc.starts_with(&head), "{doc}");
    }

    #[test]
    fn recordings_stay_binary_whatever_their_random_key() {
        assert!(as_text("MP4", 5, "定例会議").is_none());
        let key = binary_key(u64::MAX);
        assert!(kind_of(key).is_none());
        assert!(document(key).is_none());
        assert!(cues(key).is_empty());
    }
}
