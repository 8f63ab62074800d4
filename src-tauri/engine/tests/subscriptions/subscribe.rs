//! Creating, renewing, listing and deleting, with each of Graph's refusals explained.

use hookscope_engine::graph::GraphClient;
use hookscope_engine::model::SubscriptionStatus;
use hookscope_engine::simulator::{Fault, FaultKind, Operation};
use hookscope_engine::subscriptions::{self, Lifetime};

use crate::fixture::{credentials, request, seconds_until, World};

const MAILBOX: &str = "users/alex@contoso.com/messages";

#[tokio::test]
async fn creates_with_a_fresh_secret_the_lifecycle_url_and_the_longest_lifetime() {
    let world = World::start().await;
    let first = world
        .subscribe(MAILBOX, "created, Updated", "max", true)
        .await;
    let second = world
        .subscribe("users/bo@contoso.com/messages", "deleted", "2h", false)
        .await;
    let urls = world.listening().urls();
    assert_eq!(first.notification_url, urls.notification_url);
    assert_eq!(
        first.lifecycle_notification_url.as_deref(),
        Some(urls.lifecycle_url.as_str())
    );
    assert_eq!(second.lifecycle_notification_url, None, "--no-lifecycle");
    assert_eq!(first.change_type, "created,updated");
    let (a, b) = (
        first.client_state.clone().unwrap(),
        second.client_state.clone().unwrap(),
    );
    assert!(
        a.len() >= 22 && a.len() <= 128 && a != b,
        "random, at least 128 bits: {a} {b}"
    );
    // Outlook's maximum is 7 days (10080 min); `max` keeps a margin of 1%.
    let left = seconds_until(&first.expiration_date_time);
    assert!(
        left > 10_080.0 * 60.0 * 0.98 && left < 10_080.0 * 60.0,
        "{left}"
    );
    assert!((seconds_until(&second.expiration_date_time) - 7200.0).abs() < 30.0);
    assert!(first.auto_renew && first.status == SubscriptionStatus::Active);
    // Recorded locally with its secret, and held by Graph.
    assert_eq!(
        world.local(&first.id).await.client_state,
        first.client_state
    );
    let held = world.at_graph().await;
    assert!(held.contains(&first.id) && held.contains(&second.id));
    let seen = world
        .engine
        .requests(&Default::default())
        .await
        .unwrap()
        .items;
    let handshakes = seen
        .iter()
        .filter(|r| r.kind == hookscope_engine::model::RequestKind::Handshake)
        .count();
    // Per subscription: the self-check, Graph's notification URL check, and its lifecycle URL check.
    assert_eq!(handshakes, 3 + 2, "{seen:?}");
}

#[tokio::test]
async fn a_request_the_catalog_refuses_never_reaches_graph() {
    let world = World::start().await;
    for (resource, types, lifetime, says) in [
        ("users", "created", "max", "does not send 'created'"),
        (
            "communications/presences/abc",
            "updated",
            "max",
            "need a signed-in user",
        ),
        (MAILBOX, "created", "8d", "at most"),
        (MAILBOX, "created,moved", "max", "moved"),
    ] {
        let error = subscriptions::subscribe(
            &world.engine,
            &world.graph,
            &request(resource, types, lifetime, true),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(error.contains(says), "{resource} {types}: {error}");
    }
    assert_eq!(world.sim.running.calls(Operation::Create), 0);
}

#[tokio::test]
async fn a_dead_receiver_is_caught_before_graph_is_asked() {
    let mut world = World::start().await;
    let mut req = request(MAILBOX, "created", "max", true);
    // A receiver that stopped (or a tunnel that died) behind the announced URL.
    let dead = world.listening().urls().notification_url.clone();
    world.listening.take().unwrap().stop().await;
    req.notification_url = Some(dead.clone());
    let error = subscriptions::subscribe(&world.engine, &world.graph, &req)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&dead) && error.contains("does not answer Graph's validation handshake"),
        "{error}"
    );
    assert_eq!(world.sim.running.calls(Operation::Create), 0);
    // With no receiver announced and no URL given, the sentence says what to start.
    world.restart_receiver().await;
    world.listening.take().unwrap().stop().await;
    let error = subscriptions::subscribe(
        &world.engine,
        &world.graph,
        &request(MAILBOX, "created", "max", true),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("hookscope listen"), "{error}");
}

#[tokio::test]
async fn graphs_refusals_are_explained() {
    let world = World::start().await;
    world.sim.running.add_fault(Fault {
        kind: FaultKind::Forbidden,
        operation: Some(Operation::Create),
        count: 1,
        retry_after: None,
        permission: None,
    });
    let error = subscriptions::subscribe(
        &world.engine,
        &world.graph,
        &request(MAILBOX, "created", "max", true),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("Mail.Read") && error.contains("admin consent"),
        "403 names the permission: {error}"
    );

    world.subscribe(MAILBOX, "created", "max", true).await;
    let error = subscriptions::subscribe(
        &world.engine,
        &world.graph,
        &request(MAILBOX, "created", "max", true),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        error.to_lowercase().contains("already exists") || error.contains("409"),
        "409: {error}"
    );

    let mut wrong = credentials(&world.sim);
    wrong.client_secret = "not-the-secret".into();
    let error = subscriptions::subscribe(
        &world.engine,
        &GraphClient::new(wrong).unwrap(),
        &request(MAILBOX, "updated", "max", true),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("AADSTS7000215") || error.to_lowercase().contains("secret"),
        "{error}"
    );
    assert!(
        !error.contains("not-the-secret"),
        "the secret never appears: {error}"
    );
}

