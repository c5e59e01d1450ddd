//! Destination URLs: which service, where in it, and the options that say how to reach it.
//! Parsed without any network access and whatever features are built, so that a bad URL is
//! reported the same way everywhere (what is wrong, in which URL, how to fix it).

use percent_encoding::percent_decode_str;

// The cloud drives' URLs live here with every other URL; the rest of them is in
// `crate::drive`, which imports from here (not the other way round).
/// Which drive a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriveService {
    Gdrive,
    Onedrive,
    Dropbox,
}

impl DriveService {
    pub(crate) fn of_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "gdrive" => Some(Self::Gdrive),
            "onedrive" => Some(Self::Onedrive),
            "dropbox" => Some(Self::Dropbox),
            _ => None,
        }
    }

    pub fn scheme(self) -> &'static str {
        match self {
            Self::Gdrive => "gdrive",
            Self::Onedrive => "onedrive",
            Self::Dropbox => "dropbox",
        }
    }

    /// The name people know the service by.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gdrive => "Google Drive",
            Self::Onedrive => "OneDrive",
            Self::Dropbox => "Dropbox",
        }
    }

    /// The environment variables' common start: `ZVM_GDRIVE`, ...
    pub fn env_prefix(self) -> &'static str {
        match self {
            Self::Gdrive => "ZVM_GDRIVE",
            Self::Onedrive => "ZVM_ONEDRIVE",
            Self::Dropbox => "ZVM_DROPBOX",
        }
    }

    /// Where the OAuth client and its refresh token come from.
    pub(crate) fn how_to_get(self) -> &'static str {
        match self {
            Self::Gdrive => {
                "create an OAuth client (type Desktop app) in the Google Cloud console with the Google Drive API enabled, and authorise it once for your account to get a refresh token"
            }
            Self::Onedrive => {
                "register an app under App registrations in the Microsoft Entra admin center (Azure portal) with the Files.ReadWrite and offline_access permissions, and authorise it once for your account to get a refresh token"
            }
            Self::Dropbox => {
                "create an app in the Dropbox App Console and authorise it once for your account with token_access_type=offline to get a refresh token"
            }
        }
    }
}

/// A folder of a drive: `gdrive://Zoom/Recordings` is the folder `Zoom/Recordings` of the
/// account's drive (My Drive, OneDrive's root, Dropbox's home).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveUrl {
    pub service: DriveService,
    /// The folder, without leading or trailing `/` (empty: the drive's top).
    pub path: String,
}

impl DriveUrl {
    pub(crate) fn parse(service: DriveService, text: &str) -> Result<DriveUrl, UrlError> {
        let bad = |reason: String| UrlError::Invalid {
            url: text.split('?').next().unwrap_or("").to_string(),
            reason,
        };
        let rest = text.split_once("://").map(|(_, r)| r).unwrap_or("");
        // Everything after `://` is the folder: the first name is no host (a URL parser would
        // lower-case it and turn non-ASCII names into punycode).
        if rest.contains(['?', '#']) {
            return Err(bad(format!(
                "{}:// takes no options; credentials go in the environment ({}_REFRESH_TOKEN, ...)",
                service.scheme(),
                service.env_prefix()
            )));
        }
        let path = percent_decode_str(rest)
            .decode_utf8()
            .map_err(|_| bad("the folder is not valid UTF-8".into()))?;
        let path = path.trim_matches('/');
        if !path.is_empty()
            && path
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == ".." || c.trim().is_empty())
        {
            return Err(bad("the folder has an empty, `.` or `..` name".into()));
        }
        Ok(DriveUrl {
            service,
            path: path.to_string(),
        })
    }

    /// What the user sees: `gdrive://Zoom/Recordings`.
    pub fn display(&self) -> String {
        format!("{}://{}", self.service.scheme(), self.path)
    }
}

/// S3 allows part numbers 1..=10 000 and parts of at least 5 MiB (but the last).
pub const S3_MIN_PART: usize = 5 * 1024 * 1024;
/// At most 5 GiB per part.
pub const S3_MAX_PART: usize = 5 * 1024 * 1024 * 1024;

/// A parsed destination URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestUrl {
    /// `s3://bucket/prefix?endpoint=...&region=...&part_size=...&verify_etag=...`
    S3(S3Url),
    /// `webdavs://host[:port]/path` (HTTPS), or `webdav://` (plain HTTP, this machine only).
    Webdav(WebdavUrl),
    /// `sftp://[user@]host[:port]/path?key=...&known_hosts=...`
    Sftp(SftpUrl),
    /// `azblob://container/prefix?account=...&endpoint=...&part_size=...`
    Azblob(AzblobUrl),
    /// `gcs://bucket/prefix?endpoint=...&part_size=...`
    Gcs(GcsUrl),
    /// `gdrive://folder/path`, `onedrive://folder/path`, `dropbox://folder/path`: a folder
    /// of the user's own drive (configuration only so far; see [`crate::drive`]).
    Drive(DriveUrl),
}

