//! The store on a real SQLite file: 503 while it cannot persist (and recovery after), keyset pages over
//! a large table, the durability setting, checkpoints off the writer, and the live bus fed by commits.

mod common;

use std::time::{Duration, Instant};

use common::{message_item, Harness};
use hookscope_engine::store::{NotificationQuery, RequestQuery};
use hookscope_engine::{Durability, Event};
use serde_json::json;
use sqlx::Executor;

#[tokio::test]
async fn a_store_that_cannot_write_answers_503_and_recovers() {
    let h = Harness::start_with(|c| c.busy_timeout = Duration::from_millis(300), |_| {}).await;
    h.subscription("sub-a", Some("s")).await;

    // Another process holds the write lock (a long exclusive transaction).
    let mut other = h.another_connection().await;
    other.execute("BEGIN EXCLUSIVE").await.unwrap();

    let batch = json!({ "value": [message_item("sub-a", Some("s"), 1)] });
    let refused = h.post_json("/notifications", &batch).await;
    assert_eq!(
        refused.status(),
        503,
        "not stored, so not acknowledged: Graph must retry"
    );
    assert!(refused.text().await.unwrap().contains("Graph will retry"));

    other.execute("ROLLBACK").await.unwrap();
    let accepted = h.post_json("/notifications", &batch).await;
    assert_eq!(accepted.status(), 202);

    let stored = h.all_notifications().await;
    assert_eq!(stored.len(), 1, "only the acknowledged delivery is stored");
    assert!(
        !stored[0].duplicate,
        "a refused delivery does not make its retry a duplicate"
    );
    let requests = h.requests_eventually(2).await;
    assert!(
        requests.iter().any(|r| r.status == 503),
        "the refused request is still shown once the store recovers"
    );
    assert!(requests.iter().any(|r| r.status == 202));
    h.stop().await;
}

