//! The full-text index of the archive: every line of the transcripts, captions, chats and
//! AI summaries copied so far, in an SQLite database beside the state (FTS5, trigram
//! tokenizer; see [`crate::query`]). It is derived data: [`SearchIndex::update_from`] brings
//! it level with the state (new and changed files indexed, files gone dropped), reading the
//! files back through the destination, a local folder or a remote service alike, and
//! deleting the file loses nothing but the time to rebuild it.
//!
//! A file's lines take consecutive rowids, recorded with its document, so replacing or
//! dropping a file deletes a rowid range (an FTS5 table has no index on other columns).
//! The short-term table ([`crate::short`]) holds the same rowids: an index made before it
//! existed gets it filled from its lines when it is first opened (once, in one transaction).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use zvm_dest::{Destination, LocalDestination};
use zvm_state::{FileRow, FileStatus, MeetingRow, StateStore};

use crate::ArchiveError;
use crate::extract::{self, TextFormat};
use crate::query;
use crate::short;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS docs (
        id INTEGER PRIMARY KEY,
        meeting_uuid TEXT NOT NULL,
        file_id TEXT NOT NULL,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT,
        topic TEXT NOT NULL,
        start_time TEXT NOT NULL,
        host TEXT NOT NULL,
        first_line INTEGER NOT NULL,
        last_line INTEGER NOT NULL,
        UNIQUE (meeting_uuid, file_id)
    );
    CREATE VIRTUAL TABLE IF NOT EXISTS lines USING fts5(
        text, doc UNINDEXED, offset_ms UNINDEXED, tokenize = 'trigram'
    );
    CREATE VIRTUAL TABLE IF NOT EXISTS short_terms USING fts5(
        terms, content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 0'
    );";

/// The largest text file the index reads back: a day-long meeting's transcript is a few
/// MB; a file over this is reported unreadable rather than held in memory.
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// Files read back from the destination at once while the index catches up (a remote
/// service answers each read after a round trip; a few in flight hide it).
const READS_AT_ONCE: usize = 8;

/// Bytes of text read before they are written to the index in one transaction: the memory
/// an update holds, and the work a kill can lose.
const BATCH_BYTES: usize = 16 << 20;

/// Where the index reads copied files from, and how its results name them.
#[derive(Clone, Copy)]
pub struct Copies<'a> {
    dest: &'a dyn Destination,
    remote: bool,
}

impl<'a> Copies<'a> {
    /// A local folder: results name a file by its path relative to the folder (front ends
    /// join it to the folder they know).
    pub fn folder(dest: &'a dyn Destination) -> Self {
        Copies {
            dest,
            remote: false,
        }
    }

    /// A remote destination: results name a file by its location, the destination's
    /// description and the relative path (`s3://bucket/prefix/2026/...`: a description
    /// holds no credentials).
    pub fn remote(dest: &'a dyn Destination) -> Self {
        Copies { dest, remote: true }
    }

    /// How results name the file at `rel`.
    pub fn shown(&self, rel: &str) -> String {
        shown_path(self.dest, self.remote, rel)
    }
}

/// `rel`, or for a remote destination its location (see [`Copies::remote`]).
pub(crate) fn shown_path(dest: &dyn Destination, remote: bool, rel: &str) -> String {
    if remote {
        format!("{}/{rel}", dest.describe().trim_end_matches('/'))
    } else {
        rel.to_string()
    }
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub meeting_uuid: String,
    pub topic: String,
    /// The meeting's start, RFC 3339 UTC.
    pub start_time: String,
    pub host: String,
    /// The file: relative to the destination folder, or a remote destination's location
    /// of it (`s3://bucket/prefix/...`).
    pub path: String,
    /// `transcript`, `chat` or `summary`.
    pub kind: String,
    /// Milliseconds from the start of the recording; `None` in a summary.
    pub offset_ms: Option<u64>,
    pub text: String,
}

/// What an update did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexReport {
    /// Files read and indexed (new, or changed since they were indexed).
    pub indexed: u64,
    /// Files already indexed as they are.
    pub unchanged: u64,
    /// Files dropped from the index (no longer verified in the state).
    pub removed: u64,
    /// Lines added.
    pub lines: u64,
    /// Bytes of text read.
    pub bytes: u64,
    /// Verified files that could not be read from the destination (relative paths): `zvm
    /// verify` says why.
    pub unreadable: Vec<String>,
}

