//! The GUI driven through egui_kittest against the Zoom simulator over real loopback HTTP,
//! with a real SQLite state file and a real destination folder: sign in (Server-to-Server),
//! list a date range, select, download and watch it finish, pause and resume mid-file, move
//! with confirmation; and snapshots of every screen in both languages (wgpu, software Vulkan).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use sha2::Digest;
use tokio_util::sync::CancellationToken;
use zoom_sim::{AccountSpec, FaultConfig, ManifestMeeting, SimConfig, Simulator};
use zvm_dest::LocalDestination;
use zvm_engine::events::{FailureClass, FileRef, Notice, SkipReason};
use zvm_engine::{Engine, Event, KeepReason, SyncOptions, UserSelection};
use zvm_gui::app::JobState;
use zvm_gui::backend::{JobKind, Msg};
use zvm_gui::fonts::{self, FontSource};
use zvm_gui::i18n::Lang;
use zvm_gui::model::{FileState, Recording, RowStatus};
use zvm_gui::search::{IndexState, Outcome, clock};
use zvm_gui::settings::{AuthMode, GuiSettings};
use zvm_gui::{Screen, ZvmApp};
use zvm_state::{FileStatus, SqliteState, StateStore};
use zvm_zoom::{ClientConfig, Credentials, Secret, ZoomClient};

mod support;
// Every test window runs in Tokyo, so the local-day listing (Zoom asked for the UTC days
// around the local ones) is what these tests go through.
use support::{demo_app, demo_rows, fileref, tokyo};

/// A simulator on its own runtime, plus the folders of one test.
struct Ctx {
    rt: tokio::runtime::Runtime,
    sim: Simulator,
    dir: tempfile::TempDir,
    dest: PathBuf,
    state: PathBuf,
}

fn account(meetings: u32, mp4: (u64, u64)) -> SimConfig {
    SimConfig {
        seed: 7,
        plan: zoom_sim::Plan::Business,
        account: AccountSpec {
            active_users: 2,
            inactive_users: 1,
            pending_users: 0,
            meetings,
            years: 1,
            mp4_size: mp4,
            small_size: (100, 2 << 10),
            processing_fraction: 0.0,
            in_progress_fraction: 0.0,
            hostile_fraction: 0.3,
            summary_fraction: 0.3,
            participant_audio_fraction: 0.2,
            ..AccountSpec::default()
        },
        ..SimConfig::default()
    }
}

impl Ctx {
    fn start(cfg: SimConfig) -> Ctx {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = rt
            .block_on(Simulator::start(cfg))
            .expect("simulator starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("dest");
        let state = dir.path().join("state").join("state.sqlite3");
        Ctx {
            rt,
            sim,
            dir,
            dest,
            state,
        }
    }

    fn settings(&self) -> GuiSettings {
        let c = self.sim.credentials();
        GuiSettings {
            language: Lang::En,
            auth_mode: AuthMode::ServerToServer,
            account_id: c.account_id.clone(),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            api_base: self.sim.api_base_url(),
            oauth_base: self.sim.oauth_base_url(),
            destination: self.dest.clone(),
            state_path: self.state.clone(),
            token_dir: self.dir.path().join("home"),
            // The machine's own keyring stays out of these tests (keyring_shared.rs in
            // zvm-cli covers it, in a private session).
            token_store: zvm_app::token_store::StoreKind::FileOnly,
            transfers: 4,
            transfers_auto: false,
            // "Open folder" and links are noted, not opened, on the test machine.
            open_browser: false,
            ..GuiSettings::default()
        }
    }

    /// The run `zvm sync DEST --all-users --state STATE` makes of the Tokyo days
    /// `from..=to`: the same engine, state file and destination, through the library calls
    /// the CLI uses (the search index is the CLI's own step, not made here).
    fn cli_sync(&self, from: jiff::civil::Date, to: jiff::civil::Date) -> zvm_engine::RunSummary {
        let ctx = self;
        ctx.rt.block_on(async {
            let c = ctx.sim.credentials();
            let cfg = ClientConfig {
                api_base: ctx.sim.api_base_url(),
                oauth_base: ctx.sim.oauth_base_url(),
                ..ClientConfig::default()
            };
            let zoom = ZoomClient::new(
                cfg,
                Credentials::ServerToServer {
                    account_id: c.account_id.clone(),
                    client_id: c.client_id.clone(),
                    client_secret: Secret::new(c.client_secret.clone()),
                },
            )
            .expect("client");
            std::fs::create_dir_all(ctx.state.parent().expect("state dir")).expect("state dir");
            let state = Arc::new(SqliteState::open(&ctx.state).expect("state"));
            let dest = Arc::new(LocalDestination::new(ctx.dest.clone()));
            let engine = Engine::new(zoom, state, dest, Arc::new(|_e: Event| {}));
            // The CLI's days are UTC: the days around the Tokyo ones hold all their meetings.
            let (utc_from, utc_to) = zvm_gui::model::utc_days_covering(from, to);
            let mut opts = SyncOptions::new(utc_from, utc_to);
            opts.users = UserSelection::AllUsers;
            engine
                .sync(&opts, CancellationToken::new())
                .await
                .expect("the CLI-side sync runs")
        })
    }

    /// Every file the engine should have copied for `m`: recordings and participant audio.
    fn check_copied(&self, meetings: &[&ManifestMeeting]) -> usize {
        self.check_copied_under(&self.dest, meetings)
    }

    /// [`Ctx::check_copied`] where the destination's files are under `root` on this machine
    /// (a folder a test server serves).
    fn check_copied_under(&self, root: &std::path::Path, meetings: &[&ManifestMeeting]) -> usize {
        let rows = self.rt.block_on(async {
            let st = SqliteState::open(&self.state).expect("state opens");
            st.files_with_status(FileStatus::Verified)
                .await
                .expect("verified rows")
        });
        let wanted: BTreeSet<&str> = meetings.iter().map(|m| m.uuid.as_str()).collect();
        for r in &rows {
            assert!(
                wanted.contains(r.key.meeting_uuid.as_str()),
                "a meeting that was not selected was downloaded: {}",
                r.rel_path
            );
        }
        let mut n = 0;
        for m in meetings {
            for f in m.files.iter().chain(m.participant_audio.iter()) {
                if !f.is_completed() {
                    continue;
                }
                let row = rows
                    .iter()
                    .find(|r| r.key.meeting_uuid == m.uuid && r.key.file_id == f.id)
                    .unwrap_or_else(|| {
                        panic!("{} of {:?} is not verified in the state", f.id, m.topic)
                    });
                let bytes = std::fs::read(root.join(&row.rel_path))
                    .unwrap_or_else(|e| panic!("{}: {e}", row.rel_path));
                assert_eq!(
                    hex::encode(sha2::Sha256::digest(&bytes)),
                    f.sha256_hex(),
                    "{} differs from the simulator's file",
                    row.rel_path
                );
                n += 1;
            }
        }
        n
    }
}

fn harness(mut app: ZvmApp) -> Harness<'static, ZvmApp> {
    app.set_time_zone(tokyo());
    // The end-of-run notification is decided (and read by the tests), not shown.
    app.deliver_notifications = false;
    // The simulator's hostile topics carry emoji, which no bundled font draws (tofu, as in
    // the app); the snapshot test below keeps egui's strict missing-glyph check.
    Harness::builder()
        .with_size([1100.0, 720.0])
        .with_accessibility_check(false)
        .allow_missing_glyphs()
        .with_context_setup(|ctx| {
            fonts::install(ctx, FontSource::Bundled);
        })
        .build_ui_state(|ui, app: &mut ZvmApp| app.ui(ui), app)
}

