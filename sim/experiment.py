"""One Hydra job: build the scenario, analyse it, print and write the results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim import solutions
from sim.model import NegotiationModel, NegotiationSettings
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


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """Independent child seeds for a job's replications (NumPy's SeedSequence.spawn)."""
    return np.random.SeedSequence(int(seed)).spawn(int(replications))


def negotiate(
    scenario: Scenario,
    cfg: Any,
    seed: np.random.SeedSequence,
    collect_trace: bool = True,
) -> NegotiationModel:
    """Run one negotiation to its end."""
    settings = NegotiationSettings.from_config(cfg, collect_trace=collect_trace)
    model = NegotiationModel(scenario, settings, rng=np.random.default_rng(seed))
    return model.run()


def _distance(U: np.ndarray, a: int | None, b: int | None) -> float:
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(U[:, a] - U[:, b]))


def negotiation_row(model: NegotiationModel) -> dict[str, Any]:
    """The result of one negotiation as a flat row."""
    scenario = model.problem
    U = scenario.utilities
    d = model.reservations
    outcome = model.outcome()
    concepts = concept_outcomes(U, d, scenario.acceptable)
    row: dict[str, Any] = {
        "scenario": scenario.name,
        "protocol": str(model.settings.protocol),
        "seating": str(model.settings.seating),
        "agreement": bool(model.binding and outcome is not None),
        "binding": bool(model.binding),
        "reason": str(model.reason),
        "round": int(model.round),
        "walked_out": ",".join(model.walkouts),
        "outcome": -1 if outcome is None else int(outcome),
        "framework_outcome": -1 if model.framework is None else int(model.framework),
        "contact_line": float(model.contact_line),
        "p_share": float(model.p_share),
        "zopa_size": int(model.zopa_size),
    }
    levels = scenario.space.levels_of(outcome) if outcome is not None else {}
    for issue in scenario.space.names:
        row[issue] = levels.get(issue)
    for i, party in enumerate(scenario.parties):
        row[f"u_{party}"] = np.nan if outcome is None else float(U[i, outcome])
        row[f"reservation_{party}"] = float(d[i])
    for concept in ("nash", "kalai_smorodinsky"):
        row[f"{concept}_outcome"] = -1 if concepts[concept] is None else concepts[concept]
    row["dist_nash"] = _distance(U, outcome, concepts["nash"])
    row["dist_ks"] = _distance(U, outcome, concepts["kalai_smorodinsky"])
    return row


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
        lines = [
            head + f"breakdown in round {row['round']}: {row['walked_out']} walked out "
            "(its BATNA beat anything it could still get)"
        ]
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


def run_job(cfg: Any) -> dict[str, Any]:
    """Validate, negotiate once, print, and write results/runs/<timestamp>/."""
    from sim.plots import plot_trajectory

    scenario = build_scenario(cfg)
    seed = replication_seeds(cfg.seed, 1)[0]
    model = negotiate(scenario, cfg, seed)
    row = negotiation_row(model)
    row.update(seed=int(cfg.seed), replication=0)
    print(format_landscape(scenario, landscape(scenario, model.reservations)))
    print()
    print(format_negotiation(model, row))
    trace = model.trace()
    staging, final = staging_run_dir(cfg.results_dir)
    try:
        write_parquet_atomic(pd.DataFrame([row]), staging / "result.parquet")
        write_parquet_atomic(trace, staging / "trace.parquet")
        label = {"agreement": "agreement", "breakdown": "breakdown"}.get(
            row["reason"], row["reason"]
        )
        fig = plot_trajectory(
            trace, scenario.parties, row["round"], f"{label}, round {row['round']}"
        )
        fig.savefig(staging / "negotiation.png", dpi=120)
        publish_run_dir(staging, final)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"wrote {final}/ (result.parquet, trace.parquet, negotiation.png)")
    return row