/// Size of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IndexSize {
    pub files: u64,
    pub lines: u64,
}

/// What the index keeps of a file besides its lines.
#[derive(Debug, Clone)]
pub struct DocMeta {
    pub meeting_uuid: String,
    pub file_id: String,
    /// As results show it (see [`Copies::shown`]).
    pub path: String,
    pub size: u64,
    pub sha256: Option<String>,
    pub topic: String,
    pub start_time: String,
    pub host: String,
}

/// A text file of the state, with its meeting.
struct Candidate {
    row: FileRow,
    format: TextFormat,
    meeting: MeetingRow,
}

impl Candidate {
    /// What the index keeps of it, named as results show it.
    fn meta(&self, shown: String) -> DocMeta {
        DocMeta::of(&self.row, &self.meeting, shown)
    }
}

impl DocMeta {
    /// The document of a copied file of `meeting`, named `shown` in results.
    pub fn of(row: &FileRow, meeting: &MeetingRow, shown: String) -> DocMeta {
        DocMeta {
            meeting_uuid: row.key.meeting_uuid.clone(),
            file_id: row.key.file_id.clone(),
            path: shown,
            size: row.expected_size,
            sha256: row.sha256.clone(),
            topic: meeting.topic.clone(),
            start_time: meeting.start_time.clone(),
            host: meeting.host_email.clone(),
        }
    }
}

/// What the index holds of one file.
struct Indexed {
    id: i64,
    path: String,
    size: u64,
    sha256: Option<String>,
    first_line: i64,
    last_line: i64,
}

/// The index, open.
pub struct SearchIndex {
    conn: Connection,
}

