//! The subscription API: the rules Graph checks, the synchronous validation handshake and each way it
//! fails, 409, PATCH and 404, paging, and injected faults.

use std::time::Duration;

use hookscope_engine::simulator::{Fault, FaultKind, Operation};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{in_minutes, subscription, Handshake, Sim, TestReceiver};

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn create_validates_both_urls_then_answers_201_in_graphs_shape() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let (status, body, headers) = sim
        .create(&subscription(
            "/me/mailFolders('Inbox')/messages",
            "created,updated",
            &receiver,
        ))
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(headers.contains_key("request-id") && headers.contains_key("client-request-id"));
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .ends_with(body["id"].as_str().unwrap()));
    assert_eq!(body["changeType"], "created,updated");
    assert_eq!(body["clientState"], "secret-state-1");
    assert_eq!(body["applicationId"], sim.running.options().app.client_id);
    assert_eq!(body["latestSupportedTlsVersion"], "v1_2");
    assert_eq!(body["notificationContentType"], "application/json");
    assert!(body["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("/v1.0/$metadata#subscriptions/$entity"));
    // Seven fractional digits, as Graph writes them.
    let expiry = body["expirationDateTime"].as_str().unwrap();
    assert_eq!(
        expiry.split('.').nth(1).map(|f| f.len()),
        Some(8),
        "{expiry}"
    );

    // One validation request per URL, shaped like Graph's.
    let handshakes = receiver.handshakes();
    assert_eq!(
        handshakes
            .iter()
            .map(|h| h.path.as_str())
            .collect::<Vec<_>>(),
        ["/notify", "/lifecycle"]
    );
    for handshake in &handshakes {
        let query = handshake.query.as_deref().unwrap();
        assert!(
            query.starts_with("validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+"),
            "{query}"
        );
        assert_eq!(
            handshake.headers["content-type"],
            "text/plain; charset=utf-8"
        );
        assert!(handshake.body.is_empty());
    }
}

#[tokio::test]
async fn a_query_in_the_notification_url_is_kept() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let mut body = subscription("users", "updated", &receiver);
    body["notificationUrl"] = json!(receiver.url("/notify?secret=abc"));
    let (status, created, _) = sim.create(&body).await;
    assert_eq!(status, 201, "{created}");
    let first = &receiver.handshakes()[0];
    assert!(first
        .query
        .as_deref()
        .unwrap()
        .starts_with("secret=abc&validationToken="));
}

