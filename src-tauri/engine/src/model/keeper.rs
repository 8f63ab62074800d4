//! What the keeper did to a subscription and how it went: one record for the store (the history the app
//! shows), the bus (the live feed, `listen`'s lines) and the UI's types.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum KeeperAction {
    /// A PATCH moved the expiry (on schedule, or answering `reauthorizationRequired`).
    Renewed,
    /// Graph lost the subscription (404, `subscriptionRemoved`, expired while stopped): made anew.
    Recreated,
    /// The public URL changed and the subscription now points at the new one.
    Repointed,
    /// Notifications Graph could not deliver: changes in this window must be fetched.
    Gap,
}

impl KeeperAction {
    pub fn as_str(self) -> &'static str {
        match self {
            KeeperAction::Renewed => "renewed",
            KeeperAction::Recreated => "recreated",
            KeeperAction::Repointed => "repointed",
            KeeperAction::Gap => "gap",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "recreated" => KeeperAction::Recreated,
            "repointed" => KeeperAction::Repointed,
            "gap" => KeeperAction::Gap,
            _ => KeeperAction::Renewed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct KeeperEvent {
    pub id: String,
    pub at: String,
    pub subscription_id: String,
    pub action: KeeperAction,
    /// False when the attempt failed; `message` then says why and what happens next.
    pub ok: bool,
    /// One sentence for people.
    pub message: String,
    /// The expiry Graph granted, after a renewal or re-creation.
    pub expiration_date_time: Option<String>,
    /// The subscription that replaced this one, after a re-creation.
    pub new_subscription_id: Option<String>,
}
