"""Self-enforcing settlements: a deal valued on the path each side anticipates.

Core layer, pure numpy (docs/model.md, "Self-enforcing settlements"). After a deal the
balance of strength keeps moving (the scenario's drifts, and the deal's own terms), so a
belligerent that would do better by fighting from the deal's line in some month renews
the war then (Fearon 1995, section on commitment problems; Powell 2006). A deal is
self-enforcing when no belligerent prefers renewed war in any month of the parties'
foresight; otherwise each party values it as peace until the first such month, then war:
``(1 - delta^m) u + delta^m W(m)``.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.core.war import gap_closed


@functools.lru_cache(maxsize=64)
def chase_weights(rate: float, months: int) -> np.ndarray:
    """(months,) weights of each month's target in the line after `months` of war.

    A line that closes share `rate` of the gap to month m's target T_m every month ends at
    ``(1 - rate)^H line_0 + sum_m rate (1 - rate)^(H-1-m) T_m``: the same as chasing the
    single target ``sum_m w_m T_m`` with ``w_m = rate (1 - rate)^(H-1-m) / (1 - (1 -
    rate)^H)``. A line that never moves (rate 0) weighs every month alike."""
    if months < 1:
        raise ValueError(f"months: got {months}; allowed: an integer >= 1")
    closed = gap_closed(rate, months)
    if closed <= 0.0:
        weights = np.full(months, 1.0 / months)
    else:
        lags = np.arange(months - 1, -1, -1, dtype=np.float64)
        weights = rate * (1.0 - rate) ** lags / closed
    weights.setflags(write=False)  # kept per (rate, months): every path of a sweep asks
    return weights


def chased_targets(targets: np.ndarray, rate: float, horizon: int) -> np.ndarray:
    """(..., T - horizon + 1): for each start month s, the one target whose chase for
    `horizon` months ends where chasing `targets[..., s:s + horizon]` (month by month, the
    balance drifting) does (`chase_weights`). Constant targets give themselves back."""
    targets = np.asarray(targets, dtype=np.float64)
    if targets.shape[-1] < horizon:
        raise ValueError(
            f"targets: got {targets.shape[-1]} months; allowed: at least the horizon, {horizon}"
        )
    windows = np.lib.stride_tricks.sliding_window_view(targets, horizon, axis=-1)
    return windows @ chase_weights(rate, horizon)


def first_renewal(
    deal: np.ndarray, renewed_war: np.ndarray, fighters: tuple[int, ...], tolerance: float
) -> np.ndarray:
    """(outcomes,): the first month index at which some belligerent in `fighters` values
    renewed war above the deal, -1 where none does within the months given.

    `deal` (parties, outcomes) is each party's utility of each deal, `renewed_war`
    (months, parties, outcomes) its value of renewing the war in that month from the
    deal's terms."""
    prefers = war_preferred(deal, renewed_war, fighters, tolerance)
    return np.where(prefers.any(axis=0), prefers.argmax(axis=0), -1)


def war_preferred(
    deal: np.ndarray, renewed_war: np.ndarray, fighters: tuple[int, ...], tolerance: float
) -> np.ndarray:
    """(months, outcomes): some belligerent in `fighters` values renewing the war in that
    month above the deal (`first_renewal`'s arguments)."""
    fighters_list = list(fighters)
    return (renewed_war[:, fighters_list, :] > deal[None, fighters_list, :] + tolerance).any(axis=1)


def next_preferred(prefers: np.ndarray) -> np.ndarray:
    """(months, outcomes): for each month, the first month at or after it in which war is
    preferred (`war_preferred`), the number of months where none is: a path that starts in
    month m renews the war ``next_preferred[m] - m`` months after the deal."""
    months = prefers.shape[0]
    index = np.where(prefers, np.arange(months)[:, None], months)
    return np.minimum.accumulate(index[::-1], axis=0)[::-1]


