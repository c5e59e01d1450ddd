//! The engine side of the GUI: a thread with its own tokio runtime that takes [`Cmd`]s and
//! answers with [`Msg`]s. The UI never waits on it: it drains the message channel at the
//! start of each frame, and every message asks egui for a repaint.
//!
//! Pause and cancel both stop the current run through its `CancellationToken`; the engine
//! keeps the `.part` files and commits its state, so "resume" is simply a new run over the
//! same selection, which continues each file from its `.part` with a `Range` request and sends
//! no request at all for files already verified.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use jiff::civil::Date;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use zvm_app::connection::{self, TokenPlace};
use zvm_app::destination::open_destination;
use zvm_app::run_context::RunContext;
use zvm_app::{Cause, Failure, ZoomSettings};
use zvm_dest::Destination;
use zvm_engine::catalog::{self, AsyncMeetingFn, Catalog, LocalStatus};
use zvm_engine::concurrency::MAX_TRANSFERS;
use zvm_engine::{
    ChosenMeeting, Engine, EngineError, Event, EventSink, KeepReason, MoveCandidate, MoveOptions,
    MovePlan, RunMonitor, RunStats, RunSummary, SyncOptions, UserSelection,
};
use zvm_state::{CloudState, SqliteState, StateStore};
use zvm_zoom::models::Meeting;
use zvm_zoom::{
    ClientConfig, Credentials, DeleteAction, LoginConfig, Secret, TokenStore, UserStatusFilter,
    ZoomClient,
};

use crate::model::{FileState, RecFile, Recording, RowStatus};
use crate::search::{RebuildOutcome, SHOWN_HITS, SearchAnswer};
use crate::settings::{AuthMode, GuiSettings};

/// How to reach Zoom, resolved from the settings when the user presses a button.
#[derive(Debug, Clone)]
pub struct ConnectSpec {
    pub mode: AuthMode,
    pub account_id: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub api_base: String,
    pub oauth_base: String,
    pub plan: String,
    pub redirect_port: u16,
    pub tokens: TokenPlace,
    pub open_browser: bool,
}

impl ConnectSpec {
    pub fn from_settings(s: &GuiSettings) -> ConnectSpec {
        ConnectSpec {
            mode: s.auth_mode,
            account_id: s.account_id.trim().to_string(),
            client_id: s.client_id.trim().to_string(),
            client_secret: Some(s.client_secret.trim())
                .filter(|v| !v.is_empty())
                .map(Secret::new),
            api_base: s.api_base.trim().to_string(),
            oauth_base: s.oauth_base.trim().to_string(),
            plan: s.plan.trim().to_string(),
            redirect_port: s.redirect_port,
            tokens: TokenPlace {
                dir: s.resolved_token_dir(),
                kind: s.token_store,
            },
            open_browser: s.open_browser,
        }
    }

    /// The store the CLI uses too: the OS keyring where one answers, else the token file.
    fn token_store(&self) -> Result<Arc<dyn TokenStore>, Failure> {
        self.tokens.store()
    }

    fn zoom_settings(&self) -> ZoomSettings {
        let text = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
        ZoomSettings {
            account_id: text(&self.account_id),
            client_id: text(&self.client_id),
            client_secret: self.client_secret.as_ref().map(|s| s.expose().to_string()),
            api_base: text(&self.api_base),
            oauth_base: text(&self.oauth_base),
            plan: text(&self.plan),
            redirect_port: Some(self.redirect_port),
            ..ZoomSettings::default()
        }
    }

    /// Addresses and plan, checked by the schema (an unknown plan is refused).
    pub fn client_config(&self) -> Result<ClientConfig, Failure> {
        connection::client_config(&self.zoom_settings())
    }
}

/// Where a download or move writes, and how.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub destination: PathBuf,
    /// The destination's login as the window has it (its secrets never shown by `Debug`).
    pub remote: zvm_app::config::RemoteConfig,
    pub state_path: PathBuf,
    pub base: SyncOptions,
    pub per_user: bool,
}

