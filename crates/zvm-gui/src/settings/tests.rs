//! The GUI settings against what reaches the engine and the client: every key of
//! config.toml honoured, and gui.toml holding only what the window changed. A child module
//! of `settings` in its own file, so that `settings` itself never imports `backend`.

use super::*;
use crate::backend::{ConnectSpec, JobSpec};

/// Every key of `config.toml` set to a value that is not its default.
const EVERY_KEY: &str = r#"
destination = "/srv/zoom"
state = "/srv/zoom/.state.sqlite3"
transfers = 48
bwlimit = "3M"
verify_hash = true
folder_template = "{host}/{topic}"
file_template = "{file_id}.{ext}"
file_types = ["mp4", "chat"]
summaries = false
participant_audio = false
recent_days = 45
full_listing_days = 3
segments = 3
min_segment_size = "32M"
[zoom]
account_id = "A1"
client_id = "C1"
client_secret = "S1"
api_base = "http://127.0.0.1:9/v2"
oauth_base = "http://127.0.0.1:9"
plan = "pro"
redirect_port = 8765
"#;

fn files(dir: &Path) -> SettingsFiles {
    SettingsFiles {
        config: Some(dir.join("config.toml")),
        gui: Some(dir.join("gui.toml")),
    }
}

/// The names of every key of a TOML text (`zoom.plan` for the `[zoom]` table's).
fn key_names(text: &str) -> BTreeSet<String> {
    let t: toml::Table = text.parse().expect("toml");
    let mut out = BTreeSet::new();
    for (k, v) in t {
        match v.as_table() {
            Some(sub) => out.extend(sub.keys().map(|s| format!("{k}.{s}"))),
            None => {
                out.insert(k);
            }
        }
    }
    out
}

#[test]
fn the_gui_honours_every_key_of_the_cli_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), EVERY_KEY).expect("write");
    let s = GuiSettings::load(&files(dir.path())).expect("loads");
    let job = JobSpec::from_settings(&s).expect("job");
    let conn = ConnectSpec::from_settings(&s);
    let client = conn.client_config().expect("client config");
    let o = &job.base;
    let table: Vec<(&str, bool)> = vec![
        ("destination", job.destination == Path::new("/srv/zoom")),
        (
            "state",
            job.state_path == Path::new("/srv/zoom/.state.sqlite3"),
        ),
        ("transfers", o.transfers == 48 && !o.adaptive),
        ("bwlimit", o.bwlimit == Some(3 << 20)),
        ("verify_hash", o.verify_hash),
        ("folder_template", o.folder_template == "{host}/{topic}"),
        ("file_template", o.file_template == "{file_id}.{ext}"),
        (
            "file_types",
            o.filters.file_types.iter().collect::<Vec<_>>() == ["CHAT", "MP4"],
        ),
        ("summaries", !o.summaries),
        ("participant_audio", !o.participant_audio),
        ("recent_days", o.listing.recent_days == 45),
        ("full_listing_days", o.listing.full_listing_days == 3),
        ("segments", o.segments == zvm_engine::Segments::AtMost(3)),
        ("min_segment_size", o.min_segment == 32 << 20),
        (
            "zoom.account_id",
            conn.account_id == "A1" && conn.mode == AuthMode::ServerToServer,
        ),
        ("zoom.client_id", conn.client_id == "C1"),
        (
            "zoom.client_secret",
            conn.client_secret.as_ref().map(|s| s.expose()) == Some("S1"),
        ),
        ("zoom.api_base", client.api_base == "http://127.0.0.1:9/v2"),
        ("zoom.oauth_base", client.oauth_base == "http://127.0.0.1:9"),
        ("zoom.plan", client.plan == zvm_zoom::Plan::Pro),
        ("zoom.redirect_port", conn.redirect_port == 8765),
    ];
    // A key added to the schema without a row here fails this test.
    let full = ConfigFile {
        zoom: ZoomConfig {
            client_secret: None,
            ..toml::from_str::<ConfigFile>(EVERY_KEY)
                .expect("schema")
                .zoom
        },
        ..toml::from_str(EVERY_KEY).expect("schema")
    };
    let mut schema_keys = key_names(&toml::to_string(&full).expect("toml"));
    schema_keys.insert("zoom.client_secret".into()); // never serialised, read only
    let rows: BTreeSet<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(rows, schema_keys, "one row per key of config.toml");
    assert_eq!(
        key_names(EVERY_KEY),
        schema_keys,
        "EVERY_KEY sets every key"
    );
    let ignored: Vec<&str> = table
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(k, _)| *k)
        .collect();
    assert!(ignored.is_empty(), "the GUI ignores {ignored:?}");
}

