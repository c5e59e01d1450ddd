//! `move`: a sync, then deletion in the cloud of only what is proven copied.
//!
//! A wrong deletion destroys a recording for ever, so the rule is strict. A meeting's cloud
//! recording is trashed (or deleted) only when every file Zoom would remove with it is
//! verified at the destination, in this order of proof:
//! 1. the state row says `verified` (written only after size check, fsync and rename),
//! 2. its recorded size equals Zoom's `file_size` in this run's listing,
//! 3. the destination holds a file of exactly that size under the final name now,
//! 4. with `--verify-hash`, a SHA-256 read back from the destination is stored.
//!
//! The listing behind it is always a full one (every month asked of Zoom in this run), so
//! step 2 compares with what Zoom holds now, not with a stored listing.
//!
//! Nothing is deleted while any file of the meeting is processing, failed, missing or
//! mismatched. When only some file types were selected, only those files are deleted, one
//! by one, never the whole meeting. Every deletion goes to the state store and to an
//! append-only JSONL audit log before the next one starts.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use zvm_state::{CloudState, DeletionRow, FileKind, FileRow, FileStatus, StateStore};
use zvm_zoom::models::Meeting;
use zvm_zoom::{DeleteAction, DeleteOutcome, ZoomClient};

use crate::catalog::{CopyCheck, check_copy_at};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::{Event, EventSink, Notice, RunSummary};
// The reasons travel in events (`DeleteSkipped`), so their type lives with the events.
pub use crate::events::KeepReason;
use crate::layout::MEETING_JSON;
use crate::options::SyncOptions;

#[derive(Debug, Clone)]
pub struct MoveOptions {
    pub action: DeleteAction,
    /// Keep recordings younger than this in the cloud.
    pub older_than: Option<Duration>,
    /// The append-only JSONL audit log.
    pub audit_log: PathBuf,
}

/// One deletion the mover has proven safe.
#[derive(Debug, Clone, Serialize)]
pub struct MoveCandidate {
    pub meeting_uuid: String,
    pub topic: String,
    pub start_time: String,
    /// `None`: the meeting's whole cloud recording; `Some`: these files one by one.
    pub file_ids: Option<Vec<String>>,
    /// What backs the deletion: local path, size, SHA-256 where known.
    pub copies: Vec<(String, u64, Option<String>)>,
    pub bytes: u64,
}

/// The mover's own use of a [`KeepReason`]: reading the local-copy check.
impl KeepReason {
    /// Why a file's copy does not prove it, from the local-copy check; `None` when it does.
    pub fn of_copy(path: &str, check: CopyCheck) -> Option<KeepReason> {
        let path = path.to_string();
        Some(match check {
            CopyCheck::Proven => return None,
            CopyCheck::NotVerified(status) => KeepReason::NotVerified { path, status },
            CopyCheck::SizeChanged { listed, recorded } => KeepReason::SizeChanged {
                path,
                listed,
                recorded,
            },
            CopyCheck::Missing => KeepReason::Missing { path },
            CopyCheck::WrongSize { found, expected } => KeepReason::WrongSize {
                path,
                found,
                expected,
            },
            CopyCheck::NoHash => KeepReason::NoHash { path },
        })
    }
}

/// What the first phase found: what may be deleted and what must stay.
#[derive(Debug, Default)]
pub struct MovePlan {
    pub candidates: Vec<MoveCandidate>,
    /// (meeting uuid, topic, reason)
    pub kept: Vec<(String, String, KeepReason)>,
    pub sync: RunSummary,
}

#[derive(Serialize)]
struct AuditLine<'a> {
    at: String,
    action: &'a str,
    outcome: &'a str,
    meeting_uuid: &'a str,
    topic: &'a str,
    file_id: Option<&'a str>,
    copies: &'a [(String, u64, Option<String>)],
}

