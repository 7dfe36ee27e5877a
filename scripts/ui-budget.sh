#!/usr/bin/env bash
# The UI's size budget: the JS and CSS the app loads, gzipped, at most 150 KB (icons included:
# they are inline SVG components in the bundle). Run after `npm --prefix ui run build`.
set -euo pipefail
cd "$(dirname "$0")/../ui/dist"
budget=$((150 * 1024))
total=0
for f in assets/*.js assets/*.css; do
  size=$(gzip -9 -c "$f" | wc -c)
  printf '%8d B gzipped  %s\n' "$size" "$f"
  total=$((total + size))
done
printf '%8d B gzipped  total (budget %d B)\n' "$total" "$budget"
[ "$total" -le "$budget" ] || { echo "ui-budget: over budget" >&2; exit 1; }
