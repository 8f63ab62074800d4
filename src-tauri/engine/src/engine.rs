//! `Engine`: the one object a front holds. It opens the store and the bus for a data directory and
//! exposes every user-level action as a method, so the app and the command line call the same code.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::bus::{Bus, Event};
use crate::config::{EngineConfig, ReceiverOptions};
use crate::model::{Inspection, KeeperEvent, Notification, Page, RequestRecord, Subscription};
use crate::receiver::{self, ReceiverUrls, RunningReceiver};
use crate::rich::Keychain;
use crate::store::{NotificationQuery, RequestQuery, Store, StoreError};

#[derive(Clone)]
pub struct Engine {
    config: EngineConfig,
    store: Store,
    bus: Bus,
    /// Shared so the receiver and the fronts use one cache of loaded private keys.
    keychain: Arc<Keychain>,
}

/// What a running receiver writes into the data directory so `subscribe` in another process finds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub pid: u32,
    #[serde(flatten)]
    pub urls: ReceiverUrls,
}

/// A running receiver that withdraws its announcement when stopped.
pub struct Listening {
    receiver: RunningReceiver,
    /// Where this receiver announced itself; None when another live process holds the announcement.
    announcement: Option<PathBuf>,
}

impl Listening {
    pub fn urls(&self) -> &ReceiverUrls {
        &self.receiver.urls
    }

    /// The receiver is now reachable at another public URL (a tunnel came up or moved): its URLs are
    /// recomputed and announced again, for `subscribe` in other processes. The keeper is told by the
    /// front that owns it.
    pub fn set_public_url(&mut self, public_url: Option<String>) -> anyhow::Result<ReceiverUrls> {
        let public_url = public_url
            .as_deref()
            .map(crate::receiver::normalize_public_url)
            .transpose()?;
        self.receiver.urls = ReceiverUrls::new(self.receiver.local_addr, public_url);
        if let Some(path) = &self.announcement {
            announce(path, &self.receiver.urls)?;
        }
        Ok(self.receiver.urls.clone())
    }

    pub async fn stop(self) {
        self.receiver.stop().await;
        if let Some(path) = &self.announcement {
            crate::announcement::withdraw::<Announcement>(path, |a| a.pid);
        }
    }
}

/// Writes the receiver's URLs where other processes look for them (atomically: never half a file).
fn announce(path: &std::path::Path, urls: &ReceiverUrls) -> anyhow::Result<()> {
    let body = serde_json::to_vec_pretty(&Announcement {
        pid: std::process::id(),
        urls: urls.clone(),
    })?;
    crate::privacy::write_atomically(path, &body).map_err(|error| {
        anyhow::anyhow!(
            "Cannot write {}: {error}; check the data directory is writable.",
            path.display()
        )
    })
}

impl Engine {
    pub async fn open(config: EngineConfig) -> anyhow::Result<Engine> {
        let bus = Bus::new();
        let store = Store::open(&config, bus.clone()).await?;
        Ok(Engine::assemble(config, store, bus))
    }

    /// Opens the data directory for reading only: cheap, for commands that only list.
    pub async fn open_reader(config: EngineConfig) -> anyhow::Result<Engine> {
        let bus = Bus::new();
        let store = Store::open_reader(&config).await?;
        Ok(Engine::assemble(config, store, bus))
    }

    fn assemble(config: EngineConfig, store: Store, bus: Bus) -> Engine {
        let keychain = Arc::new(Keychain::new(store.clone(), &config.data_dir));
        Engine {
            config,
            store,
            bus,
            keychain,
        }
    }

    /// The certificates and private keys of rich notifications.
    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The one sentence to show the user when opening found the data directory or its files readable
    /// by others and made them owner-only; None when they were private already (every later start).
    pub fn privacy_notice(&self) -> Option<String> {
        crate::privacy::notice(self.store.tightened())
    }

    /// Where engine parts (the tunnel's supervisor) publish what fronts show.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn events(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.bus.subscribe()
    }

    /// Starts the receiver and announces its URLs in the data directory, unless another live receiver
    /// (say, `hookscope listen` beside the app) already announced its own: that one stays findable. A
    /// stale announcement (its process gone, or its port now someone else's) is replaced.
    pub async fn listen(&self, options: &ReceiverOptions) -> anyhow::Result<Listening> {
        let receiver = receiver::start(
            self.store.clone(),
            self.bus.clone(),
            self.keychain.clone(),
            options,
        )
        .await?;
        let announcement = self.config.announcement_path();
        // Another process's announcement is probed; this process's own never is (it would only record a
        // handshake in its own store).
        let other = crate::announcement::recorded_receiver(&announcement)
            .filter(|a| a.pid != std::process::id());
        let other_answers = match &other {
            Some(other) => crate::announcement::answers(other).await,
            None => false,
        };
        if other_answers {
            return Ok(Listening {
                receiver,
                announcement: None,
            });
        }
        announce(&announcement, &receiver.urls)?;
        Ok(Listening {
            receiver,
            announcement: Some(announcement),
        })
    }

    pub async fn notifications(
        &self,
        query: &NotificationQuery,
    ) -> anyhow::Result<Page<Notification>> {
        self.store.notifications(query).await
    }

    /// One notification with its item as delivered and the request that carried it; None when unknown.
    pub async fn inspect(&self, id: &str) -> anyhow::Result<Option<Inspection>> {
        let Some(notification) = self.store.notification(id).await? else {
            return Ok(None);
        };
        let item = self.store.notification_item(id).await?.unwrap_or_default();
        let request = self.store.request(&notification.request_id).await?;
        let relays = self.store.relays(&notification.request_id).await?;
        let replay_headers = request
            .as_ref()
            .map(|r| crate::relay::carried_headers(&r.headers))
            .unwrap_or_default();
        Ok(Some(Inspection {
            notification,
            item,
            request,
            relays,
            replay_headers,
        }))
    }

    pub async fn requests(&self, query: &RequestQuery) -> anyhow::Result<Page<RequestRecord>> {
        self.store.requests(query).await
    }

    pub async fn subscriptions(&self) -> anyhow::Result<Vec<Subscription>> {
        self.store.subscriptions().await
    }

    /// Records a subscription Hookscope holds (Graph's answer to a create, or a test's fixture).
    pub async fn put_subscription(&self, subscription: Subscription) -> Result<(), StoreError> {
        self.store.put_subscription(subscription).await
    }

    /// Records what the keeper did and tells the fronts.
    pub async fn record_keeper_event(&self, event: KeeperEvent) -> Result<(), StoreError> {
        self.store.put_keeper_event(event.clone()).await?;
        self.bus.publish(Event::Keeper { event });
        Ok(())
    }

    /// What the keeper did, newest first (for one subscription when given; `limit` 0 = all).
    pub async fn keeper_events(
        &self,
        subscription_id: Option<&str>,
        limit: u32,
    ) -> anyhow::Result<Vec<KeeperEvent>> {
        self.store.keeper_events(subscription_id, limit).await
    }

    /// Commits whatever is queued and closes the database.
    pub async fn close(&self) {
        self.store.close().await;
    }
}
