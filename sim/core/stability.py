"""Is an agreement stable? Each part a pure function (docs/model.md, "Stability").

1. individual rationality: `ir_margin`, the smallest surplus over the BATNA;
2. Pareto efficiency: `pareto_gap`, how much another outcome raises every party at once;
3. coalition-proofness: coalitions that control the issues they would change and all
   strictly prefer an alternative (the core of an NTU game with issue control, after
   Aumann 1961, with the control rules of docs/model.md, "Stability");
4. robustness: the share of draws of the uncertain inputs under which 1 and 3 still hold;
5. durability: the share of post-agreement months in which no belligerent's value of
   renewed war beats the deal while power and support drift, with guarantees as
   mechanisms (Fortna 2004, *Peace Time*; Walter 2002) and Powell's (2006) commitment
   test over the war's horizon (`commitment_ratio`).

`StabilityModel.linear` keeps the measures as they were before (noise on saliences,
capabilities and reservations; a one-month Powell test against zero-mean noise; guarantees
linear in their position; the score a mean of the five parts).
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core import war
from sim.core.preferences import TOLERANCE, Link, link_gain


class StabilityModel(enum.StrEnum):
    """How robustness, durability and the score are measured (docs/model.md)."""

    mechanisms = "mechanisms"  # uncertain inputs, drift, Powell over the horizon, guarantees
    # as force and monitoring, score = robustness x durability
    linear = "linear"  # the first measures, kept to compare with: noise, one-month Powell,
    # linear guarantees, the score a mean
    deal = "deal"  # mechanisms judged under the deal's own terms: robustness with its
    # guarantee in force, durability the share of paths with no renewed war (Powell's test
    # month by month on each), `stable` its parts alone (IR margin, Pareto gap and Powell's
    # ratio reported as checks), the deciding part named

    @property
    def parts(self) -> tuple[str, ...]:
        """The row's columns that `stable` requires (`is_stable`), in `deciding_part`'s
        order of precedence on a tie."""
        decided = ("blocking_coalitions", "robustness", "durability")
        if self is StabilityModel.deal:  # Powell's test is inside durability's, path by path
            return decided
        return ("ir_margin", "pareto_gap", *decided, "commitment_ratio")


def ir_margin(u: np.ndarray, d: np.ndarray, signatories: np.ndarray) -> float:
    """Smallest u_i - d_i over the signatories (bool mask); negative means irrational."""
    if not signatories.any():
        return float("nan")
    return float((u - d)[signatories].min())


def pareto_gap(U: np.ndarray, outcome: int, feasible: np.ndarray | None = None) -> float:
    """max over feasible o' of min_i (u_i(o') - u_i(outcome)), floored at 0.

    0 when no outcome raises every party at once (weakly Pareto-optimal); the size of the
    uniform gain on the table otherwise.
    """
    gains = U - U[:, [outcome]]
    if feasible is not None:
        gains = gains[:, feasible]
    if gains.shape[1] == 0:
        return 0.0
    return max(float(gains.min(axis=0).max()), 0.0)


def change_needs(
    level_indices: np.ndarray,
    outcome_levels: np.ndarray,
    issue_control: tuple[np.ndarray, ...],
    level_control: tuple[np.ndarray, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Who must consent to move from the deal to each other outcome.

    Changing issue k from level a to level b needs the issue's controllers and the
    controllers of levels a and b. Returns (needs (outcomes, parties), changed (outcomes,)).
    """
    n_outcomes = level_indices.shape[0]
    n_parties = issue_control[0].shape[0]
    needs = np.zeros((n_outcomes, n_parties), dtype=bool)
    changed_any = np.zeros(n_outcomes, dtype=bool)
    for k, (base, levels) in enumerate(zip(issue_control, level_control, strict=True)):
        changed = level_indices[:, k] != outcome_levels[k]
        changed_any |= changed
        who = (
            base[None, :] | levels[:, outcome_levels[k]][None, :] | levels[:, level_indices[:, k]].T
        )
        needs |= changed[:, None] & who
    return needs, changed_any


