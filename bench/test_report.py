#!/usr/bin/python3
"""Tests of report.py's rules on made-up inputs: the count controls must be exact, CPU-time
ratios within the controls' spread are marked, the counts gate, checked report writes.

    test_report.py        (CTest: test_report, label bench)
"""

import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

REPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report.py")

TOTALS = {"Ir": 1000000, "Dr": 300000, "Dw": 200000, "I1mr": 5000, "D1mr": 4000, "D1mw": 1000,
          "ILmr": 10, "DLmr": 50, "DLmw": 40}


def counts_row(name, scale=1.0, responses=100):
    totals = {k: int(v * scale) for k, v in TOTALS.items()}
    row = {"name": name, "responses": responses, "requests_per_connection": responses,
           "totals": totals}
    row.update({"instructions_per_resp": totals["Ir"] / responses,
                "est_cycles_per_resp": 2.0 * totals["Ir"] / responses})
    return row


def counts_data():
    rows = [counts_row("emit/drain/c10m10/3B"), counts_row("emit/gather/c10m10/3B", 1.1),
            counts_row("emit/gather@cap=16K/c10m10/3B", 1.1), counts_row("floor/c10m10/3B", 0.01)]
    return {"context": {"emitlab_scale": "quick"}, "benchmarks": rows,
            "control_repeats": [counts_row("emit/drain/c10m10/3B")], "failures": []}


def time_row(name, paired, rps=1000.0):
    return {"name": name, "run_name": name, "run_type": "iteration", "iterations": 1,
            "responses_per_second": rps, "vs_drain_paired": paired}


def time_data(drain_self=1.05, cap=0.97, gather=0.90, hybrid=1.03):
    rows = [time_row("emit/drain/c10m10/3B", drain_self),
            time_row("emit/gather/c10m10/3B", gather),
            time_row("emit/gather@cap=16K/c10m10/3B", gather * cap),
            time_row("emit/hybrid/c10m10/3B", hybrid)]
    return {"context": {"emitlab_scale": "quick"}, "benchmarks": rows}


def run_of(times=None, counts=None):
    loaded = ({"context": times["context"], "rows": report.pick_runs(times["benchmarks"]),
               "path": "t.json"} if times else report.empty_run())
    return report.Run(loaded, counts)


def main_quietly(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = report.main(argv)
    return status, out.getvalue(), err.getvalue()


class Controls(unittest.TestCase):
    def test_equal_controls_read_exactly_one(self):
        lines = report.check_controls(run_of(counts=counts_data()))
        self.assertEqual(len(lines), 4)  # header, rule, two controls
        for line in lines[2:]:
            self.assertIn("| 1.000 | equal |", line)

    def test_a_repeat_one_instruction_apart_fails(self):
        data = counts_data()
        data["control_repeats"][0]["totals"]["Ir"] += 1
        with self.assertRaises(report.ControlFailed) as caught:
            report.check_controls(run_of(counts=data))
        self.assertIn("drain vs drain on c10m10/3B: Ir", str(caught.exception))

    def test_a_cache_miss_apart_fails_and_the_report_exits_1(self):
        data = counts_data()
        data["benchmarks"][2]["totals"]["DLmw"] += 1  # gather@cap=16K
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "counts.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(data, f)
            status, _, err = main_quietly(["--counts", path, "--out", d, "--no-charts"])
        self.assertEqual(status, 1)
        self.assertIn("CONTROL FAILED", err)
        self.assertIn("gather@cap=16K vs gather on c10m10/3B: DLmw", err)

    def test_cost_ratio_is_drain_over_strategy(self):
        run = run_of(counts=counts_data())
        self.assertAlmostEqual(run.cost_relative("gather", "c10m10", "3B", "drain"), 1 / 1.1)


class Noise(unittest.TestCase):
    def test_noise_is_the_controls_largest_distance_from_one(self):
        run = run_of(times=time_data(drain_self=1.05, cap=0.97))
        self.assertAlmostEqual(run.noise("c10m10"), 0.05)
        run = run_of(times=time_data(drain_self=0.99, cap=1.08))
        self.assertAlmostEqual(run.noise("c10m10"), 0.08)

    def test_ratios_inside_the_noise_are_marked_outside_are_not(self):
        run = run_of(times=time_data(drain_self=1.05, cap=0.98, gather=0.90, hybrid=1.03))
        lines = report.matrix(run, "c10m10", "drain", run.noise("c10m10"))
        cells = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in lines[2:]}
        self.assertEqual(cells["`hybrid`"], "(1.03)")
        self.assertEqual(cells["`gather`"], "0.90")
        self.assertEqual(cells["`drain`"], "(1.05)")

    def test_no_control_no_marks(self):
        data = time_data()
        data["benchmarks"] = [b for b in data["benchmarks"]
                              if b["name"].split("/")[1] in ("gather", "hybrid")]
        run = run_of(times=data)
        self.assertIsNone(run.noise("c10m10"))
        self.assertEqual(report.fmt_ratio(1.01, run.noise("c10m10")), "1.01")