/// Waits up to `secs` for the download to finish, then: no problem reported, and the overall
/// progress complete.
fn download_finishes_cleanly(h: &mut Harness<'_, ZvmApp>, what: &str, secs: u64) {
    wait_for(h, what, secs, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    assert!(
        h.state().log.is_empty(),
        "no problem reported: {:?}",
        h.state().log
    );
    let tf = &h.state().transfers;
    assert!(
        tf.files_done > 0 && tf.done_bytes == tf.total_bytes,
        "overall progress completes"
    );
}

/// Steps frames until `done` holds (the engine runs on its own thread meanwhile).
fn wait_for(
    h: &mut Harness<'_, ZvmApp>,
    what: &str,
    secs: u64,
    mut done: impl FnMut(&ZvmApp) -> bool,
) {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        h.step();
        if done(h.state()) {
            h.step();
            return;
        }
        if Instant::now() > end {
            let log: Vec<String> = h
                .state()
                .log
                .iter()
                .map(|l| format!("{:?} {} {}", l.kind, l.subject, l.text))
                .collect();
            panic!(
                "timed out waiting for {what}; job {:?}; log: {log:#?}",
                h.state().job
            );
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// The meeting's day in Tokyo.
fn local_date(start_time: &str) -> jiff::civil::Date {
    start_time
        .parse::<jiff::Timestamp>()
        .expect("manifest time")
        .to_zoned(tokyo())
        .date()
}

/// Clicks a screen in the navigation (drawn before the screen, so the first match; the
/// screen's heading has the same words).
fn click_nav(h: &mut Harness<'_, ZvmApp>, label: &str) {
    h.get_all_by_label(label)
        .next()
        .unwrap_or_else(|| panic!("no {label:?} in the navigation"))
        .click();
    h.step();
}

/// Clicks through Sign in with the Server-to-Server app and waits until connected and the
/// first listing (of the default range) is in.
fn sign_in(h: &mut Harness<'_, ZvmApp>) {
    click_nav(h, "Sign in");
    h.get_by_label("Connect with the Server-to-Server app")
        .click();
    wait_for(h, "the S2S sign-in and the first listing", 60, |a| {
        a.connection.is_some() && !a.listing
    });
}

/// The Tokyo days of the newest `n` meetings.
fn newest_range(sim: &Simulator, n: usize) -> (jiff::civil::Date, jiff::civil::Date) {
    let manifest = sim.manifest();
    let mut ms: Vec<&ManifestMeeting> = manifest.meetings.iter().collect();
    ms.sort_by(|a, b| b.start_time.cmp(&a.start_time));
    (
        local_date(&ms[n.min(ms.len()) - 1].start_time),
        local_date(&ms[0].start_time),
    )
}

/// Lists `from..=to` through the Recordings screen; returns the range's meetings from the
/// manifest.
fn list_range(
    h: &mut Harness<'_, ZvmApp>,
    sim: &Simulator,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> Vec<ManifestMeeting> {
    click_nav(h, "Recordings");
    h.state_mut().from_text = from.to_string();
    h.state_mut().to_text = to.to_string();
    h.get_by_label("Show recordings").click();
    h.step();
    wait_for(h, "the listing", 60, |a| !a.listing);
    sim.manifest()
        .meetings
        .iter()
        .filter(|m| {
            let d = local_date(&m.start_time);
            d >= from && d <= to && !m.files.is_empty()
        })
        .cloned()
        .collect()
}

/// Lists the days of the newest `n` meetings.
fn list_newest(h: &mut Harness<'_, ZvmApp>, sim: &Simulator, n: usize) -> Vec<ManifestMeeting> {
    let (from, to) = newest_range(sim, n);
    list_range(h, sim, from, to)
}

/// Ticks the checkboxes of up to `k` rows near the top whose topics are unique in the list.
fn select_rows(
    h: &mut Harness<'_, ZvmApp>,
    k: usize,
    want: impl Fn(&Recording) -> bool,
) -> Vec<String> {
    let rows = &h.state().list.rows;
    let mut picked = Vec::new();
    for r in rows.iter().take(12) {
        let unique = rows.iter().filter(|o| o.topic == r.topic).count() == 1;
        if unique && !r.topic.trim().is_empty() && want(r) && picked.len() < k {
            picked.push((r.uuid.clone(), r.topic.clone()));
        }
    }
    assert!(!picked.is_empty(), "no row to select");
    for (_, topic) in &picked {
        h.get_by_label(topic).click();
        h.step();
    }
    let selected: BTreeSet<String> = h.state().list.selected().map(|r| r.uuid.clone()).collect();
    let expected: BTreeSet<String> = picked.iter().map(|(u, _)| u.clone()).collect();
    assert_eq!(
        selected, expected,
        "the clicked checkboxes select exactly those rows"
    );
    picked.into_iter().map(|(u, _)| u).collect()
}

fn meetings_of<'a>(
    sim_meetings: &'a [ManifestMeeting],
    uuids: &[String],
) -> Vec<&'a ManifestMeeting> {
    uuids
        .iter()
        .map(|u| {
            sim_meetings
                .iter()
                .find(|m| &m.uuid == u)
                .expect("selected meeting is in the manifest")
        })
        .collect()
}

#[test]
fn sign_in_list_select_download_and_the_cli_state_says_done() {
    let ctx = Ctx::start(account(40, (8 << 10, 64 << 10)));
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    assert_eq!(
        h.state().screen,
        Screen::SignIn,
        "set up: the window opens on Sign in"
    );
    sign_in(&mut h);
    let conn = h.state().connection.clone().expect("connected");
    assert_eq!(conn.mode, AuthMode::ServerToServer);
    assert!(
        !h.state().users.is_empty(),
        "the admin user picker is filled"
    );
    // Signing in leads to the recordings of the default range, already listed: the Tokyo
    // days from the From to the To field.
    assert_eq!(h.state().screen, Screen::Recordings);
    let (from, to) = {
        let a = h.state();
        (
            a.from_text.parse::<jiff::civil::Date>().expect("from"),
            a.to_text.parse::<jiff::civil::Date>().expect("to"),
        )
    };
    let default_range: BTreeSet<String> = ctx
        .sim
        .manifest()
        .meetings
        .iter()
        .filter(|m| {
            let d = local_date(&m.start_time);
            d >= from && d <= to && !m.files.is_empty()
        })
        .map(|m| m.uuid.clone())
        .collect();
    assert!(
        !default_range.is_empty(),
        "the default range holds meetings"
    );
    let shown: BTreeSet<String> = h
        .state()
        .list
        .visible
        .iter()
        .map(|&i| h.state().list.rows[i].uuid.clone())
        .collect();
    assert_eq!(
        shown, default_range,
        "after sign-in the range's meetings are listed"
    );
    assert!(
        h.state().list.rows.iter().any(|r| r.duration_min > 0),
        "Zoom's duration reaches the length column"
    );
    let first = &h.state().list.rows[h.state().list.visible[0]];
    h.get_by_label(&first.topic.clone());

    let in_range = list_newest(&mut h, &ctx.sim, 8);
    let listed: BTreeSet<String> = h.state().list.rows.iter().map(|r| r.uuid.clone()).collect();
    let expected: BTreeSet<String> = in_range.iter().map(|m| m.uuid.clone()).collect();
    assert_eq!(
        listed, expected,
        "the list shows exactly the range's meetings"
    );
    assert!(
        h.state()
            .list
            .rows
            .iter()
            .all(|r| r.status == RowStatus::InCloud),
        "nothing is local yet"
    );

    let picked = select_rows(&mut h, 3, |_| true);
    let sel_bytes: u64 = h.state().list.selected().map(|r| r.bytes).sum();
    assert_eq!(h.state().list.selected_bytes, sel_bytes, "selection total");
    h.get_by_label("Download selected").click();
    h.step();
    assert_eq!(h.state().screen, Screen::Transfers);
    download_finishes_cleanly(&mut h, "the download to finish", 120);

    let copied = ctx.check_copied(&meetings_of(&in_range, &picked));
    assert!(
        copied >= picked.len(),
        "every file of the selection is verified and equal"
    );
    // The end-of-run summary: what was copied, "Open folder", and "Retry failed" (nothing
    // failed: disabled).
    h.get_by_label("The run has finished.");
    h.get_by_label("Every file arrived whole.");
    assert!(
        h.get_by_label("Retry failed")
            .accesskit_node()
            .is_disabled(),
        "nothing to retry"
    );
    h.get_by_label("Open folder").click();
    h.step();
    assert_eq!(h.state().last_opened.as_deref(), Some(ctx.dest.as_path()));

    // Listing again derives "downloaded" from the state store and the destination.
    click_nav(&mut h, "Recordings");
    h.get_by_label("Show recordings").click();
    h.step();
    wait_for(&mut h, "the second listing", 60, |a| {
        !a.listing && !a.list.rows.is_empty()
    });
    for r in &h.state().list.rows {
        let want = if picked.contains(&r.uuid) {
            RowStatus::Downloaded
        } else {
            RowStatus::InCloud
        };
        assert_eq!(r.status, want, "status of {:?}", r.topic);
    }
}

#[test]
fn pause_and_resume_mid_file_continue_from_the_part_file() {
    let mut cfg = account(12, (3 << 20, 4 << 20));
    cfg.faults = FaultConfig {
        bandwidth_bps: 256 << 10,
        ..FaultConfig::default()
    };
    let ctx = Ctx::start(cfg);
    let mut settings = ctx.settings();
    settings.transfers = 2;
    let mut h = harness(ZvmApp::new(settings, None));
    sign_in(&mut h);
    let in_range = list_newest(&mut h, &ctx.sim, 1);
    let picked = select_rows(&mut h, 1, |r| r.files.iter().any(|f| f.file_type == "MP4"));
    h.get_by_label("Download selected").click();
    h.step();

    // Mid-file: some bytes of a big file are in, far from all.
    wait_for(&mut h, "a file to be mid-transfer", 60, |a| {
        a.transfers
            .rows
            .iter()
            .any(|r| r.size > (1 << 20) && r.done >= (300 << 10) && r.done < r.size / 2)
    });
    h.get_by_label("Pause").click();
    h.step();
    wait_for(&mut h, "the pause", 30, |a| a.job == JobState::Paused);
    let parts: Vec<(PathBuf, u64)> = zvm_testkit::files_under(&ctx.dest)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".part"))
        .map(|p| {
            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            (p, len)
        })
        .collect();
    assert!(
        parts.iter().any(|(_, len)| *len >= (256 << 10)),
        "a paused transfer leaves its .part on disk: {parts:?}"
    );
    // Paused means stopped: nothing grows any more.
    std::thread::sleep(Duration::from_millis(800));
    for (p, len) in &parts {
        let now = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        assert_eq!(now, *len, "{} still grows after pause", p.display());
    }

    // Listing again while paused says "partial" for that meeting (state + .part on disk).
    let (from, to) = newest_range(&ctx.sim, 1);
    list_range(&mut h, &ctx.sim, from, to);
    let i = h
        .state()
        .list
        .index_of(&picked[0])
        .expect("row listed again");
    assert_eq!(h.state().list.rows[i].status, RowStatus::Partial);

    ctx.sim.set_faults(FaultConfig::default());
    click_nav(&mut h, "Transfers");
    h.get_by_label("Resume").click();
    h.step();
    wait_for(&mut h, "the resumed download to finish", 120, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    let resumed = h
        .state()
        .transfers
        .rows
        .iter()
        .filter(|r| r.offset > 0)
        .count();
    assert!(
        resumed > 0,
        "the resumed run continued a file from its offset"
    );
    assert!(
        zvm_testkit::files_under(&ctx.dest)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".part")),
        "no .part is left"
    );
    ctx.check_copied(&meetings_of(&in_range, &picked));
}

