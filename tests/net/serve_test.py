"""Real clients against `emitlab serve` (CTest label `net`). Usage: serve_test.py EMITLAB TEST."""
import json
import os
import signal
import subprocess
import tempfile

from serve_harness import (DATA, END_STREAM, GOAWAY, WAIT, H2Client, Server, check, expected_body,
                            h2load_counts, run, run_named_test)

STRATEGIES = ["drain", "gather", "gather+A1", "gather+A3", "gather+A1+A3", "gather+A1+A2+A3",
              "gather@cap=32K", "gather@cap=64K", "hybrid"]
SIZES = [0, 1, 16384, 16393, 1 << 20]


def check_clean_exit(rc, stats, what):
    """Exit 0 and nothing left: no open stream, no body or emitter block still held."""
    check(rc == 0, "%s: exit status %d" % (what, rc))
    for key in ("connections_open", "open_streams", "held_response_bodies",
                "held_emitter_blocks", "connections_forced", "connections_failed"):
        check(stats[key] == 0, "%s: %s is %d at exit" % (what, key, stats[key]))


def test_curl_bodies(emitlab):
    """For every strategy, curl --http2 fetches bodies of 0, 1, 16384, 16393 and 1 MiB byte-exact
    (one connection, the five requests one after another)."""
    with tempfile.TemporaryDirectory() as d:
        for strategy in STRATEGIES:
            with Server(emitlab, "--strategy", strategy) as srv:
                cmd = ["curl", "-sSk", "--http2", "--fail"]
                files = [os.path.join(d, "%s-%d" % (strategy, n)) for n in SIZES]
                for n, f in zip(SIZES, files):
                    cmd += ["%s/bytes/%d" % (srv.url, n), "-o", f]
                r = run(cmd)
                check(r.returncode == 0, "%s: curl failed: %s" % (strategy, r.stdout.decode()))
                for n, f in zip(SIZES, files):
                    with open(f, "rb") as fh:
                        got = fh.read()
                    check(got == expected_body(n),
                          "%s: /bytes/%d: %d bytes, not the pattern" % (strategy, n, len(got)))
                rc, stats = srv.stop()
                check_clean_exit(rc, stats, strategy)
                check(stats["responses"] == len(SIZES), "%s: responses %d" %
                      (strategy, stats["responses"]))


def test_h2load(emitlab):
    """h2load -n 2000 -c 10 -m 10 ends with 2000 succeeded, 0 failed, 0 errored, per strategy."""
    for strategy in STRATEGIES:
        with Server(emitlab, "--strategy", strategy, "--body", "4K") as srv:
            r = run(["h2load", "-n", "2000", "-c", "10", "-m", "10", srv.url + "/"])
            counts = h2load_counts(r.stdout.decode())
            check(counts["succeeded"] == 2000 and counts["failed"] == 0 and
                  counts["errored"] == 0, "%s: h2load %s" % (strategy, counts))
            rc, stats = srv.stop()
            check_clean_exit(rc, stats, strategy)
            check(stats["responses"] >= 2000, "%s: responses %d" % (strategy, stats["responses"]))
            check(stats["tls_records"] > 0 and stats["write_submissions"] > 0, strategy)


def test_h2load_duration(emitlab):
    """h2load -m 32 for a duration (-D), twice: at its end h2load closes its connections with
    responses still in flight, and the server must survive the writes that
    then fail (EPIPE once killed it with SIGPIPE), serve on, and exit 0 on SIGTERM. 20
    connections, not upstream's 100: h2load -D never ends when a connection's handshake is still
    unfinished at the end (as under ASan on a busy machine)."""
    with Server(emitlab, "--strategy", "gather", "--body", "100") as srv:
        succeeded = 0
        for _ in range(2):  # each end is a chance for the race; two make a miss unlikely
            r = run(["h2load", "-t", "1", "-c", "20", "-m", "32", "-D", "1", srv.url + "/"])
            counts = h2load_counts(r.stdout.decode())
            check(counts["succeeded"] > 0 and counts["failed"] == 0 and counts["errored"] == 0,
                  "h2load -D 1: %s" % counts)
            succeeded += counts["succeeded"]
        r = run(["curl", "-sSk", "--http2", "--fail", srv.url + "/bytes/100"])
        check(r.returncode == 0 and r.stdout == expected_body(100), "no service after h2load -D")
        rc, stats = srv.stop()
        check(rc == 0, "exit status %d (-13 is SIGPIPE)" % rc)
        for key in ("connections_open", "open_streams", "held_response_bodies",
                    "held_emitter_blocks"):
            check(stats[key] == 0, "%s is %d at exit" % (key, stats[key]))
        check(stats["responses"] >= succeeded, "responses %d" % stats["responses"])


