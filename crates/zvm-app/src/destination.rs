//! The destination a run writes to, from what the user gave: a folder, or a URL such as
//! `s3://bucket/prefix?endpoint=...`, `webdavs://host/path`, `sftp://user@host/path` or
//! `azblob://container/prefix` for the services this build supports (the `s3`, `webdav`,
//! `sftp`, `azblob`, `gcs`, `gdrive`, `onedrive` and `dropbox` features; see
//! `zvm-dest-opendal`). Every front end opens it here, so a bad URL or missing
//! credentials read the same everywhere.

use std::path::Path;
use std::sync::Arc;

use zvm_dest::{Destination, LocalDestination};
use zvm_dest_opendal::{DestUrl, RemoteCredentials, is_remote};

use crate::config::RemoteConfig;
use crate::failure::{Cause, Failure};

pub use zvm_dest_opendal::UrlError;

/// What a destination the user gave is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestinationKind {
    Folder,
    /// A URL of a service this build writes to, e.g. `s3`.
    Remote {
        scheme: String,
    },
}

/// Checks `given` as [`open_destination`] reads it, without opening anything (no
/// environment read, nothing contacted): a folder, or a URL of a service this build has.
/// For front ends that check the field as it is typed; the error says what is wrong
/// (a bad URL, an unknown kind, a service this build was built without).
pub fn check_destination(given: &Path) -> Result<DestinationKind, UrlError> {
    let text = given.to_string_lossy();
    if !is_remote(&text) {
        return Ok(DestinationKind::Folder);
    }
    let url = DestUrl::parse(&text)?;
    let scheme = url.scheme();
    // What `open` answers for a service whose feature is off, said before anything opens.
    // Each arm's value is the build's (`cfg!`): with every feature on, clippy would read the
    // arms as one `matches!`, which the other builds are not.
    #[allow(clippy::match_like_matches_macro)]
    let built_in = match scheme.as_str() {
        "s3" => cfg!(feature = "s3"),
        "webdav" => cfg!(feature = "webdav"),
        "sftp" => cfg!(feature = "sftp"),
        "azblob" => cfg!(feature = "azblob"),
        "gcs" => cfg!(feature = "gcs"),
        "gdrive" => cfg!(feature = "gdrive"),
        "onedrive" => cfg!(feature = "onedrive"),
        "dropbox" => cfg!(feature = "dropbox"),
        _ => false,
    };
    if !built_in {
        return Err(UrlError::NotBuiltIn { scheme });
    }

    Ok(DestinationKind::Remote { scheme })
}

/// Opens `given`: a URL when it starts with `scheme://`, else a folder. Credentials of
/// remote services come from `remote` (the `[remote.SERVICE]` tables of config.toml, or a
/// front end's own fields), each key not set there from the service's usual environment
/// variable (AWS_ACCESS_KEY_ID, ..., ZVM_WEBDAV_USER/ZVM_WEBDAV_PASSWORD,
/// AZURE_STORAGE_ACCOUNT/AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING for Azure,
/// GOOGLE_APPLICATION_CREDENTIALS, ZVM_GDRIVE_REFRESH_TOKEN, ...); ssh's own keys and agent
/// for SFTP (or the URL's `?key=`). An option of the URL itself (`?endpoint=`, `?region=`,
/// `?account=`) wins over both. Nothing is contacted yet; the engine's first step checks the
/// destination is writable.
pub fn open_destination(
    given: &Path,
    remote: &RemoteConfig,
) -> Result<Arc<dyn Destination>, Failure> {
    let text = given.to_string_lossy();
    if !is_remote(&text) {
        return Ok(Arc::new(LocalDestination::new(given.to_path_buf())));
    }
    let bad = |e: zvm_dest_opendal::UrlError| Failure::new(Cause::BadSettings, e);
    let url = DestUrl::parse(&text).map_err(bad)?;
    zvm_dest_opendal::open(&url, &credentials_for(&url, remote)).map_err(bad)
}

