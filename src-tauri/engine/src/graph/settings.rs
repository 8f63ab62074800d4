//! Where Graph is and who Hookscope is there: the cloud's hosts (or overrides), and app-only credentials
//! from the environment, else the Graph simulator running for this data directory ("without a tenant").

use std::path::Path;

use super::AppCredentials;

/// The national clouds Graph runs in (docs/graph.md §9.3).
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

/// A variable that is set and not blank.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Who Hookscope is at Graph, in order: `HOOKSCOPE_TENANT_ID`, `HOOKSCOPE_CLIENT_ID` and
/// `HOOKSCOPE_CLIENT_SECRET` when set (the environment wins); else the sign-in stored by `hookscope login`
/// or the app; else the simulator announced in the data directory, with its well-known registration.
pub async fn resolve(
    settings: &GraphSettings,
    engine: &crate::Engine,
) -> anyhow::Result<AppCredentials> {
    if let Some(found) = from_environment(settings)? {
        return Ok(found);
    }
    if let Some(mut stored) = super::signin::stored_credentials(engine).await? {
        // Flags still point a stored identity at another host (a proxy, a simulator).
        if let Some(url) = &settings.graph_url {
            stored.graph_url = url.clone();
        }
        if let Some(url) = &settings.login_url {
            stored.login_url = url.clone();
        }
        return Ok(stored);
    }
    from_simulator(settings, &engine.config().data_dir).await
}

/// Where a new sign-in goes: the flags, else a running simulator's (proved alive before a secret can go
/// to it), else the cloud's hosts.
pub async fn hosts(settings: &GraphSettings, data_dir: &Path) -> anyhow::Result<(String, String)> {
    let explicit =
        settings.graph_url.is_some() || settings.login_url.is_some() || settings.cloud.is_some();
    if !explicit {
        if let Some(found) = crate::simulator::announced(data_dir).await {
            return Ok((found.graph_url, found.login_url));
        }
    }
    let cloud = cloud(settings)?;
    Ok((
        settings
            .graph_url
            .clone()
            .unwrap_or_else(|| cloud.graph_url().into()),
        settings
            .login_url
            .clone()
            .unwrap_or_else(|| cloud.login_url().into()),
    ))
}

fn cloud(settings: &GraphSettings) -> anyhow::Result<Cloud> {
    let name = settings
        .cloud
        .clone()
        .or_else(|| env("HOOKSCOPE_CLOUD"))
        .unwrap_or_default();
    Cloud::parse(&name)
        .ok_or_else(|| anyhow::anyhow!("Unknown cloud '{name}'; use global, usgov, dod or china."))
}

fn from_environment(settings: &GraphSettings) -> anyhow::Result<Option<AppCredentials>> {
    let names = [
        "HOOKSCOPE_TENANT_ID",
        "HOOKSCOPE_CLIENT_ID",
        "HOOKSCOPE_CLIENT_SECRET",
    ];
    let values: Vec<Option<String>> = names.iter().map(|n| env(n)).collect();
    let cloud = cloud(settings)?;
    if values.iter().all(Option::is_some) {
        let mut values = values.into_iter().flatten();
        return Ok(Some(AppCredentials {
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
            delegated: None,
        }));
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
    Ok(None)
}

async fn from_simulator(
    settings: &GraphSettings,
    data_dir: &Path,
) -> anyhow::Result<AppCredentials> {
    let simulator = crate::simulator::announced(data_dir).await.filter(|a| {
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
                delegated: None,
            })
        }
        None => anyhow::bail!(
            "No Graph credentials: run `hookscope login` (or set HOOKSCOPE_TENANT_ID, HOOKSCOPE_CLIENT_ID and HOOKSCOPE_CLIENT_SECRET), or run `hookscope simulate` to try without a tenant."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn hosts_for(
        cloud: Option<&str>,
        graph: Option<&str>,
        login: Option<&str>,
    ) -> (String, String) {
        let settings = GraphSettings {
            graph_url: graph.map(Into::into),
            login_url: login.map(Into::into),
            cloud: cloud.map(Into::into),
        };
        let empty = tempfile::tempdir().unwrap();
        hosts(&settings, empty.path()).await.unwrap()
    }

    #[tokio::test]
    async fn each_national_cloud_sets_both_hosts_and_flags_win() {
        // docs/graph.md §9.3.
        for (name, graph, login) in [
            (
                "global",
                "https://graph.microsoft.com",
                "https://login.microsoftonline.com",
            ),
            (
                "usgov",
                "https://graph.microsoft.us",
                "https://login.microsoftonline.us",
            ),
            (
                "dod",
                "https://dod-graph.microsoft.us",
                "https://login.microsoftonline.us",
            ),
            (
                "china",
                "https://microsoftgraph.chinacloudapi.cn",
                "https://login.chinacloudapi.cn",
            ),
        ] {
            assert_eq!(
                hosts_for(Some(name), None, None).await,
                (graph.into(), login.into()),
                "{name}"
            );
        }
        assert_eq!(
            hosts_for(Some("china"), Some("http://127.0.0.1:9"), None).await,
            (
                "http://127.0.0.1:9".into(),
                "https://login.chinacloudapi.cn".into()
            ),
            "--graph-url overrides only the Graph host"
        );
        let settings = GraphSettings {
            cloud: Some("mars".into()),
            ..GraphSettings::default()
        };
        let error = hosts(&settings, tempfile::tempdir().unwrap().path())
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("use global, usgov, dod or china"),
            "{error}"
        );
    }
}
