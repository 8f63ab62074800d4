//! Typed events over a tokio broadcast channel: the one way the engine tells its fronts (the app's live
//! feed, `listen`'s output) what happened, in commit-sized batches so a busy receiver stays cheap to watch.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::model::{KeeperEvent, Notification, RelayRecord, RequestRecord};
use crate::store::RecordedRequests;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum Event {
    /// Notifications committed to the store, in commit order (one event per group commit).
    #[serde(rename_all = "camelCase")]
    NotificationsStored {
        #[ts(as = "Vec<Notification>")]
        notifications: Arc<[Notification]>,
    },
    /// Requests recorded (valid or not), in commit order.
    #[serde(rename_all = "camelCase")]
    RequestsRecorded {
        #[ts(as = "Vec<RequestRecord>")]
        requests: RecordedRequests,
    },
    /// A validation handshake was answered (before it was recorded: Graph waits on it).
    #[serde(rename_all = "camelCase")]
    Handshake {
        request_id: String,
        path: String,
        at: String,
    },
    /// The keeper acted on a subscription (recorded in the store before it is published).
    #[serde(rename_all = "camelCase")]
    Keeper { event: KeeperEvent },
    /// The tunnel changed state (connecting, online with its URL, offline and why).
    #[serde(rename_all = "camelCase")]
    Tunnel { state: crate::tunnel::TunnelState },
    /// A delivery was handed on to the user's app (`--forward-to`); what the app answered.
    #[serde(rename_all = "camelCase")]
    Relayed { relay: RelayRecord },
    /// The store could not persist a group; its notifications were answered 503 so Graph retries.
    #[serde(rename_all = "camelCase")]
    StoreFailed { message: String },
}

/// A cheap-to-clone handle on the broadcast channel.
#[derive(Clone)]
pub struct Bus {
    sender: broadcast::Sender<Event>,
}

impl Bus {
    pub fn new() -> Self {
        // Events are batches, so a few thousand slots hold several seconds of a saturated receiver.
        let (sender, _) = broadcast::channel(4096);
        Self { sender }
    }

    pub fn publish(&self, event: Event) {
        // No subscriber is not an error: the engine runs the same whether anyone watches.
        let _ = self.sender.send(event);
    }

    /// Whether anyone listens; producers skip building events nobody would read.
    pub fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}
