//! What Graph or Entra said when they refused, kept whole (status, code, message, Retry-After) so callers
//! can branch on the code and people can read the message.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GraphApiError {
    pub status: u16,
    /// Graph's `error.code` (`ValidationError`, `ResourceNotFound`, …) or Entra's `error` (`invalid_client`, …).
    pub code: String,
    /// One sentence: what was refused and why.
    pub message: String,
    pub retry_after: Option<u64>,
}

impl GraphApiError {
    /// Reads a Graph (`{"error":{code,message}}`) or Entra (`{"error","error_description"}`) error body.
    pub fn from_answer(
        status: u16,
        body: &[u8],
        retry_after: Option<u64>,
        doing: &str,
    ) -> GraphApiError {
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let (code, detail) = match &parsed["error"] {
            Value::Object(error) => (
                error
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            Value::String(code) => (
                code.clone(),
                parsed["error_description"]
                    .as_str()
                    .and_then(|d| d.lines().next())
                    .unwrap_or("")
                    .to_string(),
            ),
            _ => (
                String::new(),
                String::from_utf8_lossy(&body[..body.len().min(200)])
                    .trim()
                    .to_string(),
            ),
        };
        let detail = if detail.is_empty() {
            format!("HTTP {status}")
        } else {
            detail
        };
        let message = match retry_after {
            Some(seconds) => {
                format!("{doing} was throttled ({code}): {detail} Retry after {seconds} s.")
            }
            None if code.is_empty() => format!("{doing} failed: {detail}"),
            None => format!("{doing} failed ({code}): {detail}"),
        };
        GraphApiError {
            status,
            code,
            message,
            retry_after,
        }
    }
}
