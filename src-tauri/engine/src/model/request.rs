//! A recorded HTTP request: everything the receiver got, valid or not, and what it answered.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum RequestKind {
    Handshake,
    Notifications,
    Lifecycle,
    Invalid,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Handshake => "handshake",
            RequestKind::Notifications => "notifications",
            RequestKind::Lifecycle => "lifecycle",
            RequestKind::Invalid => "invalid",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "handshake" => RequestKind::Handshake,
            "notifications" => RequestKind::Notifications,
            "lifecycle" => RequestKind::Lifecycle,
            _ => RequestKind::Invalid,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct RequestRecord {
    pub id: String,
    pub received_at: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case; values of credential-bearing headers are redacted.
    #[ts(type = "Record<string, string>")]
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// The body as text when it is UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub body: Option<String>,
    /// The body in base64 when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub body_base64: Option<String>,
    /// Bytes the client announced or sent, even when only a part was kept.
    pub body_size: u64,
    pub body_truncated: bool,
    pub kind: RequestKind,
    pub status: u16,
    /// What the receiver answered in its body (a plain sentence, the handshake token, or empty).
    pub response: String,
    /// From the first byte read to the answer; null while a commit is still being timed.
    pub latency_ms: Option<f64>,
    /// The delivery this request replayed (`hookscope replay`), when it is a replay.
    pub replay_of: Option<String>,
}
