//! One HTTP/1.1 server loop for every loopback server evalgate runs: the fault proxy, the
//! demo agent, and the mock agents and upstreams of the tests.
//!
//! [`http1`] accepts connections on a tokio [`TcpListener`] and serves each on its own task
//! with hyper's HTTP/1.1 connection (keep-alive on, no header read timeout: no timer is set)
//! through hyper-util's [`TokioIo`]; [`GracefulShutdown`] drains the connections when the
//! server stops. What differs between servers is an [`Options`] value (`TCP_NODELAY`, what an
//! accept error does, what stopping does to open connections) and the `io` hook that turns an
//! accepted [`TcpStream`] into the bytes HTTP is spoken on (a TLS handshake, a wrapper that
//! cuts the connection; [`tcp`] for the stream itself).

use std::error::Error as StdError;
use std::future::{Future, Ready};
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1::Builder;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// What [`http1`] does when accepting a connection fails (e.g. out of file descriptors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptError {
    /// Accepts again at once.
    Retry,
    /// Waits this long (or until the shutdown signal), then accepts again: no busy loop while
    /// the error lasts.
    BackOff(Duration),
    /// Stops accepting, as the shutdown signal does; open connections are then handled as
    /// [`Options::on_stop`] says.
    Stop,
}

/// What happens to the open connections once [`http1`] stops accepting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// Every connection finishes the request it is serving, then closes (idle keep-alive
    /// connections close at once); [`http1`] returns when all are closed.
    Drain,
    /// Every connection and the request in flight on it is dropped; [`http1`] returns at once.
    Abort,
    /// Connections go on until their clients close them (or the runtime shuts down);
    /// [`http1`] returns at once.
    Detach,
}

/// How one server started by [`http1`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Sets `TCP_NODELAY` on every accepted connection, so small writes (a streamed chunk, a
    /// short answer) leave at once.
    pub nodelay: bool,
    /// What a failed `accept` does.
    pub on_accept_error: AcceptError,
    /// What stopping does to open connections.
    pub on_stop: OnStop,
}

impl Default for Options {
    /// `TCP_NODELAY`, a 5 ms back-off on accept errors, connections drained on stop.
    fn default() -> Self {
        Options {
            nodelay: true,
            on_accept_error: AcceptError::BackOff(Duration::from_millis(5)),
            on_stop: OnStop::Drain,
        }
    }
}

/// The `io` hook of [`http1`] for plain HTTP: the accepted stream itself.
pub fn tcp(stream: TcpStream) -> Ready<Option<TcpStream>> {
    std::future::ready(Some(stream))
}

/// Serves `service` over HTTP/1.1 on every connection `listener` accepts, until `shutdown`
/// completes or (with [`AcceptError::Stop`]) an accept fails. Then the listener is closed
/// (new connections are refused) and open connections are drained, aborted or left running
/// as [`Options::on_stop`] says.
///
/// Each connection runs on its own task: first `io`'s future (the TLS handshake, say; `None`
/// drops the connection without a word), then hyper's HTTP/1.1 connection with a clone of
/// `service`. Connection errors (a client going away, a body cut) are not reported: the
/// service sees what it needs. Dropping the returned future (aborting its task) drops every
/// connection with it.
pub async fn http1<S, B, I, F, IO>(
    listener: TcpListener,
    options: Options,
    mut io: I,
    service: S,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    I: FnMut(TcpStream) -> F,
    F: Future<Output = Option<IO>> + Send + 'static,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Declared before `connections`, so that a dropped future aborts the connections before
    // this tells them to close.
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut builder = Builder::new();
    builder.keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Reaps the finished connections' tasks.
        while connections.try_join_next().is_some() {}
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => match options.on_accept_error {
                    AcceptError::Retry => continue,
                    AcceptError::BackOff(pause) => {
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(pause) => continue,
                        }
                    }
                    AcceptError::Stop => break,
                },
            },
        };
        if options.nodelay {
            let _ = stream.set_nodelay(true);
        }
        // Only drained connections are watched: a watcher left behind by `Detach` would tell
        // its connection to close when `graceful` is dropped.
        let watcher = (options.on_stop == OnStop::Drain).then(|| graceful.watcher());
        let handshake = io(stream);
        let (builder, service) = (builder.clone(), service.clone());
        connections.spawn(async move {
            let Some(io) = handshake.await else {
                return;
            };
            let connection = builder.serve_connection(TokioIo::new(io), service);
            let _ = match watcher {
                Some(watcher) => watcher.watch(connection).await,
                None => connection.await,
            };
        });
    }
    drop(listener);
    match options.on_stop {
        OnStop::Drain => {
            graceful.shutdown().await;
            while connections.join_next().await.is_some() {}
        }
        OnStop::Abort => connections.abort_all(),
        OnStop::Detach => connections.detach_all(),
    }
}
