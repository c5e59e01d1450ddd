//! Reading what a run left on disk: every file under a folder, and a file's SHA-256.
//!
//! Tests compare copies with the simulator's manifest by hash; every test crate needs the
//! same two answers, so they are written once here.

use std::path::{Path, PathBuf};

use sha2::Digest;

/// Every regular file under `dir`, recursively, in no particular order. A folder that
/// cannot be read counts as empty (a test then fails on what is missing, with its name).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The SHA-256 of a file's bytes as lower-case hex; `None` when it cannot be read.
pub fn sha256_file(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|bytes| hex::encode(sha2::Sha256::digest(&bytes)))
}
