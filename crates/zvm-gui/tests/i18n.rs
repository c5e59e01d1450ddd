//! The string table is complete and nothing the window shows bypasses it: every key, every
//! failure cause and every message of the engine (each variant of its typed reasons) has
//! English and Japanese words (Japanese that is not the English again, with no English
//! sentence in it), no English literal is drawn straight from the code of the screens, and the
//! Japanese Move, Transfers and Problems screens, fed every kind of engine message, show no
//! English sentence but the data (topics, paths, the underlying errors' own words).

use std::collections::BTreeSet;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};
use zvm_engine::events::{FailureClass, FileRef, KeepReason, Notice, SkipReason};
use zvm_engine::{Event, MoveCandidate, RunStats};
use zvm_gui::backend::{JobKind, Msg};
use zvm_gui::fonts::{self, FontSource};
use zvm_gui::i18n::{Lang, S};
use zvm_gui::i18n_causes::ALL_CAUSES;
use zvm_gui::i18n_events::notice_detail;
use zvm_gui::search::{RebuildOutcome, SearchAnswer};
use zvm_gui::settings::{AuthMode, GuiSettings};
use zvm_gui::{Screen, ZvmApp};
use zvm_state::FileStatus;

mod support;

/// Keys whose words are the same in both languages on purpose (a product name).
const SAME_IN_BOTH: &[S] = &[S::AppTitle];

#[test]
fn every_key_and_every_cause_has_english_and_japanese_words() {
    let mut untranslated = Vec::new();
    for s in S::ALL {
        let (en, ja) = (Lang::En.t(s), Lang::Ja.t(s));
        if en.trim().is_empty() || ja.trim().is_empty() {
            untranslated.push(format!("{s:?}: empty"));
        } else if en == ja && !SAME_IN_BOTH.contains(&s) {
            untranslated.push(format!("{s:?}: Japanese is the English {en:?}"));
        }
    }
    for c in ALL_CAUSES {
        let (en, ja) = (Lang::En.cause(c), Lang::Ja.cause(c));
        if en.trim().is_empty() || ja.trim().is_empty() || en == ja {
            untranslated.push(format!("{c:?}: {en:?} / {ja:?}"));
        }
    }
    assert!(untranslated.is_empty(), "untranslated: {untranslated:#?}");
    let distinct: BTreeSet<String> = ALL_CAUSES.iter().map(|c| format!("{c:?}")).collect();
    assert_eq!(distinct.len(), ALL_CAUSES.len(), "each cause listed once");
}

/// Every string literal of `source` that holds a word (two letters in a row outside `{}`
/// placeholders), with its line.
fn worded_literals(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            let lit = &after[..end];
            // `{name}` in a format string is code, not words.
            let mut words = String::new();
            let mut depth = 0;
            for c in lit.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ if depth == 0 => words.push(c),
                    _ => {}
                }
            }
            let has_word = words
                .as_bytes()
                .windows(2)
                .any(|w| w[0].is_ascii_alphabetic() && w[1].is_ascii_alphabetic());
            if has_word {
                out.push((n + 1, lit.to_string()));
            }
            rest = &after[end + 1..];
        }
    }
    out
}

