//! A simulator in fast time, Hookscope's engine and receiver, and a Graph client signed in to the one
//! for the other: what `hookscope listen` and `hookscope subscribe` set up together.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookscope_engine::engine::Listening;
use hookscope_engine::graph::{AppCredentials, GraphClient};
use hookscope_engine::keeper::{self, Keeper};
use hookscope_engine::model::{KeeperAction, KeeperEvent, Notification, Subscription};
use hookscope_engine::simulator::{TriggerReport, TriggerSpec};
use hookscope_engine::store::NotificationQuery;
use hookscope_engine::subscriptions::{Lifetime, SubscribeRequest};
use hookscope_engine::{Engine, ReceiverOptions};

use crate::support::{hookscope_receiver, Sim};

pub struct World {
    pub sim: Sim,
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub listening: Option<Listening>,
    pub graph: Arc<GraphClient>,
}

pub fn credentials(sim: &Sim) -> AppCredentials {
    let app = sim.running.options().app.clone();
    AppCredentials {
        graph_url: sim.running.url().to_string(),
        login_url: sim.running.url().to_string(),
        tenant_id: app.tenant_id,
        client_id: app.client_id,
        client_secret: app.client_secret,
        delegated: None,
    }
}

impl World {
    pub async fn start() -> World {
        let sim = Sim::start().await;
        let (dir, engine, listening) = hookscope_receiver().await;
        let graph = Arc::new(GraphClient::new(credentials(&sim)).unwrap());
        World {
            sim,
            dir,
            engine,
            listening: Some(listening),
            graph,
        }
    }

    pub fn listening(&self) -> &Listening {
        self.listening.as_ref().expect("the receiver runs")
    }

    pub fn keeper(&self) -> Keeper {
        keeper::start(
            self.engine.clone(),
            self.graph.clone(),
            self.listening().urls().clone(),
        )
    }

    /// Stops the receiver and starts it again on another port: a restart with a new public URL.
    pub async fn restart_receiver(&mut self) {
        if let Some(old) = self.listening.take() {
            old.stop().await;
        }
        let listening = self
            .engine
            .listen(&ReceiverOptions {
                port: 0,
                ..ReceiverOptions::default()
            })
            .await
            .unwrap();
        self.listening = Some(listening);
    }

    pub async fn subscribe(
        &self,
        resource: &str,
        change_types: &str,
        lifetime: &str,
        lifecycle: bool,
    ) -> Subscription {
        hookscope_engine::subscriptions::subscribe(
            &self.engine,
            &self.graph,
            &request(resource, change_types, lifetime, lifecycle),
        )
        .await
        .expect("subscribed")
    }

    pub async fn local(&self, id: &str) -> Subscription {
        self.engine
            .subscriptions()
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("{id} is recorded"))
    }

    /// Ids Graph (the simulator) holds now.
    pub async fn at_graph(&self) -> Vec<String> {
        self.graph
            .list_subscriptions()
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect()
    }

    /// Waits for the keeper to have recorded `count` events of `action` for `id` (ok or not).
    pub async fn keeper_events(
        &self,
        id: &str,
        action: KeeperAction,
        count: usize,
        within: Duration,
    ) -> Vec<KeeperEvent> {
        let deadline = Instant::now() + within;
        loop {
            let mut events: Vec<KeeperEvent> = self
                .engine
                .keeper_events(Some(id), 0)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.action == action)
                .collect();
            if events.len() >= count {
                events.reverse();
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "waited {within:?} for {count} {action:?} events of {id}; the keeper recorded {:?}",
                self.engine.keeper_events(None, 0).await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Makes the simulated Graph send what `spec` says, and what each POST got back.
    pub async fn trigger(&self, spec: TriggerSpec) -> TriggerReport {
        self.sim
            .running
            .trigger(spec)
            .await
            .expect("the simulator sends")
    }

    /// One change notification for this subscription.
    pub async fn change(&self, id: &str) -> TriggerReport {
        self.trigger(TriggerSpec {
            subscription_id: Some(id.to_string()),
            ..TriggerSpec::default()
        })
        .await
    }

    /// Waits until this subscription's stored notifications satisfy `done`.
    pub async fn notifications_until(
        &self,
        id: &str,
        what: &str,
        done: impl Fn(&[Notification]) -> bool,
    ) -> Vec<Notification> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let notes = self.notifications_of(id).await;
            if done(&notes) {
                return notes;
            }
            assert!(
                Instant::now() < deadline,
                "waited 10 s for {what}: {notes:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn notifications_of(&self, id: &str) -> Vec<Notification> {
        self.engine
            .notifications(&NotificationQuery {
                filter: hookscope_engine::store::NotificationFilter {
                    subscription_id: Some(id.to_string()),
                    ..Default::default()
                },
                ..NotificationQuery::default()
            })
            .await
            .unwrap()
            .items
    }
}

pub fn request(
    resource: &str,
    change_types: &str,
    lifetime: &str,
    lifecycle: bool,
) -> SubscribeRequest {
    SubscribeRequest {
        resource: resource.into(),
        change_types: change_types.into(),
        lifetime: Lifetime::parse(lifetime).unwrap(),
        rich: false,
        lifecycle,
        auto_renew: true,
        notification_url: None,
    }
}

pub fn seconds_until(expiry: &str) -> f64 {
    (hookscope_engine::clock::parse_rfc3339(expiry).unwrap()
        - hookscope_engine::clock::now_micros()) as f64
        / 1e6
}
