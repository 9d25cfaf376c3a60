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
SHAPES = ["c100m32", "c1024m32", "c1024m1", "c10m10", "c1m1"]
SHAPE_TEXT = {
    "c100m32": "c=100 m=32 (the upstream bench shape, h2load -c 100 -m 32)",
    "c1024m32": "c=1024 m=32 (the seed's 1024c)",
    "c1024m1": "c=1024 m=1",
    "c10m10": "c=10 m=10",
    "c1m1": "c=1 m=1",
}
WIDE_SHAPES = ["c1024m32", "c1024m1"]  # bench/plan.cpp: these run 3B, 100B and 4K only
WIDE_BODIES = ["3B", "100B", "4K"]
# The two controls: pairs that run the same code. In the count tables they must read exactly
# 1.000 (check_controls); for CPU time their spread is the run's noise.
CONTROLS = [("drain", "drain"), ("gather@cap=16K", "gather")]
# Deterministic cost figures per response (bench/counts.py), in table order.
COUNT_FIGURES = [
    ("instructions_per_resp", "instructions"),
    ("data_reads_per_resp", "data reads"),
    ("data_writes_per_resp", "data writes"),
    ("l1_misses_per_resp", "L1 misses"),
    ("ll_misses_per_resp", "LL misses"),
    ("est_cycles_per_resp", "est. cycles"),
]
# The figures the counts gate holds (a rise above --max-rise percent fails).
GATED_COST = [("instructions_per_resp", "instructions"), ("est_cycles_per_resp", "est. cycles")]
# The seed's profile acceptance rows, and the scripts/profile.sh families they correspond to.
SEED_ROWS = [("allocator", "_emalloc", 10.0), ("reference release and teardown",
                                               "zval_ptr_dtor", 2.0)]
PROFILE_SHAPES = ["c100m32", "c1024m32", "c1024m1"]
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


class BadOutput(Exception):
    """A report file that could not be written: one line naming it, exit 1."""


class ControlFailed(Exception):
    """A count-based control that did not read exactly 1.000."""


def write_text(path, text):
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise BadOutput(f"cannot write {path}: {e.strerror or e}")


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


