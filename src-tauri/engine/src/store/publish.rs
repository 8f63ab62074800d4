//! Turns what the writer committed into the bus's public events, on a task of its own. Building the
//! records copies every body and reads every item's JSON; on the writer's thread, the one every
//! acknowledgement waits for, that cost a watched receiver a quarter of its 100-item throughput.

use std::collections::HashMap;
use std::sync::Arc;

use super::rows::{NotificationRow, RecordedRequests, RequestRow};
use crate::bus::{Bus, Event};

/// Groups waiting to be published. Past this the writer waits: the machine is overloaded, and slower
/// acknowledgements are better than unbounded memory.
const QUEUE: usize = 1_024;

/// What became of a group.
pub(crate) enum Outcome {
    Committed {
        requests: Vec<RequestRow>,
        notifications: Vec<NotificationRow>,
        duplicates: Vec<bool>,
    },
    Failed {
        message: String,
    },
}

/// The writer's side: hands over outcomes in commit order.
pub(crate) struct Publisher {
    outcomes: flume::Sender<Outcome>,
    bus: Bus,
}

impl Publisher {
    /// Starts the publishing task (on the current tokio runtime).
    pub(crate) fn spawn(bus: Bus) -> Publisher {
        let (outcomes, queue) = flume::bounded(QUEUE);
        tokio::spawn(run(queue, bus.clone()));
        Publisher { outcomes, bus }
    }

    /// Whether anyone listens: committed rows are handed over only then.
    pub(crate) fn watched(&self) -> bool {
        self.bus.has_subscribers()
    }

    pub(crate) fn send(&self, outcome: Outcome) {
        // Fails only once the runtime is gone, and with it everyone who could have listened.
        let _ = self.outcomes.send(outcome);
    }
}

async fn run(queue: flume::Receiver<Outcome>, bus: Bus) {
    while let Ok(outcome) = queue.recv_async().await {
        publish(&bus, outcome);
    }
}

fn publish(bus: &Bus, outcome: Outcome) {
    let (requests, notifications, duplicates) = match outcome {
        Outcome::Failed { message } => {
            bus.publish(Event::StoreFailed { message });
            return;
        }
        Outcome::Committed {
            requests,
            notifications,
            duplicates,
        } => (requests, notifications, duplicates),
    };
    if !notifications.is_empty() {
        let bodies: HashMap<&str, (&[u8], &Option<String>)> = requests
            .iter()
            .map(|r| (r.id.as_str(), (&r.body[..], &r.replay_of)))
            .collect();
        let stored: Arc<[_]> = notifications
            .iter()
            .zip(duplicates)
            .map(|(row, duplicate)| {
                let (body, replay_of) = bodies
                    .get(row.request_id.as_str())
                    .copied()
                    .unwrap_or((&[], &None));
                row.to_notification(duplicate, body, replay_of.clone())
            })
            .collect();
        bus.publish(Event::NotificationsStored {
            notifications: stored,
        });
    }
    if !requests.is_empty() {
        bus.publish(Event::RequestsRecorded {
            requests: RecordedRequests::new(requests),
        });
    }
}
