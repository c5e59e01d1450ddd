//! The PostgreSQL server of the tests: the one `.ci/run` starts, named by
//! `ZVM_TEST_POSTGRES_URL`. Each test works in a schema of its own (a fresh name, made here,
//! dropped by [`TestDb::drop_schema`]), so tests run in parallel on one database without
//! seeing each other's rows. Also used by the zvm-cli tests (through `#[path]`).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

#[path = "../../../zvm-cli/tests/common/skip.rs"]
mod skip;

pub use skip::skip_or_fail;

pub const URL_VAR: &str = "ZVM_TEST_POSTGRES_URL";

/// One test's schema on the test server.
pub struct TestDb {
    /// The server's URL as given (with its password).
    pub base_url: String,
    /// The schema this test works in.
    pub schema: String,
}

impl TestDb {
    /// A fresh schema on the test server, or `None` (after [`skip_or_fail`]) without one.
    pub async fn create(test: &str) -> Option<TestDb> {
        let base_url = match std::env::var(URL_VAR) {
            Ok(u) if !u.is_empty() => u,
            _ => {
                skip_or_fail(&format!(
                    "{test}: no PostgreSQL server ({URL_VAR} is not set; .ci/run starts one, or \
                     set it to postgres://user:password@127.0.0.1:5432/database of a database \
                     the user may create schemas in)"
                ));
                return None;
            }
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "zvm_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let db = TestDb { base_url, schema };
        db.admin(&format!("CREATE SCHEMA {}", db.schema)).await;
        Some(db)
    }

    /// This test's URL with its host replaced by `host` and `params` added (`a=b&c=d`).
    pub fn url_with(&self, host: &str, params: &str) -> String {
        let url = self.url();
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (user, rest) = rest
            .rsplit_once('@')
            .expect("a user in the test server's URL");
        let port_at = rest.find(':').expect("a port in the test server's URL");
        format!("{scheme}://{user}@{host}{}&{params}", &rest[port_at..])
    }

    /// The password of the test server's URL, which no message may show.
    pub fn password(&self) -> String {
        let rest = self.base_url.split_once("://").expect("a URL").1;
        let user = rest.rsplit_once('@').expect("a user").0;
        user.split_once(':').expect("a password").1.to_owned()
    }

    /// The URL of this test's schema: the server's, with the connection's `search_path`
    /// set to the schema (percent-encoded `options`, as libpq reads it).
    pub fn url(&self) -> String {
        let sep = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.base_url, self.schema
        )
    }

    /// Runs `sql` on a connection of its own to the test server.
    pub async fn admin(&self, sql: &str) {
        let (client, conn) = tokio_postgres::connect(&self.base_url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server ({URL_VAR}): {e}"));
        let task = tokio::spawn(conn);
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        drop(client);
        let _ = task.await;
    }

    /// Runs a query of one BIGINT in this test's schema.
    pub async fn count(&self, sql: &str) -> i64 {
        let (client, conn) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server ({URL_VAR}): {e}"));
        let task = tokio::spawn(conn);
        let n: i64 = client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .get(0);
        drop(client);
        let _ = task.await;
        n
    }

    /// Drops the schema and everything in it (at the end of a test that passed).
    pub async fn drop_schema(self) {
        self.admin(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .await;
    }
}
