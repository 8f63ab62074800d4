//! "Try without a tenant" and the Graph client it uses, against the simulator and a real receiver.

use hookscope_engine::graph::{AppCredentials, GraphClient, NewSubscription};
use hookscope_engine::model::Verdict;
use hookscope_engine::sandbox::{Sandbox, SandboxSend};
use hookscope_engine::simulator::{Fault, FaultKind, Operation};
use hookscope_engine::store::NotificationQuery;

use crate::support::{hookscope_receiver, in_minutes, Sim, TestReceiver};

#[tokio::test]
async fn one_click_subscribes_this_receiver_and_each_send_lands_with_its_verdict() {
    let (dir, engine, listening) = hookscope_receiver().await;
    let sandbox = Sandbox::start(&engine, listening.urls())
        .await
        .expect("sandbox starts");
    let stored = engine.subscriptions().await.unwrap();
    assert_eq!(stored.len(), 2, "a plain and a rich subscription");
    let stored: Vec<_> = stored
        .into_iter()
        .filter(|s| s.id == sandbox.status().subscription_id)
        .collect();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0]
            .client_state
            .as_deref()
            .is_some_and(|s| s.len() >= 22),
        "a random clientState"
    );
    assert!(
        hookscope_engine::simulator::announced(dir.path())
            .await
            .is_some(),
        "`hookscope trigger` can find it"
    );

    // Rich sends go to the rich subscription: decrypted with the keychain's certificate, or, with a
    // forged token, refused whole.
    for what in [SandboxSend::Rich, SandboxSend::RichForged] {
        sandbox.send(what).await.unwrap();
    }
    let rich = engine
        .notifications(&NotificationQuery {
            filter: hookscope_engine::store::NotificationFilter {
                subscription_id: Some(sandbox.status().rich_subscription_id.clone()),
                ..Default::default()
            },
            ..NotificationQuery::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(rich.len(), 2);
    assert_eq!(rich[0].verdict, Verdict::Rejected);
    assert_eq!(rich[0].tokens_valid, Some(false));
    assert_eq!(rich[1].verdict, Verdict::Accepted, "{:?}", rich[1].reason);
    assert!(rich[1].decrypted.is_some());

    // The lifecycle event goes last: after it Graph holds changes until the subscription is reauthorized.
    for what in [
        SandboxSend::Change,
        SandboxSend::Duplicate,
        SandboxSend::Forged,
        SandboxSend::Lifecycle,
    ] {
        let report = sandbox.send(what).await.unwrap();
        assert!(
            report.deliveries.iter().all(|d| d.status == Some(202)),
            "{what:?}"
        );
    }
    let notes = engine
        .notifications(&NotificationQuery {
            filter: hookscope_engine::store::NotificationFilter {
                subscription_id: Some(sandbox.status().subscription_id.clone()),
                ..Default::default()
            },
            ..NotificationQuery::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(
        notes.len(),
        5,
        "change, the duplicate pair, forged, lifecycle"
    );
    assert_eq!(
        notes[0].lifecycle_event.as_deref(),
        Some("reauthorizationRequired")
    );
    assert_eq!(notes[0].verdict, Verdict::Accepted);
    assert_eq!(notes[1].verdict, Verdict::Rejected, "the forged one");
    assert!(
        notes[2].duplicate && !notes[3].duplicate,
        "the second copy is flagged"
    );
    let held = sandbox.send(SandboxSend::Change).await.unwrap();
    assert_eq!(
        held.deliveries[0].outcome,
        hookscope_engine::simulator::Outcome::Held
    );
    assert_eq!(notes[4].verdict, Verdict::Accepted);
    sandbox.stop(&engine).await;
    assert!(hookscope_engine::simulator::announced(dir.path())
        .await
        .is_none());
    listening.stop().await;
    engine.close().await;
}

fn client(sim: &Sim, secret: &str) -> GraphClient {
    let app = &sim.running.options().app;
    GraphClient::new(AppCredentials {
        graph_url: sim.running.url().into(),
        login_url: sim.running.url().into(),
        tenant_id: app.tenant_id.clone(),
        client_id: app.client_id.clone(),
        client_secret: secret.into(),
        delegated: None,
    })
    .unwrap()
}

fn new_subscription(receiver: &TestReceiver) -> NewSubscription {
    NewSubscription {
        change_type: "updated".into(),
        notification_url: receiver.url("/notify"),
        lifecycle_notification_url: None,
        resource: "users".into(),
        expiration_date_time: in_minutes(60),
        client_state: "state".into(),
        include_resource_data: false,
        encryption_certificate: None,
        encryption_certificate_id: None,
    }
}

#[tokio::test]
async fn the_graph_client_retries_once_with_a_fresh_token_and_words_refusals() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let secret = sim.running.options().app.client_secret.clone();
    let graph = client(&sim, &secret);
    sim.running.add_fault(Fault {
        kind: FaultKind::ExpiredToken,
        operation: Some(Operation::Create),
        count: 1,
        retry_after: None,
        permission: None,
    });
    let created = graph
        .create_subscription(&new_subscription(&receiver))
        .await
        .expect("a 401 gets one fresh token");
    assert_eq!(created.resource, "users");

    let duplicate = graph
        .create_subscription(&new_subscription(&receiver))
        .await
        .unwrap_err();
    assert_eq!(
        (duplicate.status, duplicate.code.as_str()),
        (409, "Conflict")
    );
    assert!(
        duplicate
            .message
            .starts_with("Creating the subscription failed (Conflict): Subscription Id "),
        "{}",
        duplicate.message
    );

    sim.running.add_fault(Fault {
        kind: FaultKind::Throttle,
        operation: Some(Operation::Delete),
        count: 1,
        retry_after: Some(3),
        permission: None,
    });
    let throttled = graph.delete_subscription(&created.id).await.unwrap_err();
    assert_eq!((throttled.status, throttled.retry_after), (429, Some(3)));
    graph.delete_subscription(&created.id).await.unwrap();

    let wrong = client(&sim, "not-the-secret");
    let refused = wrong
        .create_subscription(&new_subscription(&receiver))
        .await
        .unwrap_err();
    assert_eq!(refused.code, "invalid_client");
    assert!(
        refused
            .message
            .starts_with("Signing in failed (invalid_client): AADSTS7000215"),
        "{}",
        refused.message
    );
    assert!(!refused.message.contains("not-the-secret"));
    let credentials = AppCredentials {
        graph_url: String::new(),
        login_url: String::new(),
        tenant_id: String::new(),
        client_id: String::new(),
        client_secret: "not-the-secret".into(),
        delegated: None,
    };
    assert!(
        !format!("{credentials:?}").contains("not-the-secret"),
        "Debug hides the secret"
    );
}
