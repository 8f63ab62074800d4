//! Faults on request: the failures a subscription client must survive (429 with Retry-After, 500, an
//! expired token, a missing permission), queued through the control API and served to the next calls.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::errors::GraphError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultKind {
    /// 429 `TooManyRequests` with `Retry-After`.
    Throttle,
    /// 500 from the subscription service.
    ServerError,
    /// 401: the bearer token is treated as expired.
    ExpiredToken,
    /// 403 naming the permission the resource needs.
    Forbidden,
}

/// Which API operation a fault hits; None hits any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    Create,
    List,
    Get,
    Update,
    Reauthorize,
    Delete,
}

impl Operation {
    fn category(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::List => "list",
            Operation::Get => "get",
            Operation::Update => "update",
            Operation::Reauthorize => "reauthorize",
            Operation::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub kind: FaultKind,
    #[serde(default)]
    pub operation: Option<Operation>,
    /// How many calls it answers before it is used up.
    #[serde(default = "one")]
    pub count: u32,
    /// For throttling: the `Retry-After` seconds.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// For 403: the permission to name (else the resource's, from the catalog).
    #[serde(default)]
    pub permission: Option<String>,
}

fn one() -> u32 {
    1
}

/// Takes the first queued fault that applies to this operation, using one of its answers.
pub fn take(faults: &mut Vec<Fault>, operation: Operation) -> Option<Fault> {
    let index = faults
        .iter()
        .position(|f| f.operation.is_none_or(|op| op == operation))?;
    let fault = faults[index].clone();
    faults[index].count = faults[index].count.saturating_sub(1);
    if faults[index].count == 0 {
        faults.remove(index);
    }
    Some(fault)
}

impl Fault {
    /// The answer Graph would give. `permission` is the catalog's for the resource concerned, if known.
    pub fn to_error(
        &self,
        operation: Operation,
        app: &str,
        permission: Option<&str>,
    ) -> GraphError {
        match self.kind {
            FaultKind::Throttle => {
                let seconds = self.retry_after.unwrap_or(2);
                let mut error = GraphError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    format!(
                        "Too many requests from Identifier:{app} under category:throttle.aad.ags.subscriptionservice.dc.{}. Please try again later.",
                        operation.category()
                    ),
                );
                error.retry_after = Some(seconds);
                error
            }
            FaultKind::ServerError => GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "The subscription service had an internal error; try the request again.",
            ),
            FaultKind::ExpiredToken => {
                GraphError::unauthorized("Lifetime validation failed, the token is expired.")
            }
            FaultKind::Forbidden => {
                let permission = self
                    .permission
                    .as_deref()
                    .or(permission)
                    .unwrap_or("a read permission on the resource");
                GraphError::new(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    format!(
                        "Insufficient privileges to complete the operation: the caller needs {permission}, granted with admin consent."
                    ),
                )
            }
        }
    }
}
