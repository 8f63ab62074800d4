//! The subscription commands end to end, as a user runs them in three terminals: `hookscope simulate`
//! plays Graph, `hookscope listen` receives and keeps, `hookscope subscribe` / `subscriptions` manage.

mod common;

use std::time::{Duration, Instant};

use common::{hookscope, json_lines, Listener, Simulator};
use serde_json::Value;

const MAILBOX: &str = "users/alex@contoso.com/messages";

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {stderr:?}");
    lines[0]
}

#[test]
fn subscribe_list_renew_and_delete_while_listen_keeps_it_alive() {
    let dir = tempfile::tempdir().unwrap();
    let _simulator = Simulator::spawn(dir.path());
    let mut listener = Listener::spawn(dir.path(), &[]);
    assert_eq!(
        listener.first["keeper"]["state"], "on",
        "{}",
        listener.first
    );

    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            MAILBOX,
            "--change-type",
            "created,updated",
            "--expires-in",
            "6s",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let created = &json_lines(&out)[0];
    let id = created["id"].as_str().unwrap().to_string();
    for field in [
        "resource",
        "changeType",
        "notificationUrl",
        "lifecycleNotificationUrl",
        "expirationDateTime",
        "includeResourceData",
        "autoRenew",
        "status",
        "lastError",
    ] {
        assert!(created.get(field).is_some(), "{field} in {created}");
    }
    assert_eq!(
        created["notificationUrl"],
        listener.first["notificationUrl"]
    );
    assert_eq!(created["status"], "active");

    // `listen` renews it on its own, twice, and says so.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut renewed = Vec::new();
    while renewed.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "two renewals within 30 s: {renewed:?}"
        );
        let event = listener.next_event();
        assert_ne!(event["type"], "keeperFailed", "{event}");
        if event["type"] == "renewed" {
            assert_eq!(event["subscriptionId"], id.as_str());
            renewed.push(event);
        }
    }

    let (code, out, _) = hookscope(dir.path(), &["subscriptions", "--json"]);
    assert_eq!(code, 0);
    let listed = json_lines(&out);
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0]["expirationDateTime"], renewed[1]["expirationDateTime"],
        "the list shows the latest expiry"
    );
    let (code, text, _) = hookscope(dir.path(), &["subscriptions", "list"]);
    assert_eq!(code, 0);
    assert!(
        text.contains(&id) && text.contains("active") && text.contains(MAILBOX),
        "{text}"
    );

    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "subscriptions",
            "renew",
            &id,
            "--expires-in",
            "2h",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let after: Value = json_lines(&out).remove(0);
    let left =
        hookscope_engine::clock::parse_rfc3339(after["expirationDateTime"].as_str().unwrap())
            .unwrap()
            - hookscope_engine::clock::now_micros();
    assert!((left / 1_000_000 - 7200).abs() < 60, "{after}");

    let (code, out, _) = hookscope(dir.path(), &["subscriptions", "list", "--remote", "--json"]);
    assert_eq!(code, 0);
    let remote = json_lines(&out);
    assert_eq!(remote.len(), 1);
    assert_eq!(
        (remote[0]["id"].as_str(), remote[0]["orphan"].as_bool()),
        (Some(id.as_str()), Some(false))
    );

    let (code, _, err) = hookscope(dir.path(), &["subscriptions", "delete", &id]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = hookscope(dir.path(), &["subscriptions", "list", "--remote", "--json"]);
    assert!(out.trim().is_empty(), "gone at Graph: {out}");
    let (_, out, _) = hookscope(dir.path(), &["subscriptions", "--json"]);
    assert_eq!(json_lines(&out)[0]["status"], "removed");
    assert_eq!(listener.stop().code(), Some(0));
}

