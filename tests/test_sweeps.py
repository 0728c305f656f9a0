"""Sweeps end to end: `python -m sim -m sweep=...` in subprocesses, with every launcher.

The sweeps the selected tests need start together when the module's first test asks for
them (each is its own interpreter), so the whole module costs about as much as its
slowest sweep; every sweep writes into its own `results_dir` under pytest's tmp folder.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.api import types as ptypes

from sim.core import stability
from sim.experiment import sweepdir
from sim.experiment.compiler import compile_job, flat_parameters
from sim.experiment.draws import replication_seeds
from sim.experiment.jobs import run_replications, run_sweep_job
from sim.experiment.replication import negotiate
from sim.experiment.results import job_hash, job_paths, read_job_rows
from tests.helpers_sweeps import (
    Launch,
    RayHead,
    SimRun,
    assert_same_results,
    comparable,
    failed_jobs,
    job_files,
    preset,
    preset_jobs,
    progress_lines,
    ran_jobs,
    run_sim,
    skipped_jobs,
    summary_line,
    temp_files,
    wait_for,
)

SMOKE = ["-m", "sweep=smoke"]
FAILING = [
    # smoke's light settings, one seating and protocol, and a support level out of range:
    # the config composes (1.5 is a float), then fails validation inside its job.
    *SMOKE,
    "us_support=0.5,1.5",
    "seating=inclusive",
    "protocol=single_text",
    "sweep_name=failing",
]
SEARCH = ["-m", "sweep=search", "hydra.sweeper.n_trials=3", "replications=2"]
RAY_ENV = RayHead.ENV

# name -> overrides of `python -m sim` (after results_dir=<its own tmp folder>)
SWEEPS: dict[str, list[str]] = {
    "basic": SMOKE,
    "basic_again": SMOKE,
    "joblib": [*SMOKE, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    "other_seed": [*SMOKE, "seed=1"],
    "failing": FAILING,
    "search": SEARCH,
    "locked": SMOKE,  # into a folder whose lock a live process holds
    "submitit": [*SMOKE, "hydra/launcher=submitit_local"],
}
# test -> the sweeps it reads (only the selected tests' sweeps are started)
NEEDS: dict[str, set[str]] = {
    "test_same_seed_into_another_folder_gives_the_same_frame": {"basic", "basic_again"},
    "test_joblib_launcher_gives_the_same_frame": {"basic", "joblib"},
    "test_another_seed_gives_another_frame": {"basic", "other_seed"},
    "test_a_failing_job_is_recorded_and_the_others_land": {"failing"},
    "test_search_preset_runs_n_trials_jobs_and_reports_the_best_value": {"search"},
    "test_a_sweep_into_a_locked_folder_stops_with_one_line": {"locked"},
    "test_submitit_local_launcher_gives_the_same_frame": {"basic", "submitit"},
    "test_ray_launcher_gives_the_same_frame": {"basic", "ray"},
    "test_resume_after_a_kill_runs_each_job_once": {"basic"},
}
BASIC_TESTS = (
    "test_smoke_sweep",
    "test_smoke_frame",
    "test_smoke_rows",
    "test_progress",
    "test_summary",
)


class Sweeps:
    """The module's sweeps, started together; `sweeps[name]` waits for one to finish."""

    def __init__(self, base: Path, wanted: set[str], request: pytest.FixtureRequest) -> None:
        self.base = base
        self.launches: dict[str, Launch] = {}
        self.ray_error: BaseException | None = None
        # The Ray head first, on an idle machine: its raylet has a fixed 30 s to register
        # with the GCS, which the other sweeps' start-up on two cores can starve.
        head: RayHead | None = None
        if "ray" in wanted:
            try:
                head = request.getfixturevalue("ray_head")
            except Exception as exc:  # only the Ray test should fail for this
                self.ray_error = exc
        for name in sorted(wanted - {"ray"}):
            folder = base / name / "results"
            if name == "locked":  # this test process holds the folder's lock
                locked = folder / "sweeps" / "smoke"
                locked.mkdir(parents=True)
                sweepdir.take_lock(locked)
            self.launches[name] = Launch(folder, SWEEPS[name])
        if head is not None:
            self.launches["ray"] = Launch(
                base / "ray" / "results",
                [
                    *SMOKE,
                    "hydra/launcher=ray",
                    f"hydra.launcher.ray.init.address={head.address}",
                    "+hydra.launcher.ray.init.object_store_memory=null",
                ],
                env=RAY_ENV,
            )

    def __getitem__(self, name: str) -> SimRun:
        if name == "ray" and self.ray_error is not None:
            pytest.fail(f"the Ray head did not start: {self.ray_error}")
        return self.launches[name].result()

    def close(self) -> None:
        for launch in self.launches.values():
            launch.kill()


