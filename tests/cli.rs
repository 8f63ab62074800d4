//! The command-line contract, run as a user would: `listen` in one process while `notifications` and
//! `requests` read the same data directory from others; JSON fields; clean stop; one-line errors.

mod common;

use std::time::Duration;

use common::{hookscope, item, json_lines, Listener};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_and_the_lists_share_one_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut listener = Listener::spawn(
        dir.path(),
        &["--public-url", "https://hooks.example.test/x/"],
    );
    assert_eq!(listener.first["publicUrl"], "https://hooks.example.test/x");
    assert_eq!(
        listener.first["notificationUrl"],
        "https://hooks.example.test/x/notifications"
    );
    assert_eq!(
        listener.first["lifecycleUrl"],
        "https://hooks.example.test/x/lifecycle"
    );
    let announced: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("receiver.json")).unwrap()).unwrap();
    assert_eq!(
        announced["localUrl"], listener.first["localUrl"],
        "the receiver announces itself in the data dir"
    );

    let http = reqwest::Client::new();
    let handshake = http
        .post(format!(
            "{}/notifications?validationToken=Validation%3a+Testing",
            listener.local_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.text().await.unwrap(), "Validation: Testing");
    assert_eq!(listener.next_event()["type"], "handshake");

    // Readers in other processes while a load is being written.
    let url = format!("{}/notifications", listener.local_url);
    let writer = tokio::spawn(async move {
        for n in 0..200 {
            let body = json!({ "value": [item("sub-x", &format!("n{n}"))] }).to_string();
            let r = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
    });
    for _ in 0..5 {
        let (code, out, err) = hookscope(dir.path(), &["notifications", "--json", "--limit", "0"]);
        assert_eq!(code, 0, "reading while listen writes: {err}");
        json_lines(&out);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    writer.await.unwrap();

    let event = listener.next_event();
    assert_eq!(
        event["type"], "notification",
        "listen prints each stored notification: {event}"
    );
    assert_eq!(event["verdict"], "rejected");
    assert!(event["reason"]
        .as_str()
        .unwrap()
        .contains("Unknown subscription"));

    let (code, out, _) = hookscope(dir.path(), &["notifications", "--json", "--limit", "0"]);
    assert_eq!(code, 0);
    let notes = json_lines(&out);
    assert_eq!(notes.len(), 200);
    assert_eq!(notes[0]["notificationId"], "n199", "newest first");
    for key in [
        "id",
        "notificationId",
        "receivedAt",
        "subscriptionId",
        "changeType",
        "resource",
        "resourceData",
        "tenantId",
        "verdict",
        "reason",
        "duplicate",
        "decrypted",
        "tokensValid",
        "requestId",
    ] {
        assert!(notes[0].get(key).is_some(), "notification field {key}");
    }
    let (_, out, _) = hookscope(dir.path(), &["notifications", "--json", "--limit", "3"]);
    assert_eq!(json_lines(&out).len(), 3);

    let (code, out, _) = hookscope(dir.path(), &["requests", "--json", "--limit", "0"]);
    assert_eq!(code, 0);
    let requests = json_lines(&out);
    assert_eq!(requests.len(), 201);
    let last = requests.last().unwrap();
    assert_eq!(last["kind"], "handshake");
    for key in [
        "id",
        "receivedAt",
        "method",
        "path",
        "query",
        "headers",
        "body",
        "bodyTruncated",
        "kind",
        "status",
        "latencyMs",
    ] {
        assert!(requests[0].get(key).is_some(), "request field {key}");
    }
    assert_eq!(requests[0]["kind"], "notifications");
    assert_eq!(requests[0]["status"], 202);
    let latency = requests
        .iter()
        .find_map(|r| r["latencyMs"].as_f64())
        .expect("latencies are recorded");
    assert!(latency > 0.0, "{latency}");

    // Exports: JSON Lines to stdout, a HAR log to a file, each with what the filter selects.
    let (code, out, err) = hookscope(
        dir.path(),
        &["export", "--search", "N19", "--verdict", "rejected"],
    );
    assert_eq!(code, 0, "{err}");
    let exported = json_lines(&out);
    assert_eq!(exported.len(), 11, "n19 and n190..n199");
    let (code, _, err) = hookscope(dir.path(), &["export", "--since", "yesterday"]);
    assert_ne!(code, 0);
    assert!(err.contains("is not a time; give it as RFC 3339"), "{err}");
    let har_path = dir.path().join("all.har");
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "export",
            "--format",
            "har",
            "--out",
            har_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("Exported 200 notifications from 200 requests"),
        "{err}"
    );
    let har: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&har_path).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 200);
    assert!(entries[0]["request"]["url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/notifications", listener.local_url)));
    assert!(entries[0]["request"]["postData"]["text"]
        .as_str()
        .unwrap()
        .contains("n199"));

    // A prune beside the running listener: nothing here is a day old, so nothing goes.
    let (code, out, err) = hookscope(dir.path(), &["prune", "--older-than", "1", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json_lines(&out)[0],
        json!({"notifications": 0, "requests": 0, "olderThanDays": 1})
    );

    let (_, text, _) = hookscope(dir.path(), &["notifications", "--limit", "1"]);
    assert!(
        text.contains("rejected") && text.contains("Users/u1/Messages/n199"),
        "{text}"
    );

    let status = listener.stop();
    assert!(status.success(), "SIGTERM stops listen cleanly: {status:?}");
    assert!(
        !dir.path().join("receiver.json").exists(),
        "a stopped receiver withdraws its announcement"
    );
}

