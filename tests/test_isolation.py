"""The tests never read or write the user's results/ (issue 29, defect 1): the session's own
folder is `SIM_RESULTS_DIR` (tests/conftest.py), which conf/config.yaml's `results_dir`
and the page's Sweeps tab read, and which test subprocesses inherit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sim.front import page_sweeps
from tests.conftest import RESULTS_DIR, ROOT, compose_config


def test_the_session_results_folder_is_outside_the_repository():
    assert os.environ["SIM_RESULTS_DIR"] == str(RESULTS_DIR)
    assert RESULTS_DIR.is_dir()
    assert not RESULTS_DIR.resolve().is_relative_to(ROOT.resolve())


def test_configs_and_the_page_read_the_session_folder():
    assert compose_config([]).results_dir == str(RESULTS_DIR)
    assert page_sweeps.RESULTS_DIR == RESULTS_DIR
    # an explicit value still wins over the environment
    assert compose_config(["results_dir=elsewhere"]).results_dir == "elsewhere"


def test_the_page_lists_only_the_session_sweeps():
    sweeps = RESULTS_DIR / "sweeps" / "isolation_probe" / "jobs"
    sweeps.mkdir(parents=True)
    (sweeps / "0123456789abcdef.parquet").write_bytes(b"")
    try:
        found = page_sweeps.sweep_folders()
        assert "isolation_probe" in found
        assert found == page_sweeps.sweep_folders(RESULTS_DIR)  # and nothing of results/
    finally:
        (sweeps / "0123456789abcdef.parquet").unlink()


def test_a_run_from_the_repository_writes_to_the_session_folder_not_results():
    user_runs = ROOT / "results" / "runs"
    before = set(user_runs.iterdir()) if user_runs.is_dir() else set()
    ours = RESULTS_DIR / "runs"
    ours_before = set(ours.iterdir()) if ours.is_dir() else set()
    done = subprocess.run(
        [sys.executable, "-m", "sim", "max_rounds=2"],
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    after = set(user_runs.iterdir()) if user_runs.is_dir() else set()
    assert after == before
    (written,) = set(ours.iterdir()) - ours_before
    assert (written / "result.parquet").is_file()
    assert f"wrote {Path(RESULTS_DIR) / 'runs'}" in done.stdout
