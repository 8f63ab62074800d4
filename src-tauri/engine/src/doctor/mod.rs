//! The doctor: every link between Graph and this laptop checked in order (credentials, token, Graph,
//! clocks, the receiver, the public URL, each subscription), each judged ok, warn or fail with what to do. It is
//! what a user runs when "nothing arrives", and the app's Health panel shows the same list.

mod subscriptions;

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;

use crate::graph::{self, GraphClient, GraphSettings};
use crate::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Health {
    Ok,
    /// Works, but something will bite later or needs a look.
    Warn,
    /// Broken: deliveries will not arrive until it is fixed.
    Fail,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct Check {
    /// `credentials`, `token`, `graph`, `clock`, `receiver`, `publicUrl`, `subscription`.
    pub name: String,
    pub health: Health,
    /// What was found, in one sentence.
    pub detail: String,
    /// What to do about it, when something is wrong.
    pub fix: Option<String>,
}

fn check(name: &str, health: Health, detail: String, fix: Option<String>) -> Check {
    Check {
        name: name.into(),
        health,
        detail,
        fix,
    }
}

/// Graph's clock may differ this much before expiries and token times go wrong.
const SKEW_WARN: Duration = Duration::from_secs(60);

pub async fn examine(engine: &Engine, settings: &GraphSettings) -> Vec<Check> {
    let mut checks = Vec::new();
    let credentials = match graph::settings::resolve(settings, engine).await {
        Ok(credentials) => credentials,
        Err(error) => {
            checks.push(check(
                "credentials",
                Health::Fail,
                error.to_string(),
                Some(
                    "Run `hookscope login`, or `hookscope simulate` to try without a tenant."
                        .into(),
                ),
            ));
            checks.extend(receiver_checks(engine, false).await);
            return checks;
        }
    };
    let who = if credentials.app_only() {
        format!(
            "app {} in tenant {}",
            credentials.client_id, credentials.tenant_id
        )
    } else {
        format!(
            "a signed-in user of tenant {} (app {})",
            credentials.tenant_id, credentials.client_id
        )
    };
    let graph_url = credentials.graph_url.clone();
    let simulated = is_loopback(&graph_url);
    checks.push(check(
        "credentials",
        Health::Ok,
        format!(
            "Signing in as {who} at {graph_url}{}.",
            if simulated { " (the simulator)" } else { "" }
        ),
        None,
    ));
    let client = match GraphClient::new(credentials) {
        Ok(client) => client,
        Err(error) => {
            checks.push(check("token", Health::Fail, error.to_string(), None));
            return checks;
        }
    };
    match client.token().await {
        Ok(_) => checks.push(check(
            "token",
            Health::Ok,
            "Got an access token.".into(),
            None,
        )),
        Err(error) => {
            let fix = match error.code.as_str() {
                "invalid_client" => "Check the client secret (its value, not its id) and run `hookscope login` again.",
                "invalid_grant" => "The sign-in expired or was revoked; run `hookscope login --device-code` again.",
                _ => "Check the tenant id, the client id and --login-url.",
            };
            checks.push(check(
                "token",
                Health::Fail,
                error.message,
                Some(fix.into()),
            ));
            checks.extend(receiver_checks(engine, simulated).await);
            return checks;
        }
    }
    checks.push(clock_check(&graph_url).await);
    let remote = match client.list_subscriptions().await {
        Ok(remote) => {
            checks.push(check(
                "graph",
                Health::Ok,
                format!(
                    "Graph answers; it holds {} subscription(s) for this app.",
                    remote.len()
                ),
                None,
            ));
            Some(remote)
        }
        Err(error) => {
            let fix = (error.status == 403).then(|| "Grant the app a permission for the resources it subscribes to, with admin consent.".to_string());
            checks.push(check("graph", Health::Fail, error.message, fix));
            None
        }
    };
    checks.extend(receiver_checks(engine, simulated).await);
    if let Some(remote) = remote {
        checks.extend(subscriptions::checks(engine, &remote, client.tenant_id()).await);
    }
    checks
}

fn is_loopback(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| matches!(h, "127.0.0.1" | "localhost" | "[::1]"))
        })
        .unwrap_or(false)
}

/// Graph's `Date` header against this machine's clock.
async fn clock_check(graph_url: &str) -> Check {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds");
    let before = crate::clock::now_micros();
    let answer = http
        .get(format!("{}/v1.0/", graph_url.trim_end_matches('/')))
        .send()
        .await;
    let after = crate::clock::now_micros();
    let date = answer
        .ok()
        .and_then(|r| {
            r.headers()
                .get("date")
                .and_then(|d| d.to_str().ok())
                .map(str::to_string)
        })
        .and_then(|d| {
            time::OffsetDateTime::parse(&d, &time::format_description::well_known::Rfc2822).ok()
        });
    let Some(date) = date else {
        return check(
            "clock",
            Health::Warn,
            "Graph's answer carried no Date header to compare clocks with.".into(),
            None,
        );
    };
    let theirs = (date.unix_timestamp_nanos() / 1_000) as i64;
    // The header has one-second resolution: compare against the middle of the round trip.
    let skew = (theirs - (before + after) / 2).unsigned_abs() / 1_000_000;
    if Duration::from_secs(skew) > SKEW_WARN {
        check(
            "clock",
            Health::Warn,
            format!("This machine's clock is {skew} s off Graph's."),
            Some("Turn on network time (timedatectl set-ntp true): expiries and token checks depend on it.".into()),
        )
    } else {
        check(
            "clock",
            Health::Ok,
            format!("Within {}s of Graph's clock.", skew.max(1)),
            None,
        )
    }
}

/// The receiver for this data directory, and whether Graph can reach it.
async fn receiver_checks(engine: &Engine, simulated: bool) -> Vec<Check> {
    let Some(running) = crate::subscriptions::running_receiver(engine).await else {
        return vec![check(
            "receiver",
            Health::Fail,
            "No receiver is running for this data directory.".into(),
            Some("Start `hookscope listen` or the app.".into()),
        )];
    };
    let urls = running.urls;
    let mut checks = vec![check(
        "receiver",
        Health::Ok,
        format!("Listening on {}.", urls.local_url),
        None,
    )];
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client builds");
    match (&urls.public_url, simulated) {
        (None, false) => checks.push(check(
            "publicUrl",
            Health::Fail,
            format!("The receiver is local only ({}): Graph cannot reach it.", urls.local_url),
            Some("Give `hookscope listen --public-url` your tunnel's URL, or use the built-in tunnel.".into()),
        )),
        _ => match crate::simulator::probe_handshake(&http, &urls.notification_url, Duration::from_secs(10)).await {
            Ok(()) => checks.push(check(
                "publicUrl",
                Health::Ok,
                format!("{} answers Graph's validation handshake.", urls.notification_url),
                None,
            )),
            Err(why) => checks.push(check(
                "publicUrl",
                Health::Fail,
                format!("{} does not answer Graph's validation handshake ({why}).", urls.notification_url),
                Some("Check that the tunnel runs and forwards to this receiver.".into()),
            )),
        },
    }
    checks
}
