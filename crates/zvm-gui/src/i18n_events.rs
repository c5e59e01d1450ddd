//! The GUI's words for what the engine's events say, in English and Japanese: why a meeting
//! stays in the cloud ([`KeepReason`]), what a warning is about ([`Notice`]), what kind of
//! thing failed ([`FailureClass`]), why a file was skipped ([`SkipReason`]), and the state of
//! a copy ([`FileStatus`]).
//!
//! The engine's `Display` of these is the CLI's English; the window never shows it. Each
//! variant has its entry here, checked exhaustively by the compiler, so a new reason cannot
//! reach the window untranslated. The data a variant carries (a path, a size, a topic) is put
//! into the sentence; the underlying error's own words are not the GUI's and are shown beside
//! the sentence as its detail ([`notice_detail`]).

use zvm_engine::events::{FailureClass, KeepReason, Notice, SkipReason};
use zvm_state::FileStatus;

use crate::i18n::Lang;

impl Lang {
    /// Why a meeting stays in the cloud, in this language.
    pub fn keep_reason(self, reason: &KeepReason) -> String {
        use KeepReason::*;
        match (self, reason) {
            (Lang::En, YoungerThanCutoff) => "recorded after the age limit for removal".into(),
            (Lang::Ja, YoungerThanCutoff) => "削除の対象にする期間より後に録画されました".into(),
            (Lang::En, Processing) => {
                "Zoom is still processing a file of it; it can be removed once that file is copied"
                    .into()
            }
            (Lang::Ja, Processing) => {
                "Zoom がまだファイルを処理中です。そのファイルをコピーした後で削除できます".into()
            }
            (Lang::En, NoLocalCopy { file_id }) => format!("file {file_id} is not copied yet"),
            (Lang::Ja, NoLocalCopy { file_id }) => {
                format!("ファイル {file_id} はまだコピーされていません")
            }
            (Lang::En, NotVerified { path, status }) => {
                format!("{path} is not checked yet ({})", self.file_status(*status))
            }
            (Lang::Ja, NotVerified { path, status }) => format!(
                "{path} はまだ確認されていません（{}）",
                self.file_status(*status)
            ),
            (
                Lang::En,
                SizeChanged {
                    path,
                    listed,
                    recorded,
                },
            ) => format!("{path}: Zoom now lists {listed} bytes, but {recorded} bytes were copied"),
            (
                Lang::Ja,
                SizeChanged {
                    path,
                    listed,
                    recorded,
                },
            ) => format!(
                "{path}：Zoom 上のサイズ（{listed} バイト）がコピーしたサイズ（{recorded} バイト）と異なります"
            ),
            (
                Lang::En,
                WrongSize {
                    path,
                    found,
                    expected,
                },
            ) => format!("{path} is {found} bytes in your folder instead of {expected}"),
            (
                Lang::Ja,
                WrongSize {
                    path,
                    found,
                    expected,
                },
            ) => format!("{path} は保存先で {found} バイトです（{expected} バイトのはずです）"),
            (Lang::En, Missing { path }) => format!("{path} is missing from your folder"),
            (Lang::Ja, Missing { path }) => format!("{path} が保存先にありません"),
            (Lang::En, NoHash { path }) => {
                format!("{path} has not been read back and checked (SHA-256) yet")
            }
            (Lang::Ja, NoHash { path }) => {
                format!("{path} はまだ読み直して確認（SHA-256）されていません")
            }
            (Lang::En, NothingSelected) => "none of its files is of a chosen type".into(),
            (Lang::Ja, NothingSelected) => "選択した種類のファイルがありません".into(),
            (Lang::En, DetailsNotFetched) => {
                "its details (the participants' audio) are not fetched yet".into()
            }
            (Lang::Ja, DetailsNotFetched) => {
                "ミーティングの詳細（参加者ごとの音声）をまだ取得していません".into()
            }
            (Lang::En, ZoomRefused { error }) => format!("Zoom refused to remove it ({error})"),
            (Lang::Ja, ZoomRefused { error }) => {
                format!("Zoom が削除を受け付けませんでした（{error}）")
            }
            (Lang::En, InProgress) => "the meeting is in progress".into(),
            (Lang::Ja, InProgress) => "ミーティングが進行中です".into(),
        }
    }

