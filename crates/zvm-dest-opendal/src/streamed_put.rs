//! [`StreamedPut`]: one HTTP PUT whose body is fed as the bytes arrive, for services where
//! OpenDAL's writer would hold a whole file in memory (WebDAV) or cost the server more than
//! one request (S3's multipart upload of a file that one PUT can carry). A file in flight
//! holds at most [`QUEUED_CHUNKS`] network chunks (a unit test below checks it).
//!
//! Such an upload cannot resume across runs: a PUT broken off leaves nothing to go on with
//! (S3 stores nothing; WebDAV's `.part` is written over), so the file starts over. Within a
//! run, a writer dropped mid-file keeps the request open for the retry to go on with (see
//! [`crate::object`]).

use async_trait::async_trait;
use bytes::Bytes;
use opendal::{Error, ErrorKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::sink::UploadSink;

/// Chunks of a download queued for the PUT at most (each the size the download delivers).
pub const QUEUED_CHUNKS: usize = 16;

/// An error of the PUT's answer, in OpenDAL's terms: `status: 507` (no room) is what
/// [`crate::errors`] reads as a full destination.
pub(crate) fn status_error(status: reqwest::StatusCode, body: &str) -> Error {
    let snippet = error_words(body);
    let message = format!("PUT answered status: {} {snippet}", status.as_u16());
    let kind = match status.as_u16() {
        401 | 403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        _ => ErrorKind::Unexpected,
    };
    let e = Error::new(kind, message);
    if status.is_server_error() && status.as_u16() != 507 || status.as_u16() == 429 {
        e.set_temporary()
    } else {
        e
    }
}

/// What a PUT's error body says, for the message: an S3-style XML error's `Code` and
/// `Message` only (its other elements may repeat the request's signature), else the start of
/// the body.
fn error_words(body: &str) -> String {
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let len = body[start..].find("</")?;
        Some(body[start..start + len].to_string())
    };
    let text = match element("Code") {
        Some(code) => format!("{code} {}", element("Message").unwrap_or_default()),
        None => body.to_string(),
    };
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

type BodyChunk = Result<Bytes, std::io::Error>;

/// The queue between the writer and the request's body: [`QUEUED_CHUNKS`] at most, so a
/// writer whose bytes the request does not take waits instead of holding more.
fn body_channel() -> (mpsc::Sender<BodyChunk>, mpsc::Receiver<BodyChunk>) {
    mpsc::channel(QUEUED_CHUNKS)
}

/// One PUT whose body is fed as the bytes arrive.
pub(crate) struct StreamedPut {
    /// `None` once the body is complete.
    tx: Option<mpsc::Sender<BodyChunk>>,
    /// The request, answering once the server has the whole body (or gave up).
    request: Option<JoinHandle<opendal::Result<()>>>,
}

impl StreamedPut {
    /// Sends `req` (its method, URL and headers set) with a body fed through the returned
    /// sink; the request runs in its own task until the body ends or breaks off.
    pub(crate) fn send(req: reqwest::RequestBuilder) -> StreamedPut {
        let (tx, mut rx) = body_channel();
        let body = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let req = req.body(reqwest::Body::wrap_stream(body));
        let request = tokio::spawn(async move {
            // Without the URL: a presigned one carries its signature.
            let resp = req.send().await.map_err(|e| {
                Error::new(ErrorKind::Unexpected, e.without_url().to_string()).set_temporary()
            })?;
            let status = resp.status();
            if status.is_success() {
                return Ok(());
            }
            let body = resp.text().await.unwrap_or_default();
            Err(status_error(status, &body))
        });
        StreamedPut {
            tx: Some(tx),
            request: Some(request),
        }
    }

    /// The request's outcome (waits for it).
    async fn outcome(&mut self) -> opendal::Result<()> {
        match self.request.take() {
            Some(r) => r.await.unwrap_or_else(|e| {
                Err(Error::new(
                    ErrorKind::Unexpected,
                    format!("the upload task failed: {e}"),
                ))
            }),
            None => Err(Error::new(
                ErrorKind::Unexpected,
                "the upload already ended",
            )),
        }
    }
}

#[async_trait]
impl UploadSink for StreamedPut {
    async fn write(&mut self, data: Bytes) -> opendal::Result<()> {
        let Some(tx) = &self.tx else {
            return Err(Error::new(
                ErrorKind::Unexpected,
                "the upload already ended",
            ));
        };
        if tx.send(Ok(data)).await.is_ok() {
            return Ok(());
        }
        // The request stopped taking the body: the server answered early, or the
        // connection broke. Its outcome says which.
        self.tx = None;
        match self.outcome().await {
            Ok(()) => Err(Error::new(
                ErrorKind::Unexpected,
                "the server ended the upload before the whole file was sent",
            )
            .set_temporary()),
            Err(e) => Err(e),
        }
    }

    async fn close(&mut self) -> opendal::Result<()> {
        // The end of the body: the request completes and the server answers.
        self.tx = None;
        self.outcome().await
    }

    async fn abort(&mut self) {
        if let Some(tx) = self.tx.take() {
            // An error in the body breaks the request off instead of completing it.
            let _ = tx
                .send(Err(std::io::Error::other("upload abandoned")))
                .await;
        }
        let _ = self.outcome().await;
    }
}

impl Drop for StreamedPut {
    fn drop(&mut self) {
        // Never complete a request that was not closed: a dropped sender alone would end
        // the body cleanly, and the server would keep a short file.
        if let Some(tx) = self.tx.take() {
            let _ = tx.try_send(Err(std::io::Error::other("upload abandoned")));
        }
        if let Some(r) = self.request.take() {
            r.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    /// The memory bound of a streamed upload: while the request takes none of its body (a
    /// slow or stalled server), the writer takes [`QUEUED_CHUNKS`] chunks and then waits,
    /// however many more there are. (Deterministic: a write that would wait is seen pending,
    /// not timed.)
    #[tokio::test]
    async fn a_put_whose_body_is_not_taken_holds_at_most_queued_chunks() {
        let (tx, rx) = body_channel();
        // A request that holds its body without reading any of it.
        let request = tokio::spawn(async move {
            let _body = rx;
            std::future::pending::<opendal::Result<()>>().await
        });
        let mut put = StreamedPut {
            tx: Some(tx),
            request: Some(request),
        };
        let chunk = Bytes::from(vec![7u8; 64 << 10]);
        let mut taken = 0;
        // Far more than the bound: a writer that held every chunk would take them all.
        for _ in 0..QUEUED_CHUNKS * 8 {
            match put.write(chunk.clone()).now_or_never() {
                Some(r) => {
                    r.expect("a queued chunk");
                    taken += 1;
                }
                None => break,
            }
        }
        assert_eq!(
            taken, QUEUED_CHUNKS,
            "chunks held while the request takes none"
        );
    }

    #[test]
    fn an_error_body_is_reported_by_its_code_and_message_only() {
        let body = "<Error><Code>XMinioStorageFull</Code><Message>Storage full</Message>\
                    <StringToSign>AWS4-HMAC-SHA256 secret-looking</StringToSign>\
                    <SignatureProvided>abc123</SignatureProvided></Error>";
        let e = status_error(reqwest::StatusCode::INSUFFICIENT_STORAGE, body).to_string();
        assert!(
            e.contains("status: 507 XMinioStorageFull Storage full"),
            "{e}"
        );
        assert!(!e.contains("abc123") && !e.contains("StringToSign"), "{e}");
    }
}
