//! `zvm move` and `zvm restore`: the front end of the mover. It shows exactly what will be
//! removed from the cloud, asks before doing it (or insists on `--yes` off a terminal), and
//! maps the outcome to an exit code.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use indicatif::HumanBytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use zvm_app::config::ConfigFile;
use zvm_app::run_context::{self, StateContext};
use zvm_app::{Cause, Outcome};
use zvm_engine::{Engine, MoveOptions, RunMonitor, RunSummary};
use zvm_zoom::DeleteAction;

use crate::cli::{GlobalArgs, MoveAction, MoveArgs, RestoreArgs};
use crate::commands::{cancel_on_ctrl_c, destination, open_run, run_options, state_path};
use crate::output;
use crate::{Failure, connect, exit, reporter};

/// Parses `30d`, `12w`, `6m`, `1y` into a duration (months of 30 days, years of 365).
fn parse_age(s: &str) -> Result<std::time::Duration, Failure> {
    let t = s.trim();
    let bad = || {
        Failure::new(
            exit::USAGE,
            anyhow!("--older-than '{s}' is not an age: use a number with d, w, m or y, e.g. 30d"),
        )
    };
    let (num, unit) = t.split_at(t.len().saturating_sub(1));
    let n: u64 = num.parse().map_err(|_| bad())?;
    let days = match unit {
        "d" => n,
        "w" => n * 7,
        "m" => n * 30,
        "y" => n * 365,
        _ => return Err(bad()),
    };
    Ok(std::time::Duration::from_secs(days * 86_400))
}

