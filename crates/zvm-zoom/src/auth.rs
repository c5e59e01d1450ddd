//! Authentication: Server-to-Server OAuth and user OAuth (PKCE login on a one-shot loopback
//! listener), token storage ([`TokenStore`], [`FileTokenStore`] with 0600 permissions), and the
//! shared [`TokenSource`] that refreshes transparently (before expiry, and once on a 401) with
//! refresh-token rotation, allowing only one refresh in flight for all workers.
//!
//! The token endpoint is spoken with reqwest directly rather than the `oauth2` crate: Zoom's
//! error bodies (`{"reason","error"}`), its Basic-auth-for-everything convention, S2S's
//! non-standard `account_credentials` grant and revocation all need custom handling, so the
//! crate would add an HTTP adapter layer and save little.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::error::ZoomError;
use crate::http::check_url;
use crate::redact::Secret;

/// How the tool authenticates.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Server-to-Server OAuth app (admins, unattended runs).
    ServerToServer {
        /// Zoom account id.
        account_id: String,
        /// App client id.
        client_id: String,
        /// App client secret.
        client_secret: Secret,
    },
    /// User OAuth: tokens from `zvm auth login`, kept in a store.
    User {
        /// App client id.
        client_id: String,
        /// Secret for confidential apps; `None` for a public PKCE client.
        client_secret: Option<Secret>,
        /// Where tokens live; the newest refresh token is always written back.
        store: Arc<dyn TokenStore>,
    },
}

impl Credentials {
    /// S2S credentials from `ZOOM_ACCOUNT_ID`, `ZOOM_CLIENT_ID`, `ZOOM_CLIENT_SECRET`;
    /// `None` unless all three are set and non-empty.
    pub fn from_env() -> Option<Self> {
        let get = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
        Some(Credentials::ServerToServer {
            account_id: get("ZOOM_ACCOUNT_ID")?,
            client_id: get("ZOOM_CLIENT_ID")?,
            client_secret: Secret::new(get("ZOOM_CLIENT_SECRET")?),
        })
    }
}

/// Tokens as stored.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredToken {
    /// Bearer token.
    pub access_token: Secret,
    /// Refresh token (user OAuth only).
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Expiry, Unix seconds.
    #[serde(default)]
    pub expires_at: i64,
    /// When it was issued, Unix seconds (0 if unknown).
    #[serde(default)]
    pub issued_at: i64,
    /// Granted scopes, space separated.
    #[serde(default)]
    pub scope: String,
    /// Client id the tokens belong to.
    #[serde(default)]
    pub client_id: String,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("access_token", &self.access_token)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// What `zvm auth status` shows. Contains no secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenStatus {
    /// Whether a token is stored.
    pub logged_in: bool,
    /// Expiry of the access token, Unix seconds.
    pub expires_at: Option<i64>,
    /// Whether a refresh token is stored.
    pub has_refresh_token: bool,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Where the token lives.
    pub location: String,
}

/// Persistent token storage.
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// Loads the stored token, `Ok(None)` when there is none.
    fn load(&self) -> Result<Option<StoredToken>, ZoomError>;
    /// Saves (replaces) the token.
    fn save(&self, token: &StoredToken) -> Result<(), ZoomError>;
    /// Forgets the token.
    fn clear(&self) -> Result<(), ZoomError>;
    /// Human description of where tokens live.
    fn location(&self) -> String;
}

/// Token file `zoom-token.json` in a config dir, created 0600; a file readable by group or
/// others is refused (a leaked refresh token is a leaked account).
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// Store in `dir/zoom-token.json`.
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self {
            path: dir.as_ref().join("zoom-token.json"),
        }
    }
    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> Result<Option<StoredToken>, ZoomError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(ZoomError::TokenStore(format!(
                    "{} is readable by group or others; refusing to use it. Fix: chmod 600 {}",
                    self.path.display(),
                    self.path.display()
                )));
            }
        }
        let _ = meta;
        let text = std::fs::read_to_string(&self.path)?;
        serde_json::from_str(&text).map(Some).map_err(|e| {
            ZoomError::TokenStore(format!("{} is not a token file: {e}", self.path.display()))
        })
    }

    fn save(&self, token: &StoredToken) -> Result<(), ZoomError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let json =
            serde_json::to_vec_pretty(token).map_err(|e| ZoomError::TokenStore(e.to_string()))?;
        // Write a private temp file then rename, so a crash never leaves a half token file
        // and the file is never briefly world-readable.
        let tmp = self.path.with_extension("json.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        {
            use std::io::Write;
            let mut f = opts.open(&tmp)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }

    fn clear(&self) -> Result<(), ZoomError> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }
}

