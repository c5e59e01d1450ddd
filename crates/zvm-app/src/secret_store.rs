//! Where the Zoom app's client secret, and the secrets of the remote destinations (a WebDAV
//! password, an S3 secret key, ...), are kept between sessions, for front ends that let the
//! user type them once (the GUI): the OS keyring where one answers (the same Secret Service
//! entry family as the token, service "zvm", one entry each), else a private 0600 file each
//! next to the token file. A secret is never printed; errors name the place, never the value.

use std::path::{Path, PathBuf};

use crate::token_store::StoreKind;

/// The file used where no keyring answers.
const FILE_NAME: &str = "client-secret";

/// The keyring entry (user name under service "zvm") of the client secret.
const KEYRING_USER: &str = "zoom-client-secret";

/// The secret could not be read, kept or removed.
#[derive(Debug, thiserror::Error)]
#[error("the {what} could not be {action} {place}: {detail}")]
pub struct SecretStoreError {
    what: String,
    action: &'static str,
    place: String,
    detail: String,
}

/// A place for one secret.
#[derive(Debug, Clone)]
pub struct SecretStore {
    file: PathBuf,
    use_keyring: bool,
    /// The keyring entry's user name.
    entry: String,
    /// What the secret is, for errors: "client secret", "remote.webdav.password".
    what: String,
}

impl SecretStore {
    /// The keyring if `kind` allows it and one answers, else `config_dir/client-secret`.
    pub fn choose(config_dir: &Path, kind: StoreKind) -> SecretStore {
        let env_file = std::env::var("ZVM_TOKEN_STORE").is_ok_and(|v| v == "file");
        let use_keyring = kind == StoreKind::Auto && !env_file && keyring::answers();
        SecretStore {
            file: config_dir.join(FILE_NAME),
            use_keyring,
            entry: KEYRING_USER.to_string(),
            what: "client secret".into(),
        }
    }

    /// The place of a remote destination's secret, named by its config key
    /// (`remote.webdav.password`): the keyring entry of that name if `kind` allows it and
    /// a keyring answers, else the 0600 file `config_dir/remote-secrets/<key>`.
    pub fn remote(config_dir: &Path, kind: StoreKind, key: &str) -> SecretStore {
        Self::choose(config_dir, kind).remote_beside(config_dir, key)
    }

    /// [`SecretStore::remote`] with this store's choice of keyring or file (asking the
    /// keyring once for many secrets).
    pub fn remote_beside(&self, config_dir: &Path, key: &str) -> SecretStore {
        // The keys are zvm's own (letters, `_` and `.`), never user input: a file name.
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        SecretStore {
            file: config_dir.join("remote-secrets").join(safe),
            use_keyring: self.use_keyring,
            entry: key.to_string(),
            what: key.to_string(),
        }
    }

    /// Where the secret would go, without asking the keyring (asking can wait on D-Bus):
    /// the file, and whether a keyring may be used instead.
    pub fn planned(config_dir: &Path, kind: StoreKind) -> (PathBuf, bool) {
        let env_file = std::env::var("ZVM_TOKEN_STORE").is_ok_and(|v| v == "file");
        let keyring_maybe = kind == StoreKind::Auto
            && !env_file
            && cfg!(all(feature = "keyring", target_os = "linux"));
        (config_dir.join(FILE_NAME), keyring_maybe)
    }

    /// Where the secret lives, for the window to say.
    pub fn location(&self) -> String {
        if self.use_keyring {
            format!(
                "the OS keyring (Secret Service, service \"zvm\", entry \"{}\")",
                self.entry
            )
        } else {
            self.file.display().to_string()
        }
    }

    fn err(&self, action: &'static str, detail: impl ToString) -> SecretStoreError {
        SecretStoreError {
            what: self.what.clone(),
            action,
            place: format!("in {}", self.location()),
            detail: detail.to_string(),
        }
    }

    /// The kept secret, if any.
    pub fn load(&self) -> Result<Option<String>, SecretStoreError> {
        if self.use_keyring {
            return keyring::load(&self.entry).map_err(|e| self.err("read from", e));
        }
        match std::fs::read_to_string(&self.file) {
            Ok(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err("read from", e)),
        }
    }

    /// Keeps `secret` (replacing any kept before).
    pub fn save(&self, secret: &str) -> Result<(), SecretStoreError> {
        if self.use_keyring {
            return keyring::save(&self.entry, secret).map_err(|e| self.err("kept", e));
        }
        write_private(&self.file, secret.as_bytes()).map_err(|e| self.err("kept", e))
    }

