//! The settings screen's commands: read the settings (secrets only as "set" or not) and save a change,
//! which the receiver and tunnel take up at once.

use hookscope_engine::settings::{self, Settings, SettingsChange, SettingsView};
use tauri::State;

use super::commands::engine;
use super::Shell;

/// The settings as they run: the saved ones, with what the environment overrode at start, so the
/// screen never shows a port or tunnel other than the one in use.
#[tauri::command]
pub async fn settings_get(shell: State<'_, Shell>) -> Result<SettingsView, String> {
    let mut view = settings::view(engine(&shell)?).await;
    if let Some(running) = match &shell.live {
        Some(live) => live.settings().await,
        None => None,
    } {
        view.settings = running;
    }
    Ok(view)
}

/// Saves the change, then restarts the receiver or the tunnel when the change needs it.
#[tauri::command]
pub async fn settings_save(
    shell: State<'_, Shell>,
    change: SettingsChange,
) -> Result<SettingsView, String> {
    let engine = engine(&shell)?;
    let saved: Settings = settings::save(engine, change)
        .await
        .map_err(|error| error.to_string())?;
    shell.toast_settings.send_replace(saved.toasts.clone());
    if let Some(live) = &shell.live {
        live.apply(&saved).await;
    }
    let mut view = settings::view(engine).await;
    view.settings = saved;
    Ok(view)
}
