//! Webhooks' download tokens: a recording event carries a `download_token` that Zoom's
//! download host accepts, like the bearer token, for that meeting's `download_url`s for
//! about 24 hours (zoom-api.md §1, §7). An app whose own token may not download (no
//! recording read scope) copies through it, and an app that may spares its token.
//!
//! The grants are kept in memory by download URL, never written anywhere and never
//! logged ([`Secret`]): a daemon that restarts has none, and its downloads use the OAuth
//! token as before. A grant is dropped when it expires or when the download host refuses
//! it; the download then goes on with the OAuth token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::redact::Secret;

/// The grants of one client (shared by its clones).
#[derive(Debug, Default)]
pub struct DownloadGrants {
    by_url: Mutex<HashMap<String, (Secret, Instant)>>,
}

impl DownloadGrants {
    /// `token` downloads `download_url` for `valid_for` from now.
    pub fn grant(&self, download_url: &str, token: Secret, valid_for: Duration) {
        let Some(until) = Instant::now().checked_add(valid_for) else {
            return;
        };
        if let Ok(mut g) = self.by_url.lock() {
            // A grant outlives its meeting's copy by a day at most: the expired ones are
            // forgotten whenever the map has doubled (amortised: not a sweep per grant in
            // a burst), so it does not grow with every event of a long-running daemon.
            if g.len() >= 64 && g.len().is_power_of_two() {
                let now = Instant::now();
                g.retain(|_, (_, t)| *t > now);
            }
            g.insert(download_url.to_owned(), (token, until));
        }
    }

    /// The token for `download_url`, if one was granted and has not expired.
    pub fn token_for(&self, download_url: &str) -> Option<Secret> {
        let mut g = self.by_url.lock().ok()?;
        match g.get(download_url) {
            Some((token, until)) if *until > Instant::now() => Some(token.clone()),
            Some(_) => {
                g.remove(download_url);
                None
            }
            None => None,
        }
    }

    /// The download host refused the grant of `download_url`: not offered again.
    pub fn refused(&self, download_url: &str) {
        if let Ok(mut g) = self.by_url.lock() {
            g.remove(download_url);
        }
    }

    /// How many grants are held (tests, metrics).
    pub fn len(&self) -> usize {
        self.by_url.lock().map(|g| g.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_offered_until_it_expires_or_is_refused() {
        let g = DownloadGrants::default();
        g.grant(
            "https://z/rec/download/a",
            Secret::new("t-a"),
            Duration::from_secs(3600),
        );
        g.grant(
            "https://z/rec/download/b",
            Secret::new("t-b"),
            Duration::ZERO,
        );
        assert_eq!(
            g.token_for("https://z/rec/download/a")
                .map(|t| t.expose().to_owned()),
            Some("t-a".into())
        );
        assert!(g.token_for("https://z/rec/download/b").is_none(), "expired");
        assert!(
            g.token_for("https://z/rec/download/c").is_none(),
            "never granted"
        );
        g.refused("https://z/rec/download/a");
        assert!(g.token_for("https://z/rec/download/a").is_none());
        assert!(g.is_empty());
    }
}
