//! The socket edge of the receiver: its own accept loop instead of `axum::serve`, because a receiver
//! on the public internet needs what that one does not offer: a cap on open connections, and hyper's
//! header-read timeout (which, between requests on a kept-alive connection, is also the idle timeout).
//! A connection over the cap gets a one-line 503 and is closed, so Graph retries instead of waiting.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};

pub const BUSY_MESSAGE: &str =
    "The receiver has too many connections open; Graph retries this delivery shortly.";

/// The answer to a connection past the cap, written without reading anything from it.
fn busy() -> Vec<u8> {
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BUSY_MESSAGE}",
        BUSY_MESSAGE.len()
    )
    .into_bytes()
}

pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// How long a stop waits for connections in flight.
    pub grace: Duration,
}

/// Serves `app` until `stop` fires, then lets connections in flight finish for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: oneshot::Receiver<()>,
) {
    let busy = busy();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // A fresh socket's send buffer always has room for one short answer; never wait on it.
            let _ = stream.try_write(&busy);
            tracing::warn!("refused a connection: {} are open", limits.max_connections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection that ends in a timeout or a reset is the client's business, not an error here.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("stopped with connections still open after the grace period");
    }
}
