//! What a token may do (zoom-api.md §1 "Scopes", §2 "Account level", §4): the scopes every
//! issued token carries ([`AccessConfig::scopes`]), the scopes each `/v2` route requires, the
//! 403 code 4711 a token without them gets, and the refusals Zoom answers the account-wide
//! recordings listing and the summary listing with on some accounts and plans
//! ([`ListingAccess`]), so a client's fallback can be tested against each of them.
//!
//! Each route accepts any one of several scopes: the granular one (`...:admin` for an admin
//! acting on the whole account, without `:admin` for a user's own data) or the classic one
//! (`recording:read`, ...). The 4711 message names the granular alternatives, as Zoom's does,
//! so a client can tell the admin which scope to add.

use axum::http::StatusCode;
use axum::response::Response;

use crate::replies::zoom_error;
use crate::routes::Route;

pub use crate::config::{
    ACCOUNT_RECORDINGS_SCOPE, AccessConfig, FULL_GRANT, ListingAccess, SUMMARIES_LIST_SCOPE,
};

/// The scopes any one of which lets a token use `route`: granular first, then classic.
/// `for_self`: the request is about the token's own user (`me`), where the non-admin
/// variants also do. Meeting-level routes accept both variants: the simulator does not tie
/// a meeting's scopes to its host.
pub fn required_scopes(route: &Route<'_>, for_self: bool) -> Vec<&'static str> {
    let (admin, own): (&[&str], &[&str]) = match route {
        Route::ListUsers => (&["user:read:list_users:admin", "user:read:admin"], &[]),
        Route::GetUser { .. } => (
            &["user:read:user:admin", "user:read:admin"],
            &["user:read:user", "user:read"],
        ),
        Route::ListRecordings { .. } => (
            &[
                "cloud_recording:read:list_user_recordings:admin",
                "recording:read:admin",
            ],
            &[
                "cloud_recording:read:list_user_recordings",
                "recording:read",
            ],
        ),
        Route::ListAccountRecordings { .. } => {
            (&[ACCOUNT_RECORDINGS_SCOPE, "account:read:admin"], &[])
        }
        Route::ListSummaries => (&[SUMMARIES_LIST_SCOPE, "meeting_summary:read:admin"], &[]),
        Route::GetMeetingRecordings { .. } => (
            &[
                "cloud_recording:read:list_recording_files:admin",
                "cloud_recording:read:list_recording_files",
                "recording:read:admin",
                "recording:read",
            ],
            &[],
        ),
        Route::DeleteMeetingRecordings { .. } => (
            &[
                "cloud_recording:delete:meeting_recording:admin",
                "cloud_recording:delete:meeting_recording",
                "recording:write:admin",
                "recording:write",
            ],
            &[],
        ),
        Route::DeleteRecordingFile { .. } => (
            &[
                "cloud_recording:delete:recording_file:admin",
                "cloud_recording:delete:recording_file",
                "recording:write:admin",
                "recording:write",
            ],
            &[],
        ),
        Route::RecoverMeetingRecordings { .. } => (
            &[
                "cloud_recording:update:recover_meeting_recordings:admin",
                "cloud_recording:update:recover_meeting_recordings",
                "recording:write:admin",
                "recording:write",
            ],
            &[],
        ),
        Route::RecoverRecordingFile { .. } => (
            &[
                "cloud_recording:update:recover_single_recording:admin",
                "cloud_recording:update:recover_single_recording",
                "recording:write:admin",
                "recording:write",
            ],
            &[],
        ),
        Route::MeetingSummary { .. } => (
            &[
                "meeting:read:summary:admin",
                "meeting:read:summary",
                "meeting_summary:read:admin",
                "meeting_summary:read",
            ],
            &[],
        ),
        Route::Unknown => (&[], &[]),
    };
    if for_self {
        // A user's own data: the user-level variants are named first, as Zoom names them.
        own.iter().chain(admin).copied().collect()
    } else {
        admin.to_vec()
    }
}

/// Classic scopes (no `cloud_recording:`-style resource:action:name shape) are left out of
/// the 4711 message: Zoom names the granular ones an app should add today.
fn is_granular(scope: &str) -> bool {
    scope.matches(':').count() >= 2
}

/// Zoom's answer to a token without the scope a route needs: 403 code 4711 naming it.
pub fn missing_scope(needed: &[&str]) -> Response {
    let named: Vec<&str> = needed.iter().copied().filter(|s| is_granular(s)).collect();
    zoom_error(
        StatusCode::FORBIDDEN,
        4711,
        &format!(
            "Invalid access token, does not contain scopes:[{}].",
            named.join(", ")
        ),
    )
}

/// `None` when `granted` holds one of the scopes `route` needs, else the 4711 answer.
pub fn check_scopes(route: &Route<'_>, for_self: bool, granted: &[String]) -> Option<Response> {
    let needed = required_scopes(route, for_self);
    if needed.is_empty() || needed.iter().any(|n| granted.iter().any(|g| g == n)) {
        return None;
    }
    Some(missing_scope(&needed))
}

/// Which admin listing a refusal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminListing {
    AccountRecordings,
    Summaries,
}

