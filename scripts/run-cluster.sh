#!/usr/bin/env bash
# Runs Mingpian as an operator deploys it, on one machine: two cloud instances on one PostgreSQL
# database, rate limits shared in Redis, live delivery across instances (PostgreSQL NOTIFY), and
# HAProxy in front (scripts/cluster/haproxy.cfg). Clients and the app use http://127.0.0.1:8787.
# Ctrl-C stops everything.
#
#   MINGPIAN_DATABASE_URL  default postgres://postgres@localhost:5432/mingpian (created if missing)
#   MINGPIAN_REDIS_URL     default redis://127.0.0.1:6379
#   MINGPIAN_LB_LISTEN     default 127.0.0.1:8787; the instances listen on 127.0.0.1 at the next
#                          two ports
#   MINGPIAN_PUBLIC_URL    default http://$MINGPIAN_LB_LISTEN (what codes and links point at)
set -euo pipefail
cd "$(dirname "$0")/.."
# What building needs (Rust's C toolchain, psql, curl, HAProxy, …; idempotent, as for run.sh).
bash scripts/setup.sh
cargo build --release --locked -p mingpian-cloud

export MINGPIAN_DATABASE_URL="${MINGPIAN_DATABASE_URL:-postgres://postgres@localhost:5432/mingpian}"
export MINGPIAN_REDIS_URL="${MINGPIAN_REDIS_URL:-redis://127.0.0.1:6379}"
export MINGPIAN_LB_LISTEN="${MINGPIAN_LB_LISTEN:-127.0.0.1:8787}"
export MINGPIAN_PUBLIC_URL="${MINGPIAN_PUBLIC_URL:-http://$MINGPIAN_LB_LISTEN}"
port="${MINGPIAN_LB_LISTEN##*:}"
# The instances listen on loopback only, whatever address the proxy takes: reachable through it
# alone, and they see every client through it, so they trust its forwarded address.
export MINGPIAN_A="127.0.0.1:$((port + 1))" MINGPIAN_B="127.0.0.1:$((port + 2))"
export MINGPIAN_TRUSTED_PROXIES="127.0.0.1"

# The database, created on first run (the instances migrate it; migrations take a lock, so two
# starting at once is safe).
base="${MINGPIAN_DATABASE_URL%%\?*}"
query="${MINGPIAN_DATABASE_URL#"$base"}"
db="${base##*/}"
admin="${base%/*}/postgres$query"
exists=$(psql "$admin" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db'") || {
  echo "run-cluster: cannot reach PostgreSQL at $admin: set MINGPIAN_DATABASE_URL (with a password, or a socket URL such as postgres:///mingpian?host=/var/run/postgresql)" >&2
  exit 1
}
if [ "$exists" != 1 ]; then
  echo "run-cluster: creating database $db"
  psql "$admin" -qc "CREATE DATABASE \"$db\""
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
for listen in "$MINGPIAN_A" "$MINGPIAN_B"; do
  MINGPIAN_LISTEN="$listen" "${CARGO_TARGET_DIR:-target}/release/mingpian-cloud" serve &
  pids+=($!)
done
for listen in "$MINGPIAN_A" "$MINGPIAN_B"; do
  for _ in $(seq 100); do
    curl -fsS "http://$listen/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://$listen/health" >/dev/null || { echo "run-cluster: instance $listen did not start" >&2; exit 1; }
done
haproxy -db -f scripts/cluster/haproxy.cfg &
pids+=($!)
echo "run-cluster: serving at $MINGPIAN_PUBLIC_URL (instances $MINGPIAN_A and $MINGPIAN_B, database $db, Redis $MINGPIAN_REDIS_URL)"
wait -n "${pids[@]}" || true
echo "run-cluster: a process stopped; stopping the rest" >&2
exit 1
