//! Safe, stable, collision-free names for recordings on Windows, macOS and Linux.
//!
//! A meeting becomes a folder (`folder_template`) and each of its files a name inside it
//! (`file_template`). Every path component is sanitized: NFC, no characters Windows forbids,
//! no control or bidi-override characters, no reserved device names, no trailing dots or
//! spaces, and at most 255 bytes with headroom for `.part` and a collision suffix. The
//! [`NameAllocator`] then makes names unique (case-insensitively, as Windows and macOS compare
//! them) in a deterministic way.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;

/// Longest component we produce: 255 bytes minus `.part` (5) minus ` (99)` (5).
pub const MAX_COMPONENT_BYTES: usize = 245;

const FOLDER_VARS: &[&str] = &[
    "host",
    "host_email",
    "topic",
    "YYYY",
    "MM",
    "DD",
    "HH",
    "mm",
    "date",
    "time",
    "meeting_id",
    "uuid_short",
];
const FILE_VARS: &[&str] = &[
    "recording_type",
    "file_type",
    "ext",
    "file_id",
    "start_time",
    "participant",
];

pub struct MeetingInfo<'a> {
    pub host: &'a str,
    pub host_email: &'a str,
    pub topic: &'a str,
    pub start_time: jiff::Timestamp,
    pub timezone: &'a str,
    pub meeting_id: i64,
    pub uuid: &'a str,
}

pub struct FileInfo<'a> {
    pub recording_type: &'a str,
    pub file_type: &'a str,
    pub file_extension: &'a str,
    pub file_id: &'a str,
    pub recording_start: Option<jiff::Timestamp>,
    pub participant: Option<&'a str>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("unknown variable {{{name}}} in the {which} template; valid ones: {valid}")]
    UnknownVariable {
        name: String,
        which: &'static str,
        valid: String,
    },
    #[error(
        "unbalanced braces in the {which} template \"{template}\": write variables as {{name}}"
    )]
    Unbalanced {
        which: &'static str,
        template: String,
    },
    #[error(
        "the {which} template \"{template}\" must be a relative path without '..' or empty parts"
    )]
    NotRelative {
        which: &'static str,
        template: String,
    },
}

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Var(String),
}

/// A parsed template: '/'-separated components, each a list of pieces.
#[derive(Debug, Clone)]
struct Template {
    components: Vec<Vec<Piece>>,
}

impl Template {
    fn parse(t: &str, which: &'static str, vars: &[&[&str]]) -> Result<Self, TemplateError> {
        let t = t.trim();
        if t.is_empty() || t.starts_with('/') || t.starts_with('\\') {
            return Err(TemplateError::NotRelative {
                which,
                template: t.into(),
            });
        }
        let mut components = Vec::new();
        for comp in t.split('/') {
            let c = comp.trim();
            if c.is_empty() || c == "." || c == ".." {
                return Err(TemplateError::NotRelative {
                    which,
                    template: t.into(),
                });
            }
            let mut pieces = Vec::new();
            let mut rest = c;
            while !rest.is_empty() {
                match (rest.find('{'), rest.find('}')) {
                    (None, None) => {
                        pieces.push(Piece::Lit(rest.into()));
                        break;
                    }
                    (Some(o), close) => {
                        let Some(cl) = close.filter(|cl| *cl > o) else {
                            return Err(TemplateError::Unbalanced {
                                which,
                                template: t.into(),
                            });
                        };
                        if o > 0 {
                            pieces.push(Piece::Lit(rest[..o].into()));
                        }
                        let name = &rest[o + 1..cl];
                        if name.contains('{') {
                            return Err(TemplateError::Unbalanced {
                                which,
                                template: t.into(),
                            });
                        }
                        if !vars.iter().any(|set| set.contains(&name)) {
                            let valid = vars
                                .iter()
                                .flat_map(|s| s.iter())
                                .map(|v| format!("{{{v}}}"))
                                .collect::<Vec<_>>()
                                .join(" ");
                            return Err(TemplateError::UnknownVariable {
                                name: name.into(),
                                which,
                                valid,
                            });
                        }
                        pieces.push(Piece::Var(name.into()));
                        rest = &rest[cl + 1..];
                    }
                    (None, Some(_)) => {
                        return Err(TemplateError::Unbalanced {
                            which,
                            template: t.into(),
                        });
                    }
                }
            }
            components.push(pieces);
        }
        Ok(Template { components })
    }