impl DestUrl {
    /// Parses `text`, which [`is_remote`] says is a URL.
    pub fn parse(text: &str) -> Result<DestUrl, UrlError> {
        let (scheme, _) = text.split_once("://").ok_or_else(|| UrlError::Invalid {
            url: redact(text),
            reason: "it has no `scheme://` in front".into(),
        })?;
        let scheme = scheme.to_ascii_lowercase();
        match scheme.as_str() {
            "s3" => S3Url::parse(text).map(DestUrl::S3),
            "webdav" | "webdavs" => WebdavUrl::parse(text).map(DestUrl::Webdav),
            "sftp" => SftpUrl::parse(text).map(DestUrl::Sftp),
            "azblob" => AzblobUrl::parse(text).map(DestUrl::Azblob),
            "gcs" => GcsUrl::parse(text).map(DestUrl::Gcs),
            s => match DriveService::of_scheme(s) {
                Some(service) => DriveUrl::parse(service, text).map(DestUrl::Drive),
                None => Err(UrlError::UnknownScheme { scheme }),
            },
        }
    }

    /// The URL's scheme, e.g. `s3`.
    pub fn scheme(&self) -> String {
        match self {
            DestUrl::S3(_) => "s3".into(),
            // One feature builds both.
            DestUrl::Webdav(_) => "webdav".into(),
            DestUrl::Sftp(_) => "sftp".into(),
            DestUrl::Azblob(_) => "azblob".into(),
            DestUrl::Gcs(_) => "gcs".into(),
            DestUrl::Drive(d) => d.service.scheme().into(),
        }
    }
}

/// Whether a destination given by the user is a URL (`scheme://...`) rather than a folder.
/// A scheme is two or more letters, digits, `+`, `-` or `.` starting with a letter, so
/// `C:\x` and `./s3:/x` stay paths.
pub fn is_remote(text: &str) -> bool {
    match text.split_once("://") {
        Some((scheme, _)) => {
            scheme.len() >= 2
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `s3://bucket/prefix` and its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Key prefix under which files go, without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// `endpoint=` (e.g. `http://127.0.0.1:9000` for MinIO), else AWS_ENDPOINT_URL.
    pub endpoint: Option<String>,
    /// `region=`, else AWS_REGION / AWS_DEFAULT_REGION.
    pub region: Option<String>,
    /// `part_size=` in bytes (suffixes KiB, MiB, GiB): the multipart part size.
    pub part_size: Option<usize>,
    /// `verify_etag=false` turns off comparing the ETag with the MD5 of the bytes sent (for
    /// buckets encrypted with SSE-KMS or SSE-C, whose ETags are not an MD5).
    pub verify_etag: bool,
    /// `upload_concurrency=` parts of one file sent at once (1 to [`S3_MAX_CONCURRENCY`]).
    pub upload_concurrency: Option<usize>,
    /// `upload_cutoff=` in bytes (suffixes KiB, MiB, GiB): files up to this size go up in one
    /// streamed PUT, larger ones in a multipart upload (0: every file multipart; at most
    /// [`S3_MAX_PART`], S3's largest single PUT).
    pub upload_cutoff: Option<u64>,
    /// `upload_memory=` in bytes (suffixes KiB, MiB, GiB): the parts that all files of a run
    /// together may keep in memory while they are sent in the background, besides the one
    /// part each file fills (0: each file sends its part, then goes on filling).
    pub upload_memory: Option<usize>,
}

/// Most parts of one file in flight that `upload_concurrency=` takes: each is a part held
/// in memory, per file.
pub const S3_MAX_CONCURRENCY: usize = 16;

impl S3Url {
    fn parse(text: &str) -> Result<S3Url, UrlError> {
        let bad = |reason: String| UrlError::Invalid {
            url: redact(text),
            reason,
        };
        // The URL parser resolves `..` itself; a prefix that says `..` is refused instead.
        let raw_path = text
            .split_once("://")
            .map(|(_, rest)| rest.split(['?', '#']).next().unwrap_or(""))
            .and_then(|rest| rest.split_once('/'))
            .map(|(_, p)| p)
            .unwrap_or("");
        if raw_path
            .split('/')
            .any(|c| matches!(c, "." | ".." | "%2e" | "%2E" | "%2e%2e" | "%2E%2E"))
        {
            return Err(bad("the prefix has a `.` or `..` component".into()));
        }
        let u = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL (other users can see command lines): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, or [remote.s3] in config.toml, instead".into(),
            ));
        }
        if u.port().is_some() {
            return Err(bad(
                "the part after s3:// is the bucket, not a server: give the server as `?endpoint=http://host:port`".into(),
            ));
        }
        let bucket = u.host_str().unwrap_or("").to_string();
        if bucket.is_empty() {
            return Err(bad("no bucket: write it as s3://BUCKET/prefix".into()));
        }
        let path = percent_decode_str(u.path())
            .decode_utf8()
            .map_err(|_| bad("the prefix is not valid UTF-8".into()))?;
        let prefix = path.trim_matches('/').to_string();
        if prefix.split('/').any(|c| c == "." || c == "..") || prefix.contains("//") {
            return Err(bad("the prefix has an empty, `.` or `..` component".into()));
        }
        let mut out = S3Url {
            bucket,
            prefix,
            endpoint: None,
            region: None,
            part_size: None,
            verify_etag: true,
            upload_concurrency: None,
            upload_cutoff: None,
            upload_memory: None,
        };
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "endpoint" => {
                    if !(v.starts_with("http://") || v.starts_with("https://")) {
                        return Err(bad(format!(
                            "endpoint {v:?} must start with http:// or https://"
                        )));
                    }
                    out.endpoint = Some(v.into_owned());
                }
                "region" => out.region = Some(v.into_owned()),
                "part_size" => {
                    let n = parse_size(&v).ok_or_else(|| {
                        bad(format!("part_size {v:?} is not a size such as 8MiB"))
                    })?;
                    if !(S3_MIN_PART..=S3_MAX_PART).contains(&n) {
                        return Err(bad(format!(
                            "part_size {v:?} is outside what S3 allows (5MiB to 5GiB)"
                        )));
                    }
                    out.part_size = Some(n);
                }
                "verify_etag" => {
                    out.verify_etag = match v.as_ref() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad(format!("verify_etag {v:?} must be true or false"))),
                    }
                }
                "upload_concurrency" => {
                    let n = v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=S3_MAX_CONCURRENCY).contains(n))
                        .ok_or_else(|| {
                            bad(format!(
                                "upload_concurrency {v:?} must be a number from 1 to {S3_MAX_CONCURRENCY}"
                            ))
                        })?;
                    out.upload_concurrency = Some(n);
                }
                "upload_cutoff" => {
                    let n = parse_size(&v)
                        .filter(|n| *n <= S3_MAX_PART)
                        .ok_or_else(|| {
                            bad(format!(
                                "upload_cutoff {v:?} must be a size such as 200MiB, from 0 to 5GiB (S3's largest single PUT)"
                            ))
                        })?;
                    out.upload_cutoff = Some(n as u64);
                }
                "upload_memory" => {
                    let n = parse_size(&v).ok_or_else(|| {
                        bad(format!(
                            "upload_memory {v:?} is not a size such as 32MiB (0 sends every part before the next is filled)"
                        ))
                    })?;
                    out.upload_memory = Some(n);
                }
                other => {
                    return Err(bad(format!(
                        "unknown option {other:?}; s3:// takes endpoint, region, part_size, upload_concurrency, upload_cutoff, upload_memory and verify_etag"
                    )));
                }
            }
        }
        Ok(out)
    }
}

