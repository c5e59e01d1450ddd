//! The window: six screens (Settings, Sign in, Recordings, Transfers, Move, Problems) drawn
//! from [`crate::model`] data, and buttons that send [`Cmd`]s to the engine thread. Nothing
//! here waits: each frame first drains the engine's messages, then draws.

use std::path::PathBuf;

use egui::{Align, Layout, RichText, ScrollArea, Ui, vec2};
use jiff::civil::Date;

use zvm_engine::events::SkipReason;
use zvm_engine::{Event, KeepReason, MoveCandidate, UserSelection};

use crate::backend::{
    Backend, Cmd, ConnectSpec, JobKind, JobSpec, MeetingSel, Msg, Problem, TokenView,
};
use crate::i18n::{Lang, S};
use crate::model::{
    LogKind, LogLine, RecordingList, RowStatus, Said, TfState, Transfers, human_bytes, human_secs,
};
use crate::settings::{AuthMode, GuiSettings, SettingsFiles};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Settings,
    SignIn,
    Recordings,
    Transfers,
    Move,
    Log,
}

impl Screen {
    pub const ALL: [Screen; 6] = [
        Screen::Settings,
        Screen::SignIn,
        Screen::Recordings,
        Screen::Transfers,
        Screen::Move,
        Screen::Log,
    ];

    fn title(self) -> S {
        match self {
            Screen::Settings => S::ScreenSettings,
            Screen::SignIn => S::ScreenSignIn,
            Screen::Recordings => S::ScreenRecordings,
            Screen::Transfers => S::ScreenTransfers,
            Screen::Move => S::ScreenMove,
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
    pub notice: Option<String>,
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
        ZvmApp {
            settings,
            settings_files,
            screen: Screen::SignIn,
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
            list: RecordingList::default(),
            listing: false,
            transfers: Transfers::default(),
            job: JobState::Idle,
            last_download: Vec::new(),
            move_plan: None,
            move_result: None,
            log: Vec::new(),
            notice: None,
            pause_requested: false,
        }
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
        }
    }

    /// After a run, what the transfers say about each listed meeting of the run.
    fn refresh_row_statuses(&mut self) {
        use std::collections::HashMap;
        let mut per: HashMap<&str, (usize, usize)> = HashMap::new();
        for r in &self.transfers.rows {
            let e = per.entry(r.file.meeting_uuid.as_str()).or_default();
            e.0 += 1;
            if matches!(r.state, TfState::Done | TfState::Skipped) {
                e.1 += 1;
            }
        }
        let updates: Vec<(String, RowStatus)> = per
            .into_iter()
            .map(|(u, (n, ok))| {
                let st = if ok == n {
                    RowStatus::Downloaded
                } else {
                    RowStatus::Partial
                };
                (u.to_string(), st)
            })
            .collect();
        for (u, st) in updates {
            if let Some(i) = self.list.index_of(&u)
                && self.list.rows[i].status != RowStatus::Trashed
            {
                self.list.rows[i].status = st;
            }
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
        self.backend
            .send(Cmd::Connect(ConnectSpec::from_settings(&self.settings)));
        if self.settings.auth_mode == AuthMode::User {
            self.backend
                .send(Cmd::TokenStatus(ConnectSpec::from_settings(&self.settings)));
        }
    }

    /// User OAuth through the browser: the sign-in address arrives as `login_url`.
    pub fn sign_in_with_browser(&mut self) {
        self.login_url = None;
        self.backend
            .send(Cmd::Login(ConnectSpec::from_settings(&self.settings)));
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
        let m = self.last_download.clone();
        if let Some(job) = self.job_spec() {
            // Keep the rows and what the paused run verified: the new run goes on from there.
            self.transfers.resume();
            self.job = JobState::Running(JobKind::Download);
            self.backend.send(Cmd::Download { meetings: m, job });
        }
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
        egui::Panel::top("top").show(ui, |ui| self.top_bar(ui));
        egui::Panel::left("nav")
            .resizable(false)
            .exact_size(150.0)
            .show(ui, |ui| self.nav(ui));
        egui::CentralPanel::default().show(ui, |ui| match self.screen {
            Screen::Settings => self.settings_screen(ui),
            Screen::SignIn => self.signin_screen(ui),
            Screen::Recordings => self.recordings_screen(ui),
            Screen::Transfers => self.transfers_screen(ui),
            Screen::Move => self.move_screen(ui),
            Screen::Log => self.log_screen(ui),
        });
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
            if ui.selectable_label(self.screen == s, text).clicked() {
                self.screen = s;
            }
        }
    }

