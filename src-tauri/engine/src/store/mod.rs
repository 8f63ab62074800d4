//! Hookscope's SQLite store: opening it (WAL, durability setting, migrations), the write path through the
//! single group-committing writer, and the read path through a small pool. Two processes may share one
//! data directory: WAL lets readers run beside the writer, and the busy timeout covers the other writer.

mod dedupe;
mod filter;
mod pending;
mod prune;
mod publish;
mod reads;
pub(crate) mod rows;
mod statements;
mod writer;

use std::sync::Arc;
use std::time::Instant;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{oneshot, watch};

pub use filter::{NotificationFilter, VerdictFilter};
pub use pending::client_state_digest;
pub use prune::Pruned;
pub use reads::{NotificationQuery, RequestQuery};
pub use rows::{
    CertificateChange, CertificateRow, NotificationRow, RecordedRequests, RelayRow, RequestRow,
};

use crate::bus::Bus;
use crate::config::{Durability, EngineConfig};
use crate::model::{KeeperEvent, Subscription};
use crate::privacy::{self, Tightened};
use writer::Job;

/// The sentence a refused delivery gets; Graph reads only the status, a person reads this.
pub(crate) const UNAVAILABLE_MESSAGE: &str =
    "Hookscope could not store this delivery, so it was not acknowledged; Graph will retry it.";

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the store could not write: {0}")]
    Write(String),
    #[error("the store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Write(error.to_string())
    }
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    jobs: flume::Sender<Job>,
    /// Closes (its sender is dropped) once the writer's thread has ended, however it ended, and its
    /// last events and answers are out.
    stopped: watch::Receiver<()>,
    /// Bumped after each write of a subscription or a pending creation commits, so the receiver's
    /// cached view knows at once that it is stale (Graph may deliver within milliseconds of a create),
    /// and a delivery waiting for a subscription being born wakes the moment it is recorded.
    subscription_writes: Arc<watch::Sender<u64>>,
    /// What was found looser than owner-only and tightened when this store opened.
    tightened: Arc<[Tightened]>,
}

/// How often the background task copies the WAL back into the database file.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(1000);

async fn checkpoint_regularly(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        // PASSIVE never waits for readers or the writer; what it cannot copy now, it copies next time.
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(%error, "checkpoint failed");
        }
    }
}

impl Store {
    /// Opens the store for reading only (the list commands): no writer thread, no dedupe window, no
    /// checkpoints; writes through it fail with `Closed`.
    pub async fn open_reader(config: &EngineConfig) -> anyhow::Result<Store> {
        Self::open_with(config, Bus::new(), false).await
    }

    pub async fn open(config: &EngineConfig, bus: Bus) -> anyhow::Result<Store> {
        Self::open_with(config, bus, true).await
    }

    async fn open_with(config: &EngineConfig, bus: Bus, writable: bool) -> anyhow::Result<Store> {
        // Before SQLite opens anything: it creates the WAL files with the database file's mode.
        let prepared = privacy::prepare_data_dir(&config.data_dir, &config.database_path());
        let tightened: Arc<[Tightened]> = prepared
            .map_err(|error| {
                anyhow::anyhow!(
                    "Cannot prepare the data directory {}: {error}; check it is yours and writable.",
                    config.data_dir.display()
                )
            })?
            .into();
        let options = SqliteConnectOptions::new()
            .filename(config.database_path())
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match config.durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(config.busy_timeout)
            .foreign_keys(true);
        // This connection creates and migrates the database, then hands over to the writer's own.
        let mut setup = options.clone().connect().await.map_err(|error| {
            anyhow::anyhow!(
                "Cannot open the database {}: {error}.",
                config.database_path().display()
            )
        })?;
        sqlx::migrate!("./migrations")
            .run(&mut setup)
            .await
            .map_err(|error| anyhow::anyhow!("Cannot prepare the database: {error}."))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let (jobs, queue) = flume::bounded(65_536);
        if !writable {
            drop(queue);
            let _ = setup.close().await;
            return Ok(Store {
                pool,
                jobs,
                stopped: watch::channel(()).1,
                subscription_writes: Arc::new(watch::Sender::new(0)),
                tightened,
            });
        }
        let seen = dedupe::Seen::load(&mut setup, dedupe::CAPACITY)
            .await
            .map_err(|error| anyhow::anyhow!("Cannot read recent notifications: {error}."))?;
        let _ = setup.close().await;
        let writer_conn = statements::connect(config).map_err(|error| {
            anyhow::anyhow!(
                "Cannot open the database {} for writing: {error}.",
                config.database_path().display()
            )
        })?;
        let (alive, stopped) = watch::channel(());
        let publisher = publish::Publisher::spawn(bus, alive);
        writer::spawn(writer_conn, queue, seen, publisher)
            .map_err(|error| anyhow::anyhow!("Cannot start the store's writer: {error}."))?;
        tokio::spawn(checkpoint_regularly(pool.clone()));
        Ok(Store {
            pool,
            jobs,
            stopped,
            subscription_writes: Arc::new(watch::Sender::new(0)),
            tightened,
        })
    }

