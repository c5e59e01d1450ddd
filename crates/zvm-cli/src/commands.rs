//! The subcommands: each resolves its settings, builds what it needs, runs the engine and
//! returns an exit code. Errors carry their exit code ([`Failure`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use zvm_app::config::ConfigFile;
use zvm_app::run_context::RunContext;
use zvm_app::{Cause, Layer, Origin, Outcome, Settings, parse};
use zvm_engine::{Catalog, Engine, Event, RunSummary, SyncOptions, UserSelection};

use crate::cli::{DemoArgs, ListArgs, ListingArgs, SelectArgs, SyncArgs, TransferArgs, ZoomArgs};
use crate::{Failure, connect, exit, output, reporter};

/// DEST from the command line, else `destination` from the config file.
pub(crate) fn destination(
    arg: &Option<PathBuf>,
    cfg: &ConfigFile,
    command: &str,
) -> Result<PathBuf, Failure> {
    arg.clone().or_else(|| cfg.destination.clone()).ok_or_else(|| {
        zvm_app::Failure::new(
            Cause::NoDestination,
            format!(
                "no destination: give it as `zvm {command} DEST` or set `destination` in the config file"
            ),
        )
        .into()
    })
}

/// Ctrl-C cancels `cancel` (the engine stops promptly, committing its state and keeping
/// `.part` files). With `hard_second`, a second Ctrl-C exits at once.
pub(crate) fn cancel_on_ctrl_c(cancel: &CancellationToken, hard_second: bool) {
    let ctrlc = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrlc.cancel();
            if hard_second && tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
        }
    });
}

/// The flags that are keys of the settings schema, as a layer over the config file.
fn flags_layer(
    select: &SelectArgs,
    t: Option<&TransferArgs>,
    zoom: Option<&ZoomArgs>,
    listing: Option<&ListingArgs>,
) -> ConfigFile {
    let mut l = ConfigFile {
        file_types: Some(select.file_types.clone()).filter(|v| !v.is_empty()),
        zoom: zoom.map(connect::zoom_layer).unwrap_or_default(),
        recent_days: listing.and_then(|a| a.recent_days),
        ..ConfigFile::default()
    };
    if let Some(t) = t {
        l.transfers = t.transfers.clone().map(parse::TransfersSetting::Word);
        l.bwlimit = t.bwlimit.clone();
        l.segments = t.segments.clone().map(parse::TransfersSetting::Word);
        l.min_segment_size = t.min_segment_size.clone();
        // A switch only ever turns its setting on (or off, for the `--no-` ones); without it
        // the config file decides.
        l.verify_hash = t.verify_hash.then_some(true);
        l.folder_template = t.folder_template.clone();
        l.file_template = t.file_template.clone();
        l.summaries = t.no_summaries.then_some(false);
        l.participant_audio = t.no_participant_audio.then_some(false);
    }
    l
}

/// The settings of a run (flags over the config file) and the engine options for the
/// selected meetings. Checked in the order zvm always checked them: dates, file types,
/// transfers, rate, templates.
pub(crate) fn run_options(
    select: &SelectArgs,
    t: Option<&TransferArgs>,
    zoom: Option<&ZoomArgs>,
    cfg: &ConfigFile,
) -> Result<(Settings, SyncOptions), Failure> {
    run_options_listing(select, t, zoom, None, cfg)
}

