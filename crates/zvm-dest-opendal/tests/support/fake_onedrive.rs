//! A fake of Microsoft Graph's OneDrive API as zvm's upload uses it, over loopback: the
//! OAuth token endpoint, items by path, folder creation, the upload session
//! (<https://learn.microsoft.com/graph/api/driveitem-createuploadsession>) and removal. It
//! enforces the documented rules: a valid access token on every Graph request (else 401),
//! none on the upload URL, the conflict behaviour `replace`, `Content-Range: bytes a-b/total`
//! on every PUT with the same total, each chunk where the session stands, every chunk but
//! the last a multiple of 320 KiB (and at most 60 MiB); answers 202 with
//! `nextExpectedRanges`, the last 201 with the item (size, quickXorHash). A completed or
//! expired session answers 404. Faults: fake_http.rs.

#![allow(dead_code)]

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;
use base64::Engine as _;

use crate::fake_http::{
    DriveState, FakeServer, Faults, SECRET_MARK, TokenAnswers, bearer, form_of, header, lost,
    refresh_grant, reply,
};

pub const UNIT: usize = 320 << 10;
#[derive(Clone, Debug)]
pub struct Item {
    pub id: String,
    pub folder: bool,
    pub bytes: Vec<u8>,
}

struct Session {
    path: String,
    total: Option<usize>,
    received: Vec<u8>,
}

#[derive(Default)]
pub struct Fake {
    /// Items by path (`a/b/c.mp4`), the root being "".
    pub items: HashMap<String, Item>,
    sessions: HashMap<String, Session>,
    pub valid_tokens: Vec<String>,
    pub faults: Faults,
    pub chunk_puts: usize,
    pub refreshes: usize,
    pub folders_created: usize,
    pub lookups: usize,
    pub longest_put: usize,
    pub violations: Vec<String>,
    counter: u64,
    pub base: String,
}

impl Fake {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    pub fn seed(&mut self, path: &str, folder: bool, bytes: &[u8]) -> String {
        let id = format!("item{}", self.next());
        self.items.insert(
            path.to_string(),
            Item {
                id: id.clone(),
                folder,
                bytes: bytes.to_vec(),
            },
        );
        id
    }

    fn item_json(&self, path: &str) -> serde_json::Value {
        let item = &self.items[path];
        let name = path.rsplit('/').next().unwrap_or("");
        if item.folder {
            serde_json::json!({"id": item.id, "name": name, "folder": {"childCount": 0}})
        } else {
            let hash = if self.faults.wrong_hash {
                "AAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string()
            } else {
                quickxor(&item.bytes)
            };
            serde_json::json!({
                "id": item.id, "name": name, "size": item.bytes.len(),
                "file": {"mimeType": "video/mp4", "hashes": {"quickXorHash": hash}}
            })
        }
    }

    fn parent_is_folder(&self, path: &str) -> bool {
        match path.rsplit_once('/') {
            None => true,
            Some((dir, _)) => self.items.get(dir).is_some_and(|i| i.folder),
        }
    }
}

/// QuickXorHash written the slow way, bit by bit, as Microsoft's description puts it (not
/// the code under test): byte k's bit b toggles bit (11k + b) mod 160 of a 160-bit ring;
/// the length (64 bits, little-endian) is XORed into the ring's last 8 bytes.
pub fn quickxor(data: &[u8]) -> String {
    let mut ring = [0u8; 20];
    for (k, &byte) in data.iter().enumerate() {
        for b in 0..8 {
            if byte >> b & 1 == 1 {
                let bit = (k * 11 + b) % 160;
                ring[bit / 8] ^= 1 << (bit % 8);
            }
        }
    }
    for (i, l) in (data.len() as u64).to_le_bytes().iter().enumerate() {
        ring[12 + i] ^= l;
    }
    base64::engine::general_purpose::STANDARD.encode(ring)
}

impl DriveState for Fake {
    fn new(base: String) -> Self {
        Fake {
            base,
            ..Default::default()
        }
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
        self.items
            .get(path)
            .filter(|i| !i.folder)
            .map(|i| i.bytes.clone())
    }
}

pub type FakeOnedrive = FakeServer<Fake>;

fn error(status: u16, code: &str) -> Response {
    reply(
        status,
        serde_json::json!({"error": {"code": code, "message": code}}).to_string(),
    )
}

