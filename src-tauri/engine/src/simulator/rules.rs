//! The rules Graph checks before it validates endpoints and creates or updates a subscription (reference
//! §1, §2, §8): required properties, change types per resource, HTTPS, clientState length, lifetimes,
//! the Teams lifecycle-URL rule and the encryption certificate of rich subscriptions.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::clock::parse_time;
use super::errors::GraphError;
use super::SimulatorOptions;
use crate::catalog::{self, ChangeType, ResourceKind, Workload};
use crate::rich::PublicCertificate;

pub const CLIENT_STATE_MAX: usize = 128;
pub const CERTIFICATE_ID_MAX: usize = 128;
const MINIMUM_MINUTES: i64 = 45;
/// Clients compute "now + maximum" on their own clock; a minute of grace keeps that from failing.
const GRACE_SECONDS: i64 = 60;

/// A create request that passed every rule.
#[derive(Debug)]
pub struct NewSubscription {
    pub resource: String,
    pub kind: &'static ResourceKind,
    pub change_types: Vec<ChangeType>,
    pub notification_url: String,
    pub lifecycle_notification_url: Option<String>,
    pub expiration: OffsetDateTime,
    pub client_state: Option<String>,
    pub include_resource_data: bool,
    pub certificate: Option<(PublicCertificate, String, String)>,
    pub latest_supported_tls_version: String,
    pub notification_query_options: Option<String>,
    pub notification_url_app_id: Option<String>,
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, GraphError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(GraphError::invalid(format!(
            "Property '{name}' must be a string."
        ))),
    }
}

fn required<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, GraphError> {
    text(body, name)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            GraphError::invalid(format!(
                "Subscription is missing the required property '{name}'."
            ))
        })
}

/// `https`, or `http` to a loopback host (the simulator's only concession, so a local receiver works).
pub fn check_url(name: &str, url: &str) -> Result<String, GraphError> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|_| GraphError::invalid(format!("{name} '{url}' is not an absolute URL.")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(url.trim().to_string()),
        "http" if loopback => Ok(url.trim().to_string()),
        scheme => Err(GraphError::invalid(format!(
            "{} scheme='{scheme}' is not supported.",
            capitalized(name)
        ))),
    }
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The expiry Graph grants: raised to 45 minutes (unless fast time), refused beyond the maximum.
pub fn check_expiration(
    requested: &str,
    kind: &ResourceKind,
    rich: bool,
    now: OffsetDateTime,
    options: &SimulatorOptions,
    operation: &str,
) -> Result<OffsetDateTime, GraphError> {
    let at = parse_time(requested).ok_or_else(|| {
        GraphError::invalid(format!(
            "expirationDateTime '{requested}' is not a valid ISO 8601 date and time."
        ))
    })?;
    if at <= now {
        return Err(GraphError::invalid(format!(
            "expirationDateTime '{requested}' is in the past; pick a time in the future."
        )));
    }
    let max_minutes = kind.max_minutes(rich, options.outlook_max_minutes) as i64;
    let max = now + time::Duration::minutes(max_minutes);
    if at > max + time::Duration::seconds(GRACE_SECONDS) {
        let message =
            format!("Subscription expiration can only be {max_minutes} minutes in the future.");
        return Err(if kind.workload == Workload::Outlook {
            GraphError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "ExtensionError",
                format!("Operation: {operation}; Exception: [Status Code: BadRequest; Reason: {message}]"),
            )
        } else {
            GraphError::invalid(message)
        });
    }
    let minimum = now + time::Duration::minutes(MINIMUM_MINUTES);
    Ok(if !options.fast_time && at < minimum {
        minimum
    } else {
        at.min(max)
    })
}

fn check_certificate(
    body: &Map<String, Value>,
    kind: &ResourceKind,
) -> Result<Option<(PublicCertificate, String, String)>, GraphError> {
    let certificate = text(body, "encryptionCertificate")?.filter(|s| !s.is_empty());
    let id = text(body, "encryptionCertificateId")?.filter(|s| !s.is_empty());
    let Some(certificate) = certificate else {
        return Err(GraphError::invalid(format!(
            "includeResourceData is true but encryptionCertificate is missing; {} notifications with resource data must be encrypted with your certificate.",
            kind.name
        )));
    };
    let Some(id) = id else {
        return Err(GraphError::invalid(
            "encryptionCertificateId is required with encryptionCertificate.",
        ));
    };
    if id.chars().count() > CERTIFICATE_ID_MAX {
        return Err(GraphError::invalid(format!(
            "encryptionCertificateId is longer than {CERTIFICATE_ID_MAX} characters."
        )));
    }
    let parsed =
        PublicCertificate::parse(certificate).map_err(|e| GraphError::invalid(e.to_string()))?;
    Ok(Some((parsed, certificate.to_string(), id.to_string())))
}

fn object(body: &Value) -> Result<&Map<String, Value>, GraphError> {
    body.as_object().ok_or_else(|| {
        GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. The body must be a JSON object.",
        )
    })
}