def continuation(
    deal: np.ndarray,
    renewed_war: np.ndarray,
    first: np.ndarray,
    months: np.ndarray,
    discount: float,
) -> np.ndarray:
    """(parties, outcomes): each party's value of each deal on the anticipated path
    (`continuation_after`), `first` (outcomes,) the index into `months` and `renewed_war`
    (months, parties, outcomes) of the war's renewal, -1 where the deal holds."""
    broken = first >= 0
    at = np.maximum(first, 0)
    after = np.where(broken, np.asarray(months, dtype=np.float64)[at], -1.0)
    war_then = renewed_war[at, :, np.arange(first.size)].T  # (parties, outcomes)
    return continuation_after(deal, war_then, after, discount)


def continuation_after(
    deal: np.ndarray, war_then: np.ndarray, after: np.ndarray, discount: float
) -> np.ndarray:
    """(..., parties, outcomes): each party's value of each deal on the anticipated path:
    the deal itself where it is self-enforcing (`after` < 0), else peace for the `after`
    months before the war resumes, then the value of that war `war_then` (..., parties,
    outcomes), ``(1 - delta^m) u + delta^m W(m)`` with monthly discount `discount`. A deal a
    belligerent would break at once (m = 0) is no deal: -inf to everyone, so that nobody
    proposes or accepts it. `deal` is (parties, outcomes), `after` (..., outcomes)."""
    after = np.asarray(after, dtype=np.float64)
    out = np.array(np.broadcast_to(deal, (*after.shape[:-1], *np.shape(deal))), dtype=np.float64)
    broken = after >= 0
    if not broken.any():
        return out
    by_outcome = np.moveaxis(out, -2, -1)  # a view: (..., outcomes, parties)
    m = after[broken]
    weight = (discount**m)[:, None]
    war = np.moveaxis(war_then, -2, -1)[broken]
    by_outcome[broken] = (1.0 - weight) * by_outcome[broken] + weight * war
    at_once = np.zeros_like(broken)
    at_once[broken] = m == 0
    by_outcome[at_once] = -np.inf
    return out


def renewals(
    deal: np.ndarray,
    renewed: np.ndarray,
    path_of: np.ndarray,
    fighters: tuple[int, ...],
    tolerance: float,
    first_at: np.ndarray,
    last: int,
    discount: float,
    chunk_floats: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Each start's first month of renewed war after each deal (starts, outcomes), -1
    where it holds over `last` months, and each deal's continuation value (starts, parties,
    outcomes): `war_preferred` over the months of `renewed` (paths, months, parties) on
    each deal's path `path_of`, `next_preferred` from each start's first month `first_at`,
    `continuation_after` with monthly `discount`. Deals are taken in chunks of at most
    `chunk_floats` values of renewed war (months x parties x outcomes)."""
    months = renewed.shape[1]
    first = np.empty((first_at.size, deal.shape[1]), dtype=np.int64)
    values = np.empty((first_at.size, *deal.shape))
    chunk = max(1, chunk_floats // (months * deal.shape[0]))
    for start in range(0, deal.shape[1], chunk):
        cols = slice(start, start + chunk)
        by_month = renewed[path_of[cols]].transpose(1, 2, 0)  # (months, parties, outcomes)
        prefers = war_preferred(deal[:, cols], by_month, fighters, tolerance)
        due = next_preferred(prefers)[first_at]  # (starts, outcomes)
        after = due - first_at[:, None]
        first[:, cols] = np.where(after <= last, after, -1)
        resumes = np.minimum(due, months - 1)  # the war's value when it resumes
        war_then = by_month[resumes, :, np.arange(resumes.shape[1])].transpose(0, 2, 1)
        values[:, :, cols] = continuation_after(deal[:, cols], war_then, first[:, cols], discount)
    return first, values


def self_enforcing_range(
    p_path: np.ndarray, cost_aggressor: float, cost_defender: float
) -> tuple[float, float]:
    """Powell's (2006) duel with territory alone, linear values and a line that reaches
    the balance at once: the aggressor's shares x of the stake that no side would fight to
    revise in any month of `p_path` (the aggressor's share of strength month by month),
    ``[max p - c_A, min p + c_D]``; empty (low > high) when the shift exceeds the war's
    total cost, ``max p - min p > c_A + c_D``."""
    p = np.asarray(p_path, dtype=np.float64)
    return float(p.max() - cost_aggressor), float(p.min() + cost_defender)