@pytest.fixture(scope="module")
def ray_head():
    head = RayHead(num_cpus=2)
    try:
        head.wait_ready()
    except RuntimeError:  # a raylet that missed its 30 s to register: one more try
        head.stop()
        head = RayHead(num_cpus=2)
    try:
        head.wait_ready()
        yield head
    finally:
        head.stop()


@pytest.fixture(scope="module")
def sweeps(request, tmp_path_factory):
    selected = {
        item.originalname for item in request.session.items if item.module is request.module
    }
    wanted: set[str] = set()
    for name in selected:
        if name.startswith(BASIC_TESTS):
            wanted.add("basic")
        wanted |= NEEDS.get(name, set())
    started = Sweeps(tmp_path_factory.mktemp("sweeps"), wanted, request)
    yield started
    started.close()


@pytest.fixture(scope="module")
def basic(sweeps) -> SimRun:
    run = sweeps["basic"]
    assert run.returncode == 0, run.describe()
    return run


@pytest.fixture(scope="module")
def basic_frame(basic) -> pd.DataFrame:
    return pd.read_parquet(basic.sweep_dir("smoke") / "results.parquet")


@pytest.fixture(scope="module")
def smoke_cfg(compose):
    return compose(["sweep=smoke"])


def smoke_size(smoke_cfg) -> tuple[int, int]:
    """(jobs, replications) of the smoke preset, from the preset and the composed config."""
    return preset_jobs("smoke"), int(smoke_cfg.replications)


# --- the smoke sweep with the basic launcher ---------------------------------------------------


def test_smoke_sweep_exits_cleanly_and_writes_its_files(basic, smoke_cfg):
    sweep_dir = basic.sweep_dir(str(smoke_cfg.sweep_name))
    assert sweep_dir == basic.results_dir / "sweeps" / "smoke"
    jobs, _ = smoke_size(smoke_cfg)
    assert (sweep_dir / "results.parquet").is_file()
    heatmap = sweep_dir / "heatmap.png"
    assert heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(job_files(sweep_dir)) == jobs
    assert not any(p.name.endswith(".failed.parquet") for p in job_files(sweep_dir))
    assert temp_files(basic.results_dir) == []
    assert not (sweep_dir / ".lock").exists()  # released at the end
    assert "error" not in basic.stderr.lower()


def test_smoke_rows_are_jobs_times_replications(basic, basic_frame, smoke_cfg):
    jobs, reps = smoke_size(smoke_cfg)
    assert (jobs, reps) == (8, 2)  # as documented: 8 jobs x 2
    assert len(basic_frame) == jobs * reps
    assert basic_frame["job"].nunique() == jobs
    assert not basic_frame.duplicated(["job", "replication"]).any()
    for _, group in basic_frame.groupby("job"):
        assert sorted(group["replication"]) == list(range(reps))
    # results.parquet is what the job files hold, ordered by (job, replication).
    from_jobs = pd.concat([read_job_rows(p) for p in job_files(basic.sweep_dir("smoke"))])
    from_jobs = from_jobs.sort_values(["job", "replication"]).reset_index(drop=True)
    # A job without a deal holds its level columns as all-None (no type); gathered, they
    # take the type of the other jobs' values: compare under the gathered types.
    from_jobs = from_jobs.astype(basic_frame.dtypes.to_dict())
    pd.testing.assert_frame_equal(basic_frame, from_jobs, check_dtype=False)
    # Every value of every swept parameter, crossed.
    params = preset("smoke").hydra.sweeper.params
    grid = basic_frame.drop_duplicates("job")[list(params)]
    for key, values in params.items():
        assert sorted(grid[key].astype(str).unique()) == sorted(str(values).split(","))
    assert not grid.duplicated().any()
    assert (basic_frame["error"].isna()).all()


