//! `listen --forward-to`: each accepted delivery handed on to the user's own app, after Hookscope stored
//! and acknowledged it, so a slow or broken app never makes Graph retry. The original body byte for byte
//! and the original headers (minus hop-by-hop ones) go on; what the app answered is stored with the
//! delivery. Bounded: a few deliveries in flight, a queue behind them, a timeout each, no retries.
//! Graph's validation handshake, when passed on too, stands in no such queue: Graph gives the whole
//! validation 10 s, so it goes at once on a client of its own, whatever the deliveries are doing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::bus::{Bus, Event};
use crate::clock::now_micros;
use crate::store::{RelayRow, Store};

/// The app's answers are kept up to this size, like request bodies that are cut.
const KEPT_ANSWER: usize = 64 * 1024;
/// Graph gives the whole validation 10 s; the app gets half, so Hookscope still answers in time.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(5);
/// Deliveries waiting for a free slot beyond this are recorded as dropped, never queued without end.
const MAX_WAITING: usize = 1_000;

#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The user's app: every accepted delivery is POSTed here.
    pub target: String,
    /// Hand Graph's validation requests on as well, and answer Graph with what the app answered.
    pub handshake: bool,
    pub timeout: Duration,
    /// Deliveries in flight to the app at once.
    pub concurrency: usize,
}

