#!/usr/bin/python3
"""A loadtest's emitlab cells beside the simulator's counts for the same strategies and bodies.

    beside_simulator.py RUNS.jsonl [--emitlab PATH] [--connections N] [--requests N]

For each body size of the loadtest, one `emitlab compare` of its strategies in the simulated
world (closed-loop pacing, h2load's -m 32, --connections N, --requests N in all): the per-response
counts both sides share, because both read the same PassRecords of the same core emitter: TLS
records, write submissions, records per write, emitter allocations per pass, bytes copied. Time
(req/s, CPU) has no simulated counterpart: a write costs nothing there. Prints one markdown table.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from report import body_text  # noqa: E402

SHARED = [  # (real key in runs.jsonl, simulator figure, column title)
    ("records_per_response", lambda s: s["tls_records"] / s["requests"], "records/resp"),
    ("submissions_per_response", lambda s: s["write_submissions"] / s["requests"],
     "writes/resp"),
    ("records_per_write", lambda s: s["records_per_submission"], "records/write"),
    ("emitter_allocations_per_pass", lambda s: s["emitter_allocs_per_pass_mean"], "allocs/pass"),
    ("bytes_copied_per_response", lambda s: s["bytes_copied"] / s["requests"], "copied B/resp"),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("runs")
    p.add_argument("--emitlab", default=os.path.join(HERE, "..", "..", "build", "release", "cli",
                                                     "emitlab"))
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--requests", type=int, default=3200)
    a = p.parse_args()
    runs = [json.loads(l) for l in open(a.runs) if l.strip()]
    real = {}
    for r in runs:
        if r.get("ok") and "records_per_response" in r:
            real.setdefault((r["name"], r["body"]), []).append(r)
    strategies = list(dict.fromkeys(n for n, _ in real))
    bodies = sorted({b for _, b in real})
    head = " | ".join("%s real | sim" % t for _, _, t in SHARED)
    print("| strategy | body | %s |" % head)
    print("|---|---|" + "---:|---:|" * len(SHARED))
    for b in bodies:
        cmd = [a.emitlab, "compare", "--strategies", ",".join(strategies), "--connections",
               str(a.connections), "--concurrency", "32", "--requests", str(a.requests), "--body",
               str(b), "--pacing", "closed-loop", "--json", "--quiet"]
        sim = {s["strategy"]: s for s in json.loads(subprocess.run(
            cmd, stdout=subprocess.PIPE, check=True).stdout)["strategies"]}
        for n in strategies:
            rs = real.get((n, b), [])
            cols = []
            for key, fig, _ in SHARED:
                vals = [r[key] for r in rs if key in r]
                cols.append("%.2f" % statistics.median(vals) if vals else "-")
                cols.append("%.2f" % fig(sim[n]) if n in sim else "-")
            print("| %s | %s | %s |" % (n, body_text(b), " | ".join(cols)))


if __name__ == "__main__":
    main()
