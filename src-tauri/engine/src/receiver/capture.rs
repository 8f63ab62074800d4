//! What the receiver keeps of every request before deciding anything: headers with credentials
//! redacted, and the body read up to the configured limit (an oversized body keeps its first part).

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

/// What is kept of a body that broke the limit: enough to see what it was.
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

pub enum BodyRead {
    Complete(Bytes),
    /// Over the limit: the first bytes, and how many were seen before reading stopped.
    TooLarge {
        kept: Bytes,
        seen: u64,
    },
    /// The client broke off or sent garbage framing.
    Failed {
        kept: Bytes,
        message: String,
    },
}

pub async fn read_body(body: Body, limit: usize) -> BodyRead {
    let mut body = body;
    let mut buffer = BytesMut::new();
    let mut seen: u64 = 0;
    loop {
        match body.frame().await {
            None => return BodyRead::Complete(buffer.freeze()),
            Some(Err(error)) => {
                return BodyRead::Failed {
                    kept: buffer.freeze(),
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
                        kept: buffer.freeze(),
                        seen,
                    };
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
