//! The single writer: one SQLite connection and one task that commits everything queued while the last
//! commit ran as the next transaction (group commit). Requests that must be durable before they are
//! answered wait for their group's commit; one fsync then covers a whole burst of deliveries.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, QueryBuilder, Sqlite};
use tokio::sync::{mpsc, oneshot};

use super::dedupe::Seen;
use super::prune::{self, Pruned};
use super::rows::{CertificateChange, NotificationRow, RelayRow, RequestRow};
use super::StoreError;
use crate::bus::{Bus, Event};
use crate::clock::now_micros;
use crate::model::ToastRecord;
use crate::model::{KeeperEvent, Subscription};

/// Upper bound on the jobs folded into one transaction, so a flood cannot make a commit unbounded.
const MAX_GROUP_JOBS: usize = 4_096;
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
    Keeper {
        event: Box<KeeperEvent>,
        ack: Ack,
    },
    /// A setting set (Some) or cleared (None); rare, so a statement of its own like the keeper's.
    Setting {
        key: String,
        value: Option<String>,
        ack: Ack,
    },
    /// What the user's app answered a relayed delivery; one statement after the group.
    Relay {
        row: Box<RelayRow>,
        ack: Ack,
    },
    /// A toast shown or not; a few a minute at most (they are coalesced), so a statement of its own.
    Toast {
        record: Box<ToastRecord>,
        ack: Ack,
    },
    /// Certificates change a few times a year; a statement of its own.
    Certificate {
        change: CertificateChange,
        ack: Ack,
    },
    /// One bounded batch of retention deletes; the pruner sends the next once this one is done, so
    /// deliveries queued meanwhile commit in between.
    Prune {
        before_micros: i64,
        limit: u32,
        ack: oneshot::Sender<Result<Pruned, StoreError>>,
    },
    Shutdown {
        ack: oneshot::Sender<()>,
    },
}

