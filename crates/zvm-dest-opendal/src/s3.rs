//! S3 and S3-compatible services: an [`ObjectDestination`] on OpenDAL's S3 service, with
//! the endpoint, region and credentials from the URL, the config file or the usual AWS
//! environment variables, in that order.

use opendal::services::S3;

use crate::object::{ObjectDestination, ObjectSettings};
use crate::s3_multipart::S3Multipart;
use crate::url::{RemoteCredentials, S3Url, UrlError};

/// Default multipart part size: S3's minimum, so that a file in flight holds as little as
/// S3 allows in memory. 10 000 parts of it make files up to 48.8 GiB; `?part_size=` for more.
pub const DEFAULT_PART_SIZE: usize = crate::url::S3_MIN_PART;

/// Parts of one file in flight by default (`?upload_concurrency=` for others).
pub const DEFAULT_CONCURRENCY: usize = 1;

/// Parts that all files of a run together may keep in memory while they are sent in the
/// background (`?upload_memory=` for another amount), besides the part each file fills. At
/// `-j 8` with 5 MiB parts: 40 MiB being filled and at most 30 MiB (6 parts) being sent,
/// where one part in flight per file would hold 40 MiB. When the budget is spent, a file
/// sends its full part and waits for the answer before it fills the next, so memory stays
/// bounded and no file stops for another (measured with 8 files of 512 MiB: peak RSS 99 MiB
/// against 132 MiB before, no slower; BENCHMARKS.md).
pub const DEFAULT_UPLOAD_MEMORY: usize = 32 * 1024 * 1024;

/// Files up to this size go up in one streamed PUT, larger ones in a multipart upload
/// (`?upload_cutoff=` for another size). rclone's default cutoff: a single PUT costs the
/// server less than the same bytes in 5 MiB parts (BENCHMARKS.md: moto spent about 6 CPU
/// seconds per GiB on single PUTs against 10 on multipart uploads), and holds a few network
/// chunks in memory instead of parts. What it gives up: a single PUT broken off by a crash
/// leaves nothing to resume, where a larger file's multipart upload is taken over by the
/// next run ([`crate::s3_multipart`]).
pub const DEFAULT_UPLOAD_CUTOFF: u64 = 200 * 1024 * 1024;

/// S3 keys are at most 1024 bytes of UTF-8.
const S3_KEY_LIMIT: usize = 1024;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub(crate) fn open(u: &S3Url, creds: &RemoteCredentials) -> Result<ObjectDestination, UrlError> {
    let name = if u.prefix.is_empty() {
        format!("s3://{}", u.bucket)
    } else {
        format!("s3://{}/{}", u.bucket, u.prefix)
    };
    let endpoint = u
        .endpoint
        .clone()
        .or_else(|| creds.endpoint.clone())
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| env("AWS_ENDPOINT_URL"));
    let region = u
        .region
        .clone()
        .or_else(|| creds.region.clone())
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"));
    let region = match (region, &endpoint) {
        (Some(r), _) => r,
        // S3-compatible servers accept any region name in the signature.
        (None, Some(_)) => "us-east-1".to_string(),
        (None, None) => return Err(UrlError::MissingRegion { url: name }),
    };
    let key_id = creds
        .access_key_id
        .clone()
        .or_else(|| env("AWS_ACCESS_KEY_ID"));
    let secret = creds
        .secret_access_key
        .clone()
        .or_else(|| env("AWS_SECRET_ACCESS_KEY"));
    let token = creds
        .session_token
        .clone()
        .or_else(|| env("AWS_SESSION_TOKEN"));

    let mut b = S3::default()
        .bucket(&u.bucket)
        .root(&format!("/{}", u.prefix))
        .region(&region);
    if let Some(e) = &endpoint {
        b = b.endpoint(e);
    }
    // The signer of the multipart requests zvm sends itself: the same credentials.
    let ctx = reqsign_core::Context::new()
        .with_file_read(reqsign_file_read_tokio::TokioFileRead)
        .with_env(reqsign_core::OsEnv);
    let signing = reqsign_aws_v4::RequestSigner::new("s3", &region);
    let signer = match (&key_id, &secret) {
        (Some(id), Some(secret)) => {
            let mut keys = reqsign_aws_v4::StaticCredentialProvider::new(id, secret);
            if let Some(t) = &token {
                keys = keys.with_session_token(t);
            }
            reqsign_core::Signer::new(ctx, keys, signing)
        }
        _ => reqsign_core::Signer::new(
            ctx,
            reqsign_aws_v4::DefaultCredentialProvider::new(),
            signing,
        ),
    };
    let bucket_url = format!(
        "{}/{}",
        endpoint_base(endpoint.as_deref(), &region),
        u.bucket
    );
    match (key_id, secret) {
        (Some(id), Some(secret)) => {
            b = b
                .access_key_id(&id)
                .secret_access_key(&secret)
                // The keys are given: no profile files, no instance metadata to wait for.
                .disable_config_load()
                .disable_ec2_metadata();
            if let Some(t) = token {
                b = b.session_token(&t);
            }
        }
        // A named profile: the signer reads ~/.aws/credentials and ~/.aws/config itself.
        _ if env("AWS_PROFILE").is_some() => {}
        _ => return Err(UrlError::MissingCredentials { url: name }),
    }

    let op = crate::transport::retrying_operator(b, &name)?;
    let prefix_len = crate::transport::key_offset(&u.prefix);
    let part_size = u.part_size.unwrap_or(DEFAULT_PART_SIZE);
    let concurrent = u.upload_concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    let multipart = S3Multipart::new(
        signer,
        bucket_url,
        &u.prefix,
        part_size,
        concurrent,
        u.upload_memory.unwrap_or(DEFAULT_UPLOAD_MEMORY),
    );
    Ok(ObjectDestination::new(
        op,
        ObjectSettings {
            name,
            part_size,
            concurrent,
            single_put_max: u.upload_cutoff.unwrap_or(DEFAULT_UPLOAD_CUTOFF),
            verify_etag: u.verify_etag,
            verify_content_md5: false,
            // A multipart upload appears whole on completion, atomically.
            staging: false,
            await_readable: false,
            key_limit: S3_KEY_LIMIT,
            prefix_len,
        },
    )
    .with_multipart(std::sync::Arc::new(multipart)))
}

/// The service's address before the bucket, as OpenDAL's S3 service addresses it
/// (path-style): the endpoint given (https if it names no scheme), else AWS's for the region.
fn endpoint_base(endpoint: Option<&str>, region: &str) -> String {
    let e = match endpoint {
        Some(e) if e.starts_with("http://") || e.starts_with("https://") => e.to_string(),
        Some(e) => format!("https://{e}"),
        None => format!("https://s3.{region}.amazonaws.com"),
    };
    let e = e.trim_end_matches('/');
    if e == "https://s3.amazonaws.com" {
        format!("https://s3.{region}.amazonaws.com")
    } else {
        e.to_string()
    }
}
