//! The daemon behind `zvm serve`: copies each recording within minutes of the meeting, and
//! shows that it works.
//!
//! Zoom's webhooks arrive at [`http`]'s endpoint, are checked ([`signature`]: HMAC,
//! 5-minute window, constant-time; [`replay`]: the same request twice), read
//! ([`envelope`]) and queued durably in the state before Zoom gets its 200 ([`group_commit`]:
//! the events arriving together share one commit). The [`worker`]
//! drains the queue through the engine (the meetings of a batch of events copied by their
//! uuids in one run, with no listing; [`outcomes`] tells which of them failed), and
//! [`schedule`] runs periodic syncs and moves. [`observe`] keeps the Prometheus metrics ([`state_gauges`]: the state's
//! figures read once however many scrape) and [`status`] the `/status` snapshot. [`daemon`] starts and stops them together. No clap,
//! no printing: the daemon reports through `tracing` and the engine's events.
//!
//! On a PostgreSQL state (feature `postgres`), the daemon is a fleet worker (`fleet`):
//! several share the queue, the work (leased by meeting) and the account's rate limits.

pub mod daemon;
pub mod envelope;
#[cfg(feature = "postgres")]
pub mod fleet;
pub mod group_commit;
pub mod http;
pub mod observe;
pub mod outcomes;
pub mod replay;
pub mod schedule;
pub mod signature;
pub mod state_gauges;
pub mod status;
pub mod worker;

pub use daemon::{Daemon, ServeError, ServeOptions};
pub use observe::Metrics;
pub use schedule::{Schedules, When};
pub use signature::SecretToken;
pub use worker::EventRetry;
