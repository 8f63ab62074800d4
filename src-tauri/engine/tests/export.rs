//! Exports a user can open elsewhere: JSON Lines that parse line by line into the notifications the
//! filter selects, and a HAR 1.2 log whose entries carry each request's body byte for byte, its
//! headers, query and what Hookscope answered; written to a file named after the time.

mod common;

use common::{message_item, Harness};
use hookscope_engine::export::{self, ExportFormat};
use hookscope_engine::store::{NotificationFilter, VerdictFilter};
use serde_json::{json, Value};

#[tokio::test]
async fn jsonl_and_har_carry_what_was_stored() {
    let h = Harness::start().await;
    h.subscription("sub-x", Some("s")).await;
    let first = json!({ "value": [message_item("sub-x", Some("s"), 1), message_item("sub-x", Some("forged"), 2)] });
    h.post_json("/notifications", &first).await;
    let odd_body = "{\"value\":[{\"subscriptionId\":\"sub-x\",\"clientState\":\"s\",\"changeType\":\"created\",\"resource\":\"Users/é/Messages/3\"}]}  ";
    let answer = h
        .http
        .post(h.url("/notifications?x=1&y=a%20b"))
        .header("content-type", "application/json")
        .body(odd_body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);

    let mut lines = Vec::new();
    let all = export::export(
        &h.engine,
        &NotificationFilter::default(),
        ExportFormat::Jsonl,
        &h.base,
        &mut lines,
    )
    .await
    .unwrap();
    assert_eq!((all.notifications, all.requests), (3, 2));
    let parsed: Vec<Value> = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed.len(), 3);
    assert_eq!(parsed[0]["resource"], "Users/é/Messages/3", "newest first");

    let rejected = NotificationFilter {
        verdict: Some(VerdictFilter::Rejected),
        ..Default::default()
    };
    let mut lines = Vec::new();
    let some = export::export(
        &h.engine,
        &rejected,
        ExportFormat::Jsonl,
        &h.base,
        &mut lines,
    )
    .await
    .unwrap();
    assert_eq!(some.notifications, 1);
    assert!(String::from_utf8(lines).unwrap().contains("AAMk2"));

    let dir = tempfile::tempdir().unwrap();
    let written = export::export_to_dir(
        &h.engine,
        &NotificationFilter::default(),
        ExportFormat::Har,
        &h.base,
        dir.path(),
    )
    .await
    .unwrap();
    let path = written.path.unwrap();
    assert!(path.ends_with(".har"), "{path}");
    let har: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    assert_eq!(har["log"]["creator"]["name"], "Hookscope");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        2,
        "one entry per request, not per notification"
    );
    let odd = &entries[0];
    assert_eq!(odd["request"]["method"], "POST");
    assert_eq!(
        odd["request"]["url"],
        format!("{}/notifications?x=1&y=a%20b", h.base)
    );
    assert_eq!(
        odd["request"]["postData"]["text"], odd_body,
        "byte for byte, trailing spaces too"
    );
    assert_eq!(
        odd["request"]["queryString"][1],
        json!({ "name": "y", "value": "a b" })
    );
    assert_eq!(odd["response"]["status"], 202);
    assert_eq!(odd["response"]["statusText"], "Accepted");
    assert!(odd["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "content-type" && h["value"] == "application/json"));
    assert!(odd["time"].as_f64().unwrap() >= 0.0);
    h.stop().await;
}
