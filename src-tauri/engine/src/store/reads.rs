//! The read side: newest-first lists with keyset pagination (`id < cursor`), so any page of a 100k-row
//! table costs one index range scan, and subscription lookups for the receiver's verdicts.

use sqlx::{FromRow, QueryBuilder, Sqlite};

use std::collections::HashMap;

use super::rows::{CertificateRow, NotificationRow, RelayRow, RequestRow};
use super::Store;
use crate::model::{
    KeeperAction, KeeperEvent, Notification, Page, RelayRecord, RequestKind, RequestRecord,
    Subscription, SubscriptionStatus, Verdict,
};

#[derive(Debug, Clone, Default)]
pub struct NotificationQuery {
    /// 0 means all.
    pub limit: u32,
    /// Only items older than this id (the `next` cursor of the previous page).
    pub before: Option<String>,
    /// Only items newer than this id: the `limit` oldest of them, still newest first. A list scrolled
    /// back reads its way up again with these; `next` is then the newest id of a full page.
    pub after: Option<String>,
    pub filter: super::NotificationFilter,
}

#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    pub limit: u32,
    pub before: Option<String>,
}

#[derive(FromRow)]
struct NotificationColumns {
    id: String,
    request_id: String,
    position: i64,
    received_at: i64,
    subscription_id: Option<String>,
    change_type: Option<String>,
    lifecycle_event: Option<String>,
    verdict: String,
    reason: Option<String>,
    duplicate: bool,
    decrypted: Option<String>,
    tokens_valid: Option<bool>,
    item_offset: i64,
    item_length: i64,
}

/// Every notification column the public record is built from; callers add conditions.
const SELECT_NOTIFICATIONS: &str = "SELECT id, request_id, position, received_at, subscription_id, change_type, \
     lifecycle_event, verdict, reason, duplicate, decrypted, tokens_valid, item_offset, item_length \
     FROM notifications WHERE 1 = 1";

/// Every request column, with the latency measured after the commit; callers add conditions.
const SELECT_REQUESTS: &str = "SELECT id, received_at, method, path, query, headers, body, body_size, \
     body_truncated, kind, status, response, coalesce(r.latency_us, l.latency_us) AS latency_us, replay_of \
     FROM requests r LEFT JOIN request_latencies l ON l.request_id = r.id WHERE 1 = 1";

impl NotificationColumns {
    /// `body` is the body of the request the item came in (the item is a slice of it), `replay_of` what
    /// that request replayed.
    fn into_notification(self, body: &[u8], replay_of: Option<String>) -> Notification {
        let row = NotificationRow {
            id: self.id,
            request_id: self.request_id,
            position: self.position as u32,
            received_at: self.received_at,
            subscription_id: self.subscription_id,
            change_type: self.change_type,
            lifecycle_event: self.lifecycle_event,
            verdict: Verdict::parse(&self.verdict),
            reason: self.reason,
            dedupe_key: [0; 16],
            decrypted: self.decrypted,
            tokens_valid: self.tokens_valid,
            item_offset: self.item_offset as u32,
            item_length: self.item_length as u32,
        };
        row.to_notification(self.duplicate, body, replay_of)
    }
}

#[derive(FromRow)]
struct RequestColumns {
    id: String,
    received_at: i64,
    method: String,
    path: String,
    query: Option<String>,
    headers: String,
    body: Vec<u8>,
    body_size: i64,
    body_truncated: bool,
    kind: String,
    status: i64,
    response: String,
    latency_us: Option<i64>,
    replay_of: Option<String>,
}

impl From<RequestColumns> for RequestRow {
    fn from(c: RequestColumns) -> Self {
        RequestRow {
            id: c.id,
            received_at: c.received_at,
            method: c.method,
            path: c.path,
            query: c.query,
            headers: serde_json::from_str(&c.headers).unwrap_or_default(),
            body: c.body.into(),
            body_size: c.body_size as u64,
            body_truncated: c.body_truncated,
            kind: RequestKind::parse(&c.kind),
            status: c.status as u16,
            response: c.response,
            latency_us: c.latency_us,
            replay_of: c.replay_of,
        }
    }
}

