"""The forecast scorecard's arithmetic (docs/validation.md, "How forecasts are scored"): the
baselines' point forecasts from positions and weights, the proper scores, bootstrap intervals
over cases and skill scores. Pure numpy: no case, record or config is read here.

- Brier (1950) score of a probability forecast p of an event y in {0, 1}: (p - y)^2, its
  mean over cases; 0 for a perfect forecaster, 0.25 for a coin (p = 1/2).
- Skill score against a reference (Murphy 1988): 1 - score / score_reference; 1 perfect, 0 no
  better than the reference, negative worse.
- Weighted median (the median voter of Black 1948 with weights, Bueno de Mesquita 1994's
  forecast) and weighted mean (Achen 2006's compromise model; Stokman and van Oosten 1994)
  of ideal points with weights capability x salience.
- Percentile bootstrap (Efron and Tibshirani 1993) of a mean over cases, paired across
  forecasters so that a skill score's interval keeps the cases' pairing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def brier(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-case Brier scores (p - y)^2 of probabilities `p` of events `y` (0 or 1)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"probabilities must lie in [0, 1], got {p[(p < 0) | (p > 1)]}")
    return (p - y) ** 2


def skill(score: float, reference: float) -> float:
    """1 - score / reference (NaN when the reference scores 0: no room to improve on it)."""
    return float(1.0 - score / reference) if reference > 0 else float("nan")


def weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """The point minimising sum_i w_i |x_i - m|: the smallest x whose cumulative weight
    reaches half the total, or the midpoint of the two middle points when the weight is
    split exactly in half. Zero weights are ignored."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    if x.shape != w.shape or x.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weighted_median needs equal-length positions and weights >= 0, some > 0")
    keep = w > 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w) / w.sum()
    k = int(np.searchsorted(cum, 0.5 - 1e-12))
    if np.isclose(cum[k], 0.5) and k + 1 < x.size:
        return float((x[k] + x[k + 1]) / 2)
    return float(x[k])


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    """sum_i w_i x_i / sum_i w_i."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    if x.shape != w.shape or x.size == 0 or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weighted_mean needs equal-length positions and weights >= 0, some > 0")
    return float(np.dot(w, x) / w.sum())


def weighted_mode(labels: list[str], w: np.ndarray) -> str:
    """The label with the largest total weight (ties: the first in `labels`' order)."""
    totals: dict[str, float] = {}
    for label, weight in zip(labels, np.asarray(w, dtype=float), strict=True):
        totals[label] = totals.get(label, 0.0) + float(weight)
    return max(totals, key=lambda k: totals[k])


def leave_one_out_rate(y: np.ndarray) -> np.ndarray:
    """For each case, the share of events among the other cases (the base rate a forecaster
    could have known without the case itself); NaN for a single case."""
    y = np.asarray(y, dtype=float)
    n = y.size
    if n < 2:
        return np.full(n, np.nan)
    return (y.sum() - y) / (n - 1)


def leave_one_out_median(x: np.ndarray) -> np.ndarray:
    """For each case, the median of the other cases' values (NaN values ignored)."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.size, np.nan)
    for i in range(x.size):
        others = np.delete(x, i)
        others = others[~np.isnan(others)]
        if others.size:
            out[i] = float(np.median(others))
    return out


def bootstrap_means(losses: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Means over resampled cases: `losses` is (forecasters, cases); each resample draws the
    cases with replacement, the same draw for every forecaster (paired). Returns
    (resamples, forecasters)."""
    losses = np.asarray(losses, dtype=float)
    n = losses.shape[1]
    picks = rng.integers(0, n, size=(resamples, n))
    return losses[:, picks].mean(axis=2).T


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central `level` percentile interval of bootstrap values (NaNs ignored)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def scores_with_intervals(
    losses: np.ndarray,
    rng: np.random.Generator,
    resamples: int = 2000,
    level: float = 0.95,
    reference: Callable[[np.ndarray], int] | None = None,
) -> dict[str, np.ndarray]:
    """Mean loss per forecaster (rows of `losses`, cases in columns) with a paired
    percentile bootstrap interval, and each forecaster's skill against `reference` (a
    function of the mean losses giving the reference row: by default the best of the rows
    after the first, i.e. the first row is the model, the others baselines), with its
    interval from the same resamples (the reference chosen once, on the full set)."""
    losses = np.asarray(losses, dtype=float)
    mean = losses.mean(axis=1)
    boot = bootstrap_means(losses, rng, resamples)
    ref = reference(mean) if reference is not None else 1 + int(np.argmin(mean[1:]))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot_skill = 1.0 - boot / boot[:, [ref]]
        boot_skill[~np.isfinite(boot_skill)] = np.nan
    bounds = np.array([interval(boot[:, k], level) for k in range(losses.shape[0])])
    skill_bounds = np.array([interval(boot_skill[:, k], level) for k in range(losses.shape[0])])
    return {
        "mean": mean,
        "low": bounds[:, 0],
        "high": bounds[:, 1],
        "reference": np.full(losses.shape[0], ref),
        "skill": np.array([skill(m, mean[ref]) for m in mean]),
        "skill_low": skill_bounds[:, 0],
        "skill_high": skill_bounds[:, 1],
    }
