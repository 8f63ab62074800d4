//! The simulated Microsoft Entra login host: the v2.0 token endpoint (client credentials, device code,
//! refresh tokens), the device-code endpoint with a sign-in page, and the OIDC metadata and JWKS a
//! receiver needs to check the tokens the simulator signs.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use rand::Rng;
use serde_json::{json, Value};

use super::errors::AadError;
use super::state::{DeviceGrant, DeviceState, Grant, Shared};

/// How long an access token lives, as Entra issues them.
const ACCESS_TOKEN_SECONDS: i64 = 3599;
const DEVICE_CODE_SECONDS: i64 = 900;

fn form(body: &Bytes) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn random_token(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::thread_rng().fill(&mut raw[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// `POST /{tenant}/oauth2/v2.0/token`
pub async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut fields = form(&body);
    // Client secret by HTTP Basic authentication is accepted too.
    if let Some((id, secret)) = basic_credentials(&headers) {
        fields.entry("client_id".into()).or_insert(id);
        fields.entry("client_secret".into()).or_insert(secret);
    }
    let result = match fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => client_credentials(&shared, &tenant, &fields),
        Some("urn:ietf:params:oauth:grant-type:device_code") => device_code_poll(&shared, &fields),
        Some("refresh_token") => refresh(&shared, &fields),
        Some(other) => Err(AadError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
        None => Err(AadError::new(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )),
    };
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn require<'a>(fields: &'a HashMap<String, String>, name: &str) -> Result<&'a str, AadError> {
    fields
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            AadError::new(
                "invalid_request",
                900144,
                format!("The request body must contain the following parameter: '{name}'."),
            )
        })
}

fn known_tenant(shared: &Shared, tenant: &str) -> Result<(), AadError> {
    if shared.options.app.tenant_id.eq_ignore_ascii_case(tenant) {
        return Ok(());
    }
    Err(AadError::new(
        "invalid_request",
        90002,
        format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
    ))
}

fn known_client(shared: &Shared, client_id: &str) -> Result<(), AadError> {
    if shared.options.app.client_id.eq_ignore_ascii_case(client_id) {
        return Ok(());
    }
    Err(AadError::new(
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
            shared.options.app.tenant_id
        ),
    ))
}

fn client_credentials(
    shared: &Shared,
    tenant: &str,
    fields: &HashMap<String, String>,
) -> Result<Value, AadError> {
    known_tenant(shared, tenant)?;
    let client_id = require(fields, "client_id")?;
    known_client(shared, client_id)?;
    let scope = require(fields, "scope")?;
    if !scope.ends_with("/.default") {
        return Err(AadError::new(
            "invalid_scope",
            1002012,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        ));
    }
    if fields.contains_key("client_assertion") {
        return Err(AadError::new(
            "invalid_client",
            700027,
            "Client assertion failed signature validation: the simulator accepts client secrets only.",
        )
        .with_status(StatusCode::UNAUTHORIZED));
    }
    let secret = require(fields, "client_secret")?;
    if !constant_time_eq(
        secret.as_bytes(),
        shared.options.app.client_secret.as_bytes(),
    ) {
        return Err(AadError::new(
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
        )
        .with_status(StatusCode::UNAUTHORIZED));
    }
    let grant = Grant {
        client_id: shared.options.app.client_id.clone(),
        tenant_id: shared.options.app.tenant_id.clone(),
        user_id: None,
        scope: scope.to_string(),
    };
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "ext_expires_in": ACCESS_TOKEN_SECONDS,
        "access_token": access_token(shared, &grant),
    }))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A JWT shaped like Entra's v1 access tokens for Graph, signed with the simulator's key.
