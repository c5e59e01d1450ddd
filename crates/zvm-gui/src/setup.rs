//! The first-run set-up page: the few things a first copy needs (how to sign in, the Zoom
//! app's keys, a folder), each field checked as it is typed with the reason beside it, the
//! steps (and a link) to create the Zoom app, and a button that goes on to Sign in only when
//! everything is right. The checks are plain functions so that the page, the navigation
//! (which tabs are ready) and the tests agree on what "ready" means.

use std::path::Path;

use egui::{RichText, Ui};

use crate::i18n::{Lang, S};
use crate::settings::{AuthMode, GuiSettings};

/// Where the Zoom app is created.
pub const MARKETPLACE_URL: &str = "https://marketplace.zoom.us/develop/create";

/// The width of the labels in front of the fields.
pub(crate) const LABEL_W: f32 = 190.0;

/// A row under a field, lined up with the field.
fn indented(ui: &mut Ui, add: impl FnOnce(&mut Ui)) {
    ui.horizontal(|ui| {
        ui.add_space(LABEL_W + ui.spacing().item_spacing.x);
        add(ui);
    });
}

/// What is wrong with a field (a key of the string table), or `None` when it is fine.
pub type Check = Option<S>;

/// A key or ID pasted from Zoom: present, and without spaces (a pasted line break or blank
/// is the usual mistake).
pub fn check_key(value: &str) -> Check {
    let v = value.trim();
    if v.is_empty() {
        Some(S::NeedValue)
    } else if v.chars().any(char::is_whitespace) {
        Some(S::NoSpaces)
    } else {
        None
    }
}

/// The folder for recordings: a full path, a folder if it exists, else creatable (its
/// parent exists).
pub fn check_folder(path: &Path) -> Check {
    if path.as_os_str().is_empty() {
        return Some(S::NeedValue);
    }
    if !path.is_absolute() {
        return Some(S::NeedAbsoluteFolder);
    }
    if path.exists() {
        return (!path.is_dir()).then_some(S::NotAFolder);
    }
    match path.parent() {
        Some(p) if p.is_dir() => None,
        _ => Some(S::ParentMissing),
    }
}

/// The kinds of remote destination zvm writes to, in the hint's order: the URL scheme (also
/// the cargo feature that builds it, and the name `zvm-app` gives its kind), an address of
/// that kind to ask `zvm-app` about, and the hint's example of it.
pub const REMOTE_KINDS: [(&str, &str, S); 8] = [
    ("s3", "s3://b/p", S::DestExampleS3),
    ("webdav", "webdavs://h/p", S::DestExampleWebdav),
    ("sftp", "sftp://u@h/p", S::DestExampleSftp),
    ("azblob", "azblob://c/p", S::DestExampleAzblob),
    ("gcs", "gcs://b/p", S::DestExampleGcs),
    ("gdrive", "gdrive://f", S::DestExampleGdrive),
    ("onedrive", "onedrive://f", S::DestExampleOnedrive),
    ("dropbox", "dropbox://f", S::DestExampleDropbox),
];

/// The kinds of [`REMOTE_KINDS`] this build writes to, as `zvm-app` (which opens them) says:
/// each feature of this crate turns on `zvm-app`'s, and `zvm-app`'s answer is the one a run
/// meets.
pub fn remote_kinds_built() -> Vec<(&'static str, S)> {
    REMOTE_KINDS
        .iter()
        .filter(|(_, probe, _)| {
            zvm_app::destination::check_destination(Path::new(probe))
                .is_ok_and(|k| k != zvm_app::destination::DestinationKind::Folder)
        })
        .map(|&(scheme, _, example)| (scheme, example))
        .collect()
}

/// Where recordings go: a folder ([`check_folder`]), or a URL such as `s3://bucket/prefix`
/// or `webdavs://host/path` when this build writes to that service. The URL is checked by
/// `zvm-app`, as every front end opens it; the second part is the check's own words (for a
/// hover), when it has some.
pub fn check_destination(path: &Path) -> (Check, Option<String>) {
    use zvm_app::destination::{DestinationKind, UrlError, check_destination};
    match check_destination(path) {
        Ok(DestinationKind::Folder) => (check_folder(path), None),
        Ok(DestinationKind::Remote { .. }) => (None, None),
        Err(e) => {
            let problem = match e {
                UrlError::NotBuiltIn { .. } => S::DestNotBuiltIn,
                UrlError::UnknownScheme { .. } => S::DestUnknownKind,
                _ => S::DestBadUrl,
            };
            (Some(problem), Some(e.to_string()))
        }
    }
}

