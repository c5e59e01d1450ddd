//! The searchable lines of a copied file, with where each is in the recording: WebVTT
//! transcripts and captions (each cue's start), Zoom's chat export (each message's time),
//! and the AI Companion summary's JSON (its sentences, with no time). Pure: bytes in, lines
//! out; anything it cannot read yields no lines rather than an error, since a damaged or
//! unusual text file must not stop the index of the rest.

/// How a file's text is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// WebVTT: transcripts (`TRANSCRIPT`) and closed captions (`CC`).
    WebVtt,
    /// Zoom's chat export (`CHAT`).
    Chat,
    /// The AI Companion summary as zvm saves it (`summary.json`).
    SummaryJson,
}

impl TextFormat {
    /// The format of a copied file, from its Zoom file type and its name; `None` for files
    /// with nothing to search (video, audio, images, timelines, polls).
    pub fn of(file_type: &str, rel_path: &str) -> Option<TextFormat> {
        match file_type {
            "TRANSCRIPT" | "CC" => Some(TextFormat::WebVtt),
            "CHAT" => Some(TextFormat::Chat),
            _ if rel_path.ends_with("summary.json") => Some(TextFormat::SummaryJson),
            _ => None,
        }
    }

    /// A short name for reports (`transcript` covers captions too).
    pub fn label(self) -> &'static str {
        match self {
            TextFormat::WebVtt => "transcript",
            TextFormat::Chat => "chat",
            TextFormat::SummaryJson => "summary",
        }
    }
}

/// One searchable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Milliseconds from the start of the recording; `None` where the file has no times.
    pub offset_ms: Option<u64>,
    pub text: String,
}

/// The lines of a file's bytes.
pub fn lines(format: TextFormat, bytes: &[u8]) -> Vec<Line> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match format {
        TextFormat::WebVtt => webvtt(text),
        TextFormat::Chat => chat(text),
        TextFormat::SummaryJson => summary(text),
    }
}