    /// Removes the kept secret (nothing kept is fine).
    pub fn clear(&self) -> Result<(), SecretStoreError> {
        if self.use_keyring {
            return keyring::clear(&self.entry).map_err(|e| self.err("removed from", e));
        }
        match std::fs::remove_file(&self.file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.err("removed from", e)),
            _ => Ok(()),
        }
    }
}

/// Writes `bytes` to `path` through a temp file created 0600, so the secret is never
/// readable by others, not even for a moment, and never half written.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // `NAME.tmp` beside it (not `with_extension`, which would give `remote.s3.tmp` to
    // every secret of `remote.s3.*`).
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    {
        let mut f = opts.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(all(feature = "keyring", target_os = "linux"))]
mod keyring {
    use keyring_core::{Entry, Error};

    const SERVICE: &str = "zvm";

    fn entry(user: &str) -> Result<Entry, Error> {
        Entry::new(SERVICE, user)
    }

    /// True when a Secret Service answers and the entry can be read.
    pub fn answers() -> bool {
        let Ok(store) = zbus_secret_service_keyring_store::Store::new() else {
            return false;
        };
        keyring_core::set_default_store(store);
        matches!(
            entry(super::KEYRING_USER).and_then(|e| e.get_password()),
            Ok(_) | Err(Error::NoEntry)
        )
    }

    pub fn load(user: &str) -> Result<Option<String>, Error> {
        match entry(user)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn save(user: &str, secret: &str) -> Result<(), Error> {
        entry(user)?.set_password(secret)
    }

    pub fn clear(user: &str) -> Result<(), Error> {
        match entry(user)?.delete_credential() {
            Ok(()) | Err(Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// No keyring in this build or on this system: the file is used.
#[cfg(not(all(feature = "keyring", target_os = "linux")))]
mod keyring {
    pub fn answers() -> bool {
        false
    }
    pub fn load(_: &str) -> Result<Option<String>, &'static str> {
        Err("no keyring")
    }
    pub fn save(_: &str, _: &str) -> Result<(), &'static str> {
        Err("no keyring")
    }
    pub fn clear(_: &str) -> Result<(), &'static str> {
        Err("no keyring")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_store_keeps_the_secret_privately_and_forgets_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::choose(dir.path(), StoreKind::FileOnly);
        assert_eq!(store.load().unwrap(), None);
        store.save("s3cret-value").unwrap();
        assert_eq!(store.load().unwrap().as_deref(), Some("s3cret-value"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        store.clear().unwrap();
        assert_eq!(store.load().unwrap(), None);
        store.clear().unwrap();
    }

    #[test]
    fn an_error_names_the_place_never_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: writing fails.
        std::fs::create_dir_all(dir.path().join(FILE_NAME).join("x")).unwrap();
        let store = SecretStore::choose(dir.path(), StoreKind::FileOnly);
        let e = store.save("s3cret-value").unwrap_err().to_string();
        assert!(e.contains(FILE_NAME), "{e}");
        assert!(!e.contains("s3cret-value"), "{e}");
    }

    #[test]
    fn each_remote_secret_has_a_private_file_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let dav = SecretStore::remote(dir.path(), StoreKind::FileOnly, "remote.webdav.password");
        let s3 = SecretStore::remote(
            dir.path(),
            StoreKind::FileOnly,
            "remote.s3.secret_access_key",
        );
        let zoom = SecretStore::choose(dir.path(), StoreKind::FileOnly);
        dav.save("dav-s3cret").unwrap();
        s3.save("s3-s3cret").unwrap();
        assert_eq!(dav.load().unwrap().as_deref(), Some("dav-s3cret"));
        assert_eq!(s3.load().unwrap().as_deref(), Some("s3-s3cret"));
        assert_eq!(zoom.load().unwrap(), None);
        let file = dir.path().join("remote-secrets/remote.webdav.password");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        assert!(dav.location().contains("remote.webdav.password"));
        dav.clear().unwrap();
        assert_eq!(dav.load().unwrap(), None);
        assert_eq!(s3.load().unwrap().as_deref(), Some("s3-s3cret"));
        // Its errors say which secret, never the value.
        std::fs::create_dir_all(dir.path().join("remote-secrets/remote.gcs.token/x")).unwrap();
        let e = SecretStore::remote(dir.path(), StoreKind::FileOnly, "remote.gcs.token")
            .save("gcs-s3cret")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("remote.gcs.token") && !e.contains("gcs-s3cret"),
            "{e}"
        );
    }
}
