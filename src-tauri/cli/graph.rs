//! The Graph client the commands use: credentials from the environment (or the running simulator) and
//! the URLs from the flags, resolved the same way for `subscribe`, `subscriptions` and `listen`.

use hookscope_engine::graph::{self, GraphClient, GraphSettings};
use hookscope_engine::Engine;

use super::Global;

pub fn settings(global: &Global) -> GraphSettings {
    GraphSettings {
        graph_url: global.graph_url.clone(),
        login_url: global.login_url.clone(),
        cloud: global.cloud.clone(),
    }
}

/// A person waits on these commands: Graph's throttling is waited out for up to a minute.
pub async fn client(engine: &Engine, global: &Global) -> anyhow::Result<GraphClient> {
    Ok(keeper_client(engine, global)
        .await?
        .with_patience(std::time::Duration::from_secs(60)))
}

/// The keeper schedules its own retries, so its client reports throttling at once.
pub async fn keeper_client(engine: &Engine, global: &Global) -> anyhow::Result<GraphClient> {
    let credentials = graph::settings::resolve(&settings(global), engine).await?;
    GraphClient::new(credentials)
}
