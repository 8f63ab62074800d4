//! A front's link to Graph: the signed-in client and the keeper working through it, started and
//! stopped together, plus the status line a front shows ("connected to … as …").

use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use super::GraphClient;
use crate::keeper::{self, Keeper};
use crate::receiver::ReceiverUrls;
use crate::Engine;

#[derive(Debug, Clone, Default, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct GraphStatus {
    pub connected: bool,
    pub graph_url: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// Graph is the simulator on this machine ("without a tenant").
    pub simulated: bool,
    /// Why there is no connection, in one sentence.
    pub message: Option<String>,
}

impl GraphStatus {
    pub fn disconnected(message: String) -> GraphStatus {
        GraphStatus {
            message: Some(message),
            ..GraphStatus::default()
        }
    }
}

pub struct Connection {
    graph: Arc<GraphClient>,
    keeper: Keeper,
    status: GraphStatus,
}

impl Connection {
    /// Starts keeping this tenant's subscriptions for the receiver at `urls`.
    pub fn open(engine: &Engine, graph: Arc<GraphClient>, urls: ReceiverUrls) -> Connection {
        let credentials = graph.credentials();
        let simulated = url::Url::parse(&credentials.graph_url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
            })
            .unwrap_or(false);
        let status = GraphStatus {
            connected: true,
            graph_url: Some(credentials.graph_url.clone()),
            tenant_id: Some(credentials.tenant_id.clone()),
            client_id: Some(credentials.client_id.clone()),
            simulated,
            message: None,
        };
        let keeper = keeper::start(engine.clone(), graph.clone(), urls);
        Connection {
            graph,
            keeper,
            status,
        }
    }

    pub fn graph(&self) -> &GraphClient {
        &self.graph
    }

    /// The client itself, for a call that should not hold whatever guards this connection.
    pub fn client(&self) -> Arc<GraphClient> {
        self.graph.clone()
    }

    pub fn status(&self) -> &GraphStatus {
        &self.status
    }

    /// The receiver moved (a new tunnel URL): the keeper re-points every subscription.
    pub fn set_urls(&self, urls: ReceiverUrls) {
        self.keeper.set_urls(urls);
    }

    pub async fn close(self) {
        self.keeper.stop().await;
    }
}