#[test]
fn the_screens_draw_no_english_literal_of_their_own() {
    // Literals that are not words for the user: egui widget ids and the test module's data.
    const NOT_SHOWN: &[&str] = &["top", "nav", "settings", "user"];
    // More widget ids, and the file name pattern of a saved log (a name, not words).
    const NOT_SHOWN_APP: &[&str] = &[
        "advanced",
        "advanced-grid",
        "confirm-close",
        "confirm-remove",
        "problems-%Y%m%d-%H%M%S.txt",
        "presets",
        "from",
        "to",
        // A cargo feature's name in `cfg!`.
        "native-dialogs",
    ];
    const NOT_SHOWN_SETUP: &[&str] = &[
        "how-to-create-app",
        "https://marketplace.zoom.us/develop/create",
        "http://127.0.0.1",
        "http://localhost",
        "http://[::1]",
        "https://",
        // The kinds of remote destination: a cargo feature's name each, and the address
        // asked about to learn whether this build writes there (never shown).
        "webdav",
        "webdavs://h/p",
        "sftp",
        "sftp://u@h/p",
        "azblob",
        "azblob://c/p",
        "gcs",
        "gcs://b/p",
        "gdrive",
        "gdrive://f",
        "onedrive",
        "onedrive://f",
        "dropbox",
        "dropbox://f",
    ];
    // zvm-archive's names of the kinds of file, matched to be put in words.
    const NOT_SHOWN_SEARCH: &[&str] = &["transcript", "chat", "summary"];
    let mut shown: Vec<(usize, String)> = Vec::new();
    for (source, skip) in [
        (include_str!("../src/app.rs"), NOT_SHOWN),
        (include_str!("../src/setup.rs"), NOT_SHOWN_SETUP),
        (
            include_str!("../src/app/search_screen.rs"),
            NOT_SHOWN_SEARCH,
        ),
    ] {
        let main = source.split("#[cfg(test)]").next().unwrap_or(source);
        shown.extend(
            worded_literals(main).into_iter().filter(|(_, l)| {
                !skip.contains(&l.as_str()) && !NOT_SHOWN_APP.contains(&l.as_str())
            }),
        );
    }
    assert!(
        shown.is_empty(),
        "app.rs draws words that are not in the string table (use Lang::t): {shown:#?}"
    );
    // The check itself finds such a literal.
    assert_eq!(
        worded_literals("ui.label(\"Hello {name}\"); format!(\"{x} ({y})\"); // \"comment\""),
        vec![(1, "Hello {name}".to_string())]
    );
}

// ---- the engine's messages ----

/// Words that are names, the same in every language (a product, a checksum).
const NAMES: &[&str] = &[
    "Zoom Video Mover",
    "AI Companion",
    "Server-to-Server",
    "SHA-256",
];

/// The first two ASCII words in a row in `text` (an English sentence, or the start of one),
/// once the names and every piece of `data` are taken out. A word is a whitespace-separated
/// token of ASCII only with two letters or more: Japanese sentences hold single ASCII words
/// ("Zoom", "MiB") between Japanese ones, never two in a row.
fn english_sentence(text: &str, data: &[&str]) -> Option<String> {
    let mut rest = text.to_string();
    for d in data.iter().chain(NAMES).filter(|d| !d.is_empty()) {
        rest = rest.replace(d, " ");
    }
    let is_word =
        |t: &str| t.is_ascii() && t.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 2;
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    tokens
        .windows(2)
        .find(|w| is_word(w[0]) && is_word(w[1]))
        .map(|w| format!("{} {}", w[0], w[1]))
}

const PATH: &str = "teacher0@school.example/2026/2026-11-28 1830 定例会議/audio_only.m4a";
const TOPIC: &str = "Weekly standup";
const ERROR: &str = "Zoom API error: HTTP 500 internal error";
const FILE_ID: &str = "f-12";