def test_smoke_rows_job_column_is_the_hash_of_each_jobs_config(basic_frame, compose):
    # The launching process hashed each job's config; so does this one, from the overrides.
    params = list(preset("smoke").hydra.sweeper.params)
    for _, row in basic_frame.drop_duplicates("job").iterrows():
        overrides = ["sweep=smoke", *(f"{k}={row[k]}" for k in params)]
        assert job_hash(compose(overrides)) == row["job"], overrides


EXPECTED_KINDS = {
    # parameters
    "us_support": "float",
    "seating": "string",
    "protocol": "string",
    # identity of the row
    "seed": "int",
    "replication": "int",
    "job": "string",
    # the negotiation
    "agreement": "bool",
    "round": "int",
    "reason": "string",
    "territory_position": "float",
    "dist_nash": "float",
    "dist_ks": "float",
    # stability
    "ir_margin": "float",
    "pareto_gap": "float",
    "blocking_coalitions": "int",
    "blocking_surplus": "float",
    "robustness": "float",
    "durability": "float",
    "stable": "bool",
    "stability_score": "float",
}


def kind_of(series: pd.Series) -> str:
    if ptypes.is_bool_dtype(series):
        return "bool"
    if ptypes.is_integer_dtype(series):
        return "int"
    if ptypes.is_float_dtype(series):
        return "float"
    if ptypes.is_string_dtype(series) or (
        ptypes.is_object_dtype(series) and series.map(lambda v: isinstance(v, str)).all()
    ):
        return "string"
    return str(series.dtype)


def test_smoke_frame_has_every_expected_column_with_its_dtype(basic_frame, smoke_cfg):
    expected = dict(EXPECTED_KINDS)
    for issue in smoke_cfg.issues:  # territory, nato, guarantees: the agreed level's name
        expected[issue] = "string"
    for party in smoke_cfg.parties:
        expected[f"u_{party}"] = "float"
        expected[f"reservation_{party}"] = "float"
    assert {"territory", "nato", "guarantees"} <= set(smoke_cfg.issues)
    missing = sorted(set(expected) - set(basic_frame.columns))
    assert missing == []
    wrong = {c: kind_of(basic_frame[c]) for c in expected if kind_of(basic_frame[c]) != expected[c]}
    assert wrong == {}


