//! The public edge over real sockets: what one hostile client can make the receiver do. A flood of
//! items is refused whole before any row is built, junk bodies are kept only in part, stalled
//! connections are closed, the number of connections is capped, and none of it holds up a genuine
//! delivery sent at the same time.

mod common;

use std::time::{Duration, Instant};

use common::{message_item, Harness};
use hookscope_engine::model::{RequestKind, RequestRecord, Verdict};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const KEPT: usize = 64 * 1024;

/// `{"value":[{},{},…]}` of about `size` bytes: the cheapest body with the most items.
fn item_flood(size: usize) -> Vec<u8> {
    let items = (size - 12) / 3;
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(b"{\"value\":[");
    for i in 0..items {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b"{}");
    }
    body.extend_from_slice(b"]}");
    body
}

async fn post_bytes(h: &Harness, path: &str, body: Vec<u8>) -> (u16, String) {
    let response = h
        .http
        .post(h.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

fn request_with_status(requests: &[RequestRecord], status: u16) -> Vec<&RequestRecord> {
    requests.iter().filter(|r| r.status == status).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_flood_is_refused_whole_while_a_genuine_delivery_goes_through() {
    let h = Harness::start().await;
    h.subscription("sub-1", Some("secret")).await;
    // Just under the 8 MiB body limit: 2.8 million empty items.
    let flood = item_flood(8 * 1024 * 1024 - 64);
    let flood_size = flood.len() as u64;

    let started = Instant::now();
    let floods = (0..2).map(|_| {
        let (http, url) = (h.http.clone(), h.url("/notifications"));
        let flood = flood.clone();
        async move {
            let response = http
                .post(url)
                .header("content-type", "application/json")
                .body(flood)
                .send()
                .await
                .expect("request sent");
            let status = response.status().as_u16();
            ((status, response.text().await.unwrap()), started.elapsed())
        }
    });
    let genuine = async {
        let response = h
            .post_json(
                "/notifications",
                &json!({ "value": [message_item("sub-1", Some("secret"), 1)] }),
            )
            .await;
        response.status().as_u16()
    };
    let (floods, genuine) = tokio::join!(futures_join_all(floods), genuine);

    assert_eq!(genuine, 202, "the genuine delivery is acknowledged");
    for ((status, text), took) in floods {
        assert_eq!(status, 413);
        assert_eq!(
            text,
            "The batch holds more than 1000 notifications, the receiver's limit; it was refused whole (raise --max-items if you really send batches this large)."
        );
        // Graph gives a receiver 3 s before it counts a delivery as failed; the old receiver took 22 s.
        assert!(took < Duration::from_secs(3), "answered after {took:?}");
    }
    let requests = h.requests_eventually(3).await;
    assert_eq!(requests.len(), 3);
    let refused = request_with_status(&requests, 413);
    assert_eq!(refused.len(), 2);
    for request in refused {
        assert_eq!(request.kind, RequestKind::Invalid);
        assert_eq!(request.body_size, flood_size);
        assert!(request.body_truncated);
        assert_eq!(request.body.as_deref().map(str::len), Some(KEPT));
    }
    // No row per item: the only notification stored is the genuine one.
    let notifications = h.all_notifications().await;
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0].verdict, Verdict::Accepted);
    // The whole test process (client, both 8 MiB bodies, receiver and store) never held much: the old
    // receiver reached 2.4 GB on one such body.
    #[cfg(target_os = "linux")]
    {
        let peak = peak_resident_mib();
        assert!(peak < 512, "peak resident memory {peak} MiB");
    }
    h.stop().await;
}

/// The process's peak resident set (`VmHWM`), in MiB.
#[cfg(target_os = "linux")]
fn peak_resident_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

/// `futures::future::join_all` without the dependency: the requests run concurrently on the runtime.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_item_cap_is_exact_and_configurable() {
    let h = Harness::start_with(|_| {}, |r| r.max_items = 3).await;
    h.subscription("sub-1", Some("secret")).await;
    let batch = |n: usize| json!({ "value": (0..n).map(|i| message_item("sub-1", Some("secret"), i)).collect::<Vec<_>>() });
    assert_eq!(h.post_json("/notifications", &batch(3)).await.status(), 202);
    let over = h.post_json("/notifications", &batch(4)).await;
    assert_eq!(over.status(), 413);
    assert_eq!(
        over.text().await.unwrap(),
        "The batch holds more than 3 notifications, the receiver's limit; it was refused whole (raise --max-items if you really send batches this large)."
    );
    assert_eq!(h.all_notifications().await.len(), 3);
    h.stop().await;
}

