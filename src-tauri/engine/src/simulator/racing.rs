//! Deliveries that race Graph's answer to a create: on a busy mailbox Graph notifies a new subscription
//! at once, so its first notifications can reach the receiver before the creator has even read the 201.
//! Queued through the control API like faults; each one applies to the next create.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::delivery::{self, Batch, BatchKind};
use super::payloads;
use super::state::{Shared, SimSubscription};
use super::trigger::{self, TriggerSpec};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliverOnCreate {
    /// Change notifications sent to the new subscription the moment it exists.
    #[serde(default = "one")]
    pub count: u32,
    /// How long the 201 is held after they set off: the time Graph's answer takes to reach its caller,
    /// long enough that the deliveries arrive first.
    #[serde(default = "default_hold")]
    pub hold_answer_ms: u64,
    /// Also sends, in the same instant, an item naming this subscription id with a clientState that is
    /// not the secret: a forgery racing the real thing.
    #[serde(default)]
    pub forged_subscription_id: Option<String>,
}

fn one() -> u32 {
    1
}

fn default_hold() -> u64 {
    200
}

/// Sets off what `race` asks for the subscription just created, without waiting for any of it, then
/// holds the answer for the time it says.
pub async fn deliver_on_create(
    shared: &Arc<Shared>,
    race: DeliverOnCreate,
    created: &SimSubscription,
) {
    let spec = TriggerSpec {
        subscription_id: Some(created.id.clone()),
        count: Some(race.count.max(1)),
        ..TriggerSpec::default()
    };
    let genuine = shared.clone();
    tokio::spawn(async move {
        if let Err(error) = trigger::trigger(&genuine, spec).await {
            tracing::warn!(%error, "the simulator could not deliver to a subscription it just created");
        }
    });
    if let Some(forged_id) = race.forged_subscription_id {
        let batch = forged(shared, created, forged_id);
        let shared = shared.clone();
        tokio::spawn(async move { delivery::send(&shared, batch).await });
    }
    tokio::time::sleep(Duration::from_millis(race.hold_answer_ms)).await;
}

/// The created subscription's first change, under another id and with a wrong clientState.
fn forged(shared: &Shared, created: &SimSubscription, forged_id: String) -> Batch {
    let mut impostor = created.clone();
    impostor.id = forged_id;
    let wrong = format!("forged-{}", uuid::Uuid::new_v4().simple());
    let change = payloads::change(
        &impostor,
        created.change_types[0],
        Some(&wrong),
        &shared.options.user_id,
        1,
        shared.clock.now(),
    );
    let body = json!({ "value": [change.item] });
    Batch {
        url: created.notification_url.clone(),
        kind: BatchKind::Notifications,
        items: 1,
        body: Arc::new(serde_json::to_vec(&body).expect("JSON values serialize")),
        subscription_ids: vec![impostor.id],
    }
}
