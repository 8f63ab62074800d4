//! `hookscope listen`: the receiver headless until Ctrl-C or SIGTERM, one line per event. On a stop
//! signal the receiver finishes the requests in flight and the store commits everything queued.

use std::io::Write;

use hookscope_engine::model::RequestKind;
use hookscope_engine::store::RequestRow;
use hookscope_engine::{Engine, Event, ReceiverOptions};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::output::{json_line, notification_text, request_text};
use super::{Global, ListenArgs};
use hookscope_engine::tunnel::{self, TunnelState};

pub async fn run(engine: &Engine, global: &Global, args: ListenArgs) -> anyhow::Result<()> {
    let relay = match &args.forward_to {
        Some(target) => {
            let mut relay = hookscope_engine::relay::RelayOptions::new(target)?;
            relay.handshake = args.forward_handshake;
            relay.timeout = duration("--forward-timeout", &args.forward_timeout)?;
            Some(relay)
        }
        None => None,
    };
    let options = ReceiverOptions {
        bind: args.bind,
        port: args.port,
        public_url: args.public_url,
        body_limit: args.body_limit,
        max_items: args.max_items.max(1),
        max_connections: args.max_connections.max(1),
        header_timeout: duration("--header-timeout", &args.header_timeout)?,
        body_timeout: duration("--body-timeout", &args.body_timeout)?,
        relay,
        ..ReceiverOptions::default()
    };
    let ngrok = matches!(args.tunnel, super::Tunnel::Ngrok);
    if ngrok && options.public_url.is_some() {
        anyhow::bail!(
            "Choose one: --tunnel ngrok opens a tunnel itself, --public-url names one you run."
        );
    }
    let stop = stop_signal()?;
    let mut events = engine.events();
    let mut listening = engine.listen(&options).await?;
    let urls = listening.urls().clone();
    let tunnel = ngrok.then(|| {
        tunnel::supervise(
            tunnel::NgrokTunnel::new(tunnel::ngrok_options(&engine.config().data_dir, None)),
            urls.local_url.clone(),
            engine.bus().clone(),
            tunnel::SupervisorTimings::default(),
        )
    });
    let mut tunnel_states = tunnel.as_ref().map(|t| t.states.clone());
    // The keeper needs Graph; without credentials the receiver still runs and says why nothing renews.
    let graph = super::graph::keeper_client(engine, global)
        .await
        .map(std::sync::Arc::new);
    let keeper = graph
        .as_ref()
        .ok()
        .map(|graph| hookscope_engine::keeper::start(engine.clone(), graph.clone(), urls.clone()));
    {
        let mut out = super::output::stdout();
        if args.json {
            // The keeper's state rides on the first line, so the line after it is always an event.
            let mut first = serde_json::to_value(&urls)?;
            first["keeper"] = match &graph {
                Ok(_) => json!({ "state": "on" }),
                Err(why) => json!({ "state": "off", "message": why.to_string() }),
            };
            json_line(&mut out, Some("listening"), &first)?;
        } else {
            writeln!(out, "Listening on {}", urls.local_url)?;
            writeln!(out, "  notification URL: {}", urls.notification_url)?;
            writeln!(out, "  lifecycle URL:    {}", urls.lifecycle_url)?;
            if ngrok {
                writeln!(out, "  tunnel:           opening an ngrok tunnel; the public URL follows once it routes")?;
            } else if urls.public_url.is_none() {
                writeln!(out, "  Local only: Graph cannot reach this receiver (the simulator can); use --tunnel ngrok or --public-url for your own tunnel.")?;
            }
            match &graph {
                Ok(_) => writeln!(
                    out,
                    "  keeper:           renewing subscriptions and answering lifecycle events"
                )?,
                Err(why) => writeln!(out, "  keeper:           off, nothing is renewed: {why}")?,
            }
            writeln!(out, "Press Ctrl-C to stop.")?;
        }
        out.flush()?;
    }
    // Printing runs on its own thread: a stdout nobody reads (a full pipe) must never stall the stop
    // signal or the receiver. Events that do not fit in its queue are counted and reported as lagged.
    let (lines, queue) = std::sync::mpsc::sync_channel::<Printable>(4096);
    let printer = std::thread::spawn(move || print_all(queue, args.json));
    tokio::pin!(stop);
    let mut queue = PrintQueue { lines, lagged: 0 };
    loop {
        let tunnel_changed = async {
            match tunnel_states.as_mut() {
                Some(states) => states.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut stop => break,
            true = tunnel_changed => {
                let state = tunnel_states.as_mut().map(|s| s.borrow_and_update().clone());
                if let Some(state) = state {
                    if let Err(error) = tunnel::follow(&state, &mut listening, keeper.as_ref()) {
                        tracing::warn!(%error, "could not announce the tunnel's URL");
                    }
                }
            }
            event = events.recv() => match event {
                Ok(event) => queue.offer(Printable::Event(event)),
                Err(RecvError::Lagged(missed)) => queue.lagged += missed,
                Err(RecvError::Closed) => break,
            },
        }
    }
    if let Some(keeper) = keeper {
        keeper.stop().await;
    }
    if let Some(tunnel) = tunnel {
        tunnel.stop();
    }
    listening.stop().await;
    // Requests in flight at the stop were committed by now; once their events are out, show them.
    let _ = engine.store().settled().await;
    while let Ok(event) = events.try_recv() {
        queue.offer(Printable::Event(event));
    }
    queue.offer_lagged();
    let PrintQueue { lines, .. } = queue;
    // Let the printer show what was already queued, but never hang on a stdout nobody reads.
    drop(lines);
    let (done, finished) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = printer.join();
        let _ = done.send(());
    });
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), finished).await;
    Ok(())
}

