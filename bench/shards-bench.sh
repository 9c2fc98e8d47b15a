#!/usr/bin/env bash
# Sharding benchmark: S shards (default 32) x R results each (default 5,000)
# reported at once into one run of the local Testomat.io sandbox with
# --run-from-ci, then merged and closed by `testbridge finish --merge`.
# Records the wall time of the shards, of the finish, and the request counts.
#
#   bench/shards-bench.sh [SHARDS] [RESULTS_PER_SHARD]
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-32}
per=${2:-5000}
data=bench-data/shards
rm -rf "$data" && mkdir -p "$data"
swift build -c release >/dev/null
bin=$PWD/.build/release/testbridge

python3 - "$shards" "$per" "$data" <<'PY'
import sys
shards, per, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for shard in range(1, shards + 1):
    with open(f"{folder}/junit-{shard}.xml", "w") as out:
        out.write(f'<testsuites><testsuite name="shard{shard}">\n')
        for index in range(per):
            fail = '<failure message="x">y</failure>' if index % 97 == 0 else ""
            out.write(f'<testcase classname="suite.s{shard}" name="test_{index}" time="0.01">{fail}</testcase>\n')
        out.write('</testsuite></testsuites>\n')
PY

port=$((20000 + RANDOM % 20000))
"$bin" sandbox --port "$port" >"$data/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/_sandbox/state" >/dev/null && break; sleep 0.1; done
export TESTOMATIO_URL="http://127.0.0.1:$port" TESTOMATIO=tstmt_sandbox TESTOMATIO_TITLE=Bench \
  GITHUB_ACTIONS=true GITHUB_REPOSITORY=org/app GITHUB_RUN_ID=777 GITHUB_RUN_ATTEMPT=1 \
  TESTBRIDGE_SPOOL_DIR="$data/spool"

start=$(date +%s.%N)
pids=()
for shard in $(seq "$shards"); do
  "$bin" report --run-from-ci --shard "$shard/$shards" --results-out "$data/results-$shard.json" \
    "$data/junit-$shard.xml" >"$data/shard-$shard.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
shards_done=$(date +%s.%N)
"$bin" finish --merge "$data/results-*.json" --shards "$shards" >"$data/finish.log" 2>&1
finished=$(date +%s.%N)

curl -sf "http://127.0.0.1:$port/_sandbox/state" | python3 -c '
import json, sys
shards, per, t0, t1, t2 = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
s = json.load(sys.stdin)
runs = s["runs"]
run = runs[0]
print("| shards | results | runs | results stored | max rid count | upload requests | finish_parallel | closes | shards wall s | finish s |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
cells = [shards, shards * per, len(runs), len(run["results"]), max(run["rid_counts"].values()),
         len(run["batch_indexes"]), run["parallel_finish_count"], run["finish_count"],
         "%.1f" % (t1 - t0), "%.2f" % (t2 - t1)]
print("| " + " | ".join(str(cell) for cell in cells) + " |")
' "$shards" "$per" "$start" "$shards_done" "$finished"
