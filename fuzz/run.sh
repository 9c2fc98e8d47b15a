#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time, one after the other.
#
#   fuzz/run.sh              # every target, 60 s each
#   fuzz/run.sh 300          # every target, 300 s each
#   fuzz/run.sh 120 junit    # these targets only
#
# Seeds: fuzz/seeds/<target>/ (committed); for junit also every report in
# ../shared/junit-corpus and the test fixtures. The growing corpus lives in
# .build/fuzz/corpus/<target>, crash inputs in .build/fuzz/artifacts/<target>/,
# logs in .build/fuzz/logs/. Reproduce a crash with: .build/fuzz/<target> <file>.
# Exits 1 when any target found a crash, leak, timeout or out-of-memory input.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(junit http-request arguments manual-plan jira-webhook)

out=.build/fuzz
fuzz/build.sh "${targets[@]}"

# Per target: the largest input worth trying.
declare -A max_len=(
  [junit]=131072
  [http-request]=8192
  [arguments]=2048
  [manual-plan]=16384
  [jira-webhook]=16384
)

# JUnit seeds: the shared corpus and the fixtures, flattened into one folder.
junit_seeds=$out/seeds-junit
rm -rf "$junit_seeds"
mkdir -p "$junit_seeds"
for root in ../shared/junit-corpus Tests/JUnitTests/Fixtures Tests/BridgeCLITests/Fixtures/reports; do
  [ -d "$root" ] || continue
  while IFS= read -r file; do
    cp "$file" "$junit_seeds/$(echo "$file" | tr '/' '_')"
  done < <(find "$root" -name '*.xml' -type f)
done

status=0
summary=()
for target in "${targets[@]}"; do
  corpus=$out/corpus/$target
  artifacts=$out/artifacts/$target
  log=$out/logs/$target.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  seeds=("fuzz/seeds/$target")
  [ "$target" = junit ] && seeds+=("$junit_seeds")
  echo "==> $target for ${seconds}s (log: $log)"
  set +e
  "$out/$target" "$corpus" "${seeds[@]}" \
    -max_total_time="$seconds" -max_len="${max_len[$target]}" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
  code=$?
  set -e
  executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  units=$(find "$corpus" -type f | wc -l)
  if [ "$code" -ne 0 ]; then
    status=1
    summary+=("$target: FAILED (exit $code) after ${executions:-?} executions; see $log and $artifacts/")
    grep -E '^==[0-9]+==ERROR|^SUMMARY|Fatal error|deadly signal|ERROR: libFuzzer' "$log" | head -5 || true
  else
    summary+=("$target: ${executions:-?} executions in ${seconds}s, no crash; corpus $units inputs")
  fi
done

echo
echo "==> summary"
printf '%s\n' "${summary[@]}"
exit $status
