//! The single writer: one SQLite connection on a thread of its own that commits everything queued while
//! the last commit ran as the next transaction (group commit). Requests that must be durable before they
//! are answered wait for their group's commit; one fsync then covers a whole burst of deliveries. The
//! thread calls SQLite directly: through sqlx, every statement was a round trip to its connection thread
//! (140-190 us each on a busy 2-core machine), which made a group's chain longer than its fsync.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::dedupe::Seen;
use super::pending::{self, PendingChange};
use super::prune::{self, Pruned};
use super::publish::{Outcome, Publisher};
use super::rows::{CertificateChange, NotificationRow, RelayRow, RequestRow};
use super::statements;
use super::StoreError;
use crate::model::ToastRecord;
use crate::model::{KeeperEvent, Subscription};

/// Upper bounds on what one transaction folds in, so a flood cannot make a commit unbounded: one
/// commit's time is what every delivery queued behind it waits, and Graph waits 3 s at most.
const MAX_GROUP_JOBS: usize = 4_096;
const MAX_GROUP_ROWS: usize = 16_384;
const MAX_GROUP_BYTES: usize = 32 * 1024 * 1024;
/// Requests kept across a failed commit so the inspector still shows them once the store recovers:
/// bounded in bytes, and given up after a few tries so one row that can never be written cannot block
/// the deliveries behind it.
const MAX_CARRIED_BYTES: usize = 64 * 1024 * 1024;
const MAX_CARRY_ATTEMPTS: u8 = 3;
/// How long measured latencies wait for the next group before they get a transaction of their own.
const LATENCY_FLUSH_DELAY: Duration = Duration::from_millis(200);
/// Under load, latencies ride along with a group at most this often (or once this many wait): written
/// with every group, their table's pages were 13% of what each commit wrote to the WAL (a latency is a
/// measurement; losing the last second of them to a crash costs nothing a user relies on).
const LATENCY_WRITE_INTERVAL: Duration = Duration::from_secs(1);
const MAX_PENDING_LATENCIES: usize = 65_536;

/// Measured latencies not written yet.
struct Latencies {
    pending: Vec<(String, i64)>,
    written_at: Instant,
}

impl Latencies {
    /// Whether the next group carries them.
    fn due(&self) -> bool {
        !self.pending.is_empty()
            && (self.pending.len() >= MAX_PENDING_LATENCIES
                || self.written_at.elapsed() >= LATENCY_WRITE_INTERVAL)
    }

    fn written(&mut self) {
        self.pending.clear();
        self.written_at = Instant::now();
    }
}

pub(crate) type Ack = oneshot::Sender<Result<(), StoreError>>;

// Records are the hot path and by far the most common job; boxing them would add an allocation per request.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Job {
    Record {
        request: RequestRow,
        notifications: Vec<NotificationRow>,
        /// When the request started; with an ack, its latency is measured to the commit.
        started: Instant,
        ack: Option<Ack>,
    },
    PutSubscription {
        subscription: Box<Subscription>,
        ack: Ack,
    },
    /// Rare (a few a day per subscription), so each gets a statement of its own after the group.
    Keeper { event: Box<KeeperEvent>, ack: Ack },
    /// A setting set (Some) or cleared (None); rare, so a statement of its own like the keeper's.
    Setting {
        key: String,
        value: Option<String>,
        ack: Ack,
    },
    /// What the user's app answered a relayed delivery; one statement after the group.
    Relay { row: Box<RelayRow>, ack: Ack },
    /// A toast shown or not; a few a minute at most (they are coalesced), so a statement of its own.
    Toast { record: Box<ToastRecord>, ack: Ack },
    /// Certificates change a few times a year; a statement of its own.
    Certificate { change: CertificateChange, ack: Ack },
    /// A subscription about to be created, or a creation that failed; a statement of its own.
    Pending { change: PendingChange, ack: Ack },
    /// One bounded batch of retention deletes; the pruner sends the next once this one is done, so
    /// deliveries queued meanwhile commit in between.
    Prune {
        before_micros: i64,
        limit: u32,
        ack: oneshot::Sender<Result<Pruned, StoreError>>,
    },
    /// Answered once everything queued before it is committed and its events are on the bus.
    Settle { ack: Ack },
    /// Commits what was queued before it, then ends the thread.
    Shutdown,
}

