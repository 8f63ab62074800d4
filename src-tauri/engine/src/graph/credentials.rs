//! App-only credentials and where Graph and the login host are. The secret never prints: `Debug` hides it.

/// A tenant, an app registration and its client secret, plus the hosts to use them on.
#[derive(Clone)]
pub struct AppCredentials {
    /// Graph's root, e.g. `https://graph.microsoft.com` (API calls go to `{graph_url}/v1.0/...`).
    pub graph_url: String,
    /// The login host, e.g. `https://login.microsoftonline.com`.
    pub login_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("graph_url", &self.graph_url)
            .field("login_url", &self.login_url)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}
