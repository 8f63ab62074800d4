//! Which deliveries repeat an earlier one. Graph retries for up to four hours, so the writer remembers
//! the digests of recent items in memory (loaded from the last hours of the table at start) instead of
//! indexing a random 16-byte key on disk: that index was the single largest cost of an insert.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use sqlx::sqlite::SqliteConnection;

use super::rows::NotificationRow;
use crate::clock::now_micros;

/// Graph gives up retrying after 4 hours; a little more covers clock skew.
pub const WINDOW: Duration = Duration::from_secs(5 * 3600);
/// Bounds memory (about 50 MB) however fast deliveries arrive.
pub const CAPACITY: usize = 1_000_000;

pub struct Seen {
    keys: HashSet<[u8; 16]>,
    order: VecDeque<[u8; 16]>,
    capacity: usize,
}

impl Seen {
    pub fn new(capacity: usize) -> Self {
        Self {
            keys: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Loads the digests of items stored within the window (ids are UUIDv7, so "within the window" is
    /// an index range on the primary key).
    pub async fn load(conn: &mut SqliteConnection, capacity: usize) -> Result<Self, sqlx::Error> {
        let since_ms = (now_micros() / 1_000)
            .saturating_sub(WINDOW.as_millis() as i64)
            .max(0) as u64;
        let lower = format!("{:08x}-{:04x}", since_ms >> 16, since_ms & 0xffff);
        let keys: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT dedupe_key FROM notifications WHERE id > ? ORDER BY id")
                .bind(lower)
                .fetch_all(conn)
                .await?;
        let mut seen = Seen::new(capacity);
        for (key,) in keys {
            if let Ok(key) = <[u8; 16]>::try_from(key.as_slice()) {
                seen.insert(key);
            }
        }
        Ok(seen)
    }

    /// Each row's duplicate flag: seen before, or earlier in the same group.
    pub fn flags(&self, rows: &[NotificationRow]) -> Vec<bool> {
        let mut group = HashSet::new();
        rows.iter()
            .map(|row| self.keys.contains(&row.dedupe_key) || !group.insert(row.dedupe_key))
            .collect()
    }

    /// Called once the rows are committed (a failed commit must not mark a retry as a duplicate).
    pub fn remember(&mut self, rows: &[NotificationRow]) {
        for row in rows {
            self.insert(row.dedupe_key);
        }
    }

    fn insert(&mut self, key: [u8; 16]) {
        if self.keys.insert(key) {
            self.order.push_back(key);
            if self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.keys.remove(&oldest);
                }
            }
        }
    }
}
