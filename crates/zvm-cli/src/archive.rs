//! `zvm search`, `zvm verify` and `zvm status`: the archive once copied (zvm-archive does
//! the work; this renders it), and the search index brought up to date after each run.

use std::path::{Path, PathBuf};

use zvm_app::config::ConfigFile;
use zvm_archive::{ProblemKind, SearchIndex, VerifyReport};
use zvm_state::{SqliteState, StateStore};

use crate::cli::{GlobalArgs, SearchArgs, SelectArgs, StatusArgs, VerifyArgs};
use crate::indexing::{copies, local_folder};
use crate::{Failure, commands, exit, output};

/// The state file of these flags and config, which must exist (these commands read what
/// earlier runs recorded; opening a missing one would create an empty state).
fn existing_state(global: &GlobalArgs, cfg: &ConfigFile) -> Result<PathBuf, Failure> {
    let path = crate::state_db::state_file(global.state.as_deref().or(cfg.state.as_deref()))?;
    if !path.exists() {
        return Err(Failure::new(
            exit::STATE,
            anyhow::anyhow!(
                "no state database at {}: nothing was copied with it yet (run `zvm sync DEST` \
                 first, or give the one you used with --state FILE)",
                path.display()
            ),
        ));
    }
    Ok(path)
}

fn state_failure(e: impl Into<zvm_app::Failure>) -> Failure {
    Failure::from(e.into())
}

fn archive_failure(e: zvm_archive::ArchiveError) -> Failure {
    match e {
        zvm_archive::ArchiveError::Query(q) => Failure::new(exit::USAGE, q),
        zvm_archive::ArchiveError::State(s) => state_failure(s),
        e @ zvm_archive::ArchiveError::Index { .. } => Failure::new(exit::STATE, e),
    }
}

/// `HH:MM:SS` of an offset into a recording.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `2026-11-28 09:30 UTC` of an RFC 3339 UTC time (as stored); as given otherwise.
fn when(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(t) if rfc3339.ends_with('Z') => format!("{} UTC", t.replacen('T', " ", 1)),
        _ => rfc3339.to_string(),
    }
}

pub(crate) async fn search(
    global: &GlobalArgs,
    a: &SearchArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let query = a.words.join(" ");
    // A bad query is told before any work.
    zvm_archive::query::conditions(&query).map_err(|e| Failure::new(exit::USAGE, e))?;
    let state_path = existing_state(global, cfg)?;
    let mut index =
        SearchIndex::open(&SearchIndex::path_beside(&state_path)).map_err(archive_failure)?;
    let dest = a.dest.clone().or_else(|| cfg.destination.clone());
    if a.rebuild {
        index.clear().map_err(archive_failure)?;
    }
    match dest.as_deref() {
        Some(dest) => {
            let destination = zvm_app::destination::open_destination(dest, &cfg.remote)?;
            let state = SqliteState::open(&state_path).map_err(state_failure)?;
            let r = index
                .update_from(&state, copies(dest, destination.as_ref()))
                .await
                .map_err(archive_failure)?;
            if a.rebuild && !global.quiet {
                output::note(format_args!(
                    "search index rebuilt: {} files, {} lines, {} bytes of text",
                    r.indexed, r.lines, r.bytes
                ));
            }
            if !r.unreadable.is_empty() && !global.quiet {
                output::note(format_args!(
                    "warning: {} copied text files could not be read (e.g. {}): `zvm verify` says why",
                    r.unreadable.len(),
                    r.unreadable[0]
                ));
            }
        }
        None if a.rebuild => {
            return Err(Failure::new(
                exit::USAGE,
                anyhow::anyhow!(
                    "--rebuild reads the copied files: give the destination (a folder or a URL \
                     such as s3://bucket/prefix) with --dest DEST (or `destination` in the \
                     config file)"
                ),
            ));
        }
        None => {}
    }
    let hits = index.search(&query, a.limit).map_err(archive_failure)?;
    if global.json {
        for h in &hits {
            let line = serde_json::to_string(h).map_err(|e| Failure::new(exit::USAGE, e))?;
            output::line(line)?;
        }
    } else {
        let mut last_meeting = None;
        for h in &hits {
            if last_meeting != Some(&h.meeting_uuid) {
                output::line(format_args!(
                    "{}  {}  ({})",
                    when(&h.start_time),
                    h.topic,
                    h.host
                ))?;
                last_meeting = Some(&h.meeting_uuid);
            }
            let at = h.offset_ms.map_or_else(|| h.kind.clone(), clock);
            output::line(format_args!("  {at}  {}", h.text))?;
            output::line(format_args!("      {}", h.path))?;
        }
        if !global.quiet {
            let more = if hits.len() == a.limit {
                format!(" (the first {}; --limit N shows more)", a.limit)
            } else {
                String::new()
            };
            output::note(format_args!("{} matching lines{more}", hits.len()));
        }
    }
    Ok(if hits.is_empty() {
        exit::FILES_FAILED
    } else {
        exit::OK
    })
}