#[test]
fn each_mistake_is_one_line_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing runs: no Graph credentials, no simulator.
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            MAILBOX,
            "--change-type",
            "created",
        ],
    );
    assert_ne!(code, 0);
    assert!(
        one_line(&err).contains("HOOKSCOPE_CLIENT_SECRET") && err.contains("hookscope simulate"),
        "{err}"
    );
    // The catalog's verdict comes first, before any sign-in.
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            "users",
            "--change-type",
            "created",
        ],
    );
    assert_ne!(code, 0);
    assert!(one_line(&err).contains("updated,deleted"), "{err}");
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            MAILBOX,
            "--change-type",
            "created",
            "--expires-in",
            "soon",
        ],
    );
    assert_ne!(code, 0);
    assert!(one_line(&err).contains("45m"), "{err}");

    let _simulator = Simulator::spawn(dir.path());
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            MAILBOX,
            "--change-type",
            "created",
        ],
    );
    assert_ne!(code, 0);
    assert!(
        one_line(&err).contains("hookscope listen"),
        "no receiver running: {err}"
    );
    let (code, _, err) = hookscope(dir.path(), &["subscriptions", "renew", "nope"]);
    assert_ne!(code, 0);
    assert!(one_line(&err).contains("subscriptions list"), "{err}");
    // A secret given in the environment never shows, even when it is wrong.
    let out = std::process::Command::new(common::BIN)
        .args(["subscriptions", "list", "--remote"])
        .env("HOOKSCOPE_DATA_DIR", dir.path())
        .env("HOOKSCOPE_GRAPH_URL", &_simulator.graph_url)
        .env("HOOKSCOPE_LOGIN_URL", &_simulator.graph_url)
        .env(
            "HOOKSCOPE_TENANT_ID",
            hookscope_engine::simulator::SIMULATOR_TENANT_ID,
        )
        .env(
            "HOOKSCOPE_CLIENT_ID",
            hookscope_engine::simulator::SIMULATOR_CLIENT_ID,
        )
        .env("HOOKSCOPE_CLIENT_SECRET", "wrong-secret-value")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(one_line(&err).contains("AADSTS7000215"), "{err}");
    assert!(
        !err.contains("wrong-secret-value")
            && !String::from_utf8_lossy(&out.stdout).contains("wrong-secret-value")
    );
}

#[test]
fn rich_notifications_from_subscribe_to_decrypted_with_certificates_in_the_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let _simulator = Simulator::spawn(dir.path());
    let mut listener = Listener::spawn(dir.path(), &[]);

    let (code, out, err) = hookscope(dir.path(), &["certificates", "generate", "--json"]);
    assert_eq!(code, 0, "{err}");
    let made = &json_lines(&out)[0];
    let certificate = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["active"], true);
    assert_eq!(made["bits"], 2048);
    assert!(
        !out.contains("PRIVATE KEY") && !err.contains("PRIVATE KEY"),
        "the private key is never printed"
    );

    // Outlook needs a $select before Graph is asked, and says so.
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            MAILBOX,
            "--change-type",
            "created",
            "--rich",
        ],
    );
    assert_eq!(code, 1);
    assert!(one_line(&err).contains("$select"), "{err}");

    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            "/teams/getAllMessages",
            "--change-type",
            "created",
            "--expires-in",
            "1h",
            "--rich",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let created = &json_lines(&out)[0];
    assert_eq!(created["includeResourceData"], true);
    assert_eq!(created["encryptionCertificateId"], certificate.as_str());
    let id = created["id"].as_str().unwrap().to_string();

    let (code, _, err) = hookscope(dir.path(), &["trigger", "--subscription", &id, "--rich"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "trigger",
            "--subscription",
            &id,
            "--rich",
            "--tamper",
            "signature",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        assert!(Instant::now() < deadline, "two notifications: {seen:?}");
        let event = listener.next_event();
        if event["type"] == "notification" {
            seen.push(event);
        }
    }
    let genuine = &seen[0];
    assert_eq!(genuine["verdict"], "accepted", "{genuine}");
    assert_eq!(genuine["tokensValid"], true);
    assert!(
        genuine["decrypted"]["body"]["content"].is_string(),
        "{genuine}"
    );
    let forged = &seen[1];
    assert_eq!(forged["verdict"], "rejected");
    assert_eq!(forged["tokensValid"], false);
    assert!(forged["decrypted"].is_null());
    assert!(forged["reason"]
        .as_str()
        .unwrap()
        .contains("signature does not verify"));

    // The public half exports as PEM; a rotation keeps the old one while the subscription uses it.
    let (code, pem, _) = hookscope(dir.path(), &["certificates", "export", &certificate]);
    assert_eq!(code, 0);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let (code, _, err) = hookscope(dir.path(), &["certificates", "rotate"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = hookscope(dir.path(), &["certificates", "prune", "--json"]);
    assert!(json_lines(&out).is_empty(), "still used: {out}");
    let (_, out, _) = hookscope(dir.path(), &["certificates", "--json"]);
    let listed = json_lines(&out);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|c| c["active"] == true).count(), 1);
    listener.stop();
}

