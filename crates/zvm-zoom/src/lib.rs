//! Zoom API client for Zoom Video Mover: credentials and tokens ([`auth`]), lenient models
//! ([`models`]), the client with listing in one-month windows (`window`) per user or for
//! the whole account, summaries and the summary listing, deletion and downloads
//! ([`client`]; webhooks' download tokens: [`download_grants`]), the per-category pacer
//! ([`pacer`]), the single error classifier ([`error`]) and retry policy ([`retry`]), and
//! redaction of secrets ([`redact`]). It knows nothing of files or state.

pub mod auth;
pub mod client;
pub mod download_grants;
pub mod error;
pub mod http;
pub mod models;
pub mod observer;
pub mod pacer;
pub mod redact;
pub mod retry;
mod window;

pub use auth::{
    Credentials, FileTokenStore, LoginConfig, StoredToken, TokenSource, TokenStatus, TokenStore,
    login_pkce,
};
pub use client::{
    ByteRange, ClientConfig, DeleteAction, DeleteOutcome, Download, DownloadStatus, SummaryAbsent,
    SummaryResult, UserStatusFilter, ZoomClient, encode_uuid,
};
pub use error::{AdminListing, ErrorClass, ZoomError};
pub use models::*;
pub use observer::RequestObserver;
pub use pacer::{Category, Pacer, Plan};
pub use redact::{RedactedUrl, Secret, redact_url};
pub use retry::{Attempts, Decision, RetryPolicy};
