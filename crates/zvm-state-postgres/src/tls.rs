//! Which connections to the PostgreSQL server are encrypted, and how the server proves who
//! it is: the `sslmode` and `sslrootcert` parameters of a libpq URL, read under zvm's rule
//! that TLS verification is never switched off and plain text stays on this machine.
//!
//! - A server beyond this machine (any host or `hostaddr` that is not loopback) is always
//!   reached over TLS with its certificate chain and host name verified, whatever `sslmode`
//!   says short of `disable`; `sslmode=disable` to it is refused before anything is sent,
//!   since the password and the state would cross the network readable.
//! - `require` and `verify-ca` are read as `verify-full`: libpq's `require` accepts any
//!   certificate and `verify-ca` any name, so a machine in the middle could read the
//!   password. zvm never talks to a server it has not verified.
//! - A loopback server (or a Unix socket) keeps the plain connection it always had, unless
//!   `sslmode` asks for TLS (`require`, `verify-ca`, `verify-full`); then it is verified
//!   too. PostgreSQL speaks no TLS over Unix sockets, so a socket stays plain as in libpq.
//! - The trusted roots are the system's (the platform verifier, as zvm's HTTPS uses), or,
//!   with `sslrootcert=FILE`, only the PEM certificates in that file (a private CA), as
//!   libpq reads it; `sslrootcert=system` names the system's roots explicitly.
//!
//! tokio-postgres knows neither `verify-full` nor `sslrootcert`, so both are taken out of
//! the URL here before the driver reads the rest.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;
use zvm_state::StateError;

/// How connections to the server are made.
#[derive(Clone)]
pub(crate) enum Transport {
    /// No TLS: the server is on this machine.
    Plain,
    /// TLS with the server's certificate chain and name verified.
    Verified(MakeRustlsConnect),
}

/// libpq's `sslmode` values, as a URL gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(value: &str) -> Option<Mode> {
        Some(match value {
            "disable" => Mode::Disable,
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            _ => return None,
        })
    }

    /// Whether the user asked for TLS even to a server on this machine.
    fn asks_for_tls(self) -> bool {
        matches!(self, Mode::Require | Mode::VerifyCa | Mode::VerifyFull)
    }
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    /// The system's trust store.
    System,
    /// Only the certificates of this PEM file.
    File(String),
}

/// The TLS parameters taken out of a URL, and the URL without them.
#[derive(Debug, PartialEq, Eq)]
struct Split {
    rest: String,
    mode: Option<Mode>,
    roots: Roots,
}

/// Takes `sslmode` and `sslrootcert` out of the URL's query (percent-decoded, as libpq
/// reads them); the rest is for the driver.
fn split_tls_params(url: &str, location: &str) -> Result<Split, StateError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut kept = Vec::new();
    let mut mode = None;
    let mut roots = Roots::System;
    for param in query.into_iter().flat_map(|q| q.split('&')) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let decoded = || {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| StateError::Setting {
                    what: format!(
                        "the state database URL {location}: the value of {key} is not UTF-8 once percent-decoded"
                    ),
                })
        };
        match key {
            "sslmode" => {
                let v = decoded()?;
                mode = Some(Mode::parse(&v).ok_or_else(|| StateError::Setting {
                    what: format!(
                        "the state database URL {location}: sslmode={v} is not one of disable, \
                         allow, prefer, require, verify-ca or verify-full (zvm reads require \
                         and verify-ca as verify-full)"
                    ),
                })?);
            }
            "sslrootcert" => {
                let v = decoded()?;
                roots = if v == "system" {
                    Roots::System
                } else {
                    Roots::File(v)
                };
            }
            _ => kept.push(param),
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(Split { rest, mode, roots })
}

/// The first host the configuration names that is not on this machine.
fn beyond_loopback(config: &tokio_postgres::Config) -> Option<String> {
    let host = config.get_hosts().iter().find_map(|h| match h {
        Host::Tcp(name) if !is_loopback_name(name) => Some(name.clone()),
        _ => None,
    });
    host.or_else(|| {
        config
            .get_hostaddrs()
            .iter()
            .find(|a| !a.is_loopback())
            .map(|a| a.to_string())
    })
}

/// Whether every host is a Unix socket (PostgreSQL speaks no TLS there).
fn only_sockets(config: &tokio_postgres::Config) -> bool {
    config.get_hostaddrs().is_empty()
        && !config.get_hosts().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|h| !matches!(h, Host::Tcp(_)))
}