def test_smoke_rows_agree_with_the_stability_definitions(basic_frame, smoke_cfg):
    """Each row's measures, recomputed from the row's own columns."""
    parties = list(smoke_cfg.parties)
    st = smoke_cfg.stability
    thresholds = stability.Thresholds(**dict(st.thresholds))
    n_coalitions = 2 ** len(parties) - 1
    deals = basic_frame[basic_frame["agreement"]]
    assert len(deals) > 0
    for _, row in deals.iterrows():
        walked = set(filter(None, row["walked_out"].split(",")))
        margins = [row[f"u_{p}"] - row[f"reservation_{p}"] for p in parties if p not in walked]
        assert row["ir_margin"] == pytest.approx(min(margins), abs=1e-12)
        assert 0 <= row["blocking_coalitions"] <= n_coalitions
        assert (row["blocking_surplus"] > 0) == (row["blocking_coalitions"] > 0)
        assert row["pareto_gap"] >= 0
        # Shares of whole draws: robustness over robustness_draws, durability over
        # durability_paths x durability_periods (16 and 8 x 12 in the smoke preset).
        draws = int(st.robustness_draws)
        assert row["robustness"] * draws == pytest.approx(round(row["robustness"] * draws))
        cells = int(st.durability_paths) * int(st.durability_periods)
        assert row["durability"] * cells == pytest.approx(round(row["durability"] * cells))
        measures = (
            row["ir_margin"],
            row["pareto_gap"],
            int(row["blocking_coalitions"]),
            row["robustness"],
            row["durability"],
        )
        commitment = row["commitment_ratio"]
        assert row["stable"] == stability.is_stable(*measures, thresholds, commitment)
        if str(st.model) == "linear":
            score = stability.stability_score_linear(*measures[:3], n_coalitions, *measures[3:])
        else:  # mechanisms: the chance the deal holds both ways
            score = stability.stability_score(row["robustness"], row["durability"])
        assert row["stability_score"] == pytest.approx(score, abs=1e-12)
        assert row["dist_nash"] >= 0 and row["dist_ks"] >= 0
        if row["outcome"] == row["nash_outcome"]:
            assert row["dist_nash"] == 0.0
        for p in parties:
            assert 0.0 <= row[f"u_{p}"] <= 1.0
    # The agreed levels and their positions on the 0-100 scale.
    for name, issue in smoke_cfg.issues.items():
        for _, row in deals.iterrows():
            if str(issue.kind) == "ordinal":
                assert row[f"{name}_position"] == issue.levels[row[name]]
            elif str(issue.kind) == "continuous":
                assert float(row[name]) == row[f"{name}_position"]


def test_smoke_rows_draw_within_the_presets_uncertainty(basic_frame, smoke_cfg):
    spread = smoke_cfg.uncertainty.war.support.usa  # the preset sets it by its alias
    assert str(spread.dist) == "uniform"
    assert (basic_frame["war.support.usa"] == basic_frame["us_support"]).all()
    offset = (basic_frame["war.support.usa_drawn"] - basic_frame["war.support.usa"]).round(12)
    assert (offset.abs() <= float(spread.scale) + 1e-12).all()
    # Common random numbers: replication r draws the same offset in every job.
    assert (offset.groupby(basic_frame["replication"]).nunique() == 1).all()
    assert offset.nunique() == int(smoke_cfg.replications)


def test_summary_line_gives_the_shares_and_the_path(basic, basic_frame, smoke_cfg):
    line = summary_line(basic.stdout)
    jobs, reps = smoke_size(smoke_cfg)
    deal = basic_frame["agreement"].mean()
    stable = basic_frame["stable"].mean()
    path = basic.sweep_dir("smoke") / "results.parquet"
    assert f"{jobs} jobs (0 failed)" in line
    assert f"{jobs * reps} replications" in line
    assert f"{deal:.0%} with a binding deal" in line
    assert f"{stable:.0%} stable" in line
    assert line.endswith(str(path))
    assert f"heatmap: {basic.sweep_dir('smoke') / 'heatmap.png'}" in basic.stdout


def test_progress_lines_count_up_with_an_eta_then_the_elapsed_time(basic, smoke_cfg):
    jobs, _ = smoke_size(smoke_cfg)
    lines = progress_lines(basic.stdout)
    assert [(int(m["done"]), int(m["total"])) for m in lines] == [
        (k, jobs) for k in range(1, jobs + 1)
    ]
    assert all(m["what"] == "done" for m in lines)
    assert all(m["time"] and m["time"].startswith(", ETA ") for m in lines[:-1])
    assert lines[-1]["time"] and lines[-1]["time"].endswith(" elapsed")
    assert {m["job"] for m in lines} == {p.stem for p in job_files(basic.sweep_dir("smoke"))}
    assert f"sweep: {jobs} jobs x {smoke_cfg.replications} replications" in basic.stdout


# --- reproducibility -----------------------------------------------------------------------------


def test_same_seed_into_another_folder_gives_the_same_frame(sweeps, basic_frame):
    again = sweeps["basic_again"]
    assert again.returncode == 0, again.describe()
    frame = pd.read_parquet(again.sweep_dir("smoke") / "results.parquet")
    assert_same_results(basic_frame, frame)


