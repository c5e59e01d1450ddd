//! The HTTP client every HTTP-based service sends through: reqwest with rustls (certificates
//! verified against the system's roots), on the same TLS provider as zvm's Zoom client.

use std::sync::OnceLock;

fn builder() -> reqwest::ClientBuilder {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder().connect_timeout(std::time::Duration::from_secs(30))
}

/// OpenDAL's client.
fn client() -> reqwest::Client {
    builder().build().unwrap_or_default()
}

/// The client of streamed uploads (WebDAV's PUT, S3's single PUT), one per process: it follows no redirect,
/// which would turn a PUT into a GET (301/302) or need a body already sent (307/308), and
/// keeps no idle connection: a streamed body cannot be sent again, so a PUT must not go out
/// on a kept connection the server may be closing at that moment (a connection costs
/// nothing next to a recording).
pub(crate) fn upload_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            no_redirect()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap_or_default()
        })
        .clone()
}

/// A client that follows no redirect (an upload's body cannot follow one).
fn no_redirect() -> reqwest::ClientBuilder {
    builder().redirect(reqwest::redirect::Policy::none())
}

/// The client of S3's multipart requests ([`crate::s3_multipart`]), one per process: no
/// redirect either, but idle connections are kept, since every part's body can be sent
/// again whole (its bytes are held until the part is stored).
#[cfg(any(feature = "s3", feature = "drive-uploads"))]
pub(crate) fn part_client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| no_redirect().build().unwrap_or_default())
        .clone()
}

/// Installs [`client`] as OpenDAL's HTTP transport, once per process (OpenDAL keeps the
/// first one installed). `opendal::install_default` is not used: without OpenDAL's own
/// transport feature it installs none, and with it it brings another TLS provider.
pub(crate) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        opendal::HttpTransporter::install_default(
            opendal_http_transport_reqwest::ReqwestTransport::new(client()),
        );
    });
}

/// Attempts of one request on a temporary error before the engine sees it (every service's
/// operator; the streamed WebDAV PUT is retried whole by the engine instead).
pub(crate) const RETRIES: usize = 6;

/// The operator of a service's configured builder, with the shared HTTP client installed
/// and OpenDAL's retries on temporary errors; a configuration OpenDAL refuses is named by
/// the destination's URL.
pub(crate) fn retrying_operator(
    builder: impl opendal::Builder,
    url: &str,
) -> Result<opendal::Operator, crate::url::UrlError> {
    install();
    let op = opendal::Operator::new(builder).map_err(|e| crate::url::UrlError::Setup {
        url: url.to_string(),
        detail: format!("{}: {}", e.kind(), e.message()),
    })?;
    Ok(op.layer(
        opendal::layers::RetryLayer::new()
            .with_max_times(RETRIES)
            .with_jitter(),
    ))
}

/// Where a file's own path starts in an object key under `prefix` (after "prefix/").
pub(crate) fn key_offset(prefix: &str) -> usize {
    if prefix.is_empty() {
        0
    } else {
        prefix.len() + 1
    }
}
