//! Redaction of secrets: the [`Secret`] type whose `Debug`/`Display` never show the value, and
//! [`redact_url`] / [`RedactedUrl`] which strip query strings, fragments and userinfo before a URL
//! reaches a log line or an error message (download URLs carry `access_token` or CDN signatures).

use std::fmt;

/// A secret string (token, client secret, code). `Debug` and `Display` print `[redacted]`;
/// the value is only reachable through [`Secret::expose`], which makes every use greppable.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The raw value, for putting on the wire only.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}
impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Returns `url` without userinfo, query or fragment. Any query is dropped (not just known
/// keys) because CDN signatures use many names (`Signature`, `Policy`, `X-Amz-*`, `fid`...).
/// The opaque last path segment of Zoom download URLs is kept: it is not a credential alone.
/// Unparseable input is cut at the first `?` or `#` so nothing after it can leak.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let had_query = u.query().is_some();
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            let mut s = u.to_string();
            if had_query {
                s.push_str("?[redacted]");
            }
            s
        }
        Err(_) => {
            let cut = url.find(['?', '#']).unwrap_or(url.len());
            let mut s = url[..cut].to_owned();
            if cut < url.len() {
                s.push_str("?[redacted]");
            }
            s
        }
    }
}

/// A URL wrapper for log and error messages: displays as [`redact_url`].
#[derive(Clone)]
pub struct RedactedUrl<'a>(pub &'a str);

impl fmt::Display for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.0))
    }
}
impl fmt::Debug for RedactedUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("tok-123");
        assert!(!format!("{s:?}").contains("tok-123"));
        assert!(!format!("{s}").contains("tok-123"));
        assert_eq!(s.expose(), "tok-123");
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(json, "\"tok-123\"");
    }

    #[test]
    fn redact_strips_query_userinfo_fragment() {
        let r =
            redact_url("https://u:pw@us06web.zoom.us/rec/download/abc?access_token=SECRET&x=1#f");
        assert_eq!(r, "https://us06web.zoom.us/rec/download/abc?[redacted]");
        assert!(!r.contains("SECRET") && !r.contains("pw"));
        let r = redact_url("https://cdn.example/f.mp4?Signature=zzz&Policy=yyy");
        assert!(!r.contains("zzz") && !r.contains("yyy"));
        assert_eq!(
            redact_url("https://api.zoom.us/v2/users"),
            "https://api.zoom.us/v2/users"
        );
    }

    #[test]
    fn redact_unparseable_cuts_query() {
        let r = redact_url("not a url?access_token=SECRET");
        assert_eq!(r, "not a url?[redacted]");
        assert_eq!(format!("{}", RedactedUrl("x?y")), "x?[redacted]");
    }
}
