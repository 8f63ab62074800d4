//! "Fetch the current resource": the resource a stored notification names, read from Graph (the
//! simulator) with `$select`, and Graph's refusals explained.

use hookscope_engine::graph::resource::current_resource;

use hookscope_engine::model::{Notification, Subscription};

use crate::fixture::World;

/// A mailbox subscription (with or without lifecycle events) and the one `created` it was sent.
async fn one_created(lifecycle: bool) -> (World, Subscription, Vec<Notification>) {
    let world = World::start().await;
    let subscription = world
        .subscribe(
            "users/alex@contoso.com/messages",
            "created,deleted",
            "1h",
            lifecycle,
        )
        .await;
    world.change(&subscription.id).await;
    let notes = world
        .notifications_until(&subscription.id, "one created", |n| n.len() == 1)
        .await;
    (world, subscription, notes)
}

#[tokio::test]
async fn fetches_what_a_notification_named_with_select() {
    let (world, _, notes) = one_created(false).await;
    let created = &notes[0];
    let resource = created.resource.clone().unwrap();

    let fetched = current_resource(&world.engine, &world.graph, &created.id, "subject, isRead")
        .await
        .expect("the message is there");
    assert!(
        fetched
            .url
            .ends_with(&format!("/v1.0/{resource}?$select=subject,isRead")),
        "{}",
        fetched.url
    );
    let body: serde_json::Value = serde_json::from_str(&fetched.body).unwrap();
    assert!(
        body["subject"]
            .as_str()
            .unwrap()
            .starts_with("Simulated message"),
        "{body}"
    );
    assert_eq!(body["isRead"], false);
    assert_eq!(body["id"].as_str(), resource.rsplit('/').next());
    assert!(
        body.get("receivedDateTime").is_none(),
        "$select leaves it out: {body}"
    );

    let whole = current_resource(&world.engine, &world.graph, &created.id, "")
        .await
        .unwrap();
    assert!(whole.body.contains("receivedDateTime"), "{}", whole.body);

    // A bad $select is refused before any call.
    let bad = current_resource(
        &world.engine,
        &world.graph,
        &created.id,
        "subject&$expand=x",
    )
    .await
    .unwrap_err();
    assert!(bad.contains("is not a property name"), "{bad}");
    let missing = current_resource(&world.engine, &world.graph, "nope", "")
        .await
        .unwrap_err();
    assert_eq!(missing, "No stored notification has the id nope.");
}

#[tokio::test]
async fn a_resource_deleted_at_graph_is_explained_not_shown() {
    let (world, subscription, notes) = one_created(true).await;
    // The simulator deletes the resource a `deleted` change names; fetch it through that notification.
    world
        .trigger(hookscope_engine::simulator::TriggerSpec {
            subscription_id: Some(subscription.id.clone()),
            change_type: Some("deleted".into()),
            ..Default::default()
        })
        .await;
    let notes_after = world
        .notifications_until(&subscription.id, "the deletion", |n| n.len() == 2)
        .await;
    let deleted = notes_after
        .iter()
        .find(|n| n.change_type.as_deref() == Some("deleted"))
        .unwrap();
    let gone = current_resource(&world.engine, &world.graph, &deleted.id, "subject")
        .await
        .unwrap_err();
    assert!(
        gone.starts_with("Fetching the resource failed (ResourceNotFound)")
            && gone.ends_with(
                "; it was deleted or moved after the notification, or this app cannot see it."
            ),
        "{gone}"
    );
    // The first message still stands.
    assert!(
        current_resource(&world.engine, &world.graph, &notes[0].id, "subject")
            .await
            .is_ok()
    );

    world
        .trigger(hookscope_engine::simulator::TriggerSpec {
            subscription_id: Some(subscription.id.clone()),
            lifecycle: Some(hookscope_engine::simulator::LifecycleEvent::Missed),
            ..Default::default()
        })
        .await;
    let all = world
        .notifications_until(&subscription.id, "the lifecycle event", |n| n.len() == 3)
        .await;
    let lifecycle = all.iter().find(|n| n.lifecycle_event.is_some()).unwrap();
    let nothing = current_resource(&world.engine, &world.graph, &lifecycle.id, "")
        .await
        .unwrap_err();
    assert_eq!(
        nothing,
        "A missed lifecycle event names no resource to fetch; open a change notification instead."
    );
}

#[tokio::test]
async fn a_rejected_notification_is_never_fetched_and_graph_never_asked() {
    let (world, subscription, notes) = one_created(false).await;
    let accepted = &notes[0];
    // A forger who knows the receiver's URL and the subscription's id, but not its clientState, names a
    // resource that exists at Graph: only the verdict stands between it and a signed-in read.
    let resource = accepted.resource.clone().unwrap();
    let forged = serde_json::json!({ "value": [{
        "subscriptionId": subscription.id,
        "subscriptionExpirationDateTime": subscription.expiration_date_time,
        "changeType": "created",
        "clientState": "a guess",
        "resource": resource,
        "tenantId": subscription.tenant_id,
    }]});
    let answer = reqwest::Client::new()
        .post(&world.listening().urls().notification_url)
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let notes = world
        .notifications_until(&subscription.id, "the forgery stored", |n| n.len() == 2)
        .await;
    let rejected = &notes[0];
    assert_eq!(rejected.verdict, hookscope_engine::model::Verdict::Rejected);
    let reads_before = world.sim.running.resource_reads();

    let refused = current_resource(&world.engine, &world.graph, &rejected.id, "subject")
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        format!(
            "Notification {} was rejected (The clientState does not match the subscription's: the item may be forged); Hookscope fetches resources only for accepted notifications.",
            rejected.id
        )
    );
    // The command line's path names the target the same way, before any Graph client exists.
    let target = hookscope_engine::graph::resource::target(&world.engine, &rejected.id, "")
        .await
        .err();
    assert_eq!(target, Some(refused));
    assert_eq!(
        world.sim.running.resource_reads(),
        reads_before,
        "no request reached Graph for the rejected notification"
    );

    // Positive control: the accepted notification of the same resource is read, and Graph sees it.
    let fetched = current_resource(&world.engine, &world.graph, &accepted.id, "subject")
        .await
        .expect("the accepted notification's resource is read");
    assert!(
        fetched
            .url
            .ends_with(&format!("/v1.0/{resource}?$select=subject")),
        "{}",
        fetched.url
    );
    assert_eq!(world.sim.running.resource_reads(), reads_before + 1);
}
