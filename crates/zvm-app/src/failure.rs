//! Why something failed, as a type: [`Cause`] names the failure class a user can act on
//! (sign in again, free disk space, wait for the other run...), and [`Failure`] carries it
//! with the underlying error, whose own words stay available as detail.
//!
//! Every front end renders a cause its own way: the CLI maps it to an exit code (one
//! `match`), the GUI to a sentence of its i18n table (one entry per variant). Causes are
//! decided here from the error *types* of the crates below, never from message text.

use std::error::Error as StdError;
use std::fmt;

use zvm_dest::DestError;
use zvm_engine::EngineError;
use zvm_state::StateError;
use zvm_zoom::ZoomError;

use crate::config::ConfigError;
use crate::settings::SettingsError;

/// What went wrong, in terms a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    // --- the user's input ---
    /// The config file cannot be read or parsed.
    BadConfig,
    /// A setting or argument is not valid (the detail says which and how to write it).
    BadSettings,
    /// No destination folder is set.
    NoDestination,
    /// Neither Server-to-Server nor user OAuth credentials are set.
    NoCredentials,
    /// Some of the three Server-to-Server values are missing.
    IncompleteServerToServer,
    /// The browser sign-in needs the Zoom app's client id.
    NoClientId,
    /// The OS config directory (for the sign-in token) cannot be found.
    NoConfigDir,
    /// A client setting Zoom's client refused before any request (e.g. plain http).
    ClientConfig,
    /// A refusal to delete without confirmation where none can be asked.
    NeedsConfirmation,

    // --- Zoom ---
    /// No sign-in is stored.
    NotSignedIn,
    /// This front end has not connected to Zoom yet (GUI, daemon sessions).
    NotConnected,
    /// Zoom refused the credentials or the stored sign-in (401, OAuth errors).
    SignInRefused,
    /// The Zoom app lacks a permission (403).
    MissingScope,
    /// Zoom's rate limit.
    RateLimited,
    /// The meeting is still in progress (Zoom code 3303).
    MeetingInProgress,
    /// No such user, meeting or recording (404).
    NotFound,
    /// The network failed (connection, timeout, stall).
    Network,
    /// Zoom (or a proxy) answered something malformed or inconsistent.
    ZoomProtocol,
    /// Any other refusal by Zoom.
    ZoomOther,
    /// The token store (keyring or file) failed.
    TokenStore,

    // --- the destination ---
    DiskFull,
    /// Read-only file system or no permission.
    NotWritable,
    /// A copy did not match what Zoom listed; it is fetched again.
    CopyMismatch,
    DestinationOther,

    // --- the state database ---
    /// Another zvm run holds the state file.
    StateBusy,
    /// No place for the state database.
    NoStatePath,
    /// The state database cannot be opened, is damaged or too new.
    StateUnusable,

    // --- the run ---
    /// Nothing was planned to remove (a confirmation without a plan).
    NothingPlanned,
    /// The user stopped it (Ctrl-C, a closed window, the reader of stdout went away).
    Interrupted,
    /// A fault of zvm itself (a background task could not start).
    Internal,
}

impl Cause {
    pub fn of_zoom(e: &ZoomError) -> Cause {
        use zvm_zoom::ErrorClass;
        match e {
            ZoomError::Config(_) => Cause::ClientConfig,
            ZoomError::NotLoggedIn => Cause::NotSignedIn,
            ZoomError::Auth(_) | ZoomError::StateMismatch | ZoomError::HtmlInsteadOfMedia => {
                Cause::SignInRefused
            }
            ZoomError::TokenStore(_) => Cause::TokenStore,
            ZoomError::Parse { .. }
            | ZoomError::RangeNotSatisfiable { .. }
            | ZoomError::Redirect(_) => Cause::ZoomProtocol,
            ZoomError::Stalled(_) | ZoomError::Http(_) => Cause::Network,
            ZoomError::Io(_) => match e.class() {
                ErrorClass::Fatal => Cause::ZoomOther,
                _ => Cause::Network,
            },
            ZoomError::Api { status, code, .. } => match (status, code) {
                (_, Some(3303)) => Cause::MeetingInProgress,
                (401, _) => Cause::SignInRefused,
                (403, _) => Cause::MissingScope,
                (404, _) => Cause::NotFound,
                (429, _) => Cause::RateLimited,
                _ => Cause::ZoomOther,
            },
        }
    }

