//! `zvm`, the command-line front end: parses flags into a settings layer for `zvm-app`, builds
//! the engine, renders its events, and maps failure causes and run outcomes to exit codes in
//! one place each ([`exit::of_cause`], [`exit::of_outcome`]).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod archive;
mod cli;
mod color;
mod commands;
mod connect;
#[cfg(all(feature = "postgres", feature = "serve"))]
mod fleet_status;
mod generate;
mod indexing;
mod moving;
mod output;
mod reporter;
#[cfg(feature = "serve")]
mod serve;
mod state_db;

use std::process::ExitCode;

use std::io::IsTerminal;

use clap::{CommandFactory, FromArgMatches};

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    use zvm_app::{Cause, Outcome};

    pub const OK: u8 = 0;
    pub const FILES_FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const ZOOM: u8 = 3;
    pub const DESTINATION: u8 = 4;
    pub const STATE: u8 = 5;
    pub const INTERRUPTED: u8 = 130;

    /// The exit code of a failure, by its cause.
    pub fn of_cause(cause: Cause) -> u8 {
        use Cause::*;
        match cause {
            BadConfig
            | BadSettings
            | NoDestination
            | NoCredentials
            | IncompleteServerToServer
            | NoClientId
            | NoConfigDir
            | ClientConfig
            | NeedsConfirmation
            | NothingPlanned
            // A fault of zvm itself (the async runtime did not start): nothing else fits.
            | Internal => USAGE,
            NotSignedIn | NotConnected | SignInRefused | MissingScope | RateLimited
            | MeetingInProgress | NotFound | Network | ZoomProtocol | ZoomOther | TokenStore => {
                ZOOM
            }
            DiskFull | NotWritable | CopyMismatch | DestinationOther => DESTINATION,
            StateBusy | NoStatePath | StateUnusable => STATE,
            Interrupted => INTERRUPTED,
        }
    }

    /// The exit code of a run that ran to its end.
    pub fn of_outcome(outcome: &Outcome) -> u8 {
        match outcome {
            Outcome::Done => OK,
            Outcome::FilesFailed(_) => FILES_FAILED,
            Outcome::Interrupted => INTERRUPTED,
            Outcome::DestinationStopped(_) => DESTINATION,
        }
    }
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

/// A failure of the application layer: its cause decides the exit code; its words (and
/// their causes) are printed as they are.
impl From<zvm_app::Failure> for Failure {
    fn from(f: zvm_app::Failure) -> Self {
        Failure {
            code: exit::of_cause(f.cause),
            error: anyhow::Error::from_boxed(f.into_error()),
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
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let env = color::ColorEnv::from_process();
    let when = color::prescan(&args);
    // Help goes to stdout, errors to stderr: clap gets the choice for the stream it writes.
    let help_colour = color::for_clap(when, &env, std::io::stdout().is_terminal());
    let error_colour = color::for_clap(when, &env, std::io::stderr().is_terminal());
    let parsed = cli::Cli::command()
        .color(help_colour)
        .try_get_matches_from(&args)
        .and_then(|m| cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let colour = if e.use_stderr() {
                error_colour
            } else {
                help_colour
            };
            e.with_cmd(&cli::Cli::command().color(colour)).exit()
        }
    };
    color::set_stderr_colour(color::colour_on(
        cli.global.color,
        &env,
        std::io::stderr().is_terminal(),
    ));
    init_tracing(&cli);
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
    match runtime.block_on(run(cli)) {
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

/// Logs go to stderr, off unless asked for: the progress display is the normal output. A
/// daemon has no progress display: `zvm serve` logs at info by default.
fn init_tracing(cli: &cli::Cli) {
    #[cfg(feature = "serve")]
    let daemon = matches!(cli.command, cli::Command::Serve(_));
    #[cfg(not(feature = "serve"))]
    let daemon = false;
    let default = match (cli.global.verbose, daemon) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        (2, _) => "debug",
        _ => "trace",
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("ZVM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // The S3 signer's debug lines print its credential provider whole, secret key included
    // ("Trying credential provider: StaticCredentialProvider { .. secret_access_key: ..}"):
    // at most info from it, whatever ZVM_LOG or -vv asks (this replaces a directive of the
    // same target in ZVM_LOG). A target matches every module whose path starts with it, so
    // `reqsign` caps each signer crate (reqsign_core, reqsign_aws_v4, reqsign_azure_storage,
    // reqsign_google, ...), the ones OpenDAL brings for Azure and GCS included.
    if let Ok(cap) = "reqsign=info".parse() {
        filter = filter.add_directive(cap);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // JSON lines carry no colour codes, whatever the terminal.
        .with_ansi(color::stderr_colour() && cli.global.log_format == cli::LogFormat::Text)
        .with_target(false);
    let _ = match cli.global.log_format {
        cli::LogFormat::Text => builder.try_init(),
        cli::LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Runs one command: loads config.toml once and hands it to the command's module.
async fn run(cli: cli::Cli) -> Result<u8, Failure> {
    use cli::{AuthCommand, Command};
    // A lazy config: generated files need none, and a broken config.toml must not stop
    // `zvm completions` or `zvm man`.
    let config = || {
        let explicit = cli.global.config.as_deref();
        let cfg = zvm_app::config::load_config(explicit).map_err(zvm_app::Failure::from)?;
        // Secrets in a file others can read: said (the keys, never the values), not refused.
        if let Some(path) = zvm_app::config::config_path(explicit)
            && let Some(w) = zvm_app::config::readable_secrets_warning(&path, &cfg)
        {
            output::note(format_args!("warning: {w}"));
        }
        Ok::<_, Failure>(cfg)
    };
    match &cli.command {
        Command::Completions(a) => generate::completions(a),
        Command::Man(a) => generate::man(a),
        Command::Auth(AuthCommand::Login(a)) => connect::login(a, &config()?).await,
        Command::Auth(AuthCommand::Status(z)) => connect::status(z, &config()?).await,
        Command::Auth(AuthCommand::Logout(z)) => connect::logout(z, &config()?).await,
        Command::List(a) => commands::list(&cli.global, a, &config()?).await,
        Command::Sync(a) => commands::sync(&cli.global, a, &config()?).await,
        Command::Move(a) => moving::move_cmd(&cli.global, a, &config()?).await,
        Command::Restore(a) => moving::restore_cmd(&cli.global, a, &config()?).await,
        Command::Search(a) => archive::search(&cli.global, a, &config()?).await,
        Command::Verify(a) => archive::verify(&cli.global, a, &config()?).await,
        Command::Status(a) => {
            let cfg = config()?;
            // On a fleet's PostgreSQL state: its workers and their shared work.
            #[cfg(all(feature = "postgres", feature = "serve"))]
            if let Some(url) = fleet_state(&cli.global, &cfg) {
                return fleet_status::status(&cli.global, &url).await;
            }
            archive::status(&cli.global, a, &cfg).await
        }
        Command::Demo(a) => {
            // The demo brings its own account but, as every run command, reports a broken
            // config.toml rather than ignoring it.
            config()?;
            commands::demo(&cli.global, a).await
        }
        #[cfg(feature = "serve")]
        Command::Serve(a) => serve::serve(&cli.global, a, &config()?).await,
    }
}

/// The PostgreSQL URL of the state, when `--state` or the config names one.
#[cfg(all(feature = "postgres", feature = "serve"))]
fn fleet_state(global: &cli::GlobalArgs, cfg: &zvm_app::config::ConfigFile) -> Option<String> {
    state_db::postgres_url(global.state.as_deref().or(cfg.state.as_deref()))
}
