//! The keeper on its own: renewals on schedule with no storm, Graph's throttling honoured, catch-up after
//! downtime, and following the receiver to a new URL.

use std::time::Duration;

use hookscope_engine::model::{KeeperAction, SubscriptionStatus};
use hookscope_engine::simulator::{Fault, FaultKind, Operation};

use crate::fixture::{seconds_until, World};

const MAILBOX: &str = "users/alex@contoso.com/messages";

#[tokio::test]
async fn short_lifetimes_are_renewed_before_they_expire_again_and_again_without_a_storm() {
    let world = World::start().await;
    let keeper = world.keeper();
    let created = world.subscribe(MAILBOX, "created", "9s", true).await;
    let renewals = world
        .keeper_events(
            &created.id,
            KeeperAction::Renewed,
            3,
            Duration::from_secs(30),
        )
        .await;
    assert!(renewals.iter().all(|e| e.ok), "{renewals:?}");
    // Each renewal came with time left (a third of 9 s is 3 s) and asked for 9 s again.
    let stored = world.local(&created.id).await;
    assert_eq!(stored.status, SubscriptionStatus::Active);
    let left = seconds_until(&stored.expiration_date_time);
    assert!(left > 1.0 && left <= 9.5, "{left}");
    assert!(
        world.at_graph().await.contains(&created.id),
        "never lapsed at Graph"
    );
    let patches = world.sim.running.calls(Operation::Update);
    assert!(
        (3..=4).contains(&patches),
        "one PATCH per renewal, no storm: {patches}"
    );
    // And the subscription still delivers.
    world.change(&created.id).await;
    assert!(!world.notifications_of(&created.id).await.is_empty());
    keeper.stop().await;
}

#[tokio::test]
async fn throttling_is_waited_out_as_graph_asks_and_server_errors_back_off() {
    let world = World::start().await;
    let created = world.subscribe(MAILBOX, "created", "30s", true).await;
    world.sim.running.add_fault(Fault {
        kind: FaultKind::Throttle,
        operation: Some(Operation::Update),
        count: 1,
        retry_after: Some(3),
        permission: None,
    });
    world.sim.running.add_fault(Fault {
        kind: FaultKind::ServerError,
        operation: Some(Operation::Update),
        count: 1,
        retry_after: None,
        permission: None,
    });
    let keeper = world.keeper();
    let events = world
        .keeper_events(
            &created.id,
            KeeperAction::Renewed,
            3,
            Duration::from_secs(40),
        )
        .await;
    let outcomes: Vec<bool> = events.iter().map(|e| e.ok).collect();
    assert_eq!(outcomes, [false, false, true], "{events:?}");
    assert!(
        events[0].message.contains("Trying again in 3 s"),
        "{}",
        events[0].message
    );
    let at = |i: usize| hookscope_engine::clock::parse_rfc3339(&events[i].at).unwrap();
    assert!(
        at(1) - at(0) >= 2_900_000,
        "Retry-After honoured: {events:?}"
    );
    assert!(
        at(2) - at(1) >= 1_900_000,
        "backed off after the 500: {events:?}"
    );
    assert_eq!(world.sim.running.calls(Operation::Update), 3);
    assert_eq!(
        world.local(&created.id).await.last_error,
        None,
        "cleared once renewed"
    );
    keeper.stop().await;
}

#[tokio::test]
async fn a_refusal_marks_the_subscription_failed_and_names_the_permission() {
    let world = World::start().await;
    let created = world.subscribe(MAILBOX, "created", "6s", true).await;
    world.sim.running.add_fault(Fault {
        kind: FaultKind::Forbidden,
        operation: Some(Operation::Update),
        count: 1,
        retry_after: None,
        permission: None,
    });
    let keeper = world.keeper();
    let events = world
        .keeper_events(
            &created.id,
            KeeperAction::Renewed,
            1,
            Duration::from_secs(15),
        )
        .await;
    assert!(
        !events[0].ok && events[0].message.contains("Mail.Read"),
        "{events:?}"
    );
    let stored = world.local(&created.id).await;
    assert_eq!(stored.status, SubscriptionStatus::Failed);
    assert!(stored.last_error.unwrap().contains("Mail.Read"));
    keeper.stop().await;
}

