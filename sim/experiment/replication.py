"""One replication as a plain function returning a flat dict (EMA Workbench's model form).

A replication draws its uncertain parameters from the distributions in `uncertainty`,
negotiates once, and measures the agreement's stability. Its three random streams (draws,
negotiation, stability) are children of the replication's SeedSequence, so a row can be
re-run alone from (config, seed, replication).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core import solutions, war
from sim.core.scenario import Scenario
from sim.core.settings import StabilitySettings
from sim.engine.model import NegotiationBatch
from sim.engine.model import batch_size as default_batch_size
from sim.engine.result import NegotiationResult
from sim.engine.single import NegotiationModel
from sim.experiment.allocator import collect_batch
from sim.experiment.assessment import stability_rows
from sim.experiment.designs import Design
from sim.experiment.draws import apply_draws, draw_uncertain, streams

if TYPE_CHECKING:
    from sim.experiment.compiler import Job

CONCEPTS = ("nash", "kalai_smorodinsky", "egalitarian", "utilitarian")


def concept_outcomes(
    U: np.ndarray, d: np.ndarray, feasible: np.ndarray, concepts: tuple[str, ...] = CONCEPTS
) -> dict[str, int | None]:
    """Each solution concept's outcome (of `concepts`) among the `feasible` outcomes (no red
    line crossed)."""
    idx = np.flatnonzero(feasible)
    if idx.size == 0:
        return dict.fromkeys(concepts)
    sub = U[:, idx]
    solve = {
        "nash": lambda: solutions.nash(sub, d),
        "kalai_smorodinsky": lambda: solutions.kalai_smorodinsky(sub, d),
        "egalitarian": lambda: solutions.egalitarian(sub, d),
        "utilitarian": lambda: solutions.utilitarian(sub),
    }
    found = {name: solve[name]() for name in concepts}
    return {k: None if v is None else int(idx[v]) for k, v in found.items()}


def _distance(U: np.ndarray, a: int | None, b: int | None) -> float:
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(U[:, a] - U[:, b]))


def negotiation_row(result: NegotiationResult) -> dict[str, Any]:
    """The result of one negotiation as a flat row (the seating, as configured, is among
    the job's parameters: `sim.experiment.compiler.flat_parameters`)."""
    scenario = result.scenario
    U = scenario.utilities
    d = result.reservations
    outcome = result.outcome
    concepts = concept_outcomes(U, d, scenario.acceptable, ("nash", "kalai_smorodinsky"))
    row: dict[str, Any] = {
        "scenario": scenario.name,
        "protocol": str(result.settings.protocol),
        "agreement": result.agreement,
        "binding": result.binding,
        "reason": str(result.reason),
        "round": result.round,
        "months": result.months,
        "bargaining": str(result.settings.bargaining),
        "belief_gap_start": result.belief_gap_start,
        "belief_gap_end": result.belief_gap_end,
        "walked_out": ",".join(result.walkouts),
        "walkout_reason": ",".join(result.walkout_reasons),
        "outcome": -1 if outcome is None else outcome,
        "framework_outcome": -1 if result.framework is None else result.framework,
        "contact_line": result.contact_line,
        "p_share": result.p_share,
        "zopa_size": result.zopa_size,
        "signed_outcome": -1 if result.signed is None else result.signed,
        "rejected_by": ",".join(result.rejected_by),
        "enforcement": str(result.settings.enforcement),
        **enforcement_columns(result),
    }
    levels = scenario.space.levels_of(outcome) if outcome is not None else {}
    for k, issue in enumerate(scenario.space.issues):
        row[issue.name] = levels.get(issue.name)
        if issue.positioned:
            row[f"{issue.name}_position"] = (
                np.nan if outcome is None else float(scenario.space.grid_positions[outcome, k])
            )
    for i, party in enumerate(scenario.parties):
        row[f"u_{party}"] = np.nan if outcome is None else float(U[i, outcome])
        row[f"reservation_{party}"] = float(d[i])
    for concept in ("nash", "kalai_smorodinsky"):
        row[f"{concept}_outcome"] = -1 if concepts[concept] is None else concepts[concept]
    row["dist_nash"] = _distance(U, outcome, concepts["nash"])
    row["dist_ks"] = _distance(U, outcome, concepts["kalai_smorodinsky"])
    return row


def enforcement_columns(result: NegotiationResult) -> dict[str, float]:
    """Under self-enforcement: whether the deal is self-enforcing (1/0), the months until
    the anticipated renewed war (NaN when it holds through the foresight) and how many
    outcomes are self-enforcing; NaN where not judged."""
    found = result.anticipation
    self_enforcing = result.self_enforcing
    renewal = result.renewal_month
    return {
        "self_enforcing": np.nan if self_enforcing is None else float(self_enforcing),
        "renewal_month": np.nan if renewal is None else renewal,
        "self_enforcing_outcomes": (
            np.nan if found is None else float(np.count_nonzero(found.self_enforcing))
        ),
    }


@dataclasses.dataclass(frozen=True)
class ReplicationInputs:
    """What one replication negotiates with: its scenario and war parameters after its
    draws, and the seeds of its negotiation and of its stability measures."""

    scenario: Scenario
    war_params: war.WarParameters
    draws: dict[str, float]
    model_seed: np.random.SeedSequence
    stability_seed: np.random.SeedSequence


def replication_inputs(
    scenario: Scenario,
    design: Design,
    seed: np.random.SeedSequence,
    point: dict[str, float] | None = None,
) -> ReplicationInputs:
    """Draw one replication's uncertain parameters (`design.uncertainties`; grid
    parameters at `point`); its three random streams (draws, negotiation, stability) are
    children of its SeedSequence."""
    draws_seed, model_seed, stability_seed = streams(seed)
    draws_rng = np.random.default_rng(draws_seed)
    draws = draw_uncertain(design.uncertainties, draws_rng, point)
    rep_scenario, wp = apply_draws(scenario, draws, draws_rng, design.uncertainties)
    return ReplicationInputs(rep_scenario, wp, draws, model_seed, stability_seed)


def result_rows(
    results: list[NegotiationResult],
    inputs: list[ReplicationInputs],
    stability: StabilitySettings,
    cache: dict[int, tuple] | None = None,
) -> list[dict[str, Any]]:
    """Replications' rows: the negotiation, its draws, the agreement's stability (assessed
    as a batch, each from its own stability seed); `cache` is the job's
    (`stability_rows`)."""
    rows = []
    for result, x in zip(results, inputs, strict=True):
        row = negotiation_row(result)
        row.update({f"{k}_drawn": v for k, v in x.draws.items()})
        rows.append(row)
    rngs = [np.random.default_rng(x.stability_seed) for x in inputs]
    for row, found in zip(rows, stability_rows(results, stability, rngs, cache), strict=True):
        row.update(found)
    return rows


def negotiate(
    job: Job,
    seeds: list[np.random.SeedSequence],
    points: list[dict[str, float]] | None = None,
    trace_first: bool = False,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
) -> tuple[list[dict[str, Any]], NegotiationModel | None]:
    """Draw, negotiate and assess the compiled `job`'s replications, one result row each,
    in the order of `seeds` (`points`, one per seed, are their design points). They
    negotiate as batches of `batch_size` (by default as many as
    `sim.engine.model.batch_size` allows for the outcome space); a replication's row does
    not depend on its batch. With `trace_first` the first one runs as a
    `NegotiationModel` with its trace, which is returned too. `progress(done, total)` is
    called after each batch. With `on_rows` each batch's rows go to it as they are made
    and none are kept (the list returned is empty): the memory of one batch, however many
    replications."""
    scenario, design, stability = job.scenario, job.design, job.stability
    settings = dataclasses.replace(job.settings, collect_trace=False)
    size = batch_size or default_batch_size(len(scenario.parties), scenario.space.size)
    rows: list[dict[str, Any]] = []
    done = 0
    cache: dict[int, tuple] = {}

    def emit(found: list[dict[str, Any]]) -> None:
        nonlocal done
        done += len(found)
        if on_rows is None:
            rows.extend(found)
        else:
            on_rows(found)

    first = None
    start = 0
    if trace_first and seeds:
        x = replication_inputs(scenario, design, seeds[0], points[0] if points else None)
        first = NegotiationModel(
            x.scenario,
            dataclasses.replace(settings, collect_trace=True),
            x.war_params,
            x.model_seed,
        ).run()
        emit(result_rows([first.result(0)], [x], stability, cache))
        start = 1
    for begin in range(start, len(seeds), size):
        inputs = [
            replication_inputs(scenario, design, seeds[k], points[k] if points else None)
            for k in range(begin, min(begin + size, len(seeds)))
        ]
        batch = NegotiationBatch(
            [x.scenario for x in inputs],
            settings,
            [x.war_params for x in inputs],
            [x.model_seed for x in inputs],
        ).run()
        emit(result_rows([batch.result(r) for r in range(len(inputs))], inputs, stability, cache))
        # One batch's memory at a time: a batch's agents and model refer to each other, so
        # only the cycle collector frees it, and it may not run before the next is built.
        del batch, inputs
        collect_batch()
        if progress is not None:
            progress(done, len(seeds))
    return rows, first