def load_counts(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: not a counts file of bench/counts.py ({e})")
    if not isinstance(data, dict) or "benchmarks" not in data:
        raise BadInput(f"{path}: no 'benchmarks' array (not written by bench/counts.py)")
    return data


def empty_run():
    return {"context": {}, "rows": {}, "path": ""}


class Run:
    """The rows of one run, addressed by family, strategy, shape and body. The CPU-time rows
    come from Google Benchmark's JSON, the deterministic counts from bench/counts.py's."""

    def __init__(self, loaded, counts=None):
        self.context = dict(loaded["context"])
        self.path = loaded["path"]
        self.rows = loaded["rows"]
        self.emit = {}
        self.floor = {}
        self.errors = []
        # name -> counts row; the controls' second measurement of drain, by name
        self.counts = {}
        self.repeats = {}
        self.counts_context = {}
        if counts is not None:
            self.counts_context = counts.get("context", {})
            self.counts = {r["name"]: r for r in counts["benchmarks"]}
            self.repeats = {r["name"]: r for r in counts.get("control_repeats", [])}
            self.errors += [f"counts: {f}" for f in counts.get("failures", [])]
            if "emitlab_scale" not in self.context and "emitlab_scale" in self.counts_context:
                self.context["emitlab_scale"] = self.counts_context["emitlab_scale"]
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

    def cost(self, strategy, shape, body, figure, repeat=False):
        """A deterministic figure per response of emit/strategy/shape/body (or of the floor when
        strategy is None); repeat: the control's second measurement of drain."""
        name = f"floor/{shape}/{body}" if strategy is None else f"emit/{strategy}/{shape}/{body}"
        row = (self.repeats if repeat else self.counts).get(name)
        return row.get(figure) if row else None

    def cost_relative(self, strategy, shape, body, to, figure="est_cycles_per_resp"):
        """Cost of `to` over cost of `strategy` (above 1: `strategy` does less work). drain
        against drain reads the control's second measurement."""
        mine = self.cost(strategy, shape, body, figure, repeat=strategy == to == "drain")
        theirs = self.cost(to, shape, body, figure)
        return theirs / mine if mine and theirs else None

    def _keys(self):
        keys = set(self.emit)
        for name in self.counts:
            key = parse_name(name)
            if key and key[0] == "emit":
                keys.add((key[1], key[2], key[3]))
        return keys

    def shapes(self):
        keys = self._keys()
        return [s for s in SHAPES if any(k[1] == s for k in keys)]

    def bodies(self, shape):
        keys = self._keys()
        return [b for b in BODIES if any(k[1] == shape and k[2] == b for k in keys)]

    def strategies(self):
        keys = self._keys()
        known = [s for s in STRATEGIES if any(k[0] == s for k in keys)]
        extra = sorted({k[0] for k in keys} - set(STRATEGIES))
        return known + extra

    def noise(self, shape):
        """The CPU-time controls' largest distance from 1 on this shape (None: no control
        measured): a ratio closer to 1 than this is not resolved by this run."""
        spread = [abs(r - 1.0) for b in self.bodies(shape) for a, to in CONTROLS
                  if (r := self.relative(a, shape, b, to)) is not None]
        return max(spread) if spread else None


# ---------------------------------------------------------------------------------------------
# Formatting


def fmt_rate(v):
    if v is None:
        return "–"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def fmt_ratio(v, noise=None):
    """Two decimals; in parentheses when within `noise` of 1 (not resolved by this run)."""
    if v is None:
        return "–"
    if noise is not None and abs(v - 1.0) <= noise:
        return f"({v:.2f})"
    return f"{v:.2f}"


def fmt_cost_ratio(v):
    return "–" if v is None else f"{v:.3f}"


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


def matrix(run, shape, to, noise=None):
    bodies = [b for b in run.bodies(shape) if any(k[1] == shape and k[2] == b for k in run.emit)]
    lines = ["| strategy | " + " | ".join(bodies) + " |", "|---|" + "---|" * len(bodies)]
    for s in run.strategies():
        cells = [fmt_ratio(run.relative(s, shape, b, to), noise) for b in bodies]
        lines.append(f"| `{s}` | " + " | ".join(cells) + " |")
    return lines


def cost_matrix(run, shape, to, figure):
    bodies = [b for b in run.bodies(shape) if run.cost(to, shape, b, figure) is not None]
    lines = ["| strategy | " + " | ".join(bodies) + " |", "|---|" + "---|" * len(bodies)]
    for s in run.strategies():
        cells = [fmt_cost_ratio(run.cost_relative(s, shape, b, to, figure)) for b in bodies]
        if any(c != "–" for c in cells):
            lines.append(f"| `{s}` | " + " | ".join(cells) + " |")
    return lines


def cost_table(run, shape, body):
    """Per strategy and the floor: the deterministic counts per response, beside CPU time."""
    head = ("| strategy | CPU µs/resp | " + " | ".join(f"{t}/resp" for _, t in COUNT_FIGURES)
            + " | cycles vs drain | × floor (cycles) |")
    lines = [head, "|" + "---|" * (len(COUNT_FIGURES) + 4)]
    floor_cycles = run.cost(None, shape, body, "est_cycles_per_resp")
    rows = [(f"`{s}`", s) for s in run.strategies()] + [("*floor*", None)]
    for label, s in rows:
        if run.cost(s, shape, body, "instructions_per_resp") is None:
            continue
        rps = run.rps(s, shape, body) if s else run.floor_rps(shape, body)
        cycles = run.cost(s, shape, body, "est_cycles_per_resp")
        lines.append("| " + " | ".join(
            [label, fmt_count(1e6 / rps) if rps else "–"]
            + [fmt_count(run.cost(s, shape, body, f)) for f, _ in COUNT_FIGURES]
            + [fmt_cost_ratio(run.cost_relative(s, shape, body, "drain")) if s else "–",
               f"{cycles / floor_cycles:.2f}" if cycles and floor_cycles else "–"]) + " |")
    return lines


def check_controls(run):
    """The count-based controls, where both sides were measured: every raw event total equal
    (so every ratio reads exactly 1.000). Returns the lines of the controls' table; raises
    ControlFailed naming every control that differs."""
    lines, failed = [], []
    for shape in run.shapes():
        for body in run.bodies(shape):
            for a, to in CONTROLS:
                name_a, name_to = f"emit/{a}/{shape}/{body}", f"emit/{to}/{shape}/{body}"
                mine = (run.repeats if a == to else run.counts).get(name_a)
                theirs = run.counts.get(name_to)
                if mine is None or theirs is None:
                    continue
                ratio = run.cost_relative(a, shape, body, to)
                same = mine["totals"] == theirs["totals"]
                what = f"`{a}` vs `{to}`" + (" (a second process)" if a == to else "")
                lines.append(f"| {shape} | {body} | {what} | {fmt_cost_ratio(ratio)} | "
                             f"{'equal' if same else 'DIFFERENT'} |")
                if not same or fmt_cost_ratio(ratio) != "1.000":
                    diff = [f"{e} {theirs['totals'][e]} vs {mine['totals'][e]}"
                            for e in theirs["totals"] if theirs["totals"][e] != mine["totals"][e]]
                    failed.append(f"{a} vs {to} on {shape}/{body}: {', '.join(diff)}")
    if failed:
        raise ControlFailed("; ".join(failed))
    if not lines:
        return []
    return ["| shape | body | control | est. cycles ratio | every event total |",
            "|---|---|---|---|---|"] + lines


def profile_table(run):
    """The seed's two profile rows per strategy: allocator and release/teardown shares."""
    head = ("| strategy | shape | instructions/resp | allocator share (seed: `_emalloc` <= 10%) "
            "| release and teardown share (seed: `zval_ptr_dtor` <= 2%) |")
    lines = [head, "|---|---|---|---|---|"]
    for shape in PROFILE_SHAPES:
        for s in run.strategies():
            row = run.counts.get(f"emit/{s}/{shape}/3B")
            if not row or "profile" not in row:
                continue
            prof = row["profile"]
            cells = []
            for family, seed_name, limit in SEED_ROWS:
                share = 100.0 * prof["families"].get(family, 0) / max(1, prof["total"])
                verdict = "within" if share <= limit else "above"
                cells.append(f"{share:.1f}% ({verdict} {limit:g}%)")
            lines.append(f"| `{s}` | {shape} | {fmt_count(row['instructions_per_resp'])} | "
                         + " | ".join(cells) + " |")
    return lines if len(lines) > 2 else []


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
    ] + ([f"- counts: {len(run.counts)} benchmarks and {len(run.repeats)} control repeats under"
          f" `{run.counts_context.get('tool', '?')}` ({run.counts_context.get('valgrind', '?')});"
          f" est. cycles = {run.counts_context.get('est_cycles', '?')}"] if run.counts else [])


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
`ref ops` are the emitter's own reference increments and decrements on response objects.
A time ratio in parentheses lies within the run's noise: the controls (`drain` against itself,
`gather@cap=16K` against `gather`, pairs that run the same code) strayed that far from 1 on
the same shape, so the run does not resolve it.