def test_joblib_launcher_gives_the_same_frame(sweeps, basic_frame):
    run = sweeps["joblib"]
    assert run.returncode == 0, run.describe()
    assert "Joblib" in run.stdout  # the launcher really was joblib's
    assert_same_results(basic_frame, pd.read_parquet(run.sweep_dir("smoke") / "results.parquet"))


def test_another_seed_gives_another_frame(sweeps, basic_frame):
    run = sweeps["other_seed"]
    assert run.returncode == 0, run.describe()
    other = pd.read_parquet(run.sweep_dir("smoke") / "results.parquet")
    assert len(other) == len(basic_frame)
    assert (other["seed"] == 1).all() and (basic_frame["seed"] == 0).all()
    assert set(other["job"]).isdisjoint(basic_frame["job"])  # the seed is in the hash
    key = ["us_support", "seating", "protocol", "replication"]
    a = basic_frame.sort_values(key).reset_index(drop=True)
    b = other.sort_values(key).reset_index(drop=True)
    assert not np.allclose(a["war.support.usa_drawn"], b["war.support.usa_drawn"])
    assert not np.allclose(a["war_costs_drawn"], b["war_costs_drawn"])
    assert (
        not comparable(a)
        .drop(columns=["seed", "job"])
        .equals(comparable(b).drop(columns=["seed", "job"]))
    )


# --- resuming ------------------------------------------------------------------------------------


def test_resume_after_a_kill_runs_each_job_once(basic_frame, smoke_cfg, tmp_path):
    jobs, reps = smoke_size(smoke_cfg)
    results = tmp_path / "results"
    sweep_dir = results / "sweeps" / "smoke"
    first = Launch(results, SMOKE)
    landed = wait_for(lambda: len(job_files(sweep_dir)) >= 3, timeout=120)
    first.proc.send_signal(signal.SIGKILL)
    killed = first.result()
    assert landed, killed.describe()
    assert killed.returncode == -signal.SIGKILL
    done_before = {p.stem for p in job_files(sweep_dir)}
    assert 3 <= len(done_before) < jobs, "the sweep finished before it could be killed"
    assert not (sweep_dir / "results.parquet").exists()
    assert sweepdir.lock_holder(sweep_dir).pid == first.proc.pid  # its holder is dead
    # What a writer killed mid-write leaves behind:
    stale = sweep_dir / "jobs" / ".0123456789abcdef.parquet.x1y2z3.tmp"
    stale.write_bytes(b"PAR1 half a file")

    rerun = run_sim(results, *SMOKE)
    assert rerun.returncode == 0, rerun.describe()
    assert skipped_jobs(rerun.stdout) == done_before
    assert ran_jobs(rerun.stdout) | done_before == {p.stem for p in job_files(sweep_dir)}
    assert ran_jobs(rerun.stdout).isdisjoint(done_before)
    assert len(ran_jobs(rerun.stdout)) == jobs - len(done_before)
    frame = pd.read_parquet(sweep_dir / "results.parquet")
    assert len(frame) == jobs * reps
    assert not frame.duplicated(["job", "replication"]).any()
    assert temp_files(results) == []
    assert not (sweep_dir / ".lock").exists()
    # Interrupted and resumed, the sweep gives what an uninterrupted one gives.
    assert_same_results(basic_frame, frame)


# --- failures ------------------------------------------------------------------------------------


