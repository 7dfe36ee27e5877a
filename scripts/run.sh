#!/usr/bin/env bash
# Runs the product: the Mingpian cloud on an embedded SQLite database in ./mingpian-data at
# http://127.0.0.1:8787, and the desktop app pointed at it. Stops the cloud when the app closes.
# Without a display (a server), only the cloud runs. Override with MINGPIAN_* variables.
# Installs what it needs first (scripts/setup.sh is idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -p mingpian-cloud -p mingpian-cli
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display; serving the cloud only (the app needs a desktop session)"
  exec target/release/mingpian-cloud serve "$@"
fi
(cd src-tauri && ../ui/node_modules/.bin/tauri build --no-bundle)
target/release/mingpian-cloud serve "$@" &
cloud=$!
trap 'kill $cloud 2>/dev/null || true' EXIT
MINGPIAN_SERVER="${MINGPIAN_SERVER:-http://127.0.0.1:8787}" target/release/mingpian-app
