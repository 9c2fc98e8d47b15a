#!/usr/bin/env bash
# Profile `testbridge parse` (summary mode) with perf and list the hottest symbols.
#
#   bench/perf-profile.sh [REPORT_OR_GLOB] [TOP]
#
# REPORT_OR_GLOB defaults to bench-data/large-1024mb.xml (made by
# bench/parse-bench.sh); TOP defaults to 15. The profile is kept in
# bench-data/perf/ for `perf report -i ...`. Needs perf (linux-perf).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
REPORT=${1:-bench-data/large-1024mb.xml}
TOP=${2:-15}
command -v perf >/dev/null 2>&1 || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

swift build -c release --static-swift-stdlib --build-path bench-data/build-static >/dev/null
BIN="bench-data/build-static/release/testbridge"
mkdir -p bench-data/perf
DATA=bench-data/perf/$(basename "${REPORT//\*/x}").perf.data
rm -f "$DATA" "$DATA.old"
perf record -q -g -o "$DATA" -- "$BIN" parse "$REPORT" >/dev/null
echo "perf record -g -- testbridge parse $REPORT  (self time, top $TOP symbols)"
# Swift symbols are demangled; trailing columns perf pads with are dropped.
tidy() { grep -E '^ +[0-9.]+%' | sed -E 's/[[:space:]]+(-[[:space:]]+)*$//' | swift demangle --simplified; }
perf report -i "$DATA" --stdio --no-children -g none --sort dso,symbol --percent-limit 0 2>/dev/null | tidy | awk -v n="$TOP" 'NR <= n'
echo
echo "by library:"
perf report -i "$DATA" --stdio --no-children -g none --sort dso --percent-limit 0.5 2>/dev/null | tidy
