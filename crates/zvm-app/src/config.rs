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
    /// `[remote.SERVICE]`: credentials and connection settings of the remote destinations,
    /// over the services' usual environment variables.
    #[serde(default, skip_serializing_if = "RemoteConfig::is_empty")]
    pub remote: RemoteConfig,
}

/// `[remote]`: one table per service, read by every front end when it opens a destination
/// URL of that service. A key set here wins over the service's environment variable; an
/// option in the URL itself (`?endpoint=`, `?region=`, `?account=`) wins over both. Secrets
/// are read, never written by a front end, and never shown (not even by `Debug`).
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    #[serde(default, skip_serializing_if = "S3Config::is_empty")]
    pub s3: S3Config,
    #[serde(default, skip_serializing_if = "WebdavConfig::is_empty")]
    pub webdav: WebdavConfig,
    #[serde(default, skip_serializing_if = "AzblobConfig::is_empty")]
    pub azblob: AzblobConfig,
    #[serde(default, skip_serializing_if = "GcsConfig::is_empty")]
    pub gcs: GcsConfig,
    #[serde(default, skip_serializing_if = "DriveConfig::is_empty")]
    pub gdrive: DriveConfig,
    #[serde(default, skip_serializing_if = "DriveConfig::is_empty")]
    pub onedrive: DriveConfig,
    #[serde(default, skip_serializing_if = "DriveConfig::is_empty")]
    pub dropbox: DriveConfig,
}

/// `[remote.s3]` (over AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
/// AWS_ENDPOINT_URL, AWS_REGION).
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing)]
    pub secret_access_key: Option<String>,
    #[serde(skip_serializing)]
    pub session_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// `[remote.webdav]` (over ZVM_WEBDAV_USER, ZVM_WEBDAV_PASSWORD).
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebdavConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing)]
    pub password: Option<String>,
}

/// `[remote.azblob]` (over AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY,
/// AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_CONNECTION_STRING).
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AzblobConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing)]
    pub account_key: Option<String>,
    #[serde(skip_serializing)]
    pub sas_token: Option<String>,
    #[serde(skip_serializing)]
    pub connection_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// `[remote.gcs]` (over GOOGLE_APPLICATION_CREDENTIALS).
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GcsConfig {
    /// A service-account key file (JSON); a path, not a secret itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_path: Option<String>,
    /// An OAuth access token.
    #[serde(skip_serializing)]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// `[remote.gdrive]`, `[remote.onedrive]`, `[remote.dropbox]` (over
/// ZVM_<SERVICE>_CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN, _ACCESS_TOKEN).
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DriveConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing)]
    pub client_secret: Option<String>,
    #[serde(skip_serializing)]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing)]
    pub access_token: Option<String>,
}

/// `<set>` for a secret that is given: its value is never shown.
fn hidden(o: &Option<String>) -> &'static str {
    if o.is_some() { "<set>" } else { "<unset>" }
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &hidden(&self.secret_access_key))
            .field("session_token", &hidden(&self.session_token))
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish()
    }
}

impl std::fmt::Debug for WebdavConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebdavConfig")
            .field("user", &self.user)
            .field("password", &hidden(&self.password))
            .finish()
    }
}

impl std::fmt::Debug for AzblobConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzblobConfig")
            .field("account", &self.account)
            .field("account_key", &hidden(&self.account_key))
            .field("sas_token", &hidden(&self.sas_token))
            .field("connection_string", &hidden(&self.connection_string))
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl std::fmt::Debug for GcsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcsConfig")
            .field("credential_path", &self.credential_path)
            .field("token", &hidden(&self.token))
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl std::fmt::Debug for DriveConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriveConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &hidden(&self.client_secret))
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("access_token", &hidden(&self.access_token))
            .finish()
    }
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("s3", &self.s3)
            .field("webdav", &self.webdav)
            .field("azblob", &self.azblob)
            .field("gcs", &self.gcs)
            .field("gdrive", &self.gdrive)
            .field("onedrive", &self.onedrive)
            .field("dropbox", &self.dropbox)
            .finish()
    }
}

impl S3Config {
    fn is_empty(&self) -> bool {
        *self == S3Config::default()
    }
}

impl WebdavConfig {
    fn is_empty(&self) -> bool {
        *self == WebdavConfig::default()
    }
}

