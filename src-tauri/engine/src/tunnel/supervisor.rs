//! The tunnel's supervisor: opens the tunnel, announces its URL only once Graph's handshake really
//! comes through it to the receiver (a fresh ngrok endpoint answers ERR_NGROK_3200 for a moment), puts
//! every state on the bus and in a watch for the fronts, and opens it again with backoff when the
//! network is gone. A problem the user must fix (no authtoken) ends it, with the sentence saying how.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Tunnel, TunnelState};
use crate::bus::{Bus, Event};

#[derive(Debug, Clone)]
pub struct SupervisorTimings {
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How long a new URL may take to start routing before it counts as broken.
    pub route_deadline: Duration,
    pub probe_interval: Duration,
}

impl Default for SupervisorTimings {
    fn default() -> Self {
        SupervisorTimings {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            route_deadline: Duration::from_secs(60),
            probe_interval: Duration::from_millis(500),
        }
    }
}

/// A supervised tunnel: its latest state, and the task that keeps it.
pub struct Supervised {
    pub states: watch::Receiver<TunnelState>,
    task: JoinHandle<()>,
}

impl Supervised {
    /// Closes the tunnel.
    pub fn stop(self) {
        self.task.abort();
    }
}

pub fn supervise<T: Tunnel>(
    mut tunnel: T,
    local: String,
    bus: Bus,
    timings: SupervisorTimings,
) -> Supervised {
    let (tx, states) = watch::channel(TunnelState::Connecting);
    let task = tokio::spawn(async move {
        let set = |state: TunnelState| {
            bus.publish(Event::Tunnel {
                state: state.clone(),
            });
            tx.send_replace(state);
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a plain reqwest client builds");
        let mut wait = timings.first_retry;
        set(TunnelState::Connecting);
        loop {
            match tunnel.open(&local).await {
                Ok(url) => match routes(&http, &url, &timings).await {
                    Ok(()) => {
                        wait = timings.first_retry;
                        set(TunnelState::Online { url });
                        let reason = tunnel.closed().await;
                        set(TunnelState::Reconnecting { reason });
                        // A flapping tunnel waits too, so it cannot spin.
                        tokio::time::sleep(timings.first_retry).await;
                        continue;
                    }
                    Err(why) => set(TunnelState::Offline {
                        reason: format!(
                            "The tunnel opened at {url} but Graph's handshake does not come through it to the receiver ({why}); Hookscope opens it again."
                        ),
                        retrying: true,
                    }),
                },
                Err(error) if error.retry => set(TunnelState::Offline {
                    reason: error.message,
                    retrying: true,
                }),
                Err(error) => {
                    set(TunnelState::Offline {
                        reason: error.message,
                        retrying: false,
                    });
                    return;
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(timings.max_retry);
        }
    });
    Supervised { states, task }
}

/// Plays Graph's handshake through the public URL until it reaches the receiver.
async fn routes(
    http: &reqwest::Client,
    url: &str,
    timings: &SupervisorTimings,
) -> Result<(), String> {
    let deadline = Instant::now() + timings.route_deadline;
    let target = format!("{url}/notifications");
    loop {
        let tried = crate::simulator::probe_handshake(http, &target, Duration::from_secs(10)).await;
        match tried {
            Ok(()) => return Ok(()),
            Err(why) if Instant::now() >= deadline => return Err(why),
            Err(_) => tokio::time::sleep(timings.probe_interval).await,
        }
    }
}
