//! The data directory is private to its user (Unix): a new one is created 0700 with every file
//! Hookscope writes in it 0600, the database's WAL files included; a looser one found at start is
//! tightened, and the engine says so exactly once.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use hookscope_engine::export::{self, ExportFormat};
use hookscope_engine::store::NotificationFilter;
use hookscope_engine::{simulator, Engine, EngineConfig, ReceiverOptions};

fn mode(path: &Path) -> String {
    let found = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    // Octal, as `ls -l` and chmod speak, so a failure reads 0755 and not 493.
    format!("{:04o}", found & 0o7777)
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn beside(database: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[tokio::test]
async fn a_new_data_directory_and_everything_written_in_it_are_owner_only() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("hookscope");
    let config = EngineConfig::new(&data);
    let database = config.database_path();
    let engine = Engine::open(config).await.unwrap();

    assert_eq!(mode(&data), "0700", "the data directory");
    assert_eq!(mode(&database), "0600", "the database");
    assert_eq!(mode(&beside(&database, "-wal")), "0600", "its WAL");
    assert_eq!(
        mode(&beside(&database, "-shm")),
        "0600",
        "its shared memory"
    );
    assert_eq!(engine.privacy_notice(), None, "nothing was loose");

    let listening = engine
        .listen(&ReceiverOptions {
            port: 0,
            ..ReceiverOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(mode(&data.join("receiver.json")), "0600", "receiver.json");

    let running = simulator::start(simulator::SimulatorOptions::new(true))
        .await
        .unwrap();
    let announced = simulator::announce(&data, &running).unwrap();
    assert_eq!(announced, data.join("simulator.json"));
    assert_eq!(mode(&announced), "0600", "simulator.json");

    let exported = export::export_to_dir(
        &engine,
        &NotificationFilter::default(),
        ExportFormat::Jsonl,
        &listening.urls().local_url,
        &data.join("exports"),
    )
    .await
    .unwrap();
    assert_eq!(mode(&data.join("exports")), "0700", "the exports folder");
    assert_eq!(
        mode(Path::new(exported.path.as_deref().unwrap())),
        "0600",
        "an export"
    );

    running.stop().await;
    listening.stop().await;
    engine.close().await;
}

#[tokio::test]
async fn a_looser_directory_and_files_are_tightened_and_said_once() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("hookscope");
    let config = EngineConfig::new(&data);
    let database = config.database_path();
    Engine::open(config.clone()).await.unwrap().close().await;
    assert!(
        !beside(&database, "-wal").exists() && !beside(&database, "-shm").exists(),
        "a clean close leaves no WAL files behind, so the notice below names exactly these"
    );
    // As Hookscope left them before this fix: 0755 and 0644.
    set_mode(&data, 0o755);
    set_mode(&database, 0o644);
    std::fs::write(data.join("receiver.json"), "{}").unwrap();
    set_mode(&data.join("receiver.json"), 0o644);

    let engine = Engine::open(config.clone()).await.unwrap();
    assert_eq!(
        engine.privacy_notice().as_deref(),
        Some(
            format!(
                "Hookscope made its data private to you because other users of this machine could read it: \
                 {0} was 0755 (now 0700), {0}/hookscope.sqlite3 was 0644 (now 0600), \
                 {0}/receiver.json was 0644 (now 0600).",
                data.display()
            )
            .as_str()
        )
    );
    assert_eq!(mode(&data), "0700");
    assert_eq!(mode(&database), "0600");
    assert_eq!(mode(&data.join("receiver.json")), "0600");
    assert_eq!(
        mode(&beside(&database, "-wal")),
        "0600",
        "made by SQLite after the database was tightened, so with its mode"
    );
    assert_eq!(mode(&beside(&database, "-shm")), "0600");
    engine.close().await;

    let again = Engine::open(config.clone()).await.unwrap();
    assert_eq!(
        again.privacy_notice(),
        None,
        "said once: the next start finds it private"
    );
    again.close().await;

    // The list commands open the store for reading only; they tighten and tell too.
    set_mode(&database, 0o640);
    let reader = Engine::open_reader(config).await.unwrap();
    assert_eq!(
        reader.privacy_notice(),
        Some(format!(
            "Hookscope made its data private to you because other users of this machine could read it: \
             {}/hookscope.sqlite3 was 0640 (now 0600).",
            data.display()
        ))
    );
    assert_eq!(mode(&database), "0600");
    reader.close().await;
}

#[tokio::test]
async fn an_empty_folder_made_for_hookscope_is_tightened_without_a_word() {
    // `mkdir data; hookscope --data-dir data …`: 0755, but no Hookscope data was ever in it to expose.
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("made-by-the-user");
    std::fs::create_dir(&data).unwrap();
    set_mode(&data, 0o755);

    let engine = Engine::open(EngineConfig::new(&data)).await.unwrap();
    assert_eq!(mode(&data), "0700");
    assert_eq!(engine.privacy_notice(), None);
    engine.close().await;
}
