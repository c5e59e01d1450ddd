//! [`Engine`]: the parts a copy or a move works with (a Zoom client, a state store, a
//! destination, an event sink), shared by the copier, the mover and the transfers.
//!
//! Listing needs only the [`Catalog`] (a client; the engine's catalog also keeps the
//! listing cache in the engine's state); recovering from the trash needs no destination
//! (the mover's `restore`). The engine carries all four parts for the jobs
//! that need them all, and a [`RunMonitor`] on the accounting of its runs.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use zvm_dest::Destination;
use zvm_state::StateStore;
use zvm_zoom::ZoomClient;

use crate::accounting::RunMonitor;
use crate::catalog::{AsyncMeetingFn, Catalog};
use crate::error::EngineError;
use crate::events::{Event, EventSink};
use crate::options::SyncOptions;

/// The engine: one Zoom client, one state store, one destination, one event sink.
#[derive(Clone)]
pub struct Engine {
    pub(crate) zoom: ZoomClient,
    pub(crate) state: Arc<dyn StateStore>,
    pub(crate) dest: Arc<dyn Destination>,
    pub(crate) events: Arc<dyn EventSink>,
    /// The accounting of the engine's current or latest run.
    pub(crate) monitor: RunMonitor,
}

impl Engine {
    pub fn new(
        zoom: ZoomClient,
        state: Arc<dyn StateStore>,
        dest: Arc<dyn Destination>,
        events: Arc<dyn EventSink>,
    ) -> Self {
        Self {
            zoom,
            state,
            dest,
            events,
            monitor: RunMonitor::default(),
        }
    }

    /// A window on this engine's runs' accounting, for front ends to read while it runs.
    pub fn monitor(&self) -> RunMonitor {
        self.monitor.clone()
    }

    pub fn zoom(&self) -> &ZoomClient {
        &self.zoom
    }

    pub fn state(&self) -> &Arc<dyn StateStore> {
        &self.state
    }

    /// The listing side of this engine, with the listing cache in the engine's state.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(self.zoom.clone(), self.events.clone()).with_listing_cache(self.state.clone())
    }

    pub(crate) fn emit(&self, e: Event) {
        self.events.emit(e);
    }

    /// Streams the selected meetings, filtered, to `f` ([`Catalog::for_each_meeting`]).
    pub async fn for_each_meeting<F>(
        &self,
        opts: &SyncOptions,
        cancel: &CancellationToken,
        f: F,
    ) -> Result<(), EngineError>
    where
        F: AsyncMeetingFn,
    {
        self.catalog().for_each_meeting(opts, cancel, f).await
    }
}
