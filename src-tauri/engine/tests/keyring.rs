//! A slow keyring must not stall the receiver: a rich delivery whose private key is not cached yet
//! reads it from the OS keyring, and while that read hangs (a locked keyring, a slow Secret Service),
//! other requests to the same receiver are still answered. The keyring here is keyring-rs's own seam
//! for another store, set for this test binary alone: an in-memory store whose reads of private keys
//! wait at a gate the test opens.

#[path = "simulator/support.rs"]
mod support;

#[path = "subscriptions/fixture.rs"]
mod fixture;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use hookscope_engine::model::Verdict;
use hookscope_engine::simulator::TriggerSpec;
use hookscope_engine::store::RequestQuery;
use hookscope_engine::{Engine, EngineConfig, ReceiverOptions};

use fixture::{request, World};

/// Longest a gated read waits on its own, so a broken test fails instead of hanging.
const GATE_LIMIT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Gate {
    closed: bool,
    /// Private-key reads that reached the gate.
    arrived: usize,
}

#[derive(Clone, Default)]
struct SlowKeyring {
    secrets: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    gate: Arc<(Mutex<Gate>, Condvar)>,
}

impl SlowKeyring {
    fn close(&self) {
        self.gate.0.lock().unwrap().closed = true;
    }

    fn open(&self) {
        self.gate.0.lock().unwrap().closed = false;
        self.gate.1.notify_all();
    }

    /// Blocks this (plain) thread until a private-key read reached the gate, or the deadline passes.
    fn wait_for_a_read(&self, within: Duration) -> bool {
        let (lock, signal) = &*self.gate;
        let (gate, _) = signal
            .wait_timeout_while(lock.lock().unwrap(), within, |g| g.arrived == 0)
            .unwrap();
        gate.arrived > 0
    }
}

struct SlowCredential {
    account: String,
    keyring: SlowKeyring,
}

impl keyring::credential::CredentialApi for SlowCredential {
    fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
        let mut secrets = self.keyring.secrets.lock().unwrap();
        secrets.insert(self.account.clone(), secret.to_vec());
        Ok(())
    }

    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        if self.account.starts_with("certificate-key-") {
            let (lock, signal) = &*self.keyring.gate;
            let mut gate = lock.lock().unwrap();
            gate.arrived += 1;
            signal.notify_all();
            let _ = signal
                .wait_timeout_while(gate, GATE_LIMIT, |g| g.closed)
                .unwrap();
        }
        let secrets = self.keyring.secrets.lock().unwrap();
        secrets
            .get(&self.account)
            .cloned()
            .ok_or(keyring::Error::NoEntry)
    }

    fn delete_credential(&self) -> keyring::Result<()> {
        let mut secrets = self.keyring.secrets.lock().unwrap();
        secrets
            .remove(&self.account)
            .map(|_| ())
            .ok_or(keyring::Error::NoEntry)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl keyring::credential::CredentialBuilderApi for SlowKeyring {
    fn build(
        &self,
        _target: Option<&str>,
        _service: &str,
        user: &str,
    ) -> keyring::Result<Box<keyring::credential::Credential>> {
        Ok(Box::new(SlowCredential {
            account: user.to_owned(),
            keyring: self.clone(),
        }))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A handshake sent from a plain thread, outside the runtime under test: its answer, or None when
/// nothing came back within `within`.
fn handshake(address: SocketAddr, within: Duration) -> Option<String> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(within)).ok()?;
    let request = "POST /notifications?validationToken=still+here HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.starts_with("HTTP/1.1 200").then(|| {
        answer
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    })
}

// One worker: a keyring read that blocked it would stall every request this receiver serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_blocking_keyring_read_does_not_stall_other_requests() {
    let keyring = SlowKeyring::default();
    keyring::set_default_credential_builder(Box::new(keyring.clone()));

    // A rich subscription at the simulated Graph, its certificate's private key in the keyring, and one
    // genuine delivery to copy.
    let world = World::start().await;
    let mut wanted = request("/teams/getAllMessages", "created", "1h", true);
    wanted.rich = true;
    let subscription =
        hookscope_engine::subscriptions::subscribe(&world.engine, &world.graph, &wanted)
            .await
            .expect("a rich subscription is created");
    assert_eq!(
        keyring.secrets.lock().unwrap().len(),
        1,
        "the private key was kept in the keyring"
    );
    world
        .trigger(TriggerSpec {
            subscription_id: Some(subscription.id.clone()),
            rich: true,
            ..TriggerSpec::default()
        })
        .await;
    let first = world
        .notifications_until(&subscription.id, "the first delivery", |n| n.len() == 1)
        .await;
    assert_eq!(first[0].verdict, Verdict::Accepted, "{:?}", first[0].reason);
    let body = world
        .engine
        .requests(&RequestQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|r| r.id == first[0].request_id)
        .and_then(|r| r.body)
        .expect("the delivery was recorded");

    // A second engine on the same data directory, as after a restart: its key cache is empty, so the
    // next rich item reads the private key from the keyring.
    let fresh = Engine::open(EngineConfig::new(world.dir.path()))
        .await
        .unwrap();
    let listening = fresh
        .listen(&ReceiverOptions {
            port: 0,
            ..ReceiverOptions::default()
        })
        .await
        .unwrap();
    let address: SocketAddr = listening
        .urls()
        .local_url
        .trim_start_matches("http://")
        .parse()
        .unwrap();

    keyring.close();
    let probe = {
        let keyring = keyring.clone();
        std::thread::spawn(move || {
            let reached = keyring.wait_for_a_read(Duration::from_secs(15));
            // Asked while the keyring read hangs; then the keyring answers.
            let answered = reached.then(|| handshake(address, Duration::from_secs(3)));
            keyring.open();
            (reached, answered.flatten())
        })
    };
    let delivered = reqwest::Client::new()
        .post(format!("http://{address}/notifications"))
        .header("content-type", "application/json")
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("the rich delivery is answered once the keyring answers");
    assert_eq!(delivered.status(), 202);
    let (reached, answered) = tokio::task::spawn_blocking(move || probe.join().unwrap())
        .await
        .unwrap();
    assert!(reached, "the rich item never read its key from the keyring");
    assert_eq!(
        answered.as_deref(),
        Some("still here"),
        "a handshake was not answered while the keyring read hung"
    );

    // Positive control: once the keyring answered, the item was decrypted with the key it returned.
    let deadline = Instant::now() + Duration::from_secs(10);
    let second = loop {
        let notes = world.notifications_of(&subscription.id).await;
        if notes.len() == 2 {
            break notes.into_iter().next().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the second delivery was not stored: {notes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(second.verdict, Verdict::Accepted, "{:?}", second.reason);
    assert!(second.decrypted.is_some());
    listening.stop().await;
    fresh.close().await;
}
