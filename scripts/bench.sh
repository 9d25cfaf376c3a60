#!/usr/bin/env bash
# Runs the benchmark suite (release build) with JSON output and writes the report: the
# acceptance tables (table.md), the charts (throughput.png/.svg, allocs.png/.svg), the results
# to keep as a baseline (results.json) and a one-line summary for a commit message.
#
#   bash scripts/bench.sh [--quick] [--baseline FILE] [--max-drop PCT] [--out DIR]
#                         [--filter REGEX] [-- GOOGLE_BENCHMARK_FLAGS...]
#
#   --quick          fewer requests per iteration and 0.1 s minimum time (a few minutes)
#   --baseline FILE  gate against an earlier results.json: exit 1 when any strategy and body
#                    size allocates, references or copies more per response, or its throughput
#                    relative to drain (same run) fell more than --max-drop percent (default 10)
#   --out DIR        report directory (default build/bench-report)
#   --filter REGEX   --benchmark_filter (the report then covers what ran)
set -euo pipefail
cd "$(dirname "$0")/.."

scale=full
out=build/bench-report
baseline=
max_drop=10
filter=
extra=()
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --quick) scale=quick ;;
    --baseline) baseline="${2:?--baseline needs a file}"; shift ;;
    --max-drop) max_drop="${2:?--max-drop needs a percentage}"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --filter) filter="${2:?--filter needs a regex}"; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -n "$baseline" && ! -f "$baseline" ]]; then
  echo "bench.sh: --baseline $baseline: no such file" >&2
  exit 2
fi

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target emitlab_bench
mkdir -p "$out"
flags=(--emitlab_scale="$scale" --benchmark_out="$out/run.json" --benchmark_out_format=json)
[[ -n "$filter" ]] && flags+=(--benchmark_filter="$filter")
./build/release/bench/emitlab_bench "${flags[@]}" "${extra[@]}"
report=(/usr/bin/python3 bench/report.py "$out/run.json" --out "$out" --max-drop "$max_drop")
[[ -n "$baseline" ]] && report+=(--baseline "$baseline")
status=0
"${report[@]}" || status=$?
rm -f "$out/run.json"  # kept as results.json
exit "$status"