    fn render(&self, lookup: &dyn Fn(&str) -> String) -> Vec<String> {
        self.components
            .iter()
            .map(|pieces| {
                let raw: String = pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Lit(s) => s.clone(),
                        // A variable's value is one piece of a name: a '/' in a topic must not
                        // create a folder.
                        Piece::Var(v) => lookup(v).replace(['/', '\\'], "_"),
                    })
                    .collect();
                raw
            })
            .collect()
    }
}

pub struct Namer {
    folder: Template,
    file: Template,
}

impl Namer {
    pub const DEFAULT_FOLDER: &'static str = "{host}/{YYYY}/{YYYY}-{MM}-{DD} {HH}{mm} {topic}";
    pub const DEFAULT_FILE: &'static str = "{recording_type}.{ext}";

    pub fn new(folder_template: &str, file_template: &str) -> Result<Namer, TemplateError> {
        Ok(Namer {
            folder: Template::parse(folder_template, "folder", &[FOLDER_VARS])?,
            file: Template::parse(file_template, "file", &[FOLDER_VARS, FILE_VARS])?,
        })
    }

    /// The meeting's folder, '/'-separated, every component sanitized.
    pub fn folder(&self, m: &MeetingInfo) -> String {
        let lookup = |v: &str| meeting_var(m, v);
        self.folder
            .render(&lookup)
            .iter()
            .map(|c| sanitize_component(c))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A file's name inside the meeting folder (several components if the template has '/').
    pub fn file_name(&self, m: &MeetingInfo, f: &FileInfo) -> String {
        let lookup = |v: &str| file_var(m, f, v).unwrap_or_else(|| meeting_var(m, v));
        let comps = self.file.render(&lookup);
        let n = comps.len();
        comps
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == n {
                    sanitize_file_name(c)
                } else {
                    sanitize_component(c)
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

fn local_time(m: &MeetingInfo) -> jiff::civil::DateTime {
    let tz = if m.timezone.is_empty() {
        jiff::tz::TimeZone::UTC
    } else {
        jiff::tz::TimeZone::get(m.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    };
    m.start_time.to_zoned(tz).datetime()
}

fn meeting_var(m: &MeetingInfo, v: &str) -> String {
    let t = local_time(m);
    match v {
        "host" => m.host.to_string(),
        "host_email" => m.host_email.to_string(),
        "topic" => {
            if m.topic.trim().is_empty() {
                "untitled".into()
            } else {
                m.topic.to_string()
            }
        }
        "YYYY" => format!("{:04}", t.year()),
        "MM" => format!("{:02}", t.month()),
        "DD" => format!("{:02}", t.day()),
        "HH" => format!("{:02}", t.hour()),
        "mm" => format!("{:02}", t.minute()),
        "date" => format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day()),
        "time" => format!("{:02}{:02}", t.hour(), t.minute()),
        "meeting_id" => m.meeting_id.to_string(),
        "uuid_short" => uuid_short(m.uuid),
        _ => String::new(),
    }
}

fn file_var(m: &MeetingInfo, f: &FileInfo, v: &str) -> Option<String> {
    Some(match v {
        "recording_type" => {
            if !f.recording_type.is_empty() {
                f.recording_type.to_string()
            } else if !f.file_type.is_empty() {
                f.file_type.to_ascii_lowercase()
            } else {
                "recording".into()
            }
        }
        "file_type" => f.file_type.to_string(),
        "ext" => {
            let e = f.file_extension.to_ascii_lowercase();
            if e.is_empty() { "bin".into() } else { e }
        }
        "file_id" => f.file_id.to_string(),
        "start_time" => {
            let ts = f.recording_start.unwrap_or(m.start_time);
            let tz = jiff::tz::TimeZone::get(m.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
            let t = ts.to_zoned(tz).datetime();
            format!("{:02}{:02}{:02}", t.hour(), t.minute(), t.second())
        }
        "participant" => f.participant.unwrap_or("participant").to_string(),
        _ => return None,
    })
}

/// First 8 hex digits of a stable (FNV-1a 64) hash of the uuid: short, stable everywhere.
pub fn uuid_short(uuid: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in uuid.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:016x}", h)[..8].to_string()
}

const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "COM¹", "COM²", "COM³", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8",
    "LPT9", "LPT¹", "LPT²", "LPT³", "CONIN$", "CONOUT$",
];

fn is_forbidden(c: char) -> bool {
    matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        || c.is_control()
        // Bidi overrides and isolates can make a name display as something else.
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
        || c == '\u{FEFF}'
}

/// The core sanitizer for one path component.
pub fn sanitize_component(s: &str) -> String {
    sanitize_with_ext(s, "")
}

/// Like [`sanitize_component`] but keeps the last extension when truncating.
pub fn sanitize_file_name(s: &str) -> String {
    let clean = clean_chars(s);
    match clean.rfind('.') {
        Some(i) if i > 0 && clean.len() - i <= 16 => {
            let (stem, ext) = clean.split_at(i);
            sanitize_with_ext(stem, ext)
        }
        _ => sanitize_with_ext(&clean, ""),
    }
}

fn clean_chars(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    let mut out = String::with_capacity(nfc.len());
    let mut last_space = false;
    for c in nfc.chars() {
        let c = if is_forbidden(c) { '_' } else { c };
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to at most `budget` bytes, on a char boundary.
fn cut_to(s: &mut String, budget: usize) {
    if s.len() > budget {
        let mut cut = budget;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

fn sanitize_with_ext(stem: &str, ext: &str) -> String {
    let ext = clean_chars(ext).trim_end_matches([' ', '.']).to_string();
    let mut stem = clean_chars(stem);
    // Windows drops trailing dots and spaces, and leading spaces are invisible traps.
    stem = stem.trim_start_matches(' ').to_string();
    let budget = MAX_COMPONENT_BYTES.saturating_sub(ext.len());
    cut_to(&mut stem, budget);
    let mut stem = stem.trim_end_matches([' ', '.']).to_string();
    if ext.is_empty() {
        stem = stem.trim_end_matches([' ', '.']).to_string();
    }
    if stem.is_empty() || stem == "." || stem == ".." {
        stem = "_".into();
    }
    // Reserved device names, also with an extension (`con.txt`), case-insensitively.
    let base = stem
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_uppercase();
    if RESERVED.contains(&base.as_str()) {
        stem = format!("_{stem}");
        // The prefix may push a stem cut to the budget one byte over it: cut again (the
        // base now starts with '_', so it can no longer be reserved), or a second pass
        // would cut it and sanitizing would not be idempotent (found by the fuzzer).
        if stem.len() > budget {
            cut_to(&mut stem, budget);
            stem = stem.trim_end_matches([' ', '.']).to_string();
        }
    }
    let mut out = stem;
    out.push_str(&ext);
    out
}

/// Hands out unique names, deterministically: reserve what is already taken, then allocate
/// in a stable order; a clash gets " (2)", " (3)", ... before the extension.
#[derive(Debug, Default)]
pub struct NameAllocator {
    taken: HashSet<String>,
}

fn fold(s: &str) -> String {
    s.nfc().collect::<String>().to_lowercase()
}

impl NameAllocator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn reserve(&mut self, path: &str) {
        self.taken.insert(fold(path));
    }

    /// A unique file name: a clash gets " (n)" before the extension.
    pub fn allocate(&mut self, wanted: &str) -> String {
        self.allocate_with(wanted, true)
    }

    /// A unique folder name: a clash gets " (n)" at the end (a dot in a topic is not an
    /// extension).
    pub fn allocate_dir(&mut self, wanted: &str) -> String {
        self.allocate_with(wanted, false)
    }

    fn allocate_with(&mut self, wanted: &str, has_ext: bool) -> String {
        if self.taken.insert(fold(wanted)) {
            return wanted.to_string();
        }
        let (dir, last) = match wanted.rfind('/') {
            Some(i) => (&wanted[..=i], &wanted[i + 1..]),
            None => ("", wanted),
        };
        let (stem, ext) = match last.rfind('.') {
            Some(i) if has_ext && i > 0 => last.split_at(i),
            _ => (last, ""),
        };
        let mut n: u64 = 2;
        loop {
            let suffix = format!(" ({n})");
            // Keep the component within 255 bytes with ".part" even after many clashes.
            let budget = 250usize.saturating_sub(ext.len() + suffix.len());
            let mut cut = stem.len().min(budget);
            while !stem.is_char_boundary(cut) {
                cut -= 1;
            }
            let candidate = format!("{dir}{}{suffix}{ext}", &stem[..cut]);
            if self.taken.insert(fold(&candidate)) {
                return candidate;
            }
            n = n.saturating_add(1);
        }
    }
}
