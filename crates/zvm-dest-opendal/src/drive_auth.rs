//! How zvm signs in to a cloud drive, apart from [`crate::drive`] (which finds the credentials
//! in the settings and the environment) so that the drives' HTTP layer
//! (`drive_http`, which renews the tokens) needs nothing else of it.

/// How zvm signs in to a drive.
#[derive(Clone, PartialEq, Eq)]
pub enum DriveAuth {
    /// A refresh token and the OAuth client it was issued to: access tokens are renewed as
    /// they expire (what a long run needs).
    Refresh {
        refresh_token: String,
        client_id: String,
        client_secret: String,
    },
    /// An access token alone: works until it expires (an hour for Google and Microsoft).
    AccessToken(String),
}

/// Never prints a token.
impl std::fmt::Debug for DriveAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refresh { client_id, .. } => f
                .debug_struct("Refresh")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::AccessToken(_) => f.write_str("AccessToken(<set>)"),
        }
    }
}
