#!/usr/bin/env bash
# Instruction shares of one strategy and body size under callgrind: the deterministic stand-in
# for a perf profile. Only the timed phase is collected (the server side of the replayed run;
# verification, handshakes and teardown are excluded with callgrind's collection toggle).
#
#   bash scripts/profile.sh STRATEGY BODY [SHAPE] [ITERATIONS]
#   e.g. bash scripts/profile.sh gather 3 c100m32
#
# SHAPE is c1m1, c10m10 (default) or c100m32; ITERATIONS (default 1) timed phases are summed.
# EMITLAB_SCALE=quick|full (default quick) sets the requests per connection as in the suite.
# Writes build/profile/<name>.callgrind and .annotate, prints the shares per function family.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# < 2)); then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
strategy="$1"
body="$2"
shape="${3:-c10m10}"
iterations="${4:-1}"
scale="${EMITLAB_SCALE:-quick}"

bash scripts/setup.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target emitlab_bench >/dev/null
mkdir -p build/profile
name="$(printf '%s_%s_%s' "$strategy" "$body" "$shape" | tr -c 'A-Za-z0-9_.=-' '_')"
out="build/profile/$name.callgrind"
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
  ./build/release/bench/emitlab_bench --emitlab_scale="$scale" \
  --emitlab_profile="$strategy,$body,$shape" --emitlab_profile_iterations="$iterations" \
  2> "build/profile/$name.valgrind.log" || {
    status=$?
    tail -5 "build/profile/$name.valgrind.log" >&2
    exit "$status"
  }
callgrind_annotate --inclusive=no --threshold=100 --auto=no "$out" > "build/profile/$name.annotate"
/usr/bin/python3 bench/profile_shares.py "build/profile/$name.annotate" --callgrind "$out" \
  --title "$strategy, $body-byte bodies, $shape ($scale), $iterations timed phase(s)"
