//! The names the engine had before it was split by job (`copier`, `catalog`, `planner`,
//! `transfer`), kept so front ends that use them go on compiling.

pub use crate::catalog::AsyncMeetingFn;
pub use crate::engine::Engine;
pub use crate::error::EngineError;
pub use crate::layout::{MEETING_JSON, SUMMARY_JSON, SUMMARY_MD};
pub use crate::transfer::ByteLimiter;