/// One of every variant of the reasons a meeting stays in the cloud. The `match` has no
/// wildcard: a new variant does not compile until it is listed here, and so tested.
fn every_keep_reason() -> Vec<KeepReason> {
    let path = PATH.to_string();
    let all = vec![
        KeepReason::YoungerThanCutoff,
        KeepReason::Processing,
        KeepReason::NoLocalCopy {
            file_id: FILE_ID.into(),
        },
        KeepReason::NotVerified {
            path: path.clone(),
            status: FileStatus::Failed,
        },
        KeepReason::SizeChanged {
            path: path.clone(),
            listed: 1234,
            recorded: 1200,
        },
        KeepReason::WrongSize {
            path: path.clone(),
            found: 1000,
            expected: 1234,
        },
        KeepReason::Missing { path: path.clone() },
        KeepReason::NoHash { path },
        KeepReason::NothingSelected,
        KeepReason::DetailsNotFetched,
        KeepReason::ZoomRefused {
            error: ERROR.into(),
        },
        KeepReason::InProgress,
    ];
    let listed: BTreeSet<usize> = all
        .iter()
        .map(|r| match r {
            KeepReason::YoungerThanCutoff => 0,
            KeepReason::Processing => 1,
            KeepReason::NoLocalCopy { .. } => 2,
            KeepReason::NotVerified { .. } => 3,
            KeepReason::SizeChanged { .. } => 4,
            KeepReason::WrongSize { .. } => 5,
            KeepReason::Missing { .. } => 6,
            KeepReason::NoHash { .. } => 7,
            KeepReason::NothingSelected => 8,
            KeepReason::DetailsNotFetched => 9,
            KeepReason::ZoomRefused { .. } => 10,
            KeepReason::InProgress => 11,
        })
        .collect();
    assert_eq!(listed.len(), all.len(), "each variant listed once");
    all
}

/// One of every variant of the engine's warnings (the `match` as above).
fn every_notice() -> Vec<Notice> {
    let all = vec![
        Notice::StoppedEarly {
            error: ERROR.into(),
        },
        Notice::DetailsFailed {
            error: ERROR.into(),
        },
        Notice::SummariesNotOnPlan,
        Notice::VerifiedCopyMissing { path: PATH.into() },
        Notice::VerifiedCopyWrongSize {
            path: PATH.into(),
            found: 1000,
            expected: 1234,
        },
        Notice::RecordNotWritten {
            path: PATH.into(),
            error: ERROR.into(),
        },
        Notice::RecoverFailed {
            topic: TOPIC.into(),
            error: ERROR.into(),
        },
        Notice::StoredListingUnreadable {
            from: "2026-01-01".into(),
            to: "2026-01-31".into(),
            meeting_uuid: "abc==".into(),
        },
        Notice::RefreshFailed {
            topic: TOPIC.into(),
            error: ERROR.into(),
        },
        Notice::AccountListingRefused {
            scope: "cloud_recording:read:list_account_recordings:admin".into(),
            refusal: "HTTP 403, code 4711".into(),
        },
        Notice::SummaryListingRefused {
            scope: "meeting_summary:read:list_summaries:admin".into(),
            refusal: "HTTP 404".into(),
        },
        Notice::HostEmailUnknown {
            host_id: "h0St1d".into(),
            error: ERROR.into(),
        },
    ];
    let listed: BTreeSet<usize> = all
        .iter()
        .map(|n| match n {
            Notice::StoppedEarly { .. } => 0,
            Notice::DetailsFailed { .. } => 1,
            Notice::SummariesNotOnPlan => 2,
            Notice::VerifiedCopyMissing { .. } => 3,
            Notice::VerifiedCopyWrongSize { .. } => 4,
            Notice::RecordNotWritten { .. } => 5,
            Notice::RecoverFailed { .. } => 6,
            Notice::StoredListingUnreadable { .. } => 7,
            Notice::RefreshFailed { .. } => 8,
            Notice::AccountListingRefused { .. } => 9,
            Notice::SummaryListingRefused { .. } => 10,
            Notice::HostEmailUnknown { .. } => 11,
        })
        .collect();
    assert_eq!(listed.len(), all.len(), "each variant listed once");
    all
}

fn every_failure_class() -> [FailureClass; 4] {
    let all = [
        FailureClass::Download,
        FailureClass::Destination,
        FailureClass::State,
        FailureClass::Details,
    ];
    for c in all {
        match c {
            FailureClass::Download
            | FailureClass::Destination
            | FailureClass::State
            | FailureClass::Details => {}
        }
    }
    all
}

fn every_skip_reason() -> [SkipReason; 3] {
    let all = [
        SkipReason::AlreadyVerified,
        SkipReason::Processing,
        SkipReason::Filtered,
    ];
    for r in &all {
        match r {
            SkipReason::AlreadyVerified | SkipReason::Processing | SkipReason::Filtered => {}
        }
    }
    all
}

