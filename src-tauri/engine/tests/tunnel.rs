//! The tunnel behind one trait and one supervisor: ngrok's failure paths for real (no authtoken; an
//! unreachable ngrok service, here a closed local port), and the state machine with URLs that do or do
//! not route to a real receiver. Re-pointing subscriptions when the URL moves is in the subscriptions
//! tests, with the keeper.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Harness;
use hookscope_engine::bus::Event;
use hookscope_engine::tunnel::{
    ngrok_failure, supervise, ExternalUrl, NgrokOptions, NgrokTunnel, SupervisorTimings, Tunnel,
    TunnelError, TunnelState,
};

fn quick() -> SupervisorTimings {
    SupervisorTimings {
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(200),
        route_deadline: Duration::from_millis(800),
        probe_interval: Duration::from_millis(50),
    }
}

/// The tunnel states published on the bus until `done` says enough (or 10 s pass).
async fn states_until(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    done: impl Fn(&[TunnelState]) -> bool,
) -> Vec<TunnelState> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !done(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(Event::Tunnel { state })) => seen.push(state),
            Ok(_) => {}
            Err(_) => panic!("tunnel states so far: {seen:?}"),
        }
    }
    seen
}

/// Supervises `tunnel` for the harness's receiver, publishing on its bus.
fn watch<T: hookscope_engine::tunnel::Tunnel>(
    h: &Harness,
    tunnel: T,
) -> hookscope_engine::tunnel::Supervised {
    supervise(tunnel, h.base.clone(), h.engine.bus().clone(), quick())
}

/// Every `Offline` state: its reason and whether Hookscope retries.
fn offline(states: &[TunnelState]) -> Vec<(&str, bool)> {
    states
        .iter()
        .filter_map(|s| match s {
            TunnelState::Offline { reason, retrying } => Some((reason.as_str(), *retrying)),
            _ => None,
        })
        .collect()
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    addr
}

#[tokio::test]
async fn ngrok_without_an_authtoken_says_where_to_get_one_and_stops() {
    let h = Harness::start().await;
    let mut events = h.engine.events();
    let tunnel = watch(&h, NgrokTunnel::new(NgrokOptions::default()));
    let states = states_until(&mut events, |s| !offline(s).is_empty()).await;
    assert_eq!(states[0], TunnelState::Connecting);
    let (reason, retrying) = offline(&states)[0];
    assert!(!retrying, "nothing to retry until the user sets a token");
    assert!(
        reason.contains("NGROK_AUTHTOKEN") && reason.contains("dashboard.ngrok.com"),
        "{reason}"
    );
    tunnel.stop();
    h.stop().await;
}

#[tokio::test]
async fn an_unreachable_ngrok_service_is_offline_and_tried_again() {
    let h = Harness::start().await;
    let mut events = h.engine.events();
    let tunnel = watch(
        &h,
        NgrokTunnel::new(NgrokOptions {
            authtoken: Some("2abcdefghijklmnopqrstuvwxyz_0123456789ABCDEF".into()),
            domain: None,
            server_addr: Some(closed_port()),
            ca_cert: None,
        }),
    );
    let states = states_until(&mut events, |s| offline(s).len() >= 3).await;
    for (reason, retrying) in offline(&states) {
        assert!(retrying);
        assert!(reason.contains("ngrok cannot be reached"), "{reason}");
    }
    assert!(
        !states
            .iter()
            .any(|s| matches!(s, TunnelState::Online { .. })),
        "never announced"
    );
    tunnel.stop();
    h.stop().await;
}

#[tokio::test]
async fn a_url_is_announced_only_once_graphs_handshake_comes_through_it() {
    let h = Harness::start().await;
    let mut events = h.engine.events();
    // The user's own tunnel, routing to this receiver under another host name.
    let routed = h.base.replace("127.0.0.1", "localhost");
    let tunnel = watch(&h, ExternalUrl(routed.clone()));
    let states = states_until(&mut events, |s| {
        s.iter().any(|s| matches!(s, TunnelState::Online { .. }))
    })
    .await;
    assert_eq!(
        states,
        vec![TunnelState::Connecting, TunnelState::Online { url: routed }]
    );
    assert_eq!(*tunnel.states.borrow(), states[1]);
    tunnel.stop();

    // A URL that leads nowhere is never announced: offline, and opened again.
    let nowhere = format!("http://{}", closed_port());
    let tunnel = watch(&h, ExternalUrl(nowhere.clone()));
    let states = states_until(&mut events, |s| !offline(s).is_empty()).await;
    let (reason, retrying) = offline(&states)[0];
    assert!(
        retrying && reason.contains(&nowhere) && reason.contains("does not come through"),
        "{reason}"
    );
    tunnel.stop();
    h.stop().await;
}

const TOKEN: &str = "2abcdefghijklmnopqrstuvwxyz_0123456789ABCDEF";

/// An error as the `ngrok` crate reports one: ngrok's code when its server refused, and its words.
#[derive(Debug)]
struct NgrokSaid {
    code: Option<&'static str>,
    msg: String,
}

