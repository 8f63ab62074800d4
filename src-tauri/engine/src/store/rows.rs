//! What the receiver hands the writer: one recorded request and the notification items it carried, in
//! the column form the multi-row INSERTs take, plus their conversion to the public records.

use base64::Engine as _;

use crate::clock::rfc3339_millis;
use crate::model::{Notification, RequestKind, RequestRecord, Verdict};

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
        }
    }
}

/// UTF-8 bodies as text, anything else as base64, so JSON output never mangles a byte.
pub fn body_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(body) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
        ),
    }
}

/// JSON text stored by Hookscope back to a value (text that does not parse shows as absent).
pub fn parse_json(text: Option<&str>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

pub fn micros_to_millis(micros: i64) -> f64 {
    micros as f64 / 1_000.0
}

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: String,
    pub request_id: String,
    pub position: u32,
    pub received_at: i64,
    pub notification_id: Option<String>,
    pub subscription_id: Option<String>,
    pub subscription_expiration: Option<String>,
    pub change_type: Option<String>,
    pub lifecycle_event: Option<String>,
    pub resource: Option<String>,
    /// The `resourceData` object as JSON text, as it stood in the item.
    pub resource_data: Option<String>,
    pub tenant_id: Option<String>,
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
    pub fn to_notification(&self, duplicate: bool) -> Notification {
        Notification {
            id: self.id.clone(),
            notification_id: self.notification_id.clone(),
            received_at: rfc3339_millis(self.received_at),
            subscription_id: self.subscription_id.clone(),
            subscription_expiration_date_time: self.subscription_expiration.clone(),
            change_type: self.change_type.clone(),
            lifecycle_event: self.lifecycle_event.clone(),
            resource: self.resource.clone(),
            resource_data: parse_json(self.resource_data.as_deref()),
            tenant_id: self.tenant_id.clone(),
            verdict: self.verdict,
            reason: self.reason.clone(),
            duplicate,
            decrypted: parse_json(self.decrypted.as_deref()),
            tokens_valid: self.tokens_valid,
            request_id: self.request_id.clone(),
            position: self.position,
        }
    }
}
