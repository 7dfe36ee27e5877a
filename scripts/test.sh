#!/usr/bin/env bash
# Runs every check and test: formatting and lints first (they are quick), the UI's type check, the
# whole Rust test suite (SQLite, PostgreSQL and Redis, the security suite, the wallet's model test)
# and the app's end-to-end tests under Xvfb. Installs what it needs first (scripts/setup.sh is
# idempotent), so on a fresh Debian 12 machine this one command is enough.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# One build from scratch: incremental caches would only add gigabytes to the target folder.
export CARGO_INCREMENTAL=0

# PostgreSQL and Redis run on this machine and on CI's. With MINGPIAN_TEST_POSTGRES set (CI sets
# it), a PostgreSQL that cannot be reached fails the suite instead of skipping its half.
if [ -n "${MINGPIAN_TEST_POSTGRES:-}" ]; then
  echo "== PostgreSQL required at $MINGPIAN_TEST_POSTGRES"
else
  echo "== MINGPIAN_TEST_POSTGRES is not set: the PostgreSQL half runs when a server answers at the default URL, and says SKIPPED when none does"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== ui: type check (svelte-check, strict TypeScript, the generated bindings and the plugins' own types)"
npm --prefix ui run --silent check
echo "== app: build the UI and the desktop app (debug, UI embedded)"
(cd src-tauri && ../ui/node_modules/.bin/tauri build --debug --no-bundle)
# The end-to-end test drives this build (the UI embedded) from target/e2e-app/: `cargo test
# --workspace` below builds target/debug/mingpian-app again without the embedded UI (the Tauri
# CLI adds `tauri/custom-protocol` only to its own builds), which would load a dev server instead.
bash scripts/e2e-app.sh
echo "== ui: size budget"
bash scripts/ui-budget.sh
echo "== cargo test (under Xvfb: the end-to-end tests drive the real app)"
PATH="$HOME/.cargo/bin:$PATH" timeout 3000 xvfb-run -a -s "-screen 0 1280x1024x24" \
  cargo test --workspace --locked
echo "== screenshots of every screen: target/e2e-screenshots/"