#[tokio::test]
async fn a_batch_with_more_tokens_than_graph_sends_is_refused() {
    let h = Harness::start().await;
    let tokens: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
    let over = h
        .post_json(
            "/notifications",
            &json!({ "value": [message_item("sub-1", None, 1)], "validationTokens": tokens }),
        )
        .await;
    assert_eq!(over.status(), 413);
    assert_eq!(
        over.text().await.unwrap(),
        "The batch carries more than 100 validationTokens; Graph sends one per tenant and app, so it was refused whole."
    );
    assert!(h.all_notifications().await.is_empty());
    // Positive control: a hundred tokens is a batch the receiver reads (and judges, here as forged).
    let at_cap = h
        .post_json(
            "/notifications",
            &json!({ "value": [message_item("sub-1", None, 1)], "validationTokens": tokens[..100] }),
        )
        .await;
    assert_eq!(at_cap.status(), 202);
    assert_eq!(h.all_notifications().await.len(), 1);
    h.stop().await;
}

#[tokio::test]
async fn refused_bodies_are_kept_in_part_and_accepted_ones_whole() {
    let h = Harness::start().await;
    h.subscription("sub-1", Some("secret")).await;
    // 4 MiB that is not JSON: answered 400, kept as its first 64 KiB with its size.
    let junk = vec![b'x'; 4 * 1024 * 1024];
    let (status, _) = post_bytes(&h, "/notifications", junk).await;
    assert_eq!(status, 400);
    // A large accepted delivery: every byte kept.
    let mut item = message_item("sub-1", Some("secret"), 7);
    item["resourceData"]["padding"] = json!("p".repeat(200 * 1024));
    let accepted = serde_json::to_vec(&json!({ "value": [item] })).unwrap();
    let (status, _) = post_bytes(&h, "/notifications", accepted.clone()).await;
    assert_eq!(status, 202);

    let requests = h.requests_eventually(2).await;
    let junk = request_with_status(&requests, 400)[0];
    assert_eq!(junk.body_size, 4 * 1024 * 1024);
    assert!(junk.body_truncated);
    assert_eq!(junk.body.as_deref(), Some("x".repeat(KEPT).as_str()));
    let kept = request_with_status(&requests, 202)[0];
    assert!(!kept.body_truncated);
    assert_eq!(kept.body.as_deref().map(str::as_bytes), Some(&accepted[..]));
    h.stop().await;
}

/// Reads until the server closes the connection or `deadline` passes; returns what was read and
/// whether it was closed.
async fn read_until_closed(stream: &mut TcpStream, deadline: Duration) -> (String, bool) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    let closed = tokio::time::timeout(deadline, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&seen).into_owned(), closed)
}

