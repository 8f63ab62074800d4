//! Reading a notification batch (`{"value": [...]}`) and judging each item on its own: shape, known
//! subscription, clientState. A bad item is stored as rejected with its reason; it never spoils the batch.
//!
//! Items are read into borrowed typed fields (no JSON tree is built); only an item whose fields have
//! the wrong types takes the slow path through `serde_json::Value`, to say exactly what is wrong.

use std::borrow::Cow;
use std::cell::Cell;
use std::marker::PhantomData;

use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::verdicts::{ClientStateCheck, Snapshot};
use crate::model::Verdict;
use crate::store::NotificationRow;

/// At most this many `validationTokens`: Graph sends one per tenant and app the batch's items come from.
const MAX_TOKENS: usize = 100;

/// What a batch said about `validationTokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tokens {
    Absent,
    Null,
    Present(Vec<String>),
}

pub struct Batch<'a> {
    pub items: Vec<&'a RawValue>,
    pub tokens: Tokens,
}

/// Why a body is not a batch the receiver will judge.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not JSON, or not `{"value": [...]}` (answered 400).
    Malformed(String),
    /// More items or tokens than the receiver takes, found while reading (answered 413).
    TooMany(String),
}

/// Reads the envelope, counting items as they are read: past `max_items` it stops at once, before
/// the rest of the array is even scanned, so a body of millions of `{}` costs no more than a thousand.
pub fn parse(body: &[u8], max_items: usize) -> Result<Batch<'_>, Refusal> {
    let over = Cell::new(None);
    let seed = EnvelopeSeed {
        max_items,
        over: &over,
    };
    let mut reader = serde_json::Deserializer::from_slice(body);
    let parsed = seed
        .deserialize(&mut reader)
        .and_then(|batch| reader.end().map(|()| batch));
    match (parsed, over.get()) {
        (Ok(batch), _) => Ok(batch),
        (Err(_), Some(Over::Items)) => Err(Refusal::TooMany(format!("The batch holds more than {max_items} notifications, the receiver's limit; it was refused whole (raise --max-items if you really send batches this large)."))),
        (Err(_), Some(Over::Tokens)) => Err(Refusal::TooMany(format!("The batch carries more than {MAX_TOKENS} validationTokens; Graph sends one per tenant and app, so it was refused whole."))),
        // Only on the error path: find out whether it is broken JSON or just the wrong shape.
        (Err(shape_error), None) => Err(Refusal::Malformed(match serde_json::from_slice::<IgnoredAny>(body) {
            Err(error) => format!("The body is not valid JSON ({error})."),
            Ok(_) if looks_like_a_batch(body) => {
                format!("The batch has the wrong shape ({shape_error}); expected {{\"value\": [notifications]}}.")
            }
            Ok(_) => "Expected a JSON object with a \"value\" array of notifications.".to_owned(),
        })),
    }
}

/// Whether a valid JSON body is an object with a `value` key (then its shape is what is wrong).
fn looks_like_a_batch(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Keys {
        #[serde(default)]
        value: Option<IgnoredAny>,
    }
    serde_json::from_slice::<Keys>(body).is_ok_and(|keys| keys.value.is_some())
}

#[derive(Clone, Copy)]
enum Over {
    Items,
    Tokens,
}

struct EnvelopeSeed<'c> {
    max_items: usize,
    over: &'c Cell<Option<Over>>,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_> {
    type Value = Batch<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_> {
    type Value = Batch<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with a \"value\" array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut items = None;
        let mut tokens = Tokens::Absent;
        let mut tokens_seen = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "value" if items.is_some() => return Err(A::Error::duplicate_field("value")),
                "value" => {
                    items = Some(map.next_value_seed(Capped::<&'de RawValue> {
                        max: self.max_items,
                        over: self.over,
                        what: Over::Items,
                        item: PhantomData,
                    })?)
                }
                "validationTokens" if tokens_seen => {
                    return Err(A::Error::duplicate_field("validationTokens"))
                }
                "validationTokens" => {
                    tokens_seen = true;
                    tokens = match map.next_value_seed(OptionSeed(Capped::<String> {
                        max: MAX_TOKENS,
                        over: self.over,
                        what: Over::Tokens,
                        item: PhantomData,
                    }))? {
                        None => Tokens::Null,
                        Some(tokens) => Tokens::Present(tokens),
                    };
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let items = items.ok_or_else(|| A::Error::missing_field("value"))?;
        Ok(Batch { items, tokens })
    }
}