    /// Sends a job and waits for its answer; `Closed` once the writer has stopped, even for a job that
    /// was still queued when it did.
    async fn ask<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Job,
    ) -> Result<T, StoreError> {
        let (ack, done) = oneshot::channel();
        self.jobs
            .send_async(job(ack))
            .await
            .map_err(|_| StoreError::Closed)?;
        let mut stopped = self.stopped.clone();
        tokio::select! {
            biased;
            answer = done => answer.map_err(|_| StoreError::Closed)?,
            _ = stopped.changed() => Err(StoreError::Closed),
        }
    }

    /// Stores a request and its notifications durably; returns once their group has committed.
    pub async fn record(
        &self,
        request: RequestRow,
        notifications: Vec<NotificationRow>,
        started: Instant,
    ) -> Result<(), StoreError> {
        self.ask(|ack| Job::Record {
            request,
            notifications,
            started,
            ack: Some(ack),
        })
        .await
    }

    /// Queues a request record without waiting for its commit (handshakes and refusals: nothing in them
    /// is acknowledged that could be lost).
    pub fn record_later(&self, request: RequestRow) {
        let job = Job::Record {
            request,
            notifications: Vec::new(),
            started: Instant::now(),
            ack: None,
        };
        if self.jobs.try_send(job).is_err() {
            tracing::warn!("the store's queue is full or closed; a request went unrecorded");
        }
    }

    /// Inserts or replaces a subscription (through the writer, like every write).
    pub async fn put_subscription(&self, subscription: Subscription) -> Result<(), StoreError> {
        let written = self
            .ask(|ack| Job::PutSubscription {
                subscription: Box::new(subscription),
                ack,
            })
            .await;
        self.subscriptions_changed();
        written
    }

    /// Counts a write of subscriptions or pending creations, and wakes whoever watches for one.
    fn subscriptions_changed(&self) {
        self.subscription_writes.send_modify(|writes| *writes += 1);
    }

    /// How many writes of subscriptions or pending creations this process committed: a cheap "has the
    /// table changed" check.
    pub fn subscription_writes(&self) -> u64 {
        *self.subscription_writes.borrow()
    }

    /// Changes each time `subscription_writes` grows. Another process's writes are not seen here: those
    /// are found by reading the database again.
    pub fn watch_subscription_writes(&self) -> watch::Receiver<u64> {
        self.subscription_writes.subscribe()
    }

    /// Sets (Some) or clears (None) a setting. Settings are never secrets: those go to `secrets`.
    pub async fn put_setting(&self, key: &str, value: Option<String>) -> Result<(), StoreError> {
        self.ask(|ack| Job::Setting {
            key: key.to_string(),
            value,
            ack,
        })
        .await
    }

    /// Records a toast and whether the desktop showed it.
    pub async fn put_toast(&self, record: crate::model::ToastRecord) -> Result<(), StoreError> {
        self.ask(|ack| Job::Toast {
            record: Box::new(record),
            ack,
        })
        .await
    }

    /// Records what the user's app answered a relayed delivery.
    pub async fn put_relay(&self, row: RelayRow) -> Result<(), StoreError> {
        self.ask(|ack| Job::Relay {
            row: Box::new(row),
            ack,
        })
        .await
    }

    /// Adds, retires or deletes a certificate of rich notifications (public halves only).
    pub async fn change_certificate(&self, change: CertificateChange) -> Result<(), StoreError> {
        self.ask(|ack| Job::Certificate { change, ack }).await
    }

    /// Records what the keeper did (through the writer, like every write).
    pub async fn put_keeper_event(&self, event: KeeperEvent) -> Result<(), StoreError> {
        self.ask(|ack| Job::Keeper {
            event: Box::new(event),
            ack,
        })
        .await
    }

    /// Deletes one batch (up to `limit` notifications and `limit` requests) received before
    /// `before_micros`; callers repeat until a batch comes back short.
    pub async fn prune_batch(&self, before_micros: i64, limit: u32) -> Result<Pruned, StoreError> {
        self.ask(|ack| Job::Prune {
            before_micros,
            limit,
            ack,
        })
        .await
    }

    /// Returns once everything queued so far is committed and its events are on the bus (a front that
    /// stops prints what its last requests stored).
    pub async fn settled(&self) -> Result<(), StoreError> {
        self.ask(|ack| Job::Settle { ack }).await
    }

    /// Commits everything queued so far, publishes its events, then stops the writer. Later writes
    /// fail with `Closed`.
    pub async fn close(&self) {
        // Fails only when the writer has gone already (another close, or a store opened for reading).
        let _ = self.jobs.send_async(Job::Shutdown).await;
        let _ = self.stopped.clone().changed().await;
        self.pool.close().await;
    }

    /// The data directory and files found readable by others and made owner-only when this store
    /// opened (empty when all were private already, and always on platforms other than Unix).
    pub fn tightened(&self) -> &[Tightened] {
        &self.tightened
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
