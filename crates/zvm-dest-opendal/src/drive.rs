//! The cloud drives: Google Drive (`gdrive://folder/path`), OneDrive (`onedrive://folder/path`)
//! and Dropbox (`dropbox://folder/path`), each a folder of the user's own drive reached with
//! an OAuth token of their account. What is here: the URL, the credentials (the caller's
//! settings first, else `ZVM_GDRIVE_*`, `ZVM_ONEDRIVE_*`, `ZVM_DROPBOX_*`), the error that
//! says what is missing and how to get it, the OpenDAL operator built from them (features
//! `gdrive`, `onedrive`, `dropbox`), names made safe for each drive's rules, and `open`.
//!
//! Uploads: OpenDAL 0.59's writer for all three sends a file in a single request (its
//! one-shot writer), so a recording would be held whole in memory, against the bounded
//! memory every other destination keeps. So uploads are zvm's own, through each service's
//! documented upload session, one `UploadSink` per service in its own file, sharing
//! `drive_http` (injectable addresses, access tokens renewed before they expire and once on
//! a 401, retries, errors without tokens or session URLs); OpenDAL's operator does the rest
//! (stat, read back, delete, list, the write probe). Each upload holds one chunk at most
//! (8 MiB; 7.5 MiB on OneDrive), and the service's answer to the last one must report the
//! size and checksum of the bytes sent (computed while streaming), else the stored file is
//! removed and the upload is a mismatch:
//! - Google Drive (`gdrive_upload.rs`): the resumable upload, MD5; folders found by name
//!   or created; a same-name file gets the new content (no duplicate).
//! - OneDrive (`onedrive_upload.rs`): `createUploadSession`, conflict behaviour replace,
//!   QuickXorHash (`quickxor.rs`); needs the file's size up front (the engine gives it).
//! - Dropbox (`dropbox_upload.rs`): `upload_session` start/append_v2/finish, mode
//!   overwrite, Dropbox's content hash.
//!
//! A session the service forgets mid-file cannot be continued (the earlier chunks are not
//! held): the file starts over. Nor is an upload taken over by a later run. The uploads are
//! tested against fakes of the documented protocols over loopback (`tests/gdrive_upload.rs`,
//! `tests/onedrive_upload.rs`, `tests/dropbox_upload.rs`); none of this was run against the
//! real services (README).

use crate::url::{DriveService, DriveUrl, RemoteCredentials, UrlError};

pub use crate::drive_auth::DriveAuth;

/// The credentials for `url`: the caller's settings first, else the environment (`env`
/// reads one variable; the process environment in [`drive_auth`]).
pub fn drive_auth_from(
    url: &DriveUrl,
    creds: &RemoteCredentials,
    env: impl Fn(&str) -> Option<String>,
) -> Result<DriveAuth, UrlError> {
    let prefix = url.service.env_prefix();
    let var = |field: &Option<String>, suffix: &str| {
        field
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| env(&format!("{prefix}_{suffix}")).filter(|v| !v.is_empty()))
    };
    let refresh = var(&creds.drive_refresh_token, "REFRESH_TOKEN");
    let client_id = var(&creds.drive_client_id, "CLIENT_ID");
    let client_secret = var(&creds.drive_client_secret, "CLIENT_SECRET");
    let access = var(&creds.drive_access_token, "ACCESS_TOKEN");
    let missing = |what: String| UrlError::MissingDriveCredentials {
        url: url.display(),
        what,
    };
    match (refresh, access) {
        // A refresh token wins over an access token: it outlives a long run.
        (Some(refresh_token), _) => match (client_id, client_secret) {
            (Some(client_id), Some(client_secret)) => Ok(DriveAuth::Refresh {
                refresh_token,
                client_id,
                client_secret,
            }),
            (id, secret) => {
                let mut lacking = Vec::new();
                if id.is_none() {
                    lacking.push(format!("{prefix}_CLIENT_ID"));
                }
                if secret.is_none() {
                    lacking.push(format!("{prefix}_CLIENT_SECRET"));
                }
                Err(missing(format!(
                    "{prefix}_REFRESH_TOKEN is set but {} is not: a refresh token is renewed only by the OAuth client it was issued to (its client id and secret)",
                    lacking.join(" and ")
                )))
            }
        },
        (None, Some(token)) => Ok(DriveAuth::AccessToken(token)),
        (None, None) => Err(missing(format!(
            "set {prefix}_REFRESH_TOKEN with {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET (to get them, {}), or {prefix}_ACCESS_TOKEN for a short-lived access token; or refresh_token, client_id and client_secret under [remote.{}] in config.toml",
            url.service.how_to_get(),
            url.service.scheme()
        ))),
    }
}