/// [`run_options`] with the flags of what a sync lists from Zoom (`--full`,
/// `--recent-days`).
pub(crate) fn run_options_listing(
    select: &SelectArgs,
    t: Option<&TransferArgs>,
    zoom: Option<&ZoomArgs>,
    listing: Option<&ListingArgs>,
    cfg: &ConfigFile,
) -> Result<(Settings, SyncOptions), Failure> {
    let today = jiff::Zoned::now().date();
    let date = |s: &str, what: &str| {
        parse::parse_date(s, what)
            .map_err(|e| zvm_app::Failure::from(zvm_app::SettingsError::from(e)))
    };
    let from = match &select.from {
        Some(s) => date(s, "--from")?,
        // Six years back covers what Zoom accounts keep in practice; older is one flag away.
        None => today
            .checked_sub(jiff::Span::new().years(6))
            .unwrap_or(today),
    };
    let to = match &select.to {
        Some(s) => date(s, "--to")?,
        None => today,
    };
    if from > to {
        return Err(
            zvm_app::Failure::from(zvm_app::SettingsError::DatesReversed { from, to }).into(),
        );
    }
    let flags = flags_layer(select, t, zoom, listing);
    let mut settings = Settings::resolve(&[
        Layer::new(Origin::CommandLine, &flags),
        Layer::new(Origin::ConfigFile, cfg),
    ])
    .map_err(zvm_app::Failure::from)?;
    if let Some(z) = zoom {
        connect::with_hidden_flags(&mut settings.zoom, z);
    }
    let mut opts = SyncOptions::new(from, to);
    opts.users = if select.all_users {
        UserSelection::AllUsers
    } else if let Some(u) = &select.user {
        UserSelection::User(u.clone())
    } else {
        UserSelection::Me
    };
    settings.apply(&mut opts);
    opts.filters.topic = select.topic.clone();
    opts.filters.host = select.host.clone();
    opts.filters.min_duration_min = select.min_duration;
    if let Some(t) = t {
        opts.pipelining = !t.no_pipelining;
        opts.dry_run = t.dry_run;
    }
    opts.listing.full = listing.is_some_and(|l| l.full);
    Ok((settings, opts))
}

pub(crate) fn state_path(
    global: &crate::cli::GlobalArgs,
    settings: &Settings,
) -> Result<PathBuf, Failure> {
    crate::state_db::state_file(global.state.as_deref().or(settings.state.as_deref()))
}

/// Opens the state with the run lock held, and the destination, for as long as the returned
/// context lives.
pub(crate) fn open_run(
    state: &Path,
    dest: &Path,
    remote: &zvm_app::config::RemoteConfig,
) -> Result<RunContext, Failure> {
    let destination = zvm_app::destination::open_destination(dest, remote)?;
    Ok(RunContext::open_to(state, destination)?)
}

pub(crate) async fn list(
    global: &crate::cli::GlobalArgs,
    a: &ListArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let (settings, opts) = run_options(&a.select, None, Some(&a.zoom), cfg)?;
    if a.cached {
        return list_cached(global, &settings, &opts).await;
    }
    let zoom = connect::client(&settings.zoom).await?;
    // Listing needs no state or destination: the catalog walks the same windows as a sync.
    // Its warnings go to stderr (the rows are stdout's): a refused account listing names the
    // scope that would make every listing faster, and an admin who only lists must hear it too.
    let catalog = Catalog::new(
        zoom,
        Arc::new(|e: Event| {
            if let Event::Warning { message } = e {
                output::note(format_args!("warning: {message}"));
            }
        }),
    );
    let cancel = CancellationToken::new();
    let mut printer = ListPrinter {
        json: global.json,
        rows: Vec::new(),
        filters: opts.filters.clone(),
        out: std::io::BufWriter::with_capacity(64 << 10, std::io::stdout()),
        left_in_batch: 0,
        write_error: None,
        cancel: cancel.clone(),
    };
    let listed = catalog.for_each_meeting(&opts, &cancel, &mut printer).await;
    printer.flush();
    // A closed stdout cancelled the listing: that, not the cancellation, is what happened.
    if let Some(e) = printer.write_error {
        return Err(output::write_failure(e));
    }
    listed.map_err(zvm_app::Failure::from)?;
    if !printer.json {
        print_table(&printer.rows)?;
    }
    Ok(exit::OK)
}