pub fn check_create(
    body: &Value,
    now: OffsetDateTime,
    options: &SimulatorOptions,
    app_only: bool,
) -> Result<NewSubscription, GraphError> {
    let body = object(body)?;
    for web_push in [
        "vapidPublicKey",
        "webPushEncryptionP256dhPublicKey",
        "webPushEncryptionSecret",
    ] {
        if body.get(web_push).is_some_and(|v| !v.is_null()) {
            return Err(GraphError::invalid(format!(
                "{web_push} is only for Web Push subscriptions, not webhooks."
            )));
        }
    }
    let change_type = required(body, "changeType")?;
    let notification_url = required(body, "notificationUrl")?;
    let resource = required(body, "resource")?;
    let expiration = required(body, "expirationDateTime")?;

    let kind = catalog::classify(resource).ok_or_else(|| {
        GraphError::invalid(format!(
            "Resource '{resource}' is not supported for change notifications by the simulator; try one of: {}.",
            catalog::RESOURCES.iter().map(|k| k.example).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let change_types = ChangeType::parse_list(change_type).map_err(GraphError::invalid)?;
    if let Some(refused) = change_types.iter().find(|t| !kind.allows(**t)) {
        return Err(GraphError::invalid(format!(
            "Change type '{refused}' is not supported for resource '{resource}'; {} supports {}.",
            kind.name,
            ChangeType::join(kind.change_types)
        )));
    }
    if app_only && kind.application_permission.is_none() {
        return Err(GraphError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "{} subscriptions are not supported with application permissions; sign in as a user with {}.",
                kind.name,
                kind.delegated_permission.unwrap_or("a delegated permission")
            ),
        ));
    }
    if !app_only && kind.delegated_permission.is_none() {
        return Err(GraphError::new(
            axum::http::StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "{} subscriptions need application permission {}; delegated tokens are not supported.",
                kind.name,
                kind.application_permission.unwrap_or("an application permission")
            ),
        ));
    }
    if notification_url
        .to_ascii_lowercase()
        .starts_with("eventhub:")
        || notification_url
            .to_ascii_lowercase()
            .starts_with("eventgrid:")
    {
        return Err(GraphError::invalid(
            "Event Hubs and Event Grid delivery are not simulated; use a webhook URL.",
        ));
    }
    let notification_url = check_url("notificationUrl", notification_url)?;
    let lifecycle_notification_url = text(body, "lifecycleNotificationUrl")?
        .filter(|s| !s.is_empty())
        .map(|url| check_url("lifecycleNotificationUrl", url))
        .transpose()?;
    let client_state = text(body, "clientState")?.map(str::to_string);
    if client_state
        .as_deref()
        .is_some_and(|s| s.chars().count() > CLIENT_STATE_MAX)
    {
        return Err(GraphError::invalid(format!(
            "clientState is longer than the maximum of {CLIENT_STATE_MAX} characters."
        )));
    }
    let include_resource_data = match body.get("includeResourceData") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(GraphError::invalid(
                "Property 'includeResourceData' must be true or false.",
            ))
        }
    };
    let certificate = if include_resource_data {
        if !kind.rich {
            return Err(GraphError::invalid(format!(
                "includeResourceData is not supported for {} resources; subscribe without it and fetch the resource.",
                kind.name
            )));
        }
        check_certificate(body, kind)?
    } else {
        None
    };
    let latest_supported_tls_version = match text(body, "latestSupportedTlsVersion")? {
        None => "v1_2".to_string(),
        Some(v @ ("v1_0" | "v1_1" | "v1_2" | "v1_3")) => v.to_string(),
        Some(other) => {
            return Err(GraphError::invalid(format!(
                "latestSupportedTlsVersion '{other}' is not one of v1_0, v1_1, v1_2, v1_3."
            )))
        }
    };
    let expiration = check_expiration(
        expiration,
        kind,
        include_resource_data,
        now,
        options,
        "Create",
    )?;
    if kind.lifecycle_url_required_over_an_hour
        && lifecycle_notification_url.is_none()
        && expiration > now + time::Duration::hours(1)
    {
        return Err(GraphError::invalid(
            "lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour.",
        ));
    }
    Ok(NewSubscription {
        resource: resource.to_string(),
        kind,
        change_types,
        notification_url,
        lifecycle_notification_url,
        expiration,
        client_state,
        include_resource_data,
        certificate,
        latest_supported_tls_version,
        notification_query_options: text(body, "notificationQueryOptions")?.map(str::to_string),
        notification_url_app_id: text(body, "notificationUrlAppId")?.map(str::to_string),
    })
}

/// What a PATCH may change.
#[derive(Debug, Default)]
pub struct Update {
    pub expiration: Option<String>,
    pub notification_url: Option<String>,
    pub certificate: Option<(PublicCertificate, String, String)>,
}

pub fn check_update(body: &Value, kind: &ResourceKind) -> Result<Update, GraphError> {
    let body = object(body)?;
    for key in body.keys() {
        match key.as_str() {
            "expirationDateTime" | "notificationUrl" | "encryptionCertificate"
            | "encryptionCertificateId" | "@odata.type" => {}
            "lifecycleNotificationUrl" => {
                return Err(GraphError::invalid(
                    "lifecycleNotificationUrl cannot be updated; delete the subscription and create it again with the new URL.",
                ))
            }
            other => {
                return Err(GraphError::invalid(format!(
                    "Property '{other}' cannot be updated; only expirationDateTime, notificationUrl and the encryption certificate can."
                )))
            }
        }
    }
    let mut update = Update {
        expiration: text(body, "expirationDateTime")?.map(str::to_string),
        notification_url: text(body, "notificationUrl")?
            .map(|url| check_url("notificationUrl", url))
            .transpose()?,
        certificate: None,
    };
    if update.expiration.is_none() && update.notification_url.is_none() {
        return Err(GraphError::invalid(
            "The update must include expirationDateTime or notificationUrl.",
        ));
    }
    if body.contains_key("encryptionCertificate") || body.contains_key("encryptionCertificateId") {
        update.certificate = check_certificate(body, kind)?;
    }
    Ok(update)
}
