//! The UI's generated TypeScript types must match the Rust types; a stale file fails here.

use std::path::PathBuf;

#[test]
fn generated_typescript_bindings_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings.ts");
    let fresh = hookscope_engine::bindings::typescript();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &fresh).expect("write bindings");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/lib/bindings.ts is stale; regenerate it with `UPDATE_BINDINGS=1 cargo test -p hookscope-engine --test bindings`"
    );
}
