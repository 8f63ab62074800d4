//! The relay and replay against a real local HTTP app written here: deliveries handed on byte for byte
//! after the 202, the app's answer recorded with warnings, a slow or dead app never holding Graph up,
//! forged items kept back, the handshake passed through, and stored deliveries replayed as they were
//! or edited, marked and linked to their originals.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, Uri};
use bytes::Bytes;
use common::{message_item, Harness};
use hookscope_engine::model::{RelayRecord, Verdict};
use hookscope_engine::relay::{self, RelayOptions, ReplayEdits, ReplayTarget};
use serde_json::{json, Value};

/// What the user's app saw, and how it answers.
#[derive(Clone, Default)]
struct App {
    seen: Arc<Mutex<Vec<(Uri, HeaderMap, Bytes)>>>,
    answered: Arc<Mutex<usize>>,
}

impl App {
    /// An app on a free port that waits `delay`, then answers `status` with a short text.
    async fn start(delay: Duration, status: StatusCode) -> (App, String) {
        let app = App::default();
        let state = app.clone();
        let router =
            axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    state
                        .seen
                        .lock()
                        .unwrap()
                        .push((uri.clone(), headers, body));
                    tokio::time::sleep(delay).await;
                    *state.answered.lock().unwrap() += 1;
                    // An app's own handshake code: echo the token, here upper-cased to be told apart.
                    let token = uri
                        .query()
                        .and_then(|q| q.strip_prefix("validationToken="))
                        .map(|t| t.replace('+', " ").replace("%3a", ":").to_uppercase());
                    (
                        status,
                        [("set-cookie", "session=app-secret")],
                        token.unwrap_or_else(|| "thanks".into()),
                    )
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/graph", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (app, url)
    }

    fn seen(&self) -> Vec<(Uri, HeaderMap, Bytes)> {
        self.seen.lock().unwrap().clone()
    }
}

async fn relayed_to(target: &str, handshake: bool) -> Harness {
    let mut options = RelayOptions::new(target).unwrap();
    options.handshake = handshake;
    let h = Harness::start_with(|_| {}, |receiver| receiver.relay = Some(options)).await;
    h.subscription("sub-a", Some("s")).await;
    h
}

async fn relays_of(h: &Harness, request_id: &str, count: usize) -> Vec<RelayRecord> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let relays = h.engine.store().relays(request_id).await.unwrap();
        if relays.len() >= count {
            return relays;
        }
        assert!(
            Instant::now() < deadline,
            "{count} relay records for {request_id}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn request_id(answer: &reqwest::Response) -> String {
    answer.headers()["x-hookscope-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_accepted_delivery_reaches_the_app_byte_for_byte_after_the_202() {
    let (app, target) = App::start(Duration::ZERO, StatusCode::CREATED).await;
    let h = relayed_to(&target, false).await;
    // Bytes as Graph lays them out (spacing, key order), which a re-serialisation would change.
    let body = format!(
        "{{ \"value\" : [ {} ] }}",
        message_item("sub-a", Some("s"), 1)
    );
    let answer = h
        .http
        .post(h.url("/notifications"))
        .header("content-type", "application/json; charset=utf-8")
        .header("client-request-id", "7c1e-graph")
        .header("authorization", "Bearer not-graphs-to-hand-on")
        .header("cookie", "c=1")
        .header("accept-encoding", "gzip")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let id = request_id(&answer);
    let relays = relays_of(&h, &id, 1).await;
    let seen = app.seen();
    assert_eq!(seen.len(), 1);
    let (uri, headers, bytes) = &seen[0];
    assert_eq!(uri.path(), "/api/graph");
    assert_eq!(&bytes[..], body.as_bytes(), "byte for byte");
    assert_eq!(
        headers["client-request-id"], "7c1e-graph",
        "Graph's headers go on"
    );
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(headers["x-hookscope-request-id"], id.as_str());
    for kept_back in ["authorization", "cookie", "accept-encoding"] {
        assert!(
            headers.get(kept_back).is_none(),
            "{kept_back} was handed on"
        );
    }
    let relay = &relays[0];
    assert_eq!((relay.status, relay.body.as_str()), (Some(201), "thanks"));
    assert!(!relay.filtered && !relay.handshake && relay.error.is_none());
    assert!(relay.warning.is_none(), "{:?}", relay.warning);
    assert_eq!(
        relay.headers["set-cookie"], "[redacted]",
        "the app's secrets are not stored"
    );
    // The inspector shows the app's answer beside Hookscope's.
    let note = &h.all_notifications().await[0];
    let inspection = h.engine.inspect(&note.id).await.unwrap().unwrap();
    assert_eq!(inspection.relays, relays);
    h.stop().await;
}

#[tokio::test]
async fn a_slow_app_never_holds_up_graphs_202_and_is_warned_about() {
    let (app, target) = App::start(Duration::from_secs(5), StatusCode::OK).await;
    let h = relayed_to(&target, false).await;
    let answer = h
        .post_json(
            "/notifications",
            &json!({ "value": [message_item("sub-a", Some("s"), 1)] }),
        )
        .await;
    assert_eq!(answer.status(), 202);
    assert_eq!(
        *app.answered.lock().unwrap(),
        0,
        "Graph got its 202 while the app was still working"
    );
    let relays = relays_of(&h, &request_id(&answer), 1).await;
    assert_eq!(relays[0].status, Some(200));
    assert!(relays[0].latency_ms >= 5_000.0);
    assert!(
        relays[0]
            .warning
            .as_deref()
            .unwrap()
            .contains("Graph gives a receiver 3 s"),
        "{:?}",
        relays[0].warning
    );
    h.stop().await;
}

#[tokio::test]
async fn a_dead_app_is_recorded_and_an_erroring_one_warned_about() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    let h = relayed_to(&dead, false).await;
    let answer = h
        .post_json(
            "/notifications",
            &json!({ "value": [message_item("sub-a", Some("s"), 1)] }),
        )
        .await;
    assert_eq!(
        answer.status(),
        202,
        "the dead app changes nothing for Graph"
    );
    let relays = relays_of(&h, &request_id(&answer), 1).await;
    assert_eq!(relays[0].status, None);
    assert!(relays[0]
        .error
        .as_deref()
        .unwrap()
        .contains("refused the connection"));
    h.stop().await;

    let (_, failing) = App::start(Duration::ZERO, StatusCode::INTERNAL_SERVER_ERROR).await;
    let h = relayed_to(&failing, false).await;
    let answer = h
        .post_json(
            "/notifications",
            &json!({ "value": [message_item("sub-a", Some("s"), 2)] }),
        )
        .await;
    let relays = relays_of(&h, &request_id(&answer), 1).await;
    assert_eq!(relays[0].status, Some(500));
    assert!(
        relays[0].warning.as_deref().unwrap().contains("retries"),
        "{:?}",
        relays[0].warning
    );
    h.stop().await;
}

