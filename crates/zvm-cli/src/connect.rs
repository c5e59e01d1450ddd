//! Resolves how to reach Zoom and as whom, and the `zvm auth` subcommands.
//!
//! Server-to-Server OAuth when an account id, client id and secret are all given (flags,
//! `ZOOM_*` environment, or `[zoom]` in the config); otherwise user OAuth with the tokens that
//! `zvm auth login` stored. Secrets only ever travel inside `zvm_zoom::Secret`.

use std::sync::Arc;

use anyhow::anyhow;

use zvm_zoom::{ClientConfig, Credentials, LoginConfig, Plan, Secret, TokenStore, ZoomClient};

use crate::cli::{LoginArgs, ZoomArgs};
use crate::settings::{self, ConfigFile};
use crate::{Failure, exit};

/// Attempts per API call, failures only (rate-limit waits have their own budget).
const API_ATTEMPTS: u32 = 12;

/// Everything resolved from flags > env > config.
struct Resolved {
    account_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    cfg: ClientConfig,
}

fn resolve(z: &ZoomArgs, cfg: &ConfigFile) -> Result<Resolved, Failure> {
    let pick = |flag: &Option<String>, file: &Option<String>| {
        flag.clone()
            .or_else(|| file.clone())
            .filter(|v| !v.trim().is_empty())
    };
    let mut client = ClientConfig::default();
    if let Some(a) = pick(&z.api_base, &cfg.zoom.api_base) {
        client.api_base = a;
    }
    if let Some(o) = pick(&z.oauth_base, &cfg.zoom.oauth_base) {
        client.oauth_base = o;
    }
    if let Some(p) = pick(&z.plan, &cfg.zoom.plan) {
        client.plan = p
            .parse::<Plan>()
            .map_err(|e| Failure::new(exit::USAGE, anyhow!("--plan: {e}")))?;
    }
    // API calls (listing pages, meeting details, summaries) get twelve attempts, not the
    // client's default six: at a 5xx rate of 15 % (the fault-storm test) six left a call
    // failing once in 90,000 and a run of a thousand calls giving up once in 90; twelve make
    // it 1.3e-10 a call. A run that gives up on a listing page ends early, so the budget
    // matters more here than anywhere. The backoff cap bounds the wait (about 5 minutes).
    client.retry.max_attempts = API_ATTEMPTS;
    // Hidden test hook (see commands.rs): API retries start at 10 ms instead of 500 ms; the
    // cap stays, so a server's Retry-After is still honoured.
    if std::env::var_os("ZVM_TEST_FAST_RETRY").is_some_and(|v| v == "1") {
        client.retry.base_delay = std::time::Duration::from_millis(10);
    }
    client.http2 = z.downloads_http2;
    if let Some(secs) = z.stall_timeout {
        // Reject what Duration cannot hold (negative, NaN, absurdly large) as a usage error.
        client.stall_timeout = std::time::Duration::try_from_secs_f64(secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Failure::new(
                    exit::USAGE,
                    anyhow!("--stall-timeout {secs} is not a positive number of seconds"),
                )
            })?;
    }
    Ok(Resolved {
        account_id: pick(&z.account_id, &cfg.zoom.account_id),
        client_id: pick(&z.client_id, &cfg.zoom.client_id),
        client_secret: pick(&z.client_secret, &cfg.zoom.client_secret),
        cfg: client,
    })
}

fn token_store() -> Result<Arc<dyn TokenStore>, Failure> {
    let dir = settings::default_config_dir().ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            anyhow!("cannot find the OS config directory to keep the sign-in token (is HOME set?)"),
        )
    })?;
    Ok(crate::token_store::choose(&dir))
}

fn zoom_failure(e: zvm_zoom::ZoomError) -> Failure {
    let code = match e {
        zvm_zoom::ZoomError::Config(_) => exit::USAGE,
        _ => exit::ZOOM,
    };
    Failure::new(code, e)
}

/// The credentials this run will use.
fn credentials(r: &Resolved) -> Result<Credentials, Failure> {
    match (&r.account_id, &r.client_id, &r.client_secret) {
        (Some(account), Some(id), Some(secret)) => Ok(Credentials::ServerToServer {
            account_id: account.clone(),
            client_id: id.clone(),
            client_secret: Secret::new(secret.clone()),
        }),
        (Some(_), _, _) => Err(Failure::new(
            exit::USAGE,
            anyhow!(
                "Server-to-Server OAuth needs all three of ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (or --account-id, --client-id, --client-secret); some are missing"
            ),
        )),
        (None, Some(id), secret) => {
            let store = token_store()?;
            match store.load() {
                Ok(Some(_)) => Ok(Credentials::User {
                    client_id: id.clone(),
                    client_secret: secret.clone().map(Secret::new),
                    store,
                }),
                Ok(None) => Err(Failure::new(
                    exit::ZOOM,
                    anyhow!("not signed in: run `zvm auth login` first"),
                )),
                Err(e) => Err(zoom_failure(e)),
            }
        }
        (None, None, _) => Err(Failure::new(
            exit::USAGE,
            anyhow!(
                "no Zoom credentials: for your own recordings set ZOOM_CLIENT_ID and run `zvm auth login`; for an account, set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (Server-to-Server app). The README says how to create either app"
            ),
        )),
    }
}

pub async fn client(z: &ZoomArgs, cfg: &ConfigFile) -> Result<ZoomClient, Failure> {
    let r = resolve(z, cfg)?;
    let creds = credentials(&r)?;
    ZoomClient::new(r.cfg, creds).map_err(zoom_failure)
}

