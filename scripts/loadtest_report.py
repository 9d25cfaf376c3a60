#!/usr/bin/python3
"""The analysis half of scripts/loadtest.sh.

    loadtest_report.py record --name N --body B --round R --before U --after U --h2load F
                              --stats F --is-emitlab 0|1      (one JSON line on stdout)
    loadtest_report.py progress                               (a JSON line on stdin)
    loadtest_report.py report RUNS.jsonl --out DIR --strategies S --peers P --bodies B
    loadtest_report.py profile PERF_REPORT.txt [--title T]
"""
import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))

ACCEPTANCE_BODIES = [3, 16384, 65536]


def body_text(b):
    b = int(b)
    if b >= 1024 and b % 1024 == 0:
        return "%d KiB" % (b // 1024)
    return "%d B" % b


def parse_h2load(path):
    text = open(path, errors="replace").read()
    r = {"req_s": 0.0, "succeeded": 0, "failed": 0, "errored": 0, "suite": "?", "protocol": "?"}
    m = re.search(r"finished in [^,]+, ([\d.]+) req/s", text)
    if m:
        r["req_s"] = float(m.group(1))
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored", text)
    if m:
        r["succeeded"], r["failed"], r["errored"] = map(int, m.groups())
    m = re.search(r"Cipher: (\S+)", text)
    if m:
        r["suite"] = m.group(1)
    m = re.search(r"TLS Protocol: (\S+)", text)
    if m:
        r["protocol"] = m.group(1)
    return r


def cmd_record(a):
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    b = list(map(int, a.before.split()))
    e = list(map(int, a.after.split()))
    h = parse_h2load(a.h2load)
    n = max(h["succeeded"], 1)
    rec = {"name": a.name, "body": a.body, "round": a.round, **h,
           "cpu_us_per_response": (e[0] - b[0]) * tick_us / n,
           "page_faults_per_response": (e[1] - b[1]) / n,
           "write_syscalls_per_response": (e[2] - b[2]) / n}
    if a.is_emitlab == "1" and os.path.exists(a.stats):
        s = json.load(open(a.stats))
        responses = max(s.get("responses", 0), 1)
        rec["records_per_response"] = s["tls_records"] / responses
        rec["undersized_per_response"] = s["undersized_records"] / responses
        rec["submissions_per_response"] = s["write_submissions"] / responses
        rec["records_per_write"] = s["records_per_write"]
    print(json.dumps(rec))


def cmd_progress(_):
    r = json.loads(sys.stdin.readline())
    print("  round %d  %-16s %7s  %9.0f req/s  %6.1f us/resp  %5.2f writes/resp  %5.2f faults/resp"
          "  %s%s" % (r["round"], r["name"], body_text(r["body"]), r["req_s"],
                      r["cpu_us_per_response"], r["write_syscalls_per_response"],
                      r["page_faults_per_response"], r["suite"],
                      "" if r["failed"] + r["errored"] == 0 else
                      "  (%d failed, %d errored)" % (r["failed"], r["errored"])), flush=True)


def summarize(runs):
    cells = {}
    for r in runs:
        cells.setdefault((r["name"], r["body"]), []).append(r)
    out = {}
    for key, rs in cells.items():
        rate = [r["req_s"] for r in rs]
        c = {"req_s_median": statistics.median(rate), "req_s_min": min(rate),
             "req_s_max": max(rate), "rounds": len(rs), "suite": rs[0]["suite"],
             "failed": sum(r["failed"] + r["errored"] for r in rs)}
        for k in ("cpu_us_per_response", "page_faults_per_response",
                  "write_syscalls_per_response", "records_per_response",
                  "undersized_per_response", "records_per_write"):
            vals = [r[k] for r in rs if k in r]
            if vals:
                c[k] = statistics.median(vals)
        out[key] = c
    return out


def ratio(a, b):
    return a / b if b else float("nan")


def cmd_report(a):
    runs = [json.loads(l) for l in open(a.runs) if l.strip()]
    cells = summarize(runs)
    strategies, peers = a.strategies.split(), a.peers.split()
    bodies = [int(b) for b in a.bodies.split()]
    names = strategies + peers
    for (name, body), c in cells.items():
        d, g = cells.get(("drain", body)), cells.get(("gather", body))
        c["vs_drain"] = ratio(c["req_s_median"], d["req_s_median"]) if d else None
        c["vs_gather"] = ratio(c["req_s_median"], g["req_s_median"]) if g else None
        peer_rates = [cells[(p, body)]["req_s_median"] for p in peers if (p, body) in cells]
        c["vs_best_peer"] = ratio(c["req_s_median"], max(peer_rates)) if peer_rates else None
        peer_cpu = [cells[(p, body)]["cpu_us_per_response"] for p in peers if (p, body) in cells]
        c["cpu_vs_best_peer"] = ratio(c["cpu_us_per_response"], min(peer_cpu)) if peer_cpu else None

    def fmt(x, spec="%.2f"):
        return "-" if x is None else spec % x

    lines = ["# Loadtest: h2load -t 1 -c 100 -m 32 on loopback", "",
             "Rounds per cell: %d. Medians (min..max req/s). Server on core 0, h2load on core 1." %
             max(c["rounds"] for c in cells.values()), "",
             "## The seed's acceptance table", "",
             "| server | " + " | ".join("%s req/s | vs drain | vs gather" % body_text(b)
                                       for b in ACCEPTANCE_BODIES if b in bodies) + " |",
             "|---|" + "---:|---:|---:|" * len([b for b in ACCEPTANCE_BODIES if b in bodies])]
    for n in names:
        row = []
        for b in ACCEPTANCE_BODIES:
            if b not in bodies:
                continue
            c = cells.get((n, b))
            if not c:
                row += ["-", "-", "-"]
                continue
            row += ["%.0f" % c["req_s_median"], fmt(c["vs_drain"]), fmt(c["vs_gather"])]
        lines.append("| %s | %s |" % (n, " | ".join(row)))
    for b in bodies:
        lines += ["", "## Body %s" % body_text(b), "",
                  "| server | req/s median (min..max) | vs drain | vs gather | vs best peer | "
                  "server CPU us/resp | CPU vs best peer | write syscalls/resp | TLS records/resp "
                  "| undersized/resp | records/write | page faults/resp | suite |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for n in names:
            c = cells.get((n, b))
            if not c:
                continue
            lines.append("| %s | %.0f (%.0f..%.0f)%s | %s | %s | %s | %.1f | %s | %.2f | %s | %s | %s "
                         "| %.2f | %s |" % (
                             n, c["req_s_median"], c["req_s_min"], c["req_s_max"],
                             " (%d failed)" % c["failed"] if c["failed"] else "",
                             fmt(c["vs_drain"]), fmt(c["vs_gather"]), fmt(c["vs_best_peer"]),
                             c["cpu_us_per_response"], fmt(c["cpu_vs_best_peer"]),
                             c["write_syscalls_per_response"],
                             fmt(c.get("records_per_response")),
                             fmt(c.get("undersized_per_response")),
                             fmt(c.get("records_per_write")), c["page_faults_per_response"],
                             c["suite"]))
    table = "\n".join(lines) + "\n"
    open(os.path.join(a.out, "table.md"), "w").write(table)
    json.dump({"cells": [{"name": n, "body": b, **c} for (n, b), c in sorted(cells.items())],
               "runs": runs}, open(os.path.join(a.out, "results.json"), "w"), indent=1)
    chart(cells, names, bodies, os.path.join(a.out, "chart.png"))
    print(table)
    print("wrote %s/table.md, results.json, chart.png" % a.out)


def chart(cells, names, bodies, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 1, figsize=(13, 8.5))
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        xs = [j + i * width for j in range(len(bodies))]
        rel = [ratio(cells[(n, b)]["req_s_median"], cells[("drain", b)]["req_s_median"])
               if (n, b) in cells and ("drain", b) in cells else 0 for b in bodies]
        cpu = [cells[(n, b)]["cpu_us_per_response"] if (n, b) in cells else 0 for b in bodies]
        axes[0].bar(xs, rel, width, label=n)
        axes[1].bar(xs, cpu, width, label=n)
    for ax in axes:
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(bodies))])
        ax.set_xticklabels([body_text(b) for b in bodies])
    axes[0].axhline(1.0, color="black", linewidth=0.8)
    axes[0].set_ylabel("req/s relative to drain (median)")
    axes[0].set_title("h2load -t 1 -c 100 -m 32, loopback: throughput relative to drain")
    axes[1].set_ylabel("server CPU us per response")
    axes[1].set_yscale("log")
    axes[1].set_title("server CPU time per response (log scale; lower is better)")
    axes[0].legend(ncol=6, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def cmd_profile(a):
    from profile_shares import FAMILIES
    rows = []
    for line in open(a.report, errors="replace"):
        m = re.match(r"^\s+([\d.]+)%\s+\[[.k]\]\s+(.*\S)\s*$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2)))
    shares = {}
    for pct, sym in rows:
        fam = "other"
        for name, pattern, _obj in FAMILIES:
            if re.search(pattern, sym):
                fam = name
                break
        shares[fam] = shares.get(fam, 0.0) + pct
    print("Profile (perf record -e cpu-clock, self time): %s" % (a.title or ""))
    for fam in ("allocator", "reference release and teardown", "memcpy", "AEAD", "nghttp2"):
        print("  %-34s %6.2f%%" % (fam, shares.get(fam, 0.0)))
    rest = sum(v for k, v in shares.items() if k not in (
        "allocator", "reference release and teardown", "memcpy", "AEAD", "nghttp2"))
    print("  %-34s %6.2f%%" % ("everything else", rest))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for f in ("--name", "--body", "--round", "--before", "--after", "--h2load", "--stats",
              "--is-emitlab"):
        r.add_argument(f, required=True)
    sub.add_parser("progress")
    rp = sub.add_parser("report")
    rp.add_argument("runs")
    for f in ("--out", "--strategies", "--peers", "--bodies"):
        rp.add_argument(f, required=True)
    pr = sub.add_parser("profile")
    pr.add_argument("report")
    pr.add_argument("--title", default="")
    a = p.parse_args()
    if a.cmd == "record":
        a.body, a.round = int(a.body), int(a.round)
    {"record": cmd_record, "progress": cmd_progress, "report": cmd_report,
     "profile": cmd_profile}[a.cmd](a)


if __name__ == "__main__":
    main()
