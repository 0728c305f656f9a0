"""The packed sweeper (`sim.experiment.sweeper`, `hydra/sweeper=packed`): a sweep's points in a few
jobs, with the rows, files and resumption of one job per point (issue 13, item 1)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.experiment.sweeper import PACKS_FILE, apply_point, pack_points
from tests.conftest import compose_config
from tests.helpers_hardening import job_files, run_sim, sweep_dir

SMOKE_POINTS = 8  # conf/sweep/smoke.yaml: 2 x 2 x 2


def _points(*axes: list[str]) -> list[list[str]]:
    import itertools

    return [list(p) for p in itertools.product(*axes)]


def test_packs_keep_config_groups_apart_and_name_what_varies():
    points = _points(["scenario=a", "scenario=b"], ["x=1", "x=2", "x=3"], ["seed=0"])
    packs = pack_points(points, {"scenario"}, per_job=2)
    assert [len(p.points) for p in packs] == [2, 1, 2, 1]
    for pack in packs:
        assert len({o for p in pack.points for o in p if o.startswith("scenario=")}) == 1
        assert pack.job == pack.points[0]
    assert packs[0].varying == [["x=1"], ["x=2"]]
    assert packs[1].varying == [[]]  # alone in its pack: nothing varies


def test_by_default_about_two_packs_per_core():
    points = _points([f"x={i}" for i in range(72)])
    assert len(pack_points(points, set(), per_job=None, cores=2)) == 4
    assert len(pack_points(points[:3], set(), per_job=None, cores=2)) == 3


def test_a_point_is_its_job_config_with_the_point_s_values_set():
    cfg = compose_config(["us_support=0.1", "seating=inclusive", "sweep_pack=3"])
    point = apply_point(cfg, ["us_support=0.9", "seating=us_russia_first", "max_rounds=7"])
    direct = compose_config(["us_support=0.9", "seating=us_russia_first", "max_rounds=7"])
    assert point.sweep_pack is None and cfg.sweep_pack == 3  # the job's config unchanged
    assert point == direct and point.war.support.usa == 0.9


@pytest.fixture(scope="module")
def basic_and_packed(tmp_path_factory):
    runs = {}
    for name, extra in (
        ("basic", ["hydra/sweeper=basic"]),
        ("packed", ["hydra.sweeper.points_per_job=3"]),
    ):
        results = tmp_path_factory.mktemp(name)
        run = run_sim(["-m", "sweep=smoke", f"results_dir={results}", *extra])
        assert run.returncode == 0, run.show()
        runs[name] = (results, run)
    return runs


def test_packed_rows_and_job_files_are_those_of_one_job_per_point(basic_and_packed):
    (basic, _), (packed, run) = basic_and_packed["basic"], basic_and_packed["packed"]
    assert [p.name for p in job_files(sweep_dir(basic))] == [
        p.name for p in job_files(sweep_dir(packed))
    ]
    assert len(job_files(sweep_dir(packed))) == SMOKE_POINTS
    a, b = (
        pd.read_parquet(sweep_dir(r) / "results.parquet").sort_values(["job", "replication"])
        for r in (basic, packed)
    )
    keep = [c for c in a.columns if c != "overrides"]
    pd.testing.assert_frame_equal(a[keep].reset_index(drop=True), b[keep].reset_index(drop=True))
    strip = lambda s: s.str.replace(r"results_dir=\S+", "", regex=True)  # noqa: E731
    assert strip(a["overrides"]).tolist() == strip(b["overrides"]).tolist()
    packs = json.loads((sweep_dir(packed) / PACKS_FILE).read_text())["packs"]
    assert [len(p["points"]) for p in packs] == [3, 3, 2]
    assert run.stdout.count(" done") >= SMOKE_POINTS


def test_a_rerun_runs_only_the_points_not_done(basic_and_packed):
    results, _ = basic_and_packed["packed"]
    files = job_files(sweep_dir(results))
    for gone in files[:2]:
        gone.unlink()
    run = run_sim(["-m", "sweep=smoke", f"results_dir={results}", "hydra.sweeper.points_per_job=3"])
    assert run.returncode == 0, run.show()
    assert run.stdout.count("already done, skipped") == SMOKE_POINTS - 2
    assert {p.name for p in job_files(sweep_dir(results))} == {p.name for p in files}


def _adhoc_sweep(results, swept: str, per_job: int) -> tuple[object, pd.DataFrame | None]:
    """`python -m sim -m <swept> max_rounds=5` packed `per_job` points a job; its run and
    its results frame (None if it wrote none)."""
    args = ["-m", swept, "max_rounds=5", f"results_dir={results}"]
    run = run_sim([*args, f"hydra.sweeper.points_per_job={per_job}"])
    path = sweep_dir(results, "adhoc") / "results.parquet"
    return run, pd.read_parquet(path) if path.exists() else None


def test_a_point_whose_value_cannot_be_set_fails_alone(tmp_path):
    run, frame = _adhoc_sweep(tmp_path, "protocol=single_text,nope", per_job=2)
    assert run.returncode == 3, run.show()
    failed = frame[frame["error"].notna()]
    assert len(failed) == 1 and failed["error"].iloc[0].startswith("protocol: Invalid value 'nope'")
    assert frame["error"].isna().sum() == 1


def test_scenarios_are_packed_apart(tmp_path):
    run, frame = _adhoc_sweep(tmp_path, "scenario=brussels_2025,template", per_job=10)
    assert run.returncode == 0, run.show()
    assert sorted(frame["scenario"]) == ["brussels_2025", "template"]
    packs = json.loads((sweep_dir(tmp_path, "adhoc") / PACKS_FILE).read_text())["packs"]
    assert len(packs) == 2


def test_points_per_job_must_be_positive(tmp_path):
    run = run_sim(["-m", "seed=0,1", f"results_dir={tmp_path}", "hydra.sweeper.points_per_job=0"])
    assert run.returncode == 2, run.show()
    assert run.stderr.strip().endswith(
        "hydra.sweeper.points_per_job: got 0; allowed: null or an integer >= 1"
    )
