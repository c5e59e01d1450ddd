//! The one way a test that cannot run here says so. cargo hides the stderr of a passing
//! test, so a test that printed "skipped" and returned would look like a pass; under
//! `CI=true` (where the test's needs, root and tools, are promised) it fails instead.
//! Shared by the zvm-cli tests (through `common`) and the zvm-dest tests (by `#[path]`).

/// Reports that the calling test cannot run here. Panics (the test fails) when the `CI`
/// environment variable is `true` or `1`; otherwise prints `SKIPPED: reason` to stderr and
/// returns, and the caller returns at once.
#[allow(clippy::print_stderr)]
pub fn skip_or_fail(reason: &str) {
    let ci = std::env::var("CI").unwrap_or_default();
    if ci.eq_ignore_ascii_case("true") || ci == "1" {
        panic!("cannot run under CI=true, and a skip there is a failure: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}