const EVERY_FILE_STATUS: [FileStatus; 5] = [
    FileStatus::Pending,
    FileStatus::Partial,
    FileStatus::Verified,
    FileStatus::Failed,
    FileStatus::Skipped,
];

/// What each rendering must be: English and Japanese both said, the Japanese not the
/// English, and no English sentence in the Japanese once the data is out.
fn check(what: String, en: String, ja: String, data: &[&str], bad: &mut Vec<String>) {
    if en.trim().is_empty() || ja.trim().is_empty() {
        bad.push(format!("{what}: empty ({en:?} / {ja:?})"));
    } else if en == ja {
        bad.push(format!("{what}: the Japanese is the English {en:?}"));
    } else if let Some(s) = english_sentence(&ja, data) {
        bad.push(format!("{what}: English {s:?} in the Japanese {ja:?}"));
    }
}

#[test]
fn every_engine_message_has_japanese_words_of_its_own() {
    let data = [PATH, TOPIC, ERROR, FILE_ID];
    let mut bad = Vec::new();
    for r in every_keep_reason() {
        // The check catches the engine's own English (the CLI's words) for every variant.
        assert!(
            english_sentence(&r.to_string(), &data).is_some(),
            "the check misses the English of {r:?}"
        );
        check(
            format!("{r:?}"),
            Lang::En.keep_reason(&r),
            Lang::Ja.keep_reason(&r),
            &data,
            &mut bad,
        );
    }
    for n in every_notice() {
        // (A `meeting.json` not written is said by the engine as its path and error only.)
        assert!(
            english_sentence(&n.to_string(), &data).is_some()
                || matches!(n, Notice::RecordNotWritten { .. }),
            "the check misses the English of {n:?}"
        );
        check(
            format!("{n:?}"),
            Lang::En.notice(&n),
            Lang::Ja.notice(&n),
            &data,
            &mut bad,
        );
    }
    for c in every_failure_class() {
        check(
            format!("{c:?}"),
            Lang::En.failure_class(c).into(),
            Lang::Ja.failure_class(c).into(),
            &data,
            &mut bad,
        );
    }
    for r in every_skip_reason() {
        check(
            format!("{r:?}"),
            Lang::En.skip_reason(&r).into(),
            Lang::Ja.skip_reason(&r).into(),
            &data,
            &mut bad,
        );
    }
    for st in EVERY_FILE_STATUS {
        check(
            format!("{st:?}"),
            Lang::En.file_status(st).into(),
            Lang::Ja.file_status(st).into(),
            &data,
            &mut bad,
        );
    }
    assert!(bad.is_empty(), "untranslated: {bad:#?}");
    // The check itself: an English sentence is found, names and data are not.
    assert_eq!(
        english_sentence("a file is still processing", &[]),
        Some("file is".into())
    );
    assert_eq!(
        english_sentence("Zoom がまだ処理中です（SHA-256）。AI Companion の要約", &[]),
        None
    );
    assert_eq!(english_sentence("「Weekly standup」を復元", &[TOPIC]), None);
}

fn file(i: usize) -> FileRef {
    FileRef {
        meeting_uuid: format!("uuid-{i}"),
        file_id: format!("file-{i}"),
        path: format!("{}-{i}", PATH),
    }
}

/// Every label and value of the window's accessibility tree, as drawn now (whole texts: the
/// runs a wrapped label is cut into are left out).
fn shown_texts(h: &Harness<'_, ZvmApp>) -> Vec<String> {
    h.query_all(
        by().predicate(|n| n.role() != egui::accesskit::Role::TextRun)
            .include_labels(),
    )
    .flat_map(|n| {
        let node = n.accesskit_node();
        [node.label(), node.value()]
    })
    .flatten()
    .filter(|t| !t.trim().is_empty())
    .collect()
}

