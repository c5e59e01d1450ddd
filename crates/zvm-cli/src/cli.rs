//! The command line: every flag and environment variable is defined here once; `--help`
//! is generated from these definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "zvm",
    version,
    about = "Zoom Video Mover: copy Zoom cloud recordings to storage you control, verified, and free the cloud",
    long_about = None,
    after_help = "Start with `zvm demo` to see the whole job against a built-in fake Zoom.\nExit codes: 0 ok, 1 some files failed, 2 bad usage or config, 3 Zoom refused (auth, scopes), 4 destination unusable, 5 state busy or unreadable, 130 interrupted (Ctrl-C, or the reader of stdout went away)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (TOML). Default: config.toml in the OS config dir (e.g. ~/.config/zvm/).
    #[arg(long, env = "ZVM_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// State database: a SQLite file, or for `zvm sync` a PostgreSQL database
    /// (postgres://user:password@host:port/db, zvm built with the `postgres` feature).
    /// Default: state.sqlite3 in the OS data dir.
    #[arg(long, env = "ZVM_STATE", global = true, value_name = "FILE|URL")]
    pub state: Option<PathBuf>,

    /// One JSON event per line on stdout instead of progress bars (for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// Only the summary and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// More log detail on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Colour in help, logs and progress: auto (on a terminal, unless NO_COLOR is set,
    /// CLICOLOR=0 or TERM=dumb; CLICOLOR_FORCE=1 forces it), always, or never.
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        global = true,
        value_name = "WHEN"
    )]
    pub color: ColorWhen,

    /// The log's format on stderr: text, or json (one object per line, for log collectors).
    #[arg(
        long,
        env = "ZVM_LOG_FORMAT",
        global = true,
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to Zoom (user OAuth with PKCE), see the stored sign-in, or sign out.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// List recordings in the cloud (a table, or --json).
    List(ListArgs),
    /// Copy every selected recording into DEST; a re-run fetches only what is new.
    Sync(SyncArgs),
    /// Sync, then remove from the Zoom cloud only what is proven copied (trash by default).
    Move(MoveArgs),
    /// Recover from the Zoom cloud trash what `zvm move` trashed (Zoom keeps trash 30 days).
    Restore(RestoreArgs),
    /// Run the whole job against a built-in fake Zoom account, into ./zvm-demo (no Zoom account needed).
    Demo(DemoArgs),
    /// Search the transcripts, captions, chats and AI summaries copied so far (English,
    /// Japanese, any language): each matching line with its meeting, time and file.
    Search(SearchArgs),
    /// Check the copies against the state: every file there, its size right, and with
    /// --hash its SHA-256; --repair fetches damaged or missing files again from Zoom.
    Verify(VerifyArgs),
    /// What is in the Zoom cloud and what is copied, by host and year (from the state: no
    /// request to Zoom).
    Status(StatusArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    #[command(
        after_help = "Install, e.g.:\n  bash: zvm completions bash > ~/.local/share/bash-completion/completions/zvm\n  zsh:  zvm completions zsh > ~/.zfunc/_zvm   (with fpath+=~/.zfunc before compinit)\n  fish: zvm completions fish > ~/.config/fish/completions/zvm.fish\n  PowerShell: zvm completions powershell | Out-String | Invoke-Expression   (in $PROFILE)"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (zvm.1), or write one page per command into a folder.
    Man(ManArgs),
    /// Run unattended: copy each recording when Zoom's webhook says it is ready, sync and
    /// move on a schedule, serve /metrics, /status, /healthz and /readyz. Stops cleanly on
    /// SIGTERM or Ctrl-C.
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The words to find, all of them in one line (any order, any case); "quoted words" as
    /// a phrase. Words of one or two characters (Japanese: 予算) work too, more slowly.
    #[arg(required = true, value_name = "WORDS")]
    pub words: Vec<String>,
    /// The destination (a folder, or a URL such as s3://bucket/prefix), to index what was
    /// copied since the last run. Default: `destination` from the config file.
    #[arg(long, env = "ZVM_DEST", value_name = "DEST")]
    pub dest: Option<PathBuf>,
    /// At most this many lines, the most recently copied first.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Rebuild the index from the copied files (it lives beside the state database).
    #[arg(long)]
    pub rebuild: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Destination folder (or URL). Default: `destination` from the config file.
    #[arg(env = "ZVM_DEST", value_name = "DEST")]
    pub dest: Option<PathBuf>,
    /// Also compare each file's SHA-256 with the one recorded at download (files copied
    /// with --verify-hash; others are checked by size).
    #[arg(long)]
    pub hash: bool,
    /// Fetch missing and damaged files again while Zoom still has them (a damaged copy is
    /// kept as NAME.damaged until the new one is verified).
    #[arg(long)]
    pub repair: bool,
    #[command(flatten)]
    pub zoom: ZoomArgs,
    #[command(flatten)]
    pub transfer: TransferArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Also measure what the copies take in this destination (a folder, or a URL such as
    /// s3://bucket/prefix): the size of every file zvm copied there, asked of it now.
    #[arg(long, value_name = "DEST")]
    pub dest: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write zvm.1 and a page per command (zvm-sync.1, ...) into this folder instead of
    /// printing zvm.1, e.g. `zvm man --dir ~/.local/share/man/man1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(feature = "serve")]
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Destination folder. Default: `destination` from the config file.
    #[arg(env = "ZVM_DEST", value_name = "DEST")]
    pub dest: Option<PathBuf>,
    #[command(flatten)]
    pub zoom: ZoomArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// Address and port to listen on (default 127.0.0.1:8080; `listen` in [serve]).
    #[arg(long, env = "ZVM_SERVE_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Path of the webhook endpoint (default /zoom/webhook; `path` in [serve]).
    #[arg(long, env = "ZVM_WEBHOOK_PATH", value_name = "PATH")]
    pub path: Option<String>,
    /// The Zoom app's webhook secret token. Prefer the environment variable to a flag
    /// (flags show up in `ps`).
    #[arg(
        long,
        env = "ZVM_WEBHOOK_SECRET_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub webhook_secret_token: Option<String>,
    /// Sync at this interval, e.g. 15m (`sync_every` in [serve]).
    #[arg(long, env = "ZVM_SYNC_EVERY", value_name = "INTERVAL")]
    pub sync_every: Option<String>,
    /// Move at the times of this cron expression, e.g. "0 3 * * *" (`move_cron`), read in
    /// --time-zone.
    #[arg(long, env = "ZVM_MOVE_CRON", value_name = "CRON")]
    pub move_cron: Option<String>,
    /// The time zone of the cron expressions, an IANA name such as Europe/Berlin (default:
    /// the system's; `time_zone` in [serve]).
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// What a scheduled move keeps in the cloud: recordings younger than this, e.g. 30d.
    #[arg(long, env = "ZVM_MOVE_OLDER_THAN", value_name = "AGE")]
    pub move_older_than: Option<String>,
    /// On a PostgreSQL state (`--state postgres://...`) every `zvm serve` is a worker of a
    /// fleet sharing it: this worker's name there (default: host, pid and start time).
    #[arg(long, env = "ZVM_WORKER_ID", value_name = "NAME")]
    pub worker_id: Option<String>,
    /// A fleet worker's leases last this long unless renewed (default 30s; renewed six
    /// times as often): a dead worker's meetings are taken over after it.
    #[arg(long, env = "ZVM_LEASE_TTL", value_name = "INTERVAL")]
    pub lease_ttl: Option<String>,
}

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// Destination folder, or a URL such as s3://bucket/prefix?endpoint=URL&region=R (builds
    /// with the `s3` feature; keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY). Default:
    /// `destination` from the config file.
    #[arg(env = "ZVM_DEST", value_name = "DEST")]
    pub dest: Option<PathBuf>,
    #[command(flatten)]
    pub zoom: ZoomArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub transfer: TransferArgs,
    /// What to do in the cloud: trash (recoverable for 30 days) or delete (for ever).
    #[arg(long, value_enum, default_value = "trash")]
    pub action: MoveAction,
    /// Keep recordings younger than this in the cloud, e.g. 30d, 12w, 6m.
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Don't ask for confirmation (required when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Append-only JSONL record of every deletion. Default: audit.jsonl beside the state file.
    #[arg(long, env = "ZVM_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MoveAction {
    Trash,
    Delete,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub zoom: ZoomArgs,
    /// The audit log to append recoveries to. Default: audit.jsonl beside the state file.
    #[arg(long, env = "ZVM_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign in through the browser (OAuth with PKCE); tokens go to the OS keyring or a 0600 file.
    Login(LoginArgs),
    /// Show how zvm will authenticate and the state of the stored token.
    Status(ZoomArgs),
    /// Revoke the stored token at Zoom, then forget it.
    Logout(ZoomArgs),
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub zoom: ZoomArgs,
    /// Print the sign-in URL but don't open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Port for the loopback redirect listener (0 = any free port). Must match your Zoom
    /// app's redirect URL if that names a port.
    #[arg(long, env = "ZVM_REDIRECT_PORT", value_name = "PORT")]
    pub redirect_port: Option<u16>,
}

