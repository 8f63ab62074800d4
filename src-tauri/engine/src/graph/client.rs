//! The Graph client: an app-only token from the login host (cached until shortly before it expires, and
//! fetched again once when Graph answers 401) and the subscription calls Hookscope makes.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::{AppCredentials, GraphApiError};
use crate::model::{Subscription, SubscriptionStatus};

/// A token is replaced this long before Entra says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// The body of `POST /subscriptions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSubscription {
    pub change_type: String,
    pub notification_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_notification_url: Option<String>,
    pub resource: String,
    pub expiration_date_time: String,
    pub client_state: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub include_resource_data: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_certificate_id: Option<String>,
}

pub struct GraphClient {
    credentials: AppCredentials,
    http: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
    /// The latest refresh token of a delegated sign-in (each use spends the previous one).
    refresh_token: Mutex<Option<String>>,
    /// How long in all a call may wait out Graph's `Retry-After` before it reports the throttling.
    patience: Duration,
}

impl GraphClient {
    pub fn new(credentials: AppCredentials) -> anyhow::Result<GraphClient> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("Hookscope/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let refresh_token = credentials
            .delegated
            .as_ref()
            .map(|d| d.refresh_token.clone());
        Ok(GraphClient {
            credentials,
            http,
            token: Mutex::new(None),
            refresh_token: Mutex::new(refresh_token),
            patience: Duration::ZERO,
        })
    }

    /// A client for a person waiting on a command: a 429 whose `Retry-After` fits in `patience` is
    /// waited out and retried rather than reported. The keeper keeps zero and schedules its own retries.
    pub fn with_patience(mut self, patience: Duration) -> GraphClient {
        self.patience = patience;
        self
    }

    /// Where and as whom this client signs in (Debug redacts the secret).
    pub fn credentials(&self) -> &AppCredentials {
        &self.credentials
    }

    /// The tenant this client signs in to: the keeper acts only on that tenant's subscriptions.
    pub fn tenant_id(&self) -> &str {
        &self.credentials.tenant_id
    }

    fn unreachable(&self, host: &str, error: reqwest::Error) -> GraphApiError {
        GraphApiError {
            status: 0,
            code: "unreachable".into(),
            message: format!("Cannot reach {host} ({error}); check the network or the --graph-url / --login-url settings."),
            retry_after: None,
        }
    }

