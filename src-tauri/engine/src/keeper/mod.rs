//! The keeper: keeps every auto-renewing subscription alive and pointed at this receiver without the
//! user thinking about it. Renews on schedule, answers lifecycle events, re-points after a URL change,
//! and at start catches up on whatever expired or moved while Hookscope was not running. It works one
//! subscription at a time, so a thousand due renewals never become a storm of parallel calls.

mod actions;
mod backoff;
mod lease;
mod schedule;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;

use crate::bus::Event;
use crate::graph::{GraphApiError, GraphClient};
use crate::model::{KeeperAction, Notification, Subscription, SubscriptionStatus, Verdict};
use crate::receiver::ReceiverUrls;
use crate::Engine;

use actions::{describe, Actions};
use backoff::{Backoff, Failure};
use lease::Lease;
pub use schedule::{lifetime_again, renew_at};

/// Never sleep longer than this: subscriptions created by another process (`hookscope subscribe`
/// beside `listen`) are noticed within it, early enough even for a lifetime of a few seconds. A pass
/// is one indexed read of a small table.
const LONGEST_SLEEP: Duration = Duration::from_secs(1);
/// Graph's rule: no reauthorize and PATCH of one subscription within ten minutes; Graph repeats
/// `reauthorizationRequired` until answered, so one answer covers the repeats.
const REAUTHORIZE_QUIET: Duration = Duration::from_secs(600);

pub struct Keeper {
    urls: watch::Sender<ReceiverUrls>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// Starts keeping the subscriptions this client's tenant holds, for the receiver at `urls`.
pub fn start(engine: Engine, graph: Arc<GraphClient>, urls: ReceiverUrls) -> Keeper {
    let (urls_tx, urls_rx) = watch::channel(urls);
    let (stop_tx, stop_rx) = oneshot::channel();
    // Subscribe before the task starts, so no lifecycle event stored meanwhile is missed.
    let events = engine.events();
    let state = State {
        engine,
        graph,
        backoff: Backoff::default(),
        answered: HashMap::new(),
        lease: None,
        started: crate::clock::now_micros(),
        cursor: 0,
        cursor_saved: None,
    };
    let task = tokio::spawn(state.run(events, urls_rx, stop_rx));
    Keeper {
        urls: urls_tx,
        stop: Some(stop_tx),
        task,
    }
}

impl Keeper {
    /// The public URL changed (a tunnel came back elsewhere): every subscription follows it.
    /// Wakes the keeper only when the URLs really moved: fronts call this on every status change
    /// (a tunnel reconnecting keeps its URL).
    pub fn set_urls(&self, urls: ReceiverUrls) {
        self.urls.send_if_modified(|now| {
            let moved = *now != urls;
            if moved {
                *now = urls;
            }
            moved
        });
    }