/// How to reach Zoom and as whom.
#[derive(Debug, Args, Clone, Default)]
pub struct ZoomArgs {
    /// Server-to-Server OAuth account id (admins).
    #[arg(long, env = "ZOOM_ACCOUNT_ID", value_name = "ID")]
    pub account_id: Option<String>,
    /// OAuth app client id (Server-to-Server, or your user OAuth app).
    #[arg(long, env = "ZOOM_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// OAuth app client secret. Prefer the environment variable to a flag (flags show up in `ps`).
    #[arg(
        long,
        env = "ZOOM_CLIENT_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// Zoom API base URL.
    #[arg(long, env = "ZVM_API_BASE", value_name = "URL")]
    pub api_base: Option<String>,
    /// Zoom OAuth base URL.
    #[arg(long, env = "ZVM_OAUTH_BASE", value_name = "URL")]
    pub oauth_base: Option<String>,
    /// The account's plan, which sets Zoom's rate limits: free, pro, business.
    #[arg(long, env = "ZVM_PLAN", value_name = "PLAN")]
    pub plan: Option<String>,
    /// Seconds without a byte before a download counts as stalled and is retried (default
    /// 60). Hidden: tests shorten it to exercise stalls quickly.
    #[arg(long, env = "ZVM_STALL_TIMEOUT", value_name = "SECS", hide = true)]
    pub stall_timeout: Option<f64>,
    /// Download over HTTP/2 (all transfers multiplexed on one connection per host) instead
    /// of one HTTP/1.1 connection per transfer. Hidden: for measurements only (see
    /// BENCHMARKS.md, which measured HTTP/1.1 faster under per-connection caps).
    #[arg(long, hide = true)]
    pub downloads_http2: bool,
}

