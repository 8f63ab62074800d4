//! The simulator's own control API under `/_simulator`: what Graph has no endpoint for but a workbench
//! needs (trigger deliveries, queue faults and deliveries that race a create's answer, read the
//! delivery log, move the clock, approve a device-code sign-in), so `hookscope trigger` in another
//! process and tests drive a running simulator over HTTP.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::clock::graph_time;
use super::faults::Fault;
use super::identity;
use super::racing::DeliverOnCreate;
use super::state::Shared;
use super::trigger::{self, TriggerSpec};

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// `GET /_simulator`: where things are and what it holds.
pub async fn info(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let now = shared.clock.now();
    let mut state = shared.lock();
    state.sweep(now);
    let subscriptions: Vec<Value> = state
        .subscriptions
        .iter()
        .map(|s| {
            let mut v = s.to_json(&shared.base_url, false);
            v["needsReauthorization"] = json!(s.needs_reauthorization);
            v["heldBatches"] = json!(s.held.len());
            v
        })
        .collect();
    Json(json!({
        "graphUrl": shared.base_url,
        "loginUrl": shared.base_url,
        "tenantId": shared.options.app.tenant_id,
        "clientId": shared.options.app.client_id,
        "fastTime": shared.options.fast_time,
        "now": graph_time(now),
        "subscriptions": subscriptions,
        "endpoints": shared.log.endpoint_states(),
    }))
}

/// `POST /_simulator/trigger`
pub async fn trigger(State(shared): State<Arc<Shared>>, Json(spec): Json<TriggerSpec>) -> Response {
    match trigger::trigger(&shared, spec).await {
        Ok(report) => Json(report).into_response(),
        Err(error) => problem(StatusCode::UNPROCESSABLE_ENTITY, error.0),
    }
}

#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    after: u64,
}

/// `GET /_simulator/deliveries?after=ID`: the delivery log, oldest first.
pub async fn deliveries(State(shared): State<Arc<Shared>>, Query(after): Query<After>) -> Response {
    Json(shared.log.since(after.after)).into_response()
}

/// `POST /_simulator/faults`: queue a fault for the next matching API calls.
pub async fn add_fault(State(shared): State<Arc<Shared>>, Json(fault): Json<Fault>) -> StatusCode {
    shared.lock().faults.push(fault);
    StatusCode::NO_CONTENT
}

/// `POST /_simulator/deliver-on-create`: the next create delivers to its new subscription at once,
/// before its 201 goes out.
pub async fn add_deliver_on_create(
    State(shared): State<Arc<Shared>>,
    Json(race): Json<DeliverOnCreate>,
) -> StatusCode {
    shared.lock().deliver_on_create.push(race);
    StatusCode::NO_CONTENT
}

/// `DELETE /_simulator/deliver-on-create`
pub async fn clear_deliver_on_create(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().deliver_on_create.clear();
    StatusCode::NO_CONTENT
}

/// `DELETE /_simulator/faults`
pub async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.lock().faults.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Advance {
    advance_seconds: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Now {
    now: String,
}

/// `POST /_simulator/clock`: jump the simulated clock forward (subscriptions and codes expire).
pub async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    Json(advance): Json<Advance>,
) -> Json<Now> {
    shared
        .clock
        .advance(Duration::from_secs(advance.advance_seconds));
    Json(Now {
        now: graph_time(shared.clock.now()),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    user_code: String,
    #[serde(default = "yes")]
    approve: bool,
}

fn yes() -> bool {
    true
}

/// `POST /_simulator/device`: approve (or decline) a device-code sign-in without a browser.
pub async fn decide_device(
    State(shared): State<Arc<Shared>>,
    Json(decision): Json<Decision>,
) -> Response {
    match identity::decide_device_code(&shared, &decision.user_code, decision.approve) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => problem(StatusCode::NOT_FOUND, message),
    }
}