impl AzblobConfig {
    fn is_empty(&self) -> bool {
        *self == AzblobConfig::default()
    }
}

impl GcsConfig {
    fn is_empty(&self) -> bool {
        *self == GcsConfig::default()
    }
}

impl DriveConfig {
    fn is_empty(&self) -> bool {
        *self == DriveConfig::default()
    }
}

impl RemoteConfig {
    pub fn is_empty(&self) -> bool {
        *self == RemoteConfig::default()
    }

    /// The drive table of a drive's scheme (`gdrive`, `onedrive`, `dropbox`).
    pub fn drive(&self, scheme: &str) -> Option<&DriveConfig> {
        match scheme {
            "gdrive" => Some(&self.gdrive),
            "onedrive" => Some(&self.onedrive),
            "dropbox" => Some(&self.dropbox),
            _ => None,
        }
    }

    /// Each key of `self` that is set, else `under`'s: `self` is the layer over `under`.
    pub fn over(&self, under: &RemoteConfig) -> RemoteConfig {
        fn o(a: &Option<String>, b: &Option<String>) -> Option<String> {
            a.clone()
                .filter(|v| !v.trim().is_empty())
                .or_else(|| b.clone())
        }
        fn drive(a: &DriveConfig, b: &DriveConfig) -> DriveConfig {
            DriveConfig {
                client_id: o(&a.client_id, &b.client_id),
                client_secret: o(&a.client_secret, &b.client_secret),
                refresh_token: o(&a.refresh_token, &b.refresh_token),
                access_token: o(&a.access_token, &b.access_token),
            }
        }
        let (a, b) = (self, under);
        RemoteConfig {
            s3: S3Config {
                access_key_id: o(&a.s3.access_key_id, &b.s3.access_key_id),
                secret_access_key: o(&a.s3.secret_access_key, &b.s3.secret_access_key),
                session_token: o(&a.s3.session_token, &b.s3.session_token),
                endpoint: o(&a.s3.endpoint, &b.s3.endpoint),
                region: o(&a.s3.region, &b.s3.region),
            },
            webdav: WebdavConfig {
                user: o(&a.webdav.user, &b.webdav.user),
                password: o(&a.webdav.password, &b.webdav.password),
            },
            azblob: AzblobConfig {
                account: o(&a.azblob.account, &b.azblob.account),
                account_key: o(&a.azblob.account_key, &b.azblob.account_key),
                sas_token: o(&a.azblob.sas_token, &b.azblob.sas_token),
                connection_string: o(&a.azblob.connection_string, &b.azblob.connection_string),
                endpoint: o(&a.azblob.endpoint, &b.azblob.endpoint),
            },
            gcs: GcsConfig {
                credential_path: o(&a.gcs.credential_path, &b.gcs.credential_path),
                token: o(&a.gcs.token, &b.gcs.token),
                endpoint: o(&a.gcs.endpoint, &b.gcs.endpoint),
            },
            gdrive: drive(&a.gdrive, &b.gdrive),
            onedrive: drive(&a.onedrive, &b.onedrive),
            dropbox: drive(&a.dropbox, &b.dropbox),
        }
    }

    /// The keys (`remote.webdav.password`, ...) of the secrets that are set.
    pub fn secret_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |table: &str, key: &str, v: &Option<String>| {
            if v.is_some() {
                out.push(format!("remote.{table}.{key}"));
            }
        };
        add("s3", "secret_access_key", &self.s3.secret_access_key);
        add("s3", "session_token", &self.s3.session_token);
        add("webdav", "password", &self.webdav.password);
        add("azblob", "account_key", &self.azblob.account_key);
        add("azblob", "sas_token", &self.azblob.sas_token);
        add(
            "azblob",
            "connection_string",
            &self.azblob.connection_string,
        );
        add("gcs", "token", &self.gcs.token);
        for (table, d) in [
            ("gdrive", &self.gdrive),
            ("onedrive", &self.onedrive),
            ("dropbox", &self.dropbox),
        ] {
            add(table, "client_secret", &d.client_secret);
            add(table, "refresh_token", &d.refresh_token);
            add(table, "access_token", &d.access_token);
        }
        out
    }
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

/// The file [`load_config`] reads: the one named, else the default one.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit.map(Path::to_path_buf).or_else(default_config_path)
}