The count tables (when the run had `--counts`) come from callgrind with cache simulation on a
fixed cache, one process per benchmark, collection on only in the timed phase: instructions,
data reads and writes, L1 and last-level misses and an estimated cycle figure per response.
They repeat exactly on any load; their ratios to `drain` are cost ratios written as speedups
(above 1 is cheaper), and their controls must read exactly 1.000 or the report fails."""


def table_markdown(run, headline_shape):
    out = ["# emitlab bench report", ""] + context_lines(run) + ["", HOW_TO_READ, ""]
    if run.errors:
        out += ["## Errors", ""] + [f"- {e}" for e in run.errors] + [""]
    shapes = run.shapes()
    ordered = [headline_shape] + [s for s in shapes if s != headline_shape] \
        if headline_shape in shapes else shapes
    controls = check_controls(run) if run.counts else []
    if controls:
        out += ["## Controls of the count tables", "",
                "Pairs that run the same code, measured in separate processes: every event total"
                " must be equal.", ""] + controls + [""]
    profile = profile_table(run) if run.counts else []
    if profile:
        out += ["## Profile shares beside the seed's acceptance rows", "",
                "Shares of the timed phase's instructions (callgrind, self cost, the families of"
                " `scripts/profile.sh`) with 3-byte bodies.", ""] + profile + [""]
    for shape in ordered:
        out += [f"## {SHAPE_TEXT.get(shape, shape)}", ""]
        noise = run.noise(shape)
        if any(k[1] == shape for k in run.emit):
            noise_text = ("no control measured: ratios are not marked" if noise is None else
                          f"the controls strayed up to {100 * noise:.1f}% from 1: ratios within"
                          f" that of 1 are in parentheses (not resolved)")
            out += [f"CPU-time noise of this run on {shape}: {noise_text}.", "",
                    "Throughput relative to `drain` (CPU time, paired):", ""]
            out += matrix(run, shape, "drain", noise)
            out += ["", "Throughput relative to `gather` (CPU time, paired):", ""]
            out += matrix(run, shape, "gather", noise)
        if any(run.cost(s, shape, b, "est_cycles_per_resp") is not None
               for s in run.strategies() for b in run.bodies(shape)):
            out += ["", "Estimated cycles relative to `drain` (counts; above 1 is cheaper):", ""]
            out += cost_matrix(run, shape, "drain", "est_cycles_per_resp")
            out += ["", "Instructions relative to `drain` (counts):", ""]
            out += cost_matrix(run, shape, "drain", "instructions_per_resp")
            out += ["", "Estimated cycles relative to `gather` (counts):", ""]
            out += cost_matrix(run, shape, "gather", "est_cycles_per_resp")
        for body in run.bodies(shape):
            out += ["", f"### {shape}, {BODY_BYTES.get(body, body)}-byte bodies", ""]
            if any(k[1] == shape and k[2] == body for k in run.emit):
                out += body_table(run, shape, body)
            counted = cost_table(run, shape, body)
            if len(counted) > 2:
                out += ["", "Deterministic counts per response (callgrind):", ""] + counted
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


FRONT_FIXED = ["drain", "gather", "hybrid"]
FRONT_STYLE = {"drain": ("black", "-"), "gather": ("tab:blue", "-"), "hybrid": ("tab:red", "-")}
BEST_COLOR = "tab:green"


def best_track_a(run, shape):
    """The gather+A... combination with the highest mean ratio to drain on this shape (counts
    when measured, else CPU time): the one drawn in front with drain, gather and hybrid."""
    best, best_score = None, None
    for s in run.strategies():
        if not s.startswith("gather+"):
            continue
        ratios = [r for b in run.bodies(shape) if (r := run.cost_relative(s, shape, b, "drain")
                                                   or run.relative(s, shape, b, "drain"))]
        if ratios and (best_score is None or sum(ratios) / len(ratios) > best_score):
            best, best_score = s, sum(ratios) / len(ratios)
    return best


def charts(run, out_dir):
    """Small multiples: one panel per shape, drain, gather, the best Track A combination and
    hybrid drawn in front, the other strategies faint grey. Returns the files written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    strategies = run.strategies()

    def draw(ax, shape, value, title, ylabel, log_y=False, band=None):
        front = FRONT_FIXED + ([best] if (best := best_track_a(run, shape)) else [])
        bodies = [b for b in run.bodies(shape)
                  if any(value(s, shape, b) is not None for s in strategies)]
        if not bodies:
            ax.set_visible(False)
            return
        xs_of = {b: i for i, b in enumerate(bodies)}
        if band is not None:
            ax.axhspan(1 - band, 1 + band, color="0.85", zorder=0,
                       label=f"controls' noise ±{100 * band:.1f}%")
        for s in sorted(strategies, key=lambda n: n in front):
            pts = [(xs_of[b], v) for b in bodies if (v := value(s, shape, b)) is not None
                   and (v > 0 or not log_y)]
            if not pts:
                continue
            xs, ys = zip(*pts)
            if s in front:
                color, style = FRONT_STYLE.get(s, (BEST_COLOR, "-"))
                label = s if s in FRONT_FIXED else f"{s} (best Track A)"
                ax.plot(xs, ys, style, marker="o", markersize=4, linewidth=2, color=color,
                        label=label, zorder=3)
            else:
                ax.plot(xs, ys, "-", color="0.6", linewidth=0.8, alpha=0.6, zorder=1)
        if any(s not in front for s in strategies):
            ax.plot([], [], "-", color="0.6", linewidth=0.8, label="the other strategies")
        if log_y:
            ax.set_yscale("log")
        ax.set_xticks(range(len(bodies)), bodies)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("body size")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")

    def save(fig, stem):
        fig.tight_layout()
        for ext in ("png", "svg"):
            path = os.path.join(out_dir, f"{stem}.{ext}")
            try:
                fig.savefig(path, dpi=100)
            except OSError as e:
                plt.close(fig)
                raise BadOutput(f"cannot write {path}: {e.strerror or e}")
            written.append(path)
        plt.close(fig)

    timed = [sh for sh in run.shapes() if any(k[1] == sh for k in run.emit)]
    counted = [sh for sh in run.shapes() if any(run.cost(s, sh, b, "est_cycles_per_resp")
                                                for s in strategies for b in run.bodies(sh))]
    if timed:
        fig, axes = plt.subplots(2, len(timed), figsize=(4.6 * len(timed), 8), squeeze=False)
        for i, shape in enumerate(timed):
            draw(axes[0][i], shape, run.rps, f"{shape}: responses per CPU second",
                 "responses / CPU s", log_y=True)
            draw(axes[1][i], shape, lambda s, sh, b: run.relative(s, sh, b, "drain"),
                 f"{shape}: throughput vs drain (CPU time)", "× drain (paired)",
                 band=run.noise(shape))
        save(fig, "throughput")
        fig, axes = plt.subplots(2, len(timed), figsize=(4.6 * len(timed), 8), squeeze=False)
        for i, shape in enumerate(timed):
            draw(axes[0][i], shape,
                 lambda s, sh, b: run.count(s, sh, b, "allocs_total_per_resp"),
                 f"{shape}: allocations per response", "allocations / response")
            draw(axes[1][i], shape,
                 lambda s, sh, b: run.count(s, sh, b, "allocs_emitter_per_resp"),
                 f"{shape}: emitter allocations per response", "allocations / response")
        save(fig, "allocs")
    if counted:
        fig, axes = plt.subplots(2, len(counted), figsize=(4.6 * len(counted), 8), squeeze=False)
        for i, shape in enumerate(counted):
            draw(axes[0][i], shape, lambda s, sh, b: run.cost_relative(s, sh, b, "drain"),
                 f"{shape}: est. cycles vs drain (counts, exact)", "drain's cost / this cost")
            if shape in timed:
                draw(axes[1][i], shape, lambda s, sh, b: run.relative(s, sh, b, "drain"),
                     f"{shape}: throughput vs drain (CPU time)", "× drain (paired)",
                     band=run.noise(shape))
            else:
                draw(axes[1][i], shape,
                     lambda s, sh, b: run.cost(s, sh, b, "ll_misses_per_resp"),
                     f"{shape}: last-level misses per response", "LL misses / response")
        save(fig, "counts")
    return written


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


