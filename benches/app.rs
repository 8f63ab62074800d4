//! The desktop app's own figures, in a real window under Xvfb driven through tauri-driver: start to the
//! first painted window, memory of the idle app (empty store) and with 100,000 stored notifications, and
//! how the live feed keeps up with 1,000 notifications arriving per second (frames, the longest frame,
//! frames over 50 ms), next to the same window idle in the same run as the baseline. First paint and idle
//! memory have their own baseline: a bare Tauri window (this binary with `--bare-window`).
//!
//! Run: `dbus-run-session -- xvfb-run -a -s "-screen 0 1400x900x24" cargo bench --profile dev --bench app`
//! (`--profile dev` reuses the test build; the figures in docs/performance.md say which build they are).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "../tests/common/driver.rs"]
mod driver;

use driver::Driver;
use fantoccini::{ClientBuilder, Locator};
use hookscope_engine::model::{Subscription, SubscriptionStatus};
use hookscope_engine::store::NotificationQuery;
use hookscope_engine::{Engine, EngineConfig, ReceiverOptions};
use serde_json::{json, Value};

// The app's allocator, so the bare window of the baseline runs on what Hookscope runs on.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BIN: &str = env!("CARGO_BIN_EXE_hookscope");
const SUBSCRIPTION: &str = "bench-sub";
const CLIENT_STATE: &str = "bench-state";

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn item(n: usize) -> Value {
    json!({
        "id": format!("bench-{n}"),
        "subscriptionId": SUBSCRIPTION,
        "clientState": CLIENT_STATE,
        "subscriptionExpirationDateTime": "2030-01-01T00:00:00.0000000Z",
        "changeType": "created",
        "resource": format!("Users/7b2f0d4e-93a1-4c5e-8f51-2f6d1c9e0a11/Messages/AAMkAGI2TG93AAA{n}="),
        "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": format!("Users/7b2f0d4e/Messages/AAMkAGI2TG93AAA{n}="),
            "@odata.etag": "W/\"CQAAABYAAADkrWGo7bouTKlsgTZMr9KwAAAUWRHf\"",
            "id": format!("AAMkAGI2TG93AAA{n}=")
        }
    })
}

fn subscription(url: &str) -> Subscription {
    Subscription {
        id: SUBSCRIPTION.into(),
        resource: "me/messages".into(),
        change_type: "created".into(),
        notification_url: format!("{url}/notifications"),
        expiration_date_time: "2030-01-01T00:00:00Z".into(),
        client_state: Some(CLIENT_STATE.into()),
        auto_renew: false,
        status: SubscriptionStatus::Active,
        ..Default::default()
    }
}

/// Stores `count` accepted notifications through the real receiver, 100 to a request.
async fn prefill(data: &std::path::Path, count: usize) -> Duration {
    let started = Instant::now();
    let engine = Engine::open(EngineConfig::new(data)).await.unwrap();
    let listening = engine
        .listen(&ReceiverOptions {
            port: 0,
            ..ReceiverOptions::default()
        })
        .await
        .unwrap();
    let url = listening.urls().local_url.clone();
    engine.put_subscription(subscription(&url)).await.unwrap();
    let http = reqwest::Client::new();
    let mut sent = 0;
    while sent < count {
        let mut batch = Vec::new();
        for _ in 0..8 {
            let items: Vec<Value> = (sent..(sent + 100).min(count)).map(item).collect();
            sent += items.len();
            let body = json!({ "value": items }).to_string();
            let http = http.clone();
            let target = format!("{url}/notifications");
            batch.push(tokio::spawn(async move {
                let answer = http
                    .post(target)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 202);
            }));
            if sent >= count {
                break;
            }
        }
        for task in batch {
            task.await.unwrap();
        }
    }
    listening.stop().await;
    engine.close().await;
    started.elapsed()
}

/// The processes tauri-driver started (the app and WebKit's), by walking /proc's parent links.
fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // comm is in parentheses and may hold spaces; the fields after it are space separated.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let ppid = stat[close + 2..]
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        parents.push((pid, ppid, name));
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid, name) in &parents {
            if *ppid == parent {
                found.push((*pid, name.clone()));
                frontier.push(*pid);
            }
        }
    }
    found
}

