//! [`SqliteState`]: the embedded [`StateStore`], one SQLite file in WAL mode.
//!
//! Queries take well under a millisecond, but they are still blocking calls, so each runs in
//! `tokio::task::spawn_blocking` on a connection behind a `Mutex`. We chose `spawn_blocking`
//! over `block_in_place` because `block_in_place` panics on a current-thread runtime (the
//! default of `#[tokio::test]` and a common choice for front ends), while `spawn_blocking`
//! works on every runtime and its hand-off cost (microseconds) is negligible here.
//!
//! Durability: WAL with `synchronous=NORMAL` means a commit is not fsynced, so a power cut can
//! lose the last few transactions but never corrupts the file. That is the right trade: the
//! worst case is re-checking or re-downloading a few files, which resume handles anyway.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    CloudState, DeletionRow, FileKey, FileRange, FileRanges, FileRow, FileStatus, ListedMeeting,
    ListingWindow, MeetingRow, PlannedFile, StateError, StateStore, Totals, WindowListed,
};

/// Schema migrations; `PRAGMA user_version` holds how many have been applied. Append only:
/// never edit a migration that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE meetings (
        uuid TEXT PRIMARY KEY NOT NULL,
        meeting_id INTEGER NOT NULL,
        host_id TEXT NOT NULL,
        host_email TEXT NOT NULL,
        topic TEXT NOT NULL,
        start_time TEXT NOT NULL,
        timezone TEXT NOT NULL,
        duration_min INTEGER NOT NULL,
        folder TEXT NOT NULL,
        cloud TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE files (
        meeting_uuid TEXT NOT NULL,
        file_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        file_type TEXT NOT NULL,
        recording_type TEXT NOT NULL,
        rel_path TEXT NOT NULL,
        expected_size INTEGER NOT NULL,
        status TEXT NOT NULL,
        bytes_done INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sha256 TEXT,
        cloud TEXT NOT NULL DEFAULT 'present',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (meeting_uuid, file_id)
    );
    CREATE INDEX files_by_status ON files(status);
    CREATE TABLE deletions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        meeting_uuid TEXT NOT NULL,
        file_id TEXT,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        paths TEXT NOT NULL
    );",
    // 2: the listing cache (what each listing window returned, and when).
    "CREATE TABLE listing_windows (
        scope TEXT NOT NULL,
        from_day TEXT NOT NULL,
        to_day TEXT NOT NULL,
        listed_at TEXT NOT NULL,
        PRIMARY KEY (scope, from_day, to_day)
    );
    CREATE TABLE listed_meetings (
        scope TEXT NOT NULL,
        from_day TEXT NOT NULL,
        to_day TEXT NOT NULL,
        uuid TEXT NOT NULL,
        start_time TEXT NOT NULL,
        host TEXT NOT NULL,
        json TEXT NOT NULL,
        PRIMARY KEY (scope, from_day, to_day, uuid),
        FOREIGN KEY (scope, from_day, to_day)
            REFERENCES listing_windows (scope, from_day, to_day) ON DELETE CASCADE
    );
    CREATE INDEX listed_meetings_by_uuid ON listed_meetings(uuid);",
    // 3: the ranges of segmented downloads, one row per file (replaced as a whole), the
    // ranges as JSON `[[start, end, written, durable], ...]`.
    "CREATE TABLE file_ranges (
        meeting_uuid TEXT NOT NULL,
        file_id TEXT NOT NULL,
        boot_id TEXT,
        ranges TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (meeting_uuid, file_id)
    );",
    // 4: the daemon's (`zvm serve`) durable queue of accepted webhook events, unique on a
    // key that Zoom's retries of one event share, and the last runs of its schedules.
    "CREATE TABLE webhook_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dedup_key TEXT NOT NULL UNIQUE,
        event TEXT NOT NULL,
        meeting_uuid TEXT,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX webhook_events_by_status ON webhook_events(status, id);
    CREATE TABLE scheduled_runs (
        name TEXT PRIMARY KEY NOT NULL,
        last_run TEXT NOT NULL
    );",
];