/// Starts the writer's thread; it ends after a `Shutdown` job, or once every sender is gone. Its end
/// drops `publisher`, which lets the publishing task finish and the store know it has stopped.
pub(crate) fn spawn(
    conn: Connection,
    jobs: flume::Receiver<Job>,
    seen: Seen,
    publisher: Publisher,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("hookscope-writer".into())
        .spawn(move || run(conn, jobs, seen, publisher))
        .map(drop)
}

fn run(mut conn: Connection, jobs: flume::Receiver<Job>, mut seen: Seen, publisher: Publisher) {
    let mut carried = Carried::default();
    let mut latencies = Latencies {
        pending: Vec::new(),
        written_at: Instant::now(),
    };
    // A job that did not fit in the last group: it opens the next one.
    let mut held: Option<Job> = None;
    loop {
        let first = if let Some(job) = held.take() {
            Some(job)
        } else if latencies.pending.is_empty() {
            jobs.recv().ok()
        } else {
            match jobs.recv_timeout(LATENCY_FLUSH_DELAY) {
                Ok(job) => Some(job),
                Err(flume::RecvTimeoutError::Timeout) => {
                    flush_latencies(&mut conn, &mut latencies);
                    continue;
                }
                Err(flume::RecvTimeoutError::Disconnected) => None,
            }
        };
        let Some(first) = first else { break };
        let group = take_group(first, &jobs, &mut held);
        let mut shutdown = false;
        let mut records = Vec::new();
        let mut subscriptions = Vec::new();
        let mut keeper = Vec::new();
        let mut settings = Vec::new();
        let mut certificates = Vec::new();
        let mut pendings = Vec::new();
        let mut relays = Vec::new();
        let mut toasts = Vec::new();
        let mut prunes = Vec::new();
        let mut settles = Vec::new();
        for job in group {
            match job {
                Job::Record { .. } => records.push(job),
                Job::PutSubscription { subscription, ack } => {
                    subscriptions.push((subscription, ack))
                }
                Job::Keeper { event, ack } => keeper.push((event, ack)),
                Job::Setting { key, value, ack } => settings.push((key, value, ack)),
                Job::Certificate { change, ack } => certificates.push((change, ack)),
                Job::Pending { change, ack } => pendings.push((change, ack)),
                Job::Relay { row, ack } => relays.push((row, ack)),
                Job::Toast { record, ack } => toasts.push((record, ack)),
                Job::Prune {
                    before_micros,
                    limit,
                    ack,
                } => prunes.push((before_micros, limit, ack)),
                Job::Settle { ack } => settles.push(ack),
                Job::Shutdown => shutdown = true,
            }
        }
        commit_group(
            &mut conn,
            records,
            subscriptions,
            &mut carried,
            &mut latencies,
            &mut seen,
            &publisher,
        );
        // These callers publish events of their own once answered (a relay, what the keeper did), so
        // they are answered through the publisher: after the events of every earlier commit.
        for (event, ack) in keeper {
            publisher.reply(ack, statements::insert_keeper_event(&conn, &event));
        }
        for (key, value, ack) in settings {
            publisher.reply(ack, statements::put_setting(&conn, &key, value.as_deref()));
        }
        for (record, ack) in toasts {
            publisher.reply(ack, statements::insert_toast(&conn, &record));
        }
        for (change, ack) in certificates {
            publisher.reply(ack, statements::change_certificate(&conn, change));
        }
        for (change, ack) in pendings {
            publisher.reply(ack, pending::apply(&conn, &change));
        }
        if !relays.is_empty() {
            let written =
                statements::insert_relays(&mut conn, relays.iter().map(|(row, _)| &**row));
            for (_, ack) in relays {
                publisher.reply(ack, written.clone());
            }
        }
        for (before_micros, limit, ack) in prunes {
            publisher.reply(ack, prune::batch(&mut conn, before_micros, limit));
        }
        for ack in settles {
            publisher.reply(ack, Ok(()));
        }
        if shutdown {
            // Everything queued before the shutdown was in this group; finish the bookkeeping and stop.
            break;
        }
    }
    flush_latencies(&mut conn, &mut latencies);
    let _ = conn.close();
}

/// What a job adds to a group: rows (a request and its notifications) and body bytes.
fn weight(job: &Job) -> (usize, usize) {
    match job {
        Job::Record {
            request,
            notifications,
            ..
        } => (1 + notifications.len(), request.body.len()),
        _ => (1, 0),
    }
}