fn is_loopback_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// Reads `url` as the driver's configuration and decides how to reach the server (see the
/// module's doc). `location` is the URL without its password, for messages.
pub(crate) fn configure(
    url: &str,
    location: &str,
) -> Result<(tokio_postgres::Config, Transport), StateError> {
    let split = split_tls_params(url, location)?;
    let mut config: tokio_postgres::Config =
        split
            .rest
            .parse()
            .map_err(|e: tokio_postgres::Error| {
                // The driver's words and their cause ("invalid value for option `port`").
                let detail = match std::error::Error::source(&e) {
                    Some(cause) => format!("{e}: {cause}"),
                    None => e.to_string(),
                };
                StateError::Setting {
                    what: format!(
                        "the state database URL {location}: {detail}; write it as postgres://user:password@host:port/database"
                    ),
                }
            })?;
    let tls = match beyond_loopback(&config) {
        Some(host) if split.mode == Some(Mode::Disable) => {
            return Err(StateError::Setting {
                what: format!(
                    "the state database {location} is on {host}, and sslmode=disable asks for \
                     a connection without TLS, which would send the password and the state \
                     readable over the network: zvm talks to a server beyond this machine \
                     only over verified TLS. Remove sslmode=disable (and give \
                     sslrootcert=/path/to/ca.crt if the server's certificate comes from a \
                     private CA), or reach the server through an SSH tunnel to a loopback \
                     address: ssh -L 5432:localhost:5432 {host}"
                ),
            });
        }
        Some(_) => true,
        None => split.mode.is_some_and(Mode::asks_for_tls) && !only_sockets(&config),
    };
    if !tls {
        config.ssl_mode(SslMode::Disable);
        return Ok((config, Transport::Plain));
    }
    // The name the certificate must hold is the host's; with only `hostaddr` given, the
    // address is that name (a certificate may list IP addresses), as libpq does.
    if config.get_hosts().is_empty() {
        let addrs = config.get_hostaddrs().to_vec();
        for a in addrs {
            config.host(a.to_string());
        }
    }
    config.ssl_mode(SslMode::Require);
    let client = client_config(&split.roots, location)?;
    Ok((config, Transport::Verified(MakeRustlsConnect::new(client))))
}

/// rustls' settings: the workspace's ring provider, and the roots asked for.
fn client_config(roots: &Roots, location: &str) -> Result<rustls::ClientConfig, StateError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_setup(location, &e))?;
    let config = match roots {
        Roots::System => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|e| system_roots_setup(location, &e))?
                .with_no_client_auth()
        }
        Roots::File(path) => {
            let store = read_roots(path, location)?;
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|e| StateError::Setting {
                    what: format!(
                        "the state database URL {location}: the certificates of sslrootcert={path} cannot verify a server: {e}"
                    ),
                })?;
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        }
    };
    Ok(config)
}

/// The platform verifier's failure; a machine without any CA certificates (a minimal
/// image without its `ca-certificates` package) gets what to do rather than rustls' words.
fn system_roots_setup(location: &str, e: &rustls::Error) -> StateError {
    match e {
        rustls::Error::General(m) if m.contains("No CA certificates") => StateError::Setting {
            what: format!(
                "the state database {location}: cannot set up TLS: this machine has no CA \
                 certificates to verify the server's certificate with: install the system's \
                 (Debian/Ubuntu: apt install ca-certificates), or add sslrootcert=/path/to/ca.crt \
                 (the certificate, PEM, of the CA that signed the server's certificate) to the URL"
            ),
        },
        other => tls_setup(location, other),
    }
}

fn tls_setup(location: &str, e: &rustls::Error) -> StateError {
    StateError::Setting {
        what: format!("the state database {location}: cannot set up TLS: {e}"),
    }
}

/// The PEM certificates of `path`, the CAs a private server's certificate is checked
/// against.
fn read_roots(path: &str, location: &str) -> Result<RootCertStore, StateError> {
    let unreadable = |detail: String| StateError::Setting {
        what: format!(
            "the state database URL {location}: sslrootcert={path}: {detail}; give the file \
             of the CA certificate (PEM) that signed the server's certificate"
        ),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(pem_error(&e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| unreadable(pem_error(&e)))?;
    if certs.is_empty() {
        return Err(unreadable("the file holds no PEM certificate".to_owned()));
    }
    let mut store = RootCertStore::empty();
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| unreadable(format!("a certificate in it cannot be used: {e}")))?;
    }
    Ok(store)
}

fn pem_error(e: &rustls_pki_types::pem::Error) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => format!("cannot read it: {io}"),
        other => format!("not a PEM file: {other:?}"),
    }
}

