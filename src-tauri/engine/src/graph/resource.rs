//! "Fetch the current resource": reads the resource a notification named from Graph (with `$select`),
//! so the inspector can show what the resource holds now beside what the notification said. Graph's basic
//! notifications carry only ids, so this is the step every receiver takes next (docs/graph.md §4).
//!
//! The read is signed in as the user's app, and a notification's `resource` is whatever its sender
//! wrote: only an accepted notification (a known subscription, its clientState, its tokens) names a
//! path Hookscope will read, so a forged one cannot make Hookscope read a path of the forger's choosing.

use std::time::Instant;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::Serialize;
use serde_json::Value;
use ts_rs::TS;

use super::{GraphApiError, GraphClient};
use crate::model::{Notification, Verdict};
use crate::Engine;

/// Characters a resource path may hold that would end or bend a URL path: OData keys such as
/// `messages('1616…')` and `19:…@thread.tacv2` stay as they are.
const PATH_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct CurrentResource {
    /// The URL read, `$select` included.
    pub url: String,
    /// Graph's answer, indented.
    pub body: String,
    pub fetched_at: String,
    pub elapsed_ms: f64,
}

/// Refuses a rejected notification: anyone who reaches the receiver can post one naming any path, and
/// the read that follows would be made with the user's credentials.
pub fn only_accepted(notification: &Notification) -> Result<(), String> {
    if notification.verdict == Verdict::Accepted {
        return Ok(());
    }
    let why = notification
        .reason
        .as_deref()
        .map(|reason| format!(" ({})", reason.trim().trim_end_matches('.')))
        .unwrap_or_default();
    Err(format!(
        "Notification {} was rejected{why}; Hookscope fetches resources only for accepted notifications.",
        notification.id
    ))
}

/// The path to read for this notification: its `resource`, else `resourceData`'s `@odata.id`; only
/// for an accepted notification.
pub fn resource_path(notification: &Notification) -> Result<String, String> {
    only_accepted(notification)?;
    if let Some(event) = &notification.lifecycle_event {
        return Err(format!(
            "A {event} lifecycle event names no resource to fetch; open a change notification instead."
        ));
    }
    notification
        .resource
        .clone()
        .or_else(|| {
            notification
                .resource_data
                .as_ref()
                .and_then(|d| d["@odata.id"].as_str().map(str::to_string))
        })
        .map(|path| path.trim().trim_start_matches('/').to_string())
        .filter(|path| !path.is_empty())
        .ok_or_else(|| {
            "This notification names no resource (it has neither `resource` nor `resourceData.@odata.id`).".to_string()
        })
        .and_then(|path| {
            // Anyone who reaches the receiver can post a resource path: one that climbs out of Graph's
            // API root would make a signed-in read of somewhere else on the Graph host.
            if path.contains('\\') || path.split('/').any(|s| s == "." || s == "..") {
                Err(format!(
                    "The resource {path:?} climbs out of Graph's API with '.' or '..', so Hookscope will not read it; a genuine notification never does."
                ))
            } else {
                Ok(path)
            }
        })
}

/// `subject, from` → `subject,from`; empty → no `$select` at all (the whole resource).
pub fn parse_select(text: &str) -> Result<Option<String>, String> {
    let names: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if let Some(bad) = names.iter().find(|n| {
        !n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@/".contains(c))
    }) {
        return Err(format!(
            "\"{bad}\" is not a property name; list properties separated by commas, such as subject,from."
        ));
    }
    Ok((!names.is_empty()).then(|| names.join(",")))
}