#[test]
fn move_shows_what_will_be_deleted_and_deletes_only_after_confirmation() {
    let ctx = Ctx::start(account(30, (8 << 10, 32 << 10)));
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    let in_range = list_newest(&mut h, &ctx.sim, 6);
    let picked = select_rows(&mut h, 2, |_| true);
    h.get_by_label("Move selected…").click();
    h.run_steps(2);
    assert_eq!(h.state().screen, Screen::Move);
    h.get_by_label("Check what can be removed").click();
    h.step();
    wait_for(&mut h, "the move plan", 120, |a| a.move_plan.is_some());
    let (cands, kept) = h.state().move_plan.clone().expect("plan");
    let planned: BTreeSet<String> = cands.iter().map(|c| c.meeting_uuid.clone()).collect();
    assert_eq!(
        planned,
        picked.iter().cloned().collect::<BTreeSet<_>>(),
        "the confirmation lists exactly the selected meetings (kept: {kept:?})"
    );
    // The confirmation names each meeting and every local copy backing it.
    for c in &cands {
        h.get_by_label_contains(&format!("- {}", c.topic));
        for (path, _, _) in &c.copies {
            h.get_by_label_contains(path);
        }
    }
    assert!(
        ctx.sim.deletions().is_empty(),
        "nothing is deleted before confirming"
    );
    ctx.check_copied(&meetings_of(&in_range, &picked));

    // The remove button says what and how much; it asks once more before anything goes.
    let bytes: u64 = cands.iter().map(|c| c.bytes).sum();
    let words = format!(
        "Remove {} meetings, {} from the cloud",
        cands.len(),
        zvm_gui::model::human_bytes(bytes)
    );
    h.get_by_label(&words).click();
    h.run_steps(2);
    assert!(h.state().confirm_remove, "a confirmation is open");
    h.get_by_label("Remove from the Zoom cloud?");
    assert!(ctx.sim.deletions().is_empty(), "asking deletes nothing");
    // Cancel closes the question and deletes nothing.
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(!h.state().confirm_remove);
    assert!(ctx.sim.deletions().is_empty(), "cancelled: nothing deleted");
    h.get_by_label(&words).click();
    h.run_steps(2);
    // The question's own button (drawn last, above the screen).
    h.get_all_by_label(&words)
        .last()
        .expect("the confirmation's button")
        .click();
    h.step();
    wait_for(&mut h, "the deletion", 60, |a| a.move_result.is_some());
    let deleted: BTreeSet<String> = ctx
        .sim
        .deletions()
        .iter()
        .map(|d| {
            assert_eq!(d.action, "trash", "the GUI trashes, never deletes for good");
            assert!(d.file_id.is_none(), "whole meetings (no file-type filter)");
            d.meeting_uuid.clone()
        })
        .collect();
    assert_eq!(
        deleted, planned,
        "the simulator recorded exactly the confirmed deletions"
    );
    assert_eq!(
        h.state().move_result.map(|r| r.0),
        Some(planned.len() as u64)
    );
    // Each deletion is in the audit log beside the state database.
    let audit = std::fs::read_to_string(ctx.state.with_file_name("audit.jsonl"))
        .expect("the audit log is written");
    for u in &planned {
        assert!(
            audit.contains(u.as_str()),
            "{u} is not in the audit log: {audit}"
        );
    }
    for u in &picked {
        let i = h.state().list.index_of(u).expect("row");
        assert_eq!(h.state().list.rows[i].status, RowStatus::Trashed);
    }
    // Listed again: Zoom no longer lists them, the state says what zvm trashed.
    let (from, to) = newest_range(&ctx.sim, 6);
    list_range(&mut h, &ctx.sim, from, to);
    assert_eq!(h.state().list.rows.len(), in_range.len());
    for r in &h.state().list.rows {
        let want = if picked.contains(&r.uuid) {
            RowStatus::Trashed
        } else {
            RowStatus::InCloud
        };
        assert_eq!(r.status, want, "{:?}", r.topic);
    }
}

#[test]
fn what_the_cli_copied_the_gui_shows_as_downloaded_and_does_not_fetch_again() {
    let ctx = Ctx::start(account(30, (8 << 10, 32 << 10)));
    let (from, to) = newest_range(&ctx.sim, 6);
    let summary = ctx.cli_sync(from, to);
    assert!(
        summary.files_downloaded > 0 && summary.files_failed == 0,
        "{summary:?}"
    );

    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    let in_range = list_range(&mut h, &ctx.sim, from, to);
    assert_eq!(h.state().list.rows.len(), in_range.len());
    for r in &h.state().list.rows {
        assert_eq!(r.status, RowStatus::Downloaded, "{:?}", r.topic);
    }
    select_rows(&mut h, 2, |_| true);
    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "the download to finish", 60, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    let tf = &h.state().transfers;
    assert!(
        tf.rows.is_empty() && tf.total_bytes == 0,
        "nothing is fetched again: {} files queued",
        tf.rows.len()
    );
}

/// A completed transcript of a meeting held in Japanese (or not), from the simulator's
/// manifest.
fn transcript_of(sim: &Simulator, japanese: bool) -> (ManifestMeeting, zoom_sim::ManifestFile) {
    sim.manifest()
        .meetings
        .iter()
        .filter(|m| zoom_sim::text::is_japanese(&m.topic) == japanese)
        .find_map(|m| {
            m.files
                .iter()
                .find(|f| f.file_type == "TRANSCRIPT" && f.is_completed())
                .map(|f| (m.clone(), f.clone()))
        })
        .unwrap_or_else(|| panic!("no transcript (japanese: {japanese}): pick another seed"))
}

/// Types `words` into the Search screen's box, in place of what it held.
fn type_search(h: &mut Harness<'_, ZvmApp>, words: &str) {
    h.get_by_role(egui::accesskit::Role::TextInput).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_role(egui::accesskit::Role::TextInput)
        .type_text(words);
    h.step();
}

/// Types `words` into the field labelled `label`, in place of what it held.
fn type_into(h: &mut Harness<'_, ZvmApp>, label: &str, words: &str) {
    h.get_by_label(label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.key_press(egui::Key::Backspace);
    h.step();
    if !words.is_empty() {
        h.get_by_label(label).type_text(words);
        h.step();
    }
}

#[test]
fn search_finds_english_and_japanese_lines_of_the_copied_files() {
    let ctx = Ctx::start(account(24, (8 << 10, 16 << 10)));
    // Every meeting copied as `zvm sync` copies them; no index yet.
    let manifest = ctx.sim.manifest();
    let days: Vec<jiff::civil::Date> = manifest
        .meetings
        .iter()
        .map(|m| local_date(&m.start_time))
        .collect();
    let (from, to) = (
        *days.iter().min().expect("meetings"),
        *days.iter().max().expect("meetings"),
    );
    let summary = ctx.cli_sync(from, to);
    assert!(
        summary.files_downloaded > 0 && summary.files_failed == 0,
        "{summary:?}"
    );

    // No index: the screen says how to get one, and its button builds it from the copies.
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    click_nav(&mut h, "Search");
    wait_for(&mut h, "the index check", 30, |a| {
        a.search.index == IndexState::Missing
    });
    assert!(
        h.query_by_label_contains("Copy some recordings first")
            .is_some(),
        "the empty state says what to do"
    );
    h.get_by_label("Rebuild the index").click();
    h.step();
    wait_for(&mut h, "the rebuilt index", 60, |a| {
        a.search.index == IndexState::Present
    });
    assert!(h.query_by_label_contains("Index rebuilt:").is_some());
    assert!(
        zvm_archive::SearchIndex::path_beside(&ctx.state).exists(),
        "the index is the CLI's, beside the state"
    );

    for japanese in [false, true] {
        let (m, f) = transcript_of(&ctx.sim, japanese);
        let cue = &zoom_sim::text::cues(f.key)[2];
        assert_eq!(
            zoom_sim::text::is_japanese(&cue.text),
            japanese,
            "{}",
            cue.text
        );
        type_search(&mut h, &cue.text);
        assert_eq!(
            h.state().search.query,
            cue.text,
            "the box holds the typed words"
        );
        wait_for(&mut h, "the answer", 30, |a| {
            matches!(a.search.outcome, Outcome::Found(_))
        });
        let said = format!("{}: {}", cue.speaker, cue.text);
        let at = clock(cue.start_ms);
        let found = h
            .state()
            .search
            .lines()
            .iter()
            .find(|l| l.meeting_uuid == m.uuid && l.text == said)
            .unwrap_or_else(|| panic!("{said:?} of {:?} not found", m.topic))
            .clone();
        for l in h.state().search.lines() {
            assert!(
                l.text.contains(&cue.text),
                "a line without the words: {l:?}"
            );
        }
        // Where and when it was said: the second of the cue, the meeting's time in Tokyo
        // with the zone, its host, and the transcript on disk.
        assert_eq!(found.at.as_deref(), Some(at.as_str()));
        let tokyo_time = m
            .start_time
            .parse::<jiff::Timestamp>()
            .expect("manifest time")
            .to_zoned(tokyo())
            .strftime("%Y-%m-%d %H:%M JST")
            .to_string();
        assert_eq!(found.when, tokyo_time);
        assert_eq!(found.host, m.host_email);
        assert!(found.path.ends_with(".vtt"), "{}", found.path);
        assert!(found.file.is_file(), "{} is on disk", found.file.display());
        // Drawn: the line itself (the captions may say it too), where it was said, the
        // meeting's time and the file.
        let drawn = |h: &Harness<'_, ZvmApp>, label: &str| h.query_all_by_label(label).count();
        assert!(drawn(&h, &said) > 0, "{said:?} is drawn");
        assert!(
            h.query_all_by_label_contains(&at).count() > 0,
            "{at} is drawn"
        );
        assert!(drawn(&h, &tokyo_time) > 0, "{tokyo_time} is drawn");
        assert!(drawn(&h, &found.path) > 0, "the path is drawn");
    }

    // "Open folder" and "Open file" of the first line open what it names.
    let first = h.state().search.lines()[0].file.clone();
    h.get_all_by_label("Open folder")
        .next()
        .expect("a button")
        .click();
    h.step();
    assert_eq!(h.state().last_opened.as_deref(), first.parent());
    h.get_all_by_label("Open file")
        .next()
        .expect("a button")
        .click();
    h.step();
    assert_eq!(h.state().last_opened.as_deref(), Some(first.as_path()));

    // Words no line holds, and words that cannot be searched, are said so.
    type_search(&mut h, "zzqqxxvv");
    wait_for(&mut h, "the answer", 30, |a| {
        a.search.outcome == Outcome::Found(Vec::new())
    });
    assert!(h.query_by_label("No line holds these words.").is_some());
    type_search(&mut h, "\"open");
    wait_for(&mut h, "the answer", 30, |a| {
        matches!(a.search.outcome, Outcome::BadQuery(_))
    });
    assert!(
        h.query_by_label_contains("These words cannot be searched:")
            .is_some()
    );
}

/// `n` listed meetings of three files each, as the frame-time bench lists them.
fn many_rows(n: usize) -> Vec<Recording> {
    (0..n)
        .map(|i| {
            let files = vec![
                zvm_gui::model::RecFile::new(format!("{i}-mp4"), "MP4", 100_000_000 + i as u64),
                zvm_gui::model::RecFile::new(format!("{i}-m4a"), "M4A", 10_000_000 + i as u64),
                zvm_gui::model::RecFile::new(format!("{i}-chat"), "CHAT", 2_000 + i as u64),
            ];
            Recording::new(
                format!("uuid-{i}"),
                format!("host{}", i % 50),
                format!("user{}@example.com", i % 50),
                format!("Meeting #{i}"),
                format!(
                    "2026-{:02}-{:02}T{:02}:00:00Z",
                    1 + i % 12,
                    1 + i % 28,
                    i % 24
                ),
                files,
                RowStatus::InCloud,
            )
        })
        .collect()
}

#[test]
fn a_frame_lays_out_only_the_rows_in_view_and_sorts_nothing_however_long_the_list() {
    const ROWS: usize = 100_000;
    let mut h = harness(ZvmApp::new(GuiSettings::default(), None));
    h.state_mut().inject(Msg::ListStarted);
    h.state_mut().inject(Msg::ListBatch(many_rows(ROWS)));
    h.state_mut().inject(Msg::ListDone);
    h.state_mut().screen = Screen::Recordings;
    h.run_steps(2);
    let first = {
        let list = &h.state().list;
        list.rows[list.visible[0]].topic.clone()
    };
    assert!(
        h.query_by_label(&first).is_some(),
        "the newest row is drawn"
    );
    let visits = h.state().list.row_visits();
    // The window is 720 points high and a row 20: whatever the list's length, a frame lays
    // out at most a window's height of rows.
    let in_view = 720 / 20 + 2;
    h.hover_at(egui::pos2(600.0, 500.0));
    let mut frames = 0;
    let mut check = |h: &mut Harness<'_, ZvmApp>, what: &str| {
        for _ in 0..15 {
            h.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, -400.0),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Unknown,
                modifiers: egui::Modifiers::NONE,
            });
            h.step();
            frames += 1;
            let drawn = h.state().rows_drawn;
            assert!(
                drawn > 0 && drawn <= in_view,
                "{what}: frame {frames} laid out {drawn} of {ROWS} rows (at most {in_view} are in view)"
            );
        }
    };
    check(&mut h, "scrolling");
    assert!(h.query_by_label(&first).is_none(), "the list scrolled");
    // A meeting opened to its files: its lines are laid out once, not again each frame.
    let i = h.state().list.visible[40];
    h.state_mut().list.set_expanded(i, true);
    let visits_open = h.state().list.row_visits();
    assert!(
        visits_open > visits,
        "opening a meeting lays out the lines (once)"
    );
    check(&mut h, "with a meeting open");
    assert_eq!(
        h.state().list.row_visits(),
        visits_open,
        "frames sorted, filtered or laid out the whole list again"
    );
}

