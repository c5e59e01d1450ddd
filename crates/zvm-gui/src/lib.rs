//! `zvm-gui`: the desktop front end of Zoom Video Mover, on the same application layer
//! (`zvm-app`: settings, sign-in and token store, run context, failure causes), engine and
//! state database as the `zvm` CLI.
//!
//! The engine runs on its own tokio runtime in a background thread ([`backend`]); the egui
//! window ([`app`]) sends it commands and renders the events it reports, and never blocks.

pub mod app;
pub mod backend;
pub mod date_picker;
pub mod elide;
pub mod fonts;
pub mod i18n;
pub mod i18n_causes;
pub mod i18n_events;
pub mod model;
pub mod name_preview;
pub mod notifications;
pub mod remote_fields;
pub mod search;
pub mod settings;
pub mod setup;

pub use app::{Screen, ZvmApp};
