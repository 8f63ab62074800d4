//! What the simulated Graph holds in memory: subscriptions, device-code sign-ins, refresh tokens and
//! pending faults. One lock guards it; nothing awaits while holding it, so the API stays responsive while
//! a validation handshake or a delivery is in flight.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::clock::{graph_time, SimClock};
use super::delivery::{Batch, DeliveryLog};
use super::faults::Fault;
use super::signing::SigningKey;
use super::SimulatorOptions;
use crate::catalog::{ChangeType, ResourceKind};
use crate::rich::PublicCertificate;

pub struct Shared {
    pub options: SimulatorOptions,
    /// Where the simulator is reachable: `http://127.0.0.1:PORT` (Graph root and login host at once).
    pub base_url: String,
    pub clock: SimClock,
    pub signing: SigningKey,
    pub http: reqwest::Client,
    pub state: Mutex<State>,
    pub log: DeliveryLog,
}

impl Shared {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind, still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
pub struct State {
    pub subscriptions: Vec<SimSubscription>,
    pub device_codes: HashMap<String, DeviceGrant>,
    pub refresh_tokens: HashMap<String, Grant>,
    pub faults: Vec<Fault>,
    /// Deliveries to set off with the next creates, each racing its 201.
    pub deliver_on_create: Vec<super::racing::DeliverOnCreate>,
    /// Authenticated API calls per operation, faulted or not: how tests see a client's manners.
    pub calls: HashMap<super::Operation, u64>,
    /// What changes touched, for `GET /v1.0/{resource}`.
    pub resources: super::resources::Resources,
    /// Every `GET /v1.0/{resource}` that reached the simulator, answered or refused: how a test sees
    /// that a client read nothing it should not have.
    pub resource_reads: u64,
}

impl State {
    /// Expired subscriptions vanish, as they do at Graph: a GET or PATCH then answers 404.
    pub fn sweep(&mut self, now: OffsetDateTime) {
        self.subscriptions.retain(|s| s.expiration > now);
    }

    pub fn subscription(&mut self, id: &str) -> Option<&mut SimSubscription> {
        self.subscriptions.iter_mut().find(|s| s.id == id)
    }
}

/// Who a token speaks for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: String,
    pub tenant_id: String,
    /// The signed-in user for delegated tokens; None for app-only.
    pub user_id: Option<String>,
    pub scope: String,
}

impl Grant {
    pub fn app_only(&self) -> bool {
        self.user_id.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    Pending,
    Approved,
    Declined,
}

#[derive(Debug, Clone)]
pub struct DeviceGrant {
    pub user_code: String,
    pub grant: Grant,
    pub expires_at: OffsetDateTime,
    pub interval_secs: u64,
    pub last_poll: Option<OffsetDateTime>,
    pub state: DeviceState,
}

/// A subscription as the simulated Graph keeps it.
#[derive(Debug, Clone)]
pub struct SimSubscription {
    pub id: String,
    pub resource: String,
    pub kind: &'static ResourceKind,
    pub change_types: Vec<ChangeType>,
    pub notification_url: String,
    pub lifecycle_notification_url: Option<String>,
    pub expiration: OffsetDateTime,
    pub client_state: Option<String>,
    pub include_resource_data: bool,
    pub certificate: Option<PublicCertificate>,
    pub certificate_text: Option<String>,
    pub certificate_id: Option<String>,
    pub latest_supported_tls_version: String,
    pub notification_query_options: Option<String>,
    pub notification_url_app_id: Option<String>,
    pub application_id: String,
    pub creator_id: String,
    pub tenant_id: String,
    /// After a `reauthorizationRequired`, Graph pauses delivery until a reauthorize or a PATCH.
    pub needs_reauthorization: bool,
    /// Change notifications held back while paused, delivered once reauthorized.
    pub held: Vec<Batch>,
}

impl SimSubscription {
    /// Graph's JSON for this subscription. The list operation hides `clientState`.
    pub fn to_json(&self, base_url: &str, with_client_state: bool) -> Value {
        json!({
            "@odata.context": format!("{base_url}/v1.0/$metadata#subscriptions/$entity"),
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": ChangeType::join(&self.change_types),
            "clientState": if with_client_state { json!(self.client_state) } else { Value::Null },
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": self.notification_query_options,
            "lifecycleNotificationUrl": self.lifecycle_notification_url,
            "expirationDateTime": graph_time(self.expiration),
            "creatorId": self.creator_id,
            "includeResourceData": self.include_resource_data,
            "latestSupportedTlsVersion": self.latest_supported_tls_version,
            "encryptionCertificate": self.certificate_text,
            "encryptionCertificateId": self.certificate_id,
            "notificationUrlAppId": self.notification_url_app_id,
            "notificationContentType": "application/json",
        })
    }

    /// Graph refuses a second subscription of one app to the same resource and change types.
    pub fn same_combination(
        &self,
        application_id: &str,
        resource: &str,
        types: &[ChangeType],
    ) -> bool {
        self.application_id == application_id
            && crate::catalog::normalize(&self.resource) == crate::catalog::normalize(resource)
            && self.change_types == types
    }
}