#[test]
fn user_sign_in_through_the_browser_with_pkce_shows_the_stored_token_but_never_the_token() {
    let ctx = Ctx::start(account(10, (8 << 10, 16 << 10)));
    let mut s = ctx.settings();
    s.auth_mode = AuthMode::User;
    s.account_id.clear();
    s.client_secret.clear();
    s.open_browser = false;
    let mut h = harness(ZvmApp::new(s, None));
    assert_eq!(h.state().screen, Screen::SignIn);
    h.get_by_label("Sign in with the browser").click();
    h.step();
    wait_for(&mut h, "the sign-in address", 20, |a| a.login_url.is_some());
    let url = h.state().login_url.clone().expect("url");
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("state="),
        "{url}"
    );
    h.get_by_label(&url);
    // The "browser": follow the authorize redirect to the app's one-shot loopback listener.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let status = ctx
        .rt
        .block_on(async { reqwest::get(&url).await.map(|r| r.status()) })
        .expect("the authorize page answers");
    assert!(status.is_success(), "{status}");
    wait_for(&mut h, "the user sign-in", 30, |a| {
        a.connection.is_some() && a.token.as_ref().is_some_and(|t| t.present) && !a.listing
    });
    assert_eq!(
        h.state().screen,
        Screen::Recordings,
        "signed in: the recordings"
    );
    click_nav(&mut h, "Sign in");
    let c = h.state().connection.clone().expect("connected");
    assert_eq!(c.mode, AuthMode::User);
    assert!(
        c.who.contains('@'),
        "the signed-in user's email is shown: {}",
        c.who
    );
    h.get_by_label("Renewal token: present");

    // Signed in as a person: the list holds that person's meetings only, and downloads work.
    let manifest = ctx.sim.manifest();
    let mine: Vec<&ManifestMeeting> = manifest
        .meetings
        .iter()
        .filter(|m| m.host_email == c.who && !m.files.is_empty())
        .collect();
    assert!(!mine.is_empty(), "the signed-in user has meetings");
    let from = mine
        .iter()
        .map(|m| local_date(&m.start_time))
        .min()
        .expect("min");
    let to = mine
        .iter()
        .map(|m| local_date(&m.start_time))
        .max()
        .expect("max");
    list_range(&mut h, &ctx.sim, from, to);
    let listed: BTreeSet<String> = h.state().list.rows.iter().map(|r| r.uuid.clone()).collect();
    let expected: BTreeSet<String> = mine.iter().map(|m| m.uuid.clone()).collect();
    assert_eq!(listed, expected, "only the signed-in user's meetings");
    let picked = select_rows(&mut h, 1, |_| true);
    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "the user's download", 60, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    let owned: Vec<ManifestMeeting> = mine.iter().map(|m| (*m).clone()).collect();
    ctx.check_copied(&meetings_of(&owned, &picked));

    let token_file = ctx.dir.path().join("home").join("zoom-token.json");
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&token_file).expect("token file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&token_file).expect("read")).expect("json");
    for key in ["access_token", "refresh_token"] {
        let secret = stored[key].as_str().expect("a token string");
        assert!(secret.len() > 8);
        assert!(
            h.query_by_label_contains(secret).is_none(),
            "the {key} is shown in the window"
        );
    }

    // Sign out: the connection is forgotten and the stored sign-in removed (the CLI's too).
    click_nav(&mut h, "Sign in");
    h.get_by_label("Sign out").click();
    h.step();
    wait_for(&mut h, "the sign-out", 30, |a| {
        a.connection.is_none() && a.token.as_ref().is_some_and(|t| !t.present)
    });
    assert!(!token_file.exists(), "the token file is removed");
    assert_eq!(h.state().screen, Screen::SignIn);
    h.get_by_label("Not connected yet.");
}

#[test]
fn the_problem_log_can_be_copied_and_saved_in_the_windows_language() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = demo_app();
    app.settings.state_path = dir.path().join("state.sqlite3");
    app.settings.language = Lang::Ja;
    app.screen = Screen::Log;
    let lines = app.log.len();
    let mut h = harness(app);
    h.run_steps(2);
    h.get_by_label("すべてコピー").click();
    h.run_steps(1);
    let copied: Vec<String> = h
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|c| match c {
            egui::OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(copied.len(), 1, "one copy");
    assert_eq!(copied[0].lines().count(), lines, "every line of the log");
    assert!(
        copied[0].contains("ダウンロードできませんでした"),
        "{}",
        copied[0]
    );
    h.get_by_label("ファイルに保存").click();
    h.run_steps(2);
    let saved: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().contains("problems-"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(std::fs::read_to_string(&saved[0]).expect("read"), copied[0]);
    h.get_by_label_contains(&saved[0].display().to_string());
}

#[test]
fn a_download_while_the_cli_runs_is_refused_in_plain_words_and_the_window_stays_usable() {
    let ctx = Ctx::start(account(20, (8 << 10, 16 << 10)));
    // Another zvm run holds the state file's lock.
    let held = zvm_state::RunLock::acquire(&ctx.state).expect("lock");
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    list_newest(&mut h, &ctx.sim, 4);
    select_rows(&mut h, 1, |_| true);
    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "the refusal", 30, |a| {
        a.job == JobState::Idle && !a.log.is_empty()
    });
    assert!(
        h.state().log[0].text.contains("another zvm run"),
        "{:?}",
        h.state().log
    );
    click_nav(&mut h, "Problems (1)");
    h.get_by_label_contains("another zvm run is using the state file");
    assert!(
        zvm_testkit::files_under(&ctx.dest).is_empty(),
        "nothing was written"
    );
    // Once the other run is over, the same button works.
    drop(held);
    click_nav(&mut h, "Recordings");
    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "the download", 60, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    assert!(h.state().transfers.files_done > 0);
}

#[test]
fn ticking_a_file_type_downloads_only_that_type() {
    let ctx = Ctx::start(account(20, (8 << 10, 16 << 10)));
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    list_newest(&mut h, &ctx.sim, 6);
    assert!(h.state().list.types_seen.contains("MP4"));
    select_rows(&mut h, 2, |r| r.files.iter().any(|f| f.file_type == "MP4"));
    // The checkbox of the type, in words (a topic could say "video" too: take the type
    // row's, drawn first).
    h.get_all_by_label("video")
        .next()
        .expect("the video checkbox")
        .click();
    h.step();
    assert_eq!(
        h.state().file_types.iter().cloned().collect::<Vec<_>>(),
        vec!["MP4".to_string()]
    );
    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "the download", 60, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    let rows = ctx.rt.block_on(async {
        SqliteState::open(&ctx.state)
            .expect("state")
            .files_with_status(FileStatus::Verified)
            .await
            .expect("rows")
    });
    let recordings: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == zvm_state::FileKind::Recording)
        .collect();
    assert!(!recordings.is_empty());
    for r in recordings {
        assert_eq!(r.file_type, "MP4", "{} was downloaded", r.rel_path);
    }
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &std::path::Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out
}