#[tokio::test]
async fn a_subscription_that_expired_while_stopped_is_recreated_and_the_gap_recorded() {
    let world = World::start().await;
    let created = world
        .subscribe(MAILBOX, "created,updated", "2s", true)
        .await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(
        !world.at_graph().await.contains(&created.id),
        "gone at Graph"
    );
    let keeper = world.keeper();
    let recreated = world
        .keeper_events(
            &created.id,
            KeeperAction::Recreated,
            1,
            Duration::from_secs(10),
        )
        .await;
    let gap = world
        .keeper_events(&created.id, KeeperAction::Gap, 1, Duration::from_secs(5))
        .await;
    let new_id = recreated[0]
        .new_subscription_id
        .clone()
        .expect("names its successor");
    assert!(
        gap[0].message.contains("were not delivered") && gap[0].message.contains(MAILBOX),
        "{gap:?}"
    );
    let old = world.local(&created.id).await;
    assert_eq!(
        (old.status, old.auto_renew),
        (SubscriptionStatus::Expired, false)
    );
    let new = world.local(&new_id).await;
    assert_eq!(new.resource, created.resource);
    assert_eq!(new.change_type, created.change_type);
    assert_ne!(new.client_state, created.client_state, "a fresh secret");
    assert!(world.at_graph().await.contains(&new_id));
    keeper.stop().await;
}

#[tokio::test]
async fn after_a_restart_at_another_url_subscriptions_follow_and_deliveries_arrive_there() {
    let mut world = World::start().await;
    let with_lifecycle = world.subscribe(MAILBOX, "created", "1h", true).await;
    let without = world
        .subscribe("users/bo@contoso.com/events", "created", "1h", false)
        .await;
    let before = world.listening().urls().clone();
    world.restart_receiver().await;
    let after = world.listening().urls().clone();
    assert_ne!(before.notification_url, after.notification_url);
    let keeper = world.keeper();

    // No lifecycle URL: one PATCH of notificationUrl, same id.
    world
        .keeper_events(
            &without.id,
            KeeperAction::Repointed,
            1,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        world.local(&without.id).await.notification_url,
        after.notification_url
    );
    // A lifecycle URL cannot be PATCHed: deleted and created anew at both new URLs.
    let recreated = world
        .keeper_events(
            &with_lifecycle.id,
            KeeperAction::Recreated,
            1,
            Duration::from_secs(10),
        )
        .await;
    let new_id = recreated[0].new_subscription_id.clone().unwrap();
    let new = world.local(&new_id).await;
    assert_eq!(new.notification_url, after.notification_url);
    assert_eq!(
        new.lifecycle_notification_url.as_deref(),
        Some(after.lifecycle_url.as_str())
    );
    let held = world.at_graph().await;
    assert!(
        held.contains(&new_id) && held.contains(&without.id) && !held.contains(&with_lifecycle.id),
        "{held:?}"
    );

    for id in [&without.id, &new_id] {
        let report = world.change(id).await;
        assert!(
            report.deliveries.iter().all(|d| d.status == Some(202)),
            "{report:?}"
        );
        assert_eq!(
            world.notifications_of(id).await.len(),
            1,
            "arrived at the new URL and accepted"
        );
    }
    keeper.stop().await;
}

#[tokio::test]
async fn a_public_url_change_while_running_is_followed_at_once() {
    let mut world = World::start().await;
    let keeper = world.keeper();
    let created = world
        .subscribe("users/bo@contoso.com/events", "created", "1h", false)
        .await;
    // The tunnel comes back elsewhere: the front tells the running keeper.
    world.restart_receiver().await;
    let moved_to = world.listening().urls().clone();
    keeper.set_urls(moved_to.clone());
    world
        .keeper_events(
            &created.id,
            KeeperAction::Repointed,
            1,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        world.local(&created.id).await.notification_url,
        moved_to.notification_url
    );
    let report = world.change(&created.id).await;
    assert!(
        report.deliveries.iter().all(|d| d.status == Some(202)),
        "{report:?}"
    );
    keeper.stop().await;
}

