//! `zvm`, the command-line front end: parses flags into settings, builds the engine, renders
//! its events, and maps the outcome to an exit code in one place.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod connect;
mod moving;
mod output;
mod reporter;
mod settings;
mod token_store;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FILES_FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const ZOOM: u8 = 3;
    pub const DESTINATION: u8 = 4;
    pub const STATE: u8 = 5;
    pub const INTERRUPTED: u8 = 130;
}

/// An error that already knows its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(code: u8, error: impl Into<anyhow::Error>) -> Self {
        Self {
            code,
            error: error.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure {
            code: exit::USAGE,
            error,
        }
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            output::note(format_args!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(exit::USAGE);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(f) if output::is_reader_gone(&f) => ExitCode::from(f.code),
        Err(f) => {
            output::note(format_args!("error: {}", f.error));
            for cause in f.error.chain().skip(1) {
                output::note(format_args!("  caused by: {cause}"));
            }
            ExitCode::from(f.code)
        }
    }
}

/// Logs go to stderr, off unless asked for: the progress display is the normal output.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ZVM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
