//! `hookscope notifications` and `hookscope requests`: read the shared store (another process may be
//! writing to it) and print newest first.

use std::io::Write;

use hookscope_engine::store::{NotificationQuery, RequestQuery};
use hookscope_engine::Engine;

use super::output::{json_line, notification_text, request_text};
use super::{NotificationsArgs, RequestsArgs};

pub async fn notifications(engine: &Engine, args: NotificationsArgs) -> anyhow::Result<()> {
    let page = engine
        .notifications(&NotificationQuery {
            limit: args.limit,
            before: None,
            subscription_id: args.subscription,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    for note in &page.items {
        if args.json {
            json_line(&mut out, None, note)?;
        } else {
            writeln!(out, "{}", notification_text(note))?;
        }
    }
    if !args.json && page.items.is_empty() {
        writeln!(
            out,
            "No notifications yet. Start `hookscope listen` (or the app) and subscribe."
        )?;
    }
    Ok(())
}

pub async fn requests(engine: &Engine, args: RequestsArgs) -> anyhow::Result<()> {
    let page = engine
        .requests(&RequestQuery {
            limit: args.limit,
            before: None,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    for request in &page.items {
        if args.json {
            json_line(&mut out, None, request)?;
        } else {
            writeln!(out, "{}", request_text(request))?;
        }
    }
    if !args.json && page.items.is_empty() {
        writeln!(
            out,
            "No requests yet. Start `hookscope listen` (or the app) and point Graph at it."
        )?;
    }
    Ok(())
}
