//! A running simulator with a token in hand, and a scriptable receiver written here (not Hookscope's) so
//! each way an endpoint can answer Graph is under the test's control.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hookscope_engine::engine::Listening;
use hookscope_engine::simulator::{self, RunningSimulator, SimulatorOptions};
use hookscope_engine::{Engine, EngineConfig, ReceiverOptions};
use serde_json::{json, Value};

pub struct Sim {
    pub running: RunningSimulator,
    pub http: reqwest::Client,
    token: String,
}

impl Sim {
    pub async fn start() -> Sim {
        Sim::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut SimulatorOptions)) -> Sim {
        let mut options = SimulatorOptions::new(true);
        options.validation_timeout = Duration::from_secs(2);
        options.delivery.first_timeout = Duration::from_millis(800);
        options.delivery.retry_timeout = Duration::from_millis(1500);
        options.delivery.retry_base = Duration::from_millis(200);
        configure(&mut options);
        let running = simulator::start(options).await.expect("simulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let mut sim = Sim {
            running,
            http,
            token: String::new(),
        };
        sim.token = sim.app_token().await;
        sim
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.running.url(), path)
    }

    /// A client-credentials token for the simulator's registration.
    pub async fn app_token(&self) -> String {
        let app = &self.running.options().app;
        let response = self
            .http
            .post(self.url(&format!("/{}/oauth2/v2.0/token", app.tenant_id)))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", app.client_id.as_str()),
                ("client_secret", app.client_secret.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn create(&self, body: &Value) -> (StatusCode, Value, HeaderMap) {
        let response = self
            .http
            .post(self.url("/v1.0/subscriptions"))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let headers = response.headers().clone();
        let headers: HeaderMap = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().parse().unwrap(),
                    v.to_str().unwrap_or("").parse().unwrap(),
                )
            })
            .collect();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body, headers)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Hookscope's own engine and receiver on a temporary data directory: the real thing at the other end.
pub async fn hookscope_receiver() -> (tempfile::TempDir, Engine, Listening) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
    let listening = engine
        .listen(&ReceiverOptions {
            port: 0,
            ..ReceiverOptions::default()
        })
        .await
        .unwrap();
    (dir, engine, listening)
}

/// A subscription body that passes every rule, pointed at `receiver`.
pub fn subscription(resource: &str, change_type: &str, receiver: &TestReceiver) -> Value {
    json!({
        "changeType": change_type,
        "notificationUrl": receiver.url("/notify"),
        "lifecycleNotificationUrl": receiver.url("/lifecycle"),
        "resource": resource,
        "expirationDateTime": in_minutes(60),
        "clientState": "secret-state-1",
    })
}

pub fn in_minutes(minutes: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// How the test receiver answers a validation request.
#[derive(Clone, Debug)]
pub enum Handshake {
    Echo,
    /// Echoes something else.
    Wrong,
    /// Echoes the token still URL-encoded, as a receiver that forgot to decode does.
    Encoded,
    Slow(Duration),
    /// Echoes correctly but as text/html, like the 2021 Node sample.
    Html,
    Status(u16),
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn is_handshake(&self) -> bool {
        self.query
            .as_deref()
            .is_some_and(|q| q.contains("validationToken="))
    }
}

#[derive(Default)]
struct Script {
    handshake: Option<Handshake>,
    /// Answers to deliveries, in order; when empty, 202 at once.
    deliveries: VecDeque<(u16, Duration)>,
}

#[derive(Clone)]
pub struct TestReceiver {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Script>>,
}

impl TestReceiver {
    pub async fn start() -> TestReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = TestReceiver {
            base: format!("http://{}", listener.local_addr().unwrap()),
            seen: Arc::default(),
            script: Arc::default(),
        };
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(receiver.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn handshake(&self, mode: Handshake) {
        self.script.lock().unwrap().handshake = Some(mode);
    }

    pub fn answer_deliveries(&self, answers: &[(u16, Duration)]) {
        self.script.lock().unwrap().deliveries = answers.iter().copied().collect();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn deliveries(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| !s.is_handshake())
            .collect()
    }

    pub fn handshakes(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.is_handshake())
            .collect()
    }

    /// Waits until `count` deliveries arrived (or a few seconds passed).
    pub async fn wait_for_deliveries(&self, count: usize) -> Vec<Seen> {
        for _ in 0..100 {
            let seen = self.deliveries();
            if seen.len() >= count {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.deliveries()
    }
}

async fn answer(State(receiver): State<TestReceiver>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let query = parts.uri.query().map(str::to_string);
    receiver.seen.lock().unwrap().push(Seen {
        path: parts.uri.path().to_string(),
        query: query.clone(),
        headers: parts.headers.clone(),
        body,
    });
    let raw_token = query.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("validationToken="))
            .map(str::to_string)
    });
    if let Some(raw) = raw_token {
        let token: String = form_urlencoded::parse(format!("t={raw}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let mode = receiver
            .script
            .lock()
            .unwrap()
            .handshake
            .clone()
            .unwrap_or(Handshake::Echo);
        return match mode {
            Handshake::Echo => ([("content-type", "text/plain")], token).into_response(),
            Handshake::Wrong => ([("content-type", "text/plain")], "not the token").into_response(),
            Handshake::Encoded => ([("content-type", "text/plain")], raw).into_response(),
            Handshake::Slow(delay) => {
                tokio::time::sleep(delay).await;
                ([("content-type", "text/plain")], token).into_response()
            }
            Handshake::Html => {
                ([("content-type", "text/html; charset=utf-8")], token).into_response()
            }
            Handshake::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        };
    }
    let next = receiver.script.lock().unwrap().deliveries.pop_front();
    let (status, delay) = next.unwrap_or((202, Duration::ZERO));
    tokio::time::sleep(delay).await;
    StatusCode::from_u16(status).unwrap().into_response()
}
