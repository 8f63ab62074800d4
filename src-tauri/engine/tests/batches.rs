//! Notification batches over real HTTP into a real SQLite file: per-item verdicts, duplicates,
//! lifecycle items, and every acknowledged item stored.

mod common;

use std::collections::HashMap;

use common::{lifecycle_item, message_item, Harness};
use hookscope_engine::model::{RequestKind, Verdict};
use hookscope_engine::store::NotificationQuery;
use serde_json::json;

#[tokio::test]
async fn batches_of_1_to_100_items_are_stored_item_by_item_with_their_verdicts() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("secret-a")).await;
    h.subscription("sub-b", Some("secret-b")).await;
    h.subscription("sub-open", None).await;

    let mut expected: HashMap<String, Verdict> = HashMap::new();
    let mut serial = 0;
    for size in [1usize, 2, 7, 33, 100] {
        let mut items = Vec::new();
        for i in 0..size {
            serial += 1;
            let (item, verdict) = match i % 5 {
                0 => (
                    message_item("sub-a", Some("secret-a"), serial),
                    Verdict::Accepted,
                ),
                1 => (
                    message_item("sub-b", Some("secret-a"), serial),
                    Verdict::Rejected,
                ), // another's secret
                2 => (
                    message_item("sub-unknown", Some("secret-a"), serial),
                    Verdict::Rejected,
                ),
                3 => (message_item("sub-open", None, serial), Verdict::Accepted),
                _ => (
                    json!({"subscriptionId": "sub-a", "clientState": "secret-a", "resource": "x"}),
                    Verdict::Rejected,
                ),
            };
            let key = item["resource"].as_str().unwrap_or("x").to_owned() + &serial.to_string();
            let mut item = item;
            item["marker"] = json!(key.clone());
            expected.insert(key, verdict);
            items.push(item);
        }
        let response = h
            .post_json("/notifications", &json!({ "value": items }))
            .await;
        assert_eq!(
            response.status(),
            202,
            "a batch of {size} is acknowledged whatever its items' verdicts"
        );
    }

    let stored = h.all_notifications().await;
    assert_eq!(
        stored.len(),
        expected.len(),
        "every acknowledged item is stored"
    );
    let page = h.engine.requests(&Default::default()).await.unwrap();
    for note in &stored {
        let request = page
            .items
            .iter()
            .find(|r| r.id == note.request_id)
            .expect("its request is recorded");
        let body: serde_json::Value =
            serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        let item = &body["value"][note.position as usize];
        let verdict = expected[item["marker"].as_str().unwrap()];
        assert_eq!(
            note.verdict, verdict,
            "item {item} judged {:?} ({:?})",
            note.verdict, note.reason
        );
        assert_eq!(note.reason.is_some(), verdict == Verdict::Rejected);
    }
    let reasons: Vec<&str> = stored.iter().filter_map(|n| n.reason.as_deref()).collect();
    assert!(reasons
        .iter()
        .any(|r| r.contains("clientState does not match")));
    assert!(reasons
        .iter()
        .any(|r| r.contains("Unknown subscription sub-unknown")));
    assert!(reasons
        .iter()
        .any(|r| r.contains("neither changeType nor lifecycleEvent")));

    let held = h.engine.subscriptions().await.unwrap();
    assert_eq!(
        held.len(),
        3,
        "the subscriptions the verdicts were judged against"
    );
    let a = held
        .iter()
        .find(|s| s.id == "sub-a")
        .expect("sub-a is held");
    assert_eq!(a.client_state.as_deref(), Some("secret-a"));
    assert!(a.auto_renew && a.lifecycle_notification_url.is_some());

    let only_a = h
        .engine
        .notifications(&NotificationQuery {
            limit: 0,
            filter: hookscope_engine::store::NotificationFilter {
                subscription_id: Some("sub-a".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        !only_a.items.is_empty()
            && only_a
                .items
                .iter()
                .all(|n| n.subscription_id.as_deref() == Some("sub-a"))
    );
    h.stop().await;
}

#[tokio::test]
async fn a_redelivered_item_is_stored_again_and_flagged_duplicate() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let first = json!({ "value": [message_item("sub-a", Some("s"), 1), message_item("sub-a", Some("s"), 2)] });
    assert_eq!(h.post_json("/notifications", &first).await.status(), 202);
    // Graph's retry: the same item again, plus one new one, and the same item twice in one batch.
    let retry = json!({ "value": [message_item("sub-a", Some("s"), 1), message_item("sub-a", Some("s"), 3), message_item("sub-a", Some("s"), 3)] });
    assert_eq!(h.post_json("/notifications", &retry).await.status(), 202);

    let stored = h.all_notifications().await;
    assert_eq!(
        stored.len(),
        5,
        "every delivery is kept, duplicates included"
    );
    let flagged: Vec<(String, bool)> = stored
        .iter()
        .map(|n| (n.notification_id.clone().unwrap(), n.duplicate))
        .collect();
    let count = |id: &str, dup: bool| flagged.iter().filter(|(i, d)| i == id && *d == dup).count();
    assert_eq!(count("lsgTZMr9KwAAA1", false), 1);
    assert_eq!(count("lsgTZMr9KwAAA1", true), 1);
    assert_eq!(count("lsgTZMr9KwAAA2", false), 1);
    assert_eq!(
        count("lsgTZMr9KwAAA3", false),
        1,
        "the first copy within a batch is the original"
    );
    assert_eq!(count("lsgTZMr9KwAAA3", true), 1);
    h.stop().await;
}

#[tokio::test]
async fn a_batch_whose_validation_token_fails_is_not_trusted_at_all() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let batch = json!({ "value": [message_item("sub-a", Some("s"), 1)], "validationTokens": ["eyJhbGciOiJub25lIn0.e30."] });
    assert_eq!(h.post_json("/notifications", &batch).await.status(), 202);
    let stored = h.all_notifications().await;
    assert_eq!(stored[0].verdict, Verdict::Rejected);
    assert_eq!(stored[0].tokens_valid, Some(false));
    assert!(stored[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("Graph signs with RS256"));
    let plain = json!({ "value": [message_item("sub-a", Some("s"), 2)] });
    h.post_json("/notifications", &plain).await;
    assert_eq!(
        h.all_notifications().await[0].tokens_valid,
        None,
        "null when the batch carried no tokens"
    );
    h.stop().await;
}

#[tokio::test]
async fn duplicates_are_recognised_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..2 {
        let engine =
            hookscope_engine::Engine::open(hookscope_engine::EngineConfig::new(dir.path()))
                .await
                .unwrap();
        let listening = engine
            .listen(&hookscope_engine::ReceiverOptions {
                port: 0,
                ..Default::default()
            })
            .await
            .unwrap();
        let body = json!({ "value": [message_item("sub-a", Some("s"), 1)] }).to_string();
        let url = format!("{}/notifications", listening.urls().local_url);
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let newest = engine
            .notifications(&NotificationQuery {
                limit: 1,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            newest.items[0].duplicate,
            round == 1,
            "round {round}: a retry after a restart is still a duplicate"
        );
        listening.stop().await;
        engine.close().await;
    }
}

#[tokio::test]
async fn lifecycle_events_are_stored_with_their_verdict_on_either_path() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let batch = json!({ "value": [
        lifecycle_item("sub-a", "s", "reauthorizationRequired"),
        lifecycle_item("sub-a", "s", "missed"),
        lifecycle_item("sub-a", "wrong", "subscriptionRemoved"),
        lifecycle_item("sub-a", "s", "somethingElse"),
    ]});
    assert_eq!(h.post_json("/lifecycle", &batch).await.status(), 202);
    // Older Graph deliveries sent lifecycle events to the notification URL: accepted there too.
    let old_style = json!({ "value": [lifecycle_item("sub-a", "s", "subscriptionRemoved")] });
    assert_eq!(
        h.post_json("/notifications", &old_style).await.status(),
        202
    );

    let stored = h.all_notifications().await;
    let by_event = |event: &str| {
        stored
            .iter()
            .filter(|n| n.lifecycle_event.as_deref() == Some(event))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_event("reauthorizationRequired")[0].verdict,
        Verdict::Accepted
    );
    assert_eq!(by_event("missed")[0].verdict, Verdict::Accepted);
    let removed = by_event("subscriptionRemoved");
    assert_eq!(removed.len(), 2);
    assert!(
        removed.iter().any(|n| n.verdict == Verdict::Rejected),
        "a forged lifecycle event is rejected"
    );
    assert!(removed.iter().any(|n| n.verdict == Verdict::Accepted));
    assert!(by_event("somethingElse")[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("unknown lifecycleEvent"));
    assert!(stored.iter().all(|n| n.change_type.is_none()));

    let requests = h.engine.requests(&Default::default()).await.unwrap().items;
    assert!(requests
        .iter()
        .any(|r| r.kind == RequestKind::Lifecycle && r.status == 202));
    assert!(requests
        .iter()
        .all(|r| r.latency_ms.is_some() || r.kind != RequestKind::Invalid));
    h.stop().await;
}

#[tokio::test]
async fn a_subscription_created_after_start_is_recognised_at_once() {
    let h = Harness::start().await;
    let batch = json!({ "value": [message_item("sub-late", Some("s"), 1)] });
    h.post_json("/notifications", &batch).await;
    h.subscription("sub-late", Some("s")).await;
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let batch = json!({ "value": [message_item("sub-late", Some("s"), 2)] });
    h.post_json("/notifications", &batch).await;
    let stored = h.all_notifications().await;
    assert_eq!(
        stored[0].verdict,
        Verdict::Accepted,
        "newest first: the one after the subscription existed"
    );
    assert_eq!(stored[1].verdict, Verdict::Rejected);
    h.stop().await;
}

#[tokio::test]
async fn stored_notifications_carry_the_contract_fields() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    h.post_json(
        "/notifications",
        &json!({ "value": [message_item("sub-a", Some("s"), 9)] }),
    )
    .await;
    let note = h.all_notifications().await.remove(0);
    let json = serde_json::to_value(&note).unwrap();
    for key in [
        "id",
        "notificationId",
        "receivedAt",
        "subscriptionId",
        "changeType",
        "resource",
        "resourceData",
        "tenantId",
        "verdict",
        "reason",
        "duplicate",
        "decrypted",
        "tokensValid",
        "requestId",
    ] {
        assert!(json.get(key).is_some(), "field {key} in {json}");
    }
    assert_eq!(json["verdict"], "accepted");
    assert_eq!(json["notificationId"], "lsgTZMr9KwAAA9");
    assert_eq!(json["resourceData"]["@odata.etag"], "W/\"CQAAABYAAAD9\"");
    assert!(
        json.get("clientState").is_none(),
        "the secret is not printed"
    );
    h.stop().await;
}
