//! `hookscope simulate`: the Graph simulator standalone until Ctrl-C. It prints where Graph and the login
//! host are, announces itself in the data directory for `trigger` and the app, and prints one line per
//! validation request and delivery attempt as they happen.

use std::io::Write;
use std::time::Duration;

use hookscope_engine::simulator::{self, AppRegistration, DeliveryRecord, SimulatorOptions};
use hookscope_engine::EngineConfig;
use serde_json::json;

use super::listen::stop_signal;
use super::output::json_line;
use super::SimulateArgs;

/// The registration the simulator accepts: the environment's, so `listen` and `subscribe` configured
/// for it work unchanged, else the well-known defaults.
fn registration() -> AppRegistration {
    let defaults = AppRegistration::default();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    AppRegistration {
        tenant_id: var("HOOKSCOPE_TENANT_ID").unwrap_or(defaults.tenant_id),
        client_id: var("HOOKSCOPE_CLIENT_ID").unwrap_or(defaults.client_id),
        client_secret: var("HOOKSCOPE_CLIENT_SECRET").unwrap_or(defaults.client_secret),
    }
}

pub async fn run(config: &EngineConfig, args: SimulateArgs) -> anyhow::Result<()> {
    let mut options = SimulatorOptions::new(args.fast_time);
    options.bind = args.bind;
    options.port = args.port;
    options.strict_content_type = args.strict_content_type;
    options.outlook_max_minutes = args.outlook_max_minutes;
    options.token_version = args.token_version;
    options.app = registration();
    let secret_is_default = options.app.client_secret == simulator::SIMULATOR_CLIENT_SECRET;
    let stop = stop_signal()?;
    let running = simulator::start(options).await?;
    simulator::announce(&config.data_dir, &running)?;
    let app = &running.options().app;
    {
        let mut out = super::output::stdout();
        if args.json {
            json_line(
                &mut out,
                Some("simulating"),
                &json!({
                    "graphUrl": running.url(),
                    "loginUrl": running.url(),
                    "tenantId": app.tenant_id,
                    "clientId": app.client_id,
                    "fastTime": args.fast_time,
                }),
            )?;
        } else {
            writeln!(out, "Graph simulator on {}", running.url())?;
            writeln!(out, "  Graph API:   {}/v1.0", running.url())?;
            writeln!(
                out,
                "  login host:  {}  (tenant {})",
                running.url(),
                app.tenant_id
            )?;
            writeln!(out, "  client id:   {}", app.client_id)?;
            if secret_is_default {
                writeln!(
                    out,
                    "  secret:      the simulator's well-known default (see the README)"
                )?;
            } else {
                writeln!(out, "  secret:      HOOKSCOPE_CLIENT_SECRET")?;
            }
            writeln!(
                out,
                "Point Hookscope at it with --graph-url {0} --login-url {0}; Ctrl-C stops.",
                running.url()
            )?;
        }
        out.flush()?;
    }
    tokio::pin!(stop);
    let mut seen = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                for record in running.deliveries(seen) {
                    seen = record.id;
                    if print(&record, args.json).is_err() {
                        break; // stdout is gone; keep serving
                    }
                }
            }
        }
    }
    simulator::withdraw(&config.data_dir);
    running.stop().await;
    Ok(())
}

fn print(record: &DeliveryRecord, json: bool) -> std::io::Result<()> {
    let mut out = super::output::stdout();
    if json {
        json_line(&mut out, Some("delivery"), record)?;
    } else {
        out.line(super::trigger::delivery_text(record))?;
    }
    out.flush()
}