const SUBSCRIPTION_COLUMNS: &str = "id, resource, change_type, notification_url, lifecycle_notification_url, \
     expiration_date_time, include_resource_data, client_state, tenant_id, auto_renew, status, last_error, \
     application_id, login_url, encryption_certificate_id";

#[derive(FromRow)]
struct SubscriptionColumns {
    id: String,
    resource: String,
    change_type: String,
    notification_url: String,
    lifecycle_notification_url: Option<String>,
    expiration_date_time: String,
    include_resource_data: bool,
    client_state: Option<String>,
    tenant_id: Option<String>,
    auto_renew: bool,
    status: String,
    last_error: Option<String>,
    application_id: Option<String>,
    login_url: Option<String>,
    encryption_certificate_id: Option<String>,
    /// Only the keeper's read selects it.
    #[sqlx(default)]
    granted_at: Option<i64>,
}

impl From<SubscriptionColumns> for Subscription {
    fn from(c: SubscriptionColumns) -> Self {
        Subscription {
            id: c.id,
            resource: c.resource,
            change_type: c.change_type,
            notification_url: c.notification_url,
            lifecycle_notification_url: c.lifecycle_notification_url,
            expiration_date_time: c.expiration_date_time,
            include_resource_data: c.include_resource_data,
            client_state: c.client_state,
            tenant_id: c.tenant_id,
            auto_renew: c.auto_renew,
            status: SubscriptionStatus::parse(&c.status),
            last_error: c.last_error,
            application_id: c.application_id,
            login_url: c.login_url,
            encryption_certificate_id: c.encryption_certificate_id,
        }
    }
}

fn page<T: ts_rs::TS>(items: Vec<T>, limit: u32, id_of: impl Fn(&T) -> &str) -> Page<T> {
    let next = if limit > 0 && items.len() == limit as usize {
        items.last().map(|i| id_of(i).to_owned())
    } else {
        None
    };
    Page { items, next }
}

fn push_limit(query: &mut QueryBuilder<'_, Sqlite>, limit: u32) {
    push_order_limit(query, "DESC", limit);
}

fn push_order_limit(query: &mut QueryBuilder<'_, Sqlite>, order: &str, limit: u32) {
    // SQLite reads a negative LIMIT as "no limit".
    query
        .push(format!(" ORDER BY id {order} LIMIT "))
        .push_bind(if limit == 0 { -1 } else { i64::from(limit) });
}

impl Store {
    pub async fn notifications(&self, q: &NotificationQuery) -> anyhow::Result<Page<Notification>> {
        q.filter.check()?;
        let mut query = QueryBuilder::<Sqlite>::new(SELECT_NOTIFICATIONS);
        if let Some(before) = &q.before {
            query.push(" AND id < ").push_bind(before.clone());
        }
        if let Some(after) = &q.after {
            query.push(" AND id > ").push_bind(after.clone());
        }
        q.filter.push_sql(&mut query);
        // Rows just newer than `after` are the oldest of the newer ones: read upwards, then turned.
        let upwards = q.after.is_some();
        push_order_limit(&mut query, if upwards { "ASC" } else { "DESC" }, q.limit);
        let mut rows: Vec<NotificationColumns> =
            query.build_query_as().fetch_all(self.pool()).await?;
        if upwards {
            rows.reverse();
        }
        // A page's items usually share a few requests: read each body once and slice the items out.
        let mut bodies: HashMap<String, (Vec<u8>, Option<String>)> = HashMap::new();
        let mut wanted: Vec<&str> = rows.iter().map(|r| r.request_id.as_str()).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(500) {
            let mut fetch = QueryBuilder::<Sqlite>::new(
                "SELECT id, body, replay_of FROM requests WHERE id IN (",
            );
            let mut list = fetch.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            fetch.push(")");
            let found: Vec<(String, Vec<u8>, Option<String>)> =
                fetch.build_query_as().fetch_all(self.pool()).await?;
            bodies.extend(
                found
                    .into_iter()
                    .map(|(id, body, replay)| (id, (body, replay))),
            );
        }
        let items = rows
            .into_iter()
            .map(|row| {
                let (body, replay_of) = bodies
                    .get(&row.request_id)
                    .map(|(body, replay)| (body.as_slice(), replay.clone()))
                    .unwrap_or_default();
                row.into_notification(body, replay_of)
            })
            .collect();
        let mut page = page(items, q.limit, |n| &n.id);
        if q.after.is_some() {
            page.next = page.next.and(page.items.first().map(|n| n.id.clone()));
        }
        Ok(page)
    }

