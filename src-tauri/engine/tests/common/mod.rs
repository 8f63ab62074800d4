//! A real engine on a real SQLite file in a temporary directory, with its receiver on a free loopback
//! port, plus the fixtures every receiver test needs.
#![allow(dead_code)]

pub mod recorder;

use std::time::Duration;

use hookscope_engine::model::{Subscription, SubscriptionStatus};
use hookscope_engine::store::{NotificationQuery, RequestQuery};
use hookscope_engine::{Engine, EngineConfig, ReceiverOptions};
use serde_json::{json, Value};

pub struct Harness {
    pub engine: Engine,
    pub base: String,
    pub http: reqwest::Client,
    pub listening: Option<hookscope_engine::engine::Listening>,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(|_| {}, |_| {}).await
    }

    pub async fn start_with(
        config: impl FnOnce(&mut EngineConfig),
        receiver: impl FnOnce(&mut ReceiverOptions),
    ) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cfg = EngineConfig::new(dir.path());
        config(&mut cfg);
        let engine = Engine::open(cfg).await.expect("engine opens");
        let mut options = ReceiverOptions {
            port: 0,
            ..ReceiverOptions::default()
        };
        receiver(&mut options);
        let listening = engine.listen(&options).await.expect("receiver starts");
        let base = listening.urls().local_url.clone();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Harness {
            engine,
            base,
            http,
            listening: Some(listening),
            dir,
        }
    }

    /// A connection of its own to the engine's database file, as another program would open it.
    pub async fn another_connection(&self) -> sqlx::SqliteConnection {
        use sqlx::Connection;
        let url = format!(
            "sqlite://{}",
            self.engine.config().database_path().display()
        );
        sqlx::SqliteConnection::connect(&url).await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn subscription(&self, id: &str, client_state: Option<&str>) {
        self.engine
            .put_subscription(Subscription {
                id: id.to_owned(),
                resource: "me/messages".into(),
                change_type: "created,updated".into(),
                notification_url: self.url("/notifications"),
                lifecycle_notification_url: Some(self.url("/lifecycle")),
                expiration_date_time: "2030-01-01T00:00:00Z".into(),
                include_resource_data: false,
                client_state: client_state.map(str::to_owned),
                tenant_id: Some("tenant-1".into()),
                auto_renew: true,
                status: SubscriptionStatus::Active,
                last_error: None,
                ..Default::default()
            })
            .await
            .expect("subscription stored");
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string())
            .send()
            .await
            .expect("request sent")
    }

    pub async fn all_notifications(&self) -> Vec<hookscope_engine::model::Notification> {
        self.engine
            .notifications(&NotificationQuery {
                limit: 0,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
    }

    /// Requests are recorded without waiting (handshakes, refusals); wait until `count` are stored.
    pub async fn requests_eventually(
        &self,
        count: usize,
    ) -> Vec<hookscope_engine::model::RequestRecord> {
        for _ in 0..200 {
            let page = self
                .engine
                .requests(&RequestQuery {
                    limit: 0,
                    ..Default::default()
                })
                .await
                .unwrap();
            if page.items.len() >= count {
                return page.items;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("fewer than {count} requests were recorded");
    }

    pub async fn stop(mut self) {
        if let Some(listening) = self.listening.take() {
            listening.stop().await;
        }
        self.engine.close().await;
    }
}

/// A change notification item as Graph sends it for an Outlook message.
pub fn message_item(subscription: &str, client_state: Option<&str>, n: usize) -> Value {
    let mut item = json!({
        "id": format!("lsgTZMr9KwAAA{n}"),
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2030-01-01T00:00:00.0000000Z",
        "changeType": "created",
        "resource": format!("Users/7b2f/Messages/AAMk{n}"),
        "tenantId": "tenant-1",
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": format!("Users/7b2f/Messages/AAMk{n}"),
            "@odata.etag": format!("W/\"CQAAABYAAAD{n}\""),
            "id": format!("AAMk{n}")
        }
    });
    if let Some(state) = client_state {
        item["clientState"] = json!(state);
    }
    item
}

pub fn lifecycle_item(subscription: &str, client_state: &str, event: &str) -> Value {
    json!({
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z",
        "tenantId": "tenant-1",
        "clientState": client_state,
        "lifecycleEvent": event
    })
}
