//! Where Graph reaches the receiver from: nowhere (local only, the simulator can still reach it), a
//! public URL the user runs (cloudflared, dev tunnels, a reverse proxy), or an ngrok tunnel Hookscope
//! opens itself. Every kind sits behind one `Tunnel` trait and one supervisor, which announces a URL
//! only once it really routes to the receiver, reports each state on the bus, and retries with backoff.

mod ngrok;
mod supervisor;

use std::future::Future;

use serde::Serialize;
use ts_rs::TS;

pub use self::ngrok::{failure as ngrok_failure, NgrokOptions, NgrokTunnel};

use crate::engine::Listening;
use crate::keeper::Keeper;
use crate::receiver::ReceiverUrls;
pub use supervisor::{supervise, Supervised, SupervisorTimings};

/// What the fronts show about the tunnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum TunnelState {
    Connecting,
    /// Routing to the receiver at this public URL.
    Online {
        url: String,
    },
    /// The tunnel dropped; it is being opened again.
    Reconnecting {
        reason: String,
    },
    /// Not reachable from outside, and why; `retrying` when Hookscope keeps trying on its own.
    Offline {
        reason: String,
        retrying: bool,
    },
}

/// Why a tunnel could not open: one sentence, and whether trying again later can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelError {
    pub message: String,
    /// A network problem (try again); false for what the user must fix (a missing authtoken).
    pub retry: bool,
}

/// One way to make the receiver reachable from outside.
pub trait Tunnel: Send + 'static {
    /// Opens the tunnel to the receiver at `local`; Ok with the public root URL. The tunnel stays open
    /// while the value lives.
    fn open(&mut self, local: &str) -> impl Future<Output = Result<String, TunnelError>> + Send;

    /// Resolves, with the reason, when an open tunnel is gone for good (not when it reconnects by
    /// itself, as an ngrok session does).
    fn closed(&mut self) -> impl Future<Output = String> + Send;
}

/// A public URL the user runs themselves: it is what it is, and never closes.
pub struct ExternalUrl(pub String);

impl Tunnel for ExternalUrl {
    async fn open(&mut self, _local: &str) -> Result<String, TunnelError> {
        crate::receiver::normalize_public_url(&self.0).map_err(|error| TunnelError {
            message: error.to_string(),
            retry: false,
        })
    }

    async fn closed(&mut self) -> String {
        std::future::pending().await
    }
}

/// What a front does when the tunnel's state changes: a URL that came online is announced as the
/// receiver's public URL and the keeper re-points every subscription at it. Returns the new URLs.
pub fn follow(
    state: &TunnelState,
    listening: &mut Listening,
    keeper: Option<&Keeper>,
) -> anyhow::Result<Option<ReceiverUrls>> {
    let TunnelState::Online { url } = state else {
        return Ok(None);
    };
    if listening.urls().public_url.as_deref() == Some(url.as_str()) {
        return Ok(None);
    }
    let urls = listening.set_public_url(Some(url.clone()))?;
    if let Some(keeper) = keeper {
        keeper.set_urls(urls.clone());
    }
    Ok(Some(urls))
}

/// The ngrok settings: the environment (`NGROK_AUTHTOKEN`, `HOOKSCOPE_NGROK_DOMAIN`) wins, else the
/// authtoken kept in the keyring and the domain saved in the app's settings.
pub fn ngrok_options(data_dir: &std::path::Path, saved_domain: Option<&str>) -> NgrokOptions {
    NgrokOptions {
        authtoken: ngrok_authtoken(data_dir),
        domain: env("HOOKSCOPE_NGROK_DOMAIN").or_else(|| saved_domain.map(str::to_owned)),
        server_addr: env("HOOKSCOPE_NGROK_SERVER"),
        ca_cert: None,
    }
}

/// The ngrok authtoken from `NGROK_AUTHTOKEN`, else the keyring.
pub fn ngrok_authtoken(data_dir: &std::path::Path) -> Option<String> {
    env("NGROK_AUTHTOKEN").or_else(|| crate::secrets::Secrets::new(data_dir).get(NGROK_SECRET))
}

use crate::graph::settings::env;

/// The name the ngrok authtoken is kept under in the keyring.
pub const NGROK_SECRET: &str = "ngrok-authtoken";
