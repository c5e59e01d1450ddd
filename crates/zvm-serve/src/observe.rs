//! The daemon's metrics, in Prometheus text format (`/metrics`), kept by the `metrics`
//! crate's types and rendered by `metrics-exporter-prometheus`.
//!
//! Each daemon owns its recorder (none is installed globally), so two daemons in one
//! process (tests) count apart. Counters are fed from the engine's events ([`EventSink`])
//! and from the Zoom client's request observer; gauges that describe "now" (queue depth,
//! transfers, throughput, memory, listing age) are set just before each render.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use zvm_engine::events::FailureClass;
use zvm_engine::{Event, EventSink};

const META: Metadata<'static> = Metadata::new("zvm_serve", metrics::Level::INFO, None);

/// Buckets of the API latency histogram, seconds: Zoom answers in tens of milliseconds to
/// seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What a webhook request came to (label `result` of `zvm_webhooks_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookResult {
    Queued,
    Duplicate,
    Ignored,
    Validation,
    Refused,
    Malformed,
    Unavailable,
}

impl WebhookResult {
    fn label(self) -> &'static str {
        match self {
            WebhookResult::Queued => "queued",
            WebhookResult::Duplicate => "duplicate",
            WebhookResult::Ignored => "ignored",
            WebhookResult::Validation => "url_validation",
            WebhookResult::Refused => "refused",
            WebhookResult::Malformed => "malformed",
            WebhookResult::Unavailable => "unavailable",
        }
    }
}

/// The daemon's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    files_copied: Counter,
    bytes_copied: Counter,
    rate_limited: Counter,
    bytes_freed: Counter,
    engine_runs: Counter,
    queue_depth: Gauge,
    transfers_active: Gauge,
    throughput: Gauge,
    rss: Gauge,
    listing_age: Gauge,
}

