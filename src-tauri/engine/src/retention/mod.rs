//! Retention: deliveries older than the age the user chose are deleted, at once when the setting
//! changes and then every hour, in bounded batches through the writer so the receiver keeps answering
//! Graph while millions of old rows go. Without a retention everything is kept, as before.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::now_micros;
use crate::store::{Pruned, Store, StoreError};
use crate::Engine;

/// Rows per table per batch: a few milliseconds of writer time each.
const BATCH: u32 = 2_000;
/// How often an unchanged retention is applied again.
const EVERY: Duration = Duration::from_secs(3600);
const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;
/// Ten years: anything longer is keeping everything.
pub const MAX_DAYS: u32 = 3650;

/// The settings' check of a retention (the command line says it in its own words, about its flag).
pub fn check_days(days: u32) -> anyhow::Result<u32> {
    if !(1..=MAX_DAYS).contains(&days) {
        anyhow::bail!(
            "Keep deliveries for 1 to {MAX_DAYS} days, or leave the retention empty to keep everything."
        );
    }
    Ok(days)
}

/// Deletes everything received before `before_micros`, batch after batch; what went, in all.
pub async fn prune_before(store: &Store, before_micros: i64) -> Result<Pruned, StoreError> {
    let mut total = Pruned::default();
    loop {
        let batch = store.prune_batch(before_micros, BATCH).await?;
        total.notifications += batch.notifications;
        total.requests += batch.requests;
        if batch.notifications < BATCH as u64 && batch.requests < BATCH as u64 {
            return Ok(total);
        }
        // Let queued deliveries take the writer between batches.
        tokio::task::yield_now().await;
    }
}

/// Deletes what is older than `days` days (checked with `check_days` by every front).
pub async fn prune_older_than(store: &Store, days: u32) -> Result<Pruned, StoreError> {
    let age = i64::from(days.min(MAX_DAYS)) * MICROS_PER_DAY;
    prune_before(store, now_micros().saturating_sub(age)).await
}

/// The hourly pruner; it follows the retention it is given.
pub struct Retention {
    days: watch::Sender<Option<u32>>,
    task: JoinHandle<()>,
}

impl Retention {
    pub fn start(engine: Engine, days: Option<u32>) -> Retention {
        let (sender, mut changes) = watch::channel(days);
        let task = tokio::spawn(async move {
            loop {
                let days = *changes.borrow_and_update();
                if let Some(days) = days {
                    match prune_older_than(engine.store(), days).await {
                        Ok(pruned) if pruned != Pruned::default() => tracing::info!(
                            days,
                            notifications = pruned.notifications,
                            requests = pruned.requests,
                            "deleted deliveries older than the retention"
                        ),
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "could not apply the retention"),
                    }
                }
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    _ = tokio::time::sleep(EVERY) => {}
                }
            }
        });
        Retention { days: sender, task }
    }

    /// A new retention applies at once; the same one again does nothing.
    pub fn set(&self, days: Option<u32>) {
        self.days.send_if_modified(|current| {
            let changed = *current != days;
            *current = days;
            changed
        });
    }
}

impl Drop for Retention {
    fn drop(&mut self) {
        self.task.abort();
    }
}
