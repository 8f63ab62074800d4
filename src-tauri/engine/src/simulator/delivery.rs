//! Delivering notification batches by Graph's rules (docs/graph.md §4.3, §4.4): any 2xx within 3 s on the
//! first attempt, retries with a 10 s timeout and exponential backoff until the retry window closes, and
//! the per-URL slow and drop states. Every attempt lands in the delivery log with its status and latency.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::handshake::HandshakeOutcome;
use super::state::Shared;

const LOG_CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum BatchKind {
    Notifications,
    Lifecycle,
}

/// One POST Graph makes: a `changeNotificationCollection` for one URL.
#[derive(Debug, Clone)]
pub struct Batch {
    pub url: String,
    pub kind: BatchKind,
    pub body: Arc<Vec<u8>>,
    pub items: usize,
    pub subscription_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// A 2xx within the deadline.
    Delivered,
    /// A non-2xx answer; Graph retries.
    Failed,
    /// No answer within the deadline (3 s first, 10 s on retries); Graph retries.
    TimedOut,
    /// No connection at all.
    Unreachable,
    /// Held back 10 minutes (scaled in fast time) because the endpoint is in the slow state.
    Delayed,
    /// Discarded: the endpoint is in the drop state, or the retry window closed.
    Dropped,
    /// Held until the subscription is reauthorized.
    Held,
    /// A validation handshake the endpoint passed.
    Validated,
    /// A validation handshake the endpoint failed.
    ValidationFailed,
}

/// One line of the delivery log.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub id: u64,
    pub at: String,
    pub url: String,
    /// `notifications`, `lifecycle` or `handshake`.
    pub kind: String,
    pub attempt: u32,
    pub items: usize,
    pub subscription_ids: Vec<String>,
    pub status: Option<u16>,
    pub latency_ms: f64,
    pub outcome: Outcome,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum EndpointState {
    Healthy,
    Slow,
    Drop,
}

#[derive(Debug)]
struct Health {
    /// (when, slower than the first-attempt deadline, slower than the retry deadline)
    samples: VecDeque<(Instant, bool, bool)>,
    state: EndpointState,
    until: Option<Instant>,
    dropped_since_sample: u32,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            samples: VecDeque::new(),
            state: EndpointState::Healthy,
            until: None,
            dropped_since_sample: 0,
        }
    }
}

/// The log of every validation request and delivery attempt, newest last, bounded.
#[derive(Default)]
pub struct DeliveryLog {
    next_id: AtomicU64,
    records: Mutex<VecDeque<DeliveryRecord>>,
    health: Mutex<HashMap<String, Health>>,
}

impl DeliveryLog {
    fn push(&self, mut record: DeliveryRecord) -> DeliveryRecord {
        record.id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.len() == LOG_CAPACITY {
            records.pop_front();
        }
        records.push_back(record.clone());
        record
    }

    pub fn record_handshake(&self, outcome: &HandshakeOutcome, passed: bool) {
        self.push(DeliveryRecord {
            id: 0,
            at: crate::clock::rfc3339_millis(crate::clock::now_micros()),
            url: outcome.url.clone(),
            kind: "handshake".into(),
            attempt: 1,
            items: 0,
            subscription_ids: Vec::new(),
            status: outcome.status,
            latency_ms: outcome.latency_ms,
            outcome: if passed {
                Outcome::Validated
            } else {
                Outcome::ValidationFailed
            },
            error: outcome.error.clone(),
        });
    }