/// The hand-off to the printer thread; what does not fit is counted, never waited for.
struct PrintQueue {
    lines: std::sync::mpsc::SyncSender<Printable>,
    /// Notifications (or other events) not printed since the last report.
    lagged: u64,
}

impl PrintQueue {
    fn offer(&mut self, item: Printable) {
        self.offer_lagged();
        let weight = match &item {
            Printable::Event(Event::NotificationsStored { notifications }) => {
                notifications.len() as u64
            }
            _ => 1,
        };
        if self.lines.try_send(item).is_err() {
            self.lagged += weight;
        }
    }

    fn offer_lagged(&mut self) {
        if self.lagged > 0 && self.lines.try_send(Printable::Lagged(self.lagged)).is_ok() {
            self.lagged = 0;
        }
    }
}

enum Printable {
    Event(Event),
    Lagged(u64),
}

fn print_all(queue: std::sync::mpsc::Receiver<Printable>, json: bool) {
    for item in queue {
        let printed = match item {
            Printable::Event(event) => print_event(&event, json),
            Printable::Lagged(missed) => print_lagged(missed, json),
        };
        if printed.is_err() {
            return; // stdout is gone (closed pipe): nothing more to show
        }
    }
}

fn print_lagged(missed: u64, json: bool) -> std::io::Result<()> {
    let mut out = super::output::stdout();
    if json {
        json_line(&mut out, Some("lagged"), &json!({ "missed": missed }))?;
    } else {
        writeln!(
            out,
            "… {missed} events not shown (printing fell behind; everything is stored)"
        )?;
    }
    out.flush()
}

