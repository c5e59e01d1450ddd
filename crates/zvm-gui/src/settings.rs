//! What the GUI remembers between runs (`gui.toml` in zvm's config dir), and how it turns
//! into the engine's [`SyncOptions`] and the zoom client's settings.
//!
//! The state database and the token file are the CLI's own (same default paths), so what the
//! GUI downloaded the CLI sees as done, and the other way round. The client secret of a
//! Server-to-Server app is never written to disk by the GUI: it comes from
//! `ZOOM_CLIENT_SECRET` or is typed in each session.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zvm_engine::concurrency::MAX_TRANSFERS;

use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// User OAuth with PKCE through the browser.
    #[default]
    User,
    /// Server-to-Server OAuth (admins).
    ServerToServer,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GuiSettings {
    pub language: Lang,
    pub auth_mode: AuthMode,
    pub account_id: String,
    pub client_id: String,
    /// Kept in memory only.
    #[serde(skip)]
    pub client_secret: String,
    pub api_base: String,
    pub oauth_base: String,
    pub redirect_port: u16,
    pub destination: PathBuf,
    /// Empty: the CLI's default state path.
    pub state_path: PathBuf,
    /// Where the user-OAuth token file lives (empty: zvm's config dir, as the CLI).
    pub token_dir: PathBuf,
    pub folder_template: String,
    pub file_template: String,
    /// Downloads at once when `transfers_auto` is off.
    pub transfers: usize,
    /// Let the engine find the number of downloads at once (the CLI's default, `-j auto`).
    pub transfers_auto: bool,
    /// MiB/s; 0 means no limit.
    pub bwlimit_mib: f64,
    pub verify_hash: bool,
    /// Open the sign-in address in the browser (tests play the browser themselves).
    #[serde(skip, default = "yes")]
    pub open_browser: bool,
}

fn yes() -> bool {
    true
}

impl Default for GuiSettings {
    fn default() -> Self {
        let env = |k: &str| std::env::var(k).unwrap_or_default();
        let client = zvm_zoom::ClientConfig::default();
        let home = directories::UserDirs::new()
            .map(|d| d.home_dir().join("ZoomRecordings"))
            .unwrap_or_else(|| PathBuf::from("ZoomRecordings"));
        let auth_mode = if env("ZOOM_ACCOUNT_ID").is_empty() {
            AuthMode::User
        } else {
            AuthMode::ServerToServer
        };
        Self {
            language: Lang::default(),
            auth_mode,
            account_id: env("ZOOM_ACCOUNT_ID"),
            client_id: env("ZOOM_CLIENT_ID"),
            client_secret: env("ZOOM_CLIENT_SECRET"),
            api_base: std::env::var("ZVM_API_BASE").unwrap_or(client.api_base),
            oauth_base: std::env::var("ZVM_OAUTH_BASE").unwrap_or(client.oauth_base),
            redirect_port: 0,
            destination: home,
            state_path: PathBuf::new(),
            token_dir: PathBuf::new(),
            folder_template: zvm_naming::Namer::DEFAULT_FOLDER.to_string(),
            file_template: zvm_naming::Namer::DEFAULT_FILE.to_string(),
            transfers: 4,
            transfers_auto: true,
            bwlimit_mib: 0.0,
            verify_hash: false,
            open_browser: true,
        }
    }
}

/// zvm's config dir (shared with the CLI).
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "zvm").map(|d| d.config_dir().to_path_buf())
}

impl GuiSettings {
    pub fn default_path() -> Option<PathBuf> {
        config_dir().map(|d| d.join("gui.toml"))
    }