/// An array read into a Vec that refuses its `max + 1`th element.
struct Capped<'c, T> {
    max: usize,
    over: &'c Cell<Option<Over>>,
    what: Over,
    item: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Capped<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Capped<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut out = Vec::new();
        while let Some(element) = seq.next_element::<T>()? {
            if out.len() == self.max {
                self.over.set(Some(self.what));
                return Err(S::Error::custom("too many elements"));
            }
            out.push(element);
        }
        Ok(out)
    }
}

/// `null` or what the inner seed reads.
struct OptionSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("null or an array")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer).map(Some)
    }
}

/// The fields Hookscope reads from an item. Some are declared only so a wrong type is caught here (and
/// explained by the slow path); their values are read back from the stored item when shown.
#[derive(Deserialize, Default)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
struct ItemView<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subscription_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subscription_expiration_date_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    change_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    lifecycle_event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    resource: Option<Cow<'a, str>>,
    #[serde(borrow)]
    client_state: Option<Cow<'a, str>>,
    #[serde(borrow)]
    tenant_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    resource_data: Option<&'a RawValue>,
    #[serde(borrow)]
    encrypted_content: Option<&'a RawValue>,
}

/// One item read from the batch, ready to be judged.
pub struct Item<'a> {
    raw: &'a RawValue,
    view: ItemView<'a>,
    /// A shape problem found while reading (wrong field types, not an object).
    problem: Option<String>,
}

impl Item<'_> {
    pub fn subscription_id(&self) -> Option<&str> {
        self.view.subscription_id.as_deref()
    }

    pub fn client_state(&self) -> Option<&str> {
        self.view.client_state.as_deref()
    }

    /// The `encryptedContent` object of a rich item, as delivered.
    pub fn encrypted_content(&self) -> Option<&str> {
        self.view
            .encrypted_content
            .map(RawValue::get)
            .filter(|text| *text != "null")
    }
}

/// Reads every item. The envelope parse only skims items, so one can still turn out not to be JSON (a
/// lone surrogate, nesting deeper than 128): then the body as a whole is not valid JSON.
pub fn read<'a>(raw_items: &[&'a RawValue]) -> Result<Vec<Item<'a>>, String> {
    raw_items.iter().map(|raw| read_item(raw)).collect()
}

fn read_item<'a>(raw: &'a RawValue) -> Result<Item<'a>, String> {
    // serde would read a JSON array into the struct by position; only an object is a notification.
    let is_object = raw.get().starts_with('{');
    if let Some(view) = is_object
        .then(|| serde_json::from_str::<ItemView>(raw.get()).ok())
        .flatten()
    {
        let problem = view
            .resource_data
            .filter(|data| !data.get().starts_with('{') && data.get() != "null")
            .map(|_| "Wrong shape: \"resourceData\" must be an object.".to_owned());
        return Ok(Item { raw, view, problem });
    }
    // The slow path: say precisely what is wrong, from the generic tree.
    let value: Value = serde_json::from_str(raw.get())
        .map_err(|error| format!("The body is not valid JSON ({error})."))?;
    let Some(fields) = value.as_object() else {
        return Ok(Item {
            raw,
            view: ItemView::default(),
            problem: Some("The item is not a JSON object.".to_owned()),
        });
    };
    // The item is rejected whatever else it holds; keep only what its row stores as columns.
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .map(|s| Cow::Owned(s.to_owned()))
    };
    let view = ItemView {
        subscription_id: text("subscriptionId"),
        change_type: text("changeType"),
        lifecycle_event: text("lifecycleEvent"),
        ..ItemView::default()
    };
    let problem =
        Some(type_problem(fields).unwrap_or_else(|| "Wrong shape: a field repeats.".to_owned()));
    Ok(Item { raw, view, problem })
}

