//! Graph's lifecycle events and the keeper's answer to each; a forged one changes nothing.

use std::time::Duration;

use hookscope_engine::model::{KeeperAction, SubscriptionStatus, Verdict};
use hookscope_engine::simulator::{LifecycleEvent, Operation, Tamper, TriggerSpec};

use crate::fixture::World;

const MAILBOX: &str = "users/alex@contoso.com/messages";

fn lifecycle(id: &str, event: LifecycleEvent) -> TriggerSpec {
    TriggerSpec {
        subscription_id: Some(id.to_string()),
        lifecycle: Some(event),
        ..TriggerSpec::default()
    }
}

#[tokio::test]
async fn reauthorization_required_gets_one_patch_and_held_changes_flow_again() {
    let world = World::start().await;
    let keeper = world.keeper();
    let created = world.subscribe(MAILBOX, "created", "1h", true).await;
    world
        .trigger(lifecycle(
            &created.id,
            LifecycleEvent::ReauthorizationRequired,
        ))
        .await;
    // Graph holds changes while it waits for the answer; this one is released by the PATCH.
    world.change(&created.id).await;
    let renewed = world
        .keeper_events(
            &created.id,
            KeeperAction::Renewed,
            1,
            Duration::from_secs(10),
        )
        .await;
    assert!(
        renewed[0].ok && renewed[0].message.contains("reauthorizationRequired"),
        "{renewed:?}"
    );
    world
        .notifications_until(
            &created.id,
            "the held change, released once reauthorized",
            |notes| notes.iter().any(|n| n.change_type.is_some()),
        )
        .await;
    // Graph repeats the event; the repeat within ten minutes is not answered again.
    world
        .trigger(lifecycle(
            &created.id,
            LifecycleEvent::ReauthorizationRequired,
        ))
        .await;
    world
        .notifications_until(&created.id, "the repeat", |notes| {
            notes.iter().filter(|n| n.lifecycle_event.is_some()).count() >= 2
        })
        .await;
    // The keeper reacts within milliseconds of a stored event; give it ample time to (wrongly) act.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(world.sim.running.calls(Operation::Update), 1);
    assert_eq!(
        world.sim.running.calls(Operation::Reauthorize),
        0,
        "never both a reauthorize and a PATCH"
    );
    keeper.stop().await;
}

#[tokio::test]
async fn subscription_removed_is_answered_by_a_new_subscription() {
    let world = World::start().await;
    let keeper = world.keeper();
    let created = world.subscribe(MAILBOX, "created", "1h", true).await;
    world
        .trigger(lifecycle(&created.id, LifecycleEvent::SubscriptionRemoved))
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
    assert_eq!(world.at_graph().await, vec![new_id.clone()]);
    assert_eq!(
        world.local(&created.id).await.status,
        SubscriptionStatus::Removed
    );
    assert_eq!(
        world.local(&new_id).await.status,
        SubscriptionStatus::Active
    );
    keeper.stop().await;
}

#[tokio::test]
async fn missed_is_recorded_as_a_gap_to_fetch() {
    let world = World::start().await;
    let keeper = world.keeper();
    let created = world.subscribe(MAILBOX, "created", "1h", true).await;
    world
        .trigger(lifecycle(&created.id, LifecycleEvent::Missed))
        .await;
    let gap = world
        .keeper_events(&created.id, KeeperAction::Gap, 1, Duration::from_secs(10))
        .await;
    assert!(
        gap[0].message.contains("missed") && gap[0].message.contains(MAILBOX),
        "{gap:?}"
    );
    keeper.stop().await;
}

#[tokio::test]
async fn a_forged_lifecycle_event_changes_nothing() {
    let world = World::start().await;
    let keeper = world.keeper();
    let created = world.subscribe(MAILBOX, "created", "1h", true).await;
    // The simulator applies what it sends, so the removal goes last.
    for event in [
        LifecycleEvent::ReauthorizationRequired,
        LifecycleEvent::SubscriptionRemoved,
    ] {
        let mut spec = lifecycle(&created.id, event);
        spec.tamper = Some(Tamper::ClientState);
        world.trigger(spec).await;
    }
    let notes = world
        .notifications_until(&created.id, "both forged events", |notes| notes.len() >= 2)
        .await;
    assert!(
        notes.iter().all(|n| n.verdict == Verdict::Rejected),
        "{notes:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(world
        .engine
        .keeper_events(None, 0)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(world.sim.running.calls(Operation::Update), 0, "no PATCH");
    assert_eq!(
        world.sim.running.calls(Operation::Create),
        1,
        "no re-creation"
    );
    assert_eq!(
        world.local(&created.id).await.status,
        SubscriptionStatus::Active
    );
    keeper.stop().await;
}
