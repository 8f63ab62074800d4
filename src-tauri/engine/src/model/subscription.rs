//! A Graph subscription as Hookscope keeps it: Graph's fields plus what Hookscope adds to keep it alive.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SubscriptionStatus {
    #[default]
    Active,
    Expired,
    Removed,
    Failed,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Expired => "expired",
            SubscriptionStatus::Removed => "removed",
            SubscriptionStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "expired" => SubscriptionStatus::Expired,
            "removed" => SubscriptionStatus::Removed,
            "failed" => SubscriptionStatus::Failed,
            _ => SubscriptionStatus::Active,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub resource: String,
    pub change_type: String,
    pub notification_url: String,
    pub lifecycle_notification_url: Option<String>,
    pub expiration_date_time: String,
    pub include_resource_data: bool,
    /// The secret Graph echoes in every notification; never printed.
    #[serde(skip_serializing, default)]
    #[ts(skip)]
    pub client_state: Option<String>,
    pub tenant_id: Option<String>,
    pub auto_renew: bool,
    pub status: SubscriptionStatus,
    pub last_error: Option<String>,
    /// The app (client id) that created it: the audience of its notifications' validation tokens.
    #[serde(default)]
    pub application_id: Option<String>,
    /// The sign-in authority it was created under, whose published keys sign its validation tokens.
    #[serde(default)]
    pub login_url: Option<String>,
    /// Graph's `encryptionCertificateId` of a rich subscription: which private key opens its items.
    #[serde(default)]
    pub encryption_certificate_id: Option<String>,
}
