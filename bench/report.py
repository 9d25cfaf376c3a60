#!/usr/bin/python3
"""Turns emitlab_bench's JSON output into the bench report, and gates regressions.

    report.py RESULTS.json --out DIR [--baseline OLD.json] [--max-drop PCT]
              [--shape c100m32] [--headline gather,hybrid,...] [--no-charts] [--expect-all]

Writes into DIR: table.md (the acceptance tables), throughput.png/.svg and allocs.png/.svg (the
charts), results.json (a copy of the input, to keep as a baseline), summary.txt (the one-line
summary) and, with --baseline, gate.txt. Prints the summary line last.

Exit status: 0; 1 when the gate fails (a count rose, a relative throughput fell more than
--max-drop, a baselined benchmark is missing) or a benchmark reported an error, or, with
--expect-all, a benchmark of the suite is missing; 2 for bad input.

Only Debian's python3 and python3-matplotlib are used.
"""

import argparse
import json
import math
import os
import shutil
import sys

STRATEGIES = [
    "drain", "gather", "gather+A1", "gather+A2", "gather+A3", "gather+A1+A3",
    "gather+A1+A2+A3", "gather@cap=16K", "gather@cap=32K", "gather@cap=64K",
    "gather@cap=128K", "hybrid",
]
SHAPES = ["c100m32", "c10m10", "c1m1"]
SHAPE_TEXT = {
    "c100m32": "c=100 m=32 (the upstream bench shape, h2load -c 100 -m 32)",
    "c10m10": "c=10 m=10",
    "c1m1": "c=1 m=1",
}
BODIES = ["3B", "100B", "1K", "4K", "16K", "64K", "256K"]
BODY_BYTES = {"3B": 3, "100B": 100, "1K": 1024, "4K": 4096, "16K": 16384, "64K": 65536,
              "256K": 262144}
DEFAULT_HEADLINE = ["gather", "gather+A1+A3", "gather+A1+A2+A3", "hybrid"]
SELF_BENCHMARKS = [
    "self/handshake",
    "self/world/drain/c10m10/3B", "self/world/gather/c10m10/3B", "self/world/drain/c10m10/16K",
    "self/props/per_stream_delivery", "self/props/safety_under_hostile_schedules",
    "self/props/app_stream_equals_drain", "self/props/ciphertext_equal_across_track_a",
    "self/props/ciphertext_equal_under_hostile_schedules", "self/props/allocation_rules",
]

# Deterministic per-response counts: the gate fails when any of them rises at all.
GATED_COUNTS = [
    ("allocs_total_per_resp", "allocations"),
    ("allocs_emitter_per_resp", "emitter allocations"),
    ("allocs_openssl_per_resp", "OpenSSL allocations"),
    ("allocs_nghttp2_per_resp", "nghttp2 allocations"),
    ("allocs_response_per_resp", "response allocations"),
    ("allocs_cxx_per_resp", "C++ heap allocations"),
    ("ref_ops_per_resp", "reference operations"),
    ("copied_per_resp", "bytes copied"),
]
EPSILON = 1e-9  # counts are ratios of integers printed at full precision


