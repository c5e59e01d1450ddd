//! [`Daemon`]: the webhook receiver, its queue's worker and the schedules, started
//! together on one engine, and stopped together: stop taking work, cancel the run in
//! flight (its files stay resumable), let the engine commit, close the listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{Mutex, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use zvm_dest::Destination;
use zvm_engine::{Engine, SyncOptions};
use zvm_state::SqliteState;
use zvm_zoom::ZoomClient;

use crate::http::{self, Intake};
use crate::observe::{EventLog, Metrics};
use crate::outcomes::MeetingOutcomes;
use crate::schedule::{Scheduler, Schedules};
use crate::signature::SecretToken;
use crate::status::StatusSource;
use crate::worker::{EventRetry, Worker};

/// What the daemon is asked to do, already resolved from settings.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port, see [`Daemon::local_addr`]).
    pub listen: SocketAddr,
    /// Path of the webhook endpoint, e.g. `/zoom/webhook`.
    pub webhook_path: String,
    pub secret: SecretToken,
    /// The settings of every copy and scheduled run (users, dates, transfers, filters).
    pub sync: SyncOptions,
    pub schedules: Schedules,
    pub retry: EventRetry,
}

/// The daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "no webhook secret token: set `webhook_secret_token` in [serve] or ZVM_WEBHOOK_SECRET_TOKEN (the Zoom app's Feature page shows it)"
    )]
    NoSecret,
    #[error("the webhook path {0:?} must start with '/'")]
    BadPath(String),
    #[error(
        "cannot listen on {addr}: {source} (is another process using it? choose `listen` in [serve])"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A fleet worker could not register in the shared state.
    #[error("{0}")]
    State(zvm_state::StateError),
}

