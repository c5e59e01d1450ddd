//! `zvm status --state postgres://...`: every worker of the fleet sharing that database
//! (live, dead or stopped; its leases, files and bytes copied, throughput) and the shared
//! work, read from the database (the same report as a worker's `/status` `fleet` field),
//! and how the database was reached (over TLS or not, as the server sees the connection).
//! As text, or one JSON object with `--json`.

use zvm_serve::status::FleetStatus;

use crate::cli::GlobalArgs;
use crate::{Failure, exit, output};

pub(crate) async fn status(global: &GlobalArgs, url: &str) -> Result<u8, Failure> {
    let state = zvm_state_postgres::PostgresState::open(url)
        .await
        .map_err(|e| Failure::from(zvm_app::Failure::from(e)))?;
    let report = zvm_serve::fleet::fleet_status(&state, String::new())
        .await
        .map_err(|e| Failure::from(zvm_app::Failure::from(e)))?;
    let tls = state
        .connection_tls()
        .await
        .map_err(|e| Failure::from(zvm_app::Failure::from(e)))?;
    if global.json {
        let mut value = serde_json::to_value(&report).map_err(|e| Failure::new(exit::USAGE, e))?;
        // How this zvm reached the database: its URL without the password, and the TLS
        // version the server reports for the connection (null: plain, on this machine).
        value["database"] = serde_json::json!({ "location": state.location(), "tls": tls });
        value["schedules_differ"] = report.schedules_differ().into();
        output::line(value.to_string())?;
    } else {
        for line in text(&report) {
            output::line(line)?;
        }
        output::line(database_line(state.location(), tls.as_deref()))?;
    }
    Ok(exit::OK)
}

/// The database and how it was reached, as the server sees the connection.
fn database_line(location: &str, tls: Option<&str>) -> String {
    match tls {
        Some(version) => {
            format!("database: {location} over TLS ({version}, the server's certificate verified)")
        }
        None => format!("database: {location} without TLS (a server on this machine)"),
    }
}

/// The report as a table of workers and a line of work.
fn text(r: &FleetStatus) -> Vec<String> {
    let size = |b: u64| format!("{}", indicatif::HumanBytes(b));
    let headers = [
        "worker",
        "host",
        "pid",
        "state",
        "leases",
        "files",
        "copied",
        "throughput",
        "last heartbeat",
    ];
    let rows: Vec<[String; 9]> = r
        .workers
        .iter()
        .map(|w| {
            [
                w.id.clone(),
                w.host.clone(),
                w.pid.to_string(),
                if w.live {
                    "live"
                } else if w.stopped {
                    "stopped"
                } else {
                    "dead"
                }
                .to_owned(),
                w.leases.to_string(),
                w.files_copied.to_string(),
                size(w.bytes_copied),
                format!("{}/s", size(w.throughput_bps as u64)),
                w.last_heartbeat.clone(),
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .map(|row| row[i].chars().count())
            .chain([headers[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..headers.len()).map(width).collect();
    let fmt = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(w[i].saturating_sub(c.chars().count()))))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![fmt(headers.to_vec())];
    out.extend(
        rows.iter()
            .map(|row| fmt(row.iter().map(String::as_str).collect())),
    );
    if r.workers.is_empty() {
        out.push("(no worker has registered on this database)".to_owned());
    }
    out.push(format!(
        "work: {} meetings open ({} leased now), {} done, {} given up",
        r.work.open, r.work.held, r.work.done, r.work.gave_up
    ));
    if r.schedules_differ() {
        out.push(
            "warning: the live workers' schedules differ (only one lists for the fleet, so \
             when it lists and what a move deletes depend on which); give every worker the \
             same sync_every, move_cron, move_older_than and time_zone:"
                .to_owned(),
        );
        for w in r
            .workers
            .iter()
            .filter(|w| w.live && !w.schedules.is_empty())
        {
            out.push(format!("  {}: {}", w.id, w.schedules));
        }
    }
    out
}
