//! `zvm serve`: the daemon (zvm-serve) on the settings every command uses plus `[serve]`.
//! Holds the run lock for as long as it runs; stops on SIGTERM or SIGINT (Ctrl-C): no new
//! work, the transfer in flight cancelled with its `.part` kept, the state committed, exit 0.
//!
//! On a PostgreSQL state (`--state postgres://...`, the `postgres` feature) it is a worker
//! of a fleet: no `--worker` flag, since a daemon on a shared database must share its work
//! whatever it is told (a fleet of one is a fleet). It takes no run lock: the workers of a
//! fleet share the database by leases (zvm-serve's `fleet`).

use std::sync::Arc;

use zvm_app::config::{ConfigFile, ServeConfig};
use zvm_app::connection::{self, TokenPlace};
use zvm_app::serve_settings::{self, MoveAction, ScheduleSpec};
use zvm_app::{Cause, run_context};
use zvm_engine::MoveOptions;
use zvm_serve::{Daemon, EventRetry, Metrics, Schedules, SecretToken, ServeOptions, When};
use zvm_zoom::{DeleteAction, RequestObserver, ZoomClient};

use crate::cli::{GlobalArgs, ServeArgs};
use crate::commands::{destination, open_run, run_options, state_path};
use crate::{Failure, exit};

fn bad_settings(e: impl std::fmt::Display) -> Failure {
    zvm_app::Failure::new(Cause::BadSettings, e.to_string()).into()
}

fn schedule(spec: &ScheduleSpec, zone: &jiff::tz::TimeZone) -> Result<When, Failure> {
    match spec {
        ScheduleSpec::Every { key, value } => When::every(key, value),
        ScheduleSpec::Cron { key, value } => When::cron(key, value, zone.clone()),
    }
    .map_err(bad_settings)
}

pub async fn serve(global: &GlobalArgs, a: &ServeArgs, cfg: &ConfigFile) -> Result<u8, Failure> {
    let dest = destination(&a.dest, cfg, "serve")?;
    let (settings, opts) = run_options(&a.select, Some(&a.transfer), Some(&a.zoom), cfg)?;
    let flags = ServeConfig {
        listen: a.listen.clone(),
        webhook_secret_token: a.webhook_secret_token.clone(),
        path: a.path.clone(),
        sync_every: a.sync_every.clone(),
        move_cron: a.move_cron.clone(),
        move_older_than: a.move_older_than.clone(),
        time_zone: a.time_zone.clone(),
        ..ServeConfig::default()
    };
    let serve = serve_settings::resolve(&[&flags, &cfg.serve]).map_err(bad_settings)?;
    let secret = serve.secret.clone().ok_or_else(|| {
        bad_settings(
            "no webhook secret token: set ZVM_WEBHOOK_SECRET_TOKEN or `webhook_secret_token` in [serve] (the Zoom app's Feature page shows it)",
        )
    })?;
    let pg_url =
        crate::state_db::postgres_url(global.state.as_deref().or(settings.state.as_deref()));
    // A fleet worker has no state file: its audit log goes where a default state would.
    let state_file = match &pg_url {
        Some(_) => run_context::state_path(None)
            .unwrap_or_else(|_| std::path::PathBuf::from("zvm-state.sqlite3")),
        None => state_path(global, &settings)?,
    };
    let mut schedules = Schedules {
        sync: serve
            .sync
            .as_ref()
            .map(|s| schedule(s, &serve.time_zone))
            .transpose()?,
        moves: None,
    };
    if let Some(spec) = &serve.moves {
        let mopts = MoveOptions {
            action: match serve.move_action {
                MoveAction::Trash => DeleteAction::Trash,
                MoveAction::Delete => DeleteAction::Delete,
            },
            older_than: serve.move_older_than,
            audit_log: run_context::audit_path(None, &state_file),
        };
        schedules.moves = Some((schedule(spec, &serve.time_zone)?, mopts));
    }
    if serve
        .sync
        .iter()
        .chain(&serve.moves)
        .any(|s| matches!(s, ScheduleSpec::Cron { .. }))
    {
        tracing::info!(
            time_zone = serve
                .time_zone
                .iana_name()
                .unwrap_or("the system's (unnamed)"),
            "cron expressions are read on this time zone's clock"
        );
    }
    // The client tells the metrics of every API request.
    let metrics = Metrics::new();
    let mut client_cfg = connection::client_config(&settings.zoom)?;
    let observed = metrics.clone();
    client_cfg.observer = RequestObserver::new(move |cat, status, took| {
        observed.api_request(cat.name(), status, took)
    });
    let creds = connection::credentials(&settings.zoom, &TokenPlace::default())?;
    let zoom = ZoomClient::new(client_cfg, creds).map_err(zvm_app::Failure::from)?;

    let options = ServeOptions {
        listen: serve.listen,
        webhook_path: serve.path.clone(),
        secret: SecretToken::new(secret),
        sync: opts,
        schedules,
        retry: EventRetry::default(),
    };
    let (daemon, run) = match pg_url {
        Some(url) => (
            start_fleet_worker(a, &url, &dest, &cfg.remote, options, zoom, metrics).await?,
            None,
        ),
        None => {
            let run = open_run(&state_file, &dest, &cfg.remote)?;
            let daemon = Daemon::start(
                options,
                zoom,
                run.state.clone(),
                run.destination.clone() as Arc<dyn zvm_dest::Destination>,
                metrics,
            )
            .await
            .map_err(|e| Failure::new(exit::USAGE, e))?;
            (daemon, Some(run))
        }
    };
    // One line on stdout for whoever started it (scripts, tests that asked for port 0); what
    // the daemon does goes to the log on stderr.
    println!(
        "zvm serve: listening on http://{} (webhook {}; /metrics /status /healthz /readyz)",
        daemon.local_addr(),
        serve.path
    );
    wait_for_stop_signal().await;
    tracing::info!("stop requested: finishing the work in flight resumably");
    daemon.shutdown().await;
    drop(run);
    Ok(exit::OK)
}