#[test]
fn the_japanese_screens_fed_every_engine_message_show_no_english_sentence() {
    let mut app = ZvmApp::new(
        GuiSettings {
            language: Lang::Ja,
            ..GuiSettings::default()
        },
        None,
    );
    app.inject(Msg::JobStarted(JobKind::Download));
    for i in 0..3 {
        app.inject(Msg::Engine(Event::FileQueued {
            file: file(i),
            size: 1000,
        }));
    }
    app.inject(Msg::Engine(Event::FileStarted {
        file: file(0),
        size: 1000,
        offset: 0,
    }));
    app.inject(Msg::Engine(Event::FileDone {
        file: file(1),
        size: 1000,
        sha256: None,
    }));
    let mut n = 3;
    for class in every_failure_class() {
        app.inject(Msg::Engine(Event::FileFailed {
            file: file(n),
            class,
            error: ERROR.into(),
        }));
        n += 1;
    }
    for reason in every_skip_reason() {
        app.inject(Msg::Engine(Event::FileSkipped {
            file: file(n),
            size: 1000,
            reason,
        }));
        n += 1;
    }
    for message in every_notice() {
        app.inject(Msg::Engine(Event::Warning { message }));
    }
    let kept: Vec<(String, String, KeepReason)> = every_keep_reason()
        .into_iter()
        .map(|r| ("uuid-9".to_string(), TOPIC.to_string(), r))
        .collect();
    for (uuid, topic, reason) in &kept {
        app.inject(Msg::Engine(Event::DeleteSkipped {
            meeting_uuid: uuid.clone(),
            topic: topic.clone(),
            reason: reason.clone(),
        }));
    }
    app.inject(Msg::Stats(RunStats {
        files_queued: 3,
        bytes_queued: 3000,
        bytes_done: 1500,
        files_verified: 1,
        bytes_verified: 1000,
        files_failed: 4,
        rate: 2048.0,
        ..RunStats::default()
    }));
    app.inject(Msg::MovePlanned {
        candidates: vec![MoveCandidate {
            meeting_uuid: "uuid-1".into(),
            topic: TOPIC.into(),
            start_time: "2026-11-28T09:30:00Z".into(),
            file_ids: Some(vec!["file-1".into()]),
            copies: vec![(format!("{PATH}-1"), 1000, Some("ab".repeat(32)))],
            bytes: 1000,
        }],
        kept,
    });
    let logged = app.log.len();
    assert_eq!(
        logged,
        every_failure_class().len() + 1 + every_notice().len() + every_keep_reason().len(),
        "each failure, the processing file, each warning and each kept meeting is a line"
    );
    let mut h = Harness::builder()
        .with_size([1400.0, 2400.0])
        .with_accessibility_check(false)
        .allow_missing_glyphs()
        .with_context_setup(|ctx| {
            fonts::install(ctx, FontSource::Bundled);
        })
        .build_ui_state(|ui, app: &mut ZvmApp| app.ui(ui), app);
    let paths: Vec<String> = (0..n).map(|i| file(i).path).collect();
    let mut data: Vec<&str> = vec![TOPIC, ERROR, FILE_ID, PATH, "2026-11-28T09:30:00Z"];
    data.extend(paths.iter().map(String::as_str));
    let mut bad = Vec::new();
    let mut seen = 0;
    for screen in [Screen::Move, Screen::Transfers, Screen::Log] {
        h.state_mut().screen = screen;
        h.run_steps(3);
        let texts = shown_texts(&h);
        seen += texts.len();
        for t in texts {
            if let Some(s) = english_sentence(&t, &data) {
                bad.push(format!("{screen:?}: {s:?} in {t:?}"));
            }
        }
    }
    assert!(seen > logged, "the screens were read ({seen} texts)");
    // The log lines are drawn, with each notice's own error beside its sentence.
    let log_texts = {
        h.state_mut().screen = Screen::Log;
        h.run_steps(2);
        shown_texts(&h)
    };
    assert!(
        log_texts
            .iter()
            .any(|t| t.contains(Lang::Ja.skip_reason(&SkipReason::Processing))),
        "the processing file is said in Problems"
    );
    for n in every_notice() {
        let said = Lang::Ja.notice(&n);
        let line = log_texts
            .iter()
            .find(|t| t.contains(&said))
            .unwrap_or_else(|| panic!("{n:?} is not in Problems"));
        assert!(line.contains(notice_detail(&n)), "{line}");
    }
    assert!(bad.is_empty(), "English in the Japanese window: {bad:#?}");
}