def test_a_failing_job_is_recorded_and_the_others_land(sweeps, compose):
    run = sweeps["failing"]
    assert run.returncode == 3, run.describe()  # partial failure (docs/troubleshooting.md)
    (line,) = run.stderr.splitlines()
    assert re.fullmatch(
        r"error: 1 of 2 jobs failed \(rows with an `error` in results\.parquet; a rerun tries "
        r"them again\); the first: us_support: got 1\.5; allowed: a number in \[0\.0, 1\.0\]",
        line,
    ), line
    sweep_dir = run.sweep_dir("failing")
    reps = int(compose(["sweep=smoke"]).replications)
    files = job_files(sweep_dir)
    failed = [p for p in files if p.name.endswith(".failed.parquet")]
    assert len(files) == 2 and len(failed) == 1
    good_hash = job_hash(
        compose(["sweep=smoke", "us_support=0.5", "seating=inclusive", "protocol=single_text"])
    )
    bad_hash = failed[0].name.removesuffix(".failed.parquet")
    assert {p.name for p in files} == {f"{good_hash}.parquet", failed[0].name}

    frame = pd.read_parquet(sweep_dir / "results.parquet")
    good = frame[frame["error"].isna()]
    bad = frame[frame["error"].notna()]
    assert len(good) == reps and (good["job"] == good_hash).all()
    assert sorted(good["replication"]) == list(range(reps))
    assert len(bad) == 1
    error_row = bad.iloc[0]
    assert error_row["job"] == bad_hash
    assert error_row["us_support"] == 1.5
    assert error_row["error"].startswith("us_support: got 1.5")
    assert "[0.0, 1.0]" in error_row["error"]
    assert "2 jobs (1 failed)" in summary_line(run.stdout)
    assert f"{reps} replications" in summary_line(run.stdout)
    assert failed_jobs(run.stdout) == {bad_hash}
    assert ran_jobs(run.stdout) == {good_hash}

    # A rerun skips the job that landed and tries the failed one again.
    before = failed[0].stat().st_mtime_ns
    rerun = run_sim(run.results_dir, *FAILING)
    assert rerun.returncode == 3, rerun.describe()
    assert skipped_jobs(rerun.stdout) == {good_hash}
    assert failed_jobs(rerun.stdout) == {bad_hash}
    assert failed[0].stat().st_mtime_ns > before
    again = pd.read_parquet(sweep_dir / "results.parquet")
    assert len(again) == reps + 1
    assert again["error"].notna().sum() == 1
    assert temp_files(run.results_dir) == []


def test_an_adhoc_sweep_without_a_preset_records_its_failing_job(tmp_path):
    # Regression: sweep_size()/swept_keys() in sim/front/callbacks.py once called
    # OmegaConf.to_container({}) when no preset set hydra.sweeper.params (exit 2).
    run = run_sim(
        tmp_path / "results",
        "-m",
        "us_support=0.5,1.5",
        "replications=2",
        "max_rounds=40",
        "stability.robustness_draws=8",
        "stability.durability_paths=4",
    )
    assert run.returncode == 3, run.describe()
    sweep_dir = run.sweep_dir("adhoc")
    assert len([p for p in job_files(sweep_dir) if p.name.endswith(".failed.parquet")]) == 1
    frame = pd.read_parquet(sweep_dir / "results.parquet")
    assert frame["error"].notna().sum() == 1
    assert "us_support" in frame.loc[frame["error"].notna(), "error"].iloc[0]
    assert len(frame) == 2 + 1
    assert "sweep: 2 jobs x 2 replications" in run.stdout


def test_a_sweep_into_a_locked_folder_stops_with_one_line(sweeps):
    run = sweeps["locked"]
    assert run.returncode == 2, run.describe()
    sweep_dir = run.sweep_dir("smoke")
    assert f"another sweep (pid {os.getpid()} on " in run.stderr
    assert ") is writing here" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert job_files(sweep_dir) == []
    assert sweepdir.lock_holder(sweep_dir).pid == os.getpid()  # not taken over


# --- the Optuna search preset ------------------------------------------------------------------


def test_search_preset_runs_n_trials_jobs_and_reports_the_best_value(sweeps):
    run = sweeps["search"]
    assert run.returncode == 0, run.describe()
    sweep_dir = run.sweep_dir(str(preset("search").sweep_name))
    assert len(job_files(sweep_dir)) == 3
    frame = pd.read_parquet(sweep_dir / "results.parquet")
    assert len(frame) == 3 * 2
    best = re.search(r"Best value: (\S+)", run.stdout)
    assert best, run.describe()
    # The objective is a job's mean stability score; Optuna maximises it.
    means = frame.groupby("job")["stability_score"].mean()
    assert float(best[1]) == pytest.approx(means.max(), abs=1e-12)
    assert "sweep: 3 jobs x 2 replications" in run.stdout
    assert [int(m["done"]) for m in progress_lines(run.stdout)] == [1, 2, 3]
    # The levers the preset searches over were really varied between the trials.
    assert frame["us_support"].nunique() == 3


