//! Google Cloud Storage: an [`ObjectDestination`] on OpenDAL's `gcs` service. A file of at
//! most one part goes up in one insert; a larger one through GCS's XML multipart upload in
//! parts of `part_size` bytes, completed after the last byte, which GCS does atomically:
//! nothing is under the object's name before it is whole. The proof afterwards is the
//! size read back, and the MD5 the service reports where it reports one (objects sent in
//! one request; a multipart object has only a CRC32C, which zvm does not compute).
//!
//! Credentials, in this order: the caller's (config: a service-account key file or an
//! OAuth access token), then the file `GOOGLE_APPLICATION_CREDENTIALS` names. OpenDAL's
//! signer would also look at gcloud's well-known file and the VM metadata server; zvm
//! passes what it found explicitly and turns those off, so that a missing key is a clear
//! error, not a slow timeout.

use opendal::services::Gcs;

use crate::object::{ObjectDestination, ObjectSettings};
use crate::url::{GcsUrl, RemoteCredentials, UrlError};

/// Default part size (GCS's XML multipart takes parts of at least 5 MiB but the last).
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

/// Object names are at most 1024 bytes of UTF-8.
const OBJECT_NAME_LIMIT: usize = 1024;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub(crate) fn open(u: &GcsUrl, creds: &RemoteCredentials) -> Result<ObjectDestination, UrlError> {
    let name = u.display();
    let mut b = Gcs::default()
        .bucket(&u.bucket)
        .root(&format!("/{}", u.prefix))
        .disable_config_load()
        .disable_vm_metadata();
    if let Some(token) = &creds.gcs_token {
        b = b.token(token.clone());
    } else if let Some((path, given_by)) = creds
        .gcs_credential_path
        .clone()
        .map(|p| (p, "credential_path under [remote.gcs]"))
        .or_else(|| {
            env("GOOGLE_APPLICATION_CREDENTIALS").map(|p| (p, "GOOGLE_APPLICATION_CREDENTIALS"))
        })
    {
        if !std::path::Path::new(&path).is_file() {
            return Err(UrlError::Setup {
                url: name,
                detail: format!(
                    "the credentials file {path} ({given_by}) does not exist: give the path of a service-account key file"
                ),
            });
        }
        b = b.credential_path(&path);
    } else {
        return Err(UrlError::MissingGcsCredentials { url: name });
    }
    if let Some(e) = u.endpoint.as_ref().or(creds.endpoint.as_ref()) {
        b = b.endpoint(e);
    }

    let op = crate::transport::retrying_operator(b, &name)?;
    let prefix_len = crate::transport::key_offset(&u.prefix);
    Ok(ObjectDestination::new(
        op,
        ObjectSettings {
            name,
            part_size: u.part_size.unwrap_or(DEFAULT_PART_SIZE),
            concurrent: 1,
            single_put_max: 0,
            // The JSON API's ETag is a version tag, not an MD5 of the bytes.
            verify_etag: false,
            verify_content_md5: true,
            // A multipart upload is completed atomically.
            staging: false,
            await_readable: false,
            key_limit: OBJECT_NAME_LIMIT,
            prefix_len,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::DestUrl;

    fn gcs(text: &str) -> GcsUrl {
        match DestUrl::parse(text) {
            Ok(DestUrl::Gcs(g)) => g,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn a_missing_key_file_is_named_in_the_error() {
        let creds = RemoteCredentials {
            gcs_credential_path: Some("/nonexistent/zvm-sa.json".into()),
            ..Default::default()
        };
        let e = open(&gcs("gcs://rec/zoom"), &creds).err().expect("refused");
        let msg = e.to_string();
        assert!(
            msg.contains("gcs://rec/zoom")
                && msg.contains("/nonexistent/zvm-sa.json")
                && msg.contains("[remote.gcs]"),
            "the URL, the path and where the path was given: {msg}"
        );
    }

    #[test]
    fn without_credentials_the_error_says_which_variable_to_set() {
        if std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some() {
            // The variable's file would be used; the refusal cannot be shown here, which
            // only a developer's own machine may excuse.
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "GOOGLE_APPLICATION_CREDENTIALS is set under CI"
            );
            return;
        }
        let e = open(&gcs("gcs://rec/zoom"), &RemoteCredentials::default())
            .err()
            .expect("refused");
        assert!(matches!(e, UrlError::MissingGcsCredentials { .. }), "{e}");
        assert!(
            e.to_string().contains("GOOGLE_APPLICATION_CREDENTIALS"),
            "{e}"
        );
    }

    #[test]
    fn a_token_from_the_config_opens_without_any_file() {
        let creds = RemoteCredentials {
            gcs_token: Some("ya29.test-token".into()),
            ..Default::default()
        };
        let d = open(&gcs("gcs://rec/zoom?endpoint=http://127.0.0.1:9"), &creds).expect("opened");
        assert_eq!(zvm_dest::Destination::describe(&d), "gcs://rec/zoom");
        assert!(!format!("{creds:?}").contains("ya29.test-token"));
    }
}
