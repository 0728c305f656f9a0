"""Interrupted and concurrent sweeps: a SIGKILLed sweep reruns to every row exactly once
with no temporary file left and its dead lock ignored, and to the same rows as an
uninterrupted sweep (reproducible across a resume); two sweeps started into the same
folder at once do not corrupt each other."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.experiment import results, sweepdir
from tests.helpers_hardening import (
    SMOKE,
    SMOKE_JOBS,
    SMOKE_REPLICATIONS,
    CliRun,
    assert_every_row_once,
    comparable,
    copy_sweep,
    finish,
    job_files,
    reference_smoke_sweep,
    run_sim,
    start_sim,
    sweep_dir,
    temp_files_under,
)

SEED = 20251127  # the kill point: after k job files, plus a short delay, both seeded


def reference_frame(tmp_path_factory) -> pd.DataFrame:
    results_dir, _ = reference_smoke_sweep(tmp_path_factory)
    return pd.read_parquet(sweep_dir(results_dir) / "results.parquet")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_after_jobs(results_dir: Path, k: int, delay: float) -> tuple[int, int]:
    """Start a smoke sweep in its own session; SIGKILL the whole group `delay` seconds
    after its k-th job file appears. Returns (pid, job files present at the kill)."""
    proc = start_sim([*SMOKE, f"results_dir={results_dir}"], new_session=True)
    jobs = sweep_dir(results_dir) / "jobs"
    deadline = time.monotonic() + 600
    try:
        while len(list(jobs.glob("*.parquet"))) < k:
            if proc.poll() is not None:
                run = finish(proc)
                pytest.fail(f"sweep ended before {k} jobs:\n{run.show()}")
            assert time.monotonic() < deadline, "sweep too slow"
            time.sleep(0.02)
        time.sleep(delay)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    return proc.pid, len(list(jobs.glob("*.parquet")))


@pytest.fixture(scope="module")
def killed_and_rerun(tmp_path_factory):
    rng = random.Random(SEED)
    k = rng.randint(1, SMOKE_JOBS - 3)
    delay = rng.uniform(0.0, 0.4)
    results_dir = tmp_path_factory.mktemp("killed")
    sweep = sweep_dir(results_dir)
    pid, done_at_kill = kill_after_jobs(results_dir, k, delay)
    lock_after_kill = (sweep / ".lock").read_text() if (sweep / ".lock").exists() else None
    # what a writer killed mid-write leaves in jobs/: a hidden temporary file
    (sweep / "jobs" / ".0123456789abcdef.parquet.x1y2z3.tmp").write_bytes(b"PAR1 partial")
    rerun = run_sim([*SMOKE, f"results_dir={results_dir}"])
    return {
        "k": k,
        "pid": pid,
        "done_at_kill": done_at_kill,
        "lock_after_kill": lock_after_kill,
        "rerun": rerun,
        "sweep": sweep,
    }


def test_killed_sweep_leaves_its_lock_with_a_dead_pid(killed_and_rerun):
    state = killed_and_rerun
    assert state["done_at_kill"] >= state["k"]
    assert state["done_at_kill"] < SMOKE_JOBS  # killed mid-sweep
    holder = sweepdir.Holder.parse(state["lock_after_kill"])  # names the dead sweep
    assert holder.pid == state["pid"] and holder.alive() is False
    assert not pid_alive(state["pid"])


def test_rerun_after_a_kill_is_not_blocked_and_resumes(killed_and_rerun):
    rerun: CliRun = killed_and_rerun["rerun"]
    assert rerun.returncode == 0, rerun.show()
    assert "another sweep" not in rerun.stderr
    skipped = rerun.stdout.count("already done, skipped")
    assert skipped >= killed_and_rerun["done_at_kill"]
    assert skipped < SMOKE_JOBS


def test_rerun_after_a_kill_has_every_row_once(killed_and_rerun, tmp_path_factory):
    sweep = killed_and_rerun["sweep"]
    gathered = pd.read_parquet(sweep / "results.parquet")
    assert_every_row_once(gathered, SMOKE_JOBS, SMOKE_REPLICATIONS)
    assert_every_row_once(results.load(sweep), SMOKE_JOBS, SMOKE_REPLICATIONS)
    assert len(job_files(sweep)) == SMOKE_JOBS
    # and the rows are those of an uninterrupted sweep
    reference = reference_frame(tmp_path_factory)
    pd.testing.assert_frame_equal(comparable(gathered), comparable(reference))


def test_rerun_after_a_kill_leaves_no_temporary_file_or_lock(killed_and_rerun):
    sweep = killed_and_rerun["sweep"]
    assert temp_files_under(sweep) == []
    assert not (sweep / ".lock").exists()


# --- a resume over what a kill leaves: deleted jobs, stale temporary files, a dead lock ----


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """A copy of the reference sweep with three job files and results.parquet deleted,
    stale temporary files (in jobs/, and at the root as a kill during the final gather
    leaves them) and the lock of a dead run; then rerun."""
    src, _ = reference_smoke_sweep(tmp_path_factory)
    results_dir = tmp_path_factory.mktemp("resumed") / "results"
    sweep = copy_sweep(src, results_dir)
    removed = job_files(sweep)[::3]
    for path in removed:
        path.unlink()
    (sweep / "results.parquet").unlink()
    # write_parquet_atomic's temporary names, and the lock of a dead run
    (sweep / ".results.parquet.k2j4h6.tmp").write_bytes(b"PAR1 partial")
    (sweep / "jobs" / ".fedcba9876543210.parquet.a1b2c3.tmp").write_bytes(b"PAR1 partial")
    (sweep / ".lock").write_text(str(dead_pid()))
    run = run_sim([*SMOKE, f"results_dir={results_dir}"])
    return run, sweep, len(removed)


def dead_pid() -> int:
    """A pid that no process has: a finished child's."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    return proc.pid


