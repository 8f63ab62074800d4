//! The subscription commands: the form, the table, renew and delete, what Graph holds, and what the
//! keeper did. Each is a hop into the engine's `subscriptions` module through the Graph connection.

use hookscope_engine::catalog::{self, ResourceKind};
use hookscope_engine::graph::GraphStatus;
use hookscope_engine::model::{KeeperEvent, Subscription};
use hookscope_engine::subscriptions::{
    self, Lifetime, RemoteSubscription, SubscribeInput, SubscriptionView,
};
use tauri::State;

use super::commands::engine;
use super::Shell;

#[tauri::command]
pub async fn graph_status(shell: State<'_, Shell>) -> Result<GraphStatus, String> {
    Ok(match shell.graph.lock().await.as_ref() {
        Some(connection) => connection.status().clone(),
        None => GraphStatus::disconnected(shell.no_graph()),
    })
}

#[tauri::command]
pub fn catalog() -> &'static [ResourceKind] {
    catalog::RESOURCES
}

#[tauri::command]
pub async fn subscriptions_list(shell: State<'_, Shell>) -> Result<Vec<SubscriptionView>, String> {
    subscriptions::views(engine(&shell)?)
        .await
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn subscribe(
    shell: State<'_, Shell>,
    input: SubscribeInput,
) -> Result<Subscription, String> {
    let engine = engine(&shell)?;
    let request = input.to_request()?;
    subscriptions::precheck(&request, false).map_err(|e| e.to_string())?;
    let graph = shell.graph_client().await?;
    subscriptions::subscribe(engine, &graph, &request)
        .await
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn renew_subscription(
    shell: State<'_, Shell>,
    id: String,
    expires_in: String,
) -> Result<Subscription, String> {
    let engine = engine(&shell)?;
    let lifetime = Lifetime::parse(&expires_in)?;
    let graph = shell.graph_client().await?;
    subscriptions::renew(engine, &graph, &id, lifetime)
        .await
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn delete_subscription(shell: State<'_, Shell>, id: String) -> Result<(), String> {
    let engine = engine(&shell)?;
    let graph = shell.graph_client().await?;
    subscriptions::delete(engine, &graph, &id)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn remote_subscriptions(
    shell: State<'_, Shell>,
) -> Result<Vec<RemoteSubscription>, String> {
    let engine = engine(&shell)?;
    let graph = shell.graph_client().await?;
    subscriptions::remote(engine, &graph)
        .await
        .map_err(|e| e.to_string())
}

#[tauri::command]
pub async fn keeper_history(
    shell: State<'_, Shell>,
    subscription_id: Option<String>,
) -> Result<Vec<KeeperEvent>, String> {
    engine(&shell)?
        .keeper_events(subscription_id.as_deref(), 100)
        .await
        .map_err(|e| e.to_string())
}
