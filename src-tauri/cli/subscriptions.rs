//! `hookscope subscriptions [list|renew|delete]`: the kept subscriptions with status and time left, what
//! Graph holds (orphans marked), and a manual renewal or deletion.

use std::io::Write;

use hookscope_engine::model::Subscription;
use hookscope_engine::subscriptions::{self, Lifetime};
use hookscope_engine::Engine;

use super::output::{json_line, time_left};
use super::{Global, SubscriptionsAction, SubscriptionsArgs};

pub async fn run(engine: &Engine, global: &Global, args: SubscriptionsArgs) -> anyhow::Result<()> {
    let action = args.action.unwrap_or(SubscriptionsAction::List {
        remote: args.remote,
        json: args.json,
    });
    let mut out = super::output::stdout();
    match action {
        SubscriptionsAction::List {
            remote: false,
            json,
        } => {
            // The store lists newest first, as the contract wants.
            let all = engine.subscriptions().await?;
            for subscription in &all {
                if json {
                    json_line(&mut out, None, subscription)?;
                } else {
                    out.line(line(subscription))?;
                }
            }
            if all.is_empty() && !json {
                writeln!(out, "No subscriptions yet. Create one with `hookscope subscribe --resource R --change-type T`.")?;
            }
        }
        SubscriptionsAction::List { remote: true, json } => {
            let graph = super::graph::client(engine, global).await?;
            let held = subscriptions::remote(engine, &graph).await?;
            for remote in &held {
                if json {
                    json_line(&mut out, None, remote)?;
                } else {
                    let mark = if remote.orphan { "  ORPHAN" } else { "" };
                    out.line(format_args!("{}{mark}", line(&remote.subscription)))?;
                }
            }
            let orphans: Vec<&str> = held
                .iter()
                .filter(|r| r.orphan)
                .map(|r| r.subscription.id.as_str())
                .collect();
            if !json {
                if held.is_empty() {
                    writeln!(out, "Graph holds no subscriptions for this app.")?;
                } else if !orphans.is_empty() {
                    writeln!(
                        out,
                        "{} orphan(s): Graph holds them but Hookscope does not know their clientState, so their notifications are rejected and nobody renews them. Delete with `hookscope subscriptions delete {}`.",
                        orphans.len(),
                        orphans[0]
                    )?;
                }
            }
        }
        SubscriptionsAction::Renew {
            id,
            expires_in,
            json,
        } => {
            let lifetime = Lifetime::parse(&expires_in).map_err(anyhow::Error::msg)?;
            let graph = super::graph::client(engine, global).await?;
            let renewed = subscriptions::renew(engine, &graph, &id, lifetime).await?;
            if json {
                json_line(&mut out, None, &renewed)?;
            } else {
                out.line(format_args!(
                    "Renewed {id}: expires {} (in {}).",
                    renewed.expiration_date_time,
                    time_left(&renewed.expiration_date_time)
                ))?;
            }
        }
        SubscriptionsAction::Delete { id, json } => {
            let graph = super::graph::client(engine, global).await?;
            let deleted = subscriptions::delete(engine, &graph, &id).await?;
            match (json, deleted) {
                (true, Some(deleted)) => json_line(&mut out, None, &deleted)?,
                (true, None) => json_line(
                    &mut out,
                    None,
                    &serde_json::json!({ "id": id, "status": "removed" }),
                )?,
                (false, _) => out.line(format_args!("Deleted {id}."))?,
            }
        }
    }
    Ok(())
}

fn line(s: &Subscription) -> String {
    let mut text = format!(
        "{}  {:<7}  {:>12}  {}  ({})",
        s.id,
        s.status.as_str(),
        time_left(&s.expiration_date_time),
        s.resource,
        s.change_type
    );
    if !s.auto_renew {
        text.push_str("  no auto-renew");
    }
    if let Some(error) = &s.last_error {
        text.push_str("  — ");
        text.push_str(error);
    }
    text
}