pub(crate) async fn run(
    mut conn: SqliteConnection,
    mut jobs: mpsc::Receiver<Job>,
    mut seen: Seen,
    bus: Bus,
) {
    let mut carried = Carried::default();
    let mut latencies = Latencies {
        pending: Vec::new(),
        written_at: Instant::now(),
    };
    loop {
        let first = if latencies.pending.is_empty() {
            jobs.recv().await
        } else {
            match tokio::time::timeout(LATENCY_FLUSH_DELAY, jobs.recv()).await {
                Ok(job) => job,
                Err(_) => {
                    flush_latencies(&mut conn, &mut latencies).await;
                    continue;
                }
            }
        };
        let Some(first) = first else { break };
        let mut group = vec![first];
        while group.len() < MAX_GROUP_JOBS {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut shutdown = None;
        let mut records = Vec::new();
        let mut subscriptions = Vec::new();
        let mut keeper = Vec::new();
        let mut settings = Vec::new();
        let mut certificates = Vec::new();
        let mut relays = Vec::new();
        let mut toasts = Vec::new();
        let mut prunes = Vec::new();
        for job in group {
            match job {
                Job::Record { .. } => records.push(job),
                Job::PutSubscription { subscription, ack } => {
                    subscriptions.push((subscription, ack))
                }
                Job::Keeper { event, ack } => keeper.push((event, ack)),
                Job::Setting { key, value, ack } => settings.push((key, value, ack)),
                Job::Certificate { change, ack } => certificates.push((change, ack)),
                Job::Relay { row, ack } => relays.push((row, ack)),
                Job::Toast { record, ack } => toasts.push((record, ack)),
                Job::Prune {
                    before_micros,
                    limit,
                    ack,
                } => prunes.push((before_micros, limit, ack)),
                Job::Shutdown { ack } => shutdown = Some(ack),
            }
        }
        commit_group(
            &mut conn,
            records,
            subscriptions,
            &mut carried,
            &mut latencies,
            &mut seen,
            &bus,
        )
        .await;
        for (event, ack) in keeper {
            let _ = ack.send(insert_keeper_event(&mut conn, &event).await);
        }
        for (key, value, ack) in settings {
            let _ = ack.send(put_setting(&mut conn, &key, value.as_deref()).await);
        }
        for (record, ack) in toasts {
            let _ = ack.send(insert_toast(&mut conn, &record).await);
        }
        for (change, ack) in certificates {
            let _ = ack.send(change_certificate(&mut conn, change).await);
        }
        if !relays.is_empty() {
            // One transaction (one fsync) for all the relay rows of a group, not one each.
            let written = insert_relays(&mut conn, &relays).await;
            for (_, ack) in relays {
                let _ = ack.send(written.clone());
            }
        }
        for (before_micros, limit, ack) in prunes {
            let _ = ack.send(prune::batch(&mut conn, before_micros, limit).await);
        }
        if let Some(ack) = shutdown {
            // Everything queued before the shutdown was in this group; finish the bookkeeping and stop.
            flush_latencies(&mut conn, &mut latencies).await;
            let _ = conn.close().await;
            let _ = ack.send(());
            return;
        }
    }
    flush_latencies(&mut conn, &mut latencies).await;
    let _ = conn.close().await;
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
    async fn retry(&mut self, conn: &mut SqliteConnection, bus: &Bus) {
        if self.rows.is_empty() {
            return;
        }
        let rows = std::mem::take(&mut self.rows);
        let attempts = std::mem::take(&mut self.attempts);
        self.bytes = 0;
        match write(conn, &rows, &[], &[], &[], &[]).await {
            Ok(()) => {
                if bus.has_subscribers() {
                    let recorded: Arc<[_]> = rows.iter().map(RequestRow::to_record).collect();
                    bus.publish(Event::RequestsRecorded { requests: recorded });
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

async fn commit_group(
    conn: &mut SqliteConnection,
    records: Vec<Job>,
    subscriptions: Vec<(Box<Subscription>, Ack)>,
    carried: &mut Carried,
    latencies: &mut Latencies,
    seen: &mut Seen,
    bus: &Bus,
) {
    carried.retry(conn, bus).await;
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
    )
    .await;
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
            // Building the public records copies every body; skip it when nobody is watching.
            let watched = bus.has_subscribers();
            if watched && !notifications.is_empty() {
                let bodies: std::collections::HashMap<&str, (&[u8], &Option<String>)> = requests
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
            if watched && !requests.is_empty() {
                let recorded: Arc<[_]> = requests.iter().map(RequestRow::to_record).collect();
                bus.publish(Event::RequestsRecorded { requests: recorded });
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
            bus.publish(Event::StoreFailed { message });
        }
    }
}

/// One transaction: the group's requests, notifications and pending latencies, then its subscriptions.
/// Every statement is a round trip to sqlx's connection thread, a thread wakeup each way: measured at
/// 140-190 us apiece on a busy 2-core machine, where separate BEGIN, INSERT and COMMIT round trips took
/// half of a small group's transaction. So BEGIN opens the first statement and COMMIT closes the last,
/// and a small group (the common case) is one round trip in all.
async fn write(
    conn: &mut SqliteConnection,
    requests: &[RequestRow],
    notifications: &[NotificationRow],
    duplicates: &[bool],
    subscriptions: &[(Box<Subscription>, Ack)],
    latencies: &[(String, i64)],
) -> Result<(), StoreError> {
    // Large runs of rows go in statements of a few fixed sizes, each prepared once and then served from
    // sqlx's statement cache (parsing a statement sized to each group cost 6% of a flood). What is left,
    // under 64 rows per table, goes in one multi-statement string: small enough that parsing it costs
    // little.
    let (bulk_requests, rest_requests) = fixed_bulk(requests.len());
    let (bulk_notes, rest_notes) = fixed_bulk(notifications.len());
    let (bulk_latencies, rest_latencies) = fixed_bulk(latencies.len());
    // Each bulk range is one statement of its own; the remainders of all three tables share the last one.
    let mut statements: Vec<QueryBuilder<'_, Sqlite>> = Vec::new();
    for range in bulk_requests {
        push_requests(next_statement(&mut statements), &requests[range]);
    }
    for range in bulk_notes {
        push_notifications(
            next_statement(&mut statements),
            &notifications[range.clone()],
            &duplicates[range],
        );
    }
    for range in bulk_latencies {
        push_latencies(next_statement(&mut statements), &latencies[range]);
    }
    let rest = next_statement(&mut statements);
    push_requests(rest, &requests[rest_requests]);
    push_notifications(
        rest,
        &notifications[rest_notes.clone()],
        &duplicates[rest_notes],
    );
    push_latencies(rest, &latencies[rest_latencies]);
    if subscriptions.is_empty() {
        rest.push("COMMIT;");
    }
    let outcome: Result<(), StoreError> = async {
        for mut query in statements {
            query.build().execute(&mut *conn).await?;
        }
        if !subscriptions.is_empty() {
            for (subscription, _) in subscriptions {
                upsert_subscription(conn, subscription).await?;
            }
            sqlx::query("COMMIT").execute(&mut *conn).await?;
        }
        Ok(())
    }
    .await;
    if outcome.is_err() {
        // A statement or the commit failed: nothing of the group stays. (When SQLite already ended the
        // transaction, this ROLLBACK's own error says so and means nothing.)
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    outcome
}

/// Starts the next statement of a transaction; the first one opens it.
fn next_statement<'s, 'q>(
    statements: &'s mut Vec<QueryBuilder<'q, Sqlite>>,
) -> &'s mut QueryBuilder<'q, Sqlite> {
    let opening = if statements.is_empty() { "BEGIN; " } else { "" };
    statements.push(QueryBuilder::new(opening));
    statements.last_mut().expect("just pushed")
}

/// Splits `len` rows into runs of 1,024, 256 and 64 rows (largest first) and a remainder under 64.
fn fixed_bulk(len: usize) -> (Vec<std::ops::Range<usize>>, std::ops::Range<usize>) {
    let mut ranges = Vec::new();
    let mut start = 0;
    for size in [1024, 256, 64] {
        while len - start >= size {
            ranges.push(start..start + size);
            start += size;
        }
    }
    (ranges, start..len)
}

/// Appends one multi-row INSERT for `rows` (nothing when there are none). `fixed_bulk` keeps every
/// statement at 1,024 rows or fewer, far below SQLite's limit of 32,766 bound parameters.
fn push_requests<'a>(query: &mut QueryBuilder<'a, Sqlite>, rows: &'a [RequestRow]) {
    if rows.is_empty() {
        return;
    }
    query.push(
        "INSERT OR IGNORE INTO requests (id, received_at, method, path, query, headers, body, body_size, \
         body_truncated, kind, status, response, latency_us, replay_of) ",
    );
    query.push_values(rows, |mut row, request| {
        row.push_bind(&request.id)
            .push_bind(request.received_at)
            .push_bind(&request.method)
            .push_bind(&request.path)
            .push_bind(&request.query)
            .push_bind(serde_json::to_string(&request.headers).unwrap_or_default())
            .push_bind(&request.body[..])
            .push_bind(request.body_size as i64)
            .push_bind(request.body_truncated)
            .push_bind(request.kind.as_str())
            .push_bind(i64::from(request.status))
            .push_bind(&request.response)
            .push_bind(request.latency_us)
            .push_bind(&request.replay_of);
    });
    query.push("; ");
}

fn push_notifications<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    rows: &'a [NotificationRow],
    duplicates: &'a [bool],
) {
    if rows.is_empty() {
        return;
    }
    query.push(
        "INSERT INTO notifications (id, request_id, position, received_at, subscription_id, change_type, \
         lifecycle_event, verdict, reason, duplicate, dedupe_key, decrypted, tokens_valid, item_offset, \
         item_length) ",
    );
    query.push_values(rows.iter().zip(duplicates), |mut row, (note, duplicate)| {
        row.push_bind(&note.id)
            .push_bind(&note.request_id)
            .push_bind(i64::from(note.position))
            .push_bind(note.received_at)
            .push_bind(&note.subscription_id)
            .push_bind(&note.change_type)
            .push_bind(&note.lifecycle_event)
            .push_bind(note.verdict.as_str())
            .push_bind(&note.reason)
            .push_bind(*duplicate)
            .push_bind(&note.dedupe_key[..])
            .push_bind(&note.decrypted)
            .push_bind(note.tokens_valid)
            .push_bind(i64::from(note.item_offset))
            .push_bind(i64::from(note.item_length));
    });
    query.push("; ");
}

fn push_latencies<'a>(query: &mut QueryBuilder<'a, Sqlite>, latencies: &'a [(String, i64)]) {
    if latencies.is_empty() {
        return;
    }
    // A table of its own: updating the request row would rewrite it, body and all.
    query.push("INSERT OR REPLACE INTO request_latencies (request_id, latency_us) ");
    query.push_values(latencies, |mut row, (id, micros)| {
        row.push_bind(id).push_bind(*micros);
    });
    query.push("; ");
}

async fn upsert_subscription(
    conn: &mut SqliteConnection,
    s: &Subscription,
) -> Result<(), StoreError> {
    let now = now_micros();
    sqlx::query(
        "INSERT INTO subscriptions (id, resource, change_type, notification_url, lifecycle_notification_url, \
         expiration_date_time, include_resource_data, client_state, tenant_id, auto_renew, status, last_error, \
         application_id, login_url, encryption_certificate_id, \
         created_at, updated_at, granted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET resource = excluded.resource, change_type = excluded.change_type, \
         notification_url = excluded.notification_url, lifecycle_notification_url = excluded.lifecycle_notification_url, \
         expiration_date_time = excluded.expiration_date_time, include_resource_data = excluded.include_resource_data, \
         client_state = excluded.client_state, tenant_id = excluded.tenant_id, auto_renew = excluded.auto_renew, \
         status = excluded.status, last_error = excluded.last_error, updated_at = excluded.updated_at, \
         application_id = excluded.application_id, login_url = excluded.login_url, \
         encryption_certificate_id = excluded.encryption_certificate_id, \
         granted_at = CASE WHEN subscriptions.expiration_date_time = excluded.expiration_date_time \
         THEN subscriptions.granted_at ELSE excluded.granted_at END",
    )
    .bind(&s.id)
    .bind(&s.resource)
    .bind(&s.change_type)
    .bind(&s.notification_url)
    .bind(&s.lifecycle_notification_url)
    .bind(&s.expiration_date_time)
    .bind(s.include_resource_data)
    .bind(&s.client_state)
    .bind(&s.tenant_id)
    .bind(s.auto_renew)
    .bind(s.status.as_str())
    .bind(&s.last_error)
    .bind(&s.application_id)
    .bind(&s.login_url)
    .bind(&s.encryption_certificate_id)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn flush_latencies(conn: &mut SqliteConnection, latencies: &mut Latencies) {
    if latencies.pending.is_empty() {
        return;
    }
    if let Err(error) = write(conn, &[], &[], &[], &[], &latencies.pending).await {
        // A latency is a measurement, not a delivery: losing it costs nothing a user relies on.
        tracing::warn!(%error, "could not record latencies");
    }
    latencies.written();
}

async fn insert_keeper_event(
    conn: &mut SqliteConnection,
    e: &KeeperEvent,
) -> Result<(), StoreError> {
    let at = crate::clock::parse_rfc3339(&e.at).unwrap_or_else(crate::clock::now_micros);
    sqlx::query(
        "INSERT OR REPLACE INTO keeper_events (id, at, subscription_id, action, ok, message, \
         expiration_date_time, new_subscription_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&e.id)
    .bind(at)
    .bind(&e.subscription_id)
    .bind(e.action.as_str())
    .bind(e.ok)
    .bind(&e.message)
    .bind(&e.expiration_date_time)
    .bind(&e.new_subscription_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_toast(conn: &mut SqliteConnection, t: &ToastRecord) -> Result<(), StoreError> {
    let at = crate::clock::parse_rfc3339(&t.at).unwrap_or_else(crate::clock::now_micros);
    sqlx::query(
        "INSERT OR REPLACE INTO toasts (id, at, kind, subscription_id, notification_id, summary, body, \
         shown, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&t.id)
    .bind(at)
    .bind(t.kind.as_str())
    .bind(&t.subscription_id)
    .bind(&t.notification_id)
    .bind(&t.summary)
    .bind(&t.body)
    .bind(t.shown)
    .bind(&t.error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn put_setting(
    conn: &mut SqliteConnection,
    key: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    match value {
        Some(value) => sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?,
        None => sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(&mut *conn)
            .await?,
    };
    Ok(())
}

async fn change_certificate(
    conn: &mut SqliteConnection,
    change: CertificateChange,
) -> Result<(), StoreError> {
    match change {
        CertificateChange::Put(row) => sqlx::query(
            "INSERT INTO certificates (id, thumbprint, certificate, bits, origin, created_at, retired_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET thumbprint = excluded.thumbprint, \
             certificate = excluded.certificate, bits = excluded.bits, origin = excluded.origin, \
             created_at = excluded.created_at, retired_at = excluded.retired_at",
        )
        .bind(&row.id)
        .bind(&row.thumbprint)
        .bind(&row.certificate)
        .bind(row.bits)
        .bind(&row.origin)
        .bind(row.created_at)
        .bind(row.retired_at)
        .execute(&mut *conn)
        .await?,
        CertificateChange::RetireAllBut(id) => sqlx::query(
            "UPDATE certificates SET retired_at = ? WHERE id <> ? AND retired_at IS NULL",
        )
        .bind(now_micros())
        .bind(&id)
        .execute(&mut *conn)
        .await?,
        CertificateChange::Delete(id) => sqlx::query("DELETE FROM certificates WHERE id = ?")
            .bind(&id)
            .execute(&mut *conn)
            .await?,
    };
    Ok(())
}

async fn insert_relays(
    conn: &mut SqliteConnection,
    rows: &[(Box<RelayRow>, Ack)],
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    for (row, _) in rows {
        insert_relay(&mut tx, row).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_relay(conn: &mut SqliteConnection, row: &RelayRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO relays (id, request_id, target, at, handshake, filtered, status, headers, body, \
         body_truncated, latency_us, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.id)
    .bind(&row.request_id)
    .bind(&row.target)
    .bind(row.at)
    .bind(row.handshake)
    .bind(row.filtered)
    .bind(row.status)
    .bind(&row.headers)
    .bind(&row.body)
    .bind(row.body_truncated)
    .bind(row.latency_us)
    .bind(&row.error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
