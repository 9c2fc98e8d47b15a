#!/usr/bin/env bash
# Benchmark `testbridge parse` against `xmllint --stream --noout` (libxml2's own
# streaming reader) and Python's junitparser, on the same generated reports.
#
#   bench/parse-bench.sh            # 100 MB + 1 GB report, 10,000 small files; updates BENCHMARKS.md
#   bench/parse-bench.sh --quick    # 100 MB report, 1,000 small files; prints the table only
#
# Options:
#   --quick            small datasets (see above)
#   --size-mb N        size of the large report (default 1024; --quick: none)
#   --files N          number of small reports (default 10000; --quick: 1000)
#   --reps N           repetitions per measurement, the median is reported (default 3)
#   --max-load X       wait while the 1-minute load average is above X (default 1.0)
#   --max-wait S       wait at most S seconds in all for the load to drop (default 600)
#   --no-warmup        time every run cold (see `measure`)
#   --no-lxml          skip the junitparser + lxml variant
#   --write-md         update BENCHMARKS.md (default for full runs)
#   --no-write-md      never update BENCHMARKS.md
#
# Everything generated goes to bench-data/ (gitignored): the reports, the Python
# virtual environments for junitparser, and one folder per run under
# bench-data/runs/ with the raw measurements (results.tsv) and tool outputs.
# Wall time and peak RSS come from `/usr/bin/time -f "%e %M %U %S"`. The
# reports are read once before measuring so every tool reads from the page cache.
# Each repetition runs every tool once, in an order rotated by one place from the
# repetition before (see `rotated`), and the median over repetitions is reported.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
COMMAND_LINE="bench/parse-bench.sh${*:+ $*}"

QUICK=0
LARGE_MB=1024
FILES=10000
REPS=3
MAX_LOAD=1.0
MAX_WAIT=600
WARMUP=1
LXML=1
WRITE_MD=
SEED=20250601
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --size-mb) LARGE_MB=$2; shift ;;
    --files) FILES=$2; shift ;;
    --reps) REPS=$2; shift ;;
    --max-load) MAX_LOAD=$2; shift ;;
    --max-wait) MAX_WAIT=$2; shift ;;
    --no-warmup) WARMUP=0 ;;
    --no-lxml) LXML=0 ;;
    --write-md) WRITE_MD=1 ;;
    --no-write-md) WRITE_MD=0 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  [ "$FILES" = 10000 ] && FILES=1000
  LARGE_MB=0
fi
[ -z "$WRITE_MD" ] && WRITE_MD=$((1 - QUICK))

DATA=bench-data
RUN="$DATA/runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN/out"
log() { printf '==> %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------

apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq "$@" >/dev/null
}
command -v xmllint >/dev/null 2>&1 || { log "installing libxml2-utils"; apt_install libxml2-utils; }
[ -x /usr/bin/time ] || { log "installing time"; apt_install time; }
command -v python3 >/dev/null 2>&1 || { log "installing python3"; apt_install python3 python3-venv; }

# junitparser in its own virtual environments: as `pip install junitparser`
# leaves it (xml.etree), and with lxml, which junitparser uses when present.
make_venv() { # DIR PACKAGES...
  local dir=$1; shift
  if ! "$dir/bin/python" -c 'import junitparser' >/dev/null 2>&1; then
    log "creating $dir with: $*"
    rm -rf "$dir"
    python3 -m venv "$dir" || { apt_install python3-venv && python3 -m venv "$dir"; }
    "$dir/bin/pip" install -q --disable-pip-version-check "$@"
  fi
}
make_venv "$DATA/venv-etree" junitparser
"$DATA/venv-etree/bin/python" -c 'import lxml' >/dev/null 2>&1 && {
  echo "bench-data/venv-etree has lxml: remove it and run again" >&2; exit 1; }
[ "$LXML" = 1 ] && make_venv "$DATA/venv-lxml" junitparser lxml

