"""How stable each deal is (docs/model.md, "Stability"): its structure (who can block it,
with what), robustness over draws of what we do not know, durability over drifting and
shocked paths, Powell's ratio, and the reasons (what breaks it), batched over deals."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim.core import beliefs, stability, war
from sim.core.preferences import TOLERANCE
from sim.core.scenario import Scenario
from sim.core.settings import BatnaMode, StabilitySettings
from sim.core.stability import StabilityModel
from sim.engine.result import NegotiationResult
from sim.experiment.durability import deal_durability, deal_durability_linear

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
    "deciding_part",
    "robustness_breaker",
    "robustness_breaker_share",
    "robustness_blocked_share",
    "robustness_shock",
)
NO_BREAK = {
    "robustness_breaker": "",
    "robustness_breaker_share": np.nan,
    "robustness_blocked_share": np.nan,
    "robustness_shock": "",
}


# The parts of stability reported on their own (docs/model.md, "Stability"); `pareto_gap`
# is a check (0 for a text drafted as a Nash product), the guarantee columns describe the
# deal.
STABILITY_PARTS = ("ir_margin", "blocking_surplus", "robustness", "durability", "commitment_ratio")


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


# Elements of perturbed utilities (parties x outcomes x draws) computed at once: bounds a
# batch's memory (2 MB, kept in cache) whatever its size.
DRAW_ELEMENTS = 1 << 18


@dataclasses.dataclass(frozen=True)
class RobustnessDraws:
    """One replication's draws for `robustness`, in the order taken from its stability
    stream: salience factors (draws, parties, issues); under war BATNAs the support levels'
    noise (draws, supporters), the capacities' and capabilities' factors (draws, 2 +
    supporters: aggressor, defender, supporters), the war costs' factors (draws, parties)
    and, bargaining while fighting, the optimism's noise (draws, parties)."""

    salience: np.ndarray
    supports: np.ndarray | None = None
    scale: np.ndarray | None = None
    costs: np.ndarray | None = None
    optimism: np.ndarray | None = None


def robustness_draws(
    result: NegotiationResult, stability_settings: StabilitySettings, rng: np.random.Generator
) -> RobustnessDraws:
    """Draw a replication's `RobustnessDraws` (the spreads of `stability_settings`)."""
    prefs, k = result.scenario.preferences, int(stability_settings.robustness_draws)
    n_parties = prefs.weights.shape[0]
    salience = np.exp(
        rng.normal(0.0, stability_settings.salience_spread, (k, *prefs.weights.shape))
    )
    if result.settings.batna is not BatnaMode.war:
        return RobustnessDraws(salience)
    n_sup = result.war_params.supports.size
    supports = rng.normal(0.0, stability_settings.support_spread, (k, n_sup))
    scale = np.exp(rng.normal(0.0, stability_settings.capability_spread, (k, 2 + n_sup)))
    costs = np.exp(rng.normal(0.0, stability_settings.cost_spread, (k, n_parties)))
    optimism = None
    if result.settings.fighting:
        optimism = rng.normal(0.0, stability_settings.belief_spread, (k, n_parties))
    return RobustnessDraws(salience, supports, scale, costs, optimism)


def robustness(
    result: NegotiationResult,
    stability_settings: StabilitySettings,
    rng: np.random.Generator,
    structure: tuple,
    every_outcome: bool = False,
) -> float:
    """`robustness_batch` of one replication, its draws taken from `rng`."""
    drawn = [robustness_draws(result, stability_settings, rng)]
    return float(robustness_batch([result], drawn, [structure], every_outcome)[0])