    /// What a warning is about, in this language (its error detail apart: [`notice_detail`]).
    pub fn notice(self, notice: &Notice) -> String {
        use Notice::*;
        match (self, notice) {
            (Lang::En, StoppedEarly { .. }) => {
                "The run stopped early: the destination folder cannot take more files; resume once it can"
                    .into()
            }
            (Lang::Ja, StoppedEarly { .. }) => {
                "保存先フォルダにこれ以上保存できないため、途中で止めました。保存できるようになってから再開してください"
                    .into()
            }
            (Lang::En, DetailsFailed { .. }) => {
                "A meeting's details could not be fetched; the next run asks again".into()
            }
            (Lang::Ja, DetailsFailed { .. }) => {
                "ミーティングの詳細を取得できませんでした。次回の実行で再取得します".into()
            }
            (Lang::En, SummariesNotOnPlan) => {
                "AI Companion summaries are not part of this Zoom account's plan: none were saved (this is not an error)"
                    .into()
            }
            (Lang::Ja, SummariesNotOnPlan) => {
                "この Zoom アカウントのプランでは AI Companion の要約を利用できません。要約は保存していません（エラーではありません）"
                    .into()
            }
            (Lang::En, VerifiedCopyMissing { path }) => {
                format!("{path} was copied earlier but is missing now; it is downloaded again")
            }
            (Lang::Ja, VerifiedCopyMissing { path }) => format!(
                "{path} は以前にコピー済みですが、現在見つかりません。もう一度ダウンロードします"
            ),
            (
                Lang::En,
                VerifiedCopyWrongSize {
                    path,
                    found,
                    expected,
                },
            ) => format!(
                "{path} was copied earlier but is {found} bytes now instead of {expected}; it is downloaded again"
            ),
            (
                Lang::Ja,
                VerifiedCopyWrongSize {
                    path,
                    found,
                    expected,
                },
            ) => format!(
                "{path} は以前にコピー済みですが、現在 {found} バイトです（{expected} バイトのはずです）。もう一度ダウンロードします"
            ),
            (Lang::En, RecordNotWritten { path, .. }) => format!(
                "{path} could not be written; the meeting is finished on the next run"
            ),
            (Lang::Ja, RecordNotWritten { path, .. }) => format!(
                "{path} を書き込めませんでした。次回の実行でミーティングを完了します"
            ),
            (Lang::En, RecoverFailed { topic, .. }) => {
                format!("\"{topic}\" could not be recovered from the trash")
            }
            (Lang::Ja, RecoverFailed { topic, .. }) => {
                format!("「{topic}」をゴミ箱から復元できませんでした")
            }
            (Lang::En, StoredListingUnreadable { from, to, .. }) => format!(
                "The saved listing of {from} to {to} could not be read; that month is listed from Zoom again"
            ),
            (Lang::Ja, StoredListingUnreadable { from, to, .. }) => format!(
                "{from} から {to} までの保存済みの一覧を読めなかったため、その月を Zoom からもう一度取得します"
            ),
            (Lang::En, RefreshFailed { topic, .. }) => format!(
                "\"{topic}\" could not be checked with Zoom again; its saved listing is used this time"
            ),
            (Lang::Ja, RefreshFailed { topic, .. }) => format!(
                "「{topic}」を Zoom にもう一度確認できなかったため、今回は保存済みの一覧を使います"
            ),
            (Lang::En, AccountListingRefused { scope, .. }) => format!(
                "Zoom did not allow listing the whole account's recordings at once, so each user is listed one by one (slower). Add the scope {scope} to the Zoom app to make this faster"
            ),
            (Lang::Ja, AccountListingRefused { scope, .. }) => format!(
                "アカウント全体の録画を一度に取得することが Zoom に許可されなかったため、ユーザーごとに取得します（時間がかかります）。Zoom アプリにスコープ {scope} を追加すると速くなります"
            ),
            (Lang::En, SummaryListingRefused { scope, .. }) => format!(
                "Zoom did not allow listing the account's AI Companion summaries, so each meeting is asked for its summary (slower). Add the scope {scope} to the Zoom app to make this faster"
            ),
            (Lang::Ja, SummaryListingRefused { scope, .. }) => format!(
                "アカウントの AI Companion の要約一覧の取得が Zoom に許可されなかったため、ミーティングごとに要約を確認します（時間がかかります）。Zoom アプリにスコープ {scope} を追加すると速くなります"
            ),
            (Lang::En, HostEmailUnknown { host_id, .. }) => format!(
                "Zoom did not give the email of host {host_id}, so its meetings copied one by one are filed under the host's ID. Add the scope user:read:user:admin to the Zoom app to file them under the email"
            ),
            (Lang::Ja, HostEmailUnknown { host_id, .. }) => format!(
                "ホスト {host_id} のメールアドレスを Zoom から取得できなかったため、個別にコピーしたミーティングはホストの ID のフォルダーに保存されます。Zoom アプリにスコープ user:read:user:admin を追加するとメールアドレスのフォルダーに保存されます"
            ),
        }
    }

