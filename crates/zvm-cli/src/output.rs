//! The command's results on stdout. A reader that goes away (`zvm list --json | head`) is not
//! zvm's error: the command stops, quietly, as a Unix tool ended by SIGPIPE would. Rust
//! ignores SIGPIPE, so `println!` would panic on the closed pipe instead.

use std::fmt::Display;
use std::io::{self, Write};

use crate::{Failure, exit};

/// The reader of stdout went away. Carried in a [`Failure`] so the command unwinds through
/// its usual paths; `main` prints nothing for it.
#[derive(Debug)]
pub struct ReaderGone;

impl std::fmt::Display for ReaderGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the reader of stdout went away")
    }
}

impl std::error::Error for ReaderGone {}

/// The failure a command returns when stdout is closed: exit code 130, like an interrupt,
/// because the user stopped reading (closed the pager, `head` had enough).
pub fn reader_gone() -> Failure {
    Failure::new(exit::INTERRUPTED, ReaderGone)
}

/// Whether `f` is [`reader_gone`]: nothing to tell the user, who closed the reader.
pub fn is_reader_gone(f: &Failure) -> bool {
    f.error.is::<ReaderGone>()
}

/// Maps a write error to the command's failure: a closed pipe stops the command quietly;
/// any other error (a full disk behind `> file`) is reported.
pub fn write_failure(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        reader_gone()
    } else {
        Failure::new(
            exit::DESTINATION,
            anyhow::anyhow!("cannot write the output to stdout: {e}"),
        )
    }
}

/// One line on stdout.
pub fn line(s: impl Display) -> Result<(), Failure> {
    let mut o = io::stdout().lock();
    writeln!(o, "{s}").map_err(write_failure)
}

/// One line on stderr, for the user's eyes. If stderr is gone too there is nobody to tell,
/// so a failed write is dropped (where `eprintln!` would panic, `zvm … 2>&1 | head`).
pub fn note(s: impl Display) {
    let mut e = io::stderr().lock();
    let _ = writeln!(e, "{s}");
}
