//! Graph delivering to a subscription in the instant it is born, before Hookscope has recorded the new
//! id: `subscribe` (in this process and in another on the same data directory), the keeper's
//! re-creation after `subscriptionRemoved`, and its re-pointing by delete + create. The simulator sets
//! the first delivery off before it answers the create; it must be judged against the new subscription.
//! A forgery racing beside it (an unknown id, a wrong clientState) must still be rejected as unknown,
//! and answered without waiting for anything.

use std::time::{Duration, Instant};

use hookscope_engine::model::{KeeperAction, Notification, Verdict};
use hookscope_engine::simulator::{
    DeliverOnCreate, DeliveryRecord, Fault, FaultKind, LifecycleEvent, Operation, TriggerSpec,
};
use hookscope_engine::store::NotificationQuery;

use crate::fixture::{request, World};

const MAILBOX: &str = "users/alex@contoso.com/messages";
/// How long the simulated Graph holds its 201 after the deliveries set off. The forgery must be
/// answered within it: had it waited for any subscription to be recorded, it could not have been.
const HOLD_MS: u64 = 600;

fn race(forged_id: &str) -> DeliverOnCreate {
    DeliverOnCreate {
        count: 1,
        hold_answer_ms: HOLD_MS,
        forged_subscription_id: Some(forged_id.to_owned()),
    }
}