#[tokio::test]
async fn each_handshake_failure_gives_graphs_400() {
    let receiver = TestReceiver::start().await;
    let cases = [
        (Handshake::Wrong, "ValidationError", "Subscription validation request failed. Response must exactly match validationToken query parameter."),
        (Handshake::Encoded, "ValidationError", "Subscription validation request failed. Response must exactly match validationToken query parameter."),
        (Handshake::Status(500), "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."),
        (Handshake::Status(202), "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."),
        (Handshake::Slow(Duration::from_millis(2500)), "InvalidRequest", "Subscription validation request timed out."),
    ];
    for (mode, code, message) in cases {
        let sim = Sim::start().await;
        receiver.handshake(mode.clone());
        let (status, body, _) = sim
            .create(&subscription("users", "updated", &receiver))
            .await;
        assert_eq!(status, 400, "{mode:?}: {body}");
        assert_eq!(error_code(&body), code, "{mode:?}");
        assert_eq!(error_message(&body), message, "{mode:?}");
        assert!(body["error"]["innerError"]["request-id"].is_string());
        let (_, list) = sim.call(Method::GET, "/v1.0/subscriptions", None).await;
        assert_eq!(
            list["value"].as_array().unwrap().len(),
            0,
            "nothing created after {mode:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_or_failing_lifecycle_url_creates_nothing() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut body = subscription("users", "updated", &receiver);
    body["notificationUrl"] = json!(format!("http://127.0.0.1:{closed}/notify"));
    let (status, answer, _) = sim.create(&body).await;
    assert_eq!(
        (status.as_u16(), error_code(&answer)),
        (400, "ValidationError")
    );

    let mut body = subscription("users", "updated", &receiver);
    body["lifecycleNotificationUrl"] = json!(format!("http://127.0.0.1:{closed}/lifecycle"));
    let (status, _, _) = sim.create(&body).await;
    assert_eq!(status, 400);
    let (_, list) = sim.call(Method::GET, "/v1.0/subscriptions", None).await;
    assert!(list["value"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn html_content_type_passes_unless_strict() {
    let receiver = TestReceiver::start().await;
    receiver.handshake(Handshake::Html);
    let lenient = Sim::start().await;
    let (status, _, _) = lenient
        .create(&subscription("users", "updated", &receiver))
        .await;
    assert_eq!(status, 201);
    let strict = Sim::start_with(|o| o.strict_content_type = true).await;
    let (status, body, _) = strict
        .create(&subscription("users", "updated", &receiver))
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), "ValidationError");
}

#[tokio::test]
async fn create_rules_are_enforced_with_clear_messages() {
    let sim = Sim::start_with(|o| o.fast_time = false).await;
    let receiver = TestReceiver::start().await;
    let good = subscription("users", "updated", &receiver);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = good.clone();
        change(&mut body);
        body
    };
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "no resource",
            with(&|b| {
                b.as_object_mut().unwrap().remove("resource");
            }),
            400,
            "required property 'resource'",
        ),
        (
            "no changeType",
            with(&|b| {
                b.as_object_mut().unwrap().remove("changeType");
            }),
            400,
            "required property 'changeType'",
        ),
        (
            "no notificationUrl",
            with(&|b| {
                b.as_object_mut().unwrap().remove("notificationUrl");
            }),
            400,
            "required property 'notificationUrl'",
        ),
        (
            "no expiry",
            with(&|b| {
                b.as_object_mut().unwrap().remove("expirationDateTime");
            }),
            400,
            "required property 'expirationDateTime'",
        ),
        (
            "http to a public host",
            with(&|b| b["notificationUrl"] = json!("http://example.com/hook")),
            400,
            "NotificationUrl scheme='http' is not supported.",
        ),
        (
            "ftp lifecycle",
            with(&|b| b["lifecycleNotificationUrl"] = json!("ftp://example.com/x")),
            400,
            "LifecycleNotificationUrl scheme='ftp' is not supported.",
        ),
        (
            "clientState of 129",
            with(&|b| b["clientState"] = json!("x".repeat(129))),
            400,
            "clientState is longer than the maximum of 128",
        ),
        (
            "users cannot be created",
            with(&|b| b["changeType"] = json!("created")),
            400,
            "Change type 'created' is not supported for resource 'users'",
        ),
        (
            "unknown change type",
            with(&|b| b["changeType"] = json!("renamed")),
            400,
            "'renamed' is not a change type",
        ),
        (
            "unknown resource",
            with(&|b| b["resource"] = json!("me/unicorns")),
            400,
            "Resource 'me/unicorns' is not supported",
        ),
        (
            "expiry in the past",
            with(&|b| b["expirationDateTime"] = json!("2020-01-01T00:00:00Z")),
            400,
            "is in the past",
        ),
        (
            "expiry not a date",
            with(&|b| b["expirationDateTime"] = json!("soon")),
            400,
            "not a valid ISO 8601",
        ),
        (
            "beyond the user maximum",
            with(&|b| b["expirationDateTime"] = json!(in_minutes(41_760 + 5))),
            400,
            "Subscription expiration can only be 41760 minutes in the future.",
        ),
        (
            "rich users",
            with(&|b| b["includeResourceData"] = json!(true)),
            400,
            "includeResourceData is not supported for user",
        ),
        (
            "bad TLS version",
            with(&|b| b["latestSupportedTlsVersion"] = json!("v2_0")),
            400,
            "latestSupportedTlsVersion 'v2_0'",
        ),
        (
            "web push fields",
            with(&|b| b["vapidPublicKey"] = json!("abc")),
            400,
            "only for Web Push",
        ),
    ];
    for (name, body, status, message) in cases {
        let (got, answer, _) = sim.create(&body).await;
        assert_eq!(got.as_u16(), status, "{name}: {answer}");
        assert!(error_message(&answer).contains(message), "{name}: {answer}");
    }
    // Not a JSON object at all.
    let response = sim
        .http
        .post(sim.url("/v1.0/subscriptions"))
        .bearer_auth(sim.app_token().await)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        receiver.handshakes().is_empty(),
        "no rule failure reaches the endpoint"
    );
}

