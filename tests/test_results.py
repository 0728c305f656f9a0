"""sim.experiment.results: atomic writing, job hashes, gathering and loading, the sweep lock and
progress.

One `python -m sim` run (for a real run folder) and one plain interpreter (for the job
hash in another process) start when the module starts and run while the in-process tests
do; a small sweep folder is built in-process with `sim.experiment.jobs.run_sweep_job`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from sim.experiment import output_folders, provenance, results, sweepdir
from sim.experiment.jobs import run_sweep_job
from sim.experiment.results import ResultsError, gather, job_hash, job_paths, load
from tests.helpers_hardening import lock_held_by_another_process
from tests.helpers_sweeps import PYTHON, ROOT, Launch, job_files, sim_env, temp_files

STAMP = re.compile(r"^\d{8}-\d{6}-\d{6}$")  # runs/<UTC timestamp>/

HASH_OVERRIDES = [
    [],
    ["sweep=smoke"],
    ["us_support=0.3", "seating=us_russia_first"],
    ["scenario=paris_2026", "replications=4"],
]
HASH_SCRIPT = """
import json, sys
import hydra
from sim.experiment.schema import register_configs
from sim.experiment.results import job_hash
register_configs()
hashes = []
with hydra.initialize_config_dir(config_dir=sys.argv[1], version_base=None):
    for overrides in json.loads(sys.argv[2]):
        hashes.append(job_hash(hydra.compose("config", overrides=overrides)))
