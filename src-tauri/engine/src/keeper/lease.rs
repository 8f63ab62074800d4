//! One keeper per data directory and tenant. The app and `hookscope listen` may share a data
//! directory, and two keepers would each re-point the subscriptions at their own receiver, back and
//! forth. An OS lock on `keeper-{tenant}.lock` decides which one acts; the other stands by and takes
//! over as soon as the lock is free. The lock dies with its process, so even `kill -9` hands over at
//! once. Keepers signed in to different tenants keep their own tenant's subscriptions side by side.

use std::fs::{File, TryLockError};
use std::path::Path;

pub struct Lease {
    _file: File,
}

impl Lease {
    /// The lease when no other keeper of this tenant holds it; None while one does (or the file
    /// cannot be opened).
    pub fn try_acquire(data_dir: &Path, tenant: &str) -> Option<Lease> {
        // Tenant ids are GUIDs or domain names; anything else is kept out of the file name.
        let tenant: String = tenant
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // Empty, but owner-only like everything in the data directory.
        let file = crate::privacy::file_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join(format!("keeper-{tenant}.lock")))
            .ok()?;
        match file.try_lock() {
            Ok(()) => Some(Lease { _file: file }),
            Err(TryLockError::WouldBlock) => None,
            Err(TryLockError::Error(error)) => {
                tracing::warn!(%error, "cannot lock keeper.lock; the keeper stands by");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_next_takes_over() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lease::try_acquire(dir.path(), "t1").expect("free at first");
        assert!(Lease::try_acquire(dir.path(), "t1").is_none(), "held");
        assert!(
            Lease::try_acquire(dir.path(), "t2").is_some(),
            "another tenant's lease is its own"
        );
        drop(first);
        assert!(
            Lease::try_acquire(dir.path(), "t1").is_some(),
            "released with its holder"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let _held = Lease::try_acquire(dir.path(), "t1").expect("free at first");
        let found = std::fs::metadata(dir.path().join("keeper-t1.lock")).unwrap();
        assert_eq!(found.permissions().mode() & 0o7777, 0o600);
    }
}