/// [`drive_auth_from`] with the process environment.
pub fn drive_auth(url: &DriveUrl, creds: &RemoteCredentials) -> Result<DriveAuth, UrlError> {
    drive_auth_from(url, creds, |name| std::env::var(name).ok())
}

/// Longest name each drive takes, in characters (OneDrive and Dropbox: 255; Drive documents
/// none, 255 keeps names readable on every disk they may be synced to).
const NAME_LIMIT: usize = 255;

/// `name` (one file or folder name, no `/`) made acceptable to `service`: characters the
/// service refuses become `_`, names it reserves get a `_` in front, and names are cut at
/// 255 characters (keeping the extension). Every service: `/` separates folders in OpenDAL's
/// paths, so it cannot be part of a name.
/// - Google Drive takes any character; `\` is replaced because OpenDAL finds a file by a
///   Drive query in which `\` escapes the next character.
/// - OneDrive refuses `" * : < > ? \ |`, a leading or trailing space, names starting with
///   `~$`, and the names `.lock`, `CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9`,
///   `desktop.ini` and any containing `_vti_`.
/// - Dropbox refuses `\ < > : " | ? *` and names ending in `.` or a space (they cannot be
///   synced to Windows).
pub fn safe_name(service: DriveService, name: &str) -> String {
    let refused: &[char] = match service {
        DriveService::Gdrive => &['/', '\\'],
        DriveService::Onedrive => &['/', '"', '*', ':', '<', '>', '?', '\\', '|'],
        DriveService::Dropbox => &['/', '\\', '<', '>', ':', '"', '|', '?', '*'],
    };
    let mut out: String = name
        .chars()
        .map(|c| {
            if refused.contains(&c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.is_empty() || out == "." || out == ".." {
        return "_".to_string();
    }
    match service {
        DriveService::Gdrive => {}
        DriveService::Onedrive => {
            out = out.trim_matches(' ').to_string();
            if out.starts_with("~$") {
                out.replace_range(..1, "_");
            }
            let stem = out.split('.').next().unwrap_or("").to_ascii_uppercase();
            let reserved_device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
                || ((stem.starts_with("COM") || stem.starts_with("LPT"))
                    && stem.len() == 4
                    && stem.as_bytes()[3].is_ascii_digit());
            let lower = out.to_ascii_lowercase();
            if reserved_device
                || lower == ".lock"
                || lower == "desktop.ini"
                || lower.contains("_vti_")
            {
                out = format!("_{}", out.replace("_vti_", "_vti-"));
            }
        }
        DriveService::Dropbox => {
            if out.ends_with(['.', ' ']) {
                out.pop();
                out.push('_');
            }
        }
    }
    if out.is_empty() {
        // A OneDrive name of spaces only.
        out = "_".to_string();
    }
    cut_to(out, NAME_LIMIT)
}

/// `name` cut to `limit` characters, its extension (up to 16 characters) kept.
fn cut_to(name: String, limit: usize) -> String {
    let count = name.chars().count();
    if count <= limit {
        return name;
    }
    let ext = name
        .rfind('.')
        .map(|i| &name[i..])
        .filter(|e| e.chars().count() <= 16)
        .unwrap_or("");
    let keep = limit - ext.chars().count();
    let stem: String = name.chars().take(keep).collect();
    format!("{stem}{ext}")
}

/// A relative path (`a/b/c.mp4`) with each name made safe for `service`.
pub fn safe_path(service: DriveService, rel: &str) -> String {
    rel.split('/')
        .map(|name| safe_name(service, name))
        .collect::<Vec<_>>()
        .join("/")
}

/// The OpenDAL operator of `url` with the credentials [`drive_auth`] finds, rooted at the
/// URL's folder. Building it sends nothing; OpenDAL checks the configuration.
#[cfg(any(feature = "gdrive", feature = "onedrive", feature = "dropbox"))]
pub fn drive_operator(
    url: &DriveUrl,
    creds: &RemoteCredentials,
) -> Result<opendal::Operator, UrlError> {
    let auth = drive_auth(url, creds)?;
    let root = format!("/{}", url.path);
    let name = url.display();
    macro_rules! build {
        ($builder:expr) => {{
            let b = $builder.root(&root);
            let b = match &auth {
                DriveAuth::Refresh {
                    refresh_token,
                    client_id,
                    client_secret,
                } => b
                    .refresh_token(refresh_token)
                    .client_id(client_id)
                    .client_secret(client_secret),
                DriveAuth::AccessToken(t) => b.access_token(t),
            };
            crate::transport::retrying_operator(b, &name)
        }};
    }
    match url.service {
        #[cfg(feature = "gdrive")]
        DriveService::Gdrive => build!(opendal::services::Gdrive::default()),
        #[cfg(feature = "onedrive")]
        DriveService::Onedrive => build!(opendal::services::Onedrive::default()),
        #[cfg(feature = "dropbox")]
        DriveService::Dropbox => build!(opendal::services::Dropbox::default()),
        #[allow(unreachable_patterns)]
        other => Err(UrlError::NotBuiltIn {
            scheme: other.scheme().to_string(),
        }),
    }
}

/// The chunk an upload holds and sends at a time: 8 MiB (Google Drive: a multiple of
/// 256 KiB; Dropbox: any size), 7.5 MiB for OneDrive (a multiple of 320 KiB).
#[cfg(feature = "drive-uploads")]
pub(crate) fn chunk_size(service: DriveService) -> usize {
    match service {
        DriveService::Onedrive => 24 * 320 * 1024,
        _ => 8 << 20,
    }
}

/// The service's own addresses (API, uploads, OAuth token endpoint).
#[cfg(feature = "drive-uploads")]
pub(crate) fn endpoints(service: DriveService) -> crate::drive_http::Endpoints {
    let (api, upload, token) = match service {
        DriveService::Gdrive => (
            "https://www.googleapis.com",
            "https://www.googleapis.com",
            "https://oauth2.googleapis.com/token",
        ),
        DriveService::Onedrive => (
            "https://graph.microsoft.com",
            "https://graph.microsoft.com",
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        ),
        DriveService::Dropbox => (
            "https://api.dropboxapi.com",
            "https://content.dropboxapi.com",
            "https://api.dropboxapi.com/oauth2/token",
        ),
    };
    crate::drive_http::Endpoints {
        api: api.into(),
        upload: upload.into(),
        token: token.into(),
        retry_pause: crate::drive_http::RETRY_PAUSE,
    }
}

/// The starter of `url`'s uploads at `ep`, with `auth`; `None` for a service whose upload
/// is not built.
#[cfg(feature = "drive-uploads")]
pub(crate) fn starter(
    url: &DriveUrl,
    auth: DriveAuth,
    ep: crate::drive_http::Endpoints,
    chunk: usize,
) -> Option<(
    std::sync::Arc<dyn crate::sink::StartUpload>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
)> {
    let _ = (&auth, &ep, chunk);
    match url.service {
        #[cfg(feature = "gdrive")]
        DriveService::Gdrive => {
            use std::sync::Arc;
            let http = Arc::new(crate::drive_http::DriveHttp::new(ep, auth, Vec::new()));
            let up = Arc::new(crate::gdrive_upload::GdriveUploads::new(
                http, &url.path, chunk,
            ));
            let peak = up.peak.clone();
            Some((Arc::new(up), peak))
        }
        #[cfg(feature = "onedrive")]
        DriveService::Onedrive => {
            use std::sync::Arc;
            // Microsoft wants the scopes again (those OpenDAL's OneDrive service asks too).
            let http = Arc::new(crate::drive_http::DriveHttp::new(
                ep,
                auth,
                vec![("scope", "offline_access Files.ReadWrite")],
            ));
            let up = Arc::new(crate::onedrive_upload::OnedriveUploads::new(
                http, &url.path, chunk,
            ));
            let peak = up.peak.clone();
            Some((Arc::new(up), peak))
        }
        #[cfg(feature = "dropbox")]
        DriveService::Dropbox => {
            use std::sync::Arc;
            let http = Arc::new(crate::drive_http::DriveHttp::new(ep, auth, Vec::new()));
            let up = Arc::new(crate::dropbox_upload::DropboxUploads::new(
                http, &url.path, chunk,
            ));
            let peak = up.peak.clone();
            Some((Arc::new(up), peak))
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// Names made safe for each drive ([`safe_path`]), as [`crate::object`] takes them.
#[cfg(feature = "drive-uploads")]
fn names_of(service: DriveService) -> fn(&str) -> String {
    match service {
        DriveService::Gdrive => |rel| safe_path(DriveService::Gdrive, rel),
        DriveService::Onedrive => |rel| safe_path(DriveService::Onedrive, rel),
        DriveService::Dropbox => |rel| safe_path(DriveService::Dropbox, rel),
    }
}

/// Whether this build uploads to `service` (its feature is built).
pub fn built(service: DriveService) -> bool {
    match service {
        DriveService::Gdrive => cfg!(feature = "gdrive"),
        DriveService::Onedrive => cfg!(feature = "onedrive"),
        DriveService::Dropbox => cfg!(feature = "dropbox"),
    }
}

/// Opens a drive: OpenDAL's operator for everything but uploads, which go through the
/// service's own upload session ([`starter`]). A drive whose feature is not built is
/// refused saying which feature to build (before its credentials are looked at).
pub(crate) fn open(
    url: &DriveUrl,
    creds: &RemoteCredentials,
) -> Result<std::sync::Arc<dyn zvm_dest::Destination>, UrlError> {
    let not_built = || UrlError::NotBuiltIn {
        scheme: url.service.scheme().to_string(),
    };
    if !built(url.service) {
        let _ = creds;
        return Err(not_built());
    }
    #[cfg(feature = "drive-uploads")]
    {
        let op = drive_operator(url, creds)?;
        let auth = drive_auth(url, creds)?;
        let chunk = chunk_size(url.service);
        let (starter, _) =
            starter(url, auth, endpoints(url.service), chunk).ok_or_else(not_built)?;
        let dest = crate::object::ObjectDestination::new(
            op,
            crate::object::ObjectSettings {
                name: url.display(),
                // Unused: uploads do not go through OpenDAL's writer.
                part_size: chunk,
                concurrent: 1,
                single_put_max: 0,
                verify_etag: false,
                verify_content_md5: false,
                staging: false,
                await_readable: false,
                // Names are limited one by one (255 characters, [`safe_name`]).
                key_limit: usize::MAX / 2,
                prefix_len: crate::transport::key_offset(&url.path),
            },
        )
        .with_starter(starter)
        .with_names(names_of(url.service));
        Ok(std::sync::Arc::new(dest))
    }
    #[cfg(not(feature = "drive-uploads"))]
    Err(not_built())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::DestUrl;

    fn drive(text: &str) -> DriveUrl {
        match DestUrl::parse(text) {
            Ok(DestUrl::Drive(d)) => d,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn drive_urls_name_the_service_and_the_folder() {
        let d = drive("gdrive://Zoom/Recordings");
        assert_eq!(
            (d.service, d.path.as_str()),
            (DriveService::Gdrive, "Zoom/Recordings")
        );
        // The first name keeps its case and script (no host rules).
        let d = drive("onedrive://Équipe/Réunions%202026/");
        assert_eq!(
            (d.service, d.path.as_str()),
            (DriveService::Onedrive, "Équipe/Réunions 2026")
        );
        let d = drive("dropbox://");
        assert_eq!((d.service, d.path.as_str()), (DriveService::Dropbox, ""));
        assert_eq!(drive("DROPBOX://Apps/zvm").display(), "dropbox://Apps/zvm");
        for bad in [
            "gdrive://a/../b",
            "gdrive://a//b",
            "onedrive://x?token=abc",
            "dropbox://x#y",
        ] {
            match DestUrl::parse(bad) {
                Err(UrlError::Invalid { url, reason }) => {
                    assert!(!url.contains("abc"), "the error repeats an option: {url}");
                    assert!(!reason.is_empty());
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn without_a_token_the_error_names_the_variables_and_how_to_get_them() {
        for (text, prefix, how, table) in [
            (
                "gdrive://Zoom",
                "ZVM_GDRIVE",
                "Google Cloud console",
                "[remote.gdrive]",
            ),
            (
                "onedrive://Zoom",
                "ZVM_ONEDRIVE",
                "App registrations",
                "[remote.onedrive]",
            ),
            (
                "dropbox://Zoom",
                "ZVM_DROPBOX",
                "Dropbox App Console",
                "[remote.dropbox]",
            ),
        ] {
            let e = drive_auth_from(&drive(text), &RemoteCredentials::default(), env_of(&[]))
                .unwrap_err();
            let msg = e.to_string();
            for want in [
                text,
                &format!("{prefix}_REFRESH_TOKEN"),
                &format!("{prefix}_CLIENT_ID"),
                &format!("{prefix}_CLIENT_SECRET"),
                &format!("{prefix}_ACCESS_TOKEN"),
                how,
                table,
            ] {
                assert!(msg.contains(want), "{want:?} missing from: {msg}");
            }
        }
    }

    #[test]
    fn a_refresh_token_needs_its_client_and_the_error_says_which_part_is_missing() {
        let url = drive("onedrive://Zoom");
        let e = drive_auth_from(
            &url,
            &RemoteCredentials::default(),
            env_of(&[
                ("ZVM_ONEDRIVE_REFRESH_TOKEN", "r-secret"),
                ("ZVM_ONEDRIVE_CLIENT_ID", "app"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("ZVM_ONEDRIVE_CLIENT_SECRET"), "{e}");
        assert!(!e.contains("ZVM_ONEDRIVE_CLIENT_ID and"), "{e}");
        assert!(!e.contains("r-secret"), "a token was printed: {e}");
    }

    #[test]
    fn settings_come_before_the_environment_and_a_refresh_token_before_an_access_token() {
        let url = drive("gdrive://Zoom");
        let env = env_of(&[
            ("ZVM_GDRIVE_REFRESH_TOKEN", "env-refresh"),
            ("ZVM_GDRIVE_CLIENT_ID", "env-id"),
            ("ZVM_GDRIVE_CLIENT_SECRET", "env-secret"),
            ("ZVM_GDRIVE_ACCESS_TOKEN", "env-access"),
        ]);
        assert_eq!(
            drive_auth_from(&url, &RemoteCredentials::default(), &env).unwrap(),
            DriveAuth::Refresh {
                refresh_token: "env-refresh".into(),
                client_id: "env-id".into(),
                client_secret: "env-secret".into(),
            }
        );
        let given = RemoteCredentials {
            drive_client_id: Some("cfg-id".into()),
            ..Default::default()
        };
        match drive_auth_from(&url, &given, &env).unwrap() {
            DriveAuth::Refresh { client_id, .. } => assert_eq!(client_id, "cfg-id"),
            other => panic!("{other:?}"),
        }
        // Another service's variables are not read.
        let only_access = env_of(&[
            ("ZVM_DROPBOX_ACCESS_TOKEN", "dbx"),
            ("ZVM_GDRIVE_ACCESS_TOKEN", "g"),
        ]);
        assert_eq!(
            drive_auth_from(&url, &RemoteCredentials::default(), only_access).unwrap(),
            DriveAuth::AccessToken("g".into())
        );
        assert_eq!(
            format!("{:?}", DriveAuth::AccessToken("g".into())),
            "AccessToken(<set>)"
        );
    }

    #[test]
    fn names_are_made_safe_for_each_drive() {
        use DriveService::*;
        let name = r#"Q&A: "Budget" 1/2 <draft>?*|\.mp4"#;
        assert_eq!(
            safe_name(Gdrive, name),
            r#"Q&A: "Budget" 1_2 <draft>?*|_.mp4"#
        );
        assert_eq!(
            safe_name(Onedrive, name),
            "Q&A_ _Budget_ 1_2 _draft_____.mp4"
        );
        assert_eq!(
            safe_name(Dropbox, name),
            "Q&A_ _Budget_ 1_2 _draft_____.mp4"
        );
        // Reserved names and edges.
        assert_eq!(safe_name(Onedrive, "CON.mp4"), "_CON.mp4");
        assert_eq!(safe_name(Onedrive, "com7"), "_com7");
        assert_eq!(safe_name(Onedrive, "COM10.txt"), "COM10.txt");
        assert_eq!(safe_name(Onedrive, "desktop.ini"), "_desktop.ini");
        assert_eq!(safe_name(Onedrive, "a_vti_b"), "_a_vti-b");
        assert_eq!(safe_name(Onedrive, "~$notes.docx"), "_$notes.docx");
        assert_eq!(safe_name(Onedrive, "  padded  "), "padded");
        assert_eq!(safe_name(Dropbox, "ends with dot."), "ends with dot_");
        assert_eq!(safe_name(Dropbox, "ends with space "), "ends with space_");
        assert_eq!(safe_name(Gdrive, "日本語の会議.mp4"), "日本語の会議.mp4");
        for s in [Gdrive, Onedrive, Dropbox] {
            assert_eq!(safe_name(s, ""), "_");
            assert_eq!(safe_name(s, ".."), "_", "{s:?}");
            let long = format!("{}.mp4", "会".repeat(300));
            let cut = safe_name(s, &long);
            assert_eq!(cut.chars().count(), 255, "{s:?}");
            assert!(cut.ends_with(".mp4"), "{s:?}");
        }
        assert_eq!(
            safe_path(Onedrive, "2026/03/Q&A: plan/rec?.mp4"),
            "2026/03/Q&A_ plan/rec_.mp4"
        );
    }

    #[cfg(feature = "gdrive")]
    #[test]
    fn the_google_drive_operator_is_built_from_the_url_and_the_settings() {
        let url = drive("gdrive://Zoom/Recordings");
        let creds = RemoteCredentials {
            drive_refresh_token: Some("r".into()),
            drive_client_id: Some("id".into()),
            drive_client_secret: Some("s".into()),
            ..Default::default()
        };
        let op = drive_operator(&url, &creds).expect("an operator");
        assert_eq!(op.info().root(), "/Zoom/Recordings/");
        assert_eq!(op.info().scheme(), "gdrive");
        assert!(op.info().capability().write);
        // Uploads go through zvm's resumable upload; names are made safe for Drive.
        let dest = open(&url, &creds).expect("a destination");
        assert_eq!(dest.describe(), "gdrive://Zoom/Recordings");
        let e = open(&url, &RemoteCredentials::default())
            .err()
            .expect("no credentials")
            .to_string();
        assert!(e.contains("ZVM_GDRIVE_REFRESH_TOKEN"), "{e}");
    }

    #[cfg(feature = "onedrive")]
    #[test]
    fn the_onedrive_operator_is_built_from_an_access_token() {
        let url = drive("onedrive://Zoom");
        let creds = RemoteCredentials {
            drive_access_token: Some("t".into()),
            ..Default::default()
        };
        let op = drive_operator(&url, &creds).expect("an operator");
        assert_eq!(op.info().root(), "/Zoom/");
        let dest = open(&url, &creds).expect("a destination");
        assert_eq!(dest.describe(), "onedrive://Zoom");
    }

    #[cfg(feature = "dropbox")]
    #[test]
    fn the_dropbox_operator_is_built_at_the_drive_top_too() {
        let url = drive("dropbox://");
        let creds = RemoteCredentials {
            drive_access_token: Some("t".into()),
            ..Default::default()
        };
        let op = drive_operator(&url, &creds).expect("an operator");
        assert_eq!(op.info().root(), "/");
        let dest = open(&url, &creds).expect("a destination");
        assert_eq!(dest.describe(), "dropbox://");
    }
}