    /// Loads `path`; a missing file gives the defaults, a broken one an error to show.
    pub fn load(path: &Path) -> anyhow::Result<GuiSettings> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut s: GuiSettings = toml::from_str(&text)?;
                s.client_secret = std::env::var("ZOOM_CLIENT_SECRET").unwrap_or_default();
                Ok(s)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut s = GuiSettings::default();
                let cli = std::env::var_os("ZVM_CONFIG")
                    .map(PathBuf::from)
                    .or_else(|| config_dir().map(|d| d.join("config.toml")));
                if let Some(cli) = cli {
                    s.adopt_cli_config(&cli);
                }
                Ok(s)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// First start: take the destination, state file, templates, transfers and app ids from
    /// the CLI's `config.toml`, so both front ends work on the same copy from the start.
    /// Anything unreadable is simply left at the default (the CLI reports its own errors).
    pub fn adopt_cli_config(&mut self, path: &Path) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let Ok(t) = text.parse::<toml::Table>() else {
            return;
        };
        let str_of = |t: &toml::Table, k: &str| t.get(k).and_then(|v| v.as_str()).map(String::from);
        if let Some(d) = str_of(&t, "destination") {
            self.destination = PathBuf::from(d);
        }
        if let Some(d) = str_of(&t, "state") {
            self.state_path = PathBuf::from(d);
        }
        if let Some(v) = str_of(&t, "folder_template") {
            self.folder_template = v;
        }
        if let Some(v) = str_of(&t, "file_template") {
            self.file_template = v;
        }
        match t.get("transfers") {
            Some(toml::Value::Integer(n)) => {
                self.transfers = (*n).clamp(1, MAX_TRANSFERS as i64) as usize;
                self.transfers_auto = false;
            }
            Some(toml::Value::String(s)) if s.eq_ignore_ascii_case("auto") => {
                self.transfers_auto = true;
            }
            _ => {}
        }
        if let Some(z) = t.get("zoom").and_then(|v| v.as_table()) {
            if let Some(v) = str_of(z, "client_id") {
                self.client_id = v;
            }
            if let Some(v) = str_of(z, "account_id") {
                self.account_id = v;
                self.auth_mode = AuthMode::ServerToServer;
            }
            if let Some(v) = str_of(z, "api_base") {
                self.api_base = v;
            }
            if let Some(v) = str_of(z, "oauth_base") {
                self.oauth_base = v;
            }
        }
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, toml::to_string_pretty(self)?)?;
        Ok(())
    }

    /// The state database: the configured one or the CLI's default.
    pub fn resolved_state_path(&self) -> Option<PathBuf> {
        if self.state_path.as_os_str().is_empty() {
            zvm_state::default_state_path()
        } else {
            Some(self.state_path.clone())
        }
    }

    pub fn resolved_token_dir(&self) -> Option<PathBuf> {
        if self.token_dir.as_os_str().is_empty() {
            config_dir()
        } else {
            Some(self.token_dir.clone())
        }
    }

    pub fn bwlimit_bytes(&self) -> Option<u64> {
        (self.bwlimit_mib > 0.0).then_some((self.bwlimit_mib * 1024.0 * 1024.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_settings_round_trip_without_the_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("zvm").join("gui.toml");
        let s = GuiSettings {
            language: Lang::Ja,
            auth_mode: AuthMode::ServerToServer,
            account_id: "acc".into(),
            client_id: "cid".into(),
            client_secret: "very-secret-value".into(),
            transfers: 7,
            bwlimit_mib: 2.5,
            ..GuiSettings::default()
        };
        s.save(&path).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            !text.contains("very-secret-value"),
            "the secret is never written"
        );
        let back = GuiSettings::load(&path).expect("load");
        assert_eq!(back.language, Lang::Ja);
        assert_eq!(back.auth_mode, AuthMode::ServerToServer);
        assert_eq!((back.transfers, back.account_id.as_str()), (7, "acc"));
        assert_eq!(back.bwlimit_bytes(), Some(2_621_440));
        assert!(back.open_browser);
        // The CLI's config.toml seeds a first start.
        let cli = dir.path().join("config.toml");
        std::fs::write(
            &cli,
            "destination = \"/srv/zoom\"\nstate = \"/srv/zoom/.state.sqlite3\"\ntransfers = 6\n[zoom]\naccount_id = \"A1\"\nclient_id = \"C1\"\n",
        )
        .expect("write");
        let mut fresh = GuiSettings::default();
        fresh.adopt_cli_config(&cli);
        assert_eq!(fresh.destination, PathBuf::from("/srv/zoom"));
        assert_eq!(
            fresh.resolved_state_path(),
            Some(PathBuf::from("/srv/zoom/.state.sqlite3"))
        );
        assert_eq!(
            (fresh.transfers, fresh.transfers_auto, fresh.auth_mode),
            (6, false, AuthMode::ServerToServer),
            "a number in the CLI's config is a fixed number of downloads"
        );
        // `transfers = "auto"` there (the CLI's default) keeps the GUI on automatic.
        std::fs::write(&cli, "transfers = \"auto\"\n").expect("write");
        let mut auto = GuiSettings {
            transfers_auto: false,
            ..GuiSettings::default()
        };
        auto.adopt_cli_config(&cli);
        assert!(auto.transfers_auto);
        assert!(
            GuiSettings::default().transfers_auto,
            "automatic by default, as the CLI"
        );
        assert_eq!(
            (fresh.account_id.as_str(), fresh.client_id.as_str()),
            ("A1", "C1")
        );
        std::fs::write(&path, "transfers = \"many\"").expect("write");
        assert!(
            GuiSettings::load(&path).is_err(),
            "a broken file is an error to show"
        );
    }

    #[test]
    fn automatic_downloads_reach_the_engine_as_auto_mode() {
        let mut s = GuiSettings {
            destination: PathBuf::from("/srv/zoom"),
            state_path: PathBuf::from("/srv/zoom/.state.sqlite3"),
            ..GuiSettings::default()
        };
        let spec = crate::backend::JobSpec::from_settings(&s).expect("spec");
        assert!(spec.base.adaptive);
        assert_eq!(
            spec.base.transfers, 64,
            "the engine may go up to the CLI's most"
        );
        s.transfers_auto = false;
        s.transfers = 3;
        let spec = crate::backend::JobSpec::from_settings(&s).expect("spec");
        assert!(!spec.base.adaptive);
        assert_eq!(spec.base.transfers, 3);
    }
}