def coalitions(n_parties: int) -> list[np.ndarray]:
    """Every non-empty coalition as a bool mask, smallest first."""
    out = []
    for size in range(1, n_parties + 1):
        for members in itertools.combinations(range(n_parties), size):
            mask = np.zeros(n_parties, dtype=bool)
            mask[list(members)] = True
            out.append(mask)
    return out


def blocking(
    gains: np.ndarray,
    needs: np.ndarray,
    changed: np.ndarray,
    allowed: np.ndarray,
    members: list[np.ndarray],
    options: np.ndarray | None = None,
) -> tuple[int, float]:
    """Count of blocking coalitions and the largest blocking surplus.

    Parameters
    ----------
    gains : (..., outcomes, parties) u_i(o') - u_i(deal); leading axes are draws.
    needs : (outcomes, parties) who must consent to move to o'.
    changed : (outcomes,) o' differs from the deal.
    allowed : (outcomes, parties) o' crosses no red line of that party.
    members : coalitions as bool masks over parties.

    A coalition C blocks when some o' that only C's consent is needed for (and that
    changes something) gives every member a strictly higher utility and crosses none of
    their red lines. Returns per leading index when `gains` has leading axes.
    `options`, if given, is `coalition_options(needs, changed, allowed, members)`.
    """
    lead = gains.shape[:-2]
    n_outcomes, n_parties = gains.shape[-2:]
    by_party = gains.reshape(-1, n_outcomes, n_parties).transpose(2, 1, 0)
    count, surplus = blocking_by_party(by_party, needs, changed, allowed, members, options)
    if lead == ():
        return int(count[0]), float(surplus[0])
    return count.reshape(lead), surplus.reshape(lead)


def strongest_block(
    gains: np.ndarray,
    needs: np.ndarray,
    changed: np.ndarray,
    allowed: np.ndarray,
    members: list[np.ndarray],
    options: np.ndarray | None = None,
) -> tuple[np.ndarray, int] | None:
    """The blocking coalition with the largest surplus and the outcome it would move to:
    (members as a bool mask, outcome index), or None when no coalition blocks. `gains`
    (outcomes, parties) as in `blocking`; ties go to the smaller coalition, then the lower
    outcome."""
    if options is None:
        options = coalition_options(needs, changed, allowed, members)
    best, found = TOLERANCE, None
    for c in np.flatnonzero(options.any(axis=0)):
        can = np.flatnonzero(options[:, c])
        worst = gains[np.ix_(can, np.flatnonzero(members[c]))].min(axis=1)
        k = int(np.argmax(worst))
        if worst[k] > best:
            best, found = float(worst[k]), (members[c], int(can[k]))
    return found


def coalition_options(
    needs: np.ndarray, changed: np.ndarray, allowed: np.ndarray, members: list[np.ndarray]
) -> np.ndarray:
    """(outcomes, coalitions): the outcomes o' a coalition could move to on its own: o'
    changes something, no one outside it must consent, and none of its members' red lines
    is crossed. Two small integer products instead of a pass per coalition."""
    inside = np.array(members, dtype=np.float64)  # (coalitions, parties); exact counts
    outside_needed = needs.astype(np.float64) @ (1.0 - inside).T  # (outcomes, coalitions)
    members_refusing = (~allowed).astype(np.float64) @ inside.T
    return changed[:, None] & (outside_needed == 0) & (members_refusing == 0)