// ---- every screen of the Japanese window, word by word ----

/// Names, units and codes the Japanese window shows as they are. Longer names first: each is
/// taken out of the text before the words are looked at.
const KEPT_AS_IS: &[&str] = &[
    "Zoom Video Mover",
    "Zoom App Marketplace",
    "Server-to-Server OAuth",
    "Server-to-Server",
    "App Credentials",
    "AI Companion",
    "SHA-256",
    "cloud_recording:read:list_user_recordings:admin",
    "cloud_recording:read",
    "cloud_recording:write",
    "cloud_recording:delete",
    "user:read:list_users:admin",
    "http://127.0.0.1",
    "https://",
    "http://",
    "YYYY-MM-DD",
    "English",
    // The command line's name, and the plan names config.toml takes, typed as they are.
    "zvm",
    "free、pro、business",
    // The destination field's hint: the kinds of address with an example each (schemes,
    // query options and the services' names), the environment variables their keys and
    // logins come from, and the features to build with, all typed as they are.
    "--features s3,webdav,sftp,azblob,gcs,gdrive,onedrive,dropbox",
    // The one feature a build without it is to be built with (the set-up verdict).
    "--features webdav",
    "--features sftp",
    "--features azblob",
    "--features gcs",
    "--features gdrive",
    "--features onedrive",
    "--features dropbox",
    "--features",
    "zvm-gui",
    "README",
    "s3://",
    "?region=",
    "webdavs://",
    "sftp://",
    "azblob://",
    "gcs://",
    "gdrive://Zoom/Recordings",
    "onedrive://Zoom/Recordings",
    "dropbox://Zoom/Recordings",
    "gdrive://",
    "onedrive://",
    "dropbox://",
    "ZVM_GDRIVE_*",
    "ZVM_ONEDRIVE_*",
    "ZVM_DROPBOX_*",
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "ZVM_WEBDAV_USER",
    "ZVM_WEBDAV_PASSWORD",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "known_hosts",
    "Azure Blob Storage",
    "Google Cloud Storage",
    "Google Drive",
    "Google ドライブ",
    "OneDrive",
    "Dropbox",
    "Nextcloud",
    "WebDAV",
    "SFTP",
    "NAS",
    "ssh",
    // A remote destination's login: the files and the section it falls back to, and the
    // names of the kinds of key, typed as they are.
    "config.toml",
    "gui.toml",
    "[remote]",
    "OAuth",
    "JSON",
    "SAS",
];

/// Single words that are names or units in any language.
const WORDS_AS_IS: &[&str] = &["Zoom", "ID", "API", "AI", "KiB", "MiB", "GiB", "TiB", "UTC"];

