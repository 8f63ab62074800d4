//! The doctor against the simulator: each link checked, and each broken one named with its fix.

use hookscope_engine::doctor::{self, Check, Health};
use hookscope_engine::graph::GraphSettings;
use hookscope_engine::simulator;

use crate::fixture::World;

fn find<'a>(checks: &'a [Check], name: &str) -> Vec<&'a Check> {
    checks.iter().filter(|c| c.name == name).collect()
}

#[tokio::test]
async fn a_healthy_setup_passes_and_each_broken_link_is_named_with_its_fix() {
    let mut world = World::start().await;
    // Nothing to sign in with yet: the first check fails and says what to run.
    let checks = doctor::examine(&world.engine, &GraphSettings::default()).await;
    let credentials = find(&checks, "credentials");
    assert_eq!(credentials[0].health, Health::Fail);
    assert!(credentials[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("hookscope login"));

    simulator::announce(world.dir.path(), &world.sim.running).unwrap();
    let kept = world
        .subscribe("users/alex@contoso.com/messages", "created", "1h", true)
        .await;
    let lost = world
        .subscribe("users/bo@contoso.com/events", "created", "1h", true)
        .await;
    let checks = doctor::examine(&world.engine, &GraphSettings::default()).await;
    assert!(checks.iter().all(|c| c.health == Health::Ok), "{checks:#?}");
    for name in [
        "credentials",
        "token",
        "clock",
        "graph",
        "receiver",
        "publicUrl",
    ] {
        assert_eq!(
            find(&checks, name).len(),
            1,
            "{name} is checked: {checks:#?}"
        );
    }
    assert_eq!(find(&checks, "subscription").len(), 2);

    // Graph loses one; another is created behind Hookscope's back; the receiver stops.
    world.graph.delete_subscription(&lost.id).await.unwrap();
    let (status, orphan, _) = world
        .sim
        .create(&serde_json::json!({
            "changeType": "updated",
            "notificationUrl": world.listening().urls().notification_url,
            "resource": "users/cy@contoso.com/contacts",
            "expirationDateTime": crate::support::in_minutes(60),
            "clientState": "not-ours",
        }))
        .await;
    assert_eq!(status, 201);
    world.listening.take().unwrap().stop().await;
    let checks = doctor::examine(&world.engine, &GraphSettings::default()).await;
    let subscriptions = find(&checks, "subscription");
    let gone = subscriptions
        .iter()
        .find(|c| c.detail.contains(&lost.id))
        .unwrap();
    assert_eq!(gone.health, Health::Fail);
    assert!(
        gone.detail.contains("gone at Graph") && gone.fix.as_deref().unwrap().contains("keeper"),
        "{gone:?}"
    );
    let stranger = subscriptions
        .iter()
        .find(|c| c.detail.contains(orphan["id"].as_str().unwrap()))
        .unwrap();
    assert_eq!(stranger.health, Health::Warn);
    assert!(stranger
        .fix
        .as_deref()
        .unwrap()
        .contains("subscriptions delete"));
    assert!(subscriptions
        .iter()
        .any(|c| c.detail.contains(&kept.id) && c.health == Health::Ok));
    let receiver = find(&checks, "receiver");
    assert_eq!(receiver[0].health, Health::Fail);
    assert!(receiver[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("hookscope listen"));
}
