//! `hookscope login` and `hookscope logout`: sign in once (the app with its secret, proven by getting a
//! token before anything is stored; or yourself through a device code) and forget it again.

use std::io::{BufRead, IsTerminal, Write};

use hookscope_engine::graph::signin::{self, SignInMode, SignInProfile, DEFAULT_SCOPES};
use hookscope_engine::graph::{settings, AppCredentials, GraphClient, GraphSettings};
use hookscope_engine::Engine;
use serde_json::json;

use super::output::json_line;
use super::{Global, LoginArgs};

pub async fn run(engine: &Engine, global: &Global, args: LoginArgs) -> anyhow::Result<()> {
    let graph_settings = GraphSettings {
        graph_url: global.graph_url.clone(),
        login_url: global.login_url.clone(),
        cloud: global.cloud.clone(),
    };
    let (graph_url, login_url) =
        settings::hosts(&graph_settings, &engine.config().data_dir).await?;
    let simulator = hookscope_engine::simulator::announced(&engine.config().data_dir)
        .await
        .filter(|s| s.graph_url == graph_url);
    let tenant = args
        .tenant
        .or_else(|| simulator.as_ref().map(|s| s.tenant_id.clone()))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "Give --tenant (the directory id from the app registration's overview page)."
            )
        })?;
    let client_id = args
        .client_id
        .or_else(|| simulator.as_ref().map(|s| s.client_id.clone()))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "Give --client-id (the application id from the app registration's overview page)."
            )
        })?;
    let mut profile = SignInProfile {
        mode: SignInMode::AppOnly,
        graph_url,
        login_url,
        tenant_id: tenant,
        client_id,
        scopes: None,
    };
    let mut out = super::output::stdout();
    if args.device_code {
        let mut scopes = args.scopes.unwrap_or_else(|| DEFAULT_SCOPES.to_string());
        if !scopes.split_whitespace().any(|s| s == "offline_access") {
            scopes.push_str(" offline_access");
        }
        let code = signin::start_device_code(
            &profile.login_url,
            &profile.tenant_id,
            &profile.client_id,
            &scopes,
        )
        .await?;
        if args.json {
            json_line(&mut out, Some("deviceCode"), &code)?;
        } else {
            writeln!(out, "{}", code.message)?;
            writeln!(
                out,
                "Waiting for the sign-in to finish (the code is valid for {} minutes)…",
                code.expires_in / 60
            )?;
        }
        out.flush()?;
        let tokens = signin::finish_device_code(
            &profile.login_url,
            &profile.tenant_id,
            &profile.client_id,
            &code,
        )
        .await?;
        let refresh = tokens.refresh_token.ok_or_else(|| {
            anyhow::anyhow!(
                "The sign-in returned no refresh token; ask for offline_access in --scopes."
            )
        })?;
        profile.mode = SignInMode::Delegated;
        profile.scopes = Some(scopes);
        let kept = signin::save_delegated(engine, &profile, &refresh).await?;
        return report(&mut out, &profile, &kept.describe(), args.json);
    }
    let secret = read_secret(args.client_secret_stdin)?;
    // Prove the secret before storing it, so a typo fails now and not at the first renewal.
    let client = GraphClient::new(AppCredentials {
        graph_url: profile.graph_url.clone(),
        login_url: profile.login_url.clone(),
        tenant_id: profile.tenant_id.clone(),
        client_id: profile.client_id.clone(),
        client_secret: secret.clone(),
        delegated: None,
    })?;
    client.token().await?;
    let kept = signin::save_app_only(engine, &profile, &secret).await?;
    report(
        &mut out,
        &profile,
        &format!("the client secret is {}", kept.describe()),
        args.json,
    )
}

fn report(
    out: &mut impl Write,
    profile: &SignInProfile,
    kept: &str,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        json_line(
            out,
            Some("signedIn"),
            &json!({ "profile": profile, "secret": kept }),
        )?;
    } else {
        let who = match profile.mode {
            SignInMode::AppOnly => format!("as app {}", profile.client_id),
            SignInMode::Delegated => "as you (device code)".to_string(),
        };
        writeln!(
            out,
            "Signed in to tenant {} {who} at {}; {kept}.",
            profile.tenant_id, profile.graph_url
        )?;
    }
    Ok(())
}

/// The secret never comes from an argument (it would land in the shell history and `ps`).
fn read_secret(from_stdin: bool) -> anyhow::Result<String> {
    if let Ok(secret) = std::env::var("HOOKSCOPE_CLIENT_SECRET") {
        if !secret.trim().is_empty() {
            return Ok(secret.trim().to_string());
        }
    }
    let secret = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    } else {
        rpassword::prompt_password("Client secret (not shown): ")?
    };
    let secret = secret.trim().to_string();
    if secret.is_empty() {
        anyhow::bail!(
            "No client secret given; pipe it in (--client-secret-stdin) or type it at the prompt."
        );
    }
    Ok(secret)
}

pub async fn logout(engine: &Engine) -> anyhow::Result<()> {
    signin::forget(engine).await?;
    super::output::stdout().line("Signed out; the stored secrets are deleted.")?;
    Ok(())
}
