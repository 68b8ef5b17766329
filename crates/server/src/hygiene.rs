//! What every answer carries regardless of route: security headers, and a
//! connection the client can reuse. A request refused before its body was
//! read (no credentials, a role refused) has the rest of its body read and
//! dropped, so the next request on the connection is read correctly; a body
//! too large or too slow to drain gets `Connection: close` instead, so the
//! client opens a new connection rather than meeting one the server
//! dropped.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// The pages' policy: everything from this server, nothing inline but
/// styles (the SVG timeline and the report set style attributes), never
/// framed by another site.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The report page's policy: no script at all, its own inline style, and
/// framed only by our own incident page.
pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/// A request body that notes when it has been read to the end, and when
/// dropped unread hands what is left back, so it can be drained.
struct Tracked {
    inner: Body,
    done: Arc<AtomicBool>,
    left: Arc<Mutex<Option<Body>>>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(r, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.done.store(true, Ordering::Release);
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            self.done.store(true, Ordering::Release);
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.done.load(Ordering::Acquire) {
            let rest = std::mem::replace(&mut self.inner, Body::empty());
            *self.left.lock().unwrap_or_else(|p| p.into_inner()) = Some(rest);
        }
    }
}

/// Most of an unread body read (and thrown away) after a refusal so the
/// connection can serve the client's next request; beyond this, or if the
/// client is slow, the answer says `Connection: close` instead.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Reads a body to its end; false when it is longer than the limit, fails,
/// or takes too long.
async fn drain(mut body: Body) -> bool {
    let read = async {
        let mut n = 0usize;
        loop {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                None => return true,
                Some(Err(_)) => return false,
                Some(Ok(frame)) => {
                    n += frame.data_ref().map_or(0, Bytes::len);
                    if n > DRAIN_LIMIT {
                        return false;
                    }
                }
            }
        }
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}

/// Layered over the whole router (API and pages).
pub async fn hygiene(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let done = Arc::new(AtomicBool::new(body.is_end_stream()));
    let left = Arc::new(Mutex::new(None));
    let body = Body::new(Tracked {
        inner: body,
        done: done.clone(),
        left: left.clone(),
    });
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let rest = left.lock().unwrap_or_else(|p| p.into_inner()).take();
    let usable = match rest {
        Some(rest) => drain(rest).await,
        None => done.load(Ordering::Acquire),
    };
    let h = res.headers_mut();
    if !usable {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(PAGE_CSP));
    res
}
