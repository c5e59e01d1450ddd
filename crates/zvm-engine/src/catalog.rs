//! The catalog: what is in the cloud (listing) and what is safely here (the one check of a
//! local copy).
//!
//! Listing walks the selected users x one-month windows x pages, or, for meetings a person
//! picked one by one, each picked meeting's host and day, and hands the meetings that pass
//! the filters to an [`AsyncMeetingFn`] a batch at a time. It needs only a Zoom client: no
//! state, no destination.
//!
//! [`check_copy`] decides whether one file's local copy is proven whole. The planner (skip
//! or fetch), the mover (delete or keep) and the front ends' status column all ask it, so
//! the three can never disagree about what "downloaded" means.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use futures::StreamExt;
use jiff::civil::Date;
use tokio_util::sync::CancellationToken;

use zvm_dest::{DestError, Destination};
use zvm_state::{CloudState, FileRow, FileStatus, StateStore};
use zvm_zoom::models::Meeting;
use zvm_zoom::{UserStatusFilter, ZoomClient};

use crate::error::EngineError;
use crate::events::{Event, EventSink};
use crate::options::{SyncOptions, UserSelection};

/// Listed meetings handed over at once, at most: about a page of Zoom's (300).
const LIST_BATCH: usize = 300;

/// Called for every listed meeting that passed the filters.
pub trait AsyncMeetingFn {
    fn call(
        &mut self,
        meeting: Meeting,
        host_label: &str,
    ) -> impl std::future::Future<Output = Result<(), EngineError>> + Send;

    /// Called with each batch of meetings before `call` is called for each of them: a chance
    /// to look them all up at once. Does nothing by default.
    fn prefetch(
        &mut self,
        meetings: &[Meeting],
    ) -> impl std::future::Future<Output = Result<(), EngineError>> + Send {
        let _ = meetings;
        async { Ok(()) }
    }
}

/// Lists recordings. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    zoom: ZoomClient,
    events: Arc<dyn EventSink>,
}

/// One listing request series: whose recordings, over which days.
struct Scope<'a> {
    users: &'a UserSelection,
    from: Date,
    to: Date,
}

impl Catalog {
    pub fn new(zoom: ZoomClient, events: Arc<dyn EventSink>) -> Self {
        Self { zoom, events }
    }