    /// An absolute URL from Graph's answer (a `@odata.nextLink`), when it is on the Graph host this client
    /// was configured with (same scheme, host and port): an answer that points elsewhere, from a
    /// misbehaving proxy or a forged page, must not get the bearer token sent there.
    fn on_graph_host(&self, link: &str, doing: &str) -> Result<String, GraphApiError> {
        let ours = url::Url::parse(&self.credentials.graph_url).map(|u| u.origin());
        let theirs = url::Url::parse(link).map(|u| u.origin());
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) if ours == theirs => Ok(link.to_owned()),
            (ours, theirs) => {
                let show = |origin: Result<url::Origin, url::ParseError>, text: &str| match origin {
                    Ok(origin) if origin.is_tuple() => origin.ascii_serialization(),
                    _ => format!("{text:?}"),
                };
                Err(GraphApiError {
                    status: 0,
                    code: "foreignNextLink".into(),
                    message: format!(
                        "{doing} stopped: Graph's answer points the next page at {}, not at the Graph host {}, so Hookscope did not send your token there; check --graph-url or the proxy in front of Graph.",
                        show(theirs, link),
                        show(ours, &self.credentials.graph_url)
                    ),
                    retry_after: None,
                })
            }
        }
    }

    /// An app-only client, as opposed to a signed-in user's: app-only calls need application permissions.
    pub fn is_app_only(&self) -> bool {
        self.credentials.app_only()
    }

    /// An access token (app-only or the signed-in user's), from the cache while it is fresh.
    pub async fn token(&self) -> Result<String, GraphApiError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let c = &self.credentials;
        let scope = format!("{}/.default", c.graph_url.trim_end_matches('/'));
        let mut refresh = self.refresh_token.lock().await;
        let form: Vec<(&str, String)> = match (&c.delegated, refresh.as_ref()) {
            (Some(delegated), Some(token)) => vec![
                ("grant_type", "refresh_token".into()),
                ("client_id", c.client_id.clone()),
                ("refresh_token", token.clone()),
                ("scope", delegated.scopes.clone()),
            ],
            _ => vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", c.client_id.clone()),
                ("client_secret", c.client_secret.clone()),
                ("scope", scope),
            ],
        };
        let response = self
            .http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                c.login_url.trim_end_matches('/'),
                c.tenant_id
            ))
            .form(&form)
            .send()
            .await
            .map_err(|e| self.unreachable(&c.login_url, e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_default();
        if status != 200 {
            return Err(GraphApiError::from_answer(
                status,
                &body,
                None,
                "Signing in",
            ));
        }
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if let (Some(delegated), Some(rotated)) = (&c.delegated, answer["refresh_token"].as_str()) {
            *refresh = Some(rotated.to_string());
            if let Some(keep) = &delegated.on_rotate {
                keep(rotated);
            }
        }
        let token = answer["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let lifetime = Duration::from_secs(answer["expires_in"].as_u64().unwrap_or(3599));
        *cached = Some((
            token.clone(),
            Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
        ));
        Ok(token)
    }

    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        doing: &str,
    ) -> Result<(u16, Vec<u8>), GraphApiError> {
        // `@odata.nextLink` pages come back as absolute URLs; the token goes only to the Graph host.
        let url = if path.starts_with('/') {
            format!(
                "{}/v1.0{path}",
                self.credentials.graph_url.trim_end_matches('/')
            )
        } else {
            self.on_graph_host(path, doing)?
        };
        let mut refreshed = false;
        let mut waited = Duration::ZERO;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.token().await?);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.unreachable(&self.credentials.graph_url, e))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let bytes = response.bytes().await.unwrap_or_default().to_vec();
            if status == 401 && !refreshed {
                // The token may have been revoked or expired early: one fresh token, one retry.
                refreshed = true;
                *self.token.lock().await = None;
                continue;
            }
            if status == 429 {
                let wait = Duration::from_secs(retry_after.unwrap_or(u64::MAX));
                if waited + wait <= self.patience {
                    waited += wait;
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if !(200..300).contains(&status) {
                return Err(GraphApiError::from_answer(
                    status,
                    &bytes,
                    retry_after,
                    doing,
                ));
            }
            return Ok((status, bytes));
        }
    }

    /// Creates a subscription; Graph runs the validation handshake before it answers.
    pub async fn create_subscription(
        &self,
        new: &NewSubscription,
    ) -> Result<Subscription, GraphApiError> {
        let body = serde_json::to_value(new).expect("serializable");
        let (_, bytes) = self
            .call(
                reqwest::Method::POST,
                "/subscriptions",
                Some(&body),
                "Creating the subscription",
            )
            .await?;
        let created: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut subscription = self.parse(&created);
        // Graph never returns the clientState; keep the one we chose.
        subscription.client_state = Some(new.client_state.clone());
        if subscription.encryption_certificate_id.is_none() {
            subscription.encryption_certificate_id = new.encryption_certificate_id.clone();
        }
        if subscription.expiration_date_time.is_empty() {
            subscription.expiration_date_time = new.expiration_date_time.clone();
        }
        Ok(subscription)
    }

    /// A subscription as Graph describes it (clientState unknown: Graph reads it back as null).
    fn parse(&self, value: &Value) -> Subscription {
        let text = |name: &str| value[name].as_str().map(str::to_string);
        Subscription {
            id: text("id").unwrap_or_default(),
            resource: text("resource").unwrap_or_default(),
            change_type: text("changeType").unwrap_or_default(),
            notification_url: text("notificationUrl").unwrap_or_default(),
            lifecycle_notification_url: text("lifecycleNotificationUrl"),
            expiration_date_time: text("expirationDateTime").unwrap_or_default(),
            include_resource_data: value["includeResourceData"].as_bool().unwrap_or(false),
            client_state: None,
            tenant_id: Some(self.credentials.tenant_id.clone()),
            auto_renew: true,
            status: SubscriptionStatus::Active,
            last_error: None,
            application_id: text("applicationId")
                .or_else(|| Some(self.credentials.client_id.clone())),
            login_url: Some(self.credentials.login_url.trim_end_matches('/').to_owned()),
            encryption_certificate_id: text("encryptionCertificateId"),
        }
    }

    /// PATCHes the expiry and/or the notification URL; Graph re-validates a changed URL first.
    pub async fn update_subscription(
        &self,
        id: &str,
        expiration_date_time: Option<&str>,
        notification_url: Option<&str>,
    ) -> Result<Subscription, GraphApiError> {
        let mut body = serde_json::Map::new();
        if let Some(expiry) = expiration_date_time {
            body.insert("expirationDateTime".into(), expiry.into());
        }
        if let Some(url) = notification_url {
            body.insert("notificationUrl".into(), url.into());
        }
        let (_, bytes) = self
            .call(
                reqwest::Method::PATCH,
                &format!("/subscriptions/{id}"),
                Some(&Value::Object(body)),
                "Updating the subscription",
            )
            .await?;
        Ok(self.parse(&serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// Answers a `reauthorizationRequired` lifecycle event.
    pub async fn reauthorize_subscription(&self, id: &str) -> Result<(), GraphApiError> {
        self.call(
            reqwest::Method::POST,
            &format!("/subscriptions/{id}/reauthorize"),
            None,
            "Reauthorizing the subscription",
        )
        .await
        .map(|_| ())
    }

    /// Every subscription this app holds at Graph, following `@odata.nextLink` pages.
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>, GraphApiError> {
        let mut found = Vec::new();
        let mut next = Some("/subscriptions".to_string());
        while let Some(path) = next.take() {
            let (_, bytes) = self
                .call(reqwest::Method::GET, &path, None, "Listing subscriptions")
                .await?;
            let page: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if let Some(items) = page["value"].as_array() {
                found.extend(items.iter().map(|item| self.parse(item)));
            }
            next = page["@odata.nextLink"].as_str().map(str::to_string);
        }
        Ok(found)
    }

    pub async fn delete_subscription(&self, id: &str) -> Result<(), GraphApiError> {
        self.call(
            reqwest::Method::DELETE,
            &format!("/subscriptions/{id}"),
            None,
            "Deleting the subscription",
        )
        .await
        .map(|_| ())
    }
}
