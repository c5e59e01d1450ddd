//! Where a command keeps its state: a SQLite file (the default), or a PostgreSQL database
//! named by `--state postgres://user:password@host:port/db` (the `postgres` feature; `zvm
//! sync`, `zvm serve` (a fleet worker) and `zvm status` (the fleet's workers) only so far:
//! the other commands keep their state in a file). A state URL is never
//! printed with its password, and one given to a zvm built without the feature, or to a
//! command that cannot use it, is refused before anything is created: read as a path it
//! would become a SQLite file named after the URL.

use std::path::{Path, PathBuf};
#[cfg(feature = "postgres")]
use std::sync::Arc;

use zvm_app::run_context;

use crate::{Failure, exit};

/// The PostgreSQL URL `given` is, if it is one.
pub(crate) fn postgres_url(given: Option<&Path>) -> Option<String> {
    let text = given?.to_str()?;
    let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
    (lower.starts_with("postgres://") || lower.starts_with("postgresql://"))
        .then(|| text.to_string())
}

/// The state file of a command that keeps its state in a file: `given`, else the default.
/// A PostgreSQL URL is refused with what to do instead.
pub(crate) fn state_file(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(url) = postgres_url(given) {
        return Err(Failure::new(
            exit::USAGE,
            anyhow::anyhow!(
                "{} is a PostgreSQL database, and only `zvm sync`, `zvm serve` and `zvm \
                 status` work on a PostgreSQL state so far: this command keeps its state in \
                 a file; pass --state FILE",
                shown(&url)
            ),
        ));
    }
    Ok(run_context::state_path(given)?)
}

/// The URL as messages show it: without its password.
fn shown(url: &str) -> String {
    #[cfg(feature = "postgres")]
    {
        zvm_state_postgres::redact_url(url)
    }
    #[cfg(not(feature = "postgres"))]
    {
        // Without the crate that reads URLs, show only the scheme: never a password.
        let scheme = url.split("://").next().unwrap_or("postgres");
        format!("{scheme}://...")
    }
}

/// What a run holds on to while it works on a PostgreSQL state: the store, and its run
/// lock (another `zvm sync` on the same database is refused until it is dropped).
// Never made by a zvm built without the feature, which refuses PostgreSQL states.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) struct PostgresRun {
    pub state: std::sync::Arc<dyn zvm_state::StateStore>,
    _lock: Box<dyn std::any::Any + Send>,
}

/// Opens the PostgreSQL state at `url` (migrating its schema) and takes its run lock.
#[cfg(feature = "postgres")]
pub(crate) async fn open_postgres(url: &str) -> Result<PostgresRun, Failure> {
    let state_failure = |e| Failure::from(zvm_app::Failure::from(e));
    let store = zvm_state_postgres::PostgresState::open(url)
        .await
        .map_err(state_failure)?;
    let lock = store.try_run_lock().await.map_err(state_failure)?;
    Ok(PostgresRun {
        state: Arc::new(store),
        _lock: Box::new(lock),
    })
}

/// Without the `postgres` feature: says how to get a zvm that has it.
#[cfg(not(feature = "postgres"))]
pub(crate) async fn open_postgres(url: &str) -> Result<PostgresRun, Failure> {
    Err(Failure::new(
        exit::USAGE,
        anyhow::anyhow!(
            "this zvm was built without PostgreSQL state support, so it cannot use {}; \
             build it with `cargo install --path crates/zvm-cli --features postgres`, or pass \
             --state FILE",
            shown(url)
        ),
    ))
}
