//! Signing in from the app (an app's secret, or a device code the user finishes in the browser), signing
//! out, and the doctor's checks for the Health panel. Each hops into the engine's `graph::signin` and
//! `doctor`, then reconnects so the keeper works with the new identity.

use hookscope_engine::doctor::{self, Check};
use hookscope_engine::graph::signin::{
    self, DeviceCode, SignInMode, SignInProfile, DEFAULT_SCOPES,
};
use hookscope_engine::graph::{settings, AppCredentials, GraphClient, GraphStatus};
use tauri::State;

use super::commands::engine;
use super::Shell;

/// A device-code sign-in started and not yet finished.
pub struct Pending {
    profile: SignInProfile,
    code: DeviceCode,
}

/// `cloud` (global, usgov, dod, china) picks the national cloud's hosts; none keeps the app's flags,
/// else a running simulator, else the global cloud.
async fn profile(
    shell: &Shell,
    tenant: String,
    client_id: String,
    cloud: Option<String>,
) -> Result<SignInProfile, String> {
    let engine = engine(shell)?;
    let mut chosen = shell.graph_settings.clone();
    // An unknown name is refused by `hosts`, in the same sentence as for `--cloud`.
    if let Some(cloud) = cloud.filter(|c| !c.trim().is_empty()) {
        chosen.cloud = Some(cloud);
    }
    let (graph_url, login_url) = settings::hosts(&chosen, &engine.config().data_dir)
        .await
        .map_err(|e| e.to_string())?;
    if tenant.trim().is_empty() || client_id.trim().is_empty() {
        return Err(
            "Fill in the tenant id and the client id from the app registration's overview page."
                .into(),
        );
    }
    Ok(SignInProfile {
        mode: SignInMode::AppOnly,
        graph_url,
        login_url,
        tenant_id: tenant.trim().to_string(),
        client_id: client_id.trim().to_string(),
        scopes: None,
    })
}

async fn status(shell: &Shell) -> GraphStatus {
    match shell.graph.lock().await.as_ref() {
        Some(connection) => connection.status().clone(),
        None => GraphStatus::disconnected(shell.problem_with_graph()),
    }
}

/// Proves the secret with a token, keeps it in the keyring, and reconnects as the app.
#[tauri::command]
pub async fn sign_in_app(
    shell: State<'_, Shell>,
    tenant: String,
    client_id: String,
    secret: String,
    cloud: Option<String>,
) -> Result<GraphStatus, String> {
    let profile = profile(&shell, tenant, client_id, cloud).await?;
    let client = GraphClient::new(AppCredentials {
        graph_url: profile.graph_url.clone(),
        login_url: profile.login_url.clone(),
        tenant_id: profile.tenant_id.clone(),
        client_id: profile.client_id.clone(),
        client_secret: secret.trim().to_string(),
        delegated: None,
    })
    .map_err(|e| e.to_string())?;
    client.token().await.map_err(|e| e.to_string())?;
    signin::save_app_only(engine(&shell)?, &profile, secret.trim())
        .await
        .map_err(|e| e.to_string())?;
    shell.connect().await;
    Ok(status(&shell).await)
}

/// Asks the login host for a code to show; `finish_device_sign_in` then waits for the user.
#[tauri::command]
pub async fn start_device_sign_in(
    shell: State<'_, Shell>,
    tenant: String,
    client_id: String,
    scopes: Option<String>,
    cloud: Option<String>,
) -> Result<DeviceCode, String> {
    let mut profile = profile(&shell, tenant, client_id, cloud).await?;
    let mut scopes = scopes
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SCOPES.into());
    if !scopes.split_whitespace().any(|s| s == "offline_access") {
        scopes.push_str(" offline_access");
    }
    let code = signin::start_device_code(
        &profile.login_url,
        &profile.tenant_id,
        &profile.client_id,
        &scopes,
    )
    .await
    .map_err(|e| e.to_string())?;
    profile.mode = SignInMode::Delegated;
    profile.scopes = Some(scopes);
    *shell.pending_sign_in.lock().await = Some(Pending {
        profile,
        code: code.clone(),
    });
    Ok(code)
}

/// Opens the pending sign-in's verification page in the user's browser. Only that page: the UI cannot
/// ask the shell to open an arbitrary URL.
#[tauri::command]
pub async fn open_sign_in_page(shell: State<'_, Shell>) -> Result<(), String> {
    let pending = shell.pending_sign_in.lock().await;
    let page = pending
        .as_ref()
        .map(|p| p.code.verification_uri.clone())
        .ok_or_else(|| "Start the sign-in first.".to_string())?;
    let scheme_ok = url::Url::parse(&page).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
    if !scheme_ok {
        return Err(format!(
            "The sign-in page {page:?} is not a web address; open it by hand."
        ));
    }
    open::that_detached(&page)
        .map_err(|error| format!("Could not open a browser ({error}); open {page} by hand."))
}

#[tauri::command]
pub async fn finish_device_sign_in(shell: State<'_, Shell>) -> Result<GraphStatus, String> {
    let pending = shell
        .pending_sign_in
        .lock()
        .await
        .take()
        .ok_or_else(|| "Start the sign-in first.".to_string())?;
    let p = &pending.profile;
    let tokens =
        signin::finish_device_code(&p.login_url, &p.tenant_id, &p.client_id, &pending.code)
            .await
            .map_err(|e| e.to_string())?;
    let refresh = tokens.refresh_token.ok_or_else(|| {
        "The sign-in returned no refresh token; ask for offline_access.".to_string()
    })?;
    signin::save_delegated(engine(&shell)?, p, &refresh)
        .await
        .map_err(|e| e.to_string())?;
    shell.connect().await;
    Ok(status(&shell).await)
}

#[tauri::command]
pub async fn sign_out(shell: State<'_, Shell>) -> Result<GraphStatus, String> {
    signin::forget(engine(&shell)?)
        .await
        .map_err(|e| e.to_string())?;
    shell.connect().await;
    Ok(status(&shell).await)
}

#[tauri::command]
pub async fn doctor(shell: State<'_, Shell>) -> Result<Vec<Check>, String> {
    Ok(doctor::examine(engine(&shell)?, &shell.graph_settings).await)
}
