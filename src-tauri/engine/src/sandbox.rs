//! "Try without a tenant": one click starts the Graph simulator in-process, signs in to it, creates a
//! subscription pointing at this receiver through the same Graph client a real tenant uses (so the
//! handshake and every rule run for real), plus a rich one whose chat messages arrive encrypted for a
//! certificate of Hookscope's keychain, and lets the user make either send.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::graph::{AppCredentials, GraphClient, NewSubscription};
use crate::receiver::ReceiverUrls;
use crate::simulator::{
    self, LifecycleEvent, RunningSimulator, SimulatorOptions, Tamper, TriggerReport, TriggerSpec,
};
use crate::subscriptions::create;
use crate::Engine;

/// The mailbox folder the sandbox subscribes to: the most common first subscription.
const RESOURCE: &str = "/me/mailFolders('inbox')/messages";
/// Where rich notifications are shown: Teams chat messages carry the whole message, encrypted.
const RICH_RESOURCE: &str = "/chats/getAllMessages";

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SandboxStatus {
    pub graph_url: String,
    pub subscription_id: String,
    pub resource: String,
    pub expiration_date_time: String,
    /// The rich subscription: chat messages with encrypted resource data and validation tokens.
    pub rich_subscription_id: String,
    pub rich_resource: String,
}

/// What the user asks the simulated Graph to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SandboxSend {
    /// A new message arrived.
    Change,
    /// The same delivery twice, as Graph's retries sometimes do.
    Duplicate,
    /// `reauthorizationRequired` on the lifecycle URL.
    Lifecycle,
    /// A notification with a wrong clientState: what a forger would send.
    Forged,
    /// A chat message with its content encrypted, and the batch's validation tokens.
    Rich,
    /// A rich delivery whose validation token's signature does not verify.
    RichForged,
}

pub struct Sandbox {
    simulator: RunningSimulator,
    status: SandboxStatus,
    graph: std::sync::Arc<GraphClient>,
}

fn client_state() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

impl Sandbox {
    pub async fn start(engine: &Engine, urls: &ReceiverUrls) -> anyhow::Result<Sandbox> {
        let simulator = simulator::start(SimulatorOptions::new(true)).await?;
        // `hookscope trigger` in a terminal then drives the app's sandbox too.
        let _ = simulator::announce(&engine.config().data_dir, &simulator);
        let app = simulator.options().app.clone();
        let client = GraphClient::new(AppCredentials {
            graph_url: simulator.url().to_string(),
            login_url: simulator.url().to_string(),
            tenant_id: app.tenant_id,
            client_id: app.client_id,
            client_secret: app.client_secret,
            delegated: None,
        })?;
        let expiry = crate::clock::rfc3339_millis(crate::clock::now_micros() + 3_600_000_000);
        let subscription = create(
            engine,
            &client,
            &NewSubscription {
                change_type: "created,updated,deleted".into(),
                notification_url: urls.notification_url.clone(),
                lifecycle_notification_url: Some(urls.lifecycle_url.clone()),
                resource: RESOURCE.into(),
                expiration_date_time: expiry,
                client_state: client_state(),
                include_resource_data: false,
                encryption_certificate: None,
                encryption_certificate_id: None,
            },
            |_| {},
        )
        .await?;
        let (certificate, _) = engine.keychain().active_or_generate().await?;
        let rich = create(
            engine,
            &client,
            &NewSubscription {
                change_type: "created,updated".into(),
                notification_url: urls.notification_url.clone(),
                lifecycle_notification_url: Some(urls.lifecycle_url.clone()),
                resource: RICH_RESOURCE.into(),
                expiration_date_time: crate::clock::rfc3339_millis(
                    crate::clock::now_micros() + 3_600_000_000,
                ),
                client_state: client_state(),
                include_resource_data: true,
                encryption_certificate: Some(certificate.certificate_base64()),
                encryption_certificate_id: Some(certificate.certificate_id().to_owned()),
            },
            |rich| rich.include_resource_data = true,
        )
        .await?;
        Ok(Sandbox {
            graph: std::sync::Arc::new(client),
            status: SandboxStatus {
                graph_url: simulator.url().to_string(),
                subscription_id: subscription.id,
                resource: subscription.resource,
                expiration_date_time: subscription.expiration_date_time,
                rich_subscription_id: rich.id,
                rich_resource: rich.resource,
            },
            simulator,
        })
    }

    /// The client signed in to the simulated Graph, for the keeper and the subscription form.
    pub fn graph(&self) -> std::sync::Arc<GraphClient> {
        self.graph.clone()
    }

    pub fn status(&self) -> &SandboxStatus {
        &self.status
    }

    pub async fn send(&self, what: SandboxSend) -> Result<TriggerReport, String> {
        let mut spec = TriggerSpec {
            subscription_id: Some(self.status.subscription_id.clone()),
            ..TriggerSpec::default()
        };
        match what {
            SandboxSend::Change => {}
            SandboxSend::Duplicate => spec.duplicate = true,
            SandboxSend::Lifecycle => {
                spec.lifecycle = Some(LifecycleEvent::ReauthorizationRequired)
            }
            SandboxSend::Forged => spec.tamper = Some(Tamper::ClientState),
            SandboxSend::Rich | SandboxSend::RichForged => {
                spec.subscription_id = Some(self.status.rich_subscription_id.clone());
                spec.rich = true;
                spec.resource = None;
                if what == SandboxSend::RichForged {
                    spec.tamper = Some(Tamper::Signature);
                }
            }
        }
        self.simulator.trigger(spec).await.map_err(|e| e.0)
    }

    pub async fn stop(&self, engine: &Engine) {
        simulator::withdraw(&engine.config().data_dir);
        self.simulator.stop().await;
    }
}
