"""A replication's seeds and its draws of the uncertain inputs (EMA Workbench's
uncertainties; `sim.experiment.designs`): independent streams spawned from
`SeedSequence(seed)`, the same in any process and with any launcher."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim.core import war
from sim.core.scenario import Scenario
from sim.experiment.designs import Distribution, Uncertain


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """Replication `replication`'s independent child seed: the child of that index that
    `SeedSequence(seed).spawn` would give (a spawned child's key is its index)."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(replication),))


def streams(seed: np.random.SeedSequence) -> list[np.random.SeedSequence]:
    """A replication's three streams (draws, negotiation, stability): the children
    `seed.spawn(3)` gives the first time, without spawning (which would change what the
    next call gets), so the same seed always gives the same streams."""
    return [
        np.random.SeedSequence(
            seed.entropy, spawn_key=(*seed.spawn_key, i), pool_size=seed.pool_size
        )
        for i in range(3)
    ]


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The child seeds of a job's first `replications` replications (`replication_seed`)."""
    return [replication_seed(seed, r) for r in range(int(replications))]


def draw(value: float, dist: Distribution, scale: float, rng: np.random.Generator) -> float:
    """One draw around `value` (see `sim.experiment.designs.Distribution`)."""
    match Distribution(dist):
        case Distribution.fixed:
            return float(value)
        case Distribution.uniform:
            return float(value + rng.uniform(-scale, scale))
        case Distribution.normal:
            return float(value + rng.normal(0.0, scale))
        case Distribution.lognormal:
            return float(value * np.exp(rng.normal(0.0, scale)))


def draw_uncertain(
    uncertainties: tuple[Uncertain, ...],
    rng: np.random.Generator,
    point: dict[str, float] | None = None,
) -> dict[str, float]:
    """Drawn values (or multipliers, for war_costs and salience) by key, in draw order
    (`sim.experiment.designs.Design.uncertainties`), each around its `base`; a grid
    parameter takes its value at this replication's design `point`, drawing nothing."""
    out = {}
    for u in uncertainties:
        if u.kind == "salience":  # see apply_draws
            continue
        if u.dist is Distribution.grid:
            out[u.key] = float((point or {})[u.key])
            continue
        low, high = u.bounds
        out[u.key] = float(np.clip(draw(u.base, u.dist, u.scale, rng), low, high))
    return out


def apply_draws(
    scenario: Scenario,
    draws: dict[str, float],
    rng: np.random.Generator,
    active: tuple[Uncertain, ...],
) -> tuple[Scenario, war.WarParameters]:
    """The replication's scenario and war parameters after the `draws` of the parameters
    `active` (`draw_uncertain`); salience factors are drawn here, from `rng`."""
    wp = scenario.war_params
    parties = list(scenario.parties)
    supporters = [parties[i] for i in scenario.supporters]
    sides = scenario.war_sides  # None without a war: no capacity is drawn
    aggressor, defender = (parties[i] for i in sides) if sides else ("", "")
    changes: dict[str, Any] = {}
    capabilities = scenario.capabilities.copy()
    costs = scenario.war_costs.copy()
    for i, party in enumerate(parties):
        capabilities[i] = draws.get(f"parties.{party}.capability", capabilities[i])
        costs[i] = draws.get(f"parties.{party}.war_cost", costs[i])
    if "war_costs" in draws:
        costs = costs * draws["war_costs"]
    wp = dataclasses.replace(
        wp,
        supports=np.array(
            [draws.get(f"war.support.{s}", wp.supports[j]) for j, s in enumerate(supporters)]
        ),
        supporter_capabilities=np.array([capabilities[parties.index(s)] for s in supporters]),
        aggressor_capacity=draws.get(f"war.capacity.{aggressor}", wp.aggressor_capacity),
        defender_capacity=draws.get(f"war.capacity.{defender}", wp.defender_capacity),
    )
    if any(u.kind in ("war_cost", "war_costs") for u in active):
        changes["war_costs"] = costs
    if any(u.kind == "capability" for u in active):
        changes["capabilities"] = capabilities
    salience = [u for u in active if u.kind == "salience"]
    if salience:
        # Every party's saliences get independent factors of mean ~1, then renormalise.
        spread = salience[0]
        shape = scenario.preferences.weights.shape
        factors = np.array(
            [draw(1.0, spread.dist, spread.scale, rng) for _ in range(shape[0] * shape[1])]
        ).reshape(shape)
        weights = scenario.preferences.weights * np.maximum(factors, 0.0)
        totals = weights.sum(axis=1, keepdims=True)
        # all factors clipped to 0: equal weights; a party with no stake keeps none
        fallback = np.where(scenario.preferences.weights.sum(axis=1, keepdims=True) > 0, 1.0, 0.0)
        weights = np.where(
            totals > 0, weights / np.where(totals > 0, totals, 1.0), fallback / shape[1]
        )
        changes["preferences"] = dataclasses.replace(scenario.preferences, weights=weights)
    if changes:
        scenario = dataclasses.replace(scenario, **changes)
    return scenario, wp
