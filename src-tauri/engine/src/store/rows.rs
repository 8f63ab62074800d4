//! What the receiver hands the writer: one recorded request and the notification items it carried, in
//! the column form the writer's INSERTs take, plus their conversion to the public records.

use std::sync::Arc;

use base64::Engine as _;

use crate::clock::rfc3339_millis;
use crate::model::{Notification, RelayRecord, RequestKind, RequestRecord, Verdict};

#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: String,
    pub received_at: i64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// A JSON object of header names to values, credentials already redacted.
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub body: bytes::Bytes,
    pub body_size: u64,
    pub body_truncated: bool,
    pub kind: RequestKind,
    pub status: u16,
    pub response: String,
    pub latency_us: Option<i64>,
    /// The request this one replays, from Hookscope's own `x-hookscope-replay-of` header.
    pub replay_of: Option<String>,
}

impl RequestRow {
    pub fn to_record(&self) -> RequestRecord {
        let (body, body_base64) = body_fields(&self.body);
        RequestRecord {
            id: self.id.clone(),
            received_at: rfc3339_millis(self.received_at),
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body,
            body_base64,
            body_size: self.body_size,
            body_truncated: self.body_truncated,
            kind: self.kind,
            status: self.status,
            response: self.response.clone(),
            latency_ms: self.latency_us.map(micros_to_millis),
            replay_of: self.replay_of.clone(),
        }
    }
}

/// Requests as committed, turned into public records only when read: a watcher that shows only
/// notifications (the app's live feed) never pays for copying every request's body.
#[derive(Debug, Clone)]
pub struct RecordedRequests(Arc<[RequestRow]>);

impl RecordedRequests {
    pub fn new(rows: Vec<RequestRow>) -> Self {
        Self(rows.into())
    }

    pub fn rows(&self) -> &[RequestRow] {
        &self.0
    }

    pub fn records(&self) -> impl Iterator<Item = RequestRecord> + '_ {
        self.0.iter().map(RequestRow::to_record)
    }
}

impl serde::Serialize for RecordedRequests {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.records())
    }
}

/// UTF-8 bodies as text, anything else as base64, so JSON output never mangles a byte.
fn body_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(body) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
        ),
    }
}

/// JSON text stored by Hookscope back to a value (text that does not parse shows as absent).
fn parse_json(text: Option<&str>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

fn micros_to_millis(micros: i64) -> f64 {
    micros as f64 / 1_000.0
}

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: String,
    pub request_id: String,
    pub position: u32,
    pub received_at: i64,
    pub subscription_id: Option<String>,
    pub change_type: Option<String>,
    pub lifecycle_event: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub dedupe_key: [u8; 16],
    /// The decrypted resource as JSON text.
    pub decrypted: Option<String>,
    pub tokens_valid: Option<bool>,
    /// Where the item stands in its request's body (bytes): the item is not stored twice.
    pub item_offset: u32,
    pub item_length: u32,
}

impl NotificationRow {
    /// The public record; the descriptive fields are read from the item (`body` is its request's body,
    /// `replay_of` what that request replayed).
    pub fn to_notification(
        &self,
        duplicate: bool,
        body: &[u8],
        replay_of: Option<String>,
    ) -> Notification {
        let start = self.item_offset as usize;
        let item = body
            .get(start..start + self.item_length as usize)
            .unwrap_or_default();
        let fields = ItemFields::read(item);
        Notification {
            id: self.id.clone(),
            notification_id: fields.id,
            received_at: rfc3339_millis(self.received_at),
            subscription_id: self.subscription_id.clone(),
            subscription_expiration_date_time: fields.subscription_expiration_date_time,
            change_type: self.change_type.clone(),
            lifecycle_event: self.lifecycle_event.clone(),
            resource: fields.resource,
            resource_data: fields.resource_data.filter(serde_json::Value::is_object),
            tenant_id: fields.tenant_id,
            verdict: self.verdict,
            reason: self.reason.clone(),
            duplicate,
            decrypted: parse_json(self.decrypted.as_deref()),
            tokens_valid: self.tokens_valid,
            request_id: self.request_id.clone(),
            position: self.position,
            replay_of,
        }
    }
}

/// The fields of an item that are shown but never filtered on: not stored as columns (half of each
/// row's bytes), read back from the item itself when a record is built.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ItemFields {
    pub id: Option<String>,
    pub subscription_expiration_date_time: Option<String>,
    pub resource: Option<String>,
    pub resource_data: Option<serde_json::Value>,
    pub tenant_id: Option<String>,
}

impl ItemFields {
    /// Lenient: a field of the wrong type (the item was rejected for it) reads as absent.
    pub fn read(item: &[u8]) -> ItemFields {
        if let Ok(fields) = serde_json::from_slice::<ItemFields>(item) {
            return fields;
        }
        let value: serde_json::Value = serde_json::from_slice(item).unwrap_or_default();
        let text = |name: &str| {
            value
                .get(name)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        ItemFields {
            id: text("id"),
            subscription_expiration_date_time: text("subscriptionExpirationDateTime"),
            resource: text("resource"),
            resource_data: value.get("resourceData").filter(|d| d.is_object()).cloned(),
            tenant_id: text("tenantId"),
        }
    }
}

/// A certificate of rich notifications as stored: the public half only (the private key is a secret).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CertificateRow {
    pub id: String,
    pub thumbprint: String,
    pub certificate: Vec<u8>,
    pub bits: i64,
    pub origin: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// What a certificate change does to the table.
#[derive(Debug, Clone)]
pub enum CertificateChange {
    Put(CertificateRow),
    /// Marks every certificate but this one retired (a rotation).
    RetireAllBut(String),
    Delete(String),
}

/// One hand-on to the user's app, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RelayRow {
    pub id: String,
    pub request_id: String,
    pub target: String,
    pub at: i64,
    pub handshake: bool,
    pub filtered: bool,
    pub status: Option<i64>,
    /// A JSON object of the app's answer headers.
    pub headers: String,
    pub body: Vec<u8>,
    pub body_truncated: bool,
    pub latency_us: i64,
    pub error: Option<String>,
}

/// Graph gives a receiver 3 s to acknowledge before it counts the delivery as slow (docs/graph.md §4.3).
const GRAPH_DEADLINE_US: i64 = 3_000_000;

impl RelayRow {
    pub fn to_record(&self) -> RelayRecord {
        let warning = if self.error.is_some() {
            None
        } else if self.latency_us > GRAPH_DEADLINE_US {
            Some(format!(
                "Your app took {:.1} s: Graph gives a receiver 3 s, so answering Graph from this app directly would make Graph retry and then throttle it; acknowledge first and work afterwards.",
                self.latency_us as f64 / 1e6
            ))
        } else {
            self.status
                .filter(|s| !(200..300).contains(s))
                .map(|s| format!("Your app answered {s}: Graph treats anything but a 2xx as a failure and retries the delivery."))
        };
        RelayRecord {
            id: self.id.clone(),
            request_id: self.request_id.clone(),
            target: self.target.clone(),
            at: rfc3339_millis(self.at),
            handshake: self.handshake,
            filtered: self.filtered,
            status: self.status.map(|s| s as u16),
            headers: serde_json::from_str(&self.headers).unwrap_or_default(),
            body: String::from_utf8_lossy(&self.body).into_owned(),
            body_truncated: self.body_truncated,
            latency_ms: micros_to_millis(self.latency_us),
            error: self.error.clone(),
            warning,
        }
    }
}