def blocking_by_party(
    gains: np.ndarray,
    needs: np.ndarray,
    changed: np.ndarray,
    allowed: np.ndarray,
    members: list[np.ndarray],
    options: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`blocking` for gains laid out parties first, (parties, outcomes, draws): per draw,
    the count of blocking coalitions and the largest blocking surplus. A coalition's rows
    are then contiguous, which keeps the robustness draws cheap."""
    n_draws = gains.shape[2]
    count = np.zeros(n_draws, dtype=np.int64)
    surplus = np.zeros(n_draws)
    if options is None:
        options = coalition_options(needs, changed, allowed, members)
    for c in np.flatnonzero(options.any(axis=0)):
        mask, can = members[c], options[:, c]
        sub = gains[np.ix_(np.flatnonzero(mask), np.flatnonzero(can))]  # (members, o', draws)
        best = sub.min(axis=0).max(axis=0)
        blocks = best > TOLERANCE
        count += blocks
        surplus = np.where(blocks, np.maximum(surplus, best), surplus)
    return count, surplus


def may_block(
    coefficients: np.ndarray,
    deal: int,
    low: np.ndarray,
    high: np.ndarray,
    options: np.ndarray,
    members: list[np.ndarray],
) -> np.ndarray:
    """(outcomes,): the outcomes some coalition could move to (`options`) for which every
    member's gain over the deal might exceed TOLERANCE under some weights between `low`
    and `high` (parties, issues). Utilities are linear in the weights
    (`Preferences.coefficients`, (parties, outcomes, issues)), so a party's largest gain
    over that box is ``sum_k max(D_ik, 0) high_ik + min(D_ik, 0) low_ik`` with ``D = C(o) -
    C(deal)``; an outcome where some member of each coalition that could take it gains at
    most TOLERANCE / 2 there (half, against rounding) blocks under no such weights."""
    (rows,) = np.nonzero(options.any(axis=1))  # the bound only where a coalition could go
    diff = coefficients[:, rows] - coefficients[:, deal, None, :]
    upper = (np.maximum(diff, 0.0) * high[:, None] + np.minimum(diff, 0.0) * low[:, None]).sum(-1)
    gains = (upper > TOLERANCE / 2).astype(np.float64)  # (parties, rows)
    inside = np.array(members, dtype=np.float64)  # (coalitions, parties)
    all_gain = (inside @ gains) == inside.sum(axis=1)[:, None]  # (coalitions, rows)
    found = np.zeros(options.shape[0], dtype=bool)
    found[rows] = (options[rows] & all_gain.T).any(axis=1)
    return found


def perturbed_weights(weights: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """(draws, parties, issues): the weights (parties, issues) scaled by `factors` and
    renormalised per party; a party with no stake (a neutral mediator's zero row) keeps
    none. Replications' weights (n, 1, parties, issues) with their factors (n, draws,
    parties, issues) give (n, draws, parties, issues)."""
    w = weights * factors
    total = w.sum(axis=-1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def perturbed_utilities(
    weights: np.ndarray,
    level_values: tuple[np.ndarray, ...],
    level_indices: np.ndarray,
    factors: np.ndarray,
    parties_first: bool = False,
    links: Sequence[Link] = (),
    penalty: np.ndarray | None = None,
) -> np.ndarray:
    """(draws, outcomes, parties) utilities with saliences scaled by `factors` (draws, P, K);
    (parties, outcomes, draws) with `parties_first`, as `blocking_by_party` takes them.
    `links` (`sim.core.preferences.Link`) add their gains under the drawn weights, `penalty`
    (parties, outcomes: `Preferences.audience_penalty`) is taken off whatever they are.
    Replications' weights and factors (`perturbed_weights`) give their draws one after
    another."""
    w = perturbed_weights(weights, factors)
    w = w.reshape(-1, *w.shape[-2:])
    # (parties, outcomes, issues) @ (parties, issues, draws): one batched matrix product.
    per_outcome = np.stack(
        [values[:, level_indices[:, k]] for k, values in enumerate(level_values)], axis=-1
    )
    by_party = np.matmul(per_outcome, w.transpose(1, 2, 0))  # (parties, outcomes, draws)
    for link in links:
        a, b = link.issues
        gain = link_gain(link, level_values, w, level_indices[:, a], level_indices[:, b])
        by_party[link.party] += gain.T  # (draws, outcomes) -> (outcomes, draws)
    if penalty is not None:
        by_party -= penalty[:, :, None]
    return by_party if parties_first else by_party.transpose(2, 1, 0)


@dataclass(frozen=True)
class DurabilityParameters:
    """Post-agreement shocks and the effect of guarantees (all J, from config)."""

    periods: int = 36  # months simulated after the deal
    paths: int = 32  # Monte Carlo paths
    support_shock: float = 0.05  # sd of the monthly change in each support level
    capacity_shock: float = 0.03  # sd of the monthly log change of the aggressor's capacity
    guarantee_strength: float = 0.5  # defender strength added by the strongest guarantee
    guarantee_cost: float = 2.0  # aggressor's cost multiplier added by the strongest guarantee


def guarantee_level(position: float, low: float = 0.0, high: float = 100.0) -> float:
    """Strength of a guarantee in [0, 1] from its position (0 = Article 5, 100 = none)."""
    return float(np.clip((high - position) / (high - low), 0.0, 1.0))


def durability_linear(
    deal_utility: np.ndarray,
    batna: war.WarBatna,
    costs_per_month: np.ndarray,
    deal_line: float,
    guarantee: float,
    aggressor: int,
    defender: int,
    post_deal: DurabilityParameters,
    rng: np.random.Generator,
) -> dict[str, float]:
    """`StabilityModel.linear`: share of post-deal periods in which the deal holds, and a
    one-month Powell test against the noise.

    `batna` is the parties' war BATNA (`war.war_batna`, per-party arrays of shape
    (parties,)) and `costs_per_month` (parties,) the utility each loses per month of war.
    Each path draws monthly shocks to the support levels (random walk in [0, 1]) and to
    the aggressor's capacity (log random walk). In each period a party's value of renewed
    war is its war BATNA from the deal's line (`war.WarBatna.value`), with the guarantee
    adding `guarantee * guarantee_strength` to the defender and multiplying the
    aggressor's cost by `1 + guarantee * guarantee_cost`. The period holds when no party
    values renewed war above the deal and no side faces a one-month power shift against
    it larger than its monthly cost of war (Powell 2006: then the declining side prefers
    war now).
    """
    params = batna.params
    n_sup = params.supports.size
    shocks = rng.normal(
        0.0, post_deal.support_shock, size=(post_deal.paths, post_deal.periods, n_sup)
    )
    supports = np.clip(params.supports + np.cumsum(shocks, axis=1), 0.0, 1.0)
    cap_walk = np.cumsum(
        rng.normal(0.0, post_deal.capacity_shock, size=(post_deal.paths, post_deal.periods)), axis=1
    )
    capacity = params.aggressor_capacity * np.exp(cap_walk)

    strength = war.defender_strength(
        params, supports, params.supporter_capabilities, guarantee * post_deal.guarantee_strength
    )  # (paths, periods)
    attack = war.aggressor_strength(params, capacity, supports, params.supporter_capabilities)
    p = war.strength_share(attack, strength)
    target = war.target_line(p, params.low, params.high)

    cost_factor = np.ones_like(costs_per_month)
    cost_factor[aggressor] += guarantee * post_deal.guarantee_cost
    monthly_cost = costs_per_month * cost_factor
    guaranteed = dataclasses.replace(batna, cost=war.horizon_cost(params, monthly_cost))
    war_value = guaranteed.value(deal_line, target)  # (paths, periods, parties)
    prefers_war = (war_value > deal_utility + TOLERANCE).any(axis=-1)

    # Powell: the expected shift of p over the next month, in each side's territory value.
    share_shift = np.diff(p, axis=1, prepend=p[:, :1])
    values, positions = batna.territory_values, batna.territory_positions
    weights = batna.territory_weights
    span = params.high - params.low
    slope = (
        np.abs(np.diff(values, axis=1)).max(axis=1) / np.diff(positions).min() * span
        if positions.size > 1
        else np.zeros(len(costs_per_month))
    )
    shift_against_defender = np.maximum(share_shift, 0) * weights[defender] * slope[defender]
    shift_against_aggressor = np.maximum(-share_shift, 0) * weights[aggressor] * slope[aggressor]
    powell = (shift_against_defender > monthly_cost[defender]) | (
        shift_against_aggressor > monthly_cost[aggressor]
    )
    holds = ~prefers_war & ~powell
    return {
        "durability": float(holds.mean()),
        "renewed_war_share": float(prefers_war.mean()),
        "powell_violations": float(powell.mean()),
        "max_power_shift": float(max(shift_against_defender.max(), shift_against_aggressor.max())),
    }


def commitment_ratio(
    shift: float | np.ndarray,
    discount: float,
    cost_a: float | np.ndarray,
    cost_b: float | np.ndarray,
) -> float | np.ndarray:
    """Powell (2006), "War as a Commitment Problem": ``delta shift / ((1 - delta) (c_A +
    c_B))``. `shift` is the per-period flow of value the declining side loses to the shift
    in power, `discount` the per-period discount factor, `cost_a + cost_b` the total costs of
    a war (arrays broadcast with `shift`). Above 1 no bargain can buy off the declining
    side: it prefers war now."""
    shift = np.asarray(shift, dtype=np.float64)
    costs = np.asarray(cost_a, dtype=np.float64) + cost_b
    priced = (discount < 1.0) & (costs > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = discount * shift / ((1.0 - discount) * costs)
    # no discounting or a costless war: any loss is worth fighting to avoid
    out = np.where(priced, ratio, np.where(shift > 0, np.inf, 0.0))
    return float(out) if out.ndim == 0 else out


def durability_walks(
    post_deal: DurabilityParameters, n_supporters: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One replication's zero-mean walks after a deal, drawn in this order: the support
    levels' (paths, periods, supporters) and the aggressor's log capacity's (paths,
    periods)."""
    walk = np.cumsum(
        rng.normal(
            0.0, post_deal.support_shock, (post_deal.paths, post_deal.periods, n_supporters)
        ),
        1,
    )
    cap_walk = np.cumsum(
        rng.normal(0.0, post_deal.capacity_shock, (post_deal.paths, post_deal.periods)), axis=1
    )
    return walk, cap_walk


