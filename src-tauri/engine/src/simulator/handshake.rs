//! Graph's validation request, played the way Graph plays it (docs/graph.md §3): a POST to the URL with a
//! form-encoded `validationToken` query parameter, `text/plain; charset=utf-8`, an empty body and a 10 s
//! timeout; the answer must be 200 with the decoded token byte for byte.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::Serialize;

use super::errors::GraphError;

/// What a validation request saw, kept for the delivery log and for error messages.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeOutcome {
    pub url: String,
    pub status: Option<u16>,
    pub latency_ms: f64,
    pub error: Option<String>,
}

/// The token Graph sends today; receivers must treat it as opaque.
pub fn new_token() -> String {
    format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        uuid::Uuid::new_v4()
    )
}

/// The URL with the token appended the way Graph encodes it: form-style (`+` for spaces, `%3a` for
/// colons), keeping any query the subscriber put in the URL.
pub fn url_with_token(url: &str, token: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(token.as_bytes())
        .collect::<String>()
        .replace("%3A", "%3a");
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}validationToken={encoded}")
}

/// Runs one validation request; Ok when the endpoint passed, else Graph's 400 for the way it failed.
pub async fn validate(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
    strict_content_type: bool,
) -> (Result<(), GraphError>, HandshakeOutcome) {
    let token = new_token();
    let started = Instant::now();
    let sent = http
        .post(url_with_token(url, &token))
        .header("content-type", "text/plain; charset=utf-8")
        .body(Vec::new())
        .timeout(timeout)
        .send()
        .await;
    let mut outcome = HandshakeOutcome {
        url: url.to_string(),
        status: None,
        latency_ms: 0.0,
        error: None,
    };
    let verdict = match sent {
        Err(error) if error.is_timeout() => {
            outcome.error = Some("timed out".into());
            Err(GraphError::invalid(
                "Subscription validation request timed out.",
            ))
        }
        Err(error) => {
            outcome.error = Some(format!("unreachable: {}", root_cause(&error)));
            Err(GraphError::validation(
                "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
            ))
        }
        Ok(response) => {
            let status = response.status();
            outcome.status = Some(status.as_u16());
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let body =
                tokio::time::timeout(timeout.saturating_sub(started.elapsed()), response.bytes())
                    .await;
            match body {
                Err(_) => {
                    outcome.error = Some("timed out reading the answer".into());
                    Err(GraphError::invalid(
                        "Subscription validation request timed out.",
                    ))
                }
                Ok(body) => {
                    let body = body.unwrap_or_default();
                    if status != StatusCode::OK {
                        outcome.error = Some(format!("answered {status}"));
                        Err(GraphError::validation(
                            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
                        ))
                    } else if body.as_ref() != token.as_bytes() {
                        outcome.error = Some(format!(
                            "answered {:?} instead of the token",
                            String::from_utf8_lossy(&body[..body.len().min(200)])
                        ));
                        Err(GraphError::validation(
                            "Subscription validation request failed. Response must exactly match validationToken query parameter.",
                        ))
                    } else if strict_content_type && !content_type.starts_with("text/plain") {
                        outcome.error =
                            Some(format!("answered with content type {content_type:?}"));
                        Err(GraphError::validation(
                            "Subscription validation request failed. Response must have Content-Type text/plain.",
                        ))
                    } else {
                        Ok(())
                    }
                }
            }
        }
    };
    outcome.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    (verdict, outcome)
}

/// Plays Graph's validation request against a URL, as a self-check before asking Graph to: Ok when it
/// would pass, else what went wrong in words (unreachable, the status, or what was echoed).
pub async fn probe(http: &reqwest::Client, url: &str, timeout: Duration) -> Result<(), String> {
    let (verdict, outcome) = validate(http, url, timeout, false).await;
    verdict.map_err(|_| outcome.error.unwrap_or_else(|| "failed".into()))
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_graph() {
        assert_eq!(
            url_with_token("https://x.test/hook?k=1", "Validation: a b"),
            "https://x.test/hook?k=1&validationToken=Validation%3a+a+b"
        );
    }
}