impl JobSpec {
    pub fn from_settings(s: &GuiSettings) -> Result<JobSpec, Failure> {
        let state_path = s.resolved_state_path().ok_or_else(|| {
            Failure::new(
                Cause::NoStatePath,
                "no place for the state database: set one in Settings",
            )
        })?;
        if s.destination.as_os_str().is_empty() {
            return Err(Failure::new(
                Cause::NoDestination,
                "choose a folder to save recordings to (Settings)",
            ));
        }
        let today = jiff::Zoned::now().date();
        let mut base = SyncOptions::new(today, today);
        // The schema decides, as for the CLI: transfers (auto: the engine's controller, up
        // to the most the CLI allows too), rate, hashing, templates, file types, summaries
        // and participant audio.
        s.resolve()?.apply(&mut base);
        debug_assert!(base.transfers <= MAX_TRANSFERS);
        Ok(JobSpec {
            destination: s.destination.clone(),
            remote: s.remote.clone(),
            state_path,
            base,
            per_user: s.auth_mode == AuthMode::ServerToServer,
        })
    }

    /// The selected meetings become one run that takes exactly them, by UUID (a twin with
    /// the same host, day and topic is not downloaded, nor offered for deletion), each found
    /// by listing its host's UTC day (so the listing stays small).
    fn options_for(&self, meetings: &[MeetingSel]) -> SyncOptions {
        let mut o = self.base.clone();
        o.chosen = Some(
            meetings
                .iter()
                .map(|m| ChosenMeeting {
                    uuid: m.uuid.clone(),
                    user: if self.per_user {
                        UserSelection::User(if m.host_email.is_empty() {
                            m.host_id.clone()
                        } else {
                            m.host_email.clone()
                        })
                    } else {
                        UserSelection::Me
                    },
                    date: m.date,
                    files: m.files.clone(),
                })
                .collect(),
        );
        o
    }

    fn audit_log(&self) -> PathBuf {
        self.state_path.with_file_name("audit.jsonl")
    }
}

/// One selected meeting, as the backend needs it.
#[derive(Debug, Clone)]
pub struct MeetingSel {
    pub uuid: String,
    pub topic: String,
    pub host_id: String,
    pub host_email: String,
    pub date: Date,
    /// The files ticked inside it, by id, when only some are (`None`: all of them).
    pub files: Option<BTreeSet<String>>,
}

impl MeetingSel {
    pub fn of(r: &Recording) -> MeetingSel {
        MeetingSel {
            uuid: r.uuid.clone(),
            topic: r.topic.clone(),
            host_id: r.host_id.clone(),
            host_email: r.host.clone(),
            date: r.date,
            files: r.chosen_files(),
        }
    }
}

#[derive(Debug)]
pub enum Cmd {
    /// Prove the credentials work (S2S: fetch a token; user: use the stored one).
    Connect(ConnectSpec),
    /// User OAuth with PKCE through the browser, then connect.
    Login(ConnectSpec),
    TokenStatus(ConnectSpec),
    List {
        users: UserSelection,
        from: Date,
        to: Date,
        job: JobSpec,
    },
    Download {
        meetings: Vec<MeetingSel>,
        job: JobSpec,
    },
    PlanMove {
        meetings: Vec<MeetingSel>,
        job: JobSpec,
    },
    ExecuteMove,
    /// Stop the running download or move (pause and cancel).
    Stop,
    /// Forget the connection, and the stored sign-in of user OAuth (the CLI's too: it is the
    /// same store).
    SignOut(ConnectSpec),
    /// Search the index `index` for `query` (empty: only whether an index is there); the
    /// answer carries `number`.
    Search {
        index: PathBuf,
        query: String,
        number: u64,
    },
    /// Rebuild the search index of this state from the files copied to its destination.
    RebuildIndex {
        state_path: PathBuf,
        destination: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Download,
    PlanMove,
    Move,
}

/// What the stored sign-in looks like (no secret in it).
#[derive(Debug, Clone)]
pub struct TokenView {
    pub present: bool,
    pub expires_at: i64,
    pub has_refresh: bool,
    pub scopes: String,
    pub location: String,
}

#[derive(Debug)]
pub enum Msg {
    Connected {
        mode: AuthMode,
        who: String,
        scopes: Vec<String>,
        /// (id, email) of every user (S2S) for the user picker.
        users: Vec<(String, String)>,
    },
    LoginUrl(String),
    TokenState(TokenView),
    ListStarted,
    ListBatch(Vec<Recording>),
    ListDone,
    Engine(Event),
    /// The engine's accounting of the running download or move plan: a few times a second,
    /// and once more when the run has ended (just before `JobDone`).
    Stats(RunStats),
    JobStarted(JobKind),
    /// The job could not run at all (the reason came as an `Error` just before).
    JobFailed(JobKind),
    JobDone {
        kind: JobKind,
        cancelled: bool,
        summary: RunSummary,
    },
    MovePlanned {
        candidates: Vec<MoveCandidate>,
        /// (meeting uuid, topic, why it stays in the cloud)
        kept: Vec<(String, String, KeepReason)>,
    },
    MoveDone {
        deleted: u64,
        skipped: u64,
    },
    /// Something went wrong: shown in the Problems screen, in the window's language.
    Problem(Problem),
    /// The connection is forgotten (and the stored sign-in removed).
    SignedOut,
    /// The answer to search question `number`.
    SearchAnswer {
        number: u64,
        answer: SearchAnswer,
    },
    /// A rebuild of the search index ended.
    IndexRebuilt(RebuildOutcome),
    /// A download added its text files to the search index (or could not: why).
    IndexUpdated(Result<(), String>),
}

/// A problem to show: its cause (which the window puts in its own words, through its string
/// table), what it concerns (a meeting's topic, a file), and the underlying error's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub cause: Cause,
    pub subject: String,
    pub detail: String,
}

