"""One Hydra job: build the scenario, analyse it, print and write the results."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd

from sim import solutions
from sim.results import publish_run_dir, staging_run_dir, write_parquet_atomic
from sim.scenario import Scenario, build_scenario

CONCEPTS = ("nash", "kalai_smorodinsky", "egalitarian", "utilitarian")


def concept_outcomes(U: np.ndarray, d: np.ndarray, feasible: np.ndarray) -> dict[str, int | None]:
    """Each solution concept's outcome among the `feasible` outcomes (no red line crossed)."""
    idx = np.flatnonzero(feasible)
    if idx.size == 0:
        return dict.fromkeys(CONCEPTS)
    sub = U[:, idx]
    found = {
        "nash": solutions.nash(sub, d),
        "kalai_smorodinsky": solutions.kalai_smorodinsky(sub, d),
        "egalitarian": solutions.egalitarian(sub, d),
        "utilitarian": solutions.utilitarian(sub),
    }
    return {k: None if v is None else int(idx[v]) for k, v in found.items()}


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


def run_job(cfg: Any) -> dict[str, Any]:
    """Validate, analyse, print, and write `results/runs/<timestamp>/result.parquet`."""
    scenario = build_scenario(cfg)
    row = landscape(scenario, scenario.static_reservation)
    row["seed"] = int(cfg.seed)
    print(format_landscape(scenario, row))
    staging, final = staging_run_dir(cfg.results_dir)
    try:
        write_parquet_atomic(pd.DataFrame([row]), staging / "result.parquet")
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish_run_dir(staging, final)
    print(f"wrote {final / 'result.parquet'}", file=sys.stdout)
    return row
