//! Renders the engine's events: indicatif progress on a terminal, one JSON object per line
//! with `--json`, or plain lines when stderr is not a terminal (logs, cron).
//!
//! The engine sends events over a channel; this task is the only place in the CLI that
//! turns them into text.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use zvm_engine::RunMonitor;
use zvm_engine::events::{Event, RunSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Progress bars on stderr.
    Bars,
    /// One JSON event per line on stdout.
    Json,
    /// Plain lines on stderr (not a terminal) — a line per finished or failed file.
    Plain,
    /// Only the summary and errors.
    Quiet,
}

impl Mode {
    pub fn choose(json: bool, quiet: bool) -> Mode {
        if json {
            Mode::Json
        } else if quiet {
            Mode::Quiet
        } else if crate::color::bars_possible(&crate::color::ColorEnv::from_process()) {
            Mode::Bars
        } else {
            Mode::Plain
        }
    }
}

/// Consumes events until the channel closes; returns the run summary if one arrived. The
/// total progress comes from the engine's accounting (`monitor`), not from counting events.
pub async fn run(
    mode: Mode,
    mut rx: mpsc::UnboundedReceiver<Event>,
    monitor: RunMonitor,
) -> Option<RunSummary> {
    let mut r = Renderer::new(mode, monitor);
    let mut summary = None;
    while let Some(ev) = rx.recv().await {
        if let Event::RunFinished { summary: s } = &ev {
            summary = Some(s.clone());
        }
        r.render(&ev);
    }
    r.finish();
    summary
}

struct Renderer {
    mode: Mode,
    multi: MultiProgress,
    total: Option<ProgressBar>,
    /// Each running file's own bar (hidden unless drawing bars).
    active: HashMap<String, ProgressBar>,
    monitor: RunMonitor,
    listing_done: bool,
    started: Instant,
}

impl Renderer {
    fn new(mode: Mode, monitor: RunMonitor) -> Self {
        let multi = MultiProgress::with_draw_target(if mode == Mode::Bars {
            ProgressDrawTarget::stderr_with_hz(8)
        } else {
            ProgressDrawTarget::hidden()
        });
        Self {
            mode,
            multi,
            total: None,
            active: HashMap::new(),
            monitor,
            listing_done: false,
            started: Instant::now(),
        }
    }

    fn total_bar(&mut self) -> &ProgressBar {
        self.total.get_or_insert_with(|| {
            let pb = self.multi.add(ProgressBar::new(0));
            pb.set_style(
                ProgressStyle::with_template(if crate::color::stderr_colour() {
                    "{prefix:.bold} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
                } else {
                    // NO_COLOR and friends: the same bar without styles.
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}"
                })
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            pb.set_prefix("total");
            pb.enable_steady_tick(Duration::from_millis(250));
            pb
        })
    }

    /// The total bar from the engine's accounting: what is queued, and what of it is here.
    fn update_total(&mut self) {
        if let Some(s) = self.monitor.snapshot() {
            let bar = self.total_bar();
            bar.set_length(s.bytes_queued);
            bar.set_position(s.bytes_done.min(s.bytes_queued));
        }
    }

    fn line(&self, s: &str) {
        match self.mode {
            Mode::Bars => {
                let _ = self.multi.println(s);
            }
            Mode::Plain => {
                let mut e = std::io::stderr().lock();
                let _ = writeln!(e, "{s}");
            }
            _ => {}
        }
    }