impl Problem {
    pub fn of(f: &Failure) -> Problem {
        // These causes are raised with the window's own English explanation, which the
        // cause's sentence already says in the user's language: no detail beside it.
        let own_words = matches!(
            f.cause,
            Cause::NoDestination
                | Cause::NoStatePath
                | Cause::NotConnected
                | Cause::NoClientId
                | Cause::NothingPlanned
        );
        Problem {
            cause: f.cause,
            subject: String::new(),
            detail: if own_words { String::new() } else { f.detail() },
        }
    }

    pub fn about(mut self, subject: impl Into<String>) -> Problem {
        self.subject = subject.into();
        self
    }
}

/// The UI's end of the channel: sending never blocks, and asks for a repaint.
#[derive(Clone)]
pub struct Outbox {
    tx: std_mpsc::Sender<Msg>,
    repaint: Arc<OnceLock<egui::Context>>,
}

impl Outbox {
    pub fn send(&self, m: Msg) {
        let _ = self.tx.send(m);
        if let Some(ctx) = self.repaint.get() {
            ctx.request_repaint();
        }
    }
}

impl EventSink for Outbox {
    fn emit(&self, event: Event) {
        self.send(Msg::Engine(event));
    }
}

struct PendingMove {
    engine: Engine,
    plans: Vec<MovePlan>,
    mopts: MoveOptions,
    /// Holds the run lock until the plan is carried out or replaced.
    _run: RunContext,
}

#[derive(Default)]
struct Inner {
    client: Option<ZoomClient>,
    mode: AuthMode,
    /// Email of the signed-in person (user OAuth), to pick their trashed meetings.
    me: String,
    cancel: Option<CancellationToken>,
    pending_move: Option<PendingMove>,
}

type Shared = Arc<Mutex<Inner>>;

/// The GUI's handle on the engine thread.
pub struct Backend {
    tx: mpsc::UnboundedSender<Cmd>,
    rx: std_mpsc::Receiver<Msg>,
    repaint: Arc<OnceLock<egui::Context>>,
    outbox: Outbox,
}

impl Backend {
    /// Starts the engine thread and its runtime.
    pub fn start() -> Backend {
        let (tx, mut cmd_rx) = mpsc::unbounded_channel::<Cmd>();
        let (msg_tx, rx) = std_mpsc::channel();
        let repaint = Arc::new(OnceLock::new());
        let outbox = Outbox {
            tx: msg_tx,
            repaint: repaint.clone(),
        };
        let out = outbox.clone();
        std::thread::Builder::new()
            .name("zvm-engine".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        out.send(Msg::Problem(Problem {
                            cause: Cause::Internal,
                            subject: String::new(),
                            detail: e.to_string(),
                        }));
                        return;
                    }
                };
                let shared: Shared = Arc::new(Mutex::new(Inner::default()));
                rt.block_on(async move {
                    while let Some(cmd) = cmd_rx.recv().await {
                        if let Cmd::Stop = cmd {
                            if let Some(c) = lock(&shared).cancel.take() {
                                c.cancel();
                            }
                            continue;
                        }
                        tokio::spawn(handle(cmd, shared.clone(), out.clone()));
                    }
                    // The window closed: stop what runs so state and `.part` files are kept.
                    if let Some(c) = lock(&shared).cancel.take() {
                        c.cancel();
                    }
                });
            })
            .expect("spawn the engine thread");
        Backend {
            tx,
            rx,
            repaint,
            outbox,
        }
    }

    pub fn send(&self, cmd: Cmd) {
        let _ = self.tx.send(cmd);
    }

    pub fn try_recv(&self) -> Option<Msg> {
        self.rx.try_recv().ok()
    }

    /// Lets the engine wake the UI when something happens.
    pub fn set_repaint(&self, ctx: &egui::Context) {
        let _ = self.repaint.set(ctx.clone());
    }

    /// A sender into the UI's own queue (benches and tests feed events through it).
    pub fn outbox(&self) -> Outbox {
        self.outbox.clone()
    }
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

