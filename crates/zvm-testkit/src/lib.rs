//! Dev-only helpers for the workspace's tests. Nothing here ships in a binary: the crates
//! that use it take it as a dev-dependency.
//!
//! [`module_graph`] reads a crate's sources and finds modules that import each other, which
//! the architecture forbids (a module's job should not depend on a module that depends on
//! it; such pairs are one module in two files, or a missing third module).

pub mod module_graph;