pub fn access_token(shared: &Shared, grant: &Grant) -> String {
    let now = shared.clock.now().unix_timestamp();
    let tenant = &grant.tenant_id;
    let mut claims = json!({
        "aud": "https://graph.microsoft.com",
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now,
        "nbf": now,
        "exp": now + ACCESS_TOKEN_SECONDS,
        "appid": grant.client_id,
        "app_displayname": "Hookscope (simulated registration)",
        "tid": tenant,
        "uti": random_token(16),
        "ver": "1.0",
    });
    match &grant.user_id {
        Some(user) => {
            claims["oid"] = json!(user);
            claims["sub"] = json!(user);
            claims["idtyp"] = json!("user");
            claims["upn"] = json!(shared.options.user_principal_name);
            claims["name"] = json!(shared.options.user_display_name);
            claims["scp"] = json!(scopes_without_reserved(&grant.scope));
        }
        None => {
            claims["oid"] = json!(shared.options.service_principal_id);
            claims["sub"] = json!(shared.options.service_principal_id);
            claims["idtyp"] = json!("app");
            claims["roles"] = json!(crate::catalog::RESOURCES
                .iter()
                .filter_map(|k| k.application_permission)
                .collect::<std::collections::BTreeSet<_>>());
        }
    }
    shared.signing.sign(&claims)
}

