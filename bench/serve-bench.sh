#!/usr/bin/env bash
# Load benchmark of `testbridge serve` on loopback with wrk: webhooks rejected
# (bad signature: 401, no side effect) and accepted (signed, each delivery id
# unique: a Testomat.io run is created and a GitHub dispatch made, both in the
# local sandbox). Records requests/s, latency, serve's peak RSS, and checks that
# serve is still healthy and that no accepted trigger was lost (dispatches
# recorded == 202 answers).
#
#   bench/serve-bench.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-16}
data=bench-data/serve
mkdir -p "$data"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release >/dev/null
bin=$PWD/.build/release/testbridge

"$bin" sandbox >"$data/sandbox.out" 2>&1 &
sandbox=$!
trap 'kill $sandbox $serve 2>/dev/null || true' EXIT
serve=""
for _ in $(seq 100); do grep -q "GITLAB_URL" "$data/sandbox.out" 2>/dev/null && break; sleep 0.1; done
eval "$(grep '^  export' "$data/sandbox.out" | grep -v GITLAB | sed 's/^  //')"
testomatio_url=$TESTOMATIO_URL
ci_url=$GITHUB_API_URL
curl -sf -X POST "$testomatio_url/_sandbox/seed" -H 'Content-Type: application/json' \
  -d '{"test_grep": {"jira": {"SHOP-1": ["1a2b3c4d", "5e6f7a8b"]}}}' >/dev/null

secret=bench-webhook-secret
port=$((20000 + RANDOM % 20000))
TESTBRIDGE_WEBHOOK_SECRET=$secret "$bin" serve --listen "127.0.0.1:$port" --max-connections 256 \
  >"$data/serve.out" 2>"$data/serve.log" &
serve=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

body='{"webhookEvent":"jira:issue_updated","issue":{"key":"SHOP-1","fields":{"project":{"key":"SHOP"},"labels":[],"status":{"name":"Ready for QA"}}}}'
signature="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //')"
cat >"$data/accepted.lua" <<LUA
local counter = 0
request = function()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["X-Hub-Signature"] = "$signature"
  headers["X-Atlassian-Webhook-Identifier"] = "bench-" .. tostring(id) .. "-" .. tostring(counter)
  return wrk.format("POST", "/hooks/jira", headers, '$body')
end
setup = function(thread) thread:set("id", math.random(1, 1000000000)) end
LUA
cat >"$data/rejected.lua" <<LUA
request = function()
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["X-Hub-Signature"] = "sha256=0000000000000000000000000000000000000000000000000000000000000000"
  return wrk.format("POST", "/hooks/jira", headers, '$body')
end
LUA

rss() { awk '/VmHWM/ {print $2}' "/proc/$serve/status"; }
run() { # label, script
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$data/$2.lua" "http://127.0.0.1:$port" >"$data/$2.txt" 2>&1
  local rps p50 p99 total non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$data/$2.txt")
  p50=$(awk '$1=="50%" {print $2}' "$data/$2.txt")
  p99=$(awk '$1=="99%" {print $2}' "$data/$2.txt")
  total=$(awk '/requests in/ {print $1}' "$data/$2.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$data/$2.txt"); non2xx=${non2xx:-0}
  echo "| $1 | $connections | $seconds | $total | $non2xx | $rps | $p50 | $p99 | $(( $(rss) / 1024 )) |"
}

echo "| hooks | connections | seconds | requests | non-2xx | requests/s | p50 | p99 | serve peak RSS MiB |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
run "rejected (bad signature, 401)" rejected
run "accepted (signed, 202: run created + GitHub dispatch)" accepted
accepted_total=$(awk '/requests in/ {print $1}' "$data/accepted.txt")
accepted_non2xx=$(awk '/Non-2xx/ {print $5}' "$data/accepted.txt"); accepted_non2xx=${accepted_non2xx:-0}
dispatches=$(curl -sf "$ci_url/_sandbox/ci/state" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["github"]["dispatches"]))')
healthy=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
echo
echo "accepted answers (2xx): $((accepted_total - accepted_non2xx)); GitHub dispatches recorded: $dispatches; /healthz after the load: $healthy"
