//! The database's URL as users give it (`postgres://user:password@host:port/db`) and as zvm
//! shows it: without the password, in every message and log line, since a state URL is
//! typed on command lines and pasted into bug reports.

/// Whether `given` names a PostgreSQL database rather than a state file.
pub fn is_postgres_url(given: &str) -> bool {
    let lower = given.get(..13).unwrap_or(given).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// `url` with its password (in the user part or as a `password=` parameter) replaced by
/// `***`. Errs on the side of hiding: when the user part cannot be told from the host,
/// everything up to the last `@` is hidden.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        // Not a URL: nothing here can be told apart from a secret.
        return "(a state database URL that is not a URL)".to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end);
    // The user part ends at the last `@` before the query: a password may itself hold `@`
    // only percent-encoded, but a careless one must still not show.
    let query_at = rest.find('?').unwrap_or(rest.len());
    let (authority_and_path, query) = rest.split_at(query_at);
    let shown = match authority_and_path.rfind('@') {
        Some(at) => {
            let user_part = &authority_and_path[..at];
            let user = match user_part.find(':') {
                Some(colon) => format!("{}:***", &user_part[..colon]),
                None => user_part.to_string(),
            };
            format!("{user}{}", &authority_and_path[at..])
        }
        None => authority_and_path.to_string(),
    };
    format!("{scheme}{shown}{}", redact_query(query))
}

/// The query string with the value of every `password` parameter hidden.
fn redact_query(query: &str) -> String {
    let Some(params) = query.strip_prefix('?') else {
        return query.to_string();
    };
    let hidden: Vec<String> = params
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => p.to_string(),
        })
        .collect();
    format!("?{}", hidden.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_urls_from_paths() {
        assert!(is_postgres_url("postgres://h/db"));
        assert!(is_postgres_url("PostgreSQL://h/db"));
        assert!(!is_postgres_url("/var/lib/zvm/state.sqlite3"));
        assert!(!is_postgres_url("postgres.sqlite3"));
        assert!(!is_postgres_url(""));
    }

    #[test]
    fn hides_every_password() {
        assert_eq!(
            redact_url("postgres://zvm:s3cret@db.example:5433/zvm?application_name=x"),
            "postgres://zvm:***@db.example:5433/zvm?application_name=x"
        );
        assert_eq!(
            redact_url("postgresql://zvm@db/zvm?password=s3cret&sslmode=disable"),
            "postgresql://zvm@db/zvm?password=***&sslmode=disable"
        );
        // A careless `@` inside the password hides up to the last one.
        let shown = redact_url("postgres://zvm:p@ss@db/zvm");
        assert!(!shown.contains("p@ss") && !shown.contains("ss@"), "{shown}");
        assert_eq!(redact_url("postgres://db/zvm"), "postgres://db/zvm");
        assert!(!redact_url("s3cret").contains("s3cret"));
    }
}