/// The window's sentence for the destination's `problem`, with the kind of address and the
/// feature to build with filled in where it names them ([`S::DestNotBuiltIn`]).
pub fn destination_problem_words(lang: Lang, problem: S, destination: &Path) -> String {
    let words = lang.t(problem);
    match zvm_app::destination::check_destination(destination) {
        // The feature that builds a kind has its kind's name (`webdavs://`: `webdav`); the
        // address is said with the scheme as typed.
        Err(zvm_app::destination::UrlError::NotBuiltIn { scheme }) => {
            let text = destination.to_string_lossy();
            let typed = text.split_once("://").map_or(scheme.as_str(), |(t, _)| t);
            words
                .replace("{scheme}", typed)
                .replace("{feature}", &scheme)
        }
        _ => words.to_string(),
    }
}

/// What the destination field takes in this build, said beside it: a folder only, or a
/// folder and one example line per kind of address this build writes to.
pub fn destination_hint() -> Vec<S> {
    let kinds = remote_kinds_built();
    if kinds.is_empty() {
        vec![S::DestHintFolders]
    } else {
        std::iter::once(S::DestHintRemote)
            .chain(kinds.into_iter().map(|(_, example)| example))
            .collect()
    }
}

/// The destination's verdict under its field: the reason (the check's own words on hover),
/// whether a new folder will be made or a cloud address is checked later, and the hint.
pub fn destination_verdict(ui: &mut Ui, lang: Lang, destination: &Path) {
    let (check, detail) = check_destination(destination);
    ui.vertical(|ui| {
        let remote = zvm_app::destination::check_destination(destination)
            .is_ok_and(|k| k != zvm_app::destination::DestinationKind::Folder);
        match check {
            None if remote => {
                ui.label(lang.t(S::RemoteWillBeChecked));
            }
            None if !destination.exists() => {
                ui.label(lang.t(S::FolderWillBeCreated));
            }
            None => verdict(ui, lang, None),
            Some(problem) => {
                let shown = ui.label(
                    RichText::new(destination_problem_words(lang, problem, destination))
                        .color(ui.visuals().warn_fg_color),
                );
                if let Some(d) = detail {
                    shown.on_hover_text(d);
                }
            }
        }
        for line in destination_hint() {
            ui.weak(lang.t(line));
        }
    });
}

/// A Zoom address: https, or http to this computer (the simulator, a local proxy).
pub fn check_address(value: &str) -> Check {
    let v = value.trim();
    if v.is_empty() {
        return Some(S::NeedValue);
    }
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| v.starts_with(p));
    (!(v.starts_with("https://") || local)).then_some(S::NeedHttps)
}

/// Every check of the page, in the page's order: (what, problem).
pub fn checks(s: &GuiSettings) -> Vec<(S, Check)> {
    let mut out = Vec::new();
    if s.auth_mode == AuthMode::ServerToServer {
        out.push((S::AccountId, check_key(&s.account_id)));
    }
    out.push((S::ClientId, check_key(&s.client_id)));
    // User OAuth with PKCE works without a secret; Server-to-Server needs it.
    if s.auth_mode == AuthMode::ServerToServer || !s.client_secret.trim().is_empty() {
        out.push((S::ClientSecret, check_key(&s.client_secret)));
    }
    out.push((S::Destination, check_destination(&s.destination).0));
    out.push((S::ApiBase, check_address(&s.api_base)));
    out.push((S::OauthBase, check_address(&s.oauth_base)));
    out
}

/// True when signing in can be tried.
pub fn is_ready(s: &GuiSettings) -> bool {
    checks(s).iter().all(|(_, c)| c.is_none())
}

/// What the page asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupAction {
    None,
    /// Open the Zoom App Marketplace in the browser.
    OpenMarketplace,
    /// Pick the folder with the system's dialog.
    Browse,
    /// Save, keep the secret if asked, and go to Sign in.
    Continue,
}

