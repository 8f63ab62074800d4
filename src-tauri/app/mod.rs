//! The desktop shell: opens the engine for the data directory, starts the receiver and tunnel as the
//! settings say, and serves the UI through commands. It holds no logic of its own beyond wiring.

mod commands;
mod preferences;
mod signin;
mod subscriptions;

use std::sync::Mutex;

use hookscope_engine::graph::{self, Connection, GraphClient, GraphSettings};
use hookscope_engine::receiver::ReceiverStatus;
use hookscope_engine::sandbox::Sandbox;
use hookscope_engine::settings::{self, Live, Settings, TunnelMode};
use hookscope_engine::tunnel::SupervisorTimings;
use hookscope_engine::Engine;
use tauri::{Manager, RunEvent};

use crate::cli::{engine_config, Global};

pub struct Shell {
    pub engine: Option<Engine>,
    /// Why the engine did not open, when it did not.
    failure: Option<String>,
    data_dir: String,
    /// The receiver and the tunnel as the settings say; None when the engine did not open.
    pub live: Option<Live>,
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

/// What the environment asks for at start (`HOOKSCOPE_PORT`, `HOOKSCOPE_PUBLIC_URL`,
/// `HOOKSCOPE_FORWARD_TO`) wins over the saved settings for this run; a save from the settings screen
/// then applies as saved.
fn with_environment(mut settings: Settings) -> Settings {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(port) = env("HOOKSCOPE_PORT").and_then(|p| p.parse().ok()) {
        settings.port = port;
    }
    if let Some(url) = env("HOOKSCOPE_PUBLIC_URL") {
        settings.tunnel = TunnelMode::PublicUrl;
        settings.public_url = Some(url);
    }
    if let Some(target) = env("HOOKSCOPE_FORWARD_TO") {
        settings.forward_to = Some(target);
    }
    settings
}

/// Opens the engine and starts the receiver (and tunnel) as the settings say.
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
    let live = Live::new(engine.clone(), SupervisorTimings::default());
    live.apply(&with_environment(settings::load(&engine).await))
        .await;
    Shell {
        engine: Some(engine),
        failure: None,
        data_dir,
        live: Some(live),
        sandbox: Default::default(),
        graph: Default::default(),
        graph_problem: Default::default(),
        graph_settings: Default::default(),
        pending_sign_in: Default::default(),
    }
}

impl Shell {
    fn failed(error: String, data_dir: String) -> Shell {
        Shell {
            engine: None,
            failure: Some(error),
            data_dir,
            live: None,
            sandbox: Default::default(),
            graph: Default::default(),
            graph_problem: Default::default(),
            graph_settings: Default::default(),
            pending_sign_in: Default::default(),
        }
    }

    /// Where the receiver listens and is reachable, or why it does not.
    pub fn status(&self) -> ReceiverStatus {
        match &self.live {
            Some(live) => live.current(),
            None => ReceiverStatus {
                urls: None,
                error: self.failure.clone(),
                data_dir: self.data_dir.clone(),
                tunnel: None,
                forward_to: None,
            },
        }
    }

    /// Connects to Graph with the credentials in the environment (or an announced simulator) and
    /// starts the keeper; when there are none, remembers why for the status bar.
    pub async fn connect(&self) {
        let (Some(engine), Some(urls)) = (&self.engine, self.status().urls) else {
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
                let connection = Connection::open(engine, std::sync::Arc::new(client), urls);
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
        if let Some(live) = &self.live {
            live.stop().await;
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
    let follows = follow_receiver(&shell);
    let app = tauri::Builder::default()
        .manage(shell)
        .invoke_handler(tauri::generate_handler![
            commands::receiver_status,
            commands::watch_status,
            preferences::settings_get,
            preferences::settings_save,
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
            signin::open_sign_in_page,
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
    let handle = app.handle().clone();
    if let Some(mut urls) = follows {
        tauri::async_runtime::spawn(async move {
            // The receiver moved (a new port, a tunnel URL): the keeper re-points every subscription.
            while urls.changed().await.is_ok() {
                let now = urls.borrow_and_update().urls.clone();
                let shell = handle.state::<Shell>();
                let graph = shell.graph.lock().await;
                if let (Some(now), Some(connection)) = (now, graph.as_ref()) {
                    connection.set_urls(now);
                }
            }
        });
    }
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            let shell = handle.state::<Shell>();
            tauri::async_runtime::block_on(shell.stop());
        }
    });
    0
}

/// The receiver's status as it changes, for re-pointing the keeper.
fn follow_receiver(shell: &Shell) -> Option<tokio::sync::watch::Receiver<ReceiverStatus>> {
    shell.live.as_ref().map(Live::status)
}
