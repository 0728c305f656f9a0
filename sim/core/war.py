"""War as the outside option: the contact line and each party's BATNA.

Each round without agreement is a period of war. The aggressor's share of the balance
of strength, ``p = S_a / (S_a + S_d)``, with the defender's strength resting on its own
capacity plus each supporter's support x capability, sets the line the war tends to:
``low + p (high - low)`` on the territory scale. The contact line closes a share of the
gap to it every month, plus shocks. A party's reservation value is the utility of the
expected end state of continued war over a horizon, minus the discounted cost of
fighting it: Fearon's (1995) ``p - c`` when territory is the only issue, values are
linear and the horizon is long enough for the line to reach ``p``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.core.preferences import Link, link_gain


@dataclass(frozen=True)
class WarParameters:
    """Plain numbers for the war model (from `WarConf` plus the support levels)."""

    aggressor_capacity: float
    defender_capacity: float
    supports: np.ndarray  # (supporters,) in [0, 1]
    supporter_capabilities: np.ndarray  # (supporters,)
    aid_effectiveness: float
    adjustment_rate: float  # share of the gap closed per month, in [0, 1]
    volatility: float  # sd of monthly shocks, scale points
    months_per_round: float
    horizon_months: float
    discount: float  # per month
    low: float = 0.0
    high: float = 100.0
    # After a deal (docs/model.md, "Durability"): the aggressor's capacity grows by
    # `capacity_drift` a month in logs (rebuilding during a ceasefire) and each support
    # level moves by `support_drift` (supporters,) a month; None: no drift.
    capacity_drift: float = 0.0
    support_drift: np.ndarray | None = None
    # Which side each supporter backs (supporters,): True the aggressor; None: every
    # supporter backs the defender.
    backs_aggressor: np.ndarray | None = None


def _aid(supports: np.ndarray, supporter_capabilities: np.ndarray) -> np.ndarray:
    """sum_j support_j * capability_j over the supporters (the last axis)."""
    if np.ndim(supporter_capabilities) == 1:
        return np.asarray(supports) @ supporter_capabilities
    if np.ndim(supports) == 1:
        return np.asarray(supporter_capabilities) @ supports
    return np.einsum("...j,...j->...", supports, supporter_capabilities)


def _backing(params: WarParameters, supports: np.ndarray, aggressor: bool) -> np.ndarray | None:
    """The support levels (..., supporters) of one side's backers, the others' zeroed;
    None for the aggressor's side when no supporter backs it."""
    if params.backs_aggressor is None:
        return None if aggressor else supports
    side = params.backs_aggressor if aggressor else ~params.backs_aggressor
    return np.asarray(supports) * side


def defender_strength(
    params: WarParameters,
    supports: np.ndarray,
    supporter_capabilities: np.ndarray,
    extra: float | np.ndarray = 0.0,
) -> np.ndarray:
    """S_d = defender_capacity + aid_effectiveness * sum_j support_j * capability_j over the
    defender's backers (+ extra).

    `supports` (..., supporters) and `supporter_capabilities` (..., supporters): either
    may carry leading axes (paths, draws); `extra` is strength beyond the supporters' aid
    (a guarantee), added last. A float for vectors, an array of the leading shape otherwise.
    """
    backing = _backing(params, supports, aggressor=False)
    strength = params.defender_capacity + params.aid_effectiveness * _aid(
        backing, supporter_capabilities
    )
    return strength + extra


def aggressor_strength(
    params: WarParameters,
    capacity: float | np.ndarray,
    supports: np.ndarray,
    supporter_capabilities: np.ndarray,
) -> float | np.ndarray:
    """S_a = capacity + aid_effectiveness * sum_j support_j * capability_j over the
    aggressor's backers (`backs_aggressor`); the capacity alone without any."""
    backing = _backing(params, supports, aggressor=True)
    if backing is None:
        return capacity
    return capacity + params.aid_effectiveness * _aid(backing, supporter_capabilities)


def strength_share(
    aggressor: float | np.ndarray, defender: float | np.ndarray
) -> float | np.ndarray:
    """p = S_a / (S_a + S_d), elementwise; 0.5 where the total strength is not positive."""
    total = aggressor + defender
    if np.ndim(total) == 0:
        return aggressor / total if total > 0 else 0.5
    return np.divide(aggressor, total, out=np.full(np.shape(total), 0.5), where=total > 0)


