//! End to end in a real window: the app under Xvfb, driven through tauri-driver and WebKitWebDriver.
//! A notification posted to the app's receiver over real HTTP appears in the live list.
//!
//! Needs a display, `tauri-driver` on PATH (or in ~/.cargo/bin) and WebKitWebDriver; the test script
//! runs it as `xvfb-run -a cargo test --test e2e -- --ignored`.

mod common;
#[path = "common/driver.rs"]
mod driver;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use driver::Driver;
use fantoccini::{ClientBuilder, Locator};
use hookscope_engine::model::{Subscription, SubscriptionStatus};
use hookscope_engine::{Engine, EngineConfig};
use serde_json::json;

/// Saves the window as `e2e-NAME.png` for the docs, once the last DOM change has been painted
/// (screenshots lag the DOM by a frame or two).
async fn screenshot(client: &fantoccini::Client, name: &str) {
    tokio::time::sleep(Duration::from_millis(400)).await;
    // A screenshot is for the docs: one that does not come is not worth hanging the suite for.
    let taken = tokio::time::timeout(Duration::from_secs(20), client.screenshot()).await;
    if let Ok(Ok(png)) = taken {
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{name}.png")),
            png,
        );
    }
}

/// The visible text of the first element matching `css`, if there is one yet.
async fn text_of(client: &fantoccini::Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts tauri-driver (which starts the app on `data`) and opens a WebDriver session on its window.
/// A webview's very first start on a fresh machine (D-Bus activating the desktop portal and the
/// accessibility bus, cold caches) has been seen to take over a minute, so a start that shows nothing
/// is abandoned once and tried again; a second silent start fails the test.
async fn launch(data: &std::path::Path) -> (Driver, fantoccini::Client) {
    // reqwest and fantoccini both bring rustls; name the crypto provider once for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    for attempt in 1..=2 {
        let (driver, client) = start_session(data).await;
        let shown = client
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Id("feed"))
            .await;
        match shown {
            Ok(_) => return (driver, client),
            Err(error) if attempt == 2 => panic!("the live feed shows: {error:?}"),
            Err(error) => {
                eprintln!("the window showed nothing within 60 s ({error:?}); starting it again");
                let _ = client.close().await;
                drop(driver);
                let _ = std::fs::remove_file(data.join("receiver.json"));
            }
        }
    }
    unreachable!("the loop returns or panics")
}

