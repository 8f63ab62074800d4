//! Toasts from real deliveries to a real receiver: coalesced per subscription with a count, muted per
//! subscription and globally, lifecycle events, keeper failures, a tunnel going down and an expiry
//! without auto-renew each toast; every toast is recorded, and one the desktop cannot show is recorded
//! as such while the receiver goes on answering 202. The real notification daemon is in the e2e test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{lifecycle_item, message_item, Harness};
use hookscope_engine::bus::Event;
use hookscope_engine::model::{
    KeeperAction, KeeperEvent, Subscription, SubscriptionStatus, ToastKind, ToastRecord,
};
use hookscope_engine::settings::ToastSettings;
use hookscope_engine::toasts::{self, Desktop, NotifyRust, Toast, ToastTimings};
use hookscope_engine::tunnel::TunnelState;
use serde_json::json;
use tokio::sync::watch;

/// Stands in for the desktop: remembers what it was asked to show, or refuses like a machine with no
/// notification service.
#[derive(Default)]
struct Recording {
    shown: Mutex<Vec<Toast>>,
    refuse: bool,
}

impl Desktop for Recording {
    fn show(&self, toast: &Toast) -> Result<(), String> {
        if self.refuse {
            return Err("no notification service".into());
        }
        self.shown.lock().unwrap().push(toast.clone());
        Ok(())
    }
}

fn quick() -> ToastTimings {
    ToastTimings {
        coalesce: Duration::from_millis(400),
        expiry_check: Duration::from_millis(100),
        expiry_warning: Duration::from_secs(15 * 60),
    }
}

async fn records_until(h: &Harness, done: impl Fn(&[ToastRecord]) -> bool) -> Vec<ToastRecord> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut records = h.engine.store().toasts(0).await.unwrap();
        records.reverse(); // oldest first
        if done(&records) {
            return records;
        }
        assert!(Instant::now() < deadline, "toasts so far: {records:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn batch(items: Vec<serde_json::Value>) -> serde_json::Value {
    json!({ "value": items })
}

