//! Ingest benchmark: Hookscope's durable receiver side by side with a bare axum handler (the ceiling)
//! and Express as in Microsoft's samples (in memory, no persistence), on loopback, in one run.
//!
//! `cargo bench -p hookscope-engine --bench ingest` (add `-- --quick` for a short run). The load generator
//! is written here: N keep-alive HTTP/1.1 connections, each sending its next request as soon as the last
//! was answered (closed loop), or paced to a fixed rate (open loop) for the latency-at-rate figure.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hookscope_engine::model::{Subscription, SubscriptionStatus};
use hookscope_engine::{Durability, Engine, EngineConfig, ReceiverOptions};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use serde_json::json;

// The same allocator as the `hookscope` binary, so the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Figures {
    requests: u64,
    notifications: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    errors: u64,
}

impl Figures {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    fn nps(&self) -> f64 {
        self.notifications as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index] as f64 / 1000.0
    }
}

fn batch(items: usize, serial: &mut u64) -> Bytes {
    let value: Vec<_> = (0..items)
        .map(|_| {
            *serial += 1;
            json!({
                "id": format!("n{serial}"),
                "subscriptionId": "bench-sub",
                "subscriptionExpirationDateTime": "2030-01-01T00:00:00.0000000Z",
                "changeType": "created",
                "clientState": "s3cret",
                "resource": format!("Users/7b2f/Messages/AAMk{serial}"),
                "tenantId": "bench-tenant",
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Message",
                    "@odata.id": format!("Users/7b2f/Messages/AAMk{serial}"),
                    "@odata.etag": "W/\"CQAAABYAAAD\"",
                    "id": format!("AAMk{serial}")
                }
            })
        })
        .collect();
    Bytes::from(json!({ "value": value }).to_string())
}

/// Runs `connections` keep-alive connections for `duration`; `pace` spaces each connection's requests.
async fn load(
    addr: SocketAddr,
    path: &str,
    connections: usize,
    items: usize,
    duration: Duration,
    pace: Option<Duration>,
) -> Figures {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let path = path.to_owned();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).ok();
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
                .await
                .expect("handshake");
            tokio::spawn(conn);
            let mut serial = (c as u64) << 40;
            // Bodies are built ahead so the generator spends its CPU on sending, not on JSON.
            let bodies: Vec<Bytes> = (0..64).map(|_| batch(items, &mut serial)).collect();
            let (mut requests, mut errors, mut latencies) = (0u64, 0u64, Vec::new());
            let mut next = Instant::now();
            while Instant::now() < deadline {
                if let Some(pace) = pace {
                    next += pace;
                    tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
                }
                let body = bodies[requests as usize % bodies.len()].clone();
                let request = Request::post(path.as_str())
                    .header("host", "127.0.0.1")
                    .header("content-type", "application/json; charset=utf-8")
                    .body(Full::new(body))
                    .unwrap();
                if sender.ready().await.is_err() {
                    errors += 1;
                    break;
                }
                let sent = Instant::now();
                match sender.send_request(request).await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        let _ = response.into_body().collect().await;
                        latencies.push(sent.elapsed().as_micros() as u32);
                        if ok {
                            requests += 1
                        } else {
                            errors += 1
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (requests, errors, latencies)
        }));
    }
    let mut figures = Figures {
        requests: 0,
        notifications: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        errors: 0,
    };
    for task in tasks {
        let (requests, errors, latencies) = task.await.unwrap();
        figures.requests += requests;
        figures.errors += errors;
        figures.latencies_us.extend(latencies);
    }
    figures.elapsed = started.elapsed();
    figures.notifications = figures.requests * items as u64;
    figures
}

