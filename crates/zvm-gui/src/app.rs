//! The window: its screens (Set up, Settings, Sign in, Recordings, Transfers, Move, Search,
//! Problems) drawn from [`crate::model`] and [`crate::search`] data, and buttons that send
//! [`Cmd`]s to the engine thread. Nothing here waits: each frame first drains the engine's
//! messages, then draws.

mod search_screen;

use std::path::PathBuf;

use egui::{Align, Layout, RichText, ScrollArea, Ui, vec2};
use jiff::civil::Date;

use zvm_engine::events::SkipReason;
use zvm_engine::{Event, KeepReason, MoveCandidate, UserSelection};

use crate::backend::{
    Backend, Cmd, ConnectSpec, JobKind, JobSpec, MeetingSel, Msg, Problem, TokenView,
};
use crate::date_picker::date_picker;
use crate::elide::elide_path;
use crate::i18n::{Lang, S};
use crate::model::{
    FileState, Line, LogKind, LogLine, RecFile, RecordingList, RowStatus, Said, SortKey, TfState,
    Transfers, human_bytes, human_secs, local_when_of, utc_days_covering, zone_label,
};
use crate::notifications::{Notification, RunOutcome};
use crate::search::SearchView;
use crate::settings::{AuthMode, GuiSettings, SettingsFiles};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Setup,
    Settings,
    SignIn,
    Recordings,
    Transfers,
    Move,
    Search,
    Log,
}

impl Screen {
    pub const ALL: [Screen; 8] = [
        Screen::Setup,
        Screen::Settings,
        Screen::SignIn,
        Screen::Recordings,
        Screen::Transfers,
        Screen::Move,
        Screen::Search,
        Screen::Log,
    ];

    fn title(self) -> S {
        match self {
            Screen::Setup => S::ScreenSetup,
            Screen::Settings => S::ScreenSettings,
            Screen::SignIn => S::ScreenSignIn,
            Screen::Recordings => S::ScreenRecordings,
            Screen::Transfers => S::ScreenTransfers,
            Screen::Move => S::ScreenMove,
            Screen::Search => S::ScreenSearch,
            Screen::Log => S::ScreenLog,
        }
    }
}

/// Where the current download or move stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Idle,
    Running(JobKind),
    Paused,
    Cancelled,
    Finished(JobKind),
}

/// Date ranges offered beside the two date fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePreset {
    Last7Days,
    Last30Days,
    ThisYear,
    LastYear,
    Last12Months,
}

impl DatePreset {
    pub const ALL: [DatePreset; 5] = [
        DatePreset::Last7Days,
        DatePreset::Last30Days,
        DatePreset::ThisYear,
        DatePreset::LastYear,
        DatePreset::Last12Months,
    ];

    fn words(self) -> S {
        match self {
            DatePreset::Last7Days => S::Last7Days,
            DatePreset::Last30Days => S::Last30Days,
            DatePreset::ThisYear => S::ThisYear,
            DatePreset::LastYear => S::LastYear,
            DatePreset::Last12Months => S::Last12Months,
        }
    }

    /// The local days of the preset, as of `today` (both ends included).
    pub fn range(self, today: Date) -> (Date, Date) {
        let back = |days: i64| {
            today
                .checked_sub(jiff::Span::new().days(days))
                .unwrap_or(today)
        };
        let jan1 = |y: i16| Date::new(y, 1, 1).unwrap_or(today);
        match self {
            DatePreset::Last7Days => (back(6), today),
            DatePreset::Last30Days => (back(29), today),
            DatePreset::ThisYear => (jan1(today.year()), today),
            DatePreset::LastYear => {
                let y = today.year() - 1;
                (jan1(y), Date::new(y, 12, 31).unwrap_or(today))
            }
            DatePreset::Last12Months => (
                today
                    .checked_sub(jiff::Span::new().years(1))
                    .and_then(|d| d.tomorrow())
                    .unwrap_or(today),
                today,
            ),
        }
    }
}

/// Whose recordings to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPick {
    Me,
    All,
    One(String),
}

/// A move plan awaiting confirmation: what will be deleted, and (uuid, topic, reason) of
/// what stays.
pub type MovePlanView = (Vec<MoveCandidate>, Vec<(String, String, KeepReason)>);

/// Who we are connected as.
#[derive(Debug, Clone)]
pub struct Connection {
    pub mode: AuthMode,
    pub who: String,
    pub scopes: Vec<String>,
}

pub struct ZvmApp {
    pub settings: GuiSettings,
    /// Where the settings are read from and saved to (`None`: not saved, tests).
    pub settings_files: Option<SettingsFiles>,
    pub screen: Screen,
    backend: Backend,
    pub connection: Option<Connection>,
    pub users: Vec<(String, String)>,
    pub user_pick: UserPick,
    pub login_url: Option<String>,
    pub token: Option<TokenView>,
    pub from_text: String,
    pub to_text: String,
    pub filter_text: String,
    /// File types to download and move (empty: every type), as `zvm --file-types`.
    pub file_types: std::collections::BTreeSet<String>,
    pub list: RecordingList,
    pub listing: bool,
    pub transfers: Transfers,
    pub job: JobState,
    /// The selection of the last download, for "resume".
    pub last_download: Vec<MeetingSel>,
    pub move_plan: Option<MovePlanView>,
    pub move_result: Option<(u64, u64)>,
    pub log: Vec<LogLine>,
    /// The Search screen: the words asked and the lines found.
    pub search: SearchView,
    /// Lines of the Recordings table laid out in the last frame that drew it: those in
    /// view, however long the list (a test reads it).
    pub rows_drawn: usize,
    pub notice: Option<String>,
    /// The folder "Open folder" last opened (tests read it; the window opens it).
    pub last_opened: Option<PathBuf>,
    /// The address a link of the window last opened (tests read it).
    pub last_link: Option<String>,
    /// The notification the end of the last download decided on (tests read it).
    pub last_notification: Option<Notification>,
    /// Hand notifications to the OS (tests keep them in `last_notification` only).
    pub deliver_notifications: bool,
    /// Keep the client secret on this computer (keyring or private file).
    pub remember_secret: bool,
    /// Where a kept secret goes, said on the set-up page: the file, and whether the
    /// keyring may hold it instead.
    pub secret_place: (PathBuf, bool),
    /// The window's own choices as last saved, to save them again the moment they change.
    saved_choices: (Lang, crate::settings::Theme, f32),
    /// The text size now applied to the window's styles.
    applied_text_scale: f32,
    /// The "remove from the cloud?" question is open.
    pub confirm_remove: bool,
    /// The "stop copying and close?" question is open.
    pub confirm_close: bool,
    /// The user chose to close while copying: the next close request goes through.
    closing: bool,
    /// A sign-in was asked for: once connected, the window shows the recordings.
    after_sign_in: bool,
    pause_requested: bool,
}

impl ZvmApp {
    pub fn new(settings: GuiSettings, settings_files: Option<SettingsFiles>) -> ZvmApp {
        let today = jiff::Zoned::now().date();
        let from = today
            .checked_sub(jiff::Span::new().days(365))
            .unwrap_or(today);
        let user_pick = match settings.auth_mode {
            AuthMode::User => UserPick::Me,
            AuthMode::ServerToServer => UserPick::All,
        };
        let file_types = settings.file_types.clone();
        let mut list = RecordingList::default();
        list.set_time_zone(jiff::tz::TimeZone::system());
        let screen = if crate::setup::is_ready(&settings) {
            Screen::SignIn
        } else {
            Screen::Setup
        };
        let secret_place = settings
            .resolved_token_dir()
            .map(|d| zvm_app::secret_store::SecretStore::planned(&d, settings.token_store))
            .unwrap_or_default();
        let saved_choices = (settings.language, settings.theme, settings.text_scale);
        ZvmApp {
            settings,
            settings_files,
            screen,
            backend: Backend::start(),
            connection: None,
            users: Vec::new(),
            user_pick,
            login_url: None,
            token: None,
            from_text: from.to_string(),
            to_text: today.to_string(),
            filter_text: String::new(),
            file_types,
            list,
            listing: false,
            transfers: Transfers::default(),
            job: JobState::Idle,
            last_download: Vec::new(),
            move_plan: None,
            move_result: None,
            log: Vec::new(),
            search: SearchView::default(),
            rows_drawn: 0,
            notice: None,
            last_opened: None,
            last_link: None,
            last_notification: None,
            deliver_notifications: true,
            remember_secret: true,
            secret_place,
            saved_choices,
            applied_text_scale: 1.0,
            confirm_remove: false,
            confirm_close: false,
            closing: false,
            after_sign_in: false,
            pause_requested: false,
        }
    }