    pub async fn requests(&self, q: &RequestQuery) -> anyhow::Result<Page<RequestRecord>> {
        let mut query = QueryBuilder::<Sqlite>::new(SELECT_REQUESTS);
        if let Some(before) = &q.before {
            query.push(" AND id < ").push_bind(before.clone());
        }
        push_limit(&mut query, q.limit);
        let rows: Vec<RequestColumns> = query.build_query_as().fetch_all(self.pool()).await?;
        Ok(page(
            rows.into_iter()
                .map(|c| RequestRow::from(c).to_record())
                .collect(),
            q.limit,
            |r| &r.id,
        ))
    }

    /// What the user's app answered each time this delivery was handed on to it, oldest first.
    pub async fn relays(&self, request_id: &str) -> anyhow::Result<Vec<RelayRecord>> {
        let rows: Vec<RelayRow> = sqlx::query_as(
            "SELECT id, request_id, target, at, handshake, filtered, status, headers, body, body_truncated, \
             latency_us, error FROM relays WHERE request_id = ? ORDER BY id",
        )
        .bind(request_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(RelayRow::to_record).collect())
    }

    /// One recorded request, with its latency.
    pub async fn request(&self, id: &str) -> anyhow::Result<Option<RequestRecord>> {
        let row: Option<RequestColumns> =
            sqlx::query_as(&format!("{SELECT_REQUESTS} AND r.id = ?"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|c| RequestRow::from(c).to_record()))
    }

