#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a fresh cloud's /openapi.json: every operation, DELETE
# included, the stateful phase following the API's links, and no generated request may get a
# 5xx. Usage: tools/schemathesis.sh [max examples per operation, default 60]
#
# Real data for the operations that need it: a code of the tester's own set for the web card,
# a card in the tester's inbox, and a throwaway device of the tester's (to log out;
# never the device whose token the run uses).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install -q "schemathesis==4.32.5"
cargo build -q -p mingpian-cloud
dir=$(mktemp -d)
printf '[rate_limit]\napi_per_ip = 0\napi_per_account = 0\nauth_per_ip = 0\nweb_reply_per_ip = 0\nweb_card_per_ip = 0\n' > "$dir/cloud.toml"
port=18787
base="http://127.0.0.1:$port"
MINGPIAN_LOG=warn target/debug/mingpian-cloud --config "$dir/cloud.toml" serve --listen "127.0.0.1:$port" --data-dir "$dir" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "$base/health" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import sys, json; d = json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
post() { curl -sf -X POST "$base$1" -H 'content-type: application/json' ${3:+-H "Authorization: Bearer $3"} -d "$2"; }

token=$(post /api/v1/accounts '{"name":"Schema Tester","phone":"13800009999","password":"long password here"}' | json "d['token']")
friend=$(post /api/v1/accounts '{"name":"Schema Friend","phone":"13800008888","password":"long password here"}' | json "d['token']")
throwaway=$(post /api/v1/sessions '{"login":"Schema Tester","password":"long password here"}' | json "d['device_id']")
printed=$(curl -sf "$base/api/v1/sets/1/code" -H "Authorization: Bearer $token" | json "d['printed_url']")
code_id=$(echo "$printed" | awk -F/ '{print $(NF-1)}')
post /api/v1/exchanges "{\"scanned\":\"$printed\",\"give_set\":1,\"idempotency_key\":\"schemathesis-1\"}" "$friend" >/dev/null

cat > "$dir/schemathesis.toml" <<EOF
[[operations]]
include-name = "DELETE /api/v1/devices/{id}"
parameters = { id = $throwaway }

[[operations]]
include-path-regex = "^/c/"
parameters = { public_id = "$code_id", set = "1" }
EOF

schemathesis --config-file "$dir/schemathesis.toml" run "$base/openapi.json" \
  -c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  -H "Authorization: Bearer $token" -n "${1:-60}"
