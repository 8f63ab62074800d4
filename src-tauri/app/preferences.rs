//! The settings screen's commands: read the settings (secrets only as "set" or not) and save a change,
//! which the receiver and tunnel take up at once.

use hookscope_engine::settings::{self, Settings, SettingsChange, SettingsView, TunnelMode};
use tauri::State;

use super::commands::engine;
use super::Shell;

/// The saved settings (what the environment overrides for this run shows in the status bar, and is
/// never written back by a save).
#[tauri::command]
pub async fn settings_get(shell: State<'_, Shell>) -> Result<SettingsView, String> {
    Ok(settings::view(engine(&shell)?).await)
}

/// Saves the change, then restarts the receiver or the tunnel when the change needs it.
#[tauri::command]
pub async fn settings_save(
    shell: State<'_, Shell>,
    change: SettingsChange,
) -> Result<SettingsView, String> {
    let engine = engine(&shell)?;
    let token_changed = change.forget_ngrok_authtoken
        || change
            .ngrok_authtoken
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
    let saved: Settings = settings::save(engine, change)
        .await
        .map_err(|error| error.to_string())?;
    shell.toast_settings.send_replace(saved.toasts.clone());
    if let Some(live) = &shell.live {
        if token_changed && saved.tunnel == TunnelMode::Ngrok {
            live.restart(&saved).await;
        } else {
            live.apply(&saved).await;
        }
    }
    let mut view = settings::view(engine).await;
    view.settings = saved;
    Ok(view)
}
