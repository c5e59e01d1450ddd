//! The one settings schema of every front end, and its precedence.
//!
//! Settings come in *layers* of the same shape as `config.toml` ([`ConfigFile`]): the CLI's
//! flags (clap has already merged each flag with its `ZVM_*`/`ZOOM_*` environment variable,
//! flag first), the GUI's own edits, then the config file. The first layer that sets a key
//! wins; keys no layer sets take their defaults. [`Settings::resolve`] turns the layers into
//! plain, checked values; nothing past it sees raw input.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use zvm_engine::SyncOptions;
use zvm_zoom::{ClientConfig, Plan};

use crate::config::ConfigFile;
use crate::parse::{self, Transfers, ValueError};

/// Where a layer came from: named in errors about its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Flags and their environment variables.
    CommandLine,
    /// `config.toml`.
    ConfigFile,
    /// The GUI's own settings file (`gui.toml`), an overlay over `config.toml`.
    Gui,
}

/// One layer of settings.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    pub origin: Origin,
    pub values: &'a ConfigFile,
}

impl<'a> Layer<'a> {
    pub fn new(origin: Origin, values: &'a ConfigFile) -> Self {
        Layer { origin, values }
    }
}

/// A setting that could not be used. The messages are the ones `zvm` prints.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{}", transfers_key(*.origin))]
    Transfers {
        origin: Origin,
        #[source]
        source: ValueError,
    },
    #[error(transparent)]
    Value(#[from] ValueError),
    /// A naming template that does not parse (the namer's own words).
    #[error("{0}")]
    Template(String),
    #[error("--from {from} is after --to {to}: swap them")]
    DatesReversed {
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    },
    #[error("--plan: {0}")]
    Plan(String),
    #[error("--stall-timeout {0} is not a positive number of seconds")]
    StallTimeout(f64),
}

fn transfers_key(origin: Origin) -> &'static str {
    match origin {
        Origin::CommandLine => "--transfers",
        Origin::ConfigFile => "in config.toml, key 'transfers'",
        Origin::Gui => "in gui.toml, key 'transfers'",
    }
}

/// Downloads at once when no layer says: the engine finds the number.
pub const DEFAULT_TRANSFERS: Transfers = Transfers::Auto;

/// The recent span when no layer says: a month and a day or so, so the months that hold
/// the last few weeks are always asked of Zoom.
pub const DEFAULT_RECENT_DAYS: u32 = 30;

/// How long a month's stored listing is trusted when no layer says: a week.
pub const DEFAULT_FULL_LISTING_DAYS: u32 = 7;

/// Every key of the schema, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub destination: Option<PathBuf>,
    pub state: Option<PathBuf>,
    pub transfers: Transfers,
    /// Bytes per second.
    pub bwlimit: Option<u64>,
    pub verify_hash: bool,
    pub folder_template: String,
    pub file_template: String,
    /// Zoom's upper-case names; empty: every type.
    pub file_types: BTreeSet<String>,
    pub summaries: bool,
    pub participant_audio: bool,
    /// Listing months overlapping the last this many days are listed on every run.
    pub recent_days: u32,
    /// Days a month's stored listing is trusted before it is listed again.
    pub full_listing_days: u32,
    /// Connections one large file may use at once.
    pub segments: parse::SegmentsPerFile,
    /// Bytes: files are split into ranges no smaller than this.
    pub min_segment: u64,
    pub zoom: ZoomSettings,
}

/// How to reach Zoom and as whom, as given (checked when connecting, see
/// [`crate::connection`]). Empty values count as not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZoomSettings {
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub api_base: Option<String>,
    pub oauth_base: Option<String>,
    pub plan: Option<String>,
    pub redirect_port: Option<u16>,
    /// Flag only (hidden): seconds without a byte before a download counts as stalled.
    pub stall_timeout: Option<f64>,
    /// Flag only (hidden): downloads over HTTP/2.
    pub downloads_http2: bool,
}

