//! The engine's settings and where its data lives, resolved once so every front (app, command line,
//! tests) agrees on the same data directory and defaults.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How hard a commit tries to survive a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the WAL on every commit: an acknowledged notification survives a power cut.
    Full,
    /// fsync only at checkpoints: survives a crash of Hookscope, may lose the last commits on a power cut.
    Normal,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub data_dir: PathBuf,
    pub durability: Durability,
    /// How long a write waits for another process's lock before the store reports it cannot persist.
    pub busy_timeout: Duration,
}

impl EngineConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            durability: Durability::Full,
            busy_timeout: Duration::from_secs(5),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("hookscope.sqlite3")
    }

    /// Where a running receiver announces its URLs, so a second process can find it.
    pub fn announcement_path(&self) -> PathBuf {
        self.data_dir.join("receiver.json")
    }
}

/// The platform's app-data directory (`~/.local/share/hookscope` on Linux), the default data directory of
/// both the app and the command line.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "hookscope", "hookscope")
        .map(|dirs| dirs.data_dir().to_path_buf())
}

/// Resolves the data directory: an explicit choice, else `HOOKSCOPE_DATA_DIR`, else the platform default.
pub fn resolve_data_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("HOOKSCOPE_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    default_data_dir().ok_or_else(|| {
        anyhow::anyhow!("Cannot find a home directory for Hookscope's data; set HOOKSCOPE_DATA_DIR or pass --data-dir.")
    })
}

pub const DEFAULT_PORT: u16 = 7878;
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;
/// Graph batches a few dozen items at most; a thousand is far above anything it sends and still a
/// request the receiver judges and stores in milliseconds (docs/public-edge.md).
pub const DEFAULT_MAX_ITEMS: usize = 1_000;
/// Graph opens a handful of connections at a time; each one costs a task and its buffers.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// From a connection's start, or from the end of its last answer, to a complete request head: so it is
/// the keep-alive idle timeout too (hyper runs one clock for both).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// From the request head to the body's last byte. Graph sends a batch in one go; 8 MiB takes under a
/// second even on a slow uplink.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Bodies being read at once, all connections together; a delivery past it waits for room, then is
/// answered 503 so Graph retries. Never below one body at the size limit.
pub const DEFAULT_BODY_BUDGET: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ReceiverOptions {
    pub bind: IpAddr,
    /// `0` picks any free port.
    pub port: u16,
    /// Where the receiver's root is reachable from outside (a tunnel or proxy), if anywhere.
    pub public_url: Option<String>,
    /// Larger bodies are answered 413 (and still recorded, truncated).
    pub body_limit: usize,
    /// Batches with more items are answered 413 before any item is judged.
    pub max_items: usize,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// See [`DEFAULT_HEADER_TIMEOUT`].
    pub header_timeout: Duration,
    /// See [`DEFAULT_BODY_TIMEOUT`].
    pub body_timeout: Duration,
    /// See [`DEFAULT_BODY_BUDGET`].
    pub body_budget: usize,
    /// Hand each accepted delivery on to the user's app (`--forward-to`).
    pub relay: Option<crate::relay::RelayOptions>,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            public_url: None,
            body_limit: DEFAULT_BODY_LIMIT,
            max_items: DEFAULT_MAX_ITEMS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            body_budget: DEFAULT_BODY_BUDGET,
            relay: None,
        }
    }
}
