//! Shared harness of the `zvm sync` acceptance tests: a [`TestContext`] owns a simulator
//! running in the test process, a temporary HOME, destination and state file, runs the real
//! `zvm` binary against them as a subprocess (tokio::process, so the simulator keeps serving
//! while zvm runs), and checks a copy against the simulator's manifest.

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::Digest;
use zoom_sim::{AccountSpec, CloudState, SimConfig, Simulator};

// --- Tests that cannot run here: fail under CI, say so elsewhere (see skip.rs). ---
mod skip;
#[allow(unused_imports)] // not every test binary has a test that may skip
pub use skip::skip_or_fail;
#[allow(unused_imports)] // not every test binary walks the destination
pub use zvm_testkit::files_under;

/// What one `zvm` run left behind.
#[derive(Debug)]
pub struct RunOutput {
    /// Exit code (None: killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    /// stdout and stderr together, for assertions about "any output".
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics with both streams when the run ended otherwise than with `code`.
    pub fn expect_code(&self, code: i32, what: &str) {
        assert_eq!(
            self.code,
            Some(code),
            "{what}: exit {:?}, expected {code}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.code,
            tail(&self.stdout),
            tail(&self.stderr)
        );
        assert!(
            !self.stderr.contains("panicked"),
            "{what}: zvm panicked:\n{}",
            tail(&self.stderr)
        );
    }
}

