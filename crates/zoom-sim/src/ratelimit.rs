//! Zoom's rate limits (zoom-api.md §6): per-second limits by category and plan, the
//! optional daily limit, and the 429 answers with or without Zoom's `X-RateLimit-*` headers.
//! The counters live in [`RateState`](crate::state::RateState) under their own lock, which
//! is taken alone.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use crate::config::Category;
use crate::replies::zoom_error;
use crate::state::Shared;

/// Counts a request against its category's limits; `Some` is the 429 to answer instead.
pub fn rate_limit(st: &Shared, cat: Category) -> Option<Response> {
    let rl = &st.cfg.rate_limits;
    if !rl.enabled {
        return None;
    }
    let now = st.now();
    let sec = now.as_second();
    let day = sec.div_euclid(86_400);
    let mut r = st.rate.lock().ok()?;
    if let Some(limit) = rl.daily_limit {
        let e = r.daily.entry(cat).or_insert((day, 0));
        if e.0 != day {
            *e = (day, 0);
        }
        if e.1 >= limit {
            let reset = (day + 1) * 86_400;
            let ts = jiff::Timestamp::from_second(reset).unwrap_or(now);
            let mut resp = zoom_error(
                StatusCode::TOO_MANY_REQUESTS,
                429,
                "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.",
            );
            let h = resp.headers_mut();
            if rl.send_headers {
                insert(h, "X-RateLimit-Category", cat.name());
                insert(h, "X-RateLimit-Type", "Daily-limit");
                insert(h, "X-RateLimit-Limit", &limit.to_string());
                insert(h, "X-RateLimit-Remaining", "0");
            }
            insert(
                h,
                "Retry-After",
                &ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            );
            return Some(resp);
        }
        e.1 += 1;
    }
    let limit = rl.per_sec(st.cfg.plan, cat);
    let e = r.second.entry(cat).or_insert((sec, 0));
    if e.0 != sec {
        *e = (sec, 0);
    }
    if e.1 >= limit {
        let mut resp = zoom_error(
            StatusCode::TOO_MANY_REQUESTS,
            429,
            "You have reached the maximum per-second rate limit for this API. Try again later.",
        );
        if rl.send_headers {
            let h = resp.headers_mut();
            insert(h, "X-RateLimit-Category", cat.name());
            insert(h, "X-RateLimit-Type", "QPS");
            insert(h, "X-RateLimit-Limit", &limit.to_string());
            insert(h, "X-RateLimit-Remaining", "0");
            insert(h, "X-RateLimit-Reset", &(sec + 1).to_string());
        }
        return Some(resp);
    }
    e.1 += 1;
    None
}

fn insert(h: &mut HeaderMap, k: &'static str, v: &str) {
    if let Ok(v) = header::HeaderValue::from_str(v) {
        h.insert(k, v);
    }
}
