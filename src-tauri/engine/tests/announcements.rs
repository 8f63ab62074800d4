//! A stale `receiver.json` or `simulator.json` (its process gone, or its loopback port now served by a
//! program that is not Hookscope) is never used: nothing secret reaches that port, and the user is
//! told what to start. A live announcement is used.

mod common;

use std::net::SocketAddr;

use common::recorder::client as graph_client;
use common::recorder::{recorder, Recorded};
use hookscope_engine::engine::Announcement;
use hookscope_engine::graph::settings::{hosts, resolve};
use hookscope_engine::graph::GraphSettings;
use hookscope_engine::receiver::ReceiverUrls;
use hookscope_engine::simulator::{self, SimulatorAnnouncement, SimulatorOptions};
use hookscope_engine::subscriptions::{self, Lifetime, SubscribeRequest};
use hookscope_engine::{Engine, EngineConfig};

/// The id of a process that has exited (and been reaped): what a crashed receiver leaves behind.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn write(path: &std::path::Path, value: &impl serde::Serialize) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// An engine on a fresh data directory with no receiver of its own.
async fn engine() -> (Engine, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    (engine, dir)
}

fn stale_receiver(pid: u32, local: &str) -> Announcement {
    let address: SocketAddr = local.trim_start_matches("http://").parse().unwrap();
    Announcement {
        pid,
        urls: ReceiverUrls::new(address, None),
    }
}

fn subscribe_request() -> SubscribeRequest {
    SubscribeRequest {
        resource: "users/alex@contoso.com/messages".into(),
        change_types: "created".into(),
        lifetime: Lifetime::Seconds(3_600),
        rich: false,
        lifecycle: true,
        auto_renew: true,
        notification_url: None,
    }
}

const NO_RECEIVER: &str = "No receiver is running for this data directory; start `hookscope listen` or the app, or pass --notification-url.";

#[tokio::test]
async fn a_receiver_announcement_whose_process_is_gone_is_ignored_without_a_request() {
    let (engine, _dir) = engine().await;
    let (elsewhere, log) = recorder().await;
    write(
        &engine.config().announcement_path(),
        &stale_receiver(dead_pid(), &elsewhere),
    );
    assert_eq!(subscriptions::running_receiver(&engine).await, None);
    // Graph is the recorder too: nothing at all may be sent before the missing receiver is reported.
    let error = subscriptions::subscribe(&engine, &graph_client(&elsewhere), &subscribe_request())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), NO_RECEIVER);
    assert_eq!(*log.lock().unwrap(), []);
}

#[tokio::test]
async fn a_receiver_announcement_whose_port_is_someone_elses_is_ignored() {
    let (engine, _dir) = engine().await;
    let (elsewhere, log) = recorder().await;
    // This test's own pid: alive, so only the probe can tell the port is no Hookscope receiver.
    write(
        &engine.config().announcement_path(),
        &stale_receiver(std::process::id(), &elsewhere),
    );
    let error = subscriptions::subscribe(&engine, &graph_client(&elsewhere), &subscribe_request())
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), NO_RECEIVER);
    // One handshake probe, carrying nothing but Graph's public validation token.
    let got = log.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].method.as_str(), got[0].path.as_str()),
        ("POST", "/notifications")
    );
    assert!(got[0]
        .query
        .as_deref()
        .is_some_and(|q| q
            .starts_with("validationToken=Validation%3a+Testing+client+application+reachability")));
    assert_eq!(got[0].authorization, None);
    assert_eq!(got[0].body, b"");
}

#[tokio::test]
async fn a_live_receiver_announcement_is_used() {
    let h = common::Harness::start().await;
    let found = subscriptions::running_receiver(&h.engine).await.unwrap();
    assert_eq!(found.pid, std::process::id());
    assert_eq!(&found.urls, h.listening.as_ref().unwrap().urls());
    h.stop().await;
}

const NO_CREDENTIALS: &str = "No Graph credentials: run `hookscope login` (or set HOOKSCOPE_TENANT_ID, HOOKSCOPE_CLIENT_ID and HOOKSCOPE_CLIENT_SECRET), or run `hookscope simulate` to try without a tenant.";

fn stale_simulator(pid: u32, url: &str) -> SimulatorAnnouncement {
    SimulatorAnnouncement {
        pid,
        graph_url: url.to_owned(),
        login_url: url.to_owned(),
        tenant_id: simulator::SIMULATOR_TENANT_ID.into(),
        client_id: simulator::SIMULATOR_CLIENT_ID.into(),
    }
}

/// Sign-in falls back to the global cloud and resolving says how to start the simulator; the stale
/// URL is never chosen.
async fn assert_simulator_ignored(engine: &Engine) {
    let data_dir = &engine.config().data_dir;
    assert_eq!(simulator::announced(data_dir).await, None);
    assert_eq!(
        hosts(&GraphSettings::default(), data_dir).await.unwrap(),
        (
            "https://graph.microsoft.com".to_owned(),
            "https://login.microsoftonline.com".to_owned()
        )
    );
    let error = resolve(&GraphSettings::default(), engine)
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), NO_CREDENTIALS);
}

#[tokio::test]
async fn a_simulator_announcement_whose_process_is_gone_is_ignored_without_a_request() {
    let (engine, dir) = engine().await;
    let (elsewhere, log) = recorder().await;
    write(
        &simulator::announcement_path(dir.path()),
        &stale_simulator(dead_pid(), &elsewhere),
    );
    assert_simulator_ignored(&engine).await;
    assert_eq!(*log.lock().unwrap(), []);
}

#[tokio::test]
async fn a_simulator_announcement_whose_port_is_someone_elses_gets_no_secret() {
    let (engine, dir) = engine().await;
    let (elsewhere, log) = recorder().await;
    write(
        &simulator::announcement_path(dir.path()),
        &stale_simulator(std::process::id(), &elsewhere),
    );
    assert_simulator_ignored(&engine).await;
    // Only the unauthenticated probes (one per look: announced, hosts, resolve), never a token request.
    let got = log.lock().unwrap().clone();
    let probe = Recorded {
        method: "GET".into(),
        path: "/_simulator".into(),
        query: None,
        authorization: None,
        body: Vec::new(),
    };
    assert_eq!(got, vec![probe.clone(), probe.clone(), probe]);
}

#[tokio::test]
async fn a_live_simulator_announcement_is_used() {
    let (engine, dir) = engine().await;
    let running = simulator::start(SimulatorOptions::default()).await.unwrap();
    simulator::announce(dir.path(), &running).unwrap();
    let credentials = resolve(&GraphSettings::default(), &engine).await.unwrap();
    assert_eq!(
        (
            credentials.graph_url.as_str(),
            credentials.login_url.as_str(),
            credentials.client_secret.as_str()
        ),
        (
            running.url(),
            running.url(),
            simulator::SIMULATOR_CLIENT_SECRET
        )
    );
    assert_eq!(
        hosts(&GraphSettings::default(), dir.path()).await.unwrap(),
        (running.url().to_owned(), running.url().to_owned())
    );
    running.stop().await;
    // Stopped: its port no longer answers, so the announcement it left is ignored.
    assert_eq!(simulator::announced(dir.path()).await, None);
}
