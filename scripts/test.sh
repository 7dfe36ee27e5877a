#!/usr/bin/env bash
# Runs every check and test: formatting, lints, and the whole test suite (SQLite and, when a
# server is reachable, PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${MINGPIAN_TEST_POSTGRES:-postgres://postgres@localhost:5432/postgres}"
if command -v pg_isready >/dev/null && pg_isready -q -d "$PG_URL" 2>/dev/null; then
  echo "== PostgreSQL reachable at $PG_URL: the cloud's PostgreSQL suite runs"
else
  echo "== SKIPPING the cloud's PostgreSQL suite: no PostgreSQL at $PG_URL (set MINGPIAN_TEST_POSTGRES)"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
