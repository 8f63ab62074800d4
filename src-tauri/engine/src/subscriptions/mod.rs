//! Creating, renewing, deleting and listing Graph subscriptions the way a careful user would: checked
//! against the catalog before Graph is called, a fresh secret clientState each, a self-check that the
//! receiver really answers Graph's handshake, and Graph's refusals explained with what the receiver saw.

mod creation;
mod form;
mod lifetime;

use rand::RngCore;
use serde::Serialize;
use ts_rs::TS;

use crate::catalog::{self, ChangeType};
use crate::engine::Announcement;
use crate::graph::{GraphApiError, GraphClient, NewSubscription};
use crate::model::{Subscription, SubscriptionStatus};
use crate::Engine;

pub use creation::{create, CreateError};
pub use form::{views, SubscribeInput, SubscriptionView};
pub use lifetime::{describe, expiry_for, max_minutes, Lifetime};

/// What `subscribe` and the form ask for.
#[derive(Debug, Clone)]
pub struct SubscribeRequest {
    pub resource: String,
    /// `created,updated` (case and spaces forgiven).
    pub change_types: String,
    pub lifetime: Lifetime,
    pub rich: bool,
    pub lifecycle: bool,
    pub auto_renew: bool,
    /// Where Graph should deliver; default: the running receiver's public (else local) URL.
    pub notification_url: Option<String>,
}

/// A 256-bit random secret, base64url: 43 characters, under Graph's 128.
pub fn new_client_state() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
}

/// The URLs of the receiver running for this data directory (`hookscope listen` or the app), once it
/// proved alive (see `announcement::receiver`): a stale file never leads a delivery to an old port.
pub async fn running_receiver(engine: &Engine) -> Option<Announcement> {
    crate::announcement::receiver(&engine.config().announcement_path()).await
}

/// Checks a request against the catalog before Graph sees it; free text outside the catalog passes.
pub fn precheck(request: &SubscribeRequest, app_only: bool) -> anyhow::Result<Vec<ChangeType>> {
    let types = ChangeType::parse_list(&request.change_types).map_err(|m| anyhow::anyhow!(m))?;
    let Some(kind) = catalog::classify(&request.resource) else {
        return Ok(types);
    };
    if let Some(refused) = types.iter().find(|t| !kind.allows(**t)) {
        anyhow::bail!(
            "{} does not send '{refused}' notifications; use {}.",
            request.resource,
            ChangeType::join(kind.change_types)
        );
    }
    if request.rich && !kind.rich {
        anyhow::bail!(
            "{} notifications cannot include resource data; subscribe without --rich and fetch the resource.",
            kind.name
        );
    }
    if request.rich && kind.rich_needs_select && !request.resource.contains("$select=") {
        anyhow::bail!(
            "Rich {} notifications carry only the properties you select; add ?$select= to the resource, like {}?$select=subject,from.",
            kind.name,
            request.resource.split('?').next().unwrap_or_default()
        );
    }
    let over_an_hour = match request.lifetime {
        Lifetime::Max => max_minutes(Some(kind), request.rich) > 60,
        Lifetime::Seconds(seconds) => seconds > 3_600,
    };
    if kind.lifecycle_url_required_over_an_hour && !request.lifecycle && over_an_hour {
        anyhow::bail!(
            "Graph requires a lifecycle URL for {} subscriptions that live over an hour; drop --no-lifecycle or ask for 1h or less.",
            kind.name
        );
    }
    if app_only && kind.application_permission.is_none() {
        anyhow::bail!(
            "{} subscriptions need a signed-in user ({}); app-only credentials cannot create them.",
            kind.name,
            kind.delegated_permission
                .unwrap_or("a delegated permission")
        );
    }
    Ok(types)
}

/// Creates the subscription at Graph and records it.
pub async fn subscribe(
    engine: &Engine,
    graph: &GraphClient,
    request: &SubscribeRequest,
) -> anyhow::Result<Subscription> {
    let types = precheck(request, graph.is_app_only())?;
    // The key exists before Graph is asked, so the very first notification can be decrypted.
    let certificate = if request.rich {
        Some(engine.keychain().active_or_generate().await?.0)
    } else {
        None
    };
    let receiver = running_receiver(engine).await;
    let (notification_url, lifecycle_url) = match (&request.notification_url, &receiver) {
        (Some(url), _) => (url.clone(), url.clone()),
        (None, Some(found)) => (found.urls.notification_url.clone(), found.urls.lifecycle_url.clone()),
        (None, None) => anyhow::bail!(
            "No receiver is running for this data directory; start `hookscope listen` or the app, or pass --notification-url."
        ),
    };
    // A dead tunnel or a stopped receiver is caught here, before Graph reports a bare 400. The local
    // URL was just proved when the announcement was trusted: one handshake is enough.
    let proved = receiver.as_ref().is_some_and(|found| {
        notification_url
            == format!(
                "{}{}",
                found.urls.local_url,
                crate::receiver::NOTIFICATIONS_PATH
            )
    });
    let http = reqwest::Client::builder().no_proxy().build()?;
    let timeout = std::time::Duration::from_secs(10);
    let checked = if proved {
        Ok(())
    } else {
        crate::simulator::probe_handshake(&http, &notification_url, timeout).await
    };
    if let Err(detail) = checked {
        anyhow::bail!(
            "{notification_url} does not answer Graph's validation handshake ({detail}); check that the receiver and the tunnel are running."
        );
    }
    let kind = catalog::classify(&request.resource);
    let expiry = expiry_for(
        request.lifetime,
        kind,
        request.rich,
        crate::clock::now_micros(),
    )?;
    let client_state = new_client_state();
    let started = crate::clock::now_micros();
    let new = NewSubscription {
        change_type: ChangeType::join(&types),
        notification_url: notification_url.clone(),
        lifecycle_notification_url: request.lifecycle.then(|| lifecycle_url.clone()),
        resource: request.resource.clone(),
        expiration_date_time: expiry,
        client_state,
        include_resource_data: request.rich,
        encryption_certificate: certificate.as_ref().map(|c| c.certificate_base64()),
        encryption_certificate_id: certificate.as_ref().map(|c| c.certificate_id().to_owned()),
    };
    let created = create(engine, graph, &new, |created| {
        created.auto_renew = request.auto_renew
    })
    .await;
    match created {
        Ok(created) => Ok(created),
        Err(CreateError::Graph(error)) => {
            let permission = kind.and_then(|k| k.permission(graph.is_app_only()));
            Err(explain(engine, error, &notification_url, started, permission).await)
        }
        Err(other) => Err(other.into()),
    }
}

