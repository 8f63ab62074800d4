//! The real desktop: notify-rust (D-Bus `org.freedesktop.Notifications` on Linux, native on macOS and
//! Windows). A click on a toast about a notification calls back, where the platform reports clicks.

use std::sync::Arc;

use super::{Desktop, Toast};

type OnClick = Arc<dyn Fn(&Toast) + Send + Sync>;

#[derive(Default, Clone)]
pub struct NotifyRust {
    on_click: Option<OnClick>,
}

impl NotifyRust {
    /// Calls `on_click` with the toast the user clicked (Linux daemons report clicks as the "default"
    /// action; elsewhere clicks only bring the app forward).
    pub fn with_click(on_click: impl Fn(&Toast) + Send + Sync + 'static) -> NotifyRust {
        NotifyRust {
            on_click: Some(Arc::new(on_click)),
        }
    }
}

/// Freedesktop daemons may read a toast as markup (`<b>`, `<a href>`, `<img>`), and toasts carry text
/// that came over the network: shown as text, never as markup. macOS and Windows show text as is.
fn as_text(text: &str) -> String {
    if cfg!(all(unix, not(target_os = "macos"))) {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    } else {
        text.to_owned()
    }
}

impl Desktop for NotifyRust {
    fn show(&self, toast: &Toast) -> Result<(), String> {
        let mut note = notify_rust::Notification::new();
        note.appname("Hookscope")
            .summary(&as_text(&toast.summary))
            .body(&as_text(&toast.body))
            .timeout(notify_rust::Timeout::Milliseconds(8_000));
        // Transient: desktops that keep notifications (GNOME, KDE) let these go, and with them the
        // thread waiting for a click.
        #[cfg(all(unix, not(target_os = "macos")))]
        note.hint(notify_rust::Hint::Transient(true));
        let clickable = self.on_click.is_some() && toast.notification_id.is_some();
        if clickable {
            note.action("default", "Open in Hookscope");
        }
        let handle = note.show().map_err(|error| {
            format!(
                "The desktop did not show the toast ({error}); is a notification service running?"
            )
        })?;
        #[cfg(all(unix, not(target_os = "macos")))]
        if let (true, Some(on_click)) = (clickable, self.on_click.clone()) {
            let toast = toast.clone();
            // Blocks until the toast closes; toasts are coalesced, so these threads stay few.
            std::thread::spawn(move || {
                handle.wait_for_action(|action| {
                    if action == "default" {
                        on_click(&toast);
                    }
                })
            });
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = handle;
        Ok(())
    }
}
