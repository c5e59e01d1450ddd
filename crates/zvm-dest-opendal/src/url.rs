//! Destination URLs: which service, where in it, and the options that say how to reach it.
//! Parsed without any network access and whatever features are built, so that a bad URL is
//! reported the same way everywhere (what is wrong, in which URL, how to fix it).

use percent_encoding::percent_decode_str;

/// Schemes zvm knows of. Only those with a `DestUrl` variant are written to; the others are
/// recognised so that the error says "not yet" instead of "unknown".
const PLANNED: [&str; 7] = [
    "webdav", "webdavs", "sftp", "azblob", "gcs", "gdrive", "onedrive",
];
const PLANNED_TOO: [&str; 1] = ["dropbox"];

/// S3 allows part numbers 1..=10 000 and parts of at least 5 MiB (but the last).
pub const S3_MIN_PART: usize = 5 * 1024 * 1024;
/// At most 5 GiB per part.
pub const S3_MAX_PART: usize = 5 * 1024 * 1024 * 1024;

/// A parsed destination URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestUrl {
    /// `s3://bucket/prefix?endpoint=...&region=...&part_size=...&verify_etag=...`
    S3(S3Url),
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
            s if PLANNED.contains(&s) || PLANNED_TOO.contains(&s) => {
                Err(UrlError::NotYetSupported { scheme })
            }
            _ => Err(UrlError::UnknownScheme { scheme }),
        }
    }

    /// The URL's scheme, e.g. `s3`.
    pub fn scheme(&self) -> String {
        match self {
            DestUrl::S3(_) => "s3".into(),
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
}

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
                "credentials do not belong in the URL (other users can see command lines): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment instead".into(),
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
                other => {
                    return Err(bad(format!(
                        "unknown option {other:?}; s3:// takes endpoint, region, part_size and verify_etag"
                    )));
                }
            }
        }
        Ok(out)
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

/// Credentials and connection settings given by the caller (a front end's own settings);
/// each field that is `None` falls back to the service's usual environment variable. The
/// CLI gives none yet: config.toml has no table for them (README).
#[derive(Clone, Debug, Default)]
pub struct RemoteCredentials {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

/// A destination URL that cannot be used. Shown as-is to the person running zvm.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("invalid destination {url}: {reason}")]
    Invalid { url: String, reason: String },

    #[error(
        "unknown destination kind {scheme}://: give a folder, or an s3:// URL (s3://bucket/prefix)"
    )]
    UnknownScheme { scheme: String },

    #[error(
        "zvm cannot write to {scheme}:// destinations yet (it writes to folders and to s3://); copy to a folder or an S3-compatible bucket instead"
    )]
    NotYetSupported { scheme: String },

    #[error(
        "this zvm was built without {scheme}:// support: build it with `cargo build --release --features {scheme}`"
    )]
    NotBuiltIn { scheme: String },

    #[error(
        "no credentials for {url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE to use a profile of ~/.aws/credentials"
    )]
    MissingCredentials { url: String },

    #[error(
        "no region for {url}: add ?region=REGION to the URL or set AWS_REGION (for S3-compatible servers give their ?endpoint=URL; the region then defaults to us-east-1)"
    )]
    MissingRegion { url: String },

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
        let later = DestUrl::parse("webdav://host/dav").unwrap_err().to_string();
        assert!(
            later.contains("cannot write to webdav:// destinations yet"),
            "{later}"
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
