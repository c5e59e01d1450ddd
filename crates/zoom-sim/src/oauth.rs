//! The OAuth server (zoom-api.md §1): `/oauth/token` for Server-to-Server, authorization
//! code with PKCE and refresh rotation, `/oauth/authorize`, `/oauth/revoke`, and the bearer
//! token checks the API and the download path make.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use crate::replies::{json_response, oauth_error, zoom_error};
use crate::state::{AppState, CodeInfo, Shared, TokenInfo};

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn issue_tokens(st: &Shared, user_index: usize, with_refresh: bool) -> Value {
    let access = st.fresh_token("sim-at-");
    let refresh = with_refresh.then(|| st.fresh_token("sim-rt-"));
    let ttl = st.cfg.token_ttl_secs;
    let scopes = st.cfg.access.granted();
    if let Ok(mut s) = st.sessions.lock() {
        s.tokens.insert(
            access.clone(),
            TokenInfo {
                expires_at: st.now_secs() + ttl as i64,
                user_index,
                scopes: scopes.clone().into(),
            },
        );
        if let Some(refresh) = &refresh {
            s.refresh_tokens.insert(refresh.clone(), user_index);
        }
    }
    let mut v = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": ttl,
        "scope": scopes.join(" "),
        "api_url": st.base_url(),
    });
    if let Some(refresh) = refresh {
        v["refresh_token"] = Value::String(refresh);
    }
    v
}

/// The user an S2S token or an authorization acts as: the first active user (the owner).
fn owner_index(st: &Shared) -> usize {
    st.world
        .read()
        .ok()
        .and_then(|w| w.account.users.iter().position(|u| u.status == "active"))
        .unwrap_or(0)
}

pub async fn oauth_token(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: axum::body::Bytes,
) -> Response {
    let resp = oauth_token_inner(&st, &headers, uri.query().unwrap_or(""), &body);
    st.record("POST /oauth/token", resp.status().as_u16());
    resp
}

/// The token request's parameters: the form body's, then the query string's. Zoom accepts
/// both (its S2S documentation shows `POST /oauth/token?grant_type=...&account_id=...`
/// with an empty body, clients send a form), so the simulator does too.
fn token_params(query: &str, body: &[u8]) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> =
        url::form_urlencoded::parse(body).into_owned().collect();
    params.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
    params
}

fn oauth_token_inner(st: &Shared, headers: &HeaderMap, query: &str, body: &[u8]) -> Response {
    let form = token_params(query, body);
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let cfg = &st.cfg;
    let basic = basic_credentials(headers);
    let client_ok = match &basic {
        Some((id, secret)) => id == &cfg.client_id && secret == &cfg.client_secret,
        // Public PKCE clients send only their client_id.
        None => get("client_id").as_deref() == Some(cfg.client_id.as_str()),
    };
    if !client_ok {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret",
        );
    }
    match get("grant_type").as_deref() {
        Some("account_credentials") => {
            if basic.is_none() {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "Invalid client_id or client_secret",
                );
            }
            if get("account_id").as_deref() != Some(cfg.account_id.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Invalid account_id",
                );
            }
            json_response(StatusCode::OK, &issue_tokens(st, owner_index(st), false))
        }
        Some("authorization_code") => {
            let code = get("code").unwrap_or_default();
            let info = st
                .sessions
                .lock()
                .ok()
                .and_then(|mut s| s.codes.remove(&code));
            let Some(info) = info else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid authorization code",
                );
            };
            if info.expires_at < st.now_secs() {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authorization code expired",
                );
            }
            if get("redirect_uri").as_deref() != Some(info.redirect_uri.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Redirect URI mismatch.",
                );
            }
            if !info.challenge.is_empty() {
                use sha2::Digest;
                let verifier = get("code_verifier").unwrap_or_default();
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()));
                if computed != info.challenge {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "Invalid code_verifier",
                    );
                }
            }
            let _ = info.client_id;
            json_response(StatusCode::OK, &issue_tokens(st, owner_index(st), true))
        }
        Some("refresh_token") => {
            let rt = get("refresh_token").unwrap_or_default();
            // Rotation: the refresh token is single use.
            let user = st
                .sessions
                .lock()
                .ok()
                .and_then(|mut s| s.refresh_tokens.remove(&rt));
            match user {
                Some(u) => json_response(StatusCode::OK, &issue_tokens(st, u, true)),
                None => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid Token!"),
            }
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        ),
    }
}

pub async fn oauth_authorize(
    State(st): State<AppState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let resp = (|| {
        if q.get("response_type").map(String::as_str) != Some("code")
            || q.get("client_id") != Some(&st.cfg.client_id)
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Invalid client_id or response_type",
            );
        }
        let Some(redirect) = q.get("redirect_uri").cloned() else {
            return zoom_error(StatusCode::BAD_REQUEST, 4709, "Redirect URI mismatch.");
        };
        let challenge = q.get("code_challenge").cloned().unwrap_or_default();
        if !challenge.is_empty()
            && q.get("code_challenge_method").map(String::as_str) != Some("S256")
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Only S256 is supported",
            );
        }
        let code = st.fresh_token("sim-code-");
        if let Ok(mut s) = st.sessions.lock() {
            s.codes.insert(
                code.clone(),
                CodeInfo {
                    client_id: st.cfg.client_id.clone(),
                    redirect_uri: redirect.clone(),
                    challenge,
                    expires_at: st.now_secs() + 300,
                },
            );
        }
        let mut loc = match url::Url::parse(&redirect) {
            Ok(u) => u,
            Err(_) => return zoom_error(StatusCode::BAD_REQUEST, 4709, "Redirect URI mismatch."),
        };
        loc.query_pairs_mut().append_pair("code", &code);
        if let Some(s) = q.get("state") {
            loc.query_pairs_mut().append_pair("state", s);
        }
        Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, loc.as_str())
            .body(Body::empty())
            .unwrap_or_default()
    })();
    st.record("GET /oauth/authorize", resp.status().as_u16());
    resp
}

pub async fn oauth_revoke(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    // The token may be an access or a refresh token: both maps lose it.
    let revoked = st
        .sessions
        .lock()
        .map(|mut s| {
            let access = s.tokens.remove(&token).is_some();
            let refresh = s.refresh_tokens.remove(&token).is_some();
            access || refresh
        })
        .unwrap_or(false);
    let resp = if revoked {
        json_response(StatusCode::OK, &json!({"status": "success"}))
    } else {
        oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Invalid Token")
    };
    st.record("POST /oauth/revoke", resp.status().as_u16());
    resp
}

/// Validates a bearer token; returns what it grants (the user it acts as, its scopes).
pub fn check_token(st: &Shared, token: &str) -> Option<TokenInfo> {
    let s = st.sessions.lock().ok()?;
    let info = s.tokens.get(token)?;
    (info.expires_at > st.now_secs()).then(|| info.clone())
}

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|s| s.trim().to_string())
}
/// Issues an S2S-equivalent access token directly, acting as the first user (for the
/// control plane, and curl/aria2 in benchmarks).
pub fn issue_token(st: &Shared) -> String {
    let t = st.fresh_token("sim-at-");
    if let Ok(mut s) = st.sessions.lock() {
        s.tokens.insert(
            t.clone(),
            TokenInfo {
                expires_at: st.now_secs() + st.cfg.token_ttl_secs as i64,
                user_index: 0,
                scopes: st.cfg.access.granted().into(),
            },
        );
    }
    t
}
