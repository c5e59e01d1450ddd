//! A fake of Dropbox's API v2 as zvm's upload uses it, over loopback: the OAuth token
//! endpoint, the upload session (`upload_session/start`, `append_v2`, `finish`),
//! `get_metadata` and `delete_v2`. It enforces the documented rules: a valid access token
//! on every request (else 401 `expired_access_token`), `Dropbox-API-Arg` as ASCII JSON,
//! each append at the offset the session stands at (else 409 `incorrect_offset` with
//! `correct_offset`), `finish` committing with mode `overwrite`; a session finished or
//! expired is `not_found`. The answer to `finish` carries the size and `content_hash`.
//! Faults: fake_http.rs.

#![allow(dead_code)]

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;
use sha2::{Digest as _, Sha256};

use crate::fake_http::{
    DriveState, FakeServer, Faults, SECRET_MARK, TokenAnswers, bearer, form_of, lost,
    refresh_grant, reply,
};

#[derive(Default)]
pub struct Fake {
    /// Files by path (`/Zoom/Rec/a.mp4`).
    pub files: HashMap<String, Vec<u8>>,
    sessions: HashMap<String, Vec<u8>>,
    pub valid_tokens: Vec<String>,
    pub faults: Faults,
    pub chunk_requests: usize,
    pub refreshes: usize,
    pub longest_body: usize,
    pub violations: Vec<String>,
    counter: u64,
}

/// Dropbox's content hash, written from its description (not the code under test): the
/// SHA-256 of the concatenated SHA-256s of the 4 MiB blocks.
pub fn content_hash(data: &[u8]) -> String {
    let mut whole = Sha256::new();
    for block in data.chunks(4 << 20) {
        whole.update(Sha256::digest(block));
    }
    hex::encode(whole.finalize())
}

impl DriveState for Fake {
    fn new(_: String) -> Self {
        Fake::default()
    }
    fn handle(&mut self, parts: &Parts, body: Bytes) -> Response {
        handle(self, parts, body)
    }
    fn faults_mut(&mut self) -> &mut Faults {
        &mut self.faults
    }
    fn violations(&self) -> &[String] {
        &self.violations
    }
    fn refreshes(&self) -> usize {
        self.refreshes
    }
    fn stored(&self, path: &str) -> Option<Vec<u8>> {
        self.files.get(&format!("/{path}")).cloned()
    }
}

pub type FakeDropbox = FakeServer<Fake>;

fn conflict(summary: &str, error: serde_json::Value) -> Response {
    reply(
        409,
        serde_json::json!({"error_summary": summary, "error": error}).to_string(),
    )
}

fn metadata(f: &Fake, path: &str) -> serde_json::Value {
    let bytes = &f.files[path];
    let hash = if f.faults.wrong_hash {
        "0".repeat(64)
    } else {
        content_hash(bytes)
    };
    serde_json::json!({
        ".tag": "file",
        "name": path.rsplit('/').next().unwrap_or(""),
        "id": format!("id:{}", path.len()),
        "path_display": path,
        "size": bytes.len(),
        "content_hash": hash,
    })
}

