//! Listing windows and the rule that says which of them a run asks Zoom for.
//!
//! A listing is cut into calendar months (UTC days, like Zoom's `from`/`to`). Whole months,
//! not months counted back from today, so that a window is the same window in every run
//! whatever the run's dates: its stored listing can be found again, trusted, and replaced
//! whole. A calendar month is never longer than the month Zoom keeps when it narrows a
//! span (the month that ends at `to`), so one window is one walk of pages.
//!
//! [`decide`] is the listing cache's policy as a pure function of a window, when it was last
//! listed and the run's [`ListingPolicy`]; everything else here converts between what Zoom
//! lists and what the state stores.

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use zvm_state::{ListedMeeting, ListingWindow};
use zvm_zoom::models::Meeting;

use crate::layout::parse_time_opt;
use crate::options::ListingPolicy;

/// One calendar month of a listing (both ends inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub from: Date,
    pub to: Date,
}

impl Window {
    /// The calendar month that holds `day`.
    pub fn month_of(day: Date) -> Window {
        Window {
            from: day.first_of_month(),
            to: day.last_of_month(),
        }
    }

    /// This window of `scope`, as the state stores it.
    pub fn of_scope(&self, scope: &str) -> ListingWindow {
        ListingWindow {
            scope: scope.to_string(),
            from: self.from.to_string(),
            to: self.to.to_string(),
        }
    }

    fn overlaps(&self, from: Date, to: Date) -> bool {
        self.from <= to && self.to >= from
    }
}

/// The calendar months that overlap `from..=to`, newest first (Zoom lists newest first, and
/// the recent months are the ones most worth seeing early). Empty when `from > to`.
pub fn month_windows(from: Date, to: Date) -> Vec<Window> {
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    let mut w = Window::month_of(to);
    loop {
        out.push(w);
        if w.from <= from {
            return out;
        }
        match w.from.yesterday() {
            Ok(day) => w = Window::month_of(day),
            Err(_) => return out,
        }
    }
}

/// The listing scope of one user's recordings, as the user is named to Zoom (`me`, an id,
/// or an email).
pub fn user_scope(user: &str) -> String {
    format!("user:{user}")
}

/// The listing scope of the account-wide recordings listing (`--all-users` when Zoom allows
/// it): every user's meetings of a window in one stored listing, kept apart from the users'
/// scopes so that a run that has to fall back to them never mistakes one for the other.
pub fn account_scope() -> String {
    "account:me".to_string()
}

/// Why a window is asked of Zoom in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// `--full`.
    Full,
    /// Picked meetings are always found in a fresh listing of their month.
    Chosen,
    /// It overlaps the recent span: new recordings appear there.
    Recent,
    /// No complete listing of it is stored (never listed, or an earlier walk broke off).
    NeverListed,
    /// Its stored listing is `full_listing_days` old or more: due again.
    Due,
}

/// Where a window's meetings come from in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Zoom(Why),
    Stored,
}

/// Whether `window` is listed from Zoom in a run at `now` or taken from the stored listing,
/// given when it was last listed completely (`None`: never).
pub fn decide(
    window: Window,
    listed_at: Option<jiff::Timestamp>,
    policy: &ListingPolicy,
    now: jiff::Timestamp,
) -> Source {
    if policy.full {
        return Source::Zoom(Why::Full);
    }
    let today = now.to_zoned(TimeZone::UTC).date();
    let recent_from = today
        .checked_sub(i64::from(policy.recent_days).days())
        .unwrap_or(Date::MIN);
    if window.to >= recent_from {
        return Source::Zoom(Why::Recent);
    }
    let Some(at) = listed_at else {
        return Source::Zoom(Why::NeverListed);
    };
    let trusted_for = jiff::SignedDuration::from_hours(24 * i64::from(policy.full_listing_days));
    let age = now.duration_since(at);
    // A listing time ahead of the run's clock says the clock moved: trust nothing of it.
    if age.is_negative() || age >= trusted_for {
        return Source::Zoom(Why::Due);
    }
    Source::Stored
}

/// The host label a listed meeting goes by: Zoom's host email on the meeting where it
/// gives one, else the label of the user whose listing it came from.
pub fn host_label(meeting: &Meeting, listing_label: &str) -> String {
    if meeting.host_email.is_empty() {
        listing_label.to_string()
    } else {
        meeting.host_email.clone()
    }
}

