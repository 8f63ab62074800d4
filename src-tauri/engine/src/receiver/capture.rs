//! What the receiver keeps of every request before deciding anything: headers with credentials
//! redacted, and the body read up to the configured limit, deadline and shared budget (a body that
//! breaks one keeps its first part, so the inspector shows what it was without junk filling the disk).

use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// What is kept of a body that broke a limit or was refused: enough to see what it was.
pub const OVERSIZED_KEPT: usize = 64 * 1024;

const REDACTED: &str = "[redacted]";

/// Header names in lower case; values that carry credentials replaced by `[redacted]`.
pub fn headers(map: &HeaderMap) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (name, value) in map {
        let name = name.as_str();
        let text = if is_secret(name) {
            REDACTED.to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        match out.get_mut(name) {
            // Repeated headers are joined the way HTTP allows them to be combined.
            Some(serde_json::Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&text);
            }
            _ => {
                out.insert(name.to_owned(), serde_json::Value::String(text));
            }
        }
    }
    out
}

/// The query string with the values of credential-like parameters redacted (a secret in the
/// notification URL's query is a recommended hardening, and must not reach the store or the screen).
/// Graph's `validationToken` is not a secret: it is echoed back in the clear.
pub fn query(raw: Option<&str>) -> Option<String> {
    let raw = raw?;
    let redacted: Vec<String> = raw
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let lower = name.to_ascii_lowercase();
            if lower != "validationtoken"
                && (is_secret(&lower)
                    || lower.contains("key")
                    || matches!(lower.as_str(), "code" | "sig" | "auth"))
            {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    Some(redacted.join("&"))
}

fn is_secret(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "token",
        "secret",
        "api-key",
        "apikey",
        "password",
        "signature",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// How much of a body to keep: at most `max` bytes, cut before a character that would be split in
/// two, so a text body stays text (and is shown as such) after the cut.
pub fn head_len(body: &[u8], max: usize) -> usize {
    if body.len() <= max {
        return body.len();
    }
    match std::str::from_utf8(&body[..max]) {
        Err(error) if error.error_len().is_none() => error.valid_up_to(),
        _ => max,
    }
}

/// Room for bodies being read, all requests together, counted in KiB: without it, every open
/// connection could hold a body at the size limit at once.
#[derive(Clone)]
pub struct BodyBudget {
    kib: Arc<Semaphore>,
}

impl BodyBudget {
    pub fn new(bytes: usize) -> Self {
        let kib = bytes.div_ceil(1024).clamp(1, Semaphore::MAX_PERMITS);
        Self {
            kib: Arc::new(Semaphore::new(kib)),
        }
    }
}

/// A body's share of the budget, given back when the request is done with it.
pub struct Held {
    _permit: Option<OwnedSemaphorePermit>,
}

pub enum BodyRead {
    Complete {
        bytes: Bytes,
        /// Dropped once the request is answered.
        held: Held,
    },
    /// Over the limit: the first bytes, and how many were seen before reading stopped.
    TooLarge { kept: Bytes, seen: u64 },
    /// The client broke off or sent garbage framing.
    Failed { kept: Bytes, message: String },
    /// The body had not arrived by the deadline.
    TimedOut { kept: Bytes, seen: u64 },
    /// Other bodies filled the budget until the deadline.
    Busy { kept: Bytes, seen: u64 },
}

/// Reads a body until its end, the size limit, or the deadline, whichever comes first, taking room
/// in the budget as bytes arrive.
pub async fn read_body(
    body: Body,
    limit: usize,
    deadline: Instant,
    budget: &BodyBudget,
) -> BodyRead {
    let mut body = body;
    let mut buffer = BytesMut::new();
    let mut seen: u64 = 0;
    let mut held: Option<OwnedSemaphorePermit> = None;
    let kept = |mut buffer: BytesMut| {
        buffer.truncate(head_len(&buffer, OVERSIZED_KEPT));
        buffer.freeze()
    };
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(frame) => frame,
            Err(_) => {
                return BodyRead::TimedOut {
                    kept: kept(buffer),
                    seen,
                }
            }
        };
        match frame {
            None => {
                return BodyRead::Complete {
                    bytes: buffer.freeze(),
                    held: Held { _permit: held },
                }
            }
            Some(Err(error)) => {
                return BodyRead::Failed {
                    kept: kept(buffer),
                    message: error.to_string(),
                };
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                seen += data.len() as u64;
                if seen > limit as u64 {
                    buffer.truncate(OVERSIZED_KEPT);
                    let room = OVERSIZED_KEPT.saturating_sub(buffer.len());
                    buffer.extend_from_slice(&data[..room.min(data.len())]);
                    return BodyRead::TooLarge {
                        kept: kept(buffer),
                        seen,
                    };
                }
                let have = held.as_ref().map_or(0, |p| p.num_permits()) as u64;
                let need = seen.div_ceil(1024).saturating_sub(have) as u32;
                if need > 0 {
                    let more = budget.kib.clone().acquire_many_owned(need);
                    match tokio::time::timeout_at(deadline, more).await {
                        Ok(Ok(permit)) => match held.as_mut() {
                            Some(held) => held.merge(permit),
                            None => held = Some(permit),
                        },
                        // The budget's semaphore is never closed; a timeout is the only way here.
                        _ => {
                            buffer.extend_from_slice(&data);
                            return BodyRead::Busy {
                                kept: kept(buffer),
                                seen,
                            };
                        }
                    }
                }
                buffer.extend_from_slice(&data);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[tokio::test]
    async fn a_body_waits_for_room_in_the_budget_and_gives_up_at_its_deadline() {
        let budget = BodyBudget::new(4 * 1024);
        let body = || Body::from(vec![b'a'; 2 * 1024]);
        let soon = || Instant::now() + std::time::Duration::from_millis(200);
        // Other requests hold the whole budget: this body is kept in part and refused as busy.
        let others = budget.kib.clone().acquire_many_owned(4).await.unwrap();
        match read_body(body(), 1 << 20, soon(), &budget).await {
            BodyRead::Busy { kept, seen } => {
                assert_eq!(seen, 2 * 1024);
                assert_eq!(kept.len(), 2 * 1024);
            }
            _ => panic!("expected the body to be refused as busy"),
        }
        // Once they are done, the same body is read whole and holds two KiB until it is dropped.
        drop(others);
        let held = match read_body(body(), 1 << 20, soon(), &budget).await {
            BodyRead::Complete { bytes, held } => {
                assert_eq!(bytes.len(), 2 * 1024);
                held
            }
            _ => panic!("expected the body to be read"),
        };
        assert_eq!(budget.kib.available_permits(), 2);
        drop(held);
        assert_eq!(budget.kib.available_permits(), 4);
    }

    #[test]
    fn a_kept_head_never_splits_a_character() {
        // "é" is two bytes: a cut after 3 bytes of "aéé" would leave half of the second one.
        assert_eq!(head_len("aéé".as_bytes(), 4), 3);
        assert_eq!(head_len("aéé".as_bytes(), 3), 3);
        assert_eq!(head_len("aéé".as_bytes(), 5), 5);
        assert_eq!(head_len(b"abcdef", 4), 4);
        // Not text at all: cut where asked.
        assert_eq!(head_len(&[0xff, 0xfe, 0xfd, 0xfc, 0xfb], 3), 3);
    }

    #[test]
    fn redacts_secret_query_parameters_but_not_the_validation_token() {
        assert_eq!(
            query(Some(
                "validationToken=abc&secret=s3cr3t&tenant=t&api_key=k&code=c"
            ))
            .unwrap(),
            "validationToken=abc&secret=[redacted]&tenant=t&api_key=[redacted]&code=[redacted]"
        );
        assert_eq!(query(None), None);
    }

    #[test]
    fn redacts_credentials_and_keeps_the_rest() {
        let mut map = HeaderMap::new();
        map.insert(
            "authorization",
            HeaderValue::from_static("Bearer eyJ.secret"),
        );
        map.insert("x-ms-client-token", HeaderValue::from_static("abc"));
        map.insert("content-type", HeaderValue::from_static("application/json"));
        let out = headers(&map);
        assert_eq!(out["authorization"], "[redacted]");
        assert_eq!(out["x-ms-client-token"], "[redacted]");
        assert_eq!(out["content-type"], "application/json");
    }
}