/// The credentials of `remote` for the service `url` names (and only that service's: the
/// endpoint of `[remote.s3]` never reaches an Azure URL). Blank values count as not given.
pub fn credentials_for(url: &DestUrl, remote: &RemoteConfig) -> RemoteCredentials {
    let v = |o: &Option<String>| o.clone().filter(|v| !v.trim().is_empty());
    match url {
        DestUrl::S3(_) => RemoteCredentials {
            access_key_id: v(&remote.s3.access_key_id),
            secret_access_key: v(&remote.s3.secret_access_key),
            session_token: v(&remote.s3.session_token),
            endpoint: v(&remote.s3.endpoint),
            region: v(&remote.s3.region),
            ..Default::default()
        },
        DestUrl::Webdav(_) => RemoteCredentials {
            webdav_user: v(&remote.webdav.user),
            webdav_password: v(&remote.webdav.password),
            ..Default::default()
        },
        DestUrl::Azblob(_) => RemoteCredentials {
            azure_account: v(&remote.azblob.account),
            azure_account_key: v(&remote.azblob.account_key),
            azure_sas_token: v(&remote.azblob.sas_token),
            azure_connection_string: v(&remote.azblob.connection_string),
            endpoint: v(&remote.azblob.endpoint),
            ..Default::default()
        },
        DestUrl::Gcs(_) => RemoteCredentials {
            gcs_credential_path: v(&remote.gcs.credential_path),
            gcs_token: v(&remote.gcs.token),
            endpoint: v(&remote.gcs.endpoint),
            ..Default::default()
        },
        DestUrl::Drive(d) => match remote.drive(d.service.scheme()) {
            Some(c) => RemoteCredentials {
                drive_client_id: v(&c.client_id),
                drive_client_secret: v(&c.client_secret),
                drive_refresh_token: v(&c.refresh_token),
                drive_access_token: v(&c.access_token),
                ..Default::default()
            },
            None => RemoteCredentials::default(),
        },
        // ssh's own keys and agent, or the URL's `?key=`.
        DestUrl::Sftp(_) => RemoteCredentials::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_stay_folders() {
        let d = open_destination(Path::new("/data/ZoomRecordings"), &RemoteConfig::default())
            .expect("a folder");
        assert_eq!(d.describe(), "/data/ZoomRecordings");
    }

    #[test]
    fn a_destination_is_checked_as_it_would_be_opened() {
        let kind = |p: &str| check_destination(Path::new(p));
        assert!(matches!(
            kind("/data/ZoomRecordings"),
            Ok(DestinationKind::Folder)
        ));
        assert!(matches!(kind("C:\\Zoom"), Ok(DestinationKind::Folder)));
        match kind("s3://bucket/zoom?region=eu-west-1") {
            Ok(DestinationKind::Remote { scheme }) if cfg!(feature = "s3") => {
                assert_eq!(scheme, "s3")
            }
            Err(e @ UrlError::NotBuiltIn { .. }) if !cfg!(feature = "s3") => {
                assert!(e.to_string().contains("--features s3"), "{e}")
            }
            other => panic!("s3 with the feature {}: {other:?}", cfg!(feature = "s3")),
        }
        match kind("azblob://recordings/zoom") {
            Ok(DestinationKind::Remote { scheme }) if cfg!(feature = "azblob") => {
                assert_eq!(scheme, "azblob")
            }
            Err(e @ UrlError::NotBuiltIn { .. }) if !cfg!(feature = "azblob") => {
                assert!(e.to_string().contains("--features azblob"), "{e}")
            }
            other => panic!(
                "azblob with the feature {}: {other:?}",
                cfg!(feature = "azblob")
            ),
        }
        // Every service the build has is accepted, not only S3.
        if cfg!(feature = "webdav") {
            assert!(matches!(
                kind("webdavs://nas/dav"),
                Ok(DestinationKind::Remote { .. })
            ));
        }
        if cfg!(feature = "sftp") {
            assert!(matches!(
                kind("sftp://u@nas/data"),
                Ok(DestinationKind::Remote { .. })
            ));
        }
        assert!(matches!(
            kind("s3:///no-bucket"),
            Err(UrlError::Invalid { .. })
        ));
        if !cfg!(feature = "dropbox") {
            assert!(matches!(
                kind("dropbox://x"),
                Err(UrlError::NotBuiltIn { .. })
            ));
        }
        assert!(matches!(
            kind("nosuchkind://x"),
            Err(UrlError::UnknownScheme { .. })
        ));
    }

    #[test]
    fn bad_urls_are_settings_errors_that_say_what_to_fix() {
        let e = open_destination(Path::new("s3:///no-bucket"), &RemoteConfig::default())
            .err()
            .expect("refused");
        assert_eq!(e.cause, Cause::BadSettings);
        assert!(e.to_string().contains("no bucket"), "{e}");
        let e = open_destination(Path::new("dropbox://x"), &RemoteConfig::default())
            .err()
            .expect("refused");
        assert_eq!(e.cause, Cause::BadSettings);
        assert!(e.to_string().contains("dropbox://"), "{e}");
    }

    #[test]
    fn each_url_gets_its_own_service_s_table_only() {
        let remote: RemoteConfig = crate::config::parse_config(
            "[remote.s3]\naccess_key_id = \"s3-id\"\nsecret_access_key = \"s3-secret\"\nendpoint = \"http://127.0.0.1:9000\"\nregion = \"eu-west-1\"\n\
             [remote.webdav]\nuser = \"anna\"\npassword = \"dav-secret\"\n\
             [remote.azblob]\naccount = \"zvmstore\"\naccount_key = \"az-key\"\nendpoint = \"https://az.example\"\n\
             [remote.gcs]\ncredential_path = \"/k.json\"\nendpoint = \"https://gcs.example\"\n\
             [remote.gdrive]\nrefresh_token = \"gd-refresh\"\nclient_id = \"gd-id\"\n\
             [remote.dropbox]\nrefresh_token = \"db-refresh\"\n",
            Path::new("config.toml"),
        )
        .expect("valid")
        .remote;
        let creds = |u: &str| credentials_for(&DestUrl::parse(u).expect(u), &remote);
        let s3 = creds("s3://b/p");
        assert_eq!(s3.access_key_id.as_deref(), Some("s3-id"));
        assert_eq!(s3.secret_access_key.as_deref(), Some("s3-secret"));
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s3.webdav_password, None);
        let dav = creds("webdavs://nas/dav");
        assert_eq!(dav.webdav_user.as_deref(), Some("anna"));
        assert_eq!(dav.webdav_password.as_deref(), Some("dav-secret"));
        assert_eq!((dav.endpoint, dav.access_key_id), (None, None));
        let az = creds("azblob://c/p");
        assert_eq!(az.azure_account.as_deref(), Some("zvmstore"));
        assert_eq!(az.azure_account_key.as_deref(), Some("az-key"));
        assert_eq!(az.endpoint.as_deref(), Some("https://az.example"));
        let gcs = creds("gcs://b/p");
        assert_eq!(gcs.gcs_credential_path.as_deref(), Some("/k.json"));
        assert_eq!(gcs.endpoint.as_deref(), Some("https://gcs.example"));
        let gd = creds("gdrive://Zoom");
        assert_eq!(gd.drive_refresh_token.as_deref(), Some("gd-refresh"));
        assert_eq!(gd.drive_client_id.as_deref(), Some("gd-id"));
        assert_eq!(
            creds("dropbox://Zoom").drive_refresh_token.as_deref(),
            Some("db-refresh")
        );
        assert_eq!(creds("onedrive://Zoom").drive_refresh_token, None);
        let sftp = creds("sftp://u@nas/data");
        assert!(
            format!("{sftp:?}").contains("webdav_user: None"),
            "{sftp:?}"
        );
    }

    /// The drives' configuration check reads the file's table: a refresh token without its
    /// client is reported as such (not as "no credentials at all"), and never shown.
    #[test]
    fn a_drive_s_table_reaches_its_configuration_check() {
        let remote: RemoteConfig = crate::config::parse_config(
            "[remote.dropbox]\nrefresh_token = \"db-refresh-secret\"\n",
            Path::new("config.toml"),
        )
        .unwrap()
        .remote;
        let with = open_destination(Path::new("dropbox://Zoom"), &remote)
            .err()
            .expect("refused")
            .to_string();
        let without = open_destination(Path::new("dropbox://Zoom"), &RemoteConfig::default())
            .err()
            .expect("refused")
            .to_string();
        assert!(!with.contains("db-refresh-secret"), "{with}");
        if cfg!(feature = "dropbox") && std::env::var_os("ZVM_DROPBOX_REFRESH_TOKEN").is_none() {
            assert_ne!(with, without, "the file's token was not read");
        }
    }
}