/// A listed meeting as the state stores it.
pub fn to_listed(meeting: &Meeting, host: &str) -> ListedMeeting {
    ListedMeeting {
        uuid: meeting.uuid.clone(),
        start_time: meeting.start_time.clone(),
        host: host.to_string(),
        // The models serialize every field they read, so a stored meeting plans and shows
        // exactly as the listed one did. Serializing plain data cannot fail; an empty
        // object is the lenient fallback the models parse anyway.
        json: serde_json::to_string(meeting).unwrap_or_else(|_| "{}".to_string()),
    }
}

/// A stored meeting as the engine uses it; `None` when its JSON does not read back (a
/// damaged or hand-edited state): the caller lists its window again.
pub fn from_listed(row: &ListedMeeting) -> Option<Meeting> {
    serde_json::from_str::<Meeting>(&row.json)
        .ok()
        .filter(|m| m.uuid == row.uuid)
}

/// Whether a meeting starts within the UTC days `from..=to`. A meeting whose start time
/// does not read is kept: Zoom listed it in a window of the range.
pub fn starts_within(meeting: &Meeting, from: Date, to: Date) -> bool {
    match parse_time_opt(&meeting.start_time) {
        Some(t) => {
            let day = t.to_zoned(TimeZone::UTC).date();
            from <= day && day <= to
        }
        None => true,
    }
}