/// Which recordings.
#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// First day (UTC) to include: YYYY-MM-DD, or an age like 30d, 6m, 2y. Default: 6y.
    #[arg(long, env = "ZVM_FROM", value_name = "DATE")]
    pub from: Option<String>,
    /// Last day (UTC) to include: YYYY-MM-DD or 'today'. Default: today.
    #[arg(long, env = "ZVM_TO", value_name = "DATE")]
    pub to: Option<String>,
    /// A user's id or email (default: the signed-in user, `me`; admins: see --all-users).
    #[arg(long, value_name = "USER", conflicts_with = "all_users")]
    pub user: Option<String>,
    /// Every active and inactive user of the account (admin).
    #[arg(long)]
    pub all_users: bool,
    /// Only these file types, comma-separated: mp4, m4a, chat, transcript, cc, csv, tb,
    /// chat_message, summary, timeline.
    #[arg(
        long,
        env = "ZVM_FILE_TYPES",
        value_name = "TYPES",
        value_delimiter = ','
    )]
    pub file_types: Vec<String>,
    /// Only meetings whose topic matches this glob (`*`, `?`; case-insensitive).
    #[arg(long, value_name = "GLOB")]
    pub topic: Option<String>,
    /// Only meetings hosted by this user (email or id), for --all-users.
    #[arg(long, value_name = "USER")]
    pub host: Option<String>,
    /// Only meetings at least this many minutes long.
    #[arg(long, value_name = "MINUTES")]
    pub min_duration: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub zoom: ZoomArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Show the listing stored by earlier syncs (in the state file) without asking Zoom:
    /// no request at all, not even for a token. It is as old as each month's last listing.
    #[arg(long)]
    pub cached: bool,
}

