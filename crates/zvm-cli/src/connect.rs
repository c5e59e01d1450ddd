//! The `zvm auth` subcommands and the Zoom client of a run, on `zvm-app`'s connection:
//! flags (with their `ZOOM_*`/`ZVM_*` environment variables) are a layer over the config
//! file; `zvm-app` decides the credentials and keeps the token (the OS keyring where one
//! answers, as for the GUI). Secrets only ever travel inside `zvm_zoom::Secret`.

use zvm_app::config::{ConfigFile, ZoomConfig};
use zvm_app::connection::{self, TokenPlace};
use zvm_app::{Cause, Layer, Origin, ZoomSettings};
use zvm_zoom::{Credentials, LoginConfig, Secret, ZoomClient};

use crate::cli::{LoginArgs, ZoomArgs};
use crate::{Failure, exit};

/// The flags of `z` as a settings layer.
pub(crate) fn zoom_layer(z: &ZoomArgs) -> ZoomConfig {
    ZoomConfig {
        account_id: z.account_id.clone(),
        client_id: z.client_id.clone(),
        client_secret: z.client_secret.clone(),
        api_base: z.api_base.clone(),
        oauth_base: z.oauth_base.clone(),
        plan: z.plan.clone(),
        redirect_port: None,
    }
}

/// The `[zoom]` settings: flags first, then the config file; plus the hidden flags.
pub(crate) fn zoom_settings(z: &ZoomArgs, cfg: &ConfigFile) -> ZoomSettings {
    let flags = ConfigFile {
        zoom: zoom_layer(z),
        ..ConfigFile::default()
    };
    let mut s = ZoomSettings::resolve(&[
        Layer::new(Origin::CommandLine, &flags),
        Layer::new(Origin::ConfigFile, cfg),
    ]);
    with_hidden_flags(&mut s, z);
    s
}

/// The hidden measurement and test flags, which have no config key.
pub(crate) fn with_hidden_flags(s: &mut ZoomSettings, z: &ZoomArgs) {
    s.stall_timeout = z.stall_timeout;
    s.downloads_http2 = z.downloads_http2;
}

/// The token is kept where `zvm-app` decides (keyring or the config dir's file).
fn tokens() -> TokenPlace {
    TokenPlace::default()
}

pub async fn client(s: &ZoomSettings) -> Result<ZoomClient, Failure> {
    Ok(connection::client(s, &tokens())?)
}

/// A client for the in-process simulator of `zvm demo`.
pub async fn client_for_sim(sim: &zoom_sim::Simulator) -> Result<ZoomClient, Failure> {
    let c = sim.credentials();
    Ok(connection::simulator_client(
        &connection::SimulatorEndpoint {
            api_base: sim.api_base_url(),
            oauth_base: sim.oauth_base_url(),
            account_id: c.account_id.clone(),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
        },
    )?)
}

pub async fn login(a: &LoginArgs, cfg: &ConfigFile) -> Result<u8, Failure> {
    let r = zoom_settings(&a.zoom, cfg);
    let client_cfg = connection::client_config(&r)?;
    let client_id = r.client_id.clone().ok_or_else(|| {
        zvm_app::Failure::new(
            Cause::NoClientId,
            "`zvm auth login` needs your Zoom app's client id: set ZOOM_CLIENT_ID or pass --client-id",
        )
    })?;
    let store = tokens().store()?;
    let mut login = LoginConfig::new(client_cfg.oauth_base.clone(), client_id);
    login.client_secret = r.client_secret.clone().map(Secret::new);
    login.port = a.redirect_port.or(r.redirect_port).unwrap_or(0);
    let http = zvm_zoom::http::api_client(client_cfg.connect_timeout).map_err(zoom_failure)?;
    let no_browser = a.no_browser;
    let token = zvm_zoom::login_pkce(&http, &login, store.as_ref(), |url| {
        // The sign-in URL carries no secret (PKCE challenge and state only), so it may be shown.
        crate::output::note(format_args!(
            "Open this address to sign in to Zoom:\n\n  {url}\n"
        ));
        if !no_browser {
            zvm_app::browser::open(url);
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
    let r = zoom_settings(z, cfg);
    let client_cfg = connection::client_config(&r)?;
    if r.account_id.is_some() {
        let creds = connection::server_to_server(&r)?;
        let client = ZoomClient::new(client_cfg.clone(), creds).map_err(zoom_failure)?;
        // Asking for a token proves the credentials work without touching any recording.
        client.tokens().access_token().await.map_err(zoom_failure)?;
        let st = client.tokens().status().await.map_err(zoom_failure)?;
        crate::output::line(format_args!(
            "Server-to-Server OAuth: credentials accepted by {}",
            client_cfg.oauth_base
        ))?;
        crate::output::line(format_args!("scopes: {}", st.scopes.join(" ")))?;
        return Ok(exit::OK);
    }
    let store = tokens().store()?;
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
    let r = zoom_settings(z, cfg);
    let client_cfg = connection::client_config(&r)?;
    let store = tokens().store()?;
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
    let client = ZoomClient::new(client_cfg, creds).map_err(zoom_failure)?;
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

fn zoom_failure(e: zvm_zoom::ZoomError) -> Failure {
    zvm_app::Failure::from(e).into()
}