/// `webdavs://host[:port]/path` or `webdav://host[:port]/path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebdavUrl {
    /// `https://host[:port]`, or `http://...` for a server on this machine.
    pub endpoint: String,
    /// The folder on the server, without leading or trailing `/` (may be empty).
    pub path: String,
}

impl WebdavUrl {
    fn parse(text: &str) -> Result<WebdavUrl, UrlError> {
        let bad = |reason: String| UrlError::Invalid {
            url: redact(text),
            reason,
        };
        let (u, path) = parse_with_path(text).map_err(bad)?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL (other users can see command lines): set ZVM_WEBDAV_USER and ZVM_WEBDAV_PASSWORD in the environment, or [remote.webdav] in config.toml, instead".into(),
            ));
        }
        if let Some((k, _)) = u.query_pairs().next() {
            return Err(bad(format!(
                "unknown option {:?}; webdav:// takes no options",
                k.as_ref()
            )));
        }
        let host = u
            .host()
            .ok_or_else(|| bad("no server: write it as webdavs://HOST/path".into()))?;
        let tls = u.scheme().eq_ignore_ascii_case("webdavs");
        // A password sent over plain HTTP can be read by anyone on the way: only a server on
        // this machine may be reached without TLS.
        if !tls && !is_loopback(&host) {
            return Err(bad(format!(
                "webdav:// is plain HTTP, which would send the password and the recordings unencrypted over the network: use webdavs://{}… (HTTPS); plain webdav:// is only for a server on this machine (localhost, 127.0.0.1, ::1)",
                u.host_str().unwrap_or("")
            )));
        }
        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
        let scheme = if tls { "https" } else { "http" };
        Ok(WebdavUrl {
            endpoint: format!("{scheme}://{}{port}", host_for_url(&host)),
            path,
        })
    }
}

/// `sftp://[user@]host[:port]/path` and its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SftpUrl {
    /// The login name; else the one `ssh` picks (~/.ssh/config, then the local user).
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// The folder on the server, absolute, without a trailing `/`.
    pub path: String,
    /// `key=PATH`: the private key to log in with; else ssh's own (ssh-agent, ~/.ssh/id_*,
    /// ~/.ssh/config).
    pub key: Option<String>,
    /// `known_hosts=add` trusts a server not yet in ~/.ssh/known_hosts on first contact
    /// (and checks it ever after); the default refuses servers not in it.
    pub add_unknown_host: bool,
}