def test_resume_reruns_only_the_missing_jobs(resumed):
    run, _, n_removed = resumed
    assert run.returncode == 0, run.show()
    assert "another sweep" not in run.stderr  # the dead lock did not block
    assert run.stdout.count("already done, skipped") == SMOKE_JOBS - n_removed


def test_resume_gives_the_frame_of_an_uninterrupted_sweep(resumed, tmp_path_factory):
    _, sweep, _ = resumed
    gathered = pd.read_parquet(sweep / "results.parquet")
    assert_every_row_once(gathered, SMOKE_JOBS, SMOKE_REPLICATIONS)
    reference = reference_frame(tmp_path_factory)
    pd.testing.assert_frame_equal(comparable(gathered), comparable(reference))


def test_resume_removes_stale_temporary_job_files_and_the_lock(resumed):
    _, sweep, _ = resumed
    assert [p for p in temp_files_under(sweep) if p.parent == sweep / "jobs"] == []
    assert not (sweep / ".lock").exists()


def test_resume_removes_stale_temporary_files_at_the_sweep_root(resumed):
    _, sweep, _ = resumed
    assert temp_files_under(sweep) == []


# --- two sweeps into the same folder at once -----------------------------------------------

REFUSED = re.compile(
    r"error: .*/sweeps/smoke: another sweep \(pid \d+ on [^,]+, since [-\d :]+\) is writing "
    r"here; "
    r"wait for it or choose another sweep_name"
)


@pytest.fixture(scope="module")
def two_at_once(tmp_path_factory):
    results_dir = tmp_path_factory.mktemp("two_at_once")
    procs = [start_sim([*SMOKE, f"results_dir={results_dir}"]) for _ in range(2)]
    runs = [finish(proc) for proc in procs]
    return runs, sweep_dir(results_dir)


def test_two_sweeps_at_once_one_refused_or_both_finish(two_at_once):
    runs, _ = two_at_once
    codes = sorted(run.returncode for run in runs)
    assert codes in ([0, 0], [0, 2]), [run.show() for run in runs]
    for run in runs:
        if run.returncode == 2:  # refused at start with one line, before any job
            assert REFUSED.fullmatch(run.stderr.strip()), run.show()
            assert len(run.stderr.splitlines()) == 1
            assert "Launching" not in run.stdout
            assert "Traceback" not in run.stderr


def test_two_sweeps_at_once_every_row_once(two_at_once, tmp_path_factory):
    _, sweep = two_at_once
    gathered = pd.read_parquet(sweep / "results.parquet")
    assert_every_row_once(gathered, SMOKE_JOBS, SMOKE_REPLICATIONS)
    assert_every_row_once(results.load(sweep), SMOKE_JOBS, SMOKE_REPLICATIONS)
    reference = reference_frame(tmp_path_factory)
    pd.testing.assert_frame_equal(comparable(gathered), comparable(reference))
    assert temp_files_under(sweep) == []
    assert not (sweep / ".lock").exists()
