"""One Hydra job: build the scenario, analyse it, print and write the results."""

from __future__ import annotations

import enum
import os
import shlex
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import solutions
from sim.allocator import keep_freed_memory
from sim.batch import worth_batching
from sim.config import active_uncertainties, design_points, plain
from sim.model import NegotiationModel, NegotiationSettings
from sim.replication import (
    CONCEPTS,
    concept_outcomes,
    replication_seeds,
    run_replication,
    run_replications_batched,
)
from sim.results import (
    CODE_VERSION,
    ResultsError,
    check_writable,
    job_hash,
    job_paths,
    publish_run_dir,
    staging_run_dir,
    write_parquet_atomic,
)
from sim.scenario import Scenario, build_scenario


def landscape(scenario: Scenario, d: np.ndarray) -> dict[str, Any]:
    """Outcome-space facts as one flat row: sizes, ideals, concepts with levels and utilities."""
    U = scenario.utilities
    feasible = scenario.acceptable
    row: dict[str, Any] = {
        "scenario": scenario.name,
        "n_outcomes": scenario.space.size,
        "n_feasible": int(feasible.sum()),
        "pareto_size": int(solutions.pareto_mask(U[:, feasible]).sum()) if feasible.any() else 0,
        "zopa_size": int((solutions.zopa_mask(U, d) & feasible).sum()),
    }
    for i, party in enumerate(scenario.parties):
        row[f"reservation_{party}"] = float(d[i])
    for party, outcome in zip(
        scenario.parties, scenario.preferences.ideal_outcomes(U), strict=True
    ):
        for issue, level in scenario.space.levels_of(int(outcome)).items():
            row[f"ideal_{party}_{issue}"] = level
    for concept, outcome in concept_outcomes(U, d, feasible).items():
        row[f"{concept}_outcome"] = -1 if outcome is None else outcome
        for issue in scenario.space.names:
            row[f"{concept}_{issue}"] = (
                None if outcome is None else scenario.space.levels_of(outcome)[issue]
            )
        for i, party in enumerate(scenario.parties):
            row[f"{concept}_u_{party}"] = np.nan if outcome is None else float(U[i, outcome])
    return row


def format_landscape(scenario: Scenario, row: dict[str, Any]) -> str:
    parties = scenario.parties
    lines = [
        f"scenario {row['scenario']}: {row['n_outcomes']:,} outcomes "
        f"({row['n_feasible']:,} cross no red line), Pareto frontier {row['pareto_size']:,}, "
        f"ZOPA {row['zopa_size']:,}",
        "reservation values: " + ", ".join(f"{p} {row[f'reservation_{p}']:.3f}" for p in parties),
        "ideal outcomes:",
    ]
    for p in parties:
        levels = ", ".join(f"{i}={row[f'ideal_{p}_{i}']}" for i in scenario.space.names)
        lines.append(f"  {p:<10} {levels}")
    lines.append("solution concepts (utility per party):")
    for concept in CONCEPTS:
        if row[f"{concept}_outcome"] < 0:
            lines.append(f"  {concept:<18} none: the zone of possible agreement is empty")
            continue
        levels = ", ".join(f"{i}={row[f'{concept}_{i}']}" for i in scenario.space.names)
        utils = " ".join(f"{p}={row[f'{concept}_u_{p}']:.3f}" for p in parties)
        lines.append(f"  {concept:<18} {levels}  |  {utils}")
    return "\n".join(lines)


