//! Parsers of the values a user types (flags, environment, config files, the GUI's fields):
//! dates, byte rates and sizes, the number of transfers and of connections per file, and file
//! types. Each refuses bad input with an
//! error that says what was wrong and how to write it.
//!
//! This file is also compiled into the fuzz crate (`fuzz/fuzz_targets/config.rs`), which has
//! no engine: it depends on jiff, serde and thiserror only.

use std::collections::BTreeSet;

use jiff::civil::Date;
use serde::Deserialize;

/// A value that could not be understood. The messages are the ones `zvm` prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error(
        "{what} '{given}' is not a date: use YYYY-MM-DD (e.g. 2024-04-01), 'today', or a relative age like 30d, 6m, 2y"
    )]
    Date { what: String, given: String },
    #[error("transfers '{given}' is not valid: use 'auto' or a number from 1 to {MAX_TRANSFERS}")]
    Transfers { given: String },
    #[error(
        "bandwidth limit '{given}' is not a rate: use a number of bytes per second with an optional K, M or G suffix (e.g. 10M), at least 1K"
    )]
    Rate { given: String },
    #[error("unknown file type '{given}': choose from {}", KNOWN_FILE_TYPES.join(", ").to_lowercase())]
    FileType { given: String },
    #[error(
        "segments '{given}' is not valid (--segments, or 'segments' in config.toml): use 'auto' or a number of connections per file from 1 to {MAX_TRANSFERS}"
    )]
    Segments { given: String },
    #[error(
        "minimum segment size '{given}' is not valid (--min-segment-size, or 'min_segment_size' in config.toml): use a size with an optional K, M or G suffix (e.g. 16M), at least 64K"
    )]
    SegmentSize { given: String },
}

/// Parses `YYYY-MM-DD`, `today`, `yesterday`, or a relative `30d` / `6m` / `2y` (ago).
/// `what` names the input in the error (`--from`).
pub fn parse_date(s: &str, what: &str) -> Result<Date, ValueError> {
    let today = jiff::Zoned::now().date();
    let t = s.trim();
    if t.eq_ignore_ascii_case("today") {
        return Ok(today);
    }
    if t.eq_ignore_ascii_case("yesterday") {
        return Ok(today.yesterday().unwrap_or(today));
    }
    if let Some((num, unit)) = t
        .char_indices()
        .last()
        .filter(|(_, c)| matches!(c, 'd' | 'w' | 'm' | 'y'))
        .map(|(i, c)| (&t[..i], c))
        && let Ok(n) = num.parse::<i64>()
        && n >= 0
    {
        // The `try_` forms: `Span::days` panics past jiff's range (found by the fuzzer).
        let span = match unit {
            'd' => jiff::Span::new().try_days(n),
            'w' => jiff::Span::new().try_weeks(n),
            'm' => jiff::Span::new().try_months(n),
            _ => jiff::Span::new().try_years(n),
        };
        // An age past jiff's range is "before Zoom" too.
        let d = span
            .ok()
            .and_then(|span| today.checked_sub(span).ok())
            .unwrap_or(ZOOM_EPOCH);
        return Ok(d.max(ZOOM_EPOCH));
    }
    t.parse::<Date>()
        .map(|d| d.max(ZOOM_EPOCH))
        .map_err(|_| ValueError::Date {
            what: what.to_string(),
            given: s.to_string(),
        })
}

/// No Zoom recording is older than this (Zoom launched in 2011-2013): an earlier date means
/// "from the beginning", and walking the months before it would only cost requests.
pub const ZOOM_EPOCH: Date = jiff::civil::date(2011, 1, 1);

/// How many downloads run at once: a number, or `auto` (the engine finds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfers {
    Auto,
    Fixed(usize),
}

/// The most transfers any front end accepts, and the ceiling of `auto`: the engine's
/// `concurrency::MAX_TRANSFERS` (checked in lib.rs; this file is also compiled into the fuzz
/// crate, which has no engine).
pub const MAX_TRANSFERS: usize = 64;

pub fn parse_transfers(s: &str) -> Result<Transfers, ValueError> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("auto") {
        return Ok(Transfers::Auto);
    }
    match t.parse::<usize>() {
        Ok(n) if (1..=MAX_TRANSFERS).contains(&n) => Ok(Transfers::Fixed(n)),
        _ => Err(ValueError::Transfers {
            given: s.to_string(),
        }),
    }
}

/// `transfers` in a config file: `transfers = 8` or `transfers = "auto"`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum TransfersSetting {
    Number(u64),
    Word(String),
}

impl TransfersSetting {
    pub fn parse(&self) -> Result<Transfers, ValueError> {
        match self {
            TransfersSetting::Number(n) => parse_transfers(&n.to_string()),
            TransfersSetting::Word(w) => parse_transfers(w),
        }
    }
}

impl From<Transfers> for TransfersSetting {
    fn from(t: Transfers) -> Self {
        match t {
            Transfers::Auto => TransfersSetting::Word("auto".into()),
            Transfers::Fixed(n) => TransfersSetting::Number(n as u64),
        }
    }
}

/// How many connections one file may use: `auto` (as many as the run's transfers leave
/// free) or at most a number (1: every file in one piece).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentsPerFile {
    Auto,
    AtMost(usize),
}

pub fn parse_segments(s: &str) -> Result<SegmentsPerFile, ValueError> {
    match parse_transfers(s) {
        Ok(Transfers::Auto) => Ok(SegmentsPerFile::Auto),
        Ok(Transfers::Fixed(n)) => Ok(SegmentsPerFile::AtMost(n)),
        Err(_) => Err(ValueError::Segments {
            given: s.to_string(),
        }),
    }
}

