//! What the user's own app answered when a delivery was handed on to it (`listen --forward-to`), kept
//! beside the delivery so the inspector shows both answers: Hookscope's to Graph and the app's.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct RelayRecord {
    pub id: String,
    /// The delivery Hookscope received, stored and acknowledged before handing it on.
    pub request_id: String,
    pub target: String,
    pub at: String,
    /// Graph's validation request passed through: the app's answer went back to Graph.
    pub handshake: bool,
    /// Rejected items (forged, unknown) were left out of the body handed on.
    pub filtered: bool,
    /// The app's status; null when it did not answer (refused, timed out).
    pub status: Option<u16>,
    #[ts(type = "Record<string, string>")]
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// The first 64 KiB of the app's answer, as text.
    pub body: String,
    pub body_truncated: bool,
    pub latency_ms: f64,
    /// Why there is no answer: refused, timed out, …
    pub error: Option<String>,
    /// When the app's answer would have broken Graph's rules (3 s to acknowledge, a 2xx).
    pub warning: Option<String>,
}