/// `zvm list --cached`: the stored listing of the selection, printed as `zvm list` prints
/// a live one. Opens the state only to read it (no run lock: a sync may be running) and
/// contacts nothing.
async fn list_cached(
    global: &crate::cli::GlobalArgs,
    settings: &Settings,
    opts: &SyncOptions,
) -> Result<u8, Failure> {
    let path = state_path(global, settings)?;
    let mut printer = ListPrinter {
        json: global.json,
        rows: Vec::new(),
        filters: opts.filters.clone(),
        out: std::io::BufWriter::with_capacity(64 << 10, std::io::stdout()),
        left_in_batch: 0,
        write_error: None,
        cancel: CancellationToken::new(),
    };
    // No state file means nothing was ever listed; opening would create one.
    let listed = if path.exists() {
        let state = zvm_state::SqliteState::open(&path).map_err(zvm_app::Failure::from)?;
        let listed = zvm_engine::for_each_stored_meeting(&state, opts, &mut printer)
            .await
            .map_err(zvm_app::Failure::from)?;
        Some(listed)
    } else {
        None
    };
    printer.flush();
    if let Some(e) = printer.write_error {
        return Err(output::write_failure(e));
    }
    if !printer.json {
        print_table(&printer.rows)?;
    }
    if !global.quiet {
        match listed {
            Some(l) if l.windows > 0 => {
                output::note(format_args!(
                    "from the stored listing in {}: {} months, listed between {} and {} \
                     (no request was sent; `zvm sync` refreshes it)",
                    path.display(),
                    l.windows,
                    l.oldest.as_deref().unwrap_or("?"),
                    l.newest.as_deref().unwrap_or("?"),
                ));
                if l.unreadable > 0 {
                    output::note(format_args!(
                        "warning: {} stored meetings did not read back and are left out; \
                         `zvm sync --full` lists them again",
                        l.unreadable
                    ));
                }
            }
            _ => output::note(format_args!(
                "nothing stored for this selection in {}: `zvm sync` lists and stores it \
                 (or run `zvm list` without --cached)",
                path.display()
            )),
        }
    }
    Ok(exit::OK)
}

/// One line of `zvm list --json`, borrowed from the listing (no copy of its strings). Fields
/// in the order the earlier `json!` output had (alphabetical), so the lines stay the same.
#[derive(serde::Serialize)]
struct ListedMeeting<'a> {
    duration: i64,
    files: Vec<ListedFile<'a>>,
    host: &'a str,
    id: i64,
    start_time: &'a str,
    timezone: &'a str,
    topic: &'a str,
    uuid: &'a str,
}

#[derive(serde::Serialize)]
struct ListedFile<'a> {
    file_size: u64,
    file_type: &'a zvm_zoom::models::FileType,
    id: &'a str,
    recording_type: &'a zvm_zoom::models::RecordingType,
    status: &'a zvm_zoom::models::FileStatus,
}

struct ListPrinter {
    json: bool,
    rows: Vec<[String; 5]>,
    filters: zvm_engine::Filters,
    /// JSON lines are gathered and written once per batch of meetings the lister hands over
    /// (a page or more): one write per batch instead of one per line, and a reader still
    /// sees each batch as soon as it is listed.
    out: std::io::BufWriter<std::io::Stdout>,
    left_in_batch: usize,
    /// The first write error; the listing is cancelled when one happens.
    write_error: Option<std::io::Error>,
    cancel: CancellationToken,
}

impl ListPrinter {
    fn flush(&mut self) {
        if self.write_error.is_none()
            && let Err(e) = self.out.flush()
        {
            self.stop(e);
        }
    }

    /// Stops the listing: nobody reads it any more, or stdout cannot be written.
    fn stop(&mut self, e: std::io::Error) {
        self.write_error = Some(e);
        self.cancel.cancel();
    }
}

impl zvm_engine::catalog::AsyncMeetingFn for &mut ListPrinter {
    async fn prefetch(
        &mut self,
        meetings: &[zvm_zoom::models::Meeting],
    ) -> Result<(), zvm_engine::EngineError> {
        self.left_in_batch = meetings.len();
        Ok(())
    }

