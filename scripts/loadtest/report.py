"""The analysis half of scripts/loadtest.sh: h2load's text, the progress line, the per-cell
summary (median, min, max), table.md, results.json, chart.png, and the profile rows."""
import json
import math
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))

ACCEPTANCE_BODIES = [3, 16384, 65536]
# The seed's targets, measured upstream on its own machine (not this one): 3 B back to
# >= 190k req/s, gather +105% over drain at 16 KiB, +27% at 64 KiB.
SEED_TARGETS = "3 B >= 190k req/s; 16 KiB >= 2.05x drain; 64 KiB >= 1.27x drain"
PROFILE_ROWS = ("allocator", "reference release and teardown", "memcpy", "AEAD", "nghttp2")
# Each figure summarized per cell, declared once: key, column title, format.
FIGURES = [
    ("cpu_us_per_response", "server CPU us/resp", "%.1f"),
    ("write_syscalls_per_response", "write syscalls/resp", "%.2f"),
    ("records_per_response", "TLS records/resp", "%.2f"),
    ("undersized_per_response", "undersized/resp", "%.2f"),
    ("records_per_write", "records/write", "%.2f"),
    ("page_faults_per_response", "page faults/resp", "%.2f"),
    ("emitter_allocations_per_pass", "allocs/pass", "%.2f"),
    ("others_on_server_core", "others on server core", "%.0f%%"),
]


