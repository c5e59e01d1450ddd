//! Azure Blob Storage: an [`ObjectDestination`] on OpenDAL's `azblob` service. A file goes
//! up as blocks of `part_size` bytes (Put Block) and becomes a blob only when the block
//! list is committed (Put Block List) after its last byte, which Azure does atomically: an
//! uncommitted block is invisible under the blob's name, so nothing is under the final
//! name before it is whole, without a `.part` to rename. A file of at most one block goes
//! up in one Put Blob. The proof afterwards is the size read back, and the Content-MD5 the
//! service reports where it reports one (Azure computes it for a single Put Blob; a
//! committed block list has none unless the client sets it).
//!
//! Credentials, in this order: the caller's (config), then `AZURE_STORAGE_CONNECTION_STRING`,
//! then `AZURE_STORAGE_ACCOUNT` with `AZURE_STORAGE_KEY` (the names the Azure CLI reads) or
//! `AZURE_STORAGE_SAS_TOKEN`. OpenDAL's own signer would read other names
//! (`AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`, `AZBLOB_ACCOUNT_*`) and then
//! try managed identities over the network; zvm passes what it found explicitly and refuses
//! to start without any, so that a missing key is a clear error, not a slow timeout.

use opendal::services::Azblob;

use crate::object::{ObjectDestination, ObjectSettings};
use crate::url::{AzblobUrl, RemoteCredentials, UrlError};

/// Default block size: what one file in flight holds in memory is a few of these. Azure
/// allows 50 000 blocks per blob, so 4 MiB blocks make blobs up to 195 GiB.
pub const DEFAULT_BLOCK_SIZE: usize = 4 * 1024 * 1024;

/// Blob names are at most 1024 characters.
const BLOB_NAME_LIMIT: usize = 1024;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// How zvm signs its requests: with the account key, or a SAS token.
enum Login {
    SharedKey {
        account: String,
        key: String,
    },
    Sas {
        account: Option<String>,
        token: String,
    },
}

pub(crate) fn open(
    u: &AzblobUrl,
    creds: &RemoteCredentials,
) -> Result<ObjectDestination, UrlError> {
    let name = u.display();
    let account_from_url = u.account.clone().or_else(|| creds.azure_account.clone());

    // A connection string carries the account, the key and possibly the endpoint.
    let conn = creds
        .azure_connection_string
        .clone()
        .or_else(|| env("AZURE_STORAGE_CONNECTION_STRING"));
    let mut b = match &conn {
        Some(c) => Azblob::from_connection_string(c).map_err(|e| UrlError::Setup {
            url: name.clone(),
            // Only the kind: the message could quote the string, which holds the key.
            detail: format!(
                "AZURE_STORAGE_CONNECTION_STRING cannot be read: {}",
                e.kind()
            ),
        })?,
        None => {
            let login = login(account_from_url.clone(), creds)
                .ok_or_else(|| UrlError::MissingAzureCredentials { url: name.clone() })?;
            let mut b = Azblob::default();
            let account = match login {
                Login::SharedKey { account, key } => {
                    b = b.account_name(&account).account_key(&key);
                    Some(account)
                }
                Login::Sas { account, token } => {
                    b = b.sas_token(&token);
                    account
                }
            };
            let endpoint = match (&u.endpoint, &creds.endpoint, account) {
                (Some(_), _, _) | (None, Some(_), _) => None,
                (None, None, Some(a)) => Some(format!("https://{a}.blob.core.windows.net")),
                (None, None, None) => {
                    return Err(UrlError::MissingAzureCredentials { url: name.clone() });
                }
            };
            if let Some(e) = endpoint {
                b = b.endpoint(&e);
            }
            b
        }
    };
    if let Some(e) = u.endpoint.as_ref().or(creds.endpoint.as_ref()) {
        b = b.endpoint(e);
    }
    if let Some(a) = &account_from_url {
        b = b.account_name(a);
    }
    b = b.container(&u.container).root(&format!("/{}", u.prefix));

    let op = crate::transport::retrying_operator(b, &name)?;
    let prefix_len = crate::transport::key_offset(&u.prefix);
    Ok(ObjectDestination::new(
        op,
        ObjectSettings {
            name,
            part_size: u.part_size.unwrap_or(DEFAULT_BLOCK_SIZE),
            concurrent: 1,
            single_put_max: 0,
            // Azure's ETag is an opaque version tag, not an MD5 of the bytes.
            verify_etag: false,
            verify_content_md5: true,
            // The block list is committed atomically after the last block.
            staging: false,
            await_readable: false,
            key_limit: BLOB_NAME_LIMIT,
            prefix_len,
        },
    ))
}

/// The account key (config, then AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY), else a SAS
/// token (config, then AZURE_STORAGE_SAS_TOKEN).
fn login(account: Option<String>, creds: &RemoteCredentials) -> Option<Login> {
    let account = account.or_else(|| env("AZURE_STORAGE_ACCOUNT"));
    let key = creds
        .azure_account_key
        .clone()
        .or_else(|| env("AZURE_STORAGE_KEY"));
    if let (Some(account), Some(key)) = (&account, key) {
        return Some(Login::SharedKey {
            account: account.clone(),
            key,
        });
    }
    let token = creds
        .azure_sas_token
        .clone()
        .or_else(|| env("AZURE_STORAGE_SAS_TOKEN"))?;
    Some(Login::Sas { account, token })
}
