//! A recording webhook's `download_token` (zoom-api.md §1, §7): it downloads the files of
//! its own meeting (bearer or `?access_token=`) and of no other meeting, for 24 hours of the
//! simulator's clock, and the API refuses it (it is not an access token).

mod common;

use common::{http, s2s_answer, start};
use serde_json::Value;
use zoom_sim::{SimConfig, Simulator, WebhookEvent};

fn quiet() -> SimConfig {
    let mut c = SimConfig::default();
    c.rate_limits.enabled = false;
    c
}

/// Two meetings with a completed file each.
fn two_meetings(sim: &Simulator) -> (String, String) {
    let mut it = sim
        .manifest()
        .meetings
        .into_iter()
        .filter(|m| m.files.iter().any(|f| f.is_completed()))
        .map(|m| m.uuid);
    (it.next().expect("a meeting"), it.next().expect("another"))
}

/// The `recording.completed` body of `uuid`: its token and its first completed file's URL.
fn event_of(sim: &Simulator, uuid: &str) -> (String, String) {
    let body = sim
        .webhook_body(&WebhookEvent::RecordingCompleted {
            meeting_uuid: uuid.to_owned(),
        })
        .expect("envelope");
    let v: Value = serde_json::from_str(&body).unwrap();
    let token = v["download_token"].as_str().expect("a token").to_owned();
    let url = v["payload"]["object"]["recording_files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["status"] == "completed")
        .expect("a completed file")["download_url"]
        .as_str()
        .expect("a download_url")
        .to_owned();
    (token, url)
}

/// `true` when the download was let through (a redirect to the CDN), `false` when Zoom's
/// "only the host can download" page came back.
async fn let_through(req: reqwest::RequestBuilder) -> bool {
    let r = req.send().await.unwrap();
    match r.status().as_u16() {
        302 => true,
        200 => {
            assert!(r.text().await.unwrap().contains("Only the host"));
            false
        }
        other => panic!("unexpected status {other}"),
    }
}

#[tokio::test]
async fn a_download_token_downloads_its_own_meeting_only_for_a_day() {
    let sim = start(quiet()).await;
    let (a, b) = two_meetings(&sim);
    let (token_a, url_a) = event_of(&sim, &a);
    let (_, url_b) = event_of(&sim, &b);

    // Its own meeting's file: as a bearer and as the query parameter.
    assert!(let_through(http().get(&url_a).bearer_auth(&token_a)).await);
    assert!(let_through(http().get(format!("{url_a}?access_token={token_a}"))).await);
    // Another meeting's file: refused as Zoom refuses a download without a valid token.
    assert!(!let_through(http().get(&url_b).bearer_auth(&token_a)).await);
    // The simulator tells the downloads a download token let through.
    assert_eq!(sim.stats().count(zoom_sim::download::BY_DOWNLOAD_TOKEN), 2);
    // The API does not take it, where it takes an access token.
    let me = |token: String| {
        http()
            .get(format!("{}/users/me", sim.api_base_url()))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(me(token_a.clone()).await.unwrap().status(), 401);
    let access = s2s_answer(&sim).await["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    assert_eq!(me(access).await.unwrap().status(), 200);

    // Still good just before its day is over, refused after.
    sim.advance_clock(24 * 3600 - 120);
    assert!(let_through(http().get(&url_a).bearer_auth(&token_a)).await);
    sim.advance_clock(240);
    assert!(!let_through(http().get(&url_a).bearer_auth(&token_a)).await);
}
