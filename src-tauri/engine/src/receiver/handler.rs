//! The one axum handler behind every path: handshake first (on any path, before the body is touched),
//! then routing, request checks, the batch, and the durable commit that must precede the 202.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::capture::{self, BodyBudget, BodyRead, OVERSIZED_KEPT};
use super::rich::RichChecks;
use super::verdicts::SubscriptionBook;
use super::{batch, handshake, LIFECYCLE_PATH, NOTIFICATIONS_PATH};
use crate::bus::{Bus, Event};
use crate::clock::{now_micros, rfc3339_millis};
use crate::model::RequestKind;
use crate::model::Verdict;
use crate::relay::{Delivery, Relay, REPLAY_HEADER, REQUEST_ID_HEADER};
use crate::store::{RequestRow, Store, UNAVAILABLE_MESSAGE};

pub struct ReceiverState {
    pub store: Store,
    pub bus: Bus,
    pub book: SubscriptionBook,
    pub rich: RichChecks,
    /// `--forward-to`: accepted deliveries are handed on to the user's app after they are stored.
    pub relay: Option<Arc<Relay>>,
    pub body_limit: usize,
    pub max_items: usize,
    /// From the request head to the body's last byte.
    pub body_timeout: std::time::Duration,
    pub budget: BodyBudget,
}

