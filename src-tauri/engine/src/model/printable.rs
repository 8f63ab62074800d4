//! Text from the network made safe to show. Every byte of a delivery, its headers and Graph's answers
//! is hostile once the receiver is public: a resource holding `ESC ]0;… BEL` or `ESC [2J` would retitle
//! or clear the terminal that prints it, a bidi override would make a line read as something else. Here
//! is the one definition of what is escaped and how it looks, for every front: control characters
//! (C0, DEL, C1) and the bidi embeddings, overrides and isolates, shown as `\x1b`, `\n`, `\u{9b}`,
//! `\u{202e}`. JSON output keeps the exact strings, written with `\u` escapes instead of raw.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether showing `c` raw could act on a terminal or reorder what is shown around it.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'              // C0: ESC, BEL, BS, CR, LF, TAB, …
        | '\u{7f}'..='\u{9f}'           // DEL and C1 (U+009B is CSI on terminals that read C1)
        | '\u{202a}'..='\u{202e}'       // bidi embeddings and overrides
        | '\u{2066}'..='\u{2069}'       // bidi isolates
    )
}

/// One field on one line: every unsafe character escaped, line breaks and tabs too, so one record is
/// always one line.
pub fn escape_field(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// A block of text that may span lines: like `escape_field`, but `\n` stays a line break.
pub fn escape_text(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let must_escape = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    let Some(first) = text.find(must_escape) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if !must_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// A `serde_json` formatter that writes DEL, C1 and the bidi controls inside strings as `\u` escapes.
/// JSON allows them raw, and `serde_json` writes them raw (it escapes only below U+0020), so a
/// `--json` line read on a terminal could still carry a CSI; escaped, the line stays the same JSON
/// value and parses back to the exact string.
#[derive(Debug, Clone, Copy, Default)]
pub struct SafeJson;

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> std::io::Result<()>
    where
        W: ?Sized + std::io::Write,
    {
        write_json_escaped(writer, fragment)
    }

    fn write_raw_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> std::io::Result<()>
    where
        W: ?Sized + std::io::Write,
    {
        // Raw JSON (a stored item as delivered) can hold these only inside strings, where the escape
        // means the same character; its whitespace (`\n`, `\t`) is C0 and left alone.
        write_json_escaped(writer, fragment)
    }
}

fn write_json_escaped<W>(writer: &mut W, fragment: &str) -> std::io::Result<()>
where
    W: ?Sized + std::io::Write,
{
    let mut start = 0;
    for (at, c) in fragment.char_indices() {
        if is_unsafe(c) && c as u32 >= 0x7f {
            writer.write_all(&fragment.as_bytes()[start..at])?;
            write!(writer, "\\u{:04x}", c as u32)?;
            start = at + c.len_utf8();
        }
    }
    writer.write_all(&fragment.as_bytes()[start..])
}

/// Writes `value` as JSON through `SafeJson`.
pub fn write_json<W, T>(out: W, value: &T) -> serde_json::Result<()>
where
    W: std::io::Write,
    T: serde::Serialize + ?Sized,
{
    value.serialize(&mut serde_json::Serializer::with_formatter(out, SafeJson))
}

/// `value` as one line of JSON through `SafeJson`.
pub fn to_json_line<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    write_json(&mut out, value)?;
    // The formatter writes only what `serde_json` and `write_json_escaped` wrote: valid UTF-8.
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "Users/u1/Messages/\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}evil\u{2066}\n\tx\r\u{7f}\u{0}";

    #[test]
    fn a_field_shows_every_control_and_bidi_character_as_an_escape() {
        assert_eq!(
            escape_field(HOSTILE),
            "Users/u1/Messages/\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}31m\\u{202e}evil\\u{2066}\\n\\tx\\r\\x7f\\x00"
        );
    }

    #[test]
    fn text_keeps_its_line_breaks_and_escapes_the_rest() {
        assert_eq!(
            escape_text("line one\u{1b}[2J\nline two\t\u{85}\n"),
            "line one\\x1b[2J\nline two\\t\\u{85}\n"
        );
    }

    #[test]
    fn safe_text_is_borrowed_unchanged_including_non_latin_scripts() {
        let plain = "Users/ünïcode/Messages/日本語 — fine ⚠ \\x1b stays as typed";
        assert!(matches!(escape_field(plain), Cow::Borrowed(t) if t == plain));
        // The characters either side of each escaped range are ordinary text.
        assert_eq!(
            escape_field("\u{a0}\u{2029}\u{202f}\u{206a}"),
            "\u{a0}\u{2029}\u{202f}\u{206a}"
        );
    }

    #[test]
    fn json_escapes_del_c1_and_bidi_and_parses_back_to_the_exact_string() {
        // One key: the order of keys in a JSON object is not what this test is about.
        let value = serde_json::json!({ "k\u{9b}": [HOSTILE] });
        let line = to_json_line(&value).unwrap();
        assert_eq!(
            line,
            r#"{"k\u009b":["Users/u1/Messages/\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil\u2066\n\tx\r\u007f\u0000"]}"#
        );
        assert!(line.chars().all(|c| !is_unsafe(c)), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, value);
        assert_eq!(back["k\u{9b}"][0].as_str().unwrap(), HOSTILE);
    }

    #[test]
    fn raw_json_is_escaped_inside_its_strings_and_keeps_its_whitespace() {
        let raw = serde_json::value::RawValue::from_string(
            "{\n\t\"resource\": \"a\u{9b}b\u{202e}c\"\n}".to_string(),
        )
        .unwrap();
        let line = to_json_line(&raw).unwrap();
        assert_eq!(line, "{\n\t\"resource\": \"a\\u009bb\\u202ec\"\n}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["resource"], "a\u{9b}b\u{202e}c");
    }
}
