//! `hookscope replay`: a stored delivery sent again, to the receiver (as if from Graph) or to the
//! user's own app, as it was or with edits. A replay sent to the receiver names its original in
//! `x-hookscope-replay-of`, so it is stored marked as a replay and linked to what it repeats.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{RequestKind, RequestRecord};
use crate::Engine;

/// The marker capture puts in place of a credential: such a header is not sent again.
const REDACTED: &str = "[redacted]";

/// Where a replay goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind", content = "url")]
pub enum ReplayTarget {
    /// The running receiver, as if Graph sent it again: judged, stored and shown like any delivery.
    Receiver,
    /// Any URL: the user's own app, say.
    Url(String),
}

/// Headers that describe the connection or the body: the HTTP client sets them, so an edit cannot.
const SET_BY_THE_SENDER: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// The stored headers a replay sends as they were: what the inspector offers to edit.
pub fn carried_headers(
    stored: &serde_json::Map<String, serde_json::Value>,
) -> BTreeMap<String, String> {
    stored
        .iter()
        .filter_map(|(name, value)| Some((name, value.as_str()?)))
        // A repeated header is stored joined ("[redacted], [redacted]"): any redaction drops it.
        .filter(|(name, value)| super::carried_on(name) && !value.contains(REDACTED))
        .map(|(name, value)| (name.clone(), value.to_owned()))
        .collect()
}

/// Changes made before sending: a new body, and headers set (a value) or removed (an empty value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(rename_all = "camelCase")]
pub struct ReplayEdits {
    pub body: Option<String>,
    pub headers: BTreeMap<String, String>,
}

/// What the replay's target answered.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReplayOutcome {
    /// The delivery that was sent again.
    pub original_request_id: String,
    pub url: String,
    pub status: u16,
    /// The first 64 KiB of the answer, as text.
    pub body: String,
    pub latency_ms: f64,
    /// The new request the receiver stored (a replay to the receiver).
    pub request_id: Option<String>,
    pub edited: bool,
}

/// The stored request behind a request id or a notification id.
async fn original(engine: &Engine, id: &str) -> anyhow::Result<RequestRecord> {
    let store = engine.store();
    let request_id = match store.notification(id).await? {
        Some(note) => note.request_id,
        None => id.to_owned(),
    };
    store.request(&request_id).await?.ok_or_else(|| {
        anyhow::anyhow!("No delivery {id} here; `hookscope requests` and `hookscope notifications` show the ids.")
    })
}

pub async fn replay(
    engine: &Engine,
    id: &str,
    target: &ReplayTarget,
    edits: &ReplayEdits,
) -> anyhow::Result<ReplayOutcome> {
    let original = original(engine, id).await?;
    if original.kind == RequestKind::Handshake {
        anyhow::bail!("Request {} is a validation handshake: Graph sends a fresh token each time, so there is nothing to replay; replay a delivery instead.", original.id);
    }
    let body: Vec<u8> = match (&edits.body, &original.body, &original.body_base64) {
        (Some(edited), _, _) => edited.clone().into_bytes(),
        _ if original.body_truncated => anyhow::bail!(
            "Only the first part of request {}'s body was kept ({} bytes in all), so it cannot be sent again as it was; replay it with an edited body.",
            original.id, original.body_size
        ),
        (None, Some(text), _) => text.clone().into_bytes(),
        (None, None, Some(encoded)) => {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, encoded)?
        }
        (None, None, None) => Vec::new(),
    };
    let url = match target {
        ReplayTarget::Url(url) => url.clone(),
        ReplayTarget::Receiver => {
            let running = crate::subscriptions::running_receiver(engine).await.ok_or_else(|| {
                anyhow::anyhow!("No receiver is running for this data directory; start `hookscope listen` or the app, or replay --to a URL.")
            })?;
            match &original.query {
                Some(query) if !query.contains(REDACTED) => {
                    format!("{}{}?{query}", running.urls.local_url, original.path)
                }
                _ => format!("{}{}", running.urls.local_url, original.path),
            }
        }
    };
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in carried_headers(&original.headers) {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    for (name, value) in &edits.headers {
        let lower = name.trim().to_ascii_lowercase();
        if SET_BY_THE_SENDER.contains(&lower.as_str()) {
            anyhow::bail!("Hookscope sets the {lower} header itself; leave it out of the edits.");
        }
        let name = reqwest::header::HeaderName::from_bytes(lower.as_bytes())
            .map_err(|_| anyhow::anyhow!("{name:?} is not a header name."))?;
        if value.is_empty() {
            headers.remove(&name);
        } else {
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| anyhow::anyhow!("The value of header {name} is not valid in HTTP."))?;
            headers.insert(name, value);
        }
    }
    if *target == ReplayTarget::Receiver {
        headers.insert(
            super::REPLAY_HEADER,
            reqwest::header::HeaderValue::from_str(&original.id)?,
        );
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let started = Instant::now();
    let method =
        reqwest::Method::from_bytes(original.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let answer = http
        .request(method, &url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|error| {
            anyhow::anyhow!(
                "Could not send the replay to {url}: {error}; check that it is running."
            )
        })?;
    let status = answer.status().as_u16();
    let request_id = answer
        .headers()
        .get(super::REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = answer.bytes().await.unwrap_or_default();
    Ok(ReplayOutcome {
        original_request_id: original.id,
        url,
        status,
        body: String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned(),
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        request_id,
        edited: edits.body.is_some() || !edits.headers.is_empty(),
    })
}
