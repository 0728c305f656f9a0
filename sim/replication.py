"""One replication as a plain function returning a flat dict (EMA Workbench's model form).

A replication draws its uncertain parameters from the distributions in `uncertainty`,
negotiates once, and measures the agreement's stability. Its three random streams (draws,
negotiation, stability) are children of the replication's SeedSequence, so a row can be
re-run alone from (config, seed, replication).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from sim import beliefs, solutions, stability, war
from sim.designs import Distribution, Uncertain, active_uncertainties
from sim.model import NegotiationBatch, NegotiationModel, NegotiationResult
from sim.model import batch_size as default_batch_size
from sim.preferences import TOLERANCE
from sim.problem import Scenario
from sim.settings import BatnaMode, NegotiationSettings
from sim.stability import StabilityModel

CONCEPTS = ("nash", "kalai_smorodinsky", "egalitarian", "utilitarian")

STABILITY_COLUMNS = (
    "ir_margin",
    "pareto_gap",
    "blocking_coalitions",
    "blocking_surplus",
    "robustness",
    "durability",
    "renewed_war_share",
    "powell_violations",
    "max_power_shift",
    "commitment_ratio",
    "guarantee_force",
    "monitored",
    "blocking_coalition",
    "blocking_alternative",
    "closest_to_walking",
    "failing_parts",
)


# The parts of stability reported on their own (docs/model.md, "Stability"); `pareto_gap`
# is a check (0 for a text drafted as a Nash product), the guarantee columns describe the
# deal.
STABILITY_PARTS = ("ir_margin", "blocking_surplus", "robustness", "durability", "commitment_ratio")


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """Replication `replication`'s independent child seed: the child of that index that
    `SeedSequence(seed).spawn` would give (a spawned child's key is its index)."""
    return np.random.SeedSequence(int(seed), spawn_key=(int(replication),))


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The child seeds of a job's first `replications` replications (`replication_seed`)."""
    return [replication_seed(seed, r) for r in range(int(replications))]


def draw(value: float, dist: Distribution, scale: float, rng: np.random.Generator) -> float:
    """One draw around `value` (see `sim.designs.Distribution`)."""
    match Distribution(dist):
        case Distribution.fixed:
            return float(value)
        case Distribution.uniform:
            return float(value + rng.uniform(-scale, scale))
        case Distribution.normal:
            return float(value + rng.normal(0.0, scale))
        case Distribution.lognormal:
            return float(value * np.exp(rng.normal(0.0, scale)))


def base_value(cfg: Any, u: Uncertain) -> float:
    """The configured value a parameter is drawn around (1 for a multiplier)."""
    match u.kind:
        case "support" | "capacity":
            return float(cfg.war[u.kind][u.party])
        case "war_cost" | "capability":
            return float(cfg.parties[u.party][u.kind])
    return 1.0


def draw_uncertain(
    cfg: Any,
    rng: np.random.Generator,
    point: dict[str, float] | None = None,
    active: list[Uncertain] | None = None,
) -> dict[str, float]:
    """Drawn values (or multipliers, for war_costs and salience) by key, in draw order
    (`sim.designs.uncertain_parameters`); a grid parameter takes its value at this
    replication's design `point`, drawing nothing (`sim.designs.design_points`). `active`:
    `active_uncertainties(cfg)`, if the caller has it."""
    out = {}
    for u in active_uncertainties(cfg) if active is None else active:
        if u.kind == "salience":  # see apply_draws
            continue
        if u.dist is Distribution.grid:
            out[u.key] = float((point or {})[u.key])
            continue
        low, high = u.bounds
        out[u.key] = float(np.clip(draw(base_value(cfg, u), u.dist, u.scale, rng), low, high))
    return out


def apply_draws(
    scenario: Scenario,
    cfg: Any,
    draws: dict[str, float],
    rng: np.random.Generator,
    active: list[Uncertain] | None = None,
) -> tuple[Scenario, war.WarParameters]:
    """The replication's scenario and war parameters after the draws (`active`:
    `active_uncertainties(cfg)`, if the caller has it)."""
    active = active_uncertainties(cfg) if active is None else active
    wp = scenario.war_params
    parties = list(scenario.parties)
    supporters = list(cfg.war.support)
    aggressor, defender = (parties[i] for i in scenario.war_sides)
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


def _distance(U: np.ndarray, a: int | None, b: int | None) -> float:
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(U[:, a] - U[:, b]))


