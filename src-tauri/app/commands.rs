//! The commands the UI calls; each is a one-line hop into the engine. Errors cross as one sentence.

use std::time::Duration;

use hookscope_engine::export::{self, ExportFormat, ExportSummary};
use hookscope_engine::feed::{self, FeedBatch};
use hookscope_engine::graph::Connection;
use hookscope_engine::model::{Inspection, Notification, Page};
use hookscope_engine::receiver::ReceiverStatus;
use hookscope_engine::relay::{self, ReplayEdits, ReplayOutcome, ReplayTarget};
use hookscope_engine::sandbox::{Sandbox, SandboxSend, SandboxStatus};
use hookscope_engine::simulator::TriggerReport;
use hookscope_engine::store::{NotificationFilter, NotificationQuery};
use hookscope_engine::Engine;
use tauri::ipc::Channel;
use tauri::State;

use super::Shell;

/// How often the feed flushes to the webview: about two frames, so a flood costs one message per frame.
const FEED_INTERVAL: Duration = Duration::from_millis(30);

pub(super) fn engine(shell: &Shell) -> Result<&Engine, String> {
    shell.engine.as_ref().ok_or_else(|| {
        shell
            .status()
            .error
            .unwrap_or_else(|| "The engine is not running.".into())
    })
}

#[tauri::command]
pub fn receiver_status(shell: State<'_, Shell>) -> ReceiverStatus {
    shell.status()
}

/// Streams the receiver's status (URLs, tunnel state, forward target) each time it changes, for the
/// status bar, until the webview drops the channel.
#[tauri::command]
pub async fn watch_status(
    shell: State<'_, Shell>,
    channel: Channel<ReceiverStatus>,
) -> Result<(), String> {
    let Some(mut status) = shell.live.as_ref().map(|live| live.status()) else {
        // No engine: the one status there will ever be, with the sentence saying why.
        let _ = channel.send(shell.status());
        return Ok(());
    };
    tauri::async_runtime::spawn(async move {
        loop {
            let now = status.borrow_and_update().clone();
            if channel.send(now).is_err() || status.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(())
}

#[tauri::command]
pub async fn notifications_page(
    shell: State<'_, Shell>,
    limit: u32,
    before: Option<String>,
    filter: Option<NotificationFilter>,
    after: Option<String>,
) -> Result<Page<Notification>, String> {
    engine(&shell)?
        .notifications(&NotificationQuery {
            limit,
            before,
            after,
            filter: filter.unwrap_or_default(),
        })
        .await
        .map_err(|error| error.to_string())
}

/// One notification for the inspector: its verdict, the item as delivered and the request it came in.
#[tauri::command]
pub async fn inspect_notification(
    shell: State<'_, Shell>,
    id: String,
) -> Result<Inspection, String> {
    engine(&shell)?
        .inspect(&id)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| {
            format!(
                "Notification {id} is not stored here; it may belong to another data directory."
            )
        })
}

/// Sends a stored delivery again: to the receiver (marked as a replay) or to a URL, edited or not.
#[tauri::command]
pub async fn replay_delivery(
    shell: State<'_, Shell>,
    id: String,
    target: ReplayTarget,
    edits: ReplayEdits,
) -> Result<ReplayOutcome, String> {
    relay::replay(engine(&shell)?, &id, &target, &edits)
        .await
        .map_err(|error| error.to_string())
}

/// Streams feed batches to the UI until the webview drops the channel. Async so the batching task is
/// spawned on Tauri's tokio runtime rather than the main thread.
#[tauri::command]
pub async fn watch_feed(
    shell: State<'_, Shell>,
    channel: Channel<FeedBatch>,
) -> Result<(), String> {
    let mut batches = feed::spawn(engine(&shell)?.events(), FEED_INTERVAL);
    tauri::async_runtime::spawn(async move {
        while let Some(batch) = batches.recv().await {
            if channel.send(batch).is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// "Try without a tenant": starts the in-process Graph simulator and subscribes this receiver to it
/// (once; later calls return the running sandbox).
#[tauri::command]
pub async fn try_without_tenant(shell: State<'_, Shell>) -> Result<SandboxStatus, String> {
    let engine = engine(&shell)?;
    let urls = shell.status().urls.ok_or_else(|| {
        "The receiver is not listening, so the simulator has nothing to deliver to; see the error above."
            .to_string()
    })?;
    let mut sandbox = shell.sandbox.lock().await;
    if let Some(running) = sandbox.as_ref() {
        return Ok(running.status().clone());
    }
    let started = Sandbox::start(engine, &urls)
        .await
        .map_err(|error| error.to_string())?;
    let status = started.status().clone();
    // Without a tenant, the simulated Graph is the one the keeper and the subscription form use.
    let mut graph = shell.graph.lock().await;
    if graph.is_none() {
        *graph = Some(Connection::open(engine, started.graph(), urls));
    }
    *sandbox = Some(started);
    Ok(status)
}

/// Makes the simulated Graph send to the sandbox subscription.
#[tauri::command]
pub async fn sandbox_send(
    shell: State<'_, Shell>,
    what: SandboxSend,
) -> Result<TriggerReport, String> {
    let sandbox = shell.sandbox.lock().await;
    let running = sandbox
        .as_ref()
        .ok_or_else(|| "Start \"Try without a tenant\" first.".to_string())?;
    running.send(what).await
}

/// Exports what the filter selects to the Downloads folder (`HOOKSCOPE_EXPORT_DIR` elsewhere), as
/// JSON Lines or HAR; says where the file went.
#[tauri::command]
pub async fn export_notifications(
    shell: State<'_, Shell>,
    format: ExportFormat,
    filter: Option<NotificationFilter>,
) -> Result<ExportSummary, String> {
    let engine = engine(&shell)?;
    let dir = std::env::var_os("HOOKSCOPE_EXPORT_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            directories::UserDirs::new().and_then(|dirs| dirs.download_dir().map(Into::into))
        })
        .unwrap_or_else(|| engine.config().data_dir.join("exports"));
    let base = shell
        .status()
        .urls
        .map(|urls| urls.local_url)
        .unwrap_or_default();
    export::export_to_dir(engine, &filter.unwrap_or_default(), format, &base, &dir)
        .await
        .map_err(|error| error.to_string())
}
