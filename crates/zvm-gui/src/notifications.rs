//! The system notification at the end of a download: what it says is decided by a pure
//! function ([`end_of_run`], in the window's language), and [`send`] hands it to the OS on a
//! thread of its own, so the window never waits for the notification service.
//!
//! The OS side is `notify-rust` (the `os-notifications` feature, on by default): the
//! desktop's notification service over D-Bus on Linux and the BSDs (pure Rust, through
//! zbus), the notification centre on macOS, toasts on Windows. A notification that cannot
//! be shown (no service answering, a build without the feature) is logged, never reported as
//! a problem: the run itself went as the window says.

use crate::i18n::{Lang, S};
use crate::model::human_bytes;

/// What a finished download did, as the window counted it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    /// Files copied and verified in the download (resumed runs included).
    pub copied: u64,
    /// Bytes of those files.
    pub bytes: u64,
    /// Files that failed.
    pub failed: u64,
}

/// A notification to show: a title and one sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub title: String,
    pub body: String,
}

/// What to say when a download ends, in `lang`: everything copied, some files failed, or
/// nothing copied because every file failed. A run with nothing to do and nothing failed
/// says so too (the person waited for it).
pub fn end_of_run(lang: Lang, run: RunOutcome) -> Notification {
    let files = |n: u64| lang.count(n, S::FileOne, S::FileMany);
    let fill = |s: S| {
        lang.t(s)
            .replace("{copied}", &files(run.copied))
            .replace("{failed}", &files(run.failed))
            .replace("{size}", &human_bytes(run.bytes))
    };
    let (title, body) = match (run.copied, run.failed) {
        (0, 0) => (S::NotifyNothingTitle, S::NotifyNothingBody),
        (_, 0) => (S::NotifyDoneTitle, S::NotifyDoneBody),
        (0, _) => (S::NotifyFailedTitle, S::NotifyFailedBody),
        _ => (S::NotifyPartialTitle, S::NotifyPartialBody),
    };
    Notification {
        title: fill(title),
        body: fill(body),
    }
}

/// Shows `n` on the desktop, from a thread of its own (the notification service may take
/// its time, or never answer). Failures go to the log only.
pub fn send(n: Notification) {
    let spawned = std::thread::Builder::new()
        .name("zvm-notify".into())
        .spawn(move || {
            if let Err(e) = show(&n) {
                tracing::warn!("the end-of-run notification could not be shown: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("no thread for the end-of-run notification: {e}");
    }
}

#[cfg(feature = "os-notifications")]
fn show(n: &Notification) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("Zoom Video Mover")
        .summary(&n.title)
        .body(&n.body)
        .show()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "os-notifications"))]
fn show(_: &Notification) -> Result<(), String> {
    Err("this build has no system notifications (feature os-notifications)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(copied: u64, bytes: u64, failed: u64) -> RunOutcome {
        RunOutcome {
            copied,
            bytes,
            failed,
        }
    }

    fn said(lang: Lang, r: RunOutcome) -> (String, String) {
        let n = end_of_run(lang, r);
        (n.title, n.body)
    }

    #[test]
    fn success_partial_failure_and_nothing_to_do_each_say_their_figures() {
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            said(Lang::En, run(5, 3 << 20, 0)),
            s(
                "Recordings copied",
                "Copied 5 files (3.0 MiB), each checked."
            )
        );
        assert_eq!(
            said(Lang::En, run(1, 2048, 2)),
            s(
                "Some files were not copied",
                "Copied 1 file (2.0 KiB); 2 files failed. Retry them from Transfers."
            )
        );
        assert_eq!(
            said(Lang::En, run(0, 0, 1)),
            s(
                "Nothing was copied",
                "1 file failed. The reasons are under Problems."
            )
        );
        assert_eq!(
            said(Lang::En, run(0, 0, 0)),
            s("Nothing new to copy", "Everything chosen is already here.")
        );
    }

    #[test]
    fn the_notification_is_in_the_window_s_language() {
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            said(Lang::Ja, run(5, 3 << 20, 0)),
            s(
                "レコーディングをコピーしました",
                "5 ファイル（3.0 MiB）をコピーし、すべて確認しました。"
            )
        );
        assert_eq!(
            said(Lang::Ja, run(1, 2048, 2)),
            s(
                "一部のファイルをコピーできませんでした",
                "1 ファイル（2.0 KiB）をコピーしました。2 ファイルは失敗しました。「転送」画面から再試行できます。"
            )
        );
        assert_eq!(
            said(Lang::Ja, run(0, 0, 3)),
            s(
                "何もコピーできませんでした",
                "3 ファイルが失敗しました。理由は「問題」画面にあります。"
            )
        );
        // No English word and no placeholder left in any Japanese notification.
        for r in [run(5, 1, 0), run(1, 1, 1), run(0, 0, 1), run(0, 0, 0)] {
            let (title, body) = said(Lang::Ja, r);
            let text = format!("{title}{body}");
            assert!(!text.contains('{'), "{text}");
            assert!(
                !text
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .any(|w| w.len() > 3),
                "an English word in {text}"
            );
        }
    }
}