#[test]
fn every_subscribe_option_reaches_graph_and_lists_come_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let _simulator = Simulator::spawn(dir.path());
    let listener = Listener::spawn(dir.path(), &[]);
    let subscribe = |args: &[&str]| -> Value {
        let mut all = vec!["subscribe", "--json"];
        all.extend_from_slice(args);
        let (code, out, err) = hookscope(dir.path(), &all);
        assert_eq!(code, 0, "{args:?}: {err}");
        json_lines(&out).remove(0)
    };
    let plain = subscribe(&[
        "--resource",
        "users/bo@contoso.com/events",
        "--change-type",
        "created,updated",
        "--expires-in",
        "2h",
        "--no-lifecycle",
        "--no-auto-renew",
    ]);
    assert_eq!(plain["changeType"], "created,updated");
    assert!(plain["lifecycleNotificationUrl"].is_null(), "{plain}");
    assert_eq!(plain["autoRenew"], false);
    let left =
        hookscope_engine::clock::parse_rfc3339(plain["expirationDateTime"].as_str().unwrap())
            .unwrap()
            - hookscope_engine::clock::now_micros();
    assert!(
        (7_000_000_000..=7_200_000_000).contains(&left),
        "about 2 h: {left} µs"
    );

    // Teams wants a lifecycle URL past an hour: said before Graph is asked.
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            "/teams/getAllMessages",
            "--change-type",
            "created",
            "--no-lifecycle",
        ],
    );
    assert_eq!(code, 1);
    assert!(one_line(&err).contains("lifecycle URL"), "{err}");

    // --notification-url points Graph at the user's own endpoint (any path of a server that answers
    // the handshake); the keeper renews it but never moves it.
    let elsewhere = listener.first["localUrl"].as_str().unwrap().to_owned() + "/my-app/hooks";
    let aimed = subscribe(&[
        "--resource",
        MAILBOX,
        "--change-type",
        "created",
        "--notification-url",
        &elsewhere,
    ]);
    assert_eq!(aimed["notificationUrl"], elsewhere.as_str());
    assert_eq!(aimed["autoRenew"], true);
    assert!(aimed["lifecycleNotificationUrl"].is_string());

    let (_, out, _) = hookscope(dir.path(), &["subscriptions", "--json"]);
    let ids: Vec<Value> = json_lines(&out).iter().map(|s| s["id"].clone()).collect();
    assert_eq!(
        ids,
        vec![aimed["id"].clone(), plain["id"].clone()],
        "newest first"
    );
    listener.stop();
}

#[test]
fn doctor_says_what_is_broken_and_passes_once_everything_runs() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing runs: no credentials, no receiver.
    let (code, out, err) = hookscope(dir.path(), &["doctor", "--json"]);
    assert_eq!(code, 1);
    assert!(one_line(&err).contains("fix them as listed"), "{err}");
    let checks = json_lines(&out);
    let credentials = checks.iter().find(|c| c["name"] == "credentials").unwrap();
    assert_eq!(credentials["health"], "fail");
    assert!(credentials["fix"]
        .as_str()
        .unwrap()
        .contains("hookscope login"));

    let _simulator = Simulator::spawn(dir.path());
    let listener = Listener::spawn(dir.path(), &[]);
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            MAILBOX,
            "--change-type",
            "created",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = hookscope(dir.path(), &["doctor", "--json"]);
    assert_eq!(code, 0, "{err}\n{out}");
    let checks = json_lines(&out);
    for name in ["credentials", "token", "graph", "receiver", "subscription"] {
        let check = checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {out}"));
        assert_eq!(check["health"], "ok", "{check}");
    }
    // Text output: one line a check, with a fix line under anything not ok.
    let (_, text, _) = hookscope(dir.path(), &["doctor"]);
    assert!(
        text.lines().any(|l| l.starts_with("ok    receiver")),
        "{text}"
    );
    listener.stop();
}
