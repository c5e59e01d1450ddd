//! The connection to Zoom: which credentials a run uses, where the sign-in token is kept,
//! and the client built from them. Server-to-Server OAuth when an account id, client id and
//! secret are all given; otherwise user OAuth with the token a browser sign-in stored.
//! Secrets only ever travel inside `zvm_zoom::Secret`.

use std::path::PathBuf;
use std::sync::Arc;

use zvm_zoom::{ClientConfig, Credentials, Plan, Secret, TokenStore, ZoomClient};

use crate::failure::{Cause, Failure};
use crate::settings::ZoomSettings;
use crate::token_store::{self, StoreKind};

/// Where the sign-in token is kept.
#[derive(Debug, Clone, Default)]
pub struct TokenPlace {
    /// The folder of the token file; `None`: zvm's config dir.
    pub dir: Option<PathBuf>,
    pub kind: StoreKind,
}

impl TokenPlace {
    /// The store: the OS keyring where one answers, else the file.
    pub fn store(&self) -> Result<Arc<dyn TokenStore>, Failure> {
        let dir = self
            .dir
            .clone()
            .or_else(crate::config::default_config_dir)
            .ok_or_else(|| {
                Failure::new(
                    Cause::NoConfigDir,
                    "cannot find the OS config directory to keep the sign-in token (is HOME set?)",
                )
            })?;
        Ok(token_store::choose(&dir, self.kind))
    }
}

/// Server-to-Server credentials; all three values are needed.
pub fn server_to_server(z: &ZoomSettings) -> Result<Credentials, Failure> {
    match (&z.account_id, &z.client_id, &z.client_secret) {
        (Some(account), Some(id), Some(secret)) => Ok(Credentials::ServerToServer {
            account_id: account.clone(),
            client_id: id.clone(),
            client_secret: Secret::new(secret.clone()),
        }),
        _ => Err(Failure::new(
            Cause::IncompleteServerToServer,
            "Server-to-Server OAuth needs all three of ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (or --account-id, --client-id, --client-secret); some are missing",
        )),
    }
}

/// User OAuth with the stored sign-in. Without a client id in the settings, the one the
/// sign-in was made with is used.
pub fn signed_in_user(
    z: &ZoomSettings,
    store: Arc<dyn TokenStore>,
) -> Result<Credentials, Failure> {
    match store.load()? {
        Some(t) => Ok(Credentials::User {
            client_id: z.client_id.clone().unwrap_or(t.client_id),
            client_secret: z.client_secret.clone().map(Secret::new),
            store,
        }),
        None => Err(Failure::new(
            Cause::NotSignedIn,
            "not signed in: run `zvm auth login` first",
        )),
    }
}

/// The credentials the settings name: Server-to-Server when an account id is given, user
/// OAuth when only a client id is.
pub fn credentials(z: &ZoomSettings, tokens: &TokenPlace) -> Result<Credentials, Failure> {
    match (&z.account_id, &z.client_id) {
        (Some(_), _) => server_to_server(z),
        (None, Some(_)) => signed_in_user(z, tokens.store()?),
        (None, None) => Err(Failure::new(
            Cause::NoCredentials,
            "no Zoom credentials: for your own recordings set ZOOM_CLIENT_ID and run `zvm auth login`; for an account, set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (Server-to-Server app). The README says how to create either app",
        )),
    }
}

/// The client settings (addresses, plan, timeouts) of `z`.
pub fn client_config(z: &ZoomSettings) -> Result<ClientConfig, Failure> {
    Ok(z.client_config()?)
}

/// The Zoom client of a run.
pub fn client(z: &ZoomSettings, tokens: &TokenPlace) -> Result<ZoomClient, Failure> {
    let cfg = client_config(z)?;
    let creds = credentials(z, tokens)?;
    Ok(ZoomClient::new(cfg, creds)?)
}

/// Where a simulated Zoom answers and with which app (the simulator's own values; `zvm
/// demo` and tests).
#[derive(Debug, Clone)]
pub struct SimulatorEndpoint {
    pub api_base: String,
    pub oauth_base: String,
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// A client for a simulated Zoom account: Server-to-Server, on the simulator's generous plan.
pub fn simulator_client(sim: &SimulatorEndpoint) -> Result<ZoomClient, Failure> {
    let cfg = ClientConfig {
        api_base: sim.api_base.clone(),
        oauth_base: sim.oauth_base.clone(),
        plan: Plan::BusinessPlus,
        ..ClientConfig::default()
    };
    Ok(ZoomClient::new(
        cfg,
        Credentials::ServerToServer {
            account_id: sim.account_id.clone(),
            client_id: sim.client_id.clone(),
            client_secret: Secret::new(sim.client_secret.clone()),
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_decide_the_kind_of_sign_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tokens = TokenPlace {
            dir: Some(dir.path().to_path_buf()),
            kind: StoreKind::FileOnly,
        };
        let z = |a: Option<&str>, c: Option<&str>, s: Option<&str>| ZoomSettings {
            account_id: a.map(String::from),
            client_id: c.map(String::from),
            client_secret: s.map(String::from),
            ..ZoomSettings::default()
        };
        assert!(matches!(
            credentials(&z(Some("a"), Some("c"), Some("s")), &tokens),
            Ok(Credentials::ServerToServer { .. })
        ));
        let cause = |r: Result<Credentials, Failure>| r.err().map(|f| f.cause);
        assert_eq!(
            cause(credentials(&z(Some("a"), Some("c"), None), &tokens)),
            Some(Cause::IncompleteServerToServer)
        );
        assert_eq!(
            cause(credentials(&z(None, Some("c"), None), &tokens)),
            Some(Cause::NotSignedIn)
        );
        assert_eq!(
            cause(credentials(&z(None, None, None), &tokens)),
            Some(Cause::NoCredentials)
        );
    }
}