#[test]
fn a_meeting_opens_to_its_files_and_only_the_ticked_files_are_downloaded() {
    let ctx = Ctx::start(account(20, (8 << 10, 16 << 10)));
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    let in_range = list_newest(&mut h, &ctx.sim, 8);
    // A meeting with a unique topic and at least three files, one of a type it has once
    // (its box is found by the type's words: the last such box drawn, under the meeting).
    let lang = Lang::En;
    let (i, topic, left_out) = {
        let l = &h.state().list;
        l.visible
            .iter()
            .find_map(|&i| {
                let r = &l.rows[i];
                let unique = l.rows.iter().filter(|o| o.topic == r.topic).count() == 1;
                let once = r.files.iter().find(|f| {
                    r.files
                        .iter()
                        .filter(|o| o.file_type == f.file_type)
                        .count()
                        == 1
                        && lang.file_type(&f.file_type) != f.file_type
                })?;
                (unique && !r.topic.trim().is_empty() && r.files.len() >= 3)
                    .then(|| (i, r.topic.clone(), once.clone()))
            })
            .expect("a listed meeting with three files, one of a type it has once")
    };
    let uuid = h.state().list.rows[i].uuid.clone();
    let lines_before = h.state().list.line_count();

    // Open it: its files are lines under it, each with its type in words, size and state.
    h.get_by_label(&format!("Files of {topic}")).click();
    h.step();
    let n_files = h.state().list.rows[i].files.len();
    assert_eq!(h.state().list.line_count(), lines_before + n_files);
    h.run_steps(2);
    assert!(
        h.query_all_by_label("not yet").count() >= n_files,
        "each file says it is not copied yet"
    );
    let words = lang.file_type(&left_out.file_type);

    // Tick the meeting (all its files), then untick one file.
    h.get_by_label(&topic).click();
    h.step();
    let whole = h.state().list.rows[i].bytes;
    assert_eq!(h.state().list.selected_bytes, whole);
    h.get_all_by_label(words)
        .last()
        .expect("the file's box under the meeting")
        .click();
    h.step();
    {
        let l = &h.state().list;
        let r = &l.rows[i];
        assert!(r.selected, "the meeting stays ticked with its other files");
        assert!(
            !r.files.iter().find(|f| f.id == left_out.id).unwrap().chosen,
            "the clicked file is unticked"
        );
        assert_eq!(
            (l.selected_count, l.selected_bytes),
            (1, whole - left_out.size),
            "the selection counts only the ticked files"
        );
    }
    let chosen: BTreeSet<String> = h.state().list.rows[i]
        .files
        .iter()
        .filter(|f| f.chosen)
        .map(|f| f.id.clone())
        .collect();

    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "the download", 60, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    assert!(h.state().log.is_empty(), "{:?}", h.state().log);
    // The end of the run is told to the desktop with the run's own figures.
    let told = h.state().last_notification.clone().expect("a notification");
    assert_eq!(told.title, "Recordings copied");
    let copied = h.state().transfers.files_done;
    assert!(
        copied >= chosen.len() as u64 && told.body.starts_with(&format!("Copied {copied} files (")),
        "{told:?}"
    );

    // The state knows exactly the ticked recording files of the meeting, each verified,
    // and each on disk equal to the simulator's.
    let rows = ctx.rt.block_on(async {
        SqliteState::open(&ctx.state)
            .expect("state")
            .files_of_meeting(&uuid)
            .await
            .expect("rows")
    });
    let recorded: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.kind == zvm_state::FileKind::Recording)
        .map(|r| r.key.file_id.clone())
        .collect();
    assert_eq!(recorded, chosen, "only the ticked files were planned");
    let m = in_range
        .iter()
        .find(|m| m.uuid == uuid)
        .expect("the meeting is in the manifest");
    for id in &chosen {
        let row = rows.iter().find(|r| &r.key.file_id == id).unwrap();
        assert_eq!(row.status, FileStatus::Verified, "{}", row.rel_path);
        let f = m.files.iter().find(|f| &f.id == id).unwrap();
        let bytes = std::fs::read(ctx.dest.join(&row.rel_path)).expect("the copy");
        assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), f.sha256_hex());
    }
    // Nothing on disk the state does not account for: the unticked file is nowhere, under
    // any name, not even as a .part.
    let known: BTreeSet<String> = rows.iter().map(|r| r.rel_path.clone()).collect();
    for path in files_under(&ctx.dest) {
        assert!(
            known.contains(&path),
            "{path} is on disk but not a file the run took"
        );
    }

    // The window says so: the ticked files copied, the other not yet, the meeting partly
    // here; and a new listing, from the state and the disk, says the same.
    for pass in ["after the run", "listed again"] {
        let l = &h.state().list;
        let r = &l.rows[l.index_of(&uuid).expect("listed")];
        for f in &r.files {
            let want = if chosen.contains(&f.id) {
                FileState::Copied
            } else {
                FileState::NotYet
            };
            assert_eq!(f.state, want, "{pass}: {} ({})", f.id, f.file_type);
        }
        assert_eq!(r.status, RowStatus::Partial, "{pass}");
        if pass == "after the run" {
            click_nav(&mut h, "Recordings");
            h.get_by_label("Show recordings").click();
            h.step();
            wait_for(&mut h, "the second listing", 60, |a| {
                !a.listing && a.list.index_of(&uuid).is_some()
            });
        }
    }
}

#[test]
fn first_run_opens_the_set_up_page_which_checks_each_field_and_keeps_the_choices() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = zvm_gui::settings::SettingsFiles {
        config: Some(dir.path().join("config.toml")),
        gui: Some(dir.path().join("gui.toml")),
    };
    let fresh = || GuiSettings {
        client_id: String::new(),
        client_secret: String::new(),
        account_id: String::new(),
        destination: PathBuf::new(),
        token_dir: dir.path().join("home"),
        token_store: zvm_app::token_store::StoreKind::FileOnly,
        open_browser: false,
        ..GuiSettings::load(&files).expect("no files: the defaults")
    };
    let mut h = harness(ZvmApp::new(fresh(), Some(files.clone())));
    h.run_steps(2);
    assert_eq!(
        h.state().screen,
        Screen::Setup,
        "no Client ID: the set-up page"
    );
    // Sign in is not ready, and neither is the button that leads there.
    assert!(h.get_by_label("Sign in").accesskit_node().is_disabled());
    let go = "Save and continue to Sign in";
    assert!(h.get_by_label(go).accesskit_node().is_disabled());
    // Each missing field says so beside it, and the list under the button names them.
    assert!(h.query_all_by_label("Required.").count() >= 2);
    h.get_by_label("Client ID: Required.");
    h.get_by_label("Save recordings to: Required.");
    // The steps to create the Zoom app are open on a first run, with the link.
    h.get_by_label_contains("Open the Zoom App Marketplace and sign in.");
    h.get_by_label("Open the Zoom App Marketplace").click();
    h.step();
    assert_eq!(
        h.state().last_link.as_deref(),
        Some(zvm_gui::setup::MARKETPLACE_URL)
    );
    // A pasted key with a space in it is caught as typed.
    h.state_mut().settings.client_id = "abc def".into();
    h.run_steps(2);
    assert!(
        h.query_all_by_label_contains("Must not contain spaces")
            .count()
            >= 1
    );
    assert!(h.get_by_label(go).accesskit_node().is_disabled());
    // A relative folder is refused with the reason.
    h.state_mut().settings.destination = PathBuf::from("ZoomRecordings");
    h.run_steps(2);
    assert!(
        h.query_all_by_label_contains("Give a full folder path")
            .count()
            >= 1
    );
    // Filled in right: the button goes on to Sign in, which is now ready.
    h.state_mut().settings.client_id = "zvm-client".into();
    h.state_mut().settings.client_secret = "typed-secret-value".into();
    h.state_mut().settings.destination = dir.path().join("recordings");
    h.run_steps(2);
    h.get_by_label("The folder will be created.");
    assert!(!h.get_by_label(go).accesskit_node().is_disabled());
    h.get_by_label(go).click();
    h.run_steps(2);
    assert_eq!(h.state().screen, Screen::SignIn);
    assert!(
        !h.get_all_by_label("Sign in")
            .next()
            .expect("nav")
            .accesskit_node()
            .is_disabled()
    );
    // The language picked in the title bar is kept at once, without Save.
    h.get_by_label("日本語").click();
    h.run_steps(2);
    let gui = std::fs::read_to_string(dir.path().join("gui.toml")).expect("gui.toml");
    assert!(gui.contains("language = \"ja\""), "{gui}");
    assert!(gui.contains("zvm-client"), "{gui}");
    assert!(
        !gui.contains("typed-secret-value"),
        "the secret is not in gui.toml: {gui}"
    );
    // The secret is kept in the store (here the private file), and comes back at the next
    // start with the language.
    let mut next = GuiSettings {
        token_dir: dir.path().join("home"),
        token_store: zvm_app::token_store::StoreKind::FileOnly,
        ..GuiSettings::load(&files).expect("loads")
    };
    assert_eq!(next.language, Lang::Ja);
    assert_eq!(next.client_id, "zvm-client");
    assert_eq!(next.client_secret, "", "not from the files");
    next.fill_kept_secret();
    assert_eq!(next.client_secret, "typed-secret-value");
    let again = ZvmApp::new(next, Some(files.clone()));
    assert_eq!(again.screen, Screen::SignIn, "set up: straight to Sign in");
}

