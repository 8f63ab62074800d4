//! The app's settings in a real SQLite file, and the receiver and tunnel they start: refused input
//! with its sentence, the ngrok authtoken kept out of the database, a port or tunnel change taking
//! effect at once, and a taken port falling back to a free one.

use std::time::{Duration, Instant};

use hookscope_engine::receiver::ReceiverStatus;
use hookscope_engine::settings::{self, Live, Settings, SettingsChange, TunnelMode};
use hookscope_engine::tunnel::{SupervisorTimings, TunnelState};
use hookscope_engine::{Engine, EngineConfig};

async fn engine() -> (Engine, tempfile::TempDir) {
    std::env::set_var("HOOKSCOPE_KEYRING", "file");
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(EngineConfig::new(dir.path()))
        .await
        .expect("engine opens");
    (engine, dir)
}

fn change(settings: Settings) -> SettingsChange {
    SettingsChange {
        settings,
        ngrok_authtoken: None,
        forget_ngrok_authtoken: false,
    }
}

fn quick() -> SupervisorTimings {
    SupervisorTimings {
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(200),
        route_deadline: Duration::from_millis(800),
        probe_interval: Duration::from_millis(50),
    }
}

/// Waits (up to 10 s) for the live status to satisfy `done`.
async fn status_until(live: &Live, done: impl Fn(&ReceiverStatus) -> bool) -> ReceiverStatus {
    let mut status = live.status();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = status.borrow_and_update().clone();
        if done(&now) {
            return now;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, status.changed()).await.is_err() {
            panic!("the status never got there; last: {now:?}");
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fails when `file` is missing (a scan of nothing proves nothing) or holds the token.
fn holds_no_token(dir: &std::path::Path, file: &str, token: &str) {
    let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "{file} holds the authtoken"
    );
}

#[tokio::test]
async fn settings_survive_a_restart_and_bad_ones_are_refused_with_a_reason() {
    let (engine, dir) = engine().await;
    assert_eq!(settings::load(&engine).await, Settings::default());

    let refused = [
        (
            Settings {
                tunnel: TunnelMode::PublicUrl,
                ..Settings::default()
            },
            "Give the public URL",
        ),
        (
            Settings {
                forward_to: Some("ftp://localhost/x".into()),
                ..Settings::default()
            },
            "must be an http:// or https:// URL",
        ),
        (
            Settings {
                forward_handshake: true,
                ..Settings::default()
            },
            "needs a forward target",
        ),
        (
            Settings {
                ngrok_domain: Some("my domain".into()),
                ..Settings::default()
            },
            "is not a host name",
        ),
        (
            Settings {
                retention_days: Some(0),
                ..Settings::default()
            },
            "Keep deliveries for 1 to 3650 days, or leave the retention empty to keep everything.",
        ),
    ];
    for (bad, why) in refused {
        let error = settings::save(&engine, change(bad.clone()))
            .await
            .unwrap_err();
        assert!(error.to_string().contains(why), "{bad:?}: {error}");
    }
    assert_eq!(
        settings::load(&engine).await,
        Settings::default(),
        "a refused change saves nothing"
    );

    let wanted = Settings {
        port: 9123,
        tunnel: TunnelMode::PublicUrl,
        public_url: Some("  https://hooks.example.com/ ".into()),
        ngrok_domain: Some("https://quiet-fox.ngrok-free.app/".into()),
        forward_to: Some("http://localhost:3000/api/notifications".into()),
        forward_handshake: true,
        theme: settings::Theme::Dark,
        retention_days: Some(14),
        ..Settings::default()
    };
    let token = "2abcDEFghiJKLmnoPQRstuVWXyz_0123456789secretTOKEN";
    let saved = settings::save(
        &engine,
        SettingsChange {
            settings: wanted,
            ngrok_authtoken: Some(format!(" {token}\n")),
            forget_ngrok_authtoken: false,
        },
    )
    .await
    .expect("good settings save");
    assert_eq!(
        saved.public_url.as_deref(),
        Some("https://hooks.example.com")
    );
    assert_eq!(
        saved.ngrok_domain.as_deref(),
        Some("quiet-fox.ngrok-free.app")
    );
    // While the engine is open the saved settings sit in the WAL; after closing, in the database.
    holds_no_token(dir.path(), "hookscope.sqlite3-wal", token);
    engine.close().await;

    // A second process (the app started again) reads them back; the token is only known to be set.
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    let view = settings::view(&engine).await;
    assert_eq!(view.settings, saved);
    assert!(view.ngrok_authtoken_set);
    assert_eq!(
        hookscope_engine::tunnel::ngrok_authtoken(dir.path()).as_deref(),
        Some(token)
    );
    let shown = serde_json::to_string(&view).unwrap();
    assert!(
        !shown.contains(token),
        "the view carries no secret: {shown}"
    );
    engine.close().await;
    holds_no_token(dir.path(), "hookscope.sqlite3", token);

    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    settings::save(
        &engine,
        SettingsChange {
            settings: saved,
            ngrok_authtoken: None,
            forget_ngrok_authtoken: true,
        },
    )
    .await
    .unwrap();
    assert!(!settings::view(&engine).await.ngrok_authtoken_set);
    engine.close().await;
}

#[tokio::test]
async fn the_receiver_and_tunnel_follow_the_settings() {
    let (engine, _dir) = engine().await;
    let live = Live::new(engine.clone(), quick());
    let port = free_port();
    let local_only = Settings {
        port,
        ..Settings::default()
    };
    live.apply(&local_only).await;
    let status = live.current();
    let urls = status.urls.clone().expect("listening");
    assert_eq!(urls.local_url, format!("http://127.0.0.1:{port}"));
    assert_eq!(urls.public_url, None);
    assert_eq!(status.tunnel, None, "local only has no tunnel");

    // The user's own tunnel (here the receiver itself, so Graph's handshake really routes).
    let public = format!("http://127.0.0.1:{port}");
    let tunnelled = Settings {
        tunnel: TunnelMode::PublicUrl,
        public_url: Some(public.clone()),
        ..local_only.clone()
    };
    live.apply(&tunnelled).await;
    let status = status_until(&live, |s| {
        matches!(s.tunnel, Some(TunnelState::Online { .. }))
    })
    .await;
    let urls = status.urls.unwrap();
    assert_eq!(urls.public_url.as_deref(), Some(public.as_str()));
    assert_eq!(urls.notification_url, format!("{public}/notifications"));

    // A URL that does not route never gets announced.
    let elsewhere = Settings {
        public_url: Some(format!("http://127.0.0.1:{}", free_port())),
        ..tunnelled.clone()
    };
    live.apply(&elsewhere).await;
    let status = status_until(&live, |s| {
        matches!(s.tunnel, Some(TunnelState::Offline { .. }))
    })
    .await;
    assert_eq!(status.urls.unwrap().public_url, None);

    // Only the theme changed: the receiver keeps running where it was (not even restarted in place).
    let before = live.current();
    let mut watching = live.status();
    watching.borrow_and_update();
    live.apply(&Settings {
        theme: settings::Theme::Light,
        ..elsewhere.clone()
    })
    .await;
    assert_eq!(live.current(), before);
    assert!(
        !watching.has_changed().unwrap(),
        "the receiver was restarted"
    );

    // Back to local only, on another port: the old port is closed.
    let moved = Settings {
        port: free_port(),
        ..Settings::default()
    };
    live.apply(&moved).await;
    let status = live.current();
    assert_eq!(status.tunnel, None);
    assert_eq!(
        status.urls.unwrap().local_url,
        format!("http://127.0.0.1:{}", moved.port)
    );
    assert!(
        reqwest::get(format!("{public}/notifications"))
            .await
            .is_err(),
        "the old port still answers"
    );
    live.stop().await;
    engine.close().await;
}

#[tokio::test]
async fn a_taken_port_falls_back_to_a_free_one_and_a_forward_target_is_shown() {
    let (engine, _dir) = engine().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let live = Live::new(engine.clone(), quick());
    live.apply(&Settings {
        port,
        forward_to: Some("http://127.0.0.1:9/hooks".into()),
        ..Settings::default()
    })
    .await;
    let status = live.current();
    let urls = status.urls.expect("listening somewhere");
    assert_ne!(urls.local_url, format!("http://127.0.0.1:{port}"));
    assert_eq!(
        status.forward_to.as_deref(),
        Some("http://127.0.0.1:9/hooks")
    );
    let answer = reqwest::get(format!(
        "{}/notifications?validationToken=abc",
        urls.local_url
    ))
    .await
    .unwrap();
    assert_eq!(answer.text().await.unwrap(), "abc");
    live.stop().await;
    engine.close().await;
}
