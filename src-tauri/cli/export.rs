//! `hookscope export`: the stored notifications a filter selects, as JSON Lines or a HAR log, to stdout
//! or a file.

use hookscope_engine::export::{self, ExportFormat};
use hookscope_engine::store::{NotificationFilter, VerdictFilter};
use hookscope_engine::Engine;

use super::{ExportArgs, ExportFormatArg, VerdictArg};

pub async fn run(engine: &Engine, args: ExportArgs) -> anyhow::Result<()> {
    let filter = NotificationFilter {
        subscription_id: args.subscription,
        change_type: args.change_type,
        verdict: args.verdict.map(|v| match v {
            VerdictArg::Accepted => VerdictFilter::Accepted,
            VerdictArg::Rejected => VerdictFilter::Rejected,
            VerdictArg::Duplicate => VerdictFilter::Duplicate,
            VerdictArg::Decrypted => VerdictFilter::Decrypted,
            VerdictArg::TokensInvalid => VerdictFilter::TokensInvalid,
            VerdictArg::Lifecycle => VerdictFilter::Lifecycle,
            VerdictArg::Replayed => VerdictFilter::Replayed,
        }),
        text: args.search,
        since: args.since,
        until: None,
    };
    // Before the output file is made: a refused `--since` leaves no empty file behind.
    filter.check()?;
    let format = match args.format {
        ExportFormatArg::Jsonl => ExportFormat::Jsonl,
        ExportFormatArg::Har => ExportFormat::Har,
    };
    // The receiver's root for the HAR's URLs: the running one's, else the default port's.
    // Only a label here, nothing is sent to it: the recorded announcement is enough.
    let base =
        hookscope_engine::announcement::recorded_receiver(&engine.config().announcement_path())
            .map(|running| running.urls.local_url)
            .unwrap_or_else(|| {
                format!(
                    "http://127.0.0.1:{}",
                    hookscope_engine::config::DEFAULT_PORT
                )
            });
    let sink: Box<dyn std::io::Write + Send> = match &args.out {
        // The export holds the same bodies and clientStates as the database: owner-only like it.
        Some(path) => Box::new(
            hookscope_engine::privacy::create_file(path).map_err(|error| {
                anyhow::anyhow!(
                    "Cannot write {} ({error}); check the folder exists and is writable.",
                    path.display()
                )
            })?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut out = std::io::BufWriter::new(sink);
    let summary = export::export(engine, &filter, format, &base, &mut out).await?;
    if let Some(path) = &args.out {
        super::output::error_line(format_args!(
            "Exported {} notifications from {} requests to {}.",
            summary.notifications,
            summary.requests,
            path.display()
        ));
    }
    Ok(())
}