#[test]
fn the_gui_file_holds_only_what_was_changed_in_the_window_and_never_the_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = files(dir.path());
    std::fs::write(dir.path().join("config.toml"), EVERY_KEY).expect("write");
    let mut s = GuiSettings::load(&f).expect("loads");
    s.language = Lang::Ja;
    s.transfers = 7;
    s.client_secret = "typed-in-the-window".into();
    s.save(&f).expect("save");
    let text = std::fs::read_to_string(dir.path().join("gui.toml")).expect("read");
    assert!(
        !text.contains("typed-in-the-window") && !text.contains("S1"),
        "{text}"
    );
    assert!(
        !text.contains("srv/zoom"),
        "unchanged keys stay in config.toml: {text}"
    );
    // A later change of config.toml reaches the GUI, except where the window overrides.
    std::fs::write(
        dir.path().join("config.toml"),
        EVERY_KEY.replace("/srv/zoom", "/mnt/zoom"),
    )
    .expect("write");
    let back = GuiSettings::load(&f).expect("loads");
    assert_eq!(back.language, Lang::Ja);
    assert_eq!((back.transfers, back.transfers_auto), (7, false));
    assert_eq!(back.destination, PathBuf::from("/mnt/zoom"));
    assert_eq!(
        back.client_secret, "S1",
        "the secret comes from config.toml"
    );
    // Broken files are errors to show, not silently replaced by defaults.
    std::fs::write(dir.path().join("gui.toml"), "transfers = \"many\"").expect("write");
    assert!(GuiSettings::load(&f).is_err());
    std::fs::write(dir.path().join("gui.toml"), "[overlay]\ntransfers = 99\n").expect("w");
    let e = GuiSettings::load(&f).unwrap_err().to_string();
    assert_eq!(e, "in gui.toml, key 'transfers'");
}

#[test]
fn automatic_downloads_reach_the_engine_as_auto_mode() {
    let mut s = GuiSettings {
        destination: PathBuf::from("/srv/zoom"),
        state_path: PathBuf::from("/srv/zoom/.state.sqlite3"),
        ..GuiSettings::default()
    };
    let spec = JobSpec::from_settings(&s).expect("spec");
    assert!(spec.base.adaptive);
    assert_eq!(
        spec.base.transfers, 64,
        "the engine may go up to the CLI's most"
    );
    s.transfers_auto = false;
    s.transfers = 3;
    let spec = JobSpec::from_settings(&s).expect("spec");
    assert!(!spec.base.adaptive);
    assert_eq!(spec.base.transfers, 3);
}

#[test]
fn the_windows_own_choices_are_saved_at_once_and_keep_the_rest_of_the_gui_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = files(dir.path());
    std::fs::write(dir.path().join("config.toml"), EVERY_KEY).expect("write");
    let mut s = GuiSettings::load(&f).expect("loads");
    s.transfers = 7;
    s.save(&f).expect("save");
    // Later the language, theme and text size change in the window, without Save.
    let mut s = GuiSettings::load(&f).expect("loads");
    s.language = Lang::Ja;
    s.theme = super::Theme::Light;
    s.text_scale = 1.5;
    s.transfers = 2;
    s.save_choices(&f).expect("choices saved");
    let back = GuiSettings::load(&f).expect("loads");
    assert_eq!(back.language, Lang::Ja);
    assert_eq!(back.theme, super::Theme::Light);
    assert_eq!(back.text_scale, 1.5);
    assert_eq!(
        back.transfers, 7,
        "unsaved edits stay unsaved; saved ones stay"
    );
    // A text size the window does not offer falls back to normal.
    let text = std::fs::read_to_string(dir.path().join("gui.toml")).expect("read");
    std::fs::write(
        dir.path().join("gui.toml"),
        text.replace("text_scale = 1.5", "text_scale = 9.0"),
    )
    .expect("write");
    assert_eq!(GuiSettings::load(&f).expect("loads").text_scale, 1.0);
}

#[test]
fn the_end_of_run_notification_is_on_until_turned_off_and_stays_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = files(dir.path());
    let mut s = GuiSettings::load(&f).expect("loads");
    assert!(s.notify_at_end, "on by default");
    s.save(&f).expect("save");
    let text = std::fs::read_to_string(dir.path().join("gui.toml")).expect("read");
    assert!(
        !text.contains("notifications"),
        "the default is not written: {text}"
    );
    s.notify_at_end = false;
    s.save(&f).expect("save");
    assert!(!GuiSettings::load(&f).expect("loads").notify_at_end);
    s.notify_at_end = true;
    s.save(&f).expect("save");
    assert!(GuiSettings::load(&f).expect("loads").notify_at_end);
}
