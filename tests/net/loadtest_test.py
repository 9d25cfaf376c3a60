"""scripts/loadtest.sh itself (CTest label `net`). Usage: loadtest_test.py EMITLAB TEST."""
import json
import os
import signal
import stat
import subprocess
import tempfile

from serve_harness import WAIT, check, run_named_test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "loadtest.sh")
SUITE = "TLS_AES_256_GCM_SHA384"


def loadtest(emitlab, args, timeout=WAIT * 3):
    env = dict(os.environ, EMITLAB=emitlab)
    return subprocess.run(["bash", SCRIPT] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=timeout)


def test_smoke(emitlab):
    """One strategy, one body, one peer, one round of 3200 requests: exit 0, a progress line per run,
    the acceptance table with both rows filled, results.json with the figures, a PNG."""
    with tempfile.TemporaryDirectory() as out:
        r = loadtest(emitlab, ["--rounds", "1", "--requests", "3200",
                               "--bodies", "3", "--strategies", "gather", "--peers", "nghttpd",
                               "--out", out])
        text = r.stdout.decode()
        check(r.returncode == 0, "exit %d: %s %s" % (r.returncode, text, r.stderr.decode()))
        progress = [l for l in text.splitlines() if l.startswith("[") and "] round 1" in l]
        check(len(progress) == 2, "progress lines: %r" % progress)
        with open(os.path.join(out, "table.md")) as f:
            table = f.read()
        first = table.index("## The seed's acceptance table")
        check(first < table.index("## Body 3 B"), "the acceptance table is not first")
        rows = [l for l in table[first:].splitlines() if l.startswith("| gather |") or
                l.startswith("| nghttpd |")]
        check(len(rows) >= 2 and all(l.split("|")[2].strip().isdigit() for l in rows[:2]),
              "acceptance rows without req/s: %r" % rows)
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
        cells = {c["name"]: c for c in results["cells"]}
        for name in ("gather", "nghttpd"):
            c = cells[name]
            check(c["rounds"] == 1 and c["failed_runs"] == 0, "%s: %s" % (name, c))
            check(c["req_s_median"] > 0 and c["cpu_us_per_response"] > 0, "%s: %s" % (name, c))
            check(c["suites"] == [SUITE], "%s negotiated %s" % (name, c["suites"]))
        # emitlab's own counters reach the table; the peer has none.
        check(cells["gather"]["records_per_response"] > 0, "gather: no TLS records")
        check("records_per_response" not in cells["nghttpd"], "nghttpd has emitlab counters")
        with open(os.path.join(out, "chart.png"), "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", "chart.png is not a PNG")


def test_interrupt(emitlab):
    """SIGINT (Ctrl-C) while a server runs: exit 130, and the server is gone. The server runs
    under a wrapper that names emitlab's PID on a FIFO once emitlab printed its readiness line;
    the test blocks on that FIFO, so the server is listening when the signal comes."""
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "pid")
        os.mkfifo(fifo)
        wrapper = os.path.join(d, "emitlab")
        with open(wrapper, "w") as f:
            f.write("""#!/bin/bash
case "$*" in *--stats-json*) ;; *) exec %(emitlab)s "$@" ;; esac
out=$(mktemp -u %(d)s/out.XXXXXX); mkfifo "$out"
%(emitlab)s "$@" > "$out" &
pid=$!
{ read -r line; echo "$pid" > %(fifo)s; cat > /dev/null; } < "$out"
wait "$pid"
""" % {"emitlab": emitlab, "d": d, "fifo": fifo})
        os.chmod(wrapper, stat.S_IRWXU)
        env = dict(os.environ, EMITLAB=wrapper)
        p = subprocess.Popen(["bash", SCRIPT, "--rounds", "1", "--requests", "10000000", "--bodies", "3",
                              "--strategies", "drain", "--peers", "none", "--out", d],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            with open(fifo) as f:  # blocks until the server has started
                server = int(f.read().split()[0])
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=WAIT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 130, "exit %d: %s" % (p.returncode, err.decode()))
        check("interrupted" in err.decode(), "no word of the interruption: %r" % err)
        try:
            with open("/proc/%d/stat" % server) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            state = None
        if state not in (None, "Z"):
            os.kill(server, signal.SIGKILL)  # the script left it: the test's own cleanup
            raise AssertionError("the server %d was still running (state %s)" % (server, state))


def test_bad_flags(emitlab):
    """A bad flag is one line naming the value, exit 2, before anything starts."""
    cases = [
        (["--rounds", "x"], "'x'"),
        (["--peers", "apache"], "apache"),
        (["--bodies", "3X"], "3X"),
        (["--strategies", "gather+A9"], "A9"),
        (["--profile", "gather"], "--profile"),
    ]
    for args, named in cases:
        r = loadtest(emitlab, args, timeout=WAIT)
        err = r.stderr.decode().strip()
        check(r.returncode == 2, "%s: exit %d (%s)" % (args, r.returncode, err))
        check(len(err.splitlines()) == 1 and named in err, "%s: message %r" % (args, err))
        check(r.stdout == b"", "%s: printed %r" % (args, r.stdout))


if __name__ == "__main__":
    run_named_test(globals())