def durability(
    deal_utility: np.ndarray,
    batna: war.WarBatna,
    deal_line: float,
    war_sides: tuple[int, int],
    believed_shift: np.ndarray,
    post_deal: DurabilityParameters,
    rng: np.random.Generator,
) -> dict[str, float]:
    """`durability_batch` of one deal, its walks drawn from `rng` (`durability_walks`)."""
    walks = durability_walks(post_deal, np.asarray(batna.params.supports).size, rng)
    found = durability_batch(
        np.asarray(deal_utility)[None],
        war.join_batnas([batna]),
        np.array([deal_line], dtype=np.float64),
        war_sides,
        np.asarray(believed_shift)[None],
        post_deal,
        *(w[None] for w in walks),
    )
    return {key: float(value[0]) for key, value in found.items()}


def durability_batch(
    deal_utility: np.ndarray,
    batna: war.WarBatna,
    deal_line: np.ndarray,
    war_sides: tuple[int, int],
    believed_shift: np.ndarray,
    post_deal: DurabilityParameters,
    support_walk: np.ndarray,
    capacity_walk: np.ndarray,
) -> dict[str, np.ndarray]:
    """`StabilityModel.mechanisms`: does each of n deals hold while power drifts?

    Per replication: `deal_utility` (n, parties), `batna` its war BATNA under the deal's
    guarantee (`war.join_batnas`), `deal_line` (n,), `believed_shift` (n, parties) and
    the walks of `durability_walks` (n, paths, periods[, supporters]).

    Month by month after the deal the aggressor's capacity and the support levels follow
    their drift (`war.drifted`) plus the zero-mean walks (`support_shock`,
    `capacity_shock`). A belligerent prefers renewed war when its value of war from the
    deal's line, toward the line it believes the new balance implies (the true one moved by
    `believed_shift`, in ``p`` units: its optimism, 0 under monitoring), beats the deal.

    Powell's test runs on the anticipated (expected, noise-free) path: in month t the
    declining side loses ``V(p_t) - V(p_{t+H})`` of its value of war over the horizon H;
    with utilities as present values, the per-period flow is ``(1 - delta^H)`` times that,
    and `commitment_ratio` compares it with the two belligerents' costs of war. Zero-mean
    noise alone never makes it fire. A month holds when no belligerent prefers war and the
    ratio is at most 1. Returns each measure per replication, (n,).
    """
    params = batna.params
    aggressor, defender = war_sides
    fighters = [aggressor, defender]
    n, paths, periods = capacity_walk.shape
    months = np.arange(1, post_deal.periods + 1, dtype=np.float64)
    capacity, supports = war.drifted(params, months)  # (n, T), (n, T, S)
    p = war.share_at(
        war.spread(params, 2),
        capacity[:, None] * np.exp(capacity_walk),
        np.clip(supports[:, None] + support_walk, 0.0, 1.0),
    )  # (n, paths, T)
    believed = np.clip(p[..., None] + believed_shift[:, None, None, :], 0.0, 1.0)
    targets = war.target_line(believed[..., fighters], params.low, params.high)
    line = np.asarray(deal_line)[:, None]
    own = war.own_values(batna.of(fighters).spread(1), line, targets.reshape(n, paths * periods, 2))
    own = own.reshape(targets.shape)
    prefers_war = (own > deal_utility[:, None, None, fighters] + TOLERANCE).any(axis=-1)

    horizon = params.horizon_months
    by_month = war.spread(params, 1)
    p_now = war.share_at(by_month, capacity, supports)
    p_later = war.share_at(by_month, *war.drifted(params, months + horizon))
    values = batna.spread(1)
    value_now = values.value(line, war.target_line(p_now, params.low, params.high))
    value_later = values.value(line, war.target_line(p_later, params.low, params.high))
    loss = np.maximum(value_now - value_later, 0.0)[..., fighters].max(axis=-1)  # (n, T)
    period_discount = params.discount**horizon
    cost = np.broadcast_to(batna.cost, deal_utility.shape)
    costs = cost[:, aggressor, None], cost[:, defender, None]
    if period_discount < 1.0:
        ratio = commitment_ratio((1.0 - period_discount) * loss, period_discount, *costs)
    else:  # no discounting: the limit of the same ratio, loss / (c_A + c_B)
        ratio = commitment_ratio(loss, 0.5, *costs)
    powell = ratio > 1.0
    holds = ~prefers_war & ~powell[:, None, :]
    return {
        "durability": holds.mean(axis=(1, 2)),
        "durable_paths": holds.all(axis=2).mean(axis=1),  # no renewed war on the path
        "renewed_war_share": prefers_war.mean(axis=(1, 2)),
        "powell_violations": powell.mean(axis=1),
        "max_power_shift": loss.max(axis=1),
        "commitment_ratio": ratio.max(axis=1),
    }


