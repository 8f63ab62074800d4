#!/usr/bin/env bash
# Installs what a fresh Debian 12 / Ubuntu 22.04+ machine lacks to build, run and test Hookscope:
# the webview stack, the test tools (Xvfb, WebKitWebDriver, a D-Bus notification daemon), the npm
# packages, and tauri-driver. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  # build: the webview, GTK, and what Tauri's bundler uses
  build-essential pkg-config curl file libssl-dev
  libdbus-1-dev libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  # tests: a display, the WebDriver for WebKitGTK, a session bus and a notification daemon
  xvfb webkit2gtk-driver dbus dbus-x11 python3-dbusmock dunst libnotify-bin
  # screenshots and the benchmark's tools
  imagemagick x11-apps sqlite3 nodejs npm
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere (nvm, NodeSource); only ask apt for it when there is none at all.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done; missing=("${filtered[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing; install it from https://rustup.rs and run this again." >&2
  exit 1
fi

# The UI's packages and the benchmark's Express baseline, exactly as locked.
npm ci --prefix ui --no-audit --no-fund --loglevel=error
npm ci --prefix bench/express-receiver --no-audit --no-fund --loglevel=error

# tauri-driver bridges WebDriver to WebKitWebDriver for the end-to-end tests. Pinned to 2.x: 3.0 is alpha.
if ! "$HOME/.cargo/bin/tauri-driver" --help >/dev/null 2>&1; then
  cargo install tauri-driver --locked --version 2.1.0
fi
