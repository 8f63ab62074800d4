//! Malformed requests over real HTTP: each gets the right 4xx with a plain sentence, nothing crashes,
//! every one is recorded for the inspector, and a valid notification is still accepted afterwards.

mod common;

use common::{message_item, Harness};
use hookscope_engine::model::RequestKind;
use serde_json::json;

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: &'static str,
    ct: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    status: u16,
) -> Case {
    Case {
        name,
        method,
        path,
        content_type: ct,
        body: body.into(),
        status,
    }
}

const JSON: Option<&str> = Some("application/json");

fn cases() -> Vec<Case> {
    let deep_array = "[".repeat(100_000) + &"]".repeat(100_000);
    let deep_object = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
    let deep_in_value = format!(
        "{{\"value\":[{}]}}",
        "[".repeat(100_000) + &"]".repeat(100_000)
    );
    vec![
        // Not JSON at all.
        case("empty body", "POST", "/notifications", JSON, "", 400),
        case(
            "plain words",
            "POST",
            "/notifications",
            JSON,
            "hello graph",
            400,
        ),
        case(
            "truncated object",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": [",
            400,
        ),
        case(
            "trailing garbage",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": []} x",
            400,
        ),
        case(
            "single quotes",
            "POST",
            "/notifications",
            JSON,
            "{'value': []}",
            400,
        ),
        case(
            "trailing comma",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": [],}",
            400,
        ),
        case(
            "NaN literal",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": [NaN]}",
            400,
        ),
        case(
            "raw NUL byte",
            "POST",
            "/notifications",
            JSON,
            b"{\"value\": [\0]}".to_vec(),
            400,
        ),
        case(
            "invalid UTF-8",
            "POST",
            "/notifications",
            JSON,
            b"{\"value\": [\"\xff\xfe\"]}".to_vec(),
            400,
        ),
        case(
            "lone surrogate escape",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": [\"\\ud800\"]}",
            400,
        ),
        case(
            "UTF-16 body",
            "POST",
            "/notifications",
            JSON,
            vec![0xFF, 0xFE, b'{', 0, b'}', 0],
            400,
        ),
        case(
            "100k-deep arrays",
            "POST",
            "/notifications",
            JSON,
            deep_array,
            400,
        ),
        case(
            "100k-deep objects",
            "POST",
            "/notifications",
            JSON,
            deep_object,
            400,
        ),
        case(
            "100k-deep item",
            "POST",
            "/notifications",
            JSON,
            deep_in_value,
            400,
        ),
        // JSON of the wrong shape.
        case("bare array", "POST", "/notifications", JSON, "[]", 400),
        case(
            "bare string",
            "POST",
            "/notifications",
            JSON,
            "\"value\"",
            400,
        ),
        case("null", "POST", "/notifications", JSON, "null", 400),
        case("number", "POST", "/notifications", JSON, "42", 400),
        case(
            "object without value",
            "POST",
            "/notifications",
            JSON,
            "{\"values\": []}",
            400,
        ),
        case(
            "value is an object",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": {}}",
            400,
        ),
        case(
            "value is a string",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": \"x\"}",
            400,
        ),
        case(
            "value is null",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": null}",
            400,
        ),
        case(
            "validationTokens not an array",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": [], \"validationTokens\": 5}",
            400,
        ),
        case(
            "validationTokens of numbers",
            "POST",
            "/notifications",
            JSON,
            "{\"value\": [], \"validationTokens\": [1]}",
            400,
        ),
        case(
            "lifecycle path, wrong shape",
            "POST",
            "/lifecycle",
            JSON,
            "{\"value\": 1}",
            400,
        ),
        // Wrong content types.
        case(
            "no content type",
            "POST",
            "/notifications",
            None,
            "{\"value\": []}",
            415,
        ),
        case(
            "text/plain",
            "POST",
            "/notifications",
            Some("text/plain"),
            "{\"value\": []}",
            415,
        ),
        case(
            "form encoded",
            "POST",
            "/notifications",
            Some("application/x-www-form-urlencoded"),
            "value=1",
            415,
        ),
        case(
            "xml",
            "POST",
            "/notifications",
            Some("application/xml"),
            "<value/>",
            415,
        ),
        case(
            "multipart",
            "POST",
            "/lifecycle",
            Some("multipart/form-data; boundary=x"),
            "--x--",
            415,
        ),
        case(
            "json lookalike",
            "POST",
            "/notifications",
            Some("application/jsonp"),
            "{\"value\": []}",
            415,
        ),
        // Unknown paths and methods.
        case(
            "unknown path",
            "POST",
            "/webhook",
            JSON,
            "{\"value\": []}",
            404,
        ),
        case("root path", "POST", "/", JSON, "{\"value\": []}", 404),
        case(
            "path traversal",
            "POST",
            "/notifications/..%2F..%2Fetc%2Fpasswd",
            JSON,
            "{\"value\": []}",
            404,
        ),
        case(
            "SQL in path",
            "POST",
            "/notifications';DROP%20TABLE%20notifications;--",
            JSON,
            "{}",
            404,
        ),
        case(
            "script in path",
            "GET",
            "/%3Cscript%3Ealert(1)%3C/script%3E",
            None,
            "",
            404,
        ),
        case("GET notifications", "GET", "/notifications", None, "", 405),
        case(
            "PUT notifications",
            "PUT",
            "/notifications",
            JSON,
            "{\"value\": []}",
            405,
        ),
        case("DELETE lifecycle", "DELETE", "/lifecycle", None, "", 405),
        case(
            "PATCH notifications",
            "PATCH",
            "/notifications",
            JSON,
            "{}",
            405,
        ),
        case(
            "OPTIONS notifications",
            "OPTIONS",
            "/notifications",
            None,
            "",
            405,
        ),
        case(
            "HEAD notifications",
            "HEAD",
            "/notifications",
            None,
            "",
            405,
        ),
        // Oversized: announced, and streamed without a length.
        case(
            "oversized body",
            "POST",
            "/notifications",
            JSON,
            vec![b' '; 1024 * 1024 + 1],
            413,
        ),
    ]
}