@dataclass(frozen=True)
class Thresholds:
    """What `stable` requires of each part (config `stability.thresholds`; docs/model.md,
    "Stability", for how the robustness and durability thresholds were found)."""

    ir_margin: float = 0.0
    pareto_gap: float = 0.01
    blocking_coalitions: int = 0
    robustness: float = 0.95  # derived (`least_sensitive_threshold`)
    durability: float = 0.5  # derived (`least_sensitive_threshold`)
    commitment_ratio: float = 1.0  # Powell (2006): above 1 the declining side fights


def stability_score(robust: float, durable: float) -> float:
    """The chance the deal holds both ways, the two taken as independent: it stays acceptable
    to every signatory and unblocked under the uncertain inputs (`robust`) and then holds
    month after month as power drifts (`durable`)."""
    return float(robust * durable)


def stability_score_linear(
    ir: float, gap: float, n_blocking: int, n_coalitions: int, robust: float, durable: float
) -> float:
    """`StabilityModel.linear`: mean of five parts in [0, 1]: IR (1 or 0), 1 - gap
    (capped), share of coalitions not blocking, robustness, durability."""
    parts = [
        1.0 if ir >= -TOLERANCE else 0.0,
        1.0 - min(max(gap, 0.0), 1.0),
        1.0 - n_blocking / max(n_coalitions, 1),
        robust,
        durable,
    ]
    return float(np.mean(parts))