impl Engine {
    /// Phase 1: sync, then decide per meeting what is proven copied. Deletes nothing.
    pub async fn plan_move(
        &self,
        opts: &SyncOptions,
        mopts: &MoveOptions,
        cancel: CancellationToken,
    ) -> Result<MovePlan, EngineError> {
        // A deletion is decided on what Zoom lists now (sizes, files added since), never on
        // a stored listing: every month is listed (and the listing cache refreshed by it).
        let mut opts = opts.clone();
        opts.listing.full = true;
        let opts = &opts;
        let (sync, listed) = self.sync_inner(opts, cancel.clone(), true).await?;
        let mut plan = MovePlan {
            sync,
            ..MovePlan::default()
        };
        if plan.sync.cancelled {
            return Ok(plan);
        }
        let cutoff = mopts.older_than.and_then(|d| {
            jiff::Timestamp::now()
                .checked_sub(jiff::SignedDuration::try_from(d).ok()?)
                .ok()
        });
        for m in listed {
            match self.decide(&m, opts, cutoff).await? {
                Ok(c) => plan.candidates.push(c),
                Err(reason) => {
                    self.events.emit(Event::DeleteSkipped {
                        meeting_uuid: m.uuid.clone(),
                        topic: m.topic.clone(),
                        reason: reason.clone(),
                    });
                    plan.kept.push((m.uuid.clone(), m.topic.clone(), reason));
                }
            }
        }
        Ok(plan)
    }

    /// The proof for one meeting: `Ok(candidate)` or `Err(why it stays in the cloud)`.
    async fn decide(
        &self,
        m: &Meeting,
        opts: &SyncOptions,
        cutoff: Option<jiff::Timestamp>,
    ) -> Result<Result<MoveCandidate, KeepReason>, EngineError> {
        if let (Some(cut), Some(start)) = (cutoff, crate::layout::parse_time_opt(&m.start_time))
            && start > cut
        {
            return Ok(Err(KeepReason::YoungerThanCutoff));
        }
        let rows = self.state.files_of_meeting(&m.uuid).await?;
        let row = |id: &str| rows.iter().find(|r| r.key.file_id == id);
        let selective = !opts.filters.file_types.is_empty();
        let mut copies = Vec::new();
        let mut file_ids = Vec::new();
        let mut bytes = 0u64;
        for f in &m.recording_files {
            if f.is_processing() {
                if selective && !opts.filters.wants_file_type(f.file_type.as_str()) {
                    continue;
                }
                return Ok(Err(KeepReason::Processing));
            }
            if selective && !opts.filters.wants_file_type(f.file_type.as_str()) {
                continue;
            }
            let Some(r) = row(&f.id) else {
                return Ok(Err(KeepReason::NoLocalCopy {
                    file_id: f.id.clone(),
                }));
            };
            if let Err(why) = self.proven(r, f.file_size, opts.verify_hash).await? {
                return Ok(Err(why));
            }
            copies.push((r.rel_path.clone(), r.expected_size, r.sha256.clone()));
            file_ids.push(f.id.clone());
            bytes += f.file_size;
        }
        if file_ids.is_empty() {
            return Ok(Err(KeepReason::NothingSelected));
        }
        // Deleting the whole meeting also removes its participant audio: every such file
        // must be proven too, and the details (which list them) must have been fetched.
        let whole = !selective && opts.participant_audio;
        if whole {
            match row(MEETING_JSON) {
                Some(r) if r.status == FileStatus::Verified => {}
                _ => return Ok(Err(KeepReason::DetailsNotFetched)),
            }
            for r in rows.iter().filter(|r| r.kind == FileKind::ParticipantAudio) {
                if let Err(why) = self.proven(r, r.expected_size, opts.verify_hash).await? {
                    return Ok(Err(why));
                }
                copies.push((r.rel_path.clone(), r.expected_size, r.sha256.clone()));
                bytes += r.expected_size;
            }
        }
        Ok(Ok(MoveCandidate {
            meeting_uuid: m.uuid.clone(),
            topic: m.topic.clone(),
            start_time: m.start_time.clone(),
            file_ids: (!whole).then_some(file_ids),
            copies,
            bytes,
        }))
    }