/// Whether a stored window overlaps the UTC days `from..=to` (for reading stored listings).
pub fn stored_window_overlaps(w: &ListingWindow, from: Date, to: Date) -> bool {
    match (w.from.parse::<Date>(), w.to.parse::<Date>()) {
        (Ok(f), Ok(t)) => Window { from: f, to: t }.overlaps(from, to),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn policy(now: &str) -> ListingPolicy {
        ListingPolicy {
            now: Some(now.parse().unwrap()),
            ..ListingPolicy::default()
        }
    }

    /// [`decide`] at the policy's own clock.
    fn decide_p(w: Window, listed_at: Option<jiff::Timestamp>, p: &ListingPolicy) -> Source {
        decide(w, listed_at, p, p.now.expect("tests set the clock"))
    }

    #[test]
    fn windows_are_whole_calendar_months_newest_first() {
        let w = month_windows(date(2024, 1, 15), date(2024, 3, 2));
        assert_eq!(
            w,
            vec![
                Window {
                    from: date(2024, 3, 1),
                    to: date(2024, 3, 31)
                },
                Window {
                    from: date(2024, 2, 1),
                    to: date(2024, 2, 29)
                },
                Window {
                    from: date(2024, 1, 1),
                    to: date(2024, 1, 31)
                },
            ]
        );
        // One day is its month; a reversed range is nothing; years are crossed.
        assert_eq!(
            month_windows(date(2025, 6, 9), date(2025, 6, 9)),
            vec![Window::month_of(date(2025, 6, 30))]
        );
        assert!(month_windows(date(2025, 6, 10), date(2025, 6, 9)).is_empty());
        let across = month_windows(date(2023, 12, 31), date(2024, 1, 1));
        assert_eq!(across.len(), 2);
        assert_eq!(across[1].from, date(2023, 12, 1));
        // Six years of months, each once, joined end to start.
        let six = month_windows(date(2019, 6, 16), date(2025, 6, 15));
        assert_eq!(six.len(), 73);
        for pair in six.windows(2) {
            assert_eq!(pair[1].to.tomorrow().unwrap(), pair[0].from);
        }
    }

    #[test]
    fn a_calendar_month_is_never_narrowed_by_zoom() {
        // Zoom keeps `from = to - 1 month`; every calendar month starts on or after that.
        for w in month_windows(date(2020, 1, 1), date(2026, 12, 31)) {
            assert!(w.to.checked_sub(1.month()).unwrap() <= w.from, "{w:?}");
        }
    }

    #[test]
    fn recent_windows_are_always_listed() {
        let p = policy("2025-06-15T10:00:00Z");
        let just_listed = Some("2025-06-15T09:00:00Z".parse().unwrap());
        // 30 days before June 15 is May 16: May and June overlap the recent span.
        assert_eq!(
            decide_p(Window::month_of(date(2025, 6, 1)), just_listed, &p),
            Source::Zoom(Why::Recent)
        );
        assert_eq!(
            decide_p(Window::month_of(date(2025, 5, 1)), just_listed, &p),
            Source::Zoom(Why::Recent)
        );
        assert_eq!(
            decide_p(Window::month_of(date(2025, 4, 1)), just_listed, &p),
            Source::Stored
        );
        // The span is a setting: 60 days reaches April.
        let wide = ListingPolicy {
            recent_days: 60,
            ..p.clone()
        };
        assert_eq!(
            decide_p(Window::month_of(date(2025, 4, 1)), just_listed, &wide),
            Source::Zoom(Why::Recent)
        );
        // 0 days: only the month of today.
        let none = ListingPolicy {
            recent_days: 0,
            ..p
        };
        assert_eq!(
            decide_p(Window::month_of(date(2025, 5, 1)), just_listed, &none),
            Source::Stored
        );
    }

    #[test]
    fn an_old_window_is_trusted_until_its_listing_is_due() {
        let old = Window::month_of(date(2024, 2, 1));
        let listed = "2025-06-01T12:00:00Z".parse().unwrap();
        let at = |now: &str| decide_p(old, Some(listed), &policy(now));
        assert_eq!(
            decide_p(old, None, &policy("2025-06-01T12:00:00Z")),
            Source::Zoom(Why::NeverListed)
        );
        assert_eq!(at("2025-06-01T12:00:01Z"), Source::Stored);
        assert_eq!(at("2025-06-08T11:59:59Z"), Source::Stored);
        // Seven days (of 24 hours) after it was listed, it is listed again.
        assert_eq!(at("2025-06-08T12:00:00Z"), Source::Zoom(Why::Due));
        assert_eq!(at("2026-01-01T00:00:00Z"), Source::Zoom(Why::Due));
        // A listing from the run's future (the clock moved back) is not trusted.
        assert_eq!(at("2025-05-31T00:00:00Z"), Source::Zoom(Why::Due));
        // The interval is a setting; 0 lists everything every run.
        let every = ListingPolicy {
            full_listing_days: 0,
            ..policy("2025-06-01T12:00:01Z")
        };
        assert_eq!(decide_p(old, Some(listed), &every), Source::Zoom(Why::Due));
        let monthly = ListingPolicy {
            full_listing_days: 30,
            ..policy("2025-06-20T00:00:00Z")
        };
        assert_eq!(decide_p(old, Some(listed), &monthly), Source::Stored);
    }

    #[test]
    fn full_lists_every_window() {
        let p = ListingPolicy {
            full: true,
            ..policy("2025-06-15T10:00:00Z")
        };
        let listed = Some("2025-06-15T09:00:00Z".parse().unwrap());
        assert_eq!(
            decide_p(Window::month_of(date(2021, 1, 1)), listed, &p),
            Source::Zoom(Why::Full)
        );
    }

    #[test]
    fn a_stored_meeting_reads_back_as_listed() {
        let m: Meeting = serde_json::from_value(serde_json::json!({
            "uuid": "ab/c+d==", "id": 81234567890i64, "topic": "定例 / weekly",
            "start_time": "2025-03-31T23:30:00Z", "type": 2, "duration": 12,
            "recording_files": [
                {"id": "f1", "file_type": "MP4", "file_size": 1234, "status": "completed",
                 "recording_type": "shared_screen_with_speaker_view", "download_url": "https://x/rec/1"},
                {"id": "f2", "file_type": "", "file_size": 0, "status": "processing"}
            ]
        }))
        .unwrap();
        let row = to_listed(&m, "a@example.com");
        assert_eq!(row.uuid, m.uuid);
        assert_eq!(row.host, "a@example.com");
        assert_eq!(from_listed(&row), Some(m.clone()));
        // Damaged JSON, or JSON of another meeting, is not read as this meeting.
        let mut bad = row.clone();
        bad.json = "{\"uuid\":".into();
        assert_eq!(from_listed(&bad), None);
        bad.json = row.json.replace("ab/c+d==", "other");
        assert_eq!(from_listed(&bad), None);
        // Its UTC day decides the range; an unreadable time is kept.
        assert!(starts_within(&m, date(2025, 3, 31), date(2025, 3, 31)));
        assert!(!starts_within(&m, date(2025, 4, 1), date(2025, 4, 30)));
        let mut odd = m;
        odd.start_time = "yesterday".into();
        assert!(starts_within(&odd, date(2025, 4, 1), date(2025, 4, 30)));
    }

    #[test]
    fn host_labels_prefer_zoom_s_email() {
        let mut m = Meeting::default();
        assert_eq!(host_label(&m, "me@example.com"), "me@example.com");
        m.host_email = "h@example.com".into();
        assert_eq!(host_label(&m, "me@example.com"), "h@example.com");
    }
}