pub(crate) async fn status(
    global: &GlobalArgs,
    a: &StatusArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let state_path = existing_state(global, cfg)?;
    let state = SqliteState::open(&state_path).map_err(state_failure)?;
    let mut report = zvm_archive::status(&state).await.map_err(archive_failure)?;
    if let Some(dest) = &a.dest {
        let destination = zvm_app::destination::open_destination(dest, &cfg.remote)?;
        report.destination = Some(
            zvm_archive::status::stored(&state, destination.as_ref())
                .await
                .map_err(archive_failure)?,
        );
    }
    if global.json {
        let line = serde_json::to_string(&report).map_err(|e| Failure::new(exit::USAGE, e))?;
        output::line(line)?;
        return Ok(exit::OK);
    }
    let size = |b: u64| format!("{}", indicatif::HumanBytes(b));
    let fig = |f: &zvm_archive::status::Figures| format!("{} / {}", f.files, size(f.bytes));
    let headers = [
        "host",
        "year",
        "in the cloud",
        "copied",
        "not yet copied",
        "processing at Zoom",
        "freed by move",
    ];
    let mut rows: Vec<[String; 7]> = report
        .rows
        .iter()
        .map(|r| {
            [
                r.host.clone().unwrap_or_default(),
                r.year.map(|y| y.to_string()).unwrap_or_default(),
                fig(&r.in_cloud),
                fig(&r.copied),
                fig(&r.pending),
                fig(&r.processing),
                fig(&r.freed),
            ]
        })
        .collect();
    let t = &report.total;
    rows.push([
        "all".into(),
        String::new(),
        fig(&t.in_cloud),
        fig(&t.copied),
        fig(&t.pending),
        fig(&t.processing),
        fig(&t.freed),
    ]);
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([headers[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..7).map(width).collect();
    let fmt = |cells: [&str; 7]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(w[i].saturating_sub(c.chars().count()))))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    output::line(fmt(headers))?;
    for r in &rows {
        output::line(fmt([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]]))?;
    }
    output::line(format_args!(
        "files / bytes of the recordings Zoom listed at the last sync (years in UTC); \
         meetings: {} in the cloud, {} copied",
        t.in_cloud.meetings, t.copied.meetings
    ))?;
    if let Some(d) = &report.destination {
        let problems = if d.missing + d.unreadable > 0 {
            format!(
                "; {} missing and {} that could not be asked about: `zvm verify` says more",
                d.missing, d.unreadable
            )
        } else {
            String::new()
        };
        output::line(format_args!(
            "stored in {}: {} files, {} (everything zvm copied there, measured now){problems}",
            d.location,
            d.files,
            size(d.bytes)
        ))?;
    }
    if let Some(at) = &report.last_removal {
        output::line(format_args!(
            "move: {} removals in the audit log, the last at {}",
            report.removals,
            when(at)
        ))?;
    }
    Ok(exit::OK)
}

