#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with AddressSanitizer (Linux, Swift 6.3).
#
# SwiftPM cannot build fuzzer executables, so each library module a target needs
# is compiled here with swiftc into a static library plus its .swiftmodule, with
# the same language settings as Package.swift and fuzzer coverage
# instrumentation; each fuzz/<target>.swift is then linked against them.
#
#   fuzz/build.sh            # every target
#   fuzz/build.sh junit      # only these targets
#
# Output: .build/fuzz/<target> (executables) and .build/fuzz/modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=.build/fuzz
modules=$out/modules
mkdir -p "$modules"

# libxml2's headers through the package's own module map (as SwiftPM does).
xml_flags=(-I Sources/CLibXML2 -Xcc -fmodule-map-file=Sources/CLibXML2/module.modulemap)
for flag in $(pkg-config --cflags libxml-2.0); do xml_flags+=(-Xcc "$flag"); done

# Package.swift's settings, plus optimisation (fuzzing debug builds is ~10x slower;
# bounds and overflow checks stay on) and -enable-testing for @testable imports.
common=(
  -swift-version 6 -enable-upcoming-feature ExistentialAny -package-name testbridge
  -O -g -sanitize=fuzzer,address -parse-as-library -I "$modules" "${xml_flags[@]}"
)

# Module dependencies, mirroring Package.swift.
declare -A deps=(
  [BridgeCore]=""
  [JUnit]="BridgeCore"
  [BridgeHTTP]="BridgeCore"
  [HTTPServer]="BridgeCore"
  [Testomatio]="BridgeCore BridgeHTTP"
  [Jira]="BridgeCore BridgeHTTP"
  [Runner]="BridgeCore"
  [Trigger]="BridgeCore BridgeHTTP HTTPServer Testomatio"
  [Sandbox]="BridgeCore HTTPServer"
  [BridgeCLI]="BridgeCore JUnit BridgeHTTP HTTPServer Testomatio Jira Runner Trigger Sandbox"
)

# Each fuzz target and the module it exercises (its dependencies come along).
declare -A targets=(
  [junit]=BridgeCLI
  [http-request]=HTTPServer
  [arguments]=BridgeCLI
  [manual-plan]=Runner
  [jira-webhook]=Trigger
)

declare -A built=()

# Compiles one module (after its dependencies) unless it is up to date.
build_module() {
  local name=$1
  [ -n "${built[$name]:-}" ] && return
  local dep
  for dep in ${deps[$name]}; do build_module "$dep"; done
  local library=$modules/lib$name.a
  local stale=0
  if [ ! -f "$library" ]; then
    stale=1
  elif [ -n "$(find "Sources/$name" -name '*.swift' -newer "$library" -print -quit)" ]; then
    stale=1
  else
    for dep in ${deps[$name]}; do
      [ "$modules/lib$dep.a" -nt "$library" ] && stale=1
    done
  fi
  if [ "$stale" = 1 ]; then
    echo "==> module $name"
    local sources=()
    while IFS= read -r file; do sources+=("$file"); done < <(find "Sources/$name" -name '*.swift' | sort)
    swiftc "${common[@]}" -enable-testing -wmo -module-name "$name" \
      -emit-module -emit-module-path "$modules/$name.swiftmodule" \
      -emit-library -static -o "$library" "${sources[@]}"
  fi
  built[$name]=1
}

# The static libraries of a module and everything below it, dependents first.
link_order() {
  local name=$1 dep
  echo "$name"
  for dep in ${deps[$name]}; do link_order "$dep"; done
}

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(junit http-request arguments manual-plan jira-webhook)
for target in "${wanted[@]}"; do
  module=${targets[$target]:-}
  if [ -z "$module" ]; then
    echo "unknown fuzz target '$target' (known: ${!targets[*]})" >&2
    exit 64
  fi
  build_module "$module"
  # Static libraries need dependents before dependencies: keep each name's last place.
  libraries=()
  for name in $(link_order "$module" | tac | awk '!seen[$0]++' | tac); do
    libraries+=("$modules/lib$name.a")
  done
  echo "==> fuzz target $target"
  swiftc "${common[@]}" -module-name "Fuzz_${target//-/_}" "fuzz/$target.swift" \
    "${libraries[@]}" -lxml2 -use-ld=lld -o "$out/$target"
done
echo "built: ${wanted[*]} in $out"
