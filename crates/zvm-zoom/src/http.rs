//! HTTP plumbing shared by auth, API and downloads: base-URL policy (plain http only to
//! loopback hosts), building reqwest clients with rustls (certificate verification is never
//! switchable), and Basic auth.

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::error::ZoomError;
use crate::redact::redact_url;

/// Parses a base URL and refuses plain `http` unless the host is loopback (127.0.0.0/8, ::1,
/// localhost): tokens must never cross a network in clear text.
pub fn check_url(raw: &str) -> Result<Url, ZoomError> {
    let url = Url::parse(raw)
        .map_err(|e| ZoomError::Config(format!("invalid URL {}: {e}", redact_url(raw))))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ZoomError::Config(format!(
            "refusing plain http to non-loopback host in {}: use https (http is allowed only \
             for 127.0.0.0/8, ::1 and localhost)",
            redact_url(raw)
        ))),
        s => Err(ZoomError::Config(format!(
            "unsupported URL scheme {s:?} in {}",
            redact_url(raw)
        ))),
    }
}

/// True when the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Installs ring as rustls' process default if nobody did (reqwest is built without a
/// provider in this workspace). Idempotent; losing the race to another installer is fine.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Redirects a download follows at most.
pub const MAX_REDIRECTS: usize = 10;

/// Where a download redirect may lead: the same rule as base URLs (https, or plain http to a
/// loopback host only), so a redirect can never take a token or a download to plain http on
/// a network.
pub fn check_redirect(from: &Url, location: &str) -> Result<Url, ZoomError> {
    let next = from.join(location).map_err(|e| {
        ZoomError::Redirect(format!("unusable Location {}: {e}", redact_url(location)))
    })?;
    check_url(next.as_str()).map_err(|e| match e {
        ZoomError::Config(m) => ZoomError::Redirect(m),
        other => other,
    })
}

/// Whether two URLs name the same origin host (host and port): the bearer token goes only
/// to the host that `download_url` names unless the CDN asked for it.
pub fn same_host(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// Client for small API/OAuth calls: connect timeout plus a generous whole-request timeout
/// (answers are small JSON documents).
pub fn api_client(connect_timeout: Duration) -> Result<reqwest::Client, ZoomError> {
    ensure_crypto_provider();
    reqwest::Client::builder()
        .user_agent(concat!("zvm/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ZoomError::from)
}

/// Client for downloads: NO whole-request timeout (multi-gigabyte files), only a connect
/// timeout; stalls are caught per chunk by the download stream. Redirects are not followed
/// here: the client follows them itself (see `ZoomClient::open_download`) so that it decides
/// on each hop whether the bearer token goes along. `connections` sizes the idle
/// pool per host; `http2` off forces HTTP/1.1 so each transfer gets its own connection.
/// `http2` on a `plain_loopback` setup (the simulator) speaks h2c with prior knowledge, since
/// without TLS there is no ALPN to agree on it.
pub fn download_client(
    connect_timeout: Duration,
    connections: usize,
    http2: bool,
    plain_loopback: bool,
) -> Result<reqwest::Client, ZoomError> {
    ensure_crypto_provider();
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("zvm/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(connections.max(1))
        .redirect(reqwest::redirect::Policy::none());
    if !http2 {
        b = b.http1_only();
    } else if plain_loopback {
        b = b.http2_prior_knowledge();
    }
    b.build().map_err(ZoomError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_url("https://api.zoom.us/v2").is_ok());
        assert!(check_url("http://127.0.0.1:8080/v2").is_ok());
        assert!(check_url("http://127.5.6.7/v2").is_ok());
        assert!(check_url("http://[::1]:9/").is_ok());
        assert!(check_url("http://localhost:9/").is_ok());
        let e = check_url("http://api.zoom.us/v2?access_token=SECRET");
        let msg = e.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(
            msg.contains("plain http") && !msg.contains("SECRET"),
            "{msg}"
        );
        assert!(check_url("http://10.0.0.1/").is_err());
        assert!(check_url("ftp://127.0.0.1/").is_err());
    }
}
