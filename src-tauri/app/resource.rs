//! "Fetch the current resource" for the inspector: a hop into the engine's `graph::resource` through the
//! Graph connection, so the UI can show what Graph holds now beside what the notification said.

use hookscope_engine::graph::{resource, CurrentResource};
use tauri::State;

use super::commands::engine;
use super::Shell;

#[tauri::command]
pub async fn fetch_current_resource(
    shell: State<'_, Shell>,
    id: String,
    select: String,
) -> Result<CurrentResource, String> {
    let engine = engine(&shell)?;
    let graph = shell.graph_client().await?;
    resource::current_resource(engine, &graph, &id, &select).await
}
