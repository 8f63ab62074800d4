//! The desktop shell: opens the engine for the data directory, starts the receiver and tunnel as the
//! settings say, and serves the UI through commands. It holds no logic of its own beyond wiring.

mod commands;
mod preferences;
pub mod rendering;
mod resource;
mod signin;
mod subscriptions;
mod toasts;

use std::sync::{Arc, Mutex, OnceLock};

use hookscope_engine::graph::{self, Connection, GraphClient, GraphSettings};
use hookscope_engine::receiver::ReceiverStatus;
use hookscope_engine::sandbox::Sandbox;
use hookscope_engine::settings::{self, Live, Settings, ToastSettings, TunnelMode};
use hookscope_engine::toasts::Toaster;
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
    /// The toast settings the toaster follows; a save from the settings screen updates them.
    pub toast_settings: tokio::sync::watch::Sender<ToastSettings>,
    toaster: Mutex<Option<Toaster>>,
    /// The app, for a toast's click; set once the window exists.
    app: Arc<OnceLock<tauri::AppHandle>>,
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
        Err(error) => return Shell::empty(String::new(), Some(error.to_string())),
    };
    let data_dir = config.data_dir.display().to_string();
    let engine = match Engine::open(config).await {
        Ok(engine) => engine,
        Err(error) => return Shell::empty(data_dir, Some(error.to_string())),
    };
    if let Some(notice) = engine.privacy_notice() {
        tracing::warn!("{notice}");
    }
    let live = Live::new(engine.clone(), SupervisorTimings::default());
    let saved = with_environment(settings::load(&engine).await);
    live.apply(&saved).await;
    let mut shell = Shell::empty(data_dir, None);
    shell.toast_settings.send_replace(saved.toasts);
    *shell.toaster.get_mut().expect("a new lock") = Some(toasts::start(
        &engine,
        shell.toast_settings.subscribe(),
        shell.app.clone(),
    ));
    shell.engine = Some(engine);
    shell.live = Some(live);
    shell
}

impl Shell {
    /// The Graph client, or why there is none. The lock is held only to take the client, so a slow
    /// Graph call (a resource fetch waits up to a minute) does not hold up other commands or sign-out.
    pub async fn graph_client(&self) -> Result<Arc<GraphClient>, String> {
        match self.graph.lock().await.as_ref() {
            Some(connection) => Ok(connection.client()),
            None => Err(self.no_graph()),
        }
    }

    /// Why there is no Graph connection, in one sentence (empty when nothing went wrong).
    pub fn problem_with_graph(&self) -> String {
        self.graph_problem
            .lock()
            .ok()
            .and_then(|p| p.clone())
            .unwrap_or_default()
    }

    /// Why there is no Graph connection, with the way around it.
    pub fn no_graph(&self) -> String {
        let why = self.problem_with_graph();
        format!("Hookscope is not connected to Graph: {why} Or press \"Try without a tenant\".")
            .replace(":  Or", ": Or")
    }

    /// A shell with nothing running yet: the engine and receiver are set by `start`, or `failure` says
    /// why they could not be.
    fn empty(data_dir: String, failure: Option<String>) -> Shell {
        Shell {
            engine: None,
            failure,
            data_dir,
            live: None,
            sandbox: Default::default(),
            graph: Default::default(),
            graph_problem: Default::default(),
            graph_settings: Default::default(),
            pending_sign_in: Default::default(),
            toast_settings: tokio::sync::watch::channel(ToastSettings::default()).0,
            toaster: Mutex::new(None),
            app: Arc::default(),
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
        if let Ok(mut toaster) = self.toaster.lock() {
            toaster.take();
        }
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
    rendering::choose();
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
    let follows = shell.live.as_ref().map(Live::status);
    let app = tauri::Builder::default()
        .manage(shell)
        .invoke_handler(tauri::generate_handler![
            commands::receiver_status,
            commands::watch_status,
            commands::export_notifications,
            resource::fetch_current_resource,
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
    let _ = handle.state::<Shell>().app.set(handle.clone());
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
