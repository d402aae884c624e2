#!/usr/bin/env bash
# The quick-start demo: installs what the build needs, builds a release binary and replays the
# bundled demo stream (fixtures/demo/) through every rule in rules/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release >&2
.build/release/tocsin run rules/ --input fixtures/demo/events.ndjson