/// Turns Graph's refusal into what to do, using what the receiver recorded while Graph tried.
async fn explain(
    engine: &Engine,
    error: GraphApiError,
    url: &str,
    since_micros: i64,
    permission: Option<&'static str>,
) -> anyhow::Error {
    if error.status == 403 {
        if let Some(permission) = permission {
            return anyhow::anyhow!(
                "{} Grant the app the {permission} permission (with admin consent for an application permission).",
                error.message
            );
        }
    }
    let validation =
        error.code == "ValidationError" || error.message.contains("validation request");
    if !validation {
        return error.into();
    }
    let seen = engine
        .requests(&crate::store::RequestQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .map(|page| {
            page.items
                .into_iter()
                .filter(|r| r.kind == crate::model::RequestKind::Handshake)
                .filter(|r| {
                    crate::clock::parse_rfc3339(&r.received_at).is_some_and(|at| at >= since_micros)
                })
                .count()
        })
        .unwrap_or(0);
    if seen == 0 {
        anyhow::anyhow!(
            "{} Graph's validation request never reached this receiver: {url} is not reachable from the internet (check the tunnel or --public-url).",
            error.message
        )
    } else {
        anyhow::anyhow!(
            "{} The receiver answered {seen} validation request(s) from Graph; see `hookscope requests` for what it answered.",
            error.message
        )
    }
}

/// Renews at Graph with a new lifetime and records the expiry Graph granted.
pub async fn renew(
    engine: &Engine,
    graph: &GraphClient,
    id: &str,
    lifetime: Lifetime,
) -> anyhow::Result<Subscription> {
    let mut local = find(engine, id).await?;
    let kind = catalog::classify(&local.resource);
    let expiry = expiry_for(
        lifetime,
        kind,
        local.include_resource_data,
        crate::clock::now_micros(),
    )?;
    match graph.update_subscription(id, Some(&expiry), None).await {
        Ok(updated) => {
            local.expiration_date_time = updated.expiration_date_time;
            local.status = SubscriptionStatus::Active;
            local.last_error = None;
            engine.put_subscription(local.clone()).await?;
            Ok(local)
        }
        Err(error) if error.status == 404 => {
            local.status = SubscriptionStatus::Expired;
            local.last_error = Some("Graph no longer has this subscription.".into());
            engine.put_subscription(local).await?;
            anyhow::bail!("Graph no longer has subscription {id} (it expired or was deleted); create it again with `hookscope subscribe`.")
        }
        Err(error) => Err(error.into()),
    }
}

/// Deletes at Graph (gone already is fine) and marks it removed here. An orphan (at Graph, unknown
/// here) is deleted at Graph too; then there is no local record to return.
pub async fn delete(
    engine: &Engine,
    graph: &GraphClient,
    id: &str,
) -> anyhow::Result<Option<Subscription>> {
    let local = find(engine, id).await.ok();
    match graph.delete_subscription(id).await {
        Ok(()) => {}
        Err(error) if error.status == 404 && local.is_some() => {}
        Err(error) if error.status == 404 => anyhow::bail!(
            "No subscription {id} here or at Graph; `hookscope subscriptions list --remote` shows both."
        ),
        Err(error) => return Err(error.into()),
    }
    let Some(mut local) = local else {
        return Ok(None);
    };
    local.status = SubscriptionStatus::Removed;
    local.auto_renew = false;
    engine.put_subscription(local.clone()).await?;
    Ok(Some(local))
}

async fn find(engine: &Engine, id: &str) -> anyhow::Result<Subscription> {
    engine
        .subscriptions()
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "No subscription {id} here; `hookscope subscriptions list` shows the ids."
            )
        })
}

/// A subscription Graph holds, and whether Hookscope knows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct RemoteSubscription {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// In Graph but unknown here: nobody renews it, and its notifications are judged unknown.
    pub orphan: bool,
}

pub async fn remote(
    engine: &Engine,
    graph: &GraphClient,
) -> anyhow::Result<Vec<RemoteSubscription>> {
    let known: std::collections::HashSet<String> = engine
        .subscriptions()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    Ok(graph
        .list_subscriptions()
        .await?
        .into_iter()
        .map(|s| RemoteSubscription {
            orphan: !known.contains(&s.id),
            subscription: s,
        })
        .collect())
}
