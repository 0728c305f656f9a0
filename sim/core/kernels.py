"""Compiled kernels (numba) of the anticipated paths (`Scenario.anticipations`, docs/model.md,
"Self-enforcing settlements"): the value of renewed war on each path in each month, and
each deal's first renewal and continuation value.

Each kernel is the numpy function it replaces with its steps fused into one loop, the
same arithmetic in the same order (no fast-math, no fused multiply-add), so that it gives
the same numbers to the bit: `war.WarBatna.value_on_paths` and `enforcement.renewals`.
Those stay the definitions (docs/model.md), the test oracle (tests/test_kernels.py) and
what a process uses until it has computed `scenario.COMPILE_AFTER` anticipations; powers
are computed by numpy before a kernel is called, so that both use the same ones. Compiled
once per machine (`cache=True`).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.core import war

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def _path_war_values(
    lines: np.ndarray,
    targets: np.ndarray,
    gap: float,
    positions: np.ndarray,
    values: np.ndarray,
    weights: np.ndarray,
    status_quo: np.ndarray,
    aggressor: np.ndarray,
    defender: np.ndarray,
    lottery: bool,
    low: float,
    high: float,
    cost: np.ndarray,
) -> np.ndarray:
    paths, months = targets.shape
    parties, knots = values.shape
    out = np.empty((paths, months, parties))
    first, last = positions[0], positions[knots - 1]
    for r in range(paths):
        line = lines[r]
        for m in range(months):
            target = targets[r, m]
            end = line + (target - line) * gap + 0.0  # war.expected_line: no shock
            x = min(max(end, first), last)
            hi = 1
            if knots > 1:  # war._bracket: searchsorted(side="right"), clipped to [1, K - 1]
                lo_i, hi_i = 0, knots
                while lo_i < hi_i:
                    mid = (lo_i + hi_i) // 2
                    if positions[mid] <= x:
                        lo_i = mid + 1
                    else:
                        hi_i = mid
                hi = min(max(lo_i, 1), knots - 1)
            frac = (
                (x - positions[hi - 1]) / (positions[hi] - positions[hi - 1]) if knots > 1 else 0.0
            )
            p = 0.0
            if lottery:
                p = min(max((target - low) / (high - low), 0.0), 1.0)
            for j in range(parties):
                if knots > 1:
                    at = values[j, hi - 1] * (1.0 - frac) + values[j, hi] * frac
                else:
                    at = values[j, 0]
                other = p * aggressor[j] + (1.0 - p) * defender[j] if lottery else status_quo[j]
                out[r, m, j] = weights[j] * at + other - cost[r, j]
    return out


def path_values(
    batna: war.WarBatna, lines: np.ndarray, targets: np.ndarray, cost: np.ndarray
) -> np.ndarray:
    """`batna.value_on_paths(lines, targets, cost)`: (paths, months, parties); `batna` is
    one replication's (its weights and other-issue values (parties,))."""
    wp = batna.params
    lottery = batna.aggressor_other is not None
    none = np.zeros(0)
    return _path_war_values(
        np.ascontiguousarray(lines, dtype=np.float64),
        np.ascontiguousarray(targets, dtype=np.float64),
        float(war.gap_closed(wp.adjustment_rate, wp.horizon_months)),
        np.ascontiguousarray(batna.territory_positions, dtype=np.float64),
        np.ascontiguousarray(batna.territory_values, dtype=np.float64),
        np.ascontiguousarray(np.broadcast_to(batna.territory_weights, cost.shape[-1:])),
        none if lottery else np.ascontiguousarray(batna.status_quo_other, dtype=np.float64),
        np.ascontiguousarray(batna.aggressor_other, dtype=np.float64) if lottery else none,
        np.ascontiguousarray(batna.defender_other, dtype=np.float64) if lottery else none,
        lottery,
        float(wp.low),
        float(wp.high),
        np.ascontiguousarray(cost, dtype=np.float64),
    )


@numba.njit(**_JIT)
def _renewals(
    deal: np.ndarray,
    renewed: np.ndarray,
    path_of: np.ndarray,
    fighters: np.ndarray,
    tolerance: float,
    first_at: np.ndarray,
    last: int,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    parties, deals = deal.shape
    months = renewed.shape[1]
    starts = first_at.size
    first = np.empty((starts, deals), dtype=np.int64)
    values = np.empty((starts, parties, deals))
    due = np.empty(months, dtype=np.int64)
    for d in range(deals):
        path = path_of[d]
        nxt = months  # enforcement.next_preferred, from the last month back
        for m in range(months - 1, -1, -1):
            for f in fighters:  # enforcement.war_preferred
                if renewed[path, m, f] > deal[f, d] + tolerance:
                    nxt = m
                    break
            due[m] = nxt
        for s in range(starts):
            after = due[first_at[s]] - first_at[s]
            held = after > last
            first[s, d] = -1 if held else after
            resumes = min(due[first_at[s]], months - 1)
            for j in range(parties):  # enforcement.continuation_after
                if held:
                    values[s, j, d] = deal[j, d]
                elif after == 0:
                    values[s, j, d] = -np.inf
                else:
                    w = weights[after]
                    values[s, j, d] = (1.0 - w) * deal[j, d] + w * renewed[path, resumes, j]
    return first, values


def renewals(
    deal: np.ndarray,
    renewed: np.ndarray,
    path_of: np.ndarray,
    fighters: tuple[int, ...],
    tolerance: float,
    first_at: np.ndarray,
    last: int,
    discount: float,
) -> tuple[np.ndarray, np.ndarray]:
    """`enforcement.renewals`, compiled."""
    weights = discount ** np.arange(last + 1, dtype=np.float64)  # numpy's power, as there
    return _renewals(
        np.ascontiguousarray(deal, dtype=np.float64),
        np.ascontiguousarray(renewed, dtype=np.float64),
        np.ascontiguousarray(path_of, dtype=np.int64),
        np.asarray(fighters, dtype=np.int64),
        float(tolerance),
        np.ascontiguousarray(first_at, dtype=np.int64),
        int(last),
        weights,
    )


@numba.njit(**_JIT)
def _paths_less_costs(
    free: np.ndarray, pair_of: np.ndarray, costs: np.ndarray, signature: np.ndarray
) -> np.ndarray:
    paths = pair_of.size
    _, months, parties = free.shape
    out = np.empty((paths, months, parties))
    for p in range(paths):
        pair, sig = pair_of[p], signature[p]
        for m in range(months):
            for j in range(parties):
                out[p, m, j] = free[pair, m, j] - costs[sig, j]
    return out


def paths_less_costs(
    free: np.ndarray, pair_of: np.ndarray, costs: np.ndarray, signature: np.ndarray
) -> np.ndarray:
    """`free[pair_of] - costs[signature][:, None, :]` (`Scenario._path_values`: each path's
    war values, from those of the (shift, line level) pair it shares, less its horizon
    cost), compiled: one pass instead of a gather and a broadcast subtraction."""
    return _paths_less_costs(
        np.ascontiguousarray(free, dtype=np.float64),
        np.ascontiguousarray(pair_of, dtype=np.int64),
        np.ascontiguousarray(costs, dtype=np.float64),
        np.ascontiguousarray(signature, dtype=np.int64),
    )
