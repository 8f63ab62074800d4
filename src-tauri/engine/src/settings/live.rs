//! The receiver, the tunnel and the retention as the settings say, started again when a change needs it. The app
//! owns one; it exists so that "change the port, the tunnel or the forward target" is one engine call,
//! tested here, rather than wiring spread through a front.

use std::sync::Arc;

use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use super::{Settings, TunnelMode};
use crate::engine::Listening;
use crate::receiver::ReceiverStatus;
use crate::relay::RelayOptions;
use crate::retention::Retention;
use crate::tunnel::{
    self, ExternalUrl, NgrokTunnel, Supervised, SupervisorTimings, Tunnel, TunnelState,
};
use crate::{Engine, ReceiverOptions};

pub struct Live {
    engine: Engine,
    running: Arc<Mutex<Running>>,
    status: Arc<watch::Sender<ReceiverStatus>>,
    timings: SupervisorTimings,
    retention: Retention,
}

#[derive(Default)]
struct Running {
    settings: Option<Settings>,
    listening: Option<Listening>,
    tunnel: Option<Supervised>,
    follower: Option<JoinHandle<()>>,
}

impl Live {
    pub fn new(engine: Engine, timings: SupervisorTimings) -> Live {
        let status = ReceiverStatus {
            urls: None,
            error: None,
            data_dir: engine.config().data_dir.display().to_string(),
            tunnel: None,
            forward_to: None,
        };
        Live {
            retention: Retention::start(engine.clone(), None),
            engine,
            running: Arc::default(),
            status: Arc::new(watch::channel(status).0),
            timings,
        }
    }

    /// The receiver's state as it changes (URLs, tunnel, the error that stopped it).
    pub fn status(&self) -> watch::Receiver<ReceiverStatus> {
        self.status.subscribe()
    }

    pub fn current(&self) -> ReceiverStatus {
        self.status.borrow().clone()
    }

    /// Starts (or starts again) the receiver and the tunnel for `settings`; leaves them running when
    /// nothing they depend on changed. A taken port falls back to any free one rather than leaving
    /// the app deaf.
    pub async fn apply(&self, settings: &Settings) {
        self.apply_with(settings, false).await
    }

    /// Starts again even when the settings did not change: a new ngrok authtoken lives in the
    /// keyring, not in the settings.
    pub async fn restart(&self, settings: &Settings) {
        self.apply_with(settings, true).await
    }

    async fn apply_with(&self, settings: &Settings, force: bool) {
        self.retention.set(settings.retention_days);
        let mut running = self.running.lock().await;
        // A receiver that failed to start is tried again even with the same settings.
        if !force
            && running.listening.is_some()
            && running
                .settings
                .as_ref()
                .is_some_and(|before| !settings.needs_restart(before))
        {
            running.settings = Some(settings.clone());
            return;
        }
        running.stop().await;
        running.settings = Some(settings.clone());
        let relay = settings.forward_to.as_deref().map(|target| {
            RelayOptions::new(target).map(|mut relay| {
                relay.handshake = settings.forward_handshake;
                relay
            })
        });
        let relay = match relay.transpose() {
            Ok(relay) => relay,
            Err(error) => {
                self.publish(None, Some(error.to_string()), None, None);
                return;
            }
        };
        let options = ReceiverOptions {
            port: settings.port,
            relay,
            ..ReceiverOptions::default()
        };
        let listening = match self.engine.listen(&options).await {
            Ok(listening) => Ok(listening),
            Err(_) if settings.port != 0 => {
                self.engine
                    .listen(&ReceiverOptions { port: 0, ..options })
                    .await
            }
            Err(error) => Err(error),
        };
        let listening = match listening {
            Ok(listening) => listening,
            Err(error) => {
                self.publish(None, Some(error.to_string()), None, None);
                return;
            }
        };
        let local = listening.urls().local_url.clone();
        let tunnel = match settings.tunnel {
            TunnelMode::None => None,
            TunnelMode::Ngrok => Some(self.supervise(
                NgrokTunnel::new(tunnel::ngrok_options(
                    &self.engine.config().data_dir,
                    settings.ngrok_domain.as_deref(),
                )),
                local,
            )),
            TunnelMode::PublicUrl => Some(self.supervise(
                ExternalUrl(settings.public_url.clone().unwrap_or_default()),
                local,
            )),
        };
        self.publish(
            Some(listening.urls().clone()),
            None,
            tunnel.as_ref().map(|t| t.states.borrow().clone()),
            settings.forward_to.clone(),
        );
        running.listening = Some(listening);
        if let Some(tunnel) = &tunnel {
            running.follower = Some(self.follow(tunnel.states.clone()));
        }
        running.tunnel = tunnel;
    }

    fn supervise<T: Tunnel>(&self, kind: T, local: String) -> Supervised {
        tunnel::supervise(kind, local, self.engine.bus().clone(), self.timings.clone())
    }

    /// Announces each URL the tunnel brings online as the receiver's public URL.
    fn follow(&self, mut states: watch::Receiver<TunnelState>) -> JoinHandle<()> {
        let running = Arc::downgrade(&self.running);
        let status = self.status.clone();
        tokio::spawn(async move {
            loop {
                let state = states.borrow_and_update().clone();
                let Some(running) = running.upgrade() else {
                    return;
                };
                let mut running = running.lock().await;
                let Some(listening) = running.listening.as_mut() else {
                    return;
                };
                let mut error = None;
                if let Err(problem) = tunnel::follow(&state, listening, None) {
                    error = Some(problem.to_string());
                }
                let urls = listening.urls().clone();
                drop(running);
                status.send_modify(|status| {
                    status.urls = Some(urls);
                    status.error = error;
                    status.tunnel = Some(state);
                });
                if states.changed().await.is_err() {
                    return;
                }
            }
        })
    }

    fn publish(
        &self,
        urls: Option<crate::receiver::ReceiverUrls>,
        error: Option<String>,
        tunnel: Option<TunnelState>,
        forward_to: Option<String>,
    ) {
        self.status.send_modify(|status| {
            status.urls = urls;
            status.error = error;
            status.tunnel = tunnel;
            status.forward_to = forward_to;
        });
    }

    /// Closes the tunnel and stops the receiver.
    pub async fn stop(&self) {
        self.running.lock().await.stop().await;
    }
}

impl Running {
    async fn stop(&mut self) {
        if let Some(follower) = self.follower.take() {
            follower.abort();
        }
        if let Some(tunnel) = self.tunnel.take() {
            tunnel.stop();
        }
        if let Some(listening) = self.listening.take() {
            listening.stop().await;
        }
        self.settings = None;
    }
}