class BadInput(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Reading Google Benchmark JSON


def parse_name(name):
    """('emit', strategy, shape, body), ('floor', None, shape, body) or ('self', name, None, None)."""
    parts = name.split("/")
    if parts[0] == "emit" and len(parts) == 4:
        return ("emit", parts[1], parts[2], parts[3])
    if parts[0] == "floor" and len(parts) == 3:
        return ("floor", None, parts[1], parts[2])
    if parts[0] == "self":
        return ("self", name, None, None)
    return None


def pick_runs(benchmarks):
    """One row per benchmark: the median aggregate when repetitions ran, else the iteration run
    (the mean of the iteration runs when there are several)."""
    by_name = {}
    for b in benchmarks:
        by_name.setdefault(b.get("run_name", b["name"]), []).append(b)
    rows = {}
    for name, runs in by_name.items():
        medians = [r for r in runs if r.get("run_type") == "aggregate"
                   and r.get("aggregate_name") == "median"]
        if medians:
            rows[name] = medians[0]
            continue
        iterations = [r for r in runs if r.get("run_type", "iteration") == "iteration"]
        rows[name] = mean_row(iterations) if len(iterations) > 1 else iterations[0]
    return rows


def mean_row(runs):
    row = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            row[key] = sum(r.get(key, 0) for r in runs) / len(runs)
    row["error_occurred"] = any(r.get("error_occurred") for r in runs)
    return row


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: not a Google Benchmark JSON file ({e})")
    if "benchmarks" not in data:
        raise BadInput(f"{path}: no 'benchmarks' array (run with --benchmark_format=json)")
    return {"context": data.get("context", {}), "rows": pick_runs(data["benchmarks"]),
            "path": path}


class Run:
    """The rows of one run, addressed by family, strategy, shape and body."""

    def __init__(self, loaded):
        self.context = loaded["context"]
        self.path = loaded["path"]
        self.rows = loaded["rows"]
        self.emit = {}
        self.floor = {}
        self.errors = []
        for name, row in self.rows.items():
            if row.get("error_occurred"):
                self.errors.append(f"{name}: {row.get('error_message', 'error')}")
                continue
            key = parse_name(name)
            if key is None:
                continue
            if key[0] == "emit":
                self.emit[(key[1], key[2], key[3])] = row
            elif key[0] == "floor":
                self.floor[(key[2], key[3])] = row

    def rps(self, strategy, shape, body):
        row = self.emit.get((strategy, shape, body))
        return row.get("responses_per_second") if row else None

    def floor_rps(self, shape, body):
        row = self.floor.get((shape, body))
        return row.get("responses_per_second") if row else None

    def paired(self, strategy, shape, body):
        """Throughput over drain's, measured interleaved in the same iterations."""
        row = self.emit.get((strategy, shape, body))
        return row.get("vs_drain_paired") if row else None

    def relative(self, strategy, shape, body, to):
        """Throughput of `strategy` over that of `to` (same shape and body, same run): from the
        paired measurements when both have them, else from the two benchmarks' own rates."""
        pa, pb = self.paired(strategy, shape, body), self.paired(to, shape, body)
        if to == "drain" and pa:
            return pa
        if pa and pb:
            return pa / pb
        a, b = self.rps(strategy, shape, body), self.rps(to, shape, body)
        return a / b if a and b else None

    def floor_ratio(self, strategy, shape, body):
        """Time per response over the floor's time per response (>= 1 means slower)."""
        row = self.emit.get((strategy, shape, body))
        if row and row.get("x_floor_paired"):
            return row["x_floor_paired"]
        a, f = self.rps(strategy, shape, body), self.floor_rps(shape, body)
        return f / a if a and f else None

    def count(self, strategy, shape, body, counter):
        row = self.emit.get((strategy, shape, body))
        return row.get(counter) if row else None

    def shapes(self):
        return [s for s in SHAPES if any(k[1] == s for k in self.emit)]

    def bodies(self, shape):
        return [b for b in BODIES if any(k[1] == shape and k[2] == b for k in self.emit)]

    def strategies(self):
        known = [s for s in STRATEGIES if any(k[0] == s for k in self.emit)]
        extra = sorted({k[0] for k in self.emit} - set(STRATEGIES))
        return known + extra


# ---------------------------------------------------------------------------------------------
# Formatting


def fmt_rate(v):
    if v is None:
        return "–"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def fmt_ratio(v):
    return "–" if v is None else f"{v:.2f}"


def fmt_count(v):
    if v is None:
        return "–"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def owners_cell(run, key):
    parts = [run.count(*key, c) for c in (
        "allocs_emitter_per_resp", "allocs_openssl_per_resp", "allocs_nghttp2_per_resp",
        "allocs_response_per_resp", "allocs_cxx_per_resp")]
    return " · ".join(fmt_count(p) for p in parts)


def body_table(run, shape, body):
    head = ("| strategy | resp/s | vs drain | vs gather | × floor | emitter allocs/pass "
            "| allocs/resp | by owner: emitter · OpenSSL · nghttp2 · response · C++ "
            "| ref ops/resp | copied B/resp | SSL_write/resp | records/resp | passes/resp |")
    lines = [head, "|" + "---|" * 13]
    for s in run.strategies():
        key = (s, shape, body)
        if key not in run.emit:
            continue
        lines.append("| " + " | ".join([
            f"`{s}`", fmt_rate(run.rps(*key)), fmt_ratio(run.relative(s, shape, body, "drain")),
            fmt_ratio(run.relative(s, shape, body, "gather")),
            fmt_ratio(run.floor_ratio(s, shape, body)),
            fmt_count(run.count(*key, "emitter_allocs_per_pass")),
            fmt_count(run.count(*key, "allocs_total_per_resp")), owners_cell(run, key),
            fmt_count(run.count(*key, "ref_ops_per_resp")),
            fmt_count(run.count(*key, "copied_per_resp")),
            fmt_count(run.count(*key, "ssl_writes_per_resp")),
            fmt_count(run.count(*key, "tls_records_per_resp")),
            fmt_count(run.count(*key, "passes_per_resp")),
        ]) + " |")
    floor = run.floor.get((shape, body))
    if floor:
        f = floor.get("responses_per_second")
        lines.append("| " + " | ".join([
            "*floor*", fmt_rate(f), fmt_ratio(run.floor_ratio("drain", shape, body)),
            fmt_ratio(run.floor_ratio("gather", shape, body)), "1.00", "–",
            fmt_count(floor.get("allocs_total_per_resp")), "–", "–", "–",
            fmt_count(floor.get("ssl_writes_per_resp")),
            fmt_count(floor.get("tls_records_per_resp")), "–"]) + " |")
    return lines


def matrix(run, shape, to):
    bodies = run.bodies(shape)
    lines = ["| strategy | " + " | ".join(bodies) + " |", "|---|" + "---|" * len(bodies)]
    for s in run.strategies():
        cells = [fmt_ratio(run.relative(s, shape, b, to)) for b in bodies]
        lines.append(f"| `{s}` | " + " | ".join(cells) + " |")
    return lines


def context_lines(run):
    c = run.context
    load_avg = c.get("load_avg")
    load_text = ", ".join(f"{x:.2f}" for x in load_avg) if load_avg else "?"
    return [
        f"- run: {c.get('date', '?')} on `{c.get('host_name', '?')}`, {c.get('num_cpus', '?')} CPUs,"
        f" load average {load_text}",
        f"- scale: `{c.get('emitlab_scale', '?')}`; OpenSSL allocation hooks:"
        f" {c.get('openssl_alloc_hooks', '?')}; benchmarks: {len(run.rows)}"
        f" ({len(run.errors)} with errors)",
    ]


HOW_TO_READ = """\
How to read it. Every figure comes from one run, so compare within a table, never across runs.
`resp/s` is responses per CPU second of the timed phase (the server side only). `vs drain` is
the throughput over drain's on the same shape and body size, measured paired: every iteration
also replays drain's run and the floor, interleaved, on the same CPU clock, so the machine's
drift cancels (above 1 is faster; the drain row's own value, drain against itself, shows the
noise left). `vs gather` is the ratio of two paired ratios. `× floor` is time per response over
the floor's (the same application bytes encrypted in full 16384-byte records with no HTTP/2
work, also paired), so 1.00 is unreachable and lower is better. Counts are per response (emitter
allocations also per pass) and deterministic: the same build gives the same counts on any
machine load. `allocs/resp` sums the owners: the emitter's scratch, OpenSSL (through
CRYPTO_set_mem_functions), nghttp2 (through nghttp2_mem), response bodies (the Allocator port)
and the C++ heap (response objects, header tables, stream nodes, pass records).
`ref ops` are the emitter's own reference increments and decrements on response objects."""


def table_markdown(run, headline_shape):
    out = ["# emitlab bench report", ""] + context_lines(run) + ["", HOW_TO_READ, ""]
    if run.errors:
        out += ["## Errors", ""] + [f"- {e}" for e in run.errors] + [""]
    shapes = run.shapes()
    ordered = [headline_shape] + [s for s in shapes if s != headline_shape] \
        if headline_shape in shapes else shapes
    for shape in ordered:
        out += [f"## {SHAPE_TEXT.get(shape, shape)}", "",
                "Throughput relative to `drain` (same run):", ""] + matrix(run, shape, "drain")
        out += ["", "Throughput relative to `gather` (same run):", ""] + matrix(run, shape, "gather")
        for body in run.bodies(shape):
            out += ["", f"### {shape}, {BODY_BYTES.get(body, body)}-byte bodies", ""]
            out += body_table(run, shape, body)
        out.append("")
    selfs = [(n, r) for n, r in sorted(run.rows.items()) if n.startswith("self/")]
    if selfs:
        out += ["## Speed of emitlab itself", ""]
        for name, row in selfs:
            rates = {k: v for k, v in row.items() if k.endswith("_per_second")}
            text = ", ".join(f"{k} {fmt_rate(v)}" for k, v in sorted(rates.items()))
            out.append(f"- `{name}`: {text}")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Charts


def charts(run, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shapes = run.shapes()
    strategies = run.strategies()
    cmap = plt.get_cmap("tab20")
    colors = {s: cmap(i % 20) for i, s in enumerate(strategies)}

    def line_plot(ax, shape, value, title, ylabel, log_y):
        for s in strategies:
            xs, ys = [], []
            for b in run.bodies(shape):
                v = value(s, shape, b)
                if v is not None and (v > 0 or not log_y):
                    xs.append(BODY_BYTES[b])
                    ys.append(v)
            if xs:
                style = "-" if s in ("drain", "gather", "hybrid") else "--"
                ax.plot(xs, ys, style, marker="o", markersize=3, label=s, color=colors[s])
        ax.set_xscale("log", base=2)
        if log_y:
            ax.set_yscale("log")
        bodies = run.bodies(shape)
        ax.set_xticks([BODY_BYTES[b] for b in bodies], bodies)
        ax.set_title(title)
        ax.set_xlabel("body size")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)

    def save(fig, stem):
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(out_dir, f"{stem}.{ext}"), dpi=110)
        plt.close(fig)

    fig, axes = plt.subplots(2, len(shapes), figsize=(6 * len(shapes), 9), squeeze=False)
    for i, shape in enumerate(shapes):
        line_plot(axes[0][i], shape, run.rps, f"{shape}: throughput", "responses per CPU second",
                  True)
        line_plot(axes[1][i], shape, lambda s, sh, b: run.relative(s, sh, b, "drain"),
                  f"{shape}: throughput relative to drain", "× drain (same run)", False)
    axes[0][-1].legend(fontsize=7, loc="best")
    save(fig, "throughput")

    fig, axes = plt.subplots(2, len(shapes), figsize=(6 * len(shapes), 9), squeeze=False)
    for i, shape in enumerate(shapes):
        line_plot(axes[0][i], shape,
                  lambda s, sh, b: run.count(s, sh, b, "allocs_total_per_resp"),
                  f"{shape}: allocations per response (all owners)", "allocations / response",
                  False)
        line_plot(axes[1][i], shape,
                  lambda s, sh, b: run.count(s, sh, b, "allocs_emitter_per_resp"),
                  f"{shape}: emitter allocations per response", "allocations / response", False)
    axes[0][-1].legend(fontsize=7, loc="best")
    save(fig, "allocs")


