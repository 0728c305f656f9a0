"""Benchmarks that cannot rot: every script in benchmarks/ runs in its quick mode and prints
its figures (docs/performance.md). No timing is asserted: the figures are the scripts' to
print; a test only says that each still runs on today's code and says what it measures."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers_hardening import run_sim, sweep_dir

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
TIMEOUT = 600


def bench(script: str, *args: str) -> str:
    """Run a benchmark script as `./dev python benchmarks/<script>` does; its stdout."""
    env = dict(os.environ, MPLBACKEND="Agg", SOLARA_TELEMETRY_MIXPANEL_ENABLE="False")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, f"{script} {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_every_script_has_a_test():
    scripts = {p.name for p in BENCHMARKS.glob("*.py")}
    tested = {"solutions.py", "negotiation.py", "sweep_throughput.py", "thresholds.py"}
    tested |= {"page.py", "compare_negmas.py", "targets.py", "kernels.py"}
    assert scripts == tested, f"a benchmark without a quick run here: {scripts - tested}"


def test_solutions_quick():
    out = bench("solutions.py", "--quick")
    assert "1,212" in out and "12,012" in out  # its two smallest sizes


PROTOCOLS = ("single_text", "alternating_offers")


def test_negotiation_quick():
    out = bench("negotiation.py", "--quick")
    assert "one at a time (NegotiationModel" in out
    assert "batched (NegotiationBatch" in out and "R=3" in out and "R=200" not in out
    rows = [line.split()[:2] for line in out.splitlines() if line.startswith(PROTOCOLS)]
    for protocol in PROTOCOLS:  # numpy and compiled, one at a time and batched
        assert [kind for p, kind in rows if p == protocol] == ["numpy", "compiled"] * 2
    assert "does not cover" not in out  # the calendar problem is the compiled round's


def test_sweep_throughput_quick():
    out = bench("sweep_throughput.py", "--quick")
    assert "preset smoke: 8 points, 16 replications" in out
    assert "hydra/sweeper=packed" in out and "replications per second" in out


def test_thresholds_read_a_sweeps_results(tmp_path):
    run = run_sim(["-m", "sweep=smoke", "war.stake_years=1", f"results_dir={tmp_path}"])
    assert run.returncode == 0, run.show()
    results = sweep_dir(tmp_path) / "results.parquet"
    out = bench("thresholds.py", str(results))
    assert "binding deals" in out and "least sensitive" in out
    assert "robustness: share of deals within one standard error" in out


def test_kernels_quick():
    out = bench("kernels.py", "--quick")
    assert "brussels_2025: Scenario.anticipations" in out and "paris_2026" not in out
    assert out.count("equal to the bit: True") == 2, out
    assert "war values on" in out and "renewals of 3,030 deals" in out
    assert re.search(r"loading the kernels .*: \d+\.\d\d s, the time of \d+ numpy calls", out)


def test_page_quick():
    out = bench("page.py", "--quick")
    assert "start: the server answers after" in out
    assert "step in-process (default scenario, its last round" in out


def test_targets_quick():
    out = bench("targets.py", "--quick")
    lines = out.splitlines()
    table = [line for line in lines if line.count(" | ") == 3]
    assert table[0].split(" | ")[0].strip() == "target" and len(table) == 1 + 9, out
    assert {row.split(" | ")[2].strip() for row in table[1:]} <= {"yes", "no", "n/a"}, out
    assert sum("skipped in --quick" in row for row in table) == 2, out  # the browser's two
    assert any("projected to 1,000,000" in row for row in table), out
    assert re.fullmatch(r"\d of 9 targets met( \(\d not measured\))?; \d+ s", lines[-1]), out


def test_compare_negmas_runs_our_side_without_negmas():
    out = bench("compare_negmas.py", "--profile", "--quick")
    assert "of our negotiations on 1,212 outcomes" in out and "cumulative" in out


@pytest.mark.skipif(
    importlib.util.find_spec("negmas") is None,
    reason="NegMAS is not in this virtualenv: `./dev negmas` runs the comparison in its own",
)
def test_compare_negmas_quick():
    out = bench("compare_negmas.py", "--quick")
    assert "negotiations per second" in out and "Pareto set: identical" in out
