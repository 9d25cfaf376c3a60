#!/usr/bin/env bash
# Campaigns' and benchmarks' outputs, in child processes:
#   - SIGTERM during `emitlab explore --json`, SIGINT during props_campaign and emitlab_bench:
#     each ends after the run, case or benchmark under way with its line (or run.json) written
#     whole and marked interrupted, exit 143 or 130;
#   - their outputs on /dev/full (and `emitlab merge`'s): one line naming it, exit 1;
#   - the Slurm shard script keeps an interrupted shard's whole line (SIGTERM to the script and
#     its command, as a time limit sends), and the merge script fails (exit 2) when merged.txt
#     or merged.rc cannot be written.
# No sleeps: each child opens a named pipe (its scope, its --out or --benchmark_out) only after
# installing its handlers, so the signal is sent once the pipe's other end has opened, at the
# start of the child's work (a scope read through the pipe makes explore wait for it).
#   campaign_outputs.sh SOURCE_DIR EMITLAB PROPS_CAMPAIGN EMITLAB_BENCH
set -uo pipefail
[[ $# -eq 4 ]] || { echo "usage: campaign_outputs.sh SOURCE_DIR EMITLAB PROPS_CAMPAIGN EMITLAB_BENCH" >&2; exit 2; }
src=$1 emitlab=$2 props=$3 bench=$4
dir=$(mktemp -d /tmp/emitlab-campaign-outputs.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail=0
ok() { echo "ok $*"; }
bad() { echo "FAIL $*"; fail=1; }
# field FILE EXPR: a Python expression over the JSON line `j` of FILE, printed.
field() { /usr/bin/python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).read()); print(eval(sys.argv[2]))' "$1" "$2" 2>&1; }
lines() { grep -c '' "$1"; }
scope='{"name": "mine", "hazard": "a test", "bound": 1, "hold": ["read_delay"],
        "scenario": {"workload": {"requests": 1, "body": 100}}}'
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT JOB_COMPLETION_INDEX

# --- explore, SIGTERM: its scope comes through a pipe.
mkfifo "$dir/scope"
"$emitlab" explore --scope "$dir/scope" --json >"$dir/explore.json" 2>"$dir/explore.err" &
pid=$!
exec 3>"$dir/scope"  # open once explore opened it: after its handlers were installed
kill -TERM "$pid"
printf '%s' "$scope" >&3
exec 3>&-
wait "$pid"; status=$?
got=$(field "$dir/explore.json" '(j["stopped_by"], j["exhausted"], j["schedules"] >= 1)')
if [[ $status -eq 143 && $(lines "$dir/explore.json") -eq 1 && $got == "('interrupted', False, True)" ]]; then
  ok "explore SIGTERM: exit 143, $got"
else
  bad "explore SIGTERM: exit $status, line: $(cat "$dir/explore.json") ($got), stderr: $(cat "$dir/explore.err")"
fi

# --- props_campaign, SIGINT: its --out is a pipe.
mkfifo "$dir/line"
"$props" --property per_stream_delivery --cases 400 --quiet --out "$dir/line" 2>"$dir/props.err" &
pid=$!
exec 3<"$dir/line"
kill -INT "$pid"
cat <&3 >"$dir/props.json"
exec 3<&-
wait "$pid"; status=$?
# The signal lands while the campaign starts: it stops before case 0 or 1, far from 400.
got=$(field "$dir/props.json" '(j["stopped_by"], j["exhausted"], j["cases"] < 400)')
if [[ $status -eq 130 && $got == "('interrupted', False, True)" && $(lines "$dir/props.err") -eq 1 ]]; then
  ok "props_campaign SIGINT: exit 130, $got, $(cat "$dir/props.err")"
else
  bad "props_campaign SIGINT: exit $status, line: $(cat "$dir/props.json") ($got), stderr: $(cat "$dir/props.err")"
fi

# --- emitlab_bench, SIGINT: its --benchmark_out is a pipe. It stops after the first benchmark.
mkfifo "$dir/run.json"
"$bench" --emitlab_scale=smoke '--benchmark_filter=^self/' --benchmark_out="$dir/run.json" \
  --benchmark_out_format=json >/dev/null 2>"$dir/bench.err" &
pid=$!
exec 3<"$dir/run.json"
kill -INT "$pid"
cat <&3 >"$dir/bench.json"
exec 3<&-
wait "$pid"; status=$?
listed=$("$bench" --emitlab_scale=smoke '--benchmark_filter=^self/' --benchmark_list_tests=true | grep -c '')
got=$(field "$dir/bench.json" 'len({b["run_name"] for b in j["benchmarks"]})')
if [[ $status -eq 130 && $got -eq 1 && $listed -gt 1 ]] && grep -q 'interrupted after 1 benchmarks' "$dir/bench.err"; then
  ok "emitlab_bench SIGINT: exit 130, run.json valid with $got of $listed benchmarks"
else
  bad "emitlab_bench SIGINT: exit $status, $got of $listed benchmarks, stderr: $(tail -3 "$dir/bench.err")"
fi

# --- outputs on /dev/full: one line naming it, exit 1.
"$emitlab" explore --scope shutdown-inflight --bound 1 --max-schedules 3 --json >"$dir/s.json"
err=$("$emitlab" explore --scope shutdown-inflight --bound 1 --max-schedules 3 --json 2>&1 >/dev/full); status=$?
[[ $status -eq 1 && $(printf '%s\n' "$err" | grep -c '') -eq 1 && $err == *"standard output"* ]] &&
  ok "explore --json >/dev/full: $err" || bad "explore --json >/dev/full: exit $status, $err"
err=$("$emitlab" merge --json "$dir/s.json" 2>&1 >/dev/full); status=$?
[[ $status -eq 1 && $(printf '%s\n' "$err" | grep -c '') -eq 1 && $err == *"standard output"* ]] &&
  ok "merge --json >/dev/full: $err" || bad "merge --json >/dev/full: exit $status, $err"
# Google Benchmark prints its context on stderr: the one line that matters names the file.
"$bench" --emitlab_scale=smoke '--benchmark_filter=^self/handshake$' --benchmark_out=/dev/full \
  --benchmark_out_format=json >/dev/null 2>"$dir/full.err"; status=$?
if [[ $status -eq 1 && $(grep -c "^emitlab_bench: could not write --benchmark_out '/dev/full'" "$dir/full.err") -eq 1 ]]; then
  ok "emitlab_bench --benchmark_out=/dev/full: $(grep '^emitlab_bench' "$dir/full.err")"
else
  bad "emitlab_bench --benchmark_out=/dev/full: exit $status, stderr: $(cat "$dir/full.err")"
fi

# --- the Slurm shard script, SIGTERM to it and its command (what a time limit sends).
mkdir "$dir/results"
mkfifo "$dir/scope2"
SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=1 bash "$src/scripts/slurm/shard.sbatch" \
  "$dir/results" "$emitlab" explore --scope "$dir/scope2" --json >"$dir/shard.out" 2>"$dir/shard.err" &
spid=$!
exec 3>"$dir/scope2"
cpid=$(pgrep -P "$spid")
kill -TERM "$spid" "$cpid"
printf '%s' "$scope" >&3
exec 3>&-
wait "$spid"; status=$?
got=$(field "$dir/results/shard-0.json" 'j["stopped_by"]')
if [[ $status -eq 143 && $got == interrupted && ! -e $dir/results/.shard-0.json.part ]]; then
  ok "shard.sbatch SIGTERM: exit 143, shard-0.json kept, stopped_by $got"
else
  bad "shard.sbatch SIGTERM: exit $status, shard-0.json: $got, stderr: $(cat "$dir/shard.err")"
fi

# --- the Slurm merge script, merged.rc and merged.txt on a full device.
for name in merged.rc merged.txt; do
  m=$dir/merge-$name
  mkdir "$m"
  "$emitlab" explore --scope shutdown-inflight --bound 1 --json >"$m/shard-0.json"
  ln -s /dev/full "$m/$name"
  bash "$src/scripts/slurm/merge.sbatch" "$m" "$emitlab" 1 >/dev/null 2>"$m/err"; status=$?
  if [[ $status -eq 2 ]] && grep -q "cannot write $m/$name" "$m/err"; then
    ok "merge.sbatch, $name on /dev/full: exit 2, $(grep 'cannot write' "$m/err")"
  else
    bad "merge.sbatch, $name on /dev/full: exit $status, stderr: $(cat "$m/err")"
  fi
done
exit $fail