fn scopes_without_reserved(scope: &str) -> String {
    scope
        .split_whitespace()
        .filter(|s| !matches!(*s, "openid" | "profile" | "offline_access"))
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`
pub async fn device_code(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let result = (|| {
        if !matches!(tenant.as_str(), "common" | "organizations") {
            known_tenant(&shared, &tenant)?;
        }
        let client_id = require(&fields, "client_id")?;
        known_client(&shared, client_id)?;
        let scope = require(&fields, "scope")?.to_string();
        let device_code = random_token(48);
        let user_code: String = {
            let mut rng = rand::thread_rng();
            (0..9)
                .map(|_| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[rng.gen_range(0..32)] as char)
                .collect()
        };
        let interval = if shared.options.fast_time { 1 } else { 5 };
        let verification_uri = format!("{}/_simulator/devicelogin", shared.base_url);
        shared.lock().device_codes.insert(
            device_code.clone(),
            DeviceGrant {
                user_code: user_code.clone(),
                grant: Grant {
                    client_id: shared.options.app.client_id.clone(),
                    tenant_id: shared.options.app.tenant_id.clone(),
                    user_id: Some(shared.options.user_id.clone()),
                    scope,
                },
                expires_at: shared.clock.now() + time::Duration::seconds(DEVICE_CODE_SECONDS),
                interval_secs: interval,
                last_poll: None,
                state: DeviceState::Pending,
            },
        );
        Ok::<_, AadError>(json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": DEVICE_CODE_SECONDS,
            "interval": interval,
            "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
        }))
    })();
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn device_code_poll(shared: &Shared, fields: &HashMap<String, String>) -> Result<Value, AadError> {
    let client_id = require(fields, "client_id")?;
    known_client(shared, client_id)?;
    let code = require(fields, "device_code")?;
    let now = shared.clock.now();
    let mut state = shared.lock();
    let Some(device) = state.device_codes.get_mut(code) else {
        return Err(AadError::new(
            "bad_verification_code",
            70019,
            "The device code was not recognized; start the sign-in again.",
        ));
    };
    if now >= device.expires_at {
        return Err(AadError::new(
            "expired_token",
            70020,
            "The provided device code has expired; start the sign-in again.",
        ));
    }
    // RFC 8628 §3.5: polling faster than the interval earns `slow_down` and five more seconds.
    let too_soon = device.last_poll.is_some_and(|last| {
        (now - last)
            < time::Duration::seconds(device.interval_secs as i64)
                - time::Duration::milliseconds(100)
    });
    device.last_poll = Some(now);
    if too_soon && device.state == DeviceState::Pending {
        device.interval_secs += 5;
        return Err(AadError::new(
            "slow_down",
            70016,
            format!(
                "Polling too fast; wait {} seconds between requests.",
                device.interval_secs
            ),
        ));
    }
    match device.state {
        DeviceState::Pending => Err(AadError::new(
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )),
        DeviceState::Declined => {
            state.device_codes.remove(code);
            Err(AadError::new(
                "authorization_declined",
                70000,
                "The end user denied the authorization request.",
            ))
        }
        DeviceState::Approved => {
            let device = state.device_codes.remove(code).expect("looked up above");
            drop(state);
            Ok(delegated_tokens(shared, device.grant))
        }
    }
}

fn delegated_tokens(shared: &Shared, grant: Grant) -> Value {
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scopes_without_reserved(&grant.scope),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "ext_expires_in": ACCESS_TOKEN_SECONDS,
        "access_token": access_token(shared, &grant),
    });
    if grant
        .scope
        .split_whitespace()
        .any(|s| s == "offline_access")
    {
        let refresh = random_token(48);
        shared.lock().refresh_tokens.insert(refresh.clone(), grant);
        body["refresh_token"] = json!(refresh);
    }
    body
}

fn refresh(shared: &Shared, fields: &HashMap<String, String>) -> Result<Value, AadError> {
    let client_id = require(fields, "client_id")?;
    known_client(shared, client_id)?;
    let token = require(fields, "refresh_token")?;
    // Entra rotates refresh tokens: the old one is spent.
    let grant = shared.lock().refresh_tokens.remove(token).ok_or_else(|| {
        AadError::new(
            "invalid_grant",
            9002313,
            "Invalid request. The refresh token is malformed, expired or already used; sign in again.",
        )
    })?;
    Ok(delegated_tokens(shared, grant))
}

/// `GET /_simulator/devicelogin`: the page a user opens to approve a device-code sign-in.
pub async fn device_login_page(State(shared): State<Arc<Shared>>) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign in to the Graph simulator</title></head>\
         <body style=\"font-family:sans-serif;max-width:32rem;margin:4rem auto\">\
         <h1>Hookscope Graph simulator</h1>\
         <p>Enter the code shown by the application to sign in as <b>{}</b>.</p>\
         <form method=\"post\"><input name=\"user_code\" autofocus autocomplete=\"off\"> \
         <button name=\"action\" value=\"approve\">Sign in</button> \
         <button name=\"action\" value=\"decline\">Decline</button></form></body></html>",
        html_escape(&shared.options.user_principal_name)
    ))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `POST /_simulator/devicelogin` (the page's form).
pub async fn device_login_submit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let fields = form(&body);
    let code = fields.get("user_code").map(String::as_str).unwrap_or("");
    let approve = fields.get("action").map(String::as_str) != Some("decline");
    match decide_device_code(&shared, code, approve) {
        Ok(()) => Html(format!(
            "<!doctype html><html><body style=\"font-family:sans-serif;max-width:32rem;margin:4rem auto\"><h1>{}</h1><p>You can close this window.</p></body></html>",
            if approve { "You are signed in." } else { "Sign-in declined." }
        ))
        .into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, Html(html_escape(&message))).into_response(),
    }
}

/// Approves or declines the pending sign-in with this user code.
pub fn decide_device_code(shared: &Shared, user_code: &str, approve: bool) -> Result<(), String> {
    let wanted = user_code.trim().replace('-', "").to_ascii_uppercase();
    let mut state = shared.lock();
    let device = state
        .device_codes
        .values_mut()
        .find(|d| d.user_code == wanted && d.state == DeviceState::Pending)
        .ok_or_else(|| format!("No sign-in is waiting for code '{user_code}'; check the code the application shows."))?;
    device.state = if approve {
        DeviceState::Approved
    } else {
        DeviceState::Declined
    };
    Ok(())
}

/// Multi-tenant metadata names a placeholder where the tenant goes, as Entra's does.
fn issuer_tenant(tenant: &str) -> &str {
    if tenant == "common" {
        "{tenantid}"
    } else {
        tenant
    }
}

/// OIDC metadata, v2 (`/{tenant}/v2.0/.well-known/openid-configuration`).
pub async fn openid_v2(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Json<Value> {
    let base = &shared.base_url;
    let issuer_tenant = issuer_tenant(&tenant);
    Json(json!({
        "issuer": format!("{base}/{issuer_tenant}/v2.0"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "device_authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "WW",
        "cloud_instance_name": "hookscope-simulator",
    }))
}

/// OIDC metadata, v1 (`/{tenant}/.well-known/openid-configuration`).
pub async fn openid_v1(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Json<Value> {
    let base = &shared.base_url;
    let issuer_tenant = issuer_tenant(&tenant);
    Json(json!({
        "issuer": format!("https://sts.windows.net/{issuer_tenant}/"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/authorize"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/token"),
        "jwks_uri": format!("{base}/{tenant}/discovery/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "cloud_instance_name": "hookscope-simulator",
    }))
}

/// `GET /{tenant}/discovery/keys` and `/{tenant}/discovery/v2.0/keys`.
pub async fn jwks(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(shared.signing.jwks())
}
