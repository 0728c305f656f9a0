"""A job's rows written in parts as its batches finish (issue 13: a job's memory is one
batch's, however many replications): the job file reads as the one a single write of all
its rows would give, schemas that differ between parts (a part without any deal has no
level values) included; a failed job leaves no parts behind."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.experiment import replication
from sim.experiment.jobs import run_replications, run_sweep_job
from sim.experiment.results import (
    JobFile,
    job_paths,
    read_job_rows,
    rows_frame,
    write_parquet_atomic,
)
from tests.conftest import compose_config

# Replications 0-8 end without a deal, 9 with one: parts of four differ in their columns' types.
MIXED = [
    "scenario=istanbul_2022",
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


def test_gathering_streams_what_concatenating_every_job_file_would_give(tmp_path):
    """Job files of two scenarios (different parties and issues, so different columns), a
    failed job and one without any deal: results.parquet, written one file at a time, reads
    as the frames concatenated and sorted by job and replication."""
    from sim.experiment.jobs import record_failure
    from sim.experiment.results import gather, gather_to_file, load

    sweep = tmp_path / "sweep"
    for overrides in (["replications=3"], ["scenario=template", "replications=2"], MIXED):
        run_sweep_job(compose_config(overrides), sweep)
    record_failure(compose_config(), sweep, ValueError("boom"), "x=1", "0" * 16)
    files = sorted((sweep / "jobs").glob("*.parquet"))
    assert len(files) == 4
    frames = [read_job_rows(path) for path in files]
    expected = pd.concat(frames, ignore_index=True)
    expected = expected.sort_values(["job", "replication"], na_position="first", kind="stable")
    expected = expected.reset_index(drop=True)
    for column in ("agreement", "binding", "stable", "monitored"):  # yes/no, some missing
        expected[column] = expected[column].astype("boolean")
    expected["error"] = expected["error"].astype("str")  # a text column, missing as NaN
    found = load(gather_to_file(sweep))
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)
    assert found["error"].notna().sum() == 1 and found["scenario"].nunique() == 3  # with MIXED's
    pd.testing.assert_frame_equal(gather(sweep), found)


@pytest.mark.parametrize("group_bytes", [1, 2**40])
def test_gathering_writes_row_groups_of_the_bytes_allowed(tmp_path, monkeypatch, group_bytes):
    """results.parquet holds a row group per job file when each is over the budget, one for
    the whole sweep when it is under: the same rows either way."""
    import pyarrow.parquet as pq

    from sim.experiment import results

    sweep = tmp_path / "sweep"
    for seed in (1, 2, 3):
        run_sweep_job(compose_config([f"seed={seed}", "replications=2"]), sweep)
    monkeypatch.setattr(results, "GATHER_GROUP_BYTES", group_bytes)
    path = results.gather_to_file(sweep)
    assert pq.ParquetFile(path).metadata.num_row_groups == (3 if group_bytes == 1 else 1)
    pd.testing.assert_frame_equal(results.load(path), results.gather(sweep))
    assert len(results.load(path)) == 6


def test_the_end_of_a_sweep_reads_only_the_columns_it_shows(tmp_path):
    from sim.experiment.results import gather_to_file
    from sim.front.callbacks import summary_columns

    overrides = ["uncertainty.us_support.dist=uniform", "uncertainty.us_support.scale=0.1"]
    run_sweep_job(compose_config([*overrides, "replications=2"]), tmp_path)
    columns = summary_columns(gather_to_file(tmp_path), ["seating", "protocol"])
    assert {"agreement", "binding", "stable", "error", "job", "seating", "protocol"} <= set(columns)
    assert {"war.support.usa_drawn", "uncertainty.war.support.usa"} <= set(columns)
    assert "u_usa" not in columns and "robustness" not in columns and len(columns) < 25


def test_a_job_frees_each_batch_before_it_builds_the_next(batches_of_four, monkeypatch):
    """A job's memory is one batch's, however many it runs: when a batch's rows are out, no
    batch (with its tables, anticipated paths and agents) is still alive."""
    import weakref

    built = []
    batch_class = replication.NegotiationBatch

    def tracked(*args, **kwargs):
        batch = batch_class(*args, **kwargs)
        built.append(weakref.ref(batch))
        return batch

    monkeypatch.setattr(replication, "NegotiationBatch", tracked)
    alive = []
    rows, _ = run_replications(
        compose_config(["replications=10", "uncertainty.us_support.dist=uniform"]),
        progress=lambda done, total: alive.append(sum(ref() is not None for ref in built)),
    )
    assert len(rows) == 10 and len(built) == 3
    assert alive == [0, 0, 0]
