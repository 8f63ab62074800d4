//! The one way Hookscope creates a subscription at Graph (`subscribe` from the command line or the app,
//! the keeper's re-creations and re-pointings, the sandbox): the creation is noted in the store before
//! Graph is asked, because Graph may deliver the first notifications before its answer is recorded, and
//! a receiver (maybe in another process) must tell those from forgeries and wait for the record.

use crate::graph::{GraphApiError, GraphClient, NewSubscription};
use crate::model::Subscription;
use crate::store::StoreError;
use crate::Engine;

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Nothing was asked of Graph: without the note, its first notifications would be judged unknown.
    #[error("Hookscope could not note the subscription it was about to create ({0}); nothing was created at Graph, so try again once the data directory is writable.")]
    NotNoted(StoreError),
    #[error(transparent)]
    Graph(GraphApiError),
    /// Graph holds the subscription but Hookscope could not record it.
    #[error("Graph created subscription {} but Hookscope could not record it ({error}); delete it with `hookscope subscriptions delete {}` and subscribe again.", created.id, created.id)]
    NotRecorded {
        created: Box<Subscription>,
        error: StoreError,
    },
}

/// Creates the subscription at Graph and records it, `adjust`ed first (auto-renew and the like). The
/// record clears the note in the same transaction; a refusal clears it at once.
pub async fn create(
    engine: &Engine,
    graph: &GraphClient,
    new: &NewSubscription,
    adjust: impl FnOnce(&mut Subscription),
) -> Result<Subscription, CreateError> {
    let store = engine.store();
    store
        .begin_creation(&new.client_state)
        .await
        .map_err(CreateError::NotNoted)?;
    let mut created = match graph.create_subscription(new).await {
        Ok(created) => created,
        Err(error) => {
            forget(engine, &new.client_state).await;
            return Err(CreateError::Graph(error));
        }
    };
    adjust(&mut created);
    if let Err(error) = engine.put_subscription(created.clone()).await {
        forget(engine, &new.client_state).await;
        return Err(CreateError::NotRecorded {
            created: Box::new(created),
            error,
        });
    }
    Ok(created)
}

/// Clears a note that no record will clear. Failing to is harmless: the note expires by itself, and
/// until then only an item carrying this very secret would wait for a subscription that never comes.
async fn forget(engine: &Engine, client_state: &str) {
    if let Err(error) = engine.store().end_creation(client_state).await {
        tracing::warn!(%error, "could not clear the note of a failed creation; it expires by itself");
    }
}