#[tokio::test]
async fn malformed_requests_get_the_right_status_are_recorded_and_do_not_break_the_receiver() {
    // A small limit keeps the oversized case cheap; the default (8 MiB) is exercised below.
    let h = Harness::start_with(|_| {}, |r| r.body_limit = 1024 * 1024).await;
    h.subscription("sub-a", Some("s")).await;
    let cases = cases();
    assert!(cases.len() >= 40);
    for c in &cases {
        let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
        let mut request = h.http.request(method, h.url(c.path)).body(c.body.clone());
        if let Some(ct) = c.content_type {
            request = request.header("content-type", ct);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(response.status().as_u16(), c.status, "{}", c.name);
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{}",
            c.name
        );
        if c.method != "HEAD" {
            let text = response.text().await.unwrap();
            assert!(
                text.ends_with('.') && text.len() > 20,
                "{}: a sentence a person can act on, got {text:?}",
                c.name
            );
        }
    }
    // Items of the wrong shape inside a sound batch are not a 4xx: Graph would retry forever.
    let odd = json!({ "value": [
        1, "x", null, [], {"changeType": 5},
        {"subscriptionId": "'; DROP TABLE notifications; --", "changeType": "created", "resource": "<script>alert(1)</script>"},
        // Every field right, but by position in an array: serde would read it into a struct.
        [null, "sub-a", null, "created", null, "r", "s", null, null]
    ] });
    assert_eq!(h.post_json("/notifications", &odd).await.status(), 202);

    let recorded = h.requests_eventually(cases.len() + 1).await;
    for c in &cases {
        let found = recorded
            .iter()
            .find(|r| r.path == c.path && r.status == c.status && r.method == c.method);
        assert!(
            found.is_some_and(|r| r.kind == RequestKind::Invalid),
            "{} is recorded as invalid",
            c.name
        );
    }
    let oversized = recorded.iter().find(|r| r.status == 413).unwrap();
    assert!(oversized.body_truncated && oversized.body_size > 1024 * 1024);
    let invalid_utf8 = recorded
        .iter()
        .find(|r| r.body_base64.is_some())
        .expect("non-UTF-8 bodies kept as base64");
    assert_eq!(invalid_utf8.status, 400);

    let items = h.all_notifications().await;
    assert_eq!(items.len(), 7, "every item of the sound batch is stored");
    assert!(items
        .iter()
        .all(|n| n.verdict == hookscope_engine::model::Verdict::Rejected));
    assert!(
        items
            .iter()
            .any(|n| n.resource.as_deref() == Some("<script>alert(1)</script>")),
        "stored as given"
    );

    // And the receiver is still fine.
    let good = json!({ "value": [message_item("sub-a", Some("s"), 1)] });
    assert_eq!(h.post_json("/notifications", &good).await.status(), 202);
    let newest = h.all_notifications().await.remove(0);
    assert_eq!(newest.verdict, hookscope_engine::model::Verdict::Accepted);
    h.stop().await;
}

#[tokio::test]
async fn a_streamed_body_over_the_default_limit_is_cut_off_with_413() {
    let h = Harness::start().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..9).map(|_| Ok(vec![b' '; 1024 * 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures_stream(chunks));
    let response = h
        .http
        .post(h.url("/notifications"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    // The receiver may answer and close before the client finishes sending; both are a refusal.
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    let recorded = h.requests_eventually(1).await;
    assert_eq!(recorded[0].status, 413);
    assert!(recorded[0].body_truncated);
    assert_eq!(
        recorded[0].body.as_deref().map(str::len),
        Some(64 * 1024),
        "the first 64 KiB are kept"
    );
    h.stop().await;
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    tokio_stream::iter(chunks)
}
