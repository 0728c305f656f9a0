"""A job's replications, and one job of a sweep: run them, write its rows atomically.

The command line's single run, which prints and plots, is `sim.front.cli`."""

from __future__ import annotations

import hashlib
import pickle
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.intervals import proportion_interval
from sim.engine.single import NegotiationModel
from sim.experiment.allocator import freeze_long_lived, keep_freed_memory
from sim.experiment.compiler import Job, compile_job, flat_parameters
from sim.experiment.designs import AutoStop
from sim.experiment.draws import replication_seed
from sim.experiment.replication import negotiate
from sim.experiment.results import (
    JobFile,
    ResultsError,
    clock,
    current_code_version,
    job_hash,
    job_paths,
    job_score,
    write_error,
    write_parquet_atomic,
)


def job_row(
    columns: dict[str, Any], scenario: Any, row: dict[str, Any], replication: int, repeats: int
) -> dict[str, Any]:
    """A replication's row as a job writes it: the job's `columns`, the outcome space's
    size, the replication's results, its index and its design point."""
    found = {**columns, "n_outcomes": scenario.space.size, **row}
    found.update(seed=columns["seed"], replication=replication, point=replication // repeats)
    found["job"] = found.pop("job")  # last, as ever
    return found


def run_replications(
    cfg: Any,
    collect_trace: bool = False,
    progress: Callable[[int, int], None] | None = None,
    overrides: str | None = None,
    digest: str | None = None,
    sink: JobFile | None = None,
    targets: dict[str, str] | None = None,
) -> tuple[list[dict], NegotiationModel | None]:
    """All R replications of one job (or only `replication`): rows (parameters + results)
    and, with `collect_trace`, the first replication's model (with its trace). `cfg` is a
    config, compiled here (`sim.experiment.compiler.compile_job`; a prepared plain copy
    comes with its alias `targets`), or a compiled `Job`. The rows' `overrides` are the
    job's command line (`task_overrides`) unless given, their `job` its `job_hash` unless
    given. See `run_job`."""
    if not isinstance(cfg, Job):
        text = task_overrides() if overrides is None else overrides
        cfg = compile_job(cfg, text, digest, targets)
    return run_job(cfg, collect_trace, progress, sink)


def run_job(
    job: Job,
    collect_trace: bool = False,
    progress: Callable[[int, int], None] | None = None,
    sink: JobFile | None = None,
) -> tuple[list[dict], NegotiationModel | None]:
    """The compiled `job`'s replications: they negotiate as batches
    (`sim.experiment.replication.negotiate`), the same rows as one at a time.
    `progress(done, total)` is called after each batch. Under `replications=auto`,
    `auto_replications` decides how many run at each point. With a `sink` each batch's
    rows go to it as they are made (the list returned is empty): a job's memory is one
    batch's."""
    keep_freed_memory()  # in whichever process the launcher runs the job
    freeze_long_lived()
    design = job.design

    def run(
        chosen: list[int],
        trace: bool,
        report: Callable[[int, int], None] | None = progress,
        on_rows: Callable[[list[dict]], None] | None = None if sink is None else sink.add,
    ) -> tuple[list[dict], NegotiationModel | None]:
        kept: list[dict] = []
        done = 0

        def take(found: list[dict]) -> None:
            nonlocal done
            rows = [
                job_row(job.columns, job.scenario, row, r, design.repeats)
                for r, row in zip(chosen[done : done + len(found)], found, strict=True)
            ]
            done += len(found)
            if on_rows is None:
                kept.extend(rows)
            else:
                on_rows(rows)

        _, first = negotiate(
            job,
            [replication_seed(job.seed, r) for r in chosen],
            [design.point_of(r) for r in chosen],
            trace_first=trace,
            progress=report,
            on_rows=take,
        )
        return kept, first

    if design.replication is not None:
        return run([design.replication], collect_trace)
    if design.auto is None:
        return run(list(range(design.size)), collect_trace)
    return auto_replications(design.auto, len(design.points), run, collect_trace, progress, sink)


def auto_replications(
    auto: AutoStop,
    n_points: int,
    run: Callable[..., tuple[list[dict], NegotiationModel | None]],
    collect_trace: bool,
    progress: Callable[[int, int], None] | None = None,
    sink: JobFile | None = None,
) -> tuple[list[dict], NegotiationModel | None]:
    """`replications=auto`: blocks of `auto.block` replications at every design point
    whose stable share's Wilson 95% interval is still wider than `auto.width`, until it is
    not or `auto.cap` ran there. Replication i of point k is replication
    ``k * cap + i`` of the job, with that child seed, so the rows (and the stopping point)
    depend only on the config and the seed. `progress(done, most)` is called after each
    block. With a `sink` the rows go to it block by block, in the order they ran, and it
    sets each row's `replications` when it closes."""
    cap, block, width = auto.cap, auto.block, auto.width
    counts, stable = [0] * n_points, [0] * n_points
    open_points = list(range(n_points))
    rows: list[dict] = []
    first = None

    def count(found: list[dict]) -> None:
        for row in found:
            k = row["point"]
            counts[k] += 1
            stable[k] += bool(row["stable"])
        if sink is None:
            rows.extend(found)
        else:
            sink.add(found)

    while open_points:
        chosen = [
            k * cap + i for k in open_points for i in range(counts[k], min(counts[k] + block, cap))
        ]
        _, model = run(chosen, collect_trace and first is None, None, count)
        if first is None:
            first = model
        if progress is not None:
            progress(sum(counts), n_points * cap)
        still = []
        for k in open_points:
            _, low, high = proportion_interval(stable[k], counts[k])
            if high - low > width and counts[k] < cap:
                still.append(k)
        open_points = still
    if sink is not None:
        sink.set_by_point("replications", dict(enumerate(counts)))
    for row in rows:
        row["replications"] = counts[row["point"]]  # what ran at its point
    rows.sort(key=lambda row: row["replication"])
    return rows, first


def task_overrides() -> str:
    """The command-line overrides of this job (what re-runs it), or '' outside Hydra."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return ""
    return shlex.join(HydraConfig.get().overrides.task)


class JobProgress:
    """Prints a long job's progress (replications done, ETA): first after `first` seconds,
    then at most every `every` seconds; `label` starts each line."""

    def __init__(self, label: str, every: float = 15.0, first: float = 2.0) -> None:
        self.label, self.every = label, every
        self.started = time.monotonic()
        self.next = self.started + min(first, every)

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now >= self.next:
            self.next = now + self.every
            eta = (now - self.started) / max(done, 1) * (total - done)
            print(f"{self.label}: {done:,}/{total:,} replications, ETA {clock(eta)}", flush=True)


def announce(job: Job) -> str:
    """What a job is about to do: its negotiations, their longest length, its batches and
    the memory of a batch's rows and arrays (`sim.engine.model.BATCH_ELEMENTS`): a sweep job
    writes each batch's rows as it finishes (`sim.experiment.results.JobFile`)."""
    from sim.engine.model import BATCH_ELEMENTS, batch_size

    n, parties = job.design.size, len(job.scenario.parties)
    outcomes = job.scenario.space.size
    rows_mb = min(n, batch_size(parties, outcomes)) * ROW_BYTES / 1e6
    arrays_mb = 8 * BATCH_ELEMENTS / 1e6
    draws_mb = 8 * job.stability.robustness_draws * parties * outcomes / 1e6
    return (
        f"{n:,} negotiations of up to {job.settings.max_rounds:,} rounds, in batches; "
        f"~{rows_mb + arrays_mb + draws_mb:,.0f} MB at most ({rows_mb:,.0f} MB of a batch's "
        f"rows, {arrays_mb:,.0f} MB of batch arrays, {draws_mb:,.0f} MB of robustness draws)"
    )


ROW_BYTES = 11_000  # a result row in memory, until its batch is written (docs/sweeps.md)
ANNOUNCE_FROM = 1_000  # replications per job from which a run says what it will do


def run_sweep_pack(cfg: Any, sweep_dir: Path) -> float:
    """A packed job (`sim.experiment.sweeper`): each of its points run as a job of its own
    (`run_sweep_job`), its rows written as it finishes; a point whose values cannot be set
    is recorded as a failed job. Returns the mean of the points' scores."""
    from sim.experiment.sweepdir import watch_launcher
    from sim.experiment.sweeper import apply_point, read_pack

    watch_launcher()  # a worker ends with its sweep's launcher
    scores = []
    pickled = pickle.dumps(cfg)
    for overrides, varying in read_pack(sweep_dir, int(cfg.sweep_pack)):
        text = shlex.join(overrides)
        try:
            point = apply_point(cfg, varying, pickled)
        except Exception as exc:  # a value that cannot be set: named by its overrides
            digest = hashlib.sha256(f"{text}|{current_code_version()}".encode()).hexdigest()[:16]
            scores.append(record_failure(cfg, sweep_dir, exc, text, digest))
            continue
        scores.append(run_sweep_job(point, sweep_dir, overrides=text))
    return float(sum(scores) / len(scores)) if scores else 0.0


def record_failure(
    cfg: Any, sweep_dir: Path, exc: BaseException, overrides: str, digest: str
) -> float:
    """A job that raised: its parameters and the error as its `.failed` file (so that the
    sweep goes on and a rerun tries it again); -inf, the worst score for a search (NaN
    would end Optuna's study)."""
    from sim.experiment.error_lines import one_line
    from sim.experiment.results import report_progress

    error_row = {
        **_safe_parameters(cfg),
        "overrides": overrides,
        "code_version": current_code_version(),
        "job": digest,
        "error": one_line(exc),
    }
    _, failed = job_paths(sweep_dir, cfg, digest)
    try:
        write_parquet_atomic(pd.DataFrame([error_row]), failed)
    except OSError as err:  # the folder cannot take even the record: say where and why
        raise write_error(failed, err) from exc
    report_progress(sweep_dir, f"job {digest} FAILED: {error_row['error']}")
    return float("-inf")


def run_sweep_job(cfg: Any, sweep_dir: Path, overrides: str | None = None) -> float:
    """One job of a multirun (or one point of a packed job, its `overrides` given): skip
    if done, else run and write its rows atomically.

    A job that raises is written as a `.failed` file with its parameters and the error,
    so the sweep goes on and a rerun tries it again. Returns the mean stability score
    (the objective the Optuna sweeper maximises; 0 for a job without a deal, -inf for a
    failed job).
    """
    from sim.experiment.results import report_progress
    from sim.experiment.sweepdir import move_damaged, watch_launcher

    watch_launcher()  # a worker ends with its sweep's launcher
    text = task_overrides() if overrides is None else overrides
    try:
        job = compile_job(cfg, text)  # the job's config, resolved and checked once
    except Exception as exc:
        return record_failure(cfg, sweep_dir, exc, text, job_hash(cfg))
    done, failed = job_paths(sweep_dir, job.config, job.digest)
    if done.exists():
        try:
            score = job_score(done)
            report_progress(sweep_dir, f"job {done.stem} already done, skipped")
            return score
        except ResultsError as exc:  # damaged: keep it aside for inspection, run the job again
            aside = move_damaged(done)
            report_progress(sweep_dir, f"job {done.stem}: {exc}; moved to {aside}, rerun")
    sink = JobFile(done, constant={"error": None})
    try:
        if job.design.size >= ANNOUNCE_FROM:
            report_progress(sweep_dir, f"job {done.stem}: {announce(job)}")
        run_job(job, progress=JobProgress(f"job {done.stem}"), sink=sink)
        sink.close()
    except OSError as exc:  # the disk, not the job: a full disk, a read-only folder
        sink.discard()
        raise write_error(done, exc) from exc
    except Exception as exc:
        sink.discard()
        return record_failure(cfg, sweep_dir, exc, text, done.stem)
    failed.unlink(missing_ok=True)
    report_progress(sweep_dir, f"job {done.stem} done")
    return job_score(done)


def _safe_parameters(cfg: Any) -> dict[str, Any]:
    try:
        return flat_parameters(cfg)
    except Exception:
        return {"seed": int(cfg.seed)}
