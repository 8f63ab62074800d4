//! The resources simulated changes touched, kept so `GET /v1.0/{resource}` answers as Graph would: the
//! resource as it stands now with `$select` applied, or 404 once a `deleted` change removed it. This is
//! what lets "fetch the current resource" be tried without a tenant. A path no change touched is
//! answered as Graph answers a path it cannot resolve (400, by the caller).

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};

/// Enough for any test or demo; the oldest resources are forgotten first beyond it.
const KEPT: usize = 20_000;

#[derive(Default)]
pub struct Resources {
    by_path: HashMap<String, Value>,
    order: VecDeque<String>,
    /// Paths a `deleted` change named: Graph answers 404 for these.
    gone: HashSet<String>,
}

pub enum Lookup {
    Found(Value),
    Deleted,
    Unknown,
}

/// Graph's paths are case-insensitive and a leading `/` is optional.
fn key(path: &str) -> String {
    path.trim_start_matches('/').to_ascii_lowercase()
}

impl Resources {
    pub fn put(&mut self, path: &str, resource: Value) {
        let key = key(path);
        self.gone.remove(&key);
        if self.by_path.insert(key.clone(), resource).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > KEPT {
            if let Some(oldest) = self.order.pop_front() {
                self.by_path.remove(&oldest);
            }
        }
    }

    pub fn remove(&mut self, path: &str) {
        let key = key(path);
        if self.by_path.remove(&key).is_some() {
            self.order.retain(|k| *k != key);
        }
        if self.gone.len() >= KEPT {
            self.gone.clear();
        }
        self.gone.insert(key);
    }

    /// The resource at `path`, reduced to the `$select`ed properties.
    pub fn get(&self, path: &str, select: Option<&str>) -> Lookup {
        let key = key(path);
        match self.by_path.get(&key) {
            Some(resource) => Lookup::Found(selected(resource, select)),
            None if self.gone.contains(&key) => Lookup::Deleted,
            None => Lookup::Unknown,
        }
    }
}

/// The `$select`ed properties, plus `id` and the OData annotations, which Graph always returns.
fn selected(resource: &Value, select: Option<&str>) -> Value {
    let (Some(select), Value::Object(fields)) = (select.filter(|s| !s.trim().is_empty()), resource)
    else {
        return resource.clone();
    };
    let wanted: Vec<String> = select
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let kept: Map<String, Value> = fields
        .iter()
        .filter(|(name, _)| {
            let bare = name.split('@').next().unwrap_or(name).to_ascii_lowercase();
            name.starts_with('@') || bare == "id" || wanted.contains(&bare)
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn select_keeps_the_named_properties_their_annotations_and_the_id() {
        let mut resources = Resources::default();
        resources.put(
            "Users/u1/Messages/m1",
            json!({"@odata.etag": "W/1", "id": "m1", "subject": "Hi", "receivedDateTime@odata.type": "#DateTimeOffset", "receivedDateTime": "2026-01-01T00:00:00Z", "isRead": false}),
        );
        let Lookup::Found(found) =
            resources.get("/users/U1/messages/M1", Some("Subject, receivedDateTime"))
        else {
            panic!("the message is there");
        };
        assert_eq!(
            found,
            json!({"@odata.etag": "W/1", "id": "m1", "subject": "Hi", "receivedDateTime@odata.type": "#DateTimeOffset", "receivedDateTime": "2026-01-01T00:00:00Z"})
        );
        resources.remove("users/u1/messages/m1");
        assert!(matches!(
            resources.get("Users/u1/Messages/m1", None),
            Lookup::Deleted
        ));
        assert!(matches!(
            resources.get("users/u1/unicorns", None),
            Lookup::Unknown
        ));
    }
}
