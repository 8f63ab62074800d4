//! Desktop toasts: the policy decides, a desktop shows (notify-rust in the fronts, a recording stand-in
//! in tests), and every toast is recorded with whether it was shown: a machine without a notification
//! service gets a record of each failure, never a crash or a stalled receiver.

mod desktop;
mod policy;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

pub use desktop::NotifyRust;
pub use policy::{Policy, Toast};

use crate::bus::Event;
use crate::model::ToastRecord;
use crate::settings::ToastSettings;
use crate::Engine;

/// Where toasts go.
pub trait Desktop: Send + Sync + 'static {
    /// Shows the toast (blocking is fine: it runs on a thread of its own); Err with the reason when the
    /// desktop cannot.
    fn show(&self, toast: &Toast) -> Result<(), String>;
}

#[derive(Debug, Clone)]
pub struct ToastTimings {
    /// At most one notifications toast per subscription this often.
    pub coalesce: Duration,
    /// How often subscriptions are checked for an expiry without auto-renew.
    pub expiry_check: Duration,
    /// How far ahead such an expiry is announced.
    pub expiry_warning: Duration,
}

impl Default for ToastTimings {
    fn default() -> Self {
        ToastTimings {
            coalesce: Duration::from_secs(5),
            expiry_check: Duration::from_secs(30),
            expiry_warning: Duration::from_secs(15 * 60),
        }
    }
}

/// The running toaster; it stops when dropped.
pub struct Toaster {
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Toaster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

pub fn start(
    engine: Engine,
    settings: watch::Receiver<ToastSettings>,
    desktop: Arc<dyn Desktop>,
    timings: ToastTimings,
) -> Toaster {
    let (queue, shown) = mpsc::unbounded_channel();
    let decide = tokio::spawn(decide(
        engine.clone(),
        engine.events(),
        settings,
        queue,
        timings,
    ));
    let show = tokio::spawn(show(engine, shown, desktop));
    Toaster {
        tasks: [decide, show],
    }
}

async fn decide(
    engine: Engine,
    mut events: broadcast::Receiver<Event>,
    settings: watch::Receiver<ToastSettings>,
    queue: mpsc::UnboundedSender<Toast>,
    timings: ToastTimings,
) {
    let mut policy = Policy::new(timings.coalesce);
    let mut expiry = tokio::time::interval(timings.expiry_check);
    expiry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let flush_at = policy.next_flush();
        let flush = async {
            match flush_at {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        // The settings are read when each wake-up is handled, so a mute applies to the very next event.
        let current = || settings.borrow();
        let toasts = tokio::select! {
            event = events.recv() => match event {
                Ok(Event::NotificationsStored { notifications }) => {
                    policy.notifications(Instant::now(), &notifications, &current())
                }
                Ok(Event::Keeper { event }) => policy.keeper(&event, &current()).into_iter().collect(),
                Ok(Event::Tunnel { state }) => policy.tunnel(&state, &current()).into_iter().collect(),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => Vec::new(),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = flush => policy.flush(Instant::now(), &current()),
            _ = expiry.tick(), if settings.borrow().enabled => match engine.subscriptions().await {
                Ok(subscriptions) => policy.expiring(
                    crate::clock::now_micros(),
                    timings.expiry_warning,
                    &subscriptions,
                    &current(),
                ),
                Err(_) => Vec::new(),
            },
        };
        for toast in toasts {
            if queue.send(toast).is_err() {
                return;
            }
        }
    }
}

/// Shows each toast in order on a blocking thread, then records it with the outcome.
async fn show(
    engine: Engine,
    mut shown: mpsc::UnboundedReceiver<Toast>,
    desktop: Arc<dyn Desktop>,
) {
    while let Some(toast) = shown.recv().await {
        let desktop = desktop.clone();
        let (toast, outcome) = tokio::task::spawn_blocking(move || {
            let outcome = desktop.show(&toast);
            (toast, outcome)
        })
        .await
        .unwrap_or_else(|error| {
            (
                Toast {
                    kind: crate::model::ToastKind::Notifications,
                    summary: String::new(),
                    body: String::new(),
                    subscription_id: None,
                    notification_id: None,
                },
                Err(error.to_string()),
            )
        });
        if let Err(error) = &outcome {
            tracing::info!(%error, summary = %toast.summary, "a toast could not be shown");
        }
        let record = ToastRecord {
            id: uuid::Uuid::now_v7().to_string(),
            at: crate::clock::rfc3339_millis(crate::clock::now_micros()),
            kind: toast.kind,
            subscription_id: toast.subscription_id,
            notification_id: toast.notification_id,
            summary: toast.summary,
            body: toast.body,
            shown: outcome.is_ok(),
            error: outcome.err(),
        };
        if let Err(error) = engine.store().put_toast(record).await {
            tracing::warn!(%error, "could not record a toast");
        }
    }
}