/// The "now" figures set before a render.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub queue_depth: u64,
    pub transfers_active: usize,
    pub throughput_bps: f64,
    /// Seconds since the last complete listing; `None` if there was none yet.
    pub listing_age_secs: Option<f64>,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(
                    "zvm_api_request_duration_seconds".into(),
                ),
                LATENCY_BUCKETS,
            )
            // Only fails for an empty bucket list.
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let describe = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_counter(name.into(), unit, help.into());
        };
        describe("zvm_files_copied_total", None, "Files copied and verified.");
        describe(
            "zvm_bytes_copied_total",
            Some(Unit::Bytes),
            "Bytes of the files copied and verified.",
        );
        describe(
            "zvm_failures_total",
            None,
            "Files or details that failed, by class (download, destination, state, details).",
        );
        describe(
            "zvm_api_requests_total",
            None,
            "Zoom API requests by rate-limit category and HTTP status (0: no answer).",
        );
        describe(
            "zvm_api_rate_limited_total",
            None,
            "Zoom API answers of 429.",
        );
        describe(
            "zvm_cloud_bytes_freed_total",
            Some(Unit::Bytes),
            "Bytes of recordings removed from the Zoom cloud by scheduled moves.",
        );
        describe(
            "zvm_engine_runs_total",
            None,
            "Engine runs started: the worker's (one per batch of webhook events) and the schedules'.",
        );
        describe(
            "zvm_webhooks_total",
            None,
            "Webhook requests by result (queued, duplicate, ignored, url_validation, refused, malformed, unavailable).",
        );
        let gauge_help = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_gauge(name.into(), unit, help.into());
        };
        gauge_help(
            "zvm_queue_depth",
            None,
            "Webhook events queued, not yet done.",
        );
        gauge_help("zvm_transfers_active", None, "Downloads running now.");
        gauge_help(
            "zvm_throughput_bytes_per_second",
            None,
            "Bytes per second received over the last few seconds.",
        );
        gauge_help(
            "zvm_process_resident_memory_bytes",
            Some(Unit::Bytes),
            "Resident memory of the daemon.",
        );
        gauge_help(
            "zvm_last_complete_listing_age_seconds",
            Some(Unit::Seconds),
            "Seconds since a scheduled sync last listed everything it asked for.",
        );
        recorder.describe_histogram(
            "zvm_api_request_duration_seconds".into(),
            Some(Unit::Seconds),
            "Zoom API request latency by rate-limit category.".into(),
        );
        let counter = |name: &'static str| recorder.register_counter(&Key::from_name(name), &META);
        let gauge = |name: &'static str| recorder.register_gauge(&Key::from_name(name), &META);
        let m = Metrics {
            files_copied: counter("zvm_files_copied_total"),
            bytes_copied: counter("zvm_bytes_copied_total"),
            rate_limited: counter("zvm_api_rate_limited_total"),
            bytes_freed: counter("zvm_cloud_bytes_freed_total"),
            engine_runs: counter("zvm_engine_runs_total"),
            queue_depth: gauge("zvm_queue_depth"),
            transfers_active: gauge("zvm_transfers_active"),
            throughput: gauge("zvm_throughput_bytes_per_second"),
            rss: gauge("zvm_process_resident_memory_bytes"),
            listing_age: gauge("zvm_last_complete_listing_age_seconds"),
            handle: recorder.handle(),
            recorder,
        };
        // Every class appears from the start at 0, so a dashboard's rate() has a series.
        for class in [
            FailureClass::Download,
            FailureClass::Destination,
            FailureClass::State,
            FailureClass::Details,
        ] {
            m.failure(class).absolute(0);
        }
        Arc::new(m)
    }

    fn labelled_counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &META)
    }

    fn failure(&self, class: FailureClass) -> Counter {
        let class = match class {
            FailureClass::Download => "download",
            FailureClass::Destination => "destination",
            FailureClass::State => "state",
            FailureClass::Details => "details",
        };
        self.labelled_counter("zvm_failures_total", vec![Label::new("class", class)])
    }

    /// A webhook request's result.
    pub fn webhook(&self, result: WebhookResult) {
        self.labelled_counter(
            "zvm_webhooks_total",
            vec![Label::new("result", result.label())],
        )
        .increment(1);
    }

    /// One Zoom API request ended (`status` 0: no answer), after `latency`.
    pub fn api_request(&self, category: &'static str, status: u16, latency: Duration) {
        self.labelled_counter(
            "zvm_api_requests_total",
            vec![
                Label::new("category", category),
                Label::new("status", status.to_string()),
            ],
        )
        .increment(1);
        if status == 429 {
            self.rate_limited.increment(1);
        }
        let h: Histogram = self.recorder.register_histogram(
            &Key::from_parts(
                "zvm_api_request_duration_seconds",
                vec![Label::new("category", category)],
            ),
            &META,
        );
        h.record(latency.as_secs_f64());
    }

    /// Bytes a scheduled move removed from the cloud.
    pub fn bytes_freed(&self, bytes: u64) {
        self.bytes_freed.increment(bytes);
    }

    /// The text of `/metrics`, with the "now" gauges set from `now`.
    pub fn render(&self, now: Snapshot) -> String {
        self.queue_depth.set(now.queue_depth as f64);
        self.transfers_active.set(now.transfers_active as f64);
        self.throughput.set(now.throughput_bps);
        if let Some(rss) = resident_memory_bytes() {
            self.rss.set(rss as f64);
        }
        if let Some(age) = now.listing_age_secs {
            self.listing_age.set(age);
        }
        self.handle.render()
    }

    /// Feeds the counters from one engine event.
    fn on_event(&self, e: &Event) {
        match e {
            Event::FileDone { size, .. } => {
                self.files_copied.increment(1);
                self.bytes_copied.increment(*size);
            }
            Event::FileFailed { class, .. } => self.failure(*class).increment(1),
            Event::RunStarted { .. } => self.engine_runs.increment(1),
            _ => {}
        }
    }
}

/// The engine's events: counted in the metrics and written to the log (the engine never
/// prints; the daemon's log is where a person reads what it did).
pub struct EventLog {
    pub metrics: Arc<Metrics>,
    /// Which meetings of the worker's run failed (it settles each event by its meeting).
    pub outcomes: Arc<crate::outcomes::MeetingOutcomes>,
}

impl EventSink for EventLog {
    fn emit(&self, e: Event) {
        self.metrics.on_event(&e);
        self.outcomes.record(&e);
        match &e {
            Event::FileDone { file, size, .. } => {
                tracing::info!(meeting = %file.meeting_uuid, path = %file.path, size, "file copied")
            }
            Event::FileFailed { file, class, error } => {
                tracing::warn!(meeting = %file.meeting_uuid, path = %file.path, ?class, %error, "file failed")
            }
            Event::Warning { message } => tracing::warn!(%message, "engine warning"),
            Event::MeetingPlanned {
                meeting_uuid,
                files,
                ..
            } => tracing::info!(meeting = %meeting_uuid, files, "meeting planned"),
            _ => {}
        }
    }
}

/// The process's resident memory, from `/proc/self/status` (Linux; `None` elsewhere).
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
