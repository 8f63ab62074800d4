//! The live feed: bus events folded into batches of at most one per interval, the shape a UI applies
//! once per frame. Measured in WebKitGTK, batching is what turns ~20k events/s into ~400k/s.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use ts_rs::TS;

use crate::bus::Event;
use crate::model::{KeeperEvent, Notification};

#[derive(Debug, Clone, Default, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct FeedBatch {
    /// Newly stored notifications, oldest first.
    #[ts(as = "Vec<Notification>")]
    pub notifications: Stored,
    /// What the keeper did meanwhile (renewals, re-creations, gaps), oldest first.
    pub keeper: Vec<KeeperEvent>,
    /// Events the feed could not keep up with; the UI should reload its page from the store.
    pub missed: u64,
}

/// Notifications in the commit-sized slices the bus delivered, shared with every other watcher rather
/// than copied; they serialize as one flat list.
#[derive(Debug, Clone, Default)]
pub struct Stored(Vec<Arc<[Notification]>>);

impl Stored {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Notification> {
        self.0.iter().flat_map(|slice| slice.iter())
    }
}

impl Serialize for Stored {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl FeedBatch {
    fn is_empty(&self) -> bool {
        self.notifications.is_empty() && self.keeper.is_empty() && self.missed == 0
    }

    fn absorb(&mut self, event: Event) {
        match event {
            Event::NotificationsStored { notifications } => {
                if !notifications.is_empty() {
                    self.notifications.0.push(notifications)
                }
            }
            Event::Keeper { event } => self.keeper.push(event),
            // Request records carry whole bodies; the feed shows notifications and leaves requests to
            // the inspector, which reads them from the store when asked.
            Event::RequestsRecorded { .. }
            | Event::Handshake { .. }
            | Event::Relayed { .. }
            | Event::Tunnel { .. }
            | Event::StoreFailed { .. } => {}
        }
    }
}

/// Spawns the batching task; the returned channel closes when the bus or the consumer goes away.
pub fn spawn(mut events: broadcast::Receiver<Event>, every: Duration) -> mpsc::Receiver<FeedBatch> {
    let (sender, batches) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let mut batch = FeedBatch::default();
            // Wait (without a timer) for the first event, then gather for one interval.
            match events.recv().await {
                Ok(event) => batch.absorb(event),
                Err(broadcast::error::RecvError::Lagged(n)) => batch.missed += n,
                Err(broadcast::error::RecvError::Closed) => return,
            }
            let deadline = tokio::time::Instant::now() + every;
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Err(_) => break,
                    Ok(Ok(event)) => batch.absorb(event),
                    Ok(Err(broadcast::error::RecvError::Lagged(n))) => batch.missed += n,
                    Ok(Err(broadcast::error::RecvError::Closed)) => break,
                }
            }
            if !batch.is_empty() && sender.send(batch).await.is_err() {
                return;
            }
        }
    });
    batches
}
