//! Signing in once and staying signed in. App-only: the tenant and client id go to the settings, the
//! client secret to the keyring. Delegated: the device-code flow (show a code and a URL, poll at the
//! interval Entra asks, slower when told `slow_down`), then the refresh token to the keyring, rotated on
//! every use. The profile says which, so every front and process resolves the same identity.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::{AppCredentials, Delegated, GraphApiError};
use crate::secrets::{Kept, Secrets};
use crate::Engine;

const PROFILE: &str = "signin";
const CLIENT_SECRET: &str = "client-secret";
const REFRESH_TOKEN: &str = "refresh-token";
/// Asked for when the user names none: enough to subscribe to their mail, calendar and chats.
pub const DEFAULT_SCOPES: &str = "Mail.Read Calendars.Read Contacts.Read Chat.Read offline_access";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SignInMode {
    AppOnly,
    Delegated,
}

/// What is stored in the settings (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SignInProfile {
    pub mode: SignInMode,
    pub graph_url: String,
    pub login_url: String,
    pub tenant_id: String,
    pub client_id: String,
    /// Delegated only: the scopes consented.
    pub scopes: Option<String>,
}

pub async fn profile(engine: &Engine) -> Option<SignInProfile> {
    let text = engine.store().setting(PROFILE).await.ok()??;
    serde_json::from_str(&text).ok()
}

/// The credentials the stored profile stands for, with its secret from the keyring.
pub async fn stored_credentials(engine: &Engine) -> anyhow::Result<Option<AppCredentials>> {
    let Some(profile) = profile(engine).await else {
        return Ok(None);
    };
    let secrets = Secrets::new(&engine.config().data_dir);
    // The keyring may take its time (a locked keyring, a slow Secret Service): not on a runtime worker
    // the receiver shares.
    let read = |name: &'static str| {
        let secrets = secrets.clone();
        async move {
            tokio::task::spawn_blocking(move || secrets.get(name))
                .await
                .ok()
                .flatten()
        }
    };
    let mut credentials = AppCredentials {
        graph_url: profile.graph_url.clone(),
        login_url: profile.login_url.clone(),
        tenant_id: profile.tenant_id.clone(),
        client_id: profile.client_id.clone(),
        client_secret: String::new(),
        delegated: None,
    };
    match profile.mode {
        SignInMode::AppOnly => {
            credentials.client_secret = read(CLIENT_SECRET).await.ok_or_else(|| {
                anyhow::anyhow!("The stored client secret is gone (the keyring was reset?); run `hookscope login` again.")
            })?;
        }
        SignInMode::Delegated => {
            let refresh_token = read(REFRESH_TOKEN).await.ok_or_else(|| {
                anyhow::anyhow!("The stored sign-in is gone (the keyring was reset?); run `hookscope login --device-code` again.")
            })?;
            let keeper = Secrets::new(&engine.config().data_dir);
            credentials.delegated = Some(Delegated {
                refresh_token,
                scopes: profile
                    .scopes
                    .clone()
                    .unwrap_or_else(|| DEFAULT_SCOPES.into()),
                on_rotate: Some(std::sync::Arc::new(move |rotated: &str| {
                    if let Err(error) = keeper.put(REFRESH_TOKEN, rotated) {
                        tracing::warn!(%error, "could not keep the rotated refresh token");
                    }
                })),
            });
        }
    }
    Ok(Some(credentials))
}

/// Stores an app-only sign-in (after the caller has proven the secret works).
pub async fn save_app_only(
    engine: &Engine,
    profile: &SignInProfile,
    secret: &str,
) -> anyhow::Result<Kept> {
    let kept = Secrets::new(&engine.config().data_dir).put(CLIENT_SECRET, secret)?;
    save(engine, profile).await?;
    Ok(kept)
}

/// Stores a delegated sign-in with its first refresh token.
pub async fn save_delegated(
    engine: &Engine,
    profile: &SignInProfile,
    refresh_token: &str,
) -> anyhow::Result<Kept> {
    let kept = Secrets::new(&engine.config().data_dir).put(REFRESH_TOKEN, refresh_token)?;
    save(engine, profile).await?;
    Ok(kept)
}

