//! Where Graph is and who Hookscope is there: the cloud's hosts (or overrides), and app-only credentials
//! from the environment, else the Graph simulator running for this data directory ("without a tenant").

use std::path::Path;

use super::AppCredentials;

/// The national clouds Graph runs in (reference §9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Global,
    UsGovL4,
    UsGovL5,
    China,
}

impl Cloud {
    pub fn parse(text: &str) -> Option<Cloud> {
        match text.to_ascii_lowercase().as_str() {
            "global" | "" => Some(Cloud::Global),
            "usgov" | "usgovl4" | "gcchigh" => Some(Cloud::UsGovL4),
            "dod" | "usgovl5" => Some(Cloud::UsGovL5),
            "china" => Some(Cloud::China),
            _ => None,
        }
    }

    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGovL4 => "https://graph.microsoft.us",
            Cloud::UsGovL5 => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    pub fn login_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGovL4 | Cloud::UsGovL5 => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }
}

/// What the fronts pass in: explicit overrides (flags), the rest comes from the environment.
#[derive(Debug, Clone, Default)]
pub struct GraphSettings {
    pub graph_url: Option<String>,
    pub login_url: Option<String>,
    pub cloud: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// App-only credentials: `HOOKSCOPE_TENANT_ID`, `HOOKSCOPE_CLIENT_ID`, `HOOKSCOPE_CLIENT_SECRET` when set;
/// otherwise the simulator announced in the data directory, with its well-known registration.
pub fn resolve(settings: &GraphSettings, data_dir: &Path) -> anyhow::Result<AppCredentials> {
    let names = [
        "HOOKSCOPE_TENANT_ID",
        "HOOKSCOPE_CLIENT_ID",
        "HOOKSCOPE_CLIENT_SECRET",
    ];
    let values: Vec<Option<String>> = names.iter().map(|n| env(n)).collect();
    let cloud_name = settings
        .cloud
        .clone()
        .or_else(|| env("HOOKSCOPE_CLOUD"))
        .unwrap_or_default();
    let cloud = Cloud::parse(&cloud_name).ok_or_else(|| {
        anyhow::anyhow!("Unknown cloud '{cloud_name}'; use global, usgov, dod or china.")
    })?;
    if values.iter().all(Option::is_some) {
        let mut values = values.into_iter().flatten();
        return Ok(AppCredentials {
            graph_url: settings
                .graph_url
                .clone()
                .unwrap_or_else(|| cloud.graph_url().into()),
            login_url: settings
                .login_url
                .clone()
                .unwrap_or_else(|| cloud.login_url().into()),
            tenant_id: values.next().unwrap_or_default(),
            client_id: values.next().unwrap_or_default(),
            client_secret: values.next().unwrap_or_default(),
        });
    }
    if values.iter().any(Option::is_some) {
        let missing: Vec<&str> = names
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        anyhow::bail!(
            "Set {} too: app-only sign-in needs the tenant id, client id and client secret.",
            missing.join(" and ")
        );
    }
    let simulator = crate::simulator::announced(data_dir).filter(|a| {
        settings
            .graph_url
            .as_deref()
            .is_none_or(|url| url.trim_end_matches('/') == a.graph_url)
    });
    match simulator {
        Some(found) => {
            let defaults = crate::simulator::AppRegistration::default();
            Ok(AppCredentials {
                graph_url: found.graph_url,
                login_url: found.login_url,
                tenant_id: found.tenant_id,
                client_id: found.client_id,
                client_secret: defaults.client_secret,
            })
        }
        None => anyhow::bail!(
            "No Graph credentials: set HOOKSCOPE_TENANT_ID, HOOKSCOPE_CLIENT_ID and HOOKSCOPE_CLIENT_SECRET, or run `hookscope simulate` to try without a tenant."
        ),
    }
}
