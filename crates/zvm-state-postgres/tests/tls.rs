//! TLS to the PostgreSQL server, against the real one `.ci/run` starts with `ssl = on`: its
//! certificate, signed by a throwaway CA (`ZVM_TEST_POSTGRES_CA`), is issued for
//! localhost, 127.0.0.1 and db.fleet.test, a name that stands for a server on another
//! machine (reached here through `hostaddr=127.0.0.1`). Whether a connection is encrypted
//! is asked of the server (`pg_stat_ssl`), not taken from zvm's word.

mod support;

use std::time::Duration;

use support::{TestDb, skip_or_fail};
use zvm_state::StateError;
use zvm_state_postgres::PostgresState;

const CA_VAR: &str = "ZVM_TEST_POSTGRES_CA";

/// The test CA's certificate file, or `None` (after [`skip_or_fail`]) without one.
fn test_ca(test: &str) -> Option<String> {
    match std::env::var(CA_VAR) {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            skip_or_fail(&format!(
                "{test}: no CA of the test server's certificate ({CA_VAR} is not set; .ci/run \
                 starts the server with ssl = on and sets it)"
            ));
            None
        }
    }
}

/// Opens `url`, expecting a failure, and returns it and its message (checked for
/// `password`).
async fn refused(password: &str, url: &str) -> (StateError, String) {
    let err = PostgresState::open(url)
        .await
        .expect_err(&format!("{url} must be refused"));
    let shown = err.to_string();
    assert!(!shown.contains(password), "the password leaked: {shown}");
    assert!(
        !format!("{err:?}").contains(password),
        "the password leaked: {err:?}"
    );
    (err, shown)
}

#[tokio::test]
async fn verified_tls_connects_and_the_server_sees_an_encrypted_session() {
    let Some(db) = TestDb::create("verified_tls_connects").await else {
        return;
    };
    let Some(ca) = test_ca("verified_tls_connects") else {
        return;
    };
    let cases = [
        ("localhost", format!("sslmode=verify-full&sslrootcert={ca}")),
        ("127.0.0.1", format!("sslmode=verify-full&sslrootcert={ca}")),
        // On this machine, require and verify-ca ask for TLS, verified all the same.
        ("localhost", format!("sslmode=require&sslrootcert={ca}")),
        ("127.0.0.1", format!("sslmode=verify-ca&sslrootcert={ca}")),
        // A server beyond this machine: TLS without being asked, and with prefer.
        (
            "db.fleet.test",
            format!("hostaddr=127.0.0.1&sslrootcert={ca}"),
        ),
        (
            "db.fleet.test",
            format!("hostaddr=127.0.0.1&sslmode=prefer&sslrootcert={ca}"),
        ),
    ];
    for (host, params) in cases {
        let url = db.url_with(host, &params);
        let store = PostgresState::open(&url)
            .await
            .unwrap_or_else(|e| panic!("{host} {params}: {e}"));
        let tls = store.connection_tls().await.unwrap();
        assert!(
            tls.as_deref().is_some_and(|v| v.starts_with("TLS")),
            "{host} {params}: the server sees no TLS on the connection ({tls:?})"
        );
        // The run lock's connection (outside the pool) is verified TLS too.
        drop(store.try_run_lock().await.unwrap());
    }
    db.drop_schema().await;
}

#[tokio::test]
async fn a_loopback_server_stays_plain_unless_tls_is_asked_for() {
    let Some(db) = TestDb::create("loopback_stays_plain").await else {
        return;
    };
    for url in [
        db.url(),
        db.url_with("localhost", "sslmode=prefer"),
        db.url_with("127.0.0.1", "sslmode=disable"),
    ] {
        let store = PostgresState::open(&url).await.unwrap();
        assert_eq!(store.connection_tls().await.unwrap(), None, "{url}");
    }
    db.drop_schema().await;
}

/// A self-signed CA of its own (not the server's), made with openssl in `dir`.
fn another_ca(dir: &std::path::Path) -> Option<String> {
    let cert = dir.join("other-ca.crt");
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-new", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=another zvm test CA", "-keyout"])
        .arg(dir.join("other-ca.key"))
        .arg("-out")
        .arg(&cert)
        .output();
    match made {
        Ok(o) if o.status.success() => Some(cert.to_string_lossy().into_owned()),
        Ok(o) => panic!(
            "openssl could not make a CA: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            skip_or_fail(&format!("no openssl to make a second CA with: {e}"));
            None
        }
    }
}