impl SftpUrl {
    fn parse(text: &str) -> Result<SftpUrl, UrlError> {
        let bad = |reason: String| UrlError::Invalid {
            url: redact(text),
            reason,
        };
        let (u, path) = parse_with_path(text).map_err(bad)?;
        if u.password().is_some() {
            return Err(bad(
                "a password does not belong in the URL (other users can see command lines), and zvm logs in to SFTP servers with keys only: load your key into ssh-agent, or give ?key=PATH".into(),
            ));
        }
        let host = u
            .host()
            .ok_or_else(|| bad("no server: write it as sftp://USER@HOST/path".into()))?;
        if path.is_empty() {
            return Err(bad(
                "no folder: write it as sftp://USER@HOST/path/to/folder (the path is absolute on the server)".into(),
            ));
        }
        let user = (!u.username().is_empty()).then(|| {
            percent_decode_str(u.username())
                .decode_utf8_lossy()
                .into_owned()
        });
        let mut out = SftpUrl {
            user,
            host: host_for_url(&host),
            port: u.port(),
            path: format!("/{path}"),
            key: None,
            add_unknown_host: false,
        };
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "key" => {
                    if v.is_empty() {
                        return Err(bad("key= needs the path of a private key file".into()));
                    }
                    out.key = Some(v.into_owned());
                }
                "known_hosts" => {
                    out.add_unknown_host = match v.as_ref() {
                        "strict" => false,
                        "add" => true,
                        "accept" => {
                            return Err(bad(
                                "known_hosts=accept would turn off the check of the server's identity; use known_hosts=add (trust on first contact, checked ever after) or add the server to ~/.ssh/known_hosts".into(),
                            ));
                        }
                        _ => {
                            return Err(bad(format!("known_hosts {v:?} must be strict or add")));
                        }
                    }
                }
                other => {
                    return Err(bad(format!(
                        "unknown option {other:?}; sftp:// takes key and known_hosts"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The destination as `ssh` takes it: `ssh://[user@]host[:port]`.
    pub fn ssh_destination(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("ssh://{user}{}{port}", self.host)
    }
}

/// `azblob://container/prefix` and its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AzblobUrl {
    pub container: String,
    /// Name prefix under which blobs go, without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// `account=`: the storage account (not a secret), else AZURE_STORAGE_ACCOUNT or the
    /// connection string's.
    pub account: Option<String>,
    /// `endpoint=`: the Blob service, e.g. `http://127.0.0.1:10000/devstoreaccount1` for
    /// Azurite; else `https://ACCOUNT.blob.core.windows.net`. Plain http only to this machine.
    pub endpoint: Option<String>,
    /// `part_size=`: the block size.
    pub part_size: Option<usize>,
}

/// Azure allows blocks of up to 4000 MiB; below 64 KiB a file would need absurdly many.
pub const AZURE_MIN_BLOCK: usize = 64 * 1024;
pub const AZURE_MAX_BLOCK: usize = 4000 * 1024 * 1024;

impl AzblobUrl {
    fn parse(text: &str) -> Result<AzblobUrl, UrlError> {
        let bad = |reason: String| UrlError::Invalid {
            url: redact(text),
            reason,
        };
        let (u, prefix) = parse_with_path(text).map_err(bad)?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL (other users can see command lines): set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (or AZURE_STORAGE_CONNECTION_STRING) in the environment, or [remote.azblob] in config.toml, instead".into(),
            ));
        }
        if u.port().is_some() {
            return Err(bad(
                "the part after azblob:// is the container, not a server: give the server as `?endpoint=https://host`".into(),
            ));
        }
        let container = u.host_str().unwrap_or("").to_string();
        if container.is_empty() {
            return Err(bad(
                "no container: write it as azblob://CONTAINER/prefix".into()
            ));
        }
        let mut out = AzblobUrl {
            container,
            prefix,
            account: None,
            endpoint: None,
            part_size: None,
        };
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "endpoint" => out.endpoint = Some(service_endpoint(&v).map_err(bad)?),
                "account" => {
                    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
                        return Err(bad(format!(
                            "account {v:?} is not a storage account name (letters and digits)"
                        )));
                    }
                    out.account = Some(v.into_owned());
                }
                "part_size" => {
                    let n = parse_size(&v).ok_or_else(|| {
                        bad(format!("part_size {v:?} is not a size such as 8MiB"))
                    })?;
                    if !(AZURE_MIN_BLOCK..=AZURE_MAX_BLOCK).contains(&n) {
                        return Err(bad(format!(
                            "part_size {v:?} is outside 64KiB to 4000MiB (Azure's block sizes)"
                        )));
                    }
                    out.part_size = Some(n);
                }
                other => {
                    return Err(bad(format!(
                        "unknown option {other:?}; azblob:// takes account, endpoint and part_size"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// `azblob://container/prefix`, as the user sees it.
    pub fn display(&self) -> String {
        if self.prefix.is_empty() {
            format!("azblob://{}", self.container)
        } else {
            format!("azblob://{}/{}", self.container, self.prefix)
        }
    }
}

/// `gcs://bucket/prefix` and its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcsUrl {
    pub bucket: String,
    /// Name prefix under which objects go, without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// `endpoint=`: e.g. an emulator's `http://127.0.0.1:9023`; else Google's. Plain http
    /// only to this machine.
    pub endpoint: Option<String>,
    /// `part_size=`: the multipart part size.
    pub part_size: Option<usize>,
}

impl GcsUrl {
    fn parse(text: &str) -> Result<GcsUrl, UrlError> {
        let bad = |reason: String| UrlError::Invalid {
            url: redact(text),
            reason,
        };
        let (u, prefix) = parse_with_path(text).map_err(bad)?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad(
                "credentials do not belong in the URL (other users can see command lines): set GOOGLE_APPLICATION_CREDENTIALS to the path of a service-account key file instead".into(),
            ));
        }
        if u.port().is_some() {
            return Err(bad(
                "the part after gcs:// is the bucket, not a server: give the server as `?endpoint=https://host`".into(),
            ));
        }
        let bucket = u.host_str().unwrap_or("").to_string();
        if bucket.is_empty() {
            return Err(bad("no bucket: write it as gcs://BUCKET/prefix".into()));
        }
        let mut out = GcsUrl {
            bucket,
            prefix,
            endpoint: None,
            part_size: None,
        };
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "endpoint" => out.endpoint = Some(service_endpoint(&v).map_err(bad)?),
                "part_size" => {
                    let n = parse_size(&v).ok_or_else(|| {
                        bad(format!("part_size {v:?} is not a size such as 8MiB"))
                    })?;
                    if !(S3_MIN_PART..=S3_MAX_PART).contains(&n) {
                        return Err(bad(format!(
                            "part_size {v:?} is outside what GCS allows (5MiB to 5GiB)"
                        )));
                    }
                    out.part_size = Some(n);
                }
                other => {
                    return Err(bad(format!(
                        "unknown option {other:?}; gcs:// takes endpoint and part_size"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// `gcs://bucket/prefix`, as the user sees it.
    pub fn display(&self) -> String {
        if self.prefix.is_empty() {
            format!("gcs://{}", self.bucket)
        } else {
            format!("gcs://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// An endpoint option of a cloud service: `https://...`, or `http://...` only to this
/// machine (an emulator): plain HTTP elsewhere would send the signed requests and the
/// recordings unencrypted over the network. Returned without a trailing `/`.
pub(crate) fn service_endpoint(v: &str) -> Result<String, String> {
    let u = url::Url::parse(v).map_err(|e| format!("endpoint {v:?}: {e}"))?;
    match u.scheme() {
        "https" => {}
        "http" => {
            if !u.host().is_some_and(|h| is_loopback(&h)) {
                return Err(format!(
                    "endpoint {v:?} is plain HTTP to another machine, which would send the recordings unencrypted: use https://, or http:// only for an emulator on this machine (localhost, 127.0.0.1, ::1)"
                ));
            }
        }
        _ => {
            return Err(format!(
                "endpoint {v:?} must start with https:// (or http:// for an emulator on this machine)"
            ));
        }
    }
    if !u.username().is_empty() || u.password().is_some() || u.query().is_some() {
        return Err(
            "the endpoint must be a plain address: no login and no query (a SAS token goes in AZURE_STORAGE_SAS_TOKEN)".into(),
        );
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

/// Parses a URL whose path is a folder: refuses `.`/`..`/empty components (before the URL
/// parser resolves them away) and returns the decoded path without outer `/`.
fn parse_with_path(text: &str) -> Result<(url::Url, String), String> {
    let raw_path = text
        .split_once("://")
        .map(|(_, rest)| rest.split(['?', '#']).next().unwrap_or(""))
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, p)| p)
        .unwrap_or("");
    if raw_path.split('/').any(|c| {
        matches!(
            c.to_ascii_lowercase().as_str(),
            "." | ".." | "%2e" | "%2e%2e"
        )
    }) {
        return Err("the path has a `.` or `..` component".into());
    }
    let u = url::Url::parse(text).map_err(|e| e.to_string())?;
    let path = percent_decode_str(u.path())
        .decode_utf8()
        .map_err(|_| "the path is not valid UTF-8".to_string())?;
    let path = path.trim_matches('/').to_string();
    if path.contains("//") || path.contains('\\') || path.contains('\0') {
        return Err("the path has an empty component, a backslash or a NUL".into());
    }
    Ok((u, path))
}

pub(crate) fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        // URLs of schemes the URL standard does not know keep IPv4 addresses as text.
        url::Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|a| a.is_loopback())
        }
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

fn host_for_url(host: &url::Host<&str>) -> String {
    match host {
        url::Host::Ipv6(a) => format!("[{a}]"),
        other => other.to_string(),
    }
}

/// `123`, `8MiB`, `512KiB`, `1GiB` (also `MB`/`M`, taken as binary units).
fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num.parse().ok()?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// The URL without anything after `@` in its authority (never print credentials, even
/// ones given by mistake) and without its query (which may hold an endpoint with a token).
fn redact(text: &str) -> String {
    let (scheme, rest) = match text.split_once("://") {
        Some(p) => p,
        None => return text.split('?').next().unwrap_or("").to_string(),
    };
    let rest = rest.split('?').next().unwrap_or("");
    let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = auth.rsplit('@').next().unwrap_or("");
    let hidden = if auth.contains('@') { "***@" } else { "" };
    format!("{scheme}://{hidden}{host}{path}")
}

/// Credentials and connection settings given by the caller (config.toml's `[remote.SERVICE]`
/// table, or a front end's own fields, through zvm-app's `open_destination`); each field that
/// is `None` falls back to the service's usual environment variable.
#[derive(Clone, Default)]
pub struct RemoteCredentials {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// WebDAV's login, else ZVM_WEBDAV_USER / ZVM_WEBDAV_PASSWORD.
    pub webdav_user: Option<String>,
    pub webdav_password: Option<String>,
    /// Azure: the storage account, its key, a SAS token or a whole connection string, else
    /// AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN /
    /// AZURE_STORAGE_CONNECTION_STRING.
    pub azure_account: Option<String>,
    pub azure_account_key: Option<String>,
    pub azure_sas_token: Option<String>,
    pub azure_connection_string: Option<String>,
    /// Google Cloud Storage: a service-account key file (else
    /// GOOGLE_APPLICATION_CREDENTIALS), or an OAuth access token.
    pub gcs_credential_path: Option<String>,
    pub gcs_token: Option<String>,
    /// Google Drive, OneDrive or Dropbox (the one the URL names): an OAuth refresh token with
    /// the client it was issued to, or a short-lived access token; else
    /// ZVM_<SERVICE>_REFRESH_TOKEN / _CLIENT_ID / _CLIENT_SECRET / _ACCESS_TOKEN.
    pub drive_refresh_token: Option<String>,
    pub drive_client_id: Option<String>,
    pub drive_client_secret: Option<String>,
    pub drive_access_token: Option<String>,
}

/// Never prints a secret, even in a debug dump.
impl std::fmt::Debug for RemoteCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| if o.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("RemoteCredentials")
            .field("access_key_id", &set(&self.access_key_id))
            .field("secret_access_key", &set(&self.secret_access_key))
            .field("session_token", &set(&self.session_token))
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("webdav_user", &self.webdav_user)
            .field("webdav_password", &set(&self.webdav_password))
            .field("azure_account", &self.azure_account)
            .field("azure_account_key", &set(&self.azure_account_key))
            .field("azure_sas_token", &set(&self.azure_sas_token))
            .field(
                "azure_connection_string",
                &set(&self.azure_connection_string),
            )
            .field("gcs_credential_path", &self.gcs_credential_path)
            .field("gcs_token", &set(&self.gcs_token))
            .field("drive_refresh_token", &set(&self.drive_refresh_token))
            .field("drive_client_id", &self.drive_client_id)
            .field("drive_client_secret", &set(&self.drive_client_secret))
            .field("drive_access_token", &set(&self.drive_access_token))
            .finish()
    }
}

/// A destination URL that cannot be used. Shown as-is to the person running zvm.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("invalid destination {url}: {reason}")]
    Invalid { url: String, reason: String },

    #[error(
        "unknown destination kind {scheme}://: give a folder, or a URL: s3://bucket/prefix, webdavs://host/path, sftp://user@host/path, azblob://container/prefix, gcs://bucket/prefix, gdrive://folder, onedrive://folder, dropbox://folder"
    )]
    UnknownScheme { scheme: String },

    #[error("no credentials for {url}: {what}")]
    MissingDriveCredentials { url: String, what: String },

    #[error(
        "this zvm was built without {scheme}:// support: build it with `cargo build --release --features {scheme}`"
    )]
    NotBuiltIn { scheme: String },

    #[error(
        "no credentials for {url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE to use a profile of ~/.aws/credentials; or access_key_id and secret_access_key under [remote.s3] in config.toml"
    )]
    MissingCredentials { url: String },

