#!/usr/bin/env bash
# Runs the product: the Mingpian cloud on an embedded SQLite database in ./mingpian-data,
# listening on http://127.0.0.1:8787 (override with MINGPIAN_* variables or --config).
# The app joins here when it lands; meanwhile `target/release/mingpian` is the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p mingpian-cloud -p mingpian-cli
exec target/release/mingpian-cloud serve "$@"