/// What a failed connection's TLS says, with what to do about it; `None` when the failure
/// was not TLS's.
pub(crate) fn explain_failure(e: &tokio_postgres::Error) -> Option<String> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(r) = rustls_error(s) {
            return Some(explain_rustls(r));
        }
        if s.to_string().contains("server does not support TLS") {
            return Some(
                "the server does not accept TLS connections (its postgresql.conf has ssl = \
                 off): turn TLS on there (ssl = on with ssl_cert_file and ssl_key_file); zvm \
                 sends the password and the state beyond this machine only over TLS"
                    .to_owned(),
            );
        }
        src = s.source();
    }
    None
}

/// The rustls error `s` is, or carries inside an I/O error (as tokio-rustls hands it over).
fn rustls_error<'a>(s: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(r) = s.downcast_ref::<rustls::Error>() {
        return Some(r);
    }
    s.downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

fn explain_rustls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "the server's TLS certificate is not signed by a certificate authority zvm \
             trusts: if the server's certificate comes from a private CA, add \
             sslrootcert=/path/to/ca.crt (that CA's certificate, PEM) to the URL; if the URL \
             already names one, it is not the CA that signed the server's certificate"
                .to_owned()
        }
        rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        ) => "the server's TLS certificate is not issued for the host name in the URL: connect \
             by a name the certificate lists (its subject alternative names), or have the \
             server's certificate issued for this name"
            .to_owned(),
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => format!(
            "the server's TLS certificate is not valid now ({e}): renew the server's \
             certificate, or check this machine's clock"
        ),
        other => format!("TLS with the server failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOC: &str = "postgres://zvm:***@h/db";

    #[test]
    fn takes_the_tls_parameters_out_of_the_url() {
        let s = split_tls_params(
            "postgres://zvm:pw@h/db?application_name=x&sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20x.crt",
            LOC,
        )
        .unwrap();
        assert_eq!(s.rest, "postgres://zvm:pw@h/db?application_name=x");
        assert_eq!(s.mode, Some(Mode::VerifyFull));
        assert_eq!(s.roots, Roots::File("/tmp/ca x.crt".to_owned()));
        let s = split_tls_params("postgres://h/db?sslrootcert=system", LOC).unwrap();
        assert_eq!(s.rest, "postgres://h/db");
        assert_eq!((s.mode, s.roots), (None, Roots::System));
    }

    #[test]
    fn an_unknown_sslmode_is_a_clear_error() {
        let err = split_tls_params("postgres://h/db?sslmode=verify", LOC).unwrap_err();
        assert!(
            err.to_string().contains("sslmode=verify is not one of"),
            "{err}"
        );
    }

    fn transport(url: &str) -> Result<(SslMode, bool), StateError> {
        configure(url, LOC).map(|(c, t)| (c.get_ssl_mode(), matches!(t, Transport::Verified(_))))
    }

    #[test]
    fn beyond_loopback_is_always_verified_tls_and_loopback_plain_unless_asked() {
        for url in [
            "postgres://zvm@db.example.org/zvm",
            "postgres://zvm@db.example.org/zvm?sslmode=prefer",
            "postgres://zvm@db.example.org/zvm?sslmode=allow",
            "postgres://zvm@db.example.org/zvm?sslmode=require",
            "postgres://zvm@db.example.org/zvm?sslmode=verify-ca",
            "postgres://zvm@10.1.2.3/zvm?sslmode=verify-full",
            "postgres://zvm@localhost/zvm?hostaddr=10.1.2.3",
        ] {
            assert_eq!(transport(url).unwrap(), (SslMode::Require, true), "{url}");
        }
        for url in [
            "postgres://zvm@localhost/zvm",
            "postgres://zvm@127.0.0.1/zvm?sslmode=prefer",
            "postgres://zvm@[::1]/zvm?sslmode=disable",
            "postgres://zvm@localhost/zvm?sslmode=allow",
            "postgres://zvm@%2Frun%2Fpostgresql/zvm?sslmode=verify-full",
        ] {
            assert_eq!(transport(url).unwrap(), (SslMode::Disable, false), "{url}");
        }
        for url in [
            "postgres://zvm@localhost/zvm?sslmode=require",
            "postgres://zvm@127.0.0.1/zvm?sslmode=verify-ca",
            "postgres://zvm@[::1]/zvm?sslmode=verify-full",
        ] {
            assert_eq!(transport(url).unwrap(), (SslMode::Require, true), "{url}");
        }
    }

    #[test]
    fn a_hostaddr_alone_is_the_name_the_certificate_must_hold() {
        let (c, t) = configure("postgres://zvm@/zvm?hostaddr=10.1.2.3", LOC).unwrap();
        assert!(matches!(t, Transport::Verified(_)));
        assert_eq!(c.get_hosts(), &[Host::Tcp("10.1.2.3".to_owned())]);
    }
}
