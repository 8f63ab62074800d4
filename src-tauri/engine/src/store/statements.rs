//! The writer's SQL: opening its connection and every statement it runs, each prepared once and kept
//! in the connection's statement cache. They run on the writer's own thread, straight into SQLite.

use rusqlite::{params, Connection, OpenFlags, Transaction};

use super::rows::{CertificateChange, NotificationRow, RelayRow, RequestRow};
use super::StoreError;
use crate::clock::now_micros;
use crate::config::{Durability, EngineConfig};
use crate::model::{KeeperEvent, Subscription, ToastRecord};

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Write(error.to_string())
    }
}

/// Opens the writer's connection with the store's settings. The database exists and is migrated by now
/// (sqlx did that); WAL is asked for again in case another program turned it off meanwhile.
pub(crate) fn connect(config: &EngineConfig) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        config.database_path(),
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(config.busy_timeout)?;
    let journal: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") {
        tracing::warn!(%journal, "the database is not in WAL mode: readers will wait for the writer");
    }
    // FULL: a commit is on disk before its deliveries are acknowledged, power cut included.
    conn.pragma_update(
        None,
        "synchronous",
        match config.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Checkpoints are the background task's job, off the commit path; the writer checkpoints by itself
    // only when the WAL outgrows what that task keeps up with (a sustained flood).
    conn.pragma_update_and_check(None, "wal_autocheckpoint", 4000, |_| Ok(()))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

const INSERT_REQUEST: &str =
    "INSERT OR IGNORE INTO requests (id, received_at, method, path, query, \
     headers, body, body_size, body_truncated, kind, status, response, latency_us, replay_of) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

const INSERT_NOTIFICATION: &str = "INSERT INTO notifications (id, request_id, position, received_at, \
     subscription_id, change_type, lifecycle_event, verdict, reason, duplicate, dedupe_key, decrypted, \
     tokens_valid, item_offset, item_length) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

// A table of its own: updating the request row would rewrite it, body and all.
const INSERT_LATENCY: &str =
    "INSERT OR REPLACE INTO request_latencies (request_id, latency_us) VALUES (?1, ?2)";

pub(crate) fn insert_requests(tx: &Transaction<'_>, rows: &[RequestRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(INSERT_REQUEST)?;
    for r in rows {
        insert.execute(params![
            r.id,
            r.received_at,
            r.method,
            r.path,
            r.query,
            serde_json::to_string(&r.headers).unwrap_or_default(),
            &r.body[..],
            r.body_size as i64,
            r.body_truncated,
            r.kind.as_str(),
            i64::from(r.status),
            r.response,
            r.latency_us,
            r.replay_of,
        ])?;
    }
    Ok(())
}

pub(crate) fn insert_notifications(
    tx: &Transaction<'_>,
    rows: &[NotificationRow],
    duplicates: &[bool],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(INSERT_NOTIFICATION)?;
    for (n, duplicate) in rows.iter().zip(duplicates) {
        insert.execute(params![
            n.id,
            n.request_id,
            n.position,
            n.received_at,
            n.subscription_id,
            n.change_type,
            n.lifecycle_event,
            n.verdict.as_str(),
            n.reason,
            duplicate,
            &n.dedupe_key[..],
            n.decrypted,
            n.tokens_valid,
            n.item_offset,
            n.item_length,
        ])?;
    }
    Ok(())
}

pub(crate) fn insert_latencies(
    tx: &Transaction<'_>,
    latencies: &[(String, i64)],
) -> Result<(), StoreError> {
    if latencies.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(INSERT_LATENCY)?;
    for (id, micros) in latencies {
        insert.execute(params![id, micros])?;
    }
    Ok(())
}

pub(crate) fn upsert_subscription(
    tx: &Transaction<'_>,
    s: &Subscription,
) -> Result<(), StoreError> {
    let now = now_micros();
    tx.prepare_cached(
        "INSERT INTO subscriptions (id, resource, change_type, notification_url, lifecycle_notification_url, \
         expiration_date_time, include_resource_data, client_state, tenant_id, auto_renew, status, last_error, \
         application_id, login_url, encryption_certificate_id, \
         created_at, updated_at, granted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?16) \
         ON CONFLICT (id) DO UPDATE SET resource = excluded.resource, change_type = excluded.change_type, \
         notification_url = excluded.notification_url, lifecycle_notification_url = excluded.lifecycle_notification_url, \
         expiration_date_time = excluded.expiration_date_time, include_resource_data = excluded.include_resource_data, \
         client_state = excluded.client_state, tenant_id = excluded.tenant_id, auto_renew = excluded.auto_renew, \
         status = excluded.status, last_error = excluded.last_error, updated_at = excluded.updated_at, \
         application_id = excluded.application_id, login_url = excluded.login_url, \
         encryption_certificate_id = excluded.encryption_certificate_id, \
         granted_at = CASE WHEN subscriptions.expiration_date_time = excluded.expiration_date_time \
         THEN subscriptions.granted_at ELSE excluded.granted_at END",
    )?
    .execute(params![
        s.id,
        s.resource,
        s.change_type,
        s.notification_url,
        s.lifecycle_notification_url,
        s.expiration_date_time,
        s.include_resource_data,
        s.client_state,
        s.tenant_id,
        s.auto_renew,
        s.status.as_str(),
        s.last_error,
        s.application_id,
        s.login_url,
        s.encryption_certificate_id,
        now,
    ])?;
    super::pending::recorded(tx, s.client_state.as_deref())
}

pub(crate) fn insert_keeper_event(conn: &Connection, e: &KeeperEvent) -> Result<(), StoreError> {
    let at = crate::clock::parse_rfc3339(&e.at).unwrap_or_else(now_micros);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO keeper_events (id, at, subscription_id, action, ok, message, \
         expiration_date_time, new_subscription_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.id,
        at,
        e.subscription_id,
        e.action.as_str(),
        e.ok,
        e.message,
        e.expiration_date_time,
        e.new_subscription_id,
    ])?;
    Ok(())
}

