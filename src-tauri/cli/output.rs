//! How the command line prints records: JSON Lines with a `type` for `listen`, bare records for lists,
//! and short aligned text lines for people.

use std::io::Write;

use hookscope_engine::model::{Notification, RequestRecord, Verdict};
use serde::Serialize;

/// Writes one JSON object per line; `kind` becomes the `type` field when given.
pub fn json_line(
    out: &mut impl Write,
    kind: Option<&str>,
    record: &impl Serialize,
) -> std::io::Result<()> {
    let mut value = serde_json::to_value(record).map_err(std::io::Error::other)?;
    if let (Some(kind), Some(object)) = (kind, value.as_object_mut()) {
        object.insert(
            "type".to_owned(),
            serde_json::Value::String(kind.to_owned()),
        );
    }
    serde_json::to_writer(&mut *out, &value).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// `12:00:01.123` out of an RFC 3339 timestamp.
fn clock(at: &str) -> &str {
    at.get(11..23).unwrap_or(at)
}

pub fn notification_text(n: &Notification) -> String {
    let what = match (&n.change_type, &n.lifecycle_event) {
        (Some(change), _) => change.clone(),
        (None, Some(event)) => format!("lifecycle:{event}"),
        (None, None) => "?".to_owned(),
    };
    let mut line = format!(
        "{}  {:<8}  {:<24}  {}  sub {}",
        clock(&n.received_at),
        n.verdict.as_str(),
        what,
        n.resource.as_deref().unwrap_or("-"),
        n.subscription_id.as_deref().unwrap_or("-"),
    );
    if n.duplicate {
        line.push_str("  (duplicate)");
    }
    if n.decrypted.is_some() {
        line.push_str("  (decrypted)");
    }
    if let (Verdict::Rejected, Some(reason)) = (n.verdict, &n.reason) {
        line.push_str("  — ");
        line.push_str(reason);
    }
    line
}

pub fn request_text(r: &RequestRecord) -> String {
    let latency = r
        .latency_ms
        .map(|ms| format!("{ms:.2} ms"))
        .unwrap_or_else(|| "-".to_owned());
    let path = match &r.query {
        Some(query) => format!("{}?{}", r.path, query),
        None => r.path.clone(),
    };
    format!(
        "{}  {:<7} {:<40}  {}  {:<13}  {:>9}  {}",
        clock(&r.received_at),
        r.method,
        path,
        r.status,
        r.kind.as_str(),
        latency,
        r.response.lines().next().unwrap_or("")
    )
}

/// `6d 23h 59m` until an RFC 3339 instant, or `expired`.
pub fn time_left(expiry: &str) -> String {
    match hookscope_engine::clock::parse_rfc3339(expiry) {
        Some(at) if at > hookscope_engine::clock::now_micros() => {
            let seconds = (at - hookscope_engine::clock::now_micros()) / 1_000_000;
            hookscope_engine::subscriptions::describe(seconds as u64)
        }
        Some(_) => "expired".to_owned(),
        None => "?".to_owned(),
    }
}