# testbridge as the README builds a release binary (the Swift runtime and
# Foundation inside it; linking needs libcurl's headers), and as a plain
# `swift build -c release` leaves it (shared Swift libraries), for comparison.
have_libcurl_dev() {
  if command -v pkg-config >/dev/null 2>&1; then pkg-config --exists libcurl; else dpkg -s libcurl4-openssl-dev >/dev/null 2>&1; fi
}
have_libcurl_dev || { log "installing libcurl4-openssl-dev"; apt_install libcurl4-openssl-dev; }
STATIC_BUILD=$DATA/build-static
log "swift build -c release --static-swift-stdlib --build-path $STATIC_BUILD"
swift build -c release --static-swift-stdlib --build-path "$STATIC_BUILD" >"$RUN/build.log" 2>&1 || {
  cat "$RUN/build.log" >&2; exit 1; }
BIN="$STATIC_BUILD/release/testbridge"
log "swift build -c release"
swift build -c release >>"$RUN/build.log" 2>&1 || { cat "$RUN/build.log" >&2; exit 1; }
SHARED_BIN="$(swift build -c release --show-bin-path)/testbridge"
# libxml2 alone, as testbridge drives it, with callbacks that do nothing: the floor.
FLOOR_BIN=
if command -v cc >/dev/null 2>&1; then
  FLOOR_BIN=$DATA/libxml2-floor
  # shellcheck disable=SC2046 # pkg-config's flags are meant to split
  cc -O2 bench/libxml2_floor.c $(pkg-config --cflags --libs libxml-2.0) -o "$FLOOR_BIN"
else
  log "no C compiler: the libxml2 floor row is left out"
fi

# --- data --------------------------------------------------------------------

# generate KIND OUT ARGS...: reuse OUT when its manifest says it was made the same way.
generate() {
  local kind=$1 out=$2; shift 2
  local manifest="$out.counts.json"
  if [ -f "$manifest" ] && [ -e "$out" ] && python3 - "$manifest" "$kind" "$SEED" "$@" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
kind, seed, args = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
want = {"mode": kind, "seed": seed}
if kind == "large":
    want["size_mb"] = float(args[args.index("--size-mb") + 1])
else:
    want["files"] = int(args[args.index("--files") + 1])
sys.exit(0 if all(m.get(k) == v for k, v in want.items()) else 1)
EOF
  then
    log "reusing $out"
  else
    log "generating $out"
    rm -rf "$out"
    python3 bench/generate_reports.py "$kind" --seed "$SEED" --out "$out" "$@" >/dev/null
  fi
}

mkdir -p "$DATA"
generate large "$DATA/small-1mb.xml" --size-mb 1
generate large "$DATA/large-100mb.xml" --size-mb 100
[ "$LARGE_MB" != 0 ] && generate large "$DATA/large-${LARGE_MB}mb.xml" --size-mb "$LARGE_MB"
generate many "$DATA/many-$FILES" --files "$FILES"

# Correctness: the JSON of a small report (every test listed) is checked against
# the generator's counts by bench/report.py.
"$BIN" parse --format json "$DATA/small-1mb.xml" >"$RUN/out/small-1mb.json"

# --- measuring ---------------------------------------------------------------

printf 'tool\tdataset\trep\twall_s\trss_kb\tuser_s\tsys_s\tstatus\tload1\n' >"$RUN/results.tsv"
printf 'dataset\twhen\tload1\tload5\tload15\twaited_s\n' >"$RUN/loads.tsv"

# Waits while the 1-minute load average is above MAX_LOAD; MAX_WAIT seconds at
# most over the whole run, then measures anyway. Records the load either way.
WAIT_LEFT=$MAX_WAIT
wait_for_quiet() { # DATASET
  local waited=0 load
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$load" -v m="$MAX_LOAD" 'BEGIN { exit !(l <= m) }' && break
    if [ "$WAIT_LEFT" -le 0 ]; then
      log "load average $load > $MAX_LOAD and the ${MAX_WAIT}s wait is used up: measuring anyway (recorded)"
      break
    fi
    log "load average $load > $MAX_LOAD: waiting (${WAIT_LEFT}s of waiting left)"
    sleep 20
    waited=$((waited + 20))
    WAIT_LEFT=$((WAIT_LEFT - 20))
  done
  record_load "$1" "$waited"
}

record_load() { # LABEL [WAITED]
  printf '%s\t%s\t%s\t%s\n' "$1" "$(date +%T)" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '\t')" "${2:-0}" >>"$RUN/loads.tsv"
}