def body_text(b):
    b = int(b)
    if b >= 1024 and b % 1024 == 0:
        return "%d KiB" % (b // 1024)
    return "%d B" % b


def parse_h2load(text):
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


def progress_line(r, i, total):
    head = "[%*d/%d] round %d  %-16s %7s" % (len(str(total)), i, total, r["round"], r["name"],
                                             body_text(r["body"]))
    if not r["ok"]:
        return head + "  FAILED: " + r.get("problem", "?")
    return head + "  %7.0f req/s  %6.1f us/resp  %5.2f writes/resp  %5.2f faults/resp  %s" \
        "  others %2.0f%%" % (r["req_s"], r["cpu_us_per_response"],
                              r["write_syscalls_per_response"], r["page_faults_per_response"],
                              r["suite"], 100 * r["others_on_server_core"])


def summarize(runs):
    cells = {}
    for r in runs:
        cells.setdefault((r["name"], r["body"]), []).append(r)
    out = {}
    for key, rs in cells.items():
        good = [r for r in rs if r["ok"]]
        c = {"rounds": len(good), "failed_runs": len(rs) - len(good),
             "suites": sorted({r["suite"] for r in good})}
        if good:
            rate = [r["req_s"] for r in good]
            c.update({"req_s_median": statistics.median(rate), "req_s_min": min(rate),
                      "req_s_max": max(rate)})
            for k, _, _ in FIGURES:
                vals = [r[k] for r in good if k in r]
                if vals:
                    c[k] = statistics.median(vals)
            cpu = [r["cpu_us_per_response"] for r in good]
            c["cpu_us_min"], c["cpu_us_max"] = min(cpu), max(cpu)
        out[key] = c
    return out


def ratio(a, b):
    return a / b if a is not None and b else None


def add_ratios(cells, peers, bodies):
    for (name, body), c in cells.items():
        rate, cpu = c.get("req_s_median"), c.get("cpu_us_per_response")
        d, g = cells.get(("drain", body), {}), cells.get(("gather", body), {})
        c["vs_drain"] = ratio(rate, d.get("req_s_median"))
        c["vs_gather"] = ratio(rate, g.get("req_s_median"))
        c["cpu_vs_drain"] = ratio(cpu, d.get("cpu_us_per_response"))
        peer_rate = [cells[(p, body)].get("req_s_median") for p in peers if (p, body) in cells]
        peer_rate = [x for x in peer_rate if x]
        peer_cpu = [cells[(p, body)].get("cpu_us_per_response") for p in peers
                    if (p, body) in cells]
        peer_cpu = [x for x in peer_cpu if x]
        c["vs_best_peer"] = ratio(rate, max(peer_rate)) if peer_rate else None
        c["cpu_vs_best_peer"] = ratio(cpu, min(peer_cpu)) if peer_cpu else None


def fmt(x, spec="%.2f"):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return spec % (100 * x if spec.endswith("%%") else x)


def goal_lines(cells, strategies, peers, bodies):
    """The issue's goal: the best strategy's server CPU per response at or below every peer's."""
    out = []
    for b in bodies:
        mine = [(cells[(s, b)]["cpu_us_per_response"], s) for s in strategies
                if "cpu_us_per_response" in cells.get((s, b), {})]
        theirs = [(cells[(p, b)]["cpu_us_per_response"], p) for p in peers
                  if "cpu_us_per_response" in cells.get((p, b), {})]
        if not mine or not theirs:
            continue
        best = min(mine)
        above = [p for cpu, p in theirs if best[0] > cpu]
        out.append("- %s: best strategy %s at %.1f us/resp; %s; %s" % (
            body_text(b), best[1], best[0],
            ", ".join("%s %.1f" % (p, cpu) for cpu, p in sorted(theirs, key=lambda t: t[1])),
            "goal met" if not above else "goal missed (above %s)" % ", ".join(above)))
    return out


def table(cells, meta, strategies, peers, bodies):
    names = strategies + peers
    acc = [b for b in ACCEPTANCE_BODIES if b in bodies]
    others = [r for c in cells.values() for r in [c.get("others_on_server_core")] if r is not None]
    lines = [
        "# Loadtest: upstream's benchmark on real sockets", "",
        "`%s` on %s; client `%s`; server on core %d, h2load on core %d; %d rounds per cell, "
        "cells shuffled inside each round, a fresh server per run." % (
            meta["command"], meta["date"], meta["client"], meta["cores"][0], meta["cores"][1],
            meta["rounds"]),
        "",
        "The machine may be shared (load average %s at the start, %s at the end; other jobs "
        "took a median %s of the server's core during the runs): compare cells within this run "
        "only, and trust server CPU us/response (the kernel's accounting of the server's own "
        "threads) over req/s." % (meta["load_average_start"], meta["load_average_end"],
                                  fmt(statistics.median(others) if others else None, "%.0f%%")),
        ""]
    if acc:
        lines += ["## The seed's acceptance table", "",
                  "Median req/s and ratios of medians. Seed's targets (upstream's machine): %s." %
                  SEED_TARGETS, "",
                  "| server | " + " | ".join("%s req/s | vs drain | vs gather" % body_text(b)
                                           for b in acc) + " |",
                  "|---|" + "---:|---:|---:|" * len(acc)]
        for n in names:
            row = []
            for b in acc:
                c = cells.get((n, b), {})
                row += [fmt(c.get("req_s_median"), "%.0f"), fmt(c.get("vs_drain")),
                        fmt(c.get("vs_gather"))]
            lines.append("| %s | %s |" % (n, " | ".join(row)))
        lines += ["", "Server CPU us per response (median), the same cells:", "",
                  "| server | " + " | ".join("%s us/resp | vs drain | vs best peer" %
                                           body_text(b) for b in acc) + " |",
                  "|---|" + "---:|---:|---:|" * len(acc)]
        for n in names:
            row = []
            for b in acc:
                c = cells.get((n, b), {})
                row += [fmt(c.get("cpu_us_per_response"), "%.1f"), fmt(c.get("cpu_vs_drain")),
                        fmt(c.get("cpu_vs_best_peer"))]
            lines.append("| %s | %s |" % (n, " | ".join(row)))
    goal = goal_lines(cells, strategies, peers, bodies)
    if goal:
        lines += ["", "## Goal: best strategy's CPU per response vs the peers", ""] + goal
    for b in bodies:
        lines += ["", "## Body %s" % body_text(b), "",
                  "| server | req/s median (min..max) | vs drain | vs gather | vs best peer | "
                  "CPU us/resp (min..max) | CPU vs best peer | " +
                  " | ".join(t for k, t, _ in FIGURES[1:]) + " | suite |",
                  "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * (len(FIGURES) - 1) + "---|"]
        for n in names:
            c = cells.get((n, b))
            if not c:
                continue
            if "req_s_median" not in c:
                lines.append("| %s | all %d runs failed |" % (n, c["failed_runs"]))
                continue
            lines.append("| %s | %.0f (%.0f..%.0f)%s | %s | %s | %s | %.1f (%.1f..%.1f) | %s | %s "
                         "| %s |" % (
                             n, c["req_s_median"], c["req_s_min"], c["req_s_max"],
                             " (%d runs failed)" % c["failed_runs"] if c["failed_runs"] else "",
                             fmt(c["vs_drain"]), fmt(c["vs_gather"]), fmt(c["vs_best_peer"]),
                             c["cpu_us_per_response"], c["cpu_us_min"], c["cpu_us_max"],
                             fmt(c["cpu_vs_best_peer"]),
                             " | ".join(fmt(c.get(k), spec) for k, _, spec in FIGURES[1:]),
                             ",".join(c["suites"])))
    lines += ["", "TLS records, undersized records, records per write and allocations per pass "
              "come from emitlab's own statistics (`--stats-json`); the peers have no such "
              "counters (-)."]
    return "\n".join(lines) + "\n"


def write(runs, meta, strategies, peers, bodies, out):
    cells = summarize(runs)
    add_ratios(cells, peers, bodies)
    text = table(cells, meta, strategies, peers, bodies)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "cells": [{"name": n, "body": b, **c}
                                           for (n, b), c in sorted(cells.items())],
                   "runs": runs}, f, indent=1)
    chart(cells, strategies + peers, bodies, os.path.join(out, "chart.png"), meta)
    print()
    print(text)
    print("wrote %s: table.md, results.json, chart.png, runs.jsonl" % out)


