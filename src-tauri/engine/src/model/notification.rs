//! A stored change or lifecycle notification: one item of a batch Graph posted, with Hookscope's verdict.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Accepted,
    Rejected,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Self {
        if text == "accepted" {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Notification {
    /// Hookscope's own id (time-ordered).
    pub id: String,
    /// Graph's `id` of the notification, when it sent one.
    pub notification_id: Option<String>,
    pub received_at: String,
    pub subscription_id: Option<String>,
    pub subscription_expiration_date_time: Option<String>,
    pub change_type: Option<String>,
    pub lifecycle_event: Option<String>,
    pub resource: Option<String>,
    #[ts(type = "unknown")]
    pub resource_data: Option<serde_json::Value>,
    pub tenant_id: Option<String>,
    pub verdict: Verdict,
    /// Why it was rejected; null when accepted.
    pub reason: Option<String>,
    /// The same change was delivered before (every delivery is still stored and shown).
    pub duplicate: bool,
    #[ts(type = "unknown")]
    pub decrypted: Option<serde_json::Value>,
    /// true or false when the batch carried validation tokens; null when it carried none.
    pub tokens_valid: Option<bool>,
    /// The HTTP request this item came in.
    pub request_id: String,
    /// Position of the item in its batch.
    pub position: u32,
    /// The request this one replayed (`hookscope replay`), when it is a replay.
    pub replay_of: Option<String>,
}
