#!/bin/bash
# Upstream's benchmark on real sockets: h2load -t 1 -c 100 -m 32 against `emitlab serve` for
# each strategy and body size, beside nghttpd, nginx and h2o serving the same bytes on loopback.
#
#   scripts/loadtest.sh [--quick] [--profile STRATEGY BODY] [--rounds N] [--duration S] [--out DIR]
#
# Server on core 0, h2load on core 1 (taskset); cells in shuffled order inside each round;
# several rounds; per cell the median, min and max req/s, and the server's CPU microseconds,
# write syscalls and page faults per response (from /proc/PID/stat and /proc/PID/io around the
# h2load run; TLS records per response from emitlab's own statistics). Writes DIR/table.md (the
# seed's acceptance table first), DIR/results.json and DIR/chart.png. Every server started here
# listens on 127.0.0.1 only and is stopped by its PID.
# --quick: bodies 3 B, 16 KiB, 64 KiB, 2 rounds of 3 s. --profile: one cell under
# `perf record -e cpu-clock`, then the profile rows (allocator, reference release and teardown,
# memcpy, AEAD, nghttp2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
emitlab=${EMITLAB:-$root/build/release/cli/emitlab}
py=${PYTHON:-/usr/bin/python3}  # Debian's, with python3-matplotlib
out=$root/build/loadtest
rounds=3
requests=200000  # per run (h2load -n: its -D mode stalled here, reporting 16 responses per connection)
duration=10
bodies="3 100 4096 16384 65536"
strategies="drain gather gather+A1 gather+A3 gather+A1+A3 gather+A1+A2+A3 gather@cap=32K gather@cap=64K hybrid"
peers="nghttpd nginx h2o"
suite=TLS_AES_256_GCM_SHA384  # nghttpd's own choice; h2o 2.2.5 and nghttpd cannot be told
profile=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) rounds=2; duration=3; requests=20000; bodies="3 16384 65536"; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bodies) bodies=$2; shift 2 ;;
    --strategies) strategies=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --profile) profile="$2 $3"; shift 3 ;;
    *) echo "loadtest.sh: unknown argument '$1'; expected --quick, --profile STRATEGY BODY," \
         "--rounds N, --duration S, --out DIR, --bodies, --strategies, --peers" >&2; exit 2 ;;
  esac
done
[ -x "$emitlab" ] || { echo "loadtest.sh: no emitlab binary at '$emitlab' (build the release preset)" >&2; exit 2; }
mkdir -p "$out/www" "$out/runs"
work=$out
cert=$work/cert.pem key=$work/key.pem
if [ ! -s "$cert" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
    -keyout "$key" -out "$cert" 2>/dev/null
fi
for b in $bodies; do
  "$py" -c "import sys; sys.path.insert(0, '$root/tests/net'); from serve_harness import expected_body; \
open('$work/www/body-$b', 'wb').write(expected_body($b))"
done

server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap stop_server EXIT

free_port() { "$py" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

# utime+stime (ticks), minflt, syscw of one process.
usage_of() {
  local pid=$1
  local stat; stat=$(cat /proc/"$pid"/stat 2>/dev/null) || { echo "loadtest.sh: server $pid died (see $work/runs/server.log)" >&2; exit 1; }
  stat=${stat##*) }
  # fields after the comm: state(3) ... minflt(10) ... utime(14) stime(15)
  set -- $stat
  local minflt=${8} utime=${12} stime=${13}
  local syscw; syscw=$(awk '/^syscw:/ {print $2}' /proc/"$pid"/io)
  echo "$((utime + stime)) $minflt $syscw"
}

wait_port() {
  local port=$1
  for _ in $(seq 200); do
    if "$py" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$port)))"; then return 0; fi
    sleep 0.05  # readiness of a third-party server we cannot ask: bounded poll, not a timing shape
  done
  echo "loadtest.sh: server on port $port did not start" >&2; return 1
}