def robustness_batch(
    results: list[NegotiationResult],
    drawn: list[RobustnessDraws],
    structures: list[tuple],
    every_outcome: bool = False,
    detail: bool = False,
    under_deal: bool = False,
) -> Any:
    """Per replication of a job (binding deals, their `robustness_draws` and
    `deal_structure`s): the share of draws of the uncertain inputs in which its deal stays
    in every signatory's acceptable set (worth at least its BATNA as it believes it) and no
    coalition blocks it (docs/model.md, "Robustness").

    Drawn around the replication's own values: support levels (normal, `support_spread`),
    the belligerents' capacities and the supporters' capabilities (log-normal,
    `capability_spread`), each party's war cost (log-normal, `cost_spread`), saliences
    (log-normal, `salience_spread`) and, when bargaining while fighting, each party's
    optimism (normal, `belief_spread`). The BATNAs are the war's value from the deal's line
    with the guarantee in force during the talks (`under_deal`: the deal's own, as
    `stability.model=deal` judges it); static BATNAs stay as they are. Only
    outcomes some coalition could move to can block, so by default the perturbed utilities
    are computed for those and the deal alone; `every_outcome` computes them for the whole
    space (the same share, slower: the oracle of the shortcut). Every replication's draws
    go through each step at once. `detail`: also each draw's verdict (replications, draws)
    and which signatories would rather fight in it (replications, draws, parties)."""
    k = drawn[0].salience.shape[0]
    if results[0].settings.batna is BatnaMode.war:
        d_draws = _believed_war_values(results, drawn, under_deal)
    else:
        d_draws = np.stack(
            [np.broadcast_to(r.reservations, (k, r.reservations.size)) for r in results]
        )
    factors = [d.salience for d in drawn]
    ok, walks = _rational_unblocked(results, factors, d_draws, structures, every_outcome)
    return (ok.mean(axis=1), ok, walks) if detail else ok.mean(axis=1)


def _believed_war_values(
    results: list[NegotiationResult], drawn: list[RobustnessDraws], under_deal: bool = False
) -> np.ndarray:
    """(replications, draws, parties): each party's value of war from the deal's line under
    each draw, toward the line it believes the drawn balance implies; `under_deal` with the
    deal's guarantee in force, else the talks'."""
    n, k = len(results), drawn[0].salience.shape[0]
    wp = war.spread(war.join_params([r.war_params for r in results]), 1)
    stacked = {name: np.stack([getattr(d, name) for d in drawn]) for name in ("supports", "scale")}
    supports = np.clip(wp.supports + stacked["supports"], 0, 1)
    scale = stacked["scale"]
    capabilities = wp.supporter_capabilities * scale[..., 2:]
    strength = war.defender_strength(wp, supports, capabilities) + wp.defender_capacity * (
        scale[..., 1] - 1.0
    )
    aggressor = war.aggressor_strength(
        wp, wp.aggressor_capacity * scale[..., 0], supports, capabilities
    )
    p = war.strength_share(aggressor, strength)  # (n, k)
    first = results[0].scenario
    shift = np.zeros((n, k, len(first.parties)))
    if results[0].settings.fighting:
        optimism = np.stack([r.scenario.party_optimism for r in results])[:, None]
        optimism = optimism + np.stack([d.optimism for d in drawn])
        shift = optimism * beliefs.sides(first.preferences.level_values[first.territory_k])
    batna = war.join_batnas(
        [
            r.scenario.war_batna(
                r.war_params,
                r.outcome if under_deal else None,
                weights=stability.perturbed_weights(r.scenario.preferences.weights, d.salience),
                costs=r.scenario.war_costs * d.costs,
            )
            for r, d in zip(results, drawn, strict=True)
        ]
    )  # rows (n x k, parties)
    believed = war.target_line(np.clip(p[..., None] + shift, 0.0, 1.0), wp.low, wp.high)
    lines = np.repeat([r.contact_line for r in results], k)
    return war.own_values(batna, lines, believed.reshape(n * k, -1)).reshape(n, k, -1)


def _by_deal(results: list[NegotiationResult]) -> dict[int, list[int]]:
    """The replications (indices) of each deal: they share its `deal_structure`."""
    groups: dict[int, list[int]] = {}
    for j, r in enumerate(results):
        groups.setdefault(int(r.outcome), []).append(j)
    return groups


def _share_rational_unblocked(
    results: list[NegotiationResult],
    factors: list[np.ndarray],
    d_draws: np.ndarray,
    structures: list[tuple],
    every_outcome: bool,
) -> np.ndarray:
    """Per replication, the share of its draws (salience `factors` (draws, parties,
    issues), BATNAs `d_draws` (replications, draws, parties)) in which its deal is worth
    its BATNA to every signatory and no coalition blocks it (`deal_structure`)."""
    return _rational_unblocked(results, factors, d_draws, structures, every_outcome)[0].mean(axis=1)


