//! The login of a remote destination: when the destination field holds a URL of a service
//! (`s3://`, `webdav(s)://`, `azblob://`, `gcs://`, a drive's), the fields of that service's
//! `[remote.SERVICE]` table, and only those. Secrets are password fields, kept between
//! sessions in the secret store (the OS keyring or a 0600 file, see
//! `zvm_app::secret_store`), never in `gui.toml`; the rest (user, endpoint, region, account,
//! client ID) are settings like any other, in `gui.toml`. A field left empty falls back to
//! config.toml's table, then to the service's environment variable.

use std::path::Path;

use egui::Ui;
use zvm_app::config::RemoteConfig;

use crate::i18n::{Lang, S};

/// One field of a service's table.
#[derive(Clone, Copy)]
pub struct Field {
    /// The key under `[remote.SERVICE]`.
    pub key: &'static str,
    pub label: S,
    pub secret: bool,
    get: fn(&mut RemoteConfig) -> &mut Option<String>,
}

impl Field {
    pub fn value<'a>(&self, r: &'a mut RemoteConfig) -> &'a mut Option<String> {
        (self.get)(r)
    }
}

macro_rules! field {
    ($key:literal, $label:ident, $secret:literal, $($path:ident).+) => {
        Field {
            key: $key,
            label: S::$label,
            secret: $secret,
            get: |r| &mut r.$($path).+,
        }
    };
}

const S3: &[Field] = &[
    field!("access_key_id", S3AccessKeyId, false, s3.access_key_id),
    field!(
        "secret_access_key",
        S3SecretAccessKey,
        true,
        s3.secret_access_key
    ),
    field!("session_token", S3SessionToken, true, s3.session_token),
    field!("region", S3Region, false, s3.region),
    field!("endpoint", RemoteEndpoint, false, s3.endpoint),
];
const WEBDAV: &[Field] = &[
    field!("user", WebdavUser, false, webdav.user),
    field!("password", WebdavPassword, true, webdav.password),
];
const AZBLOB: &[Field] = &[
    field!("account", AzureAccount, false, azblob.account),
    field!("account_key", AzureAccountKey, true, azblob.account_key),
    field!("sas_token", AzureSasToken, true, azblob.sas_token),
    field!(
        "connection_string",
        AzureConnectionString,
        true,
        azblob.connection_string
    ),
    field!("endpoint", RemoteEndpoint, false, azblob.endpoint),
];
const GCS: &[Field] = &[
    field!(
        "credential_path",
        GcsCredentialPath,
        false,
        gcs.credential_path
    ),
    field!("token", GcsToken, true, gcs.token),
    field!("endpoint", RemoteEndpoint, false, gcs.endpoint),
];
const GDRIVE: &[Field] = &[
    field!("client_id", DriveClientId, false, gdrive.client_id),
    field!(
        "client_secret",
        DriveClientSecret,
        true,
        gdrive.client_secret
    ),
    field!(
        "refresh_token",
        DriveRefreshToken,
        true,
        gdrive.refresh_token
    ),
    field!("access_token", DriveAccessToken, true, gdrive.access_token),
];
const ONEDRIVE: &[Field] = &[
    field!("client_id", DriveClientId, false, onedrive.client_id),
    field!(
        "client_secret",
        DriveClientSecret,
        true,
        onedrive.client_secret
    ),
    field!(
        "refresh_token",
        DriveRefreshToken,
        true,
        onedrive.refresh_token
    ),
    field!(
        "access_token",
        DriveAccessToken,
        true,
        onedrive.access_token
    ),
];
const DROPBOX: &[Field] = &[
    field!("client_id", DriveClientId, false, dropbox.client_id),
    field!(
        "client_secret",
        DriveClientSecret,
        true,
        dropbox.client_secret
    ),
    field!(
        "refresh_token",
        DriveRefreshToken,
        true,
        dropbox.refresh_token
    ),
    field!("access_token", DriveAccessToken, true, dropbox.access_token),
];

