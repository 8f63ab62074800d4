//! `hookscope prune --older-than DAYS`: deletes stored deliveries older than that, with their requests
//! and relayed answers, once (the app's retention setting does the same every hour).

use std::io::Write;

use hookscope_engine::retention;
use hookscope_engine::Engine;

use super::PruneArgs;

pub async fn run(engine: &Engine, args: PruneArgs) -> anyhow::Result<()> {
    if !(1..=retention::MAX_DAYS).contains(&args.older_than) {
        anyhow::bail!(
            "--older-than takes 1 to {} days; deliveries older than that are deleted.",
            retention::MAX_DAYS
        );
    }
    let pruned = retention::prune_older_than(engine.store(), args.older_than).await?;
    let mut out = super::output::stdout();
    if args.json {
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({
                "notifications": pruned.notifications,
                "requests": pruned.requests,
                "olderThanDays": args.older_than,
            }),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Deleted {} notifications and {} requests older than {} days.",
            pruned.notifications, pruned.requests, args.older_than
        )?;
    }
    Ok(())
}
