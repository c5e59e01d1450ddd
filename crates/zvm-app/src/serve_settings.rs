//! `zvm serve`'s own settings (`[serve]` in config.toml, with its flags and environment as a
//! layer over it) resolved into checked values: where to listen, the webhook's path and
//! secret token, the schedules as given (the daemon parses their intervals and cron
//! expressions, naming the key in its errors) and the time zone their cron expressions are
//! read in.

use std::net::SocketAddr;
use std::time::Duration;

use jiff::tz::TimeZone;

use crate::config::ServeConfig;

/// Where the daemon listens when nothing says: loopback only, for a TLS proxy in front.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The webhook's path when nothing says.
pub const DEFAULT_PATH: &str = "/zoom/webhook";

/// A schedule as written: an interval or a cron expression, with the key that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleSpec {
    Every { key: &'static str, value: String },
    Cron { key: &'static str, value: String },
}

/// What a scheduled move does in the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MoveAction {
    #[default]
    Trash,
    Delete,
}

/// The daemon's settings, checked.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub path: String,
    /// `None`: not given anywhere (the daemon refuses to start without it).
    pub secret: Option<String>,
    pub sync: Option<ScheduleSpec>,
    pub moves: Option<ScheduleSpec>,
    pub move_older_than: Option<Duration>,
    pub move_action: MoveAction,
    /// The wall clock of the cron expressions: `time_zone`, else the system's (UTC when the
    /// system's cannot be found out).
    pub time_zone: TimeZone,
}

/// A `[serve]` value that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ServeSettingsError {
    #[error("[serve] listen = {0:?} is not an address and port: use e.g. \"127.0.0.1:8080\"")]
    Listen(String),
    #[error("[serve] path = {0:?} must start with '/', e.g. \"/zoom/webhook\"")]
    Path(String),
    #[error("[serve] sets both {0} and {1}: keep one")]
    Both(&'static str, &'static str),
    #[error(
        "[serve] move_older_than = {0:?} is not an age: use a number with d, w, m or y, e.g. \"30d\""
    )]
    Age(String),
    #[error("[serve] move_action = {0:?}: use \"trash\" (recoverable for 30 days) or \"delete\"")]
    Action(String),
    #[error(
        "[serve] time_zone = {0:?} is not a time zone this system knows ({1}): use an IANA name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\" (the names are those under /usr/share/zoneinfo; install the tzdata package if it is empty)"
    )]
    TimeZone(String, String),
}

/// Resolves the layers, first that sets a key wins (flags and environment, then the file).
pub fn resolve(layers: &[&ServeConfig]) -> Result<ServeSettings, ServeSettingsError> {
    fn first<T: Clone>(
        layers: &[&ServeConfig],
        f: impl Fn(&ServeConfig) -> Option<T>,
    ) -> Option<T> {
        layers.iter().find_map(|l| f(l))
    }
    let listen_text = first(layers, |l| l.listen.clone()).unwrap_or_else(|| DEFAULT_LISTEN.into());
    let listen: SocketAddr = listen_text
        .trim()
        .parse()
        .map_err(|_| ServeSettingsError::Listen(listen_text.clone()))?;
    let path = first(layers, |l| l.path.clone()).unwrap_or_else(|| DEFAULT_PATH.into());
    if !path.starts_with('/') {
        return Err(ServeSettingsError::Path(path));
    }
    let secret = first(layers, |l| l.webhook_secret_token.clone()).filter(|s| !s.trim().is_empty());
    let schedule = |every_key: &'static str,
                    every: Option<String>,
                    cron_key: &'static str,
                    cron: Option<String>| match (every, cron) {
        (Some(_), Some(_)) => Err(ServeSettingsError::Both(every_key, cron_key)),
        (Some(value), None) => Ok(Some(ScheduleSpec::Every {
            key: every_key,
            value,
        })),
        (None, Some(value)) => Ok(Some(ScheduleSpec::Cron {
            key: cron_key,
            value,
        })),
        (None, None) => Ok(None),
    };
    let sync = schedule(
        "sync_every",
        first(layers, |l| l.sync_every.clone()),
        "sync_cron",
        first(layers, |l| l.sync_cron.clone()),
    )?;
    let moves = schedule(
        "move_every",
        first(layers, |l| l.move_every.clone()),
        "move_cron",
        first(layers, |l| l.move_cron.clone()),
    )?;
    let move_older_than = first(layers, |l| l.move_older_than.clone())
        .map(|s| parse_age(&s).ok_or(ServeSettingsError::Age(s)))
        .transpose()?;
    let move_action = match first(layers, |l| l.move_action.clone()).as_deref() {
        None | Some("trash") => MoveAction::Trash,
        Some("delete") => MoveAction::Delete,
        Some(other) => return Err(ServeSettingsError::Action(other.to_owned())),
    };
    let time_zone = match first(layers, |l| l.time_zone.clone()) {
        Some(name) => TimeZone::get(name.trim())
            .map_err(|e| ServeSettingsError::TimeZone(name.clone(), e.to_string()))?,
        None => TimeZone::try_system().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot find the system's time zone; cron expressions are read in UTC (set time_zone in [serve])");
            TimeZone::UTC
        }),
    };
    Ok(ServeSettings {
        listen,
        path,
        secret,
        sync,
        moves,
        move_older_than,
        move_action,
        time_zone,
    })
}

