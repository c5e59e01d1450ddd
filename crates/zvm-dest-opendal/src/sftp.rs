//! SFTP: an [`ObjectDestination`] on OpenDAL's SFTP service. OpenDAL reaches the server
//! through OpenSSH's own `ssh` client (it runs `ssh` as a connection master and speaks SFTP
//! over it), so logging in works exactly as `ssh` does for the user running zvm: ssh-agent,
//! ~/.ssh/id_* keys, ~/.ssh/config, and ~/.ssh/known_hosts for the server's identity.
//! Keys only: `ssh` runs in batch mode, so it never asks for a password.
//!
//! A file is written as `<name>.part` and renamed into place (`posix-rename`, atomic,
//! replacing) once its size is read back; SFTP defines no checksum, so the size is the
//! proof. OpenDAL's SFTP writer cannot append, so an upload cut off by the end of a run
//! starts over in the next one.

use std::path::Path;

use opendal::Operator;
use opendal::services::Sftp;

use crate::object::{ObjectDestination, ObjectSettings};
use crate::url::{RemoteCredentials, SftpUrl, UrlError};

/// Bytes gathered before an SFTP write request.
const WRITE_CHUNK: usize = 256 * 1024;

/// Longest path most servers' file systems take (PATH_MAX).
const PATH_LIMIT: usize = 4096;

/// Whether `ssh` is a file in a folder of PATH (OpenDAL runs it by that name).
fn ssh_on_path() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("ssh").is_file()))
}

pub(crate) fn open(u: &SftpUrl, creds: &RemoteCredentials) -> Result<ObjectDestination, UrlError> {
    let _ = creds;
    let user = u
        .user
        .as_deref()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let port = u.port.map(|p| format!(":{p}")).unwrap_or_default();
    let name = format!("sftp://{user}{}{port}{}", u.host, u.path);
    if !ssh_on_path() {
        return Err(UrlError::Setup {
            url: name,
            detail: "sftp:// needs OpenSSH's `ssh` client, which zvm runs for the connection, and none is on PATH: install it (Debian/Ubuntu: apt install openssh-client)".into(),
        });
    }
    if let Some(k) = &u.key
        && !Path::new(k).is_file()
    {
        return Err(UrlError::Setup {
            url: name,
            detail: format!("the key file {k} given as ?key= does not exist"),
        });
    }
    let mut b = Sftp::default()
        .endpoint(&u.ssh_destination())
        .root(&u.path)
        .known_hosts_strategy(if u.add_unknown_host { "add" } else { "strict" });
    if let Some(k) = &u.key {
        b = b.key(k);
    }
    // No retry layer: a failed SFTP write leaves the file handle in an unknown state; the
    // engine retries the whole file instead.
    let op = Operator::new(b).map_err(|e| UrlError::Setup {
        url: name.clone(),
        detail: format!("{}: {}", e.kind(), e.message()),
    })?;
    Ok(ObjectDestination::new(
        op,
        ObjectSettings {
            name,
            part_size: WRITE_CHUNK,
            concurrent: 1,
            single_put_max: 0,
            verify_etag: false,
            verify_content_md5: false,
            staging: true,
            await_readable: true,
            key_limit: PATH_LIMIT,
            prefix_len: u.path.len() + 1,
        },
    ))
}