impl RelayOptions {
    pub fn new(target: &str) -> anyhow::Result<RelayOptions> {
        let url = url::Url::parse(target.trim()).map_err(|error| {
            anyhow::anyhow!("The forward target {target:?} is not a URL ({error}); give it as http://localhost:3000/api/notifications.")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("The forward target {target:?} must be an http:// or https:// URL, like http://localhost:3000/api/notifications.");
        }
        Ok(RelayOptions {
            target: url.to_string(),
            handshake: false,
            timeout: Duration::from_secs(10),
            concurrency: 8,
        })
    }
}

/// A delivery to hand on: what Graph sent (or the accepted part of it).
pub struct Delivery {
    pub request_id: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Rejected items were left out of `body`.
    pub filtered: bool,
}

pub struct Relay {
    options: RelayOptions,
    http: reqwest::Client,
    /// The handshake's own client: no connection pool shared with deliveries stuck on a slow app, and
    /// the handshake's shorter timeout built in.
    handshake_http: reqwest::Client,
    slots: Arc<Semaphore>,
    /// Deliveries waiting for a slot.
    waiting: Arc<AtomicUsize>,
    store: Store,
    bus: Bus,
}

/// The original headers that go on, and the stored request's id. Headers the sender named in
/// `Connection` are hop-by-hop too (RFC 9110 §7.6.1): they were meant for Hookscope alone.
fn hand_on_headers(original: &HeaderMap, request_id: &str) -> HeaderMap {
    let per_hop: Vec<String> = original
        .get_all(axum::http::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut headers = HeaderMap::new();
    for (name, value) in original {
        if super::carried_on(name.as_str()) && !per_hop.iter().any(|hop| hop == name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(super::REQUEST_ID_HEADER, value);
    }
    headers
}

impl Relay {
    pub fn new(options: RelayOptions, store: Store, bus: Bus) -> anyhow::Result<Relay> {
        let client = |timeout| {
            reqwest::Client::builder()
                .no_proxy()
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
        };
        let http = client(options.timeout)?;
        let handshake_http = client(options.timeout.min(HANDSHAKE_WAIT))?;
        Ok(Relay {
            handshake_http,
            slots: Arc::new(Semaphore::new(options.concurrency.max(1))),
            waiting: Arc::default(),
            options,
            http,
            store,
            bus,
        })
    }

    pub fn options(&self) -> &RelayOptions {
        &self.options
    }

    /// Hands a stored, acknowledged delivery on in the background; never awaited by the receiver.
    pub fn hand_on(self: &Arc<Self>, delivery: Delivery) {
        let relay = self.clone();
        tokio::spawn(async move {
            if relay.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
                relay.waiting.fetch_sub(1, Ordering::SeqCst);
                let error = "Dropped: too many deliveries were waiting for your app; it is too slow for this rate.";
                relay
                    .record(
                        &delivery.request_id,
                        delivery.filtered,
                        false,
                        Err(error.to_owned()),
                        Duration::ZERO,
                    )
                    .await;
                return;
            }
            let slot = relay.slots.clone().acquire_owned().await;
            relay.waiting.fetch_sub(1, Ordering::SeqCst);
            let Ok(_slot) = slot else { return };
            let started = Instant::now();
            let answer = relay
                .http
                .post(&relay.options.target)
                .headers(hand_on_headers(&delivery.headers, &delivery.request_id))
                .body(delivery.body.clone())
                .send()
                .await;
            let answer = read(answer).await;
            relay
                .record(
                    &delivery.request_id,
                    delivery.filtered,
                    false,
                    answer,
                    started.elapsed(),
                )
                .await;
        });
    }

    /// Graph's validation request passed through to the app: its whole query after the target's own
    /// (the same URL deliveries go to, plus what Graph asked), its headers but the hop-by-hop ones, an
    /// empty body. The app's status and body are what Graph gets back. Never waits for a delivery slot:
    /// a relay busy with a slow app must not make Graph's validation fail. Recorded like a delivery.
    pub async fn pass_handshake(
        self: &Arc<Self>,
        request_id: &str,
        query: &str,
        headers: &HeaderMap,
    ) -> Result<(u16, Bytes), String> {
        let url = handshake_url(&self.options.target, query)?;
        let started = Instant::now();
        let answer = self
            .handshake_http
            .post(url)
            .headers(hand_on_headers(headers, request_id))
            .body(Vec::new())
            .send()
            .await;
        let answer = read(answer).await;
        // Graph is waiting: it gets the answer now, the record is written after.
        let took = started.elapsed();
        let (relay, request_id, recorded) = (self.clone(), request_id.to_owned(), answer.clone());
        tokio::spawn(async move { relay.record(&request_id, false, true, recorded, took).await });
        answer.map(|a| (a.status, a.body))
    }

    async fn record(
        &self,
        request_id: &str,
        filtered: bool,
        handshake: bool,
        answer: Result<Answer, String>,
        took: Duration,
    ) {
        let (status, headers, body, truncated, error) = match answer {
            Ok(a) => {
                let truncated = a.body.len() > KEPT_ANSWER;
                let kept = a.body.slice(..a.body.len().min(KEPT_ANSWER)).to_vec();
                (Some(i64::from(a.status)), a.headers, kept, truncated, None)
            }
            Err(error) => (None, "{}".to_owned(), Vec::new(), false, Some(error)),
        };
        let row = RelayRow {
            id: uuid::Uuid::now_v7().to_string(),
            request_id: request_id.to_owned(),
            target: self.options.target.clone(),
            at: now_micros(),
            handshake,
            filtered,
            status,
            headers,
            body,
            body_truncated: truncated,
            latency_us: took.as_micros() as i64,
            error,
        };
        let record = row.to_record();
        if let Err(error) = self.store.put_relay(row).await {
            tracing::warn!(%error, "could not record what the forward target answered");
        }
        self.bus.publish(Event::Relayed { relay: record });
    }
}

#[derive(Clone)]
struct Answer {
    status: u16,
    /// A JSON object of the answer's headers.
    headers: String,
    body: Bytes,
}

/// The target with the requester's query after its own: a target such as an Azure Function's
/// `?code=…` keeps its key, and the app sees every parameter Graph (or anyone) sent, as sent.
fn handshake_url(target: &str, query: &str) -> Result<url::Url, String> {
    let mut url = url::Url::parse(target)
        .map_err(|error| format!("The forward target {target:?} is not a URL ({error})."))?;
    let query = query.trim_start_matches('?');
    let merged = match url.query().filter(|own| !own.is_empty()) {
        Some(own) if !query.is_empty() => format!("{own}&{query}"),
        Some(own) => own.to_owned(),
        None => query.to_owned(),
    };
    url.set_query((!merged.is_empty()).then_some(merged.as_str()));
    Ok(url)
}

async fn read(sent: Result<reqwest::Response, reqwest::Error>) -> Result<Answer, String> {
    let response = sent.map_err(|error| {
        if error.is_timeout() {
            "Your app did not answer within the relay's timeout.".to_owned()
        } else if error.is_connect() {
            "Your app refused the connection: is it running and listening at that address?"
                .to_owned()
        } else {
            format!("The request to your app failed: {error}.")
        }
    })?;
    let status = response.status().as_u16();
    // The app's cookies and tokens are redacted like a request's credentials: they reach logs and the UI.
    let headers = crate::receiver::capture::headers(response.headers());
    let mut body = Vec::new();
    let mut response = response;
    // Kept up to a bound: an app streaming a huge answer must not fill the memory.
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| format!("Your app's answer could not be read: {error}."))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > KEPT_ANSWER {
            break;
        }
    }
    let body = Bytes::from(body);
    Ok(Answer {
        status,
        headers: serde_json::Value::Object(headers).to_string(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_stay_behind_and_the_delivery_is_named() {
        let mut original = HeaderMap::new();
        original.insert("content-type", HeaderValue::from_static("application/json"));
        original.insert("connection", HeaderValue::from_static("keep-alive"));
        original.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        original.insert("client-request-id", HeaderValue::from_static("abc"));
        let handed = hand_on_headers(&original, "req-1");
        assert_eq!(handed["content-type"], "application/json");
        assert_eq!(handed["client-request-id"], "abc");
        assert_eq!(handed[super::super::REQUEST_ID_HEADER], "req-1");
        assert!(handed.get("connection").is_none() && handed.get("transfer-encoding").is_none());
    }

    #[test]
    fn headers_the_sender_named_in_connection_stay_behind() {
        let mut original = HeaderMap::new();
        original.insert("connection", HeaderValue::from_static("keep-alive, X-Hop"));
        original.insert("x-hop", HeaderValue::from_static("for Hookscope alone"));
        original.insert("x-trace", HeaderValue::from_static("t-1"));
        let handed = hand_on_headers(&original, "req-1");
        assert!(handed.get("x-hop").is_none());
        assert_eq!(handed["x-trace"], "t-1");
    }

    #[test]
    fn the_handshake_url_keeps_the_targets_query_and_adds_the_whole_requesters() {
        let url = |target: &str, query: &str| handshake_url(target, query).unwrap().to_string();
        assert_eq!(
            url(
                "http://127.0.0.1:3000/api/hooks?code=k%2B1",
                "validationToken=a%3a+b&x=1"
            ),
            "http://127.0.0.1:3000/api/hooks?code=k%2B1&validationToken=a%3a+b&x=1"
        );
        assert_eq!(
            url("http://127.0.0.1:3000/api/hooks", "validationToken=t"),
            "http://127.0.0.1:3000/api/hooks?validationToken=t"
        );
        assert_eq!(
            url("http://127.0.0.1:3000/api/hooks?code=k", ""),
            "http://127.0.0.1:3000/api/hooks?code=k"
        );
    }

    #[test]
    fn targets_must_be_http_urls() {
        assert!(RelayOptions::new("http://localhost:3000/api/hooks").is_ok());
        assert!(RelayOptions::new("localhost:3000").is_err());
        assert!(RelayOptions::new("ftp://x").is_err());
    }
}