class CountsGate(unittest.TestCase):
    def test_a_rise_above_the_limit_fails(self):
        base = run_of(counts=counts_data())
        new = copy.deepcopy(counts_data())
        new["benchmarks"][1]["instructions_per_resp"] *= 1.01
        problems = report.gate_counts(run_of(counts=new), base, 0.5)
        self.assertEqual(len(problems), 1)
        self.assertIn("emit/gather/c10m10/3B: instructions per response rose 1.00%", problems[0])

    def test_a_rise_within_the_limit_and_a_fall_pass(self):
        base = run_of(counts=counts_data())
        new = copy.deepcopy(counts_data())
        new["benchmarks"][1]["instructions_per_resp"] *= 1.004
        new["benchmarks"][0]["est_cycles_per_resp"] *= 0.5
        self.assertEqual(report.gate_counts(run_of(counts=new), base, 0.5), [])

    def test_a_missing_benchmark_fails(self):
        base = run_of(counts=counts_data())
        new = copy.deepcopy(counts_data())
        del new["benchmarks"][3]
        problems = report.gate_counts(run_of(counts=new), base, 0.5)
        self.assertEqual(problems, ["floor/c10m10/3B: missing from this run's counts"])


class OtherBuild(unittest.TestCase):
    def with_binary(self, digest):
        data = counts_data()
        data["context"]["binary_sha256"] = digest
        return run_of(counts=data)

    def test_a_baseline_of_another_binary_is_named(self):
        note = report.other_build(self.with_binary("b" * 64), self.with_binary("a" * 64),
                                  "old.json")
        self.assertIn("counts baseline old.json: another emitlab_bench", note)
        self.assertIn("sha256 aaaaaaaaaaaa, now bbbbbbbbbbbb", note)

    def test_the_same_binary_or_an_unknown_one_is_not(self):
        self.assertIsNone(report.other_build(self.with_binary("a" * 64),
                                             self.with_binary("a" * 64), "old.json"))
        self.assertIsNone(report.other_build(self.with_binary("a" * 64),
                                             run_of(counts=counts_data()), "old.json"))


class Writes(unittest.TestCase):
    def test_a_full_device_is_one_line_and_exit_1(self):
        with self.assertRaises(report.BadOutput) as caught:
            report.write_text("/dev/full", "x" * 100000)
        self.assertIn("cannot write /dev/full", str(caught.exception))

    def test_an_out_dir_that_is_a_file_exits_1(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "counts.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(counts_data(), f)
            status, _, err = main_quietly(["--counts", path, "--out", path, "--no-charts"])
        self.assertEqual(status, 1)
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertIn(path, err)

    def report_into_full_device(self, name, charts=True):
        """A report whose file NAME is a link to /dev/full: (status, stderr)."""
        with tempfile.TemporaryDirectory() as d:
            results = os.path.join(d, "in.json")
            with open(results, "w", encoding="utf-8") as f:
                json.dump(time_data(), f)
            out = os.path.join(d, "out")
            os.mkdir(out)
            os.symlink("/dev/full", os.path.join(out, name))
            argv = [results, "--out", out] + ([] if charts else ["--no-charts"])
            status, _, err = main_quietly(argv)
        return status, err

    def test_every_report_file_on_a_full_device_is_one_line_and_exit_1(self):
        for name, charts in (("table.md", False), ("results.json", False),
                             ("summary.txt", False), ("throughput.png", True),
                             ("throughput.svg", True)):
            with self.subTest(name):
                status, err = self.report_into_full_device(name, charts)
                self.assertEqual(status, 1, err)
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn("cannot write ", err)
                self.assertIn(os.path.join("out", name) + ":", err)

    def test_standard_output_on_a_full_device_is_one_line_and_exit_1(self):
        with tempfile.TemporaryDirectory() as d:
            results = os.path.join(d, "in.json")
            with open(results, "w", encoding="utf-8") as f:
                json.dump(time_data(), f)
            with open("/dev/full", "w", encoding="utf-8") as full:
                proc = subprocess.run(
                    [sys.executable, REPORT, results, "--out", os.path.join(d, "out"),
                     "--no-charts"], stdout=full, stderr=subprocess.PIPE, text=True)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("cannot write standard output", proc.stderr)


if __name__ == "__main__":
    unittest.main()
