//! The hostile-JSON fault ([`HostileJson`]): replaces a good API answer by one derived from
//! it that a client must refuse without panicking (wrong types, huge numbers, gigantic
//! strings, deep nesting, truncation, oversize).

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::config::HostileJson;

/// Replaces a good answer by hostile JSON derived from it (see [`HostileJson`]).
pub async fn hostile(resp: Response, kind: HostileJson) -> Response {
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let real: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let body: Vec<u8> = match kind {
        HostileJson::WrongTypes => transform(real, &|v| match v {
            Value::String(s) => json!(s.len()),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            other => other,
        })
        .to_string()
        .into_bytes(),
        HostileJson::HugeNumbers => {
            // serde_json cannot build such a Number, so substitute a marker textually.
            const MARKER: &str = "__sim_huge_number__";
            let v = transform(real, &|v| match v {
                Value::Number(_) => Value::String(MARKER.into()),
                other => other,
            });
            v.to_string()
                .replace(&format!("\"{MARKER}\""), "184467440737095516160000e999")
                .into_bytes()
        }
        HostileJson::GiganticStrings => {
            // One 8 MiB topic per answer (a whole page of them would be an oversized answer).
            let big = Value::String("\u{30bc}".repeat((8 << 20) / 3));
            let mut v = real;
            if let Some(t) = v.pointer_mut("/meetings/0/topic") {
                *t = big;
            } else if let Some(t) = v.pointer_mut("/topic") {
                *t = big;
            } else if let Some(t) = v.pointer_mut("/users/0/email") {
                *t = big;
            }
            v.to_string().into_bytes()
        }
        HostileJson::DeepNesting => {
            // 100,000 nested arrays where the answer's lists belong.
            let depth = 100_000;
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            format!(
                r#"{{"users":{deep},"meetings":{deep},"recording_files":{deep},"page_size":30}}"#
            )
            .into_bytes()
        }
        HostileJson::Truncated => {
            let mut b = bytes.to_vec();
            b.truncate(b.len() / 2);
            b
        }
        HostileJson::Oversized => {
            let mut b = Vec::with_capacity(48 << 20);
            b.push(b'{');
            b.resize(48 << 20, b' ');
            b.extend_from_slice(b"}");
            b
        }
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Body::from(body))
        .unwrap_or_default()
}

/// Applies `f` to every value of a JSON tree, leaves first.
fn transform(v: Value, f: &dyn Fn(Value) -> Value) -> Value {
    let v = match v {
        Value::Array(a) => Value::Array(a.into_iter().map(|x| transform(x, f)).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, x)| (k, transform(x, f))).collect())
        }
        other => other,
    };
    f(v)
}