/// A running daemon.
pub struct Daemon {
    addr: SocketAddr,
    intake: Arc<Intake>,
    stop: CancellationToken,
    close_listener: CancellationToken,
    work: JoinSet<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Daemon {
    /// Binds, starts the worker (which first drains what an earlier run left queued) and
    /// the schedules, and serves.
    pub async fn start(
        opts: ServeOptions,
        zoom: ZoomClient,
        state: Arc<SqliteState>,
        dest: Arc<dyn Destination>,
        metrics: Arc<Metrics>,
    ) -> Result<Daemon, ServeError> {
        let (listener, addr) = Self::bind(&opts).await?;
        let outcomes = Arc::new(MeetingOutcomes::default());
        let events = Arc::new(EventLog {
            metrics: metrics.clone(),
            outcomes: outcomes.clone(),
        });
        let engine = Engine::new(zoom.clone(), state.clone(), dest.clone(), events);
        let stop = CancellationToken::new();
        let wake = Arc::new(Notify::new());
        let run_slot = Arc::new(Mutex::new(()));
        let status = StatusSource {
            monitor: engine.monitor(),
            destination: dest.describe(),
            schedules: Default::default(),
            fleet: None,
        };
        let intake = Intake::new(
            opts.secret.clone(),
            state.clone(),
            wake.clone(),
            metrics.clone(),
            zoom,
            status.clone(),
        );

        let mut work = JoinSet::new();
        work.spawn(
            Worker {
                engine: engine.clone(),
                state: state.clone(),
                template: opts.sync.clone(),
                outcomes,
                wake,
                run_slot: run_slot.clone(),
                stop: stop.clone(),
                retry: opts.retry,
            }
            .run(),
        );
        work.spawn(
            Scheduler {
                engine,
                state,
                runner: None,
                template: opts.sync,
                schedules: opts.schedules,
                run_slot,
                stop: stop.clone(),
                times: status.schedules.clone(),
                metrics,
            }
            .run(),
        );

        Ok(Self::serve(
            listener,
            addr,
            intake,
            stop,
            work,
            &opts.webhook_path,
        ))
    }

    /// Starts a fleet worker on a PostgreSQL state shared with other workers (see
    /// [`crate::fleet`]): the same HTTP side (webhooks stored in the shared queue before
    /// the 200, `/metrics`, `/status` with every worker), the fleet's loops instead of the
    /// lone daemon's worker, and the schedules listing for the fleet when this worker holds
    /// the scheduler lock.
    #[cfg(feature = "postgres")]
    pub async fn start_fleet(
        opts: ServeOptions,
        fleet: crate::fleet::FleetOptions,
        zoom: ZoomClient,
        state: Arc<zvm_state_postgres::PostgresState>,
        dest: Arc<dyn Destination>,
        metrics: Arc<Metrics>,
    ) -> Result<Daemon, ServeError> {
        use crate::fleet::{FleetJobs, FleetWorker, fleet_view};

        let (listener, addr) = Self::bind(&opts).await?;
        let outcomes = Arc::new(MeetingOutcomes::default());
        let events = Arc::new(EventLog {
            metrics: metrics.clone(),
            outcomes: outcomes.clone(),
        });
        let engine = Engine::new(zoom.clone(), state.clone(), dest.clone(), events);
        let stop = CancellationToken::new();
        let events_wake = Arc::new(Notify::new());
        let work_wake = Arc::new(Notify::new());
        let status = StatusSource {
            monitor: engine.monitor(),
            destination: dest.describe(),
            schedules: Default::default(),
            fleet: Some(fleet_view(state.clone(), fleet.worker_id.clone())),
        };
        // One engine run at a time in this process, as in a lone daemon: the leases loop's
        // copies and moves take it, and so would the scheduler if it ran the engine here.
        // The fleet's scheduled jobs do not (`FleetJobs` lists and offers work, and writes
        // no file), so a listing runs beside a leased copy on purpose: it would otherwise
        // hold this worker's copies for as long as listing the account takes.
        let run_slot = Arc::new(Mutex::new(()));
        let worker = Arc::new(FleetWorker {
            state: state.clone(),
            opts: fleet,
            engine: engine.clone(),
            template: opts.sync.clone(),
            moves: opts.schedules.moves.as_ref().map(|(_, m)| m.clone()),
            outcomes,
            run_slot: run_slot.clone(),
            stop: stop.clone(),
            retry: opts.retry,
            events_wake: events_wake.clone(),
            work_wake: work_wake.clone(),
            files_copied: Default::default(),
            bytes_copied: Default::default(),
            schedules: opts.schedules.describe(),
            differing: Default::default(),
        });
        worker.register().await.map_err(ServeError::State)?;
        let intake = Intake::new(
            opts.secret.clone(),
            state.clone(),
            events_wake,
            metrics.clone(),
            zoom,
            status.clone(),
        );
        let mut work = JoinSet::new();
        work.spawn(worker.clone().heartbeat());
        work.spawn(worker.clone().events());
        work.spawn(worker.leases());
        work.spawn(
            Scheduler {
                engine: engine.clone(),
                state: state.clone(),
                runner: Some(Arc::new(FleetJobs {
                    state,
                    engine,
                    stop: stop.clone(),
                    work_wake,
                })),
                template: opts.sync,
                schedules: opts.schedules,
                run_slot,
                stop: stop.clone(),
                times: status.schedules.clone(),
                metrics,
            }
            .run(),
        );
        Ok(Self::serve(
            listener,
            addr,
            intake,
            stop,
            work,
            &opts.webhook_path,
        ))
    }

    async fn bind(
        opts: &ServeOptions,
    ) -> Result<(tokio::net::TcpListener, SocketAddr), ServeError> {
        if opts.secret.is_empty() {
            return Err(ServeError::NoSecret);
        }
        if !opts.webhook_path.starts_with('/') {
            return Err(ServeError::BadPath(opts.webhook_path.clone()));
        }
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: opts.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: opts.listen,
            source,
        })?;
        Ok((listener, addr))
    }

    fn serve(
        listener: tokio::net::TcpListener,
        addr: SocketAddr,
        intake: Arc<Intake>,
        stop: CancellationToken,
        work: JoinSet<()>,
        webhook_path: &str,
    ) -> Daemon {
        let close_listener = CancellationToken::new();
        let app = http::router(intake.clone(), webhook_path);
        let closing = close_listener.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { closing.cancelled().await })
                .await
        });
        tracing::info!(%addr, path = %webhook_path, "zvm serve listening");
        Daemon {
            addr,
            intake,
            stop,
            close_listener,
            work,
            server,
        }
    }

    /// Where it listens (the port chosen when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops: new webhooks are answered 503 (Zoom retries them later, and the next start
    /// takes them), the run in flight is cancelled and commits what it has, then the
    /// listener closes.
    pub async fn shutdown(mut self) {
        self.intake.accepting.store(false, Ordering::Release);
        self.stop.cancel();
        while self.work.join_next().await.is_some() {}
        self.close_listener.cancel();
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "the listener ended with an error"),
            Err(e) => tracing::warn!(error = %e, "the listener task ended abnormally"),
        }
        tracing::info!("zvm serve stopped");
    }
}