#[test]
fn a_failed_file_is_red_with_its_reason_and_retry_failed_fetches_its_meeting() {
    let ctx = Ctx::start(account(12, (8 << 10, 16 << 10)));
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    let in_range = list_newest(&mut h, &ctx.sim, 2);
    let picked = select_rows(&mut h, 1, |_| true);
    // A run in which a file of the meeting failed, as the engine reports it (the simulator's
    // faults are survived within a run by retries, so a lasting failure is fed here).
    let row = h.state().list.rows[h.state().list.index_of(&picked[0]).expect("row")].clone();
    let file = FileRef {
        meeting_uuid: row.uuid.clone(),
        file_id: row.files[0].id.clone(),
        path: format!(
            "teacher/2026/{}/shared_screen_with_speaker_view.mp4",
            row.topic
        ),
    };
    h.state_mut().last_download = vec![zvm_gui::backend::MeetingSel::of(&row)];
    h.state_mut().inject(Msg::JobStarted(JobKind::Download));
    h.state_mut().inject(Msg::Engine(Event::FileQueued {
        file: file.clone(),
        size: row.files[0].size,
    }));
    h.state_mut().inject(Msg::Engine(Event::FileFailed {
        file,
        class: FailureClass::Download,
        error: "download stalled: no data for 60s".into(),
    }));
    h.state_mut().inject(Msg::JobDone {
        kind: JobKind::Download,
        cancelled: false,
        summary: Default::default(),
    });
    click_nav(&mut h, "Transfers");
    h.run_steps(2);
    // The row says failed and why, in the window's words; the summary counts it.
    let words = format!("failed: {}", Lang::En.failure_class(FailureClass::Download));
    h.get_by_label(&words);
    h.get_by_label_contains("Could not be copied: 1 file");
    // Resume, which Problems advises for a failed download, is offered too.
    assert!(
        h.state().can_resume(),
        "Resume after a finished run with a failed file"
    );
    assert!(!h.get_by_label("Resume").accesskit_node().is_disabled());
    let retry = h.get_by_label("Retry failed");
    assert!(!retry.accesskit_node().is_disabled());
    retry.click();
    h.step();
    assert_eq!(h.state().job, JobState::Running(JobKind::Download));
    wait_for(&mut h, "the retry", 120, |a| {
        a.job == JobState::Finished(JobKind::Download)
    });
    assert!(
        h.state()
            .transfers
            .rows
            .iter()
            .all(|r| !matches!(r.state, zvm_gui::model::TfState::Failed(_))),
        "nothing is left failed"
    );
    h.get_by_label("Every file arrived whole.");
    ctx.check_copied(&meetings_of(&in_range, &picked));
}

#[test]
fn closing_the_window_while_copying_asks_first() {
    let mut cfg = account(6, (2 << 20, 3 << 20));
    cfg.faults = FaultConfig {
        bandwidth_bps: 128 << 10,
        ..FaultConfig::default()
    };
    let ctx = Ctx::start(cfg);
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    list_newest(&mut h, &ctx.sim, 1);
    select_rows(&mut h, 1, |r| r.files.iter().any(|f| f.file_type == "MP4"));
    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "a file under way", 60, |a| {
        !a.transfers.active.is_empty()
    });
    let close = |h: &mut Harness<'_, ZvmApp>| {
        h.input_mut()
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .events
            .push(egui::ViewportEvent::Close);
        h.run_steps(2);
    };
    close(&mut h);
    assert!(
        h.state().confirm_close,
        "the close is held back with a question"
    );
    h.get_by_label("Copying is under way");
    h.get_by_label("Keep copying").click();
    h.run_steps(2);
    assert!(!h.state().confirm_close);
    assert_eq!(
        h.state().job,
        JobState::Running(JobKind::Download),
        "still copying"
    );
    close(&mut h);
    h.get_by_label("Stop and close").click();
    h.step();
    wait_for(&mut h, "the copy to stop", 30, |a| {
        a.job == JobState::Cancelled
    });
    // Asked to close again now, nothing holds the window.
    assert!(!h.state_mut().hold_close());
}

#[test]
fn the_calendar_beside_a_date_field_writes_the_picked_day() {
    let mut app = demo_app();
    app.screen = Screen::Recordings;
    let mut h = harness(app);
    h.run_steps(2);
    assert_eq!(h.state().from_text, "2026-10-01");
    // The first "Pick…" is the From field's: its month opens, a day click writes the day.
    h.get_all_by_label("Pick…")
        .next()
        .expect("a calendar button")
        .click();
    h.run_steps(2);
    h.get_by_label("2026-10");
    assert_eq!(
        h.query_all_by_label("15").count(),
        1,
        "one calendar is open"
    );
    h.get_by_label("15").click();
    h.run_steps(2);
    assert_eq!(h.state().from_text, "2026-10-15");
    // The next month, then a day of it, in the To field's calendar.
    h.get_all_by_label("Pick…")
        .nth(1)
        .expect("the To calendar")
        .click();
    h.run_steps(2);
    h.get_by_label("2026-11");
    h.get_by_label("▶").click();
    h.run_steps(2);
    h.get_by_label("2026-12");
    h.get_by_label("3").click();
    h.run_steps(2);
    assert_eq!(h.state().to_text, "2026-12-03");
}

// ---- snapshots: deterministic content (tests/support) fed through the same message path as
// the engine ----

/// A harness drawing `app` with wgpu (software Vulkan) at `width` × 720.
fn snapshot_harness(mut app: ZvmApp, width: f32) -> Harness<'static, ZvmApp> {
    app.deliver_notifications = false;
    Harness::builder()
        .with_size([width, 720.0])
        .with_accessibility_check(false)
        .wgpu()
        .with_context_setup(|ctx| {
            fonts::install(ctx, FontSource::Bundled);
        })
        .build_ui_state(|ui, app: &mut ZvmApp| app.ui(ui), app)
}

fn lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Ja => "ja",
    }
}

/// A first-run window: nothing set up yet.
fn first_run_app() -> ZvmApp {
    let settings = GuiSettings {
        client_id: String::new(),
        client_secret: String::new(),
        account_id: String::new(),
        destination: PathBuf::new(),
        token_dir: PathBuf::from("/home/you/.config/zvm"),
        token_store: zvm_app::token_store::StoreKind::FileOnly,
        api_base: "https://api.zoom.us/v2".into(),
        oauth_base: "https://zoom.us".into(),
        ..GuiSettings::default()
    };
    ZvmApp::new(settings, None)
}

#[test]
fn snapshots_of_every_screen_in_both_languages() {
    let mut failures = Vec::new();
    let mut snap = |h: &mut Harness<'_, ZvmApp>, name: String| {
        h.run_steps(3);
        if let Err(e) = h.try_snapshot(&name) {
            failures.push(format!("{name}: {e}"));
        }
    };
    for lang in [Lang::En, Lang::Ja] {
        let tag = lang_tag(lang);
        // The first run: the set-up page with every field's check.
        let mut app = first_run_app();
        app.settings.language = lang;
        let mut h = snapshot_harness(app, 1100.0);
        snap(&mut h, format!("firstrun_{tag}"));
        drop(h);

        let mut app = demo_app();
        app.settings.language = lang;
        let mut h = snapshot_harness(app, 1100.0);
        for screen in Screen::ALL {
            h.state_mut().screen = screen;
            snap(
                &mut h,
                format!("{}_{tag}", format!("{screen:?}").to_lowercase()),
            );
        }
        // A meeting opened to its files (one copied, one unticked, one processing at Zoom).
        h.state_mut().screen = Screen::Recordings;
        let i = h
            .state()
            .list
            .index_of("uuid-2")
            .expect("the demo's partial meeting");
        h.state_mut().list.set_expanded(i, true);
        h.state_mut().list.set_file_chosen(i, 1, false);
        snap(&mut h, format!("recordings_files_{tag}"));
        h.state_mut().list.set_file_chosen(i, 1, true);
        h.state_mut().list.set_expanded(i, false);
        // States: the red question before removing, the end-of-run summary, the question
        // on close while copying.
        h.state_mut().screen = Screen::Move;
        h.state_mut().confirm_remove = true;
        snap(&mut h, format!("move_confirm_{tag}"));
        h.state_mut().confirm_remove = false;
        h.state_mut().screen = Screen::Recordings;
        h.state_mut().confirm_close = true;
        snap(&mut h, format!("close_confirm_{tag}"));
        h.state_mut().confirm_close = false;
        h.state_mut().screen = Screen::Transfers;
        h.state_mut().inject(Msg::JobDone {
            kind: JobKind::Download,
            cancelled: false,
            summary: Default::default(),
        });
        snap(&mut h, format!("transfers_done_{tag}"));
        // Search before any index: what to do, and the button that builds one.
        h.state_mut().screen = Screen::Search;
        h.state_mut().search.query.clear();
        let number = h.state_mut().search.ask();
        h.state_mut().inject(Msg::SearchAnswer {
            number,
            answer: zvm_gui::search::SearchAnswer::NoIndex,
        });
        snap(&mut h, format!("search_empty_{tag}"));
        drop(h);

        // Narrow (1024 px) and wide windows of the busiest screens.
        for (width, size) in [(1024.0, "1024"), (1600.0, "1600")] {
            let mut app = demo_app();
            app.settings.language = lang;
            let mut h = snapshot_harness(app, width);
            for screen in [Screen::Recordings, Screen::Transfers] {
                h.state_mut().screen = screen;
                let name = format!("{}_{size}_{tag}", format!("{screen:?}").to_lowercase());
                snap(&mut h, name);
            }
        }

        // Large text, light theme.
        let mut app = demo_app();
        app.settings.language = lang;
        app.settings.text_scale = 1.5;
        app.settings.theme = zvm_gui::settings::Theme::Light;
        let mut h = snapshot_harness(app, 1100.0);
        for screen in [Screen::Recordings, Screen::Settings] {
            h.state_mut().screen = screen;
            let name = format!("{}_large_light_{tag}", format!("{screen:?}").to_lowercase());
            snap(&mut h, name);
        }
    }
    // The README's picture: a real idle window (signed in, listed, nothing running).
    let mut app = demo_app();
    app.job = JobState::Idle;
    app.transfers.clear();
    app.move_plan = None;
    app.log.clear();
    app.screen = Screen::Recordings;
    let mut h = snapshot_harness(app, 1100.0);
    snap(&mut h, "hero_idle_en".to_string());
    drop(h);
    assert!(failures.is_empty(), "snapshots differ: {failures:#?}");
}