#[tokio::test]
async fn keyset_pages_walk_a_large_table_newest_first_without_gaps() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let total = 20_000;
    for chunk in 0..(total / 500) {
        let items: Vec<_> = (0..500)
            .map(|i| message_item("sub-a", Some("s"), chunk * 500 + i))
            .collect();
        assert_eq!(
            h.post_json("/notifications", &json!({ "value": items }))
                .await
                .status(),
            202
        );
    }
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    let mut last_id = String::from("\u{10ffff}");
    let mut slowest = Duration::ZERO;
    loop {
        let started = Instant::now();
        let page = h
            .engine
            .notifications(&NotificationQuery {
                limit: 1000,
                before: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        slowest = slowest.max(started.elapsed());
        for note in &page.items {
            assert!(note.id < last_id, "strictly newest first across pages");
            last_id = note.id.clone();
        }
        seen += page.items.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, total);
    eprintln!("slowest 1000-row page of {total}: {slowest:?}");
    let requests = h
        .engine
        .requests(&RequestQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(requests.items.len(), 10);
    assert!(requests.next.is_some());
    h.stop().await;
}

#[tokio::test]
async fn after_pages_walk_back_up_to_the_newest_without_gaps() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let items: Vec<_> = (0..1_050)
        .map(|i| message_item("sub-a", Some(if i % 2 == 0 { "s" } else { "forged" }), i))
        .collect();
    for chunk in items.chunks(350) {
        h.post_json("/notifications", &json!({ "value": chunk }))
            .await;
    }
    let all = h.all_notifications().await;
    let oldest = all.last().unwrap().id.clone();
    // From the oldest row, up: each page is the next 100 newer ones, newest first.
    let mut cursor = oldest.clone();
    let mut walked = vec![oldest];
    loop {
        let page = h
            .engine
            .notifications(&NotificationQuery {
                limit: 100,
                after: Some(cursor.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(
            page.items.windows(2).all(|w| w[0].id > w[1].id),
            "newest first"
        );
        let mut ids: Vec<String> = page.items.iter().map(|n| n.id.clone()).collect();
        ids.reverse();
        walked.extend(ids);
        match page.next {
            Some(next) => {
                assert_eq!(&next, &page.items[0].id, "the cursor is the page's newest");
                cursor = next;
            }
            None => break,
        }
    }
    walked.reverse();
    let expected: Vec<String> = all.iter().map(|n| n.id.clone()).collect();
    assert_eq!(walked, expected);

    // With a filter, only matching rows, still from where the list stands.
    let rejected = h
        .engine
        .notifications(&NotificationQuery {
            limit: 0,
            after: Some(all[600].id.clone()),
            filter: hookscope_engine::store::NotificationFilter {
                verdict: Some(hookscope_engine::store::VerdictFilter::Rejected),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rejected.items.len(), 300, "{}", rejected.items.len());
    assert!(rejected
        .items
        .iter()
        .all(|n| n.id > all[600].id && n.verdict == hookscope_engine::model::Verdict::Rejected));
    h.stop().await;
}

#[tokio::test]
async fn a_filter_time_that_is_not_one_is_refused_not_ignored() {
    // Ignored, it would list everything, as if the filter held.
    let h = Harness::start().await;
    let refused = h
        .engine
        .notifications(&NotificationQuery {
            limit: 10,
            filter: hookscope_engine::store::NotificationFilter {
                since: Some("yesterday".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        refused,
        "The filter's since \"yesterday\" is not a time; give it as RFC 3339, like 2026-12-01T09:00:00Z."
    );
    h.stop().await;
}

#[tokio::test]
async fn a_group_that_fails_midway_leaves_nothing_behind_and_the_next_commits() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    // Another program makes the notification INSERT fail after the request row went in.
    let mut other = h.another_connection().await;
    other
        .execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON notifications \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await
        .unwrap();
    let batch = json!({ "value": [message_item("sub-a", Some("s"), 1)] });
    assert_eq!(h.post_json("/notifications", &batch).await.status(), 503);
    let accepted: i64 = sqlx::query_scalar("SELECT count(*) FROM requests WHERE status = 202")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(
        accepted, 0,
        "the failed group's request row was rolled back"
    );

    other.execute("DROP TRIGGER refuse").await.unwrap();
    // No transaction was left open: the next group commits.
    assert_eq!(h.post_json("/notifications", &batch).await.status(), 202);
    assert_eq!(h.all_notifications().await.len(), 1);
    h.stop().await;
}

#[tokio::test]
async fn closing_twice_at_once_returns_and_later_writes_are_refused() {
    let h = Harness::start().await;
    let store = h.engine.store().clone();
    tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(store.close(), store.close())
    })
    .await
    .expect("both closes return");
    let refused = store
        .put_setting("after", Some("close".into()))
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "the store is closed");
}

#[tokio::test]
async fn deliveries_reach_the_database_file_itself_while_the_receiver_runs() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let file = h.engine.config().database_path();
    let size = || std::fs::metadata(&file).unwrap().len();
    // What opening the store wrote is copied by the pass a second in.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = size();
    let batch = json!({
        "value": (0..100).map(|n| message_item("sub-a", Some("s"), n)).collect::<Vec<_>>()
    });
    for _ in 0..5 {
        assert_eq!(h.post_json("/notifications", &batch).await.status(), 202);
    }
    // Each body is stored once (items point into it), so the file grows by at least the bodies.
    let bodies = 5 * batch.to_string().len() as u64;
    // The writer copies the WAL back only once it holds thousands of pages; a copy of the database
    // file alone (a backup, another tool) should not lag that far behind.
    let deadline = Instant::now() + Duration::from_secs(5);
    while size() < before + bodies {
        assert!(
            Instant::now() < deadline,
            "the database file grew from {before} to {} bytes, less than the {bodies} bytes delivered: \
             the deliveries are only in the WAL",
            size()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    h.stop().await;
}

/// The readers' connections; the writer's, which commits deliveries, has a unit test of its own
/// (`store::statements`).
#[tokio::test]
async fn durability_is_full_by_default_and_normal_on_request() {
    for (durability, expected) in [(Durability::Full, 2i64), (Durability::Normal, 1)] {
        let h = Harness::start_with(|c| c.durability = durability, |_| {}).await;
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(h.engine.store().pool())
            .await
            .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(h.engine.store().pool())
            .await
            .unwrap();
        assert_eq!(level, expected, "{durability:?}");
        assert_eq!(mode, "wal");
        h.stop().await;
    }
}

#[tokio::test]
async fn the_bus_reports_each_commit_with_duplicates_flagged() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let mut events = h.engine.events();
    let batch = json!({ "value": [message_item("sub-a", Some("s"), 1), message_item("sub-a", Some("s"), 1)] });
    h.post_json("/notifications", &batch).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let stored = loop {
        match tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("an event arrives")
        {
            Ok(Event::NotificationsStored { notifications }) => break notifications,
            Ok(_) => continue,
            Err(error) => panic!("bus error {error}"),
        }
    };
    assert_eq!(stored.len(), 2);
    assert!(!stored[0].duplicate && stored[1].duplicate);
    h.stop().await;
}
