//! End to end with three processes: `hookscope simulate` plays Graph, `hookscope listen` receives, and
//! `hookscope trigger` makes Graph send; `hookscope notifications` then shows what was stored.

mod common;

use common::{hookscope, json_lines, Listener, Simulator};
use hookscope_engine::model::{Subscription, SubscriptionStatus};
use hookscope_engine::{Engine, EngineConfig};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_listen_and_trigger_store_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let simulator = Simulator::spawn(dir.path());
    let listener = Listener::spawn(dir.path(), &[]);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // Sign in as the simulator's well-known app and create a subscription, as `subscribe` will.
    let token: Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            simulator.graph_url,
            hookscope_engine::simulator::SIMULATOR_TENANT_ID
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_id",
                hookscope_engine::simulator::SIMULATOR_CLIENT_ID,
            ),
            (
                "client_secret",
                hookscope_engine::simulator::SIMULATOR_CLIENT_SECRET,
            ),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expiry = hookscope_engine::clock::rfc3339_millis(
        hookscope_engine::clock::now_micros() + 3_600_000_000,
    );
    let created = http
        .post(format!("{}/v1.0/subscriptions", simulator.graph_url))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({
            "changeType": "created,updated",
            "notificationUrl": listener.first["notificationUrl"],
            "lifecycleNotificationUrl": listener.first["lifecycleUrl"],
            "resource": "/me/messages",
            "expirationDateTime": expiry,
            "clientState": "e2e-client-state",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        201,
        "the listener passed Graph's handshake"
    );
    let created: Value = created.json().await.unwrap();

    // The listener learns the subscription through the shared data directory.
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    engine
        .put_subscription(Subscription {
            id: created["id"].as_str().unwrap().to_string(),
            resource: "/me/messages".into(),
            change_type: "created,updated".into(),
            notification_url: created["notificationUrl"].as_str().unwrap().to_string(),
            lifecycle_notification_url: created["lifecycleNotificationUrl"]
                .as_str()
                .map(str::to_string),
            expiration_date_time: created["expirationDateTime"].as_str().unwrap().to_string(),
            include_resource_data: false,
            client_state: Some("e2e-client-state".into()),
            tenant_id: None,
            auto_renew: true,
            status: SubscriptionStatus::Active,
            last_error: None,
            ..Default::default()
        })
        .await
        .unwrap();
    engine.close().await;

    // `trigger` finds the simulator through the data directory.
    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "trigger",
            "--resource",
            "/me/messages",
            "--count",
            "3",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let deliveries = json_lines(&out);
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["status"], 202);
    assert_eq!(deliveries[0]["items"], 3);
    // An update, sent twice as Graph's retries sometimes do.
    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "trigger",
            "--change-type",
            "updated",
            "--duplicate",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let deliveries = json_lines(&out);
    assert_eq!(deliveries.len(), 2, "{out}");
    assert!(deliveries.iter().all(|d| d["status"] == 202));
    let (code, _, err) = hookscope(
        dir.path(),
        &["trigger", "--lifecycle", "reauthorizationRequired"],
    );
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = hookscope(dir.path(), &["notifications", "--json"]);
    assert_eq!(code, 0, "{err}");
    let stored = json_lines(&out);
    assert_eq!(stored.len(), 6);
    assert!(
        stored.iter().all(|n| n["verdict"] == "accepted"),
        "{stored:?}"
    );
    assert_eq!(
        stored
            .iter()
            .filter(|n| n["changeType"] == "created")
            .count(),
        3
    );
    let updates: Vec<&Value> = stored
        .iter()
        .filter(|n| n["changeType"] == "updated")
        .collect();
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates.iter().filter(|n| n["duplicate"] == true).count(),
        1,
        "the second copy is flagged, both are kept"
    );
    assert_eq!(stored[0]["lifecycleEvent"], "reauthorizationRequired");
    assert!(stored.iter().all(|n| n["subscriptionId"] == created["id"]));

    // `resource` reads what a notification named from the (simulated) Graph, with $select.
    let created_one = stored
        .iter()
        .find(|n| n["changeType"] == "created")
        .unwrap();
    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "resource",
            created_one["id"].as_str().unwrap(),
            "--select",
            "subject",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let current = &json_lines(&out)[0];
    let body: Value = serde_json::from_str(current["body"].as_str().unwrap()).unwrap();
    assert!(
        body["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("Simulated message")),
        "{body}"
    );
    assert!(
        body.get("isRead").is_none(),
        "only what was selected: {body}"
    );
    assert!(current["url"].as_str().unwrap().ends_with(&format!(
        "{}?$select=subject",
        created_one["resource"].as_str().unwrap()
    )));
    let lifecycle_id = stored[0]["id"].as_str().unwrap();
    let (code, _, err) = hookscope(dir.path(), &["resource", lifecycle_id]);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "A reauthorizationRequired lifecycle event names no resource to fetch; open a change notification instead."
    );

    // Errors are one actionable line.
    let (code, _, err) = hookscope(dir.path(), &["trigger", "--resource", "groups"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("No subscription in the simulator matches resource 'groups'"),
        "{err}"
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, _, err) = hookscope(elsewhere.path(), &["trigger"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("No Graph simulator is running for"),
        "{err}"
    );
    listener.stop();
}
