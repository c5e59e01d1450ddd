//! `zoom-sim`: runs the simulator until Ctrl-C, printing its base URLs and credentials.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use zoom_sim::{ListingAccess, Plan, SimConfig, Simulator};

/// A faithful local Zoom for tests, benchmarks and demos (loopback only).
///
/// Flags override the preset, and the scenario file overrides the preset too (flags win).
#[derive(Debug, Parser)]
#[command(name = "zoom-sim", version)]
struct Args {
    /// Start from a preset: test (small), demo (realistic), big (benchmarks).
    #[arg(long, default_value = "test")]
    preset: String,
    /// A TOML scenario file (see crates/zoom-sim/scenarios/example.toml).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Seed of everything generated.
    #[arg(long)]
    seed: Option<u64>,
    /// API/OAuth/web listen address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    bind: String,
    /// CDN listen address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    cdn_bind: String,
    /// Plan whose rate limits apply: free, pro, business.
    #[arg(long)]
    plan: Option<Plan>,
    /// Turn rate limiting off.
    #[arg(long)]
    no_rate_limits: bool,
    /// Access-token lifetime in seconds.
    #[arg(long, value_name = "SECS")]
    token_ttl: Option<u64>,
    /// Number of meetings to generate.
    #[arg(long)]
    meetings: Option<u32>,
    /// Active users.
    #[arg(long)]
    users: Option<u32>,
    /// Years of history.
    #[arg(long)]
    years: Option<u32>,
    /// Every meeting has exactly this many MP4 files (and nothing else).
    #[arg(long, value_name = "N")]
    files_per_meeting: Option<u32>,
    /// Size of every file with --files-per-meeting, e.g. 4MiB, 4GiB, 1000000.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    file_size: Option<u64>,
    /// The newest meeting's first MP4 has this size (one long recording among the rest).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    large_file: Option<u64>,
    /// Download cap of each TCP connection, e.g. 20MiB (bytes per second); HTTP/2 streams
    /// on one connection share it.
    #[arg(long, value_name = "RATE", value_parser = parse_size)]
    bandwidth: Option<u64>,
    /// Added latency per request, in milliseconds.
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// Total download bandwidth of all connections together (the user's line), e.g. 200MiB.
    #[arg(long, value_name = "RATE", value_parser = parse_size)]
    link_bandwidth: Option<u64>,
    /// CDN downloads allowed at once; more are answered 429 with Retry-After: 1.
    #[arg(long, value_name = "N")]
    max_downloads: Option<u32>,
    /// Probability of a 5xx answer per API request.
    #[arg(long, value_name = "P")]
    api_5xx_prob: Option<f64>,
    /// Probability that a download is reset after --reset-after bytes.
    #[arg(long, value_name = "P")]
    reset_prob: Option<f64>,
    /// Bytes sent before an injected reset.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    reset_after: Option<u64>,
    /// Probability that a download body is truncated.
    #[arg(long, value_name = "P")]
    truncate_prob: Option<f64>,
    /// Probability that a download stalls mid-body.
    #[arg(long, value_name = "P")]
    stall_prob: Option<f64>,
    /// How long a stall lasts (0 = for ever).
    #[arg(long, value_name = "SECS")]
    stall_secs: Option<f64>,
    /// Probability that a Range request is answered with the whole file.
    #[arg(long, value_name = "P")]
    range_ignored_prob: Option<f64>,
    /// Scopes every issued token carries, comma separated (default: every scope).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    scopes: Option<Vec<String>>,
    /// How the account recordings listing answers: allowed, scope_4711, not_allowed_4700,
    /// bad_request_400, not_found_404.
    #[arg(long, value_name = "ACCESS")]
    account_listing: Option<ListingAccess>,
    /// How the summary listing answers (same values as --account-listing).
    #[arg(long, value_name = "ACCESS")]
    summary_listing: Option<ListingAccess>,
    /// Print the configuration as TOML and exit (a starting point for a scenario).
    #[arg(long)]
    print_config: bool,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t
        .trim_end_matches("/s")
        .trim_end_matches('b')
        .trim_end_matches('i');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| (v * mult as f64) as u64)
        .ok_or_else(|| {
            format!("'{s}' is not a size: use a number with an optional K, M or G suffix")
        })
}