    /// What it means that a file failed, by what failed, and what happens next.
    pub fn failure_class(self, class: FailureClass) -> &'static str {
        use FailureClass::*;
        match (self, class) {
            (Lang::En, Download) => {
                "Zoom or the network did not deliver it, even after retrying; the next run tries again."
            }
            (Lang::Ja, Download) => {
                "再試行しても Zoom またはネットワークから受け取れませんでした。次回の実行で再試行します。"
            }
            (Lang::En, Destination) => {
                "It could not be saved in the destination folder: check the folder in Settings."
            }
            (Lang::Ja, Destination) => {
                "保存先フォルダに保存できませんでした。設定の保存先を確認してください。"
            }
            (Lang::En, State) => {
                "The state database could not record it; the next run checks it again."
            }
            (Lang::Ja, State) => {
                "状態データベースに記録できませんでした。次回の実行で確認し直します。"
            }
            (Lang::En, Details) => {
                "A part of the meeting's details (the AI Companion summary or the participants' audio list) could not be fetched; the next run asks again."
            }
            (Lang::Ja, Details) => {
                "ミーティングの詳細の一部（AI Companion の要約または参加者ごとの音声の一覧）を取得できませんでした。次回の実行で再取得します。"
            }
        }
    }

    /// Why a file was not downloaded in this run.
    pub fn skip_reason(self, reason: &SkipReason) -> &'static str {
        use SkipReason::*;
        match (self, reason) {
            (Lang::En, AlreadyVerified) => "It is already copied and checked.",
            (Lang::Ja, AlreadyVerified) => "コピーと確認が済んでいます。",
            (Lang::En, Processing) => {
                "Zoom is still processing it; a later run downloads it once it is ready."
            }
            (Lang::Ja, Processing) => {
                "Zoom がまだ処理中です。準備ができた後の実行でダウンロードします。"
            }
            (Lang::En, Filtered) => "It is not of a chosen file type.",
            (Lang::Ja, Filtered) => "選択したファイルの種類ではありません。",
        }
    }

    /// Where a copy stands, as the state database records it.
    pub fn file_status(self, status: FileStatus) -> &'static str {
        use FileStatus::*;
        match (self, status) {
            (Lang::En, Pending) => "waiting",
            (Lang::Ja, Pending) => "待機中",
            (Lang::En, Partial) => "partly downloaded",
            (Lang::Ja, Partial) => "一部のみダウンロード済み",
            (Lang::En, Verified) => "checked",
            (Lang::Ja, Verified) => "確認済み",
            (Lang::En, Failed) => "the download failed",
            (Lang::Ja, Failed) => "ダウンロードに失敗",
            (Lang::En, Skipped) => "skipped",
            (Lang::Ja, Skipped) => "スキップ",
        }
    }
}

/// The underlying error's own words a warning carries (shown beside the sentence), if any.
pub fn notice_detail(notice: &Notice) -> &str {
    match notice {
        Notice::StoppedEarly { error }
        | Notice::DetailsFailed { error }
        | Notice::RecordNotWritten { error, .. }
        | Notice::RecoverFailed { error, .. }
        | Notice::RefreshFailed { error, .. }
        | Notice::HostEmailUnknown { error, .. } => error,
        Notice::AccountListingRefused { refusal, .. }
        | Notice::SummaryListingRefused { refusal, .. } => refusal,
        Notice::SummariesNotOnPlan
        | Notice::StoredListingUnreadable { .. }
        | Notice::VerifiedCopyMissing { .. }
        | Notice::VerifiedCopyWrongSize { .. } => "",
    }
}
