"""What a sweep says about itself (issue 29, item 8): a preset without `-m` is one run and
says so; the packed sweeper says that Hydra's "Launching N jobs" counts packs of points."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def sim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_preset_without_multirun_says_it_is_one_run(tmp_path):
    done = sim("sweep=smoke", "max_rounds=1", f"results_dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "note: sweep=smoke is a sweep preset; without -m this is one run with its settings "
        "(its swept values unused); ./dev run -m sweep=smoke runs the sweep"
    )
    plain = sim("max_rounds=1", f"results_dir={tmp_path}")
    assert plain.returncode == 0 and "note: sweep=" not in plain.stdout


def test_the_packed_sweeper_says_what_its_packs_hold(tmp_path):
    done = sim("-m", "sweep=smoke", "replications=1", "max_rounds=1", f"results_dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    said = re.search(r"packed sweeper: the sweep's (\d+) jobs \(one per point\) in (\d+) packs; "
                     r"Hydra launches the packs", done.stdout)  # fmt: skip
    assert said, done.stdout
    points, packs = map(int, said.groups())
    assert points == 8 and 1 <= packs <= points
    assert f"sweep: {points} jobs x 1 replications" in done.stdout
    assert "note: sweep=" not in done.stdout  # a sweep, not a single run