/// The next group: `first`, then whatever is queued, up to the bounds in jobs, rows and bytes. The
/// job that would break a bound is kept in `held` for the next group (a lone oversized job still
/// gets a group of its own).
fn take_group(first: Job, jobs: &flume::Receiver<Job>, held: &mut Option<Job>) -> Vec<Job> {
    let (mut rows, mut bytes) = weight(&first);
    let mut group = vec![first];
    while group.len() < MAX_GROUP_JOBS {
        let Ok(job) = jobs.try_recv() else { break };
        let (more_rows, more_bytes) = weight(&job);
        if rows + more_rows > MAX_GROUP_ROWS || bytes + more_bytes > MAX_GROUP_BYTES {
            *held = Some(job);
            break;
        }
        rows += more_rows;
        bytes += more_bytes;
        group.push(job);
    }
    group
}

/// Requests refused with 503 while the store could not write, waiting to be recorded.
#[derive(Default)]
pub(crate) struct Carried {
    rows: Vec<RequestRow>,
    attempts: Vec<u8>,
    bytes: usize,
}

impl Carried {
    fn keep(&mut self, row: RequestRow, attempts: u8) {
        if attempts >= MAX_CARRY_ATTEMPTS || self.bytes + row.body.len() > MAX_CARRIED_BYTES {
            tracing::warn!(request = %row.id, "gave up recording a request the store could not write");
            return;
        }
        self.bytes += row.body.len();
        self.rows.push(row);
        self.attempts.push(attempts);
    }

    /// Records the carried requests in a transaction of their own, before the next group.
    fn retry(&mut self, conn: &mut Connection, publisher: &Publisher) {
        if self.rows.is_empty() {
            return;
        }
        let rows = std::mem::take(&mut self.rows);
        let attempts = std::mem::take(&mut self.attempts);
        self.bytes = 0;
        match write(conn, &rows, &[], &[], &[], &[]) {
            Ok(()) => {
                if publisher.watched() {
                    publisher.send(Outcome::Committed {
                        requests: rows,
                        notifications: Vec::new(),
                        duplicates: Vec::new(),
                    });
                }
            }
            Err(_) => {
                for (row, tries) in rows.into_iter().zip(attempts) {
                    self.keep(row, tries + 1);
                }
            }
        }
    }
}

fn commit_group(
    conn: &mut Connection,
    records: Vec<Job>,
    subscriptions: Vec<(Box<Subscription>, Ack)>,
    carried: &mut Carried,
    latencies: &mut Latencies,
    seen: &mut Seen,
    publisher: &Publisher,
) {
    carried.retry(conn, publisher);
    let mut requests: Vec<RequestRow> = Vec::new();
    let mut notifications: Vec<NotificationRow> = Vec::new();
    let mut waiting: Vec<(usize, Instant, Ack)> = Vec::new();
    for job in records {
        if let Job::Record {
            request,
            notifications: items,
            started,
            ack,
        } = job
        {
            if let Some(ack) = ack {
                waiting.push((requests.len(), started, ack));
            }
            requests.push(request);
            notifications.extend(items);
        }
    }
    let duplicates = seen.flags(&notifications);
    let carry_latencies = latencies.due();
    let outcome = write(
        conn,
        &requests,
        &notifications,
        &duplicates,
        &subscriptions,
        if carry_latencies {
            &latencies.pending
        } else {
            &[]
        },
    );
    match outcome {
        Ok(()) => {
            seen.remember(&notifications);
            if carry_latencies {
                latencies.written();
            }
            let committed_at = Instant::now();
            for (index, started, ack) in waiting {
                let micros = committed_at.duration_since(started).as_micros() as i64;
                requests[index].latency_us = Some(micros);
                latencies.pending.push((requests[index].id.clone(), micros));
                let _ = ack.send(Ok(()));
            }
            for (_, ack) in subscriptions {
                let _ = ack.send(Ok(()));
            }
            if publisher.watched() {
                publisher.send(Outcome::Committed {
                    requests,
                    notifications,
                    duplicates,
                });
            }
        }
        Err(error) => {
            tracing::error!(%error, "group commit failed");
            let message = error.to_string();
            let waiting_indexes: HashSet<usize> =
                waiting.iter().map(|(index, _, _)| *index).collect();
            for (_, _, ack) in waiting {
                let _ = ack.send(Err(error.clone()));
            }
            for (_, ack) in subscriptions {
                let _ = ack.send(Err(error.clone()));
            }
            // The notifications were refused (503) and Graph will send them again; the requests that
            // carried them are still worth showing once the store can write.
            for (index, mut request) in requests.into_iter().enumerate() {
                if waiting_indexes.contains(&index) {
                    request.status = 503;
                    request.response = super::UNAVAILABLE_MESSAGE.to_owned();
                    request.latency_us = None;
                }
                carried.keep(request, 1);
            }
            publisher.send(Outcome::Failed { message });
        }
    }
}

