//! HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): each stored request as an entry with the
//! body byte for byte (base64 when it is not text), what Hookscope answered and how long it took.

use std::io::Write;

use serde_json::{json, Value};

use crate::model::RequestRecord;

pub struct Writer {
    first: bool,
}

impl Writer {
    pub fn start(out: &mut (dyn Write + Send)) -> anyhow::Result<Writer> {
        let creator = json!({ "name": "Hookscope", "version": env!("CARGO_PKG_VERSION") });
        write!(
            out,
            "{{\"log\":{{\"version\":\"1.2\",\"creator\":{creator},\"entries\":["
        )?;
        Ok(Writer { first: true })
    }

    pub fn entry(
        &mut self,
        out: &mut (dyn Write + Send),
        request: &RequestRecord,
        base_url: &str,
    ) -> anyhow::Result<()> {
        if !self.first {
            out.write_all(b",")?;
        }
        self.first = false;
        crate::model::printable::write_json(&mut *out, &entry(request, base_url))?;
        Ok(())
    }

    pub fn finish(self, out: &mut (dyn Write + Send)) -> anyhow::Result<()> {
        out.write_all(b"]}}\n")?;
        Ok(())
    }
}

fn entry(r: &RequestRecord, base_url: &str) -> Value {
    let url = match &r.query {
        Some(query) => format!("{}{}?{query}", base_url.trim_end_matches('/'), r.path),
        None => format!("{}{}", base_url.trim_end_matches('/'), r.path),
    };
    let headers: Vec<Value> = r
        .headers
        .iter()
        .map(|(name, value)| json!({ "name": name, "value": value.as_str().unwrap_or_default() }))
        .collect();
    let query: Vec<Value> = r
        .query
        .as_deref()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect()
        })
        .unwrap_or_default();
    let mime = r
        .headers
        .get("content-type")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    let mut post = json!({ "mimeType": mime });
    match (&r.body, &r.body_base64) {
        (Some(text), _) => post["text"] = json!(text),
        (None, Some(encoded)) => {
            post["text"] = json!(encoded);
            // HAR 1.2 has no postData encoding; custom fields start with an underscore.
            post["_encoding"] = json!("base64");
        }
        (None, None) => post["text"] = json!(""),
    }
    if r.body_truncated {
        post["comment"] = json!(format!(
            "Hookscope kept the first part of a {}-byte body.",
            r.body_size
        ));
    }
    let wait = r.latency_ms.unwrap_or(0.0);
    json!({
        "startedDateTime": r.received_at,
        "time": wait,
        "request": {
            "method": r.method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": headers,
            "queryString": query,
            "postData": post,
            "headersSize": -1,
            "bodySize": r.body_size,
        },
        "response": {
            "status": r.status,
            "statusText": reason(r.status),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "content": { "size": r.response.len(), "mimeType": "text/plain; charset=utf-8", "text": r.response },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": r.response.len(),
        },
        "cache": {},
        "timings": { "send": 0, "wait": wait, "receive": 0 },
        "comment": match &r.replay_of {
            Some(original) => format!("A replay of {original}."),
            None => String::new(),
        },
    })
}

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}
