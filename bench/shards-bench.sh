#!/usr/bin/env bash
# Sharding benchmark: S shards (default 32) x R results each (default 5,000)
# reported at once into one run of the local Testomat.io sandbox with
# --run-from-ci, then closed once, two ways:
#   finish  a final `testbridge finish --merge` job merges the results files
#   last    no final job: `--shards S` makes the last shard to end close the run
# Prints one table row per way: request counts by kind, whether every result was
# stored exactly once, the close count, wall times and the load average.
#
# The sandbox answers every request from one actor; on a loaded 2-core machine 32
# shards' batches of 1,000 queue behind each other for longer than the default
# 20 s request timeout, so the requests get REQUEST_TIMEOUT_MS (default 120000).
# Anything a shard still could not deliver is spooled; the script then flushes the
# spool and closes with `finish`, and says so in the "spooled" and "closed by" columns.
#
#   bench/shards-bench.sh [SHARDS] [RESULTS_PER_SHARD] [finish|last|both]
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-32}
per=${2:-5000}
modes=${3:-both}
[ "$modes" = both ] && modes="finish last"
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
  GITHUB_ACTIONS=true GITHUB_REPOSITORY=org/app GITHUB_RUN_ATTEMPT=1 \
  TESTOMATIO_REQUEST_TIMEOUT="${REQUEST_TIMEOUT_MS:-120000}"

echo "| way | shards | results | runs | results stored | max receives per rid | create | uploads | finish_parallel | closes | requests | spooled | closed by | shards wall s | close s | load at start (1/5/15 min) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |"
pipeline=777
for mode in $modes; do
  curl -sf -X POST "http://127.0.0.1:$port/_sandbox/reset" >/dev/null
  pipeline=$((pipeline + 1))
  out="$data/$mode"
  mkdir -p "$out"
  export TESTBRIDGE_SPOOL_DIR="$out/spool"
  extra=()
  [ "$mode" = last ] && extra=(--shards "$shards")
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  start=$(date +%s.%N)
  pids=()
  for shard in $(seq "$shards"); do
    GITHUB_RUN_ID=$pipeline "$bin" report --run-from-ci --shard "$shard/$shards" "${extra[@]}" \
      --results-out "$out/results-$shard.json" "$data/junit-$shard.xml" >"$out/shard-$shard.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  shards_done=$(date +%s.%N)
  spooled=$( (find "$out/spool" -mindepth 1 -maxdepth 1 -type d 2>/dev/null || true) | wc -l)
  closer=finish
  if [ "$mode" = last ]; then closer=$(grep -l "This shard ended last" "$out"/shard-*.log | sed 's/.*shard-\([0-9]*\).log/shard \1/' | head -1 || true); fi
  if [ "$spooled" -gt 0 ]; then
    GITHUB_RUN_ID=$pipeline "$bin" flush >"$out/flush.log" 2>&1 || echo "flush failed: see $out/flush.log" >&2
    [ "$mode" = last ] && [ -z "$closer" ] && closer="finish after flush"
  fi
  if [ "$mode" = finish ] || [ "$closer" = "finish after flush" ]; then
    GITHUB_RUN_ID=$pipeline "$bin" finish --merge "$out/results-*.json" --shards "$shards" >"$out/finish.log" 2>&1 || echo "finish failed: see $out/finish.log" >&2
  fi
  finished=$(date +%s.%N)
  curl -sf "http://127.0.0.1:$port/_sandbox/state" | python3 -c '
import json, sys
mode, shards, per, t0, t1, t2, load, spooled, closer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), sys.argv[7], sys.argv[8], sys.argv[9]
s = json.load(sys.stdin)
runs = s["runs"]
run = runs[0]
requests = s["requests"]
creates = sum(1 for r in requests if r["method"] == "POST" and r["path"] == "/api/reporter")
uploads = sum(1 for r in requests if r["path"].endswith("/testrun"))
stored, expected = len(run["results"]), shards * per
once = stored == expected and len(set(r["rid"] for r in run["results"])) == stored
cells = [mode, shards, expected, len(runs), stored, max(run["rid_counts"].values()), creates, uploads,
         run["parallel_finish_count"], run["finish_count"], len(requests), spooled, closer,
         "%.1f" % (t1 - t0), "%.2f" % (t2 - t1), load]
print("| " + " | ".join(str(cell) for cell in cells) + " |")
if not once or len(runs) != 1 or run["finish_count"] != 1:
    closes = run["finish_count"]
    print(f"check failed: {len(runs)} run(s), {stored} of {expected} results stored, closes {closes}", file=sys.stderr)
    sys.exit(1)
' "$mode" "$shards" "$per" "$start" "$shards_done" "$finished" "$load" "$spooled" "$closer"
done