# ---------------------------------------------------------------------------------------------
# Gate and summary


def gate(run, base, max_drop):
    """Regressions of `run` against `base`: a list of one-line reasons."""
    problems = []
    for key, old in sorted(base.emit.items()):
        strategy, shape, body = key
        new = run.emit.get(key)
        where = f"{strategy} {shape} {body}"
        if new is None:
            problems.append(f"{where}: missing from this run")
            continue
        for counter, what in GATED_COUNTS:
            a, b = old.get(counter), new.get(counter)
            if a is not None and b is not None and b > a + EPSILON * max(1.0, abs(a)):
                problems.append(f"{where}: {what} per response rose {a:.6g} -> {b:.6g}")
        if strategy == "drain":
            continue  # the reference itself: its ratio is 1 by definition
        rel_old = base.relative(strategy, shape, body, "drain")
        rel_new = run.relative(strategy, shape, body, "drain")
        if rel_old and rel_new and rel_new < rel_old * (1 - max_drop / 100.0):
            drop = 100.0 * (1 - rel_new / rel_old)
            problems.append(f"{where}: throughput vs drain fell {drop:.1f}% "
                            f"({rel_old:.3f} -> {rel_new:.3f}, limit {max_drop:g}%)")
    return problems


def same_scale(run, base):
    """Per-response counts depend on the requests per connection, hence on the scale."""
    a = run.context.get("emitlab_scale")
    b = base.context.get("emitlab_scale")
    if a != b:
        raise BadInput(f"baseline {base.path} ran at scale {b}, this run at {a}: "
                       "compare runs of the same scale")


