//! Who Hookscope is at Graph (an app with its secret, or a signed-in user's refresh token) and where
//! Graph and the login host are. Neither secret ever prints: `Debug` hides both.

use std::sync::Arc;

/// A tenant, an app registration and its client secret, plus the hosts to use them on.
#[derive(Clone)]
pub struct AppCredentials {
    /// Graph's root, e.g. `https://graph.microsoft.com` (API calls go to `{graph_url}/v1.0/...`).
    pub graph_url: String,
    /// The login host, e.g. `https://login.microsoftonline.com`.
    pub login_url: String,
    pub tenant_id: String,
    pub client_id: String,
    /// Empty for a delegated (device-code) sign-in, which is a public client.
    pub client_secret: String,
    /// Set for a signed-in user: tokens come from the refresh token, not the client secret.
    pub delegated: Option<Delegated>,
}

/// Called with each new refresh token, to store it where the next process finds it.
pub type KeepRotated = Arc<dyn Fn(&str) + Send + Sync>;

/// A signed-in user's refresh token. Entra rotates it on every use; `on_rotate` keeps the new one.
#[derive(Clone)]
pub struct Delegated {
    pub refresh_token: String,
    /// What was consented, e.g. `Mail.Read offline_access`.
    pub scopes: String,
    pub on_rotate: Option<KeepRotated>,
}

impl AppCredentials {
    pub fn app_only(&self) -> bool {
        self.delegated.is_none()
    }
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("graph_url", &self.graph_url)
            .field("login_url", &self.login_url)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field(
                "delegated",
                &self.delegated.as_ref().map(|d| d.scopes.as_str()),
            )
            .finish()
    }
}