    /// Shows days and times in `tz` (the computer's zone by default; tests pick one).
    pub fn set_time_zone(&mut self, tz: jiff::tz::TimeZone) {
        self.list.set_time_zone(tz);
    }

    fn lang(&self) -> Lang {
        self.settings.language
    }

    fn t(&self, s: S) -> &'static str {
        self.settings.language.t(s)
    }

    /// The engine thread's sender into this app's queue (benches feed events through it).
    pub fn outbox(&self) -> crate::backend::Outbox {
        self.backend.outbox()
    }

    /// Feeds a message as if it came from the engine thread (benches, tests).
    pub fn inject(&mut self, m: Msg) {
        self.on_msg(m);
    }

    /// Applies what the engine thread sent since the last frame.
    pub fn drain(&mut self) {
        // Bounded so a flood of events can never stall a frame.
        for _ in 0..20_000 {
            match self.backend.try_recv() {
                Some(m) => self.on_msg(m),
                None => break,
            }
        }
    }

    /// Says in Problems that config.toml holds secrets others can read (`text`: zvm-app's
    /// warning, which names the file and the keys, never a value).
    pub fn warn_readable_config(&mut self, text: String) {
        self.log_line(
            LogKind::Warning,
            String::new(),
            Said::Key(S::ConfigSecretsReadable),
            text,
        );
    }

    fn log_line(&mut self, kind: LogKind, subject: String, said: Said, text: String) {
        let at = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
        self.log.push(LogLine {
            at,
            kind,
            subject,
            said,
            text,
        });
    }

    fn log_problem(&mut self, p: Problem) {
        self.log_line(LogKind::Error, p.subject, Said::Cause(p.cause), p.detail);
    }

    fn on_msg(&mut self, m: Msg) {
        match m {
            Msg::Connected {
                mode,
                who,
                scopes,
                users,
            } => {
                self.connection = Some(Connection { mode, who, scopes });
                self.users = users;
                self.user_pick = match mode {
                    AuthMode::User => UserPick::Me,
                    AuthMode::ServerToServer => match &self.user_pick {
                        UserPick::Me => UserPick::All,
                        p => p.clone(),
                    },
                };
                // Signing in leads somewhere: the recordings of the date range.
                if std::mem::take(&mut self.after_sign_in) {
                    self.screen = Screen::Recordings;
                    self.start_list();
                }
            }
            Msg::LoginUrl(u) => self.login_url = Some(u),
            Msg::TokenState(t) => self.token = Some(t),
            Msg::ListStarted => {
                self.list.clear();
                self.listing = true;
            }
            Msg::ListBatch(b) => self.list.extend(b),
            Msg::ListDone => self.listing = false,
            Msg::Engine(e) => {
                self.transfers.apply(&e);
                match e {
                    // What the engine says is a type; the log line puts it in the window's
                    // words, with the underlying error's words beside them.
                    Event::FileFailed { file, class, error } => {
                        self.log_line(LogKind::FileFailed, file.path, Said::Failed(class), error)
                    }
                    Event::FileSkipped {
                        file,
                        reason: reason @ SkipReason::Processing,
                        ..
                    } => self.log_line(
                        LogKind::Warning,
                        file.path,
                        Said::Skipped(reason),
                        String::new(),
                    ),
                    Event::Warning { message } => {
                        let detail = crate::i18n_events::notice_detail(&message).to_string();
                        self.log_line(
                            LogKind::Warning,
                            String::new(),
                            Said::Notice(message),
                            detail,
                        )
                    }
                    Event::DeleteSkipped { topic, reason, .. } => {
                        self.log_line(LogKind::Warning, topic, Said::Keep(reason), String::new())
                    }
                    Event::CloudDeleted {
                        meeting_uuid,
                        file_id: None,
                        ..
                    } => self.list.set_status(&meeting_uuid, RowStatus::Trashed),
                    _ => {}
                }
            }
            Msg::Stats(stats) => self.transfers.set_run_stats(stats),
            Msg::JobStarted(kind) => self.job = JobState::Running(kind),
            Msg::JobFailed(_) => {
                self.job = JobState::Idle;
                self.pause_requested = false;
            }
            Msg::JobDone {
                kind, cancelled, ..
            } => {
                if cancelled {
                    self.transfers.stop_active();
                    self.job = if self.pause_requested {
                        JobState::Paused
                    } else {
                        JobState::Cancelled
                    };
                } else {
                    self.job = JobState::Finished(kind);
                    if kind == JobKind::Download {
                        self.notify_end_of_run();
                    }
                }
                self.pause_requested = false;
                self.refresh_row_statuses();
            }
            Msg::MovePlanned { candidates, kept } => self.move_plan = Some((candidates, kept)),
            Msg::MoveDone { deleted, skipped } => {
                self.move_result = Some((deleted, skipped));
                self.move_plan = None;
                self.job = JobState::Finished(JobKind::Move);
            }
            Msg::Problem(p) => self.log_problem(p),
            Msg::SearchAnswer { number, answer } => {
                let tz = self.list.time_zone().clone();
                let dest = self.settings.destination.clone();
                self.search.answer(number, answer, &tz, &dest);
            }
            Msg::IndexRebuilt(outcome) => {
                self.search.rebuild_ended(outcome);
                self.ask_search();
            }
            Msg::IndexUpdated(Ok(())) => {
                // New lines may match what is shown: asked again (once the screen was seen).
                if self.search.index != crate::search::IndexState::Unknown {
                    self.ask_search();
                }
            }
            Msg::IndexUpdated(Err(detail)) => self.log_line(
                LogKind::Warning,
                String::new(),
                Said::Key(S::IndexNotUpdated),
                detail,
            ),
            Msg::SignedOut => {
                self.connection = None;
                self.users.clear();
                self.login_url = None;
                if !matches!(
                    self.screen,
                    Screen::Setup | Screen::Settings | Screen::Log | Screen::Search
                ) {
                    self.screen = Screen::SignIn;
                }
            }
        }
    }

    /// Tells the desktop that a download ended (unless the person turned it off): what was
    /// copied and what failed, in the window's language. Never waits for the OS.
    fn notify_end_of_run(&mut self) {
        if !self.settings.notify_at_end {
            return;
        }
        let tf = &self.transfers;
        let n = crate::notifications::end_of_run(
            self.lang(),
            RunOutcome {
                copied: tf.files_done,
                bytes: tf.done_bytes,
                failed: tf.failed_count(),
            },
        );
        if self.deliver_notifications {
            crate::notifications::send(n.clone());
        }
        self.last_notification = Some(n);
    }

    /// After a run, what the transfers say about each listed meeting of the run: its files
    /// that arrived are copied, and the meeting is downloaded when every file Zoom has
    /// ready is, else partly here (some files chosen, or one failed).
    fn refresh_row_statuses(&mut self) {
        use std::collections::BTreeMap;
        let mut arrived: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for r in &self.transfers.rows {
            let files = arrived.entry(r.file.meeting_uuid.as_str()).or_default();
            if r.state == TfState::Done {
                files.push(r.file.file_id.as_str());
            }
        }
        for (uuid, ids) in arrived {
            self.list.files_copied(uuid, &ids);
        }
    }

    fn job_spec(&mut self) -> Option<JobSpec> {
        match JobSpec::from_settings(&self.settings) {
            Ok(mut j) => {
                j.base.filters.file_types = self.file_types.clone();
                Some(j)
            }
            Err(e) => {
                self.log_problem(Problem::of(&e));
                None
            }
        }
    }

    // ---- actions (buttons call these; tests may too) ----

    pub fn connect(&mut self) {
        self.after_sign_in = true;
        self.backend
            .send(Cmd::Connect(ConnectSpec::from_settings(&self.settings)));
        if self.settings.auth_mode == AuthMode::User {
            self.backend
                .send(Cmd::TokenStatus(ConnectSpec::from_settings(&self.settings)));
        }
    }

    /// User OAuth through the browser: the sign-in address arrives as `login_url`.
    pub fn sign_in_with_browser(&mut self) {
        self.after_sign_in = true;
        self.login_url = None;
        self.backend
            .send(Cmd::Login(ConnectSpec::from_settings(&self.settings)));
    }

    /// Forgets the connection and the stored sign-in.
    pub fn sign_out(&mut self) {
        self.backend
            .send(Cmd::SignOut(ConnectSpec::from_settings(&self.settings)));
    }

    pub fn start_list(&mut self) {
        let parse = |s: &str| s.trim().parse::<Date>();
        let (from, to) = match (parse(&self.from_text), parse(&self.to_text)) {
            (Ok(f), Ok(t)) if f <= t => (f, t),
            _ => {
                let got = format!("{} .. {}", self.from_text, self.to_text);
                self.log_line(LogKind::Error, String::new(), Said::Key(S::BadDates), got);
                return;
            }
        };
        let users = match &self.user_pick {
            UserPick::Me => UserSelection::Me,
            UserPick::All => UserSelection::AllUsers,
            UserPick::One(id) => UserSelection::User(id.clone()),
        };
        if let Some(job) = self.job_spec() {
            // The user's days are local; Zoom's are UTC: ask for the UTC days that cover
            // them, and let the list keep the local ones.
            self.list.set_days(Some((from, to)));
            let (from, to) = utc_days_covering(from, to);
            self.listing = true;
            self.backend.send(Cmd::List {
                users,
                from,
                to,
                job,
            });
        }
    }

    pub fn start_download(&mut self) {
        let meetings: Vec<MeetingSel> = self.list.selected().map(MeetingSel::of).collect();
        if meetings.is_empty() {
            return;
        }
        self.last_download = meetings.clone();
        self.run_download(meetings);
    }

    fn run_download(&mut self, meetings: Vec<MeetingSel>) {
        if let Some(job) = self.job_spec() {
            self.transfers.clear();
            self.job = JobState::Running(JobKind::Download);
            self.backend.send(Cmd::Download { meetings, job });
            self.screen = Screen::Transfers;
        }
    }

    pub fn pause(&mut self) {
        self.pause_requested = true;
        self.backend.send(Cmd::Stop);
    }

    pub fn resume(&mut self) {
        if matches!(self.job, JobState::Finished(JobKind::Download)) {
            self.retry_failed();
            return;
        }
        let m = self.last_download.clone();
        if let Some(job) = self.job_spec() {
            // Keep the rows and what the paused run verified: the new run goes on from there.
            self.transfers.resume();
            self.job = JobState::Running(JobKind::Download);
            self.backend.send(Cmd::Download { meetings: m, job });
        }
    }

    /// Resume goes on with a stopped download, and after a finished one with failed files
    /// (what the Problems screen advises) it fetches those again, as "Retry failed" does.
    pub fn can_resume(&self) -> bool {
        if self.last_download.is_empty() {
            return false;
        }
        match self.job {
            JobState::Paused | JobState::Cancelled => true,
            // Asked every frame: the count is kept, the failed meetings are gathered only
            // when Resume is pressed.
            JobState::Finished(JobKind::Download) => self.transfers.failed_count() > 0,
            _ => false,
        }
    }

    /// Downloads again the meetings of the files that failed; what arrived stays counted.
    pub fn retry_failed(&mut self) {
        let failed = self.transfers.failed_meetings();
        let meetings: Vec<MeetingSel> = self
            .last_download
            .iter()
            .filter(|m| failed.contains(&m.uuid))
            .cloned()
            .collect();
        if meetings.is_empty() || self.is_busy() {
            return;
        }
        if let Some(job) = self.job_spec() {
            self.transfers.resume();
            self.job = JobState::Running(JobKind::Download);
            self.backend.send(Cmd::Download { meetings, job });
        }
    }

    /// Opens the destination folder in the system's file manager.
    pub fn open_folder(&mut self) {
        let dir = self.settings.destination.clone();
        if self.settings.open_browser {
            zvm_app::browser::open(&dir.to_string_lossy());
        }
        self.last_opened = Some(dir);
    }

    pub fn cancel(&mut self) {
        self.pause_requested = false;
        self.backend.send(Cmd::Stop);
    }

    pub fn plan_move(&mut self) {
        let meetings: Vec<MeetingSel> = self.list.selected().map(MeetingSel::of).collect();
        if meetings.is_empty() {
            return;
        }
        if let Some(job) = self.job_spec() {
            self.move_plan = None;
            self.move_result = None;
            self.transfers.clear();
            self.job = JobState::Running(JobKind::PlanMove);
            self.backend.send(Cmd::PlanMove { meetings, job });
        }
    }

    pub fn confirm_move(&mut self) {
        self.job = JobState::Running(JobKind::Move);
        self.backend.send(Cmd::ExecuteMove);
    }

    pub fn is_busy(&self) -> bool {
        matches!(self.job, JobState::Running(_))
    }

    // ---- drawing ----

    /// One frame.
    pub fn ui(&mut self, ui: &mut Ui) {
        self.backend.set_repaint(ui.ctx());
        self.drain();
        if ui.ctx().input(|i| i.viewport().close_requested()) && self.hold_close() {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui));
        egui::Panel::left("nav")
            .resizable(false)
            .exact_size(150.0 * self.settings.text_scale)
            .show(ui, |ui| self.nav(ui));
        self.apply_appearance(ui.ctx());
        egui::CentralPanel::default().show(ui, |ui| match self.screen {
            Screen::Setup => self.setup_screen(ui),
            Screen::Settings => self.settings_screen(ui),
            Screen::SignIn => self.signin_screen(ui),
            Screen::Recordings => self.recordings_screen(ui),
            Screen::Transfers => self.transfers_screen(ui),
            Screen::Move => self.move_screen(ui),
            Screen::Search => self.search_screen(ui),
            Screen::Log => self.log_screen(ui),
        });
        if self.confirm_close {
            self.close_confirmation(ui);
        }
        self.save_choices_if_changed();
    }

    /// Theme and text size, applied when they change (not every frame: restyling costs).
    fn apply_appearance(&mut self, ctx: &egui::Context) {
        use crate::settings::Theme;
        let pref = match self.settings.theme {
            Theme::System => egui::ThemePreference::System,
            Theme::Light => egui::ThemePreference::Light,
            Theme::Dark => egui::ThemePreference::Dark,
        };
        if ctx.options(|o| o.theme_preference) != pref {
            ctx.set_theme(pref);
        }
        let scale = self.settings.text_scale;
        if scale != self.applied_text_scale {
            let base = egui::Style::default().text_styles;
            ctx.all_styles_mut(|style| {
                for (ts, font) in style.text_styles.iter_mut() {
                    if let Some(b) = base.get(ts) {
                        font.size = b.size * scale;
                    }
                }
            });
            self.applied_text_scale = scale;
        }
    }

    /// The language, theme and text size are kept the moment they change.
    fn save_choices_if_changed(&mut self) {
        let now = (
            self.settings.language,
            self.settings.theme,
            self.settings.text_scale,
        );
        if now == self.saved_choices {
            return;
        }
        self.saved_choices = now;
        if let Some(files) = &self.settings_files
            && let Err(e) = self.settings.save_choices(files)
        {
            self.log_line(
                LogKind::Error,
                String::new(),
                Said::Key(S::SaveFailed),
                e.to_string(),
            );
        }
    }

    /// Whether a screen is useful yet: Sign in once the set-up is complete, Recordings and
    /// Move once connected, Transfers once something was started.
    pub fn screen_ready(&self, s: Screen) -> bool {
        match s {
            // Searching what is already copied needs no connection.
            Screen::Setup | Screen::Settings | Screen::Log | Screen::Search => true,
            Screen::SignIn => self.connection.is_some() || crate::setup::is_ready(&self.settings),
            Screen::Recordings => self.connection.is_some() || !self.list.rows.is_empty(),
            Screen::Move => !self.list.rows.is_empty() || self.move_plan.is_some(),
            Screen::Transfers => !self.transfers.rows.is_empty() || self.job != JobState::Idle,
        }
    }

    fn setup_screen(&mut self, ui: &mut Ui) {
        use crate::setup::SetupAction;
        let lang = self.lang();
        let action = ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                crate::setup::page(
                    ui,
                    lang,
                    &mut self.settings,
                    &mut self.remember_secret,
                    &self.secret_place,
                )
            })
            .inner;
        match action {
            SetupAction::None => {}
            SetupAction::OpenMarketplace => self.open_link(crate::setup::MARKETPLACE_URL),
            SetupAction::Browse => self.browse_destination(),
            SetupAction::Continue => self.finish_setup(),
        }
    }

    /// Opens an address in the browser (and notes it for tests).
    pub fn open_link(&mut self, url: &str) {
        if self.settings.open_browser {
            zvm_app::browser::open(url);
        }
        self.last_link = Some(url.to_string());
    }

    /// Picks the destination with the system's folder dialog (`native-dialogs` builds).
    pub fn browse_destination(&mut self) {
        #[cfg(feature = "native-dialogs")]
        {
            let mut dialog = rfd::FileDialog::new();
            if self.settings.destination.is_dir() {
                dialog = dialog.set_directory(&self.settings.destination);
            }
            if let Some(dir) = dialog.pick_folder() {
                self.settings.destination = dir;
            }
        }
    }

    /// Set-up done: settings saved, the secret kept (or forgotten) as asked, on to Sign in.
    pub fn finish_setup(&mut self) {
        if !crate::setup::is_ready(&self.settings) {
            return;
        }
        if let Some(files) = &self.settings_files
            && let Err(e) = self.settings.save(files)
        {
            self.log_line(
                LogKind::Error,
                String::new(),
                Said::Key(S::SaveFailed),
                e.to_string(),
            );
        }
        self.keep_secret();
        self.screen = Screen::SignIn;
    }

    /// Keeps the typed client secret (or removes a kept one) as the user chose.
    fn keep_secret(&mut self) {
        let Some(dir) = self.settings.resolved_token_dir() else {
            return;
        };
        let store = zvm_app::secret_store::SecretStore::choose(&dir, self.settings.token_store);
        let secret = self.settings.client_secret.trim().to_string();
        let r = if self.remember_secret && !secret.is_empty() {
            store.save(&secret)
        } else if !self.remember_secret {
            store.clear()
        } else {
            Ok(())
        };
        if let Err(e) = r {
            self.log_line(
                LogKind::Error,
                String::new(),
                Said::Key(S::SecretKeepFailed),
                e.to_string(),
            );
        }
        for problem in self
            .settings
            .keep_remote_secrets(self.settings_files.as_ref())
        {
            self.log_line(
                LogKind::Error,
                String::new(),
                Said::Key(S::RemoteSecretKeepFailed),
                problem,
            );
        }
    }

    /// The window is asked to close: while a copy runs, it stays open and asks first.
    /// True when the close is held back.
    pub fn hold_close(&mut self) -> bool {
        if self.is_busy() && !self.closing {
            self.confirm_close = true;
            true
        } else {
            false
        }
    }

    fn close_confirmation(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("confirm-close")).show(ui.ctx(), |ui| {
            ui.set_max_width(460.0);
            ui.heading(t(S::CloseWhileCopyingTitle));
            ui.label(t(S::CloseWhileCopyingBody));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button(t(S::KeepCopying)).clicked() {
                    answer = Some(false);
                }
                if ui.add(danger_button(ui, t(S::StopAndClose))).clicked() {
                    answer = Some(true);
                }
            });
        });
        match answer {
            Some(true) => {
                self.confirm_close = false;
                self.closing = true;
                self.cancel();
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Some(false) => self.confirm_close = false,
            None => {}
        }
    }

    fn top_bar(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.heading(self.t(S::AppTitle));
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                for l in [Lang::Ja, Lang::En] {
                    ui.selectable_value(&mut self.settings.language, l, l.label());
                }
                ui.label(format!("{}:", self.t(S::Language)));
                let state = match self.job {
                    JobState::Running(_) => self.t(S::Running),
                    JobState::Paused => self.t(S::Paused),
                    _ => "",
                };
                ui.label(state);
            });
        });
    }

    fn nav(&mut self, ui: &mut Ui) {
        ui.add_space(6.0);
        for s in Screen::ALL {
            let mut text = self.t(s.title()).to_string();
            if s == Screen::Log && !self.log.is_empty() {
                text = format!("{text} ({})", self.log.len());
            }
            let ready = self.screen_ready(s);
            if ui
                .add_enabled(ready, egui::Button::selectable(self.screen == s, text))
                .clicked()
            {
                self.screen = s;
            }
        }
    }

    fn settings_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenSettings));
        let mut browse = false;
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .max_height(ui.available_height() - 40.0)
            .show(ui, |ui| {
                browse = self.settings_fields(ui);
            });
        if browse {
            self.browse_destination();
        }
        ui.horizontal(|ui| {
            if ui.button(t(S::Save)).clicked() {
                match self.settings_files.as_ref().map(|f| self.settings.save(f)) {
                    Some(Ok(())) => self.notice = Some(t(S::Saved).to_string()),
                    Some(Err(e)) => self.log_line(
                        LogKind::Error,
                        String::new(),
                        Said::Key(S::SaveFailed),
                        e.to_string(),
                    ),
                    None => {}
                }
                self.keep_secret();
            }
            if let Some(n) = &self.notice {
                ui.label(n.as_str());
            }
        });
    }

    /// The settings grid; true when "Browse…" was pressed.
    fn settings_fields(&mut self, ui: &mut Ui) -> bool {
        use crate::settings::{TEXT_SCALES, Theme};
        let lang = self.lang();
        let t = |s| lang.t(s);
        let mut browse = false;
        let s = &mut self.settings;
        egui::Grid::new("settings")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                ui.label(t(S::Language));
                ui.horizontal(|ui| {
                    ui.radio_value(&mut s.language, Lang::En, Lang::En.label());
                    ui.radio_value(&mut s.language, Lang::Ja, Lang::Ja.label());
                });
                ui.end_row();
                ui.label(t(S::Appearance));
                ui.horizontal(|ui| {
                    ui.radio_value(&mut s.theme, Theme::System, t(S::ThemeSystem));
                    ui.radio_value(&mut s.theme, Theme::Light, t(S::ThemeLight));
                    ui.radio_value(&mut s.theme, Theme::Dark, t(S::ThemeDark));
                });
                ui.end_row();
                ui.label(t(S::TextSize));
                ui.horizontal(|ui| {
                    for (scale, k) in
                        TEXT_SCALES
                            .iter()
                            .zip([S::TextNormal, S::TextLarge, S::TextLarger])
                    {
                        ui.radio_value(&mut s.text_scale, *scale, t(k));
                    }
                });
                ui.end_row();
                ui.label(t(S::AuthMode));
                ui.vertical(|ui| {
                    ui.radio_value(&mut s.auth_mode, AuthMode::User, t(S::AuthUser));
                    ui.radio_value(&mut s.auth_mode, AuthMode::ServerToServer, t(S::AuthS2S));
                });
                ui.end_row();
                if s.auth_mode == AuthMode::ServerToServer {
                    ui.label(t(S::AccountId));
                    ui.add(egui::TextEdit::singleline(&mut s.account_id).desired_width(360.0));
                    ui.end_row();
                }
                ui.label(t(S::ClientId));
                ui.add(egui::TextEdit::singleline(&mut s.client_id).desired_width(360.0));
                ui.end_row();
                ui.label(t(S::ClientSecret));
                ui.add(
                    egui::TextEdit::singleline(&mut s.client_secret)
                        .password(true)
                        .desired_width(360.0),
                );
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut self.remember_secret, t(S::RememberSecret));
                ui.end_row();
                ui.label(t(S::Destination));
                ui.horizontal(|ui| {
                    path_edit(ui, &mut s.destination);
                    browse = cfg!(feature = "native-dialogs") && ui.button(t(S::Browse)).clicked();
                });
                ui.end_row();
                ui.label("");
                crate::setup::destination_verdict(ui, lang, &s.destination);
                ui.end_row();
                if crate::remote_fields::service_of(&s.destination).is_some() {
                    ui.label("");
                    ui.vertical(|ui| {
                        crate::remote_fields::rows(
                            ui,
                            lang,
                            &s.destination,
                            &mut s.remote,
                            crate::setup::LABEL_W,
                        );
                    });
                    ui.end_row();
                }
                ui.label(t(S::FolderTemplate));
                ui.add(egui::TextEdit::singleline(&mut s.folder_template).desired_width(360.0));
                ui.end_row();
                ui.label(t(S::FileTemplate));
                ui.add(egui::TextEdit::singleline(&mut s.file_template).desired_width(360.0));
                ui.end_row();
                ui.label(t(S::NamePreview));
                match crate::name_preview::preview(&s.folder_template, &s.file_template) {
                    Ok(p) => ui.add(egui::Label::new(RichText::new(p).monospace()).wrap()),
                    Err(e) => ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("{} {e}", t(S::TemplateProblem)),
                    ),
                };
                ui.end_row();
                ui.label(t(S::Transfers));
                ui.horizontal(|ui| {
                    ui.checkbox(&mut s.transfers_auto, t(S::TransfersAuto));
                    // Up to the most the CLI and the engine allow.
                    ui.add_enabled(
                        !s.transfers_auto,
                        egui::Slider::new(&mut s.transfers, 1..=zvm_app::parse::MAX_TRANSFERS),
                    );
                });
                ui.end_row();
                ui.label(t(S::BandwidthLimit));
                ui.add(
                    egui::DragValue::new(&mut s.bwlimit_mib)
                        .range(0.0..=10_000.0)
                        .speed(0.5),
                );
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut s.verify_hash, t(S::VerifyHash));
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut s.summaries, t(S::Summaries));
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut s.participant_audio, t(S::ParticipantAudio));
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut s.notify_at_end, t(S::NotifyAtEnd));
                ui.end_row();
            });
        ui.add_space(6.0);
        egui::CollapsingHeader::new(t(S::Advanced))
            .id_salt("advanced")
            .show(ui, |ui| {
                egui::Grid::new("advanced-grid")
                    .num_columns(3)
                    .spacing([12.0, 6.0])
                    .show(ui, |ui| {
                        ui.label(t(S::ApiBase));
                        ui.add(egui::TextEdit::singleline(&mut s.api_base).desired_width(360.0));
                        crate::setup::verdict(ui, lang, crate::setup::check_address(&s.api_base));
                        ui.end_row();
                        ui.label(t(S::OauthBase));
                        ui.add(egui::TextEdit::singleline(&mut s.oauth_base).desired_width(360.0));
                        crate::setup::verdict(ui, lang, crate::setup::check_address(&s.oauth_base));
                        ui.end_row();
                        ui.label(t(S::StateFile));
                        path_edit(ui, &mut s.state_path);
                        ui.label("");
                        ui.end_row();
                        ui.label(t(S::TokenFolder));
                        path_edit(ui, &mut s.token_dir);
                        ui.label("");
                        ui.end_row();
                        ui.label(t(S::Plan));
                        ui.add(egui::TextEdit::singleline(&mut s.plan).desired_width(120.0));
                        ui.label("");
                        ui.end_row();
                    });
            });
        browse
    }

    fn signin_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenSignIn));
        ui.label(match self.settings.auth_mode {
            AuthMode::User => t(S::AuthUser),
            AuthMode::ServerToServer => t(S::AuthS2S),
        });
        ui.add_space(6.0);
        match self.settings.auth_mode {
            AuthMode::ServerToServer => {
                if ui.button(t(S::SignInS2S)).clicked() {
                    self.connect();
                }
            }
            AuthMode::User => {
                ui.horizontal(|ui| {
                    if ui.button(t(S::SignInBrowser)).clicked() {
                        self.sign_in_with_browser();
                    }
                    if ui.button(t(S::SignIn)).clicked() {
                        self.connect();
                    }
                    if ui.button(t(S::CheckToken)).clicked() {
                        self.backend
                            .send(Cmd::TokenStatus(ConnectSpec::from_settings(&self.settings)));
                    }
                });
                if let Some(url) = &self.login_url {
                    ui.label(t(S::OpenThisAddress));
                    ui.hyperlink_to(url.as_str(), url.as_str());
                }
            }
        }
        ui.separator();
        let mut sign_out = false;
        match &self.connection {
            Some(c) => {
                let who = match c.mode {
                    AuthMode::ServerToServer => format!("{} {}", t(S::AccountId), c.who),
                    AuthMode::User => c.who.clone(),
                };
                ui.label(RichText::new(format!("{}: {who}", t(S::SignedInAs))).strong());
                ui.label(format!("{}: {}", t(S::Scopes), c.scopes.join(" ")));
            }
            None => {
                ui.label(t(S::NotSignedIn));
            }
        }
        let stored = self.token.as_ref().is_some_and(|t| t.present);
        if self.connection.is_some() || stored {
            ui.horizontal(|ui| {
                sign_out = ui
                    .add_enabled(!self.is_busy(), egui::Button::new(t(S::SignOut)))
                    .clicked();
                ui.weak(t(S::SignOutNote));
            });
        }
        if sign_out {
            self.sign_out();
        }
        if let Some(tok) = &self.token {
            ui.separator();
            ui.label(RichText::new(t(S::StoredToken)).strong());
            if tok.present {
                let left = tok.expires_at - jiff::Timestamp::now().as_second();
                if left > 0 {
                    ui.label(format!("{} {}", t(S::TokenExpiresIn), left / 60));
                } else {
                    ui.label(t(S::TokenExpired));
                }
                ui.label(format!(
                    "{}: {}",
                    t(S::RefreshToken),
                    if tok.has_refresh {
                        t(S::Present)
                    } else {
                        t(S::Absent)
                    }
                ));
                ui.label(format!("{}: {}", t(S::Scopes), tok.scopes));
            } else {
                ui.label(t(S::NoStoredToken));
            }
            ui.weak(tok.location.as_str());
        }
    }

    fn recordings_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenRecordings));
        if self.connection.is_none() {
            ui.label(t(S::NotConnected));
        }
        ui.horizontal_wrapped(|ui| {
            let today = jiff::Timestamp::now()
                .to_zoned(self.list.time_zone().clone())
                .date();
            ui.label(t(S::From));
            let date_w = 90.0 * self.settings.text_scale;
            ui.add(egui::TextEdit::singleline(&mut self.from_text).desired_width(date_w));
            date_picker(ui, lang, "from", &mut self.from_text, today);
            ui.label(t(S::To));
            ui.add(egui::TextEdit::singleline(&mut self.to_text).desired_width(date_w));
            date_picker(ui, lang, "to", &mut self.to_text, today);
            if self.settings.auth_mode == AuthMode::ServerToServer {
                ui.label(t(S::User));
                let current = match &self.user_pick {
                    UserPick::Me => t(S::Me).to_string(),
                    UserPick::All => t(S::AllUsers).to_string(),
                    UserPick::One(id) => self
                        .users
                        .iter()
                        .find(|(i, _)| i == id)
                        .map(|(_, e)| e.clone())
                        .unwrap_or_else(|| id.clone()),
                };
                egui::ComboBox::from_id_salt("user")
                    .selected_text(current)
                    .width(200.0)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.user_pick, UserPick::All, t(S::AllUsers));
                        for (id, email) in &self.users {
                            ui.selectable_value(
                                &mut self.user_pick,
                                UserPick::One(id.clone()),
                                email.as_str(),
                            );
                        }
                    });
            }
            // Presets fill the two dates (local days) and list at once.
            let mut preset = None;
            egui::ComboBox::from_id_salt("presets")
                .selected_text("…")
                .width(30.0)
                .show_ui(ui, |ui| {
                    for p in DatePreset::ALL {
                        if ui.selectable_label(false, t(p.words())).clicked() {
                            preset = Some(p);
                        }
                    }
                });
            if let Some(p) = preset {
                let today = jiff::Timestamp::now()
                    .to_zoned(self.list.time_zone().clone())
                    .date();
                let (from, to) = p.range(today);
                self.from_text = from.to_string();
                self.to_text = to.to_string();
                if !self.listing {
                    self.start_list();
                }
            }
            let list = ui.add_enabled(!self.listing, egui::Button::new(t(S::List)));
            if list.clicked() {
                self.start_list();
            }
            if self.listing {
                ui.label(t(S::Listing));
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(t(S::Filter));
            if ui
                .add(egui::TextEdit::singleline(&mut self.filter_text).desired_width(180.0))
                .changed()
            {
                self.list.set_filter(&self.filter_text);
            }
            let mut pending = self.list.only_pending();
            if ui.checkbox(&mut pending, t(S::OnlyPending)).changed() {
                self.list.set_only_pending(pending);
            }
            if ui.button(t(S::SelectAll)).clicked() {
                self.list.select_visible(true);
            }
            if ui.button(t(S::SelectNone)).clicked() {
                self.list.select_visible(false);
            }
        });
        if !self.list.types_seen.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.label(t(S::FileTypes));
                for ty in &self.list.types_seen {
                    let mut on = self.file_types.contains(ty);
                    if ui.checkbox(&mut on, lang.file_type(ty)).changed() {
                        if on {
                            self.file_types.insert(ty.clone());
                        } else {
                            self.file_types.remove(ty);
                        }
                    }
                }
            });
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!(
                    "{}: {} {} · {}",
                    t(S::Selected),
                    self.list.selected_count,
                    t(S::Meetings),
                    human_bytes(self.list.selected_bytes),
                ))
                .strong(),
            );
            ui.label(format!(
                "{}: {} / {}: {}",
                t(S::Shown),
                self.list.visible.len(),
                t(S::Listed),
                self.list.rows.len()
            ));
            let can = self.list.selected_count > 0 && !self.is_busy();
            if ui
                .add_enabled(can, egui::Button::new(t(S::Download)))
                .clicked()
            {
                self.start_download();
            }
            if ui
                .add_enabled(can, egui::Button::new(t(S::MoveSelected)))
                .clicked()
            {
                self.screen = Screen::Move;
            }
        });
        ui.weak(format!(
            "{} {} · {}",
            t(S::TimesIn),
            zone_label(self.list.time_zone()),
            t(S::SortHint)
        ));
        ui.separator();
        self.recordings_table(ui);
    }

    /// The listed meetings, one row each, in columns that fit the window: the fixed columns
    /// keep their widths (the status words are never cut) and the topic and the host share
    /// what is left.
    fn recordings_table(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        // Widths in points at normal text size; larger text widens them all.
        let k = self.settings.text_scale;
        let (date_w, size_w, status_w) = (118.0 * k, 80.0 * k, 128.0 * k);
        let row_h = 20.0 * k;
        let gap = ui.spacing().item_spacing.x;
        // The file types and the length go first when the window is too narrow for every
        // column at this text size: the topic, date, size and status always show whole.
        let room = ui.available_width() - (date_w + size_w + status_w + 16.0 + 6.0 * gap);
        let types_w = if room - 150.0 * k >= 260.0 * k {
            150.0 * k
        } else {
            0.0
        };
        let len_w = if room - types_w - 56.0 * k >= 260.0 * k {
            56.0 * k
        } else {
            0.0
        };
        let fixed = date_w + types_w + len_w + size_w + status_w + 6.0 * gap + 16.0;
        let flexible = (ui.available_width() - fixed).max(160.0 * k);
        let topic_w = (flexible * 0.62).floor();
        let host_w = flexible - topic_w;
        let (key, ascending) = self.list.sorting();
        let mut sort = None;
        ui.horizontal(|ui| {
            let mut head = |ui: &mut Ui, w: f32, s: S, k: Option<SortKey>| {
                let arrow = match (Some(key) == k, ascending) {
                    (false, _) => "",
                    (true, true) => " ▲",
                    (true, false) => " ▼",
                };
                ui.allocate_ui_with_layout(
                    vec2(w, row_h),
                    Layout::left_to_right(Align::Center),
                    |ui| {
                        ui.set_width(w);
                        let text = RichText::new(format!("{}{arrow}", t(s))).strong();
                        match k {
                            Some(k) => {
                                if ui
                                    .add(egui::Button::new(text).frame(false).truncate())
                                    .clicked()
                                {
                                    sort = Some(k);
                                }
                            }
                            None => {
                                ui.add(egui::Label::new(text).truncate());
                            }
                        }
                    },
                );
            };
            head(ui, topic_w, S::ColTopic, Some(SortKey::Topic));
            head(ui, date_w, S::ColDate, Some(SortKey::Date));
            head(ui, host_w, S::ColHost, Some(SortKey::Host));
            if types_w > 0.0 {
                head(ui, types_w, S::ColTypes, None);
            }
            if len_w > 0.0 {
                head(ui, len_w, S::ColDuration, Some(SortKey::Duration));
            }
            head(ui, size_w, S::ColSize, Some(SortKey::Size));
            head(ui, status_w, S::ColStatus, Some(SortKey::Status));
        });
        if let Some(k) = sort {
            self.list.sort_by(k);
        }
        let lines = self.list.line_count();
        let mut toggled: Vec<(usize, bool)> = Vec::new();
        let mut file_toggled: Vec<(usize, usize, bool)> = Vec::new();
        let mut opened: Vec<(usize, bool)> = Vec::new();
        let minutes = t(S::Minutes);
        // A file's line leaves the date, host, type and length columns empty.
        let skipped = 2 + usize::from(types_w > 0.0) + usize::from(len_w > 0.0);
        let file_cols = FileColumns {
            row_h,
            topic: topic_w,
            skip: date_w + host_w + types_w + len_w + skipped as f32 * gap,
            size: size_w,
            status: status_w,
        };
        let mut drawn = 0;
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_h, lines, |ui, range| {
                for k in range {
                    drawn += 1;
                    let i = match self.list.line(k) {
                        Line::Meeting(i) => i,
                        Line::File(i, j) => {
                            let r = &self.list.rows[i];
                            let f = &r.files[j];
                            if let Some(on) = file_line(ui, lang, f, r.selected, &file_cols) {
                                file_toggled.push((i, j, on));
                            }
                            continue;
                        }
                    };
                    let r = &self.list.rows[i];
                    ui.horizontal(|ui| {
                        ui.set_height(row_h);
                        let mut on = r.selected;
                        ui.allocate_ui_with_layout(
                            vec2(topic_w, row_h),
                            Layout::left_to_right(Align::Center),
                            |ui| {
                                ui.set_width(topic_w);
                                // The arrow opens the meeting to its files; its name for
                                // assistive tools (and tests) says whose files. Painted, not
                                // a text button: one widget per row, nothing to lay out.
                                let open = expand_arrow(ui, r.expanded, row_h, || {
                                    t(S::FilesOfMeeting).replace("{topic}", &r.topic)
                                });
                                if open.clicked() {
                                    opened.push((i, !r.expanded));
                                }
                                // The box and the topic beside it, cut to the column (a
                                // long topic must not push the other columns right);
                                // clicking the topic ticks the box too. Some files ticked:
                                // the box says so.
                                let tick = ui.add(
                                    egui::Checkbox::without_text(&mut on)
                                        .indeterminate(r.selected && r.partly_chosen()),
                                );
                                let topic = ui.add(
                                    egui::Label::new(r.topic.as_str())
                                        .truncate()
                                        .sense(egui::Sense::click()),
                                );
                                if topic.clicked() {
                                    on = !on;
                                }
                                if tick.changed() || topic.clicked() {
                                    toggled.push((i, on));
                                }
                            },
                        );
                        cell(ui, date_w, r.when.as_str());
                        cell(ui, host_w, r.host.as_str());
                        if types_w > 0.0 {
                            cell(ui, types_w, lang.file_types(&r.types));
                        }
                        if len_w > 0.0 {
                            let len = if r.duration_min > 0 {
                                format!("{} {minutes}", r.duration_min)
                            } else {
                                String::new()
                            };
                            cell(ui, len_w, len);
                        }
                        cell(ui, size_w, human_bytes(r.bytes));
                        let (st, color) = match r.status {
                            RowStatus::InCloud => (t(S::StInCloud), None),
                            RowStatus::Downloaded => (
                                t(S::StDownloaded),
                                Some(ui.visuals().widgets.inactive.fg_stroke.color),
                            ),
                            RowStatus::Partial => {
                                (t(S::StPartial), Some(ui.visuals().warn_fg_color))
                            }
                            RowStatus::Trashed => {
                                (t(S::StTrashed), Some(ui.visuals().weak_text_color()))
                            }
                        };
                        let text = match color {
                            Some(c) => RichText::new(st).color(c),
                            None => RichText::new(st),
                        };
                        cell(ui, status_w, text);
                    });
                }
            });
        self.rows_drawn = drawn;
        for (i, on) in toggled {
            self.list.set_selected(i, on);
        }
        for (i, j, on) in file_toggled {
            self.list.set_file_chosen(i, j, on);
        }
        for (i, open) in opened {
            self.list.set_expanded(i, open);
        }
    }

    fn transfers_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenTransfers));
        let state = match self.job {
            JobState::Idle => t(S::Idle),
            JobState::Running(_) => t(S::Running),
            JobState::Paused => t(S::Paused),
            JobState::Cancelled => t(S::Cancelled),
            JobState::Finished(_) => t(S::Finished),
        };
        ui.label(RichText::new(state).strong());
        if matches!(self.job, JobState::Finished(JobKind::Download)) {
            self.run_summary(ui);
        }
        let tf = &self.transfers;
        ui.label(format!(
            "{}: {} / {} · {}: {} / {}",
            t(S::Overall),
            human_bytes(tf.done_bytes),
            human_bytes(tf.total_bytes),
            t(S::FilesDone),
            tf.files_done,
            lang.count(tf.rows.len() as u64, S::FileOne, S::FileMany),
        ));
        ui.add(
            egui::ProgressBar::new(tf.fraction())
                .show_percentage()
                .desired_width(ui.available_width().min(600.0)),
        );
        let downloading = !tf.active.is_empty();
        let (rate, eta) = if tf.rate > 1.0 {
            (
                format!("{}/s", human_bytes(tf.rate as u64)),
                tf.eta_secs().map(human_secs).unwrap_or_else(|| "–".into()),
            )
        } else if downloading {
            // Files are arriving but the engine has not measured a speed yet.
            (t(S::Measuring).to_string(), t(S::Measuring).to_string())
        } else {
            ("–".into(), "–".into())
        };
        ui.label(format!("{}: {rate} · {}: {eta}", t(S::Rate), t(S::Eta)));
        ui.horizontal_wrapped(|ui| {
            let running = matches!(self.job, JobState::Running(JobKind::Download));
            if ui
                .add_enabled(running, egui::Button::new(t(S::Pause)))
                .clicked()
            {
                self.pause();
            }
            if ui
                .add_enabled(self.can_resume(), egui::Button::new(t(S::Resume)))
                .clicked()
            {
                self.resume();
            }
            if ui
                .add_enabled(self.is_busy(), egui::Button::new(t(S::Cancel)))
                .clicked()
            {
                self.cancel();
            }
        });
        ui.separator();
        self.transfers_table(ui);
    }

    /// What a finished download did, and what the user can do next.
    fn run_summary(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        let tf = &self.transfers;
        let failed = tf.failed_count();
        let mut open = false;
        let mut retry = false;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.label(RichText::new(t(S::SummaryDone)).strong());
            ui.label(format!(
                "{}: {} · {}",
                t(S::SummaryCopied),
                lang.count(tf.files_done, S::FileOne, S::FileMany),
                human_bytes(tf.done_bytes)
            ));
            if failed > 0 {
                ui.label(
                    RichText::new(format!(
                        "{}: {}",
                        t(S::SummaryFailedFiles),
                        lang.count(failed, S::FileOne, S::FileMany)
                    ))
                    .color(ui.visuals().error_fg_color),
                );
            } else {
                ui.label(t(S::SummaryAllGood));
            }
            // A bucket or a WebDAV, SFTP or Azure folder is no folder of this computer to open.
            let folder = matches!(
                zvm_app::destination::check_destination(&self.settings.destination),
                Ok(zvm_app::destination::DestinationKind::Folder)
            );
            ui.horizontal(|ui| {
                open = ui
                    .add_enabled(folder, egui::Button::new(t(S::OpenFolder)))
                    .clicked();
                retry = ui
                    .add_enabled(failed > 0, egui::Button::new(t(S::RetryFailed)))
                    .clicked();
            });
        });
        if open {
            self.open_folder();
        }
        if retry {
            self.retry_failed();
        }
    }

    fn transfers_table(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        let k = self.settings.text_scale;
        let (state_w, bar_w, bytes_w, speed_w, left_w) =
            (170.0 * k, 90.0 * k, 132.0 * k, 80.0 * k, 44.0 * k);
        let row_h = 20.0 * k;
        let gap = ui.spacing().item_spacing.x;
        let path_w = (ui.available_width()
            - (state_w + bar_w + bytes_w + speed_w + left_w + 5.0 * gap + 16.0))
            .max(120.0);
        ui.horizontal(|ui| {
            for (w, s) in [
                (state_w, S::ColState),
                (bar_w, S::ColProgress),
                (bytes_w, S::ColSize),
                (speed_w, S::ColSpeed),
                (left_w, S::ColLeft),
                (path_w, S::ColFile),
            ] {
                cell(ui, w, RichText::new(t(s)).strong());
            }
        });
        let tf = &self.transfers;
        let body = egui::TextStyle::Body.resolve(ui.style());
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_h, tf.rows.len(), |ui, range| {
                for i in range {
                    let r = &tf.rows[i];
                    ui.horizontal(|ui| {
                        ui.set_height(row_h);
                        let frac = if r.size > 0 {
                            r.done as f32 / r.size as f32
                        } else {
                            0.0
                        };
                        let error = ui.visuals().error_fg_color;
                        let (label, frac) = match &r.state {
                            TfState::Queued => (RichText::new(t(S::TfQueued)), frac),
                            TfState::Active => (RichText::new(t(S::TfActive)), frac),
                            TfState::Done => (RichText::new(t(S::TfDone)), 1.0),
                            TfState::Failed(_) => {
                                let why = r
                                    .failure
                                    .map(|c| lang.failure_class(c))
                                    .unwrap_or(t(S::TfFailed));
                                (
                                    RichText::new(format!("{}: {why}", t(S::TfFailed)))
                                        .color(error),
                                    frac,
                                )
                            }
                            TfState::Skipped => (RichText::new(t(S::TfSkipped)), 1.0),
                        };
                        let state = cell(ui, state_w, label);
                        if let TfState::Failed(detail) = &r.state {
                            state.on_hover_text(detail.as_str());
                        }
                        let mut bar = egui::ProgressBar::new(frac).desired_width(bar_w);
                        if matches!(r.state, TfState::Failed(_)) {
                            bar = bar.fill(error);
                        }
                        ui.add(bar);
                        cell(
                            ui,
                            bytes_w,
                            format!("{} / {}", human_bytes(r.done), human_bytes(r.size)),
                        );
                        let active = r.state == TfState::Active;
                        let speed = match r.rate {
                            Some(v) if active => format!("{}/s", human_bytes(v as u64)),
                            None if active => t(S::Measuring).to_string(),
                            _ => String::new(),
                        };
                        cell(ui, speed_w, speed);
                        let left = match r.eta_secs() {
                            Some(s) if active => human_secs(s),
                            _ => String::new(),
                        };
                        cell(ui, left_w, left);
                        let ctx = ui.ctx().clone();
                        let mut measure = |c: char| ctx.fonts_mut(|f| f.glyph_width(&body, c));
                        let shown = elide_path(&r.file.path, path_w - 4.0, &mut measure);
                        cell(ui, path_w, shown).on_hover_text(r.file.path.as_str());
                    });
                }
            });
    }

    fn move_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenMove));
        ui.label(t(S::MoveIntro));
        ui.label(format!(
            "{}: {} {} · {}",
            t(S::Selected),
            self.list.selected_count,
            t(S::Meetings),
            human_bytes(self.list.selected_bytes)
        ));
        let can_plan = self.list.selected_count > 0 && !self.is_busy();
        if ui
            .add_enabled(can_plan, egui::Button::new(t(S::PlanMove)))
            .clicked()
        {
            self.plan_move();
        }
        if matches!(self.job, JobState::Running(JobKind::PlanMove)) {
            if ui.button(t(S::Cancel)).clicked() {
                self.cancel();
            }
            ui.label(format!(
                "{} {} / {}",
                t(S::Planning),
                human_bytes(self.transfers.done_bytes),
                human_bytes(self.transfers.total_bytes)
            ));
        }
        if let Some((deleted, _)) = self.move_result {
            ui.label(RichText::new(format!("{}: {deleted}", t(S::Deleted))).strong());
        }
        let mut ask = false;
        if let Some((cands, kept)) = &self.move_plan {
            ui.separator();
            let bytes: u64 = cands.iter().map(|c| c.bytes).sum();
            ui.label(format!(
                "{}: {} · {} {} · {} {}",
                t(S::PlanCovers),
                lang.count(
                    (cands.len() + kept.len()) as u64,
                    S::MeetingOne,
                    S::Meetings
                ),
                cands.len(),
                t(S::ToRemove),
                kept.len(),
                t(S::ToKeep),
            ));
            let tz = self.list.time_zone();
            ScrollArea::vertical()
                .auto_shrink([false, true])
                .max_height(ui.available_height() - 48.0)
                .show(ui, |ui| {
                    if cands.is_empty() {
                        ui.label(t(S::NothingToDelete));
                    } else {
                        ui.label(RichText::new(t(S::WillDelete)).strong());
                        for c in cands {
                            let what = match &c.file_ids {
                                None => t(S::TrashWhole).to_string(),
                                Some(ids) => format!("{} {}", t(S::TrashFiles), ids.len()),
                            };
                            ui.label(format!(
                                "- {} · {} ({}) · {} · {}",
                                c.topic,
                                local_when_of(tz, &c.start_time),
                                zone_label(tz),
                                human_bytes(c.bytes),
                                what
                            ));
                            for (path, size, sha) in &c.copies {
                                let checked = if sha.is_some() {
                                    format!(", {}", t(S::HashChecked))
                                } else {
                                    String::new()
                                };
                                ui.weak(format!("      {path} ({}{checked})", human_bytes(*size)));
                            }
                        }
                    }
                    if !kept.is_empty() {
                        ui.add_space(6.0);
                        ui.label(RichText::new(t(S::WillKeep)).strong());
                        for (_, topic, reason) in kept {
                            ui.label(format!("- {topic}: {}", lang.keep_reason(reason)));
                        }
                    }
                });
            if !cands.is_empty() {
                let words = remove_words(lang, cands.len() as u64, bytes);
                if ui
                    .add_enabled(!self.is_busy(), danger_button(ui, &words))
                    .clicked()
                {
                    ask = true;
                }
            }
        }
        if ask {
            self.confirm_remove = true;
        }
        if self.confirm_remove {
            self.remove_confirmation(ui);
        }
    }

    /// The last question before anything leaves the cloud.
    fn remove_confirmation(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        let Some((cands, _)) = &self.move_plan else {
            self.confirm_remove = false;
            return;
        };
        let bytes: u64 = cands.iter().map(|c| c.bytes).sum();
        let words = remove_words(lang, cands.len() as u64, bytes);
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("confirm-remove")).show(ui.ctx(), |ui| {
            ui.set_max_width(460.0);
            ui.heading(t(S::ConfirmRemoveTitle));
            ui.label(t(S::ConfirmRemoveBody));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.add(danger_button(ui, &words)).clicked() {
                    answer = Some(true);
                }
                if ui.button(t(S::Cancel)).clicked() {
                    answer = Some(false);
                }
            });
        });
        match answer {
            Some(true) => {
                self.confirm_remove = false;
                self.confirm_move();
            }
            Some(false) => self.confirm_remove = false,
            None => {}
        }
    }

    fn log_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenLog));
        if self.log.is_empty() {
            ui.label(t(S::NoErrors));
            return;
        }
        let mut save = false;
        ui.horizontal(|ui| {
            if ui.button(t(S::CopyLog)).clicked() {
                ui.ctx().copy_text(self.log_text());
            }
            save = ui.button(t(S::SaveLog)).clicked();
            if ui.button(t(S::ClearLog)).clicked() {
                self.log.clear();
            }
        });
        if save {
            self.save_log();
        }
        if let Some(n) = &self.notice {
            ui.label(n.as_str());
        }
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let error = ui.visuals().error_fg_color;
                for l in &self.log {
                    let text = RichText::new(l.render(lang));
                    ui.label(match l.kind {
                        LogKind::Warning => text,
                        LogKind::FileFailed | LogKind::Error => text.color(error),
                    });
                }
            });
    }

    /// The problem log as text, one line each, in the window's language.
    pub fn log_text(&self) -> String {
        let lang = self.lang();
        let mut out = String::new();
        for l in &self.log {
            out.push_str(&l.render(lang));
            out.push('\n');
        }
        out
    }

    /// Saves the problem log next to the state database (`problems-YYYYMMDD-HHMMSS.txt`),
    /// and says where.
    pub fn save_log(&mut self) {
        let dir = self
            .settings
            .resolved_state_path()
            .and_then(|p| p.parent().map(PathBuf::from))
            .unwrap_or_else(|| self.settings.destination.clone());
        let name = jiff::Zoned::now()
            .strftime("problems-%Y%m%d-%H%M%S.txt")
            .to_string();
        let path = dir.join(name);
        let text = self.log_text();
        let r = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text));
        match r {
            Ok(()) => {
                self.notice = Some(format!("{}: {}", self.t(S::LogSavedTo), path.display()));
            }
            Err(e) => self.log_line(
                LogKind::Error,
                path.display().to_string(),
                Said::Key(S::LogSaveFailed),
                e.to_string(),
            ),
        }
    }
}