impl SearchIndex {
    /// Where the index of a state database lives: beside it, `NAME.search.sqlite3`.
    pub fn path_beside(state: &Path) -> PathBuf {
        let stem = state
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "state".into());
        state.with_file_name(format!("{stem}.search.sqlite3"))
    }

    /// Opens (creating if needed) the index at `path`.
    pub fn open(path: &Path) -> Result<SearchIndex, ArchiveError> {
        let at = |e: rusqlite::Error| ArchiveError::Index {
            path: path.to_path_buf(),
            source: e,
        };
        let mut conn = Connection::open(path).map_err(&at)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&at)?;
        // Derived data: a crash may lose the last update, never the state.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&at)?;
        create_or_migrate(&mut conn).map_err(&at)?;
        conn.create_scalar_function(
            "zvm_short_term",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let text = ctx.get_raw(0).as_str().unwrap_or("");
                let term = ctx.get_raw(1).as_str().unwrap_or("");
                Ok(short::line_has(text, term))
            },
        )
        .map_err(&at)?;
        Ok(SearchIndex { conn })
    }

    /// A maker of this index's errors that holds no borrow of `self` (a transaction does).
    fn error_at(&self) -> impl Fn(rusqlite::Error) -> ArchiveError + use<> {
        let path = self.conn.path().map(PathBuf::from).unwrap_or_default();
        move |e| ArchiveError::Index {
            path: path.clone(),
            source: e,
        }
    }

    fn err(&self, e: rusqlite::Error) -> ArchiveError {
        ArchiveError::Index {
            path: self.conn.path().map(PathBuf::from).unwrap_or_default(),
            source: e,
        }
    }

    /// Files and lines in the index.
    pub fn size(&self) -> Result<IndexSize, ArchiveError> {
        let files: i64 = self
            .conn
            .query_row("SELECT count(*) FROM docs", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let lines: i64 = self
            .conn
            .query_row("SELECT count(*) FROM lines", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(IndexSize {
            files: files as u64,
            lines: lines as u64,
        })
    }

    /// Empties the index (a rebuild is this, then [`SearchIndex::update`]).
    pub fn clear(&mut self) -> Result<(), ArchiveError> {
        self.conn
            .execute_batch(
                "DELETE FROM lines; DELETE FROM docs;
                 INSERT INTO short_terms (short_terms) VALUES ('delete-all');",
            )
            .map_err(|e| self.err(e))
    }

    /// [`SearchIndex::update_from`] a local folder.
    pub async fn update(
        &mut self,
        state: &dyn StateStore,
        root: &Path,
    ) -> Result<IndexReport, ArchiveError> {
        let dest = LocalDestination::new(root.to_path_buf());
        self.update_from(state, Copies::folder(&dest)).await
    }

    /// Brings the index level with the state: the verified text files of `copies` are
    /// indexed if new or changed (read back through the destination), and files no longer
    /// verified are dropped. No transaction is held while a file is read, and the files read
    /// are written in batches: a remote destination's reads overlap, memory stays bounded.
    pub async fn update_from(
        &mut self,
        state: &dyn StateStore,
        copies: Copies<'_>,
    ) -> Result<IndexReport, ArchiveError> {
        let candidates = text_files(state).await?;
        let mut known = self.known_docs()?;
        let mut report = IndexReport::default();
        let mut stale = Vec::new();
        let mut to_read = Vec::new();
        for c in candidates {
            let key = (c.row.key.meeting_uuid.clone(), c.row.key.file_id.clone());
            let shown = copies.shown(&c.row.rel_path);
            if let Some(old) = known.remove(&key) {
                if old.path == shown
                    && old.size == c.row.expected_size
                    && old.sha256 == c.row.sha256
                {
                    report.unchanged += 1;
                    continue;
                }
                stale.push(old);
            }
            to_read.push((c, shown));
        }
        report.removed = known.len() as u64;
        stale.extend(known.into_values());
        self.drop_docs(&stale)?;

        let mut reads = futures::stream::iter(to_read.into_iter().map(|(c, shown)| async move {
            let bytes = copies
                .dest
                .read_final(&c.row.rel_path, MAX_TEXT_BYTES)
                .await;
            (c, shown, bytes)
        }))
        .buffered(READS_AT_ONCE);
        let mut batch: Vec<(DocMeta, TextFormat, Vec<u8>)> = Vec::new();
        let mut batch_bytes = 0;
        while let Some((c, shown, bytes)) = reads.next().await {
            let Ok(bytes) = bytes else {
                report.unreadable.push(c.row.rel_path.clone());
                continue;
            };
            batch_bytes += bytes.len();
            batch.push((c.meta(shown), c.format, bytes));
            if batch_bytes >= BATCH_BYTES {
                self.add_batch(std::mem::take(&mut batch), &mut report)?;
                batch_bytes = 0;
            }
        }
        self.add_batch(batch, &mut report)?;
        Ok(report)
    }

    /// What the index holds of each file, by (meeting uuid, file id).
    fn known_docs(&self) -> Result<HashMap<(String, String), Indexed>, ArchiveError> {
        let at = self.error_at();
        let mut q = self
            .conn
            .prepare(
                "SELECT id, meeting_uuid, file_id, path, size, sha256, first_line, last_line FROM docs",
            )
            .map_err(&at)?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    (r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                    Indexed {
                        id: r.get(0)?,
                        path: r.get(3)?,
                        size: r.get::<_, i64>(4)? as u64,
                        sha256: r.get(5)?,
                        first_line: r.get(6)?,
                        last_line: r.get(7)?,
                    },
                ))
            })
            .map_err(&at)?;
        rows.collect::<Result<HashMap<_, _>, _>>().map_err(&at)
    }

    /// Drops files and their lines, in one transaction.
    fn drop_docs(&mut self, docs: &[Indexed]) -> Result<(), ArchiveError> {
        if docs.is_empty() {
            return Ok(());
        }
        let at = self.error_at();
        let tx = self.conn.transaction().map_err(&at)?;
        for d in docs {
            drop_doc(&tx, d).map_err(&at)?;
        }
        tx.commit().map_err(&at)
    }

    /// Adds files read back (new to the index), in one transaction, counting them.
    fn add_batch(
        &mut self,
        docs: Vec<(DocMeta, TextFormat, Vec<u8>)>,
        report: &mut IndexReport,
    ) -> Result<(), ArchiveError> {
        if docs.is_empty() {
            return Ok(());
        }
        let added = self.add_documents(docs)?;
        report.indexed += added.indexed;
        report.lines += added.lines;
        report.bytes += added.bytes;
        Ok(())
    }

    /// Indexes one file as it arrives, replacing what the index held of it: the lines of
    /// `bytes` under `meta`, in one transaction. Returns the lines added.
    pub fn put_document(
        &mut self,
        meta: &DocMeta,
        format: TextFormat,
        bytes: &[u8],
    ) -> Result<u64, ArchiveError> {
        let at = self.error_at();
        let lines = extract::lines(format, bytes);
        let tx = self.conn.transaction().map_err(&at)?;
        let old = tx
            .query_row(
                "SELECT id, first_line, last_line FROM docs WHERE meeting_uuid = ?1 AND file_id = ?2",
                params![meta.meeting_uuid, meta.file_id],
                |r| {
                    Ok(Indexed {
                        id: r.get(0)?,
                        path: String::new(),
                        size: 0,
                        sha256: None,
                        first_line: r.get(1)?,
                        last_line: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(&at)?;
        if let Some(old) = old {
            drop_doc(&tx, &old).map_err(&at)?;
        }
        let mut next_line = first_free_line(&tx).map_err(&at)?;
        insert_doc(&tx, meta, format, &lines, &mut next_line).map_err(&at)?;
        tx.commit().map_err(&at)?;
        Ok(lines.len() as u64)
    }

    /// The lines matching `query` (every term, anywhere in the line, case-insensitive), the
    /// most recently copied first, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, ArchiveError> {
        let c = query::conditions(query)?;
        let columns = "SELECT docs.meeting_uuid, docs.topic, docs.start_time, docs.host,
                docs.path, docs.kind, lines.offset_ms, lines.text";
        let mut args: Vec<String> = Vec::new();
        let mut sql;
        let mut order_by = "lines.rowid";
        match (&c.fts, &c.short) {
            (Some(long), short) => {
                // The trigram index walks the lines with the long terms; each is checked
                // for the short ones in hand (an FTS5 look-up per line instead made
                // `quarterly on` 30 times slower in the search bench: 19.4 ms, not 0.66).
                sql = format!(
                    "{columns} FROM lines JOIN docs ON docs.id = lines.doc WHERE lines MATCH ?1"
                );
                args.push(long.clone());
                if let Some(short) = short {
                    // A short term in no line at all: nothing to walk for.
                    if !self.short_terms_occur(short)? {
                        return Ok(Vec::new());
                    }
                }
                for t in &c.short_terms {
                    args.push(t.clone());
                    sql.push_str(&format!(" AND zvm_short_term(lines.text, ?{})", args.len()));
                }
            }
            (None, Some(short)) => {
                // Only short terms: their table walks the lines that have them, newest
                // first (CROSS JOIN keeps it the outer loop), and stops at the limit.
                sql = format!(
                    "{columns} FROM short_terms CROSS JOIN lines ON lines.rowid = short_terms.rowid
                     JOIN docs ON docs.id = lines.doc WHERE short_terms MATCH ?1"
                );
                args.push(short.clone());
                order_by = "short_terms.rowid";
            }
            // Short terms the table does not serve (punctuation): a scan.
            (None, None) => {
                sql = format!("{columns} FROM lines JOIN docs ON docs.id = lines.doc WHERE 1");
            }
        }
        for l in &c.likes {
            args.push(l.clone());
            sql.push_str(&format!(" AND lines.text LIKE ?{} ESCAPE '\\'", args.len()));
        }
        // Newest copied first, in the index's own order: the full-text index walks its
        // matches in rowid order and stops at the limit, where ranking them (bm25) would
        // score every match first (a common word in 100,000 transcripts: seconds).
        sql.push_str(&format!(" ORDER BY {order_by} DESC"));
        sql.push_str(&format!(" LIMIT {}", limit.min(i64::MAX as usize)));
        let mut q = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = q
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(Hit {
                    meeting_uuid: r.get(0)?,
                    topic: r.get(1)?,
                    start_time: r.get(2)?,
                    host: r.get(3)?,
                    path: r.get(4)?,
                    kind: r.get(5)?,
                    offset_ms: r.get::<_, Option<i64>>(6)?.map(|m| m as u64),
                    text: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    /// Whether the short-term table has a line matching `expression`.
    fn short_terms_occur(&self, expression: &str) -> Result<bool, ArchiveError> {
        self.conn
            .query_row(
                "SELECT 1 FROM short_terms WHERE short_terms MATCH ?1 LIMIT 1",
                [expression],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }

    /// Whether a file is in the index (for tests and reports).
    pub fn holds(&self, meeting_uuid: &str, file_id: &str) -> Result<bool, ArchiveError> {
        self.conn
            .query_row(
                "SELECT 1 FROM docs WHERE meeting_uuid = ?1 AND file_id = ?2",
                params![meeting_uuid, file_id],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(e))
    }
}

/// Deletes a file's document and its lines (a rowid range).
fn drop_doc(tx: &rusqlite::Transaction<'_>, d: &Indexed) -> Result<(), rusqlite::Error> {
    tx.execute(
        "DELETE FROM lines WHERE rowid BETWEEN ?1 AND ?2",
        params![d.first_line, d.last_line],
    )?;
    tx.execute(
        "DELETE FROM short_terms WHERE rowid BETWEEN ?1 AND ?2",
        params![d.first_line, d.last_line],
    )?;
    tx.execute("DELETE FROM docs WHERE id = ?1", params![d.id])?;
    Ok(())
}

/// The rowid the next file's first line takes (lines of a file are consecutive).
fn first_free_line(tx: &rusqlite::Transaction<'_>) -> Result<i64, rusqlite::Error> {
    tx.query_row("SELECT coalesce(max(rowid), 0) + 1 FROM lines", [], |r| {
        r.get(0)
    })
}

/// Inserts a file's document and its lines (rowids from `next_line` on, consecutive).
fn insert_doc(
    tx: &rusqlite::Transaction<'_>,
    meta: &DocMeta,
    format: TextFormat,
    lines: &[extract::Line],
    next_line: &mut i64,
) -> Result<(), rusqlite::Error> {
    let first = *next_line;
    let last = first + lines.len() as i64 - 1;
    tx.execute(
        "INSERT INTO docs (meeting_uuid, file_id, path, kind, size, sha256, topic,
             start_time, host, first_line, last_line)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            meta.meeting_uuid,
            meta.file_id,
            meta.path,
            format.label(),
            meta.size as i64,
            meta.sha256,
            meta.topic,
            meta.start_time,
            meta.host,
            first,
            last
        ],
    )?;
    let doc = tx.last_insert_rowid();
    let mut ins = tx.prepare_cached(
        "INSERT INTO lines (rowid, text, doc, offset_ms) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_short =
        tx.prepare_cached("INSERT INTO short_terms (rowid, terms) VALUES (?1, ?2)")?;
    for l in lines {
        ins.execute(params![
            *next_line,
            l.text,
            doc,
            l.offset_ms.map(|m| m as i64)
        ])?;
        add_short_terms(&mut ins_short, *next_line, &l.text)?;
        *next_line += 1;
    }
    Ok(())
}

/// Adds a line's short terms, if it has any (most English lines have a few words of one
/// or two characters; a line without any costs nothing).
fn add_short_terms(
    ins: &mut rusqlite::CachedStatement<'_>,
    rowid: i64,
    text: &str,
) -> Result<(), rusqlite::Error> {
    let terms = short::tokens(text);
    if !terms.is_empty() {
        ins.execute(params![rowid, terms])?;
    }
    Ok(())
}

/// Whether the index has its short-term table.
fn has_short_terms(conn: &Connection) -> Result<bool, rusqlite::Error> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'short_terms'",
        [],
        |r| r.get(0),
    )
}

/// Creates the tables, and fills the short-term table from the lines when this opening
/// created it over lines indexed before it existed: in one immediate transaction, so two
/// processes opening an old index at once do not both fill it, and a kill leaves the old
/// index as it was (the next opening fills it). An index that has the table is opened
/// without taking the write lock (a sync may be writing to it while `zvm search` reads).
fn create_or_migrate(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    if has_short_terms(conn)? {
        return conn.execute_batch(SCHEMA);
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let had_short = has_short_terms(&tx)?;
    tx.execute_batch(SCHEMA)?;
    if !had_short {
        let mut lines = tx.prepare("SELECT rowid, text FROM lines")?;
        let mut ins =
            tx.prepare_cached("INSERT INTO short_terms (rowid, terms) VALUES (?1, ?2)")?;
        let mut rows = lines.query([])?;
        while let Some(r) = rows.next()? {
            let text: String = r.get(1)?;
            add_short_terms(&mut ins, r.get(0)?, &text)?;
        }
    }
    tx.commit()
}

impl SearchIndex {
    /// Adds files given as bytes (new ones: a file already indexed is not replaced), in one
    /// transaction; returns lines and bytes indexed. The update from the state reads files
    /// from the destination and adds them through this; benchmarks call it directly.
    pub fn add_documents(
        &mut self,
        docs: impl IntoIterator<Item = (DocMeta, TextFormat, Vec<u8>)>,
    ) -> Result<IndexReport, ArchiveError> {
        let at = self.error_at();
        let tx = self.conn.transaction().map_err(&at)?;
        let mut report = IndexReport::default();
        let mut next_line = first_free_line(&tx).map_err(&at)?;
        for (meta, format, bytes) in docs {
            let lines = extract::lines(format, &bytes);
            insert_doc(&tx, &meta, format, &lines, &mut next_line).map_err(&at)?;
            report.indexed += 1;
            report.lines += lines.len() as u64;
            report.bytes += bytes.len() as u64;
        }
        tx.commit().map_err(&at)?;
        Ok(report)
    }
}

/// The verified text files of the state, each with its meeting.
async fn text_files(state: &dyn StateStore) -> Result<Vec<Candidate>, ArchiveError> {
    let mut meetings: HashMap<String, Option<MeetingRow>> = HashMap::new();
    let mut out = Vec::new();
    for row in state.files_with_status(FileStatus::Verified).await? {
        let Some(format) = TextFormat::of(&row.file_type, &row.rel_path) else {
            continue;
        };
        let uuid = row.key.meeting_uuid.clone();
        if !meetings.contains_key(&uuid) {
            let m = state.meeting(&uuid).await?;
            meetings.insert(uuid.clone(), m);
        }
        let Some(Some(meeting)) = meetings.get(&uuid) else {
            continue;
        };
        out.push(Candidate {
            row,
            format,
            meeting: meeting.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(path: &str) -> DocMeta {
        DocMeta {
            meeting_uuid: "m1".into(),
            file_id: "f1".into(),
            path: path.into(),
            size: 10,
            sha256: None,
            topic: "Topic".into(),
            start_time: "2026-11-30T09:00:00Z".into(),
            host: "h@example.com".into(),
        }
    }

    const FIRST: &str = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nplate tectonics\n\n00:00:03.000 --> 00:00:04.000\nsecond line\n";
    const SECOND: &str = "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\n光合成の話\n";

    #[test]
    fn a_file_put_again_replaces_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = SearchIndex::open(&dir.path().join("i.sqlite3")).unwrap();
        assert_eq!(
            index
                .put_document(&meta("a.vtt"), TextFormat::WebVtt, FIRST.as_bytes())
                .unwrap(),
            2
        );
        assert_eq!(index.search("tectonics", 10).unwrap().len(), 1);
        index
            .put_document(
                &meta("s3://b/p/a.vtt"),
                TextFormat::WebVtt,
                SECOND.as_bytes(),
            )
            .unwrap();
        assert!(index.search("tectonics", 10).unwrap().is_empty());
        let hits = index.search("光合成", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].offset_ms, Some(5_000));
        assert_eq!(hits[0].path, "s3://b/p/a.vtt");
        assert_eq!(index.size().unwrap(), IndexSize { files: 1, lines: 1 });
    }

    const SHORT: &str = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAI and the budget\n\n\
        00:00:03.000 --> 00:00:04.000\nWe PAID the fee\n\n\
        00:00:05.000 --> 00:00:06.000\n来年の予算の話\n\n\
        00:00:07.000 --> 00:00:08.000\n猫がいる\n\n\
        00:00:09.000 --> 00:00:10.000\nI agree, OK we do\n";

    fn offsets(index: &SearchIndex, query: &str) -> Vec<Option<u64>> {
        index
            .search(query, 10)
            .unwrap()
            .iter()
            .map(|h| h.offset_ms)
            .collect()
    }

    /// Lines with short terms in the short-term table.
    fn short_rows(index: &SearchIndex) -> i64 {
        index
            .conn
            .query_row("SELECT count(*) FROM short_terms", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn terms_of_one_or_two_characters_are_found_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = SearchIndex::open(&dir.path().join("i.sqlite3")).unwrap();
        index
            .put_document(&meta("a.vtt"), TextFormat::WebVtt, SHORT.as_bytes())
            .unwrap();
        // English: a whole word, any case; not inside a longer word (PAID, agree).
        assert_eq!(offsets(&index, "AI"), [Some(1_000)]);
        assert_eq!(offsets(&index, "ai"), [Some(1_000)]);
        assert_eq!(offsets(&index, "OK"), [Some(9_000)]);
        assert_eq!(offsets(&index, "I"), [Some(9_000)]);
        // Japanese: anywhere in a run, one or two characters.
        assert_eq!(offsets(&index, "予算"), [Some(5_000)]);
        assert_eq!(offsets(&index, "の"), [Some(5_000)]);
        assert_eq!(offsets(&index, "猫"), [Some(7_000)]);
        assert_eq!(offsets(&index, "がい"), [Some(7_000)]);
        // Thai, also written without spaces: a piece of a run.
        let mut thai = meta("t.vtt");
        thai.file_id = "f2".into();
        index
            .put_document(
                &thai,
                TextFormat::WebVtt,
                "WEBVTT\n\n00:00:11.000 --> 00:00:12.000\nแมวของฉัน\n".as_bytes(),
            )
            .unwrap();
        assert_eq!(offsets(&index, "มว"), [Some(11_000)]);
        assert_eq!(offsets(&index, "ขอ"), [Some(11_000)]);
        // Every term must be in the line, short and long ones together.
        assert_eq!(offsets(&index, "budget AI"), [Some(1_000)]);
        assert_eq!(offsets(&index, "fee AI"), []);
        assert_eq!(offsets(&index, "AI 予算"), []);
        // Terms in no line.
        for miss in ["zq", "Z", "ゑゐ", "ゑ", "いる猫"] {
            assert_eq!(offsets(&index, miss), [], "{miss}");
        }
        // Hits come newest first, short terms alone too.
        assert_eq!(offsets(&index, "we"), [Some(9_000), Some(3_000)]);

        // Replaced, then cleared: the short terms of the old lines go with them.
        index
            .put_document(&meta("a.vtt"), TextFormat::WebVtt, SECOND.as_bytes())
            .unwrap();
        assert_eq!(offsets(&index, "AI"), []);
        assert_eq!(offsets(&index, "予算"), []);
        assert_eq!(offsets(&index, "話"), [Some(5_000)]);
        // (A short-term row left behind would not show in results, a line's own text is
        // checked too, but the table would grow with every replacement.)
        assert_eq!(short_rows(&index), 2, "the new line and the Thai file's");
        index.clear().unwrap();
        assert_eq!(offsets(&index, "話"), []);
        assert_eq!(short_rows(&index), 0);
    }

    #[test]
    fn an_index_made_before_short_terms_gets_them_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.sqlite3");
        let mut index = SearchIndex::open(&path).unwrap();
        index
            .put_document(&meta("a.vtt"), TextFormat::WebVtt, SHORT.as_bytes())
            .unwrap();
        drop(index);
        // As the first version left it: no short-term table.
        Connection::open(&path)
            .unwrap()
            .execute_batch("DROP TABLE short_terms")
            .unwrap();
        let index = SearchIndex::open(&path).unwrap();
        assert_eq!(offsets(&index, "AI"), [Some(1_000)]);
        assert_eq!(offsets(&index, "猫"), [Some(7_000)]);
        drop(index);
        // Opened again, it is not filled twice.
        let index = SearchIndex::open(&path).unwrap();
        assert_eq!(offsets(&index, "猫"), [Some(7_000)]);
    }

    #[test]
    fn an_index_opens_while_another_process_writes_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.sqlite3");
        let mut index = SearchIndex::open(&path).unwrap();
        index
            .put_document(&meta("a.vtt"), TextFormat::WebVtt, SHORT.as_bytes())
            .unwrap();
        drop(index);
        // A sync indexing a file holds the write lock; `zvm search` opens and reads.
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("BEGIN IMMEDIATE").unwrap();
        let index = SearchIndex::open(&path).unwrap();
        assert_eq!(offsets(&index, "猫"), [Some(7_000)]);
        writer.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn results_name_remote_files_by_their_location() {
        let dest = LocalDestination::new(PathBuf::from("/data/Zoom"));
        assert_eq!(Copies::folder(&dest).shown("u/2026/a.vtt"), "u/2026/a.vtt");
        assert_eq!(
            Copies::remote(&dest).shown("u/2026/a.vtt"),
            "/data/Zoom/u/2026/a.vtt"
        );
    }
}
