//! The application layer of Zoom Video Mover, shared by every front end (the `zvm` CLI, the
//! desktop GUI and the coming daemon), so that none of them rebuilds the application around
//! the engine on its own:
//!
//! - [`config`] and [`settings`]: one settings schema (`config.toml`), its parsers
//!   ([`parse`]) and its precedence (flags > `ZVM_*` environment > `config.toml`; the GUI's
//!   own settings are a layer over the same file);
//! - [`connection`]: credentials, the token store ([`token_store`], the OS keyring for every
//!   front end), the browser opener ([`browser`]) and the simulator's client;
//! - [`run_context`]: the run lock, the state database and the destination
//!   ([`destination`]: a folder or a URL such as `s3://bucket/prefix`);
//! - [`serve_settings`]: `zvm serve`'s `[serve]` section, resolved and checked;
//! - [`failure`] and [`outcome`]: typed failure causes and run outcomes that each front end
//!   renders its own way (exit codes, words in its language).
//!
//! No front-end libraries here (clap, indicatif, egui): front ends parse their own input and
//! hand it over as a settings layer.

pub mod browser;
pub mod config;
pub mod connection;
pub mod destination;
pub mod failure;
pub mod outcome;
pub mod parse;
pub mod run_context;
pub mod secret_store;
pub mod serve_settings;
pub mod settings;
pub mod token_store;

pub use failure::{Cause, Failure};
pub use outcome::Outcome;
pub use settings::{Layer, Origin, Settings, SettingsError, ZoomSettings};

// Every front end and the engine agree on the most transfers at once.
const _: () = assert!(parse::MAX_TRANSFERS == zvm_engine::concurrency::MAX_TRANSFERS);
