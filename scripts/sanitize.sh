#!/usr/bin/env bash
# Runs part of the test suite under a sanitizer.
#
#   scripts/sanitize.sh address [FILTER]   # AddressSanitizer (+ LeakSanitizer)
#   scripts/sanitize.sh thread  [FILTER]   # ThreadSanitizer
#
# FILTER is a `swift test --filter` regular expression; the default covers the lock
# type (BridgeCore.Locked), the engine, the HTTP client and server, the runner and
# `serve`'s trigger layer.
# Each sanitizer builds in its own scratch folder (.build/sanitize-<name>), so
# the normal debug build is left alone. Known races inside the toolchain's own
# libraries are suppressed by scripts/tsan-suppressions.txt (each entry says why).
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizer=${1:-}
filter=${2:-'LockedTests|JUnitTests|BridgeHTTPTests|HTTPServerTests|RunnerTests|TriggerTests'}
case "$sanitizer" in
  address)
    # Memory errors fail the run. Leak checking is off by default: over a whole test
    # process LeakSanitizer reports the known per-child Foundation.Process leak of the
    # Runner (RELIABILITY.md) and libcurl handles of URLSessions alive at exit. The
    # parsers are leak-checked per input by the fuzz targets. To see every report:
    #   ASAN_OPTIONS=detect_leaks=1 scripts/sanitize.sh address
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
    ;;
  thread)
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/scripts/tsan-suppressions.txt}
    ;;
  *)
    echo "usage: scripts/sanitize.sh address|thread [FILTER]" >&2
    exit 64
    ;;
esac

# One test at a time, as in .ci/run: the suite starts real servers and child processes,
# and side by side (slowed further by the sanitizer) they starve each other into timeouts.
echo "==> swift test --no-parallel --sanitize=$sanitizer --filter '$filter'"
swift test --no-parallel --sanitize="$sanitizer" --scratch-path ".build/sanitize-$sanitizer" --filter "$filter"