def gate_counts(run, base, max_rise):
    """Deterministic cost regressions of `run` against `base` (both with counts): a list of
    one-line reasons. A benchmark of the baseline missing from this run is one."""
    problems = []
    for name, old in sorted(base.counts.items()):
        new = run.counts.get(name)
        if new is None:
            problems.append(f"{name}: missing from this run's counts")
            continue
        for figure, what in GATED_COST:
            a, b = old.get(figure), new.get(figure)
            if a is not None and b is not None and b > a * (1 + max_rise / 100.0) + EPSILON:
                problems.append(f"{name}: {what} per response rose {100 * (b / a - 1):.2f}% "
                                f"({a:.6g} -> {b:.6g}, limit {max_rise:g}%)")
    return problems


def other_build(run, base, name):
    """A note when the counts baseline was counted on another emitlab_bench binary: moving the
    same code to other addresses moves the I1 misses alone (README, "Deterministic counts")."""
    a = run.counts_context.get("binary_sha256")
    b = base.counts_context.get("binary_sha256")
    if not a or not b or a == b:
        return None
    # Two lines that fit 80 columns; the gate's line names the file too.
    return (f"counts baseline {name}: another emitlab_bench\n  (sha256 {b[:12]}, now "
            f"{a[:12]}): I1 misses may differ by layout alone")