#[test]
fn the_japanese_demo_says_its_reasons_in_japanese() {
    let mut app = demo_app();
    app.settings.language = Lang::Ja;
    let mut h = harness(app);
    {
        {
            h.state_mut().screen = Screen::Recordings;
            h.run_steps(2);
            assert!(h.query_all_by_label("レコーディング").count() >= 1);
            assert!(
                h.query_all_by_label("定例会議 2026年度 第3回").count() > 0,
                "a Japanese topic is a row of the list"
            );
            // Move and Problems say the processing file and the failure in Japanese, and
            // never in the engine's English.
            let said = |h: &Harness<'_, ZvmApp>, words: &str| {
                h.query_all_by_label_contains(words).count() > 0
            };
            let processing = KeepReason::Processing;
            let failed = KeepReason::NotVerified {
                path: fileref(4, "英語コミュニケーション").path,
                status: FileStatus::Failed,
            };
            h.state_mut().screen = Screen::Move;
            h.run_steps(2);
            for r in [&processing, &failed] {
                assert!(said(&h, &Lang::Ja.keep_reason(r)), "Move says {r:?}");
                assert!(!said(&h, &r.to_string()), "Move shows the English of {r:?}");
            }
            h.state_mut().screen = Screen::Log;
            h.run_steps(2);
            for words in [
                Lang::Ja.skip_reason(&SkipReason::Processing),
                Lang::Ja.failure_class(FailureClass::Download),
                &Lang::Ja.notice(&Notice::SummariesNotOnPlan),
                &Lang::Ja.keep_reason(&processing),
            ] {
                assert!(said(&h, words), "Problems says {words:?}");
            }
            assert!(
                !said(&h, &Notice::SummariesNotOnPlan.to_string()),
                "Problems shows the engine's English"
            );
        }
    }
}

#[test]
fn the_bundled_fonts_draw_every_character_of_the_string_table_in_both_languages() {
    // egui draws a replacement box for a missing glyph (and the snapshots refuse one):
    // every character of every key, cause and file type in both languages, the sort arrows,
    // and the topics of the snapshot rows, is in egui's fonts or the bundled CJK font.
    use zvm_gui::i18n::S;
    let ctx = egui::Context::default();
    fonts::install(&ctx, FontSource::Bundled);
    let mut text: String = demo_rows().iter().map(|r| r.topic.clone()).collect();
    text.push_str("▲▼…·–");
    for lang in [Lang::En, Lang::Ja] {
        for s in S::ALL {
            text.push_str(lang.t(s));
        }
        for c in zvm_gui::i18n_causes::ALL_CAUSES {
            text.push_str(lang.cause(c));
        }
    }
    let mut out = ctx.run_ui(egui::RawInput::default(), |_| {});
    out.textures_delta.clear();
    let missing: BTreeSet<char> = ctx.fonts_mut(|f| {
        let font = egui::FontId::proportional(14.0);
        text.chars()
            .filter(|c| !c.is_ascii())
            .filter(|c| !f.has_glyph(&font, *c))
            .collect()
    });
    let mut out = ctx.run_ui(egui::RawInput::default(), |_| {});
    out.textures_delta.clear();
    assert!(
        missing.is_empty(),
        "glyphs missing from the bundled fonts: {missing:?}"
    );
}

#[test]
fn the_language_switch_in_the_title_bar_changes_every_label_at_once() {
    let mut h = harness(ZvmApp::new(GuiSettings::default(), None));
    h.run_steps(2);
    assert!(h.query_by_label("設定").is_none());
    h.get_by_label("日本語").click();
    h.run_steps(2);
    assert_eq!(h.state().settings.language, Lang::Ja);
    for label in [
        "設定",
        "サインイン",
        "レコーディング",
        "転送",
        "移動",
        "問題",
    ] {
        assert!(
            h.query_all_by_label(label).count() >= 1,
            "{label} is in the window"
        );
    }
    assert!(h.query_by_label("Settings").is_none(), "no English left");
    h.get_by_label("English").click();
    h.run_steps(2);
    assert_eq!(h.state().settings.language, Lang::En);
    assert!(h.query_all_by_label("Recordings").count() >= 1);
}

// ---- remote destinations ----

/// A remote destination's login is typed in Settings, beside the destination: only the
/// fields of the service the address names, the secret in a password field. Saved, the user
/// name is in gui.toml and the password is not (nor in config.toml): it is in the secret
/// store (here the private file, 0600), and comes back at the next start.
#[test]
fn a_destination_s_login_is_typed_in_settings_and_its_secret_never_lands_in_gui_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = zvm_gui::settings::SettingsFiles {
        config: Some(dir.path().join("config.toml")),
        gui: Some(dir.path().join("gui.toml")),
    };
    let secret = "typed-dav-s3cret-42";
    let mut settings = GuiSettings {
        language: Lang::En,
        client_id: "zvm-client".into(),
        destination: "webdavs://nas.example.org/dav/zoom".into(),
        token_dir: dir.path().join("home"),
        token_store: zvm_app::token_store::StoreKind::FileOnly,
        open_browser: false,
        ..GuiSettings::default()
    };
    settings.auth_mode = AuthMode::User;
    let mut h = harness(ZvmApp::new(settings, Some(files.clone())));
    click_nav(&mut h, "Settings");
    // WebDAV's fields, and no other service's.
    assert!(h.query_by_label("Secret access key").is_none());
    assert!(h.query_by_label("Storage account").is_none());
    type_into(&mut h, "User name", "anna");
    type_into(&mut h, "Password", secret);
    assert_eq!(
        h.state().settings.remote.webdav.user.as_deref(),
        Some("anna")
    );
    assert_eq!(
        h.state().settings.remote.webdav.password.as_deref(),
        Some(secret)
    );
    assert!(
        !h.get_by_label("Password")
            .accesskit_node()
            .value()
            .is_some_and(|v| v.contains(secret)),
        "the password field does not show the secret"
    );
    h.get_by_label("Save settings").click();
    h.run_steps(2);
    let gui = std::fs::read_to_string(dir.path().join("gui.toml")).expect("gui.toml");
    assert!(
        gui.contains("[overlay.remote.webdav]") && gui.contains("anna"),
        "{gui}"
    );
    assert!(!gui.contains(secret), "the secret is in gui.toml: {gui}");
    assert!(
        !dir.path().join("config.toml").exists(),
        "config.toml is never written"
    );
    let kept = dir
        .path()
        .join("home/remote-secrets/remote.webdav.password");
    assert_eq!(std::fs::read_to_string(&kept).expect("kept").trim(), secret);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
    }
    assert!(
        !h.state().log.iter().any(|l| l.text.contains(secret)),
        "{:?}",
        h.state().log
    );
    // The next start: the user from gui.toml, the password from the store.
    let mut next = GuiSettings {
        token_dir: dir.path().join("home"),
        token_store: zvm_app::token_store::StoreKind::FileOnly,
        ..GuiSettings::load(&files).expect("loads")
    };
    assert_eq!(next.remote.webdav.user.as_deref(), Some("anna"));
    assert_eq!(next.remote.webdav.password, None, "not from the files");
    next.fill_kept_remote_secrets();
    assert_eq!(next.remote.webdav.password.as_deref(), Some(secret));
    // An S3 address shows S3's fields instead.
    h.state_mut().settings.destination = "s3://bucket/zoom?region=eu-west-1".into();
    h.run_steps(2);
    assert!(h.query_by_label("Password").is_none());
    h.get_by_label("Secret access key");
    h.get_by_label("Region");
    // A folder shows none.
    h.state_mut().settings.destination = dir.path().join("rec");
    h.run_steps(2);
    assert!(h.query_by_label("Secret access key").is_none());
    // Emptied and saved: the kept secret is removed.
    h.state_mut().settings.destination = "webdavs://nas.example.org/dav/zoom".into();
    h.run_steps(2);
    type_into(&mut h, "Password", "");
    h.get_by_label("Save settings").click();
    h.run_steps(2);
    assert!(!kept.exists(), "the emptied secret is forgotten");
}