/// Starts this process as a worker of the fleet on the PostgreSQL state at `url`.
#[cfg(feature = "postgres")]
async fn start_fleet_worker(
    a: &ServeArgs,
    url: &str,
    dest: &std::path::Path,
    remote: &zvm_app::config::RemoteConfig,
    options: ServeOptions,
    zoom: ZoomClient,
    metrics: Arc<Metrics>,
) -> Result<Daemon, Failure> {
    let mut fleet = zvm_serve::fleet::FleetOptions::new(
        a.worker_id
            .clone()
            .unwrap_or_else(zvm_serve::fleet::default_worker_id),
    );
    if let Some(ttl) = &a.lease_ttl {
        let When::Every(ttl) = When::every("--lease-ttl", ttl).map_err(bad_settings)? else {
            unreachable!("When::every gives an interval");
        };
        fleet.lease_ttl = ttl;
        fleet.heartbeat = (ttl / 6).max(std::time::Duration::from_millis(200));
    }
    let state = zvm_state_postgres::PostgresState::open(url)
        .await
        .map_err(|e| Failure::from(zvm_app::Failure::from(e)))?;
    let destination = zvm_app::destination::open_destination(dest, remote)?;
    tracing::info!(worker = %fleet.worker_id, database = state.location(), "zvm serve is a worker of the fleet on this database");
    Daemon::start_fleet(options, fleet, zoom, Arc::new(state), destination, metrics)
        .await
        .map_err(|e| Failure::new(exit::USAGE, e))
}

/// Without the `postgres` feature: a PostgreSQL state is refused with what to do.
#[cfg(not(feature = "postgres"))]
async fn start_fleet_worker(
    _a: &ServeArgs,
    url: &str,
    _dest: &std::path::Path,
    _remote: &zvm_app::config::RemoteConfig,
    _options: ServeOptions,
    _zoom: ZoomClient,
    _metrics: Arc<Metrics>,
) -> Result<Daemon, Failure> {
    // Without the feature this always fails, saying how to get a zvm that has it.
    Err(match crate::state_db::open_postgres(url).await {
        Err(e) => e,
        Ok(_) => Failure::new(
            exit::USAGE,
            anyhow::anyhow!("this zvm cannot run a fleet worker"),
        ),
    })
}

/// SIGTERM (systemd's stop) or SIGINT (Ctrl-C).
#[cfg(unix)]
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops zvm serve");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
