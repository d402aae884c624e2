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

echo "== tocsin check rules/ bench/rules/"
.build/debug/tocsin check --color never rules/
.build/debug/tocsin check --color never --strict bench/rules/

echo "== tocsin check --sinks sinks.example.yaml rules/"
.build/debug/tocsin check --color never --sinks sinks.example.yaml rules/

echo "== tocsin test fixtures/"
.build/debug/tocsin test fixtures/

echo "== crash test: SIGKILL and resume from checkpoints"
scripts/crash-test.sh .build/debug/tocsin

# A smoke run of the benchmark on a release build (a clean release build took 136 s on the 2-core
# machines, under the 4-minute budget for this step; see docs/performance.md). At 20k events and
# one run its figures mean little; it is here so the bench cannot rot: it fails if a workload's
# process crashes, if the alert counts the generator's ground truth fixes differ (W1, W4: the
# injected cases; W3: none; the command exits 1), if the two-worker pipeline's alert counts differ
# from one worker's (also exit 1), if a saved baseline does not read back, or if the rule-cost
# passes fail.
echo "== tocsin bench smoke (release build, 20k events, 1 run)"
swift build -c release --product tocsin
bench_dir="$(mktemp -d)"
trap 'rm -rf "$bench_dir"' EXIT
.build/release/tocsin bench --events 20000 --runs 1 --save-baseline "$bench_dir/baseline.json"
# The second run also measures each rule's cost (--rule-costs: 2 × 8 more passes of W1).
.build/release/tocsin bench --workload W1 --events 20000 --runs 1 --rule-costs --baseline "$bench_dir/baseline.json"
# Both builds in one run (--against): here the build against itself, two rounds; fails if a
# measuring process fails or this build's alerts differ from the generator's.
.build/release/tocsin bench --workload W1,W3 --events 20000 --runs 1 --rounds 2 --against .build/release/tocsin
# Condition evaluation must not allocate (issue 4): the bench's condition pass counts mallocs
# while every step condition of every rule runs on every event.
python3 - "$bench_dir/baseline.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
bad = [(r["name"], r["conditions"]) for r in report["results"]
       if r.get("conditions") is None or r["conditions"]["allocations"] != 0]
if bad:
    sys.exit(f"condition evaluation allocated (or was not measured): {bad}")
print("condition evaluation: 0 allocations in every workload")
# malloc's heap stays in ordinary pages unless TOCSIN_HEAP_HUGE_PAGES=1 asks for huge pages
# (docs/operations.md "The heap on huge pages"): this bench ran without the switch.
if report["machine"].get("heapHugePages") is not False:
    sys.exit(f"heap huge pages: expected off by default, report says {report['machine'].get('heapHugePages')}")
print("heap huge pages: off by default")
PY
# With the switch, `tocsin run` re-executes itself with the tunable wherever the kernel and glibc
# offer it, and its summary says so.
heap_expected=$(python3 -c '
import os, re
try:
    mode = re.search(r"\[(\w+)\]", open("/sys/kernel/mm/transparent_hugepage/enabled").read()).group(1)
except OSError:
    mode = "unreadable"
version = tuple(int(x) for x in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2])
print("yes" if mode in ("always", "madvise") and version >= (2, 35) else "no")')
heap_said=$(env -u GLIBC_TUNABLES TOCSIN_HEAP_HUGE_PAGES=1 .build/release/tocsin run rules -i fixtures/geo_impossible_purchase_positive/events.ndjson \
  -o /dev/null 2>&1 | grep -c "heap on huge pages" || true)
if { [ "$heap_expected" = yes ] && [ "$heap_said" != 1 ]; } || { [ "$heap_expected" = no ] && [ "$heap_said" != 0 ]; }; then
  echo "heap huge pages with TOCSIN_HEAP_HUGE_PAGES=1: expected $heap_expected, summary said it $heap_said times" >&2
  exit 1
fi
echo "heap huge pages with TOCSIN_HEAP_HUGE_PAGES=1: $heap_expected"

# Bounded state (issue 6, docs/operations.md "The adversarial test"): 2M distinct keys each
# opening a partial match plus a hot key, under a 768 MiB budget; fails if peak RSS exceeds the
# budget or throughput falls below a third of a normal stream's. About 40 s.
echo "== adversarial state test (release build)"
scripts/adversarial-test.sh .build/release/tocsin