async fn handle(cmd: Cmd, shared: Shared, out: Outbox) {
    let result = match cmd {
        Cmd::Connect(spec) => connect(&spec, &shared, &out).await,
        Cmd::Login(spec) => login(&spec, &shared, &out).await,
        Cmd::TokenStatus(spec) => token_status(&spec, &out),
        Cmd::List {
            users,
            from,
            to,
            job,
        } => {
            let r = list(users, from, to, &job, &shared, &out).await;
            // Whatever happened, the list is no longer being filled.
            out.send(Msg::ListDone);
            r
        }
        Cmd::Download { meetings, job } => {
            let r = run_job(JobKind::Download, meetings, job, &shared, &out).await;
            failed_job(JobKind::Download, r, &out)
        }
        Cmd::PlanMove { meetings, job } => {
            let r = run_job(JobKind::PlanMove, meetings, job, &shared, &out).await;
            failed_job(JobKind::PlanMove, r, &out)
        }
        Cmd::ExecuteMove => {
            let r = execute_move(&shared, &out).await;
            failed_job(JobKind::Move, r, &out)
        }
        Cmd::Stop => Ok(()),
        Cmd::SignOut(spec) => sign_out(&spec, &shared, &out),
        Cmd::Search {
            index,
            query,
            number,
        } => {
            // SQLite is synchronous: the query runs on a blocking thread, off the runtime's
            // workers (and off the UI thread, which only drew the box).
            let answer = tokio::task::spawn_blocking(move || search(&index, &query))
                .await
                .unwrap_or_else(|e| SearchAnswer::Failed(e.to_string()));
            out.send(Msg::SearchAnswer { number, answer });
            Ok(())
        }
        Cmd::RebuildIndex {
            state_path,
            destination,
        } => {
            let outcome = rebuild_index(&state_path, &destination).await;
            out.send(Msg::IndexRebuilt(outcome));
            Ok(())
        }
    };
    if let Err(e) = result {
        out.send(Msg::Problem(Problem::of(&e)));
    }
}

/// A job that could not start (not signed in, another zvm holds the state...): the error is
/// reported first, then the UI is told the job is over.
fn failed_job(kind: JobKind, r: Result<(), Failure>, out: &Outbox) -> Result<(), Failure> {
    if let Err(e) = r {
        out.send(Msg::Problem(Problem::of(&e)));
        out.send(Msg::JobFailed(kind));
    }
    Ok(())
}

fn zerr(e: zvm_zoom::ZoomError) -> Failure {
    Failure::from(e)
}

async fn connect(spec: &ConnectSpec, shared: &Shared, out: &Outbox) -> Result<(), Failure> {
    let cfg = spec.client_config()?;
    let zoom = spec.zoom_settings();
    // The window says which kind of sign-in; `zvm-app` builds it as for the CLI.
    let creds: Credentials = match spec.mode {
        AuthMode::ServerToServer => connection::server_to_server(&zoom)?,
        AuthMode::User => connection::signed_in_user(&zoom, spec.token_store()?)?,
    };
    let client = ZoomClient::new(cfg, creds).map_err(zerr)?;
    client.tokens().access_token().await.map_err(zerr)?;
    let st = client.tokens().status().await.map_err(zerr)?;
    let (who, users) = match spec.mode {
        AuthMode::ServerToServer => {
            let mut users = client
                .list_users(UserStatusFilter::Active)
                .await
                .map_err(zerr)?;
            users.extend(
                client
                    .list_users(UserStatusFilter::Inactive)
                    .await
                    .map_err(zerr)?,
            );
            // The account's ID: the window says "Account ID" beside it in its language.
            (
                spec.account_id.clone(),
                users.into_iter().map(|u| (u.id, u.email)).collect(),
            )
        }
        AuthMode::User => {
            let me = client.get_user("me").await.map_err(zerr)?;
            (me.email, Vec::new())
        }
    };
    {
        let mut g = lock(shared);
        g.client = Some(client);
        g.mode = spec.mode;
        g.me = if spec.mode == AuthMode::User {
            who.clone()
        } else {
            String::new()
        };
    }
    out.send(Msg::Connected {
        mode: spec.mode,
        who,
        scopes: st.scopes,
        users,
    });
    Ok(())
}