# Every figure the issue lists for the statistics, as the JSON names it ("per_response" ones
# under that key), so a figure dropped from either form fails the test.
COUNTS = ["connections_accepted", "connections_open", "requests", "responses", "passes",
          "ssl_writes", "tls_records", "undersized_records", "write_submissions",
          "write_syscalls", "emitter_allocations", "reference_operations", "bytes_copied",
          "cpu_us", "page_faults"]
PER_RESPONSE = ["cpu_us", "page_faults", "write_submissions", "write_syscalls", "tls_records",
                "undersized_records", "bytes_copied", "reference_operations"]


def test_statistics(emitlab):
    """SIGUSR1 prints the statistics as text and writes them as JSON, both with every listed
    figure, agreeing with each other and with what was served: 5 responses of known sizes."""
    with Server(emitlab, "--strategy", "gather") as srv:
        sizes = [0, 1, 16384, 16393, 65536]
        cmd = ["curl", "-sSk", "--http2", "--fail"]
        for n in sizes:
            cmd += ["%s/bytes/%d" % (srv.url, n), "-o", "/dev/null"]
        r = run(cmd)
        check(r.returncode == 0, "curl failed: " + r.stdout.decode())
        before = len(srv.out.all)
        j = srv.stats_now()
        srv.out.wait_for(r"^  records per write")  # the text's last line
        text = srv.out.all[before:]
        values = {}
        for line in text:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                values[parts[0]] = int(parts[1])
        for key in COUNTS:
            check(key in j, "JSON lacks %s" % key)
            check(values.get(key) == j[key], "text %s=%s, JSON %s" % (key, values.get(key), j[key]))
        for key in PER_RESPONSE:
            check(key in j["per_response"], "JSON per_response lacks %s" % key)
        check(j["responses"] == len(sizes) and j["requests"] == len(sizes), "responses %s" % j)
        check(j["plaintext_bytes"] >= sum(sizes), "plaintext_bytes %d" % j["plaintext_bytes"])
        # At most 16384 payload bytes per record: the body bytes alone need this many.
        check(j["tls_records"] >= sum((n + 16383) // 16384 for n in sizes), "tls_records")
        check(j["undersized_records"] <= j["tls_records"], "undersized over records")
        check(j["write_syscalls"] >= j["write_submissions"] > 0, "write syscalls under submits")
        check(j["cpu_us"] > 0 and j["passes"] > 0, "no CPU or passes")
        for key in PER_RESPONSE:
            want = j[key] / j["responses"]
            check(abs(j["per_response"][key] - want) <= 1e-9 * max(1, want),
                  "per_response %s %s, not %s" % (key, j["per_response"][key], want))
        check(abs(j["records_per_write"] - j["tls_records"] / j["write_submissions"]) < 1e-9,
              "records_per_write")
        check(abs(j["emitter_allocations_per_pass"] - j["emitter_allocations"] / j["passes"])
              < 1e-9, "emitter_allocations_per_pass")
        check(any(l.startswith("  per response:") and "page_faults" in l and "cpu_us" in l
                  for l in text), "text lacks per-response CPU and page faults: %r" % text)
        rc, stats = srv.stop()
        check_clean_exit(rc, stats, "statistics")


def test_nghttp_frames(emitlab):
    """nghttp -nv shows the exchange: the server's SETTINGS, a 200 and the DATA ending stream 13
    (nghttp's first request stream) with exactly the body's length."""
    with Server(emitlab, "--strategy", "gather") as srv:
        r = run(["nghttp", "-nv", srv.url + "/bytes/100"])
        text = r.stdout.decode()
        check(r.returncode == 0, "nghttp failed:\n" + text)
        check("recv SETTINGS frame" in text, "no SETTINGS:\n" + text)
        check(":status: 200" in text, "no 200:\n" + text)
        check("recv DATA frame <length=100, flags=0x01, stream_id=13>" in text,
              "no DATA frame of 100 bytes with END_STREAM:\n" + text)
        rc, stats = srv.stop()
        check_clean_exit(rc, stats, "nghttp")


def test_slow_reader(emitlab):
    """A client that stops reading is reclaimed by the write deadline while another client's
    requests still succeed."""
    with Server(emitlab, "--strategy", "gather", "--write-timeout", "1") as srv:
        slow = H2Client(srv.port)
        slow.get(1, "/bytes/33554432")  # 32 MiB: far more than the socket buffers hold unread
        r = run(["curl", "-sSk", "--http2", "--fail", srv.url + "/bytes/16384"])
        check(r.returncode == 0 and r.stdout == expected_body(16384), "the other client failed")
        srv.err.wait_for(r"connection \d+ reclaimed: write deadline")
        # Only now does the slow client read: what it gets ends short, without END_STREAM.
        body, ended = slow.read_data(1)
        check(not ended and len(body) < 33554432, "the slow client got its whole body")
        slow.s.close()
        r = run(["curl", "-sSk", "--http2", "--fail", srv.url + "/bytes/1000"])
        check(r.returncode == 0 and r.stdout == expected_body(1000), "no service after reclaim")
        rc, stats = srv.stop()
        check_clean_exit(rc, stats, "slow reader")
        check(stats["connections_reclaimed"] == 1, "reclaimed %d" % stats["connections_reclaimed"])


def test_reset_and_drop(emitlab):
    """A client that resets a stream mid-body, and one that drops its connection mid-body, leave
    no open stream and no held reference, under every strategy."""
    for strategy in STRATEGIES:
        with Server(emitlab, "--strategy", strategy) as srv:
            c = H2Client(srv.port)
            c.get(1, "/bytes/8388608")
            body, ended = c.read_data(1, at_least=256 * 1024)
            check(not ended and body == expected_body(len(body)), strategy + ": first bytes")
            c.reset(1)
            c.get(3, "/bytes/100")
            body, ended = c.read_data(3)
            check(ended and body == expected_body(100), strategy + ": stream 3 after the reset")
            s = srv.stats_now()
            check(s["connections_open"] == 1 and s["open_streams"] == 0 and
                  s["held_response_bodies"] == 0 and s["streams_reset"] == 1,
                  "%s after the reset: %s" % (strategy, s))
            c.close()

            d = H2Client(srv.port)
            d.get(1, "/bytes/8388608")
            body, _ = d.read_data(1, at_least=256 * 1024)
            d.drop()
            srv.err.wait_for(r"connection \d+ peer gone")
            s = srv.stats_now()
            check(s["open_streams"] == 0 and s["held_response_bodies"] == 0,
                  "%s after the drop: %s" % (strategy, s))
            rc, stats = srv.stop()
            check_clean_exit(rc, stats, strategy)


def test_thousand_connections(emitlab):
    """1,000 connections opened and dropped (half before, half after the TLS handshake); the
    server still serves, and ends with nothing open or held."""
    import socket
    with Server(emitlab, "--strategy", "hybrid", "--max-connections", "2000") as srv:
        for i in range(1000):
            if i % 2 == 0:
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT)
                s.close()
            else:
                H2Client(srv.port).drop()
        r = run(["curl", "-sSk", "--http2", "--fail", srv.url + "/bytes/5000"])
        check(r.returncode == 0 and r.stdout == expected_body(5000), "no service after 1000")
        rc, stats = srv.stop()
        check_clean_exit(rc, stats, "1000 connections")
        check(stats["connections_accepted"] == 1001, "accepted %d" % stats["connections_accepted"])


def test_max_connections(emitlab):
    """Over --max-connections a connection is closed at accept; the ones within still work."""
    with Server(emitlab, "--max-connections", "1") as srv:
        held = H2Client(srv.port)
        r = run(["curl", "-sSk", "--http2", srv.url + "/bytes/10"])
        check(r.returncode != 0, "a second connection was served over --max-connections 1")
        held.get(1, "/bytes/10")
        body, ended = held.read_data(1)
        check(ended and body == expected_body(10), "the connection within the limit failed")
        held.close()
        rc, stats = srv.stop()
        check_clean_exit(rc, stats, "max connections")
        check(stats["connections_refused"] == 1, "refused %d" % stats["connections_refused"])


def test_sigterm_under_load(emitlab):
    """SIGTERM while h2load runs: GOAWAY, open streams finish, close_notify, exit 0 within the
    deadline, nothing forced, nothing left open or held."""
    with Server(emitlab, "--strategy", "gather+A1+A3", "--body", "16K", "--write-timeout",
                "5") as srv:
        load = subprocess.Popen(["h2load", "-n", "20000", "-c", "10", "-m", "10", srv.url + "/"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            for raw in load.stdout:  # h2load's first progress line: the load is on
                if raw.startswith(b"progress:"):
                    break
            rc, stats = srv.stop(timeout=5 + WAIT)
        finally:
            load.kill()
            load.wait()
        check_clean_exit(rc, stats, "SIGTERM under load")
        check(stats["responses"] > 0, "no responses before SIGTERM")


def test_sigint_graceful(emitlab):
    """SIGINT with a 2 MiB response partly read: the client sees GOAWAY, the stream finish with
    every byte, then close_notify (a clean TLS EOF; an EOF without it raises SSLEOFError), and
    the server exits 0 with the connection counted graceful."""
    size = 2 << 20
    with Server(emitlab, "--strategy", "gather+A1+A3", "--write-timeout", "20") as srv:
        c = H2Client(srv.port, strict_eof=True)
        c.get(1, "/bytes/%d" % size)
        head, ended = c.read_data(1, at_least=256 * 1024)
        check(not ended, "the body ended before SIGINT")
        srv.proc.send_signal(signal.SIGINT)
        body, goaway = bytearray(head), False
        while True:
            f = c.read_frame()
            if f is None:
                break  # clean EOF: close_notify arrived
            ftype, flags, sid, payload = f
            goaway = goaway or ftype == GOAWAY
            if ftype == DATA and sid == 1:
                body += payload
                ended = ended or bool(flags & END_STREAM)
        c.s.close()
        check(goaway, "no GOAWAY after SIGINT")
        check(ended and bytes(body) == expected_body(size),
              "stream 1: %d of %d bytes, ended %s" % (len(body), size, ended))
        rc = srv.proc.wait(timeout=WAIT)
        srv.out.t.join(WAIT)
        with open(srv.stats_path) as f:
            stats = json.load(f)
        check_clean_exit(rc, stats, "SIGINT")
        check(stats["connections_graceful"] == 1 and stats["responses"] == 1, "stats %s" % stats)


def test_tls_versions(emitlab):
    """Upstream's TLS defaults: TLS 1.3 with a self-signed P-256 certificate (ECDSA), TLS 1.2
    with its first ECDHE-ECDSA cipher (server preference), TLS 1.1 refused, ALPN h2 only."""
    with Server(emitlab) as srv:
        where = "127.0.0.1:%d" % srv.port
        r = subprocess.run(["openssl", "s_client", "-connect", where, "-tls1_3", "-alpn", "h2"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=WAIT)
        text = r.stdout.decode(errors="replace")
        check("Server public key is 256 bit" in text and "Peer signature type: ECDSA" in text,
              "not a P-256 ECDSA certificate:\n" + text)
        check("ALPN protocol: h2" in text, "no h2 over TLS 1.3:\n" + text)
        r = run(["curl", "-sSk", "--http2", "--tlsv1.2", "--tls-max", "1.2", "--fail", "-w",
                 "%{http_version}", "-o", "/dev/null", srv.url + "/bytes/10"])
        check(r.returncode == 0 and r.stdout == b"2", "TLS 1.2: %s" % r.stdout)
        r = subprocess.run(["openssl", "s_client", "-connect", where, "-tls1_2",
                            "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=WAIT)
        check("Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in r.stdout.decode(errors="replace"),
              "TLS 1.2 without server preference:\n" + r.stdout.decode(errors="replace"))
        r = run(["curl", "-sSk", "--http2", "--tlsv1.1", "--tls-max", "1.1", srv.url + "/"])
        check(r.returncode != 0, "TLS 1.1 was accepted")
        r = run(["curl", "-sSk", "--http1.1", srv.url + "/"])
        check(r.returncode != 0, "HTTP/1.1 (no h2 in ALPN) was served")
        rc, stats = srv.stop()
        check(rc == 0 and stats["connections_failed"] == 2, "TLS 1.1 and HTTP/1.1 did not fail "
              "their handshakes: %s" % stats)
        stats["connections_failed"] = 0
        check_clean_exit(rc, stats, "TLS versions")


def test_bad_input(emitlab):
    """Bad input is one line naming the value, exit 2: a bad strategy, an unreadable key, a
    port in use, a bad --listen."""
    with Server(emitlab) as srv:
        cases = [
            (["--strategy", "gather+A9"], "A9"),
            (["--cert", "/nonexistent.pem", "--key", "/nonexistent.key"], "/nonexistent.pem"),
            (["--cert", "/etc/hostname"], "--key"),
            (["--listen", "127.0.0.1:%d" % srv.port], "127.0.0.1:%d" % srv.port),
            (["--listen", "localhost"], "localhost"),
            (["--body", "3X"], "3X"),
        ]
        for args, named in cases:
            r = subprocess.run([emitlab, "serve"] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=WAIT)
            err = r.stderr.decode().strip()
            check(r.returncode == 2, "%s: exit %d (%s)" % (args, r.returncode, err))
            check(len(err.splitlines()) == 1 and named in err, "%s: message %r" % (args, err))
        srv.stop()


if __name__ == "__main__":
    run_named_test(globals())
