//! The walk behind every date-ranged listing (a user's recordings, the account's recordings,
//! the summaries): the range is walked backwards in windows of at most Zoom's month, every
//! page of each, with the first pages of the next few windows requested ahead; a window Zoom
//! narrowed (an echoed `from` later than asked) has its dropped days walked separately and
//! later windows are made a day shorter; entries are deduplicated across window edges; an
//! expired page token (400 code 300) restarts its window. What differs between the listings
//! (the path, the page's shape, the entry's key) is a [`WindowPage`].

use std::collections::{HashSet, VecDeque};

use jiff::ToSpan;
use jiff::civil::Date;
use serde::de::DeserializeOwned;

use crate::error::ZoomError;
use crate::models::{Meeting, RecordingsPage, SummariesPage, SummaryListing};

/// A page of a date-windowed listing.
pub(crate) trait WindowPage: DeserializeOwned + Send + 'static {
    /// One entry of the listing.
    type Item: Send + 'static;
    /// The `from` Zoom echoes (narrowed if the window was too long for it).
    fn echoed_from(&self) -> &str;
    /// The next page's token (`None` or `""` on the last page) and the entries.
    fn into_parts(self) -> (Option<String>, Vec<Self::Item>);
    /// What identifies an entry across windows (an entry on a window's edge can come twice).
    fn key(item: &Self::Item) -> &str;
}

impl WindowPage for RecordingsPage {
    type Item = Meeting;
    fn echoed_from(&self) -> &str {
        &self.from
    }
    fn into_parts(self) -> (Option<String>, Vec<Meeting>) {
        (self.next_page_token, self.meetings)
    }
    fn key(item: &Meeting) -> &str {
        &item.uuid
    }
}

impl WindowPage for SummariesPage {
    type Item = SummaryListing;
    fn echoed_from(&self) -> &str {
        &self.from
    }
    fn into_parts(self) -> (Option<String>, Vec<SummaryListing>) {
        (self.next_page_token, self.summaries)
    }
    fn key(item: &SummaryListing) -> &str {
        &item.meeting_uuid
    }
}

/// Windows whose first page is requested ahead of the one being read. Listing is paced, so
/// the requests themselves must not be what waits: with one request at a time, every answer
/// slower than a pacer slot (50 ms at 20/s; a page of 300 meetings is hundreds of KiB to
/// build, send and parse) is lost time. With four in flight the pacer is the only limit up to
/// four slots of latency, and at most four pages wait in memory.
const WINDOWS_AHEAD: usize = 4;

/// Times an expired page token may restart its window before the error is reported.
const MAX_RESTARTS: u32 = 5;

/// A spawned request, cancelled when dropped (the stream was dropped, or an error ended it).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A window whose first page is on its way.
struct Ahead<P> {
    from: Date,
    to: Date,
    page: AbortOnDrop<Result<P, ZoomError>>,
}

/// Where a listing's pages come from: the client, behind a trait so that this walk does not
/// depend on the client that uses it.
pub(crate) trait PageSource: Clone + Send + Sync + 'static {
    /// One page of the window `from..=to` (`token` empty for the first page).
    fn page<P: WindowPage>(
        &self,
        from: Date,
        to: Date,
        token: &str,
    ) -> impl std::future::Future<Output = Result<P, ZoomError>> + Send;
}

/// State of the window walk of one listing.
pub(crate) struct Lister<P: WindowPage, S: PageSource> {
    source: S,
    start: Date,
    /// End of the next fresh window; `None` when the range is exhausted.
    next_to: Option<Date>,
    /// Windows already asked for, in walk order (newest first).
    ahead: VecDeque<Ahead<P>>,
    /// Current window and its next page token.
    window: Option<(Date, Date, String)>,
    seen: HashSet<String>,
    buf: VecDeque<P::Item>,
    restarts: u32,
    /// Set once the server narrowed a window: windows become `to - 1 month + 1 day ..= to`.
    exact_month: bool,
}

impl<P: WindowPage, S: PageSource> Lister<P, S> {
    /// A walk of `from..=to` (UTC days, inclusive), newest first.
    pub fn new(source: S, from: Date, to: Date) -> Self {
        Lister {
            source,
            start: from,
            next_to: Some(to).filter(|t| *t >= from),
            ahead: VecDeque::new(),
            window: None,
            seen: HashSet::new(),
            buf: VecDeque::new(),
            restarts: 0,
            exact_month: false,
        }
    }

    /// The next fresh window, walking back from `to`.
    fn next_window(&mut self) -> Result<Option<(Date, Date)>, ZoomError> {
        let Some(to) = self.next_to else {
            return Ok(None);
        };
        // Zoom keeps `from = to - 1 month` ("the month that ends at `to`") and narrows only
        // earlier days, so that is the longest window one request covers. A server that
        // narrows it anyway is asked for one day less from then on (`exact_month`).
        let month = to
            .checked_sub(1.month())
            .map_err(|e| ZoomError::Config(e.to_string()))?;
        let from = if self.exact_month {
            month
                .checked_add(1.day())
                .map_err(|e| ZoomError::Config(e.to_string()))?
        } else {
            month
        }
        .max(self.start);
        self.next_to = from.checked_sub(1.day()).ok().filter(|d| *d >= self.start);
        Ok(Some((from, to)))
    }

    /// Requests the first page of `from..=to` in the background.
    fn ask(&self, from: Date, to: Date) -> Ahead<P> {
        let source = self.source.clone();
        let page = tokio::spawn(async move { source.page::<P>(from, to, "").await });
        Ahead {
            from,
            to,
            page: AbortOnDrop(page),
        }
    }

    /// The next entry, `None` at the end of the range.
    pub async fn next(&mut self) -> Result<Option<P::Item>, ZoomError> {
        loop {
            if let Some(m) = self.buf.pop_front() {
                return Ok(Some(m));
            }
            while self.ahead.len() < WINDOWS_AHEAD {
                let Some((from, to)) = self.next_window()? else {
                    break;
                };
                let a = self.ask(from, to);
                self.ahead.push_back(a);
            }
            // The current window's next page, else the next window's first page.
            let (from, to, first, page) = if let Some((from, to, token)) = self.window.take() {
                match self.source.page::<P>(from, to, &token).await {
                    Ok(p) => (from, to, token.is_empty(), p),
                    Err(e)
                        if !token.is_empty()
                            && e.status() == Some(400)
                            && e.code() == Some(300)
                            && self.restarts < MAX_RESTARTS =>
                    {
                        // Page token expired (15 min): restart the window; dedup hides repeats.
                        self.restarts += 1;
                        self.window = Some((from, to, String::new()));
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            } else if let Some(mut a) = self.ahead.pop_front() {
                let page = (&mut a.page.0)
                    .await
                    .map_err(|e| ZoomError::Config(format!("listing task failed: {e}")))??;
                (a.from, a.to, true, page)
            } else {
                return Ok(None);
            };
            if first
                && let Ok(echoed) = page.echoed_from().parse::<Date>()
                && echoed > from
            {
                // Zoom narrowed the window: walk the part it dropped next, and ask for shorter
                // windows from now on.
                self.exact_month = true;
                if let Ok(before) = echoed.checked_sub(1.day()) {
                    let a = self.ask(from, before);
                    self.ahead.push_front(a);
                }
            }
            let (next_token, items) = page.into_parts();
            for m in items {
                if self.seen.insert(P::key(&m).to_owned()) {
                    self.buf.push_back(m);
                }
            }
            if let Some(t) = next_token.filter(|t| !t.is_empty()) {
                self.window = Some((from, to, t));
            }
        }
    }
}
