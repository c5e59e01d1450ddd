//! The subcommands: each resolves its settings, builds what it needs, runs the engine and
//! returns an exit code. Errors carry their exit code ([`Failure`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, anyhow};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use zvm_dest::LocalDestination;
use zvm_engine::{Catalog, Engine, Event, RunSummary, SyncOptions, UserSelection};
use zvm_state::{RunLock, SqliteState, StateError};

use crate::cli::{
    AuthCommand, Cli, Command, DemoArgs, ListArgs, SelectArgs, SyncArgs, TransferArgs,
};
use crate::settings::{self, ConfigFile, Transfers};
use crate::{Failure, connect, exit, output, reporter};

/// Transfers at once when neither `-j` nor the config says.
const DEFAULT_TRANSFERS: Transfers = Transfers::Auto;

pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let cfg = settings::load_config(cli.global.config.as_deref())
        .map_err(|e| Failure::new(exit::USAGE, e))?;
    match cli.command {
        Command::Auth(AuthCommand::Login(a)) => connect::login(&a, &cfg).await,
        Command::Auth(AuthCommand::Status(z)) => connect::status(&z, &cfg).await,
        Command::Auth(AuthCommand::Logout(z)) => connect::logout(&z, &cfg).await,
        Command::List(a) => list(&cli.global, &a, &cfg).await,
        Command::Sync(a) => sync(&cli.global, &a, &cfg).await,
        Command::Move(a) => crate::moving::move_cmd(&cli.global, &a, &cfg).await,
        Command::Restore(a) => crate::moving::restore_cmd(&cli.global, &a, &cfg).await,
        Command::Demo(a) => demo(&cli.global, &a).await,
    }
}