    /// Is this file's copy proven whole right now? The catalog's check, with the
    /// destination asked now (an error asking it stops the plan: nothing is assumed).
    async fn proven(
        &self,
        r: &FileRow,
        zoom_size: u64,
        need_hash: bool,
    ) -> Result<Result<(), KeepReason>, EngineError> {
        let check = check_copy_at(&*self.dest, r, zoom_size, need_hash).await?;
        Ok(match KeepReason::of_copy(&r.rel_path, check) {
            None => Ok(()),
            Some(why) => Err(why),
        })
    }

    /// Phase 2: delete what the plan proved, recording each deletion before the next.
    pub async fn execute_move(
        &self,
        plan: &MovePlan,
        mopts: &MoveOptions,
        cancel: &CancellationToken,
    ) -> Result<(u64, u64), EngineError> {
        let action_name = match mopts.action {
            DeleteAction::Trash => "trash",
            DeleteAction::Delete => "delete",
        };
        let (mut done, mut skipped) = (0u64, 0u64);
        for c in &plan.candidates {
            if cancel.is_cancelled() {
                break;
            }
            let targets: Vec<Option<&str>> = match &c.file_ids {
                None => vec![None],
                Some(ids) => ids.iter().map(|i| Some(i.as_str())).collect(),
            };
            for target in targets {
                // Intent first: a crash between Zoom's answer and our record still leaves a
                // trace of what was asked.
                let _ = append_audit(
                    &mopts.audit_log,
                    &AuditLine {
                        at: jiff::Timestamp::now().to_string(),
                        action: action_name,
                        outcome: "requested",
                        meeting_uuid: &c.meeting_uuid,
                        topic: &c.topic,
                        file_id: target,
                        copies: &c.copies,
                    },
                );
                let outcome = match target {
                    None => {
                        self.zoom
                            .delete_meeting_recordings(&c.meeting_uuid, mopts.action)
                            .await
                    }
                    Some(id) => {
                        self.zoom
                            .delete_recording_file(&c.meeting_uuid, id, mopts.action)
                            .await
                    }
                };
                let outcome = match outcome {
                    Ok(o) => o,
                    Err(e) => {
                        skipped += 1;
                        self.events.emit(Event::DeleteSkipped {
                            meeting_uuid: c.meeting_uuid.clone(),
                            topic: c.topic.clone(),
                            reason: KeepReason::ZoomRefused {
                                error: e.to_string(),
                            },
                        });
                        continue;
                    }
                };
                let outcome_name = match outcome {
                    DeleteOutcome::Deleted => "deleted",
                    DeleteOutcome::AlreadyGone => "already_gone",
                    DeleteOutcome::InProgress => {
                        skipped += 1;
                        self.events.emit(Event::DeleteSkipped {
                            meeting_uuid: c.meeting_uuid.clone(),
                            topic: c.topic.clone(),
                            reason: KeepReason::InProgress,
                        });
                        continue;
                    }
                };
                self.record(c, target, action_name, outcome_name, mopts)
                    .await?;
                done += 1;
                self.events.emit(Event::CloudDeleted {
                    meeting_uuid: c.meeting_uuid.clone(),
                    file_id: target.map(str::to_string),
                    topic: c.topic.clone(),
                    action: action_name.into(),
                    outcome: outcome_name.into(),
                });
            }
        }
        Ok((done, skipped))
    }

