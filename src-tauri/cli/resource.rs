//! `hookscope resource ID [--select a,b]`: the resource a stored notification named, read from Graph as
//! it is now (basic notifications carry only ids; this is the read that usually follows).

use std::io::Write;

use hookscope_engine::graph::resource;
use hookscope_engine::Engine;

use super::output::json_line;
use super::{graph, Global, ResourceArgs};

pub async fn run(engine: &Engine, global: &Global, args: ResourceArgs) -> anyhow::Result<()> {
    // The notification is looked up first: a wrong id says so even without Graph credentials.
    let target = resource::target(engine, &args.id, &args.select)
        .await
        .map_err(anyhow::Error::msg)?;
    let client = graph::client(engine, global).await?;
    let current = client
        .fetch_resource(&target.path, target.select.as_deref())
        .await?;
    let mut out = super::output::stdout();
    if args.json {
        json_line(&mut out, None, &current)?;
    } else {
        writeln!(out, "{}", current.body)?;
        super::output::error_line(format_args!(
            "GET {} in {:.0} ms",
            current.url, current.elapsed_ms
        ));
    }
    Ok(())
}