    fn render(&mut self, ev: &Event) {
        if self.mode == Mode::Json {
            if matches!(ev, Event::FileProgress { .. }) {
                // Progress is throttled by the engine; still, scripts rarely want it per file.
            }
            if let Ok(s) = serde_json::to_string(ev) {
                let mut o = std::io::stdout().lock();
                let _ = writeln!(o, "{s}");
            }
            return;
        }
        match ev {
            Event::RunStarted {
                destination,
                dry_run,
                transfers,
                auto,
            } => {
                let what = if *dry_run {
                    "Planning (dry run)"
                } else {
                    "Syncing"
                };
                let how = if *auto {
                    format!("transfers found as it goes (starting with {transfers})")
                } else {
                    format!("{transfers} transfers")
                };
                self.line(&format!("{what} into {destination} with {how}"));
            }
            Event::ListingUser { user } => {
                if self.mode == Mode::Bars {
                    self.total_bar().set_message(format!("listing {user}"));
                } else {
                    self.line(&format!("listing recordings of {user}"));
                }
            }
            Event::ListingWindows {
                user,
                listed,
                stored,
                refreshed,
            } => {
                // Only when the stored listing was used (a first or full listing says nothing
                // new here), and only in plain mode, like the per-user listing lines: bars
                // would get one line per user of a large account.
                if *stored > 0 && self.mode == Mode::Plain {
                    self.line(&format!(
                        "{user}: {listed} months listed from Zoom, {stored} from the stored \
                         listing ({refreshed} meetings asked again)"
                    ));
                }
            }
            Event::MeetingVanished {
                topic, start_time, ..
            } => {
                let msg = format!(
                    "no longer in the Zoom cloud (deleted or trashed in Zoom): \"{topic}\" \
                     ({start_time}); its local copy is kept"
                );
                if self.mode == Mode::Quiet {
                    crate::output::note(&msg);
                } else {
                    self.line(&msg);
                }
            }
            Event::FileQueued { .. } => self.update_total(),
            Event::ListingFinished {
                meetings,
                files,
                bytes,
            } => {
                self.listing_done = true;
                if self.mode == Mode::Bars {
                    self.total_bar().set_message("");
                }
                self.line(&format!(
                    "listed {meetings} meetings, {files} files, {}",
                    HumanBytes(*bytes)
                ));
            }
            Event::FileStarted { file, size, offset } => {
                if self.mode == Mode::Bars {
                    let pb = self.multi.add(ProgressBar::new(*size));
                    pb.set_style(
                        ProgressStyle::with_template("  {wide_msg} {bytes}/{total_bytes}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    pb.set_message(file.path.clone());
                    pb.set_position(*offset);
                    if let Some(old) = self.active.insert(file.path.clone(), pb) {
                        old.finish_and_clear();
                    }
                } else {
                    self.active.insert(file.path.clone(), ProgressBar::hidden());
                }
                self.update_total();
            }
            Event::FileProgress {
                file, bytes_done, ..
            } => {
                if let Some(pb) = self.active.get(&file.path) {
                    pb.set_position(*bytes_done);
                }
                self.update_total();
            }
            Event::FileDone { file, size, .. } => {
                if let Some(pb) = self.active.remove(&file.path) {
                    pb.finish_and_clear();
                }
                self.update_total();
                if self.mode == Mode::Plain {
                    self.line(&format!("done {} ({})", file.path, HumanBytes(*size)));
                }
            }
            Event::FileRetry {
                file,
                attempt,
                error,
                delay_ms,
            } => {
                if let Some(pb) = self.active.remove(&file.path) {
                    pb.finish_and_clear();
                }
                self.update_total();
                if self.mode != Mode::Quiet {
                    self.line(&format!(
                        "retrying {} (attempt {attempt}, in {:.1}s): {error}",
                        file.path,
                        *delay_ms as f64 / 1000.0
                    ));
                }
            }
            Event::FileFailed { file, error, .. } => {
                if let Some(pb) = self.active.remove(&file.path) {
                    pb.finish_and_clear();
                }
                let msg = format!("FAILED {}: {error}", file.path);
                if self.mode == Mode::Quiet {
                    crate::output::note(&msg);
                } else {
                    self.line(&msg);
                }
            }
            Event::WouldDownload { file, size } => {
                let s = format!("would download {} ({})", file.path, HumanBytes(*size));
                println_safe(&s);
            }
            Event::WouldDelete {
                topic,
                action,
                bytes,
                file_id,
                ..
            } => {
                let what = match file_id {
                    Some(id) => format!("file {id} of"),
                    None => "the recordings of".to_string(),
                };
                println_safe(&format!(
                    "would {action} {what} \"{topic}\" ({})",
                    HumanBytes(*bytes)
                ));
            }
            Event::CloudDeleted {
                topic,
                action,
                outcome,
                file_id,
                ..
            } => {
                let what = match file_id {
                    Some(id) => format!("file {id} of "),
                    None => String::new(),
                };
                self.line(&format!("{action}: {what}\"{topic}\" ({outcome})"));
            }
            Event::DeleteSkipped { topic, reason, .. } => {
                self.line(&format!("kept in the cloud: \"{topic}\": {reason}"));
            }
            Event::Recovered { topic, .. } => {
                self.line(&format!("recovered from the trash: \"{topic}\""));
            }
            Event::Warning { message } => {
                let msg = format!("warning: {message}");
                if self.mode == Mode::Quiet {
                    crate::output::note(&msg);
                } else {
                    self.line(&msg);
                }
            }
            Event::TransfersChanged { transfers, reason } => {
                if self.mode == Mode::Plain {
                    self.line(&format!("transfers: {transfers} ({reason})"));
                }
            }
            Event::RunFinished { .. }
            | Event::MeetingPlanned { .. }
            | Event::FileSkipped { .. } => {}
        }
    }

    fn finish(&mut self) {
        for (_, pb) in self.active.drain() {
            pb.finish_and_clear();
        }
        if let Some(t) = self.total.take() {
            t.finish_and_clear();
        }
        let _ = self.multi.clear();
        let _ = self.started;
        let _ = self.listing_done;
    }
}

#[allow(clippy::print_stdout)]
fn println_safe(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{s}");
}

/// The closing lines every run prints (unless `--json`, where the summary is an event).
pub fn print_summary(s: &RunSummary, elapsed: Duration) {
    let mut e = std::io::stderr().lock();
    let secs = elapsed.as_secs_f64().max(0.001);
    let _ = writeln!(
        e,
        "{} meetings; downloaded {} files, {} in {:.1}s ({}/s); {} already done; {} still processing at Zoom; {} failed{}",
        s.meetings,
        s.files_downloaded,
        HumanBytes(s.bytes_downloaded),
        secs,
        HumanBytes((s.bytes_downloaded as f64 / secs) as u64),
        s.files_skipped,
        s.files_processing,
        s.files_failed,
        if s.cancelled { " (interrupted)" } else { "" }
    );
    if s.deleted > 0 || s.delete_skipped > 0 {
        let _ = writeln!(
            e,
            "cloud: {} removed, {} kept (not proven copied or not allowed)",
            s.deleted, s.delete_skipped
        );
    }
    if let Some(why) = &s.stopped {
        let _ = writeln!(e, "stopped early: {why}");
    }
    for f in &s.failures {
        let _ = writeln!(e, "  failed: {}: {}", f.path, f.error);
    }
}
