//! tauri-build: reads the root tauri.conf.json, and declares the app's commands so each needs an
//! explicit grant in a capability (the IPC surface stays reviewable).

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let manifest = tauri_build::AppManifest::new().commands(&[
        "receiver_status",
        "notifications_page",
        "inspect_notification",
        "replay_delivery",
        "watch_feed",
        "try_without_tenant",
        "sandbox_send",
        "graph_status",
        "catalog",
        "subscriptions_list",
        "subscribe",
        "renew_subscription",
        "delete_subscription",
        "remote_subscriptions",
        "keeper_history",
        "doctor",
        "sign_in_app",
        "start_device_sign_in",
        "finish_device_sign_in",
        "sign_out",
        "watch_status",
        "settings_get",
        "settings_save",
        "open_sign_in_page",
        "export_notifications",
        "fetch_current_resource",
    ]);
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(manifest),
    )
    .expect("tauri-build");
}