def is_stable(
    ir: float,
    gap: float,
    n_blocking: int,
    robust: float,
    durable: float,
    t: Thresholds,
    commitment: float = 0.0,
) -> bool:
    """Every part within its threshold: rational, efficient, unblocked, robust, durable,
    and no commitment problem (`commitment`, `commitment_ratio`; NaN under `linear`)."""
    return bool(
        ir >= t.ir_margin - TOLERANCE
        and gap <= t.pareto_gap + TOLERANCE
        and n_blocking <= t.blocking_coalitions
        and robust >= t.robustness
        and durable >= t.durability
        and not commitment > t.commitment_ratio
    )


def shortfalls(row: dict, t: Thresholds) -> dict[str, float]:
    """How far each part of a deal's row is outside its threshold, as a share of the
    threshold's own scale (0 inside): the utility margin and gap in utility, a blocking
    coalition 1, robustness and durability in shares, Powell's ratio over its bound."""
    return {
        "ir_margin": max(t.ir_margin - row["ir_margin"], 0.0),
        "pareto_gap": max(row["pareto_gap"] - t.pareto_gap, 0.0),
        "blocking_coalitions": float(row["blocking_coalitions"] > t.blocking_coalitions),
        "robustness": max(t.robustness - row["robustness"], 0.0) / max(t.robustness, TOLERANCE),
        "durability": max(t.durability - row["durability"], 0.0) / max(t.durability, TOLERANCE),
        "commitment_ratio": (
            max(row["commitment_ratio"] - t.commitment_ratio, 0.0)
            / max(t.commitment_ratio, TOLERANCE)
            if np.isfinite(row["commitment_ratio"])
            else 0.0
        ),
    }


