//! What the GUI works with: the settings of `zvm-app`'s one schema, read from the same
//! `config.toml` as the CLI (and the same `ZVM_*`/`ZOOM_*` environment variables), with the
//! GUI's own edits as an overlay (`gui.toml` in zvm's config dir) that holds only what the
//! user changed in the window, plus the GUI's own choices (language, how to sign in).
//!
//! Precedence: `gui.toml` > environment > `config.toml` > defaults. The state database and
//! the token store are the CLI's own (same defaults, the keyring where one answers), so what
//! the GUI downloaded the CLI sees as done, and a sign-in made in either is the other's. The
//! client secret is never written by the GUI: it comes from the config file, the environment,
//! or is typed in each session.
//!
//! A remote destination's login (`[remote.SERVICE]`, see [`crate::remote_fields`]): what the
//! window holds, over config.toml's table, over the service's environment variables (read by
//! zvm-dest-opendal when the copy starts). Its secrets are kept in the secret store, never in
//! `gui.toml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zvm_app::config::{self, ConfigFile, RemoteConfig, ZoomConfig};
use zvm_app::parse::{SegmentsPerFile, Transfers, TransfersSetting};
use zvm_app::token_store::StoreKind;
use zvm_app::{Layer, Origin, Settings, SettingsError};

use crate::i18n::Lang;

/// Light or dark, or as the system says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

/// How large the window's text is, as a factor of egui's sizes (the original app used
/// large fonts; 1.25 and 1.5 are offered).
pub const TEXT_SCALES: [f32; 3] = [1.0, 1.25, 1.5];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// User OAuth with PKCE through the browser.
    #[default]
    User,
    /// Server-to-Server OAuth (admins).
    ServerToServer,
}

/// The settings as the window edits them.
#[derive(Debug, Clone, PartialEq)]
pub struct GuiSettings {
    pub language: Lang,
    pub theme: Theme,
    /// One of [`TEXT_SCALES`].
    pub text_scale: f32,
    pub auth_mode: AuthMode,
    pub account_id: String,
    pub client_id: String,
    /// Kept in memory only.
    pub client_secret: String,
    pub api_base: String,
    pub oauth_base: String,
    /// The account's plan (free, pro, business), which sets Zoom's rate limits; empty:
    /// the client's default.
    pub plan: String,
    pub redirect_port: u16,
    pub destination: PathBuf,
    /// Empty: the CLI's default state path.
    pub state_path: PathBuf,
    /// Where the user-OAuth token file lives when no keyring answers (empty: zvm's config
    /// dir, as the CLI).
    pub token_dir: PathBuf,
    /// Which token stores may be used (tests keep to the file).
    pub token_store: StoreKind,
    pub folder_template: String,
    pub file_template: String,
    /// Downloads at once when `transfers_auto` is off.
    pub transfers: usize,
    /// Let the engine find the number of downloads at once (the CLI's default, `-j auto`).
    pub transfers_auto: bool,
    /// MiB/s; 0 means no limit.
    pub bwlimit_mib: f64,
    pub verify_hash: bool,
    /// Zoom's file type names to download (empty: all), as the CLI's `file_types`.
    pub file_types: BTreeSet<String>,
    /// Fetch AI Companion summaries.
    pub summaries: bool,
    /// Fetch per-participant audio files.
    pub participant_audio: bool,
    /// The listing cache's `recent_days` and `full_listing_days`, carried from config.toml
    /// to the engine (the window does not show them).
    pub recent_days: u32,
    pub full_listing_days: u32,
    /// Connections one large file may use (no control in the window yet: carried from
    /// config.toml and the environment so that the GUI's runs do what the CLI's do).
    pub segments: SegmentsPerFile,
    /// Bytes: the smallest range a large file is split into (carried like `segments`).
    pub min_segment: u64,
    /// Open the sign-in address in the browser (tests play the browser themselves).
    pub open_browser: bool,
    /// A system notification when a download ends (the GUI's own choice, in `gui.toml`).
    pub notify_at_end: bool,
    /// The remote destinations' logins as the window has them (over config.toml's
    /// `[remote]`); the secrets in memory and the secret store only.
    pub remote: RemoteConfig,
}

/// `gui.toml`: the GUI's own choices, and its overlay over `config.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GuiFile {
    language: Lang,
    theme: Theme,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_scale: Option<f32>,
    auth_mode: Option<AuthMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_dir: Option<PathBuf>,
    /// `false` when the end-of-run notification is turned off (absent: on).
    #[serde(skip_serializing_if = "Option::is_none")]
    notifications: Option<bool>,
    #[serde(skip_serializing_if = "is_empty_layer")]
    overlay: ConfigFile,
}