#[tokio::test]
async fn a_server_certificate_from_an_untrusted_ca_is_refused_with_what_to_do() {
    let Some(db) = TestDb::create("untrusted_ca").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(other) = another_ca(dir.path()) else {
        return;
    };
    for params in [
        // The system's roots do not hold the throwaway CA.
        "sslmode=verify-full".to_owned(),
        format!("sslmode=verify-full&sslrootcert={other}"),
        // require is read as verify-full: an unverified server is never accepted.
        format!("sslmode=require&sslrootcert={other}"),
    ] {
        let (err, shown) = refused(&db.password(), &db.url_with("localhost", &params)).await;
        assert!(
            matches!(err, StateError::Unreachable { .. }),
            "{params}: {err:?}"
        );
        assert!(
            shown.contains("not signed by a certificate authority zvm trusts")
                && shown.contains("sslrootcert="),
            "{params}: {shown}"
        );
    }
    // A server beyond this machine without sslmode: verified, so refused the same way.
    let (_, shown) = refused(
        &db.password(),
        &db.url_with("db.fleet.test", "hostaddr=127.0.0.1"),
    )
    .await;
    assert!(shown.contains("sslrootcert="), "{shown}");
    db.drop_schema().await;
}

#[tokio::test]
async fn a_server_certificate_for_another_name_is_refused() {
    let Some(db) = TestDb::create("another_name").await else {
        return;
    };
    let Some(ca) = test_ca("another_name") else {
        return;
    };
    // The right CA, but the certificate lists localhost, 127.0.0.1 and db.fleet.test only.
    let url = db.url_with(
        "replica.fleet.test",
        &format!("hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={ca}"),
    );
    let (err, shown) = refused(&db.password(), &url).await;
    assert!(matches!(err, StateError::Unreachable { .. }), "{err:?}");
    assert!(
        shown.contains("not issued for the host name in the URL"),
        "{shown}"
    );
    assert!(shown.contains("replica.fleet.test"), "{shown}");
    db.drop_schema().await;
}

/// A server that answers PostgreSQL's TLS request with "no" (as one with `ssl = off`
/// does): a listener of the test that reads the 8-byte SSLRequest and answers `N`. Needs
/// the test CA only (a verifier to be made), not the test server.
#[tokio::test]
async fn a_server_without_tls_is_refused_with_what_to_do() {
    let Some(ca) = test_ca("server_without_tls") else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).await.unwrap();
        // Length 8, then the SSLRequest code 80877103.
        assert_eq!(request, [0, 0, 0, 8, 4, 210, 22, 47], "not an SSLRequest");
        socket.write_all(b"N").await.unwrap();
        // Whatever comes next (nothing, if the client stops) is left unread.
        let _ = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut [0u8; 64])).await;
    });
    let url = format!(
        "postgres://zvm:hunter2-secret@db.fleet.test:{port}/zvm?hostaddr=127.0.0.1&sslrootcert={ca}"
    );
    let (err, shown) = refused("hunter2", &url).await;
    assert!(matches!(err, StateError::Unreachable { .. }), "{err:?}");
    assert!(
        shown.contains("does not accept TLS connections") && shown.contains("ssl = on"),
        "{shown}"
    );
    server.await.unwrap();
}

/// `sslmode=disable` to a server beyond this machine is refused before any connection:
/// a listener at the address it names sees no one knock. Needs no test server.
#[tokio::test]
async fn plain_text_beyond_loopback_is_refused_before_connecting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    for url in [
        format!(
            "postgres://zvm:hunter2-secret@db.fleet.test:{port}/zvm?hostaddr=127.0.0.1&sslmode=disable"
        ),
        "postgres://zvm:hunter2-secret@10.1.2.3/zvm?sslmode=disable".to_owned(),
        "postgres://zvm@localhost/zvm?host=db.example.org&password=hunter2-secret&sslmode=disable"
            .to_owned(),
    ] {
        // A safety net only: a zvm that tried to connect would wait on the listener (or an
        // unroutable address) for good instead of failing.
        let err = tokio::time::timeout(Duration::from_secs(60), PostgresState::open(&url))
            .await
            .unwrap_or_else(|_| panic!("{url}: not refused, still connecting after 60 s"))
            .unwrap_err();
        assert!(matches!(err, StateError::Setting { .. }), "{url}: {err:?}");
        let shown = err.to_string();
        // A setting to change, not something wrong in the state's contents.
        assert!(shown.starts_with("the state database "), "{shown}");
        assert!(!shown.contains("hunter2"), "the password leaked: {shown}");
        assert!(
            shown.contains("sslmode=disable asks for a connection without TLS")
                && shown.contains("Remove sslmode=disable"),
            "{shown}"
        );
    }
    // open() returned; a connection it had made would be waiting in the listener's queue.
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("zvm connected before refusing: {other:?}"),
    }
}