# measure TOOL DATASET REP STDOUT_FILE COMMAND...: one timed run, appended to results.tsv.
# Every tool but junitparser first runs once untimed (a warm-up, as hyperfine's
# --warmup does). Right after a junitparser run on the 1 GB report (7 GB of
# memory, a minute on one core) the next two-thread run took 6.0-7.4 s where
# the same build took 4.0-4.4 s further on in the repetition, and in a separate
# check a minute on one core alone slowed the next run by 20%. junitparser's own
# runs last over a minute, so their start-up weighs nothing; they are not warmed.
measure() {
  local tool=$1 dataset=$2 rep=$3 stdout=$4; shift 4
  local timing="$RUN/time.tmp" status=0
  if [ "$WARMUP" = 1 ] && [[ "$tool" != junitparser* ]]; then "$@" >/dev/null 2>&1 || true; fi
  /usr/bin/time -f '%e %M %U %S' -o "$timing" "$@" >"$stdout" 2>"$RUN/out/stderr.tmp" || status=$?
  if [ "$status" != 0 ]; then
    log "$tool on $dataset exited $status:"; tail -5 "$RUN/out/stderr.tmp" >&2
  fi
  local wall rss user sys
  read -r wall rss user sys < <(tail -1 "$timing")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$dataset" "$rep" "$wall" "$rss" "$user" "$sys" "$status" \
    "$(cut -d' ' -f1 /proc/loadavg)" >>"$RUN/results.tsv"
  printf '    %-28s %-14s rep %s: %6ss %8s KB\n' "$tool" "$dataset" "$rep" "$wall" "$rss" >&2
}

# rotated REP JOB...: the jobs in their order, started (REP-1) places further on,
# so no tool is always the first of a repetition or the last.
rotated() {
  local rep=$1; shift
  local count=$# index
  local jobs=("$@")
  for index in $(seq 0 $((count - 1))); do echo "${jobs[$(((index + rep - 1) % count))]}"; done
}

warm() { # PATH: read it once so every tool starts from the page cache
  if [ -d "$1" ]; then find "$1" -type f -name '*.xml' -exec cat {} + >/dev/null; else cat "$1" >/dev/null; fi
}

junitparser_variants=(etree)
[ "$LXML" = 1 ] && junitparser_variants+=(lxml)

bench_large() { # FILE DATASET
  local file=$1 dataset=$2 size_mb jp_reps=$REPS allow_jp=1
  size_mb=$(python3 -c "import json; print(json.load(open('$file.counts.json'))['bytes'] / 1048576)")
  # junitparser loads the whole tree: on reports above 100 MB run it only when
  # the 100 MB figures say it finishes within ~5 minutes and fits in memory.
  if [ "$dataset" != large-100mb ]; then
    read -r allow_jp jp_reps < <(python3 - "$RUN/results.tsv" "$size_mb" "$REPS" <<'EOF'
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")
        if r["tool"].startswith("junitparser") and r["dataset"] == "large-100mb"]
scale = float(sys.argv[2]) / 100
avail_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemAvailable"))
if not rows:
    print(0, 0); sys.exit()
wall = max(statistics.median(float(r["wall_s"]) for r in rows if r["tool"] == t) for t in {r["tool"] for r in rows}) * scale
rss = max(int(r["rss_kb"]) for r in rows) * scale
ok = wall <= 300 and rss <= 0.6 * avail_kb
print(int(ok), int(sys.argv[3]) if wall <= 100 else 1)
EOF
)
    [ "$allow_jp" = 1 ] || log "junitparser on $dataset skipped: the 100 MB runs predict over 5 minutes or too much memory"
  fi
  warm "$file"
  wait_for_quiet "$dataset"
  log "$dataset ($file)"
  local rep variant job jobs
  for rep in $(seq 1 "$REPS"); do
    jobs=(static jobs1 shared)
    [ "$dataset" = large-100mb ] && jobs+=(json)
    [ -n "$FLOOR_BIN" ] && jobs+=(floor)
    jobs+=(xmllint)
    if [ "$allow_jp" = 1 ] && [ "$rep" -le "$jp_reps" ]; then
      for variant in "${junitparser_variants[@]}"; do jobs+=("jp-$variant"); done
    fi
    for job in $(rotated "$rep" "${jobs[@]}"); do
      case "$job" in
        static) measure testbridge "$dataset" "$rep" "$RUN/out/testbridge-$dataset-$rep.txt" "$BIN" parse "$file" ;;
        jobs1) measure "testbridge --jobs 1" "$dataset" "$rep" "$RUN/out/testbridge-jobs1-$dataset-$rep.txt" \
          "$BIN" parse --jobs 1 "$file" ;;
        shared) measure "testbridge (shared Swift libraries)" "$dataset" "$rep" \
          "$RUN/out/testbridge-shared-$dataset-$rep.txt" "$SHARED_BIN" parse "$file" ;;
        json) measure "testbridge --format json" "$dataset" "$rep" /dev/null "$BIN" parse --format json "$file" ;;
        floor) measure "libxml2 push parser alone (C)" "$dataset" "$rep" /dev/null "$FLOOR_BIN" "$file" ;;
        xmllint) measure "xmllint --stream" "$dataset" "$rep" /dev/null xmllint --stream --noout "$file" ;;
        jp-*) variant=${job#jp-}
          measure "junitparser ($variant)" "$dataset" "$rep" "$RUN/out/junitparser-$variant-$dataset-$rep.txt" \
            timeout 330 "$DATA/venv-$variant/bin/python" bench/junitparser_count.py "$file" ;;
      esac
    done
  done
  record_load "$dataset (after)"
}

