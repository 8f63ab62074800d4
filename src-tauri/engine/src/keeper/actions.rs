//! The keeper's four actions against Graph (renew, re-create, re-point, record a gap), each ending in a
//! stored, published `KeeperEvent` and the subscription's row brought up to date.

use std::sync::Arc;

use crate::catalog;
use crate::graph::{GraphApiError, GraphClient, NewSubscription};
use crate::model::{KeeperAction, KeeperEvent, Subscription, SubscriptionStatus};
use crate::receiver::ReceiverUrls;
use crate::subscriptions::{create, expiry_for, new_client_state, CreateError, Lifetime};
use crate::Engine;

/// Cheap clones of what an action needs, so the keeper's bookkeeping stays free to change meanwhile.
pub struct Actions {
    pub engine: Engine,
    pub graph: Arc<GraphClient>,
    pub urls: ReceiverUrls,
}

pub fn event(
    subscription_id: &str,
    action: KeeperAction,
    ok: bool,
    message: String,
) -> KeeperEvent {
    KeeperEvent {
        id: uuid::Uuid::now_v7().to_string(),
        at: crate::clock::rfc3339_millis(crate::clock::now_micros()),
        subscription_id: subscription_id.to_string(),
        action,
        ok,
        message,
        expiration_date_time: None,
        new_subscription_id: None,
    }
}

impl Actions {
    pub async fn record(&self, event: KeeperEvent) {
        if let Err(error) = self.engine.record_keeper_event(event).await {
            tracing::warn!(%error, "could not record a keeper event");
        }
    }

    fn expiry(
        &self,
        subscription: &Subscription,
        lifetime: Lifetime,
    ) -> Result<String, GraphApiError> {
        let kind = catalog::classify(&subscription.resource);
        expiry_for(
            lifetime,
            kind,
            subscription.include_resource_data,
            crate::clock::now_micros(),
        )
        .or_else(|_| {
            // A lifetime above today's maximum (the catalog or the tenant changed): fall back to the maximum.
            expiry_for(
                Lifetime::Max,
                kind,
                subscription.include_resource_data,
                crate::clock::now_micros(),
            )
            .map_err(|e| local_error(e.to_string()))
        })
    }

    /// A PATCH of the expiry; the caller handles failures (a 404 means re-create).
    pub async fn renew(
        &self,
        mut subscription: Subscription,
        lifetime: Lifetime,
        why: &str,
    ) -> Result<Subscription, GraphApiError> {
        let expiry = self.expiry(&subscription, lifetime)?;
        let granted = self
            .graph
            .update_subscription(&subscription.id, Some(&expiry), None)
            .await?;
        subscription.expiration_date_time = granted.expiration_date_time;
        subscription.status = SubscriptionStatus::Active;
        subscription.last_error = None;
        self.put(&subscription).await;
        let mut done = event(
            &subscription.id,
            KeeperAction::Renewed,
            true,
            format!(
                "Renewed {why}; it now expires at {}.",
                subscription.expiration_date_time
            ),
        );
        done.expiration_date_time = Some(subscription.expiration_date_time.clone());
        self.record(done).await;
        Ok(subscription)
    }

    /// Deletes what is left at Graph (a duplicate would get 409) and creates the same subscription anew
    /// at the current URLs with a fresh clientState; the old row is kept, marked with `status`.
    pub async fn recreate(
        &self,
        mut old: Subscription,
        lifetime: Lifetime,
        status: SubscriptionStatus,
        why: &str,
    ) -> Result<Subscription, GraphApiError> {
        // A re-created rich subscription gets the active certificate: after a rotation, the new key.
        let certificate = if old.include_resource_data {
            let (key, _) = self
                .engine
                .keychain()
                .active_or_generate()
                .await
                .map_err(|e| local_error(e.to_string()))?;
            Some(key)
        } else {
            None
        };
        match self.graph.delete_subscription(&old.id).await {
            Ok(()) => {}
            Err(error) if error.status == 404 => {}
            Err(error) => return Err(error),
        }
        let expiry = self.expiry(&old, lifetime)?;
        let new = NewSubscription {
            change_type: old.change_type.clone(),
            notification_url: self.urls.notification_url.clone(),
            lifecycle_notification_url: old
                .lifecycle_notification_url
                .as_ref()
                .map(|_| self.urls.lifecycle_url.clone()),
            resource: old.resource.clone(),
            expiration_date_time: expiry,
            client_state: new_client_state(),
            include_resource_data: old.include_resource_data,
            encryption_certificate: certificate.as_ref().map(|c| c.certificate_base64()),
            encryption_certificate_id: certificate.as_ref().map(|c| c.certificate_id().to_owned()),
        };
        // Through the same door as `subscribe`, so Graph's first deliveries to the new id are not
        // judged unknown while its answer is being recorded.
        let created = match create(&self.engine, &self.graph, &new, |created| {
            created.auto_renew = true
        })
        .await
        {
            Ok(created) => created,
            Err(CreateError::Graph(error)) => return Err(error),
            Err(CreateError::NotNoted(error)) => {
                return Err(local_error(CreateError::NotNoted(error).to_string()))
            }
            Err(CreateError::NotRecorded { created, error }) => {
                // Graph holds it; carry on so the old row still says where it went.
                tracing::warn!(%error, id = %created.id, "could not record a re-created subscription");
                *created
            }
        };
        old.status = status;
        old.auto_renew = false;
        old.last_error = Some(format!("Re-created as {} ({why}).", created.id));
        self.put(&old).await;
        let mut done = event(
            &old.id,
            KeeperAction::Recreated,
            true,
            format!(
                "Re-created as {} because {why}; it expires at {}.",
                created.id, created.expiration_date_time
            ),
        );
        done.expiration_date_time = Some(created.expiration_date_time.clone());
        done.new_subscription_id = Some(created.id.clone());
        self.record(done).await;
        Ok(created)
    }

