#!/usr/bin/env bash
# Runs part of the test suite under a sanitizer.
#
#   scripts/sanitize.sh address [FILTER]   # AddressSanitizer (+ LeakSanitizer)
#   scripts/sanitize.sh thread  [FILTER]   # ThreadSanitizer
#
# FILTER is a `swift test --filter` regular expression; the default covers the
# engine, the HTTP client and server, the runner and `serve`'s trigger layer.
# Each sanitizer builds in its own scratch folder (.build/sanitize-<name>), so
# the normal debug build is left alone. Reports name the sanitizer and the first
# frames; known races inside the toolchain's own libraries are suppressed by
# scripts/tsan-suppressions.txt (each entry says why).
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizer=${1:-}
filter=${2:-'JUnitTests|BridgeHTTPTests|HTTPServerTests|RunnerTests|TriggerTests'}
case "$sanitizer" in
  address)
    # Leaks are checked too; a report fails the run.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=0}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan-suppressions.txt:print_suppressions=0}
    ;;
  thread)
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan-suppressions.txt}
    ;;
  *)
    echo "usage: scripts/sanitize.sh address|thread [FILTER]" >&2
    exit 64
    ;;
esac

echo "==> swift test --sanitize=$sanitizer --filter '$filter'"
swift test --sanitize="$sanitizer" --scratch-path ".build/sanitize-$sanitizer" --filter "$filter"