def _rational_unblocked(
    results: list[NegotiationResult],
    factors: list[np.ndarray],
    d_draws: np.ndarray,
    structures: list[tuple],
    every_outcome: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """`_share_rational_unblocked`'s verdict per draw (replications, draws) and which
    signatories would rather fight in each (replications, draws, parties). The replications
    of one deal share outcomes and structure and go at once, in chunks of `DRAW_ELEMENTS`."""
    n, k = d_draws.shape[:2]
    ok = np.zeros((n, k), dtype=bool)
    walks = np.zeros(d_draws.shape, dtype=bool)
    prefs, grid = results[0].scenario.preferences, results[0].scenario.space.grid
    coefficients = None if every_outcome else prefs.coefficients(grid)  # same for every deal
    for outcome, members in _by_deal(results).items():
        needs, changed, allowed, options, coalitions = structures[members[0]]
        weights = np.stack([results[j].scenario.preferences.weights for j in members])[:, None]
        if every_outcome:
            relevant = np.ones(options.shape[0], dtype=bool)
        else:  # only outcomes that may block under some draw's weights (`may_block`)
            drawn = stability.perturbed_weights(weights, np.stack([factors[j] for j in members]))
            low, high = drawn.min(axis=(0, 1)), drawn.max(axis=(0, 1))
            relevant = stability.may_block(coefficients, outcome, low, high, options, coalitions)
        relevant[outcome] = True
        (subset,) = np.nonzero(relevant)
        deal = int(np.searchsorted(subset, outcome))
        chunk = max(1, DRAW_ELEMENTS // (prefs.weights.shape[0] * subset.size * k))
        for begin in range(0, len(members), chunk):
            part = members[begin : begin + chunk]
            U_draws = stability.perturbed_utilities(
                weights[begin : begin + chunk],
                prefs.level_values,
                grid[subset],
                np.stack([factors[j] for j in part]),
                parties_first=True,
                links=prefs.links,
                penalty=prefs.audience_penalty(grid[subset]),
            )  # (parties, outcomes in subset, part x draws)
            u_draws = U_draws[:, deal, :].T  # (part x draws, parties), a copy
            signatories = np.repeat(np.stack([results[j].signatories for j in part]), k, axis=0)
            margins = u_draws - d_draws[part].reshape(len(part) * k, -1)
            walking = (margins < -TOLERANCE) & signatories
            walks[part] = walking.reshape(len(part), k, -1)
            ir_ok = ~walking.any(axis=1)
            U_draws -= u_draws.T[:, None, :]  # now the gains over the deal
            counts, _ = stability.blocking_by_party(
                U_draws,
                needs[subset],
                changed[subset],
                allowed[subset],
                coalitions,
                options[subset],
            )
            ok[part] = (ir_ok & (counts == 0)).reshape(len(part), k)
    return ok, walks


def robustness_linear(
    result: NegotiationResult,
    stability_settings: StabilitySettings,
    rng: np.random.Generator,
    structure: tuple,
    every_outcome: bool = False,
) -> float:
    """`StabilityModel.linear`: share of `stability_settings.robustness_draws` perturbations
    of saliences, capabilities (through the war BATNA) and BATNAs under which the deal stays
    individually rational and unblocked.

    Only outcomes some coalition could move to can block, so by default the perturbed
    utilities are computed for those and the deal alone; `every_outcome` computes them for
    the whole space (the same share, slower: the oracle of the shortcut)."""
    scenario = result.scenario
    k_draws = int(stability_settings.robustness_draws)
    prefs = scenario.preferences
    factors = np.exp(
        rng.normal(0.0, stability_settings.salience_spread, (k_draws, *prefs.weights.shape))
    )
    wp = result.war_params
    cap_noise = np.exp(
        rng.normal(0.0, stability_settings.capability_spread, (k_draws, wp.supports.size + 1))
    )
    res_noise = rng.normal(
        0.0, stability_settings.reservation_spread, (k_draws, len(scenario.parties))
    )
    if result.settings.batna is BatnaMode.war:
        d_draws = result.war_batna.draws(
            wp.aggressor_capacity * cap_noise[:, 0],
            wp.supporter_capabilities * cap_noise[:, 1:],
            result.contact_line,
        )
    else:
        d_draws = np.broadcast_to(result.reservations, res_noise.shape)
    d_draws = d_draws + res_noise
    shares = _share_rational_unblocked(
        [result], [factors], d_draws[None], [structure], every_outcome
    )
    return float(shares[0])


def no_deal_row() -> dict[str, Any]:
    """The stability columns of a replication without a binding agreement."""
    row: dict[str, Any] = dict.fromkeys(STABILITY_COLUMNS, np.nan)
    row.update(blocking_coalitions=-1, stable=False, stability_score=0.0, monitored=False)
    row.update(
        blocking_coalition="",
        blocking_alternative="",
        closest_to_walking="",
        failing_parts="",
        deciding_part="",
    )
    row.update(NO_BREAK)
    return row


def stability_row(
    result: NegotiationResult,
    stability_settings: StabilitySettings,
    rng: np.random.Generator,
    cache: dict[int, tuple] | None = None,
) -> dict[str, Any]:
    """`stability_rows` of one replication, drawing from `rng`."""
    return stability_rows([result], stability_settings, [rng], cache)[0]


def stability_rows(
    results: list[NegotiationResult],
    stability_settings: StabilitySettings,
    rngs: list[np.random.Generator],
    cache: dict[int, tuple] | None = None,
) -> list[dict[str, Any]]:
    """The stability parts of each replication's binding agreement (NaN without one), by
    `stability_settings.model`, each replication drawing from its own `rngs` entry; `cache` keeps
    `deal_structure` per deal across the replications of one job. Under `mechanisms` the
    replications of a batch go through every step at once (a replication's row does not
    depend on its batch)."""
    rows = [no_deal_row() for _ in results]
    deals = [j for j, r in enumerate(results) if r.outcome is not None and r.binding]
    if not deals:
        return rows
    found = [results[j] for j in deals]
    structures = [deal_structure(r.scenario, r.outcome, cache) for r in found]
    ir, gap, n_block, surplus = _deterministic_parts(found, structures)
    post_deal, model, t = (
        stability_settings.durability,
        stability_settings.model,
        stability_settings.thresholds,
    )
    if model is StabilityModel.linear:
        robust = np.array(
            [
                robustness_linear(r, stability_settings, rngs[j], s)
                for r, j, s in zip(found, deals, structures, strict=True)
            ]
        )
        durable = [
            deal_durability_linear(r, stability_settings.guarantees_issue, post_deal, rngs[j])
            for r, j in zip(found, deals, strict=True)
        ]
        scores = [
            stability.stability_score_linear(
                ir[i], gap[i], n_block[i], len(structures[i][4]), robust[i], d["durability"]
            )
            for i, d in enumerate(durable)
        ]
    else:
        drawn, walks = [], []
        for r, j in zip(found, deals, strict=True):  # each replication's stream, in order
            drawn.append(robustness_draws(r, stability_settings, rngs[j]))
            walks.append(stability.durability_walks(post_deal, r.war_params.supports.size, rngs[j]))
        under_deal = model is StabilityModel.deal
        robust, held, walkers = robustness_batch(
            found, drawn, structures, detail=True, under_deal=under_deal
        )
        breaks = [
            _what_breaks(r, d, held[i], walkers[i])
            for i, (r, d) in enumerate(zip(found, drawn, strict=True))
        ]
        measures = deal_durability(found, post_deal, walks)
        paths = measures.pop("durable_paths")
        if under_deal:  # the share of paths with no renewed war, not of months
            measures["durability"] = paths
        durable = [{key: v[i] for key, v in measures.items()} for i in range(len(found))]
        scores = [
            stability.stability_score(robust[i], d["durability"]) for i, d in enumerate(durable)
        ]
    for i, j in enumerate(deals):
        d = {key: float(v) if key != "monitored" else bool(v) for key, v in durable[i].items()}
        row: dict[str, Any] = {
            "ir_margin": float(ir[i]),
            "pareto_gap": float(gap[i]),
            "blocking_coalitions": int(n_block[i]),
            "blocking_surplus": float(surplus[i]),
            "robustness": float(robust[i]),
            **d,
        }
        checked = model is not StabilityModel.deal  # else IR, Pareto and Powell are checks
        row["stable"] = stability.is_stable(
            row["ir_margin"] if checked else np.inf,
            row["pareto_gap"] if checked else -np.inf,
            row["blocking_coalitions"],
            row["robustness"],
            d["durability"],
            t,
            d["commitment_ratio"] if checked else np.nan,
        )
        row["stability_score"] = float(scores[i])
        row.update(_reasons(found[i], row, t, structures[i]))
        decides = "" if row["stable"] else stability.deciding_part(row, t, model.parts)
        row["deciding_part"] = decides
        row.update(NO_BREAK if model is StabilityModel.linear else breaks[i])
        rows[j] = row
    return rows


def _deterministic_parts(
    results: list[NegotiationResult], structures: list[tuple]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per deal: the IR margin, the Pareto gap, the count of blocking coalitions and the
    largest blocking surplus; the deals of one outcome are checked for blocks at once."""
    n = len(results)
    ir, gap = np.empty(n), np.empty(n)
    n_block, surplus = np.zeros(n, dtype=np.int64), np.zeros(n)
    for j, r in enumerate(results):
        U = r.scenario.utilities
        ir[j] = stability.ir_margin(U[:, r.outcome], r.reservations, r.signatories)
        gap[j] = stability.pareto_gap(U, r.outcome, r.scenario.acceptable)
    for outcome, members in _by_deal(results).items():
        needs, changed, allowed, options, coalitions = structures[members[0]]
        gains = np.stack([results[j].scenario.utilities.T for j in members])
        gains = gains - gains[:, outcome, None, :]
        counts, best = stability.blocking(gains, needs, changed, allowed, coalitions, options)
        n_block[members], surplus[members] = counts, best
    return ir, gap, n_block, surplus


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


def drawn_inputs(result: NegotiationResult, drawn: RobustnessDraws) -> dict[str, Any]:
    """The inputs a robustness draw varies, by config key, each (draws,): support levels,
    the belligerents' capacities, the supporters' capabilities, war costs, optimism (the
    names are the scenario's parties)."""
    scenario = result.scenario
    parties = list(scenario.parties)
    found: dict[str, Any] = {}
    if drawn.supports is None:
        return found
    supporters = [parties[i] for i in scenario.supporters]
    aggressor, defender = (parties[i] for i in scenario.war_sides)
    for s, name in enumerate(supporters):
        found[f"war.support.{name}"] = drawn.supports[:, s]
    found[f"war.capacity.{aggressor}"] = drawn.scale[:, 0]
    found[f"war.capacity.{defender}"] = drawn.scale[:, 1]
    for s, name in enumerate(supporters):
        found[f"parties.{name}.capability"] = drawn.scale[:, 2 + s]
    for p, name in enumerate(parties):
        found[f"parties.{name}.war_cost"] = drawn.costs[:, p]
        if drawn.optimism is not None:
            found[f"parties.{name}.optimism"] = drawn.optimism[:, p]
    return found


def _what_breaks(
    result: NegotiationResult, drawn: RobustnessDraws, held: np.ndarray, walks: np.ndarray
) -> dict[str, Any]:
    """What breaks a deal in the robustness draws where it fails: the signatory that
    would rather fight in most draws (or "blocking coalition" when none would in any and a
    coalition blocks), the share of draws in which it would, the share of draws in which
    the deal fails with no signatory rather fighting (only a blocking coalition breaks it:
    with the draws where some signatory would rather fight, these make up all the failing
    draws), and the drawn input whose draws differ most between the draws the deal fails
    and holds (standardised difference of means), with its direction
    (`war.support.<s>:lower`)."""
    failed = ~held
    out: dict[str, Any] = {"robustness_breaker": "", "robustness_breaker_share": 0.0}
    out["robustness_blocked_share"] = float((failed & ~walks.any(axis=1)).mean())
    out["robustness_shock"] = ""
    if not failed.any():
        return out
    share = walks.mean(axis=0)
    if share.max() > 0:
        out["robustness_breaker"] = result.scenario.parties[int(np.argmax(share))]
        out["robustness_breaker_share"] = float(share.max())
    else:
        out["robustness_breaker"] = "blocking coalition"
        out["robustness_breaker_share"] = float(failed.mean())
    if held.any():
        best, score = "", 0.0
        for key, values in drawn_inputs(result, drawn).items():
            spread = float(values.std())
            if spread > 0:
                d = (float(values[failed].mean()) - float(values[held].mean())) / spread
                if abs(d) > abs(score):
                    best, score = key, d
        if best:
            out["robustness_shock"] = f"{best}:{'higher' if score > 0 else 'lower'}"
    return out
