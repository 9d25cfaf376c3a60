#!/usr/bin/python3
"""The deterministic cost run: every emit and floor benchmark's timed phase under callgrind.

    counts.py EMITLAB_BENCH --out COUNTS.json [--scale quick] [--filter REGEX] [--jobs 2]
              [--work DIR] [--quiet]

One valgrind process per benchmark (emitlab_bench --emitlab_counts=NAME, bench/counts_mode.h):
instrumentation and collection are on only around the timed phase, with callgrind's cache
simulation on a fixed cache (CACHE below, not the host's, so that the counts do not depend on
the machine they ran on), in a fixed client process (CLIENT_ENV below: the same environment,
working directory and argv lengths whoever starts it, so that the counts do not depend on the
caller's shell). Every `emit/drain/...` benchmark runs twice, in two processes: the
second is the control that must read exactly what the first did.

Writes COUNTS.json: per benchmark the raw event totals of the collected phase and the figures
per response (report.py reads them). Progress goes to stderr, one line per finished benchmark
with an estimate of what is left (--quiet: none).

Exit status: 0; 1 when a benchmark failed, COUNTS.json could not be written, or the run was
interrupted (130 for SIGINT, 143 for SIGTERM: the running valgrind processes are stopped and
COUNTS.json is not written); 2 for bad arguments.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import profile_shares  # noqa: E402

# A fixed simulated cache: 32 KiB 8-way L1 I and D, 8 MiB 16-way last level, 64-byte lines
# (a common x86 server core's L1 and one socket's L3 slice). valgrind would otherwise copy the
# host's, and the counts would change with the machine.
CACHE = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=8388608,16,64"]
# The client's process is fixed too (README, "Deterministic counts"): valgrind builds the
# client's stack from its environment, argv and auxv strings, so their length moves every stack
# address within its page, and with it the D1 misses and, through alignment-dependent paths, a
# few instructions (drain c10m10 3 B: D1mr 183,814 to 186,129 and Ir -12 of 31.6 million for
# env sizes from 100 B to 64 KiB; PWD and OLDPWD alone differ between shells). So every valgrind
# runs with only CLIENT_ENV (no VALGRIND_OPTS, no HOME for a ~/.valgrindrc), in CLIENT_CWD, with
# the binary's path padded to ARGV0_WIDTH characters.
CLIENT_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
CLIENT_CWD = "/"
ARGV0_WIDTH = 256
VALGRIND = shutil.which("valgrind") or "valgrind"  # found on the caller's PATH
EVENTS = ["Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw"]
NAME_WIDTH = 80  # every --emitlab_counts name is padded to this (bench/counts_mode.cpp)
# The profile rows (report.py's profile section): shares of these benchmarks' phases.
PROFILE = re.compile(r"^emit/[^/]+/(c100m32|c1024m32|c1024m1)/3B$")


def estimated_cycles(t):
    """Itamar Turner-Trauring's estimate (pythonspeed.com, "Consistent benchmarking in CI", as
    used by the Rust iai and iai-callgrind crates): L1 hits + 5 x LL hits + 35 x RAM accesses,
    where accesses = Ir + Dr + Dw, L1 misses = I1mr + D1mr + D1mw, RAM = ILmr + DLmr + DLmw."""
    accesses = t["Ir"] + t["Dr"] + t["Dw"]
    l1_misses = t["I1mr"] + t["D1mr"] + t["D1mw"]
    ram = t["ILmr"] + t["DLmr"] + t["DLmw"]
    return (accesses - l1_misses) + 5 * (l1_misses - ram) + 35 * ram


def per_response(totals, responses):
    t = totals
    return {
        "instructions_per_resp": t["Ir"] / responses,
        "data_reads_per_resp": t["Dr"] / responses,
        "data_writes_per_resp": t["Dw"] / responses,
        "l1_misses_per_resp": (t["I1mr"] + t["D1mr"] + t["D1mw"]) / responses,
        "d1_misses_per_resp": (t["D1mr"] + t["D1mw"]) / responses,
        "ll_misses_per_resp": (t["ILmr"] + t["DLmr"] + t["DLmw"]) / responses,
        "est_cycles_per_resp": estimated_cycles(t) / responses,
    }


def read_totals(path):
    """The event totals of a callgrind output file (one collected phase)."""
    events = totals = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("totals:") or line.startswith("summary:"):
                totals = [int(x) for x in line.split()[1:]]
    if events is None or totals is None:
        raise ValueError(f"{path}: no events or totals line")
    values = dict(zip(events, totals + [0] * (len(events) - len(totals))))
    missing = [e for e in EVENTS if e not in values]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)} (cache simulation off?)")
    return {e: values[e] for e in EVENTS}


def list_benchmarks(binary, scale, pattern):
    cmd = [binary, f"--emitlab_scale={scale}", "--benchmark_list_tests=true"]
    if pattern:
        cmd.append(f"--benchmark_filter={pattern}")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [n for n in out.split() if n.startswith(("emit/", "floor/"))]


class Job:
    def __init__(self, name, repeat, work):
        self.name, self.repeat = name, repeat
        stem = re.sub(r"[^A-Za-z0-9_.=+-]", "_", name) + ("__repeat" if repeat else "")
        self.out = os.path.join(work, stem + ".callgrind")
        self.log = os.path.join(work, stem + ".log")


RUNNING = set()  # valgrind processes started here and not yet ended


def fixed_width_path(path, width=ARGV0_WIDTH):
    """PATH made absolute and padded to WIDTH characters with "./" (and "/") components, which
    name the same file: argv[0] and AT_EXECFN are then one length wherever the build lives."""
    p = os.path.abspath(path)
    extra = width - len(p)
    if extra < 0:
        raise ValueError(f"{p}: {len(p)} characters")
    return "/" + "./" * (extra // 2) + "/" * (extra % 2) + p[1:]


def valgrind_command(binary, scale, name, out):
    """The normalised command (argv) of one count run: see CLIENT_ENV."""
    return [VALGRIND, "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
            "--cache-sim=yes", *CACHE, f"--callgrind-out-file={os.path.abspath(out)}",
            fixed_width_path(binary), f"--emitlab_scale={scale}",
            f"--emitlab_counts={name:<{NAME_WIDTH}}"]


def run_job(binary, scale, job):
    cmd = valgrind_command(binary, scale, job.name, job.out)
    started = time.monotonic()
    with open(job.log, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True,
                                start_new_session=True, env=CLIENT_ENV, cwd=CLIENT_CWD)
        RUNNING.add(proc)
        stdout, _ = proc.communicate()
        RUNNING.discard(proc)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        with open(job.log, encoding="utf-8", errors="replace") as f:
            tail = [line.strip() for line in f if not line.startswith("==")][-1:]
        raise RuntimeError(f"{job.name}: exit {proc.returncode}: {' '.join(tail)}")
    line = json.loads(stdout.strip().splitlines()[-1])
    totals = read_totals(job.out)
    row = {"name": job.name, "responses": line["responses"],
           "requests_per_connection": line["requests_per_connection"], "totals": totals,
           "seconds": round(seconds, 1)}
    row.update(per_response(totals, line["responses"]))
    if not job.repeat and PROFILE.match(job.name):
        row["profile"] = profile_of(job)
    return job, row


def profile_of(job):
    annotate = job.out[:-len(".callgrind")] + ".annotate"
    with open(annotate, "w", encoding="utf-8") as f:
        subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no",
                        "--show=Ir", job.out], check=True, stdout=f)
    families, total = profile_shares.shares(annotate, job.out)
    return {"total": total, "families": families}


def sha256_of(path):
    """Which build was counted: the same code at other addresses has other I1 misses."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fmt_duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def write_json(path, data):
    """Every write and the close checked: one line naming the file, exit 1."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except OSError as e:
        print(f"counts.py: cannot write {path}: {e.strerror or e}", file=sys.stderr)
        return False
    return True


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def on_signal(signum, _frame):
    raise Interrupted(signum)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("binary")
    p.add_argument("--out", required=True)
    p.add_argument("--scale", default="quick", choices=["full", "quick", "smoke"])
    p.add_argument("--filter", default="")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--work", help="directory for the callgrind files (default: beside --out)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args(argv)
    if args.jobs < 1 or args.jobs > 64:
        print(f"counts.py: --jobs {args.jobs}: use 1 to 64", file=sys.stderr)
        return 2
    try:
        fixed_width_path(args.binary)
    except ValueError as e:
        print(f"counts.py: binary path {e} (allowed: up to {ARGV0_WIDTH})", file=sys.stderr)
        return 2
    work = args.work or os.path.join(os.path.dirname(os.path.abspath(args.out)), "counts")
    try:
        os.makedirs(work, exist_ok=True)
        names = list_benchmarks(args.binary, args.scale, args.filter)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"counts.py: {e}", file=sys.stderr)
        return 2
    if not names:
        print(f"counts.py: --filter {args.filter!r}: no emit or floor benchmark matches",
              file=sys.stderr)
        return 2
    jobs = [Job(n, False, work) for n in names]
    jobs += [Job(n, True, work) for n in names if n.startswith("emit/drain/")]
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    rows, repeats, failures = [], [], []
    started = time.monotonic()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = [pool.submit(run_job, args.binary, args.scale, j) for j in jobs]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            try:
                job, row = future.result()
                (repeats if job.repeat else rows).append(row)
                what = f"{job.name}{' (control repeat)' if job.repeat else ''}"
            except (RuntimeError, ValueError, OSError, subprocess.CalledProcessError) as e:
                failures.append(str(e))
                what = f"FAILED {e}"
            if not args.quiet:
                elapsed = time.monotonic() - started
                left = elapsed / done * (len(jobs) - done)
                print(f"counts: {done}/{len(jobs)} {what}; {fmt_duration(elapsed)} so far, "
                      f"about {fmt_duration(left)} left", file=sys.stderr, flush=True)
    except Interrupted as e:
        for future in futures:
            future.cancel()
        for proc in list(RUNNING):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        pool.shutdown(wait=True, cancel_futures=True)
        print(f"counts.py: interrupted after {len(rows) + len(repeats)} of {len(jobs)} "
              f"benchmarks; {args.out} not written", file=sys.stderr)
        return 128 + e.signum
    pool.shutdown(wait=True)
    for f in failures:
        print(f"counts.py: {f}", file=sys.stderr)
    order = {n: i for i, n in enumerate(names)}
    rows.sort(key=lambda r: order[r["name"]])
    repeats.sort(key=lambda r: order[r["name"]])
    data = {"context": {"emitlab_scale": args.scale, "tool": "valgrind --tool=callgrind "
                        "--cache-sim=yes " + " ".join(CACHE),
                        "client": f"env -i {' '.join(f'{k}={v}' for k, v in CLIENT_ENV.items())}"
                                  f", cwd {CLIENT_CWD}, argv[0] padded to {ARGV0_WIDTH}",
                        "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True,
                                                   text=True).stdout.strip(),
                        "est_cycles": "L1 hits + 5 x LL hits + 35 x RAM accesses",
                        "binary_sha256": sha256_of(args.binary)},
            "benchmarks": rows, "control_repeats": repeats, "failures": failures}
    if not write_json(args.out, data):
        return 1
    if not args.quiet:
        print(f"counts: {len(rows)} benchmarks and {len(repeats)} control repeats in "
              f"{fmt_duration(time.monotonic() - started)}: {args.out}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
