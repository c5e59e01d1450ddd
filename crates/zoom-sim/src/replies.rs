//! The shapes of the simulator's answers that every handler shares: JSON bodies with Zoom's
//! content type, Zoom's `{code, message}` errors, and the OAuth server's `{reason, error}`
//! errors. Nothing here knows a route; handlers pick the status and code.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

pub fn json_response(status: StatusCode, v: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::from(v.to_string()))
        .unwrap_or_default()
}

pub fn zoom_error(status: StatusCode, code: i64, message: &str) -> Response {
    json_response(status, &json!({"code": code, "message": message}))
}

/// Zoom's 404 code 3301: the recording does not exist (or is already gone).
pub fn no_recording() -> Response {
    zoom_error(
        StatusCode::NOT_FOUND,
        3301,
        "This recording does not exist.",
    )
}

pub fn oauth_error(status: StatusCode, error: &str, reason: &str) -> Response {
    json_response(status, &json!({"reason": reason, "error": error}))
}