    fn settings_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenSettings));
        egui::Grid::new("settings")
            .num_columns(2)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                let s = &mut self.settings;
                ui.label(t(S::Language));
                ui.horizontal(|ui| {
                    ui.radio_value(&mut s.language, Lang::En, Lang::En.label());
                    ui.radio_value(&mut s.language, Lang::Ja, Lang::Ja.label());
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
                ui.label(t(S::ApiBase));
                ui.add(egui::TextEdit::singleline(&mut s.api_base).desired_width(360.0));
                ui.end_row();
                ui.label(t(S::OauthBase));
                ui.add(egui::TextEdit::singleline(&mut s.oauth_base).desired_width(360.0));
                ui.end_row();
                ui.label(t(S::Destination));
                path_edit(ui, &mut s.destination);
                ui.end_row();
                ui.label(t(S::StateFile));
                path_edit(ui, &mut s.state_path);
                ui.end_row();
                ui.label(t(S::FolderTemplate));
                ui.add(egui::TextEdit::singleline(&mut s.folder_template).desired_width(360.0));
                ui.end_row();
                ui.label(t(S::FileTemplate));
                ui.add(egui::TextEdit::singleline(&mut s.file_template).desired_width(360.0));
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
                ui.label(t(S::Plan));
                ui.add(egui::TextEdit::singleline(&mut s.plan).desired_width(120.0));
                ui.end_row();
            });
        ui.add_space(8.0);
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
        }
        if let Some(n) = &self.notice {
            ui.label(n.as_str());
        }
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
        match &self.connection {
            Some(c) => {
                ui.label(RichText::new(format!("{}: {}", t(S::SignedInAs), c.who)).strong());
                ui.label(format!("{}: {}", t(S::Scopes), c.scopes.join(" ")));
            }
            None => {
                ui.label(t(S::NotSignedIn));
            }
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
        ui.horizontal(|ui| {
            ui.label(t(S::From));
            ui.add(egui::TextEdit::singleline(&mut self.from_text).desired_width(90.0));
            ui.label(t(S::To));
            ui.add(egui::TextEdit::singleline(&mut self.to_text).desired_width(90.0));
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
            let list = ui.add_enabled(!self.listing, egui::Button::new(t(S::List)));
            if list.clicked() {
                self.start_list();
            }
            if self.listing {
                ui.label(t(S::Listing));
            }
        });
        ui.horizontal(|ui| {
            ui.label(t(S::Filter));
            if ui
                .add(egui::TextEdit::singleline(&mut self.filter_text).desired_width(200.0))
                .changed()
            {
                self.list.set_filter(&self.filter_text);
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
                    if ui.checkbox(&mut on, ty.as_str()).changed() {
                        if on {
                            self.file_types.insert(ty.clone());
                        } else {
                            self.file_types.remove(ty);
                        }
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            ui.label(format!(
                "{}: {} {} · {} · {} / {}",
                t(S::Selected),
                self.list.selected_count,
                t(S::Meetings),
                human_bytes(self.list.selected_bytes),
                self.list.visible.len(),
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
        ui.separator();
        const W: [f32; 5] = [120.0, 190.0, 150.0, 90.0, 110.0];
        let row_h = 20.0;
        let topic_w = (ui.available_width() - W.iter().sum::<f32>() - 40.0).max(120.0);
        ui.horizontal(|ui| {
            cell(ui, topic_w + 24.0, RichText::new(t(S::ColTopic)).strong());
            cell(ui, W[0], RichText::new(t(S::ColDate)).strong());
            cell(ui, W[1], RichText::new(t(S::ColHost)).strong());
            cell(ui, W[2], RichText::new(t(S::ColTypes)).strong());
            cell(ui, W[3], RichText::new(t(S::ColSize)).strong());
            cell(ui, W[4], RichText::new(t(S::ColStatus)).strong());
        });
        let visible = self.list.visible.len();
        let mut toggled: Vec<(usize, bool)> = Vec::new();
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_h, visible, |ui, range| {
                for k in range {
                    let i = self.list.visible[k];
                    let r = &self.list.rows[i];
                    ui.horizontal(|ui| {
                        ui.set_height(row_h);
                        let mut on = r.selected;
                        ui.allocate_ui_with_layout(
                            vec2(topic_w + 24.0, row_h),
                            Layout::left_to_right(Align::Center),
                            |ui| {
                                ui.set_width(topic_w + 24.0);
                                if ui.checkbox(&mut on, r.topic.as_str()).changed() {
                                    toggled.push((i, on));
                                }
                            },
                        );
                        cell(ui, W[0], r.when.as_str());
                        cell(ui, W[1], r.host.as_str());
                        cell(ui, W[2], r.types.as_str());
                        cell(ui, W[3], human_bytes(r.bytes));
                        let st = match r.status {
                            RowStatus::InCloud => t(S::StInCloud),
                            RowStatus::Downloaded => t(S::StDownloaded),
                            RowStatus::Partial => t(S::StPartial),
                            RowStatus::Trashed => t(S::StTrashed),
                        };
                        cell(ui, W[4], st);
                    });
                }
            });
        for (i, on) in toggled {
            self.list.set_selected(i, on);
        }
    }

    fn transfers_screen(&mut self, ui: &mut Ui) {
        let lang = self.lang();
        let t = |s| lang.t(s);
        ui.heading(t(S::ScreenTransfers));
        let tf = &self.transfers;
        let state = match self.job {
            JobState::Idle => t(S::Idle),
            JobState::Running(_) => t(S::Running),
            JobState::Paused => t(S::Paused),
            JobState::Cancelled => t(S::Cancelled),
            JobState::Finished(_) => t(S::Finished),
        };
        ui.label(RichText::new(state).strong());
        ui.label(format!(
            "{}: {} / {} · {} {} / {}",
            t(S::Overall),
            human_bytes(tf.done_bytes),
            human_bytes(tf.total_bytes),
            tf.files_done,
            t(S::Files),
            tf.rows.len()
        ));
        ui.add(
            egui::ProgressBar::new(tf.fraction())
                .show_percentage()
                .desired_width(ui.available_width().min(600.0)),
        );
        ui.label(format!(
            "{}: {}/s · {}: {}",
            t(S::Rate),
            human_bytes(tf.rate as u64),
            t(S::Eta),
            tf.eta_secs().map(human_secs).unwrap_or_else(|| "–".into())
        ));
        ui.horizontal(|ui| {
            let running = matches!(self.job, JobState::Running(JobKind::Download));
            if ui
                .add_enabled(running, egui::Button::new(t(S::Pause)))
                .clicked()
            {
                self.pause();
            }
            let resumable = matches!(self.job, JobState::Paused | JobState::Cancelled)
                && !self.last_download.is_empty();
            if ui
                .add_enabled(resumable, egui::Button::new(t(S::Resume)))
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
        let tf = &self.transfers;
        let row_h = 20.0;
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_h, tf.rows.len(), |ui, range| {
                for i in range {
                    let r = &tf.rows[i];
                    ui.horizontal(|ui| {
                        ui.set_height(row_h);
                        let (label, frac) = match &r.state {
                            TfState::Queued => (t(S::TfQueued), 0.0),
                            TfState::Active => (
                                t(S::TfActive),
                                if r.size > 0 {
                                    r.done as f32 / r.size as f32
                                } else {
                                    0.0
                                },
                            ),
                            TfState::Done => (t(S::TfDone), 1.0),
                            TfState::Failed(_) => (t(S::TfFailed), 0.0),
                            TfState::Skipped => (t(S::TfSkipped), 1.0),
                        };
                        cell(ui, 110.0, label);
                        ui.add(egui::ProgressBar::new(frac).desired_width(140.0));
                        cell(
                            ui,
                            150.0,
                            format!("{} / {}", human_bytes(r.done), human_bytes(r.size)),
                        );
                        ui.add(egui::Label::new(r.file.path.as_str()).truncate());
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
        let mut confirm = false;
        if let Some((cands, kept)) = &self.move_plan {
            ui.separator();
            ScrollArea::vertical()
                .auto_shrink([false, true])
                .max_height(ui.available_height() - 40.0)
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
                                "- {} · {} · {} · {}",
                                c.topic,
                                c.start_time,
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
            if !cands.is_empty()
                && ui
                    .add_enabled(!self.is_busy(), egui::Button::new(t(S::ConfirmDelete)))
                    .clicked()
            {
                confirm = true;
            }
        }
        if confirm {
            self.confirm_move();
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
        if ui.button(t(S::ClearLog)).clicked() {
            self.log.clear();
            return;
        }
        ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for l in &self.log {
                    ui.label(l.render(lang));
                }
            });
    }
}

fn cell(ui: &mut Ui, width: f32, text: impl Into<egui::WidgetText>) {
    ui.allocate_ui_with_layout(
        vec2(width, 18.0),
        Layout::left_to_right(Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(egui::Label::new(text).truncate());
        },
    );
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