def deciding_part(row: dict, t: Thresholds, parts: Sequence[str]) -> str:
    """The part of `parts` furthest outside its threshold (`shortfalls`; the first in
    `parts` on a tie), "" when none is: what decides that the deal is not stable."""
    gaps = shortfalls(row, t)
    worst = max(parts, key=lambda name: gaps[name])
    return worst if gaps[worst] > TOLERANCE else ""


def threshold_sensitivity(values: np.ndarray, thresholds: np.ndarray, draws: int) -> np.ndarray:
    """For each candidate threshold t, the share of `values` (shares of `draws` Monte Carlo
    draws, one per deal) within one standard error of t, ``sqrt(t (1 - t) / draws)``: the
    verdicts that Monte Carlo noise, or moving the threshold by that much, could flip."""
    values = np.asarray(values, dtype=np.float64)[:, None]
    t = np.asarray(thresholds, dtype=np.float64)[None, :]
    se = np.sqrt(t * (1.0 - t) / draws)
    return (np.abs(values - t) <= se + TOLERANCE).mean(axis=0)


def least_sensitive_threshold(values: np.ndarray, candidates: np.ndarray, draws: int) -> float:
    """The candidate threshold whose verdicts the fewest deals sit on the edge of
    (`threshold_sensitivity`); among equals, the most demanding (the highest)."""
    sensitivity = threshold_sensitivity(values, candidates, draws)
    best = np.flatnonzero(sensitivity <= sensitivity.min() + TOLERANCE)
    return float(np.asarray(candidates)[best].max())