    async fn record(
        &self,
        c: &MoveCandidate,
        file_id: Option<&str>,
        action: &str,
        outcome: &str,
        mopts: &MoveOptions,
    ) -> Result<(), EngineError> {
        let at = jiff::Timestamp::now().to_string();
        let copies: Vec<(String, u64, Option<String>)> = match file_id {
            None => c.copies.clone(),
            Some(_) => c
                .copies
                .iter()
                .zip(c.file_ids.iter().flatten())
                .filter(|(_, id)| Some(id.as_str()) == file_id)
                .map(|(cp, _)| cp.clone())
                .collect(),
        };
        append_audit(
            &mopts.audit_log,
            &AuditLine {
                at: at.clone(),
                action,
                outcome,
                meeting_uuid: &c.meeting_uuid,
                topic: &c.topic,
                file_id,
                copies: &copies,
            },
        )
        .map_err(|e| {
            EngineError::Invalid(format!(
                "cannot append to the audit log {}: {e}",
                mopts.audit_log.display()
            ))
        })?;
        self.state
            .record_deletion(&DeletionRow {
                at,
                meeting_uuid: c.meeting_uuid.clone(),
                file_id: file_id.map(str::to_string),
                action: action.to_string(),
                outcome: outcome.to_string(),
                paths: copies,
            })
            .await?;
        let cloud = if action == "delete" {
            CloudState::Deleted
        } else {
            CloudState::Trashed
        };
        self.state
            .set_cloud_state(&c.meeting_uuid, file_id, cloud)
            .await?;
        Ok(())
    }

    /// `restore` with this engine's client, state and events ([`restore`]).
    pub async fn restore(&self, audit_log: &std::path::Path) -> Result<(u64, u64), EngineError> {
        restore(&self.zoom, &*self.state, &*self.events, audit_log).await
    }
}

/// `restore`: recovers from the cloud trash what zvm trashed and has not recovered yet. Needs
/// no destination: nothing local changes.
pub async fn restore(
    zoom: &ZoomClient,
    state: &dyn StateStore,
    events: &dyn EventSink,
    audit_log: &std::path::Path,
) -> Result<(u64, u64), EngineError> {
    let rows = state.deletions().await?;
    let (mut ok, mut failed) = (0u64, 0u64);
    // Latest action per (meeting, file): only a trash that is still the latest is recovered.
    let mut latest: std::collections::BTreeMap<(String, Option<String>), &DeletionRow> =
        std::collections::BTreeMap::new();
    for r in &rows {
        latest.insert((r.meeting_uuid.clone(), r.file_id.clone()), r);
    }
    for ((uuid, file_id), r) in latest {
        if r.action != "trash" || r.outcome != "deleted" {
            continue;
        }
        let res = match &file_id {
            None => zoom.recover_meeting_recordings(&uuid).await,
            Some(id) => zoom.recover_recording_file(&uuid, id).await,
        };
        let topic = state
            .meeting(&uuid)
            .await?
            .map(|m| m.topic)
            .unwrap_or_default();
        match res {
            Ok(()) => {
                ok += 1;
                let at = jiff::Timestamp::now().to_string();
                let _ = append_audit(
                    audit_log,
                    &AuditLine {
                        at: at.clone(),
                        action: "recover",
                        outcome: "recovered",
                        meeting_uuid: &uuid,
                        topic: &topic,
                        file_id: file_id.as_deref(),
                        copies: &r.paths,
                    },
                );
                state
                    .record_deletion(&DeletionRow {
                        at,
                        meeting_uuid: uuid.clone(),
                        file_id: file_id.clone(),
                        action: "recover".into(),
                        outcome: "recovered".into(),
                        paths: r.paths.clone(),
                    })
                    .await?;
                state
                    .set_cloud_state(&uuid, file_id.as_deref(), CloudState::Present)
                    .await?;
                events.emit(Event::Recovered {
                    meeting_uuid: uuid.clone(),
                    topic,
                });
            }
            Err(e) => {
                failed += 1;
                events.emit(Event::Warning {
                    message: Notice::RecoverFailed {
                        topic,
                        error: e.to_string(),
                    },
                });
            }
        }
    }
    Ok((ok, failed))
}

/// Appends one line and fsyncs: the log must survive a crash right after the deletion.
fn append_audit(path: &std::path::Path, line: &AuditLine) -> std::io::Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut s = serde_json::to_string(line).map_err(std::io::Error::other)?;
    s.push('\n');
    f.write_all(s.as_bytes())?;
    f.sync_data()
}