fn decode(p: &str) -> String {
    percent_encoding::percent_decode_str(p)
        .decode_utf8_lossy()
        .into_owned()
}

fn handle(f: &mut Fake, parts: &Parts, body: Bytes) -> Response {
    let path = parts.uri.path().to_string();

    if path == "/token" && parts.method == Method::POST {
        let form = form_of(&body);
        if !form
            .get("scope")
            .is_some_and(|s| s.contains("Files.ReadWrite"))
        {
            f.violations
                .push("a token request without the scope".into());
        }
        return refresh_grant(
            &form,
            &mut f.valid_tokens,
            &mut f.refreshes,
            &TokenAnswers {
                refused: "AADSTS70000: The refresh token was refused.",
                expires_in: 3599,
                token_type: "Bearer",
            },
        );
    }

    let has_auth = parts.headers.contains_key("authorization");
    let token = bearer(&parts.headers);

    // The upload URL: no token, its own credential.
    if let Some(sid) = path.strip_prefix("/up/") {
        let sid = sid.to_string();
        if has_auth {
            f.violations.push("a token sent to the upload URL".into());
        }
        let mut nth = 0;
        if parts.method == Method::PUT {
            f.chunk_puts += 1;
            nth = f.chunk_puts;
            f.longest_put = f.longest_put.max(body.len());
            f.faults
                .strike_before_chunk(nth, &mut f.valid_tokens, &mut f.sessions);
        }
        if f.faults
            .lose_all_answers_from
            .is_some_and(|n| f.chunk_puts >= n)
        {
            return lost(202);
        }
        if !f.sessions.contains_key(&sid) {
            return error(404, "itemNotFound");
        }
        return match parts.method {
            Method::GET => {
                let n = f.sessions[&sid].received.len();
                reply(
                    200,
                    serde_json::json!({"nextExpectedRanges": [format!("{n}-")]}).to_string(),
                )
            }
            Method::DELETE => {
                f.sessions.remove(&sid);
                reply(204, "")
            }
            Method::PUT => {
                let range = header(&parts.headers, "content-range");
                put_chunk(f, &sid, &range, &body, nth)
            }
            _ => error(405, "invalidRequest"),
        };
    }

    if !token.as_ref().is_some_and(|t| f.valid_tokens.contains(t)) {
        return error(401, "InvalidAuthenticationToken");
    }
    let Some(rest) = path.strip_prefix("/v1.0/me/drive/") else {
        return error(404, "itemNotFound");
    };
    let rest = decode(rest);
    match parts.method {
        Method::GET => {
            f.lookups += 1;
            let p = rest.strip_prefix("root:/").unwrap_or("");
            if f.items.contains_key(p) {
                reply(200, f.item_json(p).to_string())
            } else {
                error(404, "itemNotFound")
            }
        }
        Method::POST if rest.ends_with("children") => {
            let parent = rest
                .strip_prefix("root:/")
                .and_then(|r| r.strip_suffix(":/children"))
                .unwrap_or("");
            if rest != "root/children" && !f.items.get(parent).is_some_and(|i| i.folder) {
                f.violations
                    .push(format!("a folder created in a missing one: {parent}"));
                return error(404, "itemNotFound");
            }
            let meta: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let name = meta["name"].as_str().unwrap_or_default();
            let p = if parent.is_empty() {
                name.to_string()
            } else {
                format!("{parent}/{name}")
            };
            if f.items.contains_key(&p) {
                return error(409, "nameAlreadyExists");
            }
            f.folders_created += 1;
            f.seed(&p, true, b"");
            reply(201, f.item_json(&p).to_string())
        }
        Method::POST if rest.ends_with(":/createUploadSession") => {
            let p = rest
                .strip_prefix("root:/")
                .and_then(|r| r.strip_suffix(":/createUploadSession"))
                .unwrap_or("")
                .to_string();
            let meta: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            if meta["item"]["@microsoft.graph.conflictBehavior"].as_str() != Some("replace") {
                f.violations
                    .push("an upload session without conflictBehavior replace".into());
            }
            if !f.parent_is_folder(&p) {
                f.violations
                    .push(format!("an upload into a missing folder: {p}"));
                return error(404, "itemNotFound");
            }
            let sid = format!("sess-{SECRET_MARK}-{}", f.next());
            f.sessions.insert(
                sid.clone(),
                Session {
                    path: p,
                    total: None,
                    received: Vec::new(),
                },
            );
            reply(
                200,
                serde_json::json!({
                    "uploadUrl": format!("{}/up/{sid}", f.base),
                    "expirationDateTime": "2026-12-08T00:00:00Z",
                    "nextExpectedRanges": ["0-"]
                })
                .to_string(),
            )
        }
        Method::PUT if rest.ends_with(":/content") => {
            let p = rest
                .strip_prefix("root:/")
                .and_then(|r| r.strip_suffix(":/content"))
                .unwrap_or("")
                .to_string();
            if !f.parent_is_folder(&p) {
                return error(404, "itemNotFound");
            }
            let id = format!("item{}", f.next());
            f.items.insert(
                p.clone(),
                Item {
                    id,
                    folder: false,
                    bytes: body.to_vec(),
                },
            );
            reply(201, f.item_json(&p).to_string())
        }
        Method::DELETE => {
            let id = rest.strip_prefix("items/").unwrap_or("");
            let found = f
                .items
                .iter()
                .find(|(_, i)| i.id == id)
                .map(|(p, _)| p.clone());
            match found {
                Some(p) => {
                    f.items.remove(&p);
                    reply(204, "")
                }
                None => error(404, "itemNotFound"),
            }
        }
        _ => error(404, "itemNotFound"),
    }
}

