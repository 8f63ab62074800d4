//! The desktop shell: opens the engine for the data directory, starts the receiver, and serves the UI
//! through three commands. It holds no logic of its own beyond wiring.

mod commands;
mod signin;
mod subscriptions;

use std::sync::Mutex;

use hookscope_engine::config::DEFAULT_PORT;
use hookscope_engine::engine::Listening;
use hookscope_engine::graph::{self, Connection, GraphClient, GraphSettings};
use hookscope_engine::receiver::ReceiverStatus;
use hookscope_engine::sandbox::Sandbox;
use hookscope_engine::{Engine, ReceiverOptions};
use tauri::{Manager, RunEvent};

use crate::cli::{engine_config, Global};

pub struct Shell {
    pub engine: Option<Engine>,
    pub status: ReceiverStatus,
    listening: Mutex<Option<Listening>>,
    /// The in-process Graph simulator of "Try without a tenant", once started.
    pub sandbox: tokio::sync::Mutex<Option<Sandbox>>,
    /// Graph and the keeper working through it; None until credentials (or the sandbox) exist.
    pub graph: tokio::sync::Mutex<Option<Connection>>,
    /// Why there is no Graph connection, for the status bar.
    pub graph_problem: Mutex<Option<String>>,
    /// The flags the app started with (`--graph-url`, `--login-url`, `--cloud`).
    pub graph_settings: GraphSettings,
    /// A device-code sign-in waiting for the user to finish it in the browser.
    pub pending_sign_in: tokio::sync::Mutex<Option<signin::Pending>>,
}

/// Opens the engine and the receiver. A port already taken (say, by `hookscope listen`) falls back to
/// any free port rather than leaving the app deaf.
async fn start(global: &Global) -> Shell {
    let config = match engine_config(global) {
        Ok(config) => config,
        Err(error) => return Shell::failed(error.to_string(), String::new()),
    };
    let data_dir = config.data_dir.display().to_string();
    let engine = match Engine::open(config).await {
        Ok(engine) => engine,
        Err(error) => return Shell::failed(error.to_string(), data_dir),
    };
    let port = std::env::var("HOOKSCOPE_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_PORT);
    let public_url = std::env::var("HOOKSCOPE_PUBLIC_URL")
        .ok()
        .filter(|u| !u.is_empty());
    // The forward target, as `listen --forward-to` takes it (settings screens come with the full UI).
    let relay = match std::env::var("HOOKSCOPE_FORWARD_TO")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(target) => match hookscope_engine::relay::RelayOptions::new(&target) {
            Ok(relay) => Some(relay),
            Err(error) => {
                eprintln!("{error}");
                None
            }
        },
        None => None,
    };
    let options = ReceiverOptions {
        port,
        public_url,
        relay,
        ..ReceiverOptions::default()
    };
    let listening = match engine.listen(&options).await {
        Ok(listening) => Ok(listening),
        Err(_) if port != 0 => engine.listen(&ReceiverOptions { port: 0, ..options }).await,
        Err(error) => Err(error),
    };
    match listening {
        Ok(listening) => Shell {
            status: ReceiverStatus {
                urls: Some(listening.urls().clone()),
                error: None,
                data_dir,
            },
            engine: Some(engine),
            listening: Mutex::new(Some(listening)),
            sandbox: Default::default(),
            graph: Default::default(),
            graph_problem: Default::default(),
            graph_settings: Default::default(),
            pending_sign_in: Default::default(),
        },
        Err(error) => Shell {
            status: ReceiverStatus {
                urls: None,
                error: Some(error.to_string()),
                data_dir,
            },
            engine: Some(engine),
            listening: Mutex::new(None),
            sandbox: Default::default(),
            graph: Default::default(),
            graph_problem: Default::default(),
            graph_settings: Default::default(),
            pending_sign_in: Default::default(),
        },
    }
}

impl Shell {
    fn failed(error: String, data_dir: String) -> Shell {
        Shell {
            engine: None,
            status: ReceiverStatus {
                urls: None,
                error: Some(error),
                data_dir,
            },
            listening: Mutex::new(None),
            sandbox: Default::default(),
            graph: Default::default(),
            graph_problem: Default::default(),
            graph_settings: Default::default(),
            pending_sign_in: Default::default(),
        }
    }

    /// Connects to Graph with the credentials in the environment (or an announced simulator) and
    /// starts the keeper; when there are none, remembers why for the status bar.
    pub async fn connect(&self) {
        let (Some(engine), Some(urls)) = (&self.engine, &self.status.urls) else {
            return;
        };
        let client = graph::settings::resolve(&self.graph_settings, engine)
            .await
            .and_then(GraphClient::new);
        let mut graph = self.graph.lock().await;
        if let Some(old) = graph.take() {
            old.close().await;
        }
        match client {
            Ok(client) => {
                let connection =
                    Connection::open(engine, std::sync::Arc::new(client), urls.clone());
                *graph = Some(connection);
            }
            Err(error) => {
                if let Ok(mut problem) = self.graph_problem.lock() {
                    *problem = Some(error.to_string());
                }
            }
        }
    }

    async fn stop(&self) {
        if let Some(connection) = self.graph.lock().await.take() {
            connection.close().await;
        }
        if let (Some(sandbox), Some(engine)) = (self.sandbox.lock().await.take(), &self.engine) {
            sandbox.stop(engine).await;
        }
        let listening = self
            .listening
            .lock()
            .ok()
            .and_then(|mut guard| guard.take());
        if let Some(listening) = listening {
            listening.stop().await;
        }
        if let Some(engine) = &self.engine {
            engine.close().await;
        }
    }
}

pub fn run(global: &Global) -> i32 {
    let shell = tauri::async_runtime::block_on(async {
        let mut shell = start(global).await;
        shell.graph_settings = GraphSettings {
            graph_url: global.graph_url.clone(),
            login_url: global.login_url.clone(),
            cloud: global.cloud.clone(),
        };
        shell.connect().await;
        shell
    });
    let app = tauri::Builder::default()
        .manage(shell)
        .invoke_handler(tauri::generate_handler![
            commands::receiver_status,
            commands::notifications_page,
            commands::inspect_notification,
            commands::replay_delivery,
            commands::watch_feed,
            commands::try_without_tenant,
            commands::sandbox_send,
            subscriptions::graph_status,
            subscriptions::catalog,
            subscriptions::subscriptions_list,
            subscriptions::subscribe,
            subscriptions::renew_subscription,
            subscriptions::delete_subscription,
            subscriptions::remote_subscriptions,
            subscriptions::keeper_history,
            signin::doctor,
            signin::sign_in_app,
            signin::start_device_sign_in,
            signin::finish_device_sign_in,
            signin::sign_out
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("Cannot open the Hookscope window: {error}.");
            return 1;
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            let shell = handle.state::<Shell>();
            tauri::async_runtime::block_on(shell.stop());
        }
    });
    0
}
