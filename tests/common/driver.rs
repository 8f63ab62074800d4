//! tauri-driver on fresh ports with the app's data directory, for the end-to-end tests and the app
//! bench alike: both drive the real window the same way, so they start it the same way.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Driver {
    child: Child,
    /// Where WebDriver sessions are asked for.
    pub port: u16,
}

impl Driver {
    /// Starts tauri-driver for an app on `data`, with `env` added to what the app sees.
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Driver {
        // Fresh ports each run, so a driver left over from an aborted run cannot answer for this one.
        let (port, native_port) = (free_port(), free_port());
        let child = Command::new(tauri_driver())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("HOOKSCOPE_DATA_DIR", data)
            .env("HOOKSCOPE_PORT", "0")
            // Nothing here reads the screen; skipping the accessibility bus removes one slow activation.
            .env("NO_AT_BRIDGE", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver runs (scripts/setup.sh installs it)");
        Driver { child, port }
    }

    /// tauri-driver's process: the app and WebKit's processes are among its descendants.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SIGTERM lets tauri-driver stop WebKitWebDriver and the app; SIGKILL would orphan them.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn tauri_driver() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    let local = format!("{home}/.cargo/bin/tauri-driver");
    if Path::new(&local).exists() {
        local
    } else {
        "tauri-driver".to_owned()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
