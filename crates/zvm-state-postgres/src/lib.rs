//! Run state in PostgreSQL: [`PostgresState`], the [`zvm_state::StateStore`] that several
//! zvm workers on one or many machines can share, where one SQLite file on one machine no
//! longer suffices (issue 19).
//!
//! It keeps the same rows as the embedded SQLite store and passes the same conformance
//! suite (`zvm_state::conformance`). The database is named by a `postgres://` URL
//! ([`is_postgres_url`]); every message that names it shows the URL without its password
//! ([`redact_url`]). A server beyond this machine is reached only over TLS with its
//! certificate verified (see `tls`: `sslmode`, `sslrootcert`). The schema is versioned and
//! migrated when a store opens, under an advisory lock, so that workers starting together
//! do not race (see `migrations`). Work
//! is shared between workers by leases (see `leases`); a fleet of `zvm serve` workers also
//! shares the webhook queue (`queue`) and registers itself (`workers`).

mod leases;
mod location;
mod migrations;
mod queue;
mod server_errors;
mod store;
mod tls;
mod workers;

pub use leases::{Lease, WorkAction, WorkCounts};
pub use location::{is_postgres_url, redact_url};
pub use migrations::SCHEMA_VERSION;
pub use store::{PostgresState, RunLock};
pub use workers::WorkerRow;