def summary_line(run, shape, headline, bodies, gate_text):
    parts = []
    for s in headline:
        ratios = [run.relative(s, shape, b, "drain") for b in bodies]
        if any(r is not None for r in ratios):
            parts.append(f"{s} " + "/".join(fmt_ratio(r) for r in ratios))
    allocs = [run.count("gather", shape, b, "allocs_emitter_per_resp") for b in bodies]
    text = (f"bench {shape} vs drain at {'/'.join(bodies)}: " + ", ".join(parts)
            + f"; gather emitter allocs/resp {'/'.join(fmt_count(a) for a in allocs)}")
    return text + (f"; {gate_text}" if gate_text else "")


def expected_names():
    names = [f"emit/{s}/{sh}/{b}" for sh in SHAPES for b in BODIES for s in STRATEGIES]
    names += [f"floor/{sh}/{b}" for sh in SHAPES for b in BODIES]
    return names + SELF_BENCHMARKS


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="emitlab_bench --benchmark_format=json output")
    p.add_argument("--out", required=True, help="directory for the report files")
    p.add_argument("--baseline", help="an earlier results.json to gate against")
    p.add_argument("--max-drop", type=float, default=10.0,
                   help="largest allowed fall of throughput relative to drain, in %% (default 10)")
    p.add_argument("--shape", default="c100m32", help="shape of the headline and summary")
    p.add_argument("--headline", default=",".join(DEFAULT_HEADLINE),
                   help="strategies in the summary line")
    p.add_argument("--summary-bodies", default="3B,16K,64K")
    p.add_argument("--no-charts", action="store_true")
    p.add_argument("--expect-all", action="store_true",
                   help="fail unless every benchmark of the suite is present (CI smoke)")
    args = p.parse_args(argv)
    if args.max_drop < 0 or args.max_drop >= 100:
        raise BadInput(f"--max-drop {args.max_drop}: use a percentage in [0, 100)")
    if args.shape not in SHAPES:
        raise BadInput(f"--shape {args.shape}: use one of {', '.join(SHAPES)}")
    return args