async fn ceiling() -> SocketAddr {
    let app = axum::Router::new().fallback(|body: Bytes| async move {
        std::hint::black_box(body);
        axum::http::StatusCode::ACCEPTED
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn hookscope(
    dir: &std::path::Path,
    durability: Durability,
) -> (Engine, hookscope_engine::engine::Listening, SocketAddr) {
    let mut config = EngineConfig::new(dir);
    config.durability = durability;
    let engine = Engine::open(config).await.unwrap();
    engine
        .put_subscription(Subscription {
            id: "bench-sub".into(),
            resource: "me/messages".into(),
            change_type: "created".into(),
            notification_url: "https://bench.invalid/notifications".into(),
            lifecycle_notification_url: None,
            expiration_date_time: "2030-01-01T00:00:00Z".into(),
            include_resource_data: false,
            client_state: Some("s3cret".into()),
            tenant_id: None,
            auto_renew: false,
            status: SubscriptionStatus::Active,
            last_error: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let listening = engine
        .listen(&ReceiverOptions {
            port: 0,
            ..Default::default()
        })
        .await
        .unwrap();
    // Watched, as the app's live feed (30 ms batches) and `listen` watch it: every commit becomes
    // records for a window. HOOKSCOPE_BENCH_UNWATCHED=1 leaves the bus without a subscriber.
    if std::env::var_os("HOOKSCOPE_BENCH_UNWATCHED").is_none() {
        let mut feed = hookscope_engine::feed::spawn(engine.events(), Duration::from_millis(30));
        tokio::spawn(async move { while feed.recv().await.is_some() {} });
    }
    let addr: SocketAddr = listening
        .urls()
        .local_url
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    (engine, listening, addr)
}

struct Express(Child, SocketAddr);

impl Drop for Express {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn express() -> Option<Express> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/express-receiver");
    if !dir.join("node_modules/express").exists() {
        eprintln!("(Express baseline skipped: run `npm ci --prefix bench/express-receiver` first)");
        return None;
    }
    let mut child = Command::new("node")
        .arg("server.js")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut()?),
        &mut line,
    )
    .ok()?;
    let port = serde_json::from_str::<serde_json::Value>(&line).ok()?["port"].as_u64()? as u16;
    Some(Express(child, SocketAddr::from(([127, 0, 0, 1], port))))
}

async fn handshakes(addr: SocketAddr, count: usize) -> Figures {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).ok();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(count);
    for n in 0..count {
        let uri = format!("/notifications?validationToken=Validation%3a+Testing+client+application+reachability+for+subscription+Request-Id%3a+{n:08}-0e8b-4521-8090-dd691b407ed8");
        let request = Request::post(uri)
            .header("host", "127.0.0.1")
            .header("content-type", "text/plain; charset=utf-8")
            .body(Full::new(Bytes::new()))
            .unwrap();
        sender.ready().await.unwrap();
        let sent = Instant::now();
        let response = sender.send_request(request).await.unwrap();
        let _ = response.into_body().collect().await;
        latencies.push(sent.elapsed().as_micros() as u32);
    }
    Figures {
        requests: count as u64,
        notifications: 0,
        elapsed: started.elapsed(),
        latencies_us: latencies,
        errors: 0,
    }
}

fn row(name: &str, f: &Figures, ceiling: Option<&Figures>) {
    let ratio = ceiling
        .map(|c| format!("{:.2}", f.rps() / c.rps()))
        .unwrap_or_else(|| "1.00".into());
    println!(
        "| {name:<44} | {:>9.0} | {:>10.0} | {:>7.2} | {:>7.2} | {ratio:>6} | {:>4} |",
        f.rps(),
        f.nps(),
        f.pct(0.50),
        f.pct(0.99),
        f.errors
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let secs = if quick { 2 } else { 6 };
    let duration = Duration::from_secs(secs);
    // The server side gets the same runtime shape the CLI uses; the load shares the same two cores.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir_in(std::env::var("HOOKSCOPE_BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string())).unwrap();
        let ceiling_addr = ceiling().await;
        let (engine, listening, hookscope_addr) = hookscope(&dir.path().join("full"), Durability::Full).await;
        let (engine_n, listening_n, normal_addr) = hookscope(&dir.path().join("normal"), Durability::Normal).await;
        if let Ok(items) = std::env::var("HOOKSCOPE_BENCH_PROFILE") {
            // One target only, long enough to attach a profiler: `perf record -p <pid>`.
            let items: usize = items.parse().unwrap_or(100);
            let f = load(hookscope_addr, "/notifications", 32, items, Duration::from_secs(15), None).await;
            row(&format!("Hookscope durable (FULL), {items}-item batches, profile run"), &f, None);
            let paced = load(hookscope_addr, "/notifications", 32, 1, duration, Some(Duration::from_micros(32_000))).await;
            row("Hookscope durable (FULL) at 1,000 req/s", &paced, None);
            return;
        }
        let express = express();
        let express_addr = express.as_ref().map(|e| e.1);

        println!("Ingest on loopback, {secs} s per line, closed loop (each connection sends as soon as answered).");
        println!("| target | req/s | notifications/s | p50 ms | p99 ms | ratio to ceiling | errors |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (items, connections) in [(1usize, 32usize), (100, 32)] {
            let label = format!("{items}-item batches, {connections} connections");
            let base = load(ceiling_addr, "/notifications", connections, items, duration, None).await;
            row(&format!("bare axum 202 (ceiling), {label}"), &base, None);
            let full = load(hookscope_addr, "/notifications", connections, items, duration, None).await;
            row(&format!("Hookscope durable (FULL), {label}"), &full, Some(&base));
            let normal = load(normal_addr, "/notifications", connections, items, duration, None).await;
            row(&format!("Hookscope (NORMAL), {label}"), &normal, Some(&base));
            if let Some(addr) = express_addr {
                let ex = load(addr, "/notifications", connections, items, duration, None).await;
                row(&format!("Express in memory (MS sample), {label}"), &ex, Some(&base));
                println!("|   Hookscope FULL ÷ Express: {:.2}× | | | | | | |", full.rps() / ex.rps());
            }
        }
        println!();
        println!("Latency at a fixed rate: 1,000 req/s of 1-item batches (32 connections, each paced to 31.25 req/s).");
        println!("| target | req/s | notifications/s | p50 ms | p99 ms | ratio to ceiling | errors |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let pace = Some(Duration::from_micros(32_000));
        let base = load(ceiling_addr, "/notifications", 32, 1, duration, pace).await;
        row("bare axum 202 at 1,000 req/s", &base, None);
        let full = load(hookscope_addr, "/notifications", 32, 1, duration, pace).await;
        row("Hookscope durable (FULL) at 1,000 req/s", &full, Some(&base));
        println!();
        println!("Handshake, one connection, sequential.");
        println!("| target | req/s | notifications/s | p50 ms | p99 ms | ratio to ceiling | errors |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let count = if quick { 2_000 } else { 10_000 };
        row("Hookscope handshake", &handshakes(hookscope_addr, count).await, None);
        if let Some(addr) = express_addr {
            row("Express handshake", &handshakes(addr, count).await, None);
        }
        let stored = engine.store().notification_count().await.unwrap();
        println!("\nStored by the durable receiver during the run: {stored} notifications.");
        // Keyset paging over everything the run stored: the first page, and a page from deep in the table.
        let first = Instant::now();
        let page = engine.notifications(&hookscope_engine::store::NotificationQuery { limit: 100, ..Default::default() }).await.unwrap();
        let first = first.elapsed();
        let deep_cursor: String = sqlx::query_scalar("SELECT id FROM notifications ORDER BY id DESC LIMIT 1 OFFSET ?")
            .bind(stored / 2)
            .fetch_one(engine.store().pool())
            .await
            .unwrap();
        let deep = Instant::now();
        let deep_page = engine
            .notifications(&hookscope_engine::store::NotificationQuery { limit: 100, before: Some(deep_cursor), ..Default::default() })
            .await
            .unwrap();
        let deep = deep.elapsed();
        assert_eq!(page.items.len(), 100);
        assert_eq!(deep_page.items.len(), 100);
        println!(
            "Paging {stored} stored notifications, 100 per page: first page {:.2} ms, a page from the middle {:.2} ms.",
            first.as_secs_f64() * 1000.0,
            deep.as_secs_f64() * 1000.0
        );
        listening.stop().await;
        engine.close().await;
        listening_n.stop().await;
        engine_n.close().await;
    });
}
