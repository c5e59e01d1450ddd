//! Dev-only helpers for the workspace's tests. Nothing here ships in a binary: the crates
//! that use it take it as a dev-dependency.
//!
//! - [`module_graph`] reads a crate's sources and finds modules that import each other,
//!   which the architecture forbids (a module's job should not depend on a module that
//!   depends on it; such pairs are one module in two files, or a missing third module).
//! - [`files`]: every file under a folder, a file's SHA-256.
//! - [`deletions`]: the check that every deletion in the simulator is backed by a whole copy.
//! - [`sim_accounts`]: simulator accounts that several test crates start from.

pub mod deletions;
pub mod files;
pub mod module_graph;
pub mod sim_accounts;

pub use deletions::assert_deletions_backed;
pub use files::{files_under, sha256_file};