/// A client for the in-process simulator of `zvm demo`.
pub async fn client_for_sim(sim: &zoom_sim::Simulator) -> Result<ZoomClient, Failure> {
    let c = sim.credentials();
    let cfg = ClientConfig {
        api_base: sim.api_base_url(),
        oauth_base: sim.oauth_base_url(),
        plan: Plan::BusinessPlus,
        ..ClientConfig::default()
    };
    ZoomClient::new(
        cfg,
        Credentials::ServerToServer {
            account_id: c.account_id.clone(),
            client_id: c.client_id.clone(),
            client_secret: Secret::new(c.client_secret.clone()),
        },
    )
    .map_err(zoom_failure)
}

pub async fn login(a: &LoginArgs, cfg: &ConfigFile) -> Result<u8, Failure> {
    let r = resolve(&a.zoom, cfg)?;
    let client_id = r.client_id.clone().ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            anyhow!("`zvm auth login` needs your Zoom app's client id: set ZOOM_CLIENT_ID or pass --client-id"),
        )
    })?;
    let store = token_store()?;
    let mut login = LoginConfig::new(r.cfg.oauth_base.clone(), client_id);
    login.client_secret = r.client_secret.clone().map(Secret::new);
    login.port = a.redirect_port.or(cfg.zoom.redirect_port).unwrap_or(0);
    let http = zvm_zoom::http::api_client(r.cfg.connect_timeout).map_err(zoom_failure)?;
    let no_browser = a.no_browser;
    let token = zvm_zoom::login_pkce(&http, &login, store.as_ref(), |url| {
        // The sign-in URL carries no secret (PKCE challenge and state only), so it may be shown.
        crate::output::note(format_args!(
            "Open this address to sign in to Zoom:\n\n  {url}\n"
        ));
        if !no_browser {
            open_browser(url);
        }
    })
    .await
    .map_err(zoom_failure)?;
    crate::output::note(format_args!(
        "Signed in. Token stored in {} (scopes: {}).",
        store.location(),
        if token.scope.is_empty() {
            "-"
        } else {
            token.scope.as_str()
        }
    ));
    Ok(exit::OK)
}

pub async fn status(z: &ZoomArgs, cfg: &ConfigFile) -> Result<u8, Failure> {
    let r = resolve(z, cfg)?;
    if r.account_id.is_some() {
        let creds = credentials(&r)?;
        let client = ZoomClient::new(r.cfg.clone(), creds).map_err(zoom_failure)?;
        // Asking for a token proves the credentials work without touching any recording.
        client.tokens().access_token().await.map_err(zoom_failure)?;
        let st = client.tokens().status().await.map_err(zoom_failure)?;
        crate::output::line(format_args!(
            "Server-to-Server OAuth: credentials accepted by {}",
            r.cfg.oauth_base
        ))?;
        crate::output::line(format_args!("scopes: {}", st.scopes.join(" ")))?;
        return Ok(exit::OK);
    }
    let store = token_store()?;
    match store.load().map_err(zoom_failure)? {
        None => {
            crate::output::line(format_args!(
                "Not signed in (no token in {}). Run `zvm auth login`.",
                store.location()
            ))?;
            Ok(exit::ZOOM)
        }
        Some(t) => {
            let now = jiff::Timestamp::now().as_second();
            let left = t.expires_at - now;
            crate::output::line(format_args!(
                "Signed in (user OAuth); token in {}",
                store.location()
            ))?;
            if left > 0 {
                crate::output::line(format_args!(
                    "access token valid for {} more minutes",
                    left / 60
                ))?;
            } else {
                crate::output::line(format_args!(
                    "access token expired; it is refreshed automatically on the next run"
                ))?;
            }
            crate::output::line(format_args!(
                "refresh token: {}",
                if t.refresh_token.is_some() {
                    "present"
                } else {
                    "absent (sign in again when the access token expires)"
                }
            ))?;
            crate::output::line(format_args!(
                "scopes: {}",
                if t.scope.is_empty() {
                    "-"
                } else {
                    t.scope.as_str()
                }
            ))?;
            Ok(exit::OK)
        }
    }
}

pub async fn logout(z: &ZoomArgs, cfg: &ConfigFile) -> Result<u8, Failure> {
    let r = resolve(z, cfg)?;
    let store = token_store()?;
    if store.load().map_err(zoom_failure)?.is_none() {
        crate::output::line(format_args!("Not signed in; nothing to forget."))?;
        return Ok(exit::OK);
    }
    let client_id = r
        .client_id
        .clone()
        .or_else(|| store.load().ok().flatten().map(|t| t.client_id))
        .unwrap_or_default();
    let creds = Credentials::User {
        client_id,
        client_secret: r.client_secret.clone().map(Secret::new),
        store: store.clone(),
    };
    let client = ZoomClient::new(r.cfg, creds).map_err(zoom_failure)?;
    match client.tokens().logout().await {
        Ok(()) => {
            crate::output::line(format_args!(
                "Signed out: the token was revoked at Zoom and removed from {}.",
                store.location()
            ))?;
            Ok(exit::OK)
        }
        Err(e) => {
            // The local token is gone either way; say that revocation did not happen.
            crate::output::line(format_args!(
                "Removed the local token from {}, but Zoom did not confirm the revocation: {e}",
                store.location()
            ))?;
            Ok(exit::ZOOM)
        }
    }
}

/// Best effort: a missing browser is not an error, the URL is printed anyway.
fn open_browser(url: &str) {
    #[cfg(target_os = "macos")]
    let cmd = ("open", vec![url]);
    #[cfg(target_os = "windows")]
    let cmd = ("cmd", vec!["/C", "start", "", url]);
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let cmd = ("xdg-open", vec![url]);
    let _ = std::process::Command::new(cmd.0)
        .args(cmd.1)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
