//! [`RequestObserver`]: told of every API request's end (its rate-limit category, HTTP
//! status, time taken), so a front end can keep metrics of what the client asked of Zoom
//! (the daemon's `/metrics`). The client itself keeps no such counts; with no observer the
//! hook costs a branch.

use std::sync::Arc;
use std::time::Duration;

use crate::pacer::Category;

type ObserveFn = dyn Fn(Category, u16, Duration) + Send + Sync;

/// A callback run at the end of each API request attempt (retries and the refresh after a
/// 401 are attempts too): category, status (0 when nothing answered: a reset, a timeout)
/// and the time from sending to the end of the answer's body.
#[derive(Clone, Default)]
pub struct RequestObserver(Option<Arc<ObserveFn>>);

impl RequestObserver {
    pub fn new(f: impl Fn(Category, u16, Duration) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    pub(crate) fn observe(&self, category: Category, status: u16, took: Duration) {
        if let Some(f) = &self.0 {
            f(category, status, took);
        }
    }
}

impl std::fmt::Debug for RequestObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "RequestObserver(set)"
        } else {
            "RequestObserver(none)"
        })
    }
}
