#!/usr/bin/env bash
# Keeps the app that `tauri build --debug --no-bundle` just built (the UI embedded) for the
# end-to-end test, with its bundled resources (the OCR models) beside it as the resource folder.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf target/e2e-app
mkdir -p target/e2e-app
cp target/debug/mingpian-app target/e2e-app/
if [ -d target/debug/models ]; then cp -r target/debug/models target/e2e-app/; fi
