//! The app's toasts: the engine's toaster with notify-rust as the desktop, following the saved toast
//! settings, and a click that brings the window forward on the notification it was about.

use std::sync::{Arc, OnceLock};

use hookscope_engine::settings::ToastSettings;
use hookscope_engine::toasts::{self, NotifyRust, ToastTimings, Toaster};
use hookscope_engine::Engine;
use tauri::{AppHandle, Emitter, Manager};

/// The event the UI hears when a toast was clicked: the notification id to open.
pub const OPEN_EVENT: &str = "open-notification";

/// Starts the toaster; `app` is filled in once the window exists (a click before then does nothing).
pub fn start(
    engine: &Engine,
    settings: tokio::sync::watch::Receiver<ToastSettings>,
    app: Arc<OnceLock<AppHandle>>,
) -> Toaster {
    let desktop = NotifyRust::with_click(move |toast| {
        let (Some(app), Some(id)) = (app.get(), toast.notification_id.clone()) else {
            return;
        };
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
        let _ = app.emit(OPEN_EVENT, id);
    });
    toasts::start(
        engine.clone(),
        settings,
        Arc::new(desktop),
        ToastTimings::default(),
    )
}
