//! What Graph's notification items look like per workload (docs/graph.md §4.2, §5, §6.3): the resource path
//! forms each service uses, `resourceData` with or without an id, Outlook's etags, and the resource
//! JSON a rich notification carries encrypted.

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use ts_rs::TS;

use super::clock::graph_time;
use super::state::SimSubscription;
use crate::catalog::{segments, ChangeType, Workload};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleEvent {
    ReauthorizationRequired,
    SubscriptionRemoved,
    Missed,
}

impl LifecycleEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
            LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
            LifecycleEvent::Missed => "missed",
        }
    }
}

/// One change notification item, and the resource it is about (what a rich item encrypts).
pub struct Change {
    pub item: Map<String, Value>,
    pub resource: Value,
}

fn random_id(length: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..length)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The id after `name` in the subscription's resource (`users/{id}/messages` → the user id), if any.
fn id_after(resource: &str, name: &str) -> Option<String> {
    let parts = segments(resource);
    let index = parts.iter().position(|p| p == name)?;
    parts
        .get(index + 1)
        .filter(|id| !id.starts_with("getall"))
        .cloned()
}

fn base(subscription: &SimSubscription, client_state: Option<&str>) -> Map<String, Value> {
    let mut item = Map::new();
    item.insert("subscriptionId".into(), json!(subscription.id));
    item.insert(
        "subscriptionExpirationDateTime".into(),
        json!(graph_time(subscription.expiration)),
    );
    if let Some(state) = client_state {
        item.insert("clientState".into(), json!(state));
    }
    item.insert("tenantId".into(), json!(subscription.tenant_id));
    item
}

/// A lifecycle notification item: no resource, no resource data.
pub fn lifecycle_item(
    subscription: &SimSubscription,
    event: LifecycleEvent,
    client_state: Option<&str>,
) -> Value {
    let mut item = base(subscription, client_state);
    item.insert("lifecycleEvent".into(), json!(event.as_str()));
    Value::Object(item)
}

/// The `n`th simulated change to a subscription's resource.
pub fn change(
    subscription: &SimSubscription,
    change_type: ChangeType,
    client_state: Option<&str>,
    user_id: &str,
    n: u64,
    now: OffsetDateTime,
) -> Change {
    let mut item = base(subscription, client_state);
    item.insert("changeType".into(), json!(change_type.as_str()));
    let kind = subscription.kind;
    let user = id_after(&subscription.resource, "users").unwrap_or_else(|| user_id.to_string());
    let when = graph_time(now);
    let (resource_path, resource_data, resource) = match kind.workload {
        Workload::Outlook => {
            let collection = match kind.name {
                "event" => "Events",
                "contact" => "Contacts",
                _ => "Messages",
            };
            let id = format!("AAMkAG{}", random_id(40));
            let path = format!("Users/{user}/{collection}/{id}");
            let etag = format!("W/\"CQAAABYAAAD{}\"", random_id(24));
            item.insert("id".into(), json!(random_id(13)));
            let data = json!({
                "@odata.type": kind.odata_type,
                "@odata.id": path,
                "@odata.etag": etag,
                "id": id,
            });
            let resource = json!({
                "@odata.type": kind.odata_type,
                "@odata.id": path,
                "@odata.etag": etag,
                "id": id,
                "subject": format!("Simulated {} {n}", kind.name),
                "receivedDateTime@odata.type": "#DateTimeOffset",
                "receivedDateTime": when,
                "isRead": false,
            });
            (path, data, resource)
        }
        Workload::Directory => {
            let id = uuid::Uuid::new_v4().to_string();
            let path = match kind.name {
                "conversation" => format!(
                    "groups('{}')/conversations('{}')",
                    id_after(&subscription.resource, "groups").unwrap_or_default(),
                    random_id(32)
                ),
                "group" => format!("Groups/{id}"),
                _ => format!("Users/{id}"),
            };
            let data = json!({
                "@odata.type": kind.odata_type,
                "@odata.id": path,
                "id": id,
                "organizationId": subscription.tenant_id,
            });
            (path, data.clone(), data)
        }
        Workload::OneDrive => {
            // driveItem and list notifications carry only the type: the receiver runs a delta query.
            let path = subscription.resource.trim_start_matches('/').to_string();
            let data = json!({ "@odata.type": kind.odata_type });
            (path, data.clone(), data)
        }
        Workload::Teams => teams(subscription, &user, n, &when),
        Workload::Presence => {
            let id = id_after(&subscription.resource, "presences").unwrap_or(user.clone());
            let path = format!("communications/presences/{id}");
            let (availability, activity) = [
                ("Available", "Available"),
                ("Busy", "InACall"),
                ("Away", "Away"),
                ("DoNotDisturb", "Presenting"),
            ][n as usize % 4];
            item.insert("organizationId".into(), json!(subscription.tenant_id));
            let data = json!({
                "@odata.type": kind.odata_type,
                "@odata.id": format!("users/{id}/presence"),
                "id": id,
            });
            let resource = json!({
                "@odata.type": kind.odata_type,
                "@odata.id": format!("users/{id}/presence"),
                "id": id,
                "availability": availability,
                "activity": activity,
            });
            (path, data, resource)
        }
        Workload::CallRecords | Workload::Todo | Workload::Security => {
            let id = uuid::Uuid::new_v4().to_string();
            let path = match kind.workload {
                Workload::CallRecords => format!("communications/callRecords/{id}"),
                Workload::Todo => format!(
                    "Users/{user}/todo/lists/{}/tasks/{id}",
                    id_after(&subscription.resource, "lists").unwrap_or_default()
                ),
                _ => format!("security/alerts/{id}"),
            };
            let data = json!({ "@odata.type": kind.odata_type, "@odata.id": path, "id": id });
            (path, data.clone(), data)
        }
    };
    item.insert("resource".into(), json!(resource_path));
    item.insert("resourceData".into(), resource_data);
    Change { item, resource }
}