fn forged_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The first delivery attempt the simulator logged for exactly this subscription id.
async fn delivery_to(world: &World, id: &str) -> DeliveryRecord {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = world
            .sim
            .running
            .deliveries(0)
            .into_iter()
            .find(|d| d.kind == "notifications" && d.subscription_ids == [id]);
        if let Some(found) = found {
            return found;
        }
        assert!(Instant::now() < deadline, "no delivery to {id} within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn all_notifications(world: &World) -> Vec<Notification> {
    world
        .engine
        .notifications(&NotificationQuery::default())
        .await
        .unwrap()
        .items
}

/// The delivery that raced the create is stored once, accepted; the forgery beside it once, rejected
/// as unknown, and answered before Graph's 201 went out.
async fn assert_born_cleanly(world: &World, new_id: &str, forged_id: &str) {
    let genuine = world
        .notifications_until(new_id, "the delivery that raced the create", |n| {
            !n.is_empty()
        })
        .await;
    assert_eq!(genuine.len(), 1, "{genuine:?}");
    assert_eq!(genuine[0].verdict, Verdict::Accepted, "{genuine:?}");
    assert_eq!(genuine[0].reason, None);
    assert_eq!(genuine[0].change_type.as_deref(), Some("created"));
    let forged = world
        .notifications_until(forged_id, "the forgery", |n| !n.is_empty())
        .await;
    assert_eq!(forged.len(), 1, "{forged:?}");
    assert_eq!(forged[0].verdict, Verdict::Rejected);
    assert_eq!(
        forged[0].reason.as_deref(),
        Some(
            format!(
                "Unknown subscription {forged_id}: Hookscope holds no subscription with this id."
            )
            .as_str()
        )
    );
    let genuine_delivery = delivery_to(world, new_id).await;
    assert_eq!(genuine_delivery.status, Some(202), "{genuine_delivery:?}");
    assert_eq!(genuine_delivery.attempt, 1, "no retry was needed");
    let forged_delivery = delivery_to(world, forged_id).await;
    assert_eq!(forged_delivery.status, Some(202), "{forged_delivery:?}");
    assert!(
        forged_delivery.latency_ms < HOLD_MS as f64,
        "the forgery was answered after {} ms: it waited",
        forged_delivery.latency_ms
    );
}

#[tokio::test]
async fn a_delivery_racing_subscribe_is_accepted_and_a_forgery_beside_it_is_not() {
    let world = World::start().await;
    let forged = forged_id();
    world.sim.running.deliver_on_create(race(&forged));
    let created = world.subscribe(MAILBOX, "created", "1h", false).await;
    // The note was cleared by the transaction that recorded the subscription.
    assert_eq!(
        world.engine.store().pending_creations().await.unwrap(),
        Vec::<[u8; 32]>::new()
    );
    assert_born_cleanly(&world, &created.id, &forged).await;
    assert_eq!(all_notifications(&world).await.len(), 2);
}

#[tokio::test]
async fn a_create_graph_refuses_leaves_no_note_behind() {
    let world = World::start().await;
    world.sim.running.add_fault(Fault {
        kind: FaultKind::Forbidden,
        operation: Some(Operation::Create),
        count: 1,
        retry_after: None,
        permission: None,
    });
    let refused = hookscope_engine::subscriptions::subscribe(
        &world.engine,
        &world.graph,
        &request(MAILBOX, "created", "1h", false),
    )
    .await
    .expect_err("Graph refused");
    assert!(refused.to_string().contains("Mail.Read"), "{refused}");
    // Else an item carrying that secret would wait for a subscription that never comes.
    assert_eq!(
        world.engine.store().pending_creations().await.unwrap(),
        Vec::<[u8; 32]>::new()
    );
    assert_eq!(world.engine.subscriptions().await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_delivery_racing_subscribe_from_another_process_is_accepted() {
    use hookscope_engine::{Engine, EngineConfig};

    let world = World::start().await;
    // `hookscope subscribe` beside `listen`: its own store and writer on the same data directory, so
    // nothing in the receiver's process hears of the new subscription but the database.
    let other = Engine::open(EngineConfig::new(world.dir.path()))
        .await
        .unwrap();
    let forged = forged_id();
    world.sim.running.deliver_on_create(race(&forged));
    let created = hookscope_engine::subscriptions::subscribe(
        &other,
        &world.graph,
        &request(MAILBOX, "created", "1h", false),
    )
    .await
    .expect("subscribed from the other process");
    other.close().await;
    assert_born_cleanly(&world, &created.id, &forged).await;
    assert_eq!(all_notifications(&world).await.len(), 2);
}

#[tokio::test]
async fn a_delivery_racing_the_recreation_after_subscription_removed_is_accepted() {
    let world = World::start().await;
    let keeper = world.keeper();
    let created = world.subscribe(MAILBOX, "created", "1h", true).await;
    let forged = forged_id();
    world.sim.running.deliver_on_create(race(&forged));
    world
        .trigger(TriggerSpec {
            subscription_id: Some(created.id.clone()),
            lifecycle: Some(LifecycleEvent::SubscriptionRemoved),
            ..TriggerSpec::default()
        })
        .await;
    let recreated = world
        .keeper_events(
            &created.id,
            KeeperAction::Recreated,
            1,
            Duration::from_secs(10),
        )
        .await;
    let new_id = recreated[0].new_subscription_id.clone().unwrap();
    assert_born_cleanly(&world, &new_id, &forged).await;
    // The removal itself, the raced delivery and the forgery; nothing else.
    let all = all_notifications(&world).await;
    assert_eq!(all.len(), 3, "{all:?}");
    let removal: Vec<&Notification> = all
        .iter()
        .filter(|n| n.subscription_id.as_deref() == Some(created.id.as_str()))
        .collect();
    assert_eq!(removal.len(), 1);
    assert_eq!(
        removal[0].lifecycle_event.as_deref(),
        Some("subscriptionRemoved")
    );
    assert_eq!(removal[0].verdict, Verdict::Accepted);
    keeper.stop().await;
}

#[tokio::test]
async fn a_delivery_racing_a_repointing_by_delete_and_create_is_accepted() {
    let mut world = World::start().await;
    let keeper = world.keeper();
    // With a lifecycle URL, a move is a delete and a create: Graph cannot PATCH that URL.
    let created = world.subscribe(MAILBOX, "created", "1h", true).await;
    world.restart_receiver().await;
    let moved_to = world.listening().urls().clone();
    let forged = forged_id();
    world.sim.running.deliver_on_create(race(&forged));
    keeper.set_urls(moved_to.clone());
    let recreated = world
        .keeper_events(
            &created.id,
            KeeperAction::Recreated,
            1,
            Duration::from_secs(10),
        )
        .await;
    let new_id = recreated[0].new_subscription_id.clone().unwrap();
    assert_eq!(
        world.local(&new_id).await.notification_url,
        moved_to.notification_url
    );
    assert_born_cleanly(&world, &new_id, &forged).await;
    assert_eq!(all_notifications(&world).await.len(), 2);
    keeper.stop().await;
}
