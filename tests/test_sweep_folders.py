"""Sweep folders that never lie (docs/troubleshooting.md): one sweep definition per folder,
a lock the OS lets go of when its holder dies, no worker outliving its sweep, every state a
crash can leave repaired by the next run, damage detected by checksums, and write errors
as one line naming the path. Each state is made by a real run, a real kill or a real second
process, or by hand where the window is too small to hit (said where)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from sim.experiment import results, sweepdir
from sim.experiment.jobs import run_sweep_job
from sim.experiment.results import ResultsError
from tests.helpers_hardening import (
    SMOKE,
    SMOKE_JOBS,
    SMOKE_REPLICATIONS,
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


def finished_copy(tmp_path_factory, name: str) -> tuple[Path, Path]:
    """A copy of a finished smoke sweep: (its results_dir, its sweep folder)."""
    source, _ = reference_smoke_sweep(tmp_path_factory)
    results_dir = tmp_path_factory.mktemp(name) / "results"
    return results_dir, copy_sweep(source, results_dir)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def one_error_line(run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.show()
    return lines[0][len("error: ") :]


def reference(tmp_path_factory) -> pd.DataFrame:
    source, _ = reference_smoke_sweep(tmp_path_factory)
    return comparable(pd.read_parquet(sweep_dir(source) / "results.parquet"))


# --- 1. one sweep definition per folder ---------------------------------------------------


def test_a_sweep_with_other_settings_is_refused_and_changes_nothing(tmp_path_factory):
    """`sweep=smoke` then `sweep=smoke replications=3` into one folder: refused, naming the
    difference and the ways out; the folder is as it was, byte for byte."""
    results_dir, sweep = finished_copy(tmp_path_factory, "other_settings")
    before = snapshot(sweep)
    run = run_sim([*SMOKE, f"results_dir={results_dir}", "replications=3"])
    assert run.returncode == 2, run.show()
    assert one_error_line(run) == (
        f"{sweep}: holds another sweep (it differs in replications (unset then, 3 now)); "
        "allowed: the same sweep (to resume it), another sweep_name (a new folder), or "
        "sweep_extend=true (to add values to the swept keys)"
    )
    assert "Launching" not in run.stdout
    assert snapshot(sweep) == before


def test_the_same_sweep_resumes_with_nothing_to_do(tmp_path_factory):
    results_dir, sweep = finished_copy(tmp_path_factory, "same_sweep")
    run = run_sim(
        ["-m", "sweep=smoke", "us_support=0.9,0.1", f"results_dir={results_dir}", "seed=0"]
    )
    assert run.returncode == 2, run.show()  # seed=0 is a setting: refused
    assert "seed (unset then, 0 now)" in run.stderr
    # the preset's values given again, in another order: the same points, resumed
    run = run_sim(["-m", "sweep=smoke", "us_support=0.9,0.1", f"results_dir={results_dir}"])
    assert run.returncode == 0, run.show()
    assert run.stdout.count("already done, skipped") == SMOKE_JOBS
    assert "[9/8]" not in run.stdout
    pd.testing.assert_frame_equal(
        comparable(pd.read_parquet(sweep / "results.parquet")), reference(tmp_path_factory)
    )


def test_a_sweep_is_extended_only_by_new_values_of_its_swept_keys(tmp_path_factory):
    results_dir, sweep = finished_copy(tmp_path_factory, "extend")
    wider = "us_support=0.1,0.5,0.9"
    run = run_sim([*SMOKE, wider, "sweep_extend=true", f"results_dir={results_dir}"])
    assert run.returncode == 0, run.show()
    assert run.stdout.count("already done, skipped") == SMOKE_JOBS
    assert "sweep finished: 12 jobs (0 failed), 24 replications" in run.stdout
    assert "sweep extended: us_support (0.1,0.9 then, 0.1,0.5,0.9 now)" in run.stdout
    assert "[13/12]" not in run.stdout
    frame = pd.read_parquet(sweep / "results.parquet")
    assert_every_row_once(frame, 12, SMOKE_REPLICATIONS)
    recorded = json.loads((sweep / sweepdir.DEFINITION).read_text())
    assert recorded["values"]["us_support"] == ["0.1", "0.5", "0.9"]
    # fewer values, or another constant, are not an extension
    narrower = run_sim(
        [*SMOKE, "us_support=0.1", "sweep_extend=true", f"results_dir={results_dir}"]
    )
    assert one_error_line(narrower) == (
        "sweep_extend: got a sweep that changes us_support (0.1,0.5,0.9 then, 0.1 now); "
        "allowed: more values of the keys already swept, every other key as before"
    )
    other = run_sim(
        [*SMOKE, wider, "max_rounds=30", "sweep_extend=true", f"results_dir={results_dir}"]
    )
    assert "changes max_rounds (unset then, 30 now)" in one_error_line(other)
    # and the extended sweep resumes as itself
    again = run_sim([*SMOKE, wider, f"results_dir={results_dir}"])
    assert again.returncode == 0, again.show()
    assert again.stdout.count("already done, skipped") == 12


def test_settings_changed_behind_the_same_command_line_are_refused(tmp_path):
    """A preset's file edited between two runs of the same command: refused."""
    conf = tmp_path / "conf" / "sweep"
    conf.mkdir(parents=True)
    preset = conf / "mine.yaml"
    text = (Path(__file__).parent.parent / "conf" / "sweep" / "smoke.yaml").read_text()
    preset.write_text(text.replace("sweep_name: smoke", "sweep_name: mine"))
    args = [
        "-m",
        "sweep=mine",
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        f"results_dir={tmp_path / 'results'}",
        "us_support=0.1",
        "protocol=single_text",
    ]
    first = run_sim(args)
    assert first.returncode == 0, first.show()
    preset.write_text(preset.read_text().replace("max_rounds: 40", "max_rounds: 30"))
    second = run_sim(args)
    assert second.returncode == 2, second.show()
    assert one_error_line(second).startswith(
        f"{tmp_path / 'results' / 'sweeps' / 'mine'}: holds another sweep (it differs in the "
        "settings behind the same command line (a preset's or scenario's file, or conf/))"
    )