/// Token endpoint answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: Secret,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: String,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn basic(client_id: &str, secret: &Secret) -> String {
    let raw = format!("{client_id}:{}", secret.expose());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// POSTs a form to `{oauth}/oauth/token` and parses the answer.
async fn token_request(
    http: &reqwest::Client,
    oauth_base: &Url,
    client_id: &str,
    secret: Option<&Secret>,
    mut form: Vec<(&str, String)>,
) -> Result<StoredToken, ZoomError> {
    let url = join(oauth_base, "oauth/token");
    let mut req = http.post(url);
    match secret {
        Some(s) => req = req.header(reqwest::header::AUTHORIZATION, basic(client_id, s)),
        None => form.push(("client_id", client_id.to_owned())),
    }
    let resp = req.form(&form).send().await?;
    let status = resp.status().as_u16();
    let body = resp.text().await?;
    if !(200..300).contains(&status) {
        let e = ZoomError::api(status, &body, None);
        // Keep overload/outage answers classifiable (the caller's retry policy retries
        // them); a refused grant is an authentication failure no retry can fix.
        if status == 429 || status >= 500 {
            return Err(e);
        }
        return Err(ZoomError::Auth(e.to_string()));
    }
    let t: TokenResponse = serde_json::from_str(&body).map_err(|e| ZoomError::Parse {
        what: "oauth/token".into(),
        detail: e.to_string(),
    })?;
    Ok(StoredToken {
        access_token: t.access_token,
        refresh_token: t.refresh_token,
        expires_at: now_secs().saturating_add(t.expires_in.unwrap_or(3600)),
        issued_at: now_secs(),
        scope: t.scope,
        client_id: client_id.to_owned(),
    })
}

/// Joins a relative path to a base URL, keeping the base's own path (e.g. `/v2`).
pub(crate) fn join(base: &Url, rel: &str) -> String {
    format!("{}/{}", base.as_str().trim_end_matches('/'), rel)
}

struct Inner {
    http: reqwest::Client,
    oauth_base: Url,
    creds: Credentials,
    skew: Duration,
    // A tokio mutex held across the refresh: the first worker refreshes, the others wait
    // and then see the fresh token (one refresh in flight).
    current: tokio::sync::Mutex<Option<StoredToken>>,
}

