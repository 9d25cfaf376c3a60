#!/usr/bin/env bash
# The whole test suite: set up, then build and run every test in the release build and in the
# AddressSanitizer + UndefinedBehaviorSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for preset in release asan; do
  echo "== $preset: build"
  bash scripts/build.sh "$preset" >/dev/null
  echo "== $preset: test"
  ctest --preset "$preset"
done