    /// Records after `after` (an id), oldest first.
    pub fn since(&self, after: u64) -> Vec<DeliveryRecord> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records.iter().filter(|r| r.id > after).cloned().collect()
    }

    pub fn endpoint_states(&self) -> HashMap<String, EndpointState> {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health
            .iter()
            .map(|(url, h)| (url.clone(), h.state))
            .collect()
    }

    /// The endpoint's state now, leaving slow or drop when its window has passed.
    fn state_of(&self, url: &str) -> EndpointState {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let entry = health.entry(url.to_string()).or_default();
        if entry.until.is_some_and(|until| Instant::now() >= until) {
            *entry = Health::default();
        }
        entry.state
    }

    /// Whether a batch to a dropping endpoint goes out anyway as one of Graph's small samples.
    fn sample_through_drop(&self, url: &str) -> bool {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let entry = health.entry(url.to_string()).or_default();
        entry.dropped_since_sample += 1;
        if entry.dropped_since_sample >= 10 {
            entry.dropped_since_sample = 0;
            return true;
        }
        false
    }

    fn observe(&self, url: &str, latency: Duration, answered: bool, rules: &Rules) {
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let entry = health.entry(url.to_string()).or_default();
        let now = Instant::now();
        let slow = !answered && latency >= rules.first_timeout || latency > rules.first_timeout;
        let very_slow =
            !answered && latency >= rules.retry_timeout || latency > rules.retry_timeout;
        entry.samples.push_back((now, slow, very_slow));
        while entry
            .samples
            .front()
            .is_some_and(|(at, _, _)| now.duration_since(*at) > rules.window)
        {
            entry.samples.pop_front();
        }
        let total = entry.samples.len();
        if total < rules.min_samples || entry.state != EndpointState::Healthy {
            return;
        }
        let slow = entry.samples.iter().filter(|s| s.1).count() as f64 / total as f64;
        let very_slow = entry.samples.iter().filter(|s| s.2).count() as f64 / total as f64;
        if very_slow > 0.15 {
            entry.state = EndpointState::Drop;
            entry.until = Some(now + rules.window);
        } else if slow > 0.10 {
            entry.state = EndpointState::Slow;
            entry.until = Some(now + rules.window);
        }
    }
}

/// Graph's delivery timings, scaled down in fast time so they can be watched.
#[derive(Debug, Clone)]
pub struct Rules {
    pub first_timeout: Duration,
    pub retry_timeout: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub retry_window: Duration,
    /// The slow/drop window and the slow state's delay (10 minutes at Graph).
    pub window: Duration,
    pub min_samples: usize,
}

fn record(batch: &Batch, attempt: u32) -> DeliveryRecord {
    DeliveryRecord {
        id: 0,
        at: crate::clock::rfc3339_millis(crate::clock::now_micros()),
        url: batch.url.clone(),
        kind: match batch.kind {
            BatchKind::Notifications => "notifications".into(),
            BatchKind::Lifecycle => "lifecycle".into(),
        },
        attempt,
        items: batch.items,
        subscription_ids: batch.subscription_ids.clone(),
        status: None,
        latency_ms: 0.0,
        outcome: Outcome::Delivered,
        error: None,
    }
}

/// Logs batches held for a paused subscription.
pub fn record_held(shared: &Shared, batch: &Batch) -> DeliveryRecord {
    let mut held = record(batch, 0);
    held.outcome = Outcome::Held;
    held.error =
        Some("the subscription needs reauthorization; Graph holds its notifications".into());
    shared.log.push(held)
}