/// Shared, cloneable source of access tokens.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("oauth_base", &self.inner.oauth_base.as_str())
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A token source. `oauth_base` e.g. `https://zoom.us`. `skew`: refresh this long before
    /// expiry.
    pub fn new(
        http: reqwest::Client,
        oauth_base: &str,
        creds: Credentials,
        skew: Duration,
    ) -> Result<Self, ZoomError> {
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                oauth_base: check_url(oauth_base)?,
                creds,
                skew,
                current: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// A valid access token, refreshing first if it expires within the skew.
    pub async fn access_token(&self) -> Result<Secret, ZoomError> {
        let mut cur = self.inner.current.lock().await;
        if cur.is_none()
            && let Credentials::User { store, .. } = &self.inner.creds
        {
            *cur = store.load()?;
        }
        let skew = i64::try_from(self.inner.skew.as_secs()).unwrap_or(i64::MAX);
        // Short-lived tokens (simulators, tests) would otherwise be refreshed on every call:
        // never refresh earlier than half-way through a token's known lifetime.
        let skew = match cur.as_ref() {
            Some(t) if t.issued_at > 0 => skew.min(t.expires_at.saturating_sub(t.issued_at) / 2),
            _ => skew,
        };
        if let Some(t) = cur.as_ref()
            && t.expires_at.saturating_sub(skew) > now_secs()
        {
            return Ok(t.access_token.clone());
        }
        let fresh = self.refresh_locked(cur.as_ref()).await?;
        let tok = fresh.access_token.clone();
        *cur = Some(fresh);
        Ok(tok)
    }

    /// Called after the API refused `rejected` (401): refreshes unless another worker already
    /// replaced that token, and returns the token to retry with.
    pub async fn force_refresh(&self, rejected: &Secret) -> Result<Secret, ZoomError> {
        let mut cur = self.inner.current.lock().await;
        if let Some(t) = cur.as_ref()
            && &t.access_token != rejected
        {
            return Ok(t.access_token.clone());
        }
        let fresh = self.refresh_locked(cur.as_ref()).await?;
        let tok = fresh.access_token.clone();
        *cur = Some(fresh);
        Ok(tok)
    }

    async fn refresh_locked(&self, cur: Option<&StoredToken>) -> Result<StoredToken, ZoomError> {
        let i = &self.inner;
        match &i.creds {
            Credentials::ServerToServer {
                account_id,
                client_id,
                client_secret,
            } => {
                let form = vec![
                    ("grant_type", "account_credentials".to_owned()),
                    ("account_id", account_id.clone()),
                ];
                token_request(&i.http, &i.oauth_base, client_id, Some(client_secret), form).await
            }
            Credentials::User {
                client_id,
                client_secret,
                store,
            } => {
                // Re-read the store: another process may have rotated the refresh token.
                let stored = store.load()?;
                let rt = stored
                    .as_ref()
                    .or(cur)
                    .and_then(|t| t.refresh_token.clone())
                    .ok_or(ZoomError::NotLoggedIn)?;
                let form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("refresh_token", rt.expose().to_owned()),
                ];
                let mut t = token_request(
                    &i.http,
                    &i.oauth_base,
                    client_id,
                    client_secret.as_ref(),
                    form,
                )
                .await
                .map_err(|e| {
                    ZoomError::Auth(format!(
                        "refreshing the user token failed ({e}); run `zvm auth login` again"
                    ))
                })?;
                if t.refresh_token.is_none() {
                    t.refresh_token = Some(rt);
                }
                // Always persist the newest refresh token: the old one is now dead.
                store.save(&t)?;
                Ok(t)
            }
        }
    }

    /// What is stored (user OAuth) or cached (S2S).
    pub async fn status(&self) -> Result<TokenStatus, ZoomError> {
        let (tok, location) = match &self.inner.creds {
            Credentials::User { store, .. } => (store.load()?, store.location()),
            Credentials::ServerToServer { .. } => (
                self.inner.current.lock().await.clone(),
                "memory (Server-to-Server)".to_owned(),
            ),
        };
        Ok(TokenStatus {
            logged_in: tok.is_some(),
            expires_at: tok.as_ref().map(|t| t.expires_at),
            has_refresh_token: tok.as_ref().is_some_and(|t| t.refresh_token.is_some()),
            scopes: tok
                .map(|t| t.scope.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            location,
        })
    }

    /// Revokes the stored token at Zoom, then forgets it locally (even if revocation failed,
    /// which is reported after forgetting).
    pub async fn logout(&self) -> Result<(), ZoomError> {
        let i = &self.inner;
        let mut cur = i.current.lock().await;
        let (client_id, secret, store) = match &i.creds {
            Credentials::User {
                client_id,
                client_secret,
                store,
            } => (client_id, client_secret.as_ref(), Some(store)),
            Credentials::ServerToServer {
                client_id,
                client_secret,
                ..
            } => (client_id, Some(client_secret), None),
        };
        let tok = match store {
            Some(s) => s.load()?.or_else(|| cur.clone()),
            None => cur.clone(),
        };
        let mut result = Ok(());
        if let Some(t) = tok {
            let token = t.refresh_token.clone().unwrap_or(t.access_token.clone());
            let mut form = vec![("token", token.expose().to_owned())];
            let mut req = i.http.post(join(&i.oauth_base, "oauth/revoke"));
            match secret {
                Some(s) => req = req.header(reqwest::header::AUTHORIZATION, basic(client_id, s)),
                None => form.push(("client_id", client_id.clone())),
            }
            result = match req.form(&form).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => {
                    let st = r.status().as_u16();
                    let body = r.text().await.unwrap_or_default();
                    Err(ZoomError::Auth(format!(
                        "revocation refused: {}",
                        ZoomError::api(st, &body, None)
                    )))
                }
                Err(e) => Err(e.into()),
            };
        }
        *cur = None;
        if let Some(s) = store {
            s.clear()?;
        }
        result
    }
}