def chart(cells, names, bodies, path, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 1, figsize=(13, 9))
    width = 0.8 / len(names)
    cmap = plt.get_cmap("tab20")
    for i, n in enumerate(names):
        xs = [j + i * width for j in range(len(bodies))]
        rel = [cells.get((n, b), {}).get("vs_drain") or 0 for b in bodies]
        cpu = [cells.get((n, b), {}).get("cpu_us_per_response") or 0 for b in bodies]
        lo = [cpu[j] - cells.get((n, b), {}).get("cpu_us_min", cpu[j])
              for j, b in enumerate(bodies)]
        hi = [cells.get((n, b), {}).get("cpu_us_max", cpu[j]) - cpu[j]
              for j, b in enumerate(bodies)]
        hatch = "//" if i >= len(names) - 3 and n in ("nghttpd", "nginx", "h2o") else None
        axes[0].bar(xs, rel, width, label=n, color=cmap(i), hatch=hatch)
        axes[1].bar(xs, cpu, width, yerr=[lo, hi], capsize=2, label=n, color=cmap(i),
                    hatch=hatch)
    for ax in axes:
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(bodies))])
        ax.set_xticklabels([body_text(b) for b in bodies])
    axes[0].axhline(1.0, color="black", linewidth=0.8)
    axes[0].set_ylabel("req/s relative to drain (median)")
    axes[0].set_title("h2load -t 1 -c 100 -m 32 on loopback, %d rounds: req/s relative to drain"
                      % meta["rounds"])
    axes[1].set_ylabel("server CPU us per response")
    axes[1].set_yscale("log")
    axes[1].set_title("server CPU time per response, median with min..max (log; lower is better)")
    axes[1].legend(ncol=6, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.text(0.01, 0.005, "%s, %s; shared machine: compare within this run" % (
        meta["command"], meta["date"]), fontsize=7)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def profile_rows(report_text, title):
    """The seed's profile rows from `perf report --stdio --no-children --sort dso,sym`."""
    from profile_shares import FAMILIES
    shares = {}
    line_rx = re.compile(r"^\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*\S)\s*$")
    for line in report_text.splitlines():
        m = line_rx.match(line)
        if not m:
            continue
        pct, obj, sym = float(m.group(1)), m.group(2), m.group(3)
        fam = "other"
        if re.fullmatch(r"0x[0-9a-f]+", sym) and "libcrypto" in obj:
            # Debian's libcrypto has no symbols for its assembly (AES-NI GCM, GHASH): most of
            # these samples are the AEAD, but perf cannot say so; kept apart, not guessed.
            fam = "libcrypto without symbols (likely AEAD)"
        for name, pattern, obj_pattern in ([] if fam != "other" else FAMILIES):
            if re.search(pattern, sym) or (obj_pattern and re.search(obj_pattern, obj)):
                fam = name
                break
        if fam == "other" and obj.startswith("[kernel"):
            fam = "kernel"
        shares[fam] = shares.get(fam, 0.0) + pct
    out = ["Profile (perf record -e cpu-clock, self time): %s" % title]
    for fam in PROFILE_ROWS:
        out.append("  %-40s %6.2f%%" % (fam, shares.get(fam, 0.0)))
    for fam in sorted(set(shares) - set(PROFILE_ROWS), key=lambda f: -shares[f]):
        out.append("  %-40s %6.2f%%" % (fam, shares[fam]))
    return "\n".join(out)
