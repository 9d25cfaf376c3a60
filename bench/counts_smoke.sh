#!/usr/bin/env bash
# CTest's counts smoke (label bench): a tiny deterministic cost run (bench/counts.py at smoke
# scale: drain, gather and gather@cap=16K at c=1 m=1 with 3-byte bodies, the floor, and drain's
# control repeat, each under callgrind), then the report from it. Fails unless the report is
# produced and both controls were checked (report.py itself fails when a control is not
# exactly 1.000).
#   counts_smoke.sh EMITLAB_BENCH OUT_DIR
set -euo pipefail
bin="$1"
out="$2"
here="$(dirname "$0")"
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 "$here/counts.py" "$bin" --scale smoke --quiet --out "$out/counts.json" \
  --work "$out/callgrind" --filter '^(emit/(drain|gather|gather@cap=16K)|floor)/c1m1/3B$'
/usr/bin/python3 "$here/report.py" --counts "$out/counts.json" --out "$out/report" \
  | tee "$out/report.txt"
grep -q '^counts controls (2 pairs):' "$out/report.txt" ||
  { echo "counts_smoke: the report did not check both controls" >&2; exit 1; }
[[ -s "$out/report/table.md" && -s "$out/report/counts.png" ]] ||
  { echo "counts_smoke: table.md or counts.png missing" >&2; exit 1; }