fn build(a: &Args) -> anyhow::Result<SimConfig> {
    let mut c = match &a.scenario {
        Some(p) => SimConfig::from_toml_file(p)?,
        None => SimConfig::preset(&a.preset)?,
    };
    c.bind = Some(a.bind.clone());
    c.cdn_bind = Some(a.cdn_bind.clone());
    if let Some(v) = a.seed {
        c.seed = v;
    }
    if let Some(v) = a.plan {
        c.plan = v;
    }
    if a.no_rate_limits {
        c.rate_limits.enabled = false;
    }
    if let Some(v) = a.token_ttl {
        c.token_ttl_secs = v;
    }
    if let Some(v) = a.meetings {
        c.account.meetings = v;
    }
    if let Some(v) = a.users {
        c.account.active_users = v;
    }
    if let Some(v) = a.years {
        c.account.years = v;
    }
    if let Some(v) = a.files_per_meeting {
        c.account.files_per_meeting = Some(v);
    }
    if let Some(v) = a.file_size {
        c.account.file_size = Some(v);
    }
    if let Some(v) = a.large_file {
        c.account.large_file = Some(v);
    }
    if let Some(v) = a.bandwidth {
        c.faults.bandwidth_bps = v;
    }
    if let Some(v) = a.latency_ms {
        c.faults.latency_ms = v;
    }
    if let Some(v) = a.link_bandwidth {
        c.faults.link_bps = v;
    }
    if let Some(v) = a.max_downloads {
        c.faults.max_downloads = v;
    }
    if let Some(v) = a.api_5xx_prob {
        c.faults.api_5xx_prob = v;
    }
    if let Some(v) = a.reset_prob {
        c.faults.reset_prob = v;
    }
    if let Some(v) = a.reset_after {
        c.faults.reset_after_bytes = v;
    }
    if let Some(v) = a.truncate_prob {
        c.faults.truncate_prob = v;
    }
    if let Some(v) = a.stall_prob {
        c.faults.stall_prob = v;
    }
    if let Some(v) = a.stall_secs {
        c.faults.stall_secs = v;
    }
    if let Some(v) = a.range_ignored_prob {
        c.faults.range_ignored_prob = v;
    }
    if let Some(v) = &a.scopes {
        c.access.scopes = Some(v.iter().map(|s| s.trim().to_string()).collect());
    }
    if let Some(v) = a.account_listing {
        c.access.account_listing = v;
    }
    if let Some(v) = a.summary_listing {
        c.access.summary_listing = v;
    }
    c.check()?;
    for (name, p) in [
        ("--api-5xx-prob", c.faults.api_5xx_prob),
        ("--reset-prob", c.faults.reset_prob),
        ("--truncate-prob", c.faults.truncate_prob),
        ("--stall-prob", c.faults.stall_prob),
        ("--range-ignored-prob", c.faults.range_ignored_prob),
    ] {
        if !(0.0..=1.0).contains(&p) {
            anyhow::bail!("{name} {p} is not a probability: use a number from 0 to 1");
        }
    }
    Ok(c)
}

#[tokio::main]
async fn main() -> ExitCode {
    let a = Args::parse();
    let cfg = match build(&a) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if a.print_config {
        match toml::to_string_pretty(&cfg) {
            Ok(t) => println!("{t}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
        return ExitCode::SUCCESS;
    }
    let sim = match Simulator::start(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let m = sim.manifest();
    let c = sim.credentials();
    println!("zoom-sim listening (loopback only)");
    println!("ZVM_API_BASE={}", sim.api_base_url());
    println!("ZVM_OAUTH_BASE={}", sim.oauth_base_url());
    println!("CDN={}", sim.cdn_base_url());
    println!("CONTROL={}/sim", sim.base_url());
    println!("ZOOM_ACCOUNT_ID={}", c.account_id);
    println!("ZOOM_CLIENT_ID={}", c.client_id);
    println!("ZOOM_CLIENT_SECRET={}", c.client_secret);
    println!(
        "ACCOUNT users={} meetings={} files={} bytes={}",
        m.users.len(),
        m.meetings.len(),
        m.files().count(),
        m.total_bytes()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
