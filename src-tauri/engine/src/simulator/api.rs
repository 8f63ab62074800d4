//! The subscription API under `/v1.0/subscriptions`, answering as Graph does (docs/graph.md §2): bearer
//! tokens required, the validation handshake run synchronously before a 201, 409 on a duplicate, 404
//! once a subscription is gone, and every answer carrying Graph's request-id headers.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::delivery::{self, Batch};
use super::errors::GraphError;
use super::faults::{self, Operation};
use super::handshake;
use super::racing;
use super::resources::Lookup;
use super::rules::{self, NewSubscription};
use super::state::{Grant, Shared, SimSubscription};

type ApiResult = Result<Response, GraphError>;

/// Adds `request-id`, `client-request-id` and `x-ms-ags-diagnostic` to every Graph answer.
pub async fn graph_headers(request: Request, next: Next) -> Response {
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("uuid"));
    let request_id = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("uuid");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(HeaderName::from_static("request-id"), request_id);
    headers.insert(
        HeaderName::from_static("client-request-id"),
        client_request_id,
    );
    headers.insert(
        HeaderName::from_static("x-ms-ags-diagnostic"),
        HeaderValue::from_static(
            r#"{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"hookscope-simulator"}}"#,
        ),
    );
    response
}

/// The caller behind the bearer token, checked against the simulator's key and clock.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Grant, GraphError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GraphError::unauthorized("Access token is empty."))?;
    let claims = shared.signing.verify(token).ok_or_else(|| {
        GraphError::unauthorized(
            "IDX14100: JWT is not well formed or its signature is invalid; get a token from the simulator's token endpoint.",
        )
    })?;
    let now = shared.clock.now().unix_timestamp();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    let nbf = claims["nbf"].as_i64().unwrap_or(0);
    if now >= exp || now + 300 < nbf {
        return Err(GraphError::unauthorized(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    let client_id = claims["appid"].as_str().unwrap_or_default().to_string();
    let tenant_id = claims["tid"].as_str().unwrap_or_default().to_string();
    let user_id = (claims["idtyp"] == "user")
        .then(|| claims["oid"].as_str().map(str::to_string))
        .flatten();
    Ok(Grant {
        client_id,
        tenant_id,
        user_id,
        scope: claims["scp"].as_str().unwrap_or_default().to_string(),
    })
}

fn creator(shared: &Shared, grant: &Grant) -> String {
    grant
        .user_id
        .clone()
        .unwrap_or_else(|| shared.options.service_principal_id.clone())
}

/// Serves a queued fault for this operation, if any.
fn fault(
    shared: &Shared,
    operation: Operation,
    grant: &Grant,
    permission: Option<&str>,
) -> Result<(), GraphError> {
    let taken = {
        let mut state = shared.lock();
        *state.calls.entry(operation).or_default() += 1;
        faults::take(&mut state.faults, operation)
    };
    match taken {
        Some(fault) => Err(fault.to_error(
            operation,
            &format!("{}+{}", grant.client_id, grant.tenant_id),
            permission,
        )),
        None => Ok(()),
    }
}

fn parse_json(body: &Bytes) -> Result<Value, GraphError> {
    serde_json::from_slice(body).map_err(|_| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    })
}

fn conflict(id: &str) -> GraphError {
    GraphError::new(
        StatusCode::CONFLICT,
        "Conflict",
        format!("Subscription Id {id} already exists for the requested combination"),
    )
}

fn find_duplicate(shared: &Shared, grant: &Grant, new: &NewSubscription) -> Option<String> {
    let mut state = shared.lock();
    state.sweep(shared.clock.now());
    state
        .subscriptions
        .iter()
        .find(|s| s.same_combination(&grant.client_id, &new.resource, &new.change_types))
        .map(|s| s.id.clone())
}

/// `POST /v1.0/subscriptions`
pub async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let grant = authenticate(&shared, &headers)?;
    let value = parse_json(&body);
    let permission = value
        .as_ref()
        .ok()
        .and_then(|v| v["resource"].as_str())
        .and_then(crate::catalog::classify)
        .and_then(|k| k.permission(grant.app_only()));
    fault(&shared, Operation::Create, &grant, permission)?;
    let new = rules::check_create(
        &value?,
        shared.clock.now(),
        &shared.options,
        grant.app_only(),
    )?;
    if let Some(id) = find_duplicate(&shared, &grant, &new) {
        return Err(conflict(&id));
    }
    // Graph validates each URL separately, even when both are the same, before it answers.
    validate_url(&shared, &new.notification_url).await?;
    if let Some(lifecycle) = &new.lifecycle_notification_url {
        validate_url(&shared, lifecycle).await?;
    }
    // The lock is let go before any await: the answer may be held while deliveries race it.
    let (body, location, race) = {
        let mut state = shared.lock();
        if let Some(existing) = state
            .subscriptions
            .iter()
            .find(|s| s.same_combination(&grant.client_id, &new.resource, &new.change_types))
        {
            return Err(conflict(&existing.id));
        }
        let (certificate, certificate_text, certificate_id) = match new.certificate {
            Some((c, t, i)) => (Some(c), Some(t), Some(i)),
            None => (None, None, None),
        };
        let subscription = SimSubscription {
            id: uuid::Uuid::new_v4().to_string(),
            resource: new.resource,
            kind: new.kind,
            change_types: new.change_types,
            notification_url: new.notification_url,
            lifecycle_notification_url: new.lifecycle_notification_url,
            expiration: new.expiration,
            client_state: new.client_state,
            include_resource_data: new.include_resource_data,
            certificate,
            certificate_text,
            certificate_id,
            latest_supported_tls_version: new.latest_supported_tls_version,
            notification_query_options: new.notification_query_options,
            notification_url_app_id: new.notification_url_app_id,
            application_id: grant.client_id.clone(),
            creator_id: creator(&shared, &grant),
            tenant_id: grant.tenant_id.clone(),
            needs_reauthorization: false,
            held: Vec::new(),
        };
        let body = subscription.to_json(&shared.base_url, true);
        let location = format!("{}/v1.0/subscriptions/{}", shared.base_url, subscription.id);
        let race = (!state.deliver_on_create.is_empty())
            .then(|| (state.deliver_on_create.remove(0), subscription.clone()));
        state.subscriptions.push(subscription);
        (body, location, race)
    };
    if let Some((race, created)) = race {
        racing::deliver_on_create(&shared, race, &created).await;
    }
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn validate_url(shared: &Shared, url: &str) -> Result<(), GraphError> {
    let (verdict, outcome) = handshake::validate(
        &shared.http,
        url,
        shared.options.validation_timeout,
        shared.options.strict_content_type,
    )
    .await;
    shared.log.record_handshake(&outcome, verdict.is_ok());
    verdict
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(rename = "$skiptoken")]
    skip_token: Option<String>,
}