fn handle(f: &mut Fake, parts: &Parts, body: Bytes) -> Response {
    let path = parts.uri.path().to_string();

    if path == "/oauth2/token" && parts.method == Method::POST {
        return refresh_grant(
            &form_of(&body),
            &mut f.valid_tokens,
            &mut f.refreshes,
            &TokenAnswers {
                refused: "refresh token is invalid or revoked",
                expires_in: 14400,
                token_type: "bearer",
            },
        );
    }
    if parts.method != Method::POST {
        return reply(405, "");
    }

    let chunk_route =
        path == "/2/files/upload_session/append_v2" || path == "/2/files/upload_session/finish";
    let mut nth = 0;
    if chunk_route {
        f.chunk_requests += 1;
        nth = f.chunk_requests;
        f.longest_body = f.longest_body.max(body.len());
        f.faults
            .strike_before_chunk(nth, &mut f.valid_tokens, &mut f.sessions);
        if f.faults.lose_all_answers_from.is_some_and(|n| nth >= n) {
            return lost(200);
        }
    }
    let token = bearer(&parts.headers);
    if !token.as_ref().is_some_and(|t| f.valid_tokens.contains(t)) {
        return reply(
            401,
            r#"{"error_summary":"expired_access_token/..","error":{".tag":"expired_access_token"}}"#,
        );
    }

    let arg: serde_json::Value = if path.starts_with("/2/files/upload_session/") {
        let Some(raw) = parts.headers.get("dropbox-api-arg") else {
            f.violations.push(format!("{path} without Dropbox-API-Arg"));
            return reply(400, "missing Dropbox-API-Arg");
        };
        if !raw.as_bytes().iter().all(|b| b.is_ascii() && *b != 0x7f) {
            f.violations
                .push("Dropbox-API-Arg that is not ASCII".into());
            return reply(400, "Dropbox-API-Arg must be ASCII");
        }
        serde_json::from_slice(raw.as_bytes()).unwrap_or_default()
    } else {
        serde_json::from_slice(&body).unwrap_or_default()
    };

    match path.as_str() {
        "/2/files/upload_session/start" => {
            f.counter += 1;
            let sid = format!("sid-{SECRET_MARK}-{}", f.counter);
            f.sessions.insert(sid.clone(), body.to_vec());
            reply(200, serde_json::json!({"session_id": sid}).to_string())
        }
        "/2/files/upload_session/append_v2" | "/2/files/upload_session/finish" => {
            let finish = path.ends_with("finish");
            let sid = arg["cursor"]["session_id"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let offset = arg["cursor"]["offset"].as_u64().unwrap_or(u64::MAX) as usize;
            let Some(received) = f.sessions.get(&sid).map(Vec::len) else {
                return if finish {
                    conflict(
                        "lookup_failed/not_found/..",
                        serde_json::json!({".tag": "lookup_failed", "lookup_failed": {".tag": "not_found"}}),
                    )
                } else {
                    conflict("not_found/..", serde_json::json!({".tag": "not_found"}))
                };
            };
            if offset != received {
                let e = serde_json::json!({".tag": "incorrect_offset", "correct_offset": received});
                return if finish {
                    conflict(
                        "lookup_failed/incorrect_offset/..",
                        serde_json::json!({".tag": "lookup_failed", "lookup_failed": e}),
                    )
                } else {
                    conflict("incorrect_offset/..", e)
                };
            }
            if f.faults.fail_chunk == Some(nth) {
                return reply(503, "");
            }
            // A chunk cut midway: the first half kept, the answer lost.
            if f.faults.partial_chunk == Some(nth) && !finish {
                let half = body.len() / 2;
                f.sessions
                    .get_mut(&sid)
                    .expect("a session")
                    .extend_from_slice(&body[..half]);
                return lost(200);
            }
            f.sessions
                .get_mut(&sid)
                .expect("a session")
                .extend_from_slice(&body);
            let resp = if finish {
                let commit = &arg["commit"];
                if commit["mode"].as_str() != Some("overwrite") {
                    f.violations
                        .push(format!("a commit with mode {:?}", commit["mode"]));
                }
                let p = commit["path"].as_str().unwrap_or("").to_string();
                if !p.starts_with('/') {
                    f.violations.push(format!("a commit path {p:?}"));
                }
                let bytes = f.sessions.remove(&sid).expect("a session");
                f.files.insert(p.clone(), bytes);
                reply(200, metadata(f, &p).to_string())
            } else {
                reply(200, "null")
            };
            if f.faults.lose_answer_of_chunk == Some(nth) {
                return lost(200);
            }
            resp
        }
        "/2/files/get_metadata" => {
            let p = arg["path"].as_str().unwrap_or("");
            if f.files.contains_key(p) {
                reply(200, metadata(f, p).to_string())
            } else {
                conflict(
                    "path/not_found/..",
                    serde_json::json!({".tag": "path", "path": {".tag": "not_found"}}),
                )
            }
        }
        "/2/files/delete_v2" => {
            let p = arg["path"].as_str().unwrap_or("").to_string();
            if f.files.remove(&p).is_some() {
                reply(
                    200,
                    serde_json::json!({"metadata": {"path_display": p}}).to_string(),
                )
            } else {
                conflict(
                    "path_lookup/not_found/..",
                    serde_json::json!({".tag": "path_lookup"}),
                )
            }
        }
        _ => reply(404, ""),
    }
}