#[tokio::test]
async fn one_keeper_acts_per_data_directory_and_another_takes_over_when_it_stops() {
    use hookscope_engine::{Engine, EngineConfig, ReceiverOptions};

    let world = World::start().await;
    let created = world
        .subscribe("users/bo@contoso.com/events", "created", "1h", false)
        .await;
    let first = world.keeper();
    // A second process on the same data directory (the app beside `listen`), with its own receiver.
    let other = Engine::open(EngineConfig::new(world.dir.path()))
        .await
        .unwrap();
    let other_receiver = other
        .listen(&ReceiverOptions {
            port: 0,
            ..ReceiverOptions::default()
        })
        .await
        .unwrap();
    let second = hookscope_engine::keeper::start(
        other.clone(),
        world.graph.clone(),
        other_receiver.urls().clone(),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let repointed = world
        .engine
        .keeper_events(Some(&created.id), 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == KeeperAction::Repointed)
        .count();
    assert_eq!(
        repointed, 0,
        "the standby keeper leaves the subscription alone"
    );

    // The first stops: the second takes over and points the subscription at its own receiver.
    first.stop().await;
    world
        .keeper_events(
            &created.id,
            KeeperAction::Repointed,
            1,
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        world.local(&created.id).await.notification_url,
        other_receiver.urls().notification_url
    );

    // A lifecycle event the first process's receiver stores is answered by the keeper of the second.
    let local = world.local(&created.id).await;
    let event = serde_json::json!({ "value": [{
        "subscriptionId": created.id,
        "lifecycleEvent": "missed",
        "clientState": local.client_state,
        "subscriptionExpirationDateTime": local.expiration_date_time,
        "tenantId": local.tenant_id,
    }]});
    let answer = reqwest::Client::new()
        .post(&world.listening().urls().lifecycle_url)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    world
        .keeper_events(&created.id, KeeperAction::Gap, 1, Duration::from_secs(10))
        .await;
    second.stop().await;
    other_receiver.stop().await;
    other.close().await;
}

#[tokio::test]
async fn a_renewal_answered_404_recreates_the_subscription_and_records_the_gap() {
    let world = World::start().await;
    let created = world
        .subscribe("users/bo@contoso.com/events", "created", "6s", false)
        .await;
    // Graph loses it (deleted behind Hookscope's back); the keeper finds out when it renews.
    world.graph.delete_subscription(&created.id).await.unwrap();
    let keeper = world.keeper();
    let recreated = world
        .keeper_events(
            &created.id,
            KeeperAction::Recreated,
            1,
            Duration::from_secs(15),
        )
        .await;
    assert!(recreated[0].ok, "{}", recreated[0].message);
    assert!(
        recreated[0].message.contains("404"),
        "{}",
        recreated[0].message
    );
    let gap = world
        .keeper_events(&created.id, KeeperAction::Gap, 1, Duration::from_secs(5))
        .await;
    assert!(gap[0].message.contains("fetch"), "{}", gap[0].message);
    let successor = recreated[0].new_subscription_id.clone().unwrap();
    assert!(world.at_graph().await.contains(&successor));
    keeper.stop().await;
}

/// A tunnel that comes up at one URL, drops after a moment, and comes back at the next one.
struct Moving {
    urls: Vec<String>,
    opened: usize,
}

impl hookscope_engine::tunnel::Tunnel for Moving {
    async fn open(
        &mut self,
        _local: &str,
    ) -> Result<String, hookscope_engine::tunnel::TunnelError> {
        let url = self.urls[self.opened.min(self.urls.len() - 1)].clone();
        self.opened += 1;
        Ok(url)
    }

    async fn closed(&mut self) -> String {
        if self.opened < self.urls.len() {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            "the tunnel dropped".into()
        } else {
            std::future::pending().await
        }
    }
}

#[tokio::test]
async fn when_the_tunnel_comes_back_at_another_url_subscriptions_follow_it() {
    use hookscope_engine::tunnel::{self, SupervisorTimings, TunnelState};

    let mut world = World::start().await;
    let keeper = world.keeper();
    let created = world
        .subscribe("users/bo@contoso.com/events", "created", "1h", false)
        .await;
    // Both public URLs route to this receiver (it answers the handshake on any path).
    let root = world
        .listening()
        .urls()
        .local_url
        .replace("127.0.0.1", "localhost");
    let (first, second) = (format!("{root}/first"), format!("{root}/second"));
    let supervised = tunnel::supervise(
        Moving {
            urls: vec![first.clone(), second.clone()],
            opened: 0,
        },
        world.listening().urls().local_url.clone(),
        world.engine.bus().clone(),
        SupervisorTimings::default(),
    );
    let mut states = supervised.states.clone();
    let mut followed = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while followed.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "followed so far: {followed:?}"
        );
        tokio::time::timeout(Duration::from_secs(10), states.changed())
            .await
            .unwrap()
            .unwrap();
        let state = states.borrow_and_update().clone();
        let listening = world.listening.as_mut().unwrap();
        if let Some(urls) = tunnel::follow(&state, listening, Some(&keeper)).unwrap() {
            followed.push(urls.notification_url);
        }
        if let TunnelState::Online { url } = &state {
            assert!(url == &first || url == &second);
        }
    }
    assert_eq!(
        followed,
        vec![
            format!("{first}/notifications"),
            format!("{second}/notifications")
        ]
    );
    let moved = world
        .keeper_events(
            &created.id,
            KeeperAction::Repointed,
            2,
            Duration::from_secs(15),
        )
        .await;
    assert!(moved.iter().all(|e| e.ok), "{moved:?}");
    assert_eq!(
        world.local(&created.id).await.notification_url,
        format!("{second}/notifications")
    );
    // `subscribe` in another process finds the new URL in the announcement.
    let announced = hookscope_engine::subscriptions::running_receiver(&world.engine)
        .await
        .unwrap();
    assert_eq!(announced.urls.public_url.as_deref(), Some(second.as_str()));
    supervised.stop();
    keeper.stop().await;
}