    async fn call(
        &mut self,
        meeting: zvm_zoom::models::Meeting,
        host: &str,
    ) -> Result<(), zvm_engine::EngineError> {
        if self.write_error.is_some() {
            return Ok(());
        }
        let files = meeting
            .recording_files
            .iter()
            .filter(|f| self.filters.wants_file_type(f.file_type.as_str()));
        if self.json {
            let line = ListedMeeting {
                duration: meeting.duration,
                files: files
                    .map(|f| ListedFile {
                        file_size: f.file_size,
                        file_type: &f.file_type,
                        id: &f.id,
                        recording_type: &f.recording_type,
                        status: &f.status,
                    })
                    .collect(),
                host,
                id: meeting.id,
                start_time: &meeting.start_time,
                timezone: &meeting.timezone,
                topic: &meeting.topic,
                uuid: &meeting.uuid,
            };
            let written = serde_json::to_writer(&mut self.out, &line)
                .map_err(std::io::Error::from)
                .and_then(|()| self.out.write_all(b"\n"));
            if let Err(e) = written {
                self.stop(e);
                return Ok(());
            }
            self.left_in_batch = self.left_in_batch.saturating_sub(1);
            if self.left_in_batch == 0 {
                self.flush();
            }
        } else {
            let files: Vec<_> = files.collect();
            let bytes: u64 = files.iter().map(|f| f.file_size).sum();
            let mut types: Vec<&str> = files.iter().map(|f| f.file_type.as_str()).collect();
            types.sort_unstable();
            types.dedup();
            self.rows.push([
                meeting.start_time.clone(),
                host.to_string(),
                meeting.topic.clone(),
                format!("{}", indicatif::HumanBytes(bytes)),
                types.join(","),
            ]);
        }
        Ok(())
    }
}

fn print_table(rows: &[[String; 5]]) -> Result<(), Failure> {
    let headers = ["START (UTC)", "HOST", "TOPIC", "SIZE", "TYPES"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count().min(50))
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    let fmt = |cells: [&str; 5]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let c: String = c.chars().take(50).collect();
                let pad = w[i].saturating_sub(c.chars().count());
                format!("{c}{}", " ".repeat(pad))
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut write = || -> std::io::Result<()> {
        writeln!(out, "{}", fmt(headers))?;
        for r in rows {
            writeln!(out, "{}", fmt([&r[0], &r[1], &r[2], &r[3], &r[4]]))?;
        }
        writeln!(out, "{} meetings", rows.len())?;
        out.flush()
    };
    write().map_err(output::write_failure)
}

pub(crate) async fn sync(
    global: &crate::cli::GlobalArgs,
    a: &SyncArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let dest = destination(&a.dest, cfg, "sync")?;
    let (settings, opts) = run_options_listing(
        &a.select,
        Some(&a.transfer),
        Some(&a.zoom),
        Some(&a.listing),
        cfg,
    )?;
    // A PostgreSQL state (`--state postgres://...`): its run lock is held in the database
    // for as long as `pg` lives; no search index, which has no folder beside it to live in.
    if let Some(url) =
        crate::state_db::postgres_url(global.state.as_deref().or(settings.state.as_deref()))
    {
        let pg = crate::state_db::open_postgres(&url).await?;
        let destination = zvm_app::destination::open_destination(&dest, &cfg.remote)?;
        let zoom = connect::client(&settings.zoom).await?;
        return run_engine(global, zoom, pg.state.clone(), destination, &opts).await;
    }
    let state_path = state_path(global, &settings)?;
    let run = open_run(&state_path, &dest, &cfg.remote)?;
    let zoom = connect::client(&settings.zoom).await?;
    let (state, live) = crate::indexing::indexing_state(&run, &dest);
    let code = run_engine(global, zoom, state, run.destination.clone(), &opts).await?;
    crate::indexing::index_after_run(
        global,
        &state_path,
        run.state.as_ref(),
        &dest,
        run.destination.as_ref(),
        live.as_deref(),
    )
    .await;
    Ok(code)
}

