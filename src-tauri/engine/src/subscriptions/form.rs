//! The subscription form's boundary: what the app's form sends (typed for the UI) and what its table
//! shows for each subscription (Graph's fields plus the keeper's schedule), so the app needs no logic.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Lifetime, SubscribeRequest};
use crate::model::Subscription;
use crate::Engine;

/// The form as the UI fills it in.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SubscribeInput {
    pub resource: String,
    /// `created,updated`.
    pub change_types: String,
    /// `max`, `90m`, `2h`, `3d`.
    pub expires_in: String,
    pub rich: bool,
    pub lifecycle: bool,
    pub auto_renew: bool,
}

impl SubscribeInput {
    pub fn to_request(&self) -> Result<SubscribeRequest, String> {
        if self.resource.trim().is_empty() {
            return Err("Name a resource to watch, such as users/{id}/messages.".into());
        }
        Ok(SubscribeRequest {
            resource: self.resource.trim().to_string(),
            change_types: self.change_types.clone(),
            lifetime: Lifetime::parse(&self.expires_in)?,
            rich: self.rich,
            lifecycle: self.lifecycle,
            auto_renew: self.auto_renew,
            notification_url: None,
        })
    }
}

/// A row of the subscriptions table.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SubscriptionView {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// When Graph granted the current expiry: the creation or the last renewal.
    pub granted_at: Option<String>,
    /// When the keeper will renew it (auto-renew on and active), else null.
    pub renews_at: Option<String>,
}

/// Every subscription Hookscope knows, newest first, with the keeper's schedule.
pub async fn views(engine: &Engine) -> anyhow::Result<Vec<SubscriptionView>> {
    Ok(engine
        .store()
        .subscriptions_with_grant()
        .await?
        .into_iter()
        .map(|(subscription, granted)| {
            let expiry = crate::clock::parse_rfc3339(&subscription.expiration_date_time);
            let kept = subscription.auto_renew
                && subscription.status == crate::model::SubscriptionStatus::Active;
            let renews_at = expiry
                .filter(|_| kept)
                .map(|e| crate::clock::rfc3339_millis(crate::keeper::renew_at(granted, e)));
            SubscriptionView {
                granted_at: (granted > 0).then(|| crate::clock::rfc3339_millis(granted)),
                renews_at,
                subscription,
            }
        })
        .collect())
}
