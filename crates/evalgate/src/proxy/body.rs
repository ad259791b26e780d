//! The upstream response body on its way back to the client: chunk by chunk, pulled only when
//! hyper asks for the next frame (so a slow client slows the upstream read, and nothing runs
//! once the connection is gone), with `chunk_delay` between chunks and a cut after
//! `truncate_after` bytes or an idle upstream.
//!
//! A cut is a body error: hyper then closes the connection without finishing the message (no
//! final chunk for a chunked body; fewer bytes than `Content-Length` otherwise), so a client
//! reads the bytes forwarded so far and then an error, never a short body that looks whole.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};

use super::options::Counters;
use crate::errors::error_chain;
use crate::target::client::Response;

/// Why the proxy stopped forwarding a response body.
#[derive(Debug)]
pub(super) enum BodyCut {
    /// The condition's `truncate_after` was reached.
    Truncated(u64),
    /// The upstream sent nothing for the idle timeout.
    Idle(Duration),
    /// Reading the upstream body failed.
    Upstream(String),
}

impl std::fmt::Display for BodyCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyCut::Truncated(bytes) => {
                write!(
                    f,
                    "response body cut after {bytes} bytes by the load condition"
                )
            }
            BodyCut::Idle(idle) => write!(
                f,
                "upstream response body stalled for {}",
                crate::duration::show(*idle)
            ),
            BodyCut::Upstream(message) => write!(f, "upstream response body failed: {message}"),
        }
    }
}

impl std::error::Error for BodyCut {}

/// The knobs that shape a forwarded body.
#[derive(Clone, Copy, Debug)]
pub(super) struct BodyShape {
    pub(super) chunk_delay: Duration,
    pub(super) truncate_after: Option<u64>,
    pub(super) idle_timeout: Duration,
}

type Step = Option<(Result<Frame<Bytes>, BodyCut>, Pump)>;

/// A response body fed by the upstream response, one chunk per frame.
pub(super) struct FaultBody {
    next: Option<Pin<Box<dyn Future<Output = Step> + Send>>>,
}

impl FaultBody {
    pub(super) fn new(upstream: Response, shape: BodyShape, counters: Arc<Counters>) -> Self {
        let pump = Pump {
            upstream,
            shape,
            counters,
            left: shape.truncate_after,
            forwarded_any: false,
            state: PumpState::Streaming,
        };
        FaultBody {
            next: Some(Box::pin(pump.step())),
        }
    }
}

impl Body for FaultBody {
    type Data = Bytes;
    type Error = BodyCut;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        let Some(next) = self.next.as_mut() else {
            return Poll::Ready(None);
        };
        match next.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.next = None;
                Poll::Ready(None)
            }
            Poll::Ready(Some((frame, pump))) => {
                self.next = Some(Box::pin(pump.step()));
                Poll::Ready(Some(frame))
            }
        }
    }
}

enum PumpState {
    Streaming,
    /// Forwarded what was allowed; the next frame is this error.
    Cutting(BodyCut),
    Done,
}

struct Pump {
    upstream: Response,
    shape: BodyShape,
    counters: Arc<Counters>,
    /// Bytes still allowed through (`None`: no limit).
    left: Option<u64>,
    forwarded_any: bool,
    state: PumpState,
}

impl Pump {
    /// Produces the next frame, or `None` at the end of the upstream body.
    async fn step(mut self) -> Step {
        match std::mem::replace(&mut self.state, PumpState::Streaming) {
            PumpState::Streaming => {}
            PumpState::Done => return None,
            PumpState::Cutting(cut) => {
                // The last data frame is still in hyper's write buffer: letting hyper flush it
                // before the error aborts the connection delivers exactly the allowed bytes.
                tokio::task::yield_now().await;
                return self.fail(cut);
            }
        }
        let idle = self.shape.idle_timeout;
        let mut chunk = loop {
            let read = tokio::time::timeout(idle, self.upstream.chunk()).await;
            match read {
                Err(_) => {
                    self.counters
                        .upstream_timeouts
                        .fetch_add(1, Ordering::Relaxed);
                    return self.fail(BodyCut::Idle(idle));
                }
                Ok(Err(e)) => {
                    self.counters
                        .upstream_errors
                        .fetch_add(1, Ordering::Relaxed);
                    return self.fail(BodyCut::Upstream(error_chain(&e)));
                }
                Ok(Ok(None)) => return None,
                Ok(Ok(Some(chunk))) if chunk.is_empty() => continue,
                Ok(Ok(Some(chunk))) => break chunk,
            }
        };
        if let Some(left) = self.left {
            let limit = self.shape.truncate_after.unwrap_or(0);
            if chunk.len() as u64 > left {
                self.counters.truncated.fetch_add(1, Ordering::Relaxed);
                if left == 0 {
                    return self.fail(BodyCut::Truncated(limit));
                }
                // `left < chunk.len()`, so it fits in usize.
                chunk.truncate(left as usize);
                self.state = PumpState::Cutting(BodyCut::Truncated(limit));
            }
            self.left = Some(left - chunk.len() as u64);
        }
        if self.forwarded_any && !self.shape.chunk_delay.is_zero() {
            tokio::time::sleep(self.shape.chunk_delay).await;
        }
        self.forwarded_any = true;
        Some((Ok(Frame::data(chunk)), self))
    }

    fn fail(mut self, cut: BodyCut) -> Step {
        self.state = PumpState::Done;
        Some((Err(cut), self))
    }
}