def same_scale(run, base):
    """Per-response counts depend on the requests per connection, hence on the scale."""
    a = run.context.get("emitlab_scale")
    b = base.context.get("emitlab_scale")
    if a != b:
        raise BadInput(f"baseline {base.path} ran at scale {b}, this run at {a}: "
                       "compare runs of the same scale")


def summary_line(run, shape, headline, bodies, gate_text):
    if not run.emit:
        text = f"bench: counts only ({len(run.counts)} benchmarks, controls exact)"
        return text + (f"; {gate_text}" if gate_text else "")
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
    """The smoke scale's suite: the 1024-connection shapes are not registered there."""
    shapes = [sh for sh in SHAPES if sh not in WIDE_SHAPES]
    names = [f"emit/{s}/{sh}/{b}" for sh in shapes for b in BODIES for s in STRATEGIES]
    names += [f"floor/{sh}/{b}" for sh in shapes for b in BODIES]
    return names + SELF_BENCHMARKS


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="?", help="emitlab_bench --benchmark_format=json output")
    p.add_argument("--counts", help="bench/counts.py output: the deterministic cost run")
    p.add_argument("--out", required=True, help="directory for the report files")
    p.add_argument("--baseline", help="an earlier results.json to gate against")
    p.add_argument("--counts-baseline", help="an earlier counts.json to gate the counts against")
    p.add_argument("--max-drop", type=float, default=10.0,
                   help="largest allowed fall of throughput relative to drain, in %% (default 10)")
    p.add_argument("--max-rise", type=float, default=0.5,
                   help="largest allowed rise of instructions or est. cycles per response, in %%"
                   " (default 0.5)")
    p.add_argument("--shape", default="c100m32", help="shape of the headline and summary")
    p.add_argument("--headline", default=",".join(DEFAULT_HEADLINE),
                   help="strategies in the summary line")
    p.add_argument("--summary-bodies", default="3B,16K,64K")
    p.add_argument("--no-charts", action="store_true")
    p.add_argument("--expect-all", action="store_true",
                   help="fail unless every benchmark of the suite is present (CI smoke)")
    p.add_argument("--quiet", action="store_true", help="accepted for bench.sh; prints nothing extra")
    args = p.parse_args(argv)
    if args.results is None and args.counts is None:
        raise BadInput("give a RESULTS.json, --counts COUNTS.json, or both")
    if args.max_drop < 0 or args.max_drop >= 100:
        raise BadInput(f"--max-drop {args.max_drop}: use a percentage in [0, 100)")
    if args.max_rise < 0 or args.max_rise >= 100:
        raise BadInput(f"--max-rise {args.max_rise}: use a percentage in [0, 100)")
    if args.shape not in SHAPES:
        raise BadInput(f"--shape {args.shape}: use one of {', '.join(SHAPES)}")
    if args.baseline and not args.results:
        raise BadInput("--baseline needs a RESULTS.json to compare")
    if args.counts_baseline and not args.counts:
        raise BadInput("--counts-baseline needs --counts")
    return args