async fn login(spec: &ConnectSpec, shared: &Shared, out: &Outbox) -> Result<(), Failure> {
    let client_cfg = spec.client_config()?;
    if spec.client_id.is_empty() {
        return Err(Failure::new(
            Cause::NoClientId,
            "signing in needs your Zoom app's Client ID (Settings)",
        ));
    }
    let store = spec.token_store()?;
    let mut cfg = LoginConfig::new(client_cfg.oauth_base, spec.client_id.clone());
    cfg.client_secret = spec.client_secret.clone();
    cfg.port = spec.redirect_port;
    let http = zvm_zoom::http::api_client(std::time::Duration::from_secs(30)).map_err(zerr)?;
    zvm_zoom::login_pkce(&http, &cfg, store.as_ref(), |url| {
        // The sign-in address carries no secret (PKCE challenge and state only).
        out.send(Msg::LoginUrl(url.to_string()));
        if spec.open_browser {
            zvm_app::browser::open(url);
        }
    })
    .await
    .map_err(zerr)?;
    token_status(spec, out)?;
    let spec = ConnectSpec {
        mode: AuthMode::User,
        ..spec.clone()
    };
    connect(&spec, shared, out).await
}

fn token_status(spec: &ConnectSpec, out: &Outbox) -> Result<(), Failure> {
    let store = spec.token_store()?;
    let view = match store.load().map_err(zerr)? {
        Some(t) => TokenView {
            present: true,
            expires_at: t.expires_at,
            has_refresh: t.refresh_token.is_some(),
            scopes: t.scope.clone(),
            location: store.location(),
        },
        None => TokenView {
            present: false,
            expires_at: 0,
            has_refresh: false,
            scopes: String::new(),
            location: store.location(),
        },
    };
    out.send(Msg::TokenState(view));
    Ok(())
}

fn sign_out(spec: &ConnectSpec, shared: &Shared, out: &Outbox) -> Result<(), Failure> {
    lock(shared).client = None;
    if spec.mode == AuthMode::User {
        spec.token_store()?.clear().map_err(zerr)?;
    }
    out.send(Msg::SignedOut);
    token_status(spec, out)
}

fn client_of(shared: &Shared) -> Result<ZoomClient, Failure> {
    lock(shared).client.clone().ok_or_else(|| {
        Failure::new(
            Cause::NotConnected,
            "not connected to Zoom yet: use the Sign in screen",
        )
    })
}

/// Streams the listing to the UI in batches, with each meeting's status from the state
/// store and the destination.
async fn list(
    users: UserSelection,
    from: Date,
    to: Date,
    job: &JobSpec,
    shared: &Shared,
    out: &Outbox,
) -> Result<(), Failure> {
    let client = client_of(shared)?;
    out.send(Msg::ListStarted);
    // Reading the state needs no run lock (WAL); a missing database means nothing is local.
    let state: Option<Arc<dyn StateStore>> = if job.state_path.exists() {
        SqliteState::open(&job.state_path)
            .ok()
            .map(|s| Arc::new(s) as Arc<dyn StateStore>)
    } else {
        None
    };
    // What is here is read from the destination itself, a folder or a remote one (a bucket,
    // a WebDAV or SFTP folder, a container).
    let dest = open_destination(&job.destination, &job.remote)?;
    // Listing needs no state or destination of its own: the catalog only lists.
    let catalog = Catalog::new(client, Arc::new(|_e: Event| {}));
    let mut opts = job.base.clone();
    opts.from = from;
    opts.to = to;
    opts.users = users.clone();
    let mut collector = Collector {
        state,
        dest,
        batch: Vec::new(),
        out: out.clone(),
        seen: HashSet::new(),
    };
    let cancel = CancellationToken::new();
    let r = catalog
        .for_each_meeting(&opts, &cancel, &mut collector)
        .await;
    if r.is_ok() {
        let me = lock(shared).me.clone();
        collector.add_trashed(&users, &me, from, to).await;
    }
    collector.flush();
    Ok(r?)
}

