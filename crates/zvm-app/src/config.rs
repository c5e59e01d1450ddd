//! `config.toml`, the one settings file every front end reads: its schema, where it lives,
//! and how it is loaded. The same shape is a *layer* of settings: the CLI's flags (with their
//! `ZVM_*` environment variables) and the GUI's own edits are layers over this file (see
//! [`crate::settings`]).
//!
//! Also compiled into the fuzz crate (with `parse.rs`): no engine types here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::parse::TransfersSetting;

/// `config.toml` in the OS config dir (or `--config`). Unknown keys are errors, so a typo
/// never silently does nothing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfers: Option<TransfersSetting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bwlimit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_hash: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summaries: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_audio: Option<bool>,
    /// Listing months that overlap the last this many days are asked of Zoom on every run;
    /// older ones come from the stored listing while it is fresh (see `full_listing_days`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent_days: Option<u32>,
    /// A month's stored listing is trusted this many days; then the next run lists it again
    /// (finding recordings that appeared late in old months). 0: list everything every run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_listing_days: Option<u32>,
    /// Connections one large file may use at once: a number or "auto".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<crate::parse::SegmentsSetting>,
    /// Files are split into ranges no smaller than this, e.g. "16M".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_segment_size: Option<String>,
    #[serde(default, skip_serializing_if = "ZoomConfig::is_empty")]
    pub zoom: ZoomConfig,
    /// `zvm serve`'s own settings (the daemon); the other settings above apply to it too.
    #[serde(default, skip_serializing_if = "ServeConfig::is_empty")]
    pub serve: ServeConfig,
}

/// `[serve]`: the daemon's listener, webhook and schedules. Only `zvm serve` reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address and port to listen on, e.g. "127.0.0.1:8080" (behind a TLS proxy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// The Zoom app's webhook secret token. Read from the file when present (keep the file
    /// 0600), or from ZVM_WEBHOOK_SECRET_TOKEN; never written by a front end.
    #[serde(skip_serializing)]
    pub webhook_secret_token: Option<String>,
    /// Path of the webhook endpoint, default "/zoom/webhook".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A sync at this interval, e.g. "15m" (or `sync_cron`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_every: Option<String>,
    /// A sync at the times of this cron expression, in `time_zone` (or `sync_every`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_cron: Option<String>,
    /// A move at the times of this cron expression, in `time_zone`, e.g. "0 3 * * *" (or
    /// `move_every`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_cron: Option<String>,
    /// A move at this interval, e.g. "1d" (or `move_cron`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_every: Option<String>,
    /// What a scheduled move keeps in the cloud: recordings younger than this, e.g. "30d".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_older_than: Option<String>,
    /// What a scheduled move does in the cloud: "trash" (default) or "delete".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub move_action: Option<String>,
    /// The time zone of the cron expressions, an IANA name such as "Europe/Berlin"
    /// (default: the system's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl ServeConfig {
    fn is_empty(&self) -> bool {
        *self == ServeConfig::default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZoomConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Read from the file when present; never written by a front end (see the GUI's
    /// settings: a secret typed in the window stays in memory).
    #[serde(skip_serializing)]
    pub client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Port of the loopback redirect listener for the browser sign-in (0 = any free port;
    /// set a fixed one if your Zoom app's redirect URL names a port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_port: Option<u16>,
}

impl ZoomConfig {
    fn is_empty(&self) -> bool {
        *self == ZoomConfig::default()
    }
}

/// The config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {}: check that it exists and is readable", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file {} is not valid: {detail}", path.display())]
    Invalid { path: PathBuf, detail: String },
}

pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "zvm")
}

/// zvm's config dir (`~/.config/zvm` on Linux), shared by every front end.
pub fn default_config_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().to_path_buf())
}

pub fn default_config_path() -> Option<PathBuf> {
    default_config_dir().map(|d| d.join("config.toml"))
}

/// Loads the config file. An explicitly named file must exist; the default one may not.
pub fn load_config(explicit: Option<&Path>) -> Result<ConfigFile, ConfigError> {
    let (path, must_exist) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_config_path() {
            Some(p) => (p, false),
            None => return Ok(ConfigFile::default()),
        },
    };
    load_file(&path, must_exist)
}

/// Loads `path`; a missing file is an empty layer unless `must_exist`.
pub fn load_file(path: &Path, must_exist: bool) -> Result<ConfigFile, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
            return Ok(ConfigFile::default());
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse_config(&text, path)
}

/// Parses the text of a config file read from `path` (named in the error).
pub fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        detail: e.to_string().trim_end().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Transfers;

    #[test]
    fn config_rejects_unknown_keys_with_location() {
        let e = toml::from_str::<ConfigFile>("transfer = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("transfer"), "{e}");
        let ok: ConfigFile = toml::from_str(
            "transfers = 3\nbwlimit = \"5M\"\n[zoom]\naccount_id = \"a\"\nplan = \"pro\"\n",
        )
        .unwrap();
        assert_eq!(
            ok.transfers.map(|t| t.parse().unwrap()),
            Some(Transfers::Fixed(3))
        );
        assert_eq!(ok.zoom.plan.as_deref(), Some("pro"));
        let listing: ConfigFile =
            toml::from_str("recent_days = 45\nfull_listing_days = 0\n").unwrap();
        assert_eq!(
            (listing.recent_days, listing.full_listing_days),
            (Some(45), Some(0))
        );
        let e = toml::from_str::<ConfigFile>("recent_days = -1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("recent_days"), "{e}");
    }

    #[test]
    fn the_serve_section_reads_and_never_writes_its_secret() {
        let c: ConfigFile = toml::from_str(
            "[serve]\nlisten = \"127.0.0.1:9000\"\nwebhook_secret_token = \"wh-s3cret\"\nsync_every = \"15m\"\nmove_cron = \"0 3 * * *\"\nmove_older_than = \"30d\"\n",
        )
        .unwrap();
        assert_eq!(c.serve.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(c.serve.move_cron.as_deref(), Some("0 3 * * *"));
        let text = toml::to_string(&c).unwrap();
        assert!(!text.contains("wh-s3cret"), "{text}");
        let e = toml::from_str::<ConfigFile>("[serve]\nsync_evry = \"1m\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sync_evry"), "{e}");
    }

    #[test]
    fn a_written_layer_reads_back_and_never_holds_the_secret() {
        let mut c: ConfigFile = toml::from_str(
            "destination = \"/d\"\ntransfers = \"auto\"\nfile_types = [\"mp4\"]\n[zoom]\nclient_secret = \"s3cr3t\"\nplan = \"pro\"\n",
        )
        .unwrap();
        let text = toml::to_string(&c).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        c.zoom.client_secret = None;
        assert_eq!(parse_config(&text, Path::new("x")).unwrap(), c);
        assert_eq!(toml::to_string(&ConfigFile::default()).unwrap(), "");
    }
}
