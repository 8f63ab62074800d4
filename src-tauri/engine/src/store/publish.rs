//! Turns what the writer committed into the bus's public events, on a task of its own. Building the
//! records copies every body and reads every item's JSON; on the writer's thread, the one every
//! acknowledgement waits for, that cost a watched receiver a quarter of its 100-item throughput.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{oneshot, watch};

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
    /// An answer to a caller, given once everything before it is published.
    Reply(Box<dyn FnOnce() + Send>),
}

/// The writer's side: hands over outcomes in commit order. The task ends once this is dropped and the
/// queue is empty.
pub(crate) struct Publisher {
    outcomes: flume::Sender<Outcome>,
    bus: Bus,
    gone: std::cell::Cell<bool>,
}

impl Publisher {
    /// Starts the publishing task (on the current tokio runtime). It holds `alive` until it ends,
    /// after the writer has gone and every answer is given: whoever still waits on a job then learns
    /// that the store is closed instead of waiting forever.
    pub(crate) fn spawn(bus: Bus, alive: watch::Sender<()>) -> Publisher {
        let (outcomes, queue) = flume::bounded(QUEUE);
        let publishing = bus.clone();
        tokio::spawn(async move {
            run(queue, publishing).await;
            drop(alive);
        });
        Publisher {
            outcomes,
            bus,
            gone: std::cell::Cell::new(false),
        }
    }

    /// Whether anyone listens: committed rows are handed over only then.
    pub(crate) fn watched(&self) -> bool {
        self.bus.has_subscribers()
    }

    pub(crate) fn send(&self, outcome: Outcome) {
        if let Err(flume::SendError(outcome)) = self.outcomes.send(outcome) {
            if !self.gone.replace(true) {
                tracing::warn!("the store's events stopped: their task is gone");
            }
            // Events have nowhere to go, but callers still get their answer.
            if let Outcome::Reply(reply) = outcome {
                reply();
            }
        }
    }

    /// Answers `ack` once the events of every earlier commit are on the bus.
    pub(crate) fn reply<T: Send + 'static>(&self, ack: oneshot::Sender<T>, answer: T) {
        self.send(Outcome::Reply(Box::new(move || {
            let _ = ack.send(answer);
        })));
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
        Outcome::Reply(reply) => {
            reply();
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
