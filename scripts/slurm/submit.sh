#!/usr/bin/env bash
# Submits an emitlab campaign to Slurm: an array job of N shards (shard.sbatch), then a merge
# job chained with --dependency=afterok (merge.sbatch), and prints where the result will be.
#
#   submit.sh [--shards N] [--partition P] [--time MINUTES] [--results DIR] [--emitlab PATH]
#             [--wait [--timeout SECONDS]] -- COMMAND ARGS...
#
# COMMAND ARGS... is one shard's command without --shard (each task appends `--shard auto`):
#   props:   props_campaign --property per_stream_delivery --cases 100000 --seed 7
#   explore: emitlab explore ... --json
# It, EMITLAB and DIR must be at the same path on every node (a shared file system).
# --wait polls the jobs (scontrol, never sacct: accounting may be off), prints each shard's state
# and result as it finishes, then the merged summary, and exits with the merge's status (0 clean,
# 1 violation, 3 stopped by a bound, 2 shards failed or could not be merged, 4 timed out).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
shards=4
partition=
minutes=60
results=
emitlab=
wait=false
timeout=3600
readonly kTimedOut=4

usage() {
  sed -n '4,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
bad() {
  echo "submit: $*" >&2
  exit 2
}
whole() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --shards) whole "${2:-}" || bad "bad --shards '${2:-}': expected a whole number >= 1"; shards=$2; shift 2 ;;
    --partition) [[ -n ${2:-} ]] || bad "--partition needs a name"; partition=$2; shift 2 ;;
    --time) whole "${2:-}" || bad "bad --time '${2:-}': expected minutes (a whole number >= 1)"; minutes=$2; shift 2 ;;
    --results) [[ -n ${2:-} ]] || bad "--results needs a directory"; results=$2; shift 2 ;;
    --emitlab) [[ -x ${2:-} ]] || bad "bad --emitlab '${2:-}': not an executable"; emitlab=$2; shift 2 ;;
    --wait) wait=true; shift ;;
    --timeout) whole "${2:-}" || bad "bad --timeout '${2:-}': expected seconds (a whole number >= 1)"; timeout=$2; shift 2 ;;
    --) shift; break ;;
    *) bad "unknown option '$1'; expected --shards, --partition, --time, --results, --emitlab, --wait, --timeout, then -- COMMAND" ;;
  esac
done
[[ $# -ge 1 ]] || usage
command -v sbatch >/dev/null || bad "sbatch is not installed (slurm-client)"

# Absolute paths: the jobs run wherever Slurm puts them.
cmd=("$@")
if [[ ${cmd[0]} == */* ]]; then
  [[ -x ${cmd[0]} ]] || bad "bad COMMAND '${cmd[0]}': not an executable"
  cmd[0]=$(realpath "${cmd[0]}")
fi
if [[ -z $emitlab ]]; then
  emitlab=$(realpath -q "$here/../../build/release/cli/emitlab" || true)
  [[ -x $emitlab ]] || emitlab=$(command -v emitlab || true)
  [[ -n $emitlab ]] || bad "no emitlab for the merge job: pass --emitlab PATH"
fi
emitlab=$(realpath "$emitlab")
results=${results:-$PWD/emitlab-campaign-$(date -u +%Y%m%dT%H%M%S)-$$}
mkdir -p "$results"
results=$(realpath "$results")
[[ -z $(ls -A "$results") ]] || bad "bad --results '$results': not empty (a campaign's files would mix)"

part=()
[[ -z $partition ]] || part=(--partition="$partition")
array=$(sbatch --parsable "${part[@]}" --array=0-$((shards - 1)) --time="$minutes" \
  --output="$results/shard-%a.log" "$here/shard.sbatch" "$results" "${cmd[@]}")
array=${array%%;*}
merge=$(sbatch --parsable "${part[@]}" --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
  --time=10 --output="$results/merge.log" "$here/merge.sbatch" "$results" "$emitlab" "$shards")
merge=${merge%%;*}
echo "submitted: array job $array ($shards shards), merge job $merge (after every shard succeeds)"
echo "shards: $results/shard-K.json (logs: shard-K.log)"
echo "result: $results/merged.txt and merged.json; the merge's exit status in merged.rc"
$wait || exit 0

# The state of a job or array task, from `scontrol show job -o`; empty when Slurm no longer
# knows it (finished longer ago than MinJobAge).
state_of() {
  scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2 || true
}
terminal() {
  case $1 in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE) return 0 ;; esac
  return 1
}
summary() {  # one shard's line in words
  python3 - "$1" <<'PY'
import json, sys
try:
    s = json.loads(open(sys.argv[1]).read())
except Exception as e:
    print(f"no readable result ({e.__class__.__name__})"); sys.exit()
v = s["violations"]
verdict = f"violation {v[0]['rule']}" if v else ("exhausted" if s["exhausted"] else f"stopped by {s['stopped_by']}")
count = f"{s['cases']} cases" if s["kind"] == "props" else f"{s['schedules']} schedules, {s['distinct_states']} distinct states"
print(f"{verdict}, {count}, {s['seconds']:.2f} s")
PY
}

declare -A done_shards=()
deadline=$((SECONDS + timeout))
while ((${#done_shards[@]} < shards)); do
  for ((k = 0; k < shards; k++)); do
    [[ -z ${done_shards[$k]:-} ]] || continue
    st=$(state_of "${array}_$k")
    if [[ -z $st && -e $results/shard-$k.json ]]; then st=COMPLETED; fi
    if terminal "${st:-PENDING}"; then
      done_shards[$k]=$st
      if [[ -e $results/shard-$k.json ]]; then
        echo "[campaign] shard $k/$shards: $st: $(summary "$results/shard-$k.json")"
      else
        echo "[campaign] shard $k/$shards: $st: no result line (see $results/shard-$k.log)"
      fi
    fi
  done
  ((${#done_shards[@]} < shards)) || break
  ((SECONDS < deadline)) || { echo "submit: timed out after $timeout s; the jobs go on (scancel $array $merge)" >&2; exit $kTimedOut; }
  sleep 1
done
while true; do
  st=$(state_of "$merge")
  if [[ -z $st && -e $results/merged.rc ]]; then st=COMPLETED; fi
  terminal "${st:-PENDING}" && break
  ((SECONDS < deadline)) || { echo "submit: timed out after $timeout s waiting for the merge job $merge" >&2; exit $kTimedOut; }
  sleep 1
done
if [[ ! -e $results/merged.rc ]]; then
  echo "[campaign] merge: $st: it did not run (a shard failed: the afterok dependency cancels it)"
  exit 2
fi
echo "[campaign] merge: $st"
cat "$results/merged.txt"
exit "$(cat "$results/merged.rc")"
