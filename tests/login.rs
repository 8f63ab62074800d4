//! Signing in once from the command line and staying signed in, against the simulator: an app with its
//! secret (proven before it is stored, never written to the database), and a user through a device
//! code approved in the simulator's sign-in page, whose rotating refresh token keeps working across
//! processes.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::{hookscope, json_lines, Listener, Simulator, BIN};
use hookscope_engine::simulator::SIMULATOR_CLIENT_SECRET;

fn login(dir: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("login")
        .args(args)
        .env("HOOKSCOPE_DATA_DIR", dir)
        .env_remove("HOOKSCOPE_CLIENT_SECRET")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every byte Hookscope keeps in the data directory's database files.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("hookscope.sqlite3")
        {
            all.extend(std::fs::read(entry.path()).unwrap());
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

type Lines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// Starts `hookscope login --device-code --json` and reads the code it shows.
fn device_login(
    dir: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, Lines, serde_json::Value) {
    let mut child = Command::new(BIN)
        .args(["login", "--device-code", "--json"])
        .args(extra)
        .env("HOOKSCOPE_DATA_DIR", dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    (child, lines, first)
}

#[test]
fn an_app_signs_in_once_and_its_secret_stays_out_of_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let _simulator = Simulator::spawn(dir.path());

    let (code, _, err) = login(dir.path(), &["--client-secret-stdin"], "not-the-secret\n");
    assert_ne!(code, 0);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("AADSTS7000215") && !err.contains("not-the-secret"),
        "{err}"
    );
    let (_, out, _) = hookscope(dir.path(), &["subscriptions", "--remote"]);
    assert!(
        out.contains("no subscriptions"),
        "the well-known registration still answers: {out}"
    );

    let (code, out, err) = login(
        dir.path(),
        &["--client-secret-stdin"],
        &format!("{SIMULATOR_CLIENT_SECRET}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Signed in to tenant"), "{out}");
    // No keyring service runs here, so the fallback says where the secret went, and it is private.
    let file = dir.path().join("secrets/client-secret");
    if out.contains("no keyring service") {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "readable only by the user");
    }
    assert!(!out.contains(SIMULATOR_CLIENT_SECRET) && !err.contains(SIMULATOR_CLIENT_SECRET));

    // Later commands use the stored sign-in: a listener subscribes through it.
    let listener = Listener::spawn(dir.path(), &[]);
    assert_eq!(listener.first["keeper"]["state"], "on");
    let (code, out, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            "users/alex@contoso.com/messages",
            "--change-type",
            "created",
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let created = &json_lines(&out)[0];
    let (_, listed, _) = hookscope(dir.path(), &["subscriptions", "list", "--remote", "--json"]);
    assert!(listed.contains(created["id"].as_str().unwrap()), "{listed}");
    drop(listener);

    let everything = database_bytes(dir.path());
    assert!(!everything.is_empty());
    assert!(
        !contains(&everything, SIMULATOR_CLIENT_SECRET),
        "the secret never reaches the database"
    );

    let (code, out, _) = hookscope(dir.path(), &["logout"]);
    assert_eq!(code, 0);
    assert!(out.contains("Signed out"));
    assert!(!file.exists(), "the stored secret is deleted");
}

#[test]
fn a_user_signs_in_with_a_device_code_and_stays_signed_in_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let simulator = Simulator::spawn(dir.path());
    let (mut child, lines, first) = device_login(dir.path(), &["--scopes", "Mail.Read"]);
    assert_eq!(first["type"], "deviceCode");
    let user_code = first["userCode"].as_str().unwrap().to_string();
    let page = first["verificationUri"].as_str().unwrap().to_string();
    assert!(first["message"].as_str().unwrap().contains(&user_code));
    assert!(
        first.get("deviceCode").is_none(),
        "the device code itself stays private"
    );

    // The user opens the page and approves, as in a browser; the waiting login finishes on its own.
    let approved = reqwest::blocking::Client::new()
        .post(&page)
        .form(&[("user_code", user_code.as_str()), ("action", "approve")])
        .send()
        .unwrap();
    assert!(approved.status().is_success());
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("signedIn") && l.contains("delegated")),
        "{rest:?}"
    );
    assert!(simulator.graph_url.starts_with("http://127.0.0.1"));

    // Each process refreshes (Entra rotates the refresh token); the second only works if the first
    // kept the rotated one.
    for _ in 0..2 {
        let (code, out, err) = hookscope(dir.path(), &["subscriptions", "list", "--remote"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("no subscriptions"), "{out}");
    }
    // A delegated user may subscribe to their own mailbox.
    let _listener = Listener::spawn(dir.path(), &[]);
    let (code, _, err) = hookscope(
        dir.path(),
        &[
            "subscribe",
            "--resource",
            "me/messages",
            "--change-type",
            "created",
        ],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_declined_sign_in_says_so_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let _simulator = Simulator::spawn(dir.path());
    let (child, _, first) = device_login(dir.path(), &[]);
    reqwest::blocking::Client::new()
        .post(first["verificationUri"].as_str().unwrap())
        .form(&[
            ("user_code", first["userCode"].as_str().unwrap()),
            ("action", "decline"),
        ])
        .send()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("declined"), "{err}");
    assert!(!dir.path().join("secrets/refresh-token").exists());
}
