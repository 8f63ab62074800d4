//! `hookscope replay ID [--to URL] [--body-file F] [--header 'Name: value']`: a stored delivery sent
//! again, to the running receiver (marked as a replay and linked to its original) or to any URL.

use hookscope_engine::relay::{self, ReplayEdits, ReplayTarget};
use hookscope_engine::Engine;

use super::output::json_line;
use super::ReplayArgs;

pub async fn run(engine: &Engine, args: ReplayArgs) -> anyhow::Result<()> {
    let mut edits = ReplayEdits::default();
    if let Some(path) = &args.body_file {
        edits.body = Some(
            std::fs::read_to_string(path)
                .map_err(|error| anyhow::anyhow!("Cannot read {}: {error}.", path.display()))?,
        );
    }
    for header in &args.headers {
        let (name, value) = header.split_once(':').ok_or_else(|| {
            anyhow::anyhow!("--header {header:?} needs the form 'Name: value' (an empty value removes the header).")
        })?;
        edits
            .headers
            .insert(name.trim().to_owned(), value.trim().to_owned());
    }
    let target = match args.to {
        Some(url) => ReplayTarget::Url(url),
        None => ReplayTarget::Receiver,
    };
    let outcome = relay::replay(engine, &args.id, &target, &edits).await?;
    let mut out = super::output::stdout();
    if args.json {
        json_line(&mut out, Some("replayed"), &outcome)?;
    } else {
        out.line(format_args!(
            "Replayed {}{} to {}: answered {} in {:.1} ms{}",
            outcome.original_request_id,
            if outcome.edited { " (edited)" } else { "" },
            outcome.url,
            outcome.status,
            outcome.latency_ms,
            outcome
                .request_id
                .as_deref()
                .map(|id| format!("; stored as request {id}"))
                .unwrap_or_default()
        ))?;
    }
    Ok(())
}