impl std::fmt::Display for NgrokSaid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for NgrokSaid {}

impl ngrok::Error for NgrokSaid {
    fn error_code(&self) -> Option<&str> {
        self.code
    }
    fn msg(&self) -> String {
        self.msg.clone()
    }
}

/// A tunnel whose every open meets the same ngrok error, turned into text the way `NgrokTunnel` does;
/// it counts the attempts.
struct Refused {
    said: fn() -> NgrokSaid,
    attempts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Tunnel for Refused {
    async fn open(&mut self, _local: &str) -> Result<String, TunnelError> {
        self.attempts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(ngrok_failure(&(self.said)(), TOKEN, None))
    }

    async fn closed(&mut self) -> String {
        std::future::pending().await
    }
}

/// Waits until the supervisor has ended for good (its state's sender is gone), or fails after 10 s.
async fn ended(tunnel: &mut hookscope_engine::tunnel::Supervised) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tunnel.states.changed()).await {
            Ok(Ok(())) => continue,
            Ok(Err(_)) => return,
            Err(_) => panic!("still supervising: {:?}", *tunnel.states.borrow()),
        }
    }
}

#[tokio::test]
async fn a_refused_authtoken_ends_offline_after_one_attempt_without_quoting_it() {
    let h = Harness::start().await;
    let mut events = h.engine.events();
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tunnel = watch(
        &h,
        Refused {
            said: || {
                NgrokSaid {
                code: Some("ERR_NGROK_107"),
                msg: format!(
                    "The authtoken you specified is properly formed, but it is invalid.\n\nYour authtoken: {TOKEN}\n\nThis usually happens when:"
                ),
            }
            },
            attempts: attempts.clone(),
        },
    );
    ended(&mut tunnel).await;
    let expected = TunnelState::Offline {
        reason: "ngrok refused the authtoken (ERR_NGROK_107: The authtoken you specified is properly formed, but it is invalid); get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring).".into(),
        retrying: false,
    };
    assert_eq!(*tunnel.states.borrow(), expected);
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 1);
    // What the fronts saw on the bus, in order, and nothing else.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let Event::Tunnel { state } = event {
            seen.push(state);
        }
    }
    assert_eq!(seen, vec![TunnelState::Connecting, expected]);
    h.stop().await;
}

#[tokio::test]
async fn a_network_error_from_ngrok_is_retried() {
    let h = Harness::start().await;
    let mut events = h.engine.events();
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tunnel = watch(
        &h,
        Refused {
            said: || NgrokSaid {
                code: None,
                msg: "failed to establish tcp connection".into(),
            },
            attempts: attempts.clone(),
        },
    );
    let states = states_until(&mut events, |s| offline(s).len() >= 3).await;
    assert_eq!(
        offline(&states),
        vec![("ngrok cannot be reached (failed to establish tcp connection): this machine looks offline; Hookscope keeps trying.", true); 3]
    );
    assert!(attempts.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    tunnel.stop();
    h.stop().await;
}

/// A stand-in for ngrok's service on loopback: TLS with a certificate for 127.0.0.1 (its PEM is
/// returned for the tunnel to trust), ngrok's stream multiplexer inside, and every authentication
/// answered with `refusal` the way ngrok's server words one. Counts the authentications it got.
async fn fake_ngrok(refusal: String) -> (String, Vec<u8>, Arc<AtomicUsize>) {
    let (address, ca, auths, _) = fake_ngrok_with(None, refusal).await;
    (address, ca, auths)
}

/// The same stand-in; with `online`, the first session is let in and its endpoint gets that URL, until
/// the returned `Notify` drops it: every later session meets `refusal` (the token revoked meanwhile).
async fn fake_ngrok_with(
    online: Option<String>,
    refusal: String,
) -> (String, Vec<u8>, Arc<AtomicUsize>, Arc<tokio::sync::Notify>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let auths = Arc::new(AtomicUsize::new(0));
    let drop_it = Arc::new(tokio::sync::Notify::new());
    let (counted, dropper) = (auths.clone(), drop_it.clone());
    // ngrok's RPC stream types for authentication and for opening an endpoint.
    const AUTH: muxado::typed::StreamType = muxado::typed::StreamType::clamp(0);
    const BIND: muxado::typed::StreamType = muxado::typed::StreamType::clamp(1);
    tokio::spawn(async move {
        let mut online = online;
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted, refusal) = (acceptor.clone(), counted.clone(), refusal.clone());
            let (let_in, dropper) = (online.take(), dropper.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let session = muxado::SessionBuilder::new(tls).server().start();
                let mut typed = muxado::typed::Typed::new(session);
                // The agent's heartbeat stream stays open, unanswered, for as long as the session.
                let mut held = Vec::new();
                loop {
                    let accepted = tokio::select! {
                        accepted = muxado::typed::TypedAccept::accept_typed(&mut typed) => accepted,
                        () = dropper.notified(), if let_in.is_some() => return,
                    };
                    let Ok(mut stream) = accepted else { return };
                    if stream.typ() != AUTH && stream.typ() != BIND {
                        held.push(stream);
                        continue;
                    }
                    // A request is one JSON object, not followed by a close: read until it parses.
                    let mut request = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let request = loop {
                        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&request) {
                            break value;
                        }
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let answer = match (stream.typ() == AUTH, &let_in) {
                        (true, None) => serde_json::json!({ "Error": refusal }),
                        (true, Some(_)) => {
                            serde_json::json!({ "Version": "3", "ClientId": "session-1" })
                        }
                        (false, url) => serde_json::json!({
                            "Id": "endpoint-1",
                            "URL": url.clone().unwrap_or_default(),
                            "Proto": "https",
                            "Opts": request["Opts"],
                            "Extra": { "Token": "" },
                        }),
                    };
                    if stream.typ() == AUTH {
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                    let _ = stream.write_all(answer.to_string().as_bytes()).await;
                    let _ = stream.shutdown().await;
                    held.push(stream);
                }
            });
        }
    });
    (address, certified.cert.pem().into_bytes(), auths, drop_it)
}

