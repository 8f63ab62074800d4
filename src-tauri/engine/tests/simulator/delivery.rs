//! Deliveries: payload shapes per workload, batching across subscriptions that share a URL, duplicates,
//! lifecycle events and what they do to a subscription, retries, slow and drop states, and a real
//! Hookscope receiver storing what the simulator sent.

use std::time::Duration;

use hookscope_engine::model::{Subscription, SubscriptionStatus, Verdict};
use hookscope_engine::simulator::{EndpointState, LifecycleEvent, Outcome, TriggerSpec};
use hookscope_engine::store::NotificationQuery;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{hookscope_receiver, in_minutes, subscription, Sim, TestReceiver};

fn spec(resource: &str) -> TriggerSpec {
    TriggerSpec {
        resource: Some(resource.into()),
        ..TriggerSpec::default()
    }
}

#[tokio::test]
async fn payloads_match_each_workload() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    for (resource, change) in [
        ("/users/adele/messages", "created"),
        ("/me/drive/root", "updated"),
        ("/teams/getAllMessages", "created"),
        ("/groups", "updated"),
    ] {
        let (status, body, _) = sim.create(&subscription(resource, change, &receiver)).await;
        assert_eq!(status, 201, "{body}");
    }
    let mut items = Vec::new();
    for resource in ["message", "driveItem", "chatMessage", "group"] {
        let report = sim.running.trigger(spec(resource)).await.unwrap();
        assert_eq!(
            report.deliveries[0].outcome,
            Outcome::Delivered,
            "{resource}"
        );
        assert_eq!(report.deliveries[0].status, Some(202));
    }
    for seen in receiver.wait_for_deliveries(4).await {
        assert_eq!(
            seen.headers["content-type"],
            "application/json; charset=utf-8"
        );
        items.push(seen.json()["value"][0].clone());
    }
    let message = &items[0];
    assert_eq!(message["changeType"], "created");
    assert_eq!(message["clientState"], "secret-state-1");
    assert!(message["resource"]
        .as_str()
        .unwrap()
        .starts_with("Users/adele/Messages/"));
    assert_eq!(
        message["resourceData"]["@odata.type"],
        "#Microsoft.Graph.Message"
    );
    assert!(message["resourceData"]["@odata.etag"]
        .as_str()
        .unwrap()
        .starts_with("W/\""));
    assert!(
        message["id"].is_string(),
        "Outlook items carry a notification id"
    );
    assert_eq!(message["tenantId"], sim.running.options().app.tenant_id);

    let drive = &items[1];
    assert_eq!(
        drive["resourceData"],
        json!({ "@odata.type": "#Microsoft.Graph.DriveItem" }),
        "no id for drive items"
    );
    assert!(drive.get("id").is_none());

    let chat = &items[2];
    assert!(chat["resource"].as_str().unwrap().starts_with("teams('"));
    assert!(chat["resource"].as_str().unwrap().contains("/messages('"));
    assert!(chat.get("id").is_none());

    let group = &items[3];
    assert_eq!(group["changeType"], "updated");
    assert!(group["resource"].as_str().unwrap().starts_with("Groups/"));
}

#[tokio::test]
async fn subscriptions_sharing_a_url_share_a_batch_and_duplicates_repeat_it() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    sim.create(&subscription("users", "updated", &receiver))
        .await;
    sim.create(&subscription("groups", "updated", &receiver))
        .await;
    let report = sim
        .running
        .trigger(TriggerSpec {
            count: Some(3),
            duplicate: true,
            ..TriggerSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(report.notifications, 6);
    assert_eq!(report.deliveries.len(), 2, "one batch, sent twice");
    let seen = receiver.wait_for_deliveries(2).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].json()["value"].as_array().unwrap().len(), 6);
    assert_eq!(
        seen[0].body, seen[1].body,
        "the duplicate is byte for byte the same"
    );
    let subscriptions: std::collections::HashSet<_> = seen[0].json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subscriptionId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subscriptions.len(), 2);
}

#[tokio::test]
async fn trigger_explains_what_it_cannot_send() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let error = sim.running.trigger(spec("message")).await.unwrap_err();
    assert!(
        error
            .0
            .starts_with("No subscription in the simulator matches resource 'message'"),
        "{}",
        error.0
    );
    sim.create(&subscription("users", "updated", &receiver))
        .await;
    let error = sim
        .running
        .trigger(TriggerSpec {
            change_type: Some("deleted".into()),
            ..spec("users")
        })
        .await
        .unwrap_err();
    assert!(error.0.contains("not deleted"), "{}", error.0);
    let error = sim
        .running
        .trigger(TriggerSpec {
            lifecycle: Some(LifecycleEvent::Missed),
            ..spec("users")
        })
        .await
        .unwrap_err();
    assert!(error.0.contains("only for Outlook"), "{}", error.0);
}

