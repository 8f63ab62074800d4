//! `trigger`: make the simulated Graph notify the subscriptions it holds, the way `stripe trigger` makes
//! Stripe send an event. Items are built per workload, encrypted for rich subscriptions with one
//! validation token per (app, tenant), batched per URL across subscriptions, and delivered by Graph's
//! rules; lifecycle events also change the subscription as Graph would.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use ts_rs::TS;

use super::delivery::{self, Batch, BatchKind, DeliveryRecord};
use super::payloads::{self, LifecycleEvent};
use super::state::{Shared, SimSubscription};
use super::tampering::{self, Tamper};
use crate::catalog::{self, ChangeType};

pub use crate::rich::CHANGE_TRACKING_APP_ID;
/// Graph does not document a batch size; a hundred keeps one POST reasonable.
const MAX_BATCH_ITEMS: usize = 100;

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(rename_all = "camelCase", optional_fields)]
pub struct TriggerSpec {
    /// A resource path (`/me/messages`) or a catalog name (`message`); None = every subscription.
    pub resource: Option<String>,
    pub subscription_id: Option<String>,
    /// `created`, `updated` or `deleted`; None = the first the subscription asked for.
    pub change_type: Option<String>,
    /// Changes per subscription (default 1).
    pub count: Option<u32>,
    /// Send this lifecycle event instead of changes.
    pub lifecycle: Option<LifecycleEvent>,
    /// Only subscriptions with resource data.
    pub rich: bool,
    /// Send every batch twice, as Graph does when its retry crosses a late 2xx.
    pub duplicate: bool,
    pub tamper: Option<Tamper>,
    /// `1` (v1 `appid` tokens, the default) or `2` (v2 `azp` tokens).
    pub token_version: Option<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TriggerReport {
    pub notifications: usize,
    pub subscription_ids: Vec<String>,
    /// The first attempt of each POST (retries continue in the background and appear in the log).
    pub deliveries: Vec<DeliveryRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TriggerError(pub String);

struct Planned {
    subscription: SimSubscription,
    change_type: Option<ChangeType>,
}

fn matches_resource(subscription: &SimSubscription, wanted: &str) -> bool {
    catalog::normalize(&subscription.resource) == catalog::normalize(wanted)
        || subscription
            .kind
            .name
            .eq_ignore_ascii_case(wanted.trim_matches('/'))
}

fn plan(shared: &Shared, spec: &TriggerSpec) -> Result<Vec<Planned>, TriggerError> {
    let change_type = spec
        .change_type
        .as_deref()
        .map(|t| match ChangeType::parse_list(t) {
            Ok(types) if types.len() == 1 => Ok(types[0]),
            Ok(_) => Err(TriggerError(
                "Give one change type to trigger, not a list.".into(),
            )),
            Err(message) => Err(TriggerError(message)),
        })
        .transpose()?;
    let mut state = shared.lock();
    state.sweep(shared.clock.now());
    let candidates: Vec<SimSubscription> = state
        .subscriptions
        .iter()
        .filter(|s| spec.subscription_id.as_ref().is_none_or(|id| &s.id == id))
        .filter(|s| {
            spec.resource
                .as_ref()
                .is_none_or(|r| matches_resource(s, r))
        })
        .filter(|s| !spec.rich || s.include_resource_data)
        .cloned()
        .collect();
    if candidates.is_empty() {
        let what = match (&spec.subscription_id, &spec.resource) {
            (Some(id), _) => format!("subscription {id}"),
            (None, Some(resource)) => format!("resource '{resource}'"),
            (None, None) => "any resource".into(),
        };
        let rich = if spec.rich { " with resource data" } else { "" };
        return Err(TriggerError(format!(
            "No subscription{rich} in the simulator matches {what}; create one first (hookscope subscribe) or change the filter."
        )));
    }
    let mut planned = Vec::new();
    let mut refusals = Vec::new();
    for subscription in candidates {
        if let Some(event) = spec.lifecycle {
            if subscription.lifecycle_notification_url.is_none()
                && !shared.options.lifecycle_without_url
            {
                refusals.push(format!(
                    "{} has no lifecycleNotificationUrl, and Graph sends lifecycle events only there",
                    subscription.id
                ));
                continue;
            }
            if event != LifecycleEvent::ReauthorizationRequired
                && !subscription.kind.removed_and_missed_events
            {
                refusals.push(format!(
                    "Graph sends {} only for Outlook resources and Teams chat messages, not {}",
                    event.as_str(),
                    subscription.kind.name
                ));
                continue;
            }
            planned.push(Planned {
                subscription,
                change_type: None,
            });
            continue;
        }
        let chosen = match change_type {
            Some(t) if subscription.change_types.contains(&t) => t,
            Some(t) => {
                refusals.push(format!(
                    "{} subscribed to {}, not {t}",
                    subscription.id,
                    ChangeType::join(&subscription.change_types)
                ));
                continue;
            }
            None => subscription.change_types[0],
        };
        planned.push(Planned {
            subscription,
            change_type: Some(chosen),
        });
    }
    if planned.is_empty() {
        return Err(TriggerError(format!(
            "Nothing to send: {}.",
            refusals.join("; ")
        )));
    }
    Ok(planned)
}

/// Mints one validation token for an (app, tenant) pair (docs/graph.md §7).
fn validation_token(
    shared: &Shared,
    app: &str,
    tenant: &str,
    version: u8,
    tamper: Option<Tamper>,
) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({
        "aud": app,
        "iat": now,
        "nbf": now,
        "exp": now + 3_600,
        "tid": tenant,
        "oid": shared.options.service_principal_id,
        "sub": shared.options.service_principal_id,
        "uti": uuid::Uuid::new_v4().simple().to_string(),
        "rh": "0.simulated.",
    });
    if version == 2 {
        claims["iss"] = json!(format!("{}/{tenant}/v2.0", shared.base_url));
        claims["azp"] = json!(CHANGE_TRACKING_APP_ID);
        claims["azpacr"] = json!("2");
        claims["ver"] = json!("2.0");
    } else {
        claims["iss"] = json!(format!("https://sts.windows.net/{tenant}/"));
        claims["idp"] = json!(format!("https://sts.windows.net/{tenant}/"));
        claims["appid"] = json!(CHANGE_TRACKING_APP_ID);
        claims["appidacr"] = json!("2");
        claims["ver"] = json!("1.0");
    }
    if let Some(tamper) = tamper {
        tamper.apply_to_claims(&mut claims, now);
    }
    match tamper {
        Some(Tamper::AlgNone) => shared.signing.unsigned(&claims),
        Some(Tamper::Signature) => tampering::break_signature(&shared.signing.sign(&claims)),
        Some(Tamper::UnknownKid) => shared.signing.sign_as(&claims, "rotated-away-key"),
        _ => shared.signing.sign(&claims),
    }
}

/// Items destined for one URL, with the (app, tenant) pairs of their rich items.
struct Pending {
    url: String,
    kind: BatchKind,
    items: Vec<Value>,
    subscriptions: Vec<String>,
    rich_pairs: BTreeSet<(String, String)>,
}

fn build_item(
    shared: &Shared,
    planned: &Planned,
    spec: &TriggerSpec,
    n: u64,
) -> Result<(Value, bool), TriggerError> {
    let subscription = &planned.subscription;
    let wrong_state;
    let client_state = if spec.tamper == Some(Tamper::ClientState) {
        wrong_state = format!(
            "not-{}",
            subscription.client_state.as_deref().unwrap_or("the-secret")
        );
        Some(wrong_state.as_str())
    } else {
        subscription.client_state.as_deref()
    };
    if let Some(event) = spec.lifecycle {
        return Ok((
            payloads::lifecycle_item(subscription, event, client_state),
            false,
        ));
    }
    let change_type = planned
        .change_type
        .expect("planned changes carry a change type");
    let change = payloads::change(
        subscription,
        change_type,
        client_state,
        &shared.options.user_id,
        n,
        shared.clock.now(),
    );
    let mut item: Map<String, Value> = change.item;
    if let Some(path) = item.get("resource").and_then(Value::as_str) {
        let mut state = shared.lock();
        match change_type {
            ChangeType::Deleted => state.resources.remove(path),
            _ => state.resources.put(path, change.resource.clone()),
        }
    }
    let rich = subscription.include_resource_data && change_type != ChangeType::Deleted;
    if rich {
        let certificate = subscription
            .certificate
            .as_ref()
            .ok_or_else(|| TriggerError("A rich subscription has no certificate.".into()))?;
        let plaintext = serde_json::to_vec(&change.resource).expect("JSON values serialize");
        let mut content = crate::rich::encrypt(
            &plaintext,
            certificate,
            subscription.certificate_id.as_deref().unwrap_or_default(),
        )
        .map_err(|e| TriggerError(e.to_string()))?;
        if let Some(tamper) = spec.tamper {
            tamper.apply_to_content(&mut content);
        }
        item.insert(
            "encryptedContent".into(),
            serde_json::to_value(content).expect("serializable"),
        );
    }
    Ok((Value::Object(item), rich))
}

pub async fn trigger(
    shared: &Arc<Shared>,
    spec: TriggerSpec,
) -> Result<TriggerReport, TriggerError> {
    let planned = plan(shared, &spec)?;
    let count = spec.count.unwrap_or(1).clamp(1, 10_000) as u64;
    let version = spec.token_version.unwrap_or(shared.options.token_version);
    if version != 1 && version != 2 {
        return Err(TriggerError("Token version must be 1 or 2.".into()));
    }
    let kind = if spec.lifecycle.is_some() {
        BatchKind::Lifecycle
    } else {
        BatchKind::Notifications
    };
    let mut pending: Vec<Pending> = Vec::new();
    let mut held: Vec<(String, Pending)> = Vec::new();
    let mut total = 0;
    for planned in &planned {
        let subscription = &planned.subscription;
        let url = match kind {
            BatchKind::Lifecycle => subscription
                .lifecycle_notification_url
                .clone()
                .unwrap_or_else(|| subscription.notification_url.clone()),
            BatchKind::Notifications => subscription.notification_url.clone(),
        };
        let lifecycle_count = if kind == BatchKind::Lifecycle {
            1
        } else {
            count
        };
        for n in 0..lifecycle_count {
            let (item, rich) = build_item(shared, planned, &spec, n + 1)?;
            total += 1;
            // A paused subscription's changes wait at Graph; lifecycle events still go out.
            let target = if kind == BatchKind::Notifications && subscription.needs_reauthorization {
                match held.iter_mut().find(|(id, _)| id == &subscription.id) {
                    Some((_, p)) => p,
                    None => {
                        held.push((subscription.id.clone(), Pending::new(url.clone(), kind)));
                        &mut held.last_mut().expect("just pushed").1
                    }
                }
            } else {
                match pending
                    .iter_mut()
                    .find(|p| p.url == url && p.items.len() < MAX_BATCH_ITEMS)
                {
                    Some(p) => p,
                    None => {
                        pending.push(Pending::new(url.clone(), kind));
                        pending.last_mut().expect("just pushed")
                    }
                }
            };
            target.items.push(item);
            if !target.subscriptions.contains(&subscription.id) {
                target.subscriptions.push(subscription.id.clone());
            }
            if rich {
                target.rich_pairs.insert((
                    subscription.application_id.clone(),
                    subscription.tenant_id.clone(),
                ));
            }
        }
    }
    let finish = |p: Pending| -> Batch {
        let mut body = json!({ "value": p.items });
        if spec.tamper == Some(Tamper::TokensNull) && !p.rich_pairs.is_empty() {
            body["validationTokens"] = Value::Null;
        } else if !p.rich_pairs.is_empty() {
            body["validationTokens"] = json!(p
                .rich_pairs
                .iter()
                .map(|(app, tenant)| validation_token(shared, app, tenant, version, spec.tamper))
                .collect::<Vec<_>>());
        }
        Batch {
            url: p.url,
            kind: p.kind,
            items: p.items.len(),
            body: Arc::new(serde_json::to_vec(&body).expect("JSON values serialize")),
            subscription_ids: p.subscriptions,
        }
    };
    let mut deliveries = Vec::new();
    {
        let mut state = shared.lock();
        for (id, p) in held {
            let batch = finish(p);
            deliveries.push(delivery::record_held(shared, &batch));
            if let Some(s) = state.subscription(&id) {
                s.held.push(batch);
            }
        }
    }
    let batches: Vec<Batch> = pending.into_iter().map(finish).collect();
    // Graph changes its side first and then tells the subscriber: a subscriber that answers a
    // reauthorizationRequired at once must find the subscription already paused, not paused after.
    apply_lifecycle(shared, &spec, &planned);
    let copies = if spec.duplicate {
        batches.clone()
    } else {
        Vec::new()
    };
    deliveries.extend(delivery::send_all(shared, batches).await);
    if !copies.is_empty() {
        deliveries.extend(delivery::send_all(shared, copies).await);
    }
    Ok(TriggerReport {
        notifications: total,
        subscription_ids: planned.iter().map(|p| p.subscription.id.clone()).collect(),
        deliveries,
    })
}

impl Pending {
    fn new(url: String, kind: BatchKind) -> Pending {
        Pending {
            url,
            kind,
            items: Vec::new(),
            subscriptions: Vec::new(),
            rich_pairs: BTreeSet::new(),
        }
    }
}

/// What a lifecycle event means at Graph's side: a pause until reauthorized, or the end of the subscription.
fn apply_lifecycle(shared: &Shared, spec: &TriggerSpec, planned: &[Planned]) {
    let Some(event) = spec.lifecycle else { return };
    let mut state = shared.lock();
    for p in planned {
        match event {
            LifecycleEvent::ReauthorizationRequired => {
                if let Some(s) = state.subscription(&p.subscription.id) {
                    s.needs_reauthorization = true;
                }
            }
            LifecycleEvent::SubscriptionRemoved => {
                state.subscriptions.retain(|s| s.id != p.subscription.id);
            }
            LifecycleEvent::Missed => {}
        }
    }
}