bench_many() { # DIR DATASET
  local dir=$1 dataset=$2
  # xmllint gets every file in one call when the list fits on a command line.
  local files=()
  mapfile -d '' files < <(find "$dir" -type f -name '*.xml' -print0 | LC_ALL=C sort -z)
  local arg_bytes
  arg_bytes=$(printf '%s\0' "${files[@]}" | wc -c)
  local xmllint_cmd=(xmllint --stream --noout "${files[@]}")
  if [ "$arg_bytes" -gt 1500000 ]; then
    xmllint_cmd=(sh -c 'find "$1" -type f -name "*.xml" -print0 | xargs -0 xmllint --stream --noout' sh "$dir")
  fi
  warm "$dir"
  wait_for_quiet "$dataset"
  log "$dataset ($dir: ${#files[@]} files)"
  local rep variant job jobs=(static jobs1 xmllint)
  for variant in "${junitparser_variants[@]}"; do jobs+=("jp-$variant"); done
  for rep in $(seq 1 "$REPS"); do
    for job in $(rotated "$rep" "${jobs[@]}"); do
      case "$job" in
        static) measure testbridge "$dataset" "$rep" "$RUN/out/testbridge-$dataset-$rep.txt" "$BIN" parse "$dir/**/*.xml" ;;
        jobs1) measure "testbridge --jobs 1" "$dataset" "$rep" "$RUN/out/testbridge-jobs1-$dataset-$rep.txt" \
          "$BIN" parse --jobs 1 "$dir/**/*.xml" ;;
        xmllint) measure "xmllint --stream" "$dataset" "$rep" /dev/null "${xmllint_cmd[@]}" ;;
        jp-*) variant=${job#jp-}
          measure "junitparser ($variant)" "$dataset" "$rep" "$RUN/out/junitparser-$variant-$dataset-$rep.txt" \
            "$DATA/venv-$variant/bin/python" bench/junitparser_count.py "$dir" ;;
      esac
    done
  done
  record_load "$dataset (after)"
}

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
bench_large "$DATA/large-100mb.xml" large-100mb
[ "$LARGE_MB" != 0 ] && bench_large "$DATA/large-${LARGE_MB}mb.xml" "large-${LARGE_MB}mb"
bench_many "$DATA/many-$FILES" "many-$FILES"
FINISHED=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# --- report ------------------------------------------------------------------

report_args=(--run "$RUN" --data "$DATA" --bin "$BIN" --shared-bin "$SHARED_BIN" --command "$COMMAND_LINE" --started "$STARTED" --finished "$FINISHED")
[ "$WRITE_MD" = 1 ] && report_args+=(--write BENCHMARKS.md)
python3 bench/report.py "${report_args[@]}"
