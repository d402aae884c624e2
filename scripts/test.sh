#!/usr/bin/env bash
# Runs every test: the XCTest suites, the rule checks and the fixture replays.
# Usage: scripts/test.sh            (from the repository root; needs Swift 6 and PCRE2's headers)
set -euo pipefail
cd "$(dirname "$0")/.."

# `matches` / `regex_extract` / `like` use PCRE2 (the CPCRE2 system library target). A fresh
# Debian/Ubuntu machine has the runtime library but not the headers; install them when we can.
if [ ! -e /usr/include/pcre2.h ] && ! pkg-config --exists libpcre2-8 2>/dev/null; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== apt-get install libpcre2-dev"
    apt-get update -qq && apt-get install -y -qq libpcre2-dev
  else
    echo "warning: PCRE2 headers not found; install libpcre2-dev (apt) or pcre2 (Homebrew)" >&2
  fi
fi

echo "== build (debug, with tests)"
swift build --build-tests

echo "== unit, property and end-to-end tests"
swift test --skip-build

echo "== tocsin check rules/"
.build/debug/tocsin check --color never rules/

echo "== tocsin test fixtures/"
.build/debug/tocsin test fixtures/