    /// Stops after the action in progress, if any.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

struct State {
    engine: Engine,
    graph: Arc<GraphClient>,
    backoff: Backoff,
    /// When each subscription's `reauthorizationRequired` was last answered.
    answered: HashMap<String, Instant>,
    /// Held while this keeper is the one acting for the data directory.
    lease: Option<Lease>,
    /// When this keeper started (microseconds): lifecycle events received since are its to answer.
    started: i64,
    /// The rowid of the last notification looked at for lifecycle events (from any process).
    cursor: i64,
    /// When the cursor was last written to the settings, so a keeper taking over resumes from it.
    cursor_saved: Option<Instant>,
}

impl State {
    async fn run(
        mut self,
        mut events: broadcast::Receiver<Event>,
        mut urls: watch::Receiver<ReceiverUrls>,
        mut stop: oneshot::Receiver<()>,
    ) {
        loop {
            let current = urls.borrow_and_update().clone();
            let wake = if self.holds_lease().await {
                self.answer_lifecycle_events(&current).await;
                self.sweep(&current).await
            } else {
                LONGEST_SLEEP
            };
            // Only what can change a decision wakes the keeper: its timer, a new URL, or a stored
            // lifecycle event (the poll above reads it from the store, whichever process stored it).
            // Ordinary notifications, thousands a second under load, do not cost it a pass.
            let timer = tokio::time::sleep(wake);
            tokio::pin!(timer);
            loop {
                tokio::select! {
                    _ = &mut stop => return,
                    _ = &mut timer => break,
                    changed = urls.changed() => if changed.is_err() { return } else { break },
                    event = events.recv() => match event {
                        Ok(Event::NotificationsStored { notifications })
                            if notifications.iter().any(|n| n.lifecycle_event.is_some()) => break,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                }
            }
        }
    }

    /// The settings key of this tenant's cursor.
    fn cursor_key(&self) -> String {
        format!("keeper.cursor.{}", self.graph.tenant_id())
    }

    /// Takes the lease for this data directory and tenant when it is free; without it the keeper only
    /// waits. The new holder resumes the lifecycle cursor where the previous one saved it, so an event
    /// stored during the handover is still answered.
    async fn holds_lease(&mut self) -> bool {
        if self.lease.is_some() {
            return true;
        }
        self.lease = Lease::try_acquire(&self.engine.config().data_dir, self.graph.tenant_id());
        if self.lease.is_some() {
            let store = self.engine.store();
            let saved = store
                .setting(&self.cursor_key())
                .await
                .ok()
                .flatten()
                .and_then(|v| v.parse::<i64>().ok());
            self.cursor = match saved {
                Some(saved) => saved,
                // A first start: lifecycle events from before this keeper started are history, but
                // one stored between its start and this first pass is answered.
                None => store
                    .notification_rowid_before(self.started)
                    .await
                    .unwrap_or(0),
            };
            tracing::info!("this keeper now keeps the data directory's subscriptions");
        }
        self.lease.is_some()
    }

    /// Lifecycle events any process's receiver stored (this one's, or `listen`'s beside the app): the
    /// keeper holding the lease answers them. Each poll reads only what was committed since the last.
    async fn answer_lifecycle_events(&mut self, urls: &ReceiverUrls) {
        const BATCH: u32 = 500;
        let store = self.engine.store().clone();
        let Ok(Some(newest)) = store.newest_notification_rowid().await else {
            return;
        };
        if newest <= self.cursor {
            return;
        }
        let Ok(found) = store
            .lifecycle_notifications_between(self.cursor, newest, BATCH)
            .await
        else {
            return;
        };
        // A full page stops at its last row; the rest comes on the next pass.
        self.cursor = match found.last() {
            Some((rowid, _)) if found.len() == BATCH as usize => *rowid,
            _ => newest,
        };
        let answered = !found.is_empty();
        if answered {
            let notes: Vec<Notification> = found.into_iter().map(|(_, n)| n).collect();
            self.react(&notes, urls).await;
        }
        // Saved at once after answering (a successor must not answer again), else now and then.
        let due = answered
            || self
                .cursor_saved
                .is_none_or(|at| at.elapsed() >= Duration::from_secs(30));
        if due {
            let _ = store
                .put_setting(&self.cursor_key(), Some(self.cursor.to_string()))
                .await;
            self.cursor_saved = Some(Instant::now());
        }
    }

    fn actions(&self, urls: &ReceiverUrls) -> Actions {
        Actions {
            engine: self.engine.clone(),
            graph: self.graph.clone(),
            urls: urls.clone(),
        }
    }

    /// The subscriptions the keeper looks after, with when their expiry was granted.
    async fn kept(&self) -> Vec<(Subscription, i64)> {
        let tenant = self.graph.tenant_id();
        match self.engine.store().subscriptions_with_grant().await {
            Ok(all) => all
                .into_iter()
                .filter(|(s, _)| s.status == SubscriptionStatus::Active)
                .filter(|(s, _)| s.tenant_id.as_deref().is_none_or(|t| t == tenant))
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "the keeper could not read the subscriptions");
                Vec::new()
            }
        }
    }

    /// One pass over every kept subscription; returns how long to sleep until the next is due.
    async fn sweep(&mut self, urls: &ReceiverUrls) -> Duration {
        let mut next = LONGEST_SLEEP;
        for (subscription, granted) in self.kept().await {
            let now = crate::clock::now_micros();
            let Some(expiry) = crate::clock::parse_rfc3339(&subscription.expiration_date_time)
            else {
                continue;
            };
            if !self.backoff.ready(&subscription.id, Instant::now()) {
                continue;
            }
            let actions = self.actions(urls);
            let lifetime = lifetime_again(granted, expiry);
            if !subscription.auto_renew {
                if now >= expiry {
                    let mut expired = subscription;
                    expired.status = SubscriptionStatus::Expired;
                    let _ = self.engine.put_subscription(expired).await;
                }
                continue;
            }
            if now >= expiry {
                let message = format!(
                    "Subscription {} expired at {} while it could not be renewed; changes from then until it was re-created were not delivered, so fetch {} to catch up.",
                    subscription.id, subscription.expiration_date_time, subscription.resource
                );
                self.replace_lost(&actions, subscription, lifetime, "it had expired", message)
                    .await;
                continue;
            }
            if moved(&subscription, urls) {
                match actions.repoint(subscription.clone(), lifetime).await {
                    Ok(_) => self.backoff.succeeded(&subscription.id),
                    Err(error) => {
                        self.fail(&actions, subscription, KeeperAction::Repointed, &error)
                            .await
                    }
                }
                continue;
            }
            let due = renew_at(granted, expiry);
            if now >= due {
                self.renew(&actions, subscription, lifetime, "on schedule")
                    .await;
            } else {
                next = next.min(Duration::from_micros((due - now) as u64));
            }
        }
        if let Some(ready) = self.backoff.next_ready() {
            next = next.min(ready.saturating_duration_since(Instant::now()));
        }
        next.max(Duration::from_millis(50))
    }

