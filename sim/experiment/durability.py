"""How long each deal holds (docs/model.md, "Durability and Powell's commitment test"):
the core's durability run on each deal, batched (`mechanisms`, `deal`) or one by one
(`linear`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.core import beliefs, stability, war
from sim.engine.result import NegotiationResult


def deal_line(result: NegotiationResult) -> float:
    scenario, k = result.scenario, result.scenario.territory_k
    return float(scenario.space.issues[k].positions[scenario.space.grid[result.outcome, k]])


def deal_durability(
    results: list[NegotiationResult],
    post_deal: stability.DurabilityParameters,
    walks: list[tuple[np.ndarray, np.ndarray]],
) -> dict[str, np.ndarray]:
    """`stability.durability_batch` of the deals: renewed war valued with each deal's
    guarantee and, without monitors, each party's optimism (bargaining while fighting).
    Without a war (no belligerents) every deal holds: there is no war to renew."""
    if results[0].scenario.war_sides is None:
        n = len(results)
        held = {key: np.ones(n) for key in ("durability", "durable_paths")}
        quiet = ("renewed_war_share", "powell_violations", "max_power_shift", "commitment_ratio")
        return {
            **held,
            **{key: np.zeros(n) for key in (*quiet, "guarantee_force")},
            "monitored": np.zeros(n, dtype=bool),
        }
    shifts, monitored = [], []
    for r in results:
        scenario = r.scenario
        level = scenario.guarantee_level(r.outcome)
        watched = level is not None and bool(scenario.guarantee_monitored[level])
        shift = np.zeros(len(scenario.parties))
        if r.settings.fighting and not watched:
            territory = scenario.preferences.level_values[scenario.territory_k]
            shift = scenario.party_optimism * beliefs.sides(territory)
        shifts.append(shift)
        monitored.append(watched)
    found = stability.durability_batch(
        np.stack([r.scenario.utilities[:, r.outcome] for r in results]),
        war.join_batnas([r.scenario.war_batna(r.war_params, r.outcome) for r in results]),
        np.array([deal_line(r) for r in results]),
        results[0].scenario.war_sides,
        np.stack(shifts),
        post_deal,
        np.stack([w[0] for w in walks]),
        np.stack([w[1] for w in walks]),
    )
    found["guarantee_force"] = np.array([deal_force(r) for r in results])
    found["monitored"] = np.array(monitored)
    return found


def deal_force(result: NegotiationResult) -> float:
    """The force behind the deal's guarantee (`war.guarantee_force`); 0 without one."""
    level = result.scenario.guarantee_level(result.outcome)
    return 0.0 if level is None else float(result.scenario.guarantee_force[level])


def deal_durability_linear(
    result: NegotiationResult,
    guarantees_issue: str | None,
    post_deal: stability.DurabilityParameters,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """`stability.durability_linear` of the deal: the guarantee's strength linear in its
    position on `guarantees_issue`."""
    scenario, outcome = result.scenario, result.outcome
    space = scenario.space
    guarantee = 0.0
    if guarantees_issue is not None and guarantees_issue in space.names:
        gk = space.names.index(guarantees_issue)
        g_issue = space.issues[gk]
        if g_issue.positioned:
            guarantee = stability.guarantee_level(float(g_issue.positions[space.grid[outcome, gk]]))
    if scenario.war_sides is None:  # no war to renew: the deal holds
        quiet = ("renewed_war_share", "powell_violations", "max_power_shift", "guarantee_force")
        held = {"durability": 1.0, "commitment_ratio": np.nan, "monitored": False}
        return {**held, **dict.fromkeys(quiet, 0.0)}
    aggressor, defender = scenario.war_sides
    found = stability.durability_linear(
        scenario.utilities[:, outcome],
        result.war_batna,
        scenario.war_costs,
        deal_line(result),
        guarantee,
        aggressor,
        defender,
        post_deal,
        rng,
    )
    # The linear model has no commitment ratio: its Powell test is the one-month one.
    return {
        **found,
        "commitment_ratio": np.nan,
        "guarantee_force": deal_force(result),
        "monitored": False,
    }