def drop_standard_output():
    """The summary printed is an output too: when it cannot be written (a full device), what is
    left of it goes nowhere, so that Python's own flush at exit does not fail a second time."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def copy_file(src, dst):
    if os.path.abspath(src) == os.path.abspath(dst):
        return
    try:
        shutil.copyfile(src, dst)
    except OSError as e:
        raise BadOutput(f"cannot write {dst}: {e.strerror or e}")


def main(argv):
    try:
        args = parse_args(argv)
        loaded = load(args.results) if args.results else empty_run()
        counts = load_counts(args.counts) if args.counts else None
        run = Run(loaded, counts)
        base = Run(load(args.baseline)) if args.baseline else None
        cbase = Run(empty_run(), load_counts(args.counts_baseline)) \
            if args.counts_baseline else None
        for b in (base, cbase):
            if b is not None:
                same_scale(run, b)
    except BadInput as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    try:
        try:
            status = write_report(args, run, base, cbase)
            sys.stdout.flush()
        except OSError as e:  # print()'s: the report files' own errors are BadOutput already
            drop_standard_output()
            raise BadOutput(f"cannot write standard output: {e.strerror or e}")
        return status
    except BadOutput as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    except ControlFailed as e:
        print(f"report.py: CONTROL FAILED: the count tables are not exact: {e}", file=sys.stderr)
        return 1


def write_report(args, run, base, cbase):
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        raise BadOutput(f"cannot create {args.out}: {e.strerror or e}")
    failed = False
    write_text(os.path.join(args.out, "table.md"), table_markdown(run, args.shape))
    if args.results:
        copy_file(args.results, os.path.join(args.out, "results.json"))
    if args.counts:
        copy_file(args.counts, os.path.join(args.out, "counts.json"))
    charts_written = [] if args.no_charts else charts(run, args.out)
    for e in run.errors:
        print(f"error: {e}", file=sys.stderr)
        failed = True
    if args.expect_all:
        missing = [n for n in expected_names() if n not in run.rows]
        for n in missing:
            print(f"missing: {n}", file=sys.stderr)
        failed = failed or bool(missing)
    gate_parts = []
    problems = []
    if base is not None:
        found = gate(run, base, args.max_drop)
        problems += found
        gate_parts.append(f"gate FAIL ({len(found)} regressions vs {os.path.basename(base.path)})"
                          if found else
                          f"gate pass vs {os.path.basename(base.path)} (max drop {args.max_drop:g}%)")
    if cbase is not None:
        found = gate_counts(run, cbase, args.max_rise)
        problems += found
        note = other_build(run, cbase, os.path.basename(args.counts_baseline))
        if note:
            print(note)
        name = os.path.basename(args.counts_baseline)
        gate_parts.append(f"counts gate FAIL ({len(found)} regressions vs {name})" if found else
                          f"counts gate pass vs {name} (max rise {args.max_rise:g}%)")
    if base is not None or cbase is not None:
        write_text(os.path.join(args.out, "gate.txt"),
                   "\n".join(problems) + ("\n" if problems else ""))
        for p in problems:
            print(f"regression: {p}", file=sys.stderr)
        failed = failed or bool(problems)
    line = summary_line(run, args.shape, [s for s in args.headline.split(",") if s],
                        [b for b in args.summary_bodies.split(",") if b], "; ".join(gate_parts))
    write_text(os.path.join(args.out, "summary.txt"), line + "\n")
    names = ", ".join(os.path.basename(p) for p in charts_written if p.endswith(".png"))
    print(f"report: {os.path.join(args.out, 'table.md')}" + (f", {names}" if names else ""))
    if run.counts:
        print(counts_text(run))
    print(line)
    return 1 if failed else 0


def aligned(rows):
    """Rows of cells as text columns: the first left-aligned, the rest right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]


