//! A program that is not Hookscope, on a loopback port of its own (bound on port 0): it answers 404 to
//! everything and keeps every request it gets, so a test can say exactly what reached it (a stale
//! announcement's old port, a host a `@odata.nextLink` points at).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Router;

/// One request as the recorder got it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

pub type Log = Arc<Mutex<Vec<Recorded>>>;

/// A program that is not Hookscope, on a loopback port of its own: it answers 404 to everything and
/// remembers what it was sent.
pub async fn recorder() -> (String, Log) {
    let log: Log = Arc::default();
    let app = Router::new()
        .fallback(
            |State(log): State<Log>,
             method: Method,
             uri: Uri,
             headers: HeaderMap,
             body: axum::body::Bytes| async move {
                log.lock().unwrap().push(Recorded {
                    method: method.to_string(),
                    path: uri.path().to_owned(),
                    query: uri.query().map(str::to_owned),
                    authorization: headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap_or("?").to_owned()),
                    body: body.to_vec(),
                });
                (axum::http::StatusCode::NOT_FOUND, "not here")
            },
        )
        .with_state(log.clone());
    (serve(app).await, log)
}

pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}")
}

/// A Graph client signed in as an app whose Graph and login hosts are both `graph` (a recorder, say),
/// so whatever it sends lands where the test can count it.
pub fn client(graph: &str) -> hookscope_engine::graph::GraphClient {
    hookscope_engine::graph::GraphClient::new(hookscope_engine::graph::AppCredentials {
        graph_url: graph.to_owned(),
        login_url: graph.to_owned(),
        tenant_id: "tenant".into(),
        client_id: "client".into(),
        client_secret: "app-client-secret".into(),
        delegated: None,
    })
    .unwrap()
}
