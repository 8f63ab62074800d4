//! The real `hookscope` binary as a child process on a temporary data directory.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_hookscope");

pub struct Listener {
    pub child: Child,
    /// Lines after the first, read on a thread so the child never blocks on a full pipe.
    pub lines: std::sync::mpsc::Receiver<String>,
    pub local_url: String,
    pub first: Value,
}

impl Listener {
    pub fn spawn(data_dir: &Path, extra: &[&str]) -> Listener {
        Self::spawn_with(data_dir, extra, &[])
    }

    /// With extra environment; no ngrok authtoken comes from the machine's own environment.
    pub fn spawn_with(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Listener {
        let mut child = Command::new(BIN)
            .args(["listen", "--port", "0", "--json"])
            .args(extra)
            .env("HOOKSCOPE_DATA_DIR", data_dir)
            .env_remove("RUST_LOG")
            .env_remove("NGROK_AUTHTOKEN")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn hookscope listen");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        lines.read_line(&mut first).expect("first line");
        let first: Value = serde_json::from_str(&first)
            .unwrap_or_else(|e| panic!("listening line {first:?}: {e}"));
        assert_eq!(first["type"], "listening");
        let local_url = first["localUrl"].as_str().unwrap().to_owned();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Listener {
            child,
            lines: receiver,
            local_url,
            first,
        }
    }

    pub fn next_event(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("an event line within 20 s");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("event {line:?}: {e}"))
    }

    /// SIGTERM, as Ctrl-C would: the listener flushes and exits 0.
    pub fn stop(mut self) -> std::process::ExitStatus {
        unsafe_kill(self.child.id(), 15);
        self.child.wait().unwrap()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn unsafe_kill(pid: u32, signal: i32) {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill");
}

/// Runs a one-shot command against the data directory: (exit code, stdout, stderr).
pub fn hookscope(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("HOOKSCOPE_DATA_DIR", data_dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?}: {e}")))
        .collect()
}

pub fn item(subscription: &str, id: &str) -> Value {
    serde_json::json!({
        "id": id,
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z",
        "changeType": "created",
        "clientState": "s3cret",
        "resource": format!("Users/u1/Messages/{id}"),
        "tenantId": "tenant-1",
        "resourceData": { "@odata.type": "#Microsoft.Graph.Message", "id": id }
    })
}

/// `hookscope simulate --fast-time` as a child process, announced in the data directory.
pub struct Simulator {
    child: Child,
    pub graph_url: String,
}

impl Simulator {
    pub fn spawn(data_dir: &std::path::Path) -> Simulator {
        let mut child = Command::new(BIN)
            .args(["simulate", "--port", "0", "--json", "--fast-time"])
            .env("HOOKSCOPE_DATA_DIR", data_dir)
            .env_remove("HOOKSCOPE_GRAPH_URL")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn hookscope simulate");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        lines.read_line(&mut first).unwrap();
        let first: Value =
            serde_json::from_str(&first).unwrap_or_else(|e| panic!("{first:?}: {e}"));
        assert_eq!(first["type"], "simulating");
        // Keep draining its delivery lines so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.lines().map_while(Result::ok) {});
        Simulator {
            child,
            graph_url: first["graphUrl"].as_str().unwrap().to_string(),
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
