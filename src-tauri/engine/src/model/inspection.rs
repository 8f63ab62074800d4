//! Everything the inspector shows for one notification: the stored verdict, the item exactly as it
//! stood in its batch (ciphertext included), and the HTTP request that carried it with the answer.

use serde::Serialize;
use ts_rs::TS;

use super::{Notification, RelayRecord, RequestRecord};

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Inspection {
    pub notification: Notification,
    /// The item's JSON byte for byte as delivered (for rich items, with `encryptedContent`).
    pub item: String,
    /// The request it came in: method, path, headers, body, status answered and latency.
    pub request: Option<RequestRecord>,
    /// What the user's app answered each time the delivery was handed on to it.
    pub relays: Vec<RelayRecord>,
    /// The request's headers a replay sends as they were (not credentials, redacted values or those
    /// the HTTP client sets): what "Replay with edits" offers to change.
    pub replay_headers: std::collections::BTreeMap<String, String>,
}