def format_negotiation(model: NegotiationModel, row: dict[str, Any]) -> str:
    scenario = model.problem
    names = scenario.space.names
    head = f"{row['scenario']} | {row['protocol']} | {row['seating']}: "
    if row["outcome"] >= 0:
        levels = ", ".join(f"{i}={row[i]}" for i in names)
        kind = (
            "binding agreement"
            if row["binding"]
            else "NOT binding (a controlling party has not signed)"
        )
        lines = [head + f"{kind} in round {row['round']}: {levels}"]
    elif row["reason"] == "breakdown":
        why = {
            "batna": "its BATNA beat anything it could still get",
            "deadline": "a hard-liner at its deadline",
        }
        left = [
            f"{who} ({why.get(reason, reason)})"
            for who, reason in zip(
                row["walked_out"].split(","), row["walkout_reason"].split(","), strict=True
            )
        ]
        lines = [head + f"breakdown in round {row['round']}: walked out: " + "; ".join(left)]
    elif row["reason"] == "not_binding":
        fw = scenario.space.describe(row["framework_outcome"])
        lines = [
            head + f"no binding agreement by round {row['round']}; "
            f"the framework ({fw}) was never signed by every controlling party"
        ]
    else:
        lines = [head + f"no agreement by the deadline (round {row['round']})"]
    lines.append(
        f"contact line {row['contact_line']:.1f} (territory scale), Russia's share of strength "
        f"{row['p_share']:.2f}, ZOPA {row['zopa_size']:,} outcomes in the last round"
    )
    lines.append("party       utility  BATNA   margin")
    for p in scenario.parties:
        u, r = row[f"u_{p}"], row[f"reservation_{p}"]
        lines.append(f"  {p:<9} {u:7.3f} {r:7.3f} {u - r:+8.3f}")
    if row["outcome"] >= 0:
        lines.append(
            f"distance in utility space: to Nash {row['dist_nash']:.3f}, "
            f"to Kalai-Smorodinsky {row['dist_ks']:.3f}"
        )
    return "\n".join(lines)


def flat_parameters(cfg: Any) -> dict[str, Any]:
    """The job's parameters as flat columns: settings, war, each party's strategy."""
    out: dict[str, Any] = {}
    skip = {"results_dir", "issues", "parties", "war", "uncertainty", "stability"}
    skip |= {"guarantee_packages", "phase_one_parties", "replication"}
    for key, value in cfg.items():
        if key not in skip:
            out[key] = str(value) if isinstance(value, enum.Enum) else value
    out["scenario"] = str(cfg.scenario_name)
    out["phase_one_parties"] = ",".join(cfg.phase_one_parties)
    for key, value in cfg.war.items():
        if key != "supporters":
            out[f"war.{key}"] = value
    for party, pc in cfg.parties.items():
        out[f"parties.{party}.strategy"] = str(pc.strategy)
        out[f"parties.{party}.capability"] = float(pc.capability)
        out[f"parties.{party}.war_cost"] = float(pc.war_cost)
    for name in active_uncertainties(cfg):
        spread = cfg.uncertainty[name]
        if spread.dist == "grid":
            out[f"uncertainty.{name}"] = f"grid{[float(v) for v in spread.levels]}"
        else:
            out[f"uncertainty.{name}"] = f"{spread.dist}({spread.scale})"
    return out