/// One transaction: the group's requests, notifications and pending latencies, then its subscriptions.
/// A failure anywhere rolls all of it back (the transaction is dropped uncommitted).
fn write(
    conn: &mut Connection,
    requests: &[RequestRow],
    notifications: &[NotificationRow],
    duplicates: &[bool],
    subscriptions: &[(Box<Subscription>, Ack)],
    latencies: &[(String, i64)],
) -> Result<(), StoreError> {
    if !conn.is_autocommit() {
        // A transaction an earlier failure left open (its ROLLBACK failed too) would make every later
        // group fail with "cannot start a transaction within a transaction".
        let _ = conn.execute_batch("ROLLBACK");
    }
    let tx = conn.transaction()?;
    statements::insert_requests(&tx, requests)?;
    statements::insert_notifications(&tx, notifications, duplicates)?;
    statements::insert_latencies(&tx, latencies)?;
    for (subscription, _) in subscriptions {
        statements::upsert_subscription(&tx, subscription)?;
    }
    tx.commit()?;
    Ok(())
}

fn flush_latencies(conn: &mut Connection, latencies: &mut Latencies) {
    if latencies.pending.is_empty() {
        return;
    }
    if let Err(error) = write(conn, &[], &[], &[], &[], &latencies.pending) {
        // A latency is a measurement, not a delivery: losing it costs nothing a user relies on.
        tracing::warn!(%error, "could not record latencies");
    }
    latencies.written();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RequestKind, Verdict};

    fn record(items: usize, body_bytes: usize) -> Job {
        let request = RequestRow {
            id: uuid::Uuid::now_v7().to_string(),
            received_at: 0,
            method: "POST".into(),
            path: "/notifications".into(),
            query: None,
            headers: serde_json::Map::new(),
            body: bytes::Bytes::from(vec![b' '; body_bytes]),
            body_size: body_bytes as u64,
            body_truncated: false,
            kind: RequestKind::Notifications,
            status: 202,
            response: String::new(),
            latency_us: None,
            replay_of: None,
        };
        let notification = NotificationRow {
            id: String::new(),
            request_id: request.id.clone(),
            position: 0,
            received_at: 0,
            subscription_id: None,
            change_type: None,
            lifecycle_event: None,
            verdict: Verdict::Accepted,
            reason: None,
            dedupe_key: [0; 16],
            decrypted: None,
            tokens_valid: None,
            item_offset: 0,
            item_length: 0,
        };
        Job::Record {
            request,
            notifications: vec![notification; items],
            started: Instant::now(),
            ack: None,
        }
    }

    /// Drains the queue into groups as the writer's loop does, returning each group's size in jobs.
    fn groups(queued: Vec<Job>) -> Vec<usize> {
        let (send, jobs) = flume::unbounded();
        for job in queued {
            send.send(job).unwrap();
        }
        let mut held = None;
        let mut sizes = Vec::new();
        while let Some(first) = held.take().or_else(|| jobs.try_recv().ok()) {
            sizes.push(take_group(first, &jobs, &mut held).len());
        }
        sizes
    }

    #[test]
    fn a_group_stops_at_its_byte_bound() {
        // 12 MiB bodies: two fit in 32 MiB, the third opens the next group.
        let big = 12 * 1024 * 1024;
        assert_eq!(
            groups((0..5).map(|_| record(1, big)).collect()),
            vec![2, 2, 1]
        );
    }

    #[test]
    fn a_group_stops_at_its_row_bound() {
        // 1,000 items and their request: 16 such requests are 16,016 rows, a 17th would pass 16,384.
        assert_eq!(
            groups((0..20).map(|_| record(1_000, 10)).collect()),
            vec![16, 4]
        );
    }

    #[test]
    fn small_jobs_still_fold_into_one_group() {
        assert_eq!(groups((0..100).map(|_| record(1, 10)).collect()), vec![100]);
        // A lone job over a bound still gets a group of its own rather than waiting for ever.
        assert_eq!(groups(vec![record(20_000, 10), record(1, 10)]), vec![1, 1]);
    }
}