def aggressor_share(params: WarParameters) -> float:
    """p = S_a / (S_a + S_d): the aggressor's share of the balance of strength."""
    supports, capabilities = params.supports, params.supporter_capabilities
    defender = defender_strength(params, supports, capabilities)
    aggressor = aggressor_strength(params, params.aggressor_capacity, supports, capabilities)
    return float(strength_share(float(aggressor), float(defender)))


def share_at(params: WarParameters, capacity: np.ndarray, supports: np.ndarray) -> np.ndarray:
    """p for the aggressor's `capacity` (...,) and the support levels (..., supporters),
    everything else as in `params` (the balance after a deal drifts)."""
    defender = defender_strength(params, supports, params.supporter_capabilities)
    aggressor = aggressor_strength(params, capacity, supports, params.supporter_capabilities)
    return strength_share(aggressor, defender)


def target_line(p: float | np.ndarray, low: float = 0.0, high: float = 100.0) -> float | np.ndarray:
    """The line the war tends to when the aggressor holds share `p` of the strength."""
    return low + p * (high - low)


def gap_closed(rate: float, months: float) -> float:
    """Share of the gap to the target line closed in `months` (monthly rate compounding)."""
    return 1.0 - (1.0 - rate) ** months


def advance_line(line: float, target: float, rate: float, months: float, shock: float) -> float:
    """The contact line after `months` of war, with a shock in scale points."""
    return line + (target - line) * gap_closed(rate, months) + shock


