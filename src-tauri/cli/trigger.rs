//! `hookscope trigger`: asks the running Graph simulator to notify the subscriptions it holds, and
//! prints what each POST got back.

use std::io::Write;

use hookscope_engine::simulator::{
    self, DeliveryRecord, LifecycleEvent, Outcome, SimulatorClient, Tamper, TriggerSpec,
};
use hookscope_engine::EngineConfig;

use super::output::json_line;
use super::{Global, LifecycleArg, TriggerArgs};

/// The simulator to drive: --graph-url / HOOKSCOPE_GRAPH_URL, else the one announced in the data directory.
async fn simulator_url(config: &EngineConfig, global: &Global) -> anyhow::Result<String> {
    if let Some(url) = global.graph_url.as_deref().filter(|u| !u.is_empty()) {
        return Ok(url.to_string());
    }
    simulator::announced(&config.data_dir)
        .await
        .map(|a| a.graph_url)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "No Graph simulator is running for {}; start `hookscope simulate` or pass --graph-url.",
                config.data_dir.display()
            )
        })
}

pub async fn run(config: &EngineConfig, global: &Global, args: TriggerArgs) -> anyhow::Result<()> {
    let tamper = args
        .tamper
        .as_deref()
        .map(|t| {
            Tamper::parse(t).ok_or_else(|| {
                anyhow::anyhow!(
                    "Unknown tamper '{t}'; use one of: {}.",
                    Tamper::ALL.map(Tamper::as_str).join(", ")
                )
            })
        })
        .transpose()?;
    let spec = TriggerSpec {
        resource: args.resource,
        subscription_id: args.subscription,
        change_type: args.change_type,
        count: Some(args.count),
        lifecycle: args.lifecycle.map(|l| match l {
            LifecycleArg::ReauthorizationRequired => LifecycleEvent::ReauthorizationRequired,
            LifecycleArg::SubscriptionRemoved => LifecycleEvent::SubscriptionRemoved,
            LifecycleArg::Missed => LifecycleEvent::Missed,
        }),
        rich: args.rich,
        duplicate: args.duplicate,
        tamper,
        token_version: args.token_version,
    };
    let client = SimulatorClient::new(&simulator_url(config, global).await?)?;
    let report = client.trigger(&spec).await?;
    let mut out = super::output::stdout();
    if args.json {
        for record in &report.deliveries {
            json_line(&mut out, Some("delivery"), record)?;
        }
    } else {
        writeln!(
            out,
            "{} notification(s) for {} subscription(s):",
            report.notifications,
            report.subscription_ids.len()
        )?;
        for record in &report.deliveries {
            out.line(delivery_text(record))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `12:00:01.123  notifications ×3 → http://…  202 in 1.20 ms`
pub fn delivery_text(r: &DeliveryRecord) -> String {
    let at = r.at.get(11..23).unwrap_or(&r.at);
    let what = if r.kind == "handshake" {
        "handshake".to_string()
    } else {
        format!("{} ×{}", r.kind, r.items)
    };
    let answer = match (r.outcome, r.status) {
        (Outcome::Validated, _) => format!("validated in {:.2} ms", r.latency_ms),
        (Outcome::Delivered, Some(status)) => format!("{status} in {:.2} ms", r.latency_ms),
        (_, Some(status)) => format!(
            "{status} in {:.2} ms: {}",
            r.latency_ms,
            r.error.as_deref().unwrap_or("")
        ),
        (outcome, None) => format!(
            "{}: {}",
            serde_json::to_value(outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            r.error.as_deref().unwrap_or("")
        ),
    };
    let attempt = if r.attempt > 1 {
        format!(" (attempt {})", r.attempt)
    } else {
        String::new()
    };
    format!("{at}  {what:<18} → {}  {answer}{attempt}", r.url)
}
