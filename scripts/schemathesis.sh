#!/usr/bin/env bash
# Checks the live node against Protocol/openapi.yaml with schemathesis: every operation,
# generated and mutated requests, every check (status codes, content types, headers and
# bodies as documented, no 5xx, bad input refused). Bounded by time.
#
#   scripts/schemathesis.sh [SECONDS]        (default 60; needs `pip install schemathesis`)
#
# Uses the debug build (`swift build`) unless CASESYNCD names another binary. Exits non-zero
# when schemathesis finds a deviation.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
daemon="${CASESYNCD:-.build/debug/casesyncd}"
[ -x "$daemon" ] || { echo "schemathesis.sh: no $daemon; run \`swift build\` first" >&2; exit 1; }
# `st` where pip put it, or through Python when that folder is not on PATH.
if command -v st >/dev/null; then st=(st); else st=(python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "st"; schemathesis()'); fi
"${st[@]}" --version >/dev/null 2>&1 || { echo "schemathesis.sh: schemathesis is not installed; run \`pip install schemathesis\`" >&2; exit 1; }

data="$(mktemp -d)"
log="$data/serve.log"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

"$daemon" user add sue --role supervisor --data "$data/node" >/dev/null
"$daemon" user add rita --role reporter --data "$data/node" >/dev/null
"$daemon" serve --data "$data/node" --port 0 >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
port="$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -1)"
[ -n "$port" ] || { echo "schemathesis.sh: the node did not start: $(cat "$log")" >&2; exit 1; }

# A supervisor's device: it may push, pull, export and read the summary.
token="$("$daemon" enroll sue --data "$data/node" | tail -1)"
# Python, not curl: CI machines have libcurl but not necessarily the curl program.
secret="$(python3 - "$port" "$token" <<'PY'
import json, sys, urllib.request
port, token = sys.argv[1], sys.argv[2]
body = json.dumps({"device": "sue-desk", "name": "sue-desk", "token": token}).encode()
request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/enroll", data=body, headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request))["secret"])
PY
)"
[ -n "$secret" ] || { echo "schemathesis.sh: enrollment failed" >&2; exit 1; }

"${st[@]}" --config-file Protocol/schemathesis.toml run Protocol/openapi.yaml --url "http://127.0.0.1:$port" \
  -H "Authorization: Bearer sue-desk:$secret" \
  --checks all --max-time "$seconds" --workers 1 --suppress-health-check all "${@:2}"
