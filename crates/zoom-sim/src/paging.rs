//! Zoom's listing mechanics, shared by every listing (users, a user's recordings, the
//! account's recordings, the summaries): page sizes, page tokens that remember their query
//! and expire after 15 minutes, and the date window of `from`/`to` with Zoom's silent
//! narrowing of spans longer than a month (zoom-api.md §2).

use axum::http::StatusCode;
use axum::response::Response;
use jiff::ToSpan;
use jiff::civil::Date;

use crate::account::{Account, SimMeeting};
use crate::replies::zoom_error;
use crate::routes::query_param as q;
use crate::state::{PageToken, Shared};

/// How long a page token stays valid.
const PAGE_TOKEN_TTL_SECS: i64 = 15 * 60;

/// `page_size`: 30 by default, at most 300; anything not a positive number is 400 code 300.
#[allow(clippy::result_large_err)]
pub fn page_size(query: &[(String, String)]) -> Result<usize, Response> {
    match q(query, "page_size") {
        None => Ok(30),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n.min(300)),
            _ => Err(zoom_error(
                StatusCode::BAD_REQUEST,
                300,
                "Invalid field: page_size",
            )),
        },
    }
}

/// Where the page a request asks for starts: 0, or the offset its `next_page_token`
/// remembers. A token remembers its query (`key`) and expires after 15 minutes. Pagination
/// is in two steps (this, then [`next_page_token`]) so the sessions lock is never held with
/// the account's.
#[allow(clippy::result_large_err)]
pub fn page_offset(st: &Shared, key: &str, query: &[(String, String)]) -> Result<usize, Response> {
    let Some(t) = q(query, "next_page_token").filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let pt = st
        .sessions
        .lock()
        .ok()
        .and_then(|s| s.page_tokens.get(t).cloned());
    match pt {
        Some(p) if p.query == key && st.now_secs() - p.created_at <= PAGE_TOKEN_TTL_SECS => {
            Ok(p.offset)
        }
        _ => Err(zoom_error(
            StatusCode::BAD_REQUEST,
            300,
            "The next page token is invalid or expired.",
        )),
    }
}

/// The token of the page after the one at `offset` ("" on the last page).
pub fn next_page_token(st: &Shared, key: &str, offset: usize, size: usize, total: usize) -> String {
    let next = offset + size;
    if next >= total {
        return String::new();
    }
    let t = st.fresh_token("pt");
    if let Ok(mut s) = st.sessions.lock() {
        s.page_tokens.insert(
            t.clone(),
            PageToken {
                query: key.to_string(),
                offset: next,
                created_at: st.now_secs(),
            },
        );
    }
    t
}

fn parse_day(s: &str) -> Option<Date> {
    s.parse::<Date>().ok()
}

/// The days a date-windowed listing covers (UTC, both ends included) and its page size,
/// after Zoom's defaults and narrowing. `from` is what the answer echoes.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: Date,
    pub to: Date,
    pub size: usize,
}

impl Window {
    /// Reads `from`, `to` and `page_size` as Zoom does: defaults from=today, to=tomorrow;
    /// a bad date or `from` after `to` is 400 code 300; a span longer than a month (or the
    /// configured `narrowing_days`) silently becomes the month ending at `to`.
    #[allow(clippy::result_large_err)]
    pub fn from_query(st: &Shared, query: &[(String, String)]) -> Result<Window, Response> {
        let today = st.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let to = match q(query, "to") {
            None => today.tomorrow().unwrap_or(today),
            Some(s) => parse_day(s)
                .ok_or_else(|| zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: to"))?,
        };
        let mut from = match q(query, "from") {
            None => today,
            Some(s) => parse_day(s)
                .ok_or_else(|| zoom_error(StatusCode::BAD_REQUEST, 300, "Invalid field: from"))?,
        };
        if from > to {
            return Err(zoom_error(
                StatusCode::BAD_REQUEST,
                300,
                "The from date must be before the to date.",
            ));
        }
        // Zoom's silent narrowing: a span longer than a month becomes the month ending at
        // `to` (or the configured number of days, to make it fire on a client's one-month
        // windows).
        let floor = match st.cfg.narrowing_days {
            None => to.checked_sub(1.month()),
            Some(days) => to.checked_sub(i64::from(days).days()),
        }
        .unwrap_or(to);
        if from < floor {
            from = floor;
        }
        let size = page_size(query)?;
        Ok(Window { from, to, size })
    }

    /// The account's meetings that start within the window, newest first.
    ///
    /// Meetings are sorted newest first: binary-search the days [from, to] (UTC) instead of
    /// converting every meeting's start to a date (with 100,000 meetings, a request for a
    /// one-day window took about 3 ms, nearly all of it that scan).
    pub fn meetings<'a>(&self, acct: &'a Account) -> &'a [SimMeeting] {
        let day_start = |d: Date| {
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .unwrap_or(jiff::Timestamp::MAX)
        };
        let lo = day_start(self.from);
        let hi = self
            .to
            .tomorrow()
            .map(day_start)
            .unwrap_or(jiff::Timestamp::MAX);
        let first = acct.meetings.partition_point(|m| m.start >= hi);
        let end = acct.meetings.partition_point(|m| m.start >= lo).max(first);
        &acct.meetings[first..end]
    }
}