/// A field's verdict under it: a tick, or the reason in the warning colour.
pub fn verdict(ui: &mut Ui, lang: Lang, check: Check) {
    match check {
        None => {
            ui.label(
                RichText::new(lang.t(S::FieldOk))
                    .color(ui.visuals().widgets.inactive.fg_stroke.color),
            );
        }
        Some(problem) => {
            ui.label(RichText::new(lang.t(problem)).color(ui.visuals().warn_fg_color));
        }
    }
}

/// Draws the page; returns what the user asked for.
pub fn page(
    ui: &mut Ui,
    lang: Lang,
    s: &mut GuiSettings,
    remember_secret: &mut bool,
    secret_place: &(std::path::PathBuf, bool),
) -> SetupAction {
    let t = |k| lang.t(k);
    let mut action = SetupAction::None;
    ui.heading(t(S::ScreenSetup));
    ui.label(t(S::SetupIntro));
    ui.add_space(6.0);
    ui.label(RichText::new(t(S::SetupStep1)).strong());
    ui.horizontal(|ui| {
        ui.label(t(S::AuthMode));
        ui.radio_value(&mut s.auth_mode, AuthMode::User, t(S::AuthUser));
        ui.radio_value(&mut s.auth_mode, AuthMode::ServerToServer, t(S::AuthS2S));
    });
    egui::CollapsingHeader::new(t(S::HowToCreateApp))
        .id_salt("how-to-create-app")
        .default_open(s.client_id.trim().is_empty())
        .show(ui, |ui| {
            ui.label(t(match s.auth_mode {
                AuthMode::User => S::AppStepsUser,
                AuthMode::ServerToServer => S::AppStepsS2S,
            }));
            if ui.link(t(S::OpenMarketplace)).clicked() {
                action = SetupAction::OpenMarketplace;
            }
        });
    ui.add_space(6.0);
    ui.label(RichText::new(t(S::SetupStep2)).strong());
    // Label, field, verdict: one row each, the fields lined up.
    let field = |ui: &mut Ui, label: &str, value: &mut String, password: bool| {
        ui.horizontal(|ui| {
            ui.add_sized([LABEL_W, 20.0], egui::Label::new(label));
            ui.add(
                egui::TextEdit::singleline(value)
                    .password(password)
                    .desired_width(320.0),
            );
        })
        .inner
    };
    if s.auth_mode == AuthMode::ServerToServer {
        field(ui, t(S::AccountId), &mut s.account_id, false);
        indented(ui, |ui| verdict(ui, lang, check_key(&s.account_id)));
    }
    field(ui, t(S::ClientId), &mut s.client_id, false);
    indented(ui, |ui| verdict(ui, lang, check_key(&s.client_id)));
    field(ui, t(S::ClientSecret), &mut s.client_secret, true);
    // User OAuth with PKCE needs no secret: an empty one is fine there.
    if !(s.auth_mode == AuthMode::User && s.client_secret.trim().is_empty()) {
        indented(ui, |ui| verdict(ui, lang, check_key(&s.client_secret)));
    }
    indented(ui, |ui| {
        ui.checkbox(remember_secret, t(S::RememberSecret));
    });
    indented(ui, |ui| {
        let (file, keyring_maybe) = secret_place;
        let words = if *keyring_maybe {
            t(S::KeptInKeyringElse)
        } else {
            t(S::SecretKeptIn)
        };
        ui.weak(format!("{words} {}", file.display()));
    });
    ui.add_space(6.0);
    ui.label(RichText::new(t(S::SetupStep3)).strong());
    ui.horizontal(|ui| {
        ui.add_sized([LABEL_W, 20.0], egui::Label::new(t(S::Destination)));
        let mut text = s.destination.to_string_lossy().into_owned();
        if ui
            .add(egui::TextEdit::singleline(&mut text).desired_width(320.0))
            .changed()
        {
            s.destination = text.into();
        }
        if cfg!(feature = "native-dialogs") && ui.button(t(S::Browse)).clicked() {
            action = SetupAction::Browse;
        }
    });
    indented(ui, |ui| destination_verdict(ui, lang, &s.destination));
    crate::remote_fields::rows(ui, lang, &s.destination, &mut s.remote, LABEL_W);
    ui.add_space(10.0);
    let ready = is_ready(s);
    if ui
        .add_enabled(
            ready,
            egui::Button::new(RichText::new(t(S::ContinueToSignIn)).strong()),
        )
        .clicked()
    {
        action = SetupAction::Continue;
    }
    if !ready {
        // Say what is left (the advanced addresses are not on this page: Settings has them).
        for (what, check) in checks(s) {
            if let Some(problem) = check {
                let words = if what == S::Destination {
                    destination_problem_words(lang, problem, &s.destination)
                } else {
                    t(problem).to_string()
                };
                ui.label(
                    RichText::new(format!("{}: {words}", t(what)))
                        .color(ui.visuals().warn_fg_color),
                );
            }
        }
    }
    action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_folders_and_addresses_are_checked_with_a_reason() {
        assert_eq!(check_key(""), Some(S::NeedValue));
        assert_eq!(check_key("  "), Some(S::NeedValue));
        assert_eq!(check_key("abc def"), Some(S::NoSpaces));
        assert_eq!(check_key(" AbC_12-x \n"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_folder(Path::new("")), Some(S::NeedValue));
        assert_eq!(
            check_folder(Path::new("relative/dir")),
            Some(S::NeedAbsoluteFolder)
        );
        assert_eq!(check_folder(dir.path()), None);
        assert_eq!(check_folder(&dir.path().join("new")), None);
        assert_eq!(
            check_folder(&dir.path().join("no").join("new")),
            Some(S::ParentMissing)
        );
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(check_folder(&file), Some(S::NotAFolder));
        assert_eq!(check_address("https://api.zoom.us/v2"), None);
        assert_eq!(check_address("http://127.0.0.1:8080"), None);
        assert_eq!(check_address("http://api.zoom.us"), Some(S::NeedHttps));
        assert_eq!(check_address("api.zoom.us"), Some(S::NeedHttps));
    }

    #[test]
    fn the_destination_takes_a_folder_or_an_address_this_build_writes_to() {
        let dir = tempfile::tempdir().unwrap();
        let check = |p: &str| check_destination(Path::new(p)).0;
        assert_eq!(check_destination(dir.path()), (None, None));
        assert_eq!(
            check("relative/dir"),
            Some(S::NeedAbsoluteFolder),
            "a folder's checks"
        );
        // A bad URL: the window's sentence, and the parser's reason for the hover.
        let (problem, why) = check_destination(Path::new("s3:///recordings"));
        assert_eq!(problem, Some(S::DestBadUrl));
        assert!(
            why.unwrap().contains("bucket"),
            "the reason names what is missing"
        );
        assert_eq!(check("nosuchkind://x"), Some(S::DestUnknownKind));
        // Each sentence is the table's, in both languages.
        for s in [S::DestNotBuiltIn, S::DestBadUrl, S::DestUnknownKind] {
            assert_ne!(Lang::En.t(s), Lang::Ja.t(s));
        }
    }

    /// Each kind of address, with the feature of this crate that builds it: taken where the
    /// build has it, else refused in the window's words naming the address and the feature to
    /// build with (in both languages), never as "folders only".
    #[test]
    fn each_kind_of_address_is_taken_with_its_feature_and_refused_naming_it_without() {
        let cases = [
            (
                "s3",
                cfg!(feature = "s3"),
                "s3://school-zoom/recordings?region=ap-northeast-1",
            ),
            (
                "webdav",
                cfg!(feature = "webdav"),
                "webdavs://cloud.example.org/remote.php/dav/files/anna/Zoom",
            ),
            (
                "webdav",
                cfg!(feature = "webdav"),
                "webdav://127.0.0.1:8080/recordings",
            ),
            (
                "sftp",
                cfg!(feature = "sftp"),
                "sftp://backup@nas.example.org/srv/zoom",
            ),
            (
                "azblob",
                cfg!(feature = "azblob"),
                "azblob://recordings/zoom",
            ),
            ("gcs", cfg!(feature = "gcs"), "gcs://my-recordings/zoom"),
            (
                "gdrive",
                cfg!(feature = "gdrive"),
                "gdrive://Zoom/Recordings",
            ),
            ("onedrive", cfg!(feature = "onedrive"), "onedrive://Zoom"),
            (
                "dropbox",
                cfg!(feature = "dropbox"),
                "dropbox://Zoom/Recordings",
            ),
        ];
        for (feature, built, url) in cases {
            let (problem, why) = check_destination(Path::new(url));
            if built {
                assert_eq!(
                    (problem, why),
                    (None, None),
                    "{url} in a build with {feature}"
                );
                continue;
            }
            assert_eq!(problem, Some(S::DestNotBuiltIn), "{url}");
            assert!(
                why.unwrap().contains(&format!("--features {feature}")),
                "{url}: the hover names the feature"
            );
            let typed = url.split_once("://").unwrap().0;
            for lang in [Lang::En, Lang::Ja] {
                let words = destination_problem_words(lang, S::DestNotBuiltIn, Path::new(url));
                assert!(
                    words.contains(&format!("--features {feature} "))
                        && words.contains(&format!("{typed}://"))
                        && !words.contains('{'),
                    "{lang:?} for {url}: {words}"
                );
            }
        }
        // The hint names exactly the kinds built, one example line each, else folders only.
        let hint = destination_hint();
        let built: Vec<S> = REMOTE_KINDS
            .iter()
            .filter(|(feature, _, _)| match *feature {
                "s3" => cfg!(feature = "s3"),
                "webdav" => cfg!(feature = "webdav"),
                "sftp" => cfg!(feature = "sftp"),
                "azblob" => cfg!(feature = "azblob"),
                "gcs" => cfg!(feature = "gcs"),
                "gdrive" => cfg!(feature = "gdrive"),
                "onedrive" => cfg!(feature = "onedrive"),
                "dropbox" => cfg!(feature = "dropbox"),
                other => panic!("a kind without a feature: {other}"),
            })
            .map(|&(_, _, example)| example)
            .collect();
        if built.is_empty() {
            assert_eq!(hint, vec![S::DestHintFolders]);
        } else {
            assert_eq!(hint[0], S::DestHintRemote);
            assert_eq!(hint[1..], built[..], "one example per kind built, in order");
        }
        // Each example is an address of its kind in both languages.
        for (feature, _, example) in REMOTE_KINDS {
            let scheme = if feature == "webdav" {
                "webdavs"
            } else {
                feature
            };
            for lang in [Lang::En, Lang::Ja] {
                assert!(
                    lang.t(example).starts_with(&format!("{scheme}://")),
                    "{lang:?} {example:?}"
                );
            }
        }
    }

    #[test]
    fn ready_needs_every_field_the_sign_in_method_needs() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = GuiSettings {
            auth_mode: AuthMode::User,
            client_id: String::new(),
            client_secret: String::new(),
            account_id: String::new(),
            destination: dir.path().join("rec"),
            api_base: "https://api.zoom.us/v2".into(),
            oauth_base: "https://zoom.us".into(),
            ..GuiSettings::default()
        };
        assert!(!is_ready(&s), "no client ID");
        s.client_id = "abc".into();
        assert!(is_ready(&s), "user OAuth with PKCE needs no secret");
        s.auth_mode = AuthMode::ServerToServer;
        assert!(!is_ready(&s), "S2S needs the account ID and the secret");
        s.account_id = "acc".into();
        s.client_secret = "sec".into();
        assert!(is_ready(&s));
        s.destination = "relative".into();
        assert!(!is_ready(&s));
        s.destination = "s3://school-zoom/recordings".into();
        assert_eq!(
            is_ready(&s),
            cfg!(feature = "s3"),
            "a bucket, where the build has S3"
        );
        s.destination = "webdavs://cloud.example.org/dav/Zoom".into();
        assert_eq!(
            is_ready(&s),
            cfg!(feature = "webdav"),
            "a WebDAV folder, where the build has WebDAV"
        );
        s.destination = "gdrive://Zoom".into();
        assert_eq!(
            is_ready(&s),
            cfg!(feature = "gdrive"),
            "a Drive folder, where the build has Google Drive"
        );
    }
}