    /// A renewal; a 404 means Graph lost it, so it is made anew.
    async fn renew(
        &mut self,
        actions: &Actions,
        subscription: Subscription,
        lifetime: crate::subscriptions::Lifetime,
        why: &str,
    ) {
        match actions.renew(subscription.clone(), lifetime, why).await {
            Ok(_) => self.backoff.succeeded(&subscription.id),
            Err(error) if error.status == 404 => {
                let message = format!(
                    "Graph no longer had subscription {}; changes since it was lost were not delivered, so fetch {} to catch up.",
                    subscription.id, subscription.resource
                );
                self.replace_lost(
                    actions,
                    subscription,
                    lifetime,
                    "Graph answered 404 to its renewal",
                    message,
                )
                .await;
            }
            Err(error) => {
                self.fail(actions, subscription, KeeperAction::Renewed, &error)
                    .await
            }
        }
    }

    /// Makes anew a subscription Graph no longer has, and records the gap its absence left.
    async fn replace_lost(
        &mut self,
        actions: &Actions,
        subscription: Subscription,
        lifetime: crate::subscriptions::Lifetime,
        why: &str,
        gap: String,
    ) {
        let lost = subscription.clone();
        match actions
            .recreate(subscription, lifetime, SubscriptionStatus::Expired, why)
            .await
        {
            Ok(_) => {
                self.backoff.succeeded(&lost.id);
                actions.gap(&lost.id, gap).await;
            }
            Err(error) => {
                self.fail(actions, lost, KeeperAction::Recreated, &error)
                    .await
            }
        }
    }

    async fn fail(
        &mut self,
        actions: &Actions,
        subscription: Subscription,
        action: KeeperAction,
        error: &GraphApiError,
    ) {
        let failure = self.backoff.failed(&subscription.id, error, Instant::now());
        let what = describe(error, &subscription, actions.graph.is_app_only());
        let (message, refused) = match failure {
            Failure::Transient(wait) => (
                format!(
                    "{} failed: {what} Trying again in {} s.",
                    verb(action),
                    wait.as_secs().max(1)
                ),
                false,
            ),
            Failure::Refused => (format!("{} failed: {what}", verb(action)), true),
        };
        actions.failed(subscription, action, message, refused).await;
    }

    /// Lifecycle events that passed the receiver's checks (a forged one is rejected there and changes
    /// nothing here); a repeat Graph sends while the first is answered is answered once.
    async fn react(&mut self, notifications: &[Notification], urls: &ReceiverUrls) {
        for note in notifications {
            let (Some(event), Some(id)) = (&note.lifecycle_event, &note.subscription_id) else {
                continue;
            };
            if note.verdict != Verdict::Accepted {
                continue;
            }
            let Some((subscription, granted)) =
                self.kept().await.into_iter().find(|(s, _)| s.id == *id)
            else {
                continue;
            };
            let actions = self.actions(urls);
            let expiry =
                crate::clock::parse_rfc3339(&subscription.expiration_date_time).unwrap_or_default();
            let lifetime = lifetime_again(granted, expiry);
            match event.as_str() {
                "reauthorizationRequired" => {
                    if self
                        .answered
                        .get(id)
                        .is_some_and(|at| at.elapsed() < REAUTHORIZE_QUIET)
                    {
                        continue;
                    }
                    self.answered.insert(id.clone(), Instant::now());
                    self.renew(
                        &actions,
                        subscription,
                        lifetime,
                        "as Graph asked (reauthorizationRequired)",
                    )
                    .await;
                }
                "subscriptionRemoved" => {
                    let why = "Graph removed it (subscriptionRemoved)";
                    if let Err(error) = actions
                        .recreate(
                            subscription.clone(),
                            lifetime,
                            SubscriptionStatus::Removed,
                            why,
                        )
                        .await
                    {
                        self.fail(&actions, subscription, KeeperAction::Recreated, &error)
                            .await;
                    }
                }
                "missed" => {
                    let message = format!(
                        "Graph could not deliver some notifications for {} (missed) around {}; fetch {} to catch up.",
                        subscription.id, note.received_at, subscription.resource
                    );
                    actions.gap(id, message).await;
                }
                _ => {}
            }
        }
    }
}

/// Whether the subscription points at an earlier address of this receiver. Subscriptions a user aimed
/// elsewhere on purpose (`--notification-url` to another app) are left alone.
fn moved(subscription: &Subscription, urls: &ReceiverUrls) -> bool {
    subscription.notification_url != urls.notification_url
        && subscription
            .notification_url
            .trim_end_matches('/')
            .ends_with("/notifications")
}

fn verb(action: KeeperAction) -> &'static str {
    match action {
        KeeperAction::Renewed => "Renewing",
        KeeperAction::Recreated => "Re-creating",
        KeeperAction::Repointed => "Re-pointing",
        KeeperAction::Gap => "Recording a gap",
    }
}
