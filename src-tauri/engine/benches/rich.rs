//! Rich-notification benchmark: decryptions per second on one core (RSA-2048 and RSA-4096 keys; the
//! receiver's AWS-LC path, the pure-Rust reference, and OpenSSL's raw private-key rate as the baseline
//! Microsoft's Node sample runs on), and the receiver's throughput on real rich
//! batches from the simulator (tokens checked, every item decrypted, stored durably) side by side
//! with plain batches of the same size in the same run.
//!
//! `cargo bench -p hookscope-engine --bench rich` (add `-- --quick` for a short run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookscope_engine::graph::{AppCredentials, GraphClient};
use hookscope_engine::rich::{self, EncryptionKey};
use hookscope_engine::simulator::{self, SimulatorOptions, TriggerSpec};
use hookscope_engine::store::RequestQuery;
use hookscope_engine::subscriptions::{self, Lifetime, SubscribeRequest};
use hookscope_engine::{Engine, EngineConfig, ReceiverOptions};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ITEMS: usize = 10;

/// How many times `work` runs in `duration` on this thread, per second.
fn rate(duration: Duration, mut work: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        work();
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// OpenSSL's RSA private-key operations per second on one core (`openssl speed`), the engine behind
/// Node's `crypto.privateDecrypt` in Microsoft's samples; None when openssl is not installed.
fn openssl_private_ops(bits: usize, seconds: u64) -> Option<f64> {
    let out = std::process::Command::new("openssl")
        .args([
            "speed",
            "-mr",
            "-seconds",
            &seconds.to_string(),
            &format!("rsa{bits}"),
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // OpenSSL 3: `+F2:<n>:<bits>:<signs per second>:<verifies per second>`
    text.lines()
        .find(|l| l.starts_with("+F2:"))
        .and_then(|l| l.split(':').nth(3))
        .and_then(|t| t.parse::<f64>().ok())
}

fn decryption(bits: usize, duration: Duration) {
    let key = EncryptionKey::generate("bench", bits).unwrap();
    let plaintext = br##"{"@odata.type":"#microsoft.graph.chatMessage","id":"1616990032035","body":{"contentType":"text","content":"Hello World"}}"##;
    let content = rich::encrypt(plaintext, &key.public_certificate(), "bench").unwrap();
    let receiver = rate(duration, || {
        std::hint::black_box(rich::decrypt_with(&content, &key).unwrap());
    });
    let reference = rate(duration, || {
        std::hint::black_box(rich::decrypt(&content, key.private_key()).unwrap());
    });
    let openssl = openssl_private_ops(bits, duration.as_secs().max(1))
        .map(|ops| format!("{ops:.0}"))
        .unwrap_or_else(|| "n/a".into());
    println!("| RSA-{bits} | {receiver:>8.0} | {reference:>8.0} | {openssl:>8} |");
}

/// A subscription at the simulator pointed at `engine`'s receiver, and one real delivery of `ITEMS`
/// items captured from the store: its body is what the load replays.
async fn captured_batch(
    sim: &simulator::RunningSimulator,
    engine: &Engine,
    graph: &GraphClient,
    rich: bool,
    resource: &str,
) -> Vec<u8> {
    let created = subscriptions::subscribe(
        engine,
        graph,
        &SubscribeRequest {
            resource: resource.into(),
            change_types: "created".into(),
            lifetime: Lifetime::parse("1h").unwrap(),
            rich,
            lifecycle: true,
            auto_renew: false,
            notification_url: None,
        },
    )
    .await
    .unwrap();
    sim.trigger(TriggerSpec {
        subscription_id: Some(created.id.clone()),
        rich,
        count: Some(ITEMS as u32),
        ..TriggerSpec::default()
    })
    .await
    .unwrap();
    let record = engine
        .requests(&RequestQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.path == "/notifications" && r.status == 202)
        .expect("the delivery was stored");
    record.body.unwrap().into_bytes()
}

/// Closed-loop load of one body over `connections` keep-alive connections.
async fn load(url: &str, body: Vec<u8>, connections: usize, duration: Duration) -> (f64, f64) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let body = bytes::Bytes::from(body);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, body) = (client.clone(), url.to_owned(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                let answer = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 202);
                done += 1;
            }
            done
        }));
    }
    let mut requests = 0;
    for task in tasks {
        requests += task.await.unwrap();
    }
    let rps = requests as f64 / started.elapsed().as_secs_f64();
    (rps, rps * ITEMS as f64)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let secs = Duration::from_secs(if quick { 1 } else { 4 });
    println!("Decryptions per second on one core (a fresh key per item, as Graph sends them):\n");
    println!("| key | Hookscope's receiver (AWS-LC) decrypt/s | pure-Rust reference decrypt/s | OpenSSL private-key ops/s (baseline) |");
    println!("|---|---:|---:|---:|");
    decryption(2048, secs);
    decryption(4096, secs);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sim = simulator::start(SimulatorOptions::new(true)).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(EngineConfig::new(dir.path())).await.unwrap();
        let listening = engine
            .listen(&ReceiverOptions {
                port: 0,
                ..Default::default()
            })
            .await
            .unwrap();
        let app = sim.options().app.clone();
        let graph = Arc::new(
            GraphClient::new(AppCredentials {
                graph_url: sim.url().to_string(),
                login_url: sim.url().to_string(),
                tenant_id: app.tenant_id,
                client_id: app.client_id,
                client_secret: app.client_secret,
                delegated: None,
            })
            .unwrap(),
        );
        let plain = captured_batch(&sim, &engine, &graph, false, "/teams/getAllChannels").await;
        let rich = captured_batch(&sim, &engine, &graph, true, "/teams/getAllMessages").await;
        let url = listening.urls().notification_url.clone();
        println!(
            "\nReceiver, {ITEMS}-item batches from the simulator, 8 connections, durable (FULL):\n"
        );
        println!("| batch | req/s | notifications/s |");
        println!("|---|---:|---:|");
        for (name, body) in [
            ("plain (baseline)", plain),
            ("rich: tokens checked, every item decrypted", rich),
        ] {
            let (rps, nps) = load(&url, body, 8, secs * 2).await;
            println!("| {name} | {rps:.0} | {nps:.0} |");
        }
        listening.stop().await;
        engine.close().await;
    });
}