/// SQLite's clock as RFC 3339 UTC with milliseconds (avoids a time crate dependency).
pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

const FILE_COLUMNS: &str = "meeting_uuid, file_id, kind, file_type, recording_type, rel_path, \
     expected_size, status, bytes_done, attempts, last_error, sha256, cloud, updated_at";

/// `mark_verified`: ?1 uuid, ?2 file id, ?3 size, ?4 sha256.
const MARK_VERIFIED: &str = "UPDATE files SET status = 'verified', bytes_done = ?3, sha256 = ?4,
    last_error = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
    WHERE meeting_uuid = ?1 AND file_id = ?2";

/// The embedded SQLite state store. Cheap to share behind an `Arc`.
pub struct SqliteState {
    conn: Arc<Mutex<Connection>>,
    /// For error messages; `:memory:` for in-memory stores.
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for SqliteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteState")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteState {
    /// Opens (creating if missing, with its parent directory) and migrates the state file.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StateError::Io {
                op: "create the state directory",
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(|e| StateError::from_sqlite(path, e))?;
        Self::setup(conn, path.to_path_buf(), true)
    }

    /// A throw-away store (tests, `--dry-run`).
    pub fn open_in_memory() -> Result<Self, StateError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| StateError::from_sqlite(&path, e))?;
        Self::setup(conn, path, false)
    }

    /// The state file's path (`:memory:` for in-memory stores).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn setup(conn: Connection, path: PathBuf, wal: bool) -> Result<Self, StateError> {
        let err = |e| StateError::from_sqlite(&path, e);
        // Waits out short write locks from another connection (e.g. `zvm status` reading while
        // a run writes) instead of failing at once.
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        if wal {
            // The first statement that reads the file: a non-database file fails here.
            let mode: String = conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
                .map_err(err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(
                    mode,
                    "state file does not support WAL; continuing in {mode} mode"
                );
            }
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
            .map_err(err)?;
        migrate(&conn, &path)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path),
        })
    }

    /// Marks many files verified in one transaction: all or none. The engine commits each
    /// file the moment it is verified (`StateStore::mark_verified`); this is the batched
    /// alternative `benches/state_writes.rs` measures against it (see BENCHMARKS.md).
    pub async fn mark_verified_batch(
        &self,
        files: Vec<(FileKey, u64, Option<String>)>,
    ) -> Result<(), StateError> {
        self.with(move |c, p| {
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| StateError::from_sqlite(p, e))?;
            for (key, size, sha) in &files {
                let size = to_i64("size", *size)?;
                update_file(&tx, p, key, MARK_VERIFIED, &[&size, sha])?;
            }
            tx.commit().map_err(|e| StateError::from_sqlite(p, e))
        })
        .await
    }

    /// Runs `f` on the connection in a blocking task.
    pub(crate) async fn with<T, F>(&self, f: F) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Path) -> Result<T, StateError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite inconsistent (an open
            // transaction is rolled back when dropped), so a poisoned lock is safe to reuse.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard, &path)
        })
        .await
        .map_err(|e| StateError::Task(e.to_string()))?
    }
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let err = |e| StateError::from_sqlite(path, e);
    let supported = MIGRATIONS.len() as i64;
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err)?;
    if found > supported {
        return Err(StateError::TooNew {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }
    if found < 0 {
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("negative schema version {found}"),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        // One transaction per step, including the version bump, so a crash mid-migration
        // leaves the previous version intact.
        let version = i as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {version}; COMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            err(e)
        })?;
    }
    Ok(())
}

fn to_i64(what: &str, v: u64) -> Result<i64, StateError> {
    i64::try_from(v).map_err(|_| StateError::Invalid {
        what: format!("{what} {v} is too large"),
    })
}

/// Reads a non-negative integer column as u64, refusing negative values (a damaged database).
fn get_u64(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    let v: i64 = row.get(idx)?;
    u64::try_from(v).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Integer, Box::new(e))
    })
}