def test_a_folder_with_job_files_and_no_definition_is_refused(tmp_path_factory):
    """Made by hand (a definition deleted, or a folder from before definitions whose job
    files claim this code): what its rows hold is unknown."""
    results_dir, sweep = finished_copy(tmp_path_factory, "no_definition")
    (sweep / sweepdir.DEFINITION).unlink()
    run = run_sim([*SMOKE, f"results_dir={results_dir}"])
    assert one_error_line(run) == (
        f"{sweep}: has job files but no {sweepdir.DEFINITION} (written by an older version "
        "or damaged), so what they hold is unknown; allowed: another sweep_name, or delete "
        "the folder to start it again"
    )


def test_definitions_compare_points_not_spelling():
    a = sweepdir.sweep_definition(["sweep=smoke", "x=1,2", "results_dir=/a"], {"y": "3"}, "v")
    b = sweepdir.sweep_definition(["x=2,1", "sweep=smoke", "sweep_name=other"], {"y": "3"}, "v")
    assert a == b
    assert a["values"] == {"sweep": "smoke", "x": ["1", "2"], "y": "3"}
    c = sweepdir.sweep_definition(["y=4"], {"y": "3"}, "v")  # the command line wins
    assert c["values"] == {"y": "4"}
    assert sweepdir.definition_changes(a, c) == [
        "sweep (smoke then, unset now)",
        "x (1,2 then, unset now)",
        "y (3 then, 4 now)",
    ]
    d = sweepdir.sweep_definition(["x=1,2,3", "sweep=smoke"], {"y": "3"}, "v")
    assert sweepdir.extension_problems(a, d) == []
    assert sweepdir.extension_problems(d, a) == ["x (1,2,3 then, 1,2 now)"]


# --- 2. a lock that cannot be fooled ------------------------------------------------------


