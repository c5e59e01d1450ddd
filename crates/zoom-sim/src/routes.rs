//! What a `/v2` request asks for: its route, parsed from the method and the path's segments
//! into [`Route`], with the raw path parameters it carries; the route's name as the stats,
//! tests and [`FaultConfig::failing_routes`](crate::FaultConfig) spell it; its rate-limit
//! category; and the lookups of query parameters and uuid segments the handlers share.
//!
//! The path is split by hand, not by axum's router, so that uuid encoding behaves like
//! Zoom's: the gateway decodes the path once before routing, so a single-encoded `/` inside a
//! uuid splits the path (and the meeting is not found), while a double-encoded one survives
//! as `%2F` and is decoded again as the uuid.

use axum::http::Method;

use crate::config::Category;

/// One `/v2` API route, with its path parameters as they arrived (decoded once with the
/// whole path; a uuid may still hold `%2F`, see [`decode_uuid_segment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /v2/users`
    ListUsers,
    /// `GET /v2/users/{id}`
    GetUser { user: &'a str },
    /// `GET /v2/users/{id}/recordings`
    ListRecordings { user: &'a str },
    /// `GET /v2/accounts/{id}/recordings` (`me` or the account's own id)
    ListAccountRecordings { account: &'a str },
    /// `GET /v2/meetings/meeting_summaries`
    ListSummaries,
    /// `GET /v2/meetings/{uuid}/recordings`
    GetMeetingRecordings { uuid: &'a str },
    /// `DELETE /v2/meetings/{uuid}/recordings`
    DeleteMeetingRecordings { uuid: &'a str },
    /// `PUT /v2/meetings/{uuid}/recordings/status`
    RecoverMeetingRecordings { uuid: &'a str },
    /// `DELETE /v2/meetings/{uuid}/recordings/{file_id}`
    DeleteRecordingFile { uuid: &'a str, file_id: &'a str },
    /// `PUT /v2/meetings/{uuid}/recordings/{file_id}/status`
    RecoverRecordingFile { uuid: &'a str, file_id: &'a str },
    /// `GET /v2/meetings/{uuid}/meeting_summary`
    MeetingSummary { uuid: &'a str },
    /// Anything else (answered 404).
    Unknown,
}

impl<'a> Route<'a> {
    /// Parses the segments of a path decoded once (`["v2", "users", ...]`).
    pub fn parse(method: &Method, segs: &[&'a str]) -> Route<'a> {
        let m = method.as_str();
        match segs {
            ["v2", "users"] if m == "GET" => Route::ListUsers,
            ["v2", "users", u] if m == "GET" => Route::GetUser { user: u },
            ["v2", "users", u, "recordings"] if m == "GET" => Route::ListRecordings { user: u },
            ["v2", "accounts", a, "recordings"] if m == "GET" => {
                Route::ListAccountRecordings { account: a }
            }
            ["v2", "meetings", "meeting_summaries"] if m == "GET" => Route::ListSummaries,
            ["v2", "meetings", u, "recordings"] if m == "GET" => {
                Route::GetMeetingRecordings { uuid: u }
            }
            ["v2", "meetings", u, "recordings"] if m == "DELETE" => {
                Route::DeleteMeetingRecordings { uuid: u }
            }
            ["v2", "meetings", u, "recordings", "status"] if m == "PUT" => {
                Route::RecoverMeetingRecordings { uuid: u }
            }
            ["v2", "meetings", u, "recordings", f] if m == "DELETE" => Route::DeleteRecordingFile {
                uuid: u,
                file_id: f,
            },
            ["v2", "meetings", u, "recordings", f, "status"] if m == "PUT" => {
                Route::RecoverRecordingFile {
                    uuid: u,
                    file_id: f,
                }
            }
            ["v2", "meetings", u, "meeting_summary"] if m == "GET" => {
                Route::MeetingSummary { uuid: u }
            }
            _ => Route::Unknown,
        }
    }

    /// The route's name, as the stats count it and `failing_routes` names it.
    pub fn name(&self) -> &'static str {
        match self {
            Route::ListUsers => "/v2/users",
            Route::GetUser { .. } => "/v2/users/{id}",
            Route::ListRecordings { .. } => "/v2/users/{id}/recordings",
            Route::ListAccountRecordings { .. } => "/v2/accounts/{id}/recordings",
            Route::ListSummaries => "/v2/meetings/meeting_summaries",
            Route::GetMeetingRecordings { .. } | Route::DeleteMeetingRecordings { .. } => {
                "/v2/meetings/{uuid}/recordings"
            }
            Route::RecoverMeetingRecordings { .. } => "/v2/meetings/{uuid}/recordings/status",
            Route::DeleteRecordingFile { .. } => "/v2/meetings/{uuid}/recordings/{file_id}",
            Route::RecoverRecordingFile { .. } => "/v2/meetings/{uuid}/recordings/{file_id}/status",
            Route::MeetingSummary { .. } => "/v2/meetings/{uuid}/meeting_summary",
            Route::Unknown => "unknown",
        }
    }

    /// The path parameters in the order the name's `{...}` segments hold them.
    fn params(&self) -> Vec<&'a str> {
        match *self {
            Route::ListUsers | Route::ListSummaries | Route::Unknown => vec![],
            Route::GetUser { user } | Route::ListRecordings { user } => vec![user],
            Route::ListAccountRecordings { account } => vec![account],
            Route::GetMeetingRecordings { uuid }
            | Route::DeleteMeetingRecordings { uuid }
            | Route::RecoverMeetingRecordings { uuid }
            | Route::MeetingSummary { uuid } => vec![uuid],
            Route::DeleteRecordingFile { uuid, file_id }
            | Route::RecoverRecordingFile { uuid, file_id } => vec![uuid, file_id],
        }
    }

    /// Zoom's rate-limit category of the route (zoom-api.md §6): the listings are Medium.
    pub fn category(&self) -> Category {
        match self {
            Route::ListUsers
            | Route::ListRecordings { .. }
            | Route::ListAccountRecordings { .. }
            | Route::ListSummaries => Category::Medium,
            _ => Category::Light,
        }
    }

    /// Whether the request matches one of `failing_routes` (see [`crate::FaultConfig`]): an
    /// entry names the route, or the route with its parameters filled in, optionally after a
    /// method.
    pub fn is_down(&self, entries: &[String], method: &Method) -> bool {
        if entries.is_empty() {
            return false;
        }
        let route = self.name();
        // The route with each `{...}` segment replaced by its parameter, decoded as a uuid is.
        let mut params = self.params().into_iter();
        let filled: Vec<String> = route
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') && seg.ends_with('}') {
                    params.next().map(decode_uuid_segment).unwrap_or_default()
                } else {
                    seg.to_string()
                }
            })
            .collect();
        let filled = filled.join("/");
        entries.iter().any(|e| {
            let path = match e.split_once(' ') {
                Some((m, path)) if m == method.as_str() => path,
                Some(_) => return false, // another method's route
                None => e.as_str(),
            };
            path == route || path == filled
        })
    }
}

pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Decodes a uuid path segment (already decoded once with the whole path): a double-encoded
/// uuid still holds `%2F`/`%2B`/`%3D` here.
pub fn decode_uuid_segment(seg: &str) -> String {
    if seg.contains('%') {
        percent_decode(seg)
    } else {
        seg.to_string()
    }
}

/// The first value of query parameter `k`.
pub fn query_param<'a>(query: &'a [(String, String)], k: &str) -> Option<&'a str> {
    query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: Method, path: &str) -> Route<'_> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        Route::parse(&method, &segs)
    }

    /// Every route's name is the one the stats report and `failing_routes` takes; clients'
    /// tests count requests by these exact strings.
    #[test]
    fn each_path_parses_to_the_route_named_as_before() {
        let cases = [
            (Method::GET, "/v2/users", "/v2/users"),
            (Method::GET, "/v2/users/me", "/v2/users/{id}"),
            (
                Method::GET,
                "/v2/users/me/recordings",
                "/v2/users/{id}/recordings",
            ),
            (
                Method::GET,
                "/v2/meetings/u1/recordings",
                "/v2/meetings/{uuid}/recordings",
            ),
            (
                Method::DELETE,
                "/v2/meetings/u1/recordings",
                "/v2/meetings/{uuid}/recordings",
            ),
            (
                Method::PUT,
                "/v2/meetings/u1/recordings/status",
                "/v2/meetings/{uuid}/recordings/status",
            ),
            (
                Method::DELETE,
                "/v2/meetings/u1/recordings/f1",
                "/v2/meetings/{uuid}/recordings/{file_id}",
            ),
            (
                Method::PUT,
                "/v2/meetings/u1/recordings/f1/status",
                "/v2/meetings/{uuid}/recordings/{file_id}/status",
            ),
            (
                Method::GET,
                "/v2/meetings/u1/meeting_summary",
                "/v2/meetings/{uuid}/meeting_summary",
            ),
            (
                Method::GET,
                "/v2/accounts/me/recordings",
                "/v2/accounts/{id}/recordings",
            ),
            (
                Method::GET,
                "/v2/meetings/meeting_summaries",
                "/v2/meetings/meeting_summaries",
            ),
        ];
        for (method, path, name) in cases {
            assert_eq!(parse(method.clone(), path).name(), name, "{method} {path}");
        }
    }

    #[test]
    fn a_method_a_route_does_not_take_is_unknown() {
        for (method, path) in [
            (Method::POST, "/v2/users"),
            (Method::DELETE, "/v2/users/me"),
            (Method::PUT, "/v2/meetings/u1/recordings"),
            (Method::GET, "/v2/meetings/u1/recordings/f1"),
            (Method::GET, "/v2/meetings/u1/recordings/extra/status/more"),
        ] {
            assert_eq!(
                parse(method.clone(), path),
                Route::Unknown,
                "{method} {path}"
            );
        }
        assert_eq!(Route::Unknown.name(), "unknown");
    }

    #[test]
    fn path_parameters_are_kept_raw_for_the_handlers() {
        assert_eq!(
            parse(Method::DELETE, "/v2/meetings/ab%2Fc%3D%3D/recordings/f1"),
            Route::DeleteRecordingFile {
                uuid: "ab%2Fc%3D%3D",
                file_id: "f1"
            }
        );
    }

    #[test]
    fn only_the_listings_are_medium() {
        assert_eq!(parse(Method::GET, "/v2/users").category(), Category::Medium);
        assert_eq!(
            parse(Method::GET, "/v2/users/me/recordings").category(),
            Category::Medium
        );
        assert_eq!(
            parse(Method::GET, "/v2/accounts/me/recordings").category(),
            Category::Medium
        );
        assert_eq!(
            parse(Method::GET, "/v2/meetings/meeting_summaries").category(),
            Category::Medium
        );
        assert_eq!(
            parse(Method::GET, "/v2/users/me").category(),
            Category::Light
        );
        assert_eq!(
            parse(Method::DELETE, "/v2/meetings/u1/recordings").category(),
            Category::Light
        );
    }

    #[test]
    fn failing_routes_match_by_name_filled_path_and_method() {
        let route = parse(Method::GET, "/v2/meetings/ab%2Fc/meeting_summary");
        let down = |entry: &str, method: Method| route.is_down(&[entry.to_string()], &method);
        assert!(down("/v2/meetings/{uuid}/meeting_summary", Method::GET));
        assert!(down("GET /v2/meetings/{uuid}/meeting_summary", Method::GET));
        // The uuid is decoded as the handlers decode it.
        assert!(down("/v2/meetings/ab/c/meeting_summary", Method::GET));
        assert!(!down(
            "DELETE /v2/meetings/{uuid}/meeting_summary",
            Method::GET
        ));
        assert!(!down("/v2/meetings/other/meeting_summary", Method::GET));
        assert!(!down("/v2/meetings/{uuid}/recordings", Method::GET));
        assert!(!route.is_down(&[], &Method::GET));
    }
}
