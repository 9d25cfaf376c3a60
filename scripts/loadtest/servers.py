"""The servers under load: `emitlab serve` and the three peers, each started on one pinned core
in its own process group (h2o forks helpers), listening on 127.0.0.1 only, and stopped by that
group's id. Each peer's configuration is written into the run's temporary directory."""
import os
import signal
import socket
import subprocess
import time

PEERS = ("nghttpd", "nginx", "h2o")
STOP_WAIT = 10.0  # seconds a server gets to exit on SIGTERM before its group is killed


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body_path(body):
    return "/body-%d" % body


def nginx_conf(tmp, port, cert, key, suite):
    d = os.path.join(tmp, "nginx")
    os.makedirs(d, exist_ok=True)
    temp = "\n".join("  %s_temp_path %s/%s;" % (k, d, k)
                     for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = f"""daemon off;
master_process off;
worker_processes 1;
error_log stderr warn;
pid {d}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
  keepalive_requests 100000000;
  open_file_cache max=64;
  server {{
    listen 127.0.0.1:{port} ssl http2;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_conf_command Ciphersuites {suite};
    http2_max_concurrent_streams 128;
    root {tmp}/www;
  }}
}}
"""
    path = os.path.join(d, "nginx.conf")
    with open(path, "w") as f:
        f.write(text)
    return ["nginx", "-p", d, "-c", path]


def h2o_conf(tmp, port, cert, key):
    # h2o 2.2.5 has no TLS 1.3 suite setting: the client's offer (one suite) decides.
    text = f"""listen:
  host: 127.0.0.1
  port: {port}
  ssl:
    certificate-file: {cert}
    key-file: {key}
    minimum-version: TLSv1.2
    ocsp-update-interval: 0
num-threads: 1
access-log: /dev/null
hosts:
  default:
    paths:
      /:
        file.dir: {tmp}/www
"""
    path = os.path.join(tmp, "h2o.conf")
    with open(path, "w") as f:
        f.write(text)
    return ["h2o", "-c", path]


class Running:
    """One started server: its process (group leader), port and the path that serves the body."""

    def __init__(self, name, body, proc, port, path, log, stats_json):
        self.name, self.body, self.proc, self.port = name, body, proc, port
        self.path, self.log, self.stats_json = path, log, stats_json

    @property
    def url(self):
        return "https://127.0.0.1:%d%s" % (self.port, self.path)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM to the group, a bounded wait, then SIGKILL. Returns the exit status."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                pass
        # Whatever the group still holds (h2o's helpers outlive their parent) goes now.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait()
        return self.proc.returncode


def start(name, body, tmp, emitlab, suite, core, cert, key):
    """Starts NAME serving BODY bytes and waits until its port accepts. Raises RuntimeError with
    the server's log when it exits or does not listen."""
    port = free_port()
    log = os.path.join(tmp, "server.log")
    stats_json = None
    path = body_path(body)
    if name == "nghttpd":
        # nghttpd has no TLS 1.3 suite setting either; h2load offers only the chosen one.
        cmd = ["nghttpd", "-a", "127.0.0.1", "-n", "1", "-d", os.path.join(tmp, "www"),
               str(port), key, cert]
    elif name == "nginx":
        cmd = nginx_conf(tmp, port, cert, key, suite)
    elif name == "h2o":
        cmd = h2o_conf(tmp, port, cert, key)
    else:
        stats_json = os.path.join(tmp, "stats.json")
        if os.path.exists(stats_json):
            os.unlink(stats_json)
        cmd = [emitlab, "serve", "--strategy", name, "--listen", "127.0.0.1:%d" % port,
               "--body", str(body), "--cert", cert, "--key", key, "--tls13-suites", suite,
               "--stats-json", stats_json]
        path = "/"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["taskset", "-c", str(core)] + cmd, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    running = Running(name, body, proc, port, path, log, stats_json)
    try:
        wait_listening(running)
    except BaseException:  # Ctrl-C while it starts, or it never listened
        running.stop()
        raise
    return running


def wait_listening(running):
    deadline = time.monotonic() + 20
    while True:
        if running.proc.poll() is not None:
            raise RuntimeError("%s exited with status %d before listening: %s" %
                               (running.name, running.proc.returncode, tail(running.log)))
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", running.port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("%s did not listen on port %d within 20 s: %s" %
                               (running.name, running.port, tail(running.log)))
        # Readiness of a server we cannot ask (the peers print nothing dependable): a bounded
        # poll, not a timing shape.
        time.sleep(0.02)


def tail(path, lines=3):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(l.strip() for l in f.readlines()[-lines:])
    except OSError:
        return "(no log)"
