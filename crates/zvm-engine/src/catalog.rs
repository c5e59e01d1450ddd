//! The catalog: what is in the cloud (listing) and what is safely here (the one check of a
//! local copy).
//!
//! Listing walks the selected users x one-month windows x pages, or, for meetings a person
//! picked one by one, each picked meeting's host and month, and hands the meetings that
//! pass the filters to an [`AsyncMeetingFn`] a batch at a time. Every user of the account
//! (`--all-users`) is listed with the account-wide listing, one walk per month for them all
//! (each meeting's host is the one it names; `--host` is checked per meeting), and with the
//! cache its months also list their AI Companion summaries so that only meetings with one
//! are asked for it ([`Meeting::summary_listed`]). When Zoom refuses either listing, the run
//! says so once and goes the slower way: the users x months, a summary request per meeting
//! (see `admin_listings`).
//!
//! A catalog with the listing cache ([`Catalog::with_listing_cache`], what a sync uses)
//! cuts the range into calendar months and asks Zoom only for the months that can have
//! changed (see [`crate::windows::decide`]): the recent ones, those never listed
//! completely, those whose stored listing is due again, or all with `--full`. Each month
//! listed completely replaces its stored listing; meetings it no longer holds are marked in
//! the state and reported ([`Event::MeetingVanished`]). The other months come from the
//! stored listing, and a stored meeting the consumer still has work for (a file processing
//! or not yet copied, [`AsyncMeetingFn::needs_refresh`]) is asked of Zoom again by its
//! uuid, so a file that finished processing in an old month is found. Without the cache the
//! catalog needs only a Zoom client and lists the whole range (what `zvm list` does).
//!
//! [`check_copy`] decides whether one file's local copy is proven whole. The planner (skip
//! or fetch), the mover (delete or keep) and the front ends' status column all ask it, so
//! the three can never disagree about what "downloaded" means.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{StreamExt, TryStreamExt};
use jiff::civil::Date;
use tokio_util::sync::CancellationToken;

use zvm_dest::{DestError, Destination};
use zvm_state::{CloudState, FileRow, FileStatus, ListedMeeting, StateStore};
use zvm_zoom::models::{Meeting, SummaryListing};
use zvm_zoom::{AdminListing, UserStatusFilter, ZoomClient, ZoomError};

use crate::admin_listings::{self, Probe};
use crate::error::EngineError;
use crate::events::{Event, EventSink, FailureClass, FileRef, Notice};
use crate::options::{SyncOptions, UserSelection};
use crate::windows::{self, Source, Window};

/// Listed meetings handed over at once, at most: about a page of Zoom's (300).
pub(crate) const LIST_BATCH: usize = 300;

/// Months whose listing runs ahead in the background while earlier months are handed over:
/// as many as the client's own look-ahead, so the pacer, not latency, sets the pace.
const WINDOWS_AHEAD: usize = 4;

/// How the account-wide listing is named in events (in place of a user).
pub const ACCOUNT_LABEL: &str = "all users";

/// Lists one window from Zoom, for a spawned task: the user's or the account's meetings,
/// and for the account, when wanted, the window's summary listing.
async fn list_window(
    zoom: ZoomClient,
    lister: Lister,
    w: Window,
    account: Arc<Probe>,
    summaries: Arc<Probe>,
    with_summaries: bool,
) -> ListedWindow {
    let meetings = match &lister {
        Lister::User(user) => Some(
            zoom.list_meetings(user, w.from, w.to)
                .try_collect::<Vec<Meeting>>()
                .await,
        ),
        Lister::Account => {
            account
                .run(
                    zoom.list_account_meetings(w.from, w.to)
                        .try_collect::<Vec<Meeting>>(),
                )
                .await
        }
    };
    let summaries = if with_summaries && matches!(meetings, Some(Ok(_))) {
        summaries
            .run(
                zoom.list_summaries(w.from, w.to)
                    .try_collect::<Vec<SummaryListing>>(),
            )
            .await
    } else {
        None
    };
    ListedWindow {
        meetings,
        summaries,
    }
}

/// The next batch a live listing has ready (a page or more, so the consumer can look the
/// whole batch up at once), split into the meetings before the first error and that error;
/// `None` when the listing ended or the run was cancelled.
async fn next_batch<S>(
    stream: &mut S,
    cancel: &CancellationToken,
) -> Option<(Vec<Meeting>, Option<ZoomError>)>
where
    S: futures::Stream<Item = Vec<Result<Meeting, ZoomError>>> + Unpin,
{
    let batch = tokio::select! {
        b = stream.next() => b?,
        _ = cancel.cancelled() => return None,
    };
    let mut meetings = Vec::with_capacity(batch.len());
    for item in batch {
        match item {
            Ok(m) => meetings.push(m),
            Err(e) => return Some((meetings, Some(e))),
        }
    }
    Some((meetings, None))
}

/// Called for every listed meeting that passed the filters.
pub trait AsyncMeetingFn {
    fn call(
        &mut self,
        meeting: Meeting,
        host_label: &str,
    ) -> impl std::future::Future<Output = Result<(), EngineError>> + Send;