pub async fn move_cmd(global: &GlobalArgs, a: &MoveArgs, cfg: &ConfigFile) -> Result<u8, Failure> {
    let dest = destination(&a.dest, cfg, "move")?;
    let (settings, opts) = run_options(&a.select, Some(&a.transfer), Some(&a.zoom), cfg)?;
    let mopts = MoveOptions {
        action: match a.action {
            MoveAction::Trash => DeleteAction::Trash,
            MoveAction::Delete => DeleteAction::Delete,
        },
        older_than: a.older_than.as_deref().map(parse_age).transpose()?,
        audit_log: PathBuf::new(),
    };
    let sp = state_path(global, &settings)?;
    let mopts = MoveOptions {
        audit_log: run_context::audit_path(a.audit_log.as_deref(), &sp),
        ..mopts
    };
    // Refuse early, before any work, when confirmation is impossible.
    if !a.yes && !opts.dry_run && !std::io::stdin().is_terminal() {
        return Err(zvm_app::Failure::new(
            Cause::NeedsConfirmation,
            "refusing to delete from the Zoom cloud without --yes when not on a terminal (use --dry-run to see what would be deleted)",
        )
        .into());
    }
    let run = open_run(&sp, &dest, &cfg.remote)?;
    let zoom = connect::client(&settings.zoom).await?;
    let mode = reporter::Mode::choose(global.json, global.quiet);
    let cancel = CancellationToken::new();
    // No hard exit on a second Ctrl-C: a deletion in flight must reach the audit log.
    cancel_on_ctrl_c(&cancel, false);

    // Phase 1: sync and prove.
    let started = Instant::now();
    let (tx, rx) = mpsc::unbounded_channel();
    let (state, live) = crate::indexing::indexing_state(&run, &dest);
    let engine = Engine::new(zoom.clone(), state, run.destination.clone(), Arc::new(tx));
    let render = tokio::spawn(reporter::run(mode, rx, engine.monitor()));
    let plan = engine.plan_move(&opts, &mopts, cancel.clone()).await;
    drop(engine);
    let _ = render.await;
    // The exit code says why planning failed (Zoom, the destination, the state), by cause.
    let plan = plan.map_err(zvm_app::Failure::from)?;
    crate::indexing::index_after_run(
        global,
        &sp,
        run.state.as_ref(),
        &dest,
        run.destination.as_ref(),
        live.as_deref(),
    )
    .await;
    let mut summary: RunSummary = plan.sync.clone();
    summary.delete_skipped = plan.kept.len() as u64;
    if let Some(why) = &summary.stopped {
        if !global.json {
            reporter::print_summary(&summary, started.elapsed());
        }
        return Err(Failure::new(
            exit::DESTINATION,
            anyhow!("nothing was deleted from the cloud: {why}"),
        ));
    }
    if summary.cancelled {
        if !global.json {
            reporter::print_summary(&summary, started.elapsed());
        }
        return Ok(exit::INTERRUPTED);
    }

    let total: u64 = plan.candidates.iter().map(|c| c.bytes).sum();
    let verb = match mopts.action {
        DeleteAction::Trash => "trash",
        DeleteAction::Delete => "permanently delete",
    };
    if opts.dry_run || (!global.json && !plan.candidates.is_empty()) {
        for c in &plan.candidates {
            let what = match &c.file_ids {
                None => "all recordings".to_string(),
                Some(ids) => format!("{} file(s)", ids.len()),
            };
            let line = format!(
                "{} {}: {what} of \"{}\" ({}, {})",
                if opts.dry_run { "would" } else { "will" },
                verb,
                c.topic,
                c.start_time,
                HumanBytes(c.bytes)
            );
            if global.json {
                // A closed stdout stops here, before anything is deleted.
                output::line(
                    serde_json::json!({"event": "would_delete", "meeting_uuid": c.meeting_uuid, "topic": c.topic, "file_ids": c.file_ids, "bytes": c.bytes, "action": verb}),
                )?;
            } else {
                output::line(line)?;
            }
        }
    }
    if opts.dry_run {
        if !global.json {
            output::line(format_args!(
                "dry run: {} meetings ({}) would be removed from the cloud; {} stay. Nothing was deleted.",
                plan.candidates.len(),
                HumanBytes(total),
                plan.kept.len()
            ))?;
        }
        return Ok(exit::of_outcome(&Outcome::of(&summary)));
    }
    if !plan.candidates.is_empty() && !a.yes {
        let _ = write!(
            std::io::stderr(),
            "{} {} meetings ({}) in the Zoom cloud? Their copies in {} are verified. [y/N] ",
            verb,
            plan.candidates.len(),
            HumanBytes(total),
            dest.display()
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            output::note("Nothing deleted.");
            return Ok(exit::OK);
        }
    }

    // Phase 2: delete what was proven, recording each deletion.
    let (tx, rx) = mpsc::unbounded_channel();
    // Deleting moves no bytes: nothing for the total bar to read.
    let render = tokio::spawn(reporter::run(mode, rx, RunMonitor::default()));
    let engine = Engine::new(
        zoom,
        run.state.clone(),
        run.destination.clone(),
        Arc::new(tx),
    );
    let res = engine.execute_move(&plan, &mopts, &cancel).await;
    drop(engine);
    let _ = render.await;
    let (deleted, refused) = res.map_err(zvm_app::Failure::from)?;
    summary.deleted = deleted;
    summary.delete_skipped += refused;
    if global.json {
        // The deletions are done and in the audit log: the exit code says how they went, even
        // if nobody reads this line any more.
        let _ = output::line(serde_json::json!({"event": "run_finished", "summary": summary}));
    } else {
        reporter::print_summary(&summary, started.elapsed());
        output::note(format_args!("audit log: {}", mopts.audit_log.display()));
    }
    Ok(if summary.files_failed > 0 {
        exit::FILES_FAILED
    } else {
        exit::OK
    })
}

pub async fn restore_cmd(
    global: &GlobalArgs,
    a: &RestoreArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let sp = crate::state_db::state_file(global.state.as_deref().or(cfg.state.as_deref()))?;
    let audit = run_context::audit_path(a.audit_log.as_deref(), &sp);
    // Restore touches no destination: the state under its lock, the client and the events.
    let run = StateContext::open(&sp)?;
    let zoom = connect::client(&connect::zoom_settings(&a.zoom, cfg)).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let mode = reporter::Mode::choose(global.json, global.quiet);
    let render = tokio::spawn(reporter::run(mode, rx, RunMonitor::default()));
    let res = zvm_engine::mover::restore(&zoom, &*run.state, &tx, &audit).await;
    drop(tx);
    let _ = render.await;
    let (ok, failed) = res.map_err(zvm_app::Failure::from)?;
    if !global.json {
        output::note(format_args!(
            "recovered {ok} from the Zoom trash; {failed} could not be recovered"
        ));
    }
    Ok(if failed > 0 {
        exit::FILES_FAILED
    } else {
        exit::OK
    })
}
