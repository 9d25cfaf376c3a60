#!/usr/bin/env bash
# props_campaign's result line is an output like any other: when it cannot be
# written (--out /dev/full, or standard output on /dev/full) the campaign says so in one line
# naming where, and exits 1; --quiet leaves that line alone on stderr. One case of one property.
# Usage: props_campaign_outputs.sh PROPS_CAMPAIGN
set -uo pipefail
bin=$1
fail=0
check() {  # check WHAT STATUS STDERR NEEDLE
  local lines
  lines=$(printf '%s' "$3" | grep -c '')
  if [ "$2" -ne 1 ] || [ "$lines" -ne 1 ] || [[ "$3" != *"$4"* ]]; then
    echo "FAIL $1: exit $2, stderr: $3"
    fail=1
  else
    echo "ok $1: $3"
  fi
}
args=(--property per_stream_delivery --cases 1 --quiet)
err=$("$bin" "${args[@]}" --out /dev/full 2>&1 >/dev/null); check "--out /dev/full" $? "$err" "--out '/dev/full'"
err=$("$bin" "${args[@]}" 2>&1 >/dev/full); check "stdout /dev/full" $? "$err" "standard output"
# The same run written to a real file succeeds and writes one JSON line (so the cases above
# fail for the output, not the run).
tmp=$(mktemp)
"$bin" "${args[@]}" --out "$tmp" 2>/dev/null; status=$?
if [ "$status" -ne 0 ] || [ "$(grep -c '' "$tmp")" -ne 1 ]; then
  echo "FAIL a writable --out: exit $status, $(grep -c '' "$tmp") lines"
  fail=1
fi
rm -f "$tmp"
exit $fail