def negotiation_row(result: NegotiationResult) -> dict[str, Any]:
    """The result of one negotiation as a flat row (the seating, as configured, is among
    the job's parameters: `sim.experiment.flat_parameters`)."""
    scenario = result.scenario
    U = scenario.utilities
    d = result.reservations
    outcome = result.outcome
    concepts = concept_outcomes(U, d, scenario.acceptable)
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


def deal_structure(
    scenario: Scenario, outcome: int, cache: dict[int, tuple] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """For a deal: who must consent to each move away from it, which outcomes change
    something, which outcomes each party's red lines allow, what each coalition could
    reach alone, and the coalitions. The replications of a job share grid, control and
    red lines, so a job keeps these per deal in `cache`."""
    if cache is not None and outcome in cache:
        return cache[outcome]
    grid = scenario.space.grid
    needs, changed = stability.change_needs(
        grid, grid[outcome], scenario.issue_control, scenario.level_control
    )
    allowed = ~scenario.red_line_crossed.T
    members = stability.coalitions(len(scenario.parties))
    options = stability.coalition_options(needs, changed, allowed, members)
    found = (needs, changed, allowed, options, members)
    if cache is not None:
        cache[outcome] = found
    return found


def _salience_draws(
    result: NegotiationResult,
    st: Any,
    rng: np.random.Generator,
    options: np.ndarray,
    every_outcome: bool,
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """The robustness draws' salience factors (draws, parties, issues), drawn first; the
    outcomes they are computed for (those some coalition could move to, and the deal; all
    with `every_outcome`), the deal's position among them, and the parties' utilities there
    under the drawn saliences, (parties, outcomes, draws)."""
    prefs, outcome = result.scenario.preferences, result.outcome
    factors = np.exp(
        rng.normal(0.0, st.salience_spread, (int(st.robustness_draws), *prefs.weights.shape))
    )
    relevant = np.ones(options.shape[0], dtype=bool) if every_outcome else options.any(axis=1)
    relevant[outcome] = True
    (subset,) = np.nonzero(relevant)
    U_draws = stability.perturbed_utilities(
        prefs.weights,
        prefs.level_values,
        result.scenario.space.grid[subset],
        factors,
        parties_first=True,
        links=prefs.links,
    )
    return factors, subset, int(np.searchsorted(subset, outcome)), U_draws


def robustness(
    result: NegotiationResult,
    st: Any,
    rng: np.random.Generator,
    structure: tuple,
    every_outcome: bool = False,
) -> float:
    """Share of `st.robustness_draws` draws of the uncertain inputs in which the deal stays
    in every signatory's acceptable set (worth at least its BATNA as it believes it) and no
    coalition blocks it (docs/model.md, "Robustness").

    Drawn around the replication's own values: support levels (normal, `support_spread`),
    the belligerents' capacities and the supporters' capabilities (log-normal,
    `capability_spread`), each party's war cost (log-normal, `cost_spread`), saliences
    (log-normal, `salience_spread`) and, when bargaining while fighting, each party's
    optimism (normal, `belief_spread`). The BATNAs are the war's value from the deal's line
    with the guarantee in force during the talks; static BATNAs stay as they are. Only
    outcomes some coalition could move to can block, so by default the perturbed utilities
    are computed for those and the deal alone; `every_outcome` computes them for the whole
    space (the same share, slower: the oracle of the shortcut)."""
    scenario = result.scenario
    k_draws = int(st.robustness_draws)
    prefs = scenario.preferences
    n_parties = len(scenario.parties)
    factors, subset, deal, U_draws = _salience_draws(result, st, rng, structure[3], every_outcome)
    if result.settings.batna is BatnaMode.war:
        wp = result.war_params
        supports = np.clip(
            wp.supports + rng.normal(0.0, st.support_spread, (k_draws, wp.supports.size)), 0, 1
        )
        scale = np.exp(rng.normal(0.0, st.capability_spread, (k_draws, 2 + wp.supports.size)))
        capabilities = wp.supporter_capabilities * scale[:, 2:]
        strength = war.defender_strength(wp, supports, capabilities) + wp.defender_capacity * (
            scale[:, 1] - 1.0
        )
        aggressor = war.aggressor_strength(
            wp, wp.aggressor_capacity * scale[:, 0], supports, capabilities
        )
        p = war.strength_share(aggressor, strength)
        costs = scenario.war_costs * np.exp(rng.normal(0.0, st.cost_spread, (k_draws, n_parties)))
        shift = np.zeros((k_draws, n_parties))
        if result.settings.fighting:
            optimism = scenario.party_optimism + rng.normal(
                0.0, st.belief_spread, (k_draws, n_parties)
            )
            shift = optimism * beliefs.sides(prefs.level_values[scenario.territory_k])
        batna = scenario.war_batna(
            wp, weights=stability.perturbed_weights(prefs.weights, factors), costs=costs
        )
        believed = war.target_line(np.clip(p[:, None] + shift, 0.0, 1.0), wp.low, wp.high)
        d_draws = war.own_values(batna, np.full(k_draws, result.contact_line), believed)
    else:
        d_draws = np.broadcast_to(result.reservations, (k_draws, n_parties))
    return _share_rational_unblocked(U_draws, deal, d_draws, result.signatories, structure, subset)


def _share_rational_unblocked(
    U_draws: np.ndarray,
    deal: int,
    d_draws: np.ndarray,
    signatories: np.ndarray,
    structure: tuple,
    subset: np.ndarray,
) -> float:
    """Share of draws in which the deal (column `deal` of `U_draws`, (parties, outcomes
    `subset`, draws), overwritten) is worth its BATNA (`d_draws`, (draws, parties)) to every
    signatory and no coalition blocks it (`deal_structure`)."""
    needs, changed, allowed, options, members = structure
    u_draws = U_draws[:, deal, :].T  # (draws, parties), a copy
    ir_ok = ((u_draws - d_draws)[:, signatories] >= -TOLERANCE).all(axis=1)
    U_draws -= u_draws.T[:, None, :]  # now the gains over the deal
    counts, _ = stability.blocking_by_party(
        U_draws, needs[subset], changed[subset], allowed[subset], members, options[subset]
    )
    return float((ir_ok & (counts == 0)).mean())


def robustness_linear(
    result: NegotiationResult,
    st: Any,
    rng: np.random.Generator,
    structure: tuple,
    every_outcome: bool = False,
) -> float:
    """`StabilityModel.linear`: share of `st.robustness_draws` perturbations of saliences,
    capabilities (through the war BATNA) and BATNAs under which the deal stays individually
    rational and unblocked.

    Only outcomes some coalition could move to can block, so by default the perturbed
    utilities are computed for those and the deal alone; `every_outcome` computes them for
    the whole space (the same share, slower: the oracle of the shortcut)."""
    scenario = result.scenario
    k_draws = int(st.robustness_draws)
    _, subset, deal, U_draws = _salience_draws(result, st, rng, structure[3], every_outcome)
    wp = result.war_params
    cap_noise = np.exp(rng.normal(0.0, st.capability_spread, (k_draws, wp.supports.size + 1)))
    res_noise = rng.normal(0.0, st.reservation_spread, (k_draws, len(scenario.parties)))
    if result.settings.batna is BatnaMode.war:
        d_draws = result.war_batna.draws(
            wp.aggressor_capacity * cap_noise[:, 0],
            wp.supporter_capabilities * cap_noise[:, 1:],
            result.contact_line,
        )
    else:
        d_draws = np.broadcast_to(result.reservations, res_noise.shape)
    d_draws = d_draws + res_noise
    return _share_rational_unblocked(U_draws, deal, d_draws, result.signatories, structure, subset)


def stability_row(
    result: NegotiationResult,
    cfg: Any,
    rng: np.random.Generator,
    cache: dict[int, tuple] | None = None,
) -> dict[str, Any]:
    """The stability parts of the binding agreement (NaN without one), by
    `stability.model`; `cache` keeps `deal_structure` per deal across the replications of
    one job."""
    st = cfg.stability
    empty: dict[str, Any] = dict.fromkeys(STABILITY_COLUMNS, np.nan)
    empty.update(blocking_coalitions=-1, stable=False, stability_score=0.0, monitored=False)
    empty.update(
        blocking_coalition="", blocking_alternative="", closest_to_walking="", failing_parts=""
    )
    outcome = result.outcome
    if outcome is None or not result.binding:
        return empty
    scenario = result.scenario
    U = scenario.utilities
    u = U[:, outcome]

    ir = stability.ir_margin(u, result.reservations, result.signatories)
    gap = stability.pareto_gap(U, outcome, scenario.acceptable)
    structure = deal_structure(scenario, outcome, cache)
    needs, changed, allowed, options, members = structure
    n_block, surplus = stability.blocking(U.T - u, needs, changed, allowed, members, options)
    linear = StabilityModel(st.model) is StabilityModel.linear
    robust = (robustness_linear if linear else robustness)(result, st, rng, structure)
    dp = stability.DurabilityParameters(
        periods=int(st.durability_periods),
        paths=int(st.durability_paths),
        support_shock=float(st.support_shock),
        capacity_shock=float(st.capacity_shock),
        guarantee_strength=float(st.guarantee_strength),
        guarantee_cost=float(st.guarantee_cost),
    )
    if linear:
        durable = _durability_linear(result, cfg, dp, rng)
        score = stability.stability_score_linear(
            ir, gap, n_block, len(members), robust, durable["durability"]
        )
    else:
        durable = _durability(result, dp, rng)
        score = stability.stability_score(robust, durable["durability"])
    t = stability.Thresholds(**{k: v for k, v in st.thresholds.items()})
    row: dict[str, Any] = {
        "ir_margin": ir,
        "pareto_gap": gap,
        "blocking_coalitions": int(n_block),
        "blocking_surplus": float(surplus),
        "robustness": robust,
        **durable,
    }
    row["stable"] = stability.is_stable(
        ir, gap, n_block, robust, durable["durability"], t, durable["commitment_ratio"]
    )
    row["stability_score"] = score
    row.update(_reasons(result, row, t, structure))
    return row


def _reasons(
    result: NegotiationResult, row: dict[str, Any], t: stability.Thresholds, structure: tuple
) -> dict[str, str]:
    """Why the deal holds or breaks, as text a sweep can count: the strongest blocking
    coalition and the outcome it would move to, the signatory nearest its BATNA, the parts
    outside their thresholds."""
    scenario, outcome = result.scenario, result.outcome
    U = scenario.utilities
    needs, changed, allowed, options, members = structure
    block = None
    if row["blocking_coalitions"] > 0:  # the search only where `blocking` found one
        gains = U.T - U[:, outcome]
        block = stability.strongest_block(gains, needs, changed, allowed, members, options)
    margins = np.where(result.signatories, U[:, outcome] - result.reservations, np.inf)
    failing = [
        name
        for name, fails in (
            ("ir_margin", row["ir_margin"] < t.ir_margin - TOLERANCE),
            ("pareto_gap", row["pareto_gap"] > t.pareto_gap + TOLERANCE),
            ("blocking_coalitions", row["blocking_coalitions"] > t.blocking_coalitions),
            ("robustness", row["robustness"] < t.robustness),
            ("durability", row["durability"] < t.durability),
            ("commitment_ratio", row["commitment_ratio"] > t.commitment_ratio),
        )
        if fails
    ]
    return {
        "blocking_coalition": ""
        if block is None
        else ",".join(np.asarray(scenario.parties)[block[0]]),
        "blocking_alternative": "" if block is None else scenario.space.describe(block[1]),
        "closest_to_walking": scenario.parties[int(np.argmin(margins))],
        "failing_parts": ",".join(failing),
    }


def _deal_line(result: NegotiationResult) -> float:
    scenario, k = result.scenario, result.scenario.territory_k
    return float(scenario.space.issues[k].positions[scenario.space.grid[result.outcome, k]])


def _durability(
    result: NegotiationResult, dp: stability.DurabilityParameters, rng: np.random.Generator
) -> dict[str, Any]:
    """`stability.durability` of the deal: renewed war valued with the deal's guarantee and,
    without monitors, each party's optimism (bargaining while fighting)."""
    scenario, outcome = result.scenario, result.outcome
    level = scenario.guarantee_level(outcome)
    monitored = level is not None and bool(scenario.guarantee_monitored[level])
    shift = np.zeros(len(scenario.parties))
    if result.settings.fighting and not monitored:
        territory = scenario.preferences.level_values[scenario.territory_k]
        shift = scenario.party_optimism * beliefs.sides(territory)
    batna = scenario.war_batna(result.war_params, outcome)
    found = stability.durability(
        scenario.utilities[:, outcome],
        batna,
        _deal_line(result),
        scenario.war_sides,
        shift,
        dp,
        rng,
    )
    return {**found, "guarantee_force": _force(result), "monitored": monitored}


def _force(result: NegotiationResult) -> float:
    """The force behind the deal's guarantee (`war.guarantee_force`); 0 without one."""
    level = result.scenario.guarantee_level(result.outcome)
    return 0.0 if level is None else float(result.scenario.guarantee_force[level])


def _durability_linear(
    result: NegotiationResult,
    cfg: Any,
    dp: stability.DurabilityParameters,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """`stability.durability_linear` of the deal: the guarantee's strength linear in its
    position on the guarantees issue."""
    scenario, outcome, st = result.scenario, result.outcome, cfg.stability
    space = scenario.space
    guarantee = 0.0
    if st.guarantees_issue is not None and st.guarantees_issue in space.names:
        gk = space.names.index(st.guarantees_issue)
        g_issue = space.issues[gk]
        if g_issue.positioned:
            guarantee = stability.guarantee_level(float(g_issue.positions[space.grid[outcome, gk]]))
    aggressor, defender = scenario.war_sides
    found = stability.durability_linear(
        scenario.utilities[:, outcome],
        result.war_batna,
        scenario.war_costs,
        _deal_line(result),
        guarantee,
        aggressor,
        defender,
        dp,
        rng,
    )
    # The linear model has no commitment ratio: its Powell test is the one-month one.
    return {
        **found,
        "commitment_ratio": np.nan,
        "guarantee_force": _force(result),
        "monitored": False,
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
    cfg: Any,
    seed: np.random.SeedSequence,
    point: dict[str, float] | None = None,
    active: list[Uncertain] | None = None,
) -> ReplicationInputs:
    """Draw one replication's uncertain parameters (grid parameters at `point`); its
    three random streams (draws, negotiation, stability) are children of its SeedSequence.
    `active`: `active_uncertainties(cfg)`, if the caller has it."""
    draws_seed, model_seed, stability_seed = seed.spawn(3)
    draws_rng = np.random.default_rng(draws_seed)
    active = active_uncertainties(cfg) if active is None else active
    draws = draw_uncertain(cfg, draws_rng, point, active)
    rep_scenario, wp = apply_draws(scenario, cfg, draws, draws_rng, active)
    return ReplicationInputs(rep_scenario, wp, draws, model_seed, stability_seed)


def result_row(
    result: NegotiationResult,
    inputs: ReplicationInputs,
    cfg: Any,
    cache: dict[int, tuple] | None = None,
) -> dict[str, Any]:
    """A replication's row: the negotiation, its draws, the agreement's stability;
    `cache` is the job's (`stability_row`)."""
    row = negotiation_row(result)
    row.update({f"{k}_drawn": v for k, v in inputs.draws.items()})
    rng = np.random.default_rng(inputs.stability_seed)
    row.update(stability_row(result, cfg, rng, cache))
    return row


def negotiate(
    scenario: Scenario,
    cfg: Any,
    seeds: list[np.random.SeedSequence],
    points: list[dict[str, float]] | None = None,
    trace_first: bool = False,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, Any]], NegotiationModel | None]:
    """Draw, negotiate and assess replications, one result row each, in the order of
    `seeds` (`points`, one per seed, are their design points). They negotiate as batches of
    `batch_size` (by default as many as `sim.model.batch_size` allows for the outcome
    space); a replication's row does not depend on its batch. With `trace_first` the first
    one runs as a `NegotiationModel` with its trace, which is returned too.
    `progress(done, total)` is called after each batch."""
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    size = batch_size or default_batch_size(len(scenario.parties), scenario.space.size)
    rows: list[dict[str, Any]] = []
    cache: dict[int, tuple] = {}
    active = active_uncertainties(cfg)  # once for the job: every replication draws these
    first = None
    start = 0
    if trace_first and seeds:
        x = replication_inputs(scenario, cfg, seeds[0], points[0] if points else None, active)
        first = NegotiationModel(
            x.scenario,
            NegotiationSettings.from_config(cfg, collect_trace=True),
            x.war_params,
            x.model_seed,
        ).run()
        rows.append(result_row(first.result(0), x, cfg, cache))
        start = 1
    for begin in range(start, len(seeds), size):
        inputs = [
            replication_inputs(scenario, cfg, seeds[k], points[k] if points else None, active)
            for k in range(begin, min(begin + size, len(seeds)))
        ]
        batch = NegotiationBatch(
            [x.scenario for x in inputs],
            settings,
            [x.war_params for x in inputs],
            [x.model_seed for x in inputs],
        ).run()
        rows += [result_row(batch.result(r), x, cfg, cache) for r, x in enumerate(inputs)]
        if progress is not None:
            progress(len(rows), len(seeds))
    return rows, first