def counts_text(run):
    """The count-based ratio tables for the terminal: per counted shape, estimated cycles of
    drain over each strategy's, per body size; then the controls (all exactly 1.000 here:
    check_controls has already passed when this runs)."""
    out = []
    for sh in run.shapes():
        bodies = [b for b in run.bodies(sh) if run.cost("drain", sh, b, "est_cycles_per_resp")]
        if not bodies:
            continue
        rows = [["strategy"] + bodies]
        for s in run.strategies():
            cells = [fmt_cost_ratio(run.cost_relative(s, sh, b, "drain")) for b in bodies]
            if any(c != "–" for c in cells):
                rows.append([s] + cells)
        out += ["", f"counts, {sh}: est. cycles of drain / of the strategy (above 1 is cheaper;"
                " drain's row: a second process)"] + aligned(rows)
    controls = check_controls(run)[2:]
    if controls:
        rows = [["control", "shape/body", "est. cycles ratio", "event totals"]]
        for line in controls:
            shape, body, what, ratio, same = [c.strip() for c in line.strip("|").split("|")]
            rows.append([what.replace("`", ""), f"{shape}/{body}", ratio, same])
        out += ["", f"counts controls ({len(controls)} pairs):"] + aligned(rows)
    return "\n".join(out).lstrip("\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
