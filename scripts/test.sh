#!/usr/bin/env bash
# The whole test suite: Rust (engine and whole program), the UI's unit tests, and the end-to-end tests
# in a real window under Xvfb. Installs whatever is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== UI: build and unit tests"
npm run build --prefix ui
npm run check --prefix ui
npm test --prefix ui

echo "== Rust: formatting"
cargo fmt --all -- --check

echo "== Rust: engine and whole-program tests"
cargo test --workspace

echo "== End to end: the app in a real window (Xvfb + tauri-driver + WebKitWebDriver)"
export PATH="$HOME/.cargo/bin:$PATH"
dbus-run-session -- xvfb-run -a -s "-screen 0 1400x900x24" cargo test --test e2e -- --ignored --test-threads=1
