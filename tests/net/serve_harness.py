"""Starts `emitlab serve` on an ephemeral loopback port and stops it by PID on every exit path.

The server prints its bound port on a readiness line; tests wait on that line (and on the
server's other lines: statistics on SIGUSR1, one line per connection that ends badly), never on
sleeps. Every wait has a generous bound that only turns a hang into a failure.
"""
import json
import os
import queue
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading

WAIT = 60.0  # seconds: a bound on hangs, never a timing shape

MASK = (1 << 64) - 1


def _mix(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def expected_body(size, seed=0, request_id=0):
    """The simulator's body pattern, written again from its definition (an independent oracle)."""
    base = _mix(seed ^ ((request_id * 0xD6E8FEB86659FD93) & MASK))
    words = (size + 7) // 8
    out = bytearray()
    for i in range(words):
        out += _mix(base ^ i).to_bytes(8, "little")
    return bytes(out[:size])


class Lines:
    """Collects a pipe's lines in a thread so the child never blocks on a full pipe."""

    def __init__(self, pipe):
        self.q = queue.Queue()
        self.all = []
        self.t = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self.t.start()

    def _pump(self, pipe):
        for raw in pipe:
            line = raw.decode(errors="replace").rstrip("\n")
            self.all.append(line)
            self.q.put(line)
        self.q.put(None)

    def wait_for(self, pattern, timeout=WAIT):
        rx = re.compile(pattern)
        while True:
            line = self.q.get(timeout=timeout)
            if line is None:
                raise AssertionError("stream ended before a line matched %r" % pattern)
            m = rx.search(line)
            if m:
                return m


class Server:
    def __init__(self, emitlab, *args):
        self.dir = tempfile.TemporaryDirectory(prefix="emitlab-serve-")
        self.stats_path = os.path.join(self.dir.name, "stats.json")
        cmd = [emitlab, "serve", "--listen", "127.0.0.1:0", "--stats-json", self.stats_path]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = Lines(self.proc.stdout)
        self.err = Lines(self.proc.stderr)
        try:
            m = self.out.wait_for(r"listening on 127\.0\.0\.1:(\d+)")
        except BaseException:
            self.kill()
            raise
        self.port = int(m.group(1))
        self.url = "https://127.0.0.1:%d" % self.port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self.dir.cleanup()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stats_now(self):
        """SIGUSR1, then the JSON the server wrote just before its text report."""
        self.proc.send_signal(signal.SIGUSR1)
        self.out.wait_for(r"^emitlab serve statistics")
        with open(self.stats_path) as f:
            return json.load(f)

    def stop(self, timeout=WAIT):
        """SIGTERM; returns (exit status, final statistics)."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self.out.t.join(timeout)
        with open(self.stats_path) as f:
            return rc, json.load(f)


def run(cmd, timeout=WAIT):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)


def h2load_counts(text):
    """The `requests:` line: h2load exits 0 even when every request failed."""
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored", text)
    assert m, "no requests: line in h2load output:\n" + text
    keys = ("total", "started", "done", "succeeded", "failed", "errored")
    return dict(zip(keys, map(int, m.groups())))


# A minimal HTTP/2 client over TLS, for what curl, nghttp and h2load cannot do on purpose:
# stop reading, reset a stream mid-body, drop the connection mid-body.
DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 7, 8
END_STREAM, ACK = 0x1, 0x1
CANCEL = 0x8
MAX_WINDOW = (1 << 31) - 1


class H2Client:
    def __init__(self, port, strict_eof=False):
        """strict_eof: an EOF without close_notify raises ssl.SSLEOFError (Python's default
        reads it as a clean end)."""
        raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if strict_eof:
            ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
        ctx.set_alpn_protocols(["h2"])
        self.s = ctx.wrap_socket(raw, server_hostname="localhost",
                                 suppress_ragged_eofs=not strict_eof)
        assert self.s.selected_alpn_protocol() == "h2"
        self.buf = b""
        # Windows wide open, so the server sends as fast as the socket takes it.
        settings = struct.pack(">HI", 0x4, MAX_WINDOW)
        self.s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + self.frame(SETTINGS, 0, 0, settings) +
                       self.frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - 65535)))

    @staticmethod
    def frame(ftype, flags, stream, payload):
        return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
            struct.pack(">I", stream) + payload

    def get(self, stream, path):
        # HPACK: indexed :method GET, :scheme https; literal :path and :authority (no Huffman).
        p = path.encode()
        block = b"\x82\x87\x44" + bytes([len(p)]) + p + b"\x41\x09localhost"
        self.s.sendall(self.frame(HEADERS, 0x4 | END_STREAM, stream, block))

    def reset(self, stream):
        self.s.sendall(self.frame(RST_STREAM, 0, stream, struct.pack(">I", CANCEL)))

    def read_frame(self):
        while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        n = int.from_bytes(self.buf[:3], "big")
        ftype, flags = self.buf[3], self.buf[4]
        stream = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
        payload = self.buf[9:9 + n]
        self.buf = self.buf[9 + n:]
        if ftype == SETTINGS and not flags & ACK:
            self.s.sendall(self.frame(SETTINGS, ACK, 0, b""))
        return ftype, flags, stream, payload

    def read_data(self, stream, at_least=None):
        """DATA of `stream` until END_STREAM (or at least `at_least` bytes); other streams'
        frames are skipped. Returns (bytes, ended)."""
        body = bytearray()
        while at_least is None or len(body) < at_least:
            f = self.read_frame()
            if f is None:
                return bytes(body), False
            ftype, flags, sid, payload = f
            if sid != stream:
                continue
            if ftype == DATA:
                body += payload
            if ftype == RST_STREAM:
                return bytes(body), False
            if ftype in (DATA, HEADERS) and flags & END_STREAM:
                return bytes(body), True
        return bytes(body), False

    def drop(self):
        """Closes with a reset (SO_LINGER 0), as a client that dies does."""
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.s.close()

    def close(self):
        try:
            self.s.sendall(self.frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0)))
        finally:
            self.s.close()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def run_named_test(module_globals):
    """The CTest entry of a test module (serve_test.py, loadtest_test.py): argv is EMITLAB TEST,
    and TEST names one of the module's test_* functions without the prefix."""
    tests = {n[len("test_"):]: fn for n, fn in module_globals.items() if n.startswith("test_")}
    emitlab, name = sys.argv[1], sys.argv[2]
    if name not in tests:
        sys.exit("unknown test %r; expected one of %s" % (name, ", ".join(sorted(tests))))
    tests[name](emitlab)
    print("ok:", name)
