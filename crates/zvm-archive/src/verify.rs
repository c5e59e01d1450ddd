//! `zvm verify`: the archive checked against the state. Every file the state calls verified
//! must be at its path with its size, and, when asked, with the SHA-256 recorded when it was
//! downloaded (`--verify-hash`). Files in the destination that the state does not know are
//! reported too, so a user sees what zvm did not put there. Reads only; the front end
//! decides what to repair.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;
use zvm_dest::Destination;
use zvm_state::{CloudState, FileKey, FileStatus, StateStore};

use crate::ArchiveError;

/// What is wrong with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Not at its path.
    Missing,
    /// At its path with another size.
    WrongSize,
    /// Its size is right, its SHA-256 is not the one recorded at download.
    HashMismatch,
    /// The destination could not be read.
    Unreadable,
}

/// A verified file that is not intact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub key: FileKey,
    /// Relative to the destination.
    pub path: String,
    pub kind: ProblemKind,
    /// In words: what was found against what was expected.
    pub detail: String,
    /// Zoom still has it (as far as the state knows): `--repair` can fetch it again.
    pub in_cloud: bool,
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Verified files checked.
    pub checked: u64,
    /// Of those, intact.
    pub intact: u64,
    /// Hashes compared (with `hash`).
    pub hashed: u64,
    /// Files checked by size only although hashes were asked for: none was recorded (they
    /// were downloaded without `--verify-hash`).
    pub no_stored_hash: u64,
    pub problems: Vec<Problem>,
    /// Files in a local destination the state does not know (relative paths, sorted).
    pub unexpected: Vec<String>,
}

impl VerifyReport {
    /// Whether anything zvm copied is missing or damaged.
    pub fn damaged(&self) -> bool {
        !self.problems.is_empty()
    }
}

/// Checks every verified file of `state` in `dest`. With `local_root` (a folder
/// destination), also lists the files there that the state does not know, ignoring hidden
/// files and the partial files of downloads in progress.
pub async fn verify(
    state: &dyn StateStore,
    dest: &dyn Destination,
    local_root: Option<&Path>,
    hash: bool,
) -> Result<VerifyReport, ArchiveError> {
    let mut report = VerifyReport::default();
    let mut known: HashSet<String> = HashSet::new();
    for status in [
        FileStatus::Pending,
        FileStatus::Partial,
        FileStatus::Failed,
        FileStatus::Skipped,
    ] {
        for row in state.files_with_status(status).await? {
            known.insert(row.rel_path);
        }
    }
    let rows = state.files_with_status(FileStatus::Verified).await?;
    let paths: Vec<String> = rows.iter().map(|r| r.rel_path.clone()).collect();
    let sizes = dest.stat_final_many(&paths).await;
    for (row, size) in rows.into_iter().zip(sizes) {
        report.checked += 1;
        known.insert(row.rel_path.clone());
        let in_cloud = row.cloud == CloudState::Present;
        let problem = |kind, detail: String| Problem {
            key: row.key.clone(),
            path: row.rel_path.clone(),
            kind,
            detail,
            in_cloud,
        };
        match size {
            Err(e) => {
                report
                    .problems
                    .push(problem(ProblemKind::Unreadable, e.to_string()));
                continue;
            }
            Ok(None) => {
                report.problems.push(problem(
                    ProblemKind::Missing,
                    "not in the destination".to_string(),
                ));
                continue;
            }
            Ok(Some(n)) if n != row.expected_size => {
                report.problems.push(problem(
                    ProblemKind::WrongSize,
                    format!("{n} bytes where {} were copied", row.expected_size),
                ));
                continue;
            }
            Ok(Some(_)) => {}
        }
        if hash {
            match &row.sha256 {
                None => report.no_stored_hash += 1,
                Some(stored) => match dest.sha256_final(&row.rel_path).await {
                    Ok(found) => {
                        report.hashed += 1;
                        if !found.eq_ignore_ascii_case(stored) {
                            report.problems.push(problem(
                                ProblemKind::HashMismatch,
                                format!("SHA-256 {found}, recorded at download {stored}"),
                            ));
                            continue;
                        }
                    }
                    Err(e) => {
                        report
                            .problems
                            .push(problem(ProblemKind::Unreadable, e.to_string()));
                        continue;
                    }
                },
            }
        }
        report.intact += 1;
    }
    if let Some(root) = local_root {
        let mut found = Vec::new();
        walk(root, "", &mut found);
        report.unexpected = found
            .into_iter()
            .filter(|p| !known.contains(p) && !is_partial_of_known(p, &known))
            .collect();
        report.unexpected.sort();
    }
    Ok(report)
}

/// `NAME.part` and `NAME.ranges.part` of a file the state knows: a download in progress.
fn is_partial_of_known(path: &str, known: &HashSet<String>) -> bool {
    [".ranges.part", ".part"].iter().any(|suffix| {
        path.strip_suffix(suffix)
            .is_some_and(|base| known.contains(base))
    })
}

/// Every file under `dir`, as relative paths with `/`; hidden entries skipped.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&e.path(), &rel, out),
            Ok(t) if t.is_file() => out.push(rel),
            _ => {}
        }
    }
}