    /// Called with each batch of meetings before `call` is called for each of them: a chance
    /// to look them all up at once. Does nothing by default.
    fn prefetch(
        &mut self,
        meetings: &[Meeting],
    ) -> impl std::future::Future<Output = Result<(), EngineError>> + Send {
        let _ = meetings;
        async { Ok(()) }
    }

    /// Whether a meeting taken from the stored listing (not asked of Zoom in this run) must
    /// be asked again by its uuid before `call`: the consumer has work for it, which needs
    /// what Zoom says now. Called after `prefetch` of its batch. No by default: a stored
    /// listing shows what was stored.
    fn needs_refresh(
        &mut self,
        meeting: &Meeting,
        host_label: &str,
    ) -> impl std::future::Future<Output = Result<bool, EngineError>> + Send {
        let _ = (meeting, host_label);
        async { Ok(false) }
    }

    /// `call` for a meeting just asked of Zoom by its uuid (`get_meeting_recordings`): it
    /// carries its details (participant audio) already. The same as `call` by default.
    fn call_refreshed(
        &mut self,
        meeting: Meeting,
        host_label: &str,
    ) -> impl std::future::Future<Output = Result<(), EngineError>> + Send {
        self.call(meeting, host_label)
    }
}

/// Lists recordings. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    zoom: ZoomClient,
    events: Arc<dyn EventSink>,
    /// The listing cache, when listings are kept between runs.
    cache: Option<Arc<dyn StateStore>>,
}

/// One listing request series: whose recordings, over which days.
struct Scope<'a> {
    users: &'a UserSelection,
    from: Date,
    to: Date,
}

/// What one run of the cached walk keeps across users and windows.
struct Walk<'a> {
    state: &'a dyn StateStore,
    opts: &'a SyncOptions,
    /// Picked meetings (`opts.chosen`), by uuid.
    chosen: Option<HashSet<&'a str>>,
    /// Meetings handed over so far: each once, however many windows list it.
    handed: HashSet<String>,
    /// Whether listings are recorded (not in a dry run, which writes nothing).
    record: bool,
    /// The run's clock (see [`crate::options::ListingPolicy::now`]).
    now: jiff::Timestamp,
    /// The account-wide recordings listing: asked until Zoom refuses it.
    account: Arc<Probe>,
    /// The summary listing: asked beside it until Zoom refuses it.
    summaries: Arc<Probe>,
    /// Whether the months listed from the account also list their summaries (summaries
    /// wanted and fetched in this run).
    list_summaries: bool,
    /// Whether the summary listing's refusal was told already.
    summaries_refusal_told: bool,
}

/// Whose meetings a listing walk asks Zoom for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lister {
    /// One user's (`me`, an id or an email): `GET /users/{id}/recordings`.
    User(String),
    /// Every user's at once: `GET /accounts/me/recordings`.
    Account,
}

impl Lister {
    /// The scope its windows are stored under.
    fn scope(&self) -> String {
        match self {
            Lister::User(u) => windows::user_scope(u),
            Lister::Account => windows::account_scope(),
        }
    }
}

/// What a spawned listing of one window brought back.
struct ListedWindow {
    /// The window's meetings; `None`: not asked, since Zoom refused the account listing
    /// to an earlier request of this run.
    meetings: Option<Result<Vec<Meeting>, ZoomError>>,
    /// The window's summary listing, when it was asked.
    summaries: Option<Result<Vec<SummaryListing>, ZoomError>>,
}

/// How a walk of one listing scope ended.
enum Walked {
    Done,
    /// Zoom refused the account listing: list the users instead.
    AccountRefused,
}

