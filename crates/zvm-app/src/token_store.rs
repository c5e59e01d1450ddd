//! Where the sign-in token lives, for every front end: the OS keyring where one answers
//! (Secret Service on Linux, the Keychain on macOS, the Credential Manager on Windows; the
//! same keyring-core family of crates serves all three), else a 0600 file in the config dir (headless machines, CI, or
//! `ZVM_TOKEN_STORE=file`). Because the CLI and the GUI both choose here, a sign-in made in
//! one is the sign-in of the other. The token never appears in any output either way.

use std::path::Path;
use std::sync::Arc;

use zvm_zoom::{FileTokenStore, TokenStore};

/// Which stores may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreKind {
    /// The keyring if it answers, else the file (what users get).
    #[default]
    Auto,
    /// The file only (tests that must not touch the keyring of the machine they run on).
    FileOnly,
}

/// Picks the store: the keyring if it works right now, else the file in `config_dir`.
pub fn choose(config_dir: &Path, kind: StoreKind) -> Arc<dyn TokenStore> {
    let file: Arc<dyn TokenStore> = Arc::new(FileTokenStore::new(config_dir));
    if kind == StoreKind::FileOnly || std::env::var("ZVM_TOKEN_STORE").is_ok_and(|v| v == "file") {
        return file;
    }
    #[cfg(all(
        feature = "keyring",
        any(target_os = "linux", target_os = "macos", target_os = "windows")
    ))]
    if let Some(k) = keyring::KeyringTokenStore::probe() {
        // A token signed in before the keyring was available stays usable until re-login.
        if matches!(file.load(), Ok(Some(_))) && matches!(k.load(), Ok(None)) {
            return file;
        }
        return Arc::new(k);
    }
    file
}

#[cfg(all(
    feature = "keyring",
    any(target_os = "linux", target_os = "macos", target_os = "windows")
))]
mod keyring {
    use keyring_core::{Entry, Error};
    use zvm_zoom::{StoredToken, TokenStore, ZoomError};

    const SERVICE: &str = "zvm";
    const USER: &str = "zoom-token";

    #[derive(Debug)]
    pub struct KeyringTokenStore;

    /// The OS's own credential store, if it can be opened here.
    fn native_store() -> Option<std::sync::Arc<keyring_core::CredentialStore>> {
        #[cfg(target_os = "linux")]
        let store = zbus_secret_service_keyring_store::Store::new();
        // The legacy keychain: the store an unsigned command-line app may use.
        #[cfg(target_os = "macos")]
        let store = apple_native_keyring_store::keychain::Store::new();
        #[cfg(target_os = "windows")]
        let store = windows_native_keyring_store::Store::new();
        let store: std::sync::Arc<keyring_core::CredentialStore> = store.ok()?;
        Some(store)
    }

    fn entry() -> Result<Entry, ZoomError> {
        Entry::new(SERVICE, USER).map_err(|e| ZoomError::TokenStore(format!("OS keyring: {e}")))
    }

    impl KeyringTokenStore {
        /// `Some` when a Secret Service answers and the entry can be read.
        pub fn probe() -> Option<Self> {
            keyring_core::set_default_store(native_store()?);
            match Entry::new(SERVICE, USER).ok()?.get_password() {
                Ok(_) | Err(Error::NoEntry) => Some(KeyringTokenStore),
                Err(_) => None,
            }
        }
    }

    impl TokenStore for KeyringTokenStore {
        fn load(&self) -> Result<Option<StoredToken>, ZoomError> {
            match entry()?.get_password() {
                Ok(s) => serde_json::from_str(&s).map(Some).map_err(|e| {
                    ZoomError::TokenStore(format!(
                        "the token in the OS keyring is unreadable ({e}); run `zvm auth login` again"
                    ))
                }),
                Err(Error::NoEntry) => Ok(None),
                Err(e) => Err(ZoomError::TokenStore(format!("OS keyring: {e}"))),
            }
        }

        fn save(&self, token: &StoredToken) -> Result<(), ZoomError> {
            let s =
                serde_json::to_string(token).map_err(|e| ZoomError::TokenStore(e.to_string()))?;
            entry()?
                .set_password(&s)
                .map_err(|e| ZoomError::TokenStore(format!("OS keyring: {e}")))
        }

        fn clear(&self) -> Result<(), ZoomError> {
            match entry()?.delete_credential() {
                Ok(()) | Err(Error::NoEntry) => Ok(()),
                Err(e) => Err(ZoomError::TokenStore(format!("OS keyring: {e}"))),
            }
        }

        fn location(&self) -> String {
            if cfg!(target_os = "macos") {
                "the macOS Keychain (service \"zvm\")".into()
            } else if cfg!(target_os = "windows") {
                "the Windows Credential Manager (service \"zvm\")".into()
            } else {
                "the OS keyring (Secret Service, service \"zvm\")".into()
            }
        }
    }
}
