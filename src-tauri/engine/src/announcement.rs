//! Reading and trusting the files a running process leaves in the data directory so another process
//! finds it (`receiver.json`, `simulator.json`). A file outlives a crash, and its loopback port may
//! since belong to any other program: an announcement is used only once its process is alive and its
//! URL proves to be the Hookscope part it names, so a stale one never gets a secret or a delivery.

use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::engine::Announcement;
use crate::simulator::SimulatorAnnouncement;

/// How long a trust probe waits: both sides are on loopback, so anything slower is not the announced
/// process answering (and a person waits on every command that asks).
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The announcement in this file, as written; None when there is none or it is not whole.
pub fn read<T: DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Whether a process with this id runs. Only Linux can tell cheaply without another dependency; other
/// systems say yes and rely on the URL probe that always follows.
pub fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The receiver announced in `path` when its process runs, without asking it anything: for labels
/// only (an export's URLs), never for sending anything to it.
pub fn recorded_receiver(path: &Path) -> Option<Announcement> {
    read::<Announcement>(path).filter(|found| process_alive(found.pid))
}

/// The receiver announced in `path`, once its process runs and its local URL answers Graph's
/// validation handshake (the receiver records the probe as a handshake, like any other request).
pub async fn receiver(path: &Path) -> Option<Announcement> {
    let found = recorded_receiver(path)?;
    answers(&found).await.then_some(found)
}

/// Whether the announced receiver's local URL answers Graph's validation handshake.
pub async fn answers(found: &Announcement) -> bool {
    let Some(http) = loopback_client() else {
        return false;
    };
    let target = format!(
        "{}{}",
        found.urls.local_url,
        crate::receiver::NOTIFICATIONS_PATH
    );
    crate::simulator::probe_handshake(&http, &target, PROBE_TIMEOUT)
        .await
        .is_ok()
}

/// The simulator announced in `data_dir`, once its process runs and an unauthenticated `GET
/// /_simulator` at its URL answers as that very simulator (same URL, tenant and app): only then may
/// a client secret go to its login URL.
pub async fn simulator(data_dir: &Path) -> Option<SimulatorAnnouncement> {
    let found: SimulatorAnnouncement = read(&crate::simulator::announcement_path(data_dir))?;
    if !process_alive(found.pid) {
        return None;
    }
    let http = loopback_client()?;
    let answer = http
        .get(format!(
            "{}/_simulator",
            found.graph_url.trim_end_matches('/')
        ))
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let info: serde_json::Value = answer.json().await.ok()?;
    let same = info["graphUrl"].as_str() == Some(found.graph_url.as_str())
        && info["loginUrl"].as_str() == Some(found.login_url.as_str())
        && info["tenantId"].as_str() == Some(found.tenant_id.as_str())
        && info["clientId"].as_str() == Some(found.client_id.as_str());
    same.then_some(found)
}

/// Removes the announcement in `path` when this process wrote it (another live process may have
/// announced itself there since).
pub fn withdraw<T: DeserializeOwned>(path: &Path, pid: impl Fn(&T) -> u32) {
    if read::<T>(path).is_some_and(|found| pid(&found) == std::process::id()) {
        let _ = std::fs::remove_file(path);
    }
}

/// A client for the probes: no proxy (an announced URL is on this machine) and no redirects (the
/// answer must come from the announced port itself).
fn loopback_client() -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()
}
