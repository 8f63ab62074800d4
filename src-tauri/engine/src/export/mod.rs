//! Export: the stored notifications a filter selects, as JSON Lines (one notification per line, the
//! shape `hookscope notifications --json` prints) or as a HAR 1.2 log of the requests that carried them
//! (what browsers' and ngrok's inspectors import). Both stream page by page, so 100k rows never sit in
//! memory at once.

mod har;

use std::collections::{HashMap, HashSet};
use std::io::Write;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::RequestRecord;
use crate::store::{NotificationFilter, NotificationQuery};
use crate::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    Jsonl,
    Har,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Har => "har",
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ExportSummary {
    pub notifications: u64,
    /// HAR entries (requests); for JSON Lines, the requests the notifications came in.
    pub requests: u64,
    /// Where the file is, when the export went to a file.
    pub path: Option<String>,
}

const PAGE: u32 = 1000;
const REQUESTS_PER_READ: usize = 32;

/// Writes the export to `out`. `base_url` is the receiver's root, for the HAR's request URLs.
pub async fn export(
    engine: &Engine,
    filter: &NotificationFilter,
    format: ExportFormat,
    base_url: &str,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<ExportSummary> {
    // Before a HAR's opening is written: a refused filter leaves no half an export behind.
    filter.check()?;
    let mut summary = ExportSummary {
        notifications: 0,
        requests: 0,
        path: None,
    };
    let mut requests = HashSet::new();
    let mut har = match format {
        ExportFormat::Har => Some(har::Writer::start(out)?),
        ExportFormat::Jsonl => None,
    };
    let mut before = None;
    loop {
        let page = engine
            .notifications(&NotificationQuery {
                limit: PAGE,
                before: before.clone(),
                filter: filter.clone(),
                ..NotificationQuery::default()
            })
            .await?;
        summary.notifications += page.items.len() as u64;
        // Each request once, where its first notification stands.
        let first: Vec<&str> = page
            .items
            .iter()
            .filter(|n| requests.insert(n.request_id.clone()))
            .map(|n| n.request_id.as_str())
            .collect();
        match &mut har {
            None => {
                for n in &page.items {
                    crate::model::printable::write_json(&mut *out, n)?;
                    out.write_all(b"\n")?;
                }
            }
            Some(writer) => {
                // A few requests a read: far fewer queries than one each, while a body can be up to the
                // receiver's limit (8 MiB by default), so not a whole page of them in memory at once.
                for ids in first.chunks(REQUESTS_PER_READ) {
                    let mut found: HashMap<String, RequestRecord> = engine
                        .store()
                        .requests_by_id(ids)
                        .await?
                        .into_iter()
                        .map(|r| (r.id.clone(), r))
                        .collect();
                    for id in ids {
                        if let Some(request) = found.remove(*id) {
                            writer.entry(out, &request, base_url)?;
                        }
                    }
                }
            }
        }
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    if let Some(writer) = har {
        writer.finish(out)?;
    }
    out.flush()?;
    summary.requests = requests.len() as u64;
    Ok(summary)
}

/// Exports to a new file in `dir` named after the time; returns where it went.
pub async fn export_to_dir(
    engine: &Engine,
    filter: &NotificationFilter,
    format: ExportFormat,
    base_url: &str,
    dir: &std::path::Path,
) -> anyhow::Result<ExportSummary> {
    crate::privacy::create_dir(dir).map_err(|error| {
        anyhow::anyhow!(
            "Cannot create {} ({error}); choose another folder.",
            dir.display()
        )
    })?;
    let stamp = crate::clock::rfc3339_millis(crate::clock::now_micros()).replace([':', '.'], "-");
    let path = dir.join(format!("hookscope-{stamp}.{}", format.extension()));
    // It holds the same bodies and clientStates as the database: owner-only like it.
    let file = crate::privacy::create_file(&path).map_err(|error| {
        anyhow::anyhow!(
            "Cannot write {} ({error}); check the folder is writable.",
            path.display()
        )
    })?;
    let mut out = std::io::BufWriter::new(file);
    match export(engine, filter, format, base_url, &mut out).await {
        Ok(mut summary) => {
            summary.path = Some(path.display().to_string());
            Ok(summary)
        }
        Err(error) => {
            // Half an export looks like a whole one in a file manager: remove it.
            drop(out);
            let _ = std::fs::remove_file(&path);
            Err(error)
        }
    }
}
