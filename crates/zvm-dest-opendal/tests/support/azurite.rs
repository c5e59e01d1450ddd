//! The Azure Blob emulator of the tests (Azurite, which `.ci/run` starts and names in
//! `ZVM_TEST_AZURE_ENDPOINT`, e.g. `http://127.0.0.1:PORT/devstoreaccount1`), and the few
//! requests the tests make to it on their own, signed with Azure's Shared Key scheme:
//! create a container, list its blobs, read a blob back. Written here rather than through
//! zvm's destination so that what a test reads back does not depend on the code under test.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::support::{client, skip_or_fail};

/// Azurite's well-known development account and key (public, in Azure's documentation).
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub const ENDPOINT_VAR: &str = "ZVM_TEST_AZURE_ENDPOINT";

const VERSION: &str = "2021-08-06";

static CONTAINERS: AtomicU64 = AtomicU64::new(0);

/// Azurite's Blob endpoint, or `None` (after [`skip_or_fail`]) without one.
pub fn azure_endpoint(test: &str) -> Option<String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(e) if !e.is_empty() => Some(e.trim_end_matches('/').to_string()),
        _ => {
            skip_or_fail(&format!(
                "{test}: no Azure Blob emulator ({ENDPOINT_VAR} is not set; .ci/run starts Azurite)"
            ));
            None
        }
    }
}

/// The endpoint's `scheme://host:port`, for a proxy in front of it (the account stays in
/// the request paths).
pub fn origin(endpoint: &str) -> String {
    let u = reqwest::Url::parse(endpoint).expect("the endpoint is a URL");
    u.origin().ascii_serialization()
}

/// A signed request to Azurite: `path` below the endpoint (segments percent-encoded here),
/// `query` as name/value pairs.
async fn send(
    endpoint: &str,
    method: reqwest::Method,
    path: &[&str],
    query: &[(&str, &str)],
) -> reqwest::Response {
    let mut url = reqwest::Url::parse(endpoint).expect("the endpoint is a URL");
    url.path_segments_mut()
        .expect("a base URL")
        .extend(path.iter().copied());
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query.iter().copied());
    }
    let date = jiff::Timestamp::now()
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let mut params: Vec<_> = query.to_vec();
    params.sort();
    let mut resource = format!("/{ACCOUNT}{}", url.path());
    for (k, v) in params {
        resource.push_str(&format!("\n{}:{v}", k.to_ascii_lowercase()));
    }
    let content_length = "";
    let to_sign = format!(
        "{method}\n\n\n{content_length}\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{VERSION}\n{resource}"
    );
    let key = STANDARD.decode(KEY).expect("the key is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(to_sign.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    client()
        .request(method, url)
        .header("x-ms-date", date)
        .header("x-ms-version", VERSION)
        .header("authorization", format!("SharedKey {ACCOUNT}:{signature}"))
        .send()
        .await
        .expect("a request to Azurite")
}

/// Creates an empty container with a name no other test uses, and returns its name.
pub async fn new_container(endpoint: &str, what: &str) -> String {
    // Container names: lowercase letters, digits and single dashes, 3 to 63 characters.
    let name = format!(
        "zvm-{what}-{}-{}",
        std::process::id(),
        CONTAINERS.fetch_add(1, Ordering::Relaxed)
    );
    let resp = send(
        endpoint,
        reqwest::Method::PUT,
        &[&name],
        &[("restype", "container")],
    )
    .await;
    let status = resp.status();
    assert!(
        status.is_success(),
        "creating container {name}: {status}: {}",
        resp.text().await.unwrap_or_default()
    );
    name
}

/// The names of the committed blobs in a container (the first 5000), sorted.
pub async fn blobs(endpoint: &str, container: &str) -> Vec<String> {
    let resp = send(
        endpoint,
        reqwest::Method::GET,
        &[container],
        &[("comp", "list"), ("restype", "container")],
    )
    .await;
    assert!(resp.status().is_success(), "listing: {}", resp.status());
    let body = resp.text().await.expect("listing body");
    let mut out = Vec::new();
    let mut rest = body.as_str();
    while let Some(i) = rest.find("<Name>") {
        let after = &rest[i + 6..];
        let end = after.find("</Name>").expect("closed <Name>");
        out.push(
            after[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end..];
    }
    out.sort();
    out
}

/// The bytes of a blob, or `None` if there is none by that name.
pub async fn blob(endpoint: &str, container: &str, name: &str) -> Option<Vec<u8>> {
    let mut path = vec![container];
    path.extend(name.split('/'));
    let resp = send(endpoint, reqwest::Method::GET, &path, &[]).await;
    resp.status()
        .is_success()
        .then_some(resp.bytes().await.expect("blob body").to_vec())
}
