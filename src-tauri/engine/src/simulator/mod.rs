//! A fake Microsoft Graph on loopback: the login host (tokens, device code, OIDC keys), the subscription
//! API with Graph's rules and its validation handshake, and delivery of change and lifecycle
//! notifications (rich ones encrypted and signed). It is the "try it without a tenant" mode of the app,
//! `hookscope simulate`, and the stand-in for Microsoft's cloud in every test.

mod api;
mod clock;
mod control;
mod delivery;
mod errors;
mod faults;
mod handshake;
mod identity;
mod payloads;
mod racing;
mod remote;
mod resources;
mod rules;
mod signing;
mod state;
mod tampering;
mod trigger;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};

pub use delivery::{DeliveryRecord, EndpointState, Outcome, Rules as DeliveryRules};
pub use faults::{Fault, FaultKind, Operation};
pub use handshake::{new_token as new_validation_token, probe as probe_handshake, url_with_token};
pub use payloads::LifecycleEvent;
pub use racing::DeliverOnCreate;
pub use remote::SimulatorClient;
pub use tampering::Tamper;
pub use trigger::{TriggerError, TriggerReport, TriggerSpec, CHANGE_TRACKING_APP_ID};

/// The app registration the simulator knows. The defaults are public, well-known values (like a local
/// storage emulator's account key): they protect nothing and may be printed.
#[derive(Debug, Clone)]
pub struct AppRegistration {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

pub const SIMULATOR_TENANT_ID: &str = "5e1c7d2a-0f3b-4c8e-9a61-2b7d4f8e9c03";
pub const SIMULATOR_CLIENT_ID: &str = "3f2a9b1c-6d4e-4f70-8a25-c1e0b9d7a468";
pub const SIMULATOR_CLIENT_SECRET: &str = "hookscope-simulator-secret";

impl Default for AppRegistration {
    fn default() -> Self {
        AppRegistration {
            tenant_id: SIMULATOR_TENANT_ID.into(),
            client_id: SIMULATOR_CLIENT_ID.into(),
            client_secret: SIMULATOR_CLIENT_SECRET.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    pub bind: IpAddr,
    /// `0` picks any free port.
    pub port: u16,
    /// Honour lifetimes under Graph's 45-minute minimum and scale Graph's delivery timers down
    /// (10 minutes become 10 seconds, 4 hours of retries become 4 minutes) so they can be watched.
    pub fast_time: bool,
    /// Fail a validation answer whose content type is not `text/plain` (Graph itself appears lenient).
    pub strict_content_type: bool,
    /// The Outlook ceiling: 10,080 minutes per the current docs; the live service was seen at 10,070
    /// and older docs said 4,230.
    pub outlook_max_minutes: u32,
    pub validation_timeout: Duration,
    pub delivery: DeliveryRules,
    /// Subscriptions per page of the list operation.
    pub page_size: usize,
    /// Validation tokens in v1 (`appid`) or v2 (`azp`) form.
    pub token_version: u8,
    /// Send lifecycle events to the notification URL when a subscription has no lifecycle URL (the
    /// 2019 docs' behaviour; the 2026 docs say none are sent).
    pub lifecycle_without_url: bool,
    pub app: AppRegistration,
    pub service_principal_id: String,
    pub user_id: String,
    pub user_principal_name: String,
    pub user_display_name: String,
}

impl SimulatorOptions {
    pub fn new(fast_time: bool) -> Self {
        let delivery = if fast_time {
            DeliveryRules {
                first_timeout: Duration::from_secs(3),
                retry_timeout: Duration::from_secs(10),
                retry_base: Duration::from_secs(1),
                retry_cap: Duration::from_secs(30),
                retry_window: Duration::from_secs(240),
                window: Duration::from_secs(10),
                min_samples: 10,
            }
        } else {
            DeliveryRules {
                first_timeout: Duration::from_secs(3),
                retry_timeout: Duration::from_secs(10),
                retry_base: Duration::from_secs(10),
                retry_cap: Duration::from_secs(30 * 60),
                retry_window: Duration::from_secs(4 * 3600),
                window: Duration::from_secs(600),
                min_samples: 100,
            }
        };
        SimulatorOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            fast_time,
            strict_content_type: false,
            outlook_max_minutes: 10_080,
            validation_timeout: Duration::from_secs(10),
            delivery,
            page_size: 100,
            token_version: 1,
            lifecycle_without_url: false,
            app: AppRegistration::default(),
            service_principal_id: "9d3e1f6a-2b4c-4d8e-8f01-6a7b5c4d3e2f".into(),
            user_id: "8b7c6d5e-4f3a-4b2c-9d1e-0f1a2b3c4d5e".into(),
            user_principal_name: "adele.vance@hookscope-simulator.test".into(),
            user_display_name: "Adele Vance".into(),
        }
    }
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        SimulatorOptions::new(false)
    }
}

/// A simulator serving on loopback until stopped.
pub struct RunningSimulator {
    shared: Arc<state::Shared>,
    url: String,
    shutdown: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl RunningSimulator {
    /// Graph's root and the login host at once: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn options(&self) -> &SimulatorOptions {
        &self.shared.options
    }

