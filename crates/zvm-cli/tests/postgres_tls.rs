//! `zvm status --state postgres://...?sslmode=verify-full&sslrootcert=CA` (issue 19): the
//! real binary reaches the PostgreSQL server `.ci/run` starts with `ssl = on` over verified
//! TLS, says so as the server sees the connection, and refuses a server it cannot verify
//! with what to do, never printing the password.

mod common;

#[path = "../../zvm-state-postgres/tests/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod pg;

use common::RunOutput;
use pg::TestDb;

const CA_VAR: &str = "ZVM_TEST_POSTGRES_CA";

/// `zvm status` with `args`, in a private HOME, with no Zoom credentials (it needs none).
async fn zvm_status(home: &std::path::Path, args: &[&str]) -> RunOutput {
    zvm_status_with(home, args, &[]).await
}

/// [`zvm_status`] with `env` added to its environment.
async fn zvm_status_with(
    home: &std::path::Path,
    args: &[&str],
    env: &[(&str, &std::path::Path)],
) -> RunOutput {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_zvm"));
    cmd.env_clear()
        .envs(env.iter().copied())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .arg("status")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    common::run_cmd(cmd).await
}

/// A zvm built without the `postgres` feature cannot take part: fail under CI, skip
/// elsewhere.
fn built_without_postgres(out: &RunOutput) -> bool {
    if out
        .stderr
        .contains("built without PostgreSQL state support")
    {
        pg::skip_or_fail("this zvm was built without the postgres feature");
        return true;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reaches_a_tls_server_verified_and_says_so() {
    let Some(db) = TestDb::create("status_over_tls").await else {
        return;
    };
    let ca = match std::env::var(CA_VAR) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            return pg::skip_or_fail(&format!(
                "no CA of the test server's certificate ({CA_VAR} is not set; .ci/run sets it)"
            ));
        }
    };
    let home = tempfile::tempdir().unwrap();
    let pw = db.password();

    let url = db.url_with(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let text = zvm_status(home.path(), &["--state", &url]).await;
    if built_without_postgres(&text) {
        return;
    }
    text.expect_code(0, "zvm status over verified TLS");
    assert!(
        !text.all().contains(&pw),
        "the password leaked:\n{}",
        text.all()
    );
    let line = text
        .stdout
        .lines()
        .find(|l| l.starts_with("database: "))
        .unwrap_or_else(|| panic!("no database line:\n{}", text.stdout));
    assert!(
        line.contains(" over TLS (TLSv1.") && line.contains("postgres://zvm:***@localhost:"),
        "{line}"
    );

    // The same as JSON, for a server named as one beyond this machine would be.
    let url = db.url_with(
        "db.fleet.test",
        &format!("hostaddr=127.0.0.1&sslrootcert={ca}"),
    );
    let json = zvm_status(home.path(), &["--json", "--state", &url]).await;
    json.expect_code(0, "zvm status --json over verified TLS");
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).expect("one JSON object");
    let tls = v["database"]["tls"].as_str().unwrap_or_default();
    assert!(tls.starts_with("TLSv1."), "{v}");

    // Without TLS on this machine, the line says so.
    let plain = zvm_status(home.path(), &["--state", &db.url()]).await;
    plain.expect_code(0, "zvm status without TLS");
    assert!(
        plain
            .stdout
            .contains(" without TLS (a server on this machine)"),
        "{}",
        plain.stdout
    );

    // A CA zvm does not trust (the system's roots): refused, with what to do.
    let url = db.url_with("localhost", "sslmode=verify-full");
    let refused = zvm_status(home.path(), &["--state", &url]).await;
    assert_ne!(refused.code, Some(0), "{}", refused.all());
    assert!(
        !refused.all().contains(&pw),
        "the password leaked:\n{}",
        refused.all()
    );
    assert!(
        refused.stderr.contains("sslrootcert=/path/to/ca.crt"),
        "{}",
        refused.stderr
    );

    // A machine without any CA certificates (the system's roots read from an empty file
    // and folder, as on an image without ca-certificates): what to install, or the file to
    // name instead.
    let empty = home.path().join("no-roots");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("none.pem"), "").unwrap();
    let none = zvm_status_with(
        home.path(),
        &["--state", &url],
        &[
            ("SSL_CERT_FILE", &empty.join("none.pem")),
            ("SSL_CERT_DIR", &empty),
        ],
    )
    .await;
    assert_ne!(none.code, Some(0), "{}", none.all());
    assert!(
        !none.all().contains(&pw),
        "the password leaked:\n{}",
        none.all()
    );
    assert!(
        none.stderr.contains("no CA certificates")
            && none.stderr.contains("apt install ca-certificates")
            && none.stderr.contains("sslrootcert=/path/to/ca.crt"),
        "{}",
        none.stderr
    );
    db.drop_schema().await;
}