/// The words (two ASCII letters or more in a row) of `text` that are neither data, names
/// nor units: English the window shows untranslated.
fn untranslated_words(text: &str, data: &[String]) -> Vec<String> {
    // A path cut in the middle to fit its column: each piece around "…" is part of the data.
    let pieces: Vec<&str> = text.split('…').collect();
    if pieces.len() > 1
        && pieces
            .iter()
            .all(|p| p.trim().is_empty() || data.iter().any(|d| d.contains(p.trim())))
    {
        return Vec::new();
    }
    let mut rest = text.to_string();
    let mut cut: Vec<&str> = data.iter().map(String::as_str).collect();
    cut.extend(KEPT_AS_IS);
    // Longest first, so a name is not broken by a shorter one inside it.
    cut.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in cut.iter().filter(|d| !d.is_empty()) {
        rest = rest.replace(d, " ");
    }
    rest.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 2 && !WORDS_AS_IS.contains(w))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_untranslated_word_check_finds_english_and_lets_names_and_data_be() {
    let data = vec![
        "Weekly standup".to_string(),
        "teacher0@school.example".to_string(),
    ];
    assert_eq!(
        untranslated_words(
            "保存先: Weekly standup (teacher0@school.example) 12.5 MiB",
            &data
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        untranslated_words("Zoom App Marketplace を開く", &data),
        Vec::<String>::new()
    );
    assert_eq!(
        untranslated_words("状態: downloaded", &data),
        vec!["downloaded"]
    );
    assert_eq!(
        untranslated_words("Time left: –", &data),
        vec!["Time", "left"]
    );
}

/// Everything the demo window holds that is data: topics, hosts, paths, settings values,
/// scopes, the errors' own words beside the window's sentences.
fn demo_data(app: &ZvmApp) -> Vec<String> {
    let mut d: Vec<String> = Vec::new();
    for r in &app.list.rows {
        d.extend([r.topic.clone(), r.host.clone(), r.uuid.clone()]);
    }
    for r in &app.transfers.rows {
        d.push(r.file.path.clone());
        if let zvm_gui::model::TfState::Failed(e) = &r.state {
            d.push(e.clone());
        }
    }
    for l in &app.log {
        d.extend([l.subject.clone(), l.text.clone()]);
    }
    // A found line's time ends with its zone's abbreviation (`JST`): a name, as the zone's
    // IANA name below.
    for l in app.search.lines() {
        d.extend([
            l.when.clone(),
            l.topic.clone(),
            l.host.clone(),
            l.text.clone(),
            l.path.clone(),
        ]);
    }
    if let Some((cands, kept)) = &app.move_plan {
        for c in cands {
            d.push(c.topic.clone());
            d.extend(c.copies.iter().map(|(p, _, _)| p.clone()));
        }
        for (_, topic, reason) in kept {
            d.push(topic.clone());
            if let KeepReason::NotVerified { path, .. } = reason {
                d.push(path.clone());
            }
        }
    }
    if let Some(c) = &app.connection {
        d.push(c.who.clone());
        d.extend(c.scopes.iter().cloned());
    }
    if let Some(t) = &app.token {
        d.extend([t.scopes.clone(), t.location.clone()]);
    }
    for (id, email) in &app.users {
        d.extend([id.clone(), email.clone()]);
    }
    let s = &app.settings;
    d.extend([
        s.account_id.clone(),
        s.client_id.clone(),
        s.api_base.clone(),
        s.oauth_base.clone(),
        s.plan.clone(),
        s.folder_template.clone(),
        s.file_template.clone(),
        s.destination.display().to_string(),
        s.state_path.display().to_string(),
        s.token_dir.display().to_string(),
        app.secret_place.0.display().to_string(),
        zvm_gui::model::zone_label(app.list.time_zone()),
    ]);
    d.extend(app.file_types.iter().cloned());
    if let Ok(p) = zvm_gui::name_preview::preview(&s.folder_template, &s.file_template) {
        d.push(p);
    }
    d
}

#[test]
fn no_screen_or_question_of_the_japanese_window_shows_an_untranslated_word() {
    let mut failures = Vec::new();
    let mut seen = 0;
    let mut check = |h: &Harness<'_, ZvmApp>, what: &str| {
        let data = demo_data(h.state());
        for t in shown_texts(h) {
            seen += 1;
            let words = untranslated_words(&t, &data);
            if !words.is_empty() {
                failures.push(format!("{what}: {words:?} in {t:?}"));
            }
        }
    };
    let build = |app: ZvmApp| {
        Harness::builder()
            .with_size([1400.0, 1600.0])
            .with_accessibility_check(false)
            .allow_missing_glyphs()
            .with_context_setup(|ctx| {
                fonts::install(ctx, FontSource::Bundled);
            })
            .build_ui_state(|ui, app: &mut ZvmApp| app.ui(ui), app)
    };

    // The first run: the set-up page with every field's problem said, in both sign-in modes.
    for mode in [AuthMode::User, AuthMode::ServerToServer] {
        let mut app = ZvmApp::new(
            GuiSettings {
                language: Lang::Ja,
                auth_mode: mode,
                client_id: "has space".into(),
                client_secret: String::new(),
                account_id: String::new(),
                destination: "relative".into(),
                api_base: "http://api.zoom.us".into(),
                token_store: zvm_app::token_store::StoreKind::FileOnly,
                token_dir: "/home/you/.config/zvm".into(),
                ..GuiSettings::default()
            },
            None,
        );
        app.screen = Screen::Setup;
        let mut h = build(app);
        h.run_steps(3);
        check(&h, &format!("Setup {mode:?}"));
    }

    // Every screen of a busy window, then its states.
    let mut app = support::demo_app();
    app.settings.language = Lang::Ja;
    let mut h = build(app);
    for screen in Screen::ALL {
        h.state_mut().screen = screen;
        h.run_steps(3);
        check(&h, &format!("{screen:?}"));
    }
    // Settings with the advanced fields open.
    h.state_mut().screen = Screen::Settings;
    h.run_steps(2);
    h.get_by_label(Lang::Ja.t(S::Advanced)).click();
    h.run_steps(3);
    check(&h, "Settings, advanced");
    // The login fields of each kind of remote destination.
    let folder = h.state().settings.destination.clone();
    for dest in [
        "s3://bucket/zoom",
        "webdavs://nas/dav",
        "azblob://recordings/zoom",
        "gcs://bucket/zoom",
        "gdrive://Zoom",
    ] {
        h.state_mut().settings.destination = dest.into();
        h.run_steps(3);
        check(&h, &format!("Settings, the login of {dest}"));
    }
    h.state_mut().settings.destination = folder;
    // The questions, and the end of a run.
    h.state_mut().screen = Screen::Move;
    h.state_mut().confirm_remove = true;
    h.run_steps(3);
    check(&h, "Move, confirmation");
    h.state_mut().confirm_remove = false;
    h.state_mut().confirm_close = true;
    h.run_steps(3);
    check(&h, "close confirmation");
    h.state_mut().confirm_close = false;
    h.state_mut().inject(Msg::JobDone {
        kind: JobKind::Download,
        cancelled: false,
        summary: Default::default(),
    });
    h.state_mut().screen = Screen::Transfers;
    h.run_steps(3);
    check(&h, "Transfers, finished");
    // The Search screen without an index, and after rebuilds that could not run.
    h.state_mut().screen = Screen::Search;
    let number = h.state_mut().search.ask();
    h.state_mut().inject(Msg::SearchAnswer {
        number,
        answer: SearchAnswer::NoIndex,
    });
    h.run_steps(3);
    check(&h, "Search, no index");
    for outcome in [
        RebuildOutcome::NothingCopied,
        RebuildOutcome::NotAFolder,
        RebuildOutcome::Rebuilt {
            files: 3,
            lines: 120,
        },
    ] {
        h.state_mut().search.rebuild_ended(outcome.clone());
        h.run_steps(3);
        check(&h, &format!("Search, {outcome:?}"));
    }
    // Signed out, and nothing set: the Sign in screen's own words.
    h.state_mut().inject(Msg::SignedOut);
    h.state_mut().screen = Screen::SignIn;
    h.run_steps(3);
    check(&h, "Sign in, signed out");
    assert!(seen > 200, "the screens were read ({seen} texts)");
    assert!(
        failures.is_empty(),
        "English in the Japanese window: {failures:#?}"
    );
}
