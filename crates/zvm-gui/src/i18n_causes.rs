//! The GUI's words for [`Cause`], the failure causes of `zvm-app`, in English and Japanese:
//! one entry per cause, checked exhaustively by the compiler, so a new cause cannot reach the
//! window untranslated.

use zvm_app::Cause;

use crate::i18n::Lang;

impl Lang {
    /// What `cause` means for the user, and what to do about it.
    pub fn cause(self, cause: Cause) -> &'static str {
        let (en, ja) = words(cause);
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }
}

/// Every cause, for the table's own tests.
pub const ALL_CAUSES: [Cause; 30] = {
    use Cause::*;
    [
        BadConfig,
        BadSettings,
        NoDestination,
        NoCredentials,
        IncompleteServerToServer,
        NoClientId,
        NoConfigDir,
        ClientConfig,
        NeedsConfirmation,
        NotSignedIn,
        NotConnected,
        SignInRefused,
        MissingScope,
        RateLimited,
        MeetingInProgress,
        NotFound,
        Network,
        ZoomProtocol,
        ZoomOther,
        TokenStore,
        DiskFull,
        NotWritable,
        CopyMismatch,
        DestinationOther,
        StateBusy,
        NoStatePath,
        StateUnusable,
        NothingPlanned,
        Interrupted,
        Internal,
    ]
};

fn words(cause: Cause) -> (&'static str, &'static str) {
    use Cause::*;
    match cause {
        BadConfig => (
            "The settings file cannot be used: correct it (the details say where).",
            "設定ファイルを使用できません。修正してください（詳細に場所が示されています）。",
        ),
        BadSettings => (
            "A setting is not valid: correct it in Settings.",
            "設定に誤りがあります。設定画面で修正してください。",
        ),
        NoDestination => (
            "Choose a folder to save recordings to (Settings).",
            "レコーディングの保存先フォルダを選んでください（設定）。",
        ),
        NoCredentials => (
            "No Zoom app is set: enter its Client ID (and, for a Server-to-Server app, its Account ID and secret) in Settings.",
            "Zoom アプリが設定されていません。設定画面でクライアント ID（Server-to-Server アプリの場合はアカウント ID とシークレットも）を入力してください。",
        ),
        IncompleteServerToServer => (
            "A Server-to-Server app needs its Account ID, Client ID and Client secret (Settings).",
            "Server-to-Server アプリにはアカウント ID、クライアント ID、クライアントシークレットが必要です（設定）。",
        ),
        NoClientId => (
            "Signing in needs your Zoom app's Client ID (Settings).",
            "サインインには Zoom アプリのクライアント ID が必要です（設定）。",
        ),
        NoConfigDir => (
            "The folder for zvm's settings cannot be found on this computer.",
            "このコンピューターで zvm の設定フォルダが見つかりません。",
        ),
        ClientConfig => (
            "An address in Settings is refused (use https for remote servers).",
            "設定のアドレスが受け付けられません（リモートのサーバーには https を使ってください）。",
        ),
        NeedsConfirmation => (
            "Removing from the cloud needs your confirmation.",
            "クラウドからの削除には確認が必要です。",
        ),
        NotSignedIn => (
            "Not signed in yet: press \"Sign in with the browser\" first.",
            "まだサインインしていません。先に「ブラウザでサインイン」を押してください。",
        ),
        NotConnected => (
            "Sign in first (Sign in screen).",
            "先にサインインしてください（サインイン画面）。",
        ),
        SignInRefused => (
            "Zoom did not accept the sign-in: sign in again or check the app's credentials.",
            "Zoom がサインインを受け付けませんでした。もう一度サインインするか、アプリの資格情報を確認してください。",
        ),
        MissingScope => (
            "The Zoom app lacks a permission (scope) for this: add it in the Zoom App Marketplace.",
            "Zoom アプリにこの操作の権限（スコープ）がありません。Zoom App Marketplace で追加してください。",
        ),
        RateLimited => (
            "Zoom asked us to slow down; this continues on its own or on the next run.",
            "Zoom から速度を落とすよう求められました。自動で、または次回の実行で続行します。",
        ),
        MeetingInProgress => (
            "The meeting is still in progress; it can be removed once it has ended.",
            "ミーティングがまだ進行中です。終了後に削除できます。",
        ),
        NotFound => (
            "Zoom does not know this user, meeting or recording (any more).",
            "このユーザー、ミーティング、またはレコーディングは Zoom にありません。",
        ),
        Network => (
            "The network connection failed; resume to try again from where it stopped.",
            "ネットワーク接続に失敗しました。再開すると止まった所から再試行します。",
        ),
        ZoomProtocol => (
            "Zoom sent an answer that does not fit what it listed; nothing was lost, try again later.",
            "Zoom から一覧と合わない応答が届きました。失われたものはありません。後でもう一度お試しください。",
        ),
        ZoomOther => ("Zoom refused the request.", "Zoom が要求を拒否しました。"),
        TokenStore => (
            "The stored sign-in cannot be read or written: sign in again.",
            "保存されたサインイン情報を読み書きできません。もう一度サインインしてください。",
        ),
        DiskFull => (
            "The disk is full: free some space or choose another folder, then resume.",
            "ディスクがいっぱいです。空きを作るか別のフォルダを選んでから再開してください。",
        ),
        NotWritable => (
            "The folder cannot be written to: check the folder in Settings.",
            "フォルダに書き込めません。設定の保存先を確認してください。",
        ),
        CopyMismatch => (
            "The copy did not match what Zoom has; it will be downloaded again.",
            "コピーが Zoom 上のファイルと一致しませんでした。もう一度ダウンロードします。",
        ),
        DestinationOther => (
            "The destination folder failed: check the folder in Settings.",
            "保存先フォルダでエラーが発生しました。設定の保存先を確認してください。",
        ),
        StateBusy => (
            "Another zvm (the command line, or a second window) is using the same state file: wait until it has finished, then try again.",
            "別の zvm（コマンドラインまたは別のウィンドウ）が同じ状態ファイルを使用中です。終了してからもう一度お試しください。",
        ),
        NoStatePath => (
            "There is no place for the state database: set one in Settings.",
            "状態データベースの場所がありません。設定画面で指定してください。",
        ),
        StateUnusable => (
            "The state database cannot be used: check the state file in Settings.",
            "状態データベースを使用できません。設定の状態ファイルを確認してください。",
        ),
        NothingPlanned => (
            "Nothing to remove yet: check what can be removed first.",
            "まだ削除するものがありません。先に削除できるものを確認してください。",
        ),
        Interrupted => ("Stopped.", "中止しました。"),
        Internal => (
            "zvm could not start a part of itself; restart the app.",
            "zvm の一部を開始できませんでした。アプリを再起動してください。",
        ),
    }
}