    /// Streams the selected meetings, filtered, to `f`: the query of `opts` (users, dates),
    /// or, when `opts.chosen` is set, exactly the chosen meetings (each found by listing its
    /// host's day once, however many meetings were chosen on it).
    pub async fn for_each_meeting<F>(
        &self,
        opts: &SyncOptions,
        cancel: &CancellationToken,
        mut f: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        let (scopes, chosen): (Vec<Scope<'_>>, Option<HashSet<&str>>) = match &opts.chosen {
            None => (
                vec![Scope {
                    users: &opts.users,
                    from: opts.from,
                    to: opts.to,
                }],
                None,
            ),
            Some(list) => {
                // One listing per (host, day); the order the meetings were chosen in is kept
                // for the first meeting of each.
                let mut days: Vec<(&UserSelection, Date)> = Vec::new();
                for c in list {
                    if !days.iter().any(|(u, d)| *u == &c.user && *d == c.date) {
                        days.push((&c.user, c.date));
                    }
                }
                let scopes = days
                    .into_iter()
                    .map(|(users, date)| Scope {
                        users,
                        from: date,
                        to: date,
                    })
                    .collect();
                (scopes, Some(list.iter().map(|c| c.uuid.as_str()).collect()))
            }
        };
        // A chosen meeting is handed over once even if two of its scopes list it.
        let mut handed: HashSet<String> = HashSet::new();
        let mut me_label: Option<String> = None;
        for scope in scopes {
            if cancel.is_cancelled() {
                break;
            }
            let users = self.users(scope.users, opts, &mut me_label).await?;
            for (user_id, label) in users {
                if cancel.is_cancelled() {
                    break;
                }
                self.events.emit(Event::ListingUser {
                    user: label.clone(),
                });
                // What the lister has ready (a page or more) arrives as one batch, so `f` can
                // look up the whole batch at once (`AsyncMeetingFn::prefetch`).
                let stream = self
                    .zoom
                    .list_meetings(&user_id, scope.from, scope.to)
                    .ready_chunks(LIST_BATCH);
                futures::pin_mut!(stream);
                while let Some(batch) = tokio::select! {
                    i = stream.next() => i,
                    _ = cancel.cancelled() => None,
                } {
                    let mut meetings = Vec::with_capacity(batch.len());
                    let mut failed = None;
                    for item in batch {
                        match item {
                            Ok(m) => meetings.push(m),
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    meetings.retain(|m| opts.filters.admits(m));
                    if let Some(set) = &chosen {
                        meetings.retain(|m| {
                            set.contains(m.uuid.as_str()) && handed.insert(m.uuid.clone())
                        });
                    }
                    f.prefetch(&meetings).await?;
                    for meeting in meetings {
                        // Zoom names the host on each meeting where it can; the listing user
                        // otherwise.
                        let host = if meeting.host_email.is_empty() {
                            label.clone()
                        } else {
                            meeting.host_email.clone()
                        };
                        f.call(meeting, &host).await?;
                    }
                    if let Some(e) = failed {
                        return Err(e.into());
                    }
                }
            }
        }
        Ok(())
    }

    /// The users a selection covers, as (id to list, label for folders and events).
    async fn users(
        &self,
        selection: &UserSelection,
        opts: &SyncOptions,
        me_label: &mut Option<String>,
    ) -> Result<Vec<(String, String)>, EngineError> {
        Ok(match selection {
            // Folders are named after the host: ask Zoom who "me" is (one Light request, once
            // a run); if it won't say, "me" still works as a name.
            UserSelection::Me => {
                if me_label.is_none() {
                    *me_label = Some(match self.zoom.get_user("me").await {
                        Ok(u) if !u.email.is_empty() => u.email,
                        _ => "me".to_string(),
                    });
                }
                vec![("me".to_string(), me_label.clone().unwrap_or_default())]
            }
            UserSelection::User(u) => vec![(u.clone(), u.clone())],
            UserSelection::AllUsers => {
                let mut all = Vec::new();
                // Deactivated users keep their recordings: list them too.
                let mut users = self.zoom.list_users(UserStatusFilter::Active).await?;
                users.extend(self.zoom.list_users(UserStatusFilter::Inactive).await?);
                for u in users {
                    let label = if u.email.is_empty() {
                        u.id.clone()
                    } else {
                        u.email.clone()
                    };
                    if let Some(host) = &opts.filters.host
                        && !host.eq_ignore_ascii_case(&u.email)
                        && host != &u.id
                    {
                        continue;
                    }
                    all.push((u.id.clone(), label));
                }
                all
            }
        })
    }
}

/// What the state and the destination say about one file's local copy, checked in the order
/// the proof needs: the state row, then the size Zoom lists now, then the file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyCheck {
    /// Verified at the size Zoom lists, whole under its final name (and hashed, when a
    /// hash is required).
    Proven,
    /// The state row is not verified (pending, partial, failed, skipped).
    NotVerified(FileStatus),
    /// Zoom now lists another size than the one the copy was verified at.
    SizeChanged { listed: u64, recorded: u64 },
    /// Verified earlier, but no file is under its final name now.
    Missing,
    /// Verified earlier, but the file under its final name has another size now.
    WrongSize { found: u64, expected: u64 },
    /// A hash is required and none was read back from the copy yet.
    NoHash,
}

impl CopyCheck {
    pub fn is_proven(&self) -> bool {
        *self == CopyCheck::Proven
    }
}

/// Whether [`check_copy`] needs the file's size at the destination: only for a row that
/// passes every other part of the proof (so a re-run stats only files it might skip).
pub fn needs_stat(row: &FileRow, listed_size: u64) -> bool {
    row.status == FileStatus::Verified && row.expected_size == listed_size
}

/// The check itself: `row` is the file's state row, `listed_size` what Zoom lists now,
/// `on_disk` the size under the final name at the destination (`None`: no such file), and
/// `need_hash` whether a stored SHA-256 is part of the proof.
pub fn check_copy(
    row: &FileRow,
    listed_size: u64,
    on_disk: Option<u64>,
    need_hash: bool,
) -> CopyCheck {
    if row.status != FileStatus::Verified {
        return CopyCheck::NotVerified(row.status);
    }
    if row.expected_size != listed_size {
        return CopyCheck::SizeChanged {
            listed: listed_size,
            recorded: row.expected_size,
        };
    }
    match on_disk {
        None => return CopyCheck::Missing,
        Some(n) if n != listed_size => {
            return CopyCheck::WrongSize {
                found: n,
                expected: listed_size,
            };
        }
        Some(_) => {}
    }
    if need_hash && row.sha256.is_none() {
        return CopyCheck::NoHash;
    }
    CopyCheck::Proven
}

/// [`check_copy`] with the destination asked for the file's size (when the check needs it).
pub async fn check_copy_at(
    dest: &dyn Destination,
    row: &FileRow,
    listed_size: u64,
    need_hash: bool,
) -> Result<CopyCheck, DestError> {
    let on_disk = if needs_stat(row, listed_size) {
        dest.stat_final(&row.rel_path).await?
    } else {
        None
    };
    Ok(check_copy(row, listed_size, on_disk, need_hash))
}

/// Where a listed meeting stands locally, for a front end's status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalStatus {
    /// Nothing of it is here.
    InCloud,
    /// Some of it is here, or was begun.
    Partial,
    /// Every file Zoom has finished processing is proven here.
    Downloaded,
    /// zvm trashed or deleted it in the cloud.
    Trashed,
}

