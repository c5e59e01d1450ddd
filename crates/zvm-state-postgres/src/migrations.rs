//! The PostgreSQL schema, as numbered migrations applied when a store opens. The applied
//! versions are rows of `zvm_schema_migrations`; a database newer than this zvm is refused.
//!
//! Several workers may open one database at the same moment. Each migrates inside one
//! transaction that first takes a transaction-scoped advisory lock (keyed on the schema the
//! connection works in), so exactly one applies a missing step and the others, once it
//! commits, find nothing left to do. A failed step rolls back whole: the schema is never
//! left half-migrated.
//!
//! Append only: never edit a migration that has shipped.

use tokio_postgres::Client;
use zvm_state::StateError;

/// Text columns that are sorted (`uuid`, days, scopes) sort as bytes (`COLLATE "C"`),
/// as SQLite sorts them, whatever the database's locale.
const MIGRATIONS: &[&str] = &[
    // 1: what SQLite's schema holds for runs: meetings, files, the deletion log, the
    // listing cache and the ranges of segmented downloads.
    "CREATE TABLE meetings (
        uuid TEXT COLLATE \"C\" PRIMARY KEY,
        meeting_id BIGINT NOT NULL,
        host_id TEXT NOT NULL,
        host_email TEXT NOT NULL,
        topic TEXT NOT NULL,
        start_time TEXT NOT NULL,
        timezone TEXT NOT NULL,
        duration_min BIGINT NOT NULL,
        folder TEXT NOT NULL,
        cloud TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE files (
        meeting_uuid TEXT COLLATE \"C\" NOT NULL,
        file_id TEXT COLLATE \"C\" NOT NULL,
        kind TEXT NOT NULL,
        file_type TEXT NOT NULL,
        recording_type TEXT NOT NULL,
        rel_path TEXT NOT NULL,
        expected_size BIGINT NOT NULL CHECK (expected_size >= 0),
        status TEXT NOT NULL,
        bytes_done BIGINT NOT NULL DEFAULT 0 CHECK (bytes_done >= 0),
        attempts BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        sha256 TEXT,
        cloud TEXT NOT NULL DEFAULT 'present',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (meeting_uuid, file_id)
    );
    CREATE INDEX files_by_status ON files (status);
    CREATE TABLE deletions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TEXT NOT NULL,
        meeting_uuid TEXT NOT NULL,
        file_id TEXT,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        paths TEXT NOT NULL
    );
    CREATE TABLE listing_windows (
        scope TEXT COLLATE \"C\" NOT NULL,
        from_day TEXT COLLATE \"C\" NOT NULL,
        to_day TEXT COLLATE \"C\" NOT NULL,
        listed_at TEXT NOT NULL,
        PRIMARY KEY (scope, from_day, to_day)
    );
    CREATE TABLE listed_meetings (
        scope TEXT COLLATE \"C\" NOT NULL,
        from_day TEXT COLLATE \"C\" NOT NULL,
        to_day TEXT COLLATE \"C\" NOT NULL,
        uuid TEXT COLLATE \"C\" NOT NULL,
        start_time TEXT COLLATE \"C\" NOT NULL,
        host TEXT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (scope, from_day, to_day, uuid),
        FOREIGN KEY (scope, from_day, to_day)
            REFERENCES listing_windows (scope, from_day, to_day) ON DELETE CASCADE
    );
    CREATE INDEX listed_meetings_by_uuid ON listed_meetings (uuid);
    CREATE TABLE file_ranges (
        meeting_uuid TEXT NOT NULL,
        file_id TEXT NOT NULL,
        boot_id TEXT,
        ranges TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (meeting_uuid, file_id)
    );",
    // 2: work shared by several workers (see `leases`): one row per meeting, held by at
    // most one worker until `expires_at`; `leased` counts how often it was handed out.
    "CREATE TABLE work_leases (
        meeting_uuid TEXT COLLATE \"C\" PRIMARY KEY,
        holder TEXT,
        expires_at TIMESTAMPTZ,
        done BOOLEAN NOT NULL DEFAULT FALSE,
        leased BIGINT NOT NULL DEFAULT 0,
        CHECK ((holder IS NULL) = (expires_at IS NULL))
    );
    CREATE INDEX work_leases_open ON work_leases (meeting_uuid) WHERE NOT done;",
    // 3: a fleet of `zvm serve` workers on this database (issue 19). The webhook queue and
    // the schedules' last runs, as SQLite's daemon keeps them, plus the claim of a worker
    // on an event it is turning into work; the workers themselves (their heartbeats decide
    // who is alive, and so each one's share of the account's rate limits); and what a work
    // row asks (a copy, or a move: deleted in Zoom after its proof), its failed attempts,
    // and `again`: new work arrived while a worker held the row, so finishing it does not
    // make it done.
    "CREATE TABLE webhook_events (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        dedup_key TEXT NOT NULL UNIQUE,
        event TEXT NOT NULL,
        meeting_uuid TEXT,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        received_at TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        claimed_by TEXT,
        claim_expires TIMESTAMPTZ
    );
    CREATE INDEX webhook_events_by_status ON webhook_events (status, id);
    CREATE TABLE scheduled_runs (
        name TEXT PRIMARY KEY,
        last_run TEXT NOT NULL
    );
    CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid BIGINT NOT NULL,
        started TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        heartbeat TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        ttl_ms BIGINT NOT NULL,
        stopped BOOLEAN NOT NULL DEFAULT FALSE,
        files_copied BIGINT NOT NULL DEFAULT 0,
        bytes_copied BIGINT NOT NULL DEFAULT 0
    );
    ALTER TABLE work_leases
        ADD COLUMN action TEXT NOT NULL DEFAULT 'copy',
        ADD COLUMN failures BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN last_error TEXT,
        ADD COLUMN not_before TIMESTAMPTZ,
        ADD COLUMN gave_up BOOLEAN NOT NULL DEFAULT FALSE,
        ADD COLUMN again BOOLEAN NOT NULL DEFAULT FALSE;",
    // 4: each worker's schedule settings in a canonical text (zvm-serve's
    // `Schedules::describe`): only one worker lists for the fleet, so workers whose
    // schedules differ make the fleet's rhythm depend on which one holds the lock; they
    // are told so (empty: a worker of an earlier zvm, which did not say).
    "ALTER TABLE workers ADD COLUMN schedules TEXT NOT NULL DEFAULT '';",
];

