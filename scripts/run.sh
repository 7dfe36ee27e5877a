#!/usr/bin/env bash
# Runs the product. Today that is the `mingpian` command line over cards, vCards and QR codes;
# the cloud and the app join here as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p mingpian-cli --locked
exec target/release/mingpian "${@:---help}"
