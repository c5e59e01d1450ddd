//! A fake of Google Drive's API as zvm's upload uses it, over loopback: the OAuth token
//! endpoint (a refresh token exchanged for access tokens), `files.list` by name and parent,
//! folder creation, trashing, and the resumable upload
//! (<https://developers.google.com/drive/api/guides/manage-uploads#resumable>). It enforces
//! the documented rules: every request but the token's carries a valid access token (else
//! 401), each chunk starts where the service stands, every chunk but the last is a multiple
//! of 256 KiB, the total is given on the last, a 308 answer carries `Range: bytes=0-N`,
//! the last answer has the file's id, size and MD5. Faults are played on request: a 503
//! instead of storing a chunk, an answer lost after the chunk was stored, a chunk stored
//! only in part, the session forgotten (404), the access token revoked (401), a wrong MD5.

#![allow(dead_code)]

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::Response;
use md5::{Digest as _, Md5};

use crate::fake_http::{
    DriveState, FakeServer, Faults, SECRET_MARK, TokenAnswers, bearer, form_of, header, lost,
    refresh_grant, reply,
};

pub const UNIT: usize = 256 << 10;
pub const FOLDER: &str = "application/vnd.google-apps.folder";

#[derive(Clone, Debug)]
pub struct File {
    pub id: String,
    pub name: String,
    pub parent: String,
    pub folder: bool,
    pub trashed: bool,
    pub bytes: Vec<u8>,
    /// Higher is more recent.
    pub modified: u64,
}

struct Session {
    /// The file it replaces, or the new file's name and parent.
    existing: Option<String>,
    name: String,
    parent: String,
    received: Vec<u8>,
}

#[derive(Default)]
pub struct Fake {
    pub files: HashMap<String, File>,
    sessions: HashMap<String, Session>,
    /// The last answers of completed sessions (a status query gets it again).
    completed: HashMap<String, String>,
    /// files.list requests.
    pub lists: usize,
    pub valid_tokens: Vec<String>,
    pub faults: Faults,
    /// Chunk PUTs with bytes seen so far.
    pub chunk_puts: usize,
    pub refreshes: usize,
    pub folders_created: usize,
    pub sessions_opened: usize,
    /// The longest body of a PUT.
    pub longest_put: usize,
    /// Every rule broken by a request (a test asserts there are none).
    pub violations: Vec<String>,
    counter: u64,
    /// The fake's own address, for session URLs.
    pub base: String,
}

impl Fake {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Adds a file (or folder) as if made earlier; its id.
    pub fn seed(&mut self, name: &str, parent: &str, folder: bool, bytes: &[u8]) -> String {
        let n = self.next();
        let id = format!("id{n}");
        self.files.insert(
            id.clone(),
            File {
                id: id.clone(),
                name: name.into(),
                parent: parent.into(),
                folder,
                trashed: false,
                bytes: bytes.to_vec(),
                modified: n,
            },
        );
        id
    }

    /// The live (not trashed) files and folders named `name` in `parent`.
    pub fn live(&self, parent: &str, name: &str) -> Vec<File> {
        let mut v: Vec<File> = self
            .files
            .values()
            .filter(|f| f.parent == parent && f.name == name && !f.trashed)
            .cloned()
            .collect();
        v.sort_by_key(|f| std::cmp::Reverse(f.modified));
        v
    }

    /// The id of the live folder at `path` (`a/b`) from My Drive.
    pub fn folder_at(&self, path: &str) -> Option<String> {
        let mut id = "root".to_string();
        for name in path.split('/').filter(|s| !s.is_empty()) {
            let found = self.live(&id, name);
            let f = found.iter().find(|f| f.folder)?;
            id = f.id.clone();
        }
        Some(id)
    }

    /// The content of the live file at `path`.
    pub fn file_at(&self, path: &str) -> Option<File> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let parent = self.folder_at(dir)?;
        self.live(&parent, name).into_iter().find(|f| !f.folder)
    }
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
        self.file_at(path).map(|f| f.bytes)
    }
}

pub type FakeDrive = FakeServer<Fake>;

fn error(status: u16, reason: &str) -> Response {
    reply(
        status,
        serde_json::json!({"error": {"code": status, "message": reason, "errors": [{"reason": reason}]}})
            .to_string(),
    )
}

