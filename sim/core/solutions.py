"""Solution concepts: pure functions over a utility matrix U (parties, outcomes).

`d` is the disagreement vector (parties,): each party's reservation value (BATNA).

Ties. Every selector ranks outcomes lexicographically by (1) its own criterion,
(2) the utilitarian sum, (3) the utility vector itself, party by party, and (4) the lowest
outcome index. Steps 2-3 make the chosen outcome Pareto-optimal even when the criterion
is flat (an outcome that dominates another is at least as good on 1 and better on 2 or
3), and step 4 makes the choice deterministic among outcomes with identical utilities.
"""

from __future__ import annotations

import moocore
import numpy as np

from sim.core.preferences import TOLERANCE


def _as_matrix(U: np.ndarray) -> np.ndarray:
    U = np.asarray(U, dtype=np.float64)
    if U.ndim != 2:
        raise ValueError(f"U must be 2-D (parties, outcomes), got shape {U.shape}")
    return U


def _as_vector(x: np.ndarray | None, n: int, name: str) -> np.ndarray | None:
    if x is None:
        return None
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {x.shape}")
    return x


def _select(U: np.ndarray, candidates: np.ndarray, score: np.ndarray) -> int:
    """Best of `candidates` (outcome indices) by `score`, ties broken as the module says."""
    best = candidates[score == score.max()]
    if best.size > 1:
        sums = U[:, best].sum(axis=0)
        best = best[sums == sums.max()]
    if best.size > 1:
        # np.lexsort sorts by its last key first: party 0's utility, then party 1's, ...,
        # descending; the index (first key) breaks what is left, ascending.
        keys = (best, *(-U[i, best] for i in reversed(range(U.shape[0]))))
        best = best[np.lexsort(keys)[:1]]
    return int(best[0])


def pareto_mask(U: np.ndarray) -> np.ndarray:
    """Outcomes that no other outcome weakly dominates with one strict improvement.

    Outcomes with identical utility vectors are all kept. Uses moocore's C filter
    (Kung, Luccio & Preparata 1975 in 2-3 dimensions, a divide-and-conquer method beyond),
    12-35x faster than a numpy block-nested loop here (benchmarks/solutions.py).
    """
    U = _as_matrix(U)
    if U.shape[1] == 0:
        return np.zeros(0, dtype=bool)
    if U.shape[0] == 1:
        return U[0] == U[0].max()
    return np.asarray(moocore.is_nondominated(U.T, maximise=True, keep_weakly=True), dtype=bool)


def within_batna(U: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Which party values which outcome at least its BATNA: ``U >= d - TOLERANCE``.

    `U` (..., parties, outcomes) and `d` (..., parties), with the same leading axes (or
    axes that broadcast); returns a bool array of `U`'s shape. The one test of individual
    rationality against a BATNA: the ZOPA and the engine's acceptance both use it.
    """
    u = np.asarray(U, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    return u >= d[..., :, None] - TOLERANCE


def zopa_mask(U: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The zone of possible agreement: outcomes every party values at least its `d`
    (within `TOLERANCE`). `U` (..., parties, outcomes), `d` (..., parties); returns
    (..., outcomes)."""
    U = np.asarray(U, dtype=np.float64)
    if U.ndim < 2:
        raise ValueError(f"U must be (..., parties, outcomes), got shape {U.shape}")
    d = np.asarray(d, dtype=np.float64)
    if d.shape != U.shape[:-1]:
        raise ValueError(f"d must have shape {U.shape[:-1]}, got {d.shape}")
    return within_batna(U, d).all(axis=-2)


def nash(U: np.ndarray, d: np.ndarray, weights: np.ndarray | None = None) -> int | None:
    """Nash (1950) bargaining solution: max of prod_i (u_i - d_i)^w_i over the ZOPA.

    With `weights` (e.g. capabilities), the asymmetric Nash solution (Kalai 1977).
    Returns None when the ZOPA is empty. Ties: see the module docstring.
    """
    U = _as_matrix(U)
    d = _as_vector(d, U.shape[0], "d")
    zopa = np.flatnonzero(zopa_mask(U, d))
    if zopa.size == 0:
        return None
    w = np.ones(U.shape[0]) if weights is None else _as_vector(weights, U.shape[0], "weights")
    if (w < 0).any():
        raise ValueError(f"weights must be non-negative, got {w.tolist()}")
    # An outcome inside the ZOPA by the tolerance only gains nothing (log 0, not log < 0).
    gains = np.maximum(U[:, zopa] - d[:, None], 0.0)
    with np.errstate(divide="ignore"):
        logs = np.log(gains[w > 0])
    score = (w[w > 0, None] * logs).sum(axis=0)
    # Equal products can differ by an ulp once summed as logs (log .5 + log .75 + log .25
    # vs log .5 + log .25 + log .75): scores within rounding of the best tie with it.
    best = score.max()
    score[score >= best - 1e-12 * max(1.0, abs(best))] = best
    return _select(U, zopa, score)


def kalai_smorodinsky(U: np.ndarray, d: np.ndarray) -> int | None:
    """Kalai & Smorodinsky (1975): max over the ZOPA of min_i (u_i - d_i) / (b_i - d_i).

    `b_i` is party i's best utility inside the ZOPA. A party whose best equals its `d`
    gains nothing anywhere in the ZOPA and is left out of the minimum. Returns None when
    the ZOPA is empty. Ties: see the module docstring.
    """
    U = _as_matrix(U)
    d = _as_vector(d, U.shape[0], "d")
    zopa = np.flatnonzero(zopa_mask(U, d))
    if zopa.size == 0:
        return None
    gains = U[:, zopa] - d[:, None]
    span = gains.max(axis=1)
    moving = span > 0
    if not moving.any():
        return _select(U, zopa, np.zeros(zopa.size))
    score = (gains[moving] / span[moving, None]).min(axis=0)
    return _select(U, zopa, score)


def egalitarian(U: np.ndarray, d: np.ndarray) -> int | None:
    """Egalitarian solution (Kalai 1977): max over the ZOPA of min_i (u_i - d_i).

    Returns None when the ZOPA is empty. Ties: see the module docstring.
    """
    U = _as_matrix(U)
    d = _as_vector(d, U.shape[0], "d")
    zopa = np.flatnonzero(zopa_mask(U, d))
    if zopa.size == 0:
        return None
    score = (U[:, zopa] - d[:, None]).min(axis=0)
    return _select(U, zopa, score)


def utilitarian(U: np.ndarray, weights: np.ndarray | None = None) -> int:
    """Utilitarian solution (Harsanyi 1955): max of sum_i w_i u_i over all outcomes.

    Ties: see the module docstring.
    """
    U = _as_matrix(U)
    if U.shape[1] == 0:
        raise ValueError("U has no outcomes")
    if weights is None:
        score = U.sum(axis=0)
    else:
        w = _as_vector(weights, U.shape[0], "weights")
        if (w < 0).any():
            raise ValueError(f"weights must be non-negative, got {w.tolist()}")
        score = w @ U
    return _select(U, np.arange(U.shape[1]), score)
