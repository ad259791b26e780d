//! One HTTP/1.1 server loop for every loopback server evalgate runs: the fault proxy, the
//! demo agent, and the mock agents and upstreams of the tests.
//!
//! [`http1`] accepts connections on a tokio [`TcpListener`] and serves each on its own task
//! with hyper's HTTP/1.1 connection (keep-alive on, no header read timeout: no timer is set)
//! through hyper-util's [`TokioIo`], with `TCP_NODELAY` set so small writes (a streamed
//! chunk, a short answer) leave at once; [`GracefulShutdown`] drains the connections when
//! the server stops. What differs between servers is the `io` hook that turns an accepted
//! [`TcpStream`] into the bytes HTTP is spoken on (a TLS handshake; [`tcp`] for the stream
//! itself) and when it stops.

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

/// How long an accept error (e.g. out of file descriptors) pauses accepting: no busy loop
/// while the error lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(5);

/// The `io` hook of [`http1`] for plain HTTP: the accepted stream itself.
pub fn tcp(stream: TcpStream) -> Ready<Option<TcpStream>> {
    std::future::ready(Some(stream))
}

/// Serves `service` over HTTP/1.1 on every connection `listener` accepts, until `shutdown`
/// completes. Then the listener is closed (new connections are refused) and every open
/// connection finishes the request it is serving and closes (idle keep-alive connections at
/// once); it returns when all are closed.
///
/// Each connection runs on its own task: first `io`'s future (the TLS handshake, say; `None`
/// drops the connection without a word), then hyper's HTTP/1.1 connection with a clone of
/// `service`. Connection errors (a client going away, a body cut) are not reported: the
/// service sees what it needs. Dropping the returned future (aborting its task) drops every
/// connection with it.
pub async fn http1<S, B, I, F, IO>(
    listener: TcpListener,
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
                Err(_) => tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                },
            },
        };
        let _ = stream.set_nodelay(true);
        let watcher = graceful.watcher();
        let handshake = io(stream);
        let (builder, service) = (builder.clone(), service.clone());
        connections.spawn(async move {
            let Some(io) = handshake.await else {
                return;
            };
            let connection = builder.serve_connection(TokioIo::new(io), service);
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    while connections.join_next().await.is_some() {}
}