fn is_empty_layer(c: &ConfigFile) -> bool {
    *c == ConfigFile::default()
}

impl Default for GuiSettings {
    /// The defaults of the schema, with the environment over them (no file read).
    fn default() -> Self {
        let env = env_layer();
        let settings = Settings::resolve(&[Layer::new(Origin::CommandLine, &env)])
            .or_else(|_| Settings::resolve(&[]))
            .expect("the schema's defaults resolve");
        GuiSettings::from_settings(&settings, Lang::default(), None)
    }
}

/// zvm's config dir (shared with the CLI).
pub fn config_dir() -> Option<PathBuf> {
    config::default_config_dir()
}

/// The environment variables of the schema, as a layer: the names the CLI reads too.
pub fn env_layer() -> ConfigFile {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    ConfigFile {
        destination: var("ZVM_DEST").map(PathBuf::from),
        state: var("ZVM_STATE").map(PathBuf::from),
        transfers: var("ZVM_TRANSFERS").map(TransfersSetting::Word),
        bwlimit: var("ZVM_BWLIMIT"),
        verify_hash: None,
        folder_template: var("ZVM_FOLDER_TEMPLATE"),
        file_template: var("ZVM_FILE_TEMPLATE"),
        file_types: var("ZVM_FILE_TYPES").map(|v| vec![v]),
        summaries: None,
        participant_audio: None,
        recent_days: var("ZVM_RECENT_DAYS").and_then(|v| v.trim().parse().ok()),
        full_listing_days: None,
        segments: var("ZVM_SEGMENTS").map(TransfersSetting::Word),
        min_segment_size: var("ZVM_MIN_SEGMENT_SIZE"),
        zoom: ZoomConfig {
            account_id: var("ZOOM_ACCOUNT_ID"),
            client_id: var("ZOOM_CLIENT_ID"),
            client_secret: var("ZOOM_CLIENT_SECRET"),
            api_base: var("ZVM_API_BASE"),
            oauth_base: var("ZVM_OAUTH_BASE"),
            plan: var("ZVM_PLAN"),
            redirect_port: var("ZVM_REDIRECT_PORT").and_then(|p| p.trim().parse().ok()),
        },
        // The daemon's settings: not the window's (zvm serve reads them from config.toml).
        serve: Default::default(),
        // Not a layer: zvm-dest-opendal reads the services' variables itself, under the
        // window's and config.toml's values.
        remote: Default::default(),
    }
}

/// zvm-app's warning when the config file of `files` holds secrets that other users can read
/// (it names the file and the keys, never a value), for the window to say in Problems.
pub fn readable_config_warning(files: &SettingsFiles) -> Option<String> {
    let path = files.config.as_deref()?;
    let c = config::load_file(path, false).ok()?;
    config::readable_secrets_warning(path, &c)
}

/// Where the settings come from.
#[derive(Debug, Clone)]
pub struct SettingsFiles {
    /// The CLI's `config.toml` (`ZVM_CONFIG` or the config dir's).
    pub config: Option<PathBuf>,
    /// The GUI's overlay.
    pub gui: Option<PathBuf>,
}

impl SettingsFiles {
    /// The default places, as the CLI finds its config.
    pub fn default_places() -> SettingsFiles {
        SettingsFiles {
            config: std::env::var_os("ZVM_CONFIG")
                .map(PathBuf::from)
                .or_else(config::default_config_path),
            gui: config_dir().map(|d| d.join("gui.toml")),
        }
    }
}