/// The schema version this zvm writes: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The first key of the advisory lock (the second is the schema's name): "zvm" in ASCII,
/// so the lock is recognisable in `pg_locks`.
const LOCK_KEY: i32 = 0x007a_766d;

/// Brings the schema the connection works in up to [`SCHEMA_VERSION`]. `location` names
/// the database in errors (without its password).
pub(crate) async fn migrate(client: &mut Client, location: &str) -> Result<(), StateError> {
    let err = |e: tokio_postgres::Error| crate::server_errors::server_error(location, &e);
    let tx = client.transaction().await.map_err(err)?;
    // Held until this transaction ends: a second worker waits here, then sees our rows.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(current_schema(), '')))",
        &[&LOCK_KEY],
    )
    .await
    .map_err(err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS zvm_schema_migrations (
            version BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(err)?;
    let found: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM zvm_schema_migrations",
            &[],
        )
        .await
        .map_err(err)?
        .try_get(0)
        .map_err(err)?;
    if found > SCHEMA_VERSION {
        return Err(StateError::ServerTooNew {
            location: location.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i as i64 + 1;
        tracing::info!(version, database = location, "migrating the state database");
        tx.batch_execute(sql).await.map_err(err)?;
        tx.execute(
            "INSERT INTO zvm_schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(err)?;
    }
    tx.commit().await.map_err(err)
}