/// The last few KiB of a long output, enough to diagnose a failure.
pub fn tail(s: &str) -> &str {
    let mut start = s.len().saturating_sub(6000);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// A simulator plus the folders one test's runs use.
pub struct TestContext {
    pub sim: Simulator,
    pub dir: tempfile::TempDir,
    pub dest: PathBuf,
    pub state: PathBuf,
    pub home: PathBuf,
}

/// A small account with every kind of file, sized for speed (a few KiB each).
pub fn small_account(seed: u64, meetings: u32) -> SimConfig {
    SimConfig {
        seed,
        plan: zoom_sim::Plan::Business,
        account: AccountSpec {
            active_users: 3,
            inactive_users: 1,
            pending_users: 1,
            meetings,
            years: 3,
            mp4_size: (4 << 10, 64 << 10),
            small_size: (100, 4 << 10),
            processing_fraction: 0.1,
            hostile_fraction: 0.3,
            summary_fraction: 0.4,
            participant_audio_fraction: 0.3,
            ..AccountSpec::default()
        },
        ..SimConfig::default()
    }
}

impl TestContext {
    pub async fn start(cfg: SimConfig) -> TestContext {
        let sim = Simulator::start(cfg).await.expect("simulator starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("dest");
        let state = dir.path().join("state.sqlite3");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        TestContext {
            sim,
            dir,
            dest,
            state,
            home,
        }
    }

    /// `zvm` with a clean environment pointing at the simulator; no real config is read.
    pub fn zvm(&self) -> tokio::process::Command {
        let mut cmd = zvm_against(&self.sim, &self.home);
        cmd.env("ZVM_PLAN", "business")
            .env("ZVM_TEST_FAST_RETRY", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    }

    /// The usual `zvm sync DEST --all-users --state STATE --from 37m` arguments, plus `extra`.
    pub fn sync_args(&self, extra: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = vec![
            "sync".into(),
            self.dest.display().to_string(),
            "--all-users".into(),
            "--state".into(),
            self.state.display().to_string(),
        ];
        // `--from` may be given once only; a test that passes its own replaces the default.
        if !extra.contains(&"--from") {
            v.extend(["--from".to_string(), "37m".to_string()]);
        }
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    /// Runs `zvm sync` to the end (a 120 s safety net, never reached when things work).
    pub async fn sync(&self, extra: &[&str]) -> RunOutput {
        let args = self.sync_args(extra);
        self.run(&args).await
    }

    pub async fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> RunOutput {
        let mut cmd = self.zvm();
        cmd.args(args);
        run_cmd(cmd).await
    }

    /// Every file under the destination, relative, with `/` separators.
    pub fn local_files(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if self.dest.exists() {
            walk(&self.dest, &self.dest, &mut out);
        }
        out
    }

    /// Checks the copy against the manifest: every completed file present exactly once and
    /// byte-identical, nothing still processing copied, no `.part`, no extra file besides
    /// meeting.json and the summaries of meetings that have one. Returns the number of
    /// recording files checked.
    pub fn verify_copy(&self) -> usize {
        self.verify()
    }

    /// [`Self::verify_copy`] after runs that were SIGKILLed, then one that completed. Just
    /// as strict: a hidden `.NAME.tmp-PID-N` that a killed run's atomic write left must have
    /// been swept by the completing run, so any left over is an unexpected file.
    pub fn verify_copy_after_kill(&self) -> usize {
        self.verify_copy()
    }

    fn verify(&self) -> usize {
        let manifest = self.sim.manifest();
        let local = self.local_files();
        for p in &local {
            assert!(!p.ends_with(".part"), "partial file left behind: {p}");
        }
        // meeting.json files, by meeting uuid.
        let mut records: BTreeMap<String, (String, serde_json::Value)> = BTreeMap::new();
        for p in local.iter().filter(|p| p.ends_with("meeting.json")) {
            let text = std::fs::read_to_string(self.dest.join(p)).expect("read meeting.json");
            let v: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p} is not JSON: {e}"));
            let uuid = v["uuid"]
                .as_str()
                .expect("meeting.json has uuid")
                .to_string();
            let folder = p.trim_end_matches("meeting.json").to_string();
            assert!(
                records.insert(uuid.clone(), (folder, v)).is_none(),
                "two meeting.json for meeting {uuid}"
            );
        }
        let mut expected: BTreeSet<String> = BTreeSet::new();
        let mut checked = 0;
        for m in &manifest.meetings {
            let wanted: Vec<_> = m
                .files
                .iter()
                .chain(m.participant_audio.iter())
                .filter(|f| f.cloud == CloudState::Present)
                .collect();
            let any_completed = wanted.iter().any(|f| f.is_completed());
            let Some((folder, rec)) = records.get(&m.uuid) else {
                assert!(
                    !any_completed,
                    "meeting {} ({:?}) has completed files but no meeting.json",
                    m.uuid, m.topic
                );
                continue;
            };
            expected.insert(format!("{folder}meeting.json"));
            let mut paths: BTreeMap<String, String> = BTreeMap::new();
            for key in ["files", "participant_audio"] {
                for f in rec[key].as_array().into_iter().flatten() {
                    let id = f["id"].as_str().unwrap_or_default().to_string();
                    let path = f["path"].as_str().unwrap_or_default().to_string();
                    if !path.is_empty() {
                        assert!(
                            paths.insert(id.clone(), path).is_none(),
                            "file {id} listed twice in {folder}meeting.json"
                        );
                    }
                }
            }
            for f in &wanted {
                let path = paths.get(&f.id);
                if !f.is_completed() {
                    if let Some(p) = path {
                        assert!(
                            !local.contains(p),
                            "file {} is still processing but was copied to {p}",
                            f.id
                        );
                    }
                    continue;
                }
                let p = path.unwrap_or_else(|| {
                    panic!(
                        "completed file {} ({} {}) of meeting {:?} has no path in meeting.json",
                        f.id, f.file_type, f.file_extension, m.topic
                    )
                });
                assert_exact(&self.dest, f, p);
                assert!(expected.insert(p.clone()), "two files share the path {p}");
                checked += 1;
            }
            for name in ["summary.md", "summary.json"] {
                let p = format!("{folder}{name}");
                assert_eq!(
                    local.contains(&p),
                    m.has_summary,
                    "{p}: present={} but has_summary={}",
                    local.contains(&p),
                    m.has_summary
                );
                if m.has_summary {
                    expected.insert(p);
                }
            }
        }
        let extra: Vec<_> = local.difference(&expected).collect();
        assert!(extra.is_empty(), "unexpected files in DEST: {extra:?}");
        checked
    }

    /// Download requests (web route) and CDN requests so far.
    pub fn download_counts(&self) -> (u64, u64) {
        let s = self.sim.stats();
        (s.download_requests(), s.count("GET /cdn/file/{id}"))
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        let ft = e.file_type().expect("file type");
        if ft.is_dir() {
            walk(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("under root");
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.insert(rel.join("/"));
        }
    }
}

/// Reads `path` under `dest` and checks it is byte-for-byte the simulator's file `f`.
pub fn assert_exact(dest: &Path, f: &zoom_sim::ManifestFile, path: &str) {
    let bytes = std::fs::read(dest.join(path))
        .unwrap_or_else(|e| panic!("file {} missing at {path}: {e}", f.id));
    assert_eq!(
        bytes.len() as u64,
        f.size,
        "file {} at {path} has the wrong size",
        f.id
    );
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&bytes)),
        f.sha256_hex(),
        "file {} at {path} differs from Zoom's bytes",
        f.id
    );
}

/// Runs a prepared command to the end and collects its output.
pub async fn run_cmd(mut cmd: tokio::process::Command) -> RunOutput {
    wait_output(cmd.spawn().expect("spawn zvm")).await
}

/// Waits for a started zvm (a 120 s safety net, never reached when things work) and
/// collects what it printed on the pipes still attached.
pub async fn wait_output(child: tokio::process::Child) -> RunOutput {
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("zvm finished within the 120 s safety net")
        .expect("wait for zvm");
    RunOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The real `zvm` binary with a clean environment: a private HOME (so no real config or token
/// is read), the simulator's URLs and its Server-to-Server credentials, no stdin.
pub fn zvm_against(sim: &Simulator, home: &Path) -> tokio::process::Command {
    let c = sim.credentials();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_zvm"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("ZVM_API_BASE", sim.api_base_url())
        .env("ZVM_OAUTH_BASE", sim.oauth_base_url())
        .env("ZOOM_ACCOUNT_ID", c.account_id)
        .env("ZOOM_CLIENT_ID", c.client_id)
        .env("ZOOM_CLIENT_SECRET", c.client_secret)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Every deletion the simulator recorded is backed by a complete, byte-identical copy at
/// the path the state file names (see [`zvm_testkit::assert_deletions_backed`]). `what`
/// labels failures. Returns the number of deleted files checked.
pub async fn check_backed(sim: &Simulator, state_path: &Path, root: &Path, what: &str) -> usize {
    let state = zvm_state::SqliteState::open(state_path).expect("state");
    zvm_testkit::assert_deletions_backed(sim, &state, root, what).await
}

/// Today as Zoom counts days (UTC), which is how listing windows are cut.
pub fn utc_today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// Months since year 0: two dates' difference in calendar months is the difference of these.
pub fn month_index(d: jiff::civil::Date) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month())
}

/// Reads a spawned child's stderr (its log) to the end in the background, so the pipe never
/// fills and blocks it; what it wrote so far is in the returned buffer.
pub fn drain_stderr(child: &mut tokio::process::Child) -> std::sync::Arc<std::sync::Mutex<String>> {
    use tokio::io::AsyncReadExt;
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut err = child.stderr.take().expect("stderr piped");
    let sink = text.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = err.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

/// Writes a config file: `text` at `path` with the Unix permissions `mode` (0o600 for one
/// holding a login, as users are told to keep it).
pub fn write_config(path: &std::path::Path, text: &str, mode: u32) {
    std::fs::write(path, text).expect("write config");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = mode;
}