async fn start_session(data: &std::path::Path) -> (Driver, fantoccini::Client) {
    // WebKit's own compositing, as with a GPU: without it (Hookscope's choice where there is no GPU,
    // src-tauri/app/rendering.rs) WebKitWebDriver takes no screenshots, and the docs' come from this
    // run. The bench measures the app as it starts without a GPU.
    let driver = Driver::start(data, &[("WEBKIT_DISABLE_COMPOSITING_MODE", "0")]);
    let port = driver.port;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        json!({ "application": common::BIN }),
    );
    let client = wait_for(
        "tauri-driver to accept a session",
        Duration::from_secs(30),
        async || {
            ClientBuilder::rustls()
                .ok()?
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .ok()
        },
    )
    .await;
    (driver, client)
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver; run under xvfb-run with --ignored"]
async fn a_posted_notification_appears_in_the_window() {
    let data = tempfile::tempdir().unwrap();
    let (driver, client) = launch(data.path()).await;
    let announced: serde_json::Value = wait_for(
        "the app's receiver to announce itself",
        Duration::from_secs(20),
        async || {
            let bytes = std::fs::read(data.path().join("receiver.json")).ok()?;
            serde_json::from_slice(&bytes).ok()
        },
    )
    .await;
    let local_url = announced["localUrl"].as_str().unwrap().to_owned();
    let header = client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        header.contains(&local_url),
        "the window shows where the receiver listens ({local_url}): {header}"
    );

    // A second process (this test) registers the subscription in the same data directory.
    let engine = Engine::open(EngineConfig::new(data.path())).await.unwrap();
    engine
        .put_subscription(Subscription {
            id: "e2e-sub".into(),
            resource: "me/messages".into(),
            change_type: "created".into(),
            notification_url: format!("{local_url}/notifications"),
            lifecycle_notification_url: None,
            expiration_date_time: "2030-01-01T00:00:00Z".into(),
            include_resource_data: false,
            client_state: Some("e2e-secret".into()),
            tenant_id: None,
            auto_renew: true,
            status: SubscriptionStatus::Active,
            last_error: None,
            ..Default::default()
        })
        .await
        .unwrap();
    engine.close().await;

    let batch = json!({ "value": [
        { "subscriptionId": "e2e-sub", "clientState": "e2e-secret", "changeType": "created",
          "resource": "Users/e2e/Messages/AAMkE2E", "tenantId": "t",
          "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z" },
        { "subscriptionId": "e2e-sub", "clientState": "forged", "changeType": "deleted",
          "resource": "Users/e2e/Messages/FORGED", "tenantId": "t",
          "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z" },
        // Payload content is shown as text: markup in it must run nothing.
        { "subscriptionId": "e2e-sub", "clientState": "e2e-secret", "changeType": "created",
          "resource": "Users/e2e/Messages/<img src=x onerror=\"document.title='pwned'\">",
          "resourceData": { "@odata.id": "javascript:document.title='pwned'",
                            "subject": "<script>document.title='pwned'</script>" },
          "tenantId": "t", "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z" }
    ]});
    let response = reqwest::Client::new()
        .post(format!("{local_url}/notifications"))
        .header("content-type", "application/json")
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);

    let rows = wait_for(
        "both rows in the live list",
        Duration::from_secs(15),
        async || {
            let rows = client
                .find_all(Locator::Css(".notification-row"))
                .await
                .ok()?;
            let mut texts = Vec::new();
            for row in rows {
                // textContent: WebKitWebDriver's rendered-text reading skips ellipsised grid cells.
                let text = row.prop("textContent").await.ok()??;
                texts.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            (texts.len() >= 2).then_some(texts)
        },
    )
    .await;
    screenshot(&client, "live-feed").await;
    let accepted = rows
        .iter()
        .find(|t| t.contains("AAMkE2E"))
        .unwrap_or_else(|| panic!("the accepted notification is listed: {rows:?}"));
    assert!(
        accepted.contains("created") && accepted.contains("accepted"),
        "{accepted}"
    );
    let forged = rows
        .iter()
        .find(|t| t.contains("FORGED"))
        .expect("the forged one is listed too");
    assert!(forged.contains("rejected"), "{forged}");

    // The markup arrived as text and ran nothing, in the list and in the inspector.
    let hostile = wait_for("the hostile row", Duration::from_secs(10), async || {
        row_texts(&client)
            .await?
            .into_iter()
            .find(|r| r.contains("onerror"))
    })
    .await;
    assert!(hostile.contains("<img src=x"), "shown as text: {hostile}");
    client
        .find(Locator::XPath(
            "//*[@id='feed']//*[contains(@class,'notification-row')][contains(., 'onerror')]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let inspected = wait_for(
        "the inspector on the hostile item",
        Duration::from_secs(10),
        async || {
            let text = client
                .find(Locator::Css("#inspector"))
                .await
                .ok()?
                .prop("textContent")
                .await
                .ok()??;
            text.contains("<script>").then_some(text)
        },
    )
    .await;
    assert!(
        inspected.contains("javascript:document.title"),
        "{inspected}"
    );
    for css in [
        "#feed img",
        "#inspector img",
        "#inspector script",
        "#inspector a[href^='javascript']",
    ] {
        assert!(
            client.find_all(Locator::Css(css)).await.unwrap().is_empty(),
            "{css} exists"
        );
    }
    let title = client.title().await.unwrap();
    assert_ne!(title, "pwned");

    // Filtering: text search, then a verdict, narrow the list in place.
    client
        .find(Locator::Css("#inspector button.close"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let search = client.find(Locator::Id("feed-search")).await.unwrap();
    search.send_keys("forged").await.unwrap();
    wait_for("only the forged row", Duration::from_secs(10), async || {
        let rows = row_texts(&client).await?;
        (rows.len() == 1 && rows[0].contains("FORGED")).then_some(())
    })
    .await;
    search.clear().await.unwrap();
    search.send_keys(" ").await.unwrap();
    client
        .find(Locator::Css(
            "select[name='verdict'] option[value='rejected']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for("only rejected rows", Duration::from_secs(10), async || {
        let rows = row_texts(&client).await?;
        (rows.len() == 1 && rows[0].contains("rejected")).then_some(())
    })
    .await;

    client.close().await.unwrap();
    drop(driver);
}

async fn row_texts(client: &fantoccini::Client) -> Option<Vec<String>> {
    let rows = client
        .find_all(Locator::Css(".notification-row"))
        .await
        .ok()?;
    let mut texts = Vec::new();
    for row in rows {
        let text = row.prop("textContent").await.ok()??;
        texts.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    Some(texts)
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver; run under xvfb-run with --ignored"]
async fn try_without_a_tenant_works_offline_with_one_click() {
    let data = tempfile::tempdir().unwrap();
    let (driver, client) = launch(data.path()).await;
    let button = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//button[normalize-space()='Try without a tenant']",
        ))
        .await
        .expect("the first screen offers the simulator");
    button.click().await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("section.sandbox"))
        .await
        .expect("the simulated Graph subscribed the app's receiver");
    for send in ["change", "forged", "rich", "richForged"] {
        client
            .find(Locator::Css(&format!("button[data-send='{send}']")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // One send at a time: the buttons are disabled while a send is in flight.
        let what = format!("the {send} send to finish");
        wait_for(&what, Duration::from_secs(15), async || {
            let result = client
                .find(Locator::Css("[data-testid='sandbox-result']"))
                .await
                .ok()?;
            let enabled = client
                .find(Locator::Css(&format!("button[data-send='{send}']")))
                .await
                .ok()?
                .attr("disabled")
                .await
                .ok()?
                .is_none();
            let text = result.text().await.ok()?;
            assert!(
                !text.contains("rror") && !text.contains("annot"),
                "{send}: {text}"
            );
            (enabled && text.starts_with("Sent")).then_some(())
        })
        .await;
    }
    let rows = wait_for(
        "the simulated deliveries in the live list",
        Duration::from_secs(15),
        async || row_texts(&client).await.filter(|rows| rows.len() >= 4),
    )
    .await;
    assert!(
        rows[0].contains("rejected") && rows[0].contains("tokens invalid"),
        "the forged token, newest: {rows:?}"
    );
    assert!(
        rows[1].contains("accepted") && rows[1].contains("decrypted"),
        "the encrypted chat message, decrypted: {rows:?}"
    );
    let rows = rows[2..].to_vec();
    screenshot(&client, "try-without-a-tenant").await;
    assert!(
        rows[0].contains("rejected"),
        "the forged one, newest: {rows:?}"
    );
    assert!(
        rows[1].contains("created") && rows[1].contains("accepted"),
        "{rows:?}"
    );
    assert!(
        rows[1].contains("Users/"),
        "a realistic Outlook resource: {rows:?}"
    );

    // The decrypted chat message opens in the inspector: ciphertext beside plaintext, checks passed.
    let feed_rows = client
        .find_all(Locator::Css("#feed .notification-row"))
        .await
        .unwrap();
    feed_rows[1].click().await.unwrap();
    let plaintext = wait_for("the inspector", Duration::from_secs(10), async || {
        let text = text_of(&client, "#inspector [data-testid='plaintext']").await?;
        text.contains("Simulated message").then_some(text)
    })
    .await;
    assert!(
        plaintext.contains("\"contentType\": \"text\""),
        "{plaintext}"
    );
    let ciphertext = client
        .find(Locator::Css("#inspector [data-testid='ciphertext']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ciphertext.len() > 40, "the base64 ciphertext: {ciphertext}");
    for check in ["verdict", "tokens", "decryption"] {
        let state = client
            .find(Locator::Css(&format!("#inspector [data-check='{check}']")))
            .await
            .unwrap()
            .attr("data-state")
            .await
            .unwrap();
        assert_eq!(state.as_deref(), Some("passed"), "{check}");
    }
    screenshot(&client, "inspector").await;

    // "Fetch the current resource": the message as the simulated Graph holds it now, with $select.
    let select = client
        .find(Locator::Css("#inspector #current-select"))
        .await
        .unwrap();
    select.send_keys("body").await.unwrap();
    client
        .find(Locator::Css("#inspector [data-action='fetch-current']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let current = wait_for(
        "the current resource",
        Duration::from_secs(15),
        async || {
            if let Some(error) = text_of(&client, "#inspector [data-testid='current-error']").await
            {
                panic!("the fetch failed: {error}");
            }
            text_of(&client, "#inspector [data-testid='current-body']").await
        },
    )
    .await;
    assert!(
        current.contains("\"content\": \"Simulated message")
            && !current.contains("createdDateTime"),
        "the body, and only the selected property: {current}"
    );
    let url = text_of(&client, "#inspector [data-testid='current-url']")
        .await
        .unwrap();
    assert!(
        url.contains("/messages('") && url.contains("?$select=body"),
        "{url}"
    );

    // The item as text: CodeMirror runs under the app's strict CSP, laid out by its own styles (a
    // blocked stylesheet would leave it unstyled: no flex layout), read-only, with its search panel.
    client
        .find(Locator::Css(
            "#inspector section:has([data-testid='item']) .modes button:nth-child(2)",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let editor = wait_for("CodeMirror's text", Duration::from_secs(10), async || {
        let probe = client
            .execute(
                r##"const host = document.querySelector("#inspector [data-testid='item']");
                   const editor = host && host.shadowRoot && host.shadowRoot.querySelector('.cm-editor');
                   if (!editor) return { missing: host ? host.outerHTML.slice(0, 300) + ' editor=' + host.dataset.editor : 'no host' };
                   host.scrollIntoView();
                   return { display: getComputedStyle(editor).display,
                            text: editor.querySelector('.cm-content').textContent,
                            readonly: editor.querySelector('.cm-content').getAttribute('aria-readonly') };"##,
                vec![],
            )
            .await
            .ok()?;
        if probe.get("missing").is_some() {
            eprintln!("CodeMirror not there yet: {probe}");
            return None;
        }
        Some(probe)
    })
    .await;
    assert_eq!(editor["display"], "flex", "styled: {editor}");
    assert_eq!(editor["readonly"], "true");
    assert!(
        editor["text"]
            .as_str()
            .unwrap()
            .contains("\"encryptedContent\": {"),
        "{editor}"
    );
    screenshot(&client, "inspector-text").await;

    // Replayed from the inspector: the receiver judges it again (decrypted again) and the feed marks it.
    let replay = client
        .find(Locator::Css("#inspector [data-action='replay']"))
        .await
        .unwrap();
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&replay).unwrap()],
        )
        .await
        .unwrap();
    replay.click().await.unwrap();
    let result = wait_for("the replay's answer", Duration::from_secs(15), async || {
        let text = text_of(&client, "#inspector [data-testid='replay-result']").await?;
        (!text.is_empty()).then_some(text)
    })
    .await;
    assert!(result.contains("answered 202"), "{result}");
    let replayed = wait_for("the replayed row", Duration::from_secs(15), async || {
        row_texts(&client)
            .await?
            .into_iter()
            .find(|r| r.contains("replayed"))
    })
    .await;
    assert!(
        replayed.contains("decrypted"),
        "judged and decrypted again: {replayed}"
    );
    client.close().await.unwrap();
    drop(driver);
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver; run under xvfb-run with --ignored"]
async fn a_subscription_is_created_from_the_form_and_kept_in_the_table() {
    let data = tempfile::tempdir().unwrap();
    let (driver, client) = launch(data.path()).await;
    let click = async |css: &str| {
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e:?}"))
            .click()
            .await
            .unwrap();
    };
    // Graph is the simulator: one click on the first screen.
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//button[normalize-space()='Try without a tenant']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("section.sandbox"))
        .await
        .unwrap();
    click("#tab-subscriptions").await;
    let status = wait_for("Graph's status", Duration::from_secs(10), async || {
        let text = text_of(&client, "[data-testid='graph-status']").await?;
        text.contains("simulated").then_some(text)
    })
    .await;
    assert!(status.contains("Connected to"), "{status}");

    let table_rows = async || -> Option<Vec<(String, String, String)>> {
        let mut out = Vec::new();
        for row in client
            .find_all(Locator::Css("#subscriptions .subscription-row"))
            .await
            .ok()?
        {
            let status = row.attr("data-status").await.ok()??;
            let id = row.attr("data-id").await.ok()??;
            let text = row.prop("textContent").await.ok()??;
            out.push((
                id,
                status,
                text.split_whitespace().collect::<Vec<_>>().join(" "),
            ));
        }
        Some(out)
    };
    // The sandbox's own subscriptions (a mailbox and rich chat messages) are there, with countdowns.
    wait_for(
        "the sandbox subscriptions",
        Duration::from_secs(10),
        async || table_rows().await.filter(|rows| rows.len() == 2),
    )
    .await;

    // A refusal appears in place, before Graph is bothered.
    let resource = client.find(Locator::Id("resource")).await.unwrap();
    resource
        .send_keys("users/alex@contoso.com/messages")
        .await
        .unwrap();
    let lifetime = client.find(Locator::Id("expires-in")).await.unwrap();
    lifetime.clear().await.unwrap();
    lifetime.send_keys("9d").await.unwrap();
    click("#subscribe-form button[type='submit']").await;
    let shown = client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("subscribe-error"))
        .await;
    let shown = match shown {
        Ok(shown) => shown,
        Err(error) => {
            screenshot(&client, "subscribe-failed").await;
            panic!("the refusal is shown in place: {error:?}");
        }
    };
    let refusal = shown.text().await.unwrap();
    assert!(refusal.contains("at most"), "{refusal}");

    // A valid one is created at the simulated Graph, through the receiver's handshake.
    lifetime.clear().await.unwrap();
    lifetime.send_keys("2h").await.unwrap();
    click("#subscribe-form button[type='submit']").await;
    let rows = wait_for(
        "the new subscription in the table",
        Duration::from_secs(20),
        async || table_rows().await.filter(|rows| rows.len() == 3),
    )
    .await;
    let (new_id, new_status, new_text) = rows
        .iter()
        .find(|(_, _, text)| text.contains("users/alex@contoso.com/messages"))
        .cloned()
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(new_status, "active");
    assert!(
        new_text.contains("1h 5") || new_text.contains("2h 00m"),
        "a live countdown: {new_text}"
    );
    screenshot(&client, "subscriptions").await;

    // Deleting asks once more, then the row shows it removed; the store agrees.
    let delete = format!("tr[data-id='{new_id}'] button[data-action='delete']");
    click(&delete).await;
    click(&delete).await;
    wait_for(
        "the row marked removed",
        Duration::from_secs(15),
        async || {
            table_rows()
                .await?
                .into_iter()
                .find(|(id, status, _)| *id == new_id && status == "removed")
        },
    )
    .await;

    // The Health panel runs the doctor against the simulated Graph: signed in, reachable, each
    // subscription held at Graph.
    click("#tab-health").await;
    let health = async |name: &str| -> Option<String> {
        client
            .find(Locator::Css(&format!("#health [data-check='{name}']")))
            .await
            .ok()?
            .attr("data-health")
            .await
            .ok()?
    };
    wait_for("the doctor's checks", Duration::from_secs(20), async || {
        health("graph").await.filter(|h| h == "ok")
    })
    .await;
    for name in ["credentials", "token", "receiver"] {
        assert_eq!(health(name).await.as_deref(), Some("ok"), "{name}");
    }
    screenshot(&client, "health").await;
    client.close().await.unwrap();
    drop(driver);
    let engine = Engine::open_reader(EngineConfig::new(data.path()))
        .await
        .unwrap();
    let stored = engine.subscriptions().await.unwrap();
    let removed = stored.iter().find(|s| s.id == new_id).unwrap();
    assert_eq!(removed.status, SubscriptionStatus::Removed);
}

/// A notification daemon on this test's private D-Bus session (the test script runs the e2e tests
/// under `dbus-run-session`): dunst, stopped with the test.
struct Dunst(Option<Child>);

impl Drop for Dunst {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn dunstctl(args: &[&str]) -> String {
    let out = Command::new("dunstctl")
        .args(args)
        .output()
        .expect("dunstctl runs (apt install dunst)");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

async fn notification_daemon() -> Dunst {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run the e2e tests under dbus-run-session, as scripts/test.sh does"
    );
    // An earlier test's toast may have activated dunst already; then this one exits and that one serves.
    let child = Command::new("dunst")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok();
    wait_for(
        "a notification daemon on the session bus",
        Duration::from_secs(15),
        async || {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.Notifications",
                ])
                .output()
                .ok()?;
            String::from_utf8_lossy(&out.stdout)
                .contains("boolean true")
                .then_some(())
        },
    )
    .await;
    dunstctl(&["close-all"]);
    Dunst(child)
}

/// The user's own app, as `Forward to` names it: answers 200 and keeps every body it got.
async fn user_app() -> (String, std::sync::Arc<std::sync::Mutex<Vec<bytes::Bytes>>>) {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/api/notifications",
        axum::routing::post(move |body: bytes::Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body);
                "thanks from the app"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/notifications",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[tokio::test]
#[ignore = "needs a display, a D-Bus session and tauri-driver; run under dbus-run-session and xvfb-run with --ignored"]
async fn settings_move_the_receiver_behind_a_public_url_relay_to_my_app_and_a_toast_opens_the_item()
{
    let _daemon = notification_daemon().await;
    let (app_url, got) = user_app().await;
    let data = tempfile::tempdir().unwrap();
    let (driver, client) = launch(data.path()).await;
    let find = async |css: &str| {
        client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e:?}"))
    };
    let fill = async |css: &str, text: &str| {
        let field = find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    };
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//button[normalize-space()='Try without a tenant']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    find("section.sandbox").await;
    let receiver = wait_for(
        "the receiver in the status bar",
        Duration::from_secs(10),
        async || {
            let text = text_of(&client, "[data-testid='status-receiver']").await?;
            text.strip_prefix("Receiver ").map(str::to_owned)
        },
    )
    .await;
    assert_eq!(
        text_of(&client, "[data-testid='status-tunnel']")
            .await
            .as_deref(),
        Some("Local only")
    );
    let port = receiver.rsplit(':').next().unwrap().to_owned();

    // Settings: the user's own public URL (here the receiver itself, so Graph's handshake routes
    // through it) and their app as the forward target.
    find("#tab-settings").await.click().await.unwrap();
    find("input[name='tunnel'][value='publicUrl']")
        .await
        .click()
        .await
        .unwrap();
    fill("input[name='public-url']", &receiver).await;
    fill("input[name='port']", &port).await;
    fill("input[name='forward-to']", &app_url).await;
    find("[data-testid='settings-form'] button[type='submit']")
        .await
        .click()
        .await
        .unwrap();
    wait_for(
        "the tunnel online in the status bar",
        Duration::from_secs(20),
        async || {
            let text = text_of(&client, "[data-testid='status-tunnel']").await?;
            text.contains("Tunnel online").then_some(())
        },
    )
    .await;
    screenshot(&client, "settings").await;
    let public = client
        .find(Locator::Css("[data-testid='status-public-url']"))
        .await
        .unwrap()
        .prop("textContent")
        .await
        .unwrap();
    assert_eq!(public, Some(format!("{receiver}/notifications")));
    let forward = text_of(&client, "[data-testid='status-forward']")
        .await
        .unwrap();
    assert!(forward.contains(&app_url), "{forward}");

    // A change from the simulated Graph: stored, handed on to the app byte for byte, and toasted.
    find("#tab-feed").await.click().await.unwrap();
    find("button[data-send='change']")
        .await
        .click()
        .await
        .unwrap();
    let relayed = wait_for(
        "the delivery at the user's app",
        Duration::from_secs(20),
        async || got.lock().unwrap().first().cloned(),
    )
    .await;
    assert!(
        String::from_utf8_lossy(&relayed).contains("\"changeType\""),
        "{relayed:?}"
    );
    wait_for(
        "the toast on the desktop",
        Duration::from_secs(20),
        async || (dunstctl(&["count", "displayed"]).parse::<u32>().ok()? >= 1).then_some(()),
    )
    .await;
    assert!(
        client.find(Locator::Css("#inspector")).await.is_err(),
        "nothing is open before the click"
    );
    // The whole screen, with the toast in its corner (ImageMagick; the picture is for the docs only).
    let _ = Command::new("import")
        .args(["-window", "root"])
        .arg(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-toast.png"))
        .status();
    // A click on the toast (dunst's default action) opens the item in the inspector.
    dunstctl(&["action", "0"]);
    let inspector = wait_for(
        "the inspector opened by the toast",
        Duration::from_secs(15),
        async || {
            let text = text_of(&client, "#inspector").await?;
            text.contains("thanks from the app").then_some(text)
        },
    )
    .await;
    assert!(inspector.contains("Users/"), "{inspector}");

    dunstctl(&["close-all"]);
    let history: serde_json::Value = serde_json::from_str(&dunstctl(&["history"])).unwrap();
    let toasts: Vec<(String, String, String)> = history["data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let field = |name: &str| t[name]["data"].as_str().unwrap_or_default().to_owned();
            (field("appname"), field("summary"), field("body"))
        })
        .filter(|(app, ..)| app == "Hookscope")
        .collect();
    assert_eq!(
        toasts.len(),
        1,
        "one toast for one notification: {toasts:?}"
    );
    assert_eq!(toasts[0].1, "New notification");
    assert!(toasts[0].2.contains("created: Users/"), "{toasts:?}");
    client.close().await.unwrap();
    drop(driver);

    let engine = Engine::open_reader(EngineConfig::new(data.path()))
        .await
        .unwrap();
    let recorded = engine.store().toasts(0).await.unwrap();
    assert!(
        recorded
            .iter()
            .any(|t| t.shown && t.summary == "New notification"),
        "{recorded:?}"
    );
}