pub async fn receive(State(state): State<Arc<ReceiverState>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let mut row = RequestRow {
        id: uuid::Uuid::now_v7().to_string(),
        received_at: now_micros(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: capture::query(parts.uri.query()),
        headers: capture::headers(&parts.headers),
        body: Bytes::new(),
        body_size: declared.unwrap_or(0),
        body_truncated: false,
        kind: RequestKind::Invalid,
        status: 0,
        response: String::new(),
        latency_us: None,
        replay_of: replay_of(&parts.headers),
    };

    if let Some(token) = handshake::token(parts.uri.query()) {
        // Graph's handshake body is empty and meaningless; it is not read, only its size noted.
        row.body_truncated = row.body_size > 0;
        row.kind = RequestKind::Handshake;
        if let Some(relay) = state.relay.as_ref().filter(|r| r.options().handshake) {
            state.bus.publish(Event::Handshake {
                request_id: row.id.clone(),
                path: row.path.clone(),
                at: rfc3339_millis(row.received_at),
            });
            return pass_handshake(&state, relay, row, &parts, started).await;
        }
        row.status = 200;
        row.response = String::from_utf8_lossy(&token).into_owned();
        row.latency_us = Some(started.elapsed().as_micros() as i64);
        state.bus.publish(Event::Handshake {
            request_id: row.id.clone(),
            path: row.path.clone(),
            at: rfc3339_millis(row.received_at),
        });
        state.store.record_later(row);
        return plain(StatusCode::OK, Bytes::from(token));
    }

    // By suffix: a proxy in front may keep a path prefix (`https://host/hooks/notifications`).
    let route = parts.uri.path().trim_end_matches('/');
    let kind = if route.ends_with(NOTIFICATIONS_PATH) {
        RequestKind::Notifications
    } else if route.ends_with(LIFECYCLE_PATH) {
        RequestKind::Lifecycle
    } else {
        let message = format!(
            "Nothing is received at {}: Graph notifications go to {NOTIFICATIONS_PATH} and lifecycle events to {LIFECYCLE_PATH}.",
            row.path
        );
        return refuse(&state, row, started, StatusCode::NOT_FOUND, message);
    };
    if parts.method != Method::POST {
        let message = format!(
            "{} is not accepted here: Graph delivers notifications with POST.",
            row.method
        );
        let mut response = refuse(
            &state,
            row,
            started,
            StatusCode::METHOD_NOT_ALLOWED,
            message,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !is_json(content_type) {
        let message = format!(
            "Content-Type {:?} is not accepted: notifications must be sent as application/json.",
            content_type
        );
        return refuse(
            &state,
            row,
            started,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message,
        );
    }
    let too_large = || {
        format!("The body is larger than the receiver's limit of {} bytes; raise the limit in settings.", state.body_limit)
    };
    if declared.is_some_and(|size| size > state.body_limit as u64) {
        row.body_truncated = true;
        return refuse(
            &state,
            row,
            started,
            StatusCode::PAYLOAD_TOO_LARGE,
            too_large(),
        );
    }
    let deadline = tokio::time::Instant::from_std(started) + state.body_timeout;
    let (bytes, _held) = match capture::read_body(body, state.body_limit, deadline, &state.budget)
        .await
    {
        BodyRead::Complete { bytes, held } => (bytes, held),
        BodyRead::TooLarge { kept, seen } => {
            keep_part(&mut row, kept, seen);
            return refuse(
                &state,
                row,
                started,
                StatusCode::PAYLOAD_TOO_LARGE,
                too_large(),
            );
        }
        BodyRead::Failed { kept, message } => {
            let seen = kept.len() as u64;
            keep_part(&mut row, kept, seen);
            let message = format!("The body could not be read ({message}).");
            return refuse(&state, row, started, StatusCode::BAD_REQUEST, message);
        }
        BodyRead::TimedOut { kept, seen } => {
            keep_part(&mut row, kept, seen);
            let message = format!(
                "The body did not arrive within {} s of the request head; send it in one go.",
                state.body_timeout.as_secs_f64()
            );
            return refuse(&state, row, started, StatusCode::REQUEST_TIMEOUT, message);
        }
        BodyRead::Busy { kept, seen } => {
            keep_part(&mut row, kept, seen);
            let message = "The receiver is reading too many bodies at once; Graph retries this delivery shortly.".to_owned();
            let mut response = refuse(
                &state,
                row,
                started,
                StatusCode::SERVICE_UNAVAILABLE,
                message,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    };
    row.body_size = bytes.len() as u64;
    row.body = bytes.clone();
    let parsed = match batch::parse(&bytes, state.max_items) {
        Ok(parsed) => parsed,
        Err(batch::Refusal::Malformed(message)) => {
            return refuse(&state, row, started, StatusCode::BAD_REQUEST, message)
        }
        Err(batch::Refusal::TooMany(message)) => {
            return refuse(&state, row, started, StatusCode::PAYLOAD_TOO_LARGE, message)
        }
    };
    let items = match batch::read(&parsed.items) {
        Ok(items) => items,
        Err(message) => return refuse(&state, row, started, StatusCode::BAD_REQUEST, message),
    };
    // An item of a subscription being created may wait here (bounded) for its record; see verdicts.
    let snapshot = state
        .book
        .view(
            items
                .iter()
                .map(|i| (i.subscription_id(), i.client_state())),
        )
        .await;
    let context = batch::Context {
        request_id: &row.id,
        received_at: row.received_at,
        body: &bytes,
    };
    let mut notifications = batch::judge(&items, &snapshot, &context);
    if super::rich::applies(&parsed.tokens, &items, &snapshot) {
        state
            .rich
            .settle(&parsed.tokens, &items, &snapshot, &mut notifications)
            .await;
    }
    drop(items);
    row.kind = kind;
    row.status = StatusCode::ACCEPTED.as_u16();
    // A delivery Hookscope itself handed on (a forward target pointing back here) is not handed on
    // again: that would loop for ever.
    let relayed_here = parts.headers.contains_key(REQUEST_ID_HEADER);
    let handed_on = state
        .relay
        .as_ref()
        .filter(|_| !relayed_here)
        .and_then(|_| delivery(&row, &notifications, &bytes, &parts.headers, &parsed.tokens));
    let request_id = row.id.clone();
    match state.store.record(row, notifications, started).await {
        Ok(()) => {
            if let (Some(relay), Some(delivery)) = (&state.relay, handed_on) {
                relay.hand_on(delivery);
            }
            let mut response = plain(StatusCode::ACCEPTED, Bytes::new());
            if let Ok(id) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert(REQUEST_ID_HEADER, id);
            }
            response
        }
        Err(error) => {
            tracing::error!(%error, "refused a delivery with 503");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                Bytes::from_static(UNAVAILABLE_MESSAGE.as_bytes()),
            )
        }
    }
}

/// The original a replay names, when it is shaped like one of Hookscope's ids (it is only a label).
fn replay_of(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(REPLAY_HEADER)?.to_str().ok()?;
    uuid::Uuid::parse_str(value).ok().map(|id| id.to_string())
}

/// What to hand on to the user's app: the delivery byte for byte when every item was accepted, only
/// the accepted items when some were not (a forged item never reaches the app), nothing when none was.
fn delivery(
    row: &RequestRow,
    notifications: &[crate::store::NotificationRow],
    body: &Bytes,
    headers: &axum::http::HeaderMap,
    tokens: &batch::Tokens,
) -> Option<Delivery> {
    let accepted: Vec<&crate::store::NotificationRow> = notifications
        .iter()
        .filter(|n| n.verdict == Verdict::Accepted)
        .collect();
    if accepted.is_empty() {
        return None;
    }
    let filtered = accepted.len() < notifications.len();
    let body = if filtered {
        let items: Vec<&str> = accepted
            .iter()
            .filter_map(|n| {
                let start = n.item_offset as usize;
                std::str::from_utf8(body.get(start..start + n.item_length as usize)?).ok()
            })
            .collect();
        let mut rebuilt = format!("{{\"value\":[{}]", items.join(","));
        if let batch::Tokens::Present(tokens) = tokens {
            rebuilt.push_str(",\"validationTokens\":");
            rebuilt.push_str(&serde_json::to_string(tokens).unwrap_or_else(|_| "[]".into()));
        }
        rebuilt.push('}');
        Bytes::from(rebuilt)
    } else {
        body.clone()
    };
    Some(Delivery {
        request_id: row.id.clone(),
        headers: headers.clone(),
        body,
        filtered,
    })
}

/// Graph's handshake handed to the user's app; its answer goes back to Graph, whatever it is, so the
/// user's own handshake code is what Graph tests.
async fn pass_handshake(
    state: &ReceiverState,
    relay: &Arc<Relay>,
    mut row: RequestRow,
    parts: &axum::http::request::Parts,
    started: Instant,
) -> Response {
    let query = parts.uri.query().unwrap_or_default();
    let (status, body) = match relay.pass_handshake(&row.id, query, &parts.headers).await {
        Ok((status, body)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            body,
        ),
        Err(why) => (
            StatusCode::BAD_GATEWAY,
            Bytes::from(format!(
                "The handshake was passed to your app and it did not answer: {why}"
            )),
        ),
    };
    row.status = status.as_u16();
    row.response = String::from_utf8_lossy(&body).into_owned();
    row.latency_us = Some(started.elapsed().as_micros() as i64);
    state.store.record_later(row);
    // Always plain text with nosniff, whatever content type the app said: the token is attacker-chosen
    // text that a browser opening the public URL must never render as HTML.
    plain(status, body)
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// A body that was not read whole: the part kept, and how many bytes came.
fn keep_part(row: &mut RequestRow, kept: Bytes, seen: u64) {
    row.body = kept;
    row.body_size = seen;
    row.body_truncated = true;
}

/// Answers a request that is not a delivery with a plain sentence, and records it without waiting.
/// Its body is kept only up to the first part an oversized body keeps: junk sent to a public URL must
/// not fill the disk, and its size is recorded either way.
fn refuse(
    state: &ReceiverState,
    mut row: RequestRow,
    started: Instant,
    status: StatusCode,
    message: String,
) -> Response {
    if row.body.len() > OVERSIZED_KEPT {
        row.body
            .truncate(capture::head_len(&row.body, OVERSIZED_KEPT));
        row.body_truncated = true;
    }
    row.kind = RequestKind::Invalid;
    row.status = status.as_u16();
    row.response = message.clone();
    row.latency_us = Some(started.elapsed().as_micros() as i64);
    state.store.record_later(row);
    plain(status, Bytes::from(message))
}

/// Every answer is `text/plain` with `nosniff`: the handshake echo is attacker-chosen text, and a browser
/// must never render it as HTML.
fn plain(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
