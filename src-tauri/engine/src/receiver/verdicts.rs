//! The receiver's view of the subscription table: id → digest of the clientState (and, for rich
//! notifications, whose tokens and keys to expect), cached in memory and
//! reloaded when stale or when an unknown id arrives (another process may have just created it), so a
//! verdict costs a hash lookup rather than a query per item.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::Store;

const MAX_AGE: Duration = Duration::from_secs(1);
/// An unknown id reloads at most this often, so a flood of forged ids cannot hammer the database.
const MISS_RELOAD_INTERVAL: Duration = Duration::from_millis(20);

pub enum ClientStateCheck {
    Matches,
    UnknownSubscription,
    Missing,
    Mismatch,
}

/// What the receiver knows of one subscription.
pub struct Known {
    client_state: Option<[u8; 32]>,
    pub tenant_id: Option<String>,
    pub application_id: Option<String>,
    pub login_url: Option<String>,
    pub rich: bool,
}

pub struct Snapshot {
    states: HashMap<String, Known>,
    loaded: Instant,
    /// The store's subscription-write count when this was read.
    writes: u64,
}

impl Snapshot {
    fn empty() -> Self {
        Self {
            states: HashMap::new(),
            loaded: Instant::now() - MAX_AGE * 2,
            writes: 0,
        }
    }

    /// Compares digests in constant time, so response timing says nothing about the stored secret.
    pub fn check(&self, subscription_id: &str, client_state: Option<&str>) -> ClientStateCheck {
        let Some(known) = self.states.get(subscription_id) else {
            return ClientStateCheck::UnknownSubscription;
        };
        match (&known.client_state, client_state) {
            (None, None) => ClientStateCheck::Matches,
            (Some(_), None) => ClientStateCheck::Missing,
            (None, Some(_)) => ClientStateCheck::Mismatch,
            (Some(expected), Some(given)) => {
                if bool::from(digest(given).ct_eq(expected)) {
                    ClientStateCheck::Matches
                } else {
                    ClientStateCheck::Mismatch
                }
            }
        }
    }

    pub fn get(&self, subscription_id: &str) -> Option<&Known> {
        self.states.get(subscription_id)
    }

    pub fn all(&self) -> impl Iterator<Item = &Known> {
        self.states.values()
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

pub struct SubscriptionBook {
    store: Store,
    current: RwLock<Arc<Snapshot>>,
    reloading: tokio::sync::Mutex<()>,
}

impl SubscriptionBook {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            current: RwLock::new(Arc::new(Snapshot::empty())),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Arc<Snapshot> {
        self.current.read().expect("snapshot lock").clone()
    }

    /// A snapshot fresh enough to judge items for these subscription ids.
    pub async fn view<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Arc<Snapshot> {
        let snapshot = self.current();
        let age = snapshot.loaded.elapsed();
        let missing = ids.into_iter().any(|id| !snapshot.states.contains_key(id));
        // A write by this process is known at once; one by another process within MISS_RELOAD_INTERVAL.
        let written_here = snapshot.writes != self.store.subscription_writes();
        if age < MAX_AGE && !(missing && (written_here || age >= MISS_RELOAD_INTERVAL)) {
            return snapshot;
        }
        let _guard = self.reloading.lock().await;
        let latest = self.current();
        if latest.loaded > snapshot.loaded && latest.writes == self.store.subscription_writes() {
            return latest; // another request reloaded, after every write this one knows of
        }
        let writes = self.store.subscription_writes();
        match self.store.subscriptions().await {
            Ok(rows) => {
                let states = rows
                    .into_iter()
                    .map(|s| {
                        let known = Known {
                            client_state: s.client_state.as_deref().map(digest),
                            tenant_id: s.tenant_id,
                            application_id: s.application_id,
                            login_url: s.login_url,
                            rich: s.include_resource_data,
                        };
                        (s.id, known)
                    })
                    .collect();
                let fresh = Arc::new(Snapshot {
                    states,
                    loaded: Instant::now(),
                    writes,
                });
                *self.current.write().expect("snapshot lock") = fresh.clone();
                fresh
            }
            Err(error) => {
                tracing::warn!(%error, "could not reload subscriptions; judging with the last known set");
                latest
            }
        }
    }
}