def war_shocks(params: WarParameters, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """The contact line's shocks in rounds 2..`rounds` (scale points), drawn at once; no
    draw without volatility, so the generator's stream is left as it was."""
    if params.volatility <= 0:
        return np.zeros(max(rounds - 1, 0))
    sd = params.volatility * np.sqrt(params.months_per_round)
    return rng.normal(0.0, sd, size=max(rounds - 1, 0))


def expected_line(line: float, target: float, rate: float, horizon_months: float) -> float:
    """Expected contact line after `horizon_months` of war (shocks average out)."""
    return advance_line(line, target, rate, horizon_months, 0.0)


def whole_months(months: float) -> int:
    """A span of months as a whole number of monthly steps, at least one."""
    return max(round(months), 1)


def monthly_war_cost(burden: float, stake_years: float) -> float:
    """A month of war's cost in utility, from its burden (the share of a year's output the
    war takes) and the value of the whole stake in years of output: `burden / (12 S)`
    (docs/model.md, "Costs of war in an anchored unit")."""
    return burden / (12.0 * stake_years)


def discounted_months(discount: float, horizon_months: float) -> float:
    """sum_{m < H} discount^m: the weight of H months of per-month costs."""
    if discount >= 1.0:
        return float(horizon_months)
    return (1.0 - discount**horizon_months) / (1.0 - discount)


def horizon_cost(params: WarParameters, costs_per_month: np.ndarray) -> np.ndarray:
    """The discounted cost of the horizon's fighting, from costs per month (any shape)."""
    return costs_per_month * discounted_months(params.discount, params.horizon_months)


@dataclass(frozen=True)
class WarBatna:
    """Each party's value of continued war from a contact line: Fearon's p - c.

    The utility of the expected end state of the war (territory at the expected line, every
    other issue at its status quo) minus the discounted cost of the horizon's fighting.
    The per-party arrays may carry a leading axis of replications.
    """

    params: WarParameters
    territory_positions: np.ndarray  # (levels,)
    territory_values: np.ndarray  # (parties, levels)
    territory_weights: np.ndarray  # ([n,] parties)
    status_quo_other: np.ndarray  # ([n,] parties): weighted value of the other issues
    cost: np.ndarray  # ([n,] parties): discounted cost of the horizon
    # stakes="all": the other issues' weighted value at the aggressor's / defender's ideal
    # levels; the war then settles them as a lottery won with the aggressor's share p
    aggressor_other: np.ndarray | None = None  # ([n,] parties)
    defender_other: np.ndarray | None = None  # ([n,] parties)

    def other_issues(self, target: float | np.ndarray, own: bool = False) -> np.ndarray:
        """The weighted value of the issues the line does not settle, toward `target`:
        their status quo, or Fearon's (1995) lottery ``p A + (1 - p) D`` over the
        belligerents' ideal terms, ``p`` the share that `target` implies. `target` (...),
        result (..., parties); with `own`, `target` (..., parties) is each party's own."""
        if self.aggressor_other is None:
            return self.status_quo_other
        wp = self.params
        p = np.clip((np.asarray(target, dtype=np.float64) - wp.low) / (wp.high - wp.low), 0, 1)
        p = p if own else p[..., None]
        return p * self.aggressor_other + (1.0 - p) * self.defender_other

    def value(self, line: float | np.ndarray, target: float | np.ndarray) -> np.ndarray:
        """BATNAs from `line` toward `target`: (parties,), or (*line.shape, parties)."""
        wp = self.params
        end_line = expected_line(line, target, wp.adjustment_rate, wp.horizon_months)
        at_line = interp_rows(end_line, self.territory_positions, self.territory_values)
        return self.territory_weights * at_line + self.other_issues(target) - self.cost

    def value_on_paths(
        self, lines: np.ndarray, targets: np.ndarray, cost: np.ndarray
    ) -> np.ndarray:
        """(paths, months, parties): `value` from each path's line `lines` (paths,) toward
        its targets (paths, months), with its own horizon cost `cost` (paths, parties)."""
        return dataclasses.replace(self, cost=cost[:, None, :]).value(lines[:, None], targets)

    def perceived(
        self,
        line: np.ndarray,
        believed_targets: np.ndarray,
        cost_beliefs: np.ndarray | None = None,
        viewers: Sequence[int] | None = None,
    ) -> np.ndarray:
        """(n, parties i, parties j): party j's BATNA as party i sees it, from i's believed
        target line (n, parties) and i's belief about the others' costs of war, a multiple
        of the true ones (n, parties; None: 1); lines (n,). The diagonal is each party's own
        BATNA (its own costs it knows). With `viewers`, only those parties' views (the
        same numbers): `believed_targets` and `cost_beliefs` then (n, len(viewers))."""
        wp = self.params
        end_line = expected_line(
            np.asarray(line)[:, None], believed_targets, wp.adjustment_rate, wp.horizon_months
        )
        at_line = interp_rows(end_line, self.territory_positions, self.territory_values)
        shape = (at_line.shape[0], 1, at_line.shape[2])  # (n, i, j) with i broadcast
        weights = np.reshape(np.broadcast_to(self.territory_weights, shape[::2]), shape)
        cost = np.reshape(np.broadcast_to(self.cost, shape[::2]), shape)
        if self.aggressor_other is None:
            other = np.reshape(np.broadcast_to(self.status_quo_other, shape[::2]), shape)
        else:
            batna = dataclasses.replace(
                self,
                aggressor_other=np.reshape(
                    np.broadcast_to(self.aggressor_other, shape[::2]), shape
                ),
                defender_other=np.reshape(np.broadcast_to(self.defender_other, shape[::2]), shape),
            )
            other = batna.other_issues(believed_targets)  # (n, i, j)
        if cost_beliefs is not None:
            viewing = np.arange(at_line.shape[2]) if viewers is None else np.asarray(viewers)
            others = viewing[:, None] != np.arange(at_line.shape[2])[None, :]
            cost = cost * np.where(others, np.asarray(cost_beliefs)[:, :, None], 1.0)
        return weights * at_line + other - cost

    def rows(self, index: np.ndarray) -> WarBatna:
        """The same BATNA for rows `index` of per-replication arrays ([n,] parties)."""
        return dataclasses.replace(
            self,
            territory_weights=self.territory_weights[index],
            status_quo_other=self.status_quo_other[index],
            cost=self.cost[index],
            aggressor_other=None if self.aggressor_other is None else self.aggressor_other[index],
            defender_other=None if self.defender_other is None else self.defender_other[index],
        )

    def of(self, parties: Sequence[int]) -> WarBatna:
        """The same BATNA for these parties alone (the last axis of its per-party arrays)."""

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.asarray(a)[..., parties]

        return dataclasses.replace(
            self,
            territory_values=self.territory_values[parties],
            territory_weights=pick(self.territory_weights),
            status_quo_other=pick(self.status_quo_other),
            cost=pick(np.broadcast_to(self.cost, np.shape(self.territory_weights))),
            aggressor_other=pick(self.aggressor_other),
            defender_other=pick(self.defender_other),
        )

    def spread(self, axes: int) -> WarBatna:
        """Joined BATNAs (`join_batnas`) that broadcast over `axes` more axes after the
        replications': per-party arrays (n, 1, ..., 1, parties), parameters likewise."""

        def lead(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a.reshape(a.shape[:1] + (1,) * axes + a.shape[1:])

        return dataclasses.replace(
            self,
            params=spread(self.params, axes),
            territory_weights=lead(self.territory_weights),
            status_quo_other=lead(self.status_quo_other),
            cost=lead(self.cost),
            aggressor_other=lead(self.aggressor_other),
            defender_other=lead(self.defender_other),
        )

    def draws(
        self, aggressor_capacity: np.ndarray, supporter_capabilities: np.ndarray, line: float
    ) -> np.ndarray:
        """(draws, parties) BATNAs for draws of the aggressor's capacity (draws,) and the
        supporters' capabilities (draws, supporters), all else as in `params`."""
        wp = self.params
        p = strength_share(
            aggressor_strength(wp, aggressor_capacity, wp.supports, supporter_capabilities),
            defender_strength(wp, wp.supports, supporter_capabilities),
        )
        return self.value(line, target_line(p, wp.low, wp.high))


def war_batna(
    params: WarParameters,
    territory_positions: np.ndarray,
    territory_values: np.ndarray,
    weights: np.ndarray,
    level_values: Sequence[np.ndarray],
    defaults: Sequence[int | None],
    territory_k: int,
    costs_per_month: np.ndarray,
    belligerents: tuple[int, int] | None = None,
    links: Sequence[Link] = (),
    imposable: Sequence[np.ndarray] | None = None,
    other: OtherIssues | None = None,
) -> WarBatna:
    """The war BATNA of parties with issue `weights` ([n,] parties, issues) and
    `level_values` per issue (parties, levels); an issue without a status quo counts at its
    worst level. `costs_per_month` is (parties,) or ([n,] parties).
    With `belligerents` (aggressor, defender), the war also settles the other issues: at
    the aggressor's ideal levels with probability p, else at the defender's. `links`
    (none on the territory issue) add their gains at those levels. With `imposable` (per
    issue, (levels,) bool: `imposable_levels`), each winner gets its best level among
    those it could impose, and an issue where it could impose none stays at its status quo
    (docs/model.md, "What a war can impose"). `other`: `other_issues` of these arguments,
    when the caller keeps it (it does not depend on `params` or the costs)."""
    if other is None:
        other = other_issues(
            weights, level_values, defaults, territory_k, belligerents, links, imposable
        )
    status_quo_other, sides = other
    cost = horizon_cost(params, costs_per_month)
    return WarBatna(
        params,
        territory_positions,
        territory_values,
        weights[..., territory_k],
        status_quo_other,
        cost,
        *(sides if sides is not None else (None, None)),
    )


# The issues other than territory after a war: at their status quo, and (with belligerents)
# as the aggressor and as the defender would settle them.
OtherIssues = tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]


def other_issues(
    weights: np.ndarray,
    level_values: Sequence[np.ndarray],
    defaults: Sequence[int | None],
    territory_k: int,
    belligerents: tuple[int, int] | None = None,
    links: Sequence[Link] = (),
    imposable: Sequence[np.ndarray] | None = None,
) -> OtherIssues:
    """Each party's weighted value ([n,] parties) of the issues other than territory after
    a war (`war_batna`): at their status quo, and with `belligerents` at the levels the
    aggressor and the defender would settle them at."""
    status_quo_other = np.zeros(weights.shape[:-1])
    sides = [np.zeros(weights.shape[:-1]), np.zeros(weights.shape[:-1])]
    won = [winner_levels(level_values, who, imposable) for who in belligerents or ()]
    for k, (values, default) in enumerate(zip(level_values, defaults, strict=True)):
        if k != territory_k:
            at_default = values.min(axis=1) if default is None else values[:, default]
            status_quo_other += weights[..., k] * at_default
            for side, levels in zip(sides, won, strict=False):
                at = at_default if levels[k] is None else values[:, levels[k]]
                side += weights[..., k] * at
    for link in links:
        a, b = link.issues
        worst = [int(np.argmin(level_values[k][link.party])) for k in (a, b)]
        at = [
            worst[0] if defaults[a] is None else defaults[a],
            worst[1] if defaults[b] is None else defaults[b],
        ]
        status_quo_other[..., link.party] += link_gain(
            link, level_values, weights, *map(np.asarray, at)
        )
        for side, levels in zip(sides, won, strict=False):
            pair = [
                at[0] if levels[a] is None else levels[a],
                at[1] if levels[b] is None else levels[b],
            ]
            gain = link_gain(link, level_values, weights, *map(np.asarray, pair))
            side[..., link.party] += gain
    for array in (status_quo_other, *sides):
        array.setflags(write=False)  # a caller may keep them
    return status_quo_other, (sides[0], sides[1]) if belligerents is not None else None


def winner_levels(
    level_values: Sequence[np.ndarray], winner: int, imposable: Sequence[np.ndarray] | None
) -> list[int | None]:
    """Per issue, the level the war's `winner` gets: its ideal (`imposable` None: Fearon's
    lottery over the belligerents' ideal terms), or its best among the `imposable` levels
    (the first in the scale's order on a tie), None where none is."""
    out: list[int | None] = []
    for k, values in enumerate(level_values):
        own = values[winner]
        if imposable is None:
            out.append(int(np.argmax(own)))
        elif imposable[k].any():
            out.append(int(np.argmax(np.where(imposable[k], own, -np.inf))))
        else:
            out.append(None)
    return out


def imposable_levels(
    red_lines: Sequence[np.ndarray],
    issue_control: Sequence[np.ndarray],
    level_control: Sequence[np.ndarray],
    belligerents: tuple[int, int],
) -> tuple[np.ndarray, ...]:
    """Per issue, (levels,) bool: the levels a war's winner could impose, those that no
    third party (a party other than the two belligerents) both must sign (`issue_control`
    (parties,), or `level_control` (parties, levels) for that level) and red-lines
    (`red_lines` (parties, levels)). A defeated belligerent signs what it must; a third
    party that was not defeated vetoes what it never accepts (Cunningham 2006's veto
    players)."""
    third = np.ones(len(issue_control[0]), dtype=bool)
    third[list(belligerents)] = False
    out = []
    for lines, control, levels in zip(red_lines, issue_control, level_control, strict=True):
        must_sign = np.asarray(control, dtype=bool)[:, None] | np.asarray(levels, dtype=bool)
        vetoed = (must_sign & np.asarray(lines, dtype=bool))[third].any(axis=0)
        out.append(~vetoed)
    return tuple(out)


def join_batnas(batnas: Sequence[WarBatna]) -> WarBatna:
    """Replications' BATNAs as one, row after row: per-party arrays (parties,) become rows
    of (n, parties), arrays (k, parties) are concatenated; the parameters `join_params`
    (only when each BATNA has its own replication's, (parties,) arrays)."""
    first = batnas[0]

    def joined(name: str) -> np.ndarray | None:
        arrays = [getattr(b, name) for b in batnas]
        return None if arrays[0] is None else np.concatenate([np.atleast_2d(a) for a in arrays])

    per_replication = np.ndim(first.territory_weights) == 1
    return dataclasses.replace(
        first,
        params=join_params([b.params for b in batnas]) if per_replication else first.params,
        territory_weights=joined("territory_weights"),
        status_quo_other=joined("status_quo_other"),
        cost=joined("cost"),
        aggressor_other=joined("aggressor_other"),
        defender_other=joined("defender_other"),
    )


def own_values(batna: WarBatna, line: np.ndarray, believed_targets: np.ndarray) -> np.ndarray:
    """(..., parties): each party's value of war from `line` (...) toward the target it
    believes in, `believed_targets` (..., parties): the diagonal of `WarBatna.perceived`,
    without the others' views. The BATNA's arrays broadcast with (..., parties)."""
    wp = batna.params
    end_line = expected_line(
        np.asarray(line)[..., None], believed_targets, wp.adjustment_rate, wp.horizon_months
    )
    at_line = interp_own(end_line, batna.territory_positions, batna.territory_values)
    return (
        batna.territory_weights * at_line + batna.other_issues(believed_targets, True) - batna.cost
    )


def guarantee_force(
    credibility: np.ndarray, capabilities: np.ndarray, aggressor: int
) -> np.ndarray:
    """(levels,): the force behind each level of a guarantee, ``sum_g capability_g x
    credibility_g`` over its guarantors (Fortna 2004, Walter 2002): `credibility` (levels,
    parties) is each party's probability of intervening for the level, 0 if it guarantees
    nothing there. A guarantor that is the aggressor adds nothing: it would intervene
    against itself."""
    credible = np.array(credibility, dtype=np.float64)
    credible[:, aggressor] = 0.0
    return credible @ capabilities


def guaranteed_costs(
    costs: np.ndarray, aggressor: int, force: float | np.ndarray, cost_per_force: float
) -> np.ndarray:
    """War costs (..., parties) under a guarantee: the aggressor's multiplied by
    ``1 + cost_per_force x force`` (the expected intervention it would face), the others'
    unchanged."""
    out = np.array(costs, dtype=np.float64)
    out[..., aggressor] *= 1.0 + cost_per_force * np.asarray(force)
    return out


def drifted(params: WarParameters, months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The expected aggressor capacity ([n,] months) and support levels ([n,] months,
    supporters) `months` after a deal, from the drift rates in `params` (supports kept in
    [0, 1]); `n` when `params` are replications' `join_params`."""
    months = np.asarray(months, dtype=np.float64)
    drift_rate = np.asarray(params.capacity_drift, dtype=np.float64)[..., None]
    capacity = np.asarray(params.aggressor_capacity)[..., None] * np.exp(drift_rate * months)
    supports = np.asarray(params.supports)
    drift = np.zeros_like(supports) if params.support_drift is None else params.support_drift
    supports = supports[..., None, :] + months[:, None] * np.asarray(drift)[..., None, :]
    return capacity, np.clip(supports, 0.0, 1.0)


# The war parameters a job's replications may draw differently; the rest they share.
PER_REPLICATION = (
    "aggressor_capacity",
    "defender_capacity",
    "supports",
    "supporter_capabilities",
    "capacity_drift",
    "support_drift",
)


def join_params(params: Sequence[WarParameters]) -> WarParameters:
    """Replications' war parameters as one: each of `PER_REPLICATION` with a leading axis
    (n,) or (n, supporters), the rest (shared by a job's replications) from the first."""
    changes = {}
    for name in PER_REPLICATION:
        values = [getattr(p, name) for p in params]
        if all(v is None for v in values):
            continue
        if name == "support_drift":
            values = [
                np.zeros_like(p.supports) if v is None else v
                for p, v in zip(params, values, strict=True)
            ]
        changes[name] = np.stack([np.asarray(v, dtype=np.float64) for v in values])
    return dataclasses.replace(params[0], **changes)


def spread(params: WarParameters, axes: int) -> WarParameters:
    """Joined parameters (`join_params`) that broadcast over `axes` more axes after the
    replications' (paths, months): (n, 1, ..., 1[, supporters])."""
    changes = {}
    for name in PER_REPLICATION:
        value = getattr(params, name)
        if value is not None:
            value = np.asarray(value)
            changes[name] = value.reshape(value.shape[:1] + (1,) * axes + value.shape[1:])
    return dataclasses.replace(params, **changes)


def interp_rows(x: float | np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp of every row of `fp` (rows, len(xp)) at `x`, in one pass; x clipped to xp.

    `x` may be an array: the result then has shape (*x.shape, rows).
    """
    if np.ndim(x) == 0:  # the per-round case: plain floats are ~10x cheaper than np.clip
        x = min(max(float(x), float(xp[0])), float(xp[-1]))
        if xp.size == 1:
            return fp[:, 0].copy()
        hi = min(max(int(np.searchsorted(xp, x, side="right")), 1), xp.size - 1)
        frac = (x - xp[hi - 1]) / (xp[hi] - xp[hi - 1])
        return fp[:, hi - 1] * (1.0 - frac) + fp[:, hi] * frac
    if xp.size == 1:
        return np.broadcast_to(fp[:, 0], (*np.shape(x), fp.shape[0])).copy()
    lo, hi, frac = _bracket(x, xp)
    out = fp[:, lo] * (1.0 - frac) + fp[:, hi] * frac  # (rows, *x.shape)
    return np.moveaxis(out, 0, -1)


def interp_own(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Row i of `fp` (rows, len(xp)) interpolated at its own `x[..., i]`: the diagonal of
    `interp_rows(x)` over its last two axes, (..., rows); x clipped to xp."""
    if xp.size == 1:
        return np.broadcast_to(fp[:, 0], np.shape(x)).copy()
    lo, hi, frac = _bracket(x, xp)
    rows = np.arange(fp.shape[0])
    return fp[rows, lo] * (1.0 - frac) + fp[rows, hi] * frac


def _bracket(x: np.ndarray, xp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each x (clipped to xp): the indices of the knots around it and its fraction of
    the way from the lower to the upper."""
    x = np.clip(np.asarray(x, dtype=np.float64), xp[0], xp[-1])
    hi = np.clip(np.searchsorted(xp, x, side="right"), 1, xp.size - 1)
    lo = hi - 1
    return lo, hi, (x - xp[lo]) / (xp[hi] - xp[lo])