def run_replications(
    cfg: Any,
    collect_trace: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict], NegotiationModel | None]:
    """All R replications of one job (or only `replication`): rows (parameters + results)
    and, with `collect_trace`, the first replication's model. Without a trace, enough
    replications run as one batched model (`sim.batch`; the same rows, faster).
    `progress(done, total)` is called after each batch."""
    keep_freed_memory()  # in whichever process the launcher runs the job
    scenario = build_scenario(cfg)
    params = flat_parameters(cfg)
    params["overrides"] = task_overrides()
    params["code_version"] = CODE_VERSION
    digest = job_hash(cfg)
    points = design_points(cfg)  # [{}] unless some uncertainty is a grid
    repeats = int(cfg.replications)
    chosen = [
        (r, seed)
        for r, seed in enumerate(replication_seeds(cfg.seed, len(points) * repeats))
        if cfg.replication is None or r == cfg.replication
    ]
    chosen_points = [points[r // repeats] for r, _ in chosen]
    first = None
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    fast_cfg = plain(cfg)  # read once per replication: plain dicts, not OmegaConf nodes
    if not collect_trace and worth_batching(settings, len(chosen)):
        seeds = [seed for _, seed in chosen]
        results = run_replications_batched(
            scenario, fast_cfg, seeds, progress=progress, points=chosen_points
        )
    else:
        results, cache = [], {}
        for (_, seed), point in zip(chosen, chosen_points, strict=True):
            trace = collect_trace and first is None
            row, model = run_replication(scenario, fast_cfg, seed, trace, cache, point)
            results.append(row)
            first = first or model
    rows = [
        {
            **params,
            "n_outcomes": scenario.space.size,
            **row,
            "seed": int(cfg.seed),
            "replication": r,
            "point": r // repeats,
            "job": digest,
        }
        for (r, _), row in zip(chosen, results, strict=True)
    ]
    return rows, first


def task_overrides() -> str:
    """The command-line overrides of this job (what re-runs it), or '' outside Hydra."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return ""
    return shlex.join(HydraConfig.get().overrides.task)


def run_single(cfg: Any) -> dict[str, Any]:
    """`python -m sim`: negotiate, print, write results/runs/<timestamp>/."""
    check_writable(Path(cfg.results_dir) / "runs")  # before the work, writing nothing
    outputs = _run_single(cfg)
    staging, final = staging_run_dir(cfg.results_dir)
    try:
        row = outputs(staging)
        publish_run_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"wrote {final}/ (result.parquet, trace.parquet, negotiation.png)")
    return row


def _run_single(cfg: Any) -> Callable[[Path], dict[str, Any]]:
    """Negotiate and print; returns the function that writes the run's files into a folder."""
    from sim.plots import plot_trajectory

    rows, model = run_replications(cfg, collect_trace=True)
    scenario = model.problem
    facts = landscape(scenario, model.reservations)
    rows = [{**{k: v for k, v in facts.items() if k not in r}, **r} for r in rows]
    row = rows[0]
    print(format_landscape(scenario, facts))
    print()
    print(format_negotiation(model, row))
    if len(rows) > 1:
        deals = np.mean([r["agreement"] for r in rows])
        stable = np.mean([r["stable"] for r in rows])
        print(f"{len(rows)} replications: {deals:.0%} with a binding deal, {stable:.0%} stable")
    trace = model.trace()

    def write(folder: Path) -> dict[str, Any]:
        write_parquet_atomic(pd.DataFrame(rows), folder / "result.parquet")
        write_parquet_atomic(trace, folder / "trace.parquet")
        fig = plot_trajectory(
            trace, scenario.parties, row["round"], f"{row['reason']}, round {row['round']}"
        )
        fig.savefig(folder / "negotiation.png", dpi=120)
        return row

    return write


class JobProgress:
    """Prints a long job's progress (replications done) at most every `every` seconds."""

    def __init__(self, sweep_dir: Path, job: str, every: float = 15.0) -> None:
        self.sweep_dir, self.job, self.every = sweep_dir, job, every
        self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last >= self.every:
            self.last = now
            print(f"job {self.job}: {done:,}/{total:,} replications", flush=True)


def run_sweep_job(cfg: Any, sweep_dir: Path) -> float:
    """One job of a multirun: skip if done, else run and write its rows atomically.

    A job that raises is written as a `.failed` file with its parameters and the error,
    so the sweep goes on and a rerun tries it again. Returns the mean stability score
    (the objective the Optuna sweeper maximises).
    """
    from sim.results import read_job_rows, report_progress

    done, failed = job_paths(sweep_dir, cfg)
    if done.exists():
        try:
            rows = read_job_rows(done)
            report_progress(sweep_dir, f"job {done.stem} already done, skipped")
            return float(rows["stability_score"].mean())
        except ResultsError as exc:  # damaged: keep it aside for inspection, run the job again
            aside = done.with_suffix(".parquet.damaged")
            os.replace(done, aside)
            report_progress(sweep_dir, f"job {done.stem}: {exc}; moved to {aside.name}, rerun")
    try:
        rows, _ = run_replications(cfg, progress=JobProgress(sweep_dir, done.stem))
    except Exception as exc:
        from sim.errors import one_line

        error_row = {
            **_safe_parameters(cfg),
            "code_version": CODE_VERSION,
            "job": job_hash(cfg),
            "error": one_line(exc),
        }
        write_parquet_atomic(pd.DataFrame([error_row]), failed)
        report_progress(sweep_dir, f"job {done.stem} FAILED: {error_row['error']}")
        return float("nan")
    frame = pd.DataFrame(rows)
    frame["error"] = None
    write_parquet_atomic(frame, done)
    failed.unlink(missing_ok=True)
    report_progress(sweep_dir, f"job {done.stem} done")
    return float(frame["stability_score"].mean())


def _safe_parameters(cfg: Any) -> dict[str, Any]:
    try:
        return flat_parameters(cfg)
    except Exception:
        return {"seed": int(cfg.seed)}


def run_job(cfg: Any) -> Any:
    """The Hydra task: a single run, or one job of a multirun sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get() if HydraConfig.initialized() else None
    if hc is not None and hc.mode == RunMode.MULTIRUN:
        return run_sweep_job(cfg, Path(hc.sweep.dir))
    return run_single(cfg)
