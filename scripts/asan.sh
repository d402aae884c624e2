#!/usr/bin/env bash
# Runs the XCTest suites under AddressSanitizer (heap/stack overflows, use after free, leaks of
# unsafe buffers: the scanner, line reader and writers work on raw pointers).
#
# Usage: scripts/asan.sh [extra `swift test` arguments, e.g. --filter TocsinIOTests]
# Builds into .build-asan/ (a separate scratch path, so the normal debug build is untouched).
# Skipped: the generated-stream suites, which replay hundreds of thousands of events and take
# minutes under ASan without exercising code the other suites do not reach.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
scripts/install-deps.sh
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1}"
# Wall-clock bounds in tests (HostileRulesTests) catch hangs; an ASan build runs several times slower.
export TOCSIN_TIME_SCALE="${TOCSIN_TIME_SCALE:-4}"

echo "== build (debug, tests, AddressSanitizer)"
swift build --build-tests --sanitize=address --scratch-path .build-asan

echo "== tests under AddressSanitizer"
swift test --skip-build --sanitize=address --scratch-path .build-asan \
  --skip GeneratedStreamTests "$@"