fn print_verify(global: &GlobalArgs, r: &VerifyReport) -> Result<(), Failure> {
    if global.json {
        let line = serde_json::to_string(r).map_err(|e| Failure::new(exit::USAGE, e))?;
        return output::line(line);
    }
    for p in &r.problems {
        let what = match p.kind {
            ProblemKind::Missing => "missing",
            ProblemKind::WrongSize => "damaged (size)",
            ProblemKind::HashMismatch => "damaged (SHA-256)",
            ProblemKind::Unreadable => "unreadable",
        };
        let cloud = if p.in_cloud {
            "still in the cloud: --repair fetches it again"
        } else {
            "no longer in the cloud"
        };
        output::line(format_args!("{what}: {} ({}; {cloud})", p.path, p.detail))?;
    }
    for u in &r.unexpected {
        output::line(format_args!("unexpected: {u} (not copied by zvm)"))?;
    }
    let hashes = if r.hashed > 0 || r.no_stored_hash > 0 {
        format!(
            ", {} SHA-256 compared ({} downloaded without --verify-hash were checked by size)",
            r.hashed, r.no_stored_hash
        )
    } else {
        String::new()
    };
    output::line(format_args!(
        "{} files checked: {} intact, {} missing or damaged, {} unexpected{hashes}",
        r.checked,
        r.intact,
        r.problems.len(),
        r.unexpected.len()
    ))
}

/// One verification of `dest` against the state, under the run lock.
async fn check(
    state_path: &Path,
    dest: &Path,
    hash: bool,
    cfg: &ConfigFile,
) -> Result<VerifyReport, Failure> {
    let run = commands::open_run(state_path, dest, &cfg.remote)?;
    zvm_archive::verify(
        run.state.as_ref(),
        run.destination.as_ref(),
        local_folder(dest),
        hash,
    )
    .await
    .map_err(archive_failure)
}

pub(crate) async fn verify(
    global: &GlobalArgs,
    a: &VerifyArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let dest = commands::destination(&a.dest, cfg, "verify")?;
    let state_path = existing_state(global, cfg)?;
    let report = check(&state_path, &dest, a.hash, cfg).await?;
    print_verify(global, &report)?;
    if !a.repair || !report.damaged() {
        return Ok(if report.damaged() {
            exit::FILES_FAILED
        } else {
            exit::OK
        });
    }
    let fixable: Vec<_> = report.problems.iter().filter(|p| p.in_cloud).collect();
    if fixable.is_empty() {
        output::note("nothing to repair from the cloud: Zoom no longer has these files");
        return Ok(exit::FILES_FAILED);
    }
    // The damaged copy is kept aside (`NAME.damaged`) until the new one is verified: nothing
    // the user had is lost if the repair fails too.
    let mut set_aside = Vec::new();
    {
        let run = commands::open_run(&state_path, &dest, &cfg.remote)?;
        for p in &fixable {
            if let Some(root) = local_folder(&dest)
                && p.kind != ProblemKind::Missing
            {
                let from = root.join(&p.path);
                let aside = root.join(format!("{}.damaged", p.path));
                std::fs::rename(&from, &aside).map_err(|e| {
                    Failure::new(
                        exit::DESTINATION,
                        anyhow::anyhow!("cannot set {} aside to repair it: {e}", from.display()),
                    )
                })?;
                set_aside.push(aside);
            }
            run.state
                .mark_failed(&p.key, &format!("zvm verify: {}", p.detail))
                .await
                .map_err(state_failure)?;
        }
    }
    let mut uuids: Vec<String> = fixable.iter().map(|p| p.key.meeting_uuid.clone()).collect();
    uuids.sort();
    uuids.dedup();
    if !global.quiet {
        output::note(format_args!(
            "repairing {} files of {} meetings from the Zoom cloud",
            fixable.len(),
            uuids.len()
        ));
    }
    let select = SelectArgs {
        all_users: true,
        ..SelectArgs::default()
    };
    let code =
        commands::sync_meetings(global, &a.zoom, &a.transfer, &select, cfg, &dest, uuids).await?;
    let after = check(&state_path, &dest, a.hash, cfg).await?;
    // The copies set aside are dropped once their files verify again.
    for aside in set_aside {
        let repaired = aside
            .to_str()
            .and_then(|s| s.strip_suffix(".damaged"))
            .is_some_and(|orig| {
                let rel = Path::new(orig)
                    .strip_prefix(&dest)
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                !after.problems.iter().any(|p| p.path == rel)
            });
        if repaired {
            let _ = std::fs::remove_file(&aside);
        }
    }
    if !global.quiet {
        output::note(format_args!(
            "after the repair: {} intact, {} missing or damaged",
            after.intact,
            after.problems.len()
        ));
    }
    Ok(if after.damaged() {
        exit::FILES_FAILED.max(code)
    } else {
        code
    })
}