fn put_chunk(f: &mut Fake, sid: &str, range: &str, body: &[u8], nth: usize) -> Response {
    let parsed = range.strip_prefix("bytes ").and_then(|r| {
        let (span, total) = r.split_once('/')?;
        let (a, b) = span.split_once('-')?;
        Some((
            a.parse::<usize>().ok()?,
            b.parse::<usize>().ok()?,
            total.parse::<usize>().ok()?,
        ))
    });
    let Some((a, b, total)) = parsed else {
        f.violations
            .push(format!("a PUT with Content-Range {range:?}"));
        return error(400, "invalidRange");
    };
    let s = f.sessions.get_mut(sid).expect("a session");
    if s.total.is_some_and(|t| t != total) {
        f.violations.push(format!("the total changed to {total}"));
        return error(400, "invalidRange");
    }
    s.total = Some(total);
    let received = s.received.len();
    if b + 1 - a != body.len() || a != received || b + 1 > total {
        f.violations.push(format!(
            "{range} with {} bytes where {received} are held",
            body.len()
        ));
        return error(416, "invalidRange");
    }
    let last = b + 1 == total;
    if !last && !body.len().is_multiple_of(UNIT) {
        f.violations.push(format!(
            "a chunk of {} bytes, not a multiple of 320 KiB",
            body.len()
        ));
        return error(400, "invalidRange");
    }
    if body.len() > 60 << 20 {
        f.violations.push("a chunk over 60 MiB".into());
        return error(413, "requestTooLarge");
    }
    if f.faults.fail_chunk == Some(nth) {
        return error(503, "serviceNotAvailable");
    }
    let s = f.sessions.get_mut(sid).expect("a session");
    if f.faults.partial_chunk == Some(nth) && body.len() > UNIT {
        s.received.extend_from_slice(&body[..UNIT]);
        let n = s.received.len();
        return reply(
            202,
            serde_json::json!({"nextExpectedRanges": [format!("{n}-")]}).to_string(),
        );
    }
    s.received.extend_from_slice(body);
    let resp = if last {
        let s = f.sessions.remove(sid).expect("a session");
        let id = f
            .items
            .get(&s.path)
            .filter(|i| !i.folder)
            .map(|i| i.id.clone())
            .unwrap_or_else(|| format!("item{}", s.path.len() + 1000));
        f.items.insert(
            s.path.clone(),
            Item {
                id,
                folder: false,
                bytes: s.received,
            },
        );
        reply(201, f.item_json(&s.path).to_string())
    } else {
        let n = received + body.len();
        reply(
            202,
            serde_json::json!({"nextExpectedRanges": [format!("{n}-")]}).to_string(),
        )
    };
    if f.faults.lose_answer_of_chunk == Some(nth) {
        return lost(202);
    }
    resp
}