/// `30d`, `12w`, `6m` (30 days), `1y` (365 days).
fn parse_age(s: &str) -> Option<Duration> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    let days = match unit {
        "d" => n,
        "w" => n.checked_mul(7)?,
        "m" => n.checked_mul(30)?,
        "y" => n.checked_mul(365)?,
        _ => return None,
    };
    Some(Duration::from_secs(days.checked_mul(86_400)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_precedence() {
        let s = resolve(&[&ServeConfig::default()]).unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.path, DEFAULT_PATH);
        assert!(s.secret.is_none() && s.sync.is_none() && s.moves.is_none());
        let flags = ServeConfig {
            listen: Some("0.0.0.0:9000".into()),
            webhook_secret_token: Some("from-env".into()),
            ..ServeConfig::default()
        };
        let file = ServeConfig {
            listen: Some("127.0.0.1:1".into()),
            webhook_secret_token: Some("from-file".into()),
            sync_every: Some("15m".into()),
            move_cron: Some("0 3 * * *".into()),
            move_older_than: Some("30d".into()),
            ..ServeConfig::default()
        };
        let s = resolve(&[&flags, &file]).unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.secret.as_deref(), Some("from-env"));
        assert_eq!(
            s.sync,
            Some(ScheduleSpec::Every {
                key: "sync_every",
                value: "15m".into()
            })
        );
        assert_eq!(s.move_older_than, Some(Duration::from_secs(30 * 86_400)));
    }

    #[test]
    fn the_example_config_in_contrib_reads_and_resolves() {
        let text = include_str!("../../../contrib/config.example.toml");
        let cfg = crate::config::parse_config(text, std::path::Path::new("config.example.toml"))
            .expect("contrib/config.example.toml is a valid config.toml");
        let s = resolve(&[&cfg.serve]).expect("its [serve] resolves");
        assert_eq!(s.path, DEFAULT_PATH);
        assert!(s.sync.is_some() && s.moves.is_some());
        assert!(
            s.secret.is_none(),
            "the example keeps the secret out of the file"
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_fix() {
        let bad = |c: ServeConfig| resolve(&[&c]).unwrap_err().to_string();
        let e = bad(ServeConfig {
            listen: Some("localhost".into()),
            ..ServeConfig::default()
        });
        assert!(e.contains("listen") && e.contains("127.0.0.1:8080"), "{e}");
        let e = bad(ServeConfig {
            path: Some("hook".into()),
            ..ServeConfig::default()
        });
        assert!(e.contains("path") && e.contains('/'), "{e}");
        let e = bad(ServeConfig {
            sync_every: Some("1m".into()),
            sync_cron: Some("* * * * *".into()),
            ..ServeConfig::default()
        });
        assert!(e.contains("sync_every") && e.contains("sync_cron"), "{e}");
        let e = bad(ServeConfig {
            move_older_than: Some("30 days".into()),
            ..ServeConfig::default()
        });
        assert!(e.contains("move_older_than") && e.contains("30d"), "{e}");
        let e = bad(ServeConfig {
            move_action: Some("shred".into()),
            ..ServeConfig::default()
        });
        assert!(e.contains("trash"), "{e}");
        let e = bad(ServeConfig {
            time_zone: Some("Mars/Olympus_Mons".into()),
            ..ServeConfig::default()
        });
        assert!(
            e.contains("time_zone")
                && e.contains("Mars/Olympus_Mons")
                && e.contains("Europe/Berlin"),
            "{e}"
        );
    }

    #[test]
    fn the_time_zone_is_the_one_named_else_the_system_s() {
        let s = resolve(&[&ServeConfig {
            time_zone: Some("Asia/Tokyo".into()),
            ..ServeConfig::default()
        }])
        .unwrap();
        assert_eq!(s.time_zone.iana_name(), Some("Asia/Tokyo"));
        let s = resolve(&[&ServeConfig::default()]).unwrap();
        assert_eq!(
            s.time_zone,
            TimeZone::try_system().unwrap_or(TimeZone::UTC),
            "the system's"
        );
    }
}
