//! `kill -9` in the middle of a load: every notification that got a 2xx is in the store afterwards.
//! The real binary, real HTTP, a real SQLite file; repeated so a lucky timing cannot pass it.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{hookscope, item, json_lines, Listener};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_notification_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();

    for round in 0..5 {
        let listener = Listener::spawn(dir.path(), &[]);
        let url = format!("{}/notifications", listener.local_url);
        let mut tasks = Vec::new();
        for worker in 0..16 {
            let (http, url, acknowledged) = (http.clone(), url.clone(), acknowledged.clone());
            tasks.push(tokio::spawn(async move {
                for n in 0.. {
                    let ids: Vec<String> = (0..1 + (n % 5))
                        .map(|i| format!("r{round}-w{worker}-n{n}-i{i}"))
                        .collect();
                    let items: Vec<_> = ids.iter().map(|id| item("sub-durable", id)).collect();
                    let body = json!({ "value": items }).to_string();
                    let sent = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status().is_success() => {
                            acknowledged.lock().unwrap().extend(ids)
                        }
                        _ => return n, // the process is gone
                    }
                }
                unreachable!()
            }));
        }
        tokio::time::sleep(Duration::from_millis(300 + 150 * round as u64)).await;
        let mut listener = listener;
        listener.child.kill().expect("SIGKILL"); // kill -9: no flush, no shutdown hook
        listener.child.wait().unwrap();
        let mut sent = 0;
        for task in tasks {
            sent += task.await.unwrap();
        }
        assert!(sent > 0, "round {round}: the load reached the receiver");
    }

    let (code, out, err) = hookscope(dir.path(), &["notifications", "--json", "--limit", "0"]);
    assert_eq!(code, 0, "{err}");
    let stored: HashSet<String> = json_lines(&out)
        .iter()
        .filter_map(|n| n["notificationId"].as_str().map(str::to_owned))
        .collect();
    let acknowledged = acknowledged.lock().unwrap();
    assert!(
        acknowledged.len() > 100,
        "enough load to mean something: {}",
        acknowledged.len()
    );
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .take(5)
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged notifications lost, e.g. {lost:?}",
        acknowledged
            .iter()
            .filter(|id| !stored.contains(*id))
            .count()
    );
    eprintln!(
        "{} acknowledged, {} stored across 5 kill -9 rounds",
        acknowledged.len(),
        stored.len()
    );
}
