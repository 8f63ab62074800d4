//! The desktop app's choices (port, tunnel, forward target, toasts, theme, retention), kept in the store so they
//! survive restarts, checked here so every front refuses the same bad input with the same sentence.
//! Secrets are not settings: the ngrok authtoken goes to the keyring through `secrets`.

mod live;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use live::Live;

use crate::config::DEFAULT_PORT;
use crate::graph::settings::env;
use crate::tunnel::{ngrok_authtoken, NGROK_SECRET};
use crate::Engine;

/// The store key the settings live under, as one JSON document.
const KEY: &str = "app-settings";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
pub enum TunnelMode {
    /// Local only: Graph cannot reach the receiver; the simulator can.
    #[default]
    None,
    /// An ngrok tunnel Hookscope opens itself.
    Ngrok,
    /// A public URL the user runs (cloudflared, dev tunnels, a reverse proxy).
    PublicUrl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "camelCase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(rename_all = "camelCase")]
pub struct ToastSettings {
    pub enabled: bool,
    /// Subscriptions whose notifications never toast (lifecycle events and failures still do).
    pub muted: Vec<String>,
}

impl Default for ToastSettings {
    fn default() -> Self {
        ToastSettings {
            enabled: true,
            muted: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(rename_all = "camelCase")]
pub struct Settings {
    /// The receiver's local port; a taken port falls back to any free one.
    pub port: u16,
    pub tunnel: TunnelMode,
    /// With `TunnelMode::PublicUrl`: where the receiver's root is reachable from outside.
    pub public_url: Option<String>,
    /// With ngrok: the account's static domain, which keeps the URL across restarts.
    pub ngrok_domain: Option<String>,
    /// Every accepted delivery is handed on to this URL (the user's own app).
    pub forward_to: Option<String>,
    /// Graph's validation request goes to the forward target too, and its answer is returned.
    pub forward_handshake: bool,
    pub toasts: ToastSettings,
    pub theme: Theme,
    /// Deliveries older than this many days are deleted (hourly); None keeps everything.
    pub retention_days: Option<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            port: DEFAULT_PORT,
            tunnel: TunnelMode::None,
            public_url: None,
            ngrok_domain: None,
            forward_to: None,
            forward_handshake: false,
            toasts: ToastSettings::default(),
            theme: Theme::System,
            retention_days: None,
        }
    }
}

/// What the settings screen shows: the settings, and whether a secret is kept (never the secret).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SettingsView {
    pub settings: Settings,
    /// An ngrok authtoken is kept in the keyring or set in `NGROK_AUTHTOKEN`.
    pub ngrok_authtoken_set: bool,
    /// `NGROK_AUTHTOKEN` (or `HOOKSCOPE_NGROK_DOMAIN`) is set and wins over what is saved here.
    pub ngrok_from_environment: bool,
}

/// A save from the settings screen: the settings, and what to do with the authtoken.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SettingsChange {
    pub settings: Settings,
    /// A new ngrok authtoken to keep in the keyring; None leaves the kept one as it is.
    #[ts(optional)]
    pub ngrok_authtoken: Option<String>,
    /// Forget the kept authtoken.
    #[serde(default)]
    pub forget_ngrok_authtoken: bool,
}

impl Settings {
    /// Trims what the user typed, turns empty fields into none, and refuses what cannot work.
    pub fn checked(mut self) -> anyhow::Result<Settings> {
        let tidy = |value: Option<String>| {
            value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        self.public_url = tidy(self.public_url);
        self.ngrok_domain = tidy(self.ngrok_domain).map(|d| {
            d.trim_start_matches("https://")
                .trim_end_matches('/')
                .to_string()
        });
        self.forward_to = tidy(self.forward_to);
        self.toasts.muted.sort();
        self.toasts.muted.dedup();
        if let Some(url) = &self.public_url {
            self.public_url = Some(crate::receiver::normalize_public_url(url)?);
        }
        if self.tunnel == TunnelMode::PublicUrl && self.public_url.is_none() {
            anyhow::bail!(
                "Give the public URL your tunnel or proxy serves (https://…), or choose another tunnel mode."
            );
        }
        if let Some(domain) = &self.ngrok_domain {
            if domain.contains('/') || domain.contains(' ') || !domain.contains('.') {
                anyhow::bail!(
                    "The ngrok domain {domain:?} is not a host name; give it as shown in ngrok's dashboard, like example.ngrok-free.app."
                );
            }
        }
        if let Some(target) = &self.forward_to {
            crate::relay::RelayOptions::new(target)?;
        }
        if let Some(days) = self.retention_days {
            crate::retention::check_days(days)?;
        }
        if self.forward_handshake && self.forward_to.is_none() {
            anyhow::bail!(
                "Passing Graph's handshake through needs a forward target; give the URL of your app."
            );
        }
        Ok(self)
    }

    /// Whether the receiver or the tunnel must be started again for these settings to take effect.
    pub fn needs_restart(&self, before: &Settings) -> bool {
        self.port != before.port
            || self.tunnel != before.tunnel
            || self.public_url != before.public_url
            || self.ngrok_domain != before.ngrok_domain
            || self.forward_to != before.forward_to
            || self.forward_handshake != before.forward_handshake
    }
}

/// The saved settings, or the defaults when none were saved (or they no longer parse).
pub async fn load(engine: &Engine) -> Settings {
    match engine.store().setting(KEY).await {
        Ok(Some(text)) => serde_json::from_str(&text).unwrap_or_else(|error| {
            tracing::warn!(%error, "saved settings do not parse; using the defaults");
            Settings::default()
        }),
        _ => Settings::default(),
    }
}

/// Checks and saves a change; the authtoken goes to the keyring, never to the store. Returns the
/// settings as saved.
pub async fn save(engine: &Engine, change: SettingsChange) -> anyhow::Result<Settings> {
    let settings = change.settings.checked()?;
    let secrets = crate::secrets::Secrets::new(&engine.config().data_dir);
    if change.forget_ngrok_authtoken {
        secrets.delete(NGROK_SECRET);
    }
    if let Some(token) = change
        .ngrok_authtoken
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    {
        if token.chars().any(char::is_whitespace) {
            anyhow::bail!(
                "An ngrok authtoken has no spaces; copy it again from https://dashboard.ngrok.com/get-started/your-authtoken."
            );
        }
        secrets.put(NGROK_SECRET, &token)?;
    }
    engine
        .store()
        .put_setting(KEY, Some(serde_json::to_string(&settings)?))
        .await?;
    Ok(settings)
}

/// The settings with what the screen may know about the secrets.
pub async fn view(engine: &Engine) -> SettingsView {
    let settings = load(engine).await;
    SettingsView {
        settings,
        ngrok_authtoken_set: ngrok_authtoken(&engine.config().data_dir).is_some(),
        ngrok_from_environment: env("NGROK_AUTHTOKEN").is_some()
            || env("HOOKSCOPE_NGROK_DOMAIN").is_some(),
    }
}
