#!/usr/bin/env bash
# Builds and runs a libFuzzer target for SECONDS (default 60).
#
# Usage: scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags…]
#   TARGET: rules  (rule text → lexer, parser, checker, renderer, automaton compiler)
#           events (bytes → LineReader, EventScanner, EventDecoder with three configurations)
#
# The library sources a target needs are compiled straight with swiftc, one module at a time,
# with `-sanitize=fuzzer,address` (SwiftPM cannot give one product libFuzzer's `main` while the
# `tocsin` executable keeps its own). Everything goes to .build-fuzz/. The seed corpus is
# Fuzz/corpus/TARGET/ (read only); new inputs go to .build-fuzz/corpus/TARGET/. A crash writes
# .build-fuzz/crash-* and exits non-zero: copy the file to Fuzz/crashers/TARGET/ so XCTest
# replays it (FuzzRegressionTests), then fix the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: scripts/fuzz.sh rules|events [SECONDS] [libFuzzer flags…]}"
seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
command -v swiftc >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
scripts/install-deps.sh

out=.build-fuzz
mkdir -p "$out/modules" "$out/corpus/$target"
# -package-name: modules share `package` declarations, as SwiftPM builds them (one package).
flags=(-O -g -parse-as-library -sanitize=fuzzer,address -swift-version 5 -I "$out/modules"
  -I Sources/CPCRE2 -I Sources/CMemoryHints/include -enforce-exclusivity=checked -package-name tocsin)

# build_module NAME SOURCES…: a static library and its .swiftmodule, rebuilt when a source is
# newer than the library.
build_module() {
  local name="$1"; shift
  local lib="$out/modules/lib$name.a"
  if [ -f "$lib" ] && [ -z "$(find "$@" -newer "$lib" 2>/dev/null | head -1)" ]; then return; fi
  echo "== swiftc $name" >&2
  swiftc "${flags[@]}" -module-name "$name" -emit-module -emit-module-path "$out/modules/$name.swiftmodule" \
    -emit-library -static -o "$lib" "$@"
}
sources() { find "$@" -name '*.swift' | sort; }

mapfile -t core < <(sources Sources/TocsinCore)
build_module TocsinCore "${core[@]}"
case "$target" in
  rules)
    mapfile -t expressions < <(sources Sources/TocsinExpressions)
    mapfile -t language < <(sources Sources/TocsinLanguage)
    mapfile -t automaton < <(sources Sources/TocsinAutomaton)
    mapfile -t compiler < <(sources Sources/TocsinCompiler)
    build_module TocsinExpressions "${expressions[@]}"
    build_module TocsinLanguage "${language[@]}"
    build_module TocsinAutomaton "${automaton[@]}"
    build_module TocsinCompiler "${compiler[@]}"
    libs=(-lTocsinCompiler -lTocsinAutomaton -lTocsinLanguage -lTocsinExpressions -lTocsinCore -lpcre2-8)
    main=Fuzz/FuzzRules.swift
    ;;
  events)
    # TocsinIO without the files that need the runtime: the alert encoder and checkpoints.
    mapfile -t io < <(sources Sources/TocsinIO | grep -v -e '/AlertEncoder.swift$' -e '/Checkpoint/')
    build_module TocsinIO "${io[@]}"
    libs=(-lTocsinIO -lTocsinCore)
    main=Fuzz/FuzzEvents.swift
    ;;
  *) echo "unknown target '$target'; expected rules or events" >&2; exit 64 ;;
esac

binary="$out/fuzz-$target"
if [ ! -f "$binary" ] || [ -n "$(find "$main" "$out/modules" -newer "$binary" | head -1)" ]; then
  echo "== swiftc fuzz-$target" >&2
  swiftc "${flags[@]}" -module-name "Fuzz_$target" "$main" -L "$out/modules" "${libs[@]}" -o "$binary"
fi

echo "== fuzzing $target for ${seconds}s" >&2
# -timeout: an input taking 10 s is a hang; -rss_limit_mb: 2 GiB is memory exhaustion.
exec "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$out/" "$@" "$out/corpus/$target" "Fuzz/corpus/$target"
