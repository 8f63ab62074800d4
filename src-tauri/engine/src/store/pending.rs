//! Pending creations: subscriptions Hookscope is creating at Graph right now, noted in the store before
//! Graph is asked. Graph may deliver a new subscription's first notifications before its answer is
//! recorded; a receiver in any process sharing the data directory finds the item's clientState here
//! and waits for the record instead of judging the item unknown. Only a SHA-256 digest of the
//! clientState is kept: enough to recognise the secret, no way to learn it.

use std::time::Duration;

use rusqlite::{params, Connection, Transaction};
use sha2::{Digest, Sha256};

use super::{Store, StoreError};
use crate::clock::now_micros;

/// How long a note counts when nobody clears it (its process died mid-create). Longer than any create
/// takes (two validation handshakes of 10 s, a wait on Graph's throttling), and a leftover costs
/// little: only an item that carries that very secret waits, and only a moment.
const LIFETIME: Duration = Duration::from_secs(300);

/// The digest the store and the receiver both compare clientStates by.
pub fn client_state_digest(client_state: &str) -> [u8; 32] {
    Sha256::digest(client_state.as_bytes()).into()
}

pub(crate) enum PendingChange {
    /// Noted before Graph is asked.
    Begin([u8; 32]),
    /// Graph refused, or the answer could not be recorded.
    End([u8; 32]),
}

pub(crate) fn apply(conn: &Connection, change: &PendingChange) -> Result<(), StoreError> {
    let now = now_micros();
    match change {
        PendingChange::Begin(digest) => {
            // Leftovers of processes that died mid-create go with the next creation.
            conn.prepare_cached("DELETE FROM pending_creations WHERE expires_at <= ?1")?
                .execute(params![now])?;
            conn.prepare_cached(
                "INSERT OR REPLACE INTO pending_creations (client_state_digest, started_at, expires_at) \
                 VALUES (?1, ?2, ?3)",
            )?
            .execute(params![&digest[..], now, now + LIFETIME.as_micros() as i64])?;
        }
        PendingChange::End(digest) => clear(conn, digest)?,
    }
    Ok(())
}

fn clear(conn: &Connection, digest: &[u8; 32]) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM pending_creations WHERE client_state_digest = ?1")?
        .execute(params![&digest[..]])?;
    Ok(())
}

/// A recorded subscription is no longer pending: cleared in the transaction that records it, so a
/// reader never sees neither the note nor the subscription.
pub(crate) fn recorded(tx: &Transaction<'_>, client_state: Option<&str>) -> Result<(), StoreError> {
    match client_state {
        Some(client_state) => clear(tx, &client_state_digest(client_state)),
        None => Ok(()),
    }
}

impl Store {
    /// Notes that a subscription with this clientState is about to be created at Graph.
    pub async fn begin_creation(&self, client_state: &str) -> Result<(), StoreError> {
        self.note(PendingChange::Begin(client_state_digest(client_state)))
            .await
    }

    /// Clears the note of a creation that failed (a recorded subscription clears its own).
    pub async fn end_creation(&self, client_state: &str) -> Result<(), StoreError> {
        self.note(PendingChange::End(client_state_digest(client_state)))
            .await
    }

    async fn note(&self, change: PendingChange) -> Result<(), StoreError> {
        let written = self
            .ask(|ack| super::writer::Job::Pending { change, ack })
            .await;
        self.subscriptions_changed();
        written
    }

    /// The digests of the clientStates of subscriptions being created now, by any process.
    pub async fn pending_creations(&self) -> anyhow::Result<Vec<[u8; 32]>> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT client_state_digest FROM pending_creations WHERE expires_at > ?",
        )
        .bind(now_micros())
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|digest| <[u8; 32]>::try_from(digest.as_slice()).ok())
            .collect())
    }
}
