"""Same config and seed, same results: across processes, launchers, and the documented
re-run of one row from its `overrides`, `seed` and `replication`. Across a resume: see
test_interruptions.py (a sweep killed and rerun, and a rerun with job files deleted, give
the frame of an uninterrupted sweep)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.helpers_hardening import (
    SMOKE,
    SMOKE_JOBS,
    SMOKE_REPLICATIONS,
    assert_every_row_once,
    comparable,
    finish,
    job_files,
    reference_smoke_sweep,
    result_columns,
    run_result,
    run_sim,
    run_trace,
    start_sim,
    sweep_dir,
    temp_files_under,
)

SINGLE = ["sweep=smoke", "seed=7", "replications=3", "max_rounds=15"]  # draws uncertainties


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Result folders: two single runs, the reference smoke sweep, a second basic sweep
    and a joblib sweep, each in its own process (started together)."""
    dirs = {name: tmp_path_factory.mktemp(name) for name in ("single1", "single2", "basic2")}
    dirs["joblib"] = tmp_path_factory.mktemp("joblib")
    procs = {
        "single1": start_sim([*SINGLE, f"results_dir={dirs['single1']}"]),
        "single2": start_sim([*SINGLE, f"results_dir={dirs['single2']}"]),
        "basic2": start_sim([*SMOKE, f"results_dir={dirs['basic2']}"]),
        "joblib": start_sim(
            [
                *SMOKE,
                "hydra/launcher=joblib",
                "hydra.launcher.n_jobs=2",
                f"results_dir={dirs['joblib']}",
            ]
        ),
    }
    dirs["basic"], _ = reference_smoke_sweep(tmp_path_factory)
    for proc in procs.values():
        run = finish(proc)
        assert run.returncode == 0, run.show()
    return dirs


def sweep_frame(results_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(sweep_dir(results_dir) / "results.parquet")


def test_single_run_is_identical_in_two_processes(runs):
    first, second = run_result(runs["single1"]), run_result(runs["single2"])
    assert len(first) == 3
    assert first["seed"].tolist() == [7, 7, 7]
    assert first["replication"].tolist() == [0, 1, 2]
    assert first["job"].nunique() == 1 and len(first["job"].iloc[0]) == 16
    # the replications really draw different parameters (else the check below is idle)
    assert first["war_costs_drawn"].nunique() == 3
    pd.testing.assert_frame_equal(comparable(first), comparable(second))
    pd.testing.assert_frame_equal(run_trace(runs["single1"]), run_trace(runs["single2"]))


def test_smoke_sweep_rows_carry_seed_job_and_overrides(runs):
    frame = sweep_frame(runs["basic"])
    assert_every_row_once(frame, SMOKE_JOBS, SMOKE_REPLICATIONS)
    assert (frame["seed"] == 0).all()
    assert frame["job"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert {p.stem for p in job_files(sweep_dir(runs["basic"]))} == set(frame["job"])
    for overrides in frame["overrides"]:
        assert "sweep=smoke" in overrides.split()
        assert f"results_dir={runs['basic']}" in overrides.split()
    # one job, one set of overrides; different jobs, different overrides
    assert (frame.groupby("job")["overrides"].nunique() == 1).all()
    assert frame["overrides"].nunique() == SMOKE_JOBS


def test_smoke_sweep_is_identical_in_two_processes(runs):
    a, b = sweep_frame(runs["basic"]), sweep_frame(runs["basic2"])
    pd.testing.assert_frame_equal(comparable(a), comparable(b))


def test_smoke_sweep_is_identical_with_the_joblib_launcher(runs):
    basic, joblib = sweep_frame(runs["basic"]), sweep_frame(runs["joblib"])
    # the launcher is a hydra/ override: not part of a row's overrides or its job hash
    pd.testing.assert_frame_equal(comparable(basic), comparable(joblib))


def test_one_row_of_a_sweep_re_runs_alone(runs, tmp_path):
    """docs/sweeps.md, "Re-running one row": `python -m sim <row.overrides>
    replication=<row.replication>` re-runs a row."""
    frame = sweep_frame(runs["basic"])
    row = frame.sample(1, random_state=3).iloc[0]  # any row will do; seeded choice
    overrides = row["overrides"].split()
    kept = [o for o in overrides if not o.startswith(("results_dir=", "sweep_name="))]
    assert len(kept) == len(overrides) - 1  # only results_dir was dropped
    run = run_sim([*kept, f"replication={row['replication']}", f"results_dir={tmp_path}"])
    assert run.returncode == 0, run.show()
    single = run_result(tmp_path)
    assert len(single) == 1
    again = single.iloc[0]
    assert (again["job"], again["seed"], again["replication"]) == (
        row["job"],
        row["seed"],
        row["replication"],
    )
    columns = result_columns(frame)
    pd.testing.assert_series_equal(
        again[columns], row[columns], check_names=False, check_dtype=False
    )
    # and every other column the two share, except where the results went
    shared = [c for c in single.columns if c in frame.columns and c not in ("overrides", "error")]
    pd.testing.assert_series_equal(again[shared], row[shared], check_names=False, check_dtype=False)


def test_adhoc_sweep_without_a_preset_runs_and_is_reproducible(tmp_path):
    args = ["-m", "us_support=0.1,0.9", "max_rounds=5", "sweep_name=adhoc"]
    first = run_sim([*args, f"results_dir={tmp_path / 'a'}"])
    assert first.returncode == 0, first.show()
    second = run_sim([*args, f"results_dir={tmp_path / 'b'}"])
    assert second.returncode == 0, second.show()
    a = pd.read_parquet(sweep_dir(tmp_path / "a", "adhoc") / "results.parquet")
    b = pd.read_parquet(sweep_dir(tmp_path / "b", "adhoc") / "results.parquet")
    assert_every_row_once(a, 2, 1)
    pd.testing.assert_frame_equal(comparable(a), comparable(b))


def test_reference_sweep_left_no_temporary_files_or_lock(runs):
    for name in ("basic", "basic2", "joblib"):
        sweep = sweep_dir(runs[name])
        assert temp_files_under(sweep) == [], name
        assert not (sweep / ".lock").exists(), name