fn address(h: &Harness) -> String {
    h.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn stalled_connections_are_closed_and_a_stalled_body_is_recorded() {
    let short = Duration::from_millis(400);
    let h = Harness::start_with(
        |_| {},
        |r| {
            r.header_timeout = short;
            r.body_timeout = short;
        },
    )
    .await;
    let address = address(&h);

    // Half a request head, then nothing.
    let mut half_head = TcpStream::connect(&address).await.unwrap();
    half_head
        .write_all(b"POST /notifications HTTP/1.1\r\nHost: x\r\nContent-Ty")
        .await
        .unwrap();
    // A whole head and half of its body.
    let mut half_body = TcpStream::connect(&address).await.unwrap();
    half_body
        .write_all(b"POST /notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"value\":")
        .await
        .unwrap();
    // A finished request on a kept-alive connection, then silence.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /notifications?validationToken=hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    let (text, closed) = read_until_closed(&mut half_head, Duration::from_secs(10)).await;
    assert!(
        closed,
        "a connection that never finished its head was left open"
    );
    // hyper closes a connection whose head timed out without a word.
    assert_eq!(text, "");

    let (text, closed) = read_until_closed(&mut half_body, Duration::from_secs(10)).await;
    assert!(
        closed,
        "a connection that never finished its body was left open"
    );
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.ends_with(
            "The body did not arrive within 0.4 s of the request head; send it in one go."
        ),
        "{text}"
    );

    let (text, closed) = read_until_closed(&mut idle, Duration::from_secs(10)).await;
    assert!(closed, "an idle kept-alive connection was left open");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("hello"), "{text}");

    // The stalled body is recorded with the part that came.
    let requests = h.requests_eventually(2).await;
    let stalled = request_with_status(&requests, 408);
    assert_eq!(stalled.len(), 1);
    assert_eq!(stalled[0].body.as_deref(), Some("{\"value\":"));
    assert_eq!(stalled[0].body_size, 9);
    assert!(stalled[0].body_truncated);
    // Positive control: the receiver still takes a request after all that.
    let response = h
        .http
        .get(h.url("/notifications?validationToken=after"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "after");
    h.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_answered_503_and_a_freed_slot_is_reused() {
    let h = Harness::start_with(|_| {}, |r| r.max_connections = 3).await;
    let address = address(&h);
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        // Each is proven accepted (and holding its slot) by an answered request on it.
        stream
            .write_all(b"GET /n?validationToken=held HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buffer = [0u8; 1024];
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(String::from_utf8_lossy(&buffer[..n]).ends_with("held"));
        open.push(stream);
    }
    let mut fourth = TcpStream::connect(&address).await.unwrap();
    let (text, closed) = read_until_closed(&mut fourth, Duration::from_secs(10)).await;
    assert!(closed);
    assert!(
        text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{text}"
    );
    assert!(text.contains("retry-after: 1\r\n"), "{text}");
    assert!(
        text.ends_with(hookscope_engine::receiver::BUSY_MESSAGE),
        "{text}"
    );

    // Positive control: once one of the three goes, a new connection is served again.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answered = h
            .http
            .get(h.url("/notifications?validationToken=again"))
            .send()
            .await
            .unwrap();
        if answered.status() == 200 {
            assert_eq!(answered.text().await.unwrap(), "again");
            break;
        }
        assert_eq!(answered.status(), 503);
        assert!(Instant::now() < deadline, "the freed slot was never reused");
        tokio::task::yield_now().await;
    }
    h.stop().await;
}

#[tokio::test]
async fn deliveries_to_a_prefixed_path_are_routed_by_their_ending() {
    let h = Harness::start().await;
    h.subscription("sub-1", Some("secret")).await;
    let delivered = h
        .post_json(
            "/hooks/graph/notifications",
            &json!({ "value": [message_item("sub-1", Some("secret"), 1)] }),
        )
        .await;
    assert_eq!(delivered.status(), 202);
    let lifecycle = h
        .post_json(
            "/hooks/graph/lifecycle/",
            &json!({ "value": [common::lifecycle_item("sub-1", "secret", "missed")] }),
        )
        .await;
    assert_eq!(lifecycle.status(), 202);
    // Positive control: a path that only contains the word is still not a route.
    let elsewhere = h
        .post_json(
            "/notifications/elsewhere",
            &json!({ "value": [message_item("sub-1", Some("secret"), 2)] }),
        )
        .await;
    assert_eq!(elsewhere.status(), 404);
    let requests = h.requests_eventually(3).await;
    let mut kinds: Vec<(String, RequestKind)> =
        requests.iter().map(|r| (r.path.clone(), r.kind)).collect();
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        kinds,
        vec![
            ("/hooks/graph/lifecycle/".to_owned(), RequestKind::Lifecycle),
            (
                "/hooks/graph/notifications".to_owned(),
                RequestKind::Notifications
            ),
            ("/notifications/elsewhere".to_owned(), RequestKind::Invalid),
        ]
    );
    assert_eq!(
        h.all_notifications()
            .await
            .iter()
            .filter(|n| n.verdict == Verdict::Accepted)
            .count(),
        2
    );
    h.stop().await;
}
