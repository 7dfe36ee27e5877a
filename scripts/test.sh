#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the UI's type check, the whole Rust test suite
# (SQLite and, when a server is reachable, PostgreSQL) and the app's end-to-end tests under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${MINGPIAN_TEST_POSTGRES:-postgres://postgres@localhost:5432/postgres}"
if command -v pg_isready >/dev/null && pg_isready -q -d "$PG_URL" 2>/dev/null; then
  echo "== PostgreSQL reachable at $PG_URL: the cloud's PostgreSQL suite runs"
else
  echo "== SKIPPING the cloud's PostgreSQL suite: no PostgreSQL at $PG_URL (set MINGPIAN_TEST_POSTGRES)"
fi

echo "== ui: type check (svelte-check, strict TypeScript)"
npm --prefix ui run --silent check
echo "== app: build the UI and the desktop app (debug, UI embedded)"
(cd src-tauri && ../ui/node_modules/.bin/tauri build --debug --no-bundle)
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (under Xvfb: the end-to-end tests drive the real app)"
PATH="$HOME/.cargo/bin:$PATH" timeout 3000 xvfb-run -a -s "-screen 0 1280x1024x24" \
  cargo test --workspace --locked
echo "== screenshots of every screen: target/e2e-screenshots/"