fn teams(subscription: &SimSubscription, user: &str, n: u64, when: &str) -> (String, Value, Value) {
    let kind = subscription.kind;
    let team = id_after(&subscription.resource, "teams")
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let channel = id_after(&subscription.resource, "channels")
        .unwrap_or_else(|| format!("19:{}@thread.tacv2", random_id(32)));
    if kind.name != "chatMessage" {
        let id = uuid::Uuid::new_v4().to_string();
        let path = match kind.name {
            "channel" => format!("teams('{team}')/channels('{channel}')"),
            "chat" => format!("chats('19:{}@unq.gbl.spaces')", random_id(32)),
            "conversationMember" => format!("teams('{team}')/members('{id}')"),
            _ => format!("teams('{team}')"),
        };
        let data = json!({ "@odata.type": kind.odata_type, "@odata.id": path, "id": id });
        let resource = json!({
            "@odata.context": format!("https://graph.microsoft.com/$metadata#{path}/$entity"),
            "id": id,
            "displayName": format!("Simulated {} {n}", kind.name),
            "createdDateTime": when,
        });
        return (path, data, resource);
    }
    let message = format!(
        "{}",
        1_600_000_000_000u64 + n * 1_000 + rand::thread_rng().gen_range(0..1_000)
    );
    let in_chat = segments(&subscription.resource)
        .first()
        .is_some_and(|s| s == "chats")
        || segments(&subscription.resource)
            .iter()
            .any(|s| s == "chats");
    let path = if in_chat {
        let chat = id_after(&subscription.resource, "chats")
            .unwrap_or_else(|| format!("19:{}@unq.gbl.spaces", random_id(32)));
        format!("chats('{chat}')/messages('{message}')")
    } else {
        format!("teams('{team}')/channels('{channel}')/messages('{message}')")
    };
    let data = json!({ "id": message, "@odata.type": kind.odata_type, "@odata.id": path });
    let resource = json!({
        "@odata.context": format!("https://graph.microsoft.com/$metadata#{path}/$entity"),
        "id": message,
        "replyToId": null,
        "etag": message,
        "messageType": "message",
        "createdDateTime": when,
        "lastModifiedDateTime": when,
        "deletedDateTime": null,
        "subject": null,
        "importance": "normal",
        "locale": "en-us",
        "from": { "user": { "id": user, "displayName": "Adele Vance", "userIdentityType": "aadUser" } },
        "body": { "contentType": "text", "content": format!("Simulated message {n}") },
        "channelIdentity": if in_chat { Value::Null } else { json!({ "teamId": team, "channelId": channel }) },
        "attachments": [],
        "mentions": [],
        "reactions": [],
    });
    (path, data, resource)
}