start_server() {  # NAME BODY -> server_pid, port, path
  local name=$1 body=$2
  port=$(free_port)
  local log=$work/runs/server.log
  case "$name" in
    nghttpd)
      taskset -c 0 nghttpd -a 127.0.0.1 -n 1 -d "$work/www" "$port" "$key" "$cert" >"$log" 2>&1 &
      server_pid=$!; path=/body-$body ;;
    nginx)
      mkdir -p "$work/nginx/logs"
      cat >"$work/nginx/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$port ssl http2;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_conf_command Ciphersuites $suite;
    http2_max_concurrent_streams 128;
    root $work/www;
  }
}
NGINX
      taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" >"$log" 2>&1 &
      server_pid=$!; path=/body-$body ;;
    h2o)
      cat >"$work/h2o.conf" <<H2O
listen:
  host: 127.0.0.1
  port: $port
  ssl:
    certificate-file: $cert
    key-file: $key
    minimum-version: TLSv1.2
num-threads: 1
access-log: /dev/null
hosts:
  default:
    paths:
      /:
        file.dir: $work/www
H2O
      taskset -c 0 h2o -c "$work/h2o.conf" >"$log" 2>&1 &
      server_pid=$!; path=/body-$body ;;
    *)
      taskset -c 0 "$emitlab" serve --strategy "$name" --listen 127.0.0.1:"$port" --body "$body" \
        --cert "$cert" --key "$key" --tls13-suites "$suite" \
        --stats-json "$work/runs/stats.json" >"$log" 2>&1 &
      server_pid=$!; path=/ ;;
  esac
  wait_port "$port"
}

run_cell() {  # NAME BODY ROUND -> appends one JSON line to runs.jsonl
  local name=$1 body=$2 round=$3
  start_server "$name" "$body"
  local before after
  before=$(usage_of "$server_pid")
  local h2out=$work/runs/h2load.txt
  # h2load -D can wait forever for a response a peer never finishes: bound it.
  timeout -k 5 $((duration * 20 + 20)) taskset -c 1 h2load -t 1 -c 100 -m 32 -n "$requests" \
    "https://127.0.0.1:$port$path" >"$h2out" 2>&1 || true
  after=$(usage_of "$server_pid")
  stop_server
  "$py" "$here/loadtest_report.py" record --name "$name" --body "$body" --round "$round" \
    --before "$before" --after "$after" --h2load "$h2out" --stats "$work/runs/stats.json" \
    --is-emitlab "$([ "${name#nghttpd}" = "$name" ] && [ "$name" != nginx ] && [ "$name" != h2o ] && echo 1 || echo 0)" \
    >>"$work/runs.jsonl"
  tail -n 1 "$work/runs.jsonl" | "$py" "$here/loadtest_report.py" progress
}

if [ -n "$profile" ]; then
  set -- $profile
  start_server "$1" "$2"
  perf record -e cpu-clock -g -p "$server_pid" -o "$work/perf.data" -- sleep "$duration" >/dev/null 2>&1 &
  perf_pid=$!
  taskset -c 1 h2load -t 1 -c 100 -m 32 -D "$duration" "https://127.0.0.1:$port$path" >"$work/runs/h2load.txt" 2>&1 || true
  wait "$perf_pid" || true
  stop_server
  perf report -i "$work/perf.data" --stdio --no-children --sort sym 2>/dev/null >"$work/perf.txt"
  "$py" "$here/loadtest_report.py" profile "$work/perf.txt" --title "$1 at $2 B"
  exit 0
fi

rm -f "$work/runs.jsonl"
names="$strategies $peers"
total=$(( $(echo $names | wc -w) * $(echo $bodies | wc -w) * rounds ))
echo "loadtest: $total runs of ${duration}s (rounds $rounds; server on core 0, h2load on core 1)"
for round in $(seq "$rounds"); do
  cells=$(for n in $names; do for b in $bodies; do echo "$n $b"; done; done | shuf)
  while read -r n b; do
    run_cell "$n" "$b" "$round"
  done <<<"$cells"
done
"$py" "$here/loadtest_report.py" report "$work/runs.jsonl" --out "$work" \
  --strategies "$strategies" --peers "$peers" --bodies "$bodies"