/// Proportional set size in MiB: shared pages split among the processes that map them, so WebKit's
/// shared libraries are not counted once per process.
fn pss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The app's memory: its own process and the WebKit processes serving its window.
fn app_memory(driver: u32) -> (f64, Vec<(String, f64)>) {
    let mut parts = Vec::new();
    for (pid, name) in descendants(driver) {
        if name == "WebKitWebDriver" {
            continue;
        }
        parts.push((name, pss_mib(pid)));
    }
    (parts.iter().map(|(_, m)| m).sum(), parts)
}

struct Session {
    driver: Driver,
    client: fantoccini::Client,
    /// From asking for the window to the live feed being in the page (WebDriver polled every 10 ms).
    first_paint: Duration,
    /// The same, measured by the page: its first contentful paint against the moment of the request.
    first_paint_by_page: Option<Duration>,
}

/// Which program the window is: Hookscope, or the bare Tauri window of the baseline.
#[derive(Clone, Copy, PartialEq)]
enum Program {
    Hookscope,
    Bare,
}

async fn launch(data: &std::path::Path) -> Session {
    launch_program(data, Program::Hookscope).await
}

async fn launch_program(data: &std::path::Path, program: Program) -> Session {
    let driver = Driver::start(data, &[]);
    let port = driver.port;
    tokio::time::sleep(Duration::from_millis(500)).await; // the driver's own start, not the app's
    let options = match program {
        Program::Hookscope => json!({ "application": BIN }),
        Program::Bare => json!({
            "application": std::env::current_exe().unwrap(),
            "args": ["--bare-window"],
        }),
    };
    let mut caps = serde_json::Map::new();
    caps.insert("tauri:options".into(), options);
    let asked_epoch = epoch_ms();
    let asked = Instant::now();
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session on the app");
    loop {
        if client.find(Locator::Id("feed")).await.is_ok()
            || client.find(Locator::Css(".empty")).await.is_ok()
            || client.find(Locator::Css("header.bar")).await.is_ok()
        {
            break;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(90),
            "the window never painted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let first_paint = asked.elapsed();
    let painted: Option<f64> = client
        .execute(
            "const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');\
             return p ? performance.timeOrigin + p.startTime : null;",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_f64());
    let first_paint_by_page =
        painted.map(|at| Duration::from_secs_f64(((at - asked_epoch) / 1000.0).max(0.0)));
    Session {
        driver,
        client,
        first_paint,
        first_paint_by_page,
    }
}

const FRAME_PROBE: &str = "window.__frames = []; let last = performance.now();\
    const tick = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(tick); };\
    requestAnimationFrame(tick); return true;";

/// Frame intervals (ms) since the last call.
async fn frames(client: &fantoccini::Client) -> Vec<f64> {
    client
        .execute("return window.__frames.splice(0);", vec![])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect()
}

fn frame_line(label: &str, gaps: &[f64], seconds: f64) -> String {
    let mut sorted = gaps.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p99 = sorted
        .get(((sorted.len() as f64) * 0.99) as usize)
        .copied()
        .unwrap_or(0.0);
    let max = sorted.last().copied().unwrap_or(0.0);
    let long = gaps.iter().filter(|g| **g > 50.0).count();
    format!(
        "| {label} | {:.1} | {:.1} | {:.1} | {long} |",
        gaps.len() as f64 / seconds,
        p99,
        max
    )
}

async fn received(client: &fantoccini::Client) -> u64 {
    let text = client
        .find(Locator::Css("[data-testid='received-count']"))
        .await
        .ok();
    let Some(element) = text else { return 0 };
    element
        .prop("textContent")
        .await
        .ok()
        .flatten()
        .map(|t| t.chars().filter(char::is_ascii_digit).collect::<String>())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// The baseline for memory and first paint: a Tauri window on WebKitGTK showing a page of a few lines,
/// started the way the app starts (same Tauri, same compositing choice) but with none of Hookscope in it.
/// tauri-driver starts this very binary with `--bare-window`.
fn bare_window() {
    hookscope_lib::app::rendering::choose();
    let mut context = tauri::generate_context!();
    context.config_mut().app.windows.clear();
    tauri::Builder::default()
        .register_uri_scheme_protocol("bare", |_, _| {
            tauri::http::Response::builder()
                .header("content-type", "text/html")
                .body(BARE_PAGE.as_bytes().to_vec())
                .unwrap()
        })
        .setup(|app| {
            let url = tauri::WebviewUrl::CustomProtocol("bare://localhost/".parse().unwrap());
            tauri::WebviewWindowBuilder::new(app, "main", url)
                .title("bare")
                .inner_size(1200.0, 800.0)
                .build()?;
            Ok(())
        })
        .run(context)
        .expect("a bare Tauri window");
}

const BARE_PAGE: &str = "<!doctype html><html><head><title>bare</title></head>\
    <body><header class=\"bar\">A bare Tauri window</header><p>Nothing else.</p></body></html>";

fn main() {
    if std::env::args().any(|a| a == "--bare-window") {
        bare_window();
        return;
    }
    tokio::runtime::Runtime::new().unwrap().block_on(bench());
}

async fn bench() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if std::env::var_os("DISPLAY").is_none() {
        eprintln!("Run under a display: dbus-run-session -- xvfb-run -a -s \"-screen 0 1400x900x24\" cargo bench --profile dev --bench app");
        std::process::exit(1);
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let stored = if quick { 10_000 } else { 100_000 };
    let rate_seconds = if quick { 5 } else { 10 };

    // Idle, empty store.
    // A first start (in a data directory of its own) warms the disk cache; the figure is the second
    // start, as a user's every day.
    let warm = tempfile::tempdir().unwrap();
    let session = launch(warm.path()).await;
    let _ = session.client.close().await;
    drop(session.driver);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let empty = tempfile::tempdir().unwrap();
    let session = launch(empty.path()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle, idle_parts) = app_memory(session.driver.pid());
    println!("## App benchmark\n");
    println!(
        "first paint (empty store): {:.0} ms (WebDriver poll), {} (the page's first-contentful-paint)",
        session.first_paint.as_secs_f64() * 1000.0,
        session
            .first_paint_by_page
            .map(|d| format!("{:.0} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "not reported".into())
    );
    println!("idle memory (PSS): {idle:.1} MiB = {idle_parts:?}");
    let _ = session.client.close().await;
    drop(session.driver);

    // The baseline: a bare Tauri window, started and measured the same way.
    let bare_data = tempfile::tempdir().unwrap();
    let bare = launch_program(bare_data.path(), Program::Bare).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (bare_idle, bare_parts) = app_memory(bare.driver.pid());
    println!(
        "baseline, a bare Tauri window: first paint {:.0} ms (WebDriver poll), {}; idle memory (PSS): {bare_idle:.1} MiB = {bare_parts:?}",
        bare.first_paint.as_secs_f64() * 1000.0,
        bare.first_paint_by_page
            .map(|d| format!("{:.0} ms (the page's first-contentful-paint)", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "no paint timing".into())
    );
    let _ = bare.client.close().await;
    drop(bare.driver);
    // HOOKSCOPE_BENCH_ONLY=idle stops here: first paint and idle memory beside the baseline.
    if std::env::var("HOOKSCOPE_BENCH_ONLY").as_deref() == Ok("idle") {
        return;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let session = launch(empty.path()).await;

    // 1,000 notifications/s into the open window, against the same window idle.
    let url: Value =
        serde_json::from_slice(&std::fs::read(empty.path().join("receiver.json")).unwrap())
            .unwrap();
    let local = url["localUrl"].as_str().unwrap().to_owned();
    let engine = Engine::open(EngineConfig::new(empty.path())).await.unwrap();
    engine.put_subscription(subscription(&local)).await.unwrap();
    engine.close().await;
    // One delivery first, checked, so a broken setup fails loudly instead of measuring nothing.
    let probe = reqwest::Client::new()
        .post(format!("{local}/notifications"))
        .header("content-type", "application/json")
        .body(json!({ "value": [item(usize::MAX)] }).to_string())
        .send()
        .await
        .expect("the app's receiver answers");
    assert_eq!(probe.status(), 202, "{local}: {:?}", probe.text().await);
    let start_wait = Instant::now();
    while received(&session.client).await < 1 {
        assert!(
            start_wait.elapsed() < Duration::from_secs(10),
            "the window never counted the probe delivery"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // With HOOKSCOPE_BENCH_VIEW=health the flood arrives while another tab shows: the feed's state still
    // takes every batch, the list is not drawn. The difference is what drawing the list costs.
    if let Ok(view) = std::env::var("HOOKSCOPE_BENCH_VIEW") {
        session
            .client
            .find(Locator::Id(&format!("tab-{view}")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    session.client.execute(FRAME_PROBE, vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(rate_seconds)).await;
    let idle_frames = frames(&session.client).await;
    let http = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let load_started = Instant::now();
    let mut n = 0;
    for _ in 0..(rate_seconds * 10) {
        tick.tick().await;
        for _ in 0..10 {
            let items: Vec<Value> = (n..n + 10).map(item).collect();
            n += 10;
            let http = http.clone();
            let target = format!("{local}/notifications");
            tokio::spawn(async move {
                let _ = http
                    .post(target)
                    .header("content-type", "application/json")
                    .body(json!({ "value": items }).to_string())
                    .send()
                    .await;
            });
        }
    }
    let load_frames = frames(&session.client).await;
    let sent_for = load_started.elapsed();
    let wait = Instant::now();
    while received(&session.client).await < n as u64 + 1 && wait.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let shown = received(&session.client).await;
    let lag = wait.elapsed();
    let (loaded_memory, _) = app_memory(session.driver.pid());
    println!(
        "\n1,000 notifications/s for {rate_seconds} s ({n} sent in {:.1} s): the window counted {shown}, the last {:.0} ms after the last was sent; memory after: {loaded_memory:.1} MiB\n",
        sent_for.as_secs_f64(),
        lag.as_secs_f64() * 1000.0
    );
    println!("| window | frames/s | p99 frame ms | longest frame ms | frames over 50 ms |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "{}",
        frame_line("idle (baseline)", &idle_frames, rate_seconds as f64)
    );
    println!(
        "{}",
        frame_line(
            "1,000 notifications/s",
            &load_frames,
            sent_for.as_secs_f64()
        )
    );
    let _ = session.client.close().await;
    drop(session.driver);

    // With a big store.
    let big = tempfile::tempdir().unwrap();
    let took = prefill(big.path(), stored).await;
    let session = launch(big.path()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (memory, parts) = app_memory(session.driver.pid());
    let db = std::fs::metadata(big.path().join("hookscope.sqlite3"))
        .map(|m| m.len() as f64 / 1_048_576.0)
        .unwrap_or(0.0);
    println!(
        "\n{stored} stored notifications (filled in {:.1} s, database {db:.0} MiB): first paint {:.0} ms (WebDriver poll), {}; memory (PSS) {memory:.1} MiB = {parts:?}",
        took.as_secs_f64(),
        session.first_paint.as_secs_f64() * 1000.0,
        session
            .first_paint_by_page
            .map(|d| format!("{:.0} ms by the page", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "no paint timing".into())
    );

    // Scrolling from the newest to the oldest of them, as a user holding End would: the list reads
    // older pages and lets the newest go, so memory stays flat however far it scrolls.
    let engine = Engine::open_reader(EngineConfig::new(big.path()))
        .await
        .unwrap();
    let oldest = engine
        .notifications(&NotificationQuery {
            limit: 1,
            after: Some(String::new()),
            ..NotificationQuery::default()
        })
        .await
        .unwrap()
        .items[0]
        .id
        .clone();
    engine.close().await;
    let scrolled = Instant::now();
    let mut steps = 0;
    loop {
        let last = session.client.execute(SCROLL_TO_END, vec![]).await.unwrap();
        steps += 1;
        if last.as_str() == Some(oldest.as_str()) {
            break;
        }
        assert!(
            scrolled.elapsed() < Duration::from_secs(300),
            "the oldest row never came into view (last seen {last})"
        );
        tokio::time::sleep(Duration::from_millis(16)).await;
    }
    let took = scrolled.elapsed();
    let (after_scroll, parts) = app_memory(session.driver.pid());
    let held = session
        .client
        .execute(
            "return document.querySelectorAll('#feed .notification-row').length",
            vec![],
        )
        .await
        .unwrap();
    println!(
        "scrolled from the newest to the oldest of {stored} in {:.1} s ({steps} jumps to the end, {held} rows drawn at the end); memory (PSS) after {after_scroll:.1} MiB = {parts:?}",
        took.as_secs_f64()
    );
    let _ = session.client.close().await;
}

/// Scrolls the feed to its end and says which row is last in the DOM (None while it shows placeholders).
const SCROLL_TO_END: &str = r#"
const list = document.getElementById('feed');
list.scrollTop = list.scrollHeight;
const rows = list.querySelectorAll('.notification-row');
return rows.length ? rows[rows.length - 1].dataset.id : null;
"#;