/// What a sync asks Zoom for, and what it takes from the listing stored by earlier runs.
#[derive(Debug, Args, Clone, Default)]
pub struct ListingArgs {
    /// List every month from Zoom in this run, ignoring the stored listing (finds a
    /// recording that appeared late in an old month, and meetings deleted in Zoom, now).
    #[arg(long)]
    pub full: bool,
    /// Months that overlap the last DAYS days are listed from Zoom on every run (default
    /// 30; config key `recent_days`). Older months come from the stored listing until it is
    /// `full_listing_days` old (default 7).
    #[arg(long, env = "ZVM_RECENT_DAYS", value_name = "DAYS")]
    pub recent_days: Option<u32>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Destination folder, or a URL such as s3://bucket/prefix?endpoint=URL&region=R (builds
    /// with the `s3` feature; keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY). Default:
    /// `destination` from the config file.
    #[arg(env = "ZVM_DEST", value_name = "DEST")]
    pub dest: Option<PathBuf>,
    #[command(flatten)]
    pub zoom: ZoomArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub transfer: TransferArgs,
    #[command(flatten)]
    pub listing: ListingArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct TransferArgs {
    /// Downloads at once: `auto` (the default: zvm raises the number while
    /// throughput rises and backs off on 429s, errors or falling throughput) or 1 to 64.
    #[arg(long, short = 'j', env = "ZVM_TRANSFERS", value_name = "N|auto")]
    pub transfers: Option<String>,
    /// Do not open the next file's download while the previous one finishes (for
    /// measurements; pipelining is on by default).
    #[arg(long, hide = true)]
    pub no_pipelining: bool,
    /// Total download rate limit, e.g. 10M (bytes per second; K, M, G suffixes).
    #[arg(long, env = "ZVM_BWLIMIT", value_name = "RATE")]
    pub bwlimit: Option<String>,
    /// Connections one large file may use at once, out of the transfers that have no other
    /// file to fetch: `auto` (the default: as many as are free) or 1 to 64 (1: every file
    /// in one piece).
    #[arg(long, env = "ZVM_SEGMENTS", value_name = "N|auto")]
    pub segments: Option<String>,
    /// Files are split into ranges no smaller than this (default 16M), so only files of at
    /// least twice this size use several connections.
    #[arg(long, env = "ZVM_MIN_SEGMENT_SIZE", value_name = "SIZE")]
    pub min_segment_size: Option<String>,
    /// Read every file back after download and store its SHA-256.
    #[arg(long)]
    pub verify_hash: bool,
    /// Print the plan (what would be downloaded) and change nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Folder of each meeting, relative to DEST. Variables: {host} {host_email} {topic}
    /// {YYYY} {MM} {DD} {HH} {mm} {date} {time} {meeting_id} {uuid_short}.
    #[arg(long, env = "ZVM_FOLDER_TEMPLATE", value_name = "TEMPLATE")]
    pub folder_template: Option<String>,
    /// File name inside the meeting folder. Variables: {recording_type} {file_type} {ext}
    /// {file_id} {start_time} plus the folder's.
    #[arg(long, env = "ZVM_FILE_TEMPLATE", value_name = "TEMPLATE")]
    pub file_template: Option<String>,
    /// Don't fetch AI Companion summaries.
    #[arg(long)]
    pub no_summaries: bool,
    /// Don't fetch per-participant audio files.
    #[arg(long)]
    pub no_participant_audio: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo copies the fake account.
    #[arg(long, default_value = "zvm-demo", value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub transfer: TransferArgs,
}