/// A sync of these meetings only, each asked of Zoom by its uuid (no listing): what
/// `zvm verify --repair` fetches again.
pub(crate) async fn sync_meetings(
    global: &crate::cli::GlobalArgs,
    zoom_args: &ZoomArgs,
    transfer: &TransferArgs,
    select: &SelectArgs,
    cfg: &ConfigFile,
    dest: &Path,
    uuids: Vec<String>,
) -> Result<u8, Failure> {
    let (settings, mut opts) =
        run_options_listing(select, Some(transfer), Some(zoom_args), None, cfg)?;
    opts.by_uuid = Some(uuids);
    let state_path = state_path(global, &settings)?;
    let run = open_run(&state_path, dest, &cfg.remote)?;
    let zoom = connect::client(&settings.zoom).await?;
    let (state, live) = crate::indexing::indexing_state(&run, dest);
    let code = run_engine(global, zoom, state, run.destination.clone(), &opts).await?;
    crate::indexing::index_after_run(
        global,
        &state_path,
        run.state.as_ref(),
        dest,
        run.destination.as_ref(),
        live.as_deref(),
    )
    .await;
    Ok(code)
}

/// Runs a sync with progress rendering and Ctrl-C handling; returns the exit code.
async fn run_engine(
    global: &crate::cli::GlobalArgs,
    zoom: zvm_zoom::ZoomClient,
    state: Arc<dyn zvm_state::StateStore>,
    destination: Arc<dyn zvm_dest::Destination>,
    opts: &SyncOptions,
) -> Result<u8, Failure> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mode = reporter::Mode::choose(global.json, global.quiet);
    let engine = Engine::new(zoom, state, destination, Arc::new(tx));
    let render = tokio::spawn(reporter::run(mode, rx, engine.monitor()));
    let cancel = CancellationToken::new();
    cancel_on_ctrl_c(&cancel, true);
    let started = Instant::now();
    let result = engine.sync(opts, cancel.clone()).await;
    drop(engine);
    let rendered = render.await.ok().flatten();
    let summary: RunSummary = result.map_err(zvm_app::Failure::from)?;
    let _ = rendered;
    if !global.json {
        reporter::print_summary(&summary, started.elapsed());
    }
    Ok(exit::of_outcome(&Outcome::of(&summary)))
}

pub(crate) async fn demo(global: &crate::cli::GlobalArgs, a: &DemoArgs) -> Result<u8, Failure> {
    let sim = zoom_sim::Simulator::start(
        zoom_sim::SimConfig::preset("demo").map_err(|e| Failure::new(exit::USAGE, e))?,
    )
    .await
    .map_err(|e| {
        Failure::new(
            exit::ZOOM,
            e.context("cannot start the built-in Zoom simulator"),
        )
    })?;
    if !global.json {
        output::note(format_args!(
            "zvm demo: a fake Zoom account is being served on {} (nothing leaves this machine).",
            sim.base_url()
        ));
    }
    let zoom = connect::client_for_sim(&sim).await?;
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create the demo folder {}", a.dir.display()))
        .map_err(|e| Failure::new(exit::DESTINATION, e))?;
    let state_path = a.dir.join(".zvm-state.sqlite3");
    // The demo reads no config file: it shows the defaults.
    let run = open_run(&state_path, &a.dir, &Default::default())?;
    let cfg = ConfigFile::default();
    let select = SelectArgs {
        from: Some("37m".into()),
        to: None,
        user: None,
        all_users: true,
        file_types: vec![],
        topic: None,
        host: None,
        min_duration: None,
    };
    let (_, opts) = run_options(&select, Some(&a.transfer), None, &cfg)?;
    let (state, live) = crate::indexing::indexing_state(&run, &a.dir);
    let code = run_engine(global, zoom, state, run.destination.clone(), &opts).await?;
    crate::indexing::index_after_run(
        global,
        &state_path,
        run.state.as_ref(),
        &a.dir,
        run.destination.as_ref(),
        live.as_deref(),
    )
    .await;
    if !global.json {
        output::note(format_args!(
            "The copy is in {}/ (one folder per host, year and meeting). Run `zvm demo` again: it only fetches what is new.",
            a.dir.display()
        ));
    }
    sim.shutdown().await;
    Ok(code)
}
