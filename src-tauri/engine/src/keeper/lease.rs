//! One keeper per data directory. The app and `hookscope listen` may share a data directory, and two
//! keepers would each re-point the subscriptions at their own receiver, back and forth. An OS lock on
//! `keeper.lock` decides which one acts; the other stands by and takes over as soon as the lock is
//! free. The lock dies with its process, so even `kill -9` hands over at once.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

pub struct Lease {
    _file: File,
}

impl Lease {
    /// The lease when no other keeper holds it; None while one does (or the file cannot be opened).
    pub fn try_acquire(data_dir: &Path) -> Option<Lease> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(data_dir.join("keeper.lock"))
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
        let first = Lease::try_acquire(dir.path()).expect("free at first");
        assert!(Lease::try_acquire(dir.path()).is_none(), "held");
        drop(first);
        assert!(
            Lease::try_acquire(dir.path()).is_some(),
            "released with its holder"
        );
    }
}
