#!/usr/bin/env bash
# Sets up what is missing, builds the UI and the app, and opens Hookscope.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
npm run build --prefix ui
exec cargo run --release -- "$@"
