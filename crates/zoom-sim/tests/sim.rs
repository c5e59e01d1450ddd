//! The simulator's contract, over real HTTP: what the client relies on Zoom doing.
//! Each test starts its own simulator on loopback; the clock is advanced instead of sleeping.

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::Digest;

mod common;

use common::{http, s2s_answer, start};
use zoom_sim::{AccountSpec, FaultConfig, SimConfig, Simulator};

fn quiet() -> SimConfig {
    let mut c = SimConfig::default();
    c.rate_limits.enabled = false;
    c
}

async fn s2s_token(sim: &Simulator) -> String {
    let v = s2s_answer(sim).await;
    assert_eq!(v["token_type"], "bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    assert!(v.get("refresh_token").is_none(), "S2S has no refresh token");
    v["access_token"].as_str().unwrap().to_string()
}

async fn get(sim: &Simulator, tok: &str, path: &str) -> (StatusCode, Value) {
    let r = http()
        .get(format!("{}{path}", sim.api_base_url()))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    let st = r.status();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (st, v)
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn oauth_account_credentials_and_errors() {
    let sim = start(quiet()).await;
    let tok = s2s_token(&sim).await;
    assert_eq!(get(&sim, &tok, "/users?status=active").await.0, 200);
    let c = sim.credentials();
    let bad = http()
        .post(format!("{}/oauth/token", sim.oauth_base_url()))
        .basic_auth(&c.client_id, Some("wrong"))
        .form(&[
            ("grant_type", "account_credentials"),
            ("account_id", &c.account_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let wrong_account = http()
        .post(format!("{}/oauth/token", sim.oauth_base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[
            ("grant_type", "account_credentials"),
            ("account_id", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_account.status(), 400);
    // A token in the query string is refused (401 code 124), like Zoom since 2023.
    let r = http()
        .get(format!("{}/users?access_token={tok}", sim.api_base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 124);
    // No token, a made-up token: 401 124.
    let (st, v) = get(&sim, "made-up", "/users").await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (401, Some(124)));
}

#[tokio::test]
async fn tokens_expire_by_the_simulated_clock_and_can_be_revoked() {
    let mut c = quiet();
    c.token_ttl_secs = 60;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    assert_eq!(get(&sim, &tok, "/users").await.0, 200);
    sim.advance_clock(61);
    let (st, v) = get(&sim, &tok, "/users").await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (401, Some(124)));
    let tok = s2s_token(&sim).await;
    sim.revoke_all_tokens();
    assert_eq!(get(&sim, &tok, "/users").await.0, 401);
}

#[tokio::test]
async fn pkce_authorization_code_refresh_rotation_and_revoke() {
    let sim = start(quiet()).await;
    let c = sim.credentials();
    let verifier = "a-verifier-of-sufficient-length-0123456789-abcdefghij";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:9/callback";
    let authorize = |challenge: String| {
        let sim_base = sim.oauth_base_url();
        let client_id = c.client_id.clone();
        async move {
            let r = http()
                .get(format!("{sim_base}/oauth/authorize"))
                .query(&[
                    ("response_type", "code"),
                    ("client_id", client_id.as_str()),
                    ("redirect_uri", redirect),
                    ("state", "xyz"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 302, "authorize auto-approves");
            let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
            assert!(loc.as_str().starts_with(redirect));
            let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
            assert_eq!(q["state"], "xyz");
            q["code"].clone()
        }
    };
    let exchange = |code: String, verifier: &'static str| {
        let base = sim.oauth_base_url();
        let client_id = c.client_id.clone();
        async move {
            http()
                .post(format!("{base}/oauth/token"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                    ("client_id", client_id.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // A wrong verifier is refused.
    let code = authorize(challenge.clone()).await;
    assert_eq!(exchange(code, "wrong-verifier").await.status(), 400);
    // The right one works, once.
    let code = authorize(challenge.clone()).await;
    let r = exchange(code.clone(), verifier).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh1 = v["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(get(&sim, &access, "/users/me").await.0, 200);
    let again = exchange(code, verifier).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // An expired code (5 minutes) is refused.
    let code = authorize(challenge).await;
    sim.advance_clock(301);
    assert_eq!(exchange(code, verifier).await.status(), 400);

    // Refresh rotates: a new refresh token each time, the old one is dead.
    let refresh = |rt: String| {
        let base = sim.oauth_base_url();
        let (id, secret) = (c.client_id.clone(), c.client_secret.clone());
        async move {
            http()
                .post(format!("{base}/oauth/token"))
                .basic_auth(id, Some(secret))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let r = refresh(refresh1.clone()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let refresh2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh1, refresh2);
    assert_eq!(
        refresh(refresh1).await.status(),
        400,
        "old refresh token refused"
    );
    // Revoke kills the refresh token.
    let r = http()
        .post(format!("{}/oauth/revoke", sim.oauth_base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("token", refresh2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(refresh(refresh2).await.status(), 400);
}

#[tokio::test]
async fn users_by_status_with_pagination() {
    let mut c = quiet();
    c.account = AccountSpec {
        active_users: 5,
        inactive_users: 2,
        pending_users: 2,
        ..AccountSpec::default()
    };
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let (st, v) = get(
            &sim,
            &tok,
            &format!("/users?status=active&page_size=2&next_page_token={token}"),
        )
        .await;
        assert_eq!(st, 200);
        seen.extend(
            v["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string()),
        );
        token = v["next_page_token"].as_str().unwrap().to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    let (_, v) = get(&sim, &tok, "/users?status=inactive").await;
    assert_eq!(v["users"].as_array().unwrap().len(), 2);
    let (_, v) = get(&sim, &tok, "/users?status=pending").await;
    let pending = v["users"].as_array().unwrap();
    assert_eq!(pending.len(), 2);
    assert!(
        pending.iter().all(|u| u.get("id").is_none()),
        "pending users have no id"
    );
}

#[tokio::test]
async fn recordings_listing_behaves_like_zoom() {
    let mut c = quiet();
    c.account.meetings = 120;
    c.account.active_users = 1;
    c.account.inactive_users = 0;
    c.account.pending_users = 0;
    c.account.end_date = Some("2026-06-30".into());
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;

    // A year asked for: silently narrowed to the month ending at `to`, with `from` echoed.
    let (st, v) = get(
        &sim,
        &tok,
        "/users/me/recordings?from=2025-06-30&to=2026-06-30",
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["from"], "2026-05-30");
    assert_eq!(v["to"], "2026-06-30");
    assert_eq!(v["page_size"], 30, "default page size");

    // Walk every month, every page: exactly the manifest's meetings, newest first per page.
    let manifest = sim.manifest();
    let mut got = Vec::new();
    let mut to = jiff::civil::date(2026, 6, 30);
    let stop = jiff::civil::date(2023, 1, 1);
    while to > stop {
        let from = to.checked_sub(jiff::Span::new().months(1)).unwrap();
        let mut token = String::new();
        loop {
            let (st, v) = get(
                &sim,
                &tok,
                &format!(
                    "/users/me/recordings?from={from}&to={to}&page_size=7&next_page_token={token}"
                ),
            )
            .await;
            assert_eq!(st, 200, "{v}");
            let starts: Vec<&str> = v["meetings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["start_time"].as_str().unwrap())
                .collect();
            let mut sorted = starts.clone();
            sorted.sort_by(|a, b| b.cmp(a));
            assert_eq!(starts, sorted, "newest first");
            got.extend(
                v["meetings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["uuid"].as_str().unwrap().to_string()),
            );
            token = v["next_page_token"].as_str().unwrap().to_string();
            if token.is_empty() {
                break;
            }
        }
        to = from.yesterday().unwrap();
    }
    got.sort();
    got.dedup();
    let mut want: Vec<String> = manifest.meetings.iter().map(|m| m.uuid.clone()).collect();
    want.sort();
    assert_eq!(got, want);

    // page_size is capped at 300; bad dates are 400 code 300.
    let (_, v) = get(
        &sim,
        &tok,
        "/users/me/recordings?from=2026-06-01&to=2026-06-30&page_size=1000",
    )
    .await;
    assert_eq!(v["page_size"], 300);
    let (st, v) = get(
        &sim,
        &tok,
        "/users/me/recordings?from=2026-13-01&to=2026-06-30",
    )
    .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (400, Some(300)));

    // Page tokens expire after 15 minutes.
    // A window holding at least two meetings, so there is a second page.
    let mut starts: Vec<jiff::civil::Date> = manifest
        .meetings
        .iter()
        .map(|m| {
            m.start_time
                .parse::<jiff::Timestamp>()
                .unwrap()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date()
        })
        .collect();
    starts.sort();
    let wfrom = starts
        .windows(2)
        .find(|w| (w[1] - w[0]).get_days() < 25)
        .unwrap()[0];
    let wto = wfrom.checked_add(jiff::Span::new().days(27)).unwrap();
    let (_, v) = get(
        &sim,
        &tok,
        &format!("/users/me/recordings?from={wfrom}&to={wto}&page_size=1"),
    )
    .await;
    let next = v["next_page_token"].as_str().unwrap().to_string();
    assert!(!next.is_empty());
    sim.advance_clock(901);
    let tok = s2s_token(&sim).await;
    let (st, v) = get(
        &sim,
        &tok,
        &format!("/users/me/recordings?from={wfrom}&to={wto}&page_size=1&next_page_token={next}"),
    )
    .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (400, Some(300)));

    // Unknown user: 404 code 1001.
    let (st, v) = get(&sim, &tok, "/users/nobody@example.com/recordings").await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (404, Some(1001)));
}

#[tokio::test]
async fn meetings_need_double_encoding_summaries_and_details() {
    let mut c = quiet();
    c.account.meetings = 60;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let manifest = sim.manifest();
    let slashy = manifest
        .meetings
        .iter()
        .find(|m| m.uuid.starts_with('/'))
        .expect("a uuid with a leading /");
    let double = manifest
        .meetings
        .iter()
        .find(|m| m.uuid.contains("//"))
        .expect("a uuid with //");
    for m in [slashy, double] {
        let (st, v) = get(
            &sim,
            &tok,
            &format!("/meetings/{}/recordings", enc(&enc(&m.uuid))),
        )
        .await;
        assert_eq!(st, 200, "double-encoded {} found", m.uuid);
        assert_eq!(v["uuid"], m.uuid.as_str());
        let (st, _) = get(
            &sim,
            &tok,
            &format!("/meetings/{}/recordings", enc(&m.uuid)),
        )
        .await;
        assert_eq!(st, 404, "single-encoded {} not found, as at Zoom", m.uuid);
    }
    let (st, v) = get(&sim, &tok, "/meetings/nonexistent/recordings").await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (404, Some(3301)));

    let with_pa = manifest
        .meetings
        .iter()
        .find(|m| !m.participant_audio.is_empty())
        .expect("participant audio");
    let (_, v) = get(
        &sim,
        &tok,
        &format!("/meetings/{}/recordings", enc(&enc(&with_pa.uuid))),
    )
    .await;
    assert_eq!(
        v["participant_audio_files"].as_array().unwrap().len(),
        with_pa.participant_audio.len()
    );
    for m in &manifest.meetings {
        let (st, v) = get(
            &sim,
            &tok,
            &format!("/meetings/{}/meeting_summary", enc(&enc(&m.uuid))),
        )
        .await;
        if m.has_summary {
            assert_eq!(st, 200);
            assert!(!v["summary_content"].as_str().unwrap().is_empty());
        } else {
            assert_eq!((st.as_u16(), v["code"].as_i64()), (404, Some(3001)));
        }
    }
}

#[tokio::test]
async fn delete_trash_recover_and_the_deletion_record() {
    let mut c = quiet();
    c.account.meetings = 40;
    c.account.in_progress_fraction = 0.2;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let m = sim.manifest();
    let normal = m.meetings.iter().find(|x| !x.in_progress).unwrap();
    let busy = m
        .meetings
        .iter()
        .find(|x| x.in_progress)
        .expect("an in-progress meeting");
    let del = |path: String| {
        let url = format!("{}{path}", sim.api_base_url());
        let tok = tok.clone();
        async move { http().delete(url).bearer_auth(tok).send().await.unwrap() }
    };
    let u = enc(&enc(&normal.uuid));
    // One file, then the whole meeting (trash is the default), then already gone.
    let f = &normal.files[0].id;
    assert_eq!(
        del(format!("/meetings/{u}/recordings/{f}?action=trash"))
            .await
            .status(),
        204
    );
    assert_eq!(del(format!("/meetings/{u}/recordings")).await.status(), 204);
    let r = del(format!("/meetings/{u}/recordings")).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 3301);
    let r = del(format!("/meetings/{}/recordings", enc(&enc(&busy.uuid)))).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 3303);
    let rec = sim.deletions();
    assert_eq!(rec.len(), 2);
    assert_eq!(rec[0].file_id.as_deref(), Some(f.as_str()));
    assert_eq!(
        (rec[1].file_id.as_ref(), rec[1].action.as_str()),
        (None, "trash")
    );
    assert!(
        sim.manifest()
            .meetings
            .iter()
            .find(|x| x.uuid == normal.uuid)
            .unwrap()
            .files
            .iter()
            .all(|f| f.cloud == zoom_sim::CloudState::Trashed)
    );
    // Trashed recordings show only with trash=true.
    let (_, v) = get(
        &sim,
        &tok,
        "/users/me/recordings?from=2000-01-01&to=2030-01-01&trash=true",
    )
    .await;
    let _ = v;
    // Recover brings it back.
    let r = http()
        .put(format!(
            "{}/meetings/{u}/recordings/status",
            sim.api_base_url()
        ))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"action": "recover"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        sim.manifest()
            .meetings
            .iter()
            .find(|x| x.uuid == normal.uuid)
            .unwrap()
            .files
            .iter()
            .all(|f| f.cloud == zoom_sim::CloudState::Present)
    );
    // Permanent delete.
    assert_eq!(
        del(format!("/meetings/{u}/recordings?action=delete"))
            .await
            .status(),
        204
    );
    assert_eq!(
        get(&sim, &tok, &format!("/meetings/{u}/recordings"))
            .await
            .0,
        404
    );
    assert_eq!(sim.stats().deletions, 4);
}

async fn download_url(
    sim: &Simulator,
    tok: &str,
    min_size: u64,
) -> (String, zoom_sim::ManifestFile) {
    let m = sim.manifest();
    let (meeting, f) = m
        .files()
        .find(|(_, f)| f.is_completed() && f.size >= min_size && f.recording_type.is_some())
        .expect("a completed file");
    let (_, v) = get(
        sim,
        tok,
        &format!("/meetings/{}/recordings", enc(&enc(&meeting.uuid))),
    )
    .await;
    let url = v["recording_files"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            v["participant_audio_files"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .find(|x| x["id"] == f.id.as_str())
        .unwrap()["download_url"]
        .as_str()
        .unwrap()
        .to_string();
    (url, f.clone())
}

#[tokio::test]
async fn downloads_redirect_to_a_signed_cdn_with_range() {
    let mut c = quiet();
    c.cdn_link_ttl_secs = 600;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let (url, f) = download_url(&sim, &tok, 10_000).await;
    // Without a valid token: 200 and an HTML page, as Zoom does.
    let r = http().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("Only the host"));
    // With the token (header or query): a redirect to the CDN, another port, signed.
    for req in [
        http().get(&url).bearer_auth(&tok),
        http().get(format!("{url}?access_token={tok}")),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 302);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            loc.starts_with(&sim.cdn_base_url())
                && loc.contains("signature=")
                && loc.contains("expires=")
        );
    }
    let loc = http()
        .get(&url)
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let whole = http().get(&loc).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.content_length(), Some(f.size));
    let body = whole.bytes().await.unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&body)), f.sha256_hex());
    let r = http()
        .get(&loc)
        .header("range", "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"].to_str().unwrap(),
        format!("bytes 100-{}/{}", f.size - 1, f.size)
    );
    assert_eq!(
        &r.bytes().await.unwrap()[..],
        &f.content(100, (f.size - 100) as usize)[..]
    );
    let r = http()
        .get(&loc)
        .header("range", format!("bytes={}-", f.size))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    // A tampered or expired signature: 403.
    let tampered = loc.replace("signature=", "signature=0");
    assert_eq!(http().get(&tampered).send().await.unwrap().status(), 403);
    sim.advance_clock(601);
    assert_eq!(http().get(&loc).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn rate_limits_per_second_and_daily() {
    let mut c = SimConfig::default();
    c.rate_limits.medium_per_sec = Some(2);
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let r = http()
            .get(format!("{}/users", sim.api_base_url()))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 && limited.is_none() {
            limited = Some((r.headers().clone(), r.json::<Value>().await.unwrap()));
        }
    }
    let (h, body) = limited.expect("a 429 within 6 quick requests at 2/s");
    assert_eq!(body["code"], 429);
    assert!(body["message"].as_str().unwrap().contains("per-second"));
    assert_eq!(h["x-ratelimit-type"], "QPS");
    assert_eq!(h["x-ratelimit-category"], "Medium");
    assert!(
        h["x-ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    assert!(sim.stats().rate_limited >= 1);

    let mut c = SimConfig::default();
    c.rate_limits.daily_limit = Some(3);
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let mut last = None;
    for i in 0..4 {
        tokio::time::sleep(Duration::from_millis(if i > 0 { 40 } else { 0 })).await;
        last = Some(
            http()
                .get(format!("{}/users/me", sim.api_base_url()))
                .bearer_auth(&tok)
                .send()
                .await
                .unwrap(),
        );
    }
    let r = last.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-type"], "Daily-limit");
    let retry = r.headers()["retry-after"].to_str().unwrap().to_string();
    assert!(
        retry.parse::<jiff::Timestamp>().is_ok(),
        "ISO Retry-After: {retry}"
    );
}

#[tokio::test]
async fn api_faults_bursts_and_probability() {
    let sim = start(quiet()).await;
    let tok = s2s_token(&sim).await;
    sim.set_faults(FaultConfig {
        api_5xx_burst: 3,
        ..FaultConfig::default()
    });
    let mut codes = Vec::new();
    for _ in 0..5 {
        codes.push(get(&sim, &tok, "/users").await.0.as_u16());
    }
    assert_eq!(codes, vec![503, 503, 503, 200, 200]);
    sim.set_faults(FaultConfig {
        seed: 9,
        api_5xx_prob: 0.5,
        ..FaultConfig::default()
    });
    let mut a = Vec::new();
    for _ in 0..30 {
        a.push(get(&sim, &tok, "/users").await.0.is_server_error());
    }
    assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    // Same seed, same sequence: reproducible.
    sim.set_faults(FaultConfig {
        seed: 9,
        api_5xx_prob: 0.5,
        ..FaultConfig::default()
    });
    let mut b = Vec::new();
    for _ in 0..30 {
        b.push(get(&sim, &tok, "/users").await.0.is_server_error());
    }
    assert_eq!(a, b);
}

#[tokio::test]
async fn failing_routes_answer_503_every_time_until_cleared() {
    let mut c = quiet();
    c.account.meetings = 60;
    c.account.in_progress_fraction = 0.0;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let manifest = sim.manifest();
    // A uuid with a `/` checks that a filled-in entry names the uuid decoded, as Zoom lists it.
    let slashy = manifest
        .meetings
        .iter()
        .find(|m| m.uuid.contains('/'))
        .expect("a uuid with a /");
    let other = manifest
        .meetings
        .iter()
        .find(|m| m.uuid != slashy.uuid)
        .expect("a second meeting");
    let details =
        |m: &zoom_sim::ManifestMeeting| format!("/meetings/{}/recordings", enc(&enc(&m.uuid)));
    let summary =
        |m: &zoom_sim::ManifestMeeting| format!("/meetings/{}/meeting_summary", enc(&enc(&m.uuid)));
    // What a route answers when it works: the summary route says 200 or 404 code 3001.
    let summary_ok = |m: &zoom_sim::ManifestMeeting| if m.has_summary { 200 } else { 404 };

    // A route template fails every meeting on every attempt, with Zoom's JSON error body.
    sim.set_faults(FaultConfig {
        failing_routes: vec!["/v2/meetings/{uuid}/meeting_summary".into()],
        ..FaultConfig::default()
    });
    for _ in 0..3 {
        for m in [slashy, other] {
            let (st, v) = get(&sim, &tok, &summary(m)).await;
            assert_eq!((st.as_u16(), v["code"].as_i64()), (503, Some(503)), "{v}");
            assert!(v["message"].is_string(), "{v}");
        }
    }
    // Other routes are unaffected.
    assert_eq!(get(&sim, &tok, &details(slashy)).await.0, 200);
    assert_eq!(get(&sim, &tok, "/users").await.0, 200);

    // With a method, only that method's requests fail: GET details does, DELETE does not.
    sim.set_faults(FaultConfig {
        failing_routes: vec!["GET /v2/meetings/{uuid}/recordings".into()],
        ..FaultConfig::default()
    });
    let (st, v) = get(&sim, &tok, &details(other)).await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (503, Some(503)), "{v}");
    assert_eq!(get(&sim, &tok, &summary(other)).await.0, summary_ok(other));
    let r = http()
        .delete(format!("{}{}", sim.api_base_url(), details(other)))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "DELETE is another route's method");

    // With the uuid filled in, only that meeting fails.
    sim.set_faults(FaultConfig {
        failing_routes: vec![format!("/v2/meetings/{}/meeting_summary", slashy.uuid)],
        ..FaultConfig::default()
    });
    assert_eq!(get(&sim, &tok, &summary(slashy)).await.0, 503);
    assert_eq!(get(&sim, &tok, &summary(other)).await.0, summary_ok(other));
    assert_eq!(get(&sim, &tok, &details(slashy)).await.0, 200);

    // Replacing the faults clears it.
    sim.set_faults(FaultConfig::default());
    assert_eq!(
        get(&sim, &tok, &summary(slashy)).await.0,
        summary_ok(slashy)
    );

    // Set over the control plane, as a script would.
    let r = http()
        .post(format!("{}/sim/faults", sim.base_url()))
        .json(&serde_json::json!({"failing_routes": ["/v2/users"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(&sim, &tok, "/users").await.0, 503);
    assert_eq!(get(&sim, &tok, &details(slashy)).await.0, 200);
    sim.set_faults(FaultConfig::default());
    assert_eq!(get(&sim, &tok, "/users").await.0, 200);

    // Configs written before the field existed still parse, and a scenario may set it.
    let old: FaultConfig = serde_json::from_value(serde_json::json!({"api_5xx_burst": 2})).unwrap();
    assert!(old.failing_routes.is_empty());
    let c = SimConfig::from_toml_str("[faults]\napi_5xx_prob = 0.1\n").unwrap();
    assert!(c.faults.failing_routes.is_empty());
    let c = SimConfig::from_toml_str(
        "[faults]\nfailing_routes = [\"/v2/meetings/{uuid}/meeting_summary\"]\n",
    )
    .unwrap();
    assert_eq!(
        c.faults.failing_routes,
        vec!["/v2/meetings/{uuid}/meeting_summary".to_string()]
    );
}

/// A quiet simulator whose MP4s are 300 to 400 kB, a token, and one MP4's web download URL
/// (the download tests' common start).
async fn one_mp4_of_300k() -> (Simulator, String, String, zoom_sim::ManifestFile) {
    let mut c = quiet();
    c.account.mp4_size = (300_000, 400_000);
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let (url, f) = download_url(&sim, &tok, 300_000).await;
    (sim, tok, url, f)
}

async fn cdn_location(_sim: &Simulator, tok: &str, url: &str) -> String {
    http()
        .get(url)
        .bearer_auth(tok)
        .send()
        .await
        .unwrap()
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn download_faults() {
    let (sim, tok, url, f) = one_mp4_of_300k().await;

    // Reset after K bytes: the body fails after about K bytes.
    sim.set_faults(FaultConfig {
        reset_prob: 1.0,
        reset_after_bytes: 50_000,
        ..FaultConfig::default()
    });
    let loc = cdn_location(&sim, &tok, &url).await;
    let mut r = http().get(&loc).send().await.unwrap();
    let mut got = 0usize;
    let err = loop {
        match r.chunk().await {
            Ok(Some(c)) => got += c.len(),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    assert!(err, "a reset is an error");
    assert!(got <= 50_000 && got < f.size as usize, "got {got}");

    // Truncated: Content-Length promised, fewer bytes sent.
    sim.set_faults(FaultConfig {
        truncate_prob: 1.0,
        ..FaultConfig::default()
    });
    let loc = cdn_location(&sim, &tok, &url).await;
    let r = http().get(&loc).send().await.unwrap();
    assert_eq!(r.content_length(), Some(f.size));
    assert!(
        r.bytes().await.is_err(),
        "a truncated body is an error for the client"
    );

    // Range ignored: 200 with the whole file.
    sim.set_faults(FaultConfig {
        range_ignored_prob: 1.0,
        ..FaultConfig::default()
    });
    let loc = cdn_location(&sim, &tok, &url).await;
    let r = http()
        .get(&loc)
        .header("range", "bytes=1000-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len() as u64, f.size);

    // Stall: no byte for a while mid-body.
    sim.set_faults(FaultConfig {
        stall_prob: 1.0,
        stall_secs: 0.4,
        ..FaultConfig::default()
    });
    let loc = cdn_location(&sim, &tok, &url).await;
    let t = Instant::now();
    let body = http()
        .get(&loc)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len() as u64, f.size);
    assert!(t.elapsed() >= Duration::from_millis(350));

    // Bandwidth cap and latency: lower bounds only (never an upper bound in a test).
    sim.set_faults(FaultConfig {
        bandwidth_bps: 1_000_000,
        latency_ms: 100,
        ..FaultConfig::default()
    });
    let t = Instant::now();
    let loc = cdn_location(&sim, &tok, &url).await;
    let body = http()
        .get(&loc)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len() as u64, f.size);
    let min = Duration::from_secs_f64(f.size as f64 / 1_000_000.0) + Duration::from_millis(200)
        - Duration::from_millis(60);
    assert!(t.elapsed() >= min, "{:?} < {min:?}", t.elapsed());

    // The HTML page despite a valid token.
    sim.set_faults(FaultConfig {
        html_prob: 1.0,
        ..FaultConfig::default()
    });
    let r = http().get(&url).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let s = sim.stats();
    assert!(s.count("GET /cdn/file/{id}") >= 5);
    assert!(s.bytes_served > 0);
}

#[tokio::test]
async fn connection_limit_and_shared_line() {
    let (sim, tok, url, f) = one_mp4_of_300k().await;

    // Two downloads at once allowed: the third is told to come back (429, Retry-After), and
    // once one finishes a new one is served again.
    sim.set_faults(FaultConfig {
        max_downloads: 2,
        bandwidth_bps: 1_000_000,
        ..FaultConfig::default()
    });
    let mut open = Vec::new();
    for _ in 0..2 {
        let loc = cdn_location(&sim, &tok, &url).await;
        let r = http().get(&loc).send().await.unwrap();
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let loc = cdn_location(&sim, &tok, &url).await;
    let r = http().get(&loc).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let first = open.remove(0);
    assert_eq!(first.bytes().await.unwrap().len() as u64, f.size);
    let r = http().get(&loc).send().await.unwrap();
    assert_eq!(r.status(), 200, "a slot is free again once a body is done");
    drop(r);
    drop(open);

    // The shared line: four downloads at once take at least four times one file's time on
    // the line (a lower bound only; never an upper bound in a test).
    sim.set_faults(FaultConfig {
        link_bps: 2_000_000,
        ..FaultConfig::default()
    });
    let t = Instant::now();
    let mut jobs = Vec::new();
    for _ in 0..4 {
        let loc = cdn_location(&sim, &tok, &url).await;
        jobs.push(tokio::spawn(async move {
            http()
                .get(&loc)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .len() as u64
        }));
    }
    for j in jobs {
        assert_eq!(j.await.unwrap(), f.size);
    }
    let min =
        Duration::from_secs_f64(4.0 * f.size as f64 / 2_000_000.0) - Duration::from_millis(60);
    assert!(t.elapsed() >= min, "{:?} < {min:?}", t.elapsed());
}

#[tokio::test]
async fn generated_account_is_deterministic_and_complete() {
    let a = start(SimConfig::preset("demo").unwrap()).await;
    let b = start(SimConfig::preset("demo").unwrap()).await;
    let (ma, mb) = (a.manifest(), b.manifest());
    assert_eq!(
        serde_json::to_string(&ma).unwrap(),
        serde_json::to_string(&mb).unwrap()
    );
    assert!(ma.meetings.len() >= 200);
    let file_types: std::collections::HashSet<&str> =
        ma.files().map(|(_, f)| f.file_type.as_str()).collect();
    for t in [
        "MP4",
        "M4A",
        "CHAT",
        "TRANSCRIPT",
        "CSV",
        "TB",
        "CC",
        "CHAT_MESSAGE",
        "SUMMARY",
        "TIMELINE",
    ] {
        assert!(file_types.contains(t), "file type {t} missing");
    }
    let rtypes: std::collections::HashSet<&str> = ma
        .files()
        .filter_map(|(_, f)| f.recording_type.as_deref())
        .collect();
    for t in [
        "shared_screen_with_speaker_view(CC)",
        "shared_screen_with_speaker_view",
        "shared_screen_with_gallery_view",
        "active_speaker",
        "gallery_view",
        "shared_screen",
        "audio_only",
        "audio_transcript",
        "chat_file",
        "poll",
        "host_video",
        "closed_caption",
        "timeline",
        "thumbnail",
        "audio_interpretation",
        "summary",
        "summary_next_steps",
        "summary_smart_chapters",
        "sign_interpretation",
        "production_studio",
    ] {
        assert!(rtypes.contains(t), "recording type {t} missing");
    }
    assert!(
        ma.meetings.iter().any(|m| {
            let mut v: Vec<_> = m
                .files
                .iter()
                .filter(|f| f.file_type == "MP4")
                .filter_map(|f| f.recording_type.clone())
                .collect();
            let n = v.len();
            v.sort();
            v.dedup();
            v.len() < n
        }),
        "two MP4s of the same view in one meeting"
    );
    assert!(ma.meetings.iter().any(|m| m.topic.len() >= 300));
    for hostile in ["CON", "..", "定例会議／第３回：「予算」"] {
        assert!(
            ma.meetings.iter().any(|m| m.topic == hostile),
            "topic {hostile:?}"
        );
    }
    assert!(ma.meetings.iter().any(|m| m.uuid.starts_with('/')));
    assert!(ma.meetings.iter().any(|m| m.uuid.contains("//")));
    assert!(ma.meetings.iter().any(|m| m.uuid.contains('+')));
    assert!(ma.meetings.iter().any(|m| m.timezone.is_empty()));
    let mut ids = std::collections::HashMap::new();
    for m in &ma.meetings {
        *ids.entry(m.id).or_insert(0) += 1;
    }
    assert!(
        ids.values().any(|n| *n > 1),
        "a recurring meeting (one id, many uuids)"
    );
    let inactive: Vec<&str> = ma
        .users
        .iter()
        .filter(|u| u.status == "inactive")
        .filter_map(|u| u.id.as_deref())
        .collect();
    assert!(
        ma.meetings
            .iter()
            .any(|m| inactive.contains(&m.host_id.as_str())),
        "inactive users have meetings"
    );

    // Processing files look like Zoom's and complete later.
    let tok = s2s_token(&a).await;
    let (m, f) = ma
        .files()
        .find(|(_, f)| !f.is_completed())
        .expect("a processing file");
    let (_, v) = get(
        &a,
        &tok,
        &format!("/meetings/{}/recordings", enc(&enc(&m.uuid))),
    )
    .await;
    let pf = v["recording_files"]
        .as_array()
        .unwrap()
        .iter()
        .chain(
            v["participant_audio_files"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .find(|x| x["id"] == f.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            pf["status"].as_str(),
            pf["file_type"].as_str(),
            pf["file_size"].as_u64()
        ),
        (Some("processing"), Some(""), Some(0))
    );
    assert!(pf.get("recording_type").is_none());
    a.complete_processing();
    assert!(a.manifest().files().all(|(_, f)| f.is_completed()));
    // TIMELINE files have no play_url.
    let (m, _) = ma
        .files()
        .find(|(_, f)| f.file_type == "TIMELINE" && f.is_completed())
        .unwrap();
    let (_, v) = get(
        &a,
        &tok,
        &format!("/meetings/{}/recordings", enc(&enc(&m.uuid))),
    )
    .await;
    for f in v["recording_files"].as_array().unwrap() {
        assert_eq!(f["file_type"] == "TIMELINE", f.get("play_url").is_none());
    }
}

/// Zoom's retries: a delivery answered 5xx is sent again after each of the (scaled) waits,
/// the same body each time, newly signed; the first 2xx ends them.
#[tokio::test]
async fn webhooks_are_retried_with_the_same_body_until_answered() {
    use axum::routing::post;
    let got: std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>> = Default::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |h: axum::http::HeaderMap, body: String| {
            let g = g.clone();
            async move {
                let sig = h["x-zm-signature"].to_str().unwrap().to_string();
                let ts = h["x-zm-request-timestamp"].to_str().unwrap().to_string();
                let mut g = g.lock().unwrap();
                g.push((sig, ts, body));
                if g.len() < 3 {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let sim = start(quiet()).await;
    let uuid = sim.manifest().meetings[0].uuid.clone();
    // Zoom's 5, 20 and 60 minutes, scaled to 30, 120 and 360 ms.
    let delays = zoom_sim::webhook::retry_delays(0.0001);
    assert_eq!(delays[0], std::time::Duration::from_millis(30));
    let started = std::time::Instant::now();
    let statuses = sim
        .send_webhook_with_retries(
            &format!("http://{addr}/hook"),
            "s3cret",
            zoom_sim::WebhookEvent::TranscriptCompleted {
                meeting_uuid: uuid.clone(),
            },
            &delays,
        )
        .await
        .unwrap();
    assert_eq!(statuses, [500, 500, 200]);
    // The waits were kept (a lower bound only: the machine may be slow).
    assert!(started.elapsed() >= delays[0] + delays[1]);
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    for (sig, ts, body) in &got {
        assert_eq!(body, &got[0].2, "a retry is the same event");
        assert_eq!(sig, &zoom_sim::webhook::signature("s3cret", ts, body));
    }
    let v: Value = serde_json::from_str(&got[0].2).unwrap();
    assert_eq!(v["event"], "recording.transcript_completed");
    assert_eq!(v["payload"]["object"]["uuid"], uuid.as_str());
    assert!(v["download_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(v["event_ts"].as_i64().is_some());

    // Nothing answers: one delivery per wait, then it gives up.
    let statuses = sim
        .send_webhook_with_retries(
            "http://127.0.0.1:9/hook",
            "s3cret",
            zoom_sim::WebhookEvent::RecordingCompleted { meeting_uuid: uuid },
            &zoom_sim::webhook::retry_delays(0.00001),
        )
        .await
        .unwrap();
    assert_eq!(statuses, [0, 0, 0, 0]);
}

#[tokio::test]
async fn webhooks_are_signed() {
    use axum::routing::post;
    let got: std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>> = Default::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |h: axum::http::HeaderMap, body: String| {
            let g = g.clone();
            async move {
                let sig = h["x-zm-signature"].to_str().unwrap().to_string();
                let ts = h["x-zm-request-timestamp"].to_str().unwrap().to_string();
                g.lock().unwrap().push((sig, ts, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let sim = start(quiet()).await;
    let uuid = sim.manifest().meetings[0].uuid.clone();
    let url = format!("http://{addr}/hook");
    assert_eq!(
        sim.send_webhook(
            &url,
            "s3cret",
            zoom_sim::WebhookEvent::RecordingCompleted {
                meeting_uuid: uuid.clone()
            }
        )
        .await
        .unwrap(),
        200
    );
    assert_eq!(
        sim.send_webhook(
            &url,
            "s3cret",
            zoom_sim::WebhookEvent::UrlValidation {
                plain_token: "abc".into()
            }
        )
        .await
        .unwrap(),
        200
    );
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    for (sig, ts, body) in &got {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(format!("v0:{ts}:{body}").as_bytes());
        assert_eq!(
            sig,
            &format!("v0={}", hex::encode(mac.finalize().into_bytes()))
        );
    }
    let v: Value = serde_json::from_str(&got[0].2).unwrap();
    assert_eq!(v["event"], "recording.completed");
    assert_eq!(v["payload"]["object"]["uuid"], uuid.as_str());
    assert!(v["download_token"].as_str().is_some());
    let v: Value = serde_json::from_str(&got[1].2).unwrap();
    assert_eq!(v["payload"]["plainToken"], "abc");
}

#[tokio::test]
async fn control_plane_and_stats_over_http() {
    let sim = start(quiet()).await;
    let base = format!("{}/sim", sim.base_url());
    let m: Value = http()
        .get(format!("{base}/manifest"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        m["meetings"].as_array().unwrap().len(),
        sim.manifest().meetings.len()
    );
    let tok: Value = http()
        .post(format!("{base}/token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok = tok["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&sim, &tok, "/users").await.0, 200);
    let r = http()
        .post(format!("{base}/faults"))
        .json(&serde_json::json!({"api_5xx_burst": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(get(&sim, &tok, "/users").await.0, 503);
    let s: Value = http()
        .get(format!("{base}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["requests"]["GET /v2/users"]["200"], 1);
    assert_eq!(s["requests"]["GET /v2/users"]["503"], 1);
    let r = http()
        .post(format!("{base}/advance-clock?secs=4000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        get(&sim, &tok, "/users").await.0,
        401,
        "the clock moved past the token's life"
    );
    assert_eq!(
        http()
            .post(format!("{base}/complete-processing"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let d: Value = http()
        .get(format!("{base}/deletions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d.as_array().unwrap().len(), 0);
}

#[test]
fn scenario_files_parse_and_bad_ones_say_where() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/example.toml");
    let c = SimConfig::from_toml_file(&example).unwrap();
    assert!(c.account.meetings > 0);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "seed = 1\n[account]\nmeetingz = 3\n").unwrap();
    let e = SimConfig::from_toml_file(&bad).unwrap_err().to_string();
    assert!(
        e.contains("bad.toml") && e.contains("meetingz") && e.contains("line"),
        "{e}"
    );
    std::fs::write(&bad, "seed = \"one\"\n").unwrap();
    let e = SimConfig::from_toml_file(&bad).unwrap_err().to_string();
    assert!(e.contains("seed"), "{e}");
}

#[test]
fn the_binary_documents_every_flag_and_refuses_bad_values() {
    let exe = env!("CARGO_BIN_EXE_zoom-sim");
    let out = std::process::Command::new(exe)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--preset",
        "--scenario",
        "--seed",
        "--bind",
        "--cdn-bind",
        "--plan",
        "--no-rate-limits",
        "--token-ttl",
        "--meetings",
        "--users",
        "--years",
        "--files-per-meeting",
        "--file-size",
        "--bandwidth",
        "--latency-ms",
        "--api-5xx-prob",
        "--reset-prob",
        "--reset-after",
        "--truncate-prob",
        "--stall-prob",
        "--stall-secs",
        "--range-ignored-prob",
        "--scopes",
        "--account-listing",
        "--summary-listing",
        "--print-config",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    let out = std::process::Command::new(exe)
        .args(["--reset-prob", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a probability"));
    let out = std::process::Command::new(exe)
        .args(["--account-listing", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not_allowed_4700"));
    let out = std::process::Command::new(exe)
        .args(["--scopes", "a b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("access.scopes"));
    let out = std::process::Command::new(exe)
        .args(["--file-size", "lots"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn the_binary_serves_and_prints_its_urls() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_zoom-sim"))
        .args(["--preset", "test"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut api = None;
    let mut oauth = None;
    while let Ok(Some(l)) = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap()
    {
        if let Some(v) = l.strip_prefix("ZVM_API_BASE=") {
            api = Some(v.to_string());
        }
        if let Some(v) = l.strip_prefix("ZVM_OAUTH_BASE=") {
            oauth = Some(v.to_string());
        }
        if l.starts_with("ACCOUNT ") {
            break;
        }
    }
    let (api, oauth) = (api.unwrap(), oauth.unwrap());
    let c = SimConfig::default();
    let v: Value = http()
        .post(format!("{oauth}/oauth/token"))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[
            ("grant_type", "account_credentials"),
            ("account_id", c.account_id.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok = v["access_token"].as_str().unwrap();
    let r = http()
        .get(format!("{api}/users"))
        .bearer_auth(tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_bandwidth_cap_belongs_to_the_tcp_connection_and_h2c_is_spoken() {
    let (sim, tok, url, f) = one_mp4_of_300k().await;
    sim.set_faults(FaultConfig {
        bandwidth_bps: 1_000_000,
        ..FaultConfig::default()
    });
    // Two downloads at once as HTTP/2 streams on one connection (h2c, prior knowledge):
    // they share that connection's cap, so together they take at least twice one file's
    // time. A lower bound only; never an upper bound in a test.
    let h2 = reqwest::Client::builder()
        .redirect(Policy::none())
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let mut locs = Vec::new();
    for _ in 0..2 {
        locs.push(cdn_location(&sim, &tok, &url).await);
    }
    let t = Instant::now();
    let jobs: Vec<_> = locs
        .into_iter()
        .map(|loc| {
            let h2 = h2.clone();
            tokio::spawn(async move {
                let r = h2.get(&loc).send().await.unwrap();
                assert_eq!(r.version(), reqwest::Version::HTTP_2);
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap().len() as u64
            })
        })
        .collect();
    for j in jobs {
        assert_eq!(j.await.unwrap(), f.size);
    }
    let min =
        Duration::from_secs_f64(2.0 * f.size as f64 / 1_000_000.0) - Duration::from_millis(60);
    assert!(t.elapsed() >= min, "{:?} < {min:?}", t.elapsed());

    // A keep-alive HTTP/1.1 connection idle between two requests does not bank its unused
    // time: the second response on it still takes the whole file's time at the cap (a
    // 50 ms credit would cut 50 ms off; the slack allowed is 10 ms).
    let h1 = reqwest::Client::builder()
        .redirect(Policy::none())
        .http1_only()
        .build()
        .unwrap();
    for round in 0..2 {
        let loc = cdn_location(&sim, &tok, &url).await;
        let t = Instant::now();
        let r = h1.get(&loc).send().await.unwrap();
        assert_eq!(r.version(), reqwest::Version::HTTP_11);
        assert_eq!(r.bytes().await.unwrap().len() as u64, f.size);
        let min = Duration::from_secs_f64(f.size as f64 / 1_000_000.0) - Duration::from_millis(10);
        assert!(
            t.elapsed() >= min,
            "round {round}: {:?} < {min:?}",
            t.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Zoom's S2S documentation puts `grant_type` and `account_id` in the query string of the
/// token request, with an empty body; clients send a form. Both are accepted, and a wrong
/// account in either place is refused alike.
#[tokio::test]
async fn s2s_token_parameters_in_the_query_string_or_the_form() {
    let sim = start(quiet()).await;
    let c = sim.credentials();
    // The form body (what zvm sends).
    let from_form = s2s_token(&sim).await;
    assert_eq!(get(&sim, &from_form, "/users/me").await.0, 200);
    // The query string, as in Zoom's documentation.
    let url = format!(
        "{}/oauth/token?grant_type=account_credentials&account_id={}",
        sim.oauth_base_url(),
        enc(&c.account_id)
    );
    let r = http()
        .post(&url)
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "bearer");
    let from_query = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(get(&sim, &from_query, "/users/me").await.0, 200);
    // The query string still needs the client's credentials and the right account.
    let r = http()
        .post(&url)
        .basic_auth(&c.client_id, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http()
        .post(format!(
            "{}/oauth/token?grant_type=account_credentials&account_id=nope",
            sim.oauth_base_url()
        ))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
}

/// `narrowing_days` makes the silent narrowing stricter than Zoom's month, so that it fires
/// on a one-month window too; the narrowed `from` is echoed.
#[tokio::test]
async fn narrowing_days_narrows_a_one_month_window() {
    let mut c = quiet();
    c.narrowing_days = Some(28);
    c.account.end_date = Some("2026-06-30".into());
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let (st, v) = get(
        &sim,
        &tok,
        "/users/me/recordings?from=2026-05-30&to=2026-06-30",
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(v["from"], "2026-06-02", "28 days before `to`");
    // A span within the 28 days is left alone.
    let (_, v) = get(
        &sim,
        &tok,
        "/users/me/recordings?from=2026-06-10&to=2026-06-30",
    )
    .await;
    assert_eq!(v["from"], "2026-06-10");
    // Zero days is no narrowing any server does: refused with a clear message.
    let mut bad = quiet();
    bad.narrowing_days = Some(0);
    let e = Simulator::start(bad).await.err().unwrap().to_string();
    assert!(e.contains("narrowing_days"), "{e}");
}

/// With `send_headers = false` a per-second 429 carries Zoom's JSON body and no
/// `X-RateLimit-*` or `Retry-After` header at all: the bare 429 clients must back off on.
#[tokio::test]
async fn a_bare_per_second_429_has_no_rate_limit_headers() {
    let mut c = SimConfig::default();
    c.rate_limits.medium_per_sec = Some(1);
    c.rate_limits.send_headers = false;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    // At 1/s the second request within a calendar second is refused; keep asking until one
    // is (a few requests on any machine, bounded so a broken limit fails instead of looping).
    let mut bare = None;
    for _ in 0..500 {
        let r = http()
            .get(format!("{}/users", sim.api_base_url()))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            bare = Some((r.headers().clone(), r.json::<Value>().await.unwrap()));
            break;
        }
    }
    let (h, body) = bare.expect("a 429 at 1 request per second");
    assert_eq!(body["code"], 429);
    let rate_headers: Vec<&str> = h
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("x-ratelimit") || *k == "retry-after")
        .collect();
    assert!(rate_headers.is_empty(), "headers sent: {rate_headers:?}");
}

/// On the Free plan AI Companion is not available: every summary request answers 400 code
/// 200, and the manifest says no meeting has a summary a client could save.
#[tokio::test]
async fn the_free_plan_answers_summaries_400_code_200() {
    let mut c = quiet();
    c.plan = zoom_sim::Plan::Free;
    c.account.summary_fraction = 1.0;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let manifest = sim.manifest();
    assert!(manifest.meetings.iter().all(|m| !m.has_summary));
    let m = &manifest.meetings[0];
    let (st, v) = get(
        &sim,
        &tok,
        &format!("/meetings/{}/meeting_summary", enc(&enc(&m.uuid))),
    )
    .await;
    assert_eq!((st.as_u16(), v["code"].as_i64()), (400, Some(200)), "{v}");
    // A meeting that does not exist is still 404 3301, as on any plan.
    let (st, _) = get(&sim, &tok, "/meetings/nope/meeting_summary").await;
    assert_eq!(st, 404);
    // On a paid plan the same account serves its summaries.
    let mut c = quiet();
    c.account.summary_fraction = 1.0;
    let sim = start(c).await;
    let tok = s2s_token(&sim).await;
    let m = sim.manifest().meetings[0].clone();
    assert!(m.has_summary);
    let (st, _) = get(
        &sim,
        &tok,
        &format!("/meetings/{}/meeting_summary", enc(&enc(&m.uuid))),
    )
    .await;
    assert_eq!(st, 200);
}

/// The two CDNs the reports describe: one that wants the bearer token besides its signed
/// query (`cdn_requires_auth`), one that refuses a request carrying it (`cdn_refuses_auth`).
/// Both on at once is a contradiction the simulator refuses to start with.
#[tokio::test]
async fn the_cdn_can_require_or_refuse_the_authorization_header() {
    for (requires, refuses) in [(true, false), (false, true), (false, false)] {
        let mut c = quiet();
        c.cdn_requires_auth = requires;
        c.cdn_refuses_auth = refuses;
        let sim = start(c).await;
        let tok = s2s_token(&sim).await;
        let (url, f) = download_url(&sim, &tok, 1).await;
        let loc = cdn_location(&sim, &tok, &url).await;
        let bare = http().get(&loc).send().await.unwrap().status().as_u16();
        let with = http().get(&loc).bearer_auth(&tok).send().await.unwrap();
        let with_status = with.status().as_u16();
        let expected = match (requires, refuses) {
            (true, _) => (403, 200),
            (_, true) => (200, 403),
            _ => (200, 200),
        };
        assert_eq!(
            (bare, with_status),
            expected,
            "requires={requires} refuses={refuses}: (without, with) the header"
        );
        if with_status == 200 {
            let body = with.bytes().await.unwrap();
            assert_eq!(hex::encode(sha2::Sha256::digest(&body)), f.sha256_hex());
        }
    }
    let mut both = quiet();
    both.cdn_requires_auth = true;
    both.cdn_refuses_auth = true;
    let e = Simulator::start(both).await.err().unwrap().to_string();
    assert!(e.contains("cdn_refuses_auth"), "{e}");
}

/// A scenario written before the newer keys existed still loads, with their defaults.
#[test]
fn an_old_scenario_without_the_newer_keys_still_loads() {
    let c = SimConfig::from_toml_str(
        "seed = 3\ncdn_requires_auth = true\n[rate_limits]\nsend_headers = false\n",
    )
    .unwrap();
    assert!(c.cdn_requires_auth && !c.rate_limits.send_headers);
    assert!(!c.cdn_refuses_auth);
    assert_eq!(c.narrowing_days, None);
}

/// One long recording among ordinary ones (`large_file`), and the CDN's log of the ranges
/// asked for (what segmented-download tests read).
#[tokio::test]
async fn a_large_file_and_the_log_of_ranges_asked() {
    let mut c = quiet();
    c.account.mp4_size = (300_000, 400_000);
    c.account.large_file = Some(3_000_001);
    let sim = start(c).await;
    let m = sim.manifest();
    let large: Vec<_> = m.files().filter(|(_, f)| f.size == 3_000_001).collect();
    assert_eq!(large.len(), 1, "exactly one file has the large size");
    assert_eq!(
        large[0].0.uuid, m.meetings[0].uuid,
        "it is the newest meeting's"
    );
    assert_eq!(large[0].1.file_type, "MP4");

    let tok = s2s_token(&sim).await;
    let (url, f) = download_url(&sim, &tok, 300_000).await;
    let loc = cdn_location(&sim, &tok, &url).await;
    for range in [
        None,
        Some("bytes=10-99"),
        Some(format!("bytes={}-", f.size).as_str()),
    ] {
        let mut req = http().get(&loc);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send().await.unwrap().bytes().await.unwrap();
    }
    let asked = sim.stats().cdn_requests[&f.id].clone();
    let seen: Vec<(Option<&str>, u16)> = asked
        .iter()
        .map(|r| (r.range.as_deref(), r.status))
        .collect();
    let past_end = format!("bytes={}-", f.size);
    assert_eq!(
        seen,
        vec![
            (None, 200),
            (Some("bytes=10-99"), 206),
            (Some(past_end.as_str()), 416)
        ]
    );
}
