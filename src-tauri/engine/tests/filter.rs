//! Narrowing the stored notifications the way the feed's filter bar does: by subscription, change
//! type, verdict (accepted, rejected, duplicate, lifecycle, replayed), time range and free text found
//! in the item as delivered or in the refusal's reason, on a real store filled over real HTTP.

mod common;

use common::{lifecycle_item, message_item, Harness};
use hookscope_engine::model::Notification;
use hookscope_engine::relay::{self, ReplayEdits, ReplayTarget};
use hookscope_engine::store::{NotificationFilter, NotificationQuery, VerdictFilter};
use serde_json::json;

async fn found(h: &Harness, filter: NotificationFilter) -> Vec<Notification> {
    h.engine
        .notifications(&NotificationQuery {
            limit: 0,
            filter,
            ..NotificationQuery::default()
        })
        .await
        .unwrap()
        .items
}

fn resources(list: &[Notification]) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .map(|n| {
            n.resource
                .clone()
                .or(n.lifecycle_event.clone())
                .unwrap_or_default()
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_feed_filters_narrow_the_stored_list() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    h.subscription("sub-b", Some("s")).await;
    let mut updated = message_item("sub-b", Some("s"), 2);
    updated["changeType"] = json!("updated");
    let first = h
        .post_json(
            "/notifications",
            &json!({ "value": [message_item("sub-a", Some("s"), 1), updated] }),
        )
        .await;
    assert_eq!(first.status(), 202);
    let request_id = first
        .headers()
        .get(relay::REQUEST_ID_HEADER)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let between = hookscope_engine::clock::rfc3339_millis(hookscope_engine::clock::now_micros());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    h.post_json(
        "/notifications",
        &json!({ "value": [message_item("sub-a", Some("forged"), 3)] }),
    )
    .await;
    h.post_json(
        "/notifications",
        &json!({ "value": [message_item("sub-a", Some("s"), 1)] }),
    )
    .await;
    h.post_json(
        "/lifecycle",
        &json!({ "value": [lifecycle_item("sub-a", "s", "missed")] }),
    )
    .await;
    relay::replay(
        &h.engine,
        &request_id,
        &ReplayTarget::Receiver,
        &ReplayEdits::default(),
    )
    .await
    .unwrap();
    assert_eq!(h.all_notifications().await.len(), 7);

    let by_sub = found(
        &h,
        NotificationFilter {
            subscription_id: Some("sub-b".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_sub.len(), 2, "the delivery and its replay");
    let updates = found(
        &h,
        NotificationFilter {
            change_type: Some("updated".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(
        updates
            .iter()
            .all(|n| n.change_type.as_deref() == Some("updated"))
            && updates.len() == 2
    );

    let verdict = |v| NotificationFilter {
        verdict: Some(v),
        ..Default::default()
    };
    let rejected = found(&h, verdict(VerdictFilter::Rejected)).await;
    assert_eq!(resources(&rejected), ["Users/7b2f/Messages/AAMk3"]);
    let duplicates = found(&h, verdict(VerdictFilter::Duplicate)).await;
    assert!(duplicates.iter().all(|n| n.duplicate));
    // Item 1 posted again, and both items of the replayed first request.
    assert_eq!(
        resources(&duplicates),
        [
            "Users/7b2f/Messages/AAMk1",
            "Users/7b2f/Messages/AAMk1",
            "Users/7b2f/Messages/AAMk2"
        ]
    );
    let lifecycle = found(&h, verdict(VerdictFilter::Lifecycle)).await;
    assert_eq!(resources(&lifecycle), ["missed"]);
    let replayed = found(&h, verdict(VerdictFilter::Replayed)).await;
    assert_eq!(replayed.len(), 2);
    assert!(replayed
        .iter()
        .all(|n| n.replay_of.as_deref() == Some(request_id.as_str())));
    let accepted = found(&h, verdict(VerdictFilter::Accepted)).await;
    assert_eq!(accepted.len(), 6);

    // Free text: in the item as delivered (any case), or in why it was refused.
    let text = |t: &str| NotificationFilter {
        text: Some(t.into()),
        ..Default::default()
    };
    assert_eq!(
        resources(&found(&h, text("aamk3")).await),
        ["Users/7b2f/Messages/AAMk3"]
    );
    assert_eq!(
        resources(&found(&h, text("DOES NOT MATCH")).await),
        ["Users/7b2f/Messages/AAMk3"]
    );
    assert!(found(&h, text("no such thing anywhere")).await.is_empty());

    // Time range: what came after the first delivery.
    let later = found(
        &h,
        NotificationFilter {
            since: Some(between.clone()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(later.len(), 5);
    let earlier = found(
        &h,
        NotificationFilter {
            until: Some(between),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(earlier.len(), 2);

    // Combined, and paged with the same filter.
    let combined = NotificationFilter {
        subscription_id: Some("sub-a".into()),
        verdict: Some(VerdictFilter::Accepted),
        text: Some("messages".into()),
        ..Default::default()
    };
    let all = found(&h, combined.clone()).await;
    assert_eq!(all.len(), 3, "{:?}", resources(&all));
    let page = h
        .engine
        .notifications(&NotificationQuery {
            limit: 2,
            filter: combined.clone(),
            ..NotificationQuery::default()
        })
        .await
        .unwrap();
    let rest = h
        .engine
        .notifications(&NotificationQuery {
            limit: 2,
            before: page.next.clone(),
            filter: combined,
            ..NotificationQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len() + rest.items.len(), 3);
    assert!(rest.next.is_none());
    h.stop().await;
}