fn query_of(uri: &axum::http::Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// A quoted string of a Drive query at the start of `s` (after its opening `'`): its text
/// and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '\'' => return Some((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// `name = '..' and '..' in parents and trashed = false and mimeType (=|!=) '..'`.
fn parse_q(q: &str) -> Option<(String, String, bool)> {
    let rest = q.strip_prefix("name = '")?;
    let (name, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(" and '")?;
    let (parent, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(" in parents and trashed = false and mimeType ")?;
    let folder = if rest.starts_with("= '") {
        true
    } else if rest.starts_with("!= '") {
        false
    } else {
        return None;
    };
    Some((name, parent, folder))
}

fn handle(f: &mut Fake, parts: &Parts, body: Bytes) -> Response {
    let path = parts.uri.path().to_string();
    let q = query_of(&parts.uri);

    if path == "/token" && parts.method == Method::POST {
        return refresh_grant(
            &form_of(&body),
            &mut f.valid_tokens,
            &mut f.refreshes,
            &TokenAnswers {
                refused: "Bad Request",
                expires_in: 3599,
                token_type: "Bearer",
            },
        );
    }

    // Every other request: a valid access token.
    let token = bearer(&parts.headers);

    // A chunk PUT's faults are decided before its token is checked.
    let is_put = parts.method == Method::PUT && path == "/upload/drive/v3/files";
    let content_range = header(&parts.headers, "content-range");
    let mut nth = 0;
    if is_put && !body.is_empty() {
        f.chunk_puts += 1;
        nth = f.chunk_puts;
        f.longest_put = f.longest_put.max(body.len());
        f.faults
            .strike_before_chunk(nth, &mut f.valid_tokens, &mut f.sessions);
    }
    if !token.as_ref().is_some_and(|t| f.valid_tokens.contains(t)) {
        return error(401, "authError");
    }
    if is_put
        && f.faults
            .lose_all_answers_from
            .is_some_and(|n| f.chunk_puts >= n)
    {
        return lost(200);
    }

    match (parts.method.clone(), path.as_str()) {
        (Method::GET, "/drive/v3/files") => {
            f.lists += 1;
            let Some((name, parent, folder)) = q.get("q").and_then(|q| parse_q(q)) else {
                f.violations
                    .push(format!("an unreadable query: {:?}", q.get("q")));
                return error(400, "invalidQuery");
            };
            if q.get("orderBy").map(String::as_str) != Some("modifiedTime desc,createdTime desc") {
                f.violations
                    .push("files.list without the expected orderBy".into());
            }
            let found: Vec<_> = f
                .live(&parent, &name)
                .into_iter()
                .filter(|x| x.folder == folder)
                .map(|x| serde_json::json!({"id": x.id}))
                .collect();
            reply(200, serde_json::json!({"files": found}).to_string())
        }
        (Method::POST, "/drive/v3/files") => {
            let meta: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let name = meta["name"].as_str().unwrap_or_default().to_string();
            let parent = meta["parents"][0].as_str().unwrap_or("root").to_string();
            if meta["mimeType"].as_str() != Some(FOLDER) {
                f.violations
                    .push("files.create of something else than a folder".into());
                return error(400, "badRequest");
            }
            if parent != "root" && !f.files.get(&parent).is_some_and(|p| p.folder && !p.trashed) {
                f.violations
                    .push(format!("a folder created in a missing parent {parent}"));
                return error(404, "notFound");
            }
            f.folders_created += 1;
            let id = f.seed(&name, &parent, true, b"");
            reply(200, serde_json::json!({"id": id}).to_string())
        }
        (Method::PATCH, p) if p.starts_with("/drive/v3/files/") => {
            let id = &p["/drive/v3/files/".len()..];
            let meta: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            match f.files.get_mut(id) {
                Some(file) => {
                    if meta["trashed"].as_bool() == Some(true) {
                        file.trashed = true;
                    }
                    reply(200, serde_json::json!({"id": id}).to_string())
                }
                None => error(404, "notFound"),
            }
        }
        (Method::POST, "/upload/drive/v3/files") | (Method::PATCH, _)
            if path.starts_with("/upload/drive/v3/files") =>
        {
            if q.get("uploadType").map(String::as_str) != Some("resumable") {
                f.violations.push("an upload that is not resumable".into());
                return error(400, "badRequest");
            }
            let meta: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let existing = path
                .strip_prefix("/upload/drive/v3/files/")
                .map(str::to_string);
            if let Some(id) = &existing
                && !f.files.contains_key(id)
            {
                return error(404, "notFound");
            }
            let parent = meta["parents"][0].as_str().unwrap_or("").to_string();
            if existing.is_none() && parent.is_empty() {
                f.violations.push("a new file without its parent".into());
            }
            let n = f.next();
            let sid = format!("sess-{SECRET_MARK}-{n}");
            f.sessions.insert(
                sid.clone(),
                Session {
                    existing,
                    name: meta["name"].as_str().unwrap_or_default().to_string(),
                    parent,
                    received: Vec::new(),
                },
            );
            f.sessions_opened += 1;
            Response::builder()
                .status(200)
                .header(
                    "location",
                    format!(
                        "{}/upload/drive/v3/files?uploadType=resumable&upload_id={sid}",
                        f.base
                    ),
                )
                .body(Body::empty())
                .expect("a response")
        }
        (Method::PUT, "/upload/drive/v3/files") => {
            let Some(sid) = q.get("upload_id").cloned() else {
                return error(400, "badRequest");
            };
            if let Some(done) = f.completed.get(&sid) {
                return reply(200, done.clone());
            }
            if !f.sessions.contains_key(&sid) {
                return error(404, "notFound");
            }
            put_chunk(f, &sid, &content_range, &body, nth)
        }
        (Method::DELETE, "/upload/drive/v3/files") => {
            if let Some(sid) = q.get("upload_id") {
                f.sessions.remove(sid);
            }
            reply(499, "")
        }
        _ => error(404, "notFound"),
    }
}

fn range_reply(received: usize) -> Response {
    let mut b = Response::builder().status(308);
    if received > 0 {
        b = b.header("range", format!("bytes=0-{}", received - 1));
    }
    b.body(Body::empty()).expect("a response")
}

fn put_chunk(f: &mut Fake, sid: &str, content_range: &str, body: &[u8], nth: usize) -> Response {
    // `bytes a-b/total`, `bytes a-b/*`, `bytes */total` or `bytes */*`.
    let Some(spec) = content_range.strip_prefix("bytes ") else {
        f.violations
            .push(format!("a PUT without Content-Range: {content_range:?}"));
        return error(400, "badContentRange");
    };
    let (span, total) = spec.split_once('/').unwrap_or((spec, "*"));
    let total: Option<usize> = if total == "*" {
        None
    } else {
        match total.parse() {
            Ok(t) => Some(t),
            Err(_) => {
                f.violations.push(format!("a bad total: {content_range:?}"));
                return error(400, "badContentRange");
            }
        }
    };
    let received = f.sessions[sid].received.len();
    if span == "*" {
        if !body.is_empty() {
            f.violations.push("a status query with a body".into());
        }
        if total == Some(received) {
            return finish(f, sid);
        }
        return range_reply(received);
    }
    let Some((a, b)) = span
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
    else {
        f.violations.push(format!("a bad range: {content_range:?}"));
        return error(400, "badContentRange");
    };
    if b + 1 - a != body.len() {
        f.violations
            .push(format!("{content_range} with {} bytes", body.len()));
        return error(400, "badContentRange");
    }
    if a != received {
        f.violations
            .push(format!("a chunk at {a} where the service has {received}"));
        return error(400, "badContentRange");
    }
    let last = total.is_some();
    if !last && !body.len().is_multiple_of(UNIT) {
        f.violations.push(format!(
            "a chunk of {} bytes, not a multiple of 256 KiB",
            body.len()
        ));
        return error(400, "badContentRange");
    }
    if let Some(t) = total
        && b + 1 != t
    {
        f.violations
            .push(format!("the last chunk ends at {} of {t}", b + 1));
        return error(400, "badContentRange");
    }
    if f.faults.fail_chunk == Some(nth) {
        return error(503, "backendError");
    }
    if f.faults.partial_chunk == Some(nth) && body.len() > UNIT {
        f.sessions
            .get_mut(sid)
            .expect("a session")
            .received
            .extend_from_slice(&body[..UNIT]);
        return range_reply(received + UNIT);
    }
    f.sessions
        .get_mut(sid)
        .expect("a session")
        .received
        .extend_from_slice(body);
    let resp = if last {
        finish(f, sid)
    } else {
        range_reply(received + body.len())
    };
    if f.faults.lose_answer_of_chunk == Some(nth) {
        return lost(200);
    }
    resp
}

fn finish(f: &mut Fake, sid: &str) -> Response {
    let s = f.sessions.remove(sid).expect("a session");
    let n = f.next();
    let id = match &s.existing {
        Some(id) => {
            let file = f.files.get_mut(id).expect("the file");
            file.bytes = s.received.clone();
            file.modified = n;
            id.clone()
        }
        None => {
            let id = format!("id{n}");
            f.files.insert(
                id.clone(),
                File {
                    id: id.clone(),
                    name: s.name.clone(),
                    parent: s.parent.clone(),
                    folder: false,
                    trashed: false,
                    bytes: s.received.clone(),
                    modified: n,
                },
            );
            id
        }
    };
    let md5 = if f.faults.wrong_hash {
        "0123456789abcdef0123456789abcdef".to_string()
    } else {
        hex::encode(Md5::digest(&s.received))
    };
    let answer =
        serde_json::json!({"id": id, "size": s.received.len().to_string(), "md5Checksum": md5})
            .to_string();
    f.completed.insert(sid.to_string(), answer.clone());
    reply(200, answer)
}