    /// Several requests in one read, in no particular order; unknown ids are left out.
    pub async fn requests_by_id(&self, ids: &[&str]) -> anyhow::Result<Vec<RequestRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(SELECT_REQUESTS);
        query.push(" AND r.id IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        query.push(")");
        let rows: Vec<RequestColumns> = query.build_query_as().fetch_all(self.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|c| RequestRow::from(c).to_record())
            .collect())
    }

    /// The newest notification's rowid. Rowids follow commit order across processes (each commit holds
    /// the database's write lock), which time-ordered ids made at arrival do not.
    pub async fn newest_notification_rowid(&self) -> anyhow::Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT max(rowid) FROM notifications")
            .fetch_one(self.pool())
            .await?)
    }

    /// The rowid of the newest notification received before `micros`: where a reader starts that wants
    /// everything that arrived from that moment on. Scanned from the newest end, so it stops early.
    pub async fn notification_rowid_before(&self, micros: i64) -> anyhow::Result<i64> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT rowid FROM notifications WHERE received_at < ? ORDER BY rowid DESC LIMIT 1",
        )
        .bind(micros)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.unwrap_or(0))
    }

    /// Lifecycle notifications committed after rowid `after` up to `until` (by any process), oldest
    /// first, at most `limit`, each with its rowid. The range is what arrived between two polls.
    pub async fn lifecycle_notifications_between(
        &self,
        after: i64,
        until: i64,
        limit: u32,
    ) -> anyhow::Result<Vec<(i64, Notification)>> {
        let found: Vec<(i64, String)> = sqlx::query_as(
            "SELECT rowid, id FROM notifications WHERE rowid > ? AND rowid <= ? \
             AND lifecycle_event IS NOT NULL ORDER BY rowid LIMIT ?",
        )
        .bind(after)
        .bind(until)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut notes = Vec::with_capacity(found.len());
        for (rowid, id) in found {
            if let Some(note) = self.notification(&id).await? {
                notes.push((rowid, note));
            }
        }
        Ok(notes)
    }

    /// One notification by Hookscope's id.
    pub async fn notification(&self, id: &str) -> anyhow::Result<Option<Notification>> {
        let row: Option<NotificationColumns> =
            sqlx::query_as(&format!("{SELECT_NOTIFICATIONS} AND id = ?"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        let Some(row) = row else { return Ok(None) };
        let (body, replay_of): (Vec<u8>, Option<String>) =
            sqlx::query_as("SELECT body, replay_of FROM requests WHERE id = ?")
                .bind(&row.request_id)
                .fetch_optional(self.pool())
                .await?
                .unwrap_or_default();
        Ok(Some(row.into_notification(&body, replay_of)))
    }

    /// The item's JSON exactly as it stood in its batch (a slice of the stored request body).
    pub async fn notification_item(&self, id: &str) -> anyhow::Result<Option<String>> {
        let bytes: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT substr(r.body, n.item_offset + 1, n.item_length) FROM notifications n \
             JOIN requests r ON r.id = n.request_id WHERE n.id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    pub async fn notification_count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM notifications")
            .fetch_one(self.pool())
            .await?)
    }

    pub async fn subscriptions(&self) -> anyhow::Result<Vec<Subscription>> {
        let rows: Vec<SubscriptionColumns> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY created_at DESC"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(Subscription::from).collect())
    }

    /// The subscriptions with when Graph granted their current expiry (microseconds; 0 when unknown),
    /// for the keeper. One statement, so a row written meanwhile never comes without its grant.
    pub async fn subscriptions_with_grant(&self) -> anyhow::Result<Vec<(Subscription, i64)>> {
        let rows: Vec<SubscriptionColumns> = sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS}, granted_at FROM subscriptions ORDER BY created_at DESC"
        ))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|c| {
                let granted = c.granted_at.unwrap_or_default();
                (Subscription::from(c), granted)
            })
            .collect())
    }

    pub async fn setting(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// The toasts recorded, newest first.
    pub async fn toasts(&self, limit: u32) -> anyhow::Result<Vec<crate::model::ToastRecord>> {
        type Row = (
            String,
            i64,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
            bool,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at, kind, subscription_id, notification_id, summary, body, shown, error \
             FROM toasts ORDER BY at DESC, id DESC LIMIT CASE WHEN ?1 = 0 THEN -1 ELSE ?1 END",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, kind, subscription_id, notification_id, summary, body, shown, error)| {
                    crate::model::ToastRecord {
                        id,
                        at: crate::clock::rfc3339_millis(at),
                        kind: crate::model::ToastKind::parse(&kind),
                        subscription_id,
                        notification_id,
                        summary,
                        body,
                        shown,
                        error,
                    }
                },
            )
            .collect())
    }

    /// What the keeper did, newest first; for one subscription when given. `limit` 0 means all.
    pub async fn keeper_events(
        &self,
        subscription_id: Option<&str>,
        limit: u32,
    ) -> anyhow::Result<Vec<KeeperEvent>> {
        type Row = (
            String,
            i64,
            String,
            String,
            bool,
            String,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at, subscription_id, action, ok, message, expiration_date_time, new_subscription_id \
             FROM keeper_events WHERE (?1 IS NULL OR subscription_id = ?1) ORDER BY at DESC, id DESC \
             LIMIT CASE WHEN ?2 = 0 THEN -1 ELSE ?2 END",
        )
        .bind(subscription_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, subscription_id, action, ok, message, expiry, new_id)| KeeperEvent {
                    id,
                    at: crate::clock::rfc3339_millis(at),
                    subscription_id,
                    action: KeeperAction::parse(&action),
                    ok,
                    message,
                    expiration_date_time: expiry,
                    new_subscription_id: new_id,
                },
            )
            .collect())
    }

    /// Certificate ids named by a subscription that is not removed, or was removed after `since`.
    pub async fn certificates_in_use(&self, since: i64) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT encryption_certificate_id FROM subscriptions \
             WHERE encryption_certificate_id IS NOT NULL AND (status <> 'removed' OR updated_at > ?)",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?)
    }

    /// The certificates of rich notifications, newest first (public halves only).
    pub async fn certificates(&self) -> anyhow::Result<Vec<CertificateRow>> {
        Ok(sqlx::query_as(
            "SELECT id, thumbprint, certificate, bits, origin, created_at, retired_at FROM certificates \
             ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(self.pool())
        .await?)
    }
}
