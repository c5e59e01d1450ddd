//! The stored listing, read without asking Zoom anything: what `zvm list --cached` prints,
//! and what a front end can show the moment it opens.
//!
//! It is what the listing cache holds (see [`crate::catalog`]): every meeting of the windows
//! earlier runs listed completely, as Zoom listed it then. The selection, the dates and the
//! filters of a run apply to it as they do to a live listing, so the same options show the
//! same meetings, as of when their months were last listed.

use std::collections::HashSet;

use zvm_state::StateStore;
use zvm_zoom::models::Meeting;

use crate::catalog::{AsyncMeetingFn, LIST_BATCH};
use crate::error::EngineError;
use crate::options::{SyncOptions, UserSelection};
use crate::windows;

/// What a read of the stored listing covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredListing {
    /// Stored windows (calendar months of one listing scope) that overlap the dates.
    pub windows: usize,
    /// When the least and the most recently listed of them were listed (RFC 3339).
    pub oldest: Option<String>,
    pub newest: Option<String>,
    /// Meetings handed over.
    pub meetings: usize,
    /// Stored meetings whose JSON did not read back (left out).
    pub unreadable: usize,
}

/// The listing scopes a selection reads: its users' (for every user, every scope stored).
async fn scopes(state: &dyn StateStore, opts: &SyncOptions) -> Result<Vec<String>, EngineError> {
    let selections: Vec<&UserSelection> = match &opts.chosen {
        None => vec![&opts.users],
        Some(list) => list.iter().map(|c| &c.user).collect(),
    };
    let mut out: Vec<String> = Vec::new();
    for s in selections {
        let add = match s {
            UserSelection::Me => vec![windows::user_scope("me")],
            UserSelection::User(u) => vec![windows::user_scope(u)],
            UserSelection::AllUsers => state.listing_scopes().await?,
        };
        for scope in add {
            if !out.contains(&scope) {
                out.push(scope);
            }
        }
    }
    Ok(out)
}

/// Hands the stored meetings that `opts` selects to `f` (newest first within each listing
/// scope, each meeting once), the way a live listing would; sends no request.
pub async fn for_each_stored_meeting<F>(
    state: &dyn StateStore,
    opts: &SyncOptions,
    mut f: F,
) -> Result<StoredListing, EngineError>
where
    F: AsyncMeetingFn,
{
    let chosen: Option<HashSet<&str>> = opts
        .chosen
        .as_ref()
        .map(|list| list.iter().map(|c| c.uuid.as_str()).collect());
    // A live listing leaves other hosts out per user; a stored one holds them all.
    let by_host = chosen.is_none() && opts.users == UserSelection::AllUsers;
    let mut seen: HashSet<String> = HashSet::new();
    let mut summary = StoredListing::default();
    for scope in scopes(state, opts).await? {
        let mut listed = state.listed_windows(&scope).await?;
        listed.retain(|w| {
            chosen.is_some() || windows::stored_window_overlaps(&w.window, opts.from, opts.to)
        });
        // Newest month first, as Zoom lists.
        listed.sort_by(|a, b| b.window.from.cmp(&a.window.from));
        for w in listed {
            summary.windows += 1;
            if summary.oldest.as_ref().is_none_or(|o| w.listed_at < *o) {
                summary.oldest = Some(w.listed_at.clone());
            }
            if summary.newest.as_ref().is_none_or(|n| w.listed_at > *n) {
                summary.newest = Some(w.listed_at.clone());
            }
            let mut batch: Vec<(String, Meeting)> = Vec::new();
            for row in state.window_listing(&w.window).await? {
                let Some(m) = windows::from_listed(&row) else {
                    summary.unreadable += 1;
                    continue;
                };
                let wanted = opts.filters.admits(&m)
                    && (!by_host || opts.filters.wants_host(&row.host, &m))
                    && match &chosen {
                        Some(set) => set.contains(m.uuid.as_str()),
                        None => windows::starts_within(&m, opts.from, opts.to),
                    };
                if wanted && seen.insert(m.uuid.clone()) {
                    batch.push((row.host, m));
                }
            }
            for part in batch.chunks(LIST_BATCH) {
                let meetings: Vec<Meeting> = part.iter().map(|(_, m)| m.clone()).collect();
                f.prefetch(&meetings).await?;
                for ((host, _), m) in part.iter().zip(meetings) {
                    summary.meetings += 1;
                    f.call(m, host).await?;
                }
            }
        }
    }
    Ok(summary)
}
