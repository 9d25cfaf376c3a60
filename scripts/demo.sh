#!/usr/bin/env bash
# The main job: set up, build, and show what the emit strategies change (`emitlab demo`: ten
# strategies on 3-byte and 64 KiB bodies, about 4 s of CPU). Extra arguments go to
# `emitlab compare` instead (e.g. `bash scripts/demo.sh --body 16K`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release >/dev/null
if [ "$#" -gt 0 ]; then exec ./build/release/cli/emitlab compare "$@"; fi
exec ./build/release/cli/emitlab demo