struct Collector {
    state: Option<Arc<dyn StateStore>>,
    dest: Arc<dyn Destination>,
    batch: Vec<Recording>,
    out: Outbox,
    /// Meetings Zoom listed in this run.
    seen: HashSet<String>,
}

impl Collector {
    /// Zoom's listing leaves out what is in its trash; the state knows what zvm trashed, so
    /// those meetings of the range are shown too, as "trashed".
    async fn add_trashed(&mut self, users: &UserSelection, me: &str, from: Date, to: Date) {
        let Some(state) = self.state.clone() else {
            return;
        };
        let Ok(deletions) = state.deletions().await else {
            return;
        };
        for d in deletions {
            if d.file_id.is_some() || self.seen.contains(&d.meeting_uuid) {
                continue;
            }
            let Ok(Some(m)) = state.meeting(&d.meeting_uuid).await else {
                continue;
            };
            if m.cloud != CloudState::Trashed {
                continue;
            }
            let whose = match users {
                UserSelection::AllUsers => true,
                UserSelection::Me => !me.is_empty() && m.host_email.eq_ignore_ascii_case(me),
                UserSelection::User(u) => m.host_id == *u || m.host_email.eq_ignore_ascii_case(u),
            };
            let date = zvm_engine::artifacts::parse_time(&m.start_time)
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date();
            if !whose || date < from || date > to {
                continue;
            }
            let files = state
                .files_of_meeting(&m.uuid)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f.kind == zvm_state::FileKind::Recording)
                .map(|f| {
                    // Gone from the cloud: what the state says is all there is.
                    let state = if f.status == zvm_state::FileStatus::Verified {
                        FileState::Copied
                    } else {
                        FileState::NotYet
                    };
                    RecFile::new(f.key.file_id, f.file_type, f.expected_size).with_state(state)
                })
                .collect();
            self.seen.insert(m.uuid.clone());
            self.batch.push(Recording::new(
                m.uuid,
                m.host_id,
                m.host_email,
                m.topic,
                m.start_time,
                files,
                RowStatus::Trashed,
            ));
        }
    }

    fn flush(&mut self) {
        if !self.batch.is_empty() {
            self.out
                .send(Msg::ListBatch(std::mem::take(&mut self.batch)));
        }
    }
}

impl AsyncMeetingFn for &mut Collector {
    async fn call(&mut self, meeting: Meeting, host: &str) -> Result<(), EngineError> {
        self.seen.insert(meeting.uuid.clone());
        let status = row_status(&meeting, self.state.as_deref(), &*self.dest).await;
        let states = file_states(&meeting, self.state.as_deref(), &*self.dest).await;
        let files: Vec<RecFile> = meeting
            .recording_files
            .iter()
            .zip(states)
            .map(|(f, state)| {
                RecFile::new(f.id.clone(), f.file_type.as_str(), f.file_size).with_state(state)
            })
            .collect();
        self.batch.push(
            Recording::new(
                meeting.uuid.clone(),
                meeting.host_id.clone(),
                host.to_string(),
                meeting.topic.clone(),
                meeting.start_time.clone(),
                files,
                status,
            )
            .with_duration(meeting.duration),
        );
        if self.batch.len() >= 100 {
            self.flush();
        }
        Ok(())
    }
}

/// In the cloud, downloaded, partial or trashed: the catalog's local status (what the state
/// store recorded, checked against what the destination holds now).
pub async fn row_status(
    meeting: &Meeting,
    state: Option<&dyn StateStore>,
    dest: &dyn Destination,
) -> RowStatus {
    let Some(state) = state else {
        return RowStatus::InCloud;
    };
    match catalog::local_status(meeting, state, dest).await {
        LocalStatus::InCloud => RowStatus::InCloud,
        LocalStatus::Partial => RowStatus::Partial,
        LocalStatus::Downloaded => RowStatus::Downloaded,
        LocalStatus::Trashed => RowStatus::Trashed,
    }
}