#[tokio::test]
async fn a_burst_toasts_once_then_once_with_the_count_and_mutes_hold() {
    let h = Harness::start().await;
    h.subscription("sub-loud", Some("s")).await;
    h.subscription("sub-muted", Some("s")).await;
    let desktop = Arc::new(Recording::default());
    let (settings, watched) = watch::channel(ToastSettings {
        enabled: true,
        muted: vec!["sub-muted".into()],
    });
    let timings = ToastTimings {
        coalesce: Duration::from_secs(1),
        ..quick()
    };
    let _toaster = toasts::start(h.engine.clone(), watched, desktop.clone(), timings);

    let first = h
        .post_json(
            "/notifications",
            &batch(vec![message_item("sub-loud", Some("s"), 0)]),
        )
        .await;
    assert_eq!(first.status(), 202);
    let rest = (1..5)
        .map(|n| message_item("sub-loud", Some("s"), n))
        .collect();
    assert_eq!(
        h.post_json("/notifications", &batch(rest)).await.status(),
        202
    );
    h.post_json(
        "/notifications",
        &batch(vec![message_item("sub-muted", Some("s"), 9)]),
    )
    .await;
    // Forged (wrong clientState): rejected, so no toast.
    h.post_json(
        "/notifications",
        &batch(vec![message_item("sub-loud", Some("nope"), 7)]),
    )
    .await;

    let records = records_until(&h, |r| r.len() >= 2).await;
    assert_eq!(records[0].summary, "New notification");
    assert!(
        records[0]
            .body
            .contains("created: Users/7b2f/Messages/AAMk0"),
        "{}",
        records[0].body
    );
    assert_eq!(records[1].summary, "4 more notifications");
    assert!(records
        .iter()
        .all(|r| r.shown && r.subscription_id.as_deref() == Some("sub-loud")));
    let newest = h.all_notifications().await;
    let last_loud = newest
        .iter()
        .find(|n| {
            n.subscription_id.as_deref() == Some("sub-loud")
                && n.verdict == hookscope_engine::model::Verdict::Accepted
        })
        .unwrap();
    assert_eq!(
        records[1].notification_id.as_deref(),
        Some(last_loud.id.as_str()),
        "a click opens the newest"
    );

    // Globally off: nothing more, even after the window.
    settings.send_replace(ToastSettings {
        enabled: false,
        muted: vec![],
    });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.post_json(
        "/notifications",
        &batch(vec![message_item("sub-loud", Some("s"), 11)]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(h.engine.store().toasts(0).await.unwrap().len(), 2);
    assert_eq!(desktop.shown.lock().unwrap().len(), 2);
    h.stop().await;
}

#[tokio::test]
async fn lifecycle_events_keeper_failures_tunnel_drops_and_expiries_toast_at_once() {
    let h = Harness::start().await;
    h.subscription("sub-life", Some("s")).await;
    let expires = hookscope_engine::clock::rfc3339_millis(
        hookscope_engine::clock::now_micros() + 5 * 60 * 1_000_000,
    );
    h.engine
        .put_subscription(Subscription {
            id: "sub-manual".into(),
            resource: "users".into(),
            change_type: "updated".into(),
            notification_url: h.url("/notifications"),
            expiration_date_time: expires,
            auto_renew: false,
            status: SubscriptionStatus::Active,
            ..Default::default()
        })
        .await
        .unwrap();
    let desktop = Arc::new(Recording::default());
    let (_settings, watched) = watch::channel(ToastSettings::default());
    let _toaster = toasts::start(h.engine.clone(), watched, desktop.clone(), quick());
    let expiring = records_until(&h, |r| r.iter().any(|t| t.kind == ToastKind::Expiring)).await;
    assert!(
        expiring[0]
            .summary
            .starts_with("Subscription sub-manu expires in 5 min"),
        "{}",
        expiring[0].summary
    );
    assert!(expiring[0].body.contains("not renewed automatically"));

    h.post_json(
        "/lifecycle",
        &batch(vec![lifecycle_item(
            "sub-life",
            "s",
            "reauthorizationRequired",
        )]),
    )
    .await;
    h.engine.bus().publish(Event::Keeper {
        event: KeeperEvent {
            id: "k1".into(),
            at: hookscope_engine::clock::rfc3339_millis(hookscope_engine::clock::now_micros()),
            subscription_id: "sub-life".into(),
            action: KeeperAction::Renewed,
            ok: false,
            message: "Graph refused the renewal (403); grant Mail.Read again.".into(),
            expiration_date_time: None,
            new_subscription_id: None,
        },
    });
    for state in [
        TunnelState::Connecting,
        TunnelState::Online {
            url: "https://a.example".into(),
        },
        TunnelState::Reconnecting {
            reason: "The ngrok session dropped.".into(),
        },
        TunnelState::Offline {
            reason: "still down".into(),
            retrying: true,
        },
    ] {
        h.engine.bus().publish(Event::Tunnel { state });
    }
    let records = records_until(&h, |r| r.len() >= 4).await;
    let kinds: Vec<ToastKind> = records.iter().map(|r| r.kind).collect();
    for kind in [
        ToastKind::Lifecycle,
        ToastKind::KeeperFailed,
        ToastKind::TunnelDown,
    ] {
        assert_eq!(kinds.iter().filter(|k| **k == kind).count(), 1, "{kinds:?}");
    }
    let life = records
        .iter()
        .find(|r| r.kind == ToastKind::Lifecycle)
        .unwrap();
    assert_eq!(life.summary, "Lifecycle event: reauthorizationRequired");
    let keeper = records
        .iter()
        .find(|r| r.kind == ToastKind::KeeperFailed)
        .unwrap();
    assert!(keeper.body.contains("grant Mail.Read again"));
    let tunnel = records
        .iter()
        .find(|r| r.kind == ToastKind::TunnelDown)
        .unwrap();
    assert_eq!(
        tunnel.body, "The ngrok session dropped.",
        "one toast per drop, not per retry"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        h.engine
            .store()
            .toasts(0)
            .await
            .unwrap()
            .iter()
            .filter(|t| t.kind == ToastKind::Expiring)
            .count(),
        1,
        "an expiry is announced once"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_toast_the_desktop_cannot_show_is_recorded_and_the_receiver_goes_on() {
    let h = Harness::start().await;
    h.subscription("sub-x", Some("s")).await;
    let refusing = Arc::new(Recording {
        refuse: true,
        ..Recording::default()
    });
    let (_settings, watched) = watch::channel(ToastSettings::default());
    let _toaster = toasts::start(h.engine.clone(), watched, refusing, quick());
    let answer = h
        .post_json(
            "/notifications",
            &batch(vec![message_item("sub-x", Some("s"), 1)]),
        )
        .await;
    assert_eq!(answer.status(), 202);
    let records = records_until(&h, |r| !r.is_empty()).await;
    assert!(!records[0].shown);
    assert_eq!(records[0].error.as_deref(), Some("no notification service"));
    assert_eq!(h.all_notifications().await.len(), 1);
    h.stop().await;
}

#[tokio::test]
async fn notify_rust_without_a_session_bus_says_so_in_a_sentence() {
    // A bus address that leads nowhere: the state of a plain CI shell or a headless server.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/hookscope-test-bus",
    );
    let toast = Toast {
        kind: ToastKind::Notifications,
        summary: "New notification".into(),
        body: "<img src=x onerror=alert(1)>".into(),
        subscription_id: None,
        notification_id: None,
    };
    let outcome = tokio::task::spawn_blocking(move || NotifyRust::default().show(&toast))
        .await
        .unwrap();
    let error = outcome.unwrap_err();
    assert!(
        error.contains("is a notification service running?"),
        "{error}"
    );
}

#[tokio::test]
async fn a_mute_applies_to_the_next_event_and_drops_what_was_held() {
    let h = Harness::start().await;
    h.subscription("sub-m", Some("s")).await;
    let desktop = Arc::new(Recording::default());
    let (settings, watched) = watch::channel(ToastSettings::default());
    // A long expiry check, so nothing but events and the window wake the toaster.
    let timings = ToastTimings {
        coalesce: Duration::from_millis(800),
        expiry_check: Duration::from_secs(3600),
        ..quick()
    };
    let _toaster = toasts::start(h.engine.clone(), watched, desktop.clone(), timings);
    h.post_json(
        "/notifications",
        &batch(vec![message_item("sub-m", Some("s"), 0)]),
    )
    .await;
    records_until(&h, |r| r.len() == 1).await;
    let held = (1..4)
        .map(|n| message_item("sub-m", Some("s"), n))
        .collect();
    h.post_json("/notifications", &batch(held)).await;
    settings.send_replace(ToastSettings {
        enabled: true,
        muted: vec!["sub-m".into()],
    });
    h.post_json(
        "/notifications",
        &batch(vec![message_item("sub-m", Some("s"), 9)]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let records = h.engine.store().toasts(0).await.unwrap();
    assert_eq!(
        records.len(),
        1,
        "the held three were muted before their toast: {records:#?}"
    );
    h.stop().await;
}