/// The local status of a listed meeting: what the state recorded, checked against what the
/// destination holds now. A state that cannot be read counts as "nothing here".
pub async fn local_status(
    meeting: &Meeting,
    state: &dyn StateStore,
    dest: &dyn Destination,
) -> LocalStatus {
    if let Ok(Some(m)) = state.meeting(&meeting.uuid).await
        && m.cloud != CloudState::Present
    {
        return LocalStatus::Trashed;
    }
    let rows: BTreeMap<String, FileRow> = state
        .files_of_meeting(&meeting.uuid)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.key.file_id.clone(), r))
        .collect();
    let wanted: Vec<_> = meeting
        .recording_files
        .iter()
        .filter(|f| !f.is_processing())
        .collect();
    let (mut done, mut partial) = (0usize, false);
    for f in &wanted {
        let Some(r) = rows.get(&f.id) else {
            continue;
        };
        let on_disk = dest.stat_final(&r.rel_path).await.ok().flatten();
        if check_copy(r, f.file_size, on_disk, false).is_proven() {
            done += 1;
        } else if r.bytes_done > 0
            || on_disk.is_some()
            || matches!(dest.partial_len(&r.rel_path).await, Ok(Some(n)) if n > 0)
        {
            partial = true;
        }
    }
    if !wanted.is_empty() && done == wanted.len() {
        LocalStatus::Downloaded
    } else if done > 0 || partial {
        LocalStatus::Partial
    } else {
        LocalStatus::InCloud
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zvm_state::{FileKey, FileKind};

    fn row(status: FileStatus, size: u64, sha: Option<&str>) -> FileRow {
        FileRow {
            key: FileKey {
                meeting_uuid: "m".into(),
                file_id: "f".into(),
            },
            kind: FileKind::Recording,
            file_type: "MP4".into(),
            recording_type: String::new(),
            rel_path: "a/b.mp4".into(),
            expected_size: size,
            status,
            bytes_done: 0,
            attempts: 0,
            last_error: None,
            sha256: sha.map(str::to_string),
            cloud: CloudState::Present,
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_copy_is_proven_only_when_every_part_of_the_proof_holds() {
        let ok = row(FileStatus::Verified, 10, Some("00"));
        assert_eq!(check_copy(&ok, 10, Some(10), true), CopyCheck::Proven);
        assert_eq!(
            check_copy(&row(FileStatus::Partial, 10, None), 10, Some(10), false),
            CopyCheck::NotVerified(FileStatus::Partial)
        );
        assert_eq!(
            check_copy(&ok, 12, Some(10), false),
            CopyCheck::SizeChanged {
                listed: 12,
                recorded: 10
            }
        );
        assert_eq!(check_copy(&ok, 10, None, false), CopyCheck::Missing);
        assert_eq!(
            check_copy(&ok, 10, Some(9), false),
            CopyCheck::WrongSize {
                found: 9,
                expected: 10
            }
        );
        let unhashed = row(FileStatus::Verified, 10, None);
        assert_eq!(check_copy(&unhashed, 10, Some(10), true), CopyCheck::NoHash);
        assert!(check_copy(&unhashed, 10, Some(10), false).is_proven());
    }

    #[test]
    fn only_a_copy_that_could_be_proven_needs_a_stat() {
        assert!(needs_stat(&row(FileStatus::Verified, 10, None), 10));
        assert!(!needs_stat(&row(FileStatus::Verified, 10, None), 11));
        assert!(!needs_stat(&row(FileStatus::Failed, 10, None), 10));
    }
}
