#!/usr/bin/env bash
# Delivery benchmark: N results (default 100,000) from one JUnit report to the
# local Testomat.io sandbox, batched (testbridge's default) versus one request
# per result (what the official reporter does with batching off). Records wall
# time, peak RSS of testbridge, and the number of upload requests the sandbox saw.
#
#   bench/report-bench.sh [RESULTS]
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-100000}
data=bench-data/report
mkdir -p "$data"
swift build -c release >/dev/null
bin=.build/release/testbridge

python3 - "$results" "$data/results.xml" <<'PY'
import random, sys
count, path = int(sys.argv[1]), sys.argv[2]
random.seed(7)
with open(path, "w") as out:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
    per_suite = 100
    for start in range(0, count, per_suite):
        out.write(f'<testsuite name="tests.module_{start // per_suite}">\n')
        for index in range(start, min(start + per_suite, count)):
            name = f"test_case_{index}"
            roll = random.random()
            if roll < 0.03:
                out.write(f'<testcase classname="tests.module_{start // per_suite}" name="{name}" time="0.{index % 1000:03d}">'
                          f'<failure message="assert {index} == {index + 1}">Traceback:\n  File "tests/t.py", line {index % 300 + 1}\nAssertionError</failure></testcase>\n')
            elif roll < 0.07:
                out.write(f'<testcase classname="tests.module_{start // per_suite}" name="{name}" time="0"><skipped message="later"/></testcase>\n')
            else:
                out.write(f'<testcase classname="tests.module_{start // per_suite}" name="{name}" time="0.{index % 1000:03d}"/>\n')
        out.write('</testsuite>\n')
    out.write('</testsuites>\n')
PY

port=$((20000 + RANDOM % 20000))
"$bin" sandbox --port "$port" >"$data/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/_sandbox/state" >/dev/null && break; sleep 0.1; done
export TESTOMATIO_URL="http://127.0.0.1:$port" TESTOMATIO=tstmt_sandbox TESTBRIDGE_SPOOL_DIR="$data/spool"

measure() { # label, batch size
  curl -sf -X POST "http://127.0.0.1:$port/_sandbox/reset" >/dev/null
  local stats
  stats=$( { /usr/bin/time -f "%e %M" "$bin" report --batch-size "$2" "$data/results.xml" >/dev/null 2>"$data/report.err"; } 2>&1 | tail -1 ) || true
  stats=$(tail -1 "$data/report.err")
  local state uploads delivered
  state=$(curl -sf "http://127.0.0.1:$port/_sandbox/state")
  uploads=$(python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["runs"][0]["batch_indexes"]))' <<<"$state")
  delivered=$(python3 -c 'import json,sys; s=json.load(sys.stdin); r=s["runs"][0]; print(len(r["results"]), max(r["rid_counts"].values()))' <<<"$state")
  read -r wall rss <<<"$stats"
  printf '| %s | %s | %s | %s | %.1f | %s |\n' "$1" "$results" "$uploads" "${delivered% *}" "$(echo "$rss / 1024" | bc -l)" "$wall"
}

echo "| mode | results | upload requests | results stored (each once) | peak RSS MB | wall s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
measure "testbridge, batches of 1000 (default)" 1000
measure "one request per result (--batch-size 1)" 1
