//! The promise every move test checks: nothing deleted in the cloud without a whole copy.
//!
//! The simulator records each deletion it was asked for; the state names where each file's
//! copy is. [`assert_deletions_backed`] walks every deletion and demands a byte-identical
//! copy of each file it removed, so a move test states the promise in one line.

use std::collections::BTreeMap;
use std::path::Path;

use zoom_sim::{ManifestFile, Simulator};
use zvm_state::StateStore;

use crate::files::sha256_file;

/// Every deletion the simulator recorded (trash or delete, not recover) removed only
/// completed files, each with a byte-identical copy under `root` at the path `state`
/// names. Panics naming `what`, the meeting and the file otherwise. Returns how many
/// deleted files were checked.
pub async fn assert_deletions_backed(
    sim: &Simulator,
    state: &dyn StateStore,
    root: &Path,
    what: &str,
) -> usize {
    let manifest = sim.manifest();
    let mut checked = 0;
    for d in sim.deletions().iter().filter(|d| d.action != "recover") {
        let m = manifest
            .meetings
            .iter()
            .find(|m| m.uuid == d.meeting_uuid)
            .unwrap_or_else(|| panic!("{what}: deletion of unknown meeting {}", d.meeting_uuid));
        let rows: BTreeMap<String, String> = state
            .files_of_meeting(&m.uuid)
            .await
            .unwrap_or_else(|e| panic!("{what}: state unreadable: {e}"))
            .into_iter()
            .map(|r| (r.key.file_id, r.rel_path))
            .collect();
        // A whole-meeting deletion removes every file; a file deletion one.
        let files: Vec<&ManifestFile> = m
            .files
            .iter()
            .chain(m.participant_audio.iter())
            .filter(|f| d.file_id.as_deref().is_none_or(|id| id == f.id))
            .collect();
        assert!(!files.is_empty(), "{what}: a deletion names no file");
        for f in files {
            assert!(
                f.is_completed(),
                "{what}: meeting {} deleted while file {} was processing",
                m.uuid,
                f.id
            );
            let rel = rows.get(&f.id).unwrap_or_else(|| {
                panic!(
                    "{what}: file {} of deleted meeting {} has no local copy",
                    f.id, m.uuid
                )
            });
            assert_eq!(
                sha256_file(&root.join(rel)).as_deref(),
                Some(f.sha256_hex().as_str()),
                "{what}: file {} of deleted meeting {} is missing or not byte-identical at {rel}",
                f.id,
                m.uuid
            );
            checked += 1;
        }
    }
    checked
}
