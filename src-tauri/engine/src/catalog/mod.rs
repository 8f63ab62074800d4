//! The resources Graph can notify about, with the rules Graph enforces on each (change types, maximum
//! lifetime, permissions, rich notifications, the Teams lifecycle-URL rule). One table serves the
//! simulator, which enforces it, and the subscription form, which explains it before Graph is called.

mod resources;

use std::fmt;

use serde::Serialize;
use ts_rs::TS;

pub use resources::RESOURCES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ChangeType {
    Created,
    Updated,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Created => "created",
            ChangeType::Updated => "updated",
            ChangeType::Deleted => "deleted",
        }
    }

    /// Graph's comma-separated form. Older samples send `Created` and `created, updated`: Graph accepts
    /// both, so case and spaces are forgiven here too.
    pub fn parse_list(text: &str) -> Result<Vec<ChangeType>, String> {
        let mut types = Vec::new();
        for part in text.split(',') {
            let kind = match part.trim().to_ascii_lowercase().as_str() {
                "created" => ChangeType::Created,
                "updated" => ChangeType::Updated,
                "deleted" => ChangeType::Deleted,
                "" => continue,
                other => {
                    return Err(format!(
                        "'{other}' is not a change type; use created, updated or deleted."
                    ))
                }
            };
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        if types.is_empty() {
            return Err("changeType is empty; use created, updated or deleted.".into());
        }
        types.sort();
        Ok(types)
    }

    pub fn join(types: &[ChangeType]) -> String {
        types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for ChangeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The service behind a resource: it decides payload shapes, lifetimes and which lifecycle events exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Workload {
    Outlook,
    Directory,
    OneDrive,
    Teams,
    Presence,
    CallRecords,
    Todo,
    Security,
}

/// One kind of resource Graph notifies about.
#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ResourceKind {
    /// Graph's entity name: `message`, `driveItem`, `chatMessage`, …
    pub name: &'static str,
    pub workload: Workload,
    /// The `@odata.type` Graph puts in `resourceData`.
    pub odata_type: &'static str,
    /// Resource paths this kind is subscribed with (`*` = any one segment: an id).
    #[ts(type = "string[]")]
    pub paths: &'static [&'static str],
    /// A path to show in forms and help, with `{id}` placeholders.
    pub example: &'static str,
    #[ts(type = "ChangeType[]")]
    pub change_types: &'static [ChangeType],
    pub max_lifetime_minutes: u32,
    /// A shorter maximum when `includeResourceData` is set (Outlook: one day).
    pub rich_max_lifetime_minutes: Option<u32>,
    pub delegated_permission: Option<&'static str>,
    pub application_permission: Option<&'static str>,
    /// Whether Graph can include the (encrypted) resource in notifications.
    pub rich: bool,
    /// Outlook sends only the properties a `$select` in the resource names.
    pub rich_needs_select: bool,
    /// Teams: a lifecycle URL is required when the subscription lives more than an hour.
    pub lifecycle_url_required_over_an_hour: bool,
    /// Which lifecycle events Graph sends for it besides `reauthorizationRequired`.
    pub removed_and_missed_events: bool,
}

impl ResourceKind {
    pub fn allows(&self, change_type: ChangeType) -> bool {
        self.change_types.contains(&change_type)
    }

    /// The permission to name when Graph answers 403: the application one for app-only callers.
    pub fn permission(&self, app_only: bool) -> Option<&'static str> {
        if app_only {
            self.application_permission
        } else {
            self.delegated_permission
        }
    }

    /// The longest lifetime Graph grants, given the Outlook ceiling in force (the docs and the live
    /// service disagree: 10,080, 10,070 or 4,230 minutes).
    pub fn max_minutes(&self, rich: bool, outlook_ceiling: u32) -> u32 {
        match (rich, self.rich_max_lifetime_minutes) {
            (true, Some(minutes)) => minutes,
            _ if self.workload == Workload::Outlook => outlook_ceiling,
            _ => self.max_lifetime_minutes,
        }
    }
}

/// Splits a resource path into lowercase segments, with OData keys (`users('x')`) turned into their own
/// segment and any query (`?$select=…`) dropped, so `/Users('a')/Messages` and `users/a/messages` agree.
pub fn segments(resource: &str) -> Vec<String> {
    let path = resource.split('?').next().unwrap_or_default();
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        match raw.split_once('(') {
            Some((name, key)) => {
                out.push(name.to_ascii_lowercase());
                let key = key
                    .trim_end_matches(')')
                    .trim_matches(|c| c == '\'' || c == '"');
                out.push(key.to_ascii_lowercase());
            }
            None => out.push(raw.to_ascii_lowercase()),
        }
    }
    out
}

fn matches(pattern: &str, segments: &[String]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    parts.len() == segments.len()
        && parts
            .iter()
            .zip(segments)
            .all(|(p, s)| *p == "*" || p.eq_ignore_ascii_case(s))
}

/// The catalog entry for a resource path, if Hookscope knows it.
pub fn classify(resource: &str) -> Option<&'static ResourceKind> {
    let segments = segments(resource);
    RESOURCES
        .iter()
        .find(|kind| kind.paths.iter().any(|p| matches(p, &segments)))
}

/// The same resource, however it was spelled: lowercase segments without a leading slash, query kept.
pub fn normalize(resource: &str) -> String {
    let query = resource.split_once('?').map(|(_, q)| q);
    let path = segments(resource).join("/");
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_common_spellings() {
        for (resource, name) in [
            ("/me/messages", "message"),
            ("users/abc/messages", "message"),
            ("Users('abc')/mailFolders('inbox')/messages", "message"),
            (
                "/me/mailfolders('Inbox')/messages?$select=subject",
                "message",
            ),
            ("users/abc/events", "event"),
            ("users", "user"),
            ("groups/g1", "group"),
            ("me/drive/root", "driveItem"),
            ("drives/b!x/root", "driveItem"),
            ("/teams/getAllMessages", "chatMessage"),
            ("chats/getAllMessages", "chatMessage"),
            ("teams/t/channels/c/messages", "chatMessage"),
            ("chats", "chat"),
            ("communications/presences/u1", "presence"),
            ("communications/presences?$filter=id in ('a')", "presence"),
            ("communications/callRecords", "callRecord"),
        ] {
            assert_eq!(classify(resource).map(|k| k.name), Some(name), "{resource}");
        }
        assert!(classify("me/unknownThing").is_none());
    }

    #[test]
    fn change_types_are_forgiving_but_exact() {
        assert_eq!(
            ChangeType::parse_list("Updated, created,created").unwrap(),
            vec![ChangeType::Created, ChangeType::Updated]
        );
        assert!(ChangeType::parse_list("renamed").is_err());
        assert!(ChangeType::parse_list(" , ").is_err());
    }

    #[test]
    fn lifetimes_follow_the_current_docs_with_the_outlook_knob() {
        let message = classify("me/messages").unwrap();
        assert_eq!(message.max_minutes(false, 10_080), 10_080);
        assert_eq!(message.max_minutes(false, 4_230), 4_230);
        assert_eq!(message.max_minutes(true, 10_080), 1_440);
        assert_eq!(
            classify("communications/presences/x")
                .unwrap()
                .max_minutes(true, 10_080),
            60
        );
    }
}
