#!/usr/bin/env bash
# Runs the benchmark suite (release build) with JSON output and writes the report: the
# acceptance tables (table.md), the charts (throughput.png/.svg, allocs.png/.svg and, with
# --counts, counts.png/.svg), the results to keep as a baseline (results.json, counts.json) and a
# one-line summary for a commit message.
#
#   bash scripts/bench.sh [--quick] [--counts | --counts-only] [--counts-filter REGEX]
#                         [--baseline FILE] [--counts-baseline FILE] [--max-drop PCT]
#                         [--out DIR] [--filter REGEX] [--quiet] [-- GOOGLE_BENCHMARK_FLAGS...]
#
#   --quick          fewer requests per iteration and 0.1 s minimum time (a few minutes)
#   --counts         also the deterministic cost run (bench/counts.py: every timed phase under
#                    callgrind with cache simulation); with --quick only the quick set below
#   --counts-only    the cost run without the CPU-time run
#   --counts-filter REGEX  which emit/floor benchmarks the cost run measures
#   --baseline FILE  gate against an earlier results.json: exit 1 when any strategy and body
#                    size allocates, references or copies more per response, or its throughput
#                    relative to drain (same run) fell more than --max-drop percent (default 10)
#   --counts-baseline FILE  gate against an earlier counts.json: exit 1 when any benchmark's
#                    instructions or estimated cycles per response rose more than --max-rise
#   --max-rise PCT   (default 0.5) for --counts-baseline
#   --out DIR        report directory (default build/bench-report)
#   --filter REGEX   --benchmark_filter (the report then covers what ran)
#   --quiet          no progress lines on stderr
# Exit status: 0; 1 when the gate failed, a benchmark failed or a report file could not be
# written; 2 for bad arguments; 130/143 when interrupted (files already written are kept).
set -euo pipefail
cd "$(dirname "$0")/.."

# The quick cost run: the headline strategies and both controls, at a small and a large body on
# c=10 m=10, the upstream shape and 1024 connections (about 10 minutes on 2 idle cores).
quick_counts='^(emit/(drain|gather|gather@cap=16K|gather\+A1\+A3|gather\+A1\+A2\+A3|hybrid)|floor)/(c10m10/(3B|64K)|c100m32/3B|c1024m1/3B)$'

scale=full
out=build/bench-report
baseline=
counts_baseline=
max_drop=10
max_rise=0.5
filter=
counts=no
time_run=yes
counts_filter=
quiet=()
extra=()
usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --quick) scale=quick ;;
    --counts) counts=yes ;;
    --counts-only) counts=yes; time_run=no ;;
    --counts-filter) counts_filter="${2:?--counts-filter needs a regex}"; shift ;;
    --baseline) baseline="${2:?--baseline needs a file}"; shift ;;
    --counts-baseline) counts_baseline="${2:?--counts-baseline needs a file}"; shift ;;
    --max-drop) max_drop="${2:?--max-drop needs a percentage}"; shift ;;
    --max-rise) max_rise="${2:?--max-rise needs a percentage}"; shift ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --filter) filter="${2:?--filter needs a regex}"; shift ;;
    --quiet) quiet=(--quiet) ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) usage ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for f in "$baseline" "$counts_baseline"; do
  if [[ -n "$f" && ! -f "$f" ]]; then
    echo "bench.sh: baseline $f: no such file" >&2
    exit 2
  fi
done
if [[ -n "$counts_baseline" && "$counts" == no ]]; then
  echo "bench.sh: --counts-baseline needs --counts or --counts-only" >&2
  exit 2
fi
if [[ -z "$counts_filter" ]]; then
  if [[ "$scale" == quick ]]; then counts_filter="$quick_counts"; else counts_filter="$filter"; fi
fi

step=setup
# The benchmark binary runs in the background and the script waits for it, so that a SIGTERM
# sent to the script alone interrupts the wait at once (a foreground child would first run to
# its end) and is passed on: the binary ends after the benchmark that is running, with run.json
# finished as valid JSON holding the benchmarks done (bench/out_file.h).
child=
interrupted() {  # interrupted STATUS [SIGNAL to pass on]
  if [[ -n "$child" && -n "${2:-}" ]]; then
    kill -s "$2" "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  echo "bench.sh: interrupted during $step; $out keeps the files already written," \
       "the report was not updated" >&2
  exit "$1"
}
trap 'interrupted 130 INT' INT
trap 'interrupted 143 TERM' TERM

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target emitlab_bench
if ! mkdir -p "$out"; then
  echo "bench.sh: cannot create $out" >&2
  exit 1
fi
bin=./build/release/bench/emitlab_bench
report=(/usr/bin/python3 bench/report.py --out "$out" --max-drop "$max_drop" --max-rise "$max_rise"
        "${quiet[@]}")
if [[ "$time_run" == yes ]]; then
  step="the benchmarks"
  flags=(--emitlab_scale="$scale" --benchmark_out="$out/run.json" --benchmark_out_format=json)
  [[ -n "$filter" ]] && flags+=(--benchmark_filter="$filter")
  if ((${#quiet[@]} == 0)); then
    list=(--emitlab_scale="$scale" --benchmark_list_tests=true)
    [[ -n "$filter" ]] && list+=(--benchmark_filter="$filter")
    total="$("$bin" "${list[@]}" | wc -l)"
    ((total > 0)) && flags+=(--emitlab_progress_total="$total")
  fi
  "$bin" "${flags[@]}" "${extra[@]}" &
  child=$!
  bench_status=0
  wait "$child" || bench_status=$?
  child=
  ((bench_status >= 128)) && interrupted "$bench_status"
  ((bench_status == 0)) || exit "$bench_status"  # it said why (a cut run.json: exit 1)
  # Google Benchmark does not check its writes: a full disk leaves a cut run.json behind.
  if ! /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))["benchmarks"]' \
    "$out/run.json" 2>/dev/null; then
    echo "bench.sh: $out/run.json could not be written whole (disk full?)" >&2
    exit 1
  fi
  report+=("$out/run.json")
  [[ -n "$baseline" ]] && report+=(--baseline "$baseline")
fi
if [[ "$counts" == yes ]]; then
  step="the cost run"
  counts_status=0
  /usr/bin/python3 bench/counts.py "$bin" --scale "$scale" --filter "$counts_filter" \
    --out "$out/counts.run.json" --work "$out/counts" "${quiet[@]}" || counts_status=$?
  ((counts_status >= 128)) && interrupted "$counts_status"
  [[ -f "$out/counts.run.json" ]] || exit 1
  report+=(--counts "$out/counts.run.json")
  [[ -n "$counts_baseline" ]] && report+=(--counts-baseline "$counts_baseline")
fi
step="the report"
status=0
"${report[@]}" || status=$?
((status == 0 && ${counts_status:-0} != 0)) && status=1
rm -f "$out/run.json" "$out/counts.run.json"  # kept as results.json and counts.json
exit "$status"
