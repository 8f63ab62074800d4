//! Hostile text never reaches the terminal: a delivery whose resource holds escape sequences
//! (`ESC ]0;title BEL` retitles a terminal, `ESC [2J` clears it), a CSI in its C1 form, a bidi override
//! and a line break is shown with those characters escaped by `listen`, `notifications` and the one-line
//! error, while `notifications --json` stays valid JSON that parses back to the exact string.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{hookscope, json_lines, BIN};
use serde_json::json;

/// What a delivery may carry: a title change, a screen clear, CSI as one C1 character, a right-to-left
/// override, a line break and a tab inside one field, DEL and NUL.
const HOSTILE: &str =
    "Users/u1/Messages/\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}evil\nnext\tcol\u{7f}\u{0}";
/// The same resource as `listen` and `notifications` must show it: visible, on one line.
const SHOWN: &str =
    r"Users/u1/Messages/\x1b]0;pwned\x07\x1b[2J\u{9b}31m\u{202e}evil\nnext\tcol\x7f\x00";

/// Characters a terminal acts on or reorders text by; none may appear in text output.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c < ' ' && c != '\n')
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
        .collect()
}

/// `hookscope listen` in text mode, as a person runs it, with its lines read on a thread.
struct TextListener {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl TextListener {
    fn spawn(data_dir: &std::path::Path) -> (TextListener, String) {
        let mut child = Command::new(BIN)
            .args(["listen", "--port", "0"])
            .env("HOOKSCOPE_DATA_DIR", data_dir)
            .env_remove("RUST_LOG")
            .env_remove("NGROK_AUTHTOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn hookscope listen");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Split on \n only, so a raw control character in a line would reach the assertions.
            for line in stdout.split(b'\n').map_while(Result::ok) {
                if sender
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        let mut listener = TextListener { child, lines };
        let first = listener.line_where(|l| l.starts_with("Listening on "));
        let url = first.trim_start_matches("Listening on ").to_owned();
        (listener, url)
    }

    /// The first line from now on that matches, within 20 s.
    fn line_where(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).expect("the line within 20 s");
            if wanted(&line) {
                return line;
            }
        }
    }
}

impl Drop for TextListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_a_delivery_are_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut listener, url) = TextListener::spawn(dir.path());

    let item = json!({
        "id": "n1",
        "subscriptionId": "sub-unknown",
        "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z",
        "changeType": "created",
        "clientState": "s3cret",
        "resource": HOSTILE,
        "tenantId": "tenant-1",
    });
    let answer = reqwest::Client::new()
        .post(format!("{url}/notifications"))
        .header("content-type", "application/json")
        .body(json!({ "value": [item] }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);

    let printed = listener.line_where(|l| l.contains("Users/u1/Messages/"));
    assert_eq!(raw_controls(&printed), Vec::<char>::new(), "{printed:?}");
    assert!(
        printed.contains(SHOWN),
        "listen shows it escaped: {printed:?}"
    );

    let (code, text, err) = hookscope(dir.path(), &["notifications"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(raw_controls(&text), Vec::<char>::new(), "{text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one notification, one line: {text:?}");
    assert!(lines[0].contains(SHOWN), "{:?}", lines[0]);
    assert!(lines[0].contains("rejected"), "{:?}", lines[0]);

    let (code, out, err) = hookscope(dir.path(), &["notifications", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        raw_controls(&out),
        Vec::<char>::new(),
        "JSON escapes them too: {out:?}"
    );
    let notes = json_lines(&out);
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0]["resource"].as_str(),
        Some(HOSTILE),
        "the exact string, byte for byte"
    );

    // A failure echoes what it was given; its one line is escaped like every other.
    let (code, out, err) = hookscope(dir.path(), &["replay", "x\u{1b}]0;pwned\u{7}"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "No delivery x\\x1b]0;pwned\\x07 here; `hookscope requests` and `hookscope notifications` show the ids.\n"
    );
}
