//! The receiver: an axum server on loopback that answers Graph's handshake, stores every notification
//! durably before acknowledging it, and records every request it gets, valid or not.

mod batch;
pub(crate) mod capture;
mod handler;
mod handshake;
mod rich;
mod serve;
mod verdicts;

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::oneshot;
use ts_rs::TS;

use crate::bus::Bus;
use crate::config::ReceiverOptions;
use crate::rich::Keychain;
use crate::store::Store;
use handler::ReceiverState;
use verdicts::SubscriptionBook;

pub use serve::BUSY_MESSAGE;

pub const NOTIFICATIONS_PATH: &str = "/notifications";
pub const LIFECYCLE_PATH: &str = "/lifecycle";

/// How long a stop waits for requests in flight.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Where the receiver can be reached, locally and (when published) from outside.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReceiverUrls {
    pub local_url: String,
    pub public_url: Option<String>,
    /// The URL to give Graph as `notificationUrl` (public when published, else local).
    pub notification_url: String,
    pub lifecycle_url: String,
}

impl ReceiverUrls {
    pub fn new(local: SocketAddr, public_url: Option<String>) -> Self {
        let local_url = format!("http://{local}");
        let root = public_url.clone().unwrap_or_else(|| local_url.clone());
        Self {
            notification_url: format!("{root}{NOTIFICATIONS_PATH}"),
            lifecycle_url: format!("{root}{LIFECYCLE_PATH}"),
            local_url,
            public_url,
        }
    }
}

/// What the fronts show about the receiver: where it listens, or why it does not.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReceiverStatus {
    pub urls: Option<ReceiverUrls>,
    pub error: Option<String>,
    pub data_dir: String,
    /// The tunnel's state; None when the receiver is local only.
    pub tunnel: Option<crate::tunnel::TunnelState>,
    /// Where accepted deliveries are handed on to, if anywhere.
    pub forward_to: Option<String>,
}

/// Checks a public URL the user gave and returns it without a trailing slash.
pub fn normalize_public_url(text: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(text.trim()).map_err(|error| {
        anyhow::anyhow!(
            "The public URL {text:?} is not a URL ({error}); give it as https://host[/prefix]."
        )
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        anyhow::bail!(
            "The public URL {text:?} must start with https:// (Graph only calls HTTPS URLs)."
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        anyhow::bail!(
            "The public URL {text:?} must not carry a query or fragment; give the receiver's root."
        );
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

pub struct RunningReceiver {
    pub urls: ReceiverUrls,
    pub local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningReceiver {
    /// Stops accepting connections and lets requests in flight finish (their commits included), for at
    /// most a few seconds: a client trickling a slow upload must not keep Hookscope from exiting.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // The serve loop gives connections STOP_GRACE itself; this only guards against a loop that hangs.
        if tokio::time::timeout(STOP_GRACE * 2, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

pub async fn start(
    store: Store,
    bus: Bus,
    keychain: Arc<Keychain>,
    options: &ReceiverOptions,
) -> anyhow::Result<RunningReceiver> {
    let public_url = options
        .public_url
        .as_deref()
        .map(normalize_public_url)
        .transpose()?;
    let address = SocketAddr::new(options.bind, options.port);
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|error| {
        if error.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!("Port {} on {} is already in use; stop the other program or pass --port 0 for any free port.", options.port, options.bind)
        } else {
            anyhow::anyhow!("Cannot listen on {address}: {error}.")
        }
    })?;
    let local_addr = listener.local_addr()?;
    let state = Arc::new(ReceiverState {
        book: SubscriptionBook::new(store.clone()),
        rich: rich::RichChecks::new(keychain),
        relay: options
            .relay
            .clone()
            .map(|relay| crate::relay::Relay::new(relay, store.clone(), bus.clone()).map(Arc::new))
            .transpose()?,
        store,
        bus,
        body_limit: options.body_limit,
        max_items: options.max_items,
        body_timeout: options.body_timeout,
        budget: capture::BodyBudget::new(options.body_budget.max(options.body_limit)),
    });
    let app = axum::Router::new()
        .fallback(handler::receive)
        .with_state(state);
    let (shutdown, stopped) = oneshot::channel::<()>();
    let limits = serve::Limits {
        max_connections: options.max_connections,
        header_timeout: options.header_timeout,
        grace: STOP_GRACE,
    };
    let task = tokio::spawn(serve::serve(listener, app, limits, stopped));
    Ok(RunningReceiver {
        urls: ReceiverUrls::new(local_addr, public_url),
        local_addr,
        shutdown: Some(shutdown),
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_checked_and_trimmed() {
        assert_eq!(
            normalize_public_url("https://abc.ngrok.app/").unwrap(),
            "https://abc.ngrok.app"
        );
        assert_eq!(
            normalize_public_url("https://example.com/hooks/").unwrap(),
            "https://example.com/hooks"
        );
        assert!(normalize_public_url("ftp://example.com").is_err());
        assert!(normalize_public_url("example.com").is_err());
        let urls = ReceiverUrls::new(
            "127.0.0.1:9000".parse().unwrap(),
            Some("https://x.test/p".into()),
        );
        assert_eq!(urls.notification_url, "https://x.test/p/notifications");
        assert_eq!(urls.lifecycle_url, "https://x.test/p/lifecycle");
    }
}