def test_a_killed_sweeps_lock_lets_the_next_run_in_and_a_live_one_does_not(tmp_path):
    """Two processes racing for one lock: exactly one holds it at any time, and the other
    is told who (here: 20 contenders at once on one folder)."""
    script = (
        "import sys, time; from pathlib import Path; from sim.experiment import sweepdir\n"
        "try:\n"
        "    sweepdir.take_lock(Path(sys.argv[1]))\n"
        "except sweepdir.SweepFolderError as exc:\n"
        "    print('refused', exc); sys.exit(0)\n"
        "print('held'); sys.stdout.flush(); time.sleep(2)\n"
    )
    procs = [
        subprocess.Popen(
            [sys_executable(), "-c", script, str(tmp_path)],
            cwd=Path(__file__).parent.parent,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(20)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    held = [o for o in outs if o.startswith("held")]
    assert len(held) == 1, outs
    refused = [o for o in outs if o.startswith("refused")]
    assert len(refused) == 19
    assert all("another sweep (pid " in o and " is writing here" in o for o in refused)


def sys_executable() -> str:
    import sys

    return sys.executable


# --- 3. no worker outlives its sweep ------------------------------------------------------


def test_killing_a_joblib_sweeps_launcher_ends_its_workers(tmp_path):
    """SIGKILL to the launching process only (not its group), while its loky workers run
    jobs: every worker ends within seconds and no job file lands after."""
    results_dir = tmp_path / "results"
    args = [*SMOKE, f"results_dir={results_dir}", "hydra/launcher=joblib"]
    args += ["hydra.launcher.n_jobs=2", "replications=300"]
    proc = start_sim(args)
    jobs = sweep_dir(results_dir) / "jobs"
    deadline = time.monotonic() + 300
    workers: list[psutil.Process] = []
    try:
        while not workers or not list(jobs.glob("*.parquet")):
            assert proc.poll() is None, finish(proc).show()
            assert time.monotonic() < deadline, "the sweep did not start its workers"
            workers = psutil.Process(proc.pid).children(recursive=True)
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None and not workers:
            proc.kill()
        proc.communicate()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], [(p.pid, p.cmdline()[-1][:60]) for p in alive]
    landed = sorted(p.name for p in jobs.glob("*.parquet"))
    time.sleep(2)
    assert sorted(p.name for p in jobs.glob("*.parquet")) == landed
    assert len(landed) < SMOKE_JOBS
    # the rerun takes the dead launcher's lock and finishes the sweep
    rerun = run_sim([*SMOKE, f"results_dir={results_dir}", "replications=300"])
    assert rerun.returncode == 0, rerun.show()
    assert rerun.stdout.count("already done, skipped") == len(landed)
    frame = pd.read_parquet(sweep_dir(results_dir) / "results.parquet")
    assert_every_row_once(frame, SMOKE_JOBS, 300)


def test_the_watchdog_watches_only_from_a_worker(monkeypatch):
    monkeypatch.delenv(sweepdir.LAUNCHER_ENV, raising=False)
    assert sweepdir.watch_launcher() is False  # not in a sweep
    monkeypatch.setenv(sweepdir.LAUNCHER_ENV, sweepdir.Holder.me().text())
    assert sweepdir.watch_launcher() is False  # the launcher itself
    other = sweepdir.Holder("another-host", 1, 0.0)
    monkeypatch.setenv(sweepdir.LAUNCHER_ENV, other.text())
    assert other.alive() is None
    assert sweepdir.watch_launcher() is False  # a launcher elsewhere: not watched


# --- 4. every state a crash can leave is repaired -----------------------------------------


def test_a_finished_job_beside_its_old_failure_record_counts_once(tmp_path_factory):
    """By hand (the window between a job's rows landing and its old record's removal is
    microseconds): the rerun removes the record; the job is neither failed nor twice."""
    results_dir, sweep = finished_copy(tmp_path_factory, "failed_beside_done")
    first = job_files(sweep)[0]
    record = first.with_name(first.name.replace(".parquet", ".failed.parquet"))
    failure = {"job": [first.stem], "error": ["an old failure"], "overrides": [""]}
    results.write_parquet_atomic(pd.DataFrame(failure), record)
    assert len(results.gather(sweep)) == SMOKE_JOBS * SMOKE_REPLICATIONS  # not counted
    run = run_sim([*SMOKE, f"results_dir={results_dir}"])
    assert run.returncode == 0, run.show()
    assert "removed 1 failure records of jobs that finished later" in run.stdout
    assert f"[{SMOKE_JOBS + 1}/" not in run.stdout
    assert not record.exists()
    frame = pd.read_parquet(sweep / "results.parquet")
    assert_every_row_once(frame, SMOKE_JOBS, SMOKE_REPLICATIONS)


def test_damaged_files_of_no_job_and_a_lock_folder_do_not_stop_reruns(tmp_path_factory):
    """By hand: a truncated job file that no job of this sweep writes, a hidden temporary
    file, a killed job's parts and a `.lock` that is a folder; the rerun mends them all."""
    results_dir, sweep = finished_copy(tmp_path_factory, "stray_damage")
    stray = sweep / "jobs" / f"{'f' * 16}.parquet"
    stray.write_bytes(b"PAR1 half a file")
    parts = sweep / "jobs" / f".{'e' * 16}.parquet.abc.parts"
    parts.mkdir()
    (parts / "000000.parquet").write_bytes(b"PAR1")
    (sweep / ".lock").mkdir()
    for _ in range(2):  # and the next run finds nothing left to mend
        run = run_sim([*SMOKE, f"results_dir={results_dir}"])
        assert run.returncode == 0, run.show()
    assert (sweep / "jobs" / "damaged" / stray.name).read_bytes() == b"PAR1 half a file"
    assert not parts.exists() and not (sweep / ".lock").exists()
    assert len(list(sweep.glob(".lock.folder.*"))) == 1
    assert temp_files_under(sweep) == []
    pd.testing.assert_frame_equal(
        comparable(pd.read_parquet(sweep / "results.parquet")), reference(tmp_path_factory)
    )


# --- 5. damage detected, not only unreadability -------------------------------------------


def flip_a_data_byte(path: Path) -> None:
    """Change one byte near the end of the largest column chunk: inside its last page's
    data (after the page's header), not the file's footer."""
    import pyarrow.parquet as pq

    group = pq.ParquetFile(path).metadata.row_group(0)
    columns = [group.column(i) for i in range(group.num_columns)]
    column = max(columns, key=lambda c: c.total_compressed_size)
    start = column.dictionary_page_offset or column.data_page_offset
    data = bytearray(path.read_bytes())
    at = start + column.total_compressed_size - 8
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_every_parquet_file_carries_page_checksums(tmp_path_factory):
    source, _ = reference_smoke_sweep(tmp_path_factory)
    sweep = sweep_dir(source)
    for path in [*job_files(sweep), sweep / "results.parquet"]:
        damaged = Path(str(path) + ".copy")
        shutil.copyfile(path, damaged)
        flip_a_data_byte(damaged)
        with pytest.raises(ResultsError, match=r"CRC checksum verification failed"):
            results.load(damaged)
        damaged.unlink()


def test_a_changed_byte_in_a_done_job_is_found_moved_and_run_again(tmp_path_factory):
    """By hand (a disk's damage): the sweep's end finds the job's file fails its checks,
    leaves it out (status 3, saying so) and moves it to jobs/damaged/; the next run runs
    that job again and the result is that of an uninterrupted sweep."""
    results_dir, sweep = finished_copy(tmp_path_factory, "flipped")
    target = job_files(sweep)[3]
    flip_a_data_byte(target)
    with pytest.raises(ResultsError, match=rf"^{target}: unreadable Parquet file .*CRC"):
        results.load(sweep)
    first = run_sim([*SMOKE, f"results_dir={results_dir}"])
    assert first.returncode == 3, first.show()
    assert one_error_line(first).startswith(
        "1 job files failed their checks and were left out of results.parquet (a rerun runs "
        f"their jobs again); the first: {target}: unreadable Parquet file"
    )
    assert (sweep / "jobs" / "damaged" / target.name).exists()
    second = run_sim([*SMOKE, f"results_dir={results_dir}"])
    assert second.returncode == 0, second.show()
    assert second.stdout.count("already done, skipped") == SMOKE_JOBS - 1
    pd.testing.assert_frame_equal(
        comparable(pd.read_parquet(sweep / "results.parquet")), reference(tmp_path_factory)
    )


def test_a_job_file_holding_another_jobs_rows_is_damage(tmp_path_factory):
    """By hand: one job's file copied over another's (valid Parquet, wrong rows)."""
    _, sweep = finished_copy(tmp_path_factory, "swapped")
    a, b = job_files(sweep)[:2]
    shutil.copyfile(a, b)
    with pytest.raises(ResultsError, match=rf"^{b}: unreadable .*holds the rows of job"):
        results.gather(sweep)


# --- write errors: one line naming the path ------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A 150 kB file system (tmpfs; needs root), for a real full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=150k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_stops_the_sweep_with_one_line_and_a_rerun_resumes(tiny_disk):
    results_dir = tiny_disk / "results"
    run = run_sim([*SMOKE, f"results_dir={results_dir}"])
    assert run.returncode == 2, run.show()
    line = one_error_line(run)
    assert line.startswith(f"{sweep_dir(results_dir) / 'jobs'}/")
    assert line.endswith(
        ": cannot write results (No space left on device); free space, make it writable or "
        "set results_dir"
    )
    assert "Traceback" not in run.stderr
    assert temp_files_under(results_dir) == []
    for path in job_files(sweep_dir(results_dir)):  # whole files or none
        results.read_job_rows(path)
    subprocess.run(["mount", "-o", "remount,size=8m", str(tiny_disk)], check=True)
    rerun = run_sim([*SMOKE, f"results_dir={results_dir}"])
    assert rerun.returncode == 0, rerun.show()
    frame = pd.read_parquet(sweep_dir(results_dir) / "results.parquet")
    assert_every_row_once(frame, SMOKE_JOBS, SMOKE_REPLICATIONS)


def test_a_write_error_in_a_job_names_its_file(tmp_path, monkeypatch):
    """In-process, the write failing as a read-only folder fails (root ignores modes)."""
    from tests.conftest import compose_config

    cfg = compose_config(["sweep=smoke", "us_support=0.1", f"results_dir={tmp_path}"])

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(results.JobFile, "add", refuse)
    with pytest.raises(ResultsError) as info:
        run_sweep_job(cfg, tmp_path)
    done, _ = results.job_paths(tmp_path, cfg)
    assert str(info.value) == (
        f"{done}: cannot write results (Read-only file system); free space, make it writable "
        "or set results_dir"
    )
    assert list((tmp_path / "jobs").iterdir()) == []  # nothing half-written
