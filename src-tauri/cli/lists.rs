//! `hookscope notifications` and `hookscope requests`: read the shared store (another process may be
//! writing to it) and print newest first.

use std::io::Write;

use hookscope_engine::store::{NotificationFilter, NotificationQuery, RequestQuery};
use hookscope_engine::Engine;
use serde::Serialize;

use super::output::{json_line, notification_text, request_text};
use super::{NotificationsArgs, RequestsArgs};

pub async fn notifications(engine: &Engine, args: NotificationsArgs) -> anyhow::Result<()> {
    let query = NotificationQuery {
        limit: args.limit,
        filter: NotificationFilter {
            subscription_id: args.subscription,
            ..NotificationFilter::default()
        },
        ..NotificationQuery::default()
    };
    let page = engine.notifications(&query).await?;
    let empty = "No notifications yet. Start `hookscope listen` (or the app) and subscribe.";
    print(&page.items, args.json, notification_text, empty)
}

pub async fn requests(engine: &Engine, args: RequestsArgs) -> anyhow::Result<()> {
    let page = engine
        .requests(&RequestQuery {
            limit: args.limit,
            before: None,
        })
        .await?;
    let empty = "No requests yet. Start `hookscope listen` (or the app) and point Graph at it.";
    print(&page.items, args.json, request_text, empty)
}

/// JSON Lines, or one text line per record with a hint when there are none.
fn print<T: Serialize>(
    items: &[T],
    json: bool,
    text: fn(&T) -> String,
    empty: &str,
) -> anyhow::Result<()> {
    let mut out = super::output::stdout();
    for item in items {
        if json {
            json_line(&mut out, None, item)?;
        } else {
            out.line(text(item))?;
        }
    }
    if !json && items.is_empty() {
        writeln!(out, "{empty}")?;
    }
    Ok(())
}
