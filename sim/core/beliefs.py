"""Private beliefs about the war, learned from the battlefield (docs/model.md, "Bargaining
while fighting").

Each party holds a normal belief about the line the war tends to, ``T = low + p (high -
low)``: mean ``m`` and precision ``tau``. Its prior mean is the true line shifted by its
optimism toward its own side (Fearon 1995: mutual optimism as private information). Each
month the contact line moves by ``g (T - L) + e``, ``e ~ N(0, sigma^2 months)``, ``g`` the
share of the gap the war closes in that time; the move reveals ``y = L + (L' - L) / g =
T + e / g``, a signal of precision ``g^2 / (sigma^2 months)`` that every party sees. The
conjugate normal update (DeGroot 1970, ch. 9) gives

    tau' = tau + rho,    m' = (tau m + rho y) / tau'.

With a common signal two parties' beliefs move toward each other and their gap shrinks
deterministically: ``gap_t = gap_0 tau_0 / (tau_0 + t rho)`` for equal prior precisions
(`gap_after`): the war, through ``rho``, sets how fast optimism erodes (Wagner 2000,
Slantchev 2003, Powell 2004). Arrays carry any leading axes (replications).
"""

from __future__ import annotations

import numpy as np

from sim.core.war import gap_closed


def sides(territory_values: np.ndarray) -> np.ndarray:
    """(parties,): +1 for a party that values the high end of the territory scale more
    than the low end (the aggressor's side), -1 for the other side, 0 if indifferent."""
    return np.sign(territory_values[:, -1] - territory_values[:, 0])


def prior_means(
    true_target: np.ndarray,
    optimism: np.ndarray,
    party_sides: np.ndarray,
    low: float,
    high: float,
) -> np.ndarray:
    """(..., parties): each party's prior mean of the target line, the true one (...,)
    moved by its optimism (a share of the strength balance, ``p`` units) toward its side,
    kept on the scale."""
    shift = (optimism * party_sides) * (high - low)
    return np.clip(np.asarray(true_target)[..., None] + shift, low, high)


def prior_precision(belief_sd: float, low: float, high: float) -> float:
    """The prior precision of the target line, from the sd of ``p`` (``inf`` for 0)."""
    sd = belief_sd * (high - low)
    return np.inf if sd <= 0 else 1.0 / sd**2


def signal_precision(volatility: float, rate: float, months: float) -> float:
    """``rho = g^2 / (sigma^2 months)``: the precision of one move of the line as a signal
    of the target (``inf`` without shocks: one move reveals it; 0 if the line never moves)."""
    g = gap_closed(rate, months)
    if g <= 0:
        return 0.0
    if volatility <= 0:
        return np.inf
    return g**2 / (volatility**2 * months)


def implied_target(
    before: np.ndarray | float, after: np.ndarray | float, rate: float, months: float
) -> np.ndarray | float:
    """``y = L + (L' - L) / g``: the target line the move from `before` to `after` implies."""
    return before + (after - before) / gap_closed(rate, months)


def update(
    means: np.ndarray, precisions: np.ndarray, signal: np.ndarray, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """The conjugate normal update of beliefs (..., parties) on a common signal (...,) of
    precision `rho`. An infinite precision on either side wins outright."""
    signal = np.asarray(signal, dtype=np.float64)[..., None]
    if rho == 0:
        return means, precisions
    if np.isinf(rho):
        return np.broadcast_to(signal, means.shape).copy(), np.full_like(precisions, np.inf)
    new_precisions = precisions + rho
    sure = np.isinf(precisions)
    weight = np.divide(rho, new_precisions, out=np.zeros_like(new_precisions), where=~sure)
    return means + weight * (signal - means), new_precisions


def gap_after(gap: float, precision: float, rho: float, months: int) -> float:
    """The belief gap between two parties with equal prior precision after `months`
    common signals: ``gap tau / (tau + months rho)`` (it no longer depends on the shocks)."""
    if months <= 0 or rho == 0:
        return gap
    if np.isinf(rho):
        return 0.0
    if np.isinf(precision):
        return gap
    return gap * precision / (precision + months * rho)


def strength_beliefs(means: np.ndarray, low: float, high: float) -> np.ndarray:
    """Believed aggressor shares ``p`` from believed target lines."""
    return (np.asarray(means) - low) / (high - low)


def belief_gap(
    means: np.ndarray, low: float, high: float, who: np.ndarray | None = None
) -> np.ndarray:
    """(...,): the spread of the parties' believed ``p`` (max - min over the parties, or over
    those in the mask `who`); 0 with fewer than two."""
    p = strength_beliefs(means, low, high)
    if who is None:
        return p.max(axis=-1) - p.min(axis=-1)
    hi = np.max(p, axis=-1, where=who, initial=-np.inf)
    lo = np.min(p, axis=-1, where=who, initial=np.inf)
    return np.where(who.sum(axis=-1) >= 2, hi - lo, 0.0)