/// `GET /v1.0/subscriptions`: this app's subscriptions (a delegated caller sees the user's own), with
/// `clientState` hidden and `@odata.nextLink` paging.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> ApiResult {
    let grant = authenticate(&shared, &headers)?;
    fault(
        &shared,
        Operation::List,
        &grant,
        Some("Subscription.Read.All"),
    )?;
    let start: usize = match query.skip_token.as_deref() {
        None => 0,
        Some(token) => token.parse().map_err(|_| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "The $skiptoken is not valid.",
            )
        })?,
    };
    let mut state = shared.lock();
    state.sweep(shared.clock.now());
    let mine: Vec<&SimSubscription> = state
        .subscriptions
        .iter()
        .filter(|s| s.application_id == grant.client_id)
        .filter(|s| {
            grant
                .user_id
                .as_ref()
                .is_none_or(|user| &s.creator_id == user)
        })
        .collect();
    let size = shared.options.page_size.max(1);
    let page: Vec<Value> = mine
        .iter()
        .skip(start)
        .take(size)
        .map(|s| {
            let mut v = s.to_json(&shared.base_url, false);
            v.as_object_mut().map(|o| o.remove("@odata.context"));
            v
        })
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#subscriptions", shared.base_url),
        "value": page,
    });
    if start + size < mine.len() {
        body["@odata.nextLink"] = json!(format!(
            "{}/v1.0/subscriptions?$skiptoken={}",
            shared.base_url,
            start + size
        ));
    }
    Ok(Json(body).into_response())
}

fn owned<'a>(
    state: &'a mut super::state::State,
    id: &str,
    grant: &Grant,
) -> Result<&'a mut SimSubscription, GraphError> {
    state
        .subscription(id)
        .filter(|s| s.application_id == grant.client_id)
        .ok_or_else(GraphError::not_found)
}

fn permission_of(shared: &Shared, id: &str, grant: &Grant) -> Option<&'static str> {
    shared
        .lock()
        .subscriptions
        .iter()
        .find(|s| s.id == id)
        .and_then(|s| s.kind.permission(grant.app_only()))
}