/// Settings for [`login_pkce`].
#[derive(Debug, Clone)]
pub struct LoginConfig {
    /// OAuth base, e.g. `https://zoom.us`.
    pub oauth_base: String,
    /// App client id.
    pub client_id: String,
    /// Secret for confidential apps (Basic auth on exchange); `None` for public PKCE clients.
    pub client_secret: Option<Secret>,
    /// Loopback port for the redirect listener; 0 picks a free one.
    pub port: u16,
    /// Path of the redirect URI.
    pub redirect_path: String,
    /// How long to wait for the browser.
    pub timeout: Duration,
}

impl LoginConfig {
    /// Defaults: port 0, `/callback`, 5 minutes (the code's own lifetime).
    pub fn new(oauth_base: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            oauth_base: oauth_base.into(),
            client_id: client_id.into(),
            client_secret: None,
            port: 0,
            redirect_path: "/callback".into(),
            timeout: Duration::from_secs(300),
        }
    }
}

fn random_urlsafe(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// PKCE S256 challenge for a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// User OAuth login with PKCE: binds a one-shot listener on 127.0.0.1, gives the authorize URL
/// to `open_url` (the CLI opens a browser and prints it), waits for the redirect, checks
/// `state`, exchanges the code and saves the tokens in `store`. The listener is closed on
/// return, whatever the outcome.
pub async fn login_pkce(
    http: &reqwest::Client,
    cfg: &LoginConfig,
    store: &dyn TokenStore,
    open_url: impl FnOnce(&str),
) -> Result<StoredToken, ZoomError> {
    let oauth_base = check_url(&cfg.oauth_base)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    let port = listener.local_addr()?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}{}", cfg.redirect_path);
    let verifier = random_urlsafe(48);
    let state = random_urlsafe(24);
    let mut auth = Url::parse(&join(&oauth_base, "oauth/authorize"))
        .map_err(|e| ZoomError::Config(e.to_string()))?;
    auth.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &cfg.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    open_url(auth.as_str());

    let (code, got_state) =
        tokio::time::timeout(cfg.timeout, accept_redirect(&listener, &cfg.redirect_path))
            .await
            .map_err(|_| ZoomError::Auth("timed out waiting for the browser to return".into()))??;
    drop(listener);
    if got_state != state {
        return Err(ZoomError::StateMismatch);
    }
    let form = vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.expose().to_owned()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let t = token_request(
        http,
        &oauth_base,
        &cfg.client_id,
        cfg.client_secret.as_ref(),
        form,
    )
    .await?;
    store.save(&t)?;
    Ok(t)
}

/// Answers requests until one hits `path`; returns (code, state). Other paths (favicon) get 404.
async fn accept_redirect(
    listener: &tokio::net::TcpListener,
    path: &str,
) -> Result<(Secret, String), ZoomError> {
    loop {
        let (mut sock, _) = listener.accept().await?;
        let mut buf = Vec::with_capacity(2048);
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&buf);
        let target = text
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("");
        let url = Url::parse(&format!("http://127.0.0.1{target}")).ok();
        let Some(url) = url.filter(|u| u.path() == path) else {
            let _ = sock
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        };
        let get = |k: &str| {
            url.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        let (ok, msg) = match (get("code"), get("state"), get("error")) {
            (Some(c), Some(s), _) => (
                Ok((Secret::new(c), s)),
                "Login complete. You can close this tab.",
            ),
            (_, _, Some(err)) => (
                Err(ZoomError::Auth(format!("authorization refused: {err}"))),
                "Login failed. See the terminal.",
            ),
            _ => (
                Err(ZoomError::Auth("redirect carried no code".into())),
                "Login failed. See the terminal.",
            ),
        };
        let body = format!("<!doctype html><html><body><p>{msg}</p></body></html>");
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
        let _ = sock.shutdown().await;
        return ok;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc7636_vector() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn file_store_is_private_and_refuses_open_files() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = FileTokenStore::new(dir.path());
        assert!(store.load()?.is_none());
        let t = StoredToken {
            access_token: Secret::new("AT-secret"),
            refresh_token: Some(Secret::new("RT-secret")),
            expires_at: 5,
            issued_at: 0,
            scope: "a b".into(),
            client_id: "c".into(),
        };
        store.save(&t)?;
        assert_eq!(store.load()?, Some(t.clone()));
        assert!(!format!("{t:?}").contains("secret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o644))?;
            let err = store
                .load()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains("chmod 600") && err.contains("zoom-token.json"),
                "{err}"
            );
        }
        store.clear()?;
        store.clear()?;
        assert!(store.load()?.is_none());
        Ok(())
    }
}