# --- other launchers -----------------------------------------------------------------------------


@pytest.mark.slow
def test_submitit_local_launcher_gives_the_same_frame(sweeps, basic_frame):
    run = sweeps["submitit"]
    assert run.returncode == 0, run.describe()
    assert_same_results(basic_frame, pd.read_parquet(run.sweep_dir("smoke") / "results.parquet"))
    assert (run.sweep_dir("smoke") / ".submitit").is_dir()  # submitit really ran the jobs


@pytest.mark.slow
def test_ray_launcher_gives_the_same_frame(sweeps, basic_frame):
    run = sweeps["ray"]
    assert run.returncode == 0, run.describe()
    assert "Connected to Ray cluster" in run.output
    assert_same_results(basic_frame, pd.read_parquet(run.sweep_dir("smoke") / "results.parquet"))


# --- the sweep job in-process (sim.experiment.jobs) -----------------------------------------------


@pytest.fixture(scope="module")
def job_cfg(compose, tmp_path_factory):
    results = tmp_path_factory.mktemp("inprocess")
    return compose(["sweep=smoke", "us_support=0.3", "replications=3", f"results_dir={results}"])


def test_run_sweep_job_writes_once_then_skips(job_cfg, tmp_path, capsys):
    done, failed = job_paths(tmp_path, job_cfg)
    assert done == tmp_path / "jobs" / f"{job_hash(job_cfg)}.parquet"
    assert failed == tmp_path / "jobs" / f"{job_hash(job_cfg)}.failed.parquet"
    score = run_sweep_job(job_cfg, tmp_path)
    rows = pd.read_parquet(done)
    assert len(rows) == 3 and rows["error"].isna().all()
    assert score == pytest.approx(rows["stability_score"].mean(), abs=1e-12)
    assert f"job {done.stem} done" in capsys.readouterr().out
    stamp = done.stat().st_mtime_ns
    assert run_sweep_job(job_cfg, tmp_path) == score
    assert f"job {done.stem} already done, skipped" in capsys.readouterr().out
    assert done.stat().st_mtime_ns == stamp
    assert not failed.exists()


def test_run_sweep_job_records_a_failure_and_returns_the_worst_score(compose, tmp_path, capsys):
    cfg = compose(["sweep=smoke", "us_support=1.5"])
    assert run_sweep_job(cfg, tmp_path) == float("-inf")  # NaN would end an Optuna study
    done, failed = job_paths(tmp_path, cfg)
    assert not done.exists()
    row = pd.read_parquet(failed)
    assert len(row) == 1
    assert row.loc[0, "job"] == job_hash(cfg)
    assert row.loc[0, "error"] == "us_support: got 1.5; allowed: a number in [0.0, 1.0]"
    assert row.loc[0, "us_support"] == 1.5
    assert "FAILED: us_support: got 1.5" in capsys.readouterr().out


def test_a_row_can_be_rerun_alone_from_config_seed_and_replication(job_cfg):
    rows, _ = run_replications(job_cfg)
    again, _ = run_replications(job_cfg)
    assert pd.DataFrame(rows).equals(pd.DataFrame(again))
    seeds = replication_seeds(job_cfg.seed, job_cfg.replications)
    (alone,), _ = negotiate(compile_job(job_cfg), [seeds[2]])
    for key, value in alone.items():
        assert rows[2][key] == value or (pd.isna(value) and pd.isna(rows[2][key])), key
    assert [r["replication"] for r in rows] == [0, 1, 2]
    assert {r["job"] for r in rows} == {job_hash(job_cfg)}
    # The replications differ from one another (their draws do).
    assert len({r["war.support.usa_drawn"] for r in rows}) == 3


