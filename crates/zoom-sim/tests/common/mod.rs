//! What every test file of the simulator's contract starts from: an HTTP client that shows
//! redirects instead of following them, a simulator, and a Server-to-Server token answer.

use serde_json::Value;
use zoom_sim::{SimConfig, Simulator};

/// A client that does not follow redirects (the tests look at them).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn start(c: SimConfig) -> Simulator {
    Simulator::start(c).await.unwrap()
}

/// The simulator's answer to a Server-to-Server token request (asserted 200).
pub async fn s2s_answer(sim: &Simulator) -> Value {
    let c = sim.credentials();
    let r = http()
        .post(format!("{}/oauth/token", sim.oauth_base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[
            ("grant_type", "account_credentials"),
            ("account_id", &c.account_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}
