#!/usr/bin/env bash
# Traceability matrix benchmark: `testbridge trace` (release build) over a sprint
# of 500 Jira issues with 5,000 tests linked through Testomat.io's issue
# property (ten each) and 250 more through test_grep (one for every other
# issue), against `testbridge sandbox` on loopback, which enforces Jira Cloud's
# rate limits. Three ways, each run REPS times:
#   - results: outcomes from a results file holding every test (--results);
#   - history: outcomes from each issue's testbridge.runs property;
#   - no-grep: as results, without TESTOMATIO (no test_grep requests), to show
#     what the Testomat.io lookups cost.
# Records wall time, peak RSS, the Jira and Testomat.io requests made, and the
# 1-minute load average; fails when a run's matrix is wrong or when the sandbox
# answered any request 429 (Jira's limits not respected) or refused one.
#
#   bench/trace-bench.sh [REPS] [--max-load X] [--max-wait S]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3
max_load=2.0
max_wait=300
while [ $# -gt 0 ]; do
  case "$1" in
    --max-load) max_load=$2; shift ;;
    --max-wait) max_wait=$2; shift ;;
    *) reps=$1 ;;
  esac
  shift
done
data=bench-data/trace
rm -rf "$data"
mkdir -p "$data"
swift build -c release >/dev/null
bin=$PWD/.build/release/testbridge

port=$((20000 + RANDOM % 20000))
"$bin" sandbox --port "$port" --jira-port "$((port + 1))" --ci-port "$((port + 2))" >"$data/sandbox.out" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "GITLAB_URL" "$data/sandbox.out" 2>/dev/null && break; sleep 0.1; done
eval "$(grep '^  export' "$data/sandbox.out" | grep -E 'TESTOMATIO_URL|JIRA_URL' | sed 's/^  //')"
export TESTOMATIO_PROJECT=shop TESTBRIDGE_SPOOL_DIR="$PWD/$data/spool"

# The sprint, its links and a results file with every test (seeded, so every run sees the same data).
python3 - "$data" <<'PY'
import json, sys
out = sys.argv[1]
def tid(n): return "%08x" % (0x10000000 + n)
issues, grep, tests = [], {}, []
for issue in range(1, 501):
    ids = [tid(issue * 10 + k) for k in range(10)]
    failed = sum(1 for k in range(10) if (issue + k) % 37 == 0)
    history = {"version": 1, "runs": [{"run_id": "nightly-%d" % issue, "title": "Nightly",
               "url": "https://app.testomat.io/projects/shop/runs/nightly", "status": "failed" if failed else "passed",
               "passed": 10 - failed, "failed": failed, "skipped": 0, "flaky": 0, "at": "2026-12-01T02:00:00Z"}]}
    issues.append({"key": "BIG-%d" % issue, "summary": "Story %d" % issue, "status": "Done" if issue % 3 == 0 else "To Do",
                   "sprints": [42], "properties": {"shop.testomatio.tests": ["@T" + i for i in ids],
                                                   "testbridge.runs": history}})
    if issue % 2 == 0:
        grep["BIG-%d" % issue] = ["@T" + tid(100000 + issue)]
    for k, i in enumerate(ids):
        outcome = "failed" if (issue + k) % 37 == 0 else "passed"
        tests.append({"name": "t" + i, "outcome": outcome, "testomatio_id": "@T" + i, "jira": []})
json.dump({"issues": issues, "max_results": 100}, open(out + "/jira-seed.json", "w"))
json.dump({"test_grep": {"jira": grep}}, open(out + "/testomatio-seed.json", "w"))
json.dump({"tests": tests}, open(out + "/results.json", "w"))
PY
curl -sf -X POST "$JIRA_URL/_sandbox/jira/seed" -H 'Content-Type: application/json' --data-binary "@$data/jira-seed.json" >/dev/null
curl -sf -X POST "$TESTOMATIO_URL/_sandbox/seed" -H 'Content-Type: application/json' --data-binary "@$data/testomatio-seed.json" >/dev/null

# Waits while the 1-minute load average is above max_load, max_wait seconds at most in all.
waited=0
wait_for_load() {
  while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v m="$max_load" 'BEGIN { exit !(l > m) }' && [ "$waited" -lt "$max_wait" ]; do
    sleep 5
    waited=$((waited + 5))
  done
}

# Counts from both sandboxes: Jira requests, 429s, refusals; Testomat.io test_grep requests.
counts() {
  curl -sf "$JIRA_URL/_sandbox/jira/state" >"$data/jira-state.json"
  curl -sf "$TESTOMATIO_URL/_sandbox/state" >"$data/testomatio-state.json"
  python3 -c '
import json, sys
jira, testomatio = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
grep = sum(1 for r in testomatio["requests"] if r["path"].startswith("/api/test_grep"))
print(len(jira["requests"]), len(jira["rate_limited"]), len(jira["refused"]), grep)' "$data/jira-state.json" "$data/testomatio-state.json"
}

run() { # label, extra arguments...
  local label=$1
  shift
  wait_for_load
  local load before after stats status=0
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  read -r -a before <<<"$(counts)"
  stats=$( { /usr/bin/time -f "%e %M" "$bin" trace --jira-sprint 42 --format json -o "$data/out-$label.json" "$@" \
    >"$data/stdout-$label.txt" 2>"$data/stderr-$label.txt"; } 2>&1 ) || status=$?
  stats=$(tail -1 "$data/stderr-$label.txt")
  read -r -a after <<<"$(counts)"
  read -r wall rss <<<"$stats"
  local summary
  summary=$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["figures"]
print("%d/%d issues with tests, %d tests, %d failing, %d never run" % (f["issues_with_tests"], f["issues"], f["tests"], f["tests_failing"], f["tests_never_run"]))' "$data/out-$label.json")
  printf '| %s | %s | %.1f | %s | %s | %s | %s | %s |\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)" \
    "$((after[0] - before[0]))" "$((after[3] - before[3]))" "$((after[1] - before[1]))" "$summary" "$load"
  if [ "$status" -ne 0 ] || ! grep -q "500 of 500 issue(s) have tests (100%)" "$data/stdout-$label.txt"; then
    echo "trace failed (exit $status): $(cat "$data/stdout-$label.txt" "$data/stderr-$label.txt" | head -5)" >&2
    exit 1
  fi
}

echo "| outcomes from | wall s | peak RSS MB | Jira requests | test_grep requests | Jira 429s | matrix | load (1, 5, 15 min) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
for _ in $(seq "$reps"); do
  run results --results "$data/results.json"
  run history
  TESTOMATIO='' run no-grep --results "$data/results.json"
done
read -r -a final <<<"$(counts)"
echo
echo "Jira requests answered 429 over all runs: ${final[1]}; refused: ${final[2]}; waited for the load: ${waited} s"
if [ "${final[1]}" -ne 0 ] || [ "${final[2]}" -ne 0 ]; then
  echo "Jira's rate limits were not respected, or a request was refused: see $JIRA_URL/_sandbox/jira/state" >&2
  exit 1
fi
