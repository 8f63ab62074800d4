//! Retention on a real SQLite file: deliveries older than the chosen age go (with their requests and
//! answers), recent ones stay, and a large backlog is deleted in batches while new deliveries keep
//! being acknowledged.

mod common;

use std::time::{Duration, Instant};

use common::{message_item, Harness};
use hookscope_engine::model::{RequestKind, Verdict};
use hookscope_engine::retention::{self, Retention};
use hookscope_engine::store::{NotificationRow, RelayRow, RequestRow};
use serde_json::json;

const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// Records, through the store like the receiver does, a delivery of `items` notifications that arrived
/// `days_ago` days ago (its ids are UUIDv7s of that time, as they were then); no items = a handshake.
async fn record_old(h: &Harness, days_ago: i64, items: usize, n: usize) -> String {
    record_old_with(h, days_ago, items, n, false).await
}

/// As `record_old`, with the items' ids made now when `items_now`.
async fn record_old_with(
    h: &Harness,
    days_ago: i64,
    items: usize,
    n: usize,
    items_now: bool,
) -> String {
    let at = hookscope_engine::clock::now_micros() - days_ago * DAY_MICROS + n as i64;
    let seconds = (at / 1_000_000) as u64;
    let nanos = ((at % 1_000_000) * 1000) as u32;
    let id = || {
        uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, nanos)).to_string()
    };
    let request_id = id();
    let texts: Vec<String> = (0..items)
        .map(|i| message_item("sub-a", Some("s"), n * 1000 + i).to_string())
        .collect();
    let body = format!("{{\"value\":[{}]}}", texts.join(","));
    let mut offset = "{\"value\":[".len();
    let mut rows = Vec::new();
    for (position, text) in texts.iter().enumerate() {
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&(n as u64).to_le_bytes());
        key[8..].copy_from_slice(&(position as u64).to_le_bytes());
        rows.push(NotificationRow {
            id: if items_now {
                uuid::Uuid::now_v7().to_string()
            } else {
                id()
            },
            request_id: request_id.clone(),
            position: position as u32,
            received_at: at,
            subscription_id: Some("sub-a".into()),
            change_type: Some("created".into()),
            lifecycle_event: None,
            verdict: Verdict::Accepted,
            reason: None,
            dedupe_key: key,
            decrypted: None,
            tokens_valid: None,
            item_offset: offset as u32,
            item_length: text.len() as u32,
        });
        offset += text.len() + 1;
    }
    let request = RequestRow {
        id: request_id.clone(),
        received_at: at,
        method: "POST".into(),
        path: if items == 0 {
            "/notifications?validationToken=x"
        } else {
            "/notifications"
        }
        .into(),
        query: None,
        headers: serde_json::Map::new(),
        body_size: body.len() as u64,
        body: body.into(),
        body_truncated: false,
        kind: if items == 0 {
            RequestKind::Handshake
        } else {
            RequestKind::Notifications
        },
        status: 202,
        response: String::new(),
        latency_us: Some(900),
        replay_of: None,
    };
    h.engine
        .store()
        .record(request, rows, Instant::now())
        .await
        .unwrap();
    request_id
}

async fn post_recent(h: &Harness, n: usize, items: usize) {
    let value: Vec<_> = (0..items)
        .map(|i| message_item("sub-a", Some("s"), 900_000 + n * 100 + i))
        .collect();
    let answer = h
        .post_json("/notifications", &json!({ "value": value }))
        .await;
    assert_eq!(answer.status(), 202);
}

