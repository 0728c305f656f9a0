"""A job's rows written in parts as its batches finish (issue 13: a job's memory is one
batch's, however many replications): the job file reads as the one a single write of all
its rows would give, schemas that differ between parts (a part without any deal has no
level values) included; a failed job leaves no parts behind."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import replication
from sim.experiment import run_replications, run_sweep_job
from sim.results import JobFile, job_paths, read_job_rows, rows_frame, write_parquet_atomic
from tests.conftest import compose_config

# Replications 0-7 end without a deal, 8 with one: parts of four differ in their columns' types.
MIXED = [
    "batna=static",
    "uncertainty.salience.dist=lognormal",
    "uncertainty.salience.scale=0.5",
    "replications=12",
]


def one_write(rows: list[dict], path) -> pd.DataFrame:
    frame = rows_frame(rows)
    frame["error"] = None
    return read_job_rows(write_parquet_atomic(frame, path))


@pytest.fixture
def batches_of_four(monkeypatch):
    monkeypatch.setattr(replication, "default_batch_size", lambda *_: 4)


@pytest.mark.parametrize("overrides", [MIXED, ["replications=10"]], ids=["mixed", "deals"])
def test_a_job_written_in_parts_reads_as_one_write_of_its_rows(
    tmp_path, batches_of_four, overrides
):
    whole, _ = run_replications(compose_config(overrides))
    assert len({row["outcome"] == -1 for row in whole}) == (2 if overrides is MIXED else 1)
    cfg = compose_config(overrides)
    run_sweep_job(cfg, tmp_path / "sweep")
    done, _ = job_paths(tmp_path / "sweep", compose_config(overrides))
    expected = one_write(whole, tmp_path / "whole.parquet")
    pd.testing.assert_frame_equal(read_job_rows(done), expected)
    assert [p.name for p in done.parent.iterdir()] == [done.name]  # no parts left


def test_an_auto_job_in_parts_has_each_points_count(tmp_path, batches_of_four):
    overrides = [
        "replications=auto",
        "ci_width=0.5",
        "max_replications=12",
        "replication_block=4",
        "uncertainty.us_support.dist=grid",
        "uncertainty.us_support.levels=[0,1]",
    ]
    whole, _ = run_replications(compose_config(overrides))
    run_sweep_job(compose_config(overrides), tmp_path)
    done, _ = job_paths(tmp_path, compose_config(overrides))
    found = read_job_rows(done).sort_values("replication", ignore_index=True)
    expected = one_write(whole, tmp_path / "whole.parquet")
    assert found["replications"].tolist() == expected["replications"].tolist()
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)


def test_a_failed_job_leaves_no_parts_and_a_rerun_clears_a_killed_jobs(tmp_path, monkeypatch):
    path = tmp_path / "jobs" / "abc.parquet"
    killed = JobFile(path)
    killed.add([{"a": 1, "point": 0}])  # a job killed here leaves its parts folder
    assert len(list(path.parent.glob(".abc.parquet.*.parts"))) == 1
    again = JobFile(path)  # the job runs again: the killed run's parts go
    assert list(path.parent.glob(".abc.parquet.*.parts")) == [again.folder]
    again.add([{"a": 1, "point": 0}])
    again.discard()  # as a failed job does
    assert list(path.parent.iterdir()) == []


def test_an_empty_job_file_is_written_whole(tmp_path):
    path = JobFile(tmp_path / "j.parquet").close()
    assert read_job_rows(path).empty
