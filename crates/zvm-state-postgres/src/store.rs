//! [`PostgresState`]: the [`StateStore`] on a PostgreSQL server, through tokio-postgres and
//! a deadpool connection pool (so the engine's concurrent transfers do not queue behind one
//! connection). Each call is one statement or one transaction; nothing is cached in the
//! process, so several workers on one database always see each other's rows.
//!
//! The statements mirror SQLite's (`zvm_state::SqliteState`) one for one, so both stores
//! behave the same under the conformance suite. Timestamps are the server's clock in UTC as
//! RFC 3339 text with milliseconds, as SQLite writes them.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, NoTls, Row};
use zvm_state::{
    CloudState, DeletionRow, FileKey, FileRange, FileRanges, FileRow, FileStatus, ListedMeeting,
    ListingWindow, MeetingRow, PlannedFile, StateError, StateStore, Totals, WindowListed,
};

use crate::location::redact_url;
use crate::migrations::migrate;
use crate::server_errors::{describe, server_error};
use crate::tls::{Transport, configure};

/// The server's clock as RFC 3339 UTC with milliseconds, as SQLite's store writes it.
const NOW: &str =
    "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

const FILE_COLUMNS: &str = "meeting_uuid, file_id, kind, file_type, recording_type, rel_path, \
     expected_size, status, bytes_done, attempts, last_error, sha256, cloud, updated_at";

const MEETING_COLUMNS: &str = "uuid, meeting_id, host_id, host_email, topic, start_time, timezone, duration_min, folder, cloud";

const LISTED_COLUMNS: &str = "uuid, start_time, host, json";

/// The first key of the run lock's advisory lock ("zvmr"); the second is the schema's name.
const RUN_LOCK_KEY: i32 = 0x7a76_6d72;

/// The first key of the fleet's scheduler lock ("zvms"): the one worker that lists.
const SCHEDULER_LOCK_KEY: i32 = 0x7a76_6d73;

/// The run lock of a database, held until dropped (see [`PostgresState::try_run_lock`]).
pub struct RunLock {
    _client: tokio_postgres::Client,
    _connection: tokio::task::JoinHandle<()>,
}

impl RunLock {
    /// Whether the lock is still held: its connection is open (a server restart or a
    /// network cut closes it, and the server has released the lock).
    pub fn is_held(&self) -> bool {
        !self._connection.is_finished() && !self._client.is_closed()
    }
}

impl std::fmt::Debug for RunLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunLock").finish_non_exhaustive()
    }
}

/// Connections per store: enough for the engine's parallel transfers (each holds one only
/// for a statement), few enough that a fleet of workers stays well under the server's
/// default `max_connections` (100).
const POOL_SIZE: usize = 8;

/// The PostgreSQL state store. Cheap to share behind an `Arc`.
#[derive(Clone)]
pub struct PostgresState {
    pool: Pool,
    /// For connections outside the pool (the run lock).
    config: Arc<tokio_postgres::Config>,
    /// How those connections are made (plain on this machine, else verified TLS).
    transport: Transport,
    /// The URL without its password, for messages.
    location: Arc<str>,
}