    pub fn of_dest(e: &DestError) -> Cause {
        match e {
            DestError::NoSpace { .. } | DestError::RemoteFull { .. } => Cause::DiskFull,
            DestError::ReadOnly { .. }
            | DestError::PermissionDenied { .. }
            | DestError::RemoteDenied { .. } => Cause::NotWritable,
            DestError::SizeMismatch { .. } | DestError::RemoteMismatch { .. } => {
                Cause::CopyMismatch
            }
            _ => Cause::DestinationOther,
        }
    }

    pub fn of_state(e: &StateError) -> Cause {
        match e {
            StateError::Busy { .. } => Cause::StateBusy,
            _ => Cause::StateUnusable,
        }
    }

    pub fn of_engine(e: &EngineError) -> Cause {
        match e {
            EngineError::Zoom(z) => Cause::of_zoom(z),
            EngineError::State(s) => Cause::of_state(s),
            EngineError::Dest(d) => Cause::of_dest(d),
            EngineError::Template(_) => Cause::BadSettings,
            // The front ends check every option before a run, so what reaches them as
            // `Invalid` is what a server sent (a download longer or shorter than listed) or
            // an engine fault; it is not the user's input.
            EngineError::Invalid(_) => Cause::ZoomProtocol,
        }
    }
}

/// A failure with its cause. Displays as the underlying error (its own words, which name
/// what and where) and forwards its source chain.
#[derive(Debug)]
pub struct Failure {
    pub cause: Cause,
    error: Box<dyn StdError + Send + Sync + 'static>,
}

impl Failure {
    pub fn new(cause: Cause, error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Failure {
            cause,
            error: error.into(),
        }
    }

    /// The underlying error, for a front end that wraps it (the CLI's `anyhow`).
    pub fn into_error(self) -> Box<dyn StdError + Send + Sync + 'static> {
        self.error
    }

    /// The underlying error's words (the detail a front end may show beside its own).
    pub fn detail(&self) -> String {
        self.error.to_string()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl StdError for Failure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.error.source()
    }
}

impl From<ZoomError> for Failure {
    fn from(e: ZoomError) -> Self {
        Failure::new(Cause::of_zoom(&e), e)
    }
}

impl From<StateError> for Failure {
    fn from(e: StateError) -> Self {
        Failure::new(Cause::of_state(&e), e)
    }
}

impl From<DestError> for Failure {
    fn from(e: DestError) -> Self {
        Failure::new(Cause::of_dest(&e), e)
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::new(Cause::of_engine(&e), e)
    }
}

impl From<SettingsError> for Failure {
    fn from(e: SettingsError) -> Self {
        Failure::new(Cause::BadSettings, e)
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::new(Cause::BadConfig, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_come_from_the_error_types() {
        let api = |status, body: &str| ZoomError::api(status, body, None);
        assert_eq!(Cause::of_zoom(&api(401, "{}")), Cause::SignInRefused);
        assert_eq!(
            Cause::of_zoom(&api(403, r#"{"code":4711,"message":"x"}"#)),
            Cause::MissingScope
        );
        assert_eq!(Cause::of_zoom(&api(429, "{}")), Cause::RateLimited);
        assert_eq!(
            Cause::of_zoom(&api(400, r#"{"code":3303,"message":"x"}"#)),
            Cause::MeetingInProgress
        );
        // A message that merely mentions "401" is not a refused sign-in.
        assert_eq!(
            Cause::of_zoom(&api(500, r#"{"message":"HTTP 401 scope 429"}"#)),
            Cause::ZoomOther
        );
        let busy = StateError::Busy { path: "/s".into() };
        let f = Failure::from(EngineError::State(busy));
        assert_eq!(f.cause, Cause::StateBusy);
        assert!(f.to_string().starts_with("another zvm run"), "{f}");
        assert_eq!(
            Cause::of_engine(&EngineError::Invalid("the download is longer".into())),
            Cause::ZoomProtocol
        );
    }
}