    #[error(
        "no region for {url}: add ?region=REGION to the URL, or set region under [remote.s3] in config.toml or AWS_REGION (for S3-compatible servers give their ?endpoint=URL; the region then defaults to us-east-1)"
    )]
    MissingRegion { url: String },

    #[error(
        "no credentials for {url}: set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, or AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_SAS_TOKEN with AZURE_STORAGE_ACCOUNT (or ?account= in the URL); or the same under [remote.azblob] in config.toml"
    )]
    MissingAzureCredentials { url: String },

    #[error(
        "no credentials for {url}: set GOOGLE_APPLICATION_CREDENTIALS (or credential_path under [remote.gcs] in config.toml) to the path of a service-account key file (JSON) with access to the bucket"
    )]
    MissingGcsCredentials { url: String },

    #[error("cannot set up {url}: {detail}")]
    Setup { url: String, detail: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(text: &str) -> S3Url {
        match DestUrl::parse(text) {
            Ok(DestUrl::S3(s)) => s,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn s3_urls_name_bucket_prefix_and_options() {
        let u = s3(
            "s3://rec-bucket/zoom/2026%20archive/?endpoint=http://127.0.0.1:9000&region=eu-west-1&part_size=16MiB&verify_etag=false",
        );
        assert_eq!(u.bucket, "rec-bucket");
        assert_eq!(u.prefix, "zoom/2026 archive");
        assert_eq!(u.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(u.region.as_deref(), Some("eu-west-1"));
        assert_eq!(u.part_size, Some(16 << 20));
        assert!(!u.verify_etag);
        let bare = s3("s3://b");
        assert_eq!((bare.prefix.as_str(), bare.verify_etag), ("", true));
        assert_eq!(bare.upload_concurrency, None);
        assert_eq!(
            s3("s3://b?upload_concurrency=4").upload_concurrency,
            Some(4)
        );
        for bad in ["0", "17", "many"] {
            let e = DestUrl::parse(&format!("s3://b?upload_concurrency={bad}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("from 1 to 16"), "{bad}: {e}");
        }
        assert_eq!(bare.upload_cutoff, None);
        assert_eq!(
            s3("s3://b?upload_cutoff=64MiB").upload_cutoff,
            Some(64 << 20)
        );
        assert_eq!(s3("s3://b?upload_cutoff=0").upload_cutoff, Some(0));
        for bad in ["6GiB", "lots", "-1"] {
            let e = DestUrl::parse(&format!("s3://b?upload_cutoff={bad}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("from 0 to 5GiB"), "{bad}: {e}");
        }
        assert_eq!(bare.upload_memory, None);
        assert_eq!(
            s3("s3://b?upload_memory=10MiB").upload_memory,
            Some(10 << 20)
        );
        assert_eq!(s3("s3://b?upload_memory=0").upload_memory, Some(0));
        let e = DestUrl::parse("s3://b?upload_memory=plenty")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a size such as 32MiB"), "{e}");
    }

    #[test]
    fn bad_urls_say_what_and_how_to_fix() {
        let cases = [
            ("s3:///prefix", "no bucket"),
            ("s3://key:hunter2@bucket/p", "credentials do not belong"),
            ("s3://bucket:9000/p", "?endpoint="),
            ("s3://b/p?part_size=1MiB", "5MiB to 5GiB"),
            ("s3://b/p?part_size=lots", "not a size"),
            ("s3://b/p?endpoint=ftp://x", "http:// or https://"),
            ("s3://b/p?colour=blue", "unknown option \"colour\""),
            ("s3://b/a/../c", "`..`"),
            ("s3://b/p?verify_etag=maybe", "true or false"),
        ];
        for (url, says) in cases {
            let msg = DestUrl::parse(url).unwrap_err().to_string();
            assert!(msg.contains(says), "{url}: {msg}");
            assert!(
                !msg.contains("hunter2"),
                "{url}: the message shows a secret: {msg}"
            );
        }
        let unknown = DestUrl::parse("ftp://x/y").unwrap_err().to_string();
        assert!(
            unknown.contains("unknown destination kind ftp://"),
            "{unknown}"
        );
        // The drives' URLs parse (their configuration is checked by `open`, see drive.rs).
        assert!(matches!(
            DestUrl::parse("dropbox://x"),
            Ok(DestUrl::Drive(_))
        ));
    }

    #[test]
    fn azblob_urls_name_container_prefix_and_options() {
        let a = |t: &str| match DestUrl::parse(t) {
            Ok(DestUrl::Azblob(a)) => a,
            other => panic!("{t}: {other:?}"),
        };
        let u = a(
            "azblob://recordings/zoom/2026%20archive/?account=zvmstore&endpoint=http://127.0.0.1:10000/devstoreaccount1/&part_size=8MiB",
        );
        assert_eq!(u.container, "recordings");
        assert_eq!(u.prefix, "zoom/2026 archive");
        assert_eq!(u.account.as_deref(), Some("zvmstore"));
        assert_eq!(
            u.endpoint.as_deref(),
            Some("http://127.0.0.1:10000/devstoreaccount1")
        );
        assert_eq!(u.part_size, Some(8 << 20));
        assert_eq!(u.display(), "azblob://recordings/zoom/2026 archive");
        let bare = a("azblob://c");
        assert_eq!((bare.prefix.as_str(), bare.endpoint.as_ref()), ("", None));
        assert_eq!(bare.display(), "azblob://c");
        assert_eq!(
            a("azblob://c?endpoint=https://zvm.blob.core.windows.net")
                .endpoint
                .as_deref(),
            Some("https://zvm.blob.core.windows.net")
        );
        let cases = [
            ("azblob:///p", "no container"),
            ("azblob://acct:hunter2@c/p", "AZURE_STORAGE_KEY"),
            ("azblob://c:10000/p", "?endpoint="),
            (
                "azblob://c/p?endpoint=http://blob.example.org",
                "unencrypted",
            ),
            ("azblob://c/p?endpoint=ftp://x", "https://"),
            (
                "azblob://c/p?endpoint=https://h/?sig=hunter2",
                "AZURE_STORAGE_SAS_TOKEN",
            ),
            ("azblob://c/p?part_size=1KiB", "64KiB to 4000MiB"),
            ("azblob://c/p?account=a.b", "storage account name"),
            ("azblob://c/a/../b", "`..`"),
            ("azblob://c/p?key=x", "unknown option \"key\""),
        ];
        for (url, says) in cases {
            let msg = DestUrl::parse(url).unwrap_err().to_string();
            assert!(msg.contains(says), "{url}: {msg}");
            assert!(!msg.contains("hunter2"), "{url}: {msg}");
        }
    }

    #[test]
    fn gcs_urls_name_bucket_prefix_and_options() {
        let g = |t: &str| match DestUrl::parse(t) {
            Ok(DestUrl::Gcs(g)) => g,
            other => panic!("{t}: {other:?}"),
        };
        let u = g("gcs://rec-bucket/zoom/a%20b/?endpoint=http://localhost:9023&part_size=16MiB");
        assert_eq!(u.bucket, "rec-bucket");
        assert_eq!(u.prefix, "zoom/a b");
        assert_eq!(u.endpoint.as_deref(), Some("http://localhost:9023"));
        assert_eq!(u.part_size, Some(16 << 20));
        assert_eq!(u.display(), "gcs://rec-bucket/zoom/a b");
        assert_eq!(g("gcs://b").display(), "gcs://b");
        let cases = [
            ("gcs:///p", "no bucket"),
            ("gcs://k:hunter2@b/p", "GOOGLE_APPLICATION_CREDENTIALS"),
            ("gcs://b:9023/p", "?endpoint="),
            ("gcs://b/p?endpoint=http://10.1.2.3:9023", "unencrypted"),
            ("gcs://b/p?part_size=1MiB", "5MiB to 5GiB"),
            ("gcs://b/p/../q", "`..`"),
            ("gcs://b/p?project=x", "unknown option \"project\""),
        ];
        for (url, says) in cases {
            let msg = DestUrl::parse(url).unwrap_err().to_string();
            assert!(msg.contains(says), "{url}: {msg}");
            assert!(!msg.contains("hunter2"), "{url}: {msg}");
        }
    }

    #[test]
    fn webdav_urls_are_https_or_this_machine() {
        let w = |t: &str| match DestUrl::parse(t) {
            Ok(DestUrl::Webdav(w)) => w,
            other => panic!("{t}: {other:?}"),
        };
        let u = w("webdavs://cloud.example.org/remote.php/dav/files/anna/Zoom%202026/");
        assert_eq!(u.endpoint, "https://cloud.example.org");
        assert_eq!(u.path, "remote.php/dav/files/anna/Zoom 2026");
        assert_eq!(w("webdavs://nas:8443").endpoint, "https://nas:8443");
        assert_eq!(w("webdavs://nas:8443").path, "");
        for local in [
            "webdav://127.0.0.1:8080/dav",
            "webdav://localhost/dav",
            "webdav://[::1]:80/dav",
            "webdav://127.9.9.9/x",
        ] {
            assert!(w(local).endpoint.starts_with("http://"), "{local}");
        }
        assert_eq!(w("webdav://[::1]:80/dav").endpoint, "http://[::1]:80");
        let cases = [
            ("webdav://nas.local/dav", "use webdavs://nas.local"),
            ("webdav://10.0.0.5/dav", "plain HTTP"),
            ("webdavs://anna:hunter2@host/dav", "ZVM_WEBDAV_PASSWORD"),
            ("webdavs://host/dav?x=1", "unknown option \"x\""),
            ("webdavs://host/a/../b", "`..`"),
            ("webdavs:///dav", "no server"),
        ];
        for (url, says) in cases {
            let msg = DestUrl::parse(url).unwrap_err().to_string();
            assert!(msg.contains(says), "{url}: {msg}");
            assert!(!msg.contains("hunter2"), "{url}: {msg}");
        }
    }

    #[test]
    fn sftp_urls_name_user_host_port_folder_and_options() {
        let s = match DestUrl::parse(
            "sftp://backup@files.example.org:2222/srv/zoom%20rec/?key=/home/a/.ssh/zvm_key&known_hosts=add",
        ) {
            Ok(DestUrl::Sftp(s)) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.user.as_deref(), Some("backup"));
        assert_eq!(s.host, "files.example.org");
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.path, "/srv/zoom rec");
        assert_eq!(s.key.as_deref(), Some("/home/a/.ssh/zvm_key"));
        assert!(s.add_unknown_host);
        assert_eq!(s.ssh_destination(), "ssh://backup@files.example.org:2222");
        let bare = match DestUrl::parse("sftp://nas/data") {
            Ok(DestUrl::Sftp(s)) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (&bare.user, bare.port, bare.add_unknown_host),
            (&None, None, false)
        );
        assert_eq!(bare.ssh_destination(), "ssh://nas");
        let cases = [
            ("sftp://u:hunter2@nas/data", "keys only"),
            ("sftp://u@nas", "no folder"),
            ("sftp://u@nas/", "no folder"),
            ("sftp://u@nas/d?known_hosts=accept", "turn off the check"),
            ("sftp://u@nas/d?known_hosts=maybe", "strict or add"),
            ("sftp://u@nas/d?password=x", "unknown option \"password\""),
            ("sftp://u@nas/d/../../etc", "`..`"),
        ];
        for (url, says) in cases {
            let msg = DestUrl::parse(url).unwrap_err().to_string();
            assert!(msg.contains(says), "{url}: {msg}");
            assert!(!msg.contains("hunter2"), "{url}: {msg}");
        }
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let c = RemoteCredentials {
            secret_access_key: Some("s3-secret".into()),
            webdav_password: Some("dav-secret".into()),
            ..Default::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3-secret") && !shown.contains("dav-secret"),
            "{shown}"
        );
    }

    #[test]
    fn remote_or_folder() {
        for remote in ["s3://b/p", "webdav://h/x", "gdrive://x"] {
            assert!(is_remote(remote), "{remote}");
        }
        for folder in [
            "/data/Zoom",
            "C:\\Users\\x",
            "./s3:/x",
            "rel/dir",
            "c://x",
            "a b://x",
        ] {
            assert!(!is_remote(folder), "{folder}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Some(8 << 20));
        assert_eq!(parse_size("512kib"), Some(512 << 10));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1GB"), Some(1 << 30));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("5TiB"), None);
    }
}