/// Every service with a table, and its fields.
pub const SERVICES: [(&str, &[Field]); 7] = [
    ("s3", S3),
    ("webdav", WEBDAV),
    ("azblob", AZBLOB),
    ("gcs", GCS),
    ("gdrive", GDRIVE),
    ("onedrive", ONEDRIVE),
    ("dropbox", DROPBOX),
];

/// The service whose table a destination uses: `webdav` for `webdav://` and `webdavs://`;
/// `None` for a folder, `sftp://` (ssh's own keys) and unknown kinds.
pub fn service_of(destination: &Path) -> Option<&'static str> {
    let text = destination.to_string_lossy();
    let (scheme, _) = text.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "webdavs" => "webdav".to_string(),
        s => s.to_string(),
    };
    SERVICES
        .iter()
        .find(|(name, _)| *name == scheme)
        .map(|(name, _)| *name)
}

/// The fields of `service`'s table.
pub fn fields(service: &str) -> &'static [Field] {
    SERVICES
        .iter()
        .find(|(name, _)| *name == service)
        .map_or(&[], |(_, f)| f)
}

/// The config key of a field: `remote.webdav.password`.
pub fn config_key(service: &str, f: &Field) -> String {
    format!("remote.{service}.{}", f.key)
}

/// Every secret field of every service, with its config key.
pub fn every_secret() -> impl Iterator<Item = (String, Field)> {
    SERVICES.iter().flat_map(|(service, fields)| {
        fields
            .iter()
            .filter(|f| f.secret)
            .map(move |f| (config_key(service, f), *f))
    })
}

/// The rows of the destination's login: label and field, lined up at `label_w` (nothing
/// for a folder or a service without a table). Each field is labelled for screen readers
/// (and the tests) by its words.
pub fn rows(ui: &mut Ui, lang: Lang, destination: &Path, remote: &mut RemoteConfig, label_w: f32) {
    let Some(service) = service_of(destination) else {
        return;
    };
    ui.label(egui::RichText::new(lang.t(S::RemoteLogin)).strong());
    for f in fields(service) {
        let slot = f.value(remote);
        let mut text = slot.clone().unwrap_or_default();
        ui.horizontal(|ui| {
            let label = ui.add_sized([label_w, 20.0], egui::Label::new(lang.t(f.label)));
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut text)
                        .password(f.secret)
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
            if edit.changed() {
                *slot = Some(text.clone()).filter(|v| !v.is_empty());
            }
        });
    }
    ui.weak(lang.t(S::RemoteLoginNote));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_destination_shows_its_own_service_s_fields() {
        let svc = |d: &str| service_of(Path::new(d));
        assert_eq!(svc("s3://b/p?region=x"), Some("s3"));
        assert_eq!(svc("WEBDAVS://nas/dav"), Some("webdav"));
        assert_eq!(svc("webdav://127.0.0.1:8080/x"), Some("webdav"));
        assert_eq!(svc("azblob://c"), Some("azblob"));
        assert_eq!(svc("gcs://b"), Some("gcs"));
        assert_eq!(svc("dropbox://Zoom"), Some("dropbox"));
        for none in ["/data/Zoom", "sftp://u@nas/d", "ftp://x/y", "C:\\Zoom", ""] {
            assert_eq!(svc(none), None, "{none}");
        }
        // Each field reaches its own key.
        let mut r = RemoteConfig::default();
        for (service, fields) in SERVICES {
            for f in fields {
                *f.value(&mut r) = Some(config_key(service, f));
            }
        }
        assert_eq!(r.webdav.password.as_deref(), Some("remote.webdav.password"));
        assert_eq!(r.s3.region.as_deref(), Some("remote.s3.region"));
        assert_eq!(
            r.onedrive.refresh_token.as_deref(),
            Some("remote.onedrive.refresh_token")
        );
        assert_eq!(r.gcs.endpoint.as_deref(), Some("remote.gcs.endpoint"));
        // The secrets are exactly the ones config.toml never writes.
        let mut keys: Vec<String> = every_secret().map(|(k, _)| k).collect();
        let mut never_written = r.secret_keys();
        keys.sort();
        never_written.sort();
        assert_eq!(keys, never_written);
    }
}