#[tokio::test]
async fn listen_prints_a_refused_request_but_not_the_requests_behind_its_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let mut listener = Listener::spawn(dir.path(), &[]);
    let http = reqwest::Client::new();
    let url = format!("{}/notifications", listener.local_url);
    let post = |body: String| {
        http.post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let accepted = post(json!({ "value": [item("sub-x", "n1")] }).to_string())
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    assert_eq!(listener.next_event()["type"], "notification");
    let refused = post("{\"value\": [".to_owned()).await.unwrap();
    assert_eq!(refused.status(), 400);
    let event = listener.next_event();
    assert_eq!(
        (&event["type"], &event["status"]),
        (&json!("request"), &json!(400)),
        "the next line is the refused request, not the accepted one: {event}"
    );
    assert_eq!(event["body"], "{\"value\": [");
    assert_eq!(event["kind"], "invalid");
    assert!(listener.stop().success());
}

#[test]
fn a_second_receiver_does_not_hide_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let first = Listener::spawn(dir.path(), &[]);
    let announced = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join("receiver.json")).unwrap()).unwrap()
    };
    let second = Listener::spawn(dir.path(), &[]);
    assert_eq!(
        announced()["localUrl"],
        first.first["localUrl"],
        "the running receiver stays the announced one"
    );
    assert!(second.stop().success());
    assert_eq!(
        announced()["localUrl"],
        first.first["localUrl"],
        "stopping the second leaves the first announced"
    );
    assert!(first.stop().success());
    assert!(!dir.path().join("receiver.json").exists());
}

#[test]
fn failures_are_one_line_on_stderr_with_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let listener = Listener::spawn(dir.path(), &[]);
    let port = listener.local_url.rsplit(':').next().unwrap().to_owned();
    for args in [
        vec!["listen", "--port", port.as_str()],
        vec!["listen", "--port", "0", "--tunnel", "carrier-pigeon"],
        vec!["listen", "--port", "0", "--public-url", "not a url"],
        vec!["notifications", "--limit", "many"],
        vec!["frobnicate"],
        vec!["prune", "--older-than", "0"],
        vec!["prune", "--older-than", "213503982"],
        vec!["resource", "no-such-notification"],
    ] {
        let (code, out, err) = hookscope(dir.path(), &args);
        assert_ne!(code, 0, "{args:?} fails");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: exactly one line on stderr, got {err:?}"
        );
        assert!(out.is_empty(), "{args:?}: nothing on stdout");
    }
    let (_, _, err) = hookscope(dir.path(), &["resource", "no-such-notification"]);
    assert_eq!(
        err.trim(),
        "No stored notification has the id no-such-notification."
    );
    let (_, _, err) = hookscope(dir.path(), &["listen", "--port", port.as_str()]);
    assert!(
        err.contains("already in use") && err.contains("--port 0"),
        "says what to do: {err}"
    );
}

#[test]
fn listen_with_an_ngrok_tunnel_says_what_is_missing_and_keeps_receiving_locally() {
    let dir = tempfile::tempdir().unwrap();
    // No authtoken: one sentence that says where to get one; the receiver still answers locally.
    let mut listener = Listener::spawn(dir.path(), &["--tunnel", "ngrok"]);
    assert!(listener.first["publicUrl"].is_null());
    let mut states = Vec::new();
    while !states
        .iter()
        .any(|s: &serde_json::Value| s["state"] == "offline")
    {
        let event = listener.next_event();
        if event["type"] == "tunnel" {
            states.push(event);
        }
    }
    assert_eq!(states[0]["state"], "connecting");
    let offline = states.last().unwrap();
    assert_eq!(offline["retrying"], false);
    assert!(
        offline["reason"]
            .as_str()
            .unwrap()
            .contains("NGROK_AUTHTOKEN"),
        "{offline}"
    );
    let echoed = reqwest::blocking::Client::new()
        .post(format!(
            "{}/notifications?validationToken=still+local",
            listener.local_url
        ))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(echoed, "still local");
    listener.stop();

    // ngrok out of reach (its service address is a closed port here): offline, retrying.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = closed.local_addr().unwrap().to_string();
    drop(closed);
    let mut listener = Listener::spawn_with(
        dir.path(),
        &["--tunnel", "ngrok"],
        &[
            ("NGROK_AUTHTOKEN", "2fake_token_for_the_test"),
            ("HOOKSCOPE_NGROK_SERVER", &server),
        ],
    );
    let offline = tunnel_offline(&mut listener);
    assert_eq!(offline["retrying"], true);
    assert!(
        offline["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{offline}"
    );
    listener.stop();

    // The authtoken kept once (never printed) is used without the environment variable.
    use std::io::Write;
    let mut child = std::process::Command::new(common::BIN)
        .args(["tunnel", "authtoken"])
        .env("HOOKSCOPE_DATA_DIR", dir.path())
        .env("HOOKSCOPE_KEYRING", "file")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"2kept_token_for_the_test\n")
        .unwrap();
    let kept = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&kept.stdout);
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    assert!(said.contains("readable only by you"), "{said}");
    assert!(!said.contains("2kept_token"), "the token is never printed");
    let mut listener = Listener::spawn_with(
        dir.path(),
        &["--tunnel", "ngrok"],
        &[
            ("HOOKSCOPE_KEYRING", "file"),
            ("HOOKSCOPE_NGROK_SERVER", &server),
        ],
    );
    let offline = tunnel_offline(&mut listener);
    assert!(
        offline["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "the kept token was used: {offline}"
    );
    listener.stop();

    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "listen",
            "--tunnel",
            "ngrok",
            "--public-url",
            "https://x.example.test",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("Choose one"), "{err}");
}

/// The first tunnel event that says the tunnel is offline.
fn tunnel_offline(listener: &mut Listener) -> serde_json::Value {
    loop {
        let event = listener.next_event();
        if event["type"] == "tunnel" && event["state"] == "offline" {
            return event;
        }
    }
}
