#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time, one after the other.
#
#   fuzz/run.sh              # every target, 60 s each
#   fuzz/run.sh 300          # every target, 300 s each
#   fuzz/run.sh 120 junit    # these targets only
#
# Seeds: fuzz/seeds/<target>/ (committed), plus inputs made from the project's
# own files: for junit every report in ../shared/junit-corpus and the test
# fixtures; for arguments the command lines of the golden CLI cases; for
# manual-plan the plan and answers examples of docs/manual-plans.md; for
# jira-webhook the committed bodies with ci-examples/serve/rules.json as rules.
# (http-request has no request fixtures to draw on: its committed seeds only.) The growing corpus lives in
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
    name=${file#../}
    cp "$file" "$junit_seeds/$(echo "$name" | tr '/' '_')"
  done < <(find "$root" -name '*.xml' -type f)
done

# Arguments seeds: each golden CLI case (Tests/BridgeCLITests/Fixtures/cli/*/args.txt,
# one argument a line, the command first) in the target's layout: the command's
# index in BridgeCLI.commands, then the arguments separated by NUL.
arguments_seeds=$out/seeds-arguments
rm -rf "$arguments_seeds"
mkdir -p "$arguments_seeds"
commands=()
while IFS= read -r type; do
  commands+=("$(echo "${type%Command}" | tr '[:upper:]' '[:lower:]')")
done < <(sed -n '/static let commands:/,/]/p' Sources/BridgeCLI/BridgeCLI.swift | grep -o '[A-Za-z]*Command\.self' | sed 's/\.self$//')
for args in Tests/BridgeCLITests/Fixtures/cli/*/args.txt; do
  [ -f "$args" ] || continue
  name=$(head -n 1 "$args" | tr -d '-')
  for index in "${!commands[@]}"; do
    [ "${commands[$index]}" = "$name" ] || continue
    {
      printf "\\$(printf '%03o' "$index")"
      separator=''
      while IFS= read -r argument; do
        printf "$separator%s" "$argument"
        separator='\0'
      done < <(tail -n +2 "$args")
    } >"$arguments_seeds/$(basename "$(dirname "$args")").bin"
  done
done

# Manual-plan seeds: the documented plan, alone and with the documented answers.
manual_seeds=$out/seeds-manual-plan
rm -rf "$manual_seeds"
mkdir -p "$manual_seeds"
fenced() { awk -v lang="$2" '$0 == "```" lang { on = 1; next } on && $0 == "```" { exit } on { print }' "$1"; }
if [ -f docs/manual-plans.md ]; then
  fenced docs/manual-plans.md markdown >"$manual_seeds/doc-plan.bin"
  { cat "$manual_seeds/doc-plan.bin"; printf '\0'; fenced docs/manual-plans.md text; } >"$manual_seeds/doc-plan-answers.bin"
fi

# Jira-webhook seeds: each committed body with the example rules file as its rules part.
webhook_seeds=$out/seeds-jira-webhook
rm -rf "$webhook_seeds"
mkdir -p "$webhook_seeds"
if [ -f ci-examples/serve/rules.json ]; then
  for seed in fuzz/seeds/jira-webhook/*; do
    { sed -z q "$seed" | tr -d '\0'; printf '\0'; cat ci-examples/serve/rules.json; } >"$webhook_seeds/$(basename "$seed")"
  done
fi

status=0
summary=()
for target in "${targets[@]}"; do
  corpus=$out/corpus/$target
  artifacts=$out/artifacts/$target
  log=$out/logs/$target.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  seeds=("fuzz/seeds/$target")
  case $target in
    junit) seeds+=("$junit_seeds") ;;
    arguments) seeds+=("$arguments_seeds") ;;
    manual-plan) seeds+=("$manual_seeds") ;;
    jira-webhook) seeds+=("$webhook_seeds") ;;
  esac
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