/// Where each recording file of `meeting` stands here, in its order: processing at Zoom,
/// copied (the catalog's proof: verified in the state at the size Zoom lists, and present
/// at that size), or not yet.
pub async fn file_states(
    meeting: &Meeting,
    state: Option<&dyn StateStore>,
    dest: &dyn Destination,
) -> Vec<FileState> {
    let rows = match state {
        Some(s) => s.files_of_meeting(&meeting.uuid).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(meeting.recording_files.len());
    for f in &meeting.recording_files {
        if f.is_processing() {
            out.push(FileState::Processing);
            continue;
        }
        let copied = match rows.iter().find(|r| r.key.file_id == f.id) {
            Some(r) if catalog::needs_stat(r, f.file_size) => {
                let on_disk = dest.stat_final(&r.rel_path).await.ok().flatten();
                catalog::check_copy(r, f.file_size, on_disk, false).is_proven()
            }
            _ => false,
        };
        out.push(if copied {
            FileState::Copied
        } else {
            FileState::NotYet
        });
    }
    out
}

/// A download or the first phase of a move over the selection, as one run.
async fn run_job(
    kind: JobKind,
    meetings: Vec<MeetingSel>,
    job: JobSpec,
    shared: &Shared,
    out: &Outbox,
) -> Result<(), Failure> {
    let client = client_of(shared)?;
    // A move waiting for confirmation holds the run lock; a new job replaces it.
    lock(shared).pending_move = None;
    // The run lock, the state and the destination, opened as for the CLI.
    // A folder, or a URL of a kind this build writes to (s3://, webdavs://, sftp://,
    // azblob://, gcs://): opened as the CLI opens it; a refusal (a kind not built, a drive,
    // missing credentials) is the job's Problem and the run does not start.
    let destination = open_destination(&job.destination, &job.remote)?;
    let run = RunContext::open_to(&job.state_path, destination)?;
    let engine = Engine::new(
        client,
        run.state.clone(),
        run.destination.clone(),
        Arc::new(out.clone()),
    );
    let cancel = CancellationToken::new();
    lock(shared).cancel = Some(cancel.clone());
    out.send(Msg::JobStarted(kind));
    let monitor = engine.monitor();
    let reporter = tokio::spawn(report_stats(monitor.clone(), out.clone()));
    let mopts = MoveOptions {
        action: DeleteAction::Trash,
        older_than: None,
        audit_log: job.audit_log(),
    };
    let opts = job.options_for(&meetings);
    let mut plans = Vec::new();
    let r = match kind {
        JobKind::PlanMove => engine
            .plan_move(&opts, &mopts, cancel.clone())
            .await
            .map(|p| {
                let s = p.sync.clone();
                plans.push(p);
                s
            }),
        _ => engine.sync(&opts, cancel.clone()).await,
    };
    let mut total = r.unwrap_or_else(|e| {
        out.send(Msg::Problem(Problem::of(&Failure::from(e))));
        RunSummary::default()
    });
    total.cancelled = cancel.is_cancelled();
    lock(shared).cancel = None;
    reporter.abort();
    // Waited for, so no tick of it can arrive after the final figures.
    let _ = reporter.await;
    // The run's final figures, before the window hears that it ended.
    if let Some(stats) = monitor.snapshot() {
        out.send(Msg::Stats(stats));
    }
    // What arrived is searchable once the window says the run is over, as after `zvm sync`.
    if kind == JobKind::Download {
        index_after_download(&job, run.state.as_ref(), out).await;
    }
    out.send(Msg::JobDone {
        kind,
        cancelled: total.cancelled,
        summary: total.clone(),
    });
    if kind == JobKind::PlanMove && !total.cancelled {
        let candidates = plans.iter().flat_map(|p| p.candidates.clone()).collect();
        // The reasons stay types: the window says them in its language.
        let kept = plans.iter().flat_map(|p| p.kept.clone()).collect();
        lock(shared).pending_move = Some(PendingMove {
            engine,
            plans,
            mopts,
            _run: run,
        });
        out.send(Msg::MovePlanned { candidates, kept });
    }
    Ok(())
}

/// The answer to a search: `NoIndex` without an index file or with an empty one (opening
/// would create one, so its absence is checked first).
fn search(index_path: &std::path::Path, query: &str) -> SearchAnswer {
    if !index_path.exists() {
        return SearchAnswer::NoIndex;
    }
    let index = match zvm_archive::SearchIndex::open(index_path) {
        Ok(i) => i,
        Err(e) => return SearchAnswer::Failed(e.to_string()),
    };
    match index.size() {
        Ok(s) if s.files == 0 => return SearchAnswer::NoIndex,
        Ok(_) => {}
        Err(e) => return SearchAnswer::Failed(e.to_string()),
    }
    if query.trim().is_empty() {
        return SearchAnswer::Hits(Vec::new());
    }
    match index.search(query, SHOWN_HITS) {
        Ok(hits) => SearchAnswer::Hits(hits),
        Err(zvm_archive::ArchiveError::Query(q)) => SearchAnswer::BadQuery(q.to_string()),
        Err(e) => SearchAnswer::Failed(e.to_string()),
    }
}

/// Empties the index beside `state_path` and indexes again every verified text file in
/// `destination` (a folder), as `zvm search --rebuild`.
async fn rebuild_index(
    state_path: &std::path::Path,
    destination: &std::path::Path,
) -> RebuildOutcome {
    if !matches!(
        zvm_app::destination::check_destination(destination),
        Ok(zvm_app::destination::DestinationKind::Folder)
    ) || destination.as_os_str().is_empty()
    {
        return RebuildOutcome::NotAFolder;
    }
    if !state_path.exists() {
        return RebuildOutcome::NothingCopied;
    }
    let result = async {
        // Reading the state needs no run lock (WAL), as the listing reads it.
        let state = SqliteState::open(state_path).map_err(|e| e.to_string())?;
        let mut index =
            zvm_archive::SearchIndex::open(&zvm_archive::SearchIndex::path_beside(state_path))
                .map_err(|e| e.to_string())?;
        index.clear().map_err(|e| e.to_string())?;
        index
            .update(&state, destination)
            .await
            .map_err(|e| e.to_string())?;
        let size = index.size().map_err(|e| e.to_string())?;
        Ok::<_, String>(RebuildOutcome::Rebuilt {
            files: size.files,
            lines: size.lines,
        })
    }
    .await;
    result.unwrap_or_else(RebuildOutcome::Failed)
}

/// After a download into a folder: its transcripts, chats and summaries go into the search
/// index (as `zvm sync` does). A failure is reported and changes nothing of the run.
async fn index_after_download(job: &JobSpec, state: &dyn StateStore, out: &Outbox) {
    if !matches!(
        zvm_app::destination::check_destination(&job.destination),
        Ok(zvm_app::destination::DestinationKind::Folder)
    ) {
        return;
    }
    let result = async {
        let mut index = zvm_archive::SearchIndex::open(&zvm_archive::SearchIndex::path_beside(
            &job.state_path,
        ))?;
        index.update(state, &job.destination).await
    }
    .await;
    out.send(Msg::IndexUpdated(
        result.map(|_| ()).map_err(|e| e.to_string()),
    ));
}

/// How often the window gets the run's figures while it runs: often enough for the rate and
/// the time left to move when no event arrives (a stalled download), rarely enough to cost
/// nothing.
const STATS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Sends the engine's accounting of the running job to the window until aborted; the window
/// counts nothing itself.
async fn report_stats(monitor: RunMonitor, out: Outbox) {
    let mut tick = tokio::time::interval(STATS_EVERY);
    loop {
        tick.tick().await;
        if let Some(stats) = monitor.snapshot() {
            out.send(Msg::Stats(stats));
        }
    }
}

/// Phase 2 of a move: delete exactly what the confirmed plan listed.
async fn execute_move(shared: &Shared, out: &Outbox) -> Result<(), Failure> {
    let Some(pending) = lock(shared).pending_move.take() else {
        return Err(Failure::new(
            Cause::NothingPlanned,
            "nothing to remove: check what can be removed first",
        ));
    };
    let cancel = CancellationToken::new();
    lock(shared).cancel = Some(cancel.clone());
    out.send(Msg::JobStarted(JobKind::Move));
    let (mut deleted, mut skipped) = (0, 0);
    for plan in &pending.plans {
        match pending
            .engine
            .execute_move(plan, &pending.mopts, &cancel)
            .await
        {
            Ok((d, s)) => {
                deleted += d;
                skipped += s;
            }
            Err(e) => out.send(Msg::Problem(Problem::of(&Failure::from(e)))),
        }
    }
    lock(shared).cancel = None;
    out.send(Msg::MoveDone { deleted, skipped });
    Ok(())
}