    pub async fn trigger(&self, spec: TriggerSpec) -> Result<TriggerReport, TriggerError> {
        trigger::trigger(&self.shared, spec).await
    }

    /// The delivery log after the record with this id (0 = all), oldest first.
    pub fn deliveries(&self, after: u64) -> Vec<DeliveryRecord> {
        self.shared.log.since(after)
    }

    pub fn add_fault(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Makes the next create deliver at once, racing its own 201.
    pub fn deliver_on_create(&self, race: DeliverOnCreate) {
        self.shared.lock().deliver_on_create.push(race);
    }

    /// How many authenticated calls of this operation the simulator answered (faults included).
    pub fn calls(&self, operation: Operation) -> u64 {
        self.shared
            .lock()
            .calls
            .get(&operation)
            .copied()
            .unwrap_or(0)
    }

    /// How many resource reads (`GET /v1.0/{resource}`) reached the simulator, whatever it answered.
    pub fn resource_reads(&self) -> u64 {
        self.shared.lock().resource_reads
    }

    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Approves (or declines) the device-code sign-in showing this user code.
    pub fn decide_device_code(&self, user_code: &str, approve: bool) -> Result<(), String> {
        identity::decide_device_code(&self.shared, user_code, approve)
    }

    pub fn endpoint_state(&self, url: &str) -> EndpointState {
        self.shared
            .log
            .endpoint_states()
            .get(url)
            .copied()
            .unwrap_or(EndpointState::Healthy)
    }

    pub async fn stop(&self) {
        if let Some(tx) = self
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = tx.send(());
        }
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn router(shared: Arc<state::Shared>) -> Router {
    let graph = Router::new()
        .route("/v1.0/subscriptions", get(api::list).post(api::create))
        .route(
            "/v1.0/subscriptions/{id}",
            get(api::get).patch(api::update).delete(api::delete),
        )
        .route(
            "/v1.0/subscriptions/{id}/reauthorize",
            post(api::reauthorize),
        )
        .route("/v1.0/{*rest}", get(api::resource).fallback(api::unknown))
        .layer(axum::middleware::from_fn(api::graph_headers));
    let login = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(identity::token))
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(identity::device_code),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(identity::openid_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(identity::openid_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(identity::jwks))
        .route("/{tenant}/discovery/keys", get(identity::jwks));
    let control = Router::new()
        .route("/_simulator", get(control::info))
        .route("/_simulator/trigger", post(control::trigger))
        .route("/_simulator/deliveries", get(control::deliveries))
        .route(
            "/_simulator/faults",
            post(control::add_fault).delete(control::clear_faults),
        )
        .route(
            "/_simulator/deliver-on-create",
            post(control::add_deliver_on_create).delete(control::clear_deliver_on_create),
        )
        .route("/_simulator/clock", post(control::advance_clock))
        .route("/_simulator/device", post(control::decide_device))
        .route(
            "/_simulator/devicelogin",
            get(identity::device_login_page).post(identity::device_login_submit),
        );
    graph.merge(login).merge(control).with_state(shared)
}

/// Starts the simulator on loopback.
pub async fn start(options: SimulatorOptions) -> anyhow::Result<RunningSimulator> {
    let address = SocketAddr::new(options.bind, options.port);
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|error| {
        anyhow::anyhow!(
            "Cannot listen on {address}: {error}; pick another port with --port (0 = any free port)."
        )
    })?;
    let local = listener.local_addr()?;
    let url = format!("http://{local}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent("Hookscope-Graph-Simulator/1.0")
        .build()?;
    let signing = tokio::task::spawn_blocking(signing::SigningKey::generate).await??;
    let shared = Arc::new(state::Shared {
        options,
        base_url: url.clone(),
        clock: clock::SimClock::default(),
        signing,
        http,
        state: Mutex::new(state::State::default()),
        log: delivery::DeliveryLog::default(),
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(shared.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningSimulator {
        shared,
        url,
        shutdown: Mutex::new(Some(tx)),
        task: Mutex::new(Some(task)),
    })
}

/// What `hookscope simulate` writes into the data directory so `trigger` and the app find it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SimulatorAnnouncement {
    pub pid: u32,
    pub graph_url: String,
    pub login_url: String,
    pub tenant_id: String,
    pub client_id: String,
}

pub fn announcement_path(data_dir: &Path) -> PathBuf {
    data_dir.join("simulator.json")
}

pub fn announce(data_dir: &Path, simulator: &RunningSimulator) -> anyhow::Result<PathBuf> {
    let path = announcement_path(data_dir);
    let body = serde_json::to_vec_pretty(&SimulatorAnnouncement {
        pid: std::process::id(),
        graph_url: simulator.url.clone(),
        login_url: simulator.url.clone(),
        tenant_id: simulator.shared.options.app.tenant_id.clone(),
        client_id: simulator.shared.options.app.client_id.clone(),
    })?;
    crate::privacy::create_dir(data_dir)?;
    crate::privacy::write_atomically(&path, &body).map_err(|e| {
        anyhow::anyhow!(
            "Cannot write {}: {e}; check the data directory is writable.",
            path.display()
        )
    })?;
    Ok(path)
}

/// The running simulator announced in this data directory, once it proved to be that simulator (see
/// `announcement::simulator`): a stale file never leads anything to an old port.
pub async fn announced(data_dir: &Path) -> Option<SimulatorAnnouncement> {
    crate::announcement::simulator(data_dir).await
}

/// Removes this process's announcement.
pub fn withdraw(data_dir: &Path) {
    crate::announcement::withdraw::<SimulatorAnnouncement>(&announcement_path(data_dir), |a| a.pid);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_keeps_graphs_documented_timers() {
        let graph = SimulatorOptions::default();
        assert!(!graph.fast_time);
        assert_eq!(
            graph.validation_timeout,
            Duration::from_secs(10),
            "§3: 10 s to answer the handshake"
        );
        assert_eq!(
            graph.delivery.first_timeout,
            Duration::from_secs(3),
            "§4.3: 3 s to acknowledge"
        );
        assert_eq!(
            graph.delivery.retry_window,
            Duration::from_secs(4 * 3600),
            "§4.3: retries for 4 h"
        );
        assert_eq!(
            graph.delivery.window,
            Duration::from_secs(600),
            "§4.4: 10-minute throttling window"
        );
        assert_eq!(graph.outlook_max_minutes, 10_080);
        // Fast time scales the long timers only: the deadlines a receiver must meet stay Graph's.
        let fast = SimulatorOptions::new(true);
        assert_eq!(fast.delivery.first_timeout, graph.delivery.first_timeout);
        assert!(fast.delivery.retry_window < graph.delivery.retry_window);
    }
}