/// `segments` in a config file (`segments = 4` or `segments = "auto"`): a number or a word,
/// like `transfers`.
pub type SegmentsSetting = TransfersSetting;

/// The smallest minimum segment size accepted: below it the request each range costs
/// outweighs its bytes.
pub const MIN_SEGMENT_FLOOR: u64 = 64 * 1024;

/// Parses a size such as `16M`, `512K`, `1G` or `20000000` (bytes), at least
/// [`MIN_SEGMENT_FLOOR`].
pub fn parse_segment_size(s: &str) -> Result<u64, ValueError> {
    let bad = || ValueError::SegmentSize {
        given: s.to_string(),
    };
    // The suffixes of a rate; a size has no "/s".
    if s.contains('/') {
        return Err(bad());
    }
    match parse_rate(s) {
        Ok(size) if size >= MIN_SEGMENT_FLOOR => Ok(size),
        _ => Err(bad()),
    }
}

/// Parses a byte rate such as `10M`, `512K`, `1.5G`, `800000` (bytes per second).
pub fn parse_rate(s: &str) -> Result<u64, ValueError> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let stripped = lower
        .trim_end_matches("/s")
        .trim_end_matches("ib")
        .trim_end_matches('b');
    let (num, mult) = match stripped.chars().last() {
        Some('k') => (&stripped[..stripped.len() - 1], 1024f64),
        Some('m') => (&stripped[..stripped.len() - 1], 1024f64 * 1024.0),
        Some('g') => (&stripped[..stripped.len() - 1], 1024f64 * 1024.0 * 1024.0),
        _ => (stripped, 1f64),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * mult >= 1024.0 => Ok((v * mult) as u64),
        _ => Err(ValueError::Rate {
            given: s.to_string(),
        }),
    }
}

/// Zoom's names of the file types a selection may name.
pub const KNOWN_FILE_TYPES: &[&str] = &[
    "MP4",
    "M4A",
    "CHAT",
    "TRANSCRIPT",
    "CSV",
    "TB",
    "CC",
    "CHAT_MESSAGE",
    "SUMMARY",
    "TIMELINE",
];

/// Normalises `mp4,chat` into Zoom's upper-case names, refusing unknown ones.
pub fn parse_file_types(list: &[String]) -> Result<BTreeSet<String>, ValueError> {
    let mut out = BTreeSet::new();
    for item in list.iter().flat_map(|s| s.split(',')) {
        let t = item.trim().to_ascii_uppercase();
        if t.is_empty() {
            continue;
        }
        if !KNOWN_FILE_TYPES.contains(&t.as_str()) {
            return Err(ValueError::FileType {
                given: item.to_string(),
            });
        }
        out.insert(t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_absolute_and_relative() {
        assert_eq!(
            parse_date("2024-02-29", "--from").unwrap(),
            jiff::civil::date(2024, 2, 29)
        );
        let today = jiff::Zoned::now().date();
        assert_eq!(
            parse_date("30d", "--from").unwrap(),
            today.checked_sub(jiff::Span::new().days(30)).unwrap()
        );
        let err = parse_date("2024-13-01", "--from").unwrap_err().to_string();
        assert!(err.contains("--from '2024-13-01' is not a date"), "{err}");
        assert!(parse_date("yesterdayish", "--to").is_err());
        // Found by the config fuzz target: a huge relative age used to panic inside jiff.
        // Anything before Zoom existed means "from the beginning".
        for huge in [
            "6600000000d",
            "9223372036854775807y",
            "99999999999w",
            "100000m",
            "1900-01-01",
        ] {
            assert_eq!(parse_date(huge, "--from").unwrap(), ZOOM_EPOCH, "{huge}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("10M").unwrap(), 10 * 1024 * 1024);
        assert_eq!(parse_rate("512k").unwrap(), 512 * 1024);
        assert_eq!(parse_rate("1.5GiB/s").unwrap(), 1610612736);
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-5M").is_err());
        assert_eq!(parse_transfers("auto").unwrap(), Transfers::Auto);
        assert_eq!(parse_transfers(" 8 ").unwrap(), Transfers::Fixed(8));
        for bad in ["0", "65", "-1", "many", ""] {
            let e = parse_transfers(bad).unwrap_err().to_string();
            assert!(e.contains("'auto' or a number from 1 to 64"), "{e}");
        }
    }

    #[test]
    fn segments_and_their_size() {
        assert_eq!(parse_segments("auto").unwrap(), SegmentsPerFile::Auto);
        assert_eq!(parse_segments(" 4").unwrap(), SegmentsPerFile::AtMost(4));
        for bad in ["0", "65", "many", ""] {
            let e = parse_segments(bad).unwrap_err().to_string();
            assert!(
                e.contains("'auto' or a number of connections per file"),
                "{e}"
            );
        }
        assert_eq!(parse_segment_size("16M").unwrap(), 16 << 20);
        assert_eq!(parse_segment_size("64KiB").unwrap(), 64 << 10);
        assert_eq!(parse_segment_size("1048576").unwrap(), 1 << 20);
        for bad in ["63K", "big", "0", "-1M", "10M/s"] {
            let e = parse_segment_size(bad).unwrap_err().to_string();
            assert!(e.contains("at least 64K"), "{bad}: {e}");
        }
    }

    #[test]
    fn file_types() {
        let t = parse_file_types(&["mp4,chat".into(), "TRANSCRIPT".into()]).unwrap();
        assert_eq!(
            t.into_iter().collect::<Vec<_>>(),
            vec!["CHAT", "MP4", "TRANSCRIPT"]
        );
        let e = parse_file_types(&["mp5".into()]).unwrap_err().to_string();
        assert!(e.contains("unknown file type 'mp5'"), "{e}");
    }
}