/// Each event is one line of text, whatever its fields hold (they come from the network).
fn print_event(event: &Event, json: bool) -> std::io::Result<()> {
    let mut out = super::output::stdout();
    match event {
        Event::NotificationsStored { notifications } => {
            for note in notifications.iter() {
                if json {
                    json_line(&mut out, Some("notification"), note)?;
                } else {
                    out.line(notification_text(note))?;
                }
            }
        }
        Event::RequestsRecorded { requests } => {
            // Notifications print themselves; a request line is news only when it was refused.
            for request in requests
                .rows()
                .iter()
                .filter(|r| r.kind == RequestKind::Invalid || r.status >= 500)
                .map(RequestRow::to_record)
            {
                if json {
                    json_line(&mut out, Some("request"), &request)?;
                } else {
                    out.line(request_text(&request))?;
                }
            }
        }
        Event::Handshake {
            request_id,
            path,
            at,
        } => {
            if json {
                json_line(
                    &mut out,
                    Some("handshake"),
                    &json!({ "requestId": request_id, "path": path, "at": at }),
                )?;
            } else {
                out.line(format_args!(
                    "{}  handshake answered on {path}",
                    at.get(11..23).unwrap_or(at)
                ))?;
            }
        }
        Event::Keeper { event } => {
            if json {
                let kind = if event.ok {
                    event.action.as_str()
                } else {
                    "keeperFailed"
                };
                json_line(&mut out, Some(kind), event)?;
            } else {
                out.line(format_args!(
                    "{}  {:<8}  sub {}  {}",
                    event.at.get(11..23).unwrap_or(&event.at),
                    if event.ok {
                        event.action.as_str()
                    } else {
                        "failed"
                    },
                    event.subscription_id,
                    event.message
                ))?;
            }
        }
        Event::Tunnel { state } => {
            if json {
                json_line(&mut out, Some("tunnel"), state)?;
            } else {
                let line = match state {
                    TunnelState::Connecting => "connecting…".to_owned(),
                    TunnelState::Online { url } => format!("online at {url}/notifications"),
                    TunnelState::Reconnecting { reason } => format!("reconnecting: {reason}"),
                    TunnelState::Offline { reason, .. } => format!("offline: {reason}"),
                };
                out.line(format_args!("tunnel  {line}"))?;
            }
        }
        Event::Relayed { relay } => {
            if json {
                json_line(&mut out, Some("relayed"), relay)?;
            } else {
                let answer = match (relay.status, &relay.error) {
                    (Some(status), _) => format!("answered {status} in {:.1} ms", relay.latency_ms),
                    (None, Some(error)) => error.clone(),
                    (None, None) => "no answer".into(),
                };
                out.line(format_args!(
                    "{}  relayed{}   → {}  {answer}{}",
                    relay.at.get(11..23).unwrap_or(&relay.at),
                    if relay.handshake { " handshake" } else { "" },
                    relay.target,
                    relay
                        .warning
                        .as_deref()
                        .map(|w| format!("  ⚠ {w}"))
                        .unwrap_or_default()
                ))?;
            }
        }
        Event::StoreFailed { message } => {
            if json {
                json_line(
                    &mut out,
                    Some("storeFailed"),
                    &json!({ "message": message }),
                )?;
            } else {
                out.line(format_args!(
                    "Store failure, deliveries answered 503 until it recovers: {message}"
                ))?;
            }
        }
    }
    out.flush()
}

/// Installs the Ctrl-C and SIGTERM handlers now (before `listening` is printed, so a signal sent right
/// after it cannot kill the process unflushed) and returns a future that resolves on either.
pub(super) fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// `500ms`, `10s`, `1m`, or a bare number of seconds; never zero (every hand-on would time out).
fn duration(flag: &str, text: &str) -> anyhow::Result<std::time::Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number.parse().unwrap_or(0);
    let timeout = match unit.trim() {
        "ms" => std::time::Duration::from_millis(n),
        "" | "s" => std::time::Duration::from_secs(n),
        "m" => std::time::Duration::from_secs(n * 60),
        _ => std::time::Duration::ZERO,
    };
    if timeout.is_zero() {
        anyhow::bail!("{flag} {text:?} is not a duration above zero; use 500ms, 10s or 1m.");
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    #[test]
    fn forward_timeouts_read_like_a_person_writes_them() {
        use std::time::Duration;
        assert_eq!(
            super::duration("--forward-timeout", "500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            super::duration("--forward-timeout", "10").unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(
            super::duration("--forward-timeout", "2m").unwrap(),
            Duration::from_secs(120)
        );
        for bad in ["0ms", "soon", "", "10h"] {
            assert!(super::duration("--forward-timeout", bad).is_err(), "{bad}");
        }
    }
}
