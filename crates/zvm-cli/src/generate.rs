//! Files generated from the clap definitions, so they can never disagree with `--help`:
//! shell completion scripts (clap_complete) and man pages (clap_mangen). The release
//! packaging (packaging/release.sh) calls these same commands to put them in the tarball
//! and the `.deb`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::{Failure, exit, output};

/// `zvm completions SHELL`: the script on stdout.
pub fn completions(a: &CompletionsArgs) -> Result<u8, Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "zvm", &mut buf);
    write_stdout(&buf)?;
    Ok(exit::OK)
}

/// `zvm man [--dir DIR]`: zvm.1 on stdout, or every page into DIR.
pub fn man(a: &ManArgs) -> Result<u8, Failure> {
    let cmd = Cli::command();
    match &a.dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .context("cannot render the man page")?;
            write_stdout(&buf)?;
        }
        Some(dir) => write_pages(cmd, dir).map_err(|e| Failure::new(exit::DESTINATION, e))?,
    }
    Ok(exit::OK)
}

/// zvm.1, and zvm-COMMAND.1 for each command and sub-command (zvm-auth-login.1, ...).
fn write_pages(cmd: clap::Command, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the man page folder {}", dir.display()))?;
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))
}

fn write_stdout(buf: &[u8]) -> Result<(), Failure> {
    let mut o = std::io::stdout().lock();
    o.write_all(buf)
        .and_then(|_| o.flush())
        .map_err(output::write_failure)
}