/// The ▶/▼ before a meeting that opens it to its files: a triangle in a square of the row's
/// height, named `name()` for assistive tools (asked for only when one listens).
fn expand_arrow(ui: &mut Ui, open: bool, row_h: f32, name: impl Fn() -> String) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(row_h * 0.8, row_h), egui::Sense::click());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, name()));
    let color = ui.style().interact(&response).fg_stroke.color;
    let c = rect.center();
    let h = row_h * 0.2;
    let points = if open {
        vec![
            c + vec2(-h, -h * 0.6),
            c + vec2(h, -h * 0.6),
            c + vec2(0.0, h * 0.8),
        ]
    } else {
        vec![
            c + vec2(-h * 0.6, -h),
            c + vec2(h * 0.8, 0.0),
            c + vec2(-h * 0.6, h),
        ]
    };
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        color,
        egui::Stroke::NONE,
    ));
    response
}

/// Where a file's line of the Recordings table puts things (points).
struct FileColumns {
    row_h: f32,
    /// The topic column, where the box and the type go (indented).
    topic: f32,
    /// The columns the line leaves empty, with their gaps.
    skip: f32,
    size: f32,
    status: f32,
}

/// One file of an opened meeting, under it: its box and type in words, its size and where
/// it stands. Returns the new tick when the box was clicked.
fn file_line(
    ui: &mut Ui,
    lang: Lang,
    f: &RecFile,
    meeting_selected: bool,
    cols: &FileColumns,
) -> Option<bool> {
    let mut changed = None;
    ui.horizontal(|ui| {
        ui.set_height(cols.row_h);
        ui.allocate_ui_with_layout(
            vec2(cols.topic, cols.row_h),
            Layout::left_to_right(Align::Center),
            |ui| {
                ui.set_width(cols.topic);
                // Under the meeting's own box.
                ui.add_space(2.0 * ui.spacing().interact_size.y);
                // Nothing to copy of a file Zoom is still processing: never ticked.
                let can = f.state != FileState::Processing;
                let mut on = meeting_selected && f.chosen && can;
                let tick = ui.add_enabled(
                    can,
                    egui::Checkbox::new(&mut on, lang.file_type(&f.file_type)),
                );
                if tick.changed() {
                    changed = Some(on);
                }
            },
        );
        ui.add_space(cols.skip);
        cell(ui, cols.size, human_bytes(f.size));
        let (words, color) = match f.state {
            FileState::Copied => (
                lang.t(S::FileCopied),
                ui.visuals().widgets.inactive.fg_stroke.color,
            ),
            FileState::NotYet => (lang.t(S::FileNotYet), ui.visuals().text_color()),
            FileState::Processing => (lang.t(S::FileProcessing), ui.visuals().warn_fg_color),
        };
        cell(ui, cols.status, RichText::new(words).color(color));
    });
    changed
}

