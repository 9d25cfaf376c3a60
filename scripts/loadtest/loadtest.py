#!/usr/bin/python3
"""The driver behind scripts/loadtest.sh (its usage text is USAGE below)."""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "net"))

import report  # noqa: E402
import servers  # noqa: E402
import usage  # noqa: E402
from serve_harness import expected_body  # noqa: E402

USAGE = """scripts/loadtest.sh [--quick] [--rounds N] [--requests N] [--bodies LIST]
                   [--strategies LIST] [--peers LIST] [--cores SERVER,CLIENT] [--suite S]
                   [--out DIR] [--seed N]
scripts/loadtest.sh --profile STRATEGY BODY [--requests N] [--out DIR]"""

STRATEGIES = ["drain", "gather", "gather+A1", "gather+A3", "gather+A1+A3", "gather+A1+A2+A3",
              "gather@cap=32K", "gather@cap=64K", "hybrid"]
BODIES = [3, 100, 4096, 16384, 65536]
QUICK_BODIES = [3, 16384, 65536]  # the seed's acceptance sizes
FULL_SCALE = 4  # the full run's requests per run, in quick runs
SUITE = "TLS_AES_256_GCM_SHA384"  # upstream's first choice, and nghttpd's own
HELP = """Upstream's benchmark (h2load -t 1 -c 100 -m 32) against `emitlab serve` for every strategy
and body size, beside nghttpd, nginx and h2o serving the same bytes on 127.0.0.1. Server on the
first core of --cores, h2load on the second; cells shuffled inside each round; a fresh server
per run, h2load -n (every response completes); the server's CPU, page faults and write syscalls
read from /proc around the h2load run, divided by the responses. Writes DIR/table.md (the seed's acceptance table first),
DIR/results.json, DIR/chart.png and DIR/runs.jsonl (default DIR: build/loadtest).
--quick: bodies 3 B, 16 KiB, 64 KiB, 3 rounds, requests per run 64000 / 16000 / 6400.
Default: bodies 3 B, 100 B, 4 KiB, 16 KiB, 64 KiB, 3 rounds, 4x the quick requests per run.
--profile STRATEGY BODY: one run under `perf record -e cpu-clock`, then the seed's profile rows.
Every server started here is stopped by its process group on every exit path (Ctrl-C too)."""
LOAD_LIMIT_S = 300  # one h2load run; a stalled server becomes a failed run, not a hang
CLIENT = ["h2load", "-t", "1", "-c", "100", "-m", "32"]  # upstream's bench shape


class Usage(Exception):
    pass


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def positive_int(text):
    if not re.fullmatch(r"[0-9]+", text) or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError("'%s': expected an integer 1..1000" % text)
    return int(text)


def requests(text):
    if not re.fullmatch(r"[0-9]+", text) or not 100 <= int(text) <= 10_000_000:
        raise argparse.ArgumentTypeError("'%s': expected a request count 100..10000000" % text)
    return int(text)