#[tokio::test]
async fn throttling_and_an_expired_token_are_waited_out_by_a_manual_renewal() {
    let world = World::start().await;
    let created = world.subscribe(MAILBOX, "created", "1h", true).await;
    world.sim.running.add_fault(Fault {
        kind: FaultKind::ExpiredToken,
        operation: Some(Operation::Update),
        count: 1,
        retry_after: None,
        permission: None,
    });
    let renewed = subscriptions::renew(
        &world.engine,
        &world.graph,
        &created.id,
        Lifetime::parse("3h").unwrap(),
    )
    .await
    .expect("one fresh token, one retry");
    assert!((seconds_until(&renewed.expiration_date_time) - 3.0 * 3600.0).abs() < 30.0);
    assert_eq!(
        world.local(&created.id).await.expiration_date_time,
        renewed.expiration_date_time
    );

    // The keeper's client reports throttling at once (it schedules its own retries)…
    world.sim.running.add_fault(Fault {
        kind: FaultKind::Throttle,
        operation: Some(Operation::Update),
        count: 1,
        retry_after: Some(7),
        permission: None,
    });
    let error = subscriptions::renew(&world.engine, &world.graph, &created.id, Lifetime::Max)
        .await
        .unwrap_err();
    let graph_error = error
        .downcast_ref::<hookscope_engine::graph::GraphApiError>()
        .expect("Graph's error kept whole");
    assert_eq!(
        (graph_error.status, graph_error.retry_after),
        (429, Some(7))
    );

    // …while the client of a command a person waits on waits Graph's Retry-After out and succeeds.
    world.sim.running.add_fault(Fault {
        kind: FaultKind::Throttle,
        operation: Some(Operation::Update),
        count: 1,
        retry_after: Some(2),
        permission: None,
    });
    let patient =
        hookscope_engine::graph::GraphClient::new(crate::fixture::credentials(&world.sim))
            .unwrap()
            .with_patience(std::time::Duration::from_secs(60));
    let started = std::time::Instant::now();
    subscriptions::renew(&world.engine, &patient, &created.id, Lifetime::Max)
        .await
        .expect("renewed after waiting");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After was honoured: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn delete_and_the_remote_list_with_orphans() {
    let world = World::start().await;
    let kept = world.subscribe(MAILBOX, "created", "max", true).await;
    let gone = world
        .subscribe("users/bo@contoso.com/events", "updated", "max", true)
        .await;
    // An orphan: created at Graph by someone else with this app, unknown here.
    let (status, orphan, _) = world
        .sim
        .create(&serde_json::json!({
            "changeType": "updated",
            "notificationUrl": world.listening().urls().notification_url,
            "resource": "users/cy@contoso.com/contacts",
            "expirationDateTime": crate::support::in_minutes(60),
            "clientState": "someone-elses",
        }))
        .await;
    assert_eq!(status, 201, "{orphan}");
    let deleted = subscriptions::delete(&world.engine, &world.graph, &gone.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.status, SubscriptionStatus::Removed);
    let remote = subscriptions::remote(&world.engine, &world.graph)
        .await
        .unwrap();
    let ids: Vec<(&str, bool)> = remote
        .iter()
        .map(|r| (r.subscription.id.as_str(), r.orphan))
        .collect();
    assert!(ids.contains(&(kept.id.as_str(), false)), "{ids:?}");
    assert!(
        ids.contains(&(orphan["id"].as_str().unwrap(), true)),
        "{ids:?}"
    );
    assert!(!ids.iter().any(|(id, _)| *id == gone.id), "{ids:?}");
    // An orphan is deleted at Graph though unknown here.
    subscriptions::delete(&world.engine, &world.graph, orphan["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(world.at_graph().await, vec![kept.id.clone()]);
    let error = subscriptions::delete(&world.engine, &world.graph, "nope")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("nope"), "{error}");
}

#[tokio::test]
async fn graphs_failed_validation_is_explained_with_what_the_receiver_saw() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let world = World::start().await;
    // Someone else's server behind the URL: it passes Hookscope's self-check, then answers Graph's
    // validation with the token still URL-encoded, as a careless handler does.
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let count = count.clone();
        async move {
            let query = uri.query().unwrap_or_default().to_owned();
            let raw = query.trim_start_matches("validationToken=").to_owned();
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                let decoded = percent_decode(&raw);
                (axum::http::StatusCode::OK, decoded)
            } else {
                (axum::http::StatusCode::OK, raw)
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}/notifications", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut req = request(MAILBOX, "created", "max", false);
    req.notification_url = Some(other.clone());
    let error = subscriptions::subscribe(&world.engine, &world.graph, &req)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        answered.load(Ordering::SeqCst) >= 2,
        "the self-check, then Graph"
    );
    assert!(error.contains("validation"), "Graph's own words: {error}");
    assert!(
        error.contains("never reached this receiver") && error.contains(&other),
        "what Hookscope's receiver saw (nothing) and the URL to check: {error}"
    );
    assert!(
        world.engine.subscriptions().await.unwrap().is_empty(),
        "nothing recorded"
    );
}

/// Form-decoding as Graph's handshake needs it (`+` is a space, `%xx` a byte).
fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("t={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