impl ConfigFile {
    /// The keys of the secrets this layer holds (`zoom.client_secret`,
    /// `remote.webdav.password`, ...), never their values.
    pub fn secret_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if self.zoom.client_secret.is_some() {
            keys.push("zoom.client_secret".to_string());
        }
        if self.serve.webhook_secret_token.is_some() {
            keys.push("serve.webhook_secret_token".to_string());
        }
        keys.extend(self.remote.secret_keys());
        keys
    }
}

/// A warning for front ends to show when the config file at `path` holds secrets and other
/// users of this computer may read it (Unix permissions that let the group or others read
/// it). It names the file and the keys, never a value. `None` when all is well (and on
/// systems without Unix permissions).
pub fn readable_secrets_warning(path: &Path, cfg: &ConfigFile) -> Option<String> {
    let keys = cfg.secret_keys();
    if keys.is_empty() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o044 != 0 {
            return Some(format!(
                "the config file {} holds secrets ({}) and other users of this computer can read it (mode {:o}): run `chmod 600 {}`",
                path.display(),
                keys.join(", "),
                mode & 0o777,
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
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

/// Parses the text of a config file read from `path` (named in the error). The error says
/// the line and column and what is wrong, without quoting the line: it may hold a secret.
pub fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let what = without_value(e.message().trim_end());
        let detail = match e.span().and_then(|span| text.get(..span.start)) {
            Some(before) => {
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                format!("line {line}, column {column}: {what}")
            }
            None => what,
        };
        ConfigError::Invalid {
            path: path.to_path_buf(),
            detail,
        }
    })
}

/// serde's "invalid type: string \"VALUE\", expected ..." without the value (a secret of the
/// wrong type, or in the wrong place, is not shown either): "invalid type: string, expected
/// ...".
fn without_value(message: &str) -> String {
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(lead)
            && let Some((shown, expected)) = rest.split_once(", expected")
        {
            let kind = shown.split([' ', '`', '"']).next().unwrap_or("");
            return format!("{lead}{kind}, expected{expected}");
        }
    }
    message.to_string()
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

    /// Every service's table, as the README shows it.
    const REMOTE: &str = r#"
[remote.s3]
access_key_id = "AKIAEXAMPLE"
secret_access_key = "s3-secret-value"
session_token = "s3-session-value"
endpoint = "http://127.0.0.1:9000"
region = "eu-west-1"

[remote.webdav]
user = "anna"
password = "dav-secret-value"

[remote.azblob]
account = "zvmstore"
account_key = "az-key-value"
sas_token = "az-sas-value"
connection_string = "az-conn-value"
endpoint = "https://zvmstore.blob.core.windows.net"

[remote.gcs]
credential_path = "/etc/zvm/gcs-key.json"
token = "gcs-token-value"
endpoint = "https://storage.googleapis.com"

[remote.gdrive]
client_id = "gd-client"
client_secret = "gd-secret-value"
refresh_token = "gd-refresh-value"
access_token = "gd-access-value"

[remote.onedrive]
refresh_token = "od-refresh-value"

[remote.dropbox]
access_token = "db-access-value"
"#;

    const SECRETS: [&str; 12] = [
        "s3-secret-value",
        "s3-session-value",
        "dav-secret-value",
        "az-key-value",
        "az-sas-value",
        "az-conn-value",
        "gcs-token-value",
        "gd-secret-value",
        "gd-refresh-value",
        "gd-access-value",
        "od-refresh-value",
        "db-access-value",
    ];

    #[test]
    fn the_remote_section_reads_every_service_and_never_shows_or_writes_a_secret() {
        let c = parse_config(REMOTE, Path::new("config.toml")).expect("valid");
        let r = &c.remote;
        assert_eq!(r.s3.access_key_id.as_deref(), Some("AKIAEXAMPLE"));
        assert_eq!(r.s3.secret_access_key.as_deref(), Some("s3-secret-value"));
        assert_eq!(r.s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(r.webdav.user.as_deref(), Some("anna"));
        assert_eq!(r.webdav.password.as_deref(), Some("dav-secret-value"));
        assert_eq!(r.azblob.account.as_deref(), Some("zvmstore"));
        assert_eq!(r.azblob.connection_string.as_deref(), Some("az-conn-value"));
        assert_eq!(
            r.gcs.credential_path.as_deref(),
            Some("/etc/zvm/gcs-key.json")
        );
        assert_eq!(r.gdrive.refresh_token.as_deref(), Some("gd-refresh-value"));
        assert_eq!(
            r.onedrive.refresh_token.as_deref(),
            Some("od-refresh-value")
        );
        assert_eq!(r.dropbox.access_token.as_deref(), Some("db-access-value"));
        let shown = format!("{c:?}");
        let written = toml::to_string(&c).unwrap();
        for secret in SECRETS {
            assert!(!shown.contains(secret), "Debug shows {secret}: {shown}");
            assert!(!written.contains(secret), "written: {secret}: {written}");
        }
        // The rest is shown and written (a front end keeps it in its settings).
        assert!(
            shown.contains("anna") && shown.contains("eu-west-1"),
            "{shown}"
        );
        assert!(
            written.contains("anna") && written.contains("zvmstore"),
            "{written}"
        );
        let back = parse_config(&written, Path::new("x")).unwrap();
        assert_eq!(back.remote.webdav.user.as_deref(), Some("anna"));
        assert_eq!(back.remote.webdav.password, None);
        assert_eq!(
            c.secret_keys().len(),
            12,
            "every secret is named: {:?}",
            c.secret_keys()
        );
    }

    #[test]
    fn an_unknown_remote_key_names_the_key_and_the_file_never_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zvm.toml");
        for (text, key) in [
            (
                "[remote.webdav]\nuser = \"anna\"\npasword = \"hunter2\"\n",
                "pasword",
            ),
            ("[remote.s3]\nsecret_key = \"hunter2\"\n", "secret_key"),
            ("[remote.ftp]\npassword = \"hunter2\"\n", "ftp"),
            ("[remote]\npassword = \"hunter2\"\n", "password"),
        ] {
            std::fs::write(&path, text).unwrap();
            let e = load_file(&path, true).unwrap_err().to_string();
            assert!(e.contains(&format!("`{key}`")), "{text}: {e}");
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(!e.contains("hunter2"), "the message shows a secret: {e}");
        }
        // A secret of the wrong type is not shown either.
        std::fs::write(&path, "[remote.webdav]\npassword = 918273645\n").unwrap();
        let e = load_file(&path, true).unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("expected a string"),
            "{e}"
        );
        assert!(!e.contains("918273645"), "{e}");
    }

    #[test]
    fn a_layer_over_another_wins_key_by_key() {
        let gui = parse_config(
            "[remote.webdav]\nuser = \"gui-user\"\n[remote.s3]\nregion = \" \"\n",
            Path::new("gui.toml"),
        )
        .unwrap();
        let file = parse_config(
            "[remote.webdav]\nuser = \"file-user\"\npassword = \"pw\"\n[remote.s3]\nregion = \"eu-west-1\"\n",
            Path::new("config.toml"),
        )
        .unwrap();
        let r = gui.remote.over(&file.remote);
        assert_eq!(r.webdav.user.as_deref(), Some("gui-user"));
        assert_eq!(r.webdav.password.as_deref(), Some("pw"));
        assert_eq!(
            r.s3.region.as_deref(),
            Some("eu-west-1"),
            "blank is not given"
        );
    }

    #[cfg(unix)]
    #[test]
    fn secrets_in_a_file_others_can_read_are_warned_about_by_key_never_by_value() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, REMOTE).unwrap();
        let set_mode =
            |m| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
        set_mode(0o644);
        let c = load_file(&path, true).unwrap();
        let w = readable_secrets_warning(&path, &c).expect("a warning");
        assert!(w.contains(&path.display().to_string()), "{w}");
        assert!(
            w.contains("remote.webdav.password") && w.contains("chmod 600"),
            "{w}"
        );
        for secret in SECRETS {
            assert!(!w.contains(secret), "{w}");
        }
        set_mode(0o640);
        assert!(
            readable_secrets_warning(&path, &c).is_some(),
            "the group reads it"
        );
        set_mode(0o600);
        assert_eq!(readable_secrets_warning(&path, &c), None);
        // No secret in it: nothing to say, whoever reads it.
        std::fs::write(&path, "[remote.webdav]\nuser = \"anna\"\n").unwrap();
        set_mode(0o644);
        let c = load_file(&path, true).unwrap();
        assert_eq!(readable_secrets_warning(&path, &c), None);
    }
}
