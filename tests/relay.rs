//! `listen --forward-to` and `hookscope replay` as a user runs them: the user's app (a real local
//! server here) gets each accepted delivery after Hookscope acknowledged it, `listen` prints what the
//! app answered, and a stored delivery is sent again to the receiver or to the app.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use bytes::Bytes;
use common::{hookscope, item, json_lines, Listener};
use hookscope_engine::model::Subscription;
use hookscope_engine::{Engine, EngineConfig};
use serde_json::{json, Value};

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn users_app() -> (Seen, String) {
    let seen: Seen = Arc::default();
    let state = seen.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let state = state.clone();
        async move {
            state.lock().unwrap().push((headers, body));
            "got it"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/graph", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (seen, url)
}

/// The next event of `kind`, skipping others (handshakes, requests).
fn next_of(listener: &mut Listener, kind: &str) -> Value {
    for _ in 0..20 {
        let event = listener.next_event();
        if event["type"] == kind {
            return event;
        }
    }
    panic!("no {kind} event among the next 20");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_forwards_to_the_users_app_and_replay_sends_deliveries_again() {
    let dir = tempfile::tempdir().unwrap();
    let (seen, app) = users_app().await;
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    engine
        .put_subscription(Subscription {
            id: "sub-r".into(),
            resource: "me/messages".into(),
            change_type: "created".into(),
            notification_url: "https://hooks.example.test/notifications".into(),
            expiration_date_time: "2030-01-01T00:00:00Z".into(),
            client_state: Some("s3cret".into()),
            auto_renew: false,
            ..Default::default()
        })
        .await
        .unwrap();
    engine.close().await;
    let mut listener = Listener::spawn(dir.path(), &["--forward-to", &app]);

    let body = json!({ "value": [item("sub-r", "n1")] }).to_string();
    let answer = reqwest::Client::new()
        .post(format!("{}/notifications", listener.local_url))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let note = next_of(&mut listener, "notification");
    assert_eq!(note["verdict"], "accepted");
    let relayed = next_of(&mut listener, "relayed");
    assert_eq!(relayed["status"], 200);
    assert_eq!(relayed["body"], "got it");
    assert_eq!(relayed["target"], app.as_str());
    assert_eq!(relayed["requestId"], note["requestId"]);
    assert_eq!(&seen.lock().unwrap()[0].1[..], body.as_bytes());

    // Sent again to the receiver: stored as a replay of the first, and handed on again.
    let (code, out, err) = hookscope(
        dir.path(),
        &["replay", note["id"].as_str().unwrap(), "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let replayed = &json_lines(&out)[0];
    assert_eq!(replayed["type"], "replayed");
    assert_eq!(replayed["status"], 202);
    let copy = next_of(&mut listener, "notification");
    assert_eq!(copy["replayOf"], note["requestId"]);
    assert_eq!(copy["requestId"], replayed["requestId"]);
    assert_eq!(copy["duplicate"], true);
    next_of(&mut listener, "relayed");

    // Straight to the app, with a header changed.
    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "replay",
            note["requestId"].as_str().unwrap(),
            "--to",
            &app,
            "--header",
            "client-request-id: replayed-by-hand",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Replayed "), "{out}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].0["client-request-id"], "replayed-by-hand");
    assert_eq!(&seen[2].1[..], body.as_bytes());
    drop(seen);

    // Mistakes are one line each.
    let (code, _, err) = hookscope(dir.path(), &["replay", "nope"]);
    assert_eq!(code, 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, _, err) = hookscope(dir.path(), &["listen", "--forward-to", "localhost:3000"]);
    assert_eq!(code, 1);
    assert!(err.contains("http://localhost:3000"), "{err}");
    listener.stop();
}