/// The caller of an operation on one subscription, once its token passed and no fault answered instead.
fn caller(
    shared: &Shared,
    headers: &HeaderMap,
    id: &str,
    operation: Operation,
) -> Result<Grant, GraphError> {
    let grant = authenticate(shared, headers)?;
    fault(shared, operation, &grant, permission_of(shared, id, &grant))?;
    Ok(grant)
}

/// `GET /v1.0/subscriptions/{id}`
pub async fn get(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let grant = caller(&shared, &headers, &id, Operation::Get)?;
    let mut state = shared.lock();
    state.sweep(shared.clock.now());
    let subscription = owned(&mut state, &id, &grant)?;
    Ok(Json(subscription.to_json(&shared.base_url, true)).into_response())
}

/// `PATCH /v1.0/subscriptions/{id}`: renews, re-points (re-validating the new URL) or rotates the
/// certificate; it reauthorizes too.
pub async fn update(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let grant = caller(&shared, &headers, &id, Operation::Update)?;
    let value = parse_json(&body)?;
    let now = shared.clock.now();
    let (kind, rich, current_url) = {
        let mut state = shared.lock();
        state.sweep(now);
        let s = owned(&mut state, &id, &grant)?;
        (s.kind, s.include_resource_data, s.notification_url.clone())
    };
    let update = rules::check_update(&value, kind)?;
    let expiration = update
        .expiration
        .as_deref()
        .map(|e| rules::check_expiration(e, kind, rich, now, &shared.options, "Update"))
        .transpose()?;
    if let Some(url) = update
        .notification_url
        .as_deref()
        .filter(|u| *u != current_url)
    {
        validate_url(&shared, url).await?;
    }
    let (body, held) = {
        let mut state = shared.lock();
        let s = owned(&mut state, &id, &grant)?;
        if let Some(at) = expiration {
            s.expiration = at;
        }
        if let Some(url) = update.notification_url {
            s.notification_url = url;
        }
        if let Some((certificate, text, certificate_id)) = update.certificate {
            s.certificate = Some(certificate);
            s.certificate_text = Some(text);
            s.certificate_id = Some(certificate_id);
        }
        s.needs_reauthorization = false;
        let held = std::mem::take(&mut s.held);
        (s.to_json(&shared.base_url, true), held)
    };
    release_held(&shared, held);
    Ok(Json(body).into_response())
}

/// `POST /v1.0/subscriptions/{id}/reauthorize`
pub async fn reauthorize(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let grant = caller(&shared, &headers, &id, Operation::Reauthorize)?;
    let held = {
        let mut state = shared.lock();
        state.sweep(shared.clock.now());
        let s = owned(&mut state, &id, &grant)?;
        s.needs_reauthorization = false;
        std::mem::take(&mut s.held)
    };
    release_held(&shared, held);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delivers what a paused subscription held back, now that it is authorized again.
fn release_held(shared: &Arc<Shared>, held: Vec<Batch>) {
    if held.is_empty() {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        delivery::send_all(&shared, held).await;
    });
}

/// `DELETE /v1.0/subscriptions/{id}`
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult {
    let grant = caller(&shared, &headers, &id, Operation::Delete)?;
    let mut state = shared.lock();
    state.sweep(shared.clock.now());
    owned(&mut state, &id, &grant)?;
    state.subscriptions.retain(|s| s.id != id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Any other path under `/v1.0`.
pub async fn unknown(request: Request) -> GraphError {
    unknown_segment(request.uri().path().trim_start_matches("/v1.0/"))
}

fn unknown_segment(segment: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
}

#[derive(Deserialize)]
pub struct ResourceQuery {
    #[serde(rename = "$select")]
    select: Option<String>,
}

/// `GET /v1.0/{resource}`: a resource a simulated change touched, as it stands now; one a `deleted`
/// change named is gone the way Graph says it (404 `ResourceNotFound`); any other path is one Graph
/// cannot resolve (400).
pub async fn resource(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(path): Path<String>,
    Query(query): Query<ResourceQuery>,
) -> ApiResult {
    shared.lock().resource_reads += 1;
    authenticate(&shared, &headers)?;
    let found = shared.lock().resources.get(&path, query.select.as_deref());
    let mut resource = match found {
        Lookup::Found(resource) => resource,
        Lookup::Deleted => {
            return Err(GraphError::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("Resource '{path}' does not exist or one of its queried reference-property objects are not present."),
            ))
        }
        Lookup::Unknown => return Err(unknown_segment(&path)),
    };
    if let Value::Object(fields) = &mut resource {
        fields
            .entry("@odata.context")
            .or_insert_with(|| json!(format!("{}/v1.0/$metadata#{path}/$entity", shared.base_url)));
    }
    Ok(Json(resource).into_response())
}