/// `HH:MM:SS.mmm` or `MM:SS.mmm` (WebVTT), or `HH:MM:SS` (chat), in milliseconds.
fn timestamp_ms(s: &str) -> Option<u64> {
    let (clock, millis) = match s.split_once('.') {
        Some((c, m)) if m.len() == 3 && m.bytes().all(|b| b.is_ascii_digit()) => {
            (c, m.parse::<u64>().ok()?)
        }
        Some(_) => return None,
        None => (s, 0),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut secs = 0u64;
    for p in &parts {
        secs = secs.checked_mul(60)?.checked_add(p.parse::<u64>().ok()?)?;
    }
    secs.checked_mul(1000)?.checked_add(millis)
}

/// Each cue's text lines, at the cue's start. Cue numbers, `NOTE`/`STYLE` blocks and the
/// header are not text anyone says.
fn webvtt(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for block in text.split("\n\n").flat_map(|b| b.split("\r\n\r\n")) {
        let mut rows = block.lines().map(str::trim).filter(|l| !l.is_empty());
        let mut at = None;
        for row in rows.by_ref() {
            if let Some((start, _)) = row.split_once("-->") {
                at = timestamp_ms(start.trim());
                break;
            }
        }
        let Some(at) = at else { continue };
        for row in rows {
            out.push(Line {
                offset_ms: Some(at),
                text: row.to_string(),
            });
        }
    }
    out
}

/// Zoom's chat export: a header `HH:MM:SS From NAME to WHOM:` then the message on
/// tab-indented lines; older exports put it on one line, `HH:MM:SS\t From NAME : message`.
/// The line indexed is "NAME: message", so a search by a participant's name finds it too.
fn chat(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut current: Option<(u64, String)> = None;
    for row in text.lines() {
        if let Some(message) = row.strip_prefix('\t') {
            if let Some((at, who)) = &current {
                let message = message.trim();
                if !message.is_empty() {
                    out.push(Line {
                        offset_ms: Some(*at),
                        text: format!("{who}: {message}"),
                    });
                }
            }
            continue;
        }
        let row = row.trim();
        let Some((clock, rest)) = row.split_once(char::is_whitespace) else {
            continue;
        };
        let Some(at) = timestamp_ms(clock) else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix("From ") else {
            continue;
        };
        if let Some(header) = rest.strip_suffix(':') {
            // "NAME to WHOM:" (the message follows on its own lines).
            let who = header
                .rsplit_once(" to ")
                .map_or(header, |(who, _)| who)
                .trim();
            current = Some((at, who.to_string()));
        } else if let Some((who, message)) = rest.split_once(" : ") {
            current = None;
            out.push(Line {
                offset_ms: Some(at),
                text: format!("{}: {}", who.trim(), message.trim()),
            });
        }
    }
    out
}

/// The summary's sentences: overview, each detail ("label: summary"), next steps, and the
/// content's lines (Markdown, without its headings' marks).
fn summary(text: &str) -> Vec<Line> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |s: &str| {
        let s = s.trim().trim_start_matches(['#', '-', '*', ' ']).trim();
        if !s.is_empty() {
            out.push(Line {
                offset_ms: None,
                text: s.to_string(),
            });
        }
    };
    for key in ["summary_title", "summary_overview"] {
        if let Some(s) = v.get(key).and_then(|s| s.as_str()) {
            push(s);
        }
    }
    for d in v
        .get("summary_details")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
    {
        let label = d.get("label").and_then(|s| s.as_str()).unwrap_or_default();
        let said = d
            .get("summary")
            .and_then(|s| s.as_str())
            .unwrap_or_default();
        push(&if label.is_empty() {
            said.to_string()
        } else {
            format!("{label}: {said}")
        });
    }
    for s in v
        .get("next_steps")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
    {
        push(s);
    }
    if let Some(content) = v.get("summary_content").and_then(|s| s.as_str()) {
        content.lines().for_each(&mut push);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_cues_at_their_start() {
        let vtt = "WEBVTT\n\nNOTE a comment\n\n1\n00:01:02.345 --> 00:01:04.000\nAiko: Hello\nsecond line\n\n2\n01:00:00.000 --> 01:00:01.000\n田中: 光合成の話\n";
        assert_eq!(
            lines(TextFormat::WebVtt, vtt.as_bytes()),
            [
                Line {
                    offset_ms: Some(62_345),
                    text: "Aiko: Hello".into()
                },
                Line {
                    offset_ms: Some(62_345),
                    text: "second line".into()
                },
                Line {
                    offset_ms: Some(3_600_000),
                    text: "田中: 光合成の話".into()
                },
            ]
        );
    }

    #[test]
    fn webvtt_with_crlf_and_short_times() {
        let vtt = "\u{feff}WEBVTT\r\n\r\n00:05.000 --> 00:06.000\r\nhi\r\n";
        assert_eq!(
            lines(TextFormat::WebVtt, vtt.as_bytes()),
            [Line {
                offset_ms: Some(5_000),
                text: "hi".into()
            }]
        );
    }

    #[test]
    fn chat_in_both_of_zooms_formats() {
        let chat = "00:02:11 From Aiko Tanaka to Everyone:\n\tCan you share the slides?\n\tthanks\n00:03:00\t From  Ben Smith : old style line\n";
        assert_eq!(
            lines(TextFormat::Chat, chat.as_bytes()),
            [
                Line {
                    offset_ms: Some(131_000),
                    text: "Aiko Tanaka: Can you share the slides?".into()
                },
                Line {
                    offset_ms: Some(131_000),
                    text: "Aiko Tanaka: thanks".into()
                },
                Line {
                    offset_ms: Some(180_000),
                    text: "Ben Smith: old style line".into()
                },
            ]
        );
    }

    #[test]
    fn summary_sentences() {
        let json = serde_json::json!({
            "summary_overview": "We discussed plate tectonics.",
            "summary_details": [{"label": "議題", "summary": "予算の確認"}],
            "next_steps": ["Send the minutes"],
            "summary_content": "## Summary\n\n- Discussed plate tectonics\n"
        })
        .to_string();
        let texts: Vec<String> = lines(TextFormat::SummaryJson, json.as_bytes())
            .into_iter()
            .map(|l| {
                assert_eq!(l.offset_ms, None);
                l.text
            })
            .collect();
        assert_eq!(
            texts,
            [
                "We discussed plate tectonics.",
                "議題: 予算の確認",
                "Send the minutes",
                "Summary",
                "Discussed plate tectonics"
            ]
        );
    }

    #[test]
    fn garbage_gives_no_lines_and_no_panic() {
        for f in [
            TextFormat::WebVtt,
            TextFormat::Chat,
            TextFormat::SummaryJson,
        ] {
            assert!(lines(f, &[0xff, 0x00, 0x80, b'\n', b'\t']).is_empty());
            assert!(lines(f, b"99:99:99.9999 --> x\n\tFrom : \n").is_empty());
        }
    }

    #[test]
    fn formats_by_type_and_name() {
        assert_eq!(
            TextFormat::of("TRANSCRIPT", "a/b.vtt"),
            Some(TextFormat::WebVtt)
        );
        assert_eq!(TextFormat::of("CC", "a/cc.vtt"), Some(TextFormat::WebVtt));
        assert_eq!(TextFormat::of("CHAT", "a/chat.txt"), Some(TextFormat::Chat));
        assert_eq!(
            TextFormat::of("", "a/summary.json"),
            Some(TextFormat::SummaryJson)
        );
        assert_eq!(TextFormat::of("", "a/summary.md"), None);
        assert_eq!(TextFormat::of("MP4", "a/v.mp4"), None);
        assert_eq!(TextFormat::of("TIMELINE", "a/t.json"), None);
    }
}
