//! Which toasts to show, and when: pure decisions over bus events and the clock, so the rules are
//! tested without a desktop. New accepted notifications are coalesced per subscription (the first
//! toasts at once, the rest of the window become one "N more" toast); lifecycle events, keeper
//! failures, a tunnel going down and subscriptions about to expire without auto-renew toast at once.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::model::{KeeperEvent, Notification, ToastKind, Verdict};
use crate::settings::ToastSettings;
use crate::tunnel::TunnelState;

/// A toast to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub kind: ToastKind,
    pub summary: String,
    pub body: String,
    pub subscription_id: Option<String>,
    /// What a click opens.
    pub notification_id: Option<String>,
}

/// One subscription's window: when it last toasted, and what arrived since.
struct Window {
    shown_at: Instant,
    held: usize,
    latest: Option<String>,
}

pub struct Policy {
    every: Duration,
    windows: HashMap<String, Window>,
    tunnel_was_online: bool,
    /// (subscription, expiry) pairs already announced: a renewal's new expiry is announced again.
    warned_expiring: HashSet<(String, String)>,
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn what(n: &Notification) -> String {
    let change = n.change_type.as_deref().unwrap_or("changed");
    match &n.resource {
        Some(resource) => format!("{change}: {resource}"),
        None => change.to_string(),
    }
}

impl Policy {
    /// At most one notifications toast per subscription every `every`.
    pub fn new(every: Duration) -> Policy {
        Policy {
            every,
            windows: HashMap::new(),
            tunnel_was_online: false,
            warned_expiring: HashSet::new(),
        }
    }

    pub fn notifications(
        &mut self,
        now: Instant,
        stored: &[Notification],
        settings: &ToastSettings,
    ) -> Vec<Toast> {
        let mut toasts = Vec::new();
        if !settings.enabled {
            return toasts;
        }
        for n in stored {
            // What the user did themselves (a replay) and what Graph sent twice are not news.
            if n.verdict != Verdict::Accepted || n.duplicate || n.replay_of.is_some() {
                continue;
            }
            let subscription = n.subscription_id.clone().unwrap_or_default();
            if let Some(event) = &n.lifecycle_event {
                toasts.push(Toast {
                    kind: ToastKind::Lifecycle,
                    summary: format!("Lifecycle event: {event}"),
                    body: format!(
                        "Subscription {} needs attention; Hookscope's keeper answers it when it keeps the subscription.",
                        short(&subscription)
                    ),
                    subscription_id: n.subscription_id.clone(),
                    notification_id: Some(n.id.clone()),
                });
                continue;
            }
            if settings.muted.contains(&subscription) {
                continue;
            }
            match self.windows.get_mut(&subscription) {
                Some(window) if now.duration_since(window.shown_at) < self.every => {
                    window.held += 1;
                    window.latest = Some(n.id.clone());
                }
                _ => {
                    self.windows.insert(
                        subscription.clone(),
                        Window {
                            shown_at: now,
                            held: 0,
                            latest: None,
                        },
                    );
                    toasts.push(Toast {
                        kind: ToastKind::Notifications,
                        summary: "New notification".into(),
                        body: format!("{} (subscription {})", what(n), short(&subscription)),
                        subscription_id: n.subscription_id.clone(),
                        notification_id: Some(n.id.clone()),
                    });
                }
            }
        }
        toasts
    }

    /// The held notifications whose window has passed, as one toast per subscription.
    /// A window muted (or toasts switched off) meanwhile is dropped without a toast.
    pub fn flush(&mut self, now: Instant, settings: &ToastSettings) -> Vec<Toast> {
        let mut toasts = Vec::new();
        for (subscription, window) in &mut self.windows {
            if window.held == 0 || now.duration_since(window.shown_at) < self.every {
                continue;
            }
            if !settings.enabled || settings.muted.contains(subscription) {
                window.held = 0;
                window.latest = None;
                continue;
            }
            let count = std::mem::take(&mut window.held);
            window.shown_at = now;
            toasts.push(Toast {
                kind: ToastKind::Notifications,
                summary: format!(
                    "{count} more notification{}",
                    if count == 1 { "" } else { "s" }
                ),
                body: format!("Subscription {}", short(subscription)),
                subscription_id: Some(subscription.clone()).filter(|s| !s.is_empty()),
                notification_id: window.latest.take(),
            });
        }
        toasts.sort_by(|a, b| a.subscription_id.cmp(&b.subscription_id));
        toasts
    }

    /// When the next held window ends, for the runner's timer.
    pub fn next_flush(&self) -> Option<Instant> {
        self.windows
            .values()
            .filter(|w| w.held > 0)
            .map(|w| w.shown_at + self.every)
            .min()
    }

    pub fn keeper(&mut self, event: &KeeperEvent, settings: &ToastSettings) -> Option<Toast> {
        if event.ok || !settings.enabled {
            return None;
        }
        Some(Toast {
            kind: ToastKind::KeeperFailed,
            summary: format!(
                "Could not keep subscription {}",
                short(&event.subscription_id)
            ),
            body: event.message.clone(),
            subscription_id: Some(event.subscription_id.clone()),
            notification_id: None,
        })
    }

    /// A toast when a tunnel that was online goes down, or when it cannot open at all for a reason the
    /// user must fix; not for every retry.
    pub fn tunnel(&mut self, state: &TunnelState, settings: &ToastSettings) -> Option<Toast> {
        let (reason, fatal) = match state {
            TunnelState::Online { .. } => {
                self.tunnel_was_online = true;
                return None;
            }
            TunnelState::Connecting => return None,
            TunnelState::Reconnecting { reason } => (reason, false),
            TunnelState::Offline { reason, retrying } => (reason, !retrying),
        };
        let was_online = std::mem::replace(&mut self.tunnel_was_online, false);
        if !settings.enabled || !(was_online || fatal) {
            return None;
        }
        Some(Toast {
            kind: ToastKind::TunnelDown,
            summary: "Tunnel down: Graph cannot reach Hookscope".into(),
            body: reason.clone(),
            subscription_id: None,
            notification_id: None,
        })
    }

    /// Subscriptions without auto-renew that expire within `ahead`, each warned about once.
    pub fn expiring(
        &mut self,
        now_micros: i64,
        ahead: Duration,
        subscriptions: &[crate::model::Subscription],
        settings: &ToastSettings,
    ) -> Vec<Toast> {
        let mut toasts = Vec::new();
        for s in subscriptions {
            if s.auto_renew || s.status != crate::model::SubscriptionStatus::Active {
                continue;
            }
            let Some(expires) = crate::clock::parse_rfc3339(&s.expiration_date_time) else {
                continue;
            };
            let left = expires - now_micros;
            if left <= 0 || left > ahead.as_micros() as i64 || !settings.enabled {
                continue;
            }
            if !self
                .warned_expiring
                .insert((s.id.clone(), s.expiration_date_time.clone()))
            {
                continue;
            }
            toasts.push(Toast {
                kind: ToastKind::Expiring,
                summary: format!(
                    "Subscription {} expires in {} min",
                    short(&s.id),
                    left / 60_000_000 + 1
                ),
                body: format!(
                    "{} is not renewed automatically; renew it in Hookscope's Subscriptions tab.",
                    s.resource
                ),
                subscription_id: Some(s.id.clone()),
                notification_id: None,
            });
        }
        toasts
    }
}