#[tokio::test]
async fn reauthorization_required_pauses_delivery_until_reauthorized() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let (_, created, _) = sim
        .create(&subscription("me/messages", "created", &receiver))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let report = sim
        .running
        .trigger(TriggerSpec {
            lifecycle: Some(LifecycleEvent::ReauthorizationRequired),
            ..spec("message")
        })
        .await
        .unwrap();
    assert_eq!(report.deliveries[0].outcome, Outcome::Delivered);
    let lifecycle = receiver.wait_for_deliveries(1).await;
    assert_eq!(lifecycle[0].path, "/lifecycle");
    let item = &lifecycle[0].json()["value"][0];
    assert_eq!(item["lifecycleEvent"], "reauthorizationRequired");
    assert_eq!(item["clientState"], "secret-state-1");
    assert!(item.get("resource").is_none() && item.get("changeType").is_none());

    let held = sim.running.trigger(spec("message")).await.unwrap();
    assert_eq!(held.deliveries[0].outcome, Outcome::Held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.deliveries().len(),
        1,
        "nothing delivered while paused"
    );

    let (status, _) = sim
        .call(
            Method::POST,
            &format!("/v1.0/subscriptions/{id}/reauthorize"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let after = receiver.wait_for_deliveries(2).await;
    assert_eq!(after.len(), 2);
    assert_eq!(after[1].path, "/notify");
    assert_eq!(after[1].json()["value"][0]["changeType"], "created");
}

#[tokio::test]
async fn subscription_removed_ends_the_subscription() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let (_, created, _) = sim
        .create(&subscription("/chats/getAllMessages", "created", &receiver))
        .await;
    sim.running
        .trigger(TriggerSpec {
            lifecycle: Some(LifecycleEvent::SubscriptionRemoved),
            ..TriggerSpec::default()
        })
        .await
        .unwrap();
    let (status, _) = sim
        .call(
            Method::GET,
            &format!("/v1.0/subscriptions/{}", created["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        receiver.wait_for_deliveries(1).await[0].json()["value"][0]["lifecycleEvent"],
        "subscriptionRemoved"
    );
}

#[tokio::test]
async fn lifecycle_events_need_a_lifecycle_url() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let mut body = subscription("me/messages", "created", &receiver);
    body.as_object_mut()
        .unwrap()
        .remove("lifecycleNotificationUrl");
    sim.create(&body).await;
    let error = sim
        .running
        .trigger(TriggerSpec {
            lifecycle: Some(LifecycleEvent::Missed),
            ..TriggerSpec::default()
        })
        .await
        .unwrap_err();
    assert!(
        error.0.contains("no lifecycleNotificationUrl"),
        "{}",
        error.0
    );
}

#[tokio::test]
async fn failures_are_retried_with_backoff_and_logged() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    sim.create(&subscription("users", "updated", &receiver))
        .await;
    receiver.answer_deliveries(&[
        (500, Duration::ZERO),
        (503, Duration::ZERO),
        (202, Duration::ZERO),
    ]);
    let report = sim.running.trigger(spec("users")).await.unwrap();
    assert_eq!(report.deliveries[0].outcome, Outcome::Failed);
    assert_eq!(report.deliveries[0].status, Some(500));
    let seen = receiver.wait_for_deliveries(3).await;
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].body, seen[2].body, "a retry resends the same batch");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log: Vec<(u32, Outcome)> = sim
        .running
        .deliveries(0)
        .iter()
        .filter(|r| r.kind == "notifications")
        .map(|r| (r.attempt, r.outcome))
        .collect();
    assert_eq!(
        log,
        [
            (1, Outcome::Failed),
            (2, Outcome::Failed),
            (3, Outcome::Delivered)
        ]
    );

    // A slow answer misses the first-attempt deadline.
    receiver.answer_deliveries(&[(202, Duration::from_millis(1200))]);
    let report = sim.running.trigger(spec("users")).await.unwrap();
    assert_eq!(report.deliveries[0].outcome, Outcome::TimedOut);
    assert!(report.deliveries[0].latency_ms >= 790.0);
}