def requests_for(a, body):
    """Requests per run: --requests, else about the same bytes per run for every body size
    (at least two batches of c x m = 3200 streams), so each run takes a few seconds."""
    if a.requests:
        return a.requests
    quick = 64000 if body <= 1024 else max(6400, 64000 * 4096 // body // 3200 * 3200)
    return quick * a.scale


def body_list(text):
    out = []
    for b in text.replace(",", " ").split():
        m = re.fullmatch(r"([0-9]+)(K|KiB)?", b)
        if not m:
            raise argparse.ArgumentTypeError("'%s': expected byte sizes such as 3 16K 65536" % b)
        n = int(m.group(1)) * (1024 if m.group(2) else 1)
        if n > 1 << 24:
            raise argparse.ArgumentTypeError("'%s': bodies up to 16 MiB" % b)
        out.append(n)
    if not out:
        raise argparse.ArgumentTypeError("'%s': no body size" % text)
    return out


def peer_list(text):
    names = text.replace(",", " ").split()
    if names == ["none"]:
        return []
    for n in names:
        if n not in servers.PEERS:
            raise argparse.ArgumentTypeError("'%s': expected peers among %s, or none" %
                                             (n, " ".join(servers.PEERS)))
    return names


def core_pair(text):
    m = re.fullmatch(r"([0-9]+),([0-9]+)", text)
    n = os.cpu_count() or 1
    if not m or m.group(1) == m.group(2) or max(map(int, m.groups())) >= n:
        raise argparse.ArgumentTypeError("'%s': expected two different cores A,B below %d" %
                                         (text, n))
    return int(m.group(1)), int(m.group(2))


def parse(argv):
    p = OneLineParser(prog="loadtest.sh", usage=USAGE, add_help=False)
    p.add_argument("--help", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=positive_int)
    p.add_argument("--requests", type=requests)
    p.add_argument("--bodies", type=body_list)
    p.add_argument("--strategies")
    p.add_argument("--peers", type=peer_list)
    p.add_argument("--cores", type=core_pair, default=(0, 1))
    p.add_argument("--suite", default=SUITE)
    p.add_argument("--out", default=os.path.join(ROOT, "build", "loadtest"))
    p.add_argument("--seed", type=positive_int)
    p.add_argument("--profile", nargs=2, metavar=("STRATEGY", "BODY"))
    a = p.parse_args(argv)
    if a.quick and a.profile:
        raise Usage("--quick and --profile exclude each other")
    quick = a.quick
    a.rounds = a.rounds or 3
    a.scale = 1 if quick or a.profile else FULL_SCALE
    a.bodies = a.bodies or (QUICK_BODIES if quick else BODIES)
    a.strategies = a.strategies.replace(",", " ").split() if a.strategies else STRATEGIES
    if not a.strategies:
        raise Usage("--strategies: no strategy")
    a.peers = list(servers.PEERS) if a.peers is None else a.peers
    if not re.fullmatch(r"TLS_[A-Z0-9_]+", a.suite):
        raise Usage("--suite '%s': expected one TLS 1.3 suite such as %s" % (a.suite, SUITE))
    if a.profile:
        a.strategies = [a.profile[0]]
        a.peers = []
        a.bodies = body_list(a.profile[1])
        if len(a.bodies) != 1:
            raise Usage("--profile '%s': expected one body size" % a.profile[1])
    return a


def need_tools(a, emitlab):
    if not os.access(emitlab, os.X_OK):
        raise Usage("no emitlab binary at '%s' (build the release preset, or set EMITLAB)" %
                    emitlab)
    tools = ["h2load", "taskset", "curl", "openssl"] + a.peers + (["perf"] if a.profile else [])
    for t in tools:
        if shutil.which(t) is None:
            raise Usage("'%s' is not installed (bash scripts/setup.sh installs it)" % t)


def check_strategies(a, emitlab):
    """Each strategy as `emitlab serve` parses it (a bad --listen stops it before it serves): a
    bad strategy is emitlab's own line, exit 2."""
    for s in a.strategies:
        if a.profile and s in servers.PEERS:
            continue  # --profile nghttpd 16K profiles the peer
        r = subprocess.run([emitlab, "serve", "--strategy", s, "--listen", "bad"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        err = r.stderr.decode().strip()
        if "bad --listen" not in err:
            raise Usage("--strategies: " + (err.splitlines() or ["'%s' refused" % s])[0])


def verify(srv, tmp, suite):
    """One fetch with curl: HTTP/2, the suite, and the body byte for byte."""
    got = os.path.join(tmp, "fetched")
    r = subprocess.run(["curl", "-sSk", "--http2", "--tls13-ciphers", suite, "-o", got,
                        "-w", "%{http_version}", srv.url], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    if r.returncode != 0 or r.stdout.decode().strip() != "2":
        return "curl: status %d, http %s" % (r.returncode, r.stdout.decode().strip())
    with open(got, "rb") as f:
        data = f.read()
    if data != expected_body(srv.body):
        return "the body is not the %d-byte pattern (%d bytes: %r)" % (srv.body, len(data),
                                                                     data[:60])
    return None


def load(srv, a, requests, on_start=None, on_end=None):
    """h2load -n REQUESTS on the client core, on_start just before it starts and on_end just
    after it exits (every response is complete by then, or failed). Returns its text."""
    cmd = ["taskset", "-c", str(a.cores[1])] + CLIENT + [
        "-n", str(requests), "--tls13-ciphers", a.suite, srv.url]
    if on_start:
        on_start()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # A server that never finishes a response would keep h2load waiting: bound it.
    timer = threading.Timer(LOAD_LIMIT_S, proc.kill)
    timer.start()
    try:
        text = proc.communicate()[0].decode(errors="replace")
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if on_end:
        on_end()
    return text


def run_cell(name, body, rnd, a, tmp, emitlab):
    srv = servers.start(name, body, tmp, emitlab, a.suite, a.cores[0],
                        os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem"))
    rec = {"name": name, "body": body, "round": rnd, "ok": False}
    try:
        problem = verify(srv, tmp, a.suite)
        samples = {}

        def mark(key):
            samples[key] = (usage.sample(srv.proc.pid), usage.cores())

        n_requests = requests_for(a, body)
        text = load(srv, a, n_requests, lambda: mark("start"), lambda: mark("end"))
        alive = srv.alive()
    finally:
        status = srv.stop()
    h = report.parse_h2load(text)
    rec.update(h)
    if problem is None and not alive:
        problem = "the server died during the run (status %d): %s" % (status,
                                                                      servers.tail(srv.log))
    rec["requests"] = n_requests
    if problem is None and (h["succeeded"] != n_requests or h["failed"] + h["errored"] > 0):
        problem = "h2load: %d succeeded, %d failed, %d errored" % (
            h["succeeded"], h["failed"], h["errored"])
    if problem is None:
        (s0, c0), (s1, c1) = samples["start"], samples["end"]
        d = usage.delta(s1, s0)
        n = h["succeeded"]
        server_busy = d["cpu_ns"] / 1e9
        window = (c1[a.cores[0]][1] - c0[a.cores[0]][1]) / os.sysconf("SC_CLK_TCK")
        rec.update({
            "ok": True,
            "cpu_us_per_response": d["cpu_ns"] / 1e3 / n,
            "page_faults_per_response": d["faults"] / n,
            "write_syscalls_per_response": d["syscw"] / n,
            # The server core's busy share that was not the server: other jobs' load.
            "others_on_server_core": max(0.0, usage.core_busy(c1, c0, a.cores[0]) -
                                         (server_busy / window if window else 0.0)),
            "client_core_busy": usage.core_busy(c1, c0, a.cores[1]),
        })
        if srv.stats_json and os.path.exists(srv.stats_json):
            with open(srv.stats_json) as f:
                st = json.load(f)
            r = max(st.get("responses", 0), 1)
            rec.update({
                "records_per_response": st["tls_records"] / r,
                "undersized_per_response": st["undersized_records"] / r,
                "submissions_per_response": st["write_submissions"] / r,
                "records_per_write": st["records_per_write"],
                "emitter_allocations_per_pass": st["emitter_allocations_per_pass"],
                "bytes_copied_per_response": st["bytes_copied"] / r,
                "server_exit": status,
            })
            if status != 0:
                rec["ok"], problem = False, "emitlab serve exited %d on SIGTERM" % status
    if problem:
        rec["problem"] = problem
        keep = os.path.join(a.out, "logs")
        os.makedirs(keep, exist_ok=True)
        shutil.copy(srv.log, os.path.join(keep, "%s-%d-round%d.log" % (
            re.sub(r"[^A-Za-z0-9_.=+-]", "_", name), body, rnd)))
    return rec


def prepare(tmp, bodies):
    # h2o started as root serves as `nobody`: the bodies (not the key) must be world-readable.
    os.chmod(tmp, 0o755)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", os.path.join(tmp, "key.pem"), "-out",
                    os.path.join(tmp, "cert.pem")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.makedirs(os.path.join(tmp, "www"))
    for b in bodies:
        with open(os.path.join(tmp, "www", "body-%d" % b), "wb") as f:
            f.write(expected_body(b))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def benchmark(a, tmp, emitlab):
    names = a.strategies + a.peers
    cells = [(n, b) for n in names for b in a.bodies]
    total = len(cells) * a.rounds
    rng = random.Random(a.seed if a.seed is not None else time.time_ns())
    start_load = loadavg()
    print("loadtest: %d runs (%d servers x %d bodies x %d rounds) of %s requests; "
          "server on core %d, h2load on core %d; load average %s" % (
              total, len(names), len(a.bodies), a.rounds,
              "/".join(str(requests_for(a, b)) for b in a.bodies), a.cores[0], a.cores[1],
              start_load), flush=True)
    print("loadtest: the machine may be shared: compare cells within this run only, and trust "
          "server CPU us/response over req/s", flush=True)
    os.makedirs(a.out, exist_ok=True)
    shutil.rmtree(os.path.join(a.out, "logs"), ignore_errors=True)  # a previous run's
    runs = []
    with open(os.path.join(a.out, "runs.jsonl"), "w") as log:
        i = 0
        for rnd in range(1, a.rounds + 1):
            order = cells[:]
            rng.shuffle(order)
            for name, body in order:
                i += 1
                rec = run_cell(name, body, rnd, a, tmp, emitlab)
                runs.append(rec)
                log.write(json.dumps(rec) + "\n")
                log.flush()
                print(report.progress_line(rec, i, total), flush=True)
    meta = {"command": "scripts/loadtest.sh " + " ".join(sys.argv[1:]),
            "client": " ".join(CLIENT) + " -n %s --tls13-ciphers %s" % (
                "/".join(str(requests_for(a, b)) for b in a.bodies), a.suite),
            "requests": {str(b): requests_for(a, b) for b in a.bodies},
            "cores": list(a.cores), "rounds": a.rounds,
            "load_average_start": start_load, "load_average_end": loadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    report.write(runs, meta, a.strategies, a.peers, a.bodies, a.out)
    failed = [r for r in runs if not r["ok"]]
    for r in failed:
        print("loadtest: failed run: %s at %s, round %d: %s" % (
            r["name"], report.body_text(r["body"]), r["round"], r["problem"]), file=sys.stderr)
    return 1 if failed else 0


def profile(a, tmp, emitlab):
    name, body = a.strategies[0], a.bodies[0]
    srv = servers.start(name, body, tmp, emitlab, a.suite, a.cores[0],
                        os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem"))
    data = os.path.join(a.out, "perf.data")
    os.makedirs(a.out, exist_ok=True)
    perf = []
    try:
        problem = verify(srv, tmp, a.suite)
        if problem:
            raise RuntimeError(problem)

        def begin():
            perf.append(subprocess.Popen(
                ["perf", "record", "-q", "-e", "cpu-clock", "-p", str(srv.proc.pid), "-o", data],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

        def end():
            perf[0].send_signal(signal.SIGINT)

        n_requests = requests_for(a, body)
        text = load(srv, a, n_requests, begin, end)
    finally:
        for p in perf:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
            p.wait(timeout=60)
        srv.stop()
    h = report.parse_h2load(text)
    if h["succeeded"] != n_requests:
        raise RuntimeError("h2load did not finish: " + text.strip()[-200:])
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                          "--sort", "dso,sym"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout.decode(errors="replace")
    path = os.path.join(a.out, "perf.txt")
    with open(path, "w") as f:
        f.write(rep)
    print(report.profile_rows(rep, "%s at %s, %.0f req/s (h2load -t 1 -c 100 -m 32 -n %d)" % (
        name, report.body_text(body), h["req_s"], n_requests)))
    print("perf report: %s (perf.data beside it)" % path)
    return 0


def main(argv):
    try:
        a = parse(argv)
        if a.help:
            print(USAGE + "\n\n" + HELP)
            return 0
        emitlab = os.environ.get("EMITLAB", os.path.join(ROOT, "build", "release", "cli",
                                                         "emitlab"))
        need_tools(a, emitlab)
        check_strategies(a, emitlab)
    except Usage as e:
        print("loadtest.sh: %s (usage: scripts/loadtest.sh --help)" % e, file=sys.stderr)
        return 2
    # Ctrl-C (SIGINT), SIGTERM and SIGHUP all unwind through the finally blocks that stop the
    # server of the current run and remove the temporary directory.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    tmp = tempfile.mkdtemp(prefix="emitlab-loadtest-")
    try:
        prepare(tmp, a.bodies)
        return profile(a, tmp, emitlab) if a.profile else benchmark(a, tmp, emitlab)
    except KeyboardInterrupt:
        print("\nloadtest: interrupted; every server stopped", file=sys.stderr)
        return 130
    except RuntimeError as e:
        print("loadtest: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
