//! Deleting what is older than the retention the user chose: one bounded batch per writer turn, so a
//! first prune of millions of rows never holds the write lock long enough to delay an acknowledgement.
//! Rows are found through their UUIDv7 ids (time-ordered primary keys), so no extra index is needed.

use rusqlite::{params, Connection};

use super::StoreError;

/// What one batch deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub notifications: u64,
    pub requests: u64,
}

/// The smallest UUIDv7 of millisecond `ms`: every id made before `ms` sorts below it, as text too.
pub(crate) fn id_bound(before_micros: i64) -> String {
    let ms = (before_micros.max(0) / 1000) as u64;
    format!(
        "{:08x}-{:04x}-0000-0000-000000000000",
        (ms >> 16) & 0xffff_ffff,
        ms & 0xffff
    )
}

/// Deletes up to `limit` notifications and `limit` requests received before `before_micros`. A request
/// goes only once none of its notifications is left, so the inspector never shows an item without the
/// request it came in.
pub(crate) fn batch(
    conn: &mut Connection,
    before_micros: i64,
    limit: u32,
) -> Result<Pruned, StoreError> {
    let bound = id_bound(before_micros);
    let tx = conn.transaction()?;
    let notifications = tx
        .prepare_cached(
            "DELETE FROM notifications WHERE id IN \
             (SELECT id FROM notifications WHERE id < ?1 ORDER BY id LIMIT ?2)",
        )?
        .execute(params![bound, limit])? as u64;
    let requests: Vec<String> = tx
        .prepare_cached(
            "SELECT id FROM requests r WHERE id < ?1 \
             AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.request_id = r.id) \
             ORDER BY id LIMIT ?2",
        )?
        .query_map(params![bound, limit], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for delete in [
        "DELETE FROM request_latencies WHERE request_id = ?1",
        "DELETE FROM relays WHERE request_id = ?1",
        "DELETE FROM requests WHERE id = ?1",
    ] {
        let mut delete = tx.prepare_cached(delete)?;
        for id in &requests {
            delete.execute(params![id])?;
        }
    }
    tx.commit()?;
    Ok(Pruned {
        notifications,
        requests: requests.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_sorts_between_ids_of_the_millisecond_before_and_the_one_after() {
        let ms: u64 = 1_764_633_600_123;
        let before = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            (ms - 1) / 1000,
            (((ms - 1) % 1000) * 1_000_000) as u32,
        ))
        .to_string();
        let at = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            ms / 1000,
            ((ms % 1000) * 1_000_000) as u32,
        ))
        .to_string();
        let bound = id_bound(ms as i64 * 1000);
        assert!(before < bound && bound < at, "{before} < {bound} < {at}");
    }
}
