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
# The libFuzzer harnesses (clang, ASan + UBSan): only they and their libraries are built; the
# release build's recorder writes their seed corpora; each runs EMITLAB_FUZZ_RUNS executions.
echo "== fuzz: build"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null
bash fuzz/make_corpus.sh build/release/emitlab_fuzz_seeds build/fuzz/corpus >/dev/null
echo "== fuzz: test"
ctest --preset fuzz