    /// Points the subscription at the current URLs: a PATCH of `notificationUrl` (Graph validates it
    /// first), or, when the lifecycle URL moved too (Graph cannot PATCH that), a re-creation.
    pub async fn repoint(
        &self,
        mut subscription: Subscription,
        lifetime: Lifetime,
    ) -> Result<Subscription, GraphApiError> {
        let from = subscription.notification_url.clone();
        let lifecycle_moved = subscription
            .lifecycle_notification_url
            .as_ref()
            .is_some_and(|url| *url != self.urls.lifecycle_url);
        if lifecycle_moved {
            let why =
                format!("the public URL changed from {from} and Graph cannot move a lifecycle URL");
            return self
                .recreate(subscription, lifetime, SubscriptionStatus::Removed, &why)
                .await;
        }
        let granted = self
            .graph
            .update_subscription(&subscription.id, None, Some(&self.urls.notification_url))
            .await?;
        subscription.notification_url = self.urls.notification_url.clone();
        if !granted.expiration_date_time.is_empty() {
            subscription.expiration_date_time = granted.expiration_date_time;
        }
        subscription.last_error = None;
        self.put(&subscription).await;
        self.record(event(
            &subscription.id,
            KeeperAction::Repointed,
            true,
            format!(
                "Now delivers to {} (was {from}).",
                subscription.notification_url
            ),
        ))
        .await;
        Ok(subscription)
    }

    /// A window in which changes were not delivered; the user must fetch the resource to catch up.
    pub async fn gap(&self, subscription_id: &str, message: String) {
        self.record(event(subscription_id, KeeperAction::Gap, true, message))
            .await;
    }

    /// Records a failed attempt, on the subscription (last error, maybe failed) and as an event.
    pub async fn failed(
        &self,
        mut subscription: Subscription,
        action: KeeperAction,
        message: String,
        refused: bool,
    ) {
        if refused {
            subscription.status = SubscriptionStatus::Failed;
        }
        subscription.last_error = Some(message.clone());
        self.put(&subscription).await;
        self.record(event(&subscription.id, action, false, message))
            .await;
    }

    async fn put(&self, subscription: &Subscription) {
        if let Err(error) = self.engine.put_subscription(subscription.clone()).await {
            tracing::warn!(%error, id = %subscription.id, "could not record a subscription");
        }
    }
}

/// A failure found before Graph was called, shaped like Graph's so one path handles both.
fn local_error(message: String) -> GraphApiError {
    GraphApiError {
        status: 400,
        code: "hookscope".into(),
        message,
        retry_after: None,
    }
}

/// Graph's refusal in words, naming the permission the catalog says is missing on a 403: the
/// application permission for an app signed in with its secret, the delegated one for a signed-in user.
pub fn describe(error: &GraphApiError, subscription: &Subscription, app_only: bool) -> String {
    if error.status == 403 {
        if let Some(permission) =
            catalog::classify(&subscription.resource).and_then(|k| k.permission(app_only))
        {
            let how = if app_only {
                "application permission with admin consent"
            } else {
                "delegated permission, consented for the signed-in user"
            };
            return format!(
                "{} Grant the app the {permission} {how}.",
                error.message.trim_end_matches('.').to_string() + "."
            );
        }
    }
    error.message.clone()
}
