#!/usr/bin/env bash
# A one-machine Slurm cluster in a directory of its own (munged, slurmctld, slurmd), for trying
# campaigns and for the `slurm` CTest. Needs root, slurm-wlm and munge (scripts/setup.sh).
#
#   local-cluster.sh start DIR    start the daemons; DIR/env exports SLURM_CONF; DIR/pids lists
#                                 every daemon started, "NAME PID" per line. Exit 0 once the node
#                                 is idle; on any failure every daemon started so far is stopped.
#   local-cluster.sh stop DIR     stop every daemon in DIR/pids by its PID (SIGTERM, then SIGKILL
#                                 after a bounded wait); never by name.
#   local-cluster.sh run CMD...   start in a fresh temporary directory, run CMD with SLURM_CONF
#                                 set, stop on every exit path; exit with CMD's status.
# Exit 77 when the cluster cannot be started here (not root, or slurm/munge missing): callers
# report that as skipped.
#
# Everything lives in DIR: munged's socket, key copy, log and seed (so no system munged is touched
# or needed), the Slurm state, spool, pid and log files. Ports: a free pair above 20000 (ss).
# slurmctld and slurmd bind every address (Slurm has no bind option); the node is 127.0.0.1 and
# nothing is submitted from elsewhere.
set -euo pipefail

readonly kSkip=77
readonly kWaitSteps=150  # bounded polls (0.2 s each): 30 s for a daemon to come up or go away

die() { echo "local-cluster: $*" >&2; exit 1; }

usage() {
  echo "usage: local-cluster.sh start DIR | stop DIR | run CMD..." >&2
  exit 2
}

can_run() {
  if [[ $(id -u) -ne 0 ]]; then echo "local-cluster: not root: cannot start munged/slurmd"; return 1; fi
  local tool
  for tool in munged munge slurmctld slurmd sbatch scontrol setpriv ss; do
    command -v "$tool" >/dev/null || { echo "local-cluster: $tool is not installed (scripts/setup.sh)"; return 1; }
  done
  [[ -r /etc/munge/munge.key ]] || { echo "local-cluster: no /etc/munge/munge.key (the munge package makes it)"; return 1; }
  id munge >/dev/null 2>&1 || { echo "local-cluster: no munge user"; return 1; }
}

# A process's start time (field 22 of /proc/PID/stat, after the parenthesised name), or nothing
# when it is gone: with the PID it names one process, even after the PID is reused. (/proc/PID/exe
# is not readable for a process that is no longer our descendant.)
started_at() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

# Stops every daemon listed in DIR/pids, last started first, each only while it is still the
# process that was started.
stop_dir() {
  local dir=$1 pids=$1/pids
  [[ -f $pids ]] || return 0
  local name pid since step
  while read -r name pid since; do
    [[ -n $since && $(started_at "$pid") == "$since" ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for ((step = 0; step < kWaitSteps; step++)); do
      [[ $(started_at "$pid") == "$since" ]] || break
      sleep 0.2
    done
    if [[ $(started_at "$pid") == "$since" ]]; then
      echo "local-cluster: $name ($pid) ignored SIGTERM; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done < <(tac "$pids")
  rm -f "$pids"
}

# Records a daemon started in the background ($! of the caller).
record() {
  local dir=$1 name=$2 pid=$3
  echo "$name $pid $(started_at "$pid")" >>"$dir/pids"
}

free_port() {
  local port
  for ((port = 20000 + RANDOM % 20000; ; port++)); do
    if ! ss -Htan | awk '{print $4}' | grep -q ":$port\$" && ! ss -Htan | awk '{print $4}' | grep -q ":$((port + 1))\$"; then
      echo "$port"
      return
    fi
  done
}

# wait_for WHAT PID LOG CMD...: polls CMD until it succeeds, bounded; fails at once when the
# daemon PID has exited.
wait_for() {
  local what=$1 pid=$2 log=$3 step
  shift 3
  for ((step = 0; step < kWaitSteps; step++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "local-cluster: $what did not come up; the end of $log:" >&2
  tail -n 20 "$log" >&2 || true
  return 1
}

CLUSTER_DIR=  # the directory start_dir is filling (its failure trap stops what it holds)

start_dir() {
  local dir
  dir=$(realpath "$1")
  CLUSTER_DIR=$dir
  mkdir -p "$dir"
  chmod 755 "$dir"
  [[ ! -s $dir/pids ]] || die "$dir already runs a cluster (stop it first)"
  # Any failure from here on stops what was started.
  trap 'rc=$?; trap - EXIT; if [[ $rc -ne 0 ]]; then stop_dir "$CLUSTER_DIR"; fi; exit $rc' EXIT

  local m=$dir/munge
  mkdir -p "$m"
  install -o munge -g munge -m 0400 /etc/munge/munge.key "$m/munge.key"
  chown munge:munge "$m"
  chmod 755 "$m"  # munged needs its socket's directory searchable by every client
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F \
    --socket="$m/socket" --key-file="$m/munge.key" --log-file="$m/munged.log" \
    --pid-file="$m/munged.pid" --seed-file="$m/munged.seed" >>"$dir/munged.out" 2>&1 &
  record "$dir" munged $!
  wait_for munged $! "$dir/munged.out" bash -c "munge -S '$m/socket' -n | unmunge -S '$m/socket'"

  local s=$dir/slurm port host node
  mkdir -p "$s/state" "$s/spool" "$s/jobs"
  port=$(free_port)
  host=$(hostname -s)
  node=$(slurmd -C | head -n 1)  # its second line is UpTime
  cat >"$s/slurm.conf" <<CONF
ClusterName=emitlab
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$m/socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$s/state
SlurmdSpoolDir=$s/spool
SlurmctldPidFile=$s/slurmctld.pid
SlurmdPidFile=$s/slurmd.pid
SlurmctldLogFile=$s/slurmctld.log
SlurmdLogFile=$s/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=emitlab Nodes=ALL Default=YES MaxTime=60 State=UP
CONF
  export SLURM_CONF=$s/slurm.conf
  echo "export SLURM_CONF=$SLURM_CONF" >"$dir/env"
  slurmctld -D -f "$SLURM_CONF" >>"$s/slurmctld.out" 2>&1 &
  record "$dir" slurmctld $!
  wait_for slurmctld $! "$s/slurmctld.log" scontrol ping
  slurmd -D -f "$SLURM_CONF" >>"$s/slurmd.out" 2>&1 &
  record "$dir" slurmd $!
  wait_for "the node (idle)" $! "$s/slurmd.log" bash -c '[[ $(sinfo -h -o %t) == idle ]]'
  trap - EXIT
  echo "local-cluster: up in $dir (partition emitlab, $(sinfo -h -o %c) CPUs); $dir/env sets SLURM_CONF"
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd=$1
  shift
  case $cmd in
    start)
      [[ $# -eq 1 ]] || usage
      can_run || exit $kSkip
      start_dir "$1"
      ;;
    stop)
      [[ $# -eq 1 ]] || usage
      stop_dir "$1"
      ;;
    run)
      [[ $# -ge 1 ]] || usage
      can_run || exit $kSkip
      local dir rc=0
      dir=$(mktemp -d /tmp/emitlab-slurm.XXXXXX)
      trap 'stop_dir "$dir"' EXIT
      trap 'exit 130' INT TERM
      ( start_dir "$dir" ) || exit 1
      # shellcheck disable=SC1091
      source "$dir/env"
      "$@" || rc=$?
      exit $rc
      ;;
    *) usage ;;
  esac
}

main "$@"