/// Parses a text enum column, surfacing unknown values as a conversion error.
fn get_enum<T: std::str::FromStr<Err = StateError>>(
    row: &Row<'_>,
    idx: usize,
) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    s.parse::<T>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn file_row(r: &Row<'_>) -> rusqlite::Result<FileRow> {
    let attempts: i64 = r.get(9)?;
    Ok(FileRow {
        key: FileKey {
            meeting_uuid: r.get(0)?,
            file_id: r.get(1)?,
        },
        kind: get_enum(r, 2)?,
        file_type: r.get(3)?,
        recording_type: r.get(4)?,
        rel_path: r.get(5)?,
        expected_size: get_u64(r, 6)?,
        status: get_enum(r, 7)?,
        bytes_done: get_u64(r, 8)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_error: r.get(10)?,
        sha256: r.get(11)?,
        cloud: get_enum(r, 12)?,
        updated_at: r.get(13)?,
    })
}

fn meeting_row(r: &Row<'_>) -> rusqlite::Result<MeetingRow> {
    Ok(MeetingRow {
        uuid: r.get(0)?,
        meeting_id: r.get(1)?,
        host_id: r.get(2)?,
        host_email: r.get(3)?,
        topic: r.get(4)?,
        start_time: r.get(5)?,
        timezone: r.get(6)?,
        duration_min: r.get(7)?,
        folder: r.get(8)?,
        cloud: get_enum(r, 9)?,
    })
}

fn get_file(conn: &Connection, path: &Path, key: &FileKey) -> Result<Option<FileRow>, StateError> {
    conn.prepare_cached(&format!(
        "SELECT {FILE_COLUMNS} FROM files WHERE meeting_uuid = ?1 AND file_id = ?2"
    ))
    .and_then(|mut st| {
        st.query_row(params![key.meeting_uuid, key.file_id], file_row)
            .optional()
    })
    .map_err(|e| StateError::from_sqlite(path, e))
}

/// Runs an UPDATE on one file row; no row changed means the file was never planned.
fn update_file(
    conn: &Connection,
    path: &Path,
    key: &FileKey,
    sql: &str,
    extra: &[&dyn rusqlite::ToSql],
) -> Result<(), StateError> {
    let mut args: Vec<&dyn rusqlite::ToSql> = vec![&key.meeting_uuid, &key.file_id];
    args.extend_from_slice(extra);
    let changed = conn
        .prepare_cached(sql)
        .and_then(|mut st| st.execute(args.as_slice()))
        .map_err(|e| StateError::from_sqlite(path, e))?;
    if changed == 0 {
        return Err(StateError::UnknownFile {
            meeting_uuid: key.meeting_uuid.clone(),
            file_id: key.file_id.clone(),
        });
    }
    Ok(())
}

fn query_files(
    conn: &Connection,
    path: &Path,
    where_: &str,
    arg: &str,
) -> Result<Vec<FileRow>, StateError> {
    let sql =
        format!("SELECT {FILE_COLUMNS} FROM files WHERE {where_} ORDER BY meeting_uuid, file_id");
    conn.prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_map([arg], file_row)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| StateError::from_sqlite(path, e))
}

const LISTED_COLUMNS: &str = "uuid, start_time, host, json";

fn listed_row(r: &Row<'_>) -> rusqlite::Result<ListedMeeting> {
    Ok(ListedMeeting {
        uuid: r.get(0)?,
        start_time: r.get(1)?,
        host: r.get(2)?,
        json: r.get(3)?,
    })
}

fn get_window_listing(
    conn: &Connection,
    w: &ListingWindow,
) -> rusqlite::Result<Vec<ListedMeeting>> {
    conn.prepare_cached(&format!(
        "SELECT {LISTED_COLUMNS} FROM listed_meetings
         WHERE scope = ?1 AND from_day = ?2 AND to_day = ?3
         ORDER BY start_time DESC, uuid"
    ))?
    .query_map(params![w.scope, w.from, w.to], listed_row)?
    .collect()
}