fn type_problem(fields: &Map<String, Value>) -> Option<String> {
    let names = [
        "id",
        "subscriptionId",
        "subscriptionExpirationDateTime",
        "changeType",
        "lifecycleEvent",
        "resource",
        "clientState",
        "tenantId",
    ];
    for name in names {
        if fields
            .get(name)
            .is_some_and(|value| !value.is_string() && !value.is_null())
        {
            return Some(format!("Wrong shape: \"{name}\" must be a string."));
        }
    }
    fields
        .get("resourceData")
        .is_some_and(|data| !data.is_object() && !data.is_null())
        .then(|| "Wrong shape: \"resourceData\" must be an object.".to_owned())
}

pub struct Context<'a> {
    pub request_id: &'a str,
    pub received_at: i64,
    /// The body the items were read from; an item is stored as its place in the body.
    pub body: &'a [u8],
}

const CHANGE_TYPES: [&str; 4] = ["created", "updated", "deleted", "unknownFutureValue"];
const LIFECYCLE_EVENTS: [&str; 3] = ["reauthorizationRequired", "subscriptionRemoved", "missed"];

pub fn judge(items: &[Item<'_>], snapshot: &Snapshot, cx: &Context<'_>) -> Vec<NotificationRow> {
    items
        .iter()
        .enumerate()
        .map(|(position, item)| judge_item(position, item, snapshot, cx))
        .collect()
}

fn judge_item(
    position: usize,
    item: &Item<'_>,
    snapshot: &Snapshot,
    cx: &Context<'_>,
) -> NotificationRow {
    let view = &item.view;
    let owned = |text: &Option<Cow<'_, str>>| text.as_deref().map(str::to_owned);
    let reason = item.problem.clone().or_else(|| shape_problem(view)).or_else(|| {
        let subscription = view.subscription_id.as_deref().unwrap_or_default();
        match snapshot.check(subscription, view.client_state.as_deref()) {
            ClientStateCheck::Matches => None,
            ClientStateCheck::UnknownSubscription => {
                Some(format!("Unknown subscription {subscription}: Hookscope holds no subscription with this id."))
            }
            ClientStateCheck::Missing => Some("The item carries no clientState, but the subscription has one.".to_owned()),
            ClientStateCheck::Mismatch => {
                Some("The clientState does not match the subscription's: the item may be forged.".to_owned())
            }
        }
    });
    let text = item.raw.get();
    // RawValue borrows from the body, so the item's place in it is a pointer difference.
    let offset = (text.as_ptr() as usize).wrapping_sub(cx.body.as_ptr() as usize);
    debug_assert!(
        offset + text.len() <= cx.body.len(),
        "items are slices of the body"
    );
    NotificationRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: cx.request_id.to_owned(),
        position: position as u32,
        received_at: cx.received_at,
        subscription_id: owned(&view.subscription_id),
        change_type: owned(&view.change_type),
        lifecycle_event: owned(&view.lifecycle_event),
        verdict: if reason.is_some() {
            Verdict::Rejected
        } else {
            Verdict::Accepted
        },
        reason,
        dedupe_key: dedupe_key(text),
        // Both are settled by the rich checks, for batches that carry tokens or encrypted content.
        decrypted: None,
        tokens_valid: None,
        item_offset: offset as u32,
        item_length: text.len() as u32,
    }
}

fn shape_problem(view: &ItemView<'_>) -> Option<String> {
    if view.subscription_id.as_deref().is_none_or(str::is_empty) {
        return Some("Wrong shape: the item has no subscriptionId.".to_owned());
    }
    match (view.change_type.as_deref(), view.lifecycle_event.as_deref()) {
        (None, None) => {
            Some("Wrong shape: the item has neither changeType nor lifecycleEvent.".to_owned())
        }
        (Some(_), Some(_)) => {
            Some("Wrong shape: the item has both changeType and lifecycleEvent.".to_owned())
        }
        (Some(change), None) => {
            // Older payloads may list several types comma-separated; each must be known.
            if let Some(bad) = change
                .split(',')
                .map(str::trim)
                .find(|t| !CHANGE_TYPES.iter().any(|k| k.eq_ignore_ascii_case(t)))
            {
                Some(format!("Wrong shape: unknown changeType \"{bad}\"."))
            } else if view.resource.is_none() {
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

/// Equal keys mean the same change delivered again: Graph's retries resend the same item, byte for byte.
fn dedupe_key(item: &str) -> [u8; 16] {
    let digest = Sha256::digest(item.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}