def main(argv):
    try:
        args = parse_args(argv)
        run = Run(load(args.results))
        base = Run(load(args.baseline)) if args.baseline else None
        if base is not None:
            same_scale(run, base)
    except BadInput as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    failed = False
    with open(os.path.join(args.out, "table.md"), "w", encoding="utf-8") as f:
        f.write(table_markdown(run, args.shape))
    if os.path.abspath(args.results) != os.path.abspath(os.path.join(args.out, "results.json")):
        shutil.copyfile(args.results, os.path.join(args.out, "results.json"))
    if not args.no_charts:
        charts(run, args.out)
    for e in run.errors:
        print(f"error: {e}", file=sys.stderr)
        failed = True
    if args.expect_all:
        missing = [n for n in expected_names() if n not in run.rows]
        for n in missing:
            print(f"missing: {n}", file=sys.stderr)
        failed = failed or bool(missing)
    gate_text = ""
    if base is not None:
        problems = gate(run, base, args.max_drop)
        with open(os.path.join(args.out, "gate.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(problems) + ("\n" if problems else ""))
        for p in problems:
            print(f"regression: {p}", file=sys.stderr)
        gate_text = (f"gate FAIL ({len(problems)} regressions vs {os.path.basename(base.path)})"
                     if problems else
                     f"gate pass vs {os.path.basename(base.path)} (max drop {args.max_drop:g}%)")
        failed = failed or bool(problems)
    line = summary_line(run, args.shape, [s for s in args.headline.split(",") if s],
                        [b for b in args.summary_bodies.split(",") if b], gate_text)
    with open(os.path.join(args.out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(line + "\n")
    print(f"report: {os.path.join(args.out, 'table.md')}"
          + ("" if args.no_charts else ", throughput.png/.svg, allocs.png/.svg"))
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