/// Moves the cloud state of a meeting row and its files from `from` to `to`, leaving any
/// other state (what zvm itself did: trashed, deleted) as it is.
fn move_cloud_state(
    conn: &Connection,
    uuid: &str,
    from: CloudState,
    to: CloudState,
) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "UPDATE meetings SET cloud = ?3, updated_at = {NOW} WHERE uuid = ?1 AND cloud = ?2"
    ))?
    .execute(params![uuid, from.as_str(), to.as_str()])?;
    conn.prepare_cached(&format!(
        "UPDATE files SET cloud = ?3, updated_at = {NOW} WHERE meeting_uuid = ?1 AND cloud = ?2"
    ))?
    .execute(params![uuid, from.as_str(), to.as_str()])?;
    Ok(())
}

/// Zoom no longer has the meeting: out of every stored listing, its rows marked vanished.
fn forget_in(conn: &Connection, uuid: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM listed_meetings WHERE uuid = ?1")?
        .execute([uuid])?;
    move_cloud_state(conn, uuid, CloudState::Present, CloudState::Vanished)
}

#[async_trait]
impl StateStore for SqliteState {
    async fn upsert_meeting(&self, m: &MeetingRow) -> Result<(), StateError> {
        let m = m.clone();
        self.with(move |c, p| {
            c.prepare_cached(&format!(
                "INSERT INTO meetings (uuid, meeting_id, host_id, host_email, topic, start_time,
                    timezone, duration_min, folder, cloud, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, {NOW})
                 ON CONFLICT(uuid) DO UPDATE SET meeting_id = excluded.meeting_id,
                    host_id = excluded.host_id, host_email = excluded.host_email,
                    topic = excluded.topic, start_time = excluded.start_time,
                    timezone = excluded.timezone, duration_min = excluded.duration_min,
                    folder = excluded.folder, cloud = excluded.cloud,
                    updated_at = excluded.updated_at"
            ))
            .and_then(|mut st| {
                st.execute(params![
                    m.uuid,
                    m.meeting_id,
                    m.host_id,
                    m.host_email,
                    m.topic,
                    m.start_time,
                    m.timezone,
                    m.duration_min,
                    m.folder,
                    m.cloud.as_str()
                ])
            })
            .map_err(|e| StateError::from_sqlite(p, e))?;
            Ok(())
        })
        .await
    }

    async fn meeting(&self, uuid: &str) -> Result<Option<MeetingRow>, StateError> {
        let uuid = uuid.to_owned();
        self.with(move |c, p| {
            c.prepare_cached(
                "SELECT uuid, meeting_id, host_id, host_email, topic, start_time, timezone,
                    duration_min, folder, cloud FROM meetings WHERE uuid = ?1",
            )
            .and_then(|mut st| st.query_row([uuid], meeting_row).optional())
            .map_err(|e| StateError::from_sqlite(p, e))
        })
        .await
    }

    async fn folders(&self) -> Result<Vec<(String, String)>, StateError> {
        self.with(|c, p| {
            c.prepare_cached("SELECT uuid, folder FROM meetings ORDER BY uuid")
                .and_then(|mut st| st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
                .map_err(|e| StateError::from_sqlite(p, e))
        })
        .await
    }

    async fn plan_file(&self, f: &PlannedFile) -> Result<FileRow, StateError> {
        let f = f.clone();
        self.with(move |c, p| {
            let size = to_i64("expected_size", f.expected_size)?;
            let err = |e| StateError::from_sqlite(p, e);
            // One transaction so the returned row is exactly what this call left behind.
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
            tx.prepare_cached(&format!(
                "INSERT INTO files (meeting_uuid, file_id, kind, file_type, recording_type,
                    rel_path, expected_size, status, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', {NOW})
                 ON CONFLICT(meeting_uuid, file_id) DO UPDATE SET
                    kind = excluded.kind,
                    file_type = excluded.file_type,
                    recording_type = excluded.recording_type,
                    -- A different size means different content upstream: what we have (or
                    -- verified) no longer matches, so start that file over.
                    status = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.status ELSE 'pending' END,
                    bytes_done = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.bytes_done ELSE 0 END,
                    sha256 = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.sha256 ELSE NULL END,
                    updated_at = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.updated_at ELSE excluded.updated_at END,
                    expected_size = excluded.expected_size"
            ))
            .and_then(|mut st| {
                st.execute(params![
                    f.key.meeting_uuid,
                    f.key.file_id,
                    f.kind.as_str(),
                    f.file_type,
                    f.recording_type,
                    f.rel_path,
                    size
                ])
            })
            .map_err(err)?;
            let row = get_file(&tx, p, &f.key)?;
            tx.commit().map_err(err)?;
            row.ok_or_else(|| StateError::UnknownFile {
                meeting_uuid: f.key.meeting_uuid.clone(),
                file_id: f.key.file_id.clone(),
            })
        })
        .await
    }

    async fn file(&self, key: &FileKey) -> Result<Option<FileRow>, StateError> {
        let key = key.clone();
        self.with(move |c, p| get_file(c, p, &key)).await
    }

    async fn files_of_meeting(&self, uuid: &str) -> Result<Vec<FileRow>, StateError> {
        let uuid = uuid.to_owned();
        self.with(move |c, p| query_files(c, p, "meeting_uuid = ?1", &uuid))
            .await
    }

    async fn files_of_meetings(&self, uuids: &[String]) -> Result<Vec<Vec<FileRow>>, StateError> {
        let uuids = uuids.to_vec();
        // One blocking hop for the whole page; each lookup is a cached primary-key prefix scan.
        self.with(move |c, p| {
            uuids
                .iter()
                .map(|u| query_files(c, p, "meeting_uuid = ?1", u))
                .collect()
        })
        .await
    }

    async fn files_with_status(&self, status: FileStatus) -> Result<Vec<FileRow>, StateError> {
        self.with(move |c, p| query_files(c, p, "status = ?1", status.as_str()))
            .await
    }

    async fn start_attempt(&self, key: &FileKey) -> Result<(), StateError> {
        let key = key.clone();
        self.with(move |c, p| {
            update_file(
                c,
                p,
                &key,
                &format!(
                "UPDATE files SET attempts = attempts + 1, status = 'partial', updated_at = {NOW}
                 WHERE meeting_uuid = ?1 AND file_id = ?2"
            ),
                &[],
            )
        })
        .await
    }

    async fn set_progress(&self, key: &FileKey, bytes_done: u64) -> Result<(), StateError> {
        let key = key.clone();
        self.with(move |c, p| {
            let done = to_i64("bytes_done", bytes_done)?;
            // Hot path: a cached statement and a single-row primary-key update; under WAL with
            // synchronous=NORMAL the commit does not fsync.
            update_file(
                c,
                p,
                &key,
                &format!(
                    "UPDATE files SET bytes_done = ?3, updated_at = {NOW}
                 WHERE meeting_uuid = ?1 AND file_id = ?2"
                ),
                &[&done],
            )
        })
        .await
    }

    async fn mark_verified(
        &self,
        key: &FileKey,
        size: u64,
        sha256: Option<&str>,
    ) -> Result<(), StateError> {
        let key = key.clone();
        let sha = sha256.map(str::to_owned);
        self.with(move |c, p| {
            let size = to_i64("size", size)?;
            update_file(c, p, &key, MARK_VERIFIED, &[&size, &sha])
        })
        .await
    }

    async fn mark_failed(&self, key: &FileKey, error: &str) -> Result<(), StateError> {
        let key = key.clone();
        let error = error.to_owned();
        self.with(move |c, p| {
            update_file(
                c,
                p,
                &key,
                &format!(
                    "UPDATE files SET status = 'failed', last_error = ?3, updated_at = {NOW}
                 WHERE meeting_uuid = ?1 AND file_id = ?2"
                ),
                &[&error],
            )
        })
        .await
    }

    async fn mark_skipped(&self, key: &FileKey, reason: &str) -> Result<(), StateError> {
        let key = key.clone();
        let reason = reason.to_owned();
        self.with(move |c, p| {
            update_file(
                c,
                p,
                &key,
                &format!(
                    "UPDATE files SET status = 'skipped', last_error = ?3, updated_at = {NOW}
                 WHERE meeting_uuid = ?1 AND file_id = ?2"
                ),
                &[&reason],
            )
        })
        .await
    }

    async fn set_cloud_state(
        &self,
        meeting_uuid: &str,
        file_id: Option<&str>,
        cloud: CloudState,
    ) -> Result<(), StateError> {
        let uuid = meeting_uuid.to_owned();
        let file_id = file_id.map(str::to_owned);
        self.with(move |c, p| {
            let err = |e| StateError::from_sqlite(p, e);
            match file_id {
                Some(id) => update_file(c, p, &FileKey { meeting_uuid: uuid, file_id: id }, &format!(
                    "UPDATE files SET cloud = ?3, updated_at = {NOW}
                     WHERE meeting_uuid = ?1 AND file_id = ?2"
                ), &[&cloud.as_str()]),
                None => {
                    let tx = c.transaction().map_err(err)?;
                    tx.execute(
                        &format!("UPDATE meetings SET cloud = ?2, updated_at = {NOW} WHERE uuid = ?1"),
                        params![uuid, cloud.as_str()],
                    )
                    .map_err(err)?;
                    tx.execute(
                        &format!("UPDATE files SET cloud = ?2, updated_at = {NOW} WHERE meeting_uuid = ?1"),
                        params![uuid, cloud.as_str()],
                    )
                    .map_err(err)?;
                    tx.commit().map_err(err)
                }
            }
        })
        .await
    }

    async fn record_deletion(&self, d: &DeletionRow) -> Result<(), StateError> {
        let d = d.clone();
        self.with(move |c, p| {
            let paths = serde_json::to_string(&d.paths).map_err(|e| StateError::Invalid {
                what: format!("deletion paths: {e}"),
            })?;
            c.prepare_cached(
                "INSERT INTO deletions (at, meeting_uuid, file_id, action, outcome, paths)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    d.at,
                    d.meeting_uuid,
                    d.file_id,
                    d.action,
                    d.outcome,
                    paths
                ])
            })
            .map_err(|e| StateError::from_sqlite(p, e))?;
            Ok(())
        })
        .await
    }

    async fn deletions(&self) -> Result<Vec<DeletionRow>, StateError> {
        self.with(|c, p| {
            let raw: Vec<(String, String, Option<String>, String, String, String)> = c
                .prepare_cached(
                    "SELECT at, meeting_uuid, file_id, action, outcome, paths FROM deletions ORDER BY id",
                )
                .and_then(|mut st| {
                    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
                        .collect()
                })
                .map_err(|e| StateError::from_sqlite(p, e))?;
            raw.into_iter()
                .map(|(at, meeting_uuid, file_id, action, outcome, paths)| {
                    let paths = serde_json::from_str(&paths).map_err(|e| StateError::Corrupt {
                        path: p.to_path_buf(),
                        detail: format!("unreadable deletion paths: {e}"),
                    })?;
                    Ok(DeletionRow { at, meeting_uuid, file_id, action, outcome, paths })
                })
                .collect()
        })
        .await
    }

    async fn totals(&self) -> Result<Totals, StateError> {
        self.with(|c, p| {
            let err = |e| StateError::from_sqlite(p, e);
            let meetings: i64 = c
                .query_row("SELECT COUNT(*) FROM meetings", [], |r| r.get(0))
                .map_err(err)?;
            let (files, verified, failed, pending, bytes): (i64, i64, i64, i64, i64) = c
                .query_row(
                    "SELECT COUNT(*),
                        COALESCE(SUM(status = 'verified'), 0),
                        COALESCE(SUM(status = 'failed'), 0),
                        COALESCE(SUM(status IN ('pending', 'partial')), 0),
                        COALESCE(SUM(CASE WHEN status = 'verified' THEN bytes_done ELSE 0 END), 0)
                     FROM files",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .map_err(err)?;
            let u = |v: i64| u64::try_from(v).unwrap_or(0);
            Ok(Totals {
                meetings: u(meetings),
                files: u(files),
                verified: u(verified),
                failed: u(failed),
                pending: u(pending),
                bytes_verified: u(bytes),
            })
        })
        .await
    }

    async fn record_listing(
        &self,
        window: &ListingWindow,
        listed_at: &str,
        meetings: &[ListedMeeting],
    ) -> Result<Vec<ListedMeeting>, StateError> {
        let window = window.clone();
        let listed_at = listed_at.to_owned();
        let meetings = meetings.to_vec();
        self.with(move |c, p| {
            let err = |e| StateError::from_sqlite(p, e);
            // One transaction: a crash leaves the window's earlier listing whole, never a
            // mix that a later run would trust.
            let tx = c
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
            let before = get_window_listing(&tx, &window).map_err(err)?;
            tx.prepare_cached(
                "INSERT INTO listing_windows (scope, from_day, to_day, listed_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(scope, from_day, to_day) DO UPDATE SET listed_at = excluded.listed_at",
            )
            .and_then(|mut st| st.execute(params![window.scope, window.from, window.to, listed_at]))
            .map_err(err)?;
            tx.prepare_cached(
                "DELETE FROM listed_meetings WHERE scope = ?1 AND from_day = ?2 AND to_day = ?3",
            )
            .and_then(|mut st| st.execute(params![window.scope, window.from, window.to]))
            .map_err(err)?;
            for m in &meetings {
                // A uuid twice in one listing (Zoom repeating a meeting across pages) is
                // one meeting: the later answer wins.
                tx.prepare_cached(&format!(
                    "INSERT OR REPLACE INTO listed_meetings
                        (scope, from_day, to_day, {LISTED_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ))
                .and_then(|mut st| {
                    st.execute(params![
                        window.scope,
                        window.from,
                        window.to,
                        m.uuid,
                        m.start_time,
                        m.host,
                        m.json
                    ])
                })
                .map_err(err)?;
                move_cloud_state(&tx, &m.uuid, CloudState::Vanished, CloudState::Present)
                    .map_err(err)?;
            }
            let now: std::collections::HashSet<&str> =
                meetings.iter().map(|m| m.uuid.as_str()).collect();
            let gone: Vec<ListedMeeting> = before
                .into_iter()
                .filter(|m| !now.contains(m.uuid.as_str()))
                .collect();
            for g in &gone {
                forget_in(&tx, &g.uuid).map_err(err)?;
            }
            tx.commit().map_err(err)?;
            Ok(gone)
        })
        .await
    }

    async fn listed_windows(&self, scope: &str) -> Result<Vec<WindowListed>, StateError> {
        let scope = scope.to_owned();
        self.with(move |c, p| {
            c.prepare_cached(
                "SELECT w.scope, w.from_day, w.to_day, w.listed_at,
                    (SELECT COUNT(*) FROM listed_meetings m WHERE m.scope = w.scope
                        AND m.from_day = w.from_day AND m.to_day = w.to_day)
                 FROM listing_windows w WHERE w.scope = ?1 ORDER BY w.from_day, w.to_day",
            )
            .and_then(|mut st| {
                st.query_map([scope], |r| {
                    Ok(WindowListed {
                        window: ListingWindow {
                            scope: r.get(0)?,
                            from: r.get(1)?,
                            to: r.get(2)?,
                        },
                        listed_at: r.get(3)?,
                        meetings: get_u64(r, 4)?,
                    })
                })?
                .collect()
            })
            .map_err(|e| StateError::from_sqlite(p, e))
        })
        .await
    }

    async fn listing_scopes(&self) -> Result<Vec<String>, StateError> {
        self.with(|c, p| {
            c.prepare_cached("SELECT DISTINCT scope FROM listing_windows ORDER BY scope")
                .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
                .map_err(|e| StateError::from_sqlite(p, e))
        })
        .await
    }

    async fn window_listing(
        &self,
        window: &ListingWindow,
    ) -> Result<Vec<ListedMeeting>, StateError> {
        let window = window.clone();
        self.with(move |c, p| {
            get_window_listing(c, &window).map_err(|e| StateError::from_sqlite(p, e))
        })
        .await
    }

    async fn refresh_listed(&self, m: &ListedMeeting) -> Result<bool, StateError> {
        let m = m.clone();
        self.with(move |c, p| {
            let changed = c
                .prepare_cached(
                    "UPDATE listed_meetings SET start_time = ?2, host = ?3, json = ?4
                     WHERE uuid = ?1",
                )
                .and_then(|mut st| st.execute(params![m.uuid, m.start_time, m.host, m.json]))
                .map_err(|e| StateError::from_sqlite(p, e))?;
            Ok(changed > 0)
        })
        .await
    }

    async fn forget_listed(&self, uuid: &str) -> Result<(), StateError> {
        let uuid = uuid.to_owned();
        self.with(move |c, p| {
            let err = |e| StateError::from_sqlite(p, e);
            let tx = c.transaction().map_err(err)?;
            forget_in(&tx, &uuid).map_err(err)?;
            tx.commit().map_err(err)
        })
        .await
    }

    async fn file_ranges(&self, key: &FileKey) -> Result<Option<FileRanges>, StateError> {
        let key = key.clone();
        self.with(move |c, p| {
            let row: Option<(Option<String>, String)> = c
                .prepare_cached(
                    "SELECT boot_id, ranges FROM file_ranges WHERE meeting_uuid = ?1 AND file_id = ?2",
                )
                .and_then(|mut st| {
                    st.query_row(params![key.meeting_uuid, key.file_id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                })
                .map_err(|e| StateError::from_sqlite(p, e))?;
            let Some((boot_id, text)) = row else {
                return Ok(None);
            };
            let raw: Vec<[u64; 4]> =
                serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
                    path: p.to_path_buf(),
                    detail: format!("unreadable download ranges: {e}"),
                })?;
            let ranges = raw
                .into_iter()
                .map(|[start, end, written, durable]| FileRange {
                    start,
                    end,
                    written,
                    durable,
                })
                .collect();
            Ok(Some(FileRanges { ranges, boot_id }))
        })
        .await
    }

    async fn save_file_ranges(&self, key: &FileKey, ranges: &FileRanges) -> Result<(), StateError> {
        let key = key.clone();
        let raw: Vec<[u64; 4]> = ranges
            .ranges
            .iter()
            .map(|r| [r.start, r.end, r.written, r.durable])
            .collect();
        let boot_id = ranges.boot_id.clone();
        self.with(move |c, p| {
            // JSON numbers above 2^53 lose precision in some readers, not in serde_json's
            // u64; sizes are far below that anyway.
            let text = serde_json::to_string(&raw).map_err(|e| StateError::Invalid {
                what: format!("download ranges: {e}"),
            })?;
            let changed = c
                .prepare_cached(&format!(
                    "INSERT INTO file_ranges (meeting_uuid, file_id, boot_id, ranges, updated_at)
                     SELECT ?1, ?2, ?3, ?4, {NOW}
                     WHERE EXISTS (SELECT 1 FROM files WHERE meeting_uuid = ?1 AND file_id = ?2)
                     ON CONFLICT(meeting_uuid, file_id) DO UPDATE SET
                        boot_id = excluded.boot_id,
                        ranges = excluded.ranges,
                        updated_at = excluded.updated_at"
                ))
                .and_then(|mut st| {
                    st.execute(params![key.meeting_uuid, key.file_id, boot_id, text])
                })
                .map_err(|e| StateError::from_sqlite(p, e))?;
            if changed == 0 {
                return Err(StateError::UnknownFile {
                    meeting_uuid: key.meeting_uuid.clone(),
                    file_id: key.file_id.clone(),
                });
            }
            Ok(())
        })
        .await
    }

    async fn clear_file_ranges(&self, key: &FileKey) -> Result<(), StateError> {
        let key = key.clone();
        self.with(move |c, p| {
            c.prepare_cached("DELETE FROM file_ranges WHERE meeting_uuid = ?1 AND file_id = ?2")
                .and_then(|mut st| st.execute(params![key.meeting_uuid, key.file_id]))
                .map_err(|e| StateError::from_sqlite(p, e))?;
            Ok(())
        })
        .await
    }
}