async fn attempt(shared: &Shared, batch: &Batch, number: u32) -> DeliveryRecord {
    let rules = &shared.options.delivery;
    let timeout = if number == 1 {
        rules.first_timeout
    } else {
        rules.retry_timeout
    };
    let mut entry = record(batch, number);
    let started = Instant::now();
    let sent = shared
        .http
        .post(&batch.url)
        .header("content-type", "application/json; charset=utf-8")
        .body(batch.body.as_ref().clone())
        .timeout(timeout)
        .send()
        .await;
    let answered = match sent {
        Ok(response) => {
            let status = response.status();
            entry.status = Some(status.as_u16());
            // Graph reads the answer; a body that never ends counts against the deadline.
            let rest = timeout.saturating_sub(started.elapsed());
            let finished = tokio::time::timeout(rest, response.bytes()).await;
            if finished.is_err() {
                entry.outcome = Outcome::TimedOut;
                entry.error = Some(format!("no complete answer within {} s", timeout.as_secs()));
                false
            } else if status.is_success() {
                entry.outcome = Outcome::Delivered;
                true
            } else {
                entry.outcome = Outcome::Failed;
                entry.error = Some(format!("answered {status}; Graph retries"));
                true
            }
        }
        Err(error) if error.is_timeout() => {
            entry.outcome = Outcome::TimedOut;
            entry.error = Some(format!(
                "no answer within {} s; Graph retries",
                timeout.as_secs()
            ));
            false
        }
        Err(error) => {
            entry.outcome = Outcome::Unreachable;
            entry.error = Some(format!("cannot connect: {}", root_cause(&error)));
            true
        }
    };
    let latency = started.elapsed();
    entry.latency_ms = latency.as_secs_f64() * 1000.0;
    shared.log.observe(&batch.url, latency, answered, rules);
    shared.log.push(entry)
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Sends one batch as Graph would, returning the first attempt's record; retries go on in the
/// background until delivered or the retry window closes.
pub async fn send(shared: &Arc<Shared>, batch: Batch) -> DeliveryRecord {
    match shared.log.state_of(&batch.url) {
        EndpointState::Drop if !shared.log.sample_through_drop(&batch.url) => {
            let mut dropped = record(&batch, 0);
            dropped.outcome = Outcome::Dropped;
            dropped.error = Some(
                "the endpoint is in Graph's drop state (more than 15% of answers over 10 s)".into(),
            );
            return shared.log.push(dropped);
        }
        EndpointState::Slow => {
            let mut delayed = record(&batch, 0);
            delayed.outcome = Outcome::Delayed;
            let window = shared.options.delivery.window;
            delayed.error = Some(format!(
                "the endpoint is in Graph's slow state (more than 10% of answers over 3 s); sending in {} s",
                window.as_secs()
            ));
            let logged = shared.log.push(delayed);
            let shared = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(window).await;
                deliver_with_retries(&shared, batch).await;
            });
            return logged;
        }
        _ => {}
    }
    let first = attempt(shared, &batch, 1).await;
    if first.outcome != Outcome::Delivered {
        let shared = shared.clone();
        tokio::spawn(async move { retry(&shared, batch).await });
    }
    first
}

async fn deliver_with_retries(shared: &Arc<Shared>, batch: Batch) {
    let first = attempt(shared, &batch, 1).await;
    if first.outcome != Outcome::Delivered {
        retry(shared, batch).await;
    }
}

async fn retry(shared: &Arc<Shared>, batch: Batch) {
    let rules = shared.options.delivery.clone();
    let started = Instant::now();
    let mut backoff = rules.retry_base;
    let mut number = 2;
    loop {
        if started.elapsed() + backoff > rules.retry_window {
            let mut dropped = record(&batch, number - 1);
            dropped.outcome = Outcome::Dropped;
            dropped.error = Some(format!(
                "retries gave up after {} attempts; Graph discards the notifications",
                number - 1
            ));
            shared.log.push(dropped);
            return;
        }
        tokio::time::sleep(backoff).await;
        if attempt(shared, &batch, number).await.outcome == Outcome::Delivered {
            return;
        }
        backoff = (backoff * 2).min(rules.retry_cap);
        number += 1;
    }
}

/// Sends batches concurrently and returns their first attempts in the order given.
pub async fn send_all(shared: &Arc<Shared>, batches: Vec<Batch>) -> Vec<DeliveryRecord> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, batch) in batches.into_iter().enumerate() {
        let shared = shared.clone();
        tasks.spawn(async move { (index, send(&shared, batch).await) });
    }
    let mut records = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(done) = done {
            records.push(done);
        }
    }
    records.sort_by_key(|(index, _)| *index);
    records.into_iter().map(|(_, r)| r).collect()
}