fn first<T: Clone>(layers: &[Layer<'_>], get: impl Fn(&ConfigFile) -> &Option<T>) -> Option<T> {
    layers.iter().find_map(|l| get(l.values).clone())
}

/// A string key: the first layer that has it, blank meaning "not given" (so a blank flag
/// does not fall back to the file, as before).
fn first_text(
    layers: &[Layer<'_>],
    get: impl Fn(&ConfigFile) -> &Option<String>,
) -> Option<String> {
    first(layers, get).filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// Resolves `layers` (first wins). Values are checked in the order `zvm` always checked
    /// them, so the first error reported stays the same.
    pub fn resolve(layers: &[Layer<'_>]) -> Result<Settings, SettingsError> {
        let file_types =
            parse::parse_file_types(&first(layers, |c| &c.file_types).unwrap_or_default())?;
        let transfers = match layers
            .iter()
            .find_map(|l| l.values.transfers.as_ref().map(|t| (l.origin, t)))
        {
            Some((origin, t)) => t
                .parse()
                .map_err(|source| SettingsError::Transfers { origin, source })?,
            None => DEFAULT_TRANSFERS,
        };
        let bwlimit = first(layers, |c| &c.bwlimit)
            .map(|r| parse::parse_rate(&r))
            .transpose()?;
        let segments = match first(layers, |c| &c.segments) {
            Some(parse::TransfersSetting::Number(n)) => parse::parse_segments(&n.to_string())?,
            Some(parse::TransfersSetting::Word(w)) => parse::parse_segments(&w)?,
            None => parse::SegmentsPerFile::Auto,
        };
        let min_segment = first(layers, |c| &c.min_segment_size)
            .map(|s| parse::parse_segment_size(&s))
            .transpose()?
            .unwrap_or(zvm_engine::DEFAULT_MIN_SEGMENT);
        let folder_template = first(layers, |c| &c.folder_template)
            .unwrap_or_else(|| zvm_naming::Namer::DEFAULT_FOLDER.to_string());
        let file_template = first(layers, |c| &c.file_template)
            .unwrap_or_else(|| zvm_naming::Namer::DEFAULT_FILE.to_string());
        // Checked now, so a typo is a usage error before anything is contacted.
        zvm_naming::Namer::new(&folder_template, &file_template)
            .map_err(|e| SettingsError::Template(e.to_string()))?;
        Ok(Settings {
            destination: first(layers, |c| &c.destination),
            state: first(layers, |c| &c.state),
            transfers,
            bwlimit,
            verify_hash: first(layers, |c| &c.verify_hash).unwrap_or(false),
            folder_template,
            file_template,
            file_types,
            summaries: first(layers, |c| &c.summaries).unwrap_or(true),
            participant_audio: first(layers, |c| &c.participant_audio).unwrap_or(true),
            recent_days: first(layers, |c| &c.recent_days).unwrap_or(DEFAULT_RECENT_DAYS),
            full_listing_days: first(layers, |c| &c.full_listing_days)
                .unwrap_or(DEFAULT_FULL_LISTING_DAYS),
            segments,
            min_segment,
            zoom: ZoomSettings::resolve(layers),
        })
    }

    /// Sets what these settings decide on `opts` (the selection of meetings, dry run and
    /// pipelining are the front end's).
    pub fn apply(&self, opts: &mut SyncOptions) {
        (opts.transfers, opts.adaptive) = match self.transfers {
            Transfers::Auto => (parse::MAX_TRANSFERS, true),
            Transfers::Fixed(n) => (n, false),
        };
        opts.bwlimit = self.bwlimit;
        opts.verify_hash = self.verify_hash;
        opts.folder_template = self.folder_template.clone();
        opts.file_template = self.file_template.clone();
        opts.filters.file_types = self.file_types.clone();
        opts.summaries = self.summaries;
        opts.participant_audio = self.participant_audio;
        opts.listing.recent_days = self.recent_days;
        opts.listing.full_listing_days = self.full_listing_days;
        opts.segments = match self.segments {
            parse::SegmentsPerFile::Auto => zvm_engine::Segments::Auto,
            parse::SegmentsPerFile::AtMost(n) => zvm_engine::Segments::AtMost(n),
        };
        opts.min_segment = self.min_segment;
        // Hidden test hook: the acceptance tests inject faults on purpose and must not spend
        // the production backoff (0.5 s doubling to 30 s) waiting between transfer retries.
        if fast_retry() {
            opts.retry.base_delay = Duration::from_millis(10);
            opts.retry.max_delay = Duration::from_millis(200);
        }
    }
}

/// Attempts per API call, failures only (rate-limit waits have their own budget), for every
/// front end.
pub const API_ATTEMPTS: u32 = 12;

/// `ZVM_TEST_FAST_RETRY=1`: tests shorten the retry backoff (never set in production).
fn fast_retry() -> bool {
    std::env::var_os("ZVM_TEST_FAST_RETRY").is_some_and(|v| v == "1")
}

impl ZoomSettings {
    /// The `[zoom]` keys of `layers` (first wins), alone: signing in does not depend on
    /// the rest of the file being valid.
    pub fn resolve(layers: &[Layer<'_>]) -> ZoomSettings {
        ZoomSettings {
            account_id: first_text(layers, |c| &c.zoom.account_id),
            client_id: first_text(layers, |c| &c.zoom.client_id),
            client_secret: first_text(layers, |c| &c.zoom.client_secret),
            api_base: first_text(layers, |c| &c.zoom.api_base),
            oauth_base: first_text(layers, |c| &c.zoom.oauth_base),
            plan: first_text(layers, |c| &c.zoom.plan),
            redirect_port: first(layers, |c| &c.zoom.redirect_port),
            stall_timeout: None,
            downloads_http2: false,
        }
    }

    /// The Zoom client's settings: addresses, plan, timeouts.
    pub fn client_config(&self) -> Result<ClientConfig, SettingsError> {
        let mut client = ClientConfig::default();
        if let Some(a) = &self.api_base {
            client.api_base = a.clone();
        }
        if let Some(o) = &self.oauth_base {
            client.oauth_base = o.clone();
        }
        if let Some(p) = &self.plan {
            client.plan = p.parse::<Plan>().map_err(SettingsError::Plan)?;
        }
        // API calls (listing pages, meeting details, summaries) get twelve attempts, not the
        // client's default six: at a 5xx rate of 15 % (the fault-storm test) six left a call
        // failing once in 90,000 and a run of a thousand calls giving up once in 90; twelve
        // make it 1.3e-10 a call. A run that gives up on a listing page ends early, so the
        // budget matters more here than anywhere. The backoff cap bounds the wait (about 5
        // minutes for a route that is down on every request).
        client.retry.max_attempts = API_ATTEMPTS;
        // Hidden test hook: API retries start at 10 ms instead of 500 ms; the cap stays, so
        // a server's Retry-After is still honoured.
        if fast_retry() {
            client.retry.base_delay = Duration::from_millis(10);
        }
        client.http2 = self.downloads_http2;
        if let Some(secs) = self.stall_timeout {
            // Reject what Duration cannot hold (negative, NaN, absurdly large).
            client.stall_timeout = Duration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or(SettingsError::StallTimeout(secs))?;
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> ConfigFile {
        toml::from_str(text).expect("config")
    }

    #[test]
    fn the_first_layer_that_sets_a_key_wins_and_the_rest_fall_through() {
        let flags = cfg("transfers = 3\n[zoom]\nclient_id = \"flag-id\"\n");
        let file = cfg(
            "transfers = 9\nbwlimit = \"2M\"\nsummaries = false\nfile_types = [\"mp4\"]\n[zoom]\nclient_id = \"file-id\"\nplan = \"pro\"\n",
        );
        let s = Settings::resolve(&[
            Layer::new(Origin::CommandLine, &flags),
            Layer::new(Origin::ConfigFile, &file),
        ])
        .expect("resolves");
        assert_eq!(s.transfers, Transfers::Fixed(3));
        assert_eq!(s.bwlimit, Some(2 << 20));
        assert!(!s.summaries && s.participant_audio);
        assert_eq!(s.file_types.iter().collect::<Vec<_>>(), ["MP4"]);
        assert_eq!(s.zoom.client_id.as_deref(), Some("flag-id"));
        assert_eq!(s.zoom.plan.as_deref(), Some("pro"));
        let d = Settings::resolve(&[]).expect("defaults");
        assert_eq!(d.transfers, Transfers::Auto);
        assert_eq!(d.segments, parse::SegmentsPerFile::Auto);
        assert_eq!(d.min_segment, zvm_engine::DEFAULT_MIN_SEGMENT);
        let file = cfg("segments = 4\nmin_segment_size = \"32M\"\n");
        let flags = cfg("segments = \"auto\"\n");
        let s = Settings::resolve(&[
            Layer::new(Origin::CommandLine, &flags),
            Layer::new(Origin::ConfigFile, &file),
        ])
        .expect("resolves");
        assert_eq!(
            (s.segments, s.min_segment),
            (parse::SegmentsPerFile::Auto, 32 << 20)
        );
        assert!(d.summaries && d.participant_audio && !d.verify_hash);
        assert_eq!((d.recent_days, d.full_listing_days), (30, 7));
    }

    #[test]
    fn the_listing_keys_reach_the_engine_s_listing_policy() {
        let flags = cfg("recent_days = 60\n");
        let file = cfg("recent_days = 10\nfull_listing_days = 0\n");
        let s = Settings::resolve(&[
            Layer::new(Origin::CommandLine, &flags),
            Layer::new(Origin::ConfigFile, &file),
        ])
        .expect("resolves");
        let mut o = SyncOptions::new(jiff::civil::date(2025, 1, 1), jiff::civil::date(2025, 2, 1));
        s.apply(&mut o);
        assert_eq!(o.listing.recent_days, 60, "the flag wins over the file");
        assert_eq!(
            o.listing.full_listing_days, 0,
            "the file's, when no flag says"
        );
        assert!(!o.listing.full, "--full is the front end's, not a setting");
    }

    #[test]
    fn errors_name_the_layer_of_the_bad_value() {
        let bad = cfg("transfers = 99\n");
        for (origin, key) in [
            (Origin::CommandLine, "--transfers"),
            (Origin::ConfigFile, "in config.toml, key 'transfers'"),
        ] {
            let e = Settings::resolve(&[Layer::new(origin, &bad)]).unwrap_err();
            assert_eq!(e.to_string(), key);
            assert!(
                std::error::Error::source(&e)
                    .expect("cause")
                    .to_string()
                    .contains("from 1 to 64")
            );
        }
        let e = ZoomSettings {
            plan: Some("gold".into()),
            ..ZoomSettings::default()
        }
        .client_config()
        .unwrap_err();
        assert!(e.to_string().starts_with("--plan: unknown plan"), "{e}");
    }
}