/// A config.toml holding a destination's password that others can read: the window says
/// so in Problems, naming the file and the key, never the value; the login reaches the
/// window's fields (and so the run), the password without being shown.
#[cfg(unix)]
#[test]
fn a_readable_config_with_secrets_is_said_in_problems_without_the_secret() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    let secret = "file-dav-s3cret-77";
    std::fs::write(
        &config,
        format!("destination = \"webdavs://nas.example.org/dav\"\n[remote.webdav]\nuser = \"anna\"\npassword = \"{secret}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let files = zvm_gui::settings::SettingsFiles {
        config: Some(config.clone()),
        gui: Some(dir.path().join("gui.toml")),
    };
    let settings = GuiSettings {
        token_dir: dir.path().join("home"),
        token_store: zvm_app::token_store::StoreKind::FileOnly,
        ..GuiSettings::load(&files).expect("loads")
    };
    assert_eq!(settings.remote.webdav.user.as_deref(), Some("anna"));
    assert_eq!(settings.remote.webdav.password.as_deref(), Some(secret));
    let warning = zvm_gui::settings::readable_config_warning(&files).expect("a warning");
    let mut app = ZvmApp::new(settings, Some(files.clone()));
    app.warn_readable_config(warning);
    let mut h = harness(app);
    click_nav(&mut h, "Problems (1)");
    let line = &h.state().log[0].text;
    assert!(
        line.contains("remote.webdav.password") && line.contains(&config.display().to_string()),
        "{line}"
    );
    h.get_by_label_contains("can read:");
    click_nav(&mut h, "Settings");
    assert!(
        !h.get_by_label("Password")
            .accesskit_node()
            .value()
            .is_some_and(|v| v.contains(secret))
    );
    // Saved from the window, the file's password is neither in gui.toml nor kept twice.
    h.get_by_label("Save settings").click();
    h.run_steps(2);
    let gui = std::fs::read_to_string(dir.path().join("gui.toml")).expect("gui.toml");
    assert!(!gui.contains(secret), "{gui}");
    assert!(
        !dir.path()
            .join("home/remote-secrets/remote.webdav.password")
            .exists()
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(zvm_gui::settings::readable_config_warning(&files), None);
}

// The project's one way for a test that cannot run here to say so (fails under CI=true).
#[cfg(feature = "webdav")]
#[path = "../../zvm-cli/tests/common/skip.rs"]
mod skip;

/// A copy to the WebDAV server `.ci/run` starts. Built with zvm-gui's `webdav` feature only
/// (`.ci/run` runs it in a step of its own, with `--features zvm-gui/webdav`: in the README's
/// test command the feature would change the destination hint on the snapshots' screens).
#[cfg(feature = "webdav")]
mod webdav {
    use super::*;

    use super::skip::skip_or_fail;

    /// The login of the WebDAV server `.ci/run` starts (zvm-dest-opendal/tests/support).
    const WEBDAV_USER: &str = "zvm";
    const WEBDAV_PASSWORD: &str = "zvm-test-password";

    /// The WebDAV server `.ci/run` starts (rclone's `serve webdav`): its URL
    /// (`webdav://127.0.0.1:PORT`) and the folder on this machine it serves.
    fn webdav_server(test: &str) -> Option<(String, PathBuf)> {
        match (
            std::env::var("ZVM_TEST_WEBDAV_URL"),
            std::env::var("ZVM_TEST_WEBDAV_DIR"),
        ) {
            (Ok(url), Ok(dir)) if !url.is_empty() && !dir.is_empty() => {
                Some((url.trim_end_matches('/').to_string(), dir.into()))
            }
            _ => {
                skip_or_fail(&format!(
                    "{test}: no WebDAV test server (ZVM_TEST_WEBDAV_URL and ZVM_TEST_WEBDAV_DIR are not set; .ci/run starts one)"
                ));
                None
            }
        }
    }

    /// Runs the test `name` of this binary again in a child process whose environment holds
    /// `env` and not `removed` (a test may not change its own process's environment: other
    /// tests' threads read it), and fails when the child fails. The child sees
    /// `ZVM_GUI_TEST_CHILD` set to `role`.
    fn rerun_with_env(name: &str, role: &str, env: &[(&str, &str)], removed: &[&str]) {
        let mut child =
            std::process::Command::new(std::env::current_exe().expect("the test binary"));
        child
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .envs(env.iter().copied())
            .env("ZVM_GUI_TEST_CHILD", role);
        for var in removed {
            child.env_remove(var);
        }
        let out = child.output().expect("the test binary runs again");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{name} in the child failed:\n{said}");
        assert!(
            said.contains("1 passed"),
            "{name} ran in the child (not filtered out):\n{said}"
        );
    }

    /// A copy to WebDAV through the window, as to a folder: the destination field holds a
    /// `webdav://` URL of the test server, the login is typed in the fields beside it (over a
    /// wrong one in the environment), the run starts (the address is checked there, through
    /// zvm-app, as `zvm sync` opens it), and every file of the selection is on the server
    /// byte-identical, with no `.part` left, and the state says verified. Without the login
    /// the server's refusal is in Problems and nothing is written.
    /// The copy to WebDAV without a login: the server refuses it, the window says so in
    /// Problems (the credentials to check), claims no copy, and the server holds nothing.
    fn refused_without_login(url: &str, served: &std::path::Path) {
        let ctx = Ctx::start(account(12, (8 << 10, 16 << 10)));
        let folder = format!("zvm-gui-webdav-nologin-{}", std::process::id());
        let mut settings = ctx.settings();
        settings.destination = format!("{url}/{folder}").into();
        let mut h = harness(ZvmApp::new(settings, None));
        sign_in(&mut h);
        list_newest(&mut h, &ctx.sim, 4);
        select_rows(&mut h, 1, |_| true);
        h.get_by_label("Download selected").click();
        h.step();
        wait_for(&mut h, "the refused run to end", 60, |a| {
            !matches!(a.job, JobState::Running(_)) && !a.log.is_empty()
        });
        let said: Vec<&str> = h.state().log.iter().map(|l| l.text.as_str()).collect();
        assert!(
            said.iter()
                .any(|t| t.contains("access denied") && t.contains("credentials")),
            "the refusal and what to check are in Problems: {said:?}"
        );
        assert!(
            !said.iter().any(|t| t.contains(WEBDAV_PASSWORD)),
            "no secret shown"
        );
        assert_eq!(h.state().transfers.files_done, 0, "nothing is said copied");
        assert!(
            zvm_testkit::files_under(&served.join(&folder)).is_empty(),
            "nothing was written on the server"
        );
    }

    #[test]
    fn a_download_to_a_webdav_destination_arrives_there_byte_identical() {
        const NAME: &str =
            "webdav::a_download_to_a_webdav_destination_arrives_there_byte_identical";
        let Some((url, served)) = webdav_server(NAME) else {
            return;
        };
        // The login is typed in the window's fields (none in the environment, where a
        // wrong one the fields win over is set): one run without it, one with.
        let login = ["ZVM_WEBDAV_USER", "ZVM_WEBDAV_PASSWORD"];
        match std::env::var("ZVM_GUI_TEST_CHILD").as_deref() {
            Err(_) => {
                rerun_with_env(NAME, "no-login", &[], &login);
                rerun_with_env(
                    NAME,
                    "login",
                    &[(login[0], WEBDAV_USER), (login[1], "not-the-password")],
                    &[],
                );
                return;
            }
            Ok("no-login") => return refused_without_login(&url, &served),
            Ok(_) => {}
        }
        let ctx = Ctx::start(account(20, (64 << 10, 256 << 10)));
        let folder = format!(
            "zvm-gui-webdav-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        );
        let remote = format!("{url}/{folder}");
        let on_disk = served.join(&folder);
        let mut settings = ctx.settings();
        settings.destination = remote.clone().into();
        let mut h = harness(ZvmApp::new(settings, None));
        // The set-up verdict: a cloud address, checked when the copy starts.
        assert!(zvm_gui::setup::is_ready(&h.state().settings), "{remote}");
        // The login, typed beside the destination in Settings.
        click_nav(&mut h, "Settings");
        super::type_into(&mut h, "User name", WEBDAV_USER);
        super::type_into(&mut h, "Password", WEBDAV_PASSWORD);
        sign_in(&mut h);
        let in_range = list_newest(&mut h, &ctx.sim, 6);
        let picked = select_rows(&mut h, 2, |_| true);
        h.get_by_label("Download selected").click();
        h.step();
        download_finishes_cleanly(&mut h, "the download to WebDAV to finish", 180);
        let copied = ctx.check_copied_under(&on_disk, &meetings_of(&in_range, &picked));
        assert!(
            copied >= picked.len(),
            "every file of the selection is there"
        );
        // Beside them only what a run writes into a meeting's folder (meeting.json, a
        // summary's Markdown), nothing under a temporary name.
        let stored = zvm_testkit::files_under(&on_disk);
        assert!(stored.len() >= copied, "{stored:?}");
        assert!(
            stored
                .iter()
                .all(|p| !p.to_string_lossy().ends_with(".part")),
            "no .part left on the server: {stored:?}"
        );
        assert!(
            zvm_testkit::files_under(&ctx.dest).is_empty(),
            "nothing went to the local folder of the settings"
        );
        // A WebDAV folder is no folder of this computer to open.
        assert!(h.get_by_label("Open folder").accesskit_node().is_disabled());
        let _ = std::fs::remove_dir_all(&on_disk);
    }
}

/// A drive's address in a build without its feature (or without its credentials): a copy
/// started with it (typed in Settings after signing in) stops before anything is fetched,
/// with the reason in Problems, never a finished run.
#[test]
fn a_drive_destination_that_cannot_be_used_is_refused_with_the_reason_and_never_reported_as_copied()
{
    let ctx = Ctx::start(account(12, (8 << 10, 16 << 10)));
    let mut h = harness(ZvmApp::new(ctx.settings(), None));
    sign_in(&mut h);
    list_newest(&mut h, &ctx.sim, 4);
    select_rows(&mut h, 1, |_| true);
    h.state_mut().settings.destination = "dropbox://Zoom".into();
    h.get_by_label("Download selected").click();
    h.step();
    wait_for(&mut h, "the refusal", 30, |a| {
        a.job == JobState::Idle && !a.log.is_empty()
    });
    let text = &h.state().log[0].text;
    // What zvm-dest-opendal says: built with Dropbox (its features unify across a workspace
    // build), the missing token (the test's environment has no ZVM_DROPBOX_*); without, the
    // feature to build with.
    let reason = ["ZVM_DROPBOX_REFRESH_TOKEN", "--features dropbox"]
        .into_iter()
        .find(|r| text.contains(r));
    assert!(
        text.contains("dropbox://") && reason.is_some(),
        "the reason zvm-dest-opendal gives: {:?}",
        h.state().log
    );
    let reason = reason.unwrap_or_default();
    assert_eq!(h.state().transfers.files_done, 0);
    click_nav(&mut h, "Problems (1)");
    h.get_by_label_contains(reason);
    if !cfg!(feature = "dropbox") {
        assert!(!zvm_gui::setup::is_ready(&h.state().settings));
        // The Settings screen says it beside the field, in the window's words.
        click_nav(&mut h, "Settings");
        h.get_by_label_contains("This build cannot write to dropbox:// addresses");
    }
}