/// The refusal `access` configures for `listing`, or `None` when it is served.
pub fn listing_refusal(listing: AdminListing, access: ListingAccess) -> Option<Response> {
    let scope = match listing {
        AdminListing::AccountRecordings => ACCOUNT_RECORDINGS_SCOPE,
        AdminListing::Summaries => SUMMARIES_LIST_SCOPE,
    };
    match access {
        ListingAccess::Allowed => None,
        ListingAccess::Scope4711 => Some(missing_scope(&[scope])),
        ListingAccess::NotAllowed4700 => Some(zoom_error(
            StatusCode::FORBIDDEN,
            4700,
            "Invalid access token, the user is not authorized to use this API.",
        )),
        ListingAccess::BadRequest400 => Some(zoom_error(
            StatusCode::BAD_REQUEST,
            200,
            "This API is not available on the account's plan.",
        )),
        ListingAccess::NotFound404 => Some(match listing {
            AdminListing::AccountRecordings => {
                zoom_error(StatusCode::NOT_FOUND, 2001, "Account does not exist.")
            }
            AdminListing::Summaries => zoom_error(StatusCode::NOT_FOUND, 404, "Not found"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    fn route(method: Method, path: &str) -> Route<'_> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        Route::parse(&method, &segs)
    }

    /// The full grant opens every route the simulator serves: defaults change nothing.
    #[test]
    fn the_full_grant_passes_every_route() {
        let full: Vec<String> = AccessConfig::default().granted();
        for (m, p) in [
            (Method::GET, "/v2/users"),
            (Method::GET, "/v2/users/someone"),
            (Method::GET, "/v2/users/someone/recordings"),
            (Method::GET, "/v2/accounts/me/recordings"),
            (Method::GET, "/v2/meetings/meeting_summaries"),
            (Method::GET, "/v2/meetings/u/recordings"),
            (Method::DELETE, "/v2/meetings/u/recordings"),
            (Method::DELETE, "/v2/meetings/u/recordings/f"),
            (Method::PUT, "/v2/meetings/u/recordings/status"),
            (Method::PUT, "/v2/meetings/u/recordings/f/status"),
            (Method::GET, "/v2/meetings/u/meeting_summary"),
        ] {
            let r = route(m.clone(), p);
            assert_ne!(r, Route::Unknown, "{m} {p}");
            assert!(
                !required_scopes(&r, false).is_empty(),
                "{m} {p} needs a scope"
            );
            assert!(check_scopes(&r, false, &full).is_none(), "{m} {p}");
        }
    }

    #[test]
    fn own_data_takes_the_user_level_scope_and_others_the_admin_one() {
        let r = route(Method::GET, "/v2/users/me/recordings");
        let user_level = vec!["cloud_recording:read:list_user_recordings".to_string()];
        assert!(check_scopes(&r, true, &user_level).is_none());
        assert!(check_scopes(&r, false, &user_level).is_some());
        let classic = vec!["recording:read:admin".to_string()];
        assert!(check_scopes(&r, false, &classic).is_none());
        // The account listing has no user-level variant: `me` is the account.
        let a = route(Method::GET, "/v2/accounts/me/recordings");
        assert!(check_scopes(&a, true, &user_level).is_some());
        assert!(check_scopes(&a, true, &["account:read:admin".to_string()]).is_none());
    }

    #[test]
    fn listing_access_reads_its_spellings() {
        assert_eq!("scope-4711".parse(), Ok(ListingAccess::Scope4711));
        assert_eq!("404".parse(), Ok(ListingAccess::NotFound404));
        assert!("sometimes".parse::<ListingAccess>().is_err());
    }
}
