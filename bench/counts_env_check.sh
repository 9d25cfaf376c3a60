#!/usr/bin/env bash
# CTest's check that a cost run does not depend on the process it was started from (label
# bench): drain at c=1 m=1 with 3-byte bodies (smoke scale) counted twice by bench/counts.py,
# once plainly and once from a deeper working directory, with a 1000-byte variable in the
# environment and the binary reached through a longer path. valgrind lays the client's stack
# out from those strings, so without counts.py's fixed client process (CLIENT_ENV) the two
# runs' D1 misses differ. Fails unless every event total of both processes (the benchmark and
# its control repeat) is equal across the two runs.
#   counts_env_check.sh EMITLAB_BENCH OUT_DIR
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
here="$(realpath "$(dirname "$0")")"
filter='^emit/drain/c1m1/3B$'
rm -rf "$out"
deep="$out/a/deeper/working/directory/for/the/second/run"
mkdir -p "$out/plain" "$deep"
ln -s "$bin" "$deep/emitlab_bench"
(cd "$out/plain" &&
  /usr/bin/python3 "$here/counts.py" "$bin" --scale smoke --quiet --filter "$filter" \
    --out counts.json --work callgrind)
(cd "$deep" &&
  EMITLAB_COUNTS_PAD="$(printf '%01000d' 0)" /usr/bin/python3 "$here/counts.py" \
    "$deep/emitlab_bench" --scale smoke --quiet --filter "$filter" --out counts.json \
    --work callgrind)
/usr/bin/python3 - "$out/plain/counts.json" "$deep/counts.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def procs(d):
    return [(r["name"], r["totals"]) for r in d["benchmarks"] + d["control_repeats"]]
pa, pb = procs(a), procs(b)
if len(pa) != 2 or [n for n, _ in pa] != [n for n, _ in pb]:
    sys.exit(f"counts_env_check: expected drain and its control repeat in both runs: {pa} {pb}")
bad = [f"{n} {e}: {ta[e]} plain, {tb[e]} perturbed" for (n, ta), (_, tb) in zip(pa, pb)
       for e in ta if ta[e] != tb[e]]
for line in bad:
    print(f"counts_env_check: {line}", file=sys.stderr)
if bad:
    sys.exit(1)
print(f"counts_env_check: {len(pa)} processes, every event total equal across environments "
      f"(Ir {pa[0][1]['Ir']}, D1mr {pa[0][1]['D1mr']})")
PY