/// The settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("the GUI's settings file {} is not valid: {detail}", path.display())]
    Gui { path: PathBuf, detail: String },
    #[error("cannot read the GUI's settings file {}: {source}", path.display())]
    GuiRead {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl LoadError {
    /// The cause, for the GUI's words.
    pub fn into_failure(self) -> zvm_app::Failure {
        let cause = match &self {
            LoadError::Settings(_) => zvm_app::Cause::BadSettings,
            _ => zvm_app::Cause::BadConfig,
        };
        zvm_app::Failure::new(cause, self)
    }
}

impl GuiSettings {
    /// The window's values of `s`, with the GUI's own choices.
    fn from_settings(s: &Settings, language: Lang, gui: Option<&GuiFile>) -> GuiSettings {
        let z = &s.zoom;
        let client = zvm_zoom::ClientConfig::default();
        let auth_mode = gui
            .and_then(|g| g.auth_mode)
            .unwrap_or(if z.account_id.is_some() {
                AuthMode::ServerToServer
            } else {
                AuthMode::User
            });
        let home = directories::UserDirs::new()
            .map(|d| d.home_dir().join("ZoomRecordings"))
            .unwrap_or_else(|| PathBuf::from("ZoomRecordings"));
        let (transfers_auto, transfers) = match s.transfers {
            Transfers::Auto => (true, 4),
            Transfers::Fixed(n) => (false, n),
        };
        GuiSettings {
            language,
            theme: gui.map(|g| g.theme).unwrap_or_default(),
            text_scale: gui
                .and_then(|g| g.text_scale)
                .filter(|v| TEXT_SCALES.contains(v))
                .unwrap_or(1.0),
            auth_mode,
            account_id: z.account_id.clone().unwrap_or_default(),
            client_id: z.client_id.clone().unwrap_or_default(),
            client_secret: z.client_secret.clone().unwrap_or_default(),
            api_base: z.api_base.clone().unwrap_or(client.api_base),
            oauth_base: z.oauth_base.clone().unwrap_or(client.oauth_base),
            plan: z.plan.clone().unwrap_or_default(),
            redirect_port: z.redirect_port.unwrap_or(0),
            destination: s.destination.clone().unwrap_or(home),
            state_path: s.state.clone().unwrap_or_default(),
            token_dir: gui.and_then(|g| g.token_dir.clone()).unwrap_or_default(),
            token_store: StoreKind::Auto,
            folder_template: s.folder_template.clone(),
            file_template: s.file_template.clone(),
            transfers,
            transfers_auto,
            bwlimit_mib: s.bwlimit.map_or(0.0, |b| b as f64 / (1024.0 * 1024.0)),
            verify_hash: s.verify_hash,
            file_types: s.file_types.clone(),
            summaries: s.summaries,
            participant_audio: s.participant_audio,
            recent_days: s.recent_days,
            full_listing_days: s.full_listing_days,
            segments: s.segments,
            min_segment: s.min_segment,
            open_browser: true,
            notify_at_end: gui.and_then(|g| g.notifications).unwrap_or(true),
            remote: RemoteConfig::default(),
        }
    }

    /// Every key of the schema as the window has it, as a layer.
    pub fn to_layer(&self) -> ConfigFile {
        let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        ConfigFile {
            destination: Some(self.destination.clone()).filter(|p| !p.as_os_str().is_empty()),
            state: Some(self.state_path.clone()).filter(|p| !p.as_os_str().is_empty()),
            transfers: Some(TransfersSetting::from(if self.transfers_auto {
                Transfers::Auto
            } else {
                Transfers::Fixed(self.transfers.max(1))
            })),
            bwlimit: self.bwlimit_bytes().map(|b| b.to_string()),
            verify_hash: Some(self.verify_hash),
            folder_template: Some(self.folder_template.clone()),
            file_template: Some(self.file_template.clone()),
            file_types: Some(self.file_types.iter().cloned().collect()),
            summaries: Some(self.summaries),
            participant_audio: Some(self.participant_audio),
            recent_days: Some(self.recent_days),
            full_listing_days: Some(self.full_listing_days),
            segments: Some(match self.segments {
                SegmentsPerFile::Auto => TransfersSetting::Word("auto".into()),
                SegmentsPerFile::AtMost(n) => TransfersSetting::Number(n as u64),
            }),
            min_segment_size: Some(self.min_segment.to_string()),
            zoom: ZoomConfig {
                account_id: text(&self.account_id),
                client_id: text(&self.client_id),
                client_secret: text(&self.client_secret),
                api_base: text(&self.api_base),
                oauth_base: text(&self.oauth_base),
                plan: text(&self.plan),
                redirect_port: Some(self.redirect_port),
            },
            // The daemon's settings: not the window's (zvm serve reads them from config.toml).
            serve: Default::default(),
            remote: self.remote.clone(),
        }
    }

    /// The window's values, checked and resolved by the schema.
    pub fn resolve(&self) -> Result<Settings, SettingsError> {
        Settings::resolve(&[Layer::new(Origin::Gui, &self.to_layer())])
    }

    /// Loads the settings: `config.toml` and the environment, with `gui.toml` over them.
    /// Missing files are fine; a broken one is an error to show.
    pub fn load(files: &SettingsFiles) -> Result<GuiSettings, LoadError> {
        let config = match &files.config {
            Some(p) => config::load_file(p, false)?,
            None => ConfigFile::default(),
        };
        let gui = match &files.gui {
            Some(p) => read_gui_file(p)?,
            None => GuiFile::default(),
        };
        let env = env_layer();
        let settings = Settings::resolve(&[
            Layer::new(Origin::Gui, &gui.overlay),
            Layer::new(Origin::CommandLine, &env),
            Layer::new(Origin::ConfigFile, &config),
        ])?;
        let mut loaded = GuiSettings::from_settings(&settings, gui.language, Some(&gui));
        loaded.remote = gui.overlay.remote.over(&config.remote);
        Ok(loaded)
    }

    /// Saves what differs from what `config.toml` and the environment say, so that a later
    /// change of `config.toml` reaches the GUI for every key the user did not change here.
    /// The client secret is never written.
    pub fn save(&self, files: &SettingsFiles) -> Result<(), std::io::Error> {
        let Some(path) = &files.gui else {
            return Ok(());
        };
        let config = files
            .config
            .as_deref()
            .and_then(|p| config::load_file(p, false).ok())
            .unwrap_or_default();
        let env = env_layer();
        let base = Settings::resolve(&[
            Layer::new(Origin::CommandLine, &env),
            Layer::new(Origin::ConfigFile, &config),
        ])
        .map(|s| GuiSettings::from_settings(&s, self.language, None).to_layer())
        .unwrap_or_default();
        let mine = self.to_layer();
        let mut overlay = diff(&mine, &base);
        overlay.zoom.client_secret = None;
        overlay.remote = remote_diff(&self.remote, &config.remote);
        let file = GuiFile {
            language: self.language,
            theme: self.theme,
            text_scale: Some(self.text_scale).filter(|v| *v != 1.0),
            auth_mode: Some(self.auth_mode),
            token_dir: Some(self.token_dir.clone()).filter(|p| !p.as_os_str().is_empty()),
            notifications: (!self.notify_at_end).then_some(false),
            overlay,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = toml::to_string_pretty(&file).map_err(std::io::Error::other)?;
        std::fs::write(path, text)
    }

    /// Saves the window's own choices (language, theme, text size) at once, keeping
    /// everything else `gui.toml` holds: a language picked in the title bar is there at the
    /// next start without pressing Save.
    pub fn save_choices(&self, files: &SettingsFiles) -> Result<(), LoadError> {
        let Some(path) = &files.gui else {
            return Ok(());
        };
        let mut file = read_gui_file(path)?;
        file.language = self.language;
        file.theme = self.theme;
        file.text_scale = Some(self.text_scale).filter(|v| *v != 1.0);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| LoadError::GuiRead {
                path: path.clone(),
                source,
            })?;
        }
        let text = toml::to_string_pretty(&file).map_err(|e| LoadError::Gui {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|source| LoadError::GuiRead {
            path: path.clone(),
            source,
        })
    }

    /// Fills the client secret from the secret store when neither config.toml nor the
    /// environment gave one (a secret typed once and kept, see `zvm_app::secret_store`).
    pub fn fill_kept_secret(&mut self) {
        if !self.client_secret.trim().is_empty() {
            return;
        }
        if let Some(dir) = self.resolved_token_dir() {
            let store = zvm_app::secret_store::SecretStore::choose(&dir, self.token_store);
            if let Ok(Some(secret)) = store.load() {
                self.client_secret = secret;
            }
        }
    }

    /// Fills each remote secret that config.toml did not give from the secret store (typed
    /// once in the window and kept there).
    pub fn fill_kept_remote_secrets(&mut self) {
        let Some(dir) = self.resolved_token_dir() else {
            return;
        };
        let base = zvm_app::secret_store::SecretStore::choose(&dir, self.token_store);
        for (key, field) in crate::remote_fields::every_secret() {
            let slot = field.value(&mut self.remote);
            if slot.as_deref().is_some_and(|v| !v.trim().is_empty()) {
                continue;
            }
            let store = base.remote_beside(&dir, &key);
            if let Ok(Some(secret)) = store.load() {
                *slot = Some(secret);
            }
        }
    }

    /// Keeps each remote secret typed in the window in the secret store, and removes a kept
    /// one whose field was emptied; a secret that is config.toml's own stays there only.
    /// Returns what could not be kept (the errors name the secret, never its value).
    pub fn keep_remote_secrets(&self, files: Option<&SettingsFiles>) -> Vec<String> {
        let Some(dir) = self.resolved_token_dir() else {
            return Vec::new();
        };
        let mut from_file = files
            .and_then(|f| f.config.as_deref())
            .and_then(|p| config::load_file(p, false).ok())
            .unwrap_or_default()
            .remote;
        let mut mine = self.remote.clone();
        let mut problems = Vec::new();
        let base = zvm_app::secret_store::SecretStore::choose(&dir, self.token_store);
        for (key, field) in crate::remote_fields::every_secret() {
            let typed = field
                .value(&mut mine)
                .clone()
                .filter(|v| !v.trim().is_empty());
            let store = base.remote_beside(&dir, &key);
            let r = match typed {
                Some(v) if Some(&v) != field.value(&mut from_file).as_ref() => store.save(&v),
                Some(_) => Ok(()),
                None => store.clear(),
            };
            if let Err(e) = r {
                problems.push(e.to_string());
            }
        }
        problems
    }

    /// The state database: the configured one or the CLI's default.
    pub fn resolved_state_path(&self) -> Option<PathBuf> {
        if self.state_path.as_os_str().is_empty() {
            zvm_state::default_state_path()
        } else {
            Some(self.state_path.clone())
        }
    }

    /// The folder of the token file (when no keyring answers): the configured one or the
    /// CLI's config dir.
    pub fn resolved_token_dir(&self) -> Option<PathBuf> {
        if self.token_dir.as_os_str().is_empty() {
            config_dir()
        } else {
            Some(self.token_dir.clone())
        }
    }

    pub fn bwlimit_bytes(&self) -> Option<u64> {
        (self.bwlimit_mib > 0.0).then_some((self.bwlimit_mib * 1024.0 * 1024.0).round() as u64)
    }
}

fn read_gui_file(path: &Path) -> Result<GuiFile, LoadError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| LoadError::Gui {
            path: path.to_path_buf(),
            detail: e.to_string().trim_end().to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(GuiFile::default()),
        Err(source) => Err(LoadError::GuiRead {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The keys of the window's `[remote]` whose values differ from config.toml's, without any
/// secret (the secret store keeps those).
fn remote_diff(mine: &RemoteConfig, base: &RemoteConfig) -> RemoteConfig {
    let mut mine = mine.clone();
    let mut base = base.clone();
    for (service, fields) in crate::remote_fields::SERVICES {
        let _ = service;
        for f in fields {
            let theirs = f.value(&mut base).clone();
            let v = f.value(&mut mine);
            if f.secret || *v == theirs {
                *v = None;
            }
        }
    }
    mine
}

/// The keys of `mine` whose values differ from `base`'s.
fn diff(mine: &ConfigFile, base: &ConfigFile) -> ConfigFile {
    fn d<T: Clone + PartialEq>(a: &Option<T>, b: &Option<T>) -> Option<T> {
        (a != b).then(|| a.clone()).flatten()
    }
    ConfigFile {
        destination: d(&mine.destination, &base.destination),
        state: d(&mine.state, &base.state),
        transfers: d(&mine.transfers, &base.transfers),
        bwlimit: d(&mine.bwlimit, &base.bwlimit),
        verify_hash: d(&mine.verify_hash, &base.verify_hash),
        folder_template: d(&mine.folder_template, &base.folder_template),
        file_template: d(&mine.file_template, &base.file_template),
        file_types: d(&mine.file_types, &base.file_types),
        summaries: d(&mine.summaries, &base.summaries),
        participant_audio: d(&mine.participant_audio, &base.participant_audio),
        recent_days: d(&mine.recent_days, &base.recent_days),
        full_listing_days: d(&mine.full_listing_days, &base.full_listing_days),
        segments: d(&mine.segments, &base.segments),
        min_segment_size: d(&mine.min_segment_size, &base.min_segment_size),
        zoom: ZoomConfig {
            account_id: d(&mine.zoom.account_id, &base.zoom.account_id),
            client_id: d(&mine.zoom.client_id, &base.zoom.client_id),
            client_secret: None,
            api_base: d(&mine.zoom.api_base, &base.zoom.api_base),
            oauth_base: d(&mine.zoom.oauth_base, &base.zoom.oauth_base),
            plan: d(&mine.zoom.plan, &base.zoom.plan),
            redirect_port: d(&mine.zoom.redirect_port, &base.zoom.redirect_port),
        },
        // The daemon's settings: not the window's (zvm serve reads them from config.toml).
        serve: Default::default(),
        // Its own diff, without the secrets (`remote_diff`).
        remote: Default::default(),
    }
}

#[cfg(test)]
mod tests;
