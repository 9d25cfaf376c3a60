#!/usr/bin/env bash
# CTest's bench smoke (label bench): runs the benchmark binary at smoke scale (one iteration per
# benchmark, the smallest workloads) with JSON output, then builds the report from it, charts
# included. report.py fails on a JSON it cannot parse, on a benchmark that reported an error,
# and, with --all, on any benchmark of the suite missing. No timing is asserted.
#   smoke.sh EMITLAB_BENCH OUT_DIR [--all] [GOOGLE_BENCHMARK_FLAGS...]
set -euo pipefail
bin="$1"
out="$2"
shift 2
expect=()
if [[ "${1:-}" == "--all" ]]; then
  expect=(--expect-all)
  shift
fi
rm -rf "$out"
mkdir -p "$out"
"$bin" --emitlab_scale=smoke --benchmark_format=json --benchmark_out="$out/run.json" \
  --benchmark_out_format=json "$@" > "$out/console.json"
/usr/bin/python3 "$(dirname "$0")/report.py" "$out/run.json" --out "$out" "${expect[@]}"