async fn save(engine: &Engine, profile: &SignInProfile) -> anyhow::Result<()> {
    engine
        .store()
        .put_setting(PROFILE, Some(serde_json::to_string(profile)?))
        .await?;
    Ok(())
}

/// Forgets the sign-in and its secrets.
pub async fn forget(engine: &Engine) -> anyhow::Result<()> {
    let secrets = Secrets::new(&engine.config().data_dir);
    secrets.delete(CLIENT_SECRET);
    secrets.delete(REFRESH_TOKEN);
    engine.store().put_setting(PROFILE, None).await?;
    Ok(())
}

/// What the user must do to finish a device-code sign-in.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    /// Entra's own sentence, e.g. "To sign in, use a web browser to open the page … and enter the code …".
    pub message: String,
    pub expires_in: u64,
    pub interval: u64,
    #[serde(skip)]
    #[ts(skip)]
    device_code: String,
}

/// The tokens a finished sign-in returns.
pub struct Tokens {
    pub refresh_token: Option<String>,
    pub scopes: String,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a TLS client builds")
}

fn endpoint(login_url: &str, tenant: &str, path: &str) -> String {
    format!(
        "{}/{tenant}/oauth2/v2.0/{path}",
        login_url.trim_end_matches('/')
    )
}

fn unreachable(login_url: &str, error: reqwest::Error) -> GraphApiError {
    GraphApiError {
        status: 0,
        code: "unreachable".into(),
        message: format!("Cannot reach {login_url} ({error}); check the network or --login-url."),
        retry_after: None,
    }
}

pub async fn start_device_code(
    login_url: &str,
    tenant: &str,
    client_id: &str,
    scopes: &str,
) -> Result<DeviceCode, GraphApiError> {
    let response = http()
        .post(endpoint(login_url, tenant, "devicecode"))
        .form(&[("client_id", client_id), ("scope", scopes)])
        .send()
        .await
        .map_err(|e| unreachable(login_url, e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    if status != 200 {
        return Err(GraphApiError::from_answer(
            status,
            &body,
            None,
            "Starting the sign-in",
        ));
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Ok(DeviceCode {
        user_code: text("user_code"),
        verification_uri: text("verification_uri"),
        message: text("message"),
        expires_in: v["expires_in"].as_u64().unwrap_or(900),
        interval: v["interval"].as_u64().unwrap_or(5).max(1),
        device_code: text("device_code"),
    })
}

/// Polls until the user approves, declines, or the code expires (RFC 8628 §3.4–3.5).
pub async fn finish_device_code(
    login_url: &str,
    tenant: &str,
    client_id: &str,
    code: &DeviceCode,
) -> Result<Tokens, GraphApiError> {
    let http = http();
    let mut interval = Duration::from_secs(code.interval);
    let deadline = std::time::Instant::now() + Duration::from_secs(code.expires_in);
    loop {
        tokio::time::sleep(interval).await;
        let response = http
            .post(endpoint(login_url, tenant, "token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", client_id),
                ("device_code", code.device_code.as_str()),
            ])
            .send()
            .await
            .map_err(|e| unreachable(login_url, e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_default();
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status == 200 {
            return Ok(Tokens {
                refresh_token: v["refresh_token"].as_str().map(str::to_string),
                scopes: v["scope"].as_str().unwrap_or_default().to_string(),
            });
        }
        match v["error"].as_str() {
            Some("authorization_pending") if std::time::Instant::now() < deadline => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            Some("authorization_declined") => {
                return Err(refusal(status, "The sign-in was declined in the browser; run the login again to retry."))
            }
            Some("expired_token") | Some("authorization_pending") => {
                return Err(refusal(status, "The code expired before the sign-in was finished; run the login again for a new code."))
            }
            _ => return Err(GraphApiError::from_answer(status, &body, None, "Signing in")),
        }
    }
}

fn refusal(status: u16, message: &str) -> GraphApiError {
    GraphApiError {
        status,
        code: "signin".into(),
        message: message.into(),
        retry_after: None,
    }
}