def test_flat_parameters_are_plain_columns(job_cfg):
    params = flat_parameters(job_cfg)
    assert params["us_support"] == 0.3  # the scenario's alias, as set
    assert params["war.support.usa"] == 0.3  # the key it sets
    assert params["protocol"] == "single_text" and type(params["protocol"]) is str
    assert params["seating"] == "inclusive" and type(params["seating"]) is str
    assert params["scenario"] == str(job_cfg.scenario_name)
    assert params["phase_one_parties"] == ",".join(job_cfg.phase_one_parties)
    assert params["war.capacity.russia"] == job_cfg.war.capacity.russia
    assert params["parties.russia.strategy"] == str(job_cfg.parties.russia.strategy)
    assert params["uncertainty.war.support.usa"] == "uniform(0.05)"
    for skipped in ("results_dir", "issues", "parties", "war", "stability", "uncertainty"):
        assert skipped not in params
    assert all(not isinstance(v, dict | list) for v in params.values())


def test_heatmap_axes_prefer_swept_levers_then_binned_draws():
    import pandas as pd

    from sim.front.callbacks import bin_midpoints, heatmap_axes

    n = 10
    frame = pd.DataFrame(
        {
            "seed": [0] * 5 + [1] * 5,
            "seating": ["inclusive", "us_russia_first"] * 5,
            "war.support.usa_drawn": [i / (n - 1) for i in range(n)],  # 10 values: binned
            "war.support.europe_drawn": [0.5] * n,  # not varied: not an axis
            "war.capacity.ukraine_drawn": [1.0, 2.0, 3.0, 5.0, 8.0] * 2,  # a grid: as it is
            "agreement": [True, False] * 5,
        }
    )
    assert heatmap_axes(frame, ["seed", "seating"])[1] == ["seating"]
    binned, keys = heatmap_axes(frame, ["seed"])
    assert keys == ["war.support.usa_drawn", "war.capacity.ukraine_drawn"]
    assert binned["war.support.usa_drawn"].nunique() == 8
    assert binned["war.support.usa_drawn"].iloc[[0, -1]].tolist() == [0.062, 0.938]
    capacity = "war.capacity.ukraine_drawn"
    assert binned[capacity].tolist() == frame[capacity].tolist()
    assert frame["war.support.usa_drawn"].iloc[1] == pytest.approx(1 / 9)  # a copy was binned
    drawn = ["war.support.usa_drawn", "war.capacity.ukraine_drawn"]
    assert heatmap_axes(frame.drop(columns=drawn), ["seed"])[1] == ["seed"]
    assert bin_midpoints([2.0, 2.0, 6.0], 2).tolist() == [3.0, 3.0, 5.0]
    # a grid design comes first, before the swept levers
    grid = {"uncertainty.war.capacity.ukraine": "grid[1.0, 2.0, 3.0, 5.0, 8.0]"}
    gridded = frame.assign(**grid)
    assert heatmap_axes(gridded, ["seed", "seating"])[1] == [capacity, "seating"]


def test_a_failed_job_is_a_search_s_worst_score_and_one_without_a_deal_scores_zero(
    compose, tmp_path
):
    """Optuna ends a study on a NaN objective: a failed job returns -inf, the worst score
    for a maximised objective, and a job without any deal returns 0 (issue 14, item 5)."""
    failing = compose(["sweep=smoke", "us_support=1.5", f"results_dir={tmp_path}"])
    assert run_sweep_job(failing, tmp_path / "a") == float("-inf")
    _, failed = job_paths(tmp_path / "a", failing)
    assert failed.exists()
    hopeless = compose(["sweep=smoke", "max_rounds=1", "parties.ukraine.optimism=1",
                        "parties.russia.optimism=1", f"results_dir={tmp_path}"])  # fmt: skip
    score = run_sweep_job(hopeless, tmp_path / "b")
    rows = pd.read_parquet(job_paths(tmp_path / "b", hopeless)[0])
    assert not rows["agreement"].any() and score == 0.0
