//! Reading a notification batch (`{"value": [...]}`) and judging each item on its own: shape, known
//! subscription, clientState. A bad item is stored as rejected with its reason; it never spoils the batch.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::verdicts::{ClientStateCheck, Snapshot};
use crate::model::Verdict;
use crate::store::NotificationRow;

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    /// Only its shape is checked for now (an array of strings); the JWTs in it are verified with rich
    /// notifications.
    #[serde(rename = "validationTokens", default)]
    #[allow(dead_code)]
    validation_tokens: Option<Vec<String>>,
}

/// A batch whose envelope is sound; items are still raw JSON, kept byte for byte.
pub struct Batch<'a> {
    pub items: Vec<&'a RawValue>,
}

/// Why a body is not a notification batch at all (answered 400).
pub fn parse(body: &[u8]) -> Result<Batch<'_>, String> {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => Ok(Batch {
            items: envelope.value,
        }),
        // Only on the error path: find out whether it is broken JSON or just the wrong shape.
        Err(shape_error) => Err(match serde_json::from_slice::<Value>(body) {
            Err(error) => format!("The body is not valid JSON ({error})."),
            Ok(Value::Object(map)) if map.contains_key("value") => {
                format!("The batch has the wrong shape ({shape_error}); expected {{\"value\": [notifications]}}.")
            }
            Ok(_) => "Expected a JSON object with a \"value\" array of notifications.".to_owned(),
        }),
    }
}

/// The subscription ids a batch names, to refresh the verdict cache before judging.
pub fn subscription_ids<'a>(items: &'a [Value]) -> impl Iterator<Item = &'a str> {
    items
        .iter()
        .filter_map(|item| item.get("subscriptionId").and_then(Value::as_str))
}

pub struct Context<'a> {
    pub request_id: &'a str,
    pub received_at: i64,
}

const CHANGE_TYPES: [&str; 4] = ["created", "updated", "deleted", "unknownFutureValue"];
const LIFECYCLE_EVENTS: [&str; 3] = ["reauthorizationRequired", "subscriptionRemoved", "missed"];

/// Parses each raw item once. The envelope parse only skims items, so an item can still turn out not to
/// be JSON (a lone surrogate, nesting deeper than 128): then the body as a whole is not valid JSON.
pub fn values(items: &[&RawValue]) -> Result<Vec<Value>, String> {
    items
        .iter()
        .map(|raw| {
            serde_json::from_str(raw.get())
                .map_err(|error| format!("The body is not valid JSON ({error})."))
        })
        .collect()
}

pub fn judge(
    raw: &[&RawValue],
    values: &[Value],
    snapshot: &Snapshot,
    cx: &Context<'_>,
) -> Vec<NotificationRow> {
    raw.iter()
        .zip(values)
        .enumerate()
        .map(|(position, (raw, value))| judge_item(position, raw, value, snapshot, cx))
        .collect()
}

fn judge_item(
    position: usize,
    raw: &RawValue,
    value: &Value,
    snapshot: &Snapshot,
    cx: &Context<'_>,
) -> NotificationRow {
    let empty = Map::new();
    let object = value.as_object();
    let fields = object.unwrap_or(&empty);
    let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut row = NotificationRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: cx.request_id.to_owned(),
        position: position as u32,
        received_at: cx.received_at,
        notification_id: text("id"),
        subscription_id: text("subscriptionId"),
        subscription_expiration: text("subscriptionExpirationDateTime"),
        change_type: text("changeType"),
        lifecycle_event: text("lifecycleEvent"),
        resource: text("resource"),
        resource_data: fields
            .get("resourceData")
            .filter(|data| data.is_object())
            .cloned(),
        tenant_id: text("tenantId"),
        verdict: Verdict::Accepted,
        reason: None,
        dedupe_key: dedupe_key(value),
        decrypted: None,
        tokens_valid: None,
        item: raw.get().to_owned(),
    };
    let reason = match object {
        None => Some("The item is not a JSON object.".to_owned()),
        Some(fields) => shape_problem(fields).or_else(|| {
            let subscription = row.subscription_id.as_deref().unwrap_or_default();
            match snapshot.check(subscription, fields.get("clientState").and_then(Value::as_str)) {
                ClientStateCheck::Matches => None,
                ClientStateCheck::UnknownSubscription => {
                    Some(format!("Unknown subscription {subscription}: Hookscope holds no subscription with this id."))
                }
                ClientStateCheck::Missing => Some("The item carries no clientState, but the subscription has one.".to_owned()),
                ClientStateCheck::Mismatch => {
                    Some("The clientState does not match the subscription's: the item may be forged.".to_owned())
                }
            }
        }),
    };
    if reason.is_some() {
        row.verdict = Verdict::Rejected;
        row.reason = reason;
    }
    row
}

fn shape_problem(fields: &Map<String, Value>) -> Option<String> {
    for name in [
        "id",
        "subscriptionId",
        "subscriptionExpirationDateTime",
        "changeType",
        "lifecycleEvent",
        "resource",
        "clientState",
        "tenantId",
    ] {
        if let Some(value) = fields.get(name) {
            if !value.is_string() && !value.is_null() {
                return Some(format!("Wrong shape: \"{name}\" must be a string."));
            }
        }
    }
    if let Some(data) = fields.get("resourceData") {
        if !data.is_object() && !data.is_null() {
            return Some("Wrong shape: \"resourceData\" must be an object.".to_owned());
        }
    }
    let text = |name: &str| fields.get(name).and_then(Value::as_str);
    if text("subscriptionId").is_none_or(str::is_empty) {
        return Some("Wrong shape: the item has no subscriptionId.".to_owned());
    }
    match (text("changeType"), text("lifecycleEvent")) {
        (None, None) => {
            Some("Wrong shape: the item has neither changeType nor lifecycleEvent.".to_owned())
        }
        (Some(_), Some(_)) => {
            Some("Wrong shape: the item has both changeType and lifecycleEvent.".to_owned())
        }
        (Some(change), None) => {
            // Graph may send several types comma-separated in older payloads; each must be known.
            if let Some(bad) = change
                .split(',')
                .map(str::trim)
                .find(|t| !CHANGE_TYPES.iter().any(|k| k.eq_ignore_ascii_case(t)))
            {
                Some(format!("Wrong shape: unknown changeType \"{bad}\"."))
            } else if text("resource").is_none() {
                Some("Wrong shape: a change notification must name its resource.".to_owned())
            } else {
                None
            }
        }
        (None, Some(event)) => (!LIFECYCLE_EVENTS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(event)))
        .then(|| format!("Wrong shape: unknown lifecycleEvent \"{event}\".")),
    }
}

/// Equal keys mean the same change delivered again (Graph's retries resend identical items). The parsed
/// value is hashed in serde_json's canonical form, so whitespace differences do not hide a retry.
fn dedupe_key(value: &Value) -> [u8; 16] {
    let digest = Sha256::digest(value.to_string().as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}
