#!/usr/bin/env bash
# The main job: set up, build, and compare every strategy on the default workload.
# Extra arguments go to `emitlab compare`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release >/dev/null
exec ./build/release/cli/emitlab compare "$@"