pub(crate) fn insert_toast(conn: &Connection, t: &ToastRecord) -> Result<(), StoreError> {
    let at = crate::clock::parse_rfc3339(&t.at).unwrap_or_else(now_micros);
    conn.prepare_cached(
        "INSERT OR REPLACE INTO toasts (id, at, kind, subscription_id, notification_id, summary, body, \
         shown, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        t.id,
        at,
        t.kind.as_str(),
        t.subscription_id,
        t.notification_id,
        t.summary,
        t.body,
        t.shown,
        t.error,
    ])?;
    Ok(())
}

pub(crate) fn put_setting(
    conn: &Connection,
    key: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    match value {
        Some(value) => conn
            .prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![key, value])?,
        None => conn
            .prepare_cached("DELETE FROM settings WHERE key = ?1")?
            .execute(params![key])?,
    };
    Ok(())
}

pub(crate) fn change_certificate(
    conn: &Connection,
    change: CertificateChange,
) -> Result<(), StoreError> {
    match change {
        CertificateChange::Put(row) => conn
            .prepare_cached(
                "INSERT INTO certificates (id, thumbprint, certificate, bits, origin, created_at, retired_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO UPDATE SET \
                 thumbprint = excluded.thumbprint, certificate = excluded.certificate, bits = excluded.bits, \
                 origin = excluded.origin, created_at = excluded.created_at, retired_at = excluded.retired_at",
            )?
            .execute(params![
                row.id,
                row.thumbprint,
                row.certificate,
                row.bits,
                row.origin,
                row.created_at,
                row.retired_at,
            ])?,
        CertificateChange::RetireAllBut(id) => conn
            .prepare_cached(
                "UPDATE certificates SET retired_at = ?1 WHERE id <> ?2 AND retired_at IS NULL",
            )?
            .execute(params![now_micros(), id])?,
        CertificateChange::Delete(id) => conn
            .prepare_cached("DELETE FROM certificates WHERE id = ?1")?
            .execute(params![id])?,
    };
    Ok(())
}

/// All the relay rows of a group in one transaction (one fsync), not one each.
pub(crate) fn insert_relays<'r>(
    conn: &mut Connection,
    rows: impl Iterator<Item = &'r RelayRow>,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO relays (id, request_id, target, at, handshake, filtered, status, headers, body, \
             body_truncated, latency_us, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for row in rows {
            insert.execute(params![
                row.id,
                row.request_id,
                row.target,
                row.at,
                row.handshake,
                row.filtered,
                row.status,
                row.headers,
                row.body,
                row.body_truncated,
                row.latency_us,
                row.error,
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pool's connections are not the ones that commit deliveries: the writer's must carry the
    /// durability setting itself.
    #[test]
    fn the_writer_commits_with_the_durability_the_user_chose() {
        let dir = tempfile::tempdir().unwrap();
        for (durability, level) in [(Durability::Full, 2i64), (Durability::Normal, 1)] {
            let mut config = EngineConfig::new(dir.path());
            config.durability = durability;
            Connection::open(config.database_path()).unwrap();
            let conn = connect(&config).unwrap();
            let number = |name: &str| -> i64 {
                conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
                    .unwrap()
            };
            let journal: String = conn
                .query_row("PRAGMA journal_mode", [], |row| row.get(0))
                .unwrap();
            assert_eq!(number("synchronous"), level, "{durability:?}");
            assert_eq!(journal, "wal");
            // Another process holding the write lock is waited for, not an instant failure.
            assert_eq!(number("busy_timeout"), 5_000);
            assert_eq!(number("foreign_keys"), 1);
        }
    }
}
