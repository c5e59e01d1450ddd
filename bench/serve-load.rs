//! Load generator for `zvm serve`'s HTTP side (bench/serve-bench.sh runs it): N connections
//! at once, each sending M requests one after another, and the latency of each.
//!
//! `--target webhook`: every request is a distinct `recording.completed` event (its own
//! meeting uuid and `event_ts`), signed now with the secret token as Zoom signs, so each
//! one must be queued (a ready-made load tool such as oha or wrk sends one body over and
//! over, which the daemon rightly refuses as replays). `--target metrics`: GET /metrics.
//! `--target healthz`: GET /healthz, a request the daemon does nothing for: the ceiling of
//! the HTTP exchange itself on this machine, to tell the webhook's own cost from it.
//!
//! Prints one line of figures (with the CPU seconds this generator used while timed,
//! `load_cpu_s`: it shares the cores with the daemon), and the run id that names this run's meetings
//! (`load-RUNID-C-R`), so the script can count them in the daemon's queue.
//!
//! Usage: serve-load --base http://127.0.0.1:8080 --secret TOKEN [--target webhook|metrics|healthz]
//!                   [--connections 100] [--requests 50] [--path /zoom/webhook]

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

struct Args {
    base: String,
    path: String,
    secret: String,
    target: String,
    connections: usize,
    requests: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        base: String::new(),
        path: "/zoom/webhook".into(),
        secret: std::env::var("ZVM_WEBHOOK_SECRET_TOKEN").unwrap_or_default(),
        target: "webhook".into(),
        connections: 100,
        requests: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--base" => a.base = value()?,
            "--path" => a.path = value()?,
            "--secret" => a.secret = value()?,
            "--target" => a.target = value()?,
            "--connections" => a.connections = value()?.parse().map_err(|e| format!("{e}"))?,
            "--requests" => a.requests = value()?.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if !["webhook", "metrics", "healthz"].contains(&a.target.as_str()) {
        return Err(format!(
            "--target {}: use webhook, metrics or healthz",
            a.target
        ));
    }
    if a.base.is_empty() || (a.target == "webhook" && a.secret.is_empty()) {
        return Err("give --base, and --secret (or ZVM_WEBHOOK_SECRET_TOKEN) for webhooks".into());
    }
    Ok(a)
}

fn sign(secret: &str, ts: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// One request, made before the clock starts: a webhook's body and its signature headers
/// (`None` for a GET).
struct Prepared {
    signed: Option<(String, String, String)>,
}

/// The requests of connection `c`: distinct events, signed now (they are sent within
/// seconds, well inside the daemon's 5-minute window).
fn prepare(a: &Args, run: u64, c: usize) -> Vec<Prepared> {
    (0..a.requests)
        .map(|r| {
            if a.target != "webhook" {
                return Prepared { signed: None };
            }
            let body = serde_json::json!({
                "event": "recording.completed",
                "event_ts": run as usize * 1000 + c * a.requests + r,
                "download_token": "load-test",
                "payload": {"account_id": "load", "object": {
                    "uuid": format!("load-{run}-{c}-{r}"),
                    "id": 1, "topic": "load", "recording_files": [],
                }},
            })
            .to_string();
            let ts = jiff_now_secs().to_string();
            let sig = sign(&a.secret, &ts, &body);
            Prepared {
                signed: Some((body, ts, sig)),
            }
        })
        .collect()
}

/// One connection's requests, sent one after another: (latency, status; 0 when nothing
/// answered).
async fn connection(
    a: &Args,
    client: reqwest::Client,
    requests: Vec<Prepared>,
) -> Vec<(Duration, u16)> {
    let mut out = Vec::with_capacity(requests.len());
    for p in requests {
        let req = match p.signed {
            None => client.get(format!("{}/{}", a.base, a.target)),
            Some((body, ts, sig)) => client
                .post(format!("{}{}", a.base, a.path))
                .header("content-type", "application/json")
                .header("x-zm-request-timestamp", ts)
                .header("x-zm-signature", sig)
                .body(body),
        };
        let started = Instant::now();
        let status = match req.send().await {
            Ok(resp) => {
                let s = resp.status().as_u16();
                let _ = resp.bytes().await;
                s
            }
            Err(_) => 0,
        };
        out.push((started.elapsed(), status));
    }
    out
}

/// CPU seconds (user + system) this process has used: fields 14 and 15 of
/// /proc/self/stat, in clock ticks of 1/100 s (Linux's USER_HZ). 0 where there is no /proc.
fn own_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

fn jiff_now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let a = match args() {
        Ok(a) => std::sync::Arc::new(a),
        Err(e) => {
            eprintln!("serve-load: {e}");
            std::process::exit(2);
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    // Clients, bodies and signatures are made before the clock starts: what is timed (and
    // what `load_cpu_s` is mostly made of) is the HTTP exchange.
    let work: Vec<(reqwest::Client, Vec<Prepared>)> = (0..a.connections)
        .map(|c| {
            // One client per connection, one idle connection kept: the requests of a
            // "connection" go over one keep-alive TCP connection, as a load tool's would.
            let client = reqwest::Client::builder()
                .http1_only()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            (client, prepare(&a, run, c))
        })
        .collect();
    let cpu_before = own_cpu_secs();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (client, requests) in work {
        let a = a.clone();
        tasks.spawn(async move { connection(&a, client, requests).await });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.expect("connection task"));
    }
    let wall = started.elapsed();
    let total = all.len();
    let ok = all.iter().filter(|(_, s)| (200..300).contains(s)).count();
    let mut lat: Vec<f64> = all.iter().map(|(d, _)| d.as_secs_f64() * 1000.0).collect();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    let mean = lat.iter().sum::<f64>() / lat.len().max(1) as f64;
    let mut statuses = std::collections::BTreeMap::new();
    for (_, s) in &all {
        *statuses.entry(*s).or_insert(0u64) += 1;
    }
    println!(
        "target={} connections={} requests={} ok={} success={:.3}% wall_s={:.3} rps={:.0} mean_ms={:.2} p50_ms={:.2} p95_ms={:.2} p99_ms={:.2} max_ms={:.2} statuses={:?} load_cpu_s={:.2} run={}",
        a.target,
        a.connections,
        total,
        ok,
        100.0 * ok as f64 / total.max(1) as f64,
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        mean,
        pct(0.50),
        pct(0.95),
        pct(0.99),
        lat.last().copied().unwrap_or(0.0),
        statuses,
        own_cpu_secs() - cpu_before,
        run
    );
}