#[tokio::test]
async fn a_slow_endpoint_enters_the_slow_state_then_the_drop_state() {
    let sim = Sim::start_with(|o| {
        o.delivery.min_samples = 3;
        o.delivery.window = Duration::from_secs(30);
        o.delivery.retry_window = Duration::ZERO; // no retries muddying the samples
    })
    .await;
    let receiver = TestReceiver::start().await;
    sim.create(&subscription("users", "updated", &receiver))
        .await;
    let url = receiver.url("/notify");
    receiver.answer_deliveries(&[(202, Duration::from_millis(900)); 3]);
    for _ in 0..3 {
        let report = sim.running.trigger(spec("users")).await.unwrap();
        assert_eq!(report.deliveries[0].outcome, Outcome::TimedOut);
    }
    assert_eq!(sim.running.endpoint_state(&url), EndpointState::Slow);
    let delayed = sim.running.trigger(spec("users")).await.unwrap();
    assert_eq!(delayed.deliveries[0].outcome, Outcome::Delayed);

    // An endpoint that misses even the retry deadline is dropped: retries (10 s timeout at Graph) hang too.
    let dropping = Sim::start_with(|o| {
        o.delivery.min_samples = 3;
        o.delivery.first_timeout = Duration::from_millis(200);
        o.delivery.retry_timeout = Duration::from_millis(300);
        o.delivery.retry_base = Duration::from_millis(50);
        o.delivery.retry_window = Duration::from_secs(10);
    })
    .await;
    let hanging = TestReceiver::start().await;
    dropping
        .create(&subscription("groups", "updated", &hanging))
        .await;
    hanging.answer_deliveries(&[(202, Duration::from_millis(600)); 20]);
    dropping.running.trigger(spec("groups")).await.unwrap();
    let url = hanging.url("/notify");
    for _ in 0..60 {
        if dropping.running.endpoint_state(&url) == EndpointState::Drop {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dropping.running.endpoint_state(&url), EndpointState::Drop);
    let dropped = dropping.running.trigger(spec("groups")).await.unwrap();
    assert_eq!(dropped.deliveries[0].outcome, Outcome::Dropped);
}

#[tokio::test]
async fn a_hookscope_receiver_stores_what_the_simulator_sends() {
    let sim = Sim::start().await;
    let (_dir, engine, listening) = hookscope_receiver().await;
    let urls = listening.urls().clone();
    let (status, created, _) = sim
        .create(&json!({
            "changeType": "created,updated",
            "notificationUrl": urls.notification_url,
            "lifecycleNotificationUrl": urls.lifecycle_url,
            "resource": "/me/mailFolders('inbox')/messages",
            "expirationDateTime": in_minutes(60),
            "clientState": "hookscope-client-state",
        }))
        .await;
    assert_eq!(
        status, 201,
        "Hookscope's receiver passes the simulator's handshake: {created}"
    );
    engine
        .put_subscription(Subscription {
            id: created["id"].as_str().unwrap().to_string(),
            resource: created["resource"].as_str().unwrap().to_string(),
            change_type: "created,updated".into(),
            notification_url: urls.notification_url.clone(),
            lifecycle_notification_url: Some(urls.lifecycle_url.clone()),
            expiration_date_time: created["expirationDateTime"].as_str().unwrap().to_string(),
            include_resource_data: false,
            client_state: Some("hookscope-client-state".into()),
            tenant_id: created["tenantId"].as_str().map(str::to_string),
            auto_renew: true,
            status: SubscriptionStatus::Active,
            last_error: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let report = sim
        .running
        .trigger(TriggerSpec {
            count: Some(3),
            ..TriggerSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(report.deliveries[0].status, Some(202));
    sim.running
        .trigger(TriggerSpec {
            tamper: Some(hookscope_engine::simulator::Tamper::ClientState),
            ..TriggerSpec::default()
        })
        .await
        .unwrap();
    let stored = engine
        .notifications(&NotificationQuery::default())
        .await
        .unwrap();
    let accepted = stored
        .items
        .iter()
        .filter(|n| n.verdict == Verdict::Accepted)
        .count();
    let rejected: Vec<_> = stored
        .items
        .iter()
        .filter(|n| n.verdict == Verdict::Rejected)
        .collect();
    assert_eq!(accepted, 3);
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0]
        .reason
        .as_deref()
        .unwrap_or("")
        .to_lowercase()
        .contains("clientstate"));
    let _: Value = serde_json::to_value(&stored.items[0]).unwrap();
    listening.stop().await;
    engine.close().await;
}

#[tokio::test]
async fn events_contacts_and_users_have_their_own_shapes() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    for (resource, change) in [
        ("/users/adele/events", "created"),
        ("/users/adele/contacts", "updated"),
        ("/users", "updated"),
    ] {
        let (status, body, _) = sim.create(&subscription(resource, change, &receiver)).await;
        assert_eq!(status, 201, "{resource}: {body}");
    }
    for kind in ["event", "contact", "user"] {
        let report = sim.running.trigger(spec(kind)).await.unwrap();
        assert_eq!(report.deliveries[0].status, Some(202), "{kind}");
    }
    let items: Vec<Value> = receiver
        .wait_for_deliveries(3)
        .await
        .iter()
        .map(|seen| seen.json()["value"][0].clone())
        .collect();
    for (item, collection, odata) in [
        (&items[0], "/Events/", "#Microsoft.Graph.Event"),
        (&items[1], "/Contacts/", "#Microsoft.Graph.Contact"),
    ] {
        let resource = item["resource"].as_str().unwrap();
        assert!(
            resource.starts_with("Users/adele") && resource.contains(collection),
            "{item}"
        );
        assert!(item["resourceData"]["@odata.etag"]
            .as_str()
            .unwrap()
            .starts_with("W/\""));
        assert!(
            item["resourceData"]["@odata.type"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(odata),
            "{item}"
        );
    }
    let user = &items[2];
    assert!(
        user["resource"].as_str().unwrap().starts_with("Users/"),
        "{user}"
    );
    assert!(
        user["resourceData"]["@odata.type"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("#Microsoft.Graph.User"),
        "{user}"
    );
    assert!(user["resourceData"]["organizationId"].is_string(), "{user}");
}