impl std::fmt::Debug for PostgresState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresState")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl PostgresState {
    /// Connects to the database `url` names (`postgres://user:password@host:port/db`, the
    /// parameters libpq's URLs take, `sslmode` and `sslrootcert` read as `tls` says), and
    /// migrates its schema. Fails with [`StateError::Unreachable`] when the server cannot be
    /// reached, refuses the login or fails TLS verification, and with
    /// [`StateError::Setting`] when the URL asks for what zvm refuses (plain text beyond
    /// this machine).
    pub async fn open(url: &str) -> Result<Self, StateError> {
        let location: Arc<str> = redact_url(url).into();
        let (mut config, transport) = configure(url, &location)?;
        if config.get_application_name().is_none() {
            config.application_name("zvm");
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &transport {
            Transport::Plain => Manager::from_config(config.clone(), NoTls, manager_config),
            Transport::Verified(tls) => {
                Manager::from_config(config.clone(), tls.clone(), manager_config)
            }
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StateError::Setting {
                what: format!("the state database {location}: {e}"),
            })?;
        let store = Self {
            pool,
            config: Arc::new(config),
            transport,
            location,
        };
        let mut client = store.client().await?;
        migrate(raw(&mut client), &store.location).await?;
        Ok(store)
    }

    /// How this process's connections to the server are protected, as the server sees
    /// them (`pg_stat_ssl` of one of them): the TLS version, or `None` when they are plain
    /// (a server on this machine).
    pub async fn connection_tls(&self) -> Result<Option<String>, StateError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT ssl, COALESCE(version, '') FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        let ssl: bool = row.try_get(0).map_err(|e| self.err(e))?;
        let version: String = row.try_get(1).map_err(|e| self.err(e))?;
        Ok(ssl.then_some(version))
    }

    /// The database's URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Takes the run lock of this database (of the schema the connection works in), as
    /// the SQLite store's lock file does for a state file: while it is held, another run
    /// asking for it gets [`StateError::ServerBusy`]. It is a session advisory lock on a
    /// connection of its own, so the server releases it when the run ends or dies (its
    /// connection closes), never left behind by a crash.
    pub async fn try_run_lock(&self) -> Result<RunLock, StateError> {
        self.try_session_lock(RUN_LOCK_KEY).await
    }

    /// Takes the fleet's scheduler lock: the one worker of a fleet (zvm serve on this
    /// database) that runs the schedules' listings. Like the run lock, the server releases
    /// it when its holder dies; another worker asking meanwhile gets
    /// [`StateError::ServerBusy`].
    pub async fn try_scheduler_lock(&self) -> Result<RunLock, StateError> {
        self.try_session_lock(SCHEDULER_LOCK_KEY).await
    }

    async fn try_session_lock(&self, key: i32) -> Result<RunLock, StateError> {
        let unreachable = |e: tokio_postgres::Error| StateError::Unreachable {
            location: self.location.to_string(),
            detail: describe(&e),
        };
        // The lock goes with the connection; an error there only ends it sooner.
        let (client, connection) = match &self.transport {
            Transport::Plain => {
                let (client, connection) = self.config.connect(NoTls).await.map_err(unreachable)?;
                (
                    client,
                    tokio::spawn(async move {
                        let _ = connection.await;
                    }),
                )
            }
            Transport::Verified(tls) => {
                let (client, connection) = self
                    .config
                    .connect(tls.clone())
                    .await
                    .map_err(unreachable)?;
                (
                    client,
                    tokio::spawn(async move {
                        let _ = connection.await;
                    }),
                )
            }
        };
        let held: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext(COALESCE(current_schema(), '')))",
                &[&key],
            )
            .await
            .map_err(|e| self.err(e))?
            .try_get(0)
            .map_err(|e| self.err(e))?;
        if !held {
            return Err(StateError::ServerBusy {
                location: self.location.to_string(),
            });
        }
        Ok(RunLock {
            _client: client,
            _connection: connection,
        })
    }

    pub(crate) async fn client(&self) -> Result<Object, StateError> {
        self.pool.get().await.map_err(|e| {
            let detail = match &e {
                PoolError::Backend(b) => describe(b),
                other => other.to_string(),
            };
            StateError::Unreachable {
                location: self.location.to_string(),
                detail,
            }
        })
    }

    pub(crate) fn err(&self, e: tokio_postgres::Error) -> StateError {
        server_error(&self.location, &e)
    }

    /// Runs an UPDATE of one file row (`$1` uuid, `$2` file id, then `extra`); no row
    /// changed means the file was never planned.
    async fn update_file(
        &self,
        key: &FileKey,
        sql: &str,
        extra: &[&(dyn ToSql + Sync)],
    ) -> Result<(), StateError> {
        let client = self.client().await?;
        let mut args: Vec<&(dyn ToSql + Sync)> = vec![&key.meeting_uuid, &key.file_id];
        args.extend_from_slice(extra);
        let st = client.prepare_cached(sql).await.map_err(|e| self.err(e))?;
        let changed = client.execute(&st, &args).await.map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(unknown_file(key));
        }
        Ok(())
    }

    async fn query_files(&self, where_: &str, arg: &str) -> Result<Vec<FileRow>, StateError> {
        let client = self.client().await?;
        self.query_files_on(&**client, where_, arg).await
    }

    async fn query_files_on(
        &self,
        client: &impl GenericClient,
        where_: &str,
        arg: &str,
    ) -> Result<Vec<FileRow>, StateError> {
        let rows = client
            .query(
                &format!(
                    "SELECT {FILE_COLUMNS} FROM files WHERE {where_} ORDER BY meeting_uuid, file_id"
                ),
                &[&arg],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.file_row(r)).collect()
    }

    async fn get_file_on(
        &self,
        client: &impl GenericClient,
        key: &FileKey,
    ) -> Result<Option<FileRow>, StateError> {
        let row = client
            .query_opt(
                &format!(
                    "SELECT {FILE_COLUMNS} FROM files WHERE meeting_uuid = $1 AND file_id = $2"
                ),
                &[&key.meeting_uuid, &key.file_id],
            )
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| self.file_row(&r)).transpose()
    }

    async fn window_listing_on(
        &self,
        client: &impl GenericClient,
        w: &ListingWindow,
    ) -> Result<Vec<ListedMeeting>, StateError> {
        let rows = client
            .query(
                &format!(
                    "SELECT {LISTED_COLUMNS} FROM listed_meetings
                     WHERE scope = $1 AND from_day = $2 AND to_day = $3
                     ORDER BY start_time DESC, uuid"
                ),
                &[&w.scope, &w.from, &w.to],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(ListedMeeting {
                    uuid: self.get(r, 0)?,
                    start_time: self.get(r, 1)?,
                    host: self.get(r, 2)?,
                    json: self.get(r, 3)?,
                })
            })
            .collect()
    }

    /// Moves the cloud state of a meeting row and its files from `from` to `to`, leaving
    /// any other state (what zvm itself did: trashed, deleted) as it is.
    async fn move_cloud_state_on(
        &self,
        client: &impl GenericClient,
        uuid: &str,
        from: CloudState,
        to: CloudState,
    ) -> Result<(), StateError> {
        for (table, key) in [("meetings", "uuid"), ("files", "meeting_uuid")] {
            client
                .execute(
                    &format!(
                        "UPDATE {table} SET cloud = $3, updated_at = {NOW}
                         WHERE {key} = $1 AND cloud = $2"
                    ),
                    &[&uuid, &from.as_str(), &to.as_str()],
                )
                .await
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Zoom no longer has the meeting: out of every stored listing, its rows vanished.
    async fn forget_on(&self, client: &impl GenericClient, uuid: &str) -> Result<(), StateError> {
        client
            .execute("DELETE FROM listed_meetings WHERE uuid = $1", &[&uuid])
            .await
            .map_err(|e| self.err(e))?;
        self.move_cloud_state_on(client, uuid, CloudState::Present, CloudState::Vanished)
            .await
    }

    /// Reads column `idx`; a value of the wrong type means a damaged or foreign schema.
    pub(crate) fn get<'a, T: tokio_postgres::types::FromSql<'a>>(
        &self,
        row: &'a Row,
        idx: usize,
    ) -> Result<T, StateError> {
        row.try_get(idx).map_err(|e| self.err(e))
    }

    /// A non-negative BIGINT column as u64.
    fn get_u64(&self, row: &Row, idx: usize) -> Result<u64, StateError> {
        let v: i64 = self.get(row, idx)?;
        u64::try_from(v).map_err(|_| self.corrupt(format!("negative count {v} in column {idx}")))
    }

    fn get_enum<T: std::str::FromStr<Err = StateError>>(
        &self,
        row: &Row,
        idx: usize,
    ) -> Result<T, StateError> {
        let s: String = self.get(row, idx)?;
        s.parse()
    }

    fn corrupt(&self, detail: String) -> StateError {
        StateError::Server {
            location: self.location.to_string(),
            detail: format!("the state database holds an unreadable value: {detail}"),
        }
    }

    fn file_row(&self, r: &Row) -> Result<FileRow, StateError> {
        let attempts: i64 = self.get(r, 9)?;
        Ok(FileRow {
            key: FileKey {
                meeting_uuid: self.get(r, 0)?,
                file_id: self.get(r, 1)?,
            },
            kind: self.get_enum(r, 2)?,
            file_type: self.get(r, 3)?,
            recording_type: self.get(r, 4)?,
            rel_path: self.get(r, 5)?,
            expected_size: self.get_u64(r, 6)?,
            status: self.get_enum(r, 7)?,
            bytes_done: self.get_u64(r, 8)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            last_error: self.get(r, 10)?,
            sha256: self.get(r, 11)?,
            cloud: self.get_enum(r, 12)?,
            updated_at: self.get(r, 13)?,
        })
    }

    fn meeting_row(&self, r: &Row) -> Result<MeetingRow, StateError> {
        Ok(MeetingRow {
            uuid: self.get(r, 0)?,
            meeting_id: self.get(r, 1)?,
            host_id: self.get(r, 2)?,
            host_email: self.get(r, 3)?,
            topic: self.get(r, 4)?,
            start_time: self.get(r, 5)?,
            timezone: self.get(r, 6)?,
            duration_min: self.get(r, 7)?,
            folder: self.get(r, 8)?,
            cloud: self.get_enum(r, 9)?,
        })
    }
}

/// The driver's client inside a pooled connection: its transactions are the driver's own
/// (usable wherever a `GenericClient` is).
fn raw(object: &mut Object) -> &mut tokio_postgres::Client {
    object
}

fn unknown_file(key: &FileKey) -> StateError {
    StateError::UnknownFile {
        meeting_uuid: key.meeting_uuid.clone(),
        file_id: key.file_id.clone(),
    }
}

fn to_i64(what: &str, v: u64) -> Result<i64, StateError> {
    i64::try_from(v).map_err(|_| StateError::Invalid {
        what: format!("{what} {v} is too large"),
    })
}

#[async_trait]
impl StateStore for PostgresState {
    async fn upsert_meeting(&self, m: &MeetingRow) -> Result<(), StateError> {
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO meetings ({MEETING_COLUMNS}, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {NOW})
                 ON CONFLICT (uuid) DO UPDATE SET meeting_id = excluded.meeting_id,
                    host_id = excluded.host_id, host_email = excluded.host_email,
                    topic = excluded.topic, start_time = excluded.start_time,
                    timezone = excluded.timezone, duration_min = excluded.duration_min,
                    folder = excluded.folder, cloud = excluded.cloud,
                    updated_at = excluded.updated_at"
            ))
            .await
            .map_err(|e| self.err(e))?;
        client
            .execute(
                &st,
                &[
                    &m.uuid,
                    &m.meeting_id,
                    &m.host_id,
                    &m.host_email,
                    &m.topic,
                    &m.start_time,
                    &m.timezone,
                    &m.duration_min,
                    &m.folder,
                    &m.cloud.as_str(),
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn meeting(&self, uuid: &str) -> Result<Option<MeetingRow>, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {MEETING_COLUMNS} FROM meetings WHERE uuid = $1"),
                &[&uuid],
            )
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| self.meeting_row(&r)).transpose()
    }

    async fn folders(&self) -> Result<Vec<(String, String)>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT uuid, folder FROM meetings ORDER BY uuid", &[])
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| Ok((self.get(r, 0)?, self.get(r, 1)?)))
            .collect()
    }

    async fn plan_file(&self, f: &PlannedFile) -> Result<FileRow, StateError> {
        let size = to_i64("expected_size", f.expected_size)?;
        let client = self.client().await?;
        // One statement, so the returned row is exactly what this call left behind.
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO files (meeting_uuid, file_id, kind, file_type, recording_type,
                    rel_path, expected_size, status, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', {NOW})
                 ON CONFLICT (meeting_uuid, file_id) DO UPDATE SET
                    kind = excluded.kind,
                    file_type = excluded.file_type,
                    recording_type = excluded.recording_type,
                    -- A different size means different content upstream: start it over.
                    status = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.status ELSE 'pending' END,
                    bytes_done = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.bytes_done ELSE 0 END,
                    sha256 = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.sha256 ELSE NULL END,
                    updated_at = CASE WHEN files.expected_size = excluded.expected_size
                        THEN files.updated_at ELSE excluded.updated_at END,
                    expected_size = excluded.expected_size
                 RETURNING {FILE_COLUMNS}"
            ))
            .await
            .map_err(|e| self.err(e))?;
        let row = client
            .query_one(
                &st,
                &[
                    &f.key.meeting_uuid,
                    &f.key.file_id,
                    &f.kind.as_str(),
                    &f.file_type,
                    &f.recording_type,
                    &f.rel_path,
                    &size,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        self.file_row(&row)
    }

    async fn file(&self, key: &FileKey) -> Result<Option<FileRow>, StateError> {
        let client = self.client().await?;
        self.get_file_on(&**client, key).await
    }

    async fn files_of_meeting(&self, uuid: &str) -> Result<Vec<FileRow>, StateError> {
        self.query_files("meeting_uuid = $1", uuid).await
    }

    async fn files_of_meetings(&self, uuids: &[String]) -> Result<Vec<Vec<FileRow>>, StateError> {
        // One round trip for the whole page, then the rows dealt out in the order asked.
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {FILE_COLUMNS} FROM files WHERE meeting_uuid = ANY($1)
                     ORDER BY meeting_uuid, file_id"
                ),
                &[&uuids],
            )
            .await
            .map_err(|e| self.err(e))?;
        let mut by_meeting: std::collections::HashMap<String, Vec<FileRow>> =
            std::collections::HashMap::new();
        for r in &rows {
            let row = self.file_row(r)?;
            by_meeting
                .entry(row.key.meeting_uuid.clone())
                .or_default()
                .push(row);
        }
        Ok(uuids
            .iter()
            .map(|u| by_meeting.get(u).cloned().unwrap_or_default())
            .collect())
    }

    async fn files_with_status(&self, status: FileStatus) -> Result<Vec<FileRow>, StateError> {
        self.query_files("status = $1", status.as_str()).await
    }

    async fn start_attempt(&self, key: &FileKey) -> Result<(), StateError> {
        self.update_file(
            key,
            &format!(
                "UPDATE files SET attempts = attempts + 1, status = 'partial', updated_at = {NOW}
                 WHERE meeting_uuid = $1 AND file_id = $2"
            ),
            &[],
        )
        .await
    }

    async fn set_progress(&self, key: &FileKey, bytes_done: u64) -> Result<(), StateError> {
        let done = to_i64("bytes_done", bytes_done)?;
        self.update_file(
            key,
            &format!(
                "UPDATE files SET bytes_done = $3, updated_at = {NOW}
                 WHERE meeting_uuid = $1 AND file_id = $2"
            ),
            &[&done],
        )
        .await
    }

    async fn mark_verified(
        &self,
        key: &FileKey,
        size: u64,
        sha256: Option<&str>,
    ) -> Result<(), StateError> {
        let size = to_i64("size", size)?;
        self.update_file(
            key,
            &format!(
                "UPDATE files SET status = 'verified', bytes_done = $3, sha256 = $4,
                    last_error = NULL, updated_at = {NOW}
                 WHERE meeting_uuid = $1 AND file_id = $2"
            ),
            &[&size, &sha256],
        )
        .await
    }

    async fn mark_failed(&self, key: &FileKey, error: &str) -> Result<(), StateError> {
        self.update_file(
            key,
            &format!(
                "UPDATE files SET status = 'failed', last_error = $3, updated_at = {NOW}
                 WHERE meeting_uuid = $1 AND file_id = $2"
            ),
            &[&error],
        )
        .await
    }

    async fn mark_skipped(&self, key: &FileKey, reason: &str) -> Result<(), StateError> {
        self.update_file(
            key,
            &format!(
                "UPDATE files SET status = 'skipped', last_error = $3, updated_at = {NOW}
                 WHERE meeting_uuid = $1 AND file_id = $2"
            ),
            &[&reason],
        )
        .await
    }

    async fn set_cloud_state(
        &self,
        meeting_uuid: &str,
        file_id: Option<&str>,
        cloud: CloudState,
    ) -> Result<(), StateError> {
        if let Some(id) = file_id {
            let key = FileKey::new(meeting_uuid, id);
            return self
                .update_file(
                    &key,
                    &format!(
                        "UPDATE files SET cloud = $3, updated_at = {NOW}
                         WHERE meeting_uuid = $1 AND file_id = $2"
                    ),
                    &[&cloud.as_str()],
                )
                .await;
        }
        let mut client = self.client().await?;
        let tx = raw(&mut client)
            .transaction()
            .await
            .map_err(|e| self.err(e))?;
        for (table, key) in [("meetings", "uuid"), ("files", "meeting_uuid")] {
            tx.execute(
                &format!("UPDATE {table} SET cloud = $2, updated_at = {NOW} WHERE {key} = $1"),
                &[&meeting_uuid, &cloud.as_str()],
            )
            .await
            .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    async fn record_deletion(&self, d: &DeletionRow) -> Result<(), StateError> {
        let paths = serde_json::to_string(&d.paths).map_err(|e| StateError::Invalid {
            what: format!("deletion paths: {e}"),
        })?;
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO deletions (at, meeting_uuid, file_id, action, outcome, paths)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &d.at,
                    &d.meeting_uuid,
                    &d.file_id,
                    &d.action,
                    &d.outcome,
                    &paths,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn deletions(&self) -> Result<Vec<DeletionRow>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT at, meeting_uuid, file_id, action, outcome, paths FROM deletions
                 ORDER BY id",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                let paths: String = self.get(r, 5)?;
                let paths = serde_json::from_str(&paths)
                    .map_err(|e| self.corrupt(format!("deletion paths: {e}")))?;
                Ok(DeletionRow {
                    at: self.get(r, 0)?,
                    meeting_uuid: self.get(r, 1)?,
                    file_id: self.get(r, 2)?,
                    action: self.get(r, 3)?,
                    outcome: self.get(r, 4)?,
                    paths,
                })
            })
            .collect()
    }

    async fn totals(&self) -> Result<Totals, StateError> {
        let client = self.client().await?;
        let r = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM meetings),
                    COUNT(*),
                    COUNT(*) FILTER (WHERE status = 'verified'),
                    COUNT(*) FILTER (WHERE status = 'failed'),
                    COUNT(*) FILTER (WHERE status IN ('pending', 'partial')),
                    COALESCE(SUM(bytes_done) FILTER (WHERE status = 'verified'), 0)::BIGINT
                 FROM files",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(Totals {
            meetings: self.get_u64(&r, 0)?,
            files: self.get_u64(&r, 1)?,
            verified: self.get_u64(&r, 2)?,
            failed: self.get_u64(&r, 3)?,
            pending: self.get_u64(&r, 4)?,
            bytes_verified: self.get_u64(&r, 5)?,
        })
    }

    async fn record_listing(
        &self,
        window: &ListingWindow,
        listed_at: &str,
        meetings: &[ListedMeeting],
    ) -> Result<Vec<ListedMeeting>, StateError> {
        let mut client = self.client().await?;
        // One transaction: a crash leaves the window's earlier listing whole.
        let tx = raw(&mut client)
            .transaction()
            .await
            .map_err(|e| self.err(e))?;
        // Two workers replacing one window at once take turns: the row lock of the window
        // is held from here to the commit, so each one's "before" is the other's "after".
        tx.execute(
            "INSERT INTO listing_windows (scope, from_day, to_day, listed_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (scope, from_day, to_day) DO UPDATE SET listed_at = excluded.listed_at",
            &[&window.scope, &window.from, &window.to, &listed_at],
        )
        .await
        .map_err(|e| self.err(e))?;
        let before = self.window_listing_on(&tx, window).await?;
        tx.execute(
            "DELETE FROM listed_meetings WHERE scope = $1 AND from_day = $2 AND to_day = $3",
            &[&window.scope, &window.from, &window.to],
        )
        .await
        .map_err(|e| self.err(e))?;
        let insert = tx
            .prepare(&format!(
                "INSERT INTO listed_meetings (scope, from_day, to_day, {LISTED_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (scope, from_day, to_day, uuid) DO UPDATE SET
                    start_time = excluded.start_time, host = excluded.host, json = excluded.json"
            ))
            .await
            .map_err(|e| self.err(e))?;
        for m in meetings {
            // A uuid twice in one listing is one meeting: the later answer wins.
            tx.execute(
                &insert,
                &[
                    &window.scope,
                    &window.from,
                    &window.to,
                    &m.uuid,
                    &m.start_time,
                    &m.host,
                    &m.json,
                ],
            )
            .await
            .map_err(|e| self.err(e))?;
            self.move_cloud_state_on(&tx, &m.uuid, CloudState::Vanished, CloudState::Present)
                .await?;
        }
        let now: HashSet<&str> = meetings.iter().map(|m| m.uuid.as_str()).collect();
        let gone: Vec<ListedMeeting> = before
            .into_iter()
            .filter(|m| !now.contains(m.uuid.as_str()))
            .collect();
        for g in &gone {
            self.forget_on(&tx, &g.uuid).await?;
        }
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(gone)
    }

    async fn listed_windows(&self, scope: &str) -> Result<Vec<WindowListed>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT w.scope, w.from_day, w.to_day, w.listed_at,
                    (SELECT COUNT(*) FROM listed_meetings m WHERE m.scope = w.scope
                        AND m.from_day = w.from_day AND m.to_day = w.to_day)
                 FROM listing_windows w WHERE w.scope = $1 ORDER BY w.from_day, w.to_day",
                &[&scope],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| {
                Ok(WindowListed {
                    window: ListingWindow {
                        scope: self.get(r, 0)?,
                        from: self.get(r, 1)?,
                        to: self.get(r, 2)?,
                    },
                    listed_at: self.get(r, 3)?,
                    meetings: self.get_u64(r, 4)?,
                })
            })
            .collect()
    }

    async fn listing_scopes(&self) -> Result<Vec<String>, StateError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT DISTINCT scope FROM listing_windows ORDER BY scope",
                &[],
            )
            .await
            .map_err(|e| self.err(e))?;
        rows.iter().map(|r| self.get(r, 0)).collect()
    }

    async fn window_listing(
        &self,
        window: &ListingWindow,
    ) -> Result<Vec<ListedMeeting>, StateError> {
        let client = self.client().await?;
        self.window_listing_on(&**client, window).await
    }

    async fn refresh_listed(&self, m: &ListedMeeting) -> Result<bool, StateError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE listed_meetings SET start_time = $2, host = $3, json = $4 WHERE uuid = $1",
                &[&m.uuid, &m.start_time, &m.host, &m.json],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    async fn forget_listed(&self, uuid: &str) -> Result<(), StateError> {
        let mut client = self.client().await?;
        let tx = raw(&mut client)
            .transaction()
            .await
            .map_err(|e| self.err(e))?;
        self.forget_on(&tx, uuid).await?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    async fn file_ranges(&self, key: &FileKey) -> Result<Option<FileRanges>, StateError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT boot_id, ranges FROM file_ranges WHERE meeting_uuid = $1 AND file_id = $2",
                &[&key.meeting_uuid, &key.file_id],
            )
            .await
            .map_err(|e| self.err(e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let boot_id: Option<String> = self.get(&row, 0)?;
        let text: String = self.get(&row, 1)?;
        let raw: Vec<[u64; 4]> = serde_json::from_str(&text)
            .map_err(|e| self.corrupt(format!("download ranges: {e}")))?;
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
    }

    async fn save_file_ranges(&self, key: &FileKey, ranges: &FileRanges) -> Result<(), StateError> {
        let raw: Vec<[u64; 4]> = ranges
            .ranges
            .iter()
            .map(|r| [r.start, r.end, r.written, r.durable])
            .collect();
        let text = serde_json::to_string(&raw).map_err(|e| StateError::Invalid {
            what: format!("download ranges: {e}"),
        })?;
        let client = self.client().await?;
        let st = client
            .prepare_cached(&format!(
                "INSERT INTO file_ranges (meeting_uuid, file_id, boot_id, ranges, updated_at)
                 SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::TEXT, {NOW}
                 WHERE EXISTS (SELECT 1 FROM files WHERE meeting_uuid = $1 AND file_id = $2)
                 ON CONFLICT (meeting_uuid, file_id) DO UPDATE SET
                    boot_id = excluded.boot_id,
                    ranges = excluded.ranges,
                    updated_at = excluded.updated_at"
            ))
            .await
            .map_err(|e| self.err(e))?;
        let changed = client
            .execute(
                &st,
                &[&key.meeting_uuid, &key.file_id, &ranges.boot_id, &text],
            )
            .await
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(unknown_file(key));
        }
        Ok(())
    }

    async fn clear_file_ranges(&self, key: &FileKey) -> Result<(), StateError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM file_ranges WHERE meeting_uuid = $1 AND file_id = $2",
                &[&key.meeting_uuid, &key.file_id],
            )
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
