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

pub async fn client(engine: &Engine, global: &Global) -> anyhow::Result<GraphClient> {
    let credentials = graph::settings::resolve(&settings(global), engine).await?;
    GraphClient::new(credentials)
}