#[tokio::test]
async fn lifetimes_follow_the_resource_and_the_45_minute_minimum() {
    let receiver = TestReceiver::start().await;
    let normal = Sim::start_with(|o| o.fast_time = false).await;
    let mut body = subscription("users", "updated", &receiver);
    body["expirationDateTime"] = json!(in_minutes(5));
    let (_, created, _) = normal.create(&body).await;
    let expiry = time::OffsetDateTime::parse(
        created["expirationDateTime"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let minutes = (expiry - time::OffsetDateTime::now_utc()).whole_minutes();
    assert!(
        (44..=45).contains(&minutes),
        "raised to 45 minutes, got {minutes}"
    );

    // Fast time honours a one-minute lifetime, and the subscription vanishes when it ends.
    let fast = Sim::start().await;
    let mut body = subscription("groups", "updated,deleted", &receiver);
    body["expirationDateTime"] = json!(in_minutes(1));
    let (status, created, _) = fast.create(&body).await;
    assert_eq!(status, 201);
    let minutes = (time::OffsetDateTime::parse(
        created["expirationDateTime"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
        - time::OffsetDateTime::now_utc())
    .whole_seconds();
    assert!(
        (50..=60).contains(&minutes),
        "a minute honoured, got {minutes} s"
    );
    let path = format!("/v1.0/subscriptions/{}", created["id"].as_str().unwrap());
    fast.running.advance_clock(Duration::from_secs(61));
    let (status, body) = fast.call(Method::GET, &path, None).await;
    assert_eq!((status, error_code(&body)), (404, "ResourceNotFound"));
    let (status, _) = fast
        .call(
            Method::PATCH,
            &path,
            Some(&json!({ "expirationDateTime": in_minutes(30) })),
        )
        .await;
    assert_eq!(status, 404);

    // Outlook: the ceiling is a knob; beyond it Graph answers with an ExtensionError.
    let outlook = Sim::start_with(|o| o.outlook_max_minutes = 4_230).await;
    let mut body = subscription("me/messages", "created", &receiver);
    body["expirationDateTime"] = json!(in_minutes(5_000));
    let (status, answer, _) = outlook.create(&body).await;
    assert_eq!(
        (status.as_u16(), error_code(&answer)),
        (400, "ExtensionError")
    );
    assert!(error_message(&answer).contains("4230 minutes"), "{answer}");
}

#[tokio::test]
async fn teams_needs_a_lifecycle_url_beyond_an_hour() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let mut body = subscription("/teams/getAllMessages", "created", &receiver);
    body.as_object_mut()
        .unwrap()
        .remove("lifecycleNotificationUrl");
    body["expirationDateTime"] = json!(in_minutes(120));
    let (status, answer, _) = sim.create(&body).await;
    assert_eq!(status, 400);
    assert!(error_message(&answer).starts_with("lifecycleNotificationUrl is a required property"));
    body["expirationDateTime"] = json!(in_minutes(50));
    let (status, _, _) = sim.create(&body).await;
    assert_eq!(status, 201, "under an hour it is optional");
}

#[tokio::test]
async fn a_duplicate_is_409_naming_the_existing_subscription() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let (_, first, _) = sim
        .create(&subscription("users", "updated,deleted", &receiver))
        .await;
    // Same combination, spelled differently.
    let (status, answer, _) = sim
        .create(&subscription("/Users", "deleted, Updated", &receiver))
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        error_message(&answer),
        format!(
            "Subscription Id {} already exists for the requested combination",
            first["id"].as_str().unwrap()
        )
    );
    let (status, _, _) = sim
        .create(&subscription("users", "updated", &receiver))
        .await;
    assert_eq!(status, 201, "other change types are another combination");
}

#[tokio::test]
async fn list_hides_client_state_and_pages_with_next_link() {
    let sim = Sim::start_with(|o| o.page_size = 2).await;
    let receiver = TestReceiver::start().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let (status, created, _) = sim
            .create(&subscription(
                &format!("users/user-{n}"),
                "updated",
                &receiver,
            ))
            .await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut path = "/v1.0/subscriptions".to_string();
    let mut pages = 0;
    loop {
        let (status, page) = sim.call(Method::GET, &path, None).await;
        assert_eq!(status, 200);
        pages += 1;
        for item in page["value"].as_array().unwrap() {
            assert!(item["clientState"].is_null(), "list hides clientState");
            seen.push(item["id"].as_str().unwrap().to_string());
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => path = next.strip_prefix(sim.running.url()).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
    let (_, one) = sim
        .call(
            Method::GET,
            &format!("/v1.0/subscriptions/{}", ids[0]),
            None,
        )
        .await;
    assert_eq!(one["clientState"], "secret-state-1", "get by id returns it");
}

#[tokio::test]
async fn patch_renews_repoints_with_validation_and_refuses_the_rest() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let (_, created, _) = sim
        .create(&subscription("me/events", "created", &receiver))
        .await;
    let path = format!("/v1.0/subscriptions/{}", created["id"].as_str().unwrap());

    let (status, renewed) = sim
        .call(
            Method::PATCH,
            &path,
            Some(&json!({ "expirationDateTime": in_minutes(600) })),
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["expirationDateTime"], created["expirationDateTime"]);
    assert_eq!(renewed["clientState"], "secret-state-1");

    let other = TestReceiver::start().await;
    other.handshake(Handshake::Wrong);
    let (status, answer) = sim
        .call(
            Method::PATCH,
            &path,
            Some(&json!({ "notificationUrl": other.url("/moved") })),
        )
        .await;
    assert_eq!((status, error_code(&answer)), (400, "ValidationError"));
    let (_, unchanged) = sim.call(Method::GET, &path, None).await;
    assert_eq!(unchanged["notificationUrl"], receiver.url("/notify"));

    other.handshake(Handshake::Echo);
    let (status, moved) = sim
        .call(
            Method::PATCH,
            &path,
            Some(&json!({ "notificationUrl": other.url("/moved") })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(moved["notificationUrl"], other.url("/moved"));
    assert_eq!(
        other.handshakes().len(),
        2,
        "a changed URL is validated again"
    );

    for (body, message) in [
        (
            json!({ "lifecycleNotificationUrl": other.url("/l") }),
            "lifecycleNotificationUrl cannot be updated",
        ),
        (
            json!({ "clientState": "new" }),
            "Property 'clientState' cannot be updated",
        ),
        (
            json!({}),
            "must include expirationDateTime or notificationUrl",
        ),
        (
            json!({ "expirationDateTime": in_minutes(20_000) }),
            "10080 minutes",
        ),
    ] {
        let (status, answer) = sim.call(Method::PATCH, &path, Some(&body)).await;
        assert_eq!(status, 400, "{body}");
        assert!(error_message(&answer).contains(message), "{answer}");
    }

    let (status, _) = sim
        .call(Method::POST, &format!("{path}/reauthorize"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = sim.call(Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    for method in [Method::GET, Method::DELETE] {
        let (status, answer) = sim.call(method, &path, None).await;
        assert_eq!((status, error_code(&answer)), (404, "ResourceNotFound"));
    }
    let (status, _) = sim
        .call(Method::POST, &format!("{path}/reauthorize"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bearer_tokens_are_required_and_checked() {
    let sim = Sim::start().await;
    let cases = [
        (None, "Access token is empty."),
        (Some("Bearer not-a-jwt"), "IDX14100"),
    ];
    for (header, message) in cases {
        let mut request = sim.http.get(sim.url("/v1.0/subscriptions"));
        if let Some(value) = header {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "InvalidAuthenticationToken");
        assert!(error_message(&body).contains(message));
    }
    // A token past its hour is refused.
    sim.running.advance_clock(Duration::from_secs(3600));
    let (status, body) = sim.call(Method::GET, "/v1.0/subscriptions", None).await;
    assert_eq!(status, 401);
    assert!(error_message(&body).contains("expired"));
}

#[tokio::test]
async fn app_only_tokens_cannot_subscribe_to_presence() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    let (status, answer, _) = sim
        .create(&subscription(
            "/communications/presences/abc",
            "updated",
            &receiver,
        ))
        .await;
    assert_eq!(status, 403);
    assert!(
        error_message(&answer).contains("Presence.Read.All"),
        "{answer}"
    );
}

#[tokio::test]
async fn queued_faults_answer_the_next_calls_then_clear() {
    let sim = Sim::start().await;
    let receiver = TestReceiver::start().await;
    sim.running.add_fault(Fault {
        kind: FaultKind::Throttle,
        operation: Some(Operation::List),
        count: 2,
        retry_after: Some(7),
        permission: None,
    });
    for _ in 0..2 {
        let response = sim
            .http
            .get(sim.url("/v1.0/subscriptions"))
            .bearer_auth(sim.app_token().await)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "7");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "TooManyRequests");
    }
    let (status, _) = sim.call(Method::GET, "/v1.0/subscriptions", None).await;
    assert_eq!(status, 200, "the fault is used up");

    // Faults for another operation wait for it.
    sim.running.add_fault(Fault {
        kind: FaultKind::Forbidden,
        operation: Some(Operation::Create),
        count: 1,
        retry_after: None,
        permission: None,
    });
    sim.running.add_fault(Fault {
        kind: FaultKind::ServerError,
        operation: None,
        count: 1,
        retry_after: None,
        permission: None,
    });
    let (status, body) = sim.call(Method::GET, "/v1.0/subscriptions", None).await;
    assert_eq!((status, error_code(&body)), (500, "InternalServerError"));
    let (status, body, _) = sim
        .create(&subscription("me/messages", "created", &receiver))
        .await;
    assert_eq!(status, 403);
    assert!(
        error_message(&body).contains("Mail.Read"),
        "403 names the permission: {body}"
    );
    assert!(receiver.handshakes().is_empty());

    // The control API queues them from another process the same way.
    let added = sim
        .http
        .post(sim.url("/_simulator/faults"))
        .json(&json!({ "kind": "expiredToken" }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 204);
    let (status, body) = sim.call(Method::GET, "/v1.0/subscriptions", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "InvalidAuthenticationToken")
    );
}

#[tokio::test]
async fn unknown_graph_paths_answer_in_graphs_shape() {
    let sim = Sim::start().await;
    let (status, body) = sim.call(Method::GET, "/v1.0/me/unicorns", None).await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "Resource not found for the segment 'me/unicorns'."
    );
}