fn ngrok_against(address: String, ca: Vec<u8>) -> NgrokTunnel {
    NgrokTunnel::new(NgrokOptions {
        authtoken: Some(TOKEN.into()),
        domain: None,
        server_addr: Some(address),
        ca_cert: Some(ca),
    })
}

#[tokio::test]
async fn ngrok_refusing_the_authtoken_ends_offline_after_one_attempt() {
    let h = Harness::start().await;
    let (address, ca, auths) = fake_ngrok(format!(
        "The authtoken you specified is properly formed, but it is invalid.\n\nYour authtoken: {TOKEN}\n\nERR_NGROK_107"
    ))
    .await;
    let mut tunnel = watch(&h, ngrok_against(address, ca));
    ended(&mut tunnel).await;
    assert_eq!(
        *tunnel.states.borrow(),
        TunnelState::Offline {
            reason: "ngrok refused the authtoken (ERR_NGROK_107: The authtoken you specified is properly formed, but it is invalid); get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring).".into(),
            retrying: false,
        }
    );
    assert_eq!(auths.load(Ordering::SeqCst), 1);
    h.stop().await;
}

#[tokio::test]
async fn ngrok_failing_for_its_own_reasons_is_tried_again() {
    let h = Harness::start().await;
    let mut events = h.engine.events();
    let (address, ca, auths) = fake_ngrok(format!(
        "Something went wrong for {TOKEN}. Please try your request again later.\n\nERR_NGROK_128"
    ))
    .await;
    let tunnel = watch(&h, ngrok_against(address, ca));
    let states = states_until(&mut events, |s| offline(s).len() >= 3).await;
    assert_eq!(
        offline(&states),
        vec![("ngrok refused the tunnel (ERR_NGROK_128: Something went wrong for [your authtoken]. Please try your request again later); Hookscope keeps trying.", true); 3]
    );
    assert!(auths.load(Ordering::SeqCst) >= 3);
    tunnel.stop();
    h.stop().await;
}

#[tokio::test]
async fn ngrok_refusing_a_reconnect_ends_offline_instead_of_retrying_for_ever() {
    let h = Harness::start().await;
    let mut events = h.engine.events();
    // The endpoint's public URL is the receiver itself, so the route check passes and it comes online.
    let (address, ca, auths, drop_session) = fake_ngrok_with(
        Some(h.base.clone()),
        format!("The authtoken you specified is properly formed, but it is invalid.\n\nYour authtoken: {TOKEN}\n\nERR_NGROK_107"),
    )
    .await;
    let mut tunnel = watch(&h, ngrok_against(address, ca));
    states_until(&mut events, |s| {
        s.iter().any(|s| matches!(s, TunnelState::Online { .. }))
    })
    .await;
    drop_session.notify_one();
    ended(&mut tunnel).await;
    let mut seen = vec![];
    while let Ok(event) = events.try_recv() {
        if let Event::Tunnel { state } = event {
            seen.push(state);
        }
    }
    assert_eq!(
        seen,
        vec![
            TunnelState::Reconnecting {
                reason: "ngrok refused the authtoken (ERR_NGROK_107: The authtoken you specified is properly formed, but it is invalid); get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring).".into()
            },
            TunnelState::Offline {
                reason: "ngrok refused the authtoken (ERR_NGROK_107: The authtoken you specified is properly formed, but it is invalid); get yours at https://dashboard.ngrok.com/get-started/your-authtoken and set NGROK_AUTHTOKEN (the app keeps it in the keyring).".into(),
                retrying: false,
            },
        ]
    );
    // The first session, ngrok's own reconnect (refused, so it gave up), and the supervisor's last try.
    assert_eq!(auths.load(Ordering::SeqCst), 3);
    h.stop().await;
}