/// A spawned listing of one window, cancelled when dropped (the walk ended or failed).
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for Spawned<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl Catalog {
    pub fn new(zoom: ZoomClient, events: Arc<dyn EventSink>) -> Self {
        Self {
            zoom,
            events,
            cache: None,
        }
    }

    /// This catalog with the listing cache in `state`: windows that cannot have changed come
    /// from the stored listing, and what is listed is stored (see the module doc).
    pub fn with_listing_cache(mut self, state: Arc<dyn StateStore>) -> Self {
        self.cache = Some(state);
        self
    }

    /// Streams the selected meetings, filtered, to `f`: the query of `opts` (users, dates),
    /// or, when `opts.chosen` is set, exactly the chosen meetings (each found by listing its
    /// host's day, or with the listing cache its month, once however many meetings were
    /// chosen on it).
    pub async fn for_each_meeting<F>(
        &self,
        opts: &SyncOptions,
        cancel: &CancellationToken,
        f: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        if let Some(uuids) = &opts.by_uuid {
            return self.fetch_by_uuid(uuids, opts, cancel, f).await;
        }
        match &self.cache {
            None => self.list_live(opts, cancel, f).await,
            Some(state) => self.list_cached(state.as_ref(), opts, cancel, f).await,
        }
    }

    /// `opts.by_uuid`: each meeting asked of Zoom by its uuid, no listing. The meeting
    /// comes with its details (participant audio), as a refreshed stored meeting does, so
    /// it is handed over through `call_refreshed`. A meeting Zoom cannot give ends the walk
    /// with its error (the caller asked for exactly these), unless `by_uuid_keep_going`.
    async fn fetch_by_uuid<F>(
        &self,
        uuids: &[String],
        opts: &SyncOptions,
        cancel: &CancellationToken,
        mut f: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        let mut handed: HashSet<&str> = HashSet::new();
        // Host id to host label, as learnt during this walk (`host_of_fetched`).
        let mut hosts: HashMap<String, String> = HashMap::new();
        for uuid in uuids {
            if cancel.is_cancelled() {
                break;
            }
            if !handed.insert(uuid.as_str()) {
                continue;
            }
            let meeting = tokio::select! {
                m = self.zoom.get_meeting_recordings(uuid) => m,
                () = cancel.cancelled() => break,
            };
            let meeting = match meeting {
                Ok(m) => m,
                Err(e) if opts.by_uuid_keep_going => {
                    self.events.emit(Event::FileFailed {
                        file: FileRef {
                            meeting_uuid: uuid.clone(),
                            file_id: String::new(),
                            path: uuid.clone(),
                        },
                        class: FailureClass::Details,
                        error: e.to_string(),
                    });
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let host = self.host_of_fetched(&meeting, &mut hosts).await?;
            if !(opts.filters.admits(&meeting) && opts.filters.wants_host(&host, &meeting)) {
                continue;
            }
            f.prefetch(std::slice::from_ref(&meeting)).await?;
            f.call_refreshed(meeting, &host).await?;
        }
        Ok(())
    }

    /// The host label of a meeting asked by its uuid. Zoom's answer for one meeting names
    /// its host by id only (no `host_email`, unlike a listing), so a copy by uuid would be
    /// filed under the id where a sync files it under the email. In order: the email Zoom
    /// gave, the label the state already holds for this meeting (a repair keeps the
    /// folder's and `meeting.json`'s host; an id stored by an earlier build is not kept),
    /// then the host's email from Zoom's user record,
    /// asked once per host per walk. A host whose record cannot be read keeps its id, and
    /// the run says so once for that host.
    async fn host_of_fetched(
        &self,
        meeting: &Meeting,
        hosts: &mut HashMap<String, String>,
    ) -> Result<String, EngineError> {
        if !meeting.host_email.is_empty() || meeting.host_id.is_empty() {
            return Ok(windows::host_label(meeting, &meeting.host_id));
        }
        if let Some(state) = &self.cache
            && let Some(row) = state.meeting(&meeting.uuid).await?
            && !row.host_email.is_empty()
            && row.host_email != meeting.host_id
        {
            return Ok(row.host_email);
        }
        if let Some(known) = hosts.get(&meeting.host_id) {
            return Ok(known.clone());
        }
        let label = match self.zoom.get_user(&meeting.host_id).await {
            Ok(user) if !user.email.is_empty() => user.email,
            Ok(_) => meeting.host_id.clone(),
            Err(e) => {
                self.events.emit(Event::Warning {
                    message: Notice::HostEmailUnknown {
                        host_id: meeting.host_id.clone(),
                        error: e.to_string(),
                    },
                });
                meeting.host_id.clone()
            }
        };
        hosts.insert(meeting.host_id.clone(), label.clone());
        Ok(label)
    }

    /// Without the cache: the whole range of each user in one walk of the client's.
    async fn list_live<F>(
        &self,
        opts: &SyncOptions,
        cancel: &CancellationToken,
        mut f: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        let (scopes, chosen): (Vec<Scope<'_>>, Option<HashSet<&str>>) = match &opts.chosen {
            None => (
                vec![Scope {
                    users: &opts.users,
                    from: opts.from,
                    to: opts.to,
                }],
                None,
            ),
            Some(list) => {
                // One listing per (host, day); the order the meetings were chosen in is kept
                // for the first meeting of each.
                let mut days: Vec<(&UserSelection, Date)> = Vec::new();
                for c in list {
                    if !days.iter().any(|(u, d)| *u == &c.user && *d == c.date) {
                        days.push((&c.user, c.date));
                    }
                }
                let scopes = days
                    .into_iter()
                    .map(|(users, date)| Scope {
                        users,
                        from: date,
                        to: date,
                    })
                    .collect();
                (scopes, Some(list.iter().map(|c| c.uuid.as_str()).collect()))
            }
        };
        // A chosen meeting is handed over once even if two of its scopes list it; so is a
        // meeting the account listing handed over before Zoom refused it.
        let mut handed: HashSet<String> = HashSet::new();
        let mut me_label: Option<String> = None;
        let mut account_refused = false;
        for scope in scopes {
            if cancel.is_cancelled() {
                break;
            }
            if *scope.users == UserSelection::AllUsers && !account_refused {
                match self
                    .list_live_account(&scope, opts, chosen.as_ref(), &mut handed, cancel, &mut f)
                    .await?
                {
                    Walked::Done => continue,
                    Walked::AccountRefused => account_refused = true,
                }
            }
            let users = self.users(scope.users, opts, &mut me_label).await?;
            for (user_id, label) in users {
                if cancel.is_cancelled() {
                    break;
                }
                self.events.emit(Event::ListingUser {
                    user: label.clone(),
                });
                // What the lister has ready (a page or more) arrives as one batch, so `f` can
                // look up the whole batch at once (`AsyncMeetingFn::prefetch`).
                let stream = self
                    .zoom
                    .list_meetings(&user_id, scope.from, scope.to)
                    .ready_chunks(LIST_BATCH);
                futures::pin_mut!(stream);
                while let Some((mut meetings, failed)) = next_batch(&mut stream, cancel).await {
                    meetings.retain(|m| opts.filters.admits(m));
                    if let Some(set) = &chosen {
                        meetings.retain(|m| {
                            set.contains(m.uuid.as_str()) && handed.insert(m.uuid.clone())
                        });
                    } else if account_refused {
                        meetings.retain(|m| !handed.contains(&m.uuid));
                    }
                    f.prefetch(&meetings).await?;
                    for meeting in meetings {
                        let host = windows::host_label(&meeting, &label);
                        f.call(meeting, &host).await?;
                    }
                    if let Some(e) = failed {
                        return Err(e.into());
                    }
                }
            }
        }
        Ok(())
    }

    /// Without the cache, every user's meetings of a scope from the account-wide listing.
    /// A refusal from Zoom is told once and ends it ([`Walked::AccountRefused`]): the
    /// caller lists the users instead.
    async fn list_live_account<F>(
        &self,
        scope: &Scope<'_>,
        opts: &SyncOptions,
        chosen: Option<&HashSet<&str>>,
        handed: &mut HashSet<String>,
        cancel: &CancellationToken,
        f: &mut F,
    ) -> Result<Walked, EngineError>
    where
        F: AsyncMeetingFn,
    {
        self.events.emit(Event::ListingUser {
            user: ACCOUNT_LABEL.to_string(),
        });
        let stream = self
            .zoom
            .list_account_meetings(scope.from, scope.to)
            .ready_chunks(LIST_BATCH);
        futures::pin_mut!(stream);
        while let Some((meetings, failed)) = next_batch(&mut stream, cancel).await {
            let mut hosted: Vec<(String, Meeting)> = meetings
                .into_iter()
                .map(|m| (windows::host_label(&m, &m.host_id), m))
                .filter(|(host, m)| {
                    opts.filters.admits(m)
                        && opts.filters.wants_host(host, m)
                        && chosen.is_none_or(|set| set.contains(m.uuid.as_str()))
                })
                .collect();
            hosted.retain(|(_, m)| handed.insert(m.uuid.clone()));
            let (hosts, batch): (Vec<String>, Vec<Meeting>) = hosted.into_iter().unzip();
            f.prefetch(&batch).await?;
            for (host, meeting) in hosts.into_iter().zip(batch) {
                f.call(meeting, &host).await?;
            }
            match failed {
                Some(e) if e.is_refused() => {
                    if let Some(notice) =
                        admin_listings::refusal_notice(AdminListing::AccountRecordings, &e)
                    {
                        self.events.emit(Event::Warning { message: notice });
                    }
                    return Ok(Walked::AccountRefused);
                }
                Some(e) => return Err(e.into()),
                None => {}
            }
        }
        Ok(Walked::Done)
    }

    /// With the cache: calendar months, each listed from Zoom or taken from the stored
    /// listing as [`windows::decide`] says.
    async fn list_cached<F>(
        &self,
        state: &dyn StateStore,
        opts: &SyncOptions,
        cancel: &CancellationToken,
        mut f: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        // Whose listings, over which months. Picked meetings: their hosts' months, in the
        // order they were picked, each (host, month) once.
        let targets: Vec<(&UserSelection, Vec<Window>)> = match &opts.chosen {
            None => vec![(&opts.users, windows::month_windows(opts.from, opts.to))],
            Some(list) => {
                let mut targets: Vec<(&UserSelection, Vec<Window>)> = Vec::new();
                for c in list {
                    let w = Window::month_of(c.date);
                    if targets
                        .iter()
                        .any(|(u, ws)| *u == &c.user && ws.contains(&w))
                    {
                        continue;
                    }
                    match targets.last_mut() {
                        Some((u, ws)) if *u == &c.user => ws.push(w),
                        _ => targets.push((&c.user, vec![w])),
                    }
                }
                targets
            }
        };
        let mut walk = Walk {
            state,
            opts,
            chosen: opts
                .chosen
                .as_ref()
                .map(|list| list.iter().map(|c| c.uuid.as_str()).collect()),
            handed: HashSet::new(),
            record: !opts.dry_run,
            now: opts.listing.now.unwrap_or_else(jiff::Timestamp::now),
            account: Arc::new(Probe::new(AdminListing::AccountRecordings)),
            summaries: Arc::new(Probe::new(AdminListing::MeetingSummaries)),
            // Summaries of a dry run are never fetched; once Zoom said the plan has none,
            // there is nothing to list.
            list_summaries: opts.summaries && !opts.dry_run && !self.zoom.summaries_not_on_plan(),
            summaries_refusal_told: false,
        };
        let mut me_label: Option<String> = None;
        for (selection, months) in targets {
            if cancel.is_cancelled() {
                break;
            }
            if *selection == UserSelection::AllUsers && !walk.account.refused().await {
                self.events.emit(Event::ListingUser {
                    user: ACCOUNT_LABEL.to_string(),
                });
                match self
                    .walk_scope(
                        &mut walk,
                        &Lister::Account,
                        ACCOUNT_LABEL,
                        &months,
                        cancel,
                        &mut f,
                    )
                    .await?
                {
                    Walked::Done => continue,
                    Walked::AccountRefused => {
                        // Said once: later targets see the refusal and go to the users.
                        if let Some(notice) = walk.account.refusal().await {
                            self.events.emit(Event::Warning { message: notice });
                        }
                    }
                }
            }
            let users = self.users(selection, opts, &mut me_label).await?;
            for (user_id, label) in users {
                if cancel.is_cancelled() {
                    break;
                }
                self.events.emit(Event::ListingUser {
                    user: label.clone(),
                });
                self.walk_scope(
                    &mut walk,
                    &Lister::User(user_id),
                    &label,
                    &months,
                    cancel,
                    &mut f,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// One listing scope's months (a user's, or the account's), newest first: the ones to
    /// list are listed ahead in the background (a few at a time), the others read from the
    /// stored listing in their turn. The account's months also list their summaries when
    /// the run wants them. Ends early when Zoom refuses the account listing.
    async fn walk_scope<F>(
        &self,
        walk: &mut Walk<'_>,
        lister: &Lister,
        label: &str,
        months: &[Window],
        cancel: &CancellationToken,
        f: &mut F,
    ) -> Result<Walked, EngineError>
    where
        F: AsyncMeetingFn,
    {
        let scope = lister.scope();
        let listed_at: HashMap<(String, String), jiff::Timestamp> = walk
            .state
            .listed_windows(&scope)
            .await?
            .into_iter()
            .filter_map(|w| {
                let at = w.listed_at.parse().ok()?;
                Some(((w.window.from, w.window.to), at))
            })
            .collect();
        let plan: Vec<(Window, Source)> = months
            .iter()
            .map(|w| {
                let source = if walk.chosen.is_some() {
                    // A picked meeting may have appeared after its month was stored: only a
                    // fresh listing is sure to hold it.
                    Source::Zoom(windows::Why::Chosen)
                } else {
                    let key = (w.from.to_string(), w.to.to_string());
                    windows::decide(
                        *w,
                        listed_at.get(&key).copied(),
                        &walk.opts.listing,
                        walk.now,
                    )
                };
                (*w, source)
            })
            .collect();
        let to_list: Vec<Window> = plan
            .iter()
            .filter(|(_, s)| matches!(s, Source::Zoom(_)))
            .map(|(w, _)| *w)
            .collect();
        let (listed, stored) = (to_list.len(), plan.len() - to_list.len());
        let with_summaries = walk.list_summaries && *lister == Lister::Account;
        let (account, summaries) = (walk.account.clone(), walk.summaries.clone());
        let fresh = futures::stream::iter(to_list)
            .map(|w| {
                let (zoom, lister) = (self.zoom.clone(), lister.clone());
                let (account, summaries) = (account.clone(), summaries.clone());
                Spawned(tokio::spawn(async move {
                    list_window(zoom, lister, w, account, summaries, with_summaries).await
                }))
            })
            .buffered(WINDOWS_AHEAD);
        futures::pin_mut!(fresh);
        // Only the account's listing of the user's meetings may be refused: the per-user
        // one is the fallback, and any error of it ends the run as before.
        let by_host = *lister == Lister::Account;
        let mut refreshed = 0usize;
        for (w, source) in plan {
            if cancel.is_cancelled() {
                break;
            }
            let (meetings, from_store) = match source {
                Source::Zoom(_) => {
                    let next = tokio::select! {
                        r = fresh.next() => r,
                        _ = cancel.cancelled() => None,
                    };
                    let Some(joined) = next else { break };
                    let listed = joined
                        .map_err(|e| EngineError::Invalid(format!("a listing task failed: {e}")))?;
                    let mut meetings = match listed.meetings {
                        None => return Ok(Walked::AccountRefused),
                        Some(Err(e)) if by_host && e.is_refused() => {
                            return Ok(Walked::AccountRefused);
                        }
                        Some(answer) => answer?,
                    };
                    self.use_summaries(walk, &mut meetings, listed.summaries)
                        .await;
                    (self.record(walk, lister, w, label, meetings).await?, false)
                }
                Source::Stored => match self.stored(walk, &scope, w).await? {
                    Some(meetings) => (meetings, true),
                    None => {
                        // Not readable as stored: list it again now, in line.
                        let answer = match lister {
                            Lister::User(user) => self
                                .zoom
                                .list_meetings(user, w.from, w.to)
                                .try_collect::<Vec<Meeting>>()
                                .await
                                .map(Some),
                            Lister::Account => walk
                                .account
                                .run(
                                    self.zoom
                                        .list_account_meetings(w.from, w.to)
                                        .try_collect::<Vec<Meeting>>(),
                                )
                                .await
                                .transpose(),
                        };
                        let listed = match answer {
                            Ok(Some(listed)) => listed,
                            Ok(None) => return Ok(Walked::AccountRefused),
                            Err(e) if by_host && e.is_refused() => {
                                return Ok(Walked::AccountRefused);
                            }
                            Err(e) => return Err(e.into()),
                        };
                        (self.record(walk, lister, w, label, listed).await?, false)
                    }
                },
            };
            refreshed += self
                .hand_over(walk, meetings, from_store, by_host, f)
                .await?;
        }
        self.events.emit(Event::ListingWindows {
            user: label.to_string(),
            listed,
            stored,
            refreshed,
        });
        Ok(Walked::Done)
    }

    /// Marks a month's meetings with its summary listing, if it came; tells once that Zoom
    /// refused it. Any other failure of the summary listing costs nothing but requests:
    /// the month's meetings are asked for their summaries one by one, as without it.
    async fn use_summaries(
        &self,
        walk: &mut Walk<'_>,
        meetings: &mut [Meeting],
        summaries: Option<Result<Vec<SummaryListing>, ZoomError>>,
    ) {
        match summaries {
            Some(Ok(listed)) => admin_listings::mark_summaries(meetings, &listed),
            Some(Err(_)) | None => {
                if !walk.summaries_refusal_told
                    && let Some(notice) = walk.summaries.refusal().await
                {
                    walk.summaries_refusal_told = true;
                    self.events.emit(Event::Warning { message: notice });
                }
            }
        }
    }

    /// Stores a window listed completely (unless this run records nothing), reports the
    /// meetings it no longer holds, and returns its meetings with their host labels.
    async fn record(
        &self,
        walk: &Walk<'_>,
        lister: &Lister,
        w: Window,
        label: &str,
        listed: Vec<Meeting>,
    ) -> Result<Vec<(String, Meeting)>, EngineError> {
        let scope = &lister.scope();
        let with_hosts: Vec<(String, Meeting)> = listed
            .into_iter()
            .map(|m| {
                let host = match lister {
                    Lister::User(_) => windows::host_label(&m, label),
                    // The account's listing names each meeting's host itself.
                    Lister::Account => windows::host_label(&m, &m.host_id),
                };
                (host, m)
            })
            .collect();
        if walk.record {
            // Every meeting Zoom listed is stored, filters or not: the stored window is
            // what Zoom holds, and another run's filters may want the rest.
            let rows: Vec<ListedMeeting> = with_hosts
                .iter()
                .map(|(h, m)| windows::to_listed(m, h))
                .collect();
            let gone = walk
                .state
                .record_listing(&w.of_scope(scope), &walk.now.to_string(), &rows)
                .await?;
            for g in gone {
                let (topic, start_time) = match windows::from_listed(&g) {
                    Some(m) => (m.topic, m.start_time),
                    None => (String::new(), g.start_time.clone()),
                };
                self.vanished(walk.state, &g.uuid, topic, start_time)
                    .await?;
            }
        }
        Ok(with_hosts)
    }

    /// A window's stored meetings with their host labels; `None` when one does not read.
    async fn stored(
        &self,
        walk: &Walk<'_>,
        scope: &str,
        w: Window,
    ) -> Result<Option<Vec<(String, Meeting)>>, EngineError> {
        let rows = walk.state.window_listing(&w.of_scope(scope)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            match windows::from_listed(&row) {
                Some(m) => out.push((row.host, m)),
                None => {
                    self.events.emit(Event::Warning {
                        message: Notice::StoredListingUnreadable {
                            from: w.from.to_string(),
                            to: w.to.to_string(),
                            meeting_uuid: row.uuid.clone(),
                        },
                    });
                    return Ok(None);
                }
            }
        }
        Ok(Some(out))
    }

    /// Reports a meeting Zoom no longer has, unless zvm itself trashed or deleted it.
    async fn vanished(
        &self,
        state: &dyn StateStore,
        uuid: &str,
        topic: String,
        start_time: String,
    ) -> Result<(), EngineError> {
        let by_zvm = state
            .meeting(uuid)
            .await?
            .is_some_and(|m| matches!(m.cloud, CloudState::Trashed | CloudState::Deleted));
        if !by_zvm {
            self.events.emit(Event::MeetingVanished {
                meeting_uuid: uuid.to_string(),
                topic,
                start_time,
            });
        }
        Ok(())
    }

    /// Filters one window's meetings and hands them to `f` a batch at a time; stored
    /// meetings `f` has work for are asked of Zoom again first. Returns how many were.
    /// `by_host`: the window holds every user's meetings, so `--host` is checked here (a
    /// user's listing was chosen by it already).
    async fn hand_over<F>(
        &self,
        walk: &mut Walk<'_>,
        meetings: Vec<(String, Meeting)>,
        from_store: bool,
        by_host: bool,
        f: &mut F,
    ) -> Result<usize, EngineError>
    where
        F: AsyncMeetingFn,
    {
        let opts = walk.opts;
        let mut kept: Vec<(String, Meeting)> = meetings
            .into_iter()
            .filter(|(host, m)| {
                opts.filters.admits(m)
                    && (!by_host || opts.filters.wants_host(host, m))
                    && match &walk.chosen {
                        Some(set) => set.contains(m.uuid.as_str()),
                        // Whole months are listed: the run's dates cut them.
                        None => windows::starts_within(m, opts.from, opts.to),
                    }
            })
            .collect();
        kept.retain(|(_, m)| walk.handed.insert(m.uuid.clone()));
        let mut refreshed = 0;
        while !kept.is_empty() {
            let rest = kept.split_off(kept.len().min(LIST_BATCH));
            let (hosts, batch): (Vec<String>, Vec<Meeting>) =
                std::mem::replace(&mut kept, rest).into_iter().unzip();
            f.prefetch(&batch).await?;
            for (host, meeting) in hosts.into_iter().zip(batch) {
                if from_store && f.needs_refresh(&meeting, &host).await? {
                    refreshed += 1;
                    self.refresh(walk, meeting, &host, f).await?;
                } else {
                    f.call(meeting, &host).await?;
                }
            }
        }
        Ok(refreshed)
    }

    /// Asks Zoom for one stored meeting by its uuid and hands over the answer (and stores
    /// it). A meeting Zoom no longer has is marked and reported; any other failure leaves
    /// the stored meeting to be used as it is, with a warning.
    async fn refresh<F>(
        &self,
        walk: &Walk<'_>,
        stored: Meeting,
        host: &str,
        f: &mut F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        match self.zoom.get_meeting_recordings(&stored.uuid).await {
            Ok(mut fresh) => {
                // The meeting's own answer may leave out what the listing named.
                if fresh.host_email.is_empty() {
                    fresh.host_email = stored.host_email.clone();
                }
                if walk.record {
                    walk.state
                        .refresh_listed(&windows::to_listed(&fresh, host))
                        .await?;
                }
                f.call_refreshed(fresh, host).await
            }
            Err(e) if gone(&e) => {
                if walk.record {
                    walk.state.forget_listed(&stored.uuid).await?;
                }
                self.vanished(walk.state, &stored.uuid, stored.topic, stored.start_time)
                    .await
            }
            Err(e) => {
                self.events.emit(Event::Warning {
                    message: Notice::RefreshFailed {
                        topic: stored.topic.clone(),
                        error: e.to_string(),
                    },
                });
                f.call(stored, host).await
            }
        }
    }

    /// The users a selection covers, as (id to list, label for folders and events).
    async fn users(
        &self,
        selection: &UserSelection,
        opts: &SyncOptions,
        me_label: &mut Option<String>,
    ) -> Result<Vec<(String, String)>, EngineError> {
        Ok(match selection {
            // Folders are named after the host: ask Zoom who "me" is (one Light request, once
            // a run); if it won't say, "me" still works as a name.
            UserSelection::Me => {
                if me_label.is_none() {
                    *me_label = Some(match self.zoom.get_user("me").await {
                        Ok(u) if !u.email.is_empty() => u.email,
                        _ => "me".to_string(),
                    });
                }
                vec![("me".to_string(), me_label.clone().unwrap_or_default())]
            }
            UserSelection::User(u) => vec![(u.clone(), u.clone())],
            UserSelection::AllUsers => {
                let mut all = Vec::new();
                // Deactivated users keep their recordings: list them too.
                let mut users = self.zoom.list_users(UserStatusFilter::Active).await?;
                users.extend(self.zoom.list_users(UserStatusFilter::Inactive).await?);
                for u in users {
                    let label = if u.email.is_empty() {
                        u.id.clone()
                    } else {
                        u.email.clone()
                    };
                    if let Some(host) = &opts.filters.host
                        && !host.eq_ignore_ascii_case(&u.email)
                        && host != &u.id
                    {
                        continue;
                    }
                    all.push((u.id.clone(), label));
                }
                all
            }
        })
    }
}

/// Zoom's answer for a meeting that has no recording any more (404, code 3301 or none).
fn gone(e: &ZoomError) -> bool {
    e.status() == Some(404) && matches!(e.code(), None | Some(3301))
}

/// What the state and the destination say about one file's local copy, checked in the order
/// the proof needs: the state row, then the size Zoom lists now, then the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyCheck {
    /// Verified at the size Zoom lists, whole under its final name (and hashed, when a
    /// hash is required).
    Proven,
    /// The state row is not verified (pending, partial, failed, skipped).
    NotVerified(FileStatus),
    /// Zoom now lists another size than the one the copy was verified at.
    SizeChanged { listed: u64, recorded: u64 },
    /// Verified earlier, but no file is under its final name now.
    Missing,
    /// Verified earlier, but the file under its final name has another size now.
    WrongSize { found: u64, expected: u64 },
    /// A hash is required and none was read back from the copy yet.
    NoHash,
}

impl CopyCheck {
    pub fn is_proven(&self) -> bool {
        *self == CopyCheck::Proven
    }
}

/// Whether [`check_copy`] needs the file's size at the destination: only for a row that
/// passes every other part of the proof (so a re-run stats only files it might skip).
pub fn needs_stat(row: &FileRow, listed_size: u64) -> bool {
    row.status == FileStatus::Verified && row.expected_size == listed_size
}

/// The check itself: `row` is the file's state row, `listed_size` what Zoom lists now,
/// `on_disk` the size under the final name at the destination (`None`: no such file), and
/// `need_hash` whether a stored SHA-256 is part of the proof.
pub fn check_copy(
    row: &FileRow,
    listed_size: u64,
    on_disk: Option<u64>,
    need_hash: bool,
) -> CopyCheck {
    if row.status != FileStatus::Verified {
        return CopyCheck::NotVerified(row.status);
    }
    if row.expected_size != listed_size {
        return CopyCheck::SizeChanged {
            listed: listed_size,
            recorded: row.expected_size,
        };
    }
    match on_disk {
        None => return CopyCheck::Missing,
        Some(n) if n != listed_size => {
            return CopyCheck::WrongSize {
                found: n,
                expected: listed_size,
            };
        }
        Some(_) => {}
    }
    if need_hash && row.sha256.is_none() {
        return CopyCheck::NoHash;
    }
    CopyCheck::Proven
}

/// [`check_copy`] with the destination asked for the file's size (when the check needs it).
pub async fn check_copy_at(
    dest: &dyn Destination,
    row: &FileRow,
    listed_size: u64,
    need_hash: bool,
) -> Result<CopyCheck, DestError> {
    let on_disk = if needs_stat(row, listed_size) {
        dest.stat_final(&row.rel_path).await?
    } else {
        None
    };
    Ok(check_copy(row, listed_size, on_disk, need_hash))
}

/// Where a listed meeting stands locally, for a front end's status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalStatus {
    /// Nothing of it is here.
    InCloud,
    /// Some of it is here, or was begun.
    Partial,
    /// Every file Zoom has finished processing is proven here.
    Downloaded,
    /// zvm trashed or deleted it in the cloud.
    Trashed,
}

/// The local status of a listed meeting: what the state recorded, checked against what the
/// destination holds now. A state that cannot be read counts as "nothing here".
pub async fn local_status(
    meeting: &Meeting,
    state: &dyn StateStore,
    dest: &dyn Destination,
) -> LocalStatus {
    if let Ok(Some(m)) = state.meeting(&meeting.uuid).await
        && m.cloud != CloudState::Present
    {
        return LocalStatus::Trashed;
    }
    let rows: BTreeMap<String, FileRow> = state
        .files_of_meeting(&meeting.uuid)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.key.file_id.clone(), r))
        .collect();
    let wanted: Vec<_> = meeting
        .recording_files
        .iter()
        .filter(|f| !f.is_processing())
        .collect();
    let (mut done, mut partial) = (0usize, false);
    for f in &wanted {
        let Some(r) = rows.get(&f.id) else {
            continue;
        };
        let on_disk = dest.stat_final(&r.rel_path).await.ok().flatten();
        if check_copy(r, f.file_size, on_disk, false).is_proven() {
            done += 1;
        } else if r.bytes_done > 0
            || on_disk.is_some()
            || matches!(dest.partial_len(&r.rel_path).await, Ok(Some(n)) if n > 0)
        {
            partial = true;
        }
    }
    if !wanted.is_empty() && done == wanted.len() {
        LocalStatus::Downloaded
    } else if done > 0 || partial {
        LocalStatus::Partial
    } else {
        LocalStatus::InCloud
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zvm_state::{FileKey, FileKind};

    fn row(status: FileStatus, size: u64, sha: Option<&str>) -> FileRow {
        FileRow {
            key: FileKey {
                meeting_uuid: "m".into(),
                file_id: "f".into(),
            },
            kind: FileKind::Recording,
            file_type: "MP4".into(),
            recording_type: String::new(),
            rel_path: "a/b.mp4".into(),
            expected_size: size,
            status,
            bytes_done: 0,
            attempts: 0,
            last_error: None,
            sha256: sha.map(str::to_string),
            cloud: CloudState::Present,
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_copy_is_proven_only_when_every_part_of_the_proof_holds() {
        let ok = row(FileStatus::Verified, 10, Some("00"));
        assert_eq!(check_copy(&ok, 10, Some(10), true), CopyCheck::Proven);
        assert_eq!(
            check_copy(&row(FileStatus::Partial, 10, None), 10, Some(10), false),
            CopyCheck::NotVerified(FileStatus::Partial)
        );
        assert_eq!(
            check_copy(&ok, 12, Some(10), false),
            CopyCheck::SizeChanged {
                listed: 12,
                recorded: 10
            }
        );
        assert_eq!(check_copy(&ok, 10, None, false), CopyCheck::Missing);
        assert_eq!(
            check_copy(&ok, 10, Some(9), false),
            CopyCheck::WrongSize {
                found: 9,
                expected: 10
            }
        );
        let unhashed = row(FileStatus::Verified, 10, None);
        assert_eq!(check_copy(&unhashed, 10, Some(10), true), CopyCheck::NoHash);
        assert!(check_copy(&unhashed, 10, Some(10), false).is_proven());
    }

    #[test]
    fn only_a_copy_that_could_be_proven_needs_a_stat() {
        assert!(needs_stat(&row(FileStatus::Verified, 10, None), 10));
        assert!(!needs_stat(&row(FileStatus::Verified, 10, None), 11));
        assert!(!needs_stat(&row(FileStatus::Failed, 10, None), 10));
    }
}