/// DEST from the command line, else `destination` from the config file.
pub(crate) fn destination(
    arg: &Option<PathBuf>,
    cfg: &ConfigFile,
    command: &str,
) -> Result<PathBuf, Failure> {
    arg.clone().or_else(|| cfg.destination.clone()).ok_or_else(|| {
        Failure::new(
            exit::USAGE,
            anyhow!(
                "no destination: give it as `zvm {command} DEST` or set `destination` in the config file"
            ),
        )
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

/// Turns the selection flags into engine options.
pub(crate) fn base_options(select: &SelectArgs, cfg: &ConfigFile) -> Result<SyncOptions, Failure> {
    let today = jiff::Zoned::now().date();
    let from = match &select.from {
        Some(s) => settings::parse_date(s, "--from")?,
        // Six years back covers what Zoom accounts keep in practice; older is one flag away.
        None => today
            .checked_sub(jiff::Span::new().years(6))
            .unwrap_or(today),
    };
    let to = match &select.to {
        Some(s) => settings::parse_date(s, "--to")?,
        None => today,
    };
    if from > to {
        return Err(Failure::new(
            exit::USAGE,
            anyhow!("--from {from} is after --to {to}: swap them"),
        ));
    }
    let mut opts = SyncOptions::new(from, to);
    opts.users = if select.all_users {
        UserSelection::AllUsers
    } else if let Some(u) = &select.user {
        UserSelection::User(u.clone())
    } else {
        UserSelection::Me
    };
    let types: Vec<String> = if select.file_types.is_empty() {
        cfg.file_types.clone().unwrap_or_default()
    } else {
        select.file_types.clone()
    };
    opts.filters.file_types = settings::parse_file_types(&types)?;
    opts.filters.topic = select.topic.clone();
    opts.filters.host = select.host.clone();
    opts.filters.min_duration_min = select.min_duration;
    Ok(opts)
}

// `-j` and the engine agree on the most transfers at once.
const _: () = assert!(settings::MAX_TRANSFERS == zvm_engine::concurrency::MAX_TRANSFERS);

pub(crate) fn apply_transfer(
    opts: &mut SyncOptions,
    t: &TransferArgs,
    cfg: &ConfigFile,
) -> Result<(), Failure> {
    let transfers = match (&t.transfers, &cfg.transfers) {
        (Some(flag), _) => settings::parse_transfers(flag)
            .map_err(|e| Failure::new(exit::USAGE, e.context("--transfers")))?,
        (None, Some(file)) => file.parse().map_err(|e| Failure::new(exit::USAGE, e))?,
        (None, None) => DEFAULT_TRANSFERS,
    };
    (opts.transfers, opts.adaptive) = match transfers {
        Transfers::Auto => (settings::MAX_TRANSFERS, true),
        Transfers::Fixed(n) => (n, false),
    };
    opts.pipelining = !t.no_pipelining;
    if let Some(rate) = t.bwlimit.as_ref().or(cfg.bwlimit.as_ref()) {
        opts.bwlimit = Some(settings::parse_rate(rate)?);
    }
    opts.verify_hash = t.verify_hash || cfg.verify_hash.unwrap_or(false);
    opts.dry_run = t.dry_run;
    if let Some(f) = t.folder_template.as_ref().or(cfg.folder_template.as_ref()) {
        opts.folder_template = f.clone();
    }
    if let Some(f) = t.file_template.as_ref().or(cfg.file_template.as_ref()) {
        opts.file_template = f.clone();
    }
    opts.summaries = !t.no_summaries && cfg.summaries.unwrap_or(true);
    opts.participant_audio = !t.no_participant_audio && cfg.participant_audio.unwrap_or(true);
    // Hidden test hook: the acceptance tests inject faults on purpose and must not spend
    // the production backoff (0.5 s doubling to 30 s) waiting between transfer retries.
    if std::env::var_os("ZVM_TEST_FAST_RETRY").is_some_and(|v| v == "1") {
        opts.retry.base_delay = std::time::Duration::from_millis(10);
        opts.retry.max_delay = std::time::Duration::from_millis(200);
    }
    // Check the templates now, so a typo is a usage error before anything is contacted.
    zvm_naming::Namer::new(&opts.folder_template, &opts.file_template)
        .map_err(|e| Failure::new(exit::USAGE, anyhow!("{e}")))?;
    Ok(())
}

pub(crate) fn state_path(
    global: &crate::cli::GlobalArgs,
    cfg: &ConfigFile,
) -> Result<PathBuf, Failure> {
    global
        .state
        .clone()
        .or_else(|| cfg.state.clone())
        .or_else(zvm_state::default_state_path)
        .ok_or_else(|| {
            Failure::new(
                exit::STATE,
                anyhow!("no place for the state database: pass --state FILE"),
            )
        })
}

pub(crate) fn state_failure(e: StateError) -> Failure {
    Failure::new(exit::STATE, e)
}

/// Opens the state with the run lock held for as long as the returned guard lives.
pub(crate) fn open_state(path: &Path) -> Result<(RunLock, Arc<SqliteState>), Failure> {
    let lock = RunLock::acquire(path).map_err(state_failure)?;
    let state = SqliteState::open(path).map_err(state_failure)?;
    Ok((lock, Arc::new(state)))
}

async fn list(
    global: &crate::cli::GlobalArgs,
    a: &ListArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let opts = base_options(&a.select, cfg)?;
    let zoom = connect::client(&a.zoom, cfg).await?;
    // Listing needs no state or destination: the catalog walks the same windows as a sync.
    let catalog = Catalog::new(zoom, Arc::new(|_e: Event| {}));
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
    listed.map_err(|e| Failure::new(exit::ZOOM, e))?;
    if !printer.json {
        print_table(&printer.rows)?;
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

async fn sync(
    global: &crate::cli::GlobalArgs,
    a: &SyncArgs,
    cfg: &ConfigFile,
) -> Result<u8, Failure> {
    let dest = destination(&a.dest, cfg, "sync")?;
    let mut opts = base_options(&a.select, cfg)?;
    apply_transfer(&mut opts, &a.transfer, cfg)?;
    let state_path = state_path(global, cfg)?;
    let (_lock, state) = open_state(&state_path)?;
    let zoom = connect::client(&a.zoom, cfg).await?;
    run_engine(global, zoom, state, &dest, &opts).await
}

/// Runs a sync with progress rendering and Ctrl-C handling; returns the exit code.
async fn run_engine(
    global: &crate::cli::GlobalArgs,
    zoom: zvm_zoom::ZoomClient,
    state: Arc<SqliteState>,
    dest: &Path,
    opts: &SyncOptions,
) -> Result<u8, Failure> {
    let destination = Arc::new(LocalDestination::new(dest.to_path_buf()));
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
    let summary: RunSummary = match result {
        Ok(s) => s,
        Err(e) => {
            let code = if e.is_destination_fatal() || matches!(e, zvm_engine::EngineError::Dest(_))
            {
                exit::DESTINATION
            } else if matches!(e, zvm_engine::EngineError::State(_)) {
                exit::STATE
            } else if matches!(
                e,
                zvm_engine::EngineError::Template(_) | zvm_engine::EngineError::Invalid(_)
            ) {
                exit::USAGE
            } else {
                exit::ZOOM
            };
            return Err(Failure::new(code, e));
        }
    };
    let _ = rendered;
    if !global.json {
        reporter::print_summary(&summary, started.elapsed());
    }
    Ok(if summary.stopped.is_some() {
        exit::DESTINATION
    } else if summary.cancelled {
        exit::INTERRUPTED
    } else if summary.files_failed > 0 {
        exit::FILES_FAILED
    } else {
        exit::OK
    })
}

async fn demo(global: &crate::cli::GlobalArgs, a: &DemoArgs) -> Result<u8, Failure> {
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
    let (_lock, state) = open_state(&state_path)?;
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
    let mut opts = base_options(&select, &cfg)?;
    apply_transfer(&mut opts, &a.transfer, &cfg)?;
    let code = run_engine(global, zoom, state, &a.dir, &opts).await?;
    if !global.json {
        output::note(format_args!(
            "The copy is in {}/ (one folder per host, year and meeting). Run `zvm demo` again: it only fetches what is new.",
            a.dir.display()
        ));
    }
    sim.shutdown().await;
    Ok(code)
}