async fn request_ids(h: &Harness) -> Vec<String> {
    h.engine
        .requests(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[tokio::test]
async fn deliveries_older_than_the_retention_go_and_recent_ones_stay() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let old_40 = record_old(&h, 40, 3, 1).await;
    let old_31 = record_old(&h, 31, 2, 2).await;
    let old_handshake = record_old(&h, 45, 0, 3).await;
    let kept_29 = record_old(&h, 29, 2, 4).await;
    post_recent(&h, 1, 4).await;
    assert_eq!(h.all_notifications().await.len(), 3 + 2 + 2 + 4);

    let retention = Retention::start(h.engine.clone(), Some(30));
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.all_notifications().await.len() != 6 {
        assert!(Instant::now() < deadline, "the retention did not apply");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let requests = request_ids(&h).await;
    for gone in [&old_40, &old_31, &old_handshake] {
        assert!(!requests.contains(gone), "{gone} is older than 30 days");
        assert!(h.engine.inspect(gone).await.unwrap().is_none());
    }
    assert!(requests.contains(&kept_29), "29 days old is kept");
    assert_eq!(requests.len(), 2);
    // What stays is whole: the inspector still finds its request.
    for note in h.all_notifications().await {
        let inspection = h.engine.inspect(&note.id).await.unwrap().unwrap();
        assert!(inspection.request.is_some(), "{} lost its request", note.id);
    }

    // Shortening the retention applies at once; none keeps everything from then on.
    retention.set(Some(1));
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.all_notifications().await.len() != 4 {
        assert!(
            Instant::now() < deadline,
            "the shorter retention did not apply"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    retention.set(None);
    record_old(&h, 400, 1, 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        h.all_notifications().await.len(),
        5,
        "no retention, nothing deleted"
    );
    drop(retention);
    h.stop().await;
}

/// Rows of `table` in the database file, read by a connection of its own.
async fn count(h: &Harness, table: &str) -> i64 {
    let mut conn = h.another_connection().await;
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn answers_and_latencies_go_with_their_request_and_a_request_stays_while_an_item_does() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    let old = record_old(&h, 60, 2, 1).await;
    h.engine
        .store()
        .put_relay(RelayRow {
            id: uuid::Uuid::now_v7().to_string(),
            request_id: old.clone(),
            target: "http://localhost:3000/api".into(),
            at: hookscope_engine::clock::now_micros() - 60 * DAY_MICROS,
            handshake: false,
            filtered: false,
            status: Some(200),
            headers: "{}".into(),
            body: b"ok".to_vec(),
            body_truncated: false,
            latency_us: 1_000,
            error: None,
        })
        .await
        .unwrap();
    // A request from before the cutoff whose item's id is after it (ids straddling the bound).
    let straddling = record_old_with(&h, 60, 1, 2, true).await;
    // Latencies of acknowledged requests are written shortly after their commit.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(count(&h, "relays").await, 1);
    assert!(count(&h, "request_latencies").await >= 1);

    let pruned = retention::prune_older_than(h.engine.store(), 30)
        .await
        .unwrap();
    assert_eq!((pruned.notifications, pruned.requests), (2, 1));
    assert_eq!(
        count(&h, "relays").await,
        0,
        "the app's answer went with its request"
    );
    assert_eq!(
        count(&h, "request_latencies").await,
        1,
        "only the kept request's latency is left"
    );
    let requests = request_ids(&h).await;
    assert_eq!(
        requests,
        vec![straddling.clone()],
        "kept while an item of it is"
    );
    let left = h.all_notifications().await;
    assert_eq!(left.len(), 1);
    let inspection = h.engine.inspect(&left[0].id).await.unwrap().unwrap();
    assert_eq!(inspection.request.unwrap().id, straddling);
    h.stop().await;
}

#[tokio::test]
async fn a_large_backlog_goes_in_batches_while_new_deliveries_are_acknowledged() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    // 6,000 old notifications in 60 requests: three batches' worth.
    for n in 0..60 {
        record_old(&h, 90, 100, n).await;
    }
    // One batch is bounded: a thousand items, and the ten requests they emptied.
    let cutoff = hookscope_engine::clock::now_micros() - 30 * DAY_MICROS;
    let first = h.engine.store().prune_batch(cutoff, 1_000).await.unwrap();
    assert_eq!((first.notifications, first.requests), (1_000, 10));
    let pruning = {
        let store = h.engine.clone();
        tokio::spawn(async move { retention::prune_older_than(store.store(), 30).await })
    };
    let mut acked_while_pruning = 0;
    for n in 0..20 {
        post_recent(&h, n, 10).await;
        if !pruning.is_finished() {
            acked_while_pruning += 1;
        }
    }
    assert!(
        acked_while_pruning > 0,
        "a delivery was acknowledged between the prune's batches"
    );
    let pruned = pruning.await.unwrap().unwrap();
    assert_eq!((pruned.notifications, pruned.requests), (5_000, 50));
    let left = h.all_notifications().await;
    assert_eq!(left.len(), 200, "every acknowledged recent delivery stays");
    assert_eq!(request_ids(&h).await.len(), 20);
    h.stop().await;
}
