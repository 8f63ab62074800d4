//! How the command line prints records: JSON Lines with a `type` for `listen`, bare records for lists,
//! and short aligned text lines for people. Everything it writes to the terminal passes through here
//! and is escaped (`hookscope_engine::model::printable`): payloads, headers and Graph's answers are
//! hostile text and must never reach the terminal as control sequences.

use std::fmt::Display;
use std::io::Write;

use hookscope_engine::model::printable;
use hookscope_engine::model::{Notification, RequestRecord, Verdict};
use serde::Serialize;

/// A writer that escapes what passes through it. `write!`/`writeln!` keep their line breaks (a block of
/// text, a multi-line summary); `line` writes one record as exactly one line, its own line breaks
/// escaped too.
pub struct Terminal<W: Write> {
    inner: W,
    /// The first bytes of a character split across two writes.
    partial: Vec<u8>,
}

/// Standard output, escaped.
pub fn stdout() -> Terminal<std::io::StdoutLock<'static>> {
    Terminal::new(std::io::stdout().lock())
}

impl<W: Write> Terminal<W> {
    pub fn new(inner: W) -> Self {
        Terminal {
            inner,
            partial: Vec::new(),
        }
    }

    /// One record, one line: every control character in it shown as an escape, then the line break.
    pub fn line(&mut self, text: impl Display) -> std::io::Result<()> {
        self.write_partial()?;
        let text = text.to_string();
        self.inner
            .write_all(printable::escape_field(&text).as_bytes())?;
        self.inner.write_all(b"\n")
    }

    /// Bytes that never became a whole character are shown as bytes.
    fn write_partial(&mut self) -> std::io::Result<()> {
        for byte in std::mem::take(&mut self.partial) {
            write!(self.inner, "\\x{byte:02x}")?;
        }
        Ok(())
    }
}

impl<W: Write> Terminal<W> {
    fn write_escaped(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        loop {
            match std::str::from_utf8(bytes) {
                Ok(text) => {
                    return self
                        .inner
                        .write_all(printable::escape_text(text).as_bytes())
                }
                Err(error) => {
                    let (valid, rest) = bytes.split_at(error.valid_up_to());
                    // Checked by from_utf8 just now.
                    let valid = std::str::from_utf8(valid).unwrap_or_default();
                    self.inner
                        .write_all(printable::escape_text(valid).as_bytes())?;
                    match error.error_len() {
                        Some(invalid) => {
                            for byte in &rest[..invalid] {
                                write!(self.inner, "\\x{byte:02x}")?;
                            }
                            bytes = &rest[invalid..];
                        }
                        None => {
                            // A character cut by the end of this write: wait for its other bytes.
                            self.partial.extend_from_slice(rest);
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}

impl<W: Write> Write for Terminal<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.partial.is_empty() {
            self.write_escaped(buf)?;
        } else {
            let mut joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(buf);
            self.write_escaped(&joined)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for Terminal<W> {
    fn drop(&mut self) {
        let _ = self.write_partial();
    }
}

/// One line on stderr (a failure, a notice), escaped like every other line.
pub fn error_line(text: impl Display) {
    let mut err = Terminal::new(std::io::stderr().lock());
    let _ = err.line(text);
    let _ = err.flush();
}

/// Writes one JSON object per line; `kind` becomes the `type` field when given.
pub fn json_line(
    out: &mut impl Write,
    kind: Option<&str>,
    record: &impl Serialize,
) -> std::io::Result<()> {
    let mut value = serde_json::to_value(record).map_err(std::io::Error::other)?;
    if let (Some(kind), Some(object)) = (kind, value.as_object_mut()) {
        object.insert(
            "type".to_owned(),
            serde_json::Value::String(kind.to_owned()),
        );
    }
    printable::write_json(&mut *out, &value).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// `12:00:01.123` out of an RFC 3339 timestamp.
fn clock(at: &str) -> &str {
    at.get(11..23).unwrap_or(at)
}

pub fn notification_text(n: &Notification) -> String {
    let what = match (&n.change_type, &n.lifecycle_event) {
        (Some(change), _) => change.clone(),
        (None, Some(event)) => format!("lifecycle:{event}"),
        (None, None) => "?".to_owned(),
    };
    let mut line = format!(
        "{}  {:<8}  {:<24}  {}  sub {}",
        clock(&n.received_at),
        n.verdict.as_str(),
        what,
        n.resource.as_deref().unwrap_or("-"),
        n.subscription_id.as_deref().unwrap_or("-"),
    );
    if n.duplicate {
        line.push_str("  (duplicate)");
    }
    if n.decrypted.is_some() {
        line.push_str("  (decrypted)");
    }
    if let (Verdict::Rejected, Some(reason)) = (n.verdict, &n.reason) {
        line.push_str("  — ");
        line.push_str(reason);
    }
    line
}

pub fn request_text(r: &RequestRecord) -> String {
    let latency = r
        .latency_ms
        .map(|ms| format!("{ms:.2} ms"))
        .unwrap_or_else(|| "-".to_owned());
    let path = match &r.query {
        Some(query) => format!("{}?{}", r.path, query),
        None => r.path.clone(),
    };
    format!(
        "{}  {:<7} {:<40}  {}  {:<13}  {:>9}  {}",
        clock(&r.received_at),
        r.method,
        path,
        r.status,
        r.kind.as_str(),
        latency,
        r.response.lines().next().unwrap_or("")
    )
}

/// `6d 23h 59m` until an RFC 3339 instant, or `expired`.
pub fn time_left(expiry: &str) -> String {
    match hookscope_engine::clock::parse_rfc3339(expiry) {
        Some(at) if at > hookscope_engine::clock::now_micros() => {
            let seconds = (at - hookscope_engine::clock::now_micros()) / 1_000_000;
            hookscope_engine::subscriptions::describe(seconds as u64)
        }
        Some(_) => "expired".to_owned(),
        None => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::Terminal;

    fn through(write: impl FnOnce(&mut Terminal<&mut Vec<u8>>)) -> String {
        let mut out = Vec::new();
        write(&mut Terminal::new(&mut out));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_line_is_one_line_whatever_it_holds() {
        let shown = through(|t| t.line("sub\u{1b}]0;pwned\u{7} a\nb\u{9b}2J").unwrap());
        assert_eq!(shown, "sub\\x1b]0;pwned\\x07 a\\nb\\u{9b}2J\n");
    }

    #[test]
    fn written_text_keeps_its_line_breaks_and_escapes_the_rest() {
        let shown = through(|t| {
            writeln!(t, "Listening on {}", "http://x\u{1b}[2J").unwrap();
            write!(t, "line\r\u{202e}two\n").unwrap();
        });
        assert_eq!(
            shown,
            "Listening on http://x\\x1b[2J\nline\\r\\u{202e}two\n"
        );
    }

    #[test]
    fn a_character_split_across_writes_is_kept_whole_and_bad_bytes_are_shown_as_bytes() {
        let csi = "\u{9b}".as_bytes();
        let e_acute = "é".as_bytes();
        let shown = through(|t| {
            t.write_all(&[b'a', csi[0]]).unwrap();
            t.write_all(&[csi[1], e_acute[0]]).unwrap();
            t.write_all(&[e_acute[1], 0xff, b'z']).unwrap();
            t.write_all(&[0xc3]).unwrap();
        });
        // The last byte never became a character: shown as a byte when the writer goes.
        assert_eq!(shown, "a\\u{9b}é\\xffz\\xc3");
    }
}
