//! The receiver's view of the subscription table: id → digest of the clientState (and, for rich
//! notifications, whose tokens and keys to expect), cached in memory and
//! reloaded when stale or when an unknown id arrives (another process may have just created it), so a
//! verdict costs a hash lookup rather than a query per item.
//!
//! It also holds the digests of subscriptions being created right now: Graph may deliver a new
//! subscription's first notifications before its answer to the create is recorded, so an item for an
//! unknown id whose clientState is one of those waits (briefly, and only such an item) for the record.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::store::Store;

const MAX_AGE: Duration = Duration::from_secs(1);
/// An unknown id reloads at most this often, so a flood of forged ids cannot hammer the database.
const MISS_RELOAD_INTERVAL: Duration = Duration::from_millis(20);
/// How long an item of a subscription being created waits for its record: long enough for Graph's
/// answer to reach its creator and be committed, well within the 3 s Graph gives for the 202.
pub const CREATION_WAIT: Duration = Duration::from_secs(2);
/// How often a waiting delivery reads the database again: a record committed by another process
/// (`hookscope subscribe` beside `listen`) rings no bell in this one.
const CREATION_RECHECK: Duration = Duration::from_millis(25);

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
    /// clientState digests of the subscriptions being created when this was read.
    pending: Vec<[u8; 32]>,
    loaded: Instant,
    /// The store's subscription-write count when this was read.
    writes: u64,
}

impl Snapshot {
    fn empty() -> Self {
        Self {
            states: HashMap::new(),
            pending: Vec::new(),
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

    /// Whether the id names a subscription Hookscope holds with `includeResourceData`.
    pub fn is_rich(&self, subscription_id: Option<&str>) -> bool {
        subscription_id
            .and_then(|id| self.states.get(id))
            .is_some_and(|known| known.rich)
    }

    pub fn all(&self) -> impl Iterator<Item = &Known> {
        self.states.values()
    }

    /// Whether an item for this id is the first of a subscription being created: the id is not known
    /// yet, and the item carries the secret Hookscope just gave Graph. An item without it never waits.
    fn being_created(&self, subscription_id: &str, client_state: Option<&str>) -> bool {
        if self.pending.is_empty() || self.states.contains_key(subscription_id) {
            return false;
        }
        let Some(given) = client_state.map(digest) else {
            return false;
        };
        // Every note is compared (there are rarely more than one), in constant time each.
        self.pending.iter().fold(false, |found, pending| {
            found | bool::from(given.ct_eq(pending))
        })
    }
}

fn digest(text: &str) -> [u8; 32] {
    crate::store::client_state_digest(text)
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

    /// A snapshot fresh enough to judge these items, given as (subscription id, clientState). An
    /// item of a subscription being created is judged once that subscription is recorded, or once
    /// `CREATION_WAIT` has passed; no other item waits.
    pub async fn view<'a>(
        &self,
        items: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    ) -> Arc<Snapshot> {
        let items: Vec<(&str, Option<&str>)> = items
            .into_iter()
            .filter_map(|(id, client_state)| Some((id?, client_state)))
            .collect();
        let snapshot = self.fresh(items.iter().map(|(id, _)| *id)).await;
        let awaited: Vec<(&str, Option<&str>)> = items
            .into_iter()
            .filter(|(id, client_state)| snapshot.being_created(id, *client_state))
            .collect();
        if awaited.is_empty() {
            return snapshot;
        }
        self.await_creation(&awaited, snapshot).await
    }

    /// Reads again until every awaited subscription is recorded, is no longer being created (Graph
    /// refused it), or the wait is over. A write in this process wakes it at once; another process's
    /// is found by the next re-read.
    async fn await_creation(
        &self,
        awaited: &[(&str, Option<&str>)],
        mut snapshot: Arc<Snapshot>,
    ) -> Arc<Snapshot> {
        let deadline = tokio::time::Instant::now() + CREATION_WAIT;
        let mut writes = self.store.watch_subscription_writes();
        loop {
            // Marked seen before the read, so a write committed during it rings again.
            let seen = *writes.borrow_and_update();
            if snapshot.writes != seen {
                snapshot = self.reload(snapshot).await;
            }
            let waiting = awaited
                .iter()
                .any(|(id, client_state)| snapshot.being_created(id, *client_state));
            if !waiting || tokio::time::Instant::now() >= deadline {
                return snapshot;
            }
            let wake = deadline.min(tokio::time::Instant::now() + CREATION_RECHECK);
            let _ = tokio::time::timeout_at(wake, writes.changed()).await;
            snapshot = self.reload(snapshot).await;
        }
    }

    /// A snapshot fresh enough to judge items for these subscription ids.
    async fn fresh<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Arc<Snapshot> {
        let snapshot = self.current();
        let age = snapshot.loaded.elapsed();
        let missing = ids.into_iter().any(|id| !snapshot.states.contains_key(id));
        // A write by this process is known at once; one by another process within MISS_RELOAD_INTERVAL.
        let written_here = snapshot.writes != self.store.subscription_writes();
        if age < MAX_AGE && !(missing && (written_here || age >= MISS_RELOAD_INTERVAL)) {
            return snapshot;
        }
        self.reload(snapshot).await
    }

    /// Reads the table again, unless another request did so after `seen` and after every write this
    /// process knows of.
    async fn reload(&self, seen: Arc<Snapshot>) -> Arc<Snapshot> {
        let _guard = self.reloading.lock().await;
        let latest = self.current();
        if latest.loaded > seen.loaded && latest.writes == self.store.subscription_writes() {
            return latest; // another request reloaded, after every write this one knows of
        }
        let writes = self.store.subscription_writes();
        // Pending creations first: a subscription recorded between the two reads is then in the
        // second, and one recorded before both clears its note in the same transaction, so an item of
        // a subscription being born is never missed by both.
        let pending = self.store.pending_creations().await;
        let rows = self.store.subscriptions().await;
        match (pending, rows) {
            (Ok(pending), Ok(rows)) => {
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
                    pending,
                    loaded: Instant::now(),
                    writes,
                });
                *self.current.write().expect("snapshot lock") = fresh.clone();
                fresh
            }
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "could not reload subscriptions; judging with the last known set");
                latest
            }
        }
    }
}