impl GraphClient {
    /// GETs `path` (relative to the service root) with an optional `$select`.
    pub async fn fetch_resource(
        &self,
        path: &str,
        select: Option<&str>,
    ) -> Result<CurrentResource, GraphApiError> {
        let mut relative = format!(
            "/{}",
            utf8_percent_encode(path.trim_start_matches('/'), PATH_UNSAFE)
        );
        if let Some(select) = select {
            relative.push_str("?$select=");
            relative.push_str(select);
        }
        let started = Instant::now();
        let (_, bytes) = self
            .call(
                reqwest::Method::GET,
                &relative,
                None,
                "Fetching the resource",
            )
            .await
            .map_err(|error| explain(error, select.is_some()))?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let body = match serde_json::from_slice::<Value>(&bytes) {
            Ok(json) => serde_json::to_string_pretty(&json).expect("JSON values serialize"),
            Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
        };
        Ok(CurrentResource {
            url: format!(
                "{}/v1.0{relative}",
                self.credentials().graph_url.trim_end_matches('/')
            ),
            body,
            fetched_at: crate::clock::rfc3339_millis(crate::clock::now_micros()),
            elapsed_ms,
        })
    }
}

/// Graph's refusals of a read, with what they usually mean for a notified resource, in one sentence.
fn explain(mut error: GraphApiError, selected: bool) -> GraphApiError {
    let hint = match error.status {
        404 => "it was deleted or moved after the notification, or this app cannot see it",
        403 => "the app lacks a permission to read it; grant the one the subscription form shows for this resource",
        400 if selected => "check the property names in $select",
        _ => return error,
    };
    let said = error.message.trim_end_matches('.');
    error.message = format!("{said}; {hint}.");
    error
}

/// What to read for stored notification `id`: its path and the `$select`, checked before any call.
pub struct Target {
    pub path: String,
    pub select: Option<String>,
}

pub async fn target(engine: &Engine, id: &str, select: &str) -> Result<Target, String> {
    let select = parse_select(select)?;
    // The notification alone: its item, request and relays are not needed to name the resource.
    let notification = engine
        .store()
        .notification(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("No stored notification has the id {id}."))?;
    let path = resource_path(&notification)?;
    Ok(Target { path, select })
}

/// Reads the resource stored notification `id` names, as Graph holds it now.
pub async fn current_resource(
    engine: &Engine,
    graph: &GraphClient,
    id: &str,
    select: &str,
) -> Result<CurrentResource, String> {
    let target = target(engine, id, select).await?;
    graph
        .fetch_resource(&target.path, target.select.as_deref())
        .await
        .map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_climbs_out_of_the_api_is_refused() {
        let note = |resource: &str| Notification {
            id: "n".into(),
            notification_id: None,
            received_at: String::new(),
            subscription_id: None,
            subscription_expiration_date_time: None,
            change_type: Some("created".into()),
            lifecycle_event: None,
            resource: Some(resource.into()),
            resource_data: None,
            tenant_id: None,
            verdict: crate::model::Verdict::Accepted,
            reason: None,
            duplicate: false,
            decrypted: None,
            tokens_valid: None,
            request_id: "r".into(),
            position: 0,
            replay_of: None,
        };
        assert_eq!(
            resource_path(&note("/Users/u1/Messages/m1")),
            Ok("Users/u1/Messages/m1".into())
        );
        for bad in ["../beta/me", "users/../../x", "users/./x", "users\\..\\x"] {
            let refused = resource_path(&note(bad)).unwrap_err();
            assert!(refused.contains("climbs out"), "{bad}: {refused}");
        }
        let mut forged = note("users/victim/messages/m1");
        forged.verdict = crate::model::Verdict::Rejected;
        forged.reason =
            Some("Unknown subscription s9: Hookscope holds no subscription with this id.".into());
        assert_eq!(
            resource_path(&forged),
            Err("Notification n was rejected (Unknown subscription s9: Hookscope holds no subscription with this id); Hookscope fetches resources only for accepted notifications.".into())
        );
    }

    #[test]
    fn select_lists_property_names_and_refuses_anything_else() {
        assert_eq!(parse_select("  "), Ok(None));
        assert_eq!(
            parse_select("subject, from ,,isRead"),
            Ok(Some("subject,from,isRead".into()))
        );
        let refused = parse_select("subject&$expand=x").unwrap_err();
        assert!(refused.contains("subject&$expand=x"), "{refused}");
    }
}
