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
}

impl GraphClient {
    pub fn new(credentials: AppCredentials) -> anyhow::Result<GraphClient> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("Hookscope/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(GraphClient {
            credentials,
            http,
            token: Mutex::new(None),
        })
    }

    fn unreachable(&self, host: &str, error: reqwest::Error) -> GraphApiError {
        GraphApiError {
            status: 0,
            code: "unreachable".into(),
            message: format!("Cannot reach {host} ({error}); check the network or the --graph-url / --login-url settings."),
            retry_after: None,
        }
    }

    /// An app-only access token, from the cache while it is fresh.
    pub async fn token(&self) -> Result<String, GraphApiError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let c = &self.credentials;
        let scope = format!("{}/.default", c.graph_url.trim_end_matches('/'));
        let response = self
            .http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                c.login_url.trim_end_matches('/'),
                c.tenant_id
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", c.client_secret.as_str()),
                ("scope", scope.as_str()),
            ])
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

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        doing: &str,
    ) -> Result<(u16, Vec<u8>), GraphApiError> {
        let url = format!(
            "{}/v1.0{path}",
            self.credentials.graph_url.trim_end_matches('/')
        );
        for attempt in 0..2 {
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
            if status == 401 && attempt == 0 {
                // The token may have been revoked or expired early: one fresh token, one retry.
                *self.token.lock().await = None;
                continue;
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
        unreachable!("the loop returns on its second attempt")
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
        let text = |name: &str| created[name].as_str().map(str::to_string);
        Ok(Subscription {
            id: text("id").unwrap_or_default(),
            resource: text("resource").unwrap_or_else(|| new.resource.clone()),
            change_type: text("changeType").unwrap_or_else(|| new.change_type.clone()),
            notification_url: text("notificationUrl")
                .unwrap_or_else(|| new.notification_url.clone()),
            lifecycle_notification_url: text("lifecycleNotificationUrl"),
            expiration_date_time: text("expirationDateTime")
                .unwrap_or_else(|| new.expiration_date_time.clone()),
            include_resource_data: created["includeResourceData"].as_bool().unwrap_or(false),
            client_state: Some(new.client_state.clone()),
            tenant_id: Some(self.credentials.tenant_id.clone()),
            auto_renew: true,
            status: SubscriptionStatus::Active,
            last_error: None,
        })
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
