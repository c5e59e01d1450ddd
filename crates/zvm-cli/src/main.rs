//! The `zvm` binary.
fn main() {}