#[tokio::test]
async fn forged_items_are_kept_back_from_the_app() {
    let (app, target) = App::start(Duration::ZERO, StatusCode::ACCEPTED).await;
    let h = relayed_to(&target, false).await;
    let mixed = json!({ "value": [
        message_item("sub-a", Some("s"), 1),
        message_item("sub-a", Some("forged"), 2),
    ]});
    let answer = h.post_json("/notifications", &mixed).await;
    let relays = relays_of(&h, &request_id(&answer), 1).await;
    assert!(relays[0].filtered);
    let handed: Value = serde_json::from_slice(&app.seen()[0].2).unwrap();
    assert_eq!(handed["value"].as_array().unwrap().len(), 1);
    assert_eq!(handed["value"][0]["clientState"], "s");

    // Nothing accepted, nothing handed on.
    let forged = json!({ "value": [message_item("sub-a", Some("forged"), 3)] });
    let answer = h.post_json("/notifications", &forged).await;
    assert_eq!(answer.status(), 202);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(h
        .engine
        .store()
        .relays(&request_id(&answer))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(app.seen().len(), 1);
    h.stop().await;
}

#[tokio::test]
async fn the_handshake_can_be_passed_through_to_the_apps_own_code() {
    let (app, target) = App::start(Duration::ZERO, StatusCode::OK).await;
    let h = relayed_to(&target, true).await;
    let answer = h
        .http
        .post(h.url("/notifications?validationToken=Validation%3a+hello+app"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        answer.text().await.unwrap(),
        "VALIDATION: HELLO APP",
        "the app's answer, not Hookscope's"
    );
    assert_eq!(
        app.seen()[0].0.query(),
        Some("validationToken=Validation%3a+hello+app")
    );
    let handshake = h.requests_eventually(1).await.remove(0);
    assert_eq!(
        handshake.kind,
        hookscope_engine::model::RequestKind::Handshake
    );
    let relays = relays_of(&h, &handshake.id, 1).await;
    assert!(relays[0].handshake);
    assert_eq!(handshake.response, "VALIDATION: HELLO APP");
    h.stop().await;
}

/// A user's app that answers handshakes at once and holds every delivery until the test opens the gate.
#[derive(Clone)]
struct GatedApp {
    handshakes: Arc<Mutex<Vec<(Uri, HeaderMap)>>>,
    held: Arc<Mutex<usize>>,
    gate: tokio::sync::watch::Receiver<bool>,
}

impl GatedApp {
    async fn start(path_and_query: &str) -> (GatedApp, tokio::sync::watch::Sender<bool>, String) {
        let (open, gate) = tokio::sync::watch::channel(false);
        let app = GatedApp {
            handshakes: Arc::default(),
            held: Arc::default(),
            gate,
        };
        let state = app.clone();
        let router = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let state = state.clone();
            async move {
                let token = uri.query().and_then(|query| {
                    url::form_urlencoded::parse(query.as_bytes())
                        .find(|(name, _)| name == "validationToken")
                        .map(|(_, token)| token.into_owned())
                });
                if let Some(token) = token {
                    state.handshakes.lock().unwrap().push((uri, headers));
                    return (StatusCode::OK, token);
                }
                *state.held.lock().unwrap() += 1;
                let mut gate = state.gate.clone();
                let _ = gate.wait_for(|open| *open).await;
                (StatusCode::OK, "done".to_owned())
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{path_and_query}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (app, open, url)
    }

    fn held(&self) -> usize {
        *self.held.lock().unwrap()
    }
}

#[tokio::test]
async fn the_handshake_passes_whole_and_at_once_while_every_delivery_slot_is_busy() {
    // An Azure Function's key in the target's own query, which deliveries already keep.
    let (app, open, target) = GatedApp::start("/api/graph?code=fn-key").await;
    let mut options = RelayOptions::new(&target).unwrap();
    options.handshake = true;
    options.concurrency = 2;
    let h = Harness::start_with(|_| {}, |receiver| receiver.relay = Some(options)).await;
    h.subscription("sub-a", Some("s")).await;

    // Both slots taken by deliveries the app holds, and one more waiting behind them.
    let mut delivered = Vec::new();
    for n in 1..=3 {
        let answer = h
            .post_json(
                "/notifications",
                &json!({ "value": [message_item("sub-a", Some("s"), n)] }),
            )
            .await;
        assert_eq!(answer.status(), 202);
        delivered.push(request_id(&answer));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.held() < 2 {
        assert!(
            Instant::now() < deadline,
            "the app never got two deliveries"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let answer = h
        .http
        .post(h.url("/notifications?validationToken=Validation%3a+busy+relay&tenant=contoso&x=1"))
        .header("x-trace-id", "trace-7")
        .header("client-request-id", "graph-1")
        .header("connection", "x-hop")
        .header("x-hop", "meant for Hookscope alone")
        .timeout(Duration::from_secs(8))
        .send()
        .await
        .expect("the handshake is answered while the relay is busy");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "Validation: busy relay");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered in {:?}, within the app's share of Graph's 10 s",
        started.elapsed()
    );
    assert_eq!(app.held(), 2, "the deliveries were still held meanwhile");

    let handshakes = app.handshakes.lock().unwrap().clone();
    assert_eq!(handshakes.len(), 1);
    let (uri, headers) = &handshakes[0];
    assert_eq!(uri.path(), "/api/graph");
    assert_eq!(
        uri.query(),
        Some("code=fn-key&validationToken=Validation%3a+busy+relay&tenant=contoso&x=1"),
        "the target's own query, then the whole of the requester's"
    );
    assert_eq!(headers["x-trace-id"], "trace-7");
    assert_eq!(headers["client-request-id"], "graph-1");
    assert!(
        headers.get("x-hop").is_none(),
        "a header named in Connection is hop-by-hop"
    );

    // Positive control: once the app lets go, every held and waiting delivery arrives and is recorded.
    open.send(true).unwrap();
    for id in &delivered {
        let relays = relays_of(&h, id, 1).await;
        assert_eq!(
            (
                relays[0].status,
                relays[0].body.as_str(),
                relays[0].error.as_deref()
            ),
            (Some(200), "done", None)
        );
    }
    assert_eq!(app.held(), 3);
    h.stop().await;
}

#[tokio::test]
async fn a_stored_delivery_is_replayed_marked_and_linked_as_it_was_or_edited() {
    let h = Harness::start().await;
    h.subscription("sub-a", Some("s")).await;
    assert!(
        h.engine.config().announcement_path().exists(),
        "replays find the running receiver through its announcement"
    );
    let answer = h
        .post_json(
            "/notifications",
            &json!({ "value": [message_item("sub-a", Some("s"), 1)] }),
        )
        .await;
    let original = request_id(&answer);
    let note = h.all_notifications().await.remove(0);

    // As it was, by notification id, to the receiver: judged again, a duplicate, linked.
    let replayed = relay::replay(
        &h.engine,
        &note.id,
        &ReplayTarget::Receiver,
        &ReplayEdits::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (replayed.status, replayed.original_request_id.as_str()),
        (202, original.as_str())
    );
    let again = replayed
        .request_id
        .clone()
        .expect("the receiver names the new request");
    let notes = h.all_notifications().await;
    let copy = notes.iter().find(|n| n.request_id == again).unwrap();
    assert_eq!(copy.replay_of.as_deref(), Some(original.as_str()));
    assert!(copy.duplicate && copy.verdict == Verdict::Accepted);
    let stored = h.engine.store().request(&again).await.unwrap().unwrap();
    assert_eq!(stored.replay_of.as_deref(), Some(original.as_str()));

    // Edited: another change type and a header set; judged on what was sent.
    let mut edited_item = message_item("sub-a", Some("s"), 1);
    edited_item["changeType"] = json!("updated");
    let edits = ReplayEdits {
        body: Some(json!({ "value": [edited_item] }).to_string()),
        headers: [("client-request-id".to_owned(), "edited-1".to_owned())].into(),
    };
    let edited = relay::replay(&h.engine, &original, &ReplayTarget::Receiver, &edits)
        .await
        .unwrap();
    assert!(edited.edited);
    let stored = h
        .engine
        .store()
        .request(edited.request_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.headers["client-request-id"], "edited-1");
    let notes = h.all_notifications().await;
    let changed = notes.iter().find(|n| n.request_id == stored.id).unwrap();
    assert_eq!(changed.change_type.as_deref(), Some("updated"));
    assert!(!changed.duplicate, "a different change");

    // The inspector offers the headers a replay sends as they were; the client's own are refused.
    let inspection = h.engine.inspect(&note.id).await.unwrap().unwrap();
    assert_eq!(
        inspection
            .replay_headers
            .get("content-type")
            .map(String::as_str),
        Some("application/json; charset=utf-8")
    );
    for absent in ["content-length", "host", "authorization"] {
        assert!(
            !inspection.replay_headers.contains_key(absent),
            "{absent}: {:?}",
            inspection.replay_headers
        );
    }
    let refused = relay::replay(
        &h.engine,
        &original,
        &ReplayTarget::Receiver,
        &ReplayEdits {
            body: None,
            headers: [("Content-Length".to_owned(), "5".to_owned())].into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Hookscope sets the content-length header itself; leave it out of the edits."
    );

    // To the user's app instead.
    let (app, target) = App::start(Duration::ZERO, StatusCode::OK).await;
    let sent = relay::replay(
        &h.engine,
        &original,
        &ReplayTarget::Url(target),
        &ReplayEdits::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (sent.status, sent.body.as_str(), sent.request_id),
        (200, "thanks", None)
    );
    let stored_original = h.engine.store().request(&original).await.unwrap().unwrap();
    assert_eq!(
        &app.seen()[0].2[..],
        stored_original.body.unwrap().as_bytes()
    );

    // A handshake is not replayable; an unknown id says where ids are.
    h.http
        .post(h.url("/notifications?validationToken=x"))
        .send()
        .await
        .unwrap();
    let handshake = h
        .requests_eventually(4)
        .await
        .into_iter()
        .find(|r| r.kind == hookscope_engine::model::RequestKind::Handshake)
        .unwrap();
    let refused = relay::replay(
        &h.engine,
        &handshake.id,
        &ReplayTarget::Receiver,
        &ReplayEdits::default(),
    )
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("nothing to replay"),
        "{refused}"
    );
    let unknown = relay::replay(
        &h.engine,
        "nope",
        &ReplayTarget::Receiver,
        &ReplayEdits::default(),
    )
    .await
    .unwrap_err();
    assert!(
        unknown.to_string().contains("hookscope requests"),
        "{unknown}"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_delivery_that_hookscope_itself_handed_on_is_not_handed_on_again() {
    let (app, target) = App::start(Duration::ZERO, StatusCode::OK).await;
    let h = relayed_to(&target, false).await;
    // As if the forward target pointed back at this receiver (or at a chain that does).
    let answer = h
        .http
        .post(h.url("/notifications"))
        .header("content-type", "application/json")
        .header(
            "x-hookscope-request-id",
            "0190f000-0000-7000-8000-000000000000",
        )
        .body(json!({ "value": [message_item("sub-a", Some("s"), 1)] }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202, "stored and acknowledged all the same");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.seen().is_empty(), "no loop");
    assert!(h
        .engine
        .store()
        .relays(&request_id(&answer))
        .await
        .unwrap()
        .is_empty());
    h.stop().await;
}
