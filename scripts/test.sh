#!/usr/bin/env bash
# Runs every test: the XCTest suites, the rule checks and the fixture replays.
# Usage: scripts/test.sh   (installs missing system libraries with apt-get; needs Swift 6)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "== build (debug, with tests)"
swift build --build-tests

echo "== unit, property and end-to-end tests"
swift test --skip-build

echo "== tocsin check rules/"
.build/debug/tocsin check --color never rules/

echo "== tocsin test fixtures/"
.build/debug/tocsin test fixtures/

echo "== crash test: SIGKILL and resume from checkpoints"
scripts/crash-test.sh .build/debug/tocsin
