//! The doctor's look at each subscription: what Hookscope keeps against what Graph holds.

use std::collections::HashSet;

use super::{check, Check, Health};
use crate::model::{Subscription, SubscriptionStatus};
use crate::Engine;

pub async fn checks(engine: &Engine, remote: &[Subscription], tenant: &str) -> Vec<Check> {
    let local = engine.subscriptions().await.unwrap_or_default();
    let held: HashSet<&str> = remote.iter().map(|s| s.id.as_str()).collect();
    let known: HashSet<&str> = local.iter().map(|s| s.id.as_str()).collect();
    let now = crate::clock::now_micros();
    let mut checks = Vec::new();
    for s in local
        .iter()
        .filter(|s| s.status == SubscriptionStatus::Active)
    {
        if s.tenant_id.as_deref().is_some_and(|t| t != tenant) {
            continue; // another tenant's (an earlier sign-in, the app's sandbox): not this Graph's to judge
        }
        let expiry = crate::clock::parse_rfc3339(&s.expiration_date_time).unwrap_or(0);
        let name = format!("{} ({})", s.id, s.resource);
        let (verdict, detail, fix) = if !held.contains(s.id.as_str()) {
            (
                Health::Fail,
                format!("Subscription {name} is gone at Graph (expired or removed)."),
                Some(if s.auto_renew {
                    "Keep `hookscope listen` or the app running: the keeper re-creates it and records the gap.".to_string()
                } else {
                    "Create it again with `hookscope subscribe`.".to_string()
                }),
            )
        } else if let Some(error) = &s.last_error {
            (
                Health::Warn,
                format!("Subscription {name}: the last attempt failed: {error}"),
                None,
            )
        } else if !s.auto_renew && expiry - now < 3_600_000_000 {
            (
                Health::Warn,
                format!("Subscription {name} expires within the hour and auto-renew is off."),
                Some(format!(
                    "Renew it: `hookscope subscriptions renew {}`.",
                    s.id
                )),
            )
        } else {
            (
                Health::Ok,
                format!(
                    "Subscription {name} is alive until {}.",
                    s.expiration_date_time
                ),
                None,
            )
        };
        checks.push(check("subscription", verdict, detail, fix));
    }
    for orphan in remote.iter().filter(|s| !known.contains(s.id.as_str())) {
        checks.push(check(
            "subscription",
            Health::Warn,
            format!("Graph holds {} ({}) but Hookscope does not know it: its notifications are rejected and nobody renews it.", orphan.id, orphan.resource),
            Some(format!("Delete it: `hookscope subscriptions delete {}`.", orphan.id)),
        ));
    }
    checks
}