print(json.dumps(hashes))
"""


@pytest.fixture(scope="module", autouse=True)
def background(tmp_path_factory):
    """Started first, awaited by the tests that need them: a single run and a hasher."""
    single = Launch(tmp_path_factory.mktemp("single") / "results", [])
    hasher = subprocess.Popen(
        [PYTHON, "-c", HASH_SCRIPT, str(ROOT / "conf"), json.dumps(HASH_OVERRIDES)],
        cwd=tmp_path_factory.mktemp("hasher"),
        env=sim_env({"PYTHONHASHSEED": "4321"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield {"single": single, "hasher": hasher}
    single.kill()
    if hasher.poll() is None:
        hasher.kill()
    hasher.communicate()


@pytest.fixture(scope="module")
def single_run(background):
    run = background["single"].result()
    assert run.returncode == 0, run.describe()
    return run


# --- a sweep folder, built in-process ---------------------------------------------------------

SUPPORTS = (0.1, 0.5, 0.9)


@pytest.fixture(scope="module")
def sweep(compose, tmp_path_factory):
    """A finished 3-job sweep folder (smoke settings, 2 replications each)."""
    sweep_dir = tmp_path_factory.mktemp("sweep") / "sweeps" / "smoke"
    cfgs = [compose(["sweep=smoke", f"us_support={s}"]) for s in SUPPORTS]
    for cfg in cfgs:
        run_sweep_job(cfg, sweep_dir)
    results.gather_to_file(sweep_dir)
    return sweep_dir, cfgs


@pytest.fixture
def sweep_copy(sweep, tmp_path):
    sweep_dir, cfgs = sweep
    copy = tmp_path / "smoke"
    shutil.copytree(sweep_dir, copy)
    return copy, cfgs


# --- load -----------------------------------------------------------------------------------------


def test_load_a_sweep_folder_reads_every_job_file(sweep, compose):
    sweep_dir, cfgs = sweep
    frame = load(sweep_dir)
    reps = int(cfgs[0].replications)
    assert len(frame) == len(cfgs) * reps
    assert set(frame["job"]) == {job_hash(cfg) for cfg in cfgs}
    assert list(zip(frame["job"], frame["replication"], strict=True)) == sorted(
        (job_hash(cfg), r) for cfg in cfgs for r in range(reps)
    )
    assert sorted(frame["us_support"].unique()) == list(SUPPORTS)
    assert frame["error"].isna().all()
    pd.testing.assert_frame_equal(frame, gather(sweep_dir))


def test_load_a_results_file(sweep):
    sweep_dir, _ = sweep
    path = sweep_dir / "results.parquet"
    frame = load(path)
    pd.testing.assert_frame_equal(frame, pd.read_parquet(path))
    pd.testing.assert_frame_equal(frame, load(sweep_dir), check_dtype=False)
    # A single job file is a results file too.
    job = job_files(sweep_dir)[0]
    pd.testing.assert_frame_equal(load(job), pd.read_parquet(job))


def test_load_a_folder_with_only_results_parquet(sweep, tmp_path):
    sweep_dir, _ = sweep
    shutil.copy(sweep_dir / "results.parquet", tmp_path / "results.parquet")
    pd.testing.assert_frame_equal(load(tmp_path), pd.read_parquet(tmp_path / "results.parquet"))


def test_load_a_folder_that_is_neither_names_it(tmp_path):
    (tmp_path / "notes.txt").write_text("not results")
    with pytest.raises(ResultsError) as info:
        load(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "result.parquet" in str(info.value)


def test_load_a_missing_path_names_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ResultsError, match=re.escape(str(missing))):
        load(missing)


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_load_a_sweep_with_a_truncated_job_file_names_the_file(sweep_copy):
    sweep_dir, _ = sweep_copy
    broken = job_files(sweep_dir)[1]
    truncate(broken)
    with pytest.raises(ResultsError) as info:
        load(sweep_dir)
    assert str(broken) in str(info.value)
    assert "unreadable Parquet file" in str(info.value)
    with pytest.raises(ResultsError, match=re.escape(str(broken))):
        load(broken)


def test_load_with_on_error_skip_warns_and_returns_the_other_rows(sweep_copy, sweep):
    sweep_dir, cfgs = sweep_copy
    whole = load(sweep[0])
    broken = job_files(sweep_dir)[1]
    truncate(broken)
    with pytest.warns(UserWarning) as caught:
        frame = load(sweep_dir, on_error="skip")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and str(broken) in messages[0]
    expected = whole[whole["job"] != broken.stem].reset_index(drop=True)
    assert len(frame) == (len(cfgs) - 1) * int(cfgs[0].replications)
    pd.testing.assert_frame_equal(frame, expected)


def test_gather_refuses_an_unknown_on_error(sweep):
    with pytest.raises(ValueError, match="on_error"):
        gather(sweep[0], on_error="ignore")


def test_gather_of_an_empty_sweep_is_an_empty_frame(tmp_path):
    (tmp_path / "jobs").mkdir()
    assert gather(tmp_path).empty
    assert load(tmp_path).empty


def test_gather_mixes_failed_and_finished_jobs(tmp_path):
    jobs = tmp_path / "jobs"
    done = pd.DataFrame(
        {
            "job": ["b", "b"],
            "replication": [1, 0],
            "agreement": [True, False],
            "stable": [False, False],
            "error": [None, None],
        }
    )
    failed = pd.DataFrame({"job": ["a"], "us_support": [1.5], "error": ["us_support: got 1.5"]})
    results.write_parquet_atomic(done, jobs / "b.parquet")
    results.write_parquet_atomic(failed, jobs / "a.failed.parquet")
    frame = gather(tmp_path)
    assert frame["job"].tolist() == ["a", "b", "b"]
    assert frame["replication"].tolist()[1:] == [0, 1]
    assert frame["error"].notna().tolist() == [True, False, False]
    # Missing agreement/stable on the failed row: nullable booleans, not objects or floats.
    assert str(frame["agreement"].dtype) == "boolean"
    assert frame["agreement"].tolist()[1:] == [False, True]
    assert pd.isna(frame.loc[0, "agreement"])


def test_gather_adds_an_error_column_when_no_job_has_one(tmp_path):
    results.write_parquet_atomic(
        pd.DataFrame({"job": ["x"], "replication": [0]}), tmp_path / "jobs" / "x.parquet"
    )
    frame = gather(tmp_path)
    assert "error" in frame and frame["error"].isna().all()


# --- job_hash and job_paths -----------------------------------------------------------------------


CHANGES = {
    "us_support": 0.51,
    "europe_support": 0.2,
    "seed": 1,
    "replications": 3,
    "max_rounds": 99,
    "protocol": "alternating_offers",
    "seating": "us_russia_first",
    "information": "learned",
    "batna": "static",
    "guarantees_offer": "european_force",
    "war.capacity.russia": 1.1,
    "war.capacity.ukraine": 0.35,
    "war.support.europe": 0.65,
    "parties.russia.strategy": "linear",
    "parties.ukraine.war_cost": 0.009,
    "issues.territory.resolution": 2.0,
    "stability.robustness_draws": 65,
    "stability.thresholds.durability": 0.7,
    "uncertainty.us_support.scale": 0.1,
    "uncertainty.war_costs.dist": "normal",
}


def test_job_hash_changes_with_any_parameter(compose):
    base_cfg = compose(["sweep=smoke"])  # smoke: so that `uncertainty` has entries
    base = job_hash(base_cfg)
    hashes = {}
    for key, value in CHANGES.items():
        cfg = copy.deepcopy(base_cfg)
        assert OmegaConf.select(cfg, key) != value, key
        OmegaConf.update(cfg, key, value)
        hashes[key] = job_hash(cfg)
    hashes["scenario"] = job_hash(compose(["sweep=smoke", "scenario=paris_2026"]))
    assert base not in hashes.values()
    assert len(set(hashes.values())) == len(hashes)
    assert job_hash(copy.deepcopy(base_cfg)) == base


@pytest.mark.parametrize(
    "overrides",
    [["results_dir=/elsewhere"], ["sweep_name=another"], ["replications=2", "replication=1"]],
)
def test_job_hash_ignores_where_results_go_and_which_row_reruns(compose, overrides):
    reference = ["replications=2"] if "replication=1" in overrides else []
    assert job_hash(compose(overrides)) == job_hash(compose(reference))


def test_job_hash_does_not_depend_on_key_order(compose):
    cfg = compose([])
    data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    reordered = OmegaConf.create(dict(reversed(list(data.items()))))
    assert list(reordered) != list(cfg)
    assert job_hash(reordered) == job_hash(cfg)


def test_job_paths(compose, tmp_path):
    cfg = compose(["us_support=0.2"])
    done, failed = job_paths(tmp_path, cfg)
    digest = job_hash(cfg)
    assert done == tmp_path / "jobs" / f"{digest}.parquet"
    assert failed == tmp_path / "jobs" / f"{digest}.failed.parquet"


# --- atomic writing -------------------------------------------------------------------------------


def test_write_parquet_atomic_writes_readable_shared_files(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    path = results.write_parquet_atomic(frame, tmp_path / "deep" / "f.parquet")
    assert path == tmp_path / "deep" / "f.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert temp_files(tmp_path) == []


def test_write_parquet_atomic_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "f.parquet"
    old = pd.DataFrame({"a": [1]})
    results.write_parquet_atomic(old, path)
    unwritable = pd.DataFrame({"a": [1, "one"]})  # mixed types: pyarrow refuses
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's own error types
        results.write_parquet_atomic(unwritable, path)
    pd.testing.assert_frame_equal(pd.read_parquet(path), old)
    assert temp_files(tmp_path) == []


def test_an_unwritable_results_dir_is_a_results_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ResultsError, match="cannot write results"):
        output_folders.staging_run_dir(blocker)
    with pytest.raises(ResultsError, match="cannot write results"):
        results.start_sweep(blocker / "sweeps" / "x", 2)


# --- the sweep lock and progress ----------------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_start_sweep_records_size_and_takes_the_lock(tmp_path):
    jobs = tmp_path / "jobs"
    done = pd.DataFrame({"x": [1], "code_version": [provenance.CODE_VERSION]})
    results.write_parquet_atomic(done, jobs / "a.parquet")
    stale_tmp = jobs / ".b.parquet.abc123.tmp"  # what a writer killed mid-write leaves
    stale_tmp.write_bytes(b"half")
    results.start_sweep(tmp_path, 8)
    try:
        state = json.loads((tmp_path / ".sweep.json").read_text())
        assert state["total"] == 8 and state["done_before"] == 1
        holder = sweepdir.lock_holder(tmp_path)
        assert holder == sweepdir.Holder.me()
        assert holder.pid == os.getpid() and holder.alive()
        assert not stale_tmp.exists()
        # A second sweep (here: this process again) may not write into the folder.
        with pytest.raises(ResultsError) as info:
            results.start_sweep(tmp_path, 8)
        assert f"another sweep (pid {os.getpid()} on " in str(info.value)
        assert str(tmp_path) in str(info.value)
    finally:
        results.end_sweep(tmp_path)
    assert not (tmp_path / ".lock").exists()
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("content", ["dead", "1", "", "not a lock"])
def test_a_lock_file_nobody_holds_is_taken(tmp_path, content):
    """A lock file left by a dead sweep, naming a dead pid, pid 1 (alive in any container:
    the old PID lock blocked on it forever), nothing or garbage: nobody holds it, so the
    next sweep takes it."""
    text = str(dead_pid()) if content == "dead" else content
    (tmp_path / ".lock").write_text(text)
    results.start_sweep(tmp_path, 2)
    assert sweepdir.lock_holder(tmp_path) == sweepdir.Holder.me()
    results.end_sweep(tmp_path)
    assert not (tmp_path / ".lock").exists()


def test_a_lock_held_by_another_process_refuses_until_it_dies(tmp_path):
    with lock_held_by_another_process(tmp_path) as holder:
        with pytest.raises(ResultsError) as info:
            results.start_sweep(tmp_path, 2)
        assert str(info.value).startswith(
            f"{tmp_path}: another sweep (pid {holder.pid} on {socket.gethostname()}, since "
        )
        assert str(info.value).endswith(
            ") is writing here; wait for it or choose another sweep_name"
        )
        assert not (tmp_path / ".sweep.json").exists()
        results.end_sweep(tmp_path)  # not ours: left alone
        assert sweepdir.lock_holder(tmp_path).pid == holder.pid
    # killed (SIGKILL): the OS let go of its lock, whose file still names it
    assert sweepdir.lock_holder(tmp_path).pid == holder.pid
    assert sweepdir.lock_holder(tmp_path).alive() is False
    results.start_sweep(tmp_path, 2)
    results.end_sweep(tmp_path)


def test_a_lock_that_is_a_folder_is_moved_aside(tmp_path):
    (tmp_path / ".lock").mkdir()
    (tmp_path / ".lock" / "inside").write_text("x")
    notes = results.start_sweep(tmp_path, 2)
    try:
        assert (tmp_path / ".lock").is_file()
        [aside] = tmp_path.glob(".lock.folder.*")
        assert (aside / "inside").read_text() == "x"  # moved, not lost
        assert notes == [f"moved a folder named .lock (not a lock) to {aside.name}"]
    finally:
        results.end_sweep(tmp_path)


def fake_jobs(sweep_dir: Path, n: int) -> None:
    for i in range(n):
        results.write_parquet_atomic(pd.DataFrame({"i": [i]}), sweep_dir / "jobs" / f"{i}.parquet")


def fake_state(sweep_dir: Path, total, started: float, done_before: int = 0) -> None:
    state = {"total": total, "started": started, "done_before": done_before}
    (sweep_dir / ".sweep.json").write_text(json.dumps(state))


def progress(sweep_dir: Path, now: float, monkeypatch, capsys) -> str:
    monkeypatch.setattr(results.time, "time", lambda: now)
    results.report_progress(sweep_dir, "job x done")
    return capsys.readouterr().out


def test_progress_eta_from_the_jobs_done_so_far(tmp_path, monkeypatch, capsys):
    fake_state(tmp_path, 4, started=1000.0)
    fake_jobs(tmp_path, 2)
    # 2 jobs in 10 s, 2 to go: 10 s more.
    assert progress(tmp_path, 1010.0, monkeypatch, capsys) == "[2/4] job x done, ETA 0:00:10\n"
    # Jobs done before this sweep started do not count towards its speed: 1 in 10 s, 2 to go.
    fake_state(tmp_path, 4, started=1000.0, done_before=1)
    assert progress(tmp_path, 1010.0, monkeypatch, capsys) == "[2/4] job x done, ETA 0:00:20\n"
    # Hours, minutes, seconds: 2 jobs in 3725 s, 998 to go: 1,858,775 s = 516:19:35.
    fake_state(tmp_path, 1000, started=1.0)
    line = progress(tmp_path, 3726.0, monkeypatch, capsys)
    assert line == "[2/1000] job x done, ETA 516:19:35\n"


def test_progress_elapsed_when_every_job_is_done(tmp_path, monkeypatch, capsys):
    fake_state(tmp_path, 3, started=1000.0)
    fake_jobs(tmp_path, 3)
    assert progress(tmp_path, 4725.0, monkeypatch, capsys) == (
        "[3/3] job x done, 1:02:05 elapsed\n"
    )


def test_progress_without_new_jobs_or_state_has_no_eta(tmp_path, monkeypatch, capsys):
    fake_jobs(tmp_path, 2)
    assert progress(tmp_path, 10.0, monkeypatch, capsys) == "[2] job x done\n"  # no state
    fake_state(tmp_path, 5, started=1.0, done_before=2)  # a resumed sweep, nothing new yet
    assert progress(tmp_path, 10.0, monkeypatch, capsys) == "[2/5] job x done\n"
    fake_state(tmp_path, None, started=1.0)  # size unknown
    assert progress(tmp_path, 10.0, monkeypatch, capsys) == "[2] job x done\n"


def test_nothing_warns_when_a_sweep_folder_loads_cleanly(sweep):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(sweep[0], on_error="skip")


# --- in other processes (started when the module started) ------------------------------------


def test_load_a_run_folder(single_run, compose):
    runs = single_run.results_dir / "runs"
    folders = list(runs.iterdir())
    assert len(folders) == 1, folders  # no staging folder left behind
    folder = folders[0]
    assert STAMP.match(folder.name)
    assert {p.name for p in folder.iterdir()} == {
        "deal.md",
        "result.parquet",
        "trace.parquet",
        "negotiation.png",
    }
    frame = load(folder)
    assert len(frame) == int(compose([]).replications) == 1
    pd.testing.assert_frame_equal(frame, pd.read_parquet(folder / "result.parquet"))
    assert frame.loc[0, "replication"] == 0 and frame.loc[0, "seed"] == 0
    # The run's job column, hashed in that process, is this process's hash of its config.
    assert frame.loc[0, "job"] == job_hash(compose([]))
    assert f"wrote {folder}/" in single_run.stdout
    assert load(folder / "trace.parquet")["round"].is_monotonic_increasing


def test_job_hash_is_the_same_in_another_process(background, compose):
    proc = background["hasher"]
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    theirs = json.loads(out.strip().splitlines()[-1])
    ours = [job_hash(compose(o)) for o in HASH_OVERRIDES]
    assert theirs == ours
    assert all(re.fullmatch(r"[0-9a-f]{16}", h) for h in ours)
    assert len(set(ours)) == len(ours)


def test_a_sweep_sets_aside_job_files_written_by_other_code(tmp_path):
    jobs = tmp_path / "jobs"
    rows = {"replication": [0], "agreement": [True], "stable": [False]}
    frames = {
        "a": pd.DataFrame({"job": ["a"], **rows, "code_version": [provenance.CODE_VERSION]}),
        "b": pd.DataFrame({"job": ["b"], **rows, "code_version": ["0123456789ab"]}),
        "c": pd.DataFrame({"job": ["c"], **rows}),  # from before code_version was recorded
    }
    for name, frame in frames.items():
        results.write_parquet_atomic(frame, jobs / f"{name}.parquet")
    (jobs / "d.parquet").write_bytes(b"PAR1 damaged")  # damaged, not foreign: stays
    try:
        notes = results.start_sweep(tmp_path, 4)
        assert notes[0] == (
            f"set aside 2 job files written by other code -> {jobs / results.OTHER_CODE}"
        )
        # damaged, not foreign: moved to jobs/damaged/ by the repairs
        assert sorted(p.name for p in jobs.glob("*.parquet")) == ["a.parquet"]
        assert (jobs / "damaged" / "d.parquet").read_bytes() == b"PAR1 damaged"
        assert (jobs / results.OTHER_CODE / "0123456789ab" / "b.parquet").is_file()
        assert (jobs / results.OTHER_CODE / "unknown" / "c.parquet").is_file()
        assert results.gather(tmp_path)["job"].tolist() == ["a"]
        kept = pd.read_parquet(jobs / results.OTHER_CODE / "0123456789ab" / "b.parquet")
        assert kept["job"].tolist() == ["b"]  # moved, not lost
    finally:
        results.end_sweep(tmp_path)


def test_a_run_folder_is_published_whole_or_not_at_all(tmp_path):
    with output_folders.run_folder(tmp_path / "out", "case-") as (staging, final):
        (staging / "a.txt").write_text("a")
        assert not final.exists() and staging.name.startswith(".case-")
    assert (final / "a.txt").read_text() == "a" and not staging.exists()
    assert final.name.startswith("case-")
    published = final
    with (
        pytest.raises(KeyboardInterrupt),
        output_folders.run_folder(tmp_path / "out") as (staging, final),
    ):
        (staging / "half.txt").write_text("half")
        raise KeyboardInterrupt
    assert not staging.exists() and not final.exists()
    assert list((tmp_path / "out").iterdir()) == [published]