fn cell(ui: &mut Ui, width: f32, text: impl Into<egui::WidgetText>) -> egui::Response {
    ui.allocate_ui_with_layout(
        vec2(width, 18.0),
        Layout::left_to_right(Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(egui::Label::new(text).truncate())
        },
    )
    .inner
}

/// "Remove 1 meeting, 169.1 MiB from the cloud": what and how much, in `lang`.
fn remove_words(lang: Lang, meetings: u64, bytes: u64) -> String {
    lang.t(S::RemoveFromCloud)
        .replace("{what}", &lang.count(meetings, S::MeetingOne, S::Meetings))
        .replace("{size}", &human_bytes(bytes))
}

/// A button for what cannot be undone from here: white on red.
fn danger_button(ui: &Ui, words: &str) -> egui::Button<'static> {
    let red = if ui.visuals().dark_mode {
        egui::Color32::from_rgb(170, 30, 30)
    } else {
        egui::Color32::from_rgb(200, 30, 30)
    };
    egui::Button::new(
        RichText::new(words.to_string())
            .color(egui::Color32::WHITE)
            .strong(),
    )
    .fill(red)
}

fn path_edit(ui: &mut Ui, p: &mut PathBuf) {
    let mut s = p.to_string_lossy().into_owned();
    if ui
        .add(egui::TextEdit::singleline(&mut s).desired_width(360.0))
        .changed()
    {
        *p = PathBuf::from(s);
    }
}

impl eframe::App for ZvmApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        ZvmApp::ui(self, ui);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_presets_are_whole_local_days_ending_today() {
        let today: Date = "2026-03-05".parse().unwrap();
        let r = |p: DatePreset| {
            let (a, b) = p.range(today);
            (a.to_string(), b.to_string())
        };
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(r(DatePreset::Last7Days), s("2026-02-27", "2026-03-05"));
        assert_eq!(r(DatePreset::Last30Days), s("2026-02-04", "2026-03-05"));
        assert_eq!(r(DatePreset::ThisYear), s("2026-01-01", "2026-03-05"));
        assert_eq!(r(DatePreset::LastYear), s("2025-01-01", "2025-12-31"));
        assert_eq!(r(DatePreset::Last12Months), s("2025-03-06", "2026-03-05"));
    }
}
