//! How WebKitGTK draws the window. Without a GPU (no DRM render node: a VM, a remote desktop, Xvfb) its
//! accelerated compositing runs on Mesa's software OpenGL, which costs more than drawing without it:
//! on the benchmark's machine, compositing off took idle memory from 362 to 269 MiB, first paint from
//! 947 to 615 ms, and a 1,000/s flood from 33 frames over 50 ms to none (docs/performance.md). So there
//! Hookscope turns compositing off; with a GPU, WebKit's default stands. A user's own setting wins.

const COMPOSITING_OFF: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Chooses before GTK starts (and before any thread exists, as setting the environment requires).
pub fn choose() {
    if cfg!(target_os = "linux") && std::env::var_os(COMPOSITING_OFF).is_none() && !has_gpu() {
        std::env::set_var(COMPOSITING_OFF, "1");
    }
}

/// A DRM render node is what hardware OpenGL needs; without one, GL is software.
fn has_gpu() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|nodes| {
            nodes
                .flatten()
                .any(|n| n.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false)
}
