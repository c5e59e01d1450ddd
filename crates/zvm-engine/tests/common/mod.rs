//! What the engine's integration tests share: a client and an engine on a running simulator,
//! with real SQLite state and a real folder. Each test file uses part of it.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use zoom_sim::Simulator;
use zvm_dest::LocalDestination;
use zvm_engine::{Engine, Event, SyncOptions, UserSelection};
use zvm_state::SqliteState;
use zvm_zoom::{ClientConfig, Credentials, Plan, Secret, ZoomClient};

/// A Server-to-Server client of `sim`, with `tuned`'s settings apart from the addresses.
pub fn client(sim: &Simulator, tuned: ClientConfig) -> ZoomClient {
    let c = sim.credentials();
    let cfg = ClientConfig {
        api_base: sim.api_base_url(),
        oauth_base: sim.oauth_base_url(),
        ..tuned
    };
    ZoomClient::new(
        cfg,
        Credentials::ServerToServer {
            account_id: c.account_id,
            client_id: c.client_id,
            client_secret: Secret::new(c.client_secret),
        },
    )
    .expect("client")
}

/// An engine on `sim` (no rate-limit pacing) copying into `root`, its state in `state_file`;
/// events are dropped.
pub fn engine(sim: &Simulator, root: &Path, state_file: &Path) -> (Engine, Arc<SqliteState>) {
    let zoom = client(
        sim,
        ClientConfig {
            plan: Plan::Unlimited,
            ..ClientConfig::default()
        },
    );
    let state = Arc::new(SqliteState::open(state_file).expect("state opens"));
    let engine = Engine::new(
        zoom,
        state.clone(),
        Arc::new(LocalDestination::new(root.to_path_buf())),
        Arc::new(|_e: Event| {}),
    );
    (engine, state)
}

/// A sync of every user's recordings from `years` years ago until today.
pub fn all_users_for_years(years: i16) -> SyncOptions {
    let today = jiff::Zoned::now().date();
    let mut opts = SyncOptions::new(
        today.checked_sub(jiff::Span::new().years(years)).unwrap(),
        today,
    );
    opts.users = UserSelection::AllUsers;
    opts
}
