"""Learning another party's preferences from its offers (frequency opponent model).

Hindriks & Tykhonov (2008) and Baarslag et al. (2013): a level a party offers often is
worth more to it, and an issue whose level it rarely changes matters more to it. Both are
estimated from counts, so the model is a pure function of the offers seen so far.
"""

from __future__ import annotations

import numpy as np

from sim.core.preferences import utility_matrix


def frequency_model(
    offered_levels: np.ndarray, shape: tuple[int, ...]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Estimated weights (issues,) and level values per issue from offers (n, issues).

    With no offers every level is worth 1 and the weights are equal.
    """
    n_issues = len(shape)
    if offered_levels.size == 0:
        return np.full(n_issues, 1.0 / n_issues), [np.ones(s) for s in shape]
    values = []
    for k, size in enumerate(shape):
        counts = np.bincount(offered_levels[:, k], minlength=size).astype(np.float64)
        values.append((counts + 1.0) / (counts.max() + 1.0))
    unchanged = (np.diff(offered_levels, axis=0) == 0).sum(axis=0).astype(np.float64)
    weights = (1.0 + unchanged) / (1.0 + unchanged).sum()
    return weights, values


def estimated_utilities(offered_levels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(outcomes,) estimated utility of every outcome for the party that made the offers."""
    weights, values = frequency_model(offered_levels, shape)
    return utility_matrix(weights[None, :], [v[None, :] for v in values], shape)[0]


def frequency_utilities(
    counts: list[np.ndarray], unchanged: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """(m, outcomes) estimated utilities of m offer histories kept as counts: per issue
    (m, levels) how often each level was offered, and (m, issues) how many consecutive
    offers left the issue unchanged. The same estimates as `frequency_model`, for many
    parties and replications at once (the engine keeps the counts round by round)."""
    values = [(c + 1.0) / (c.max(axis=1, keepdims=True) + 1.0) for c in counts]
    kept = 1.0 + unchanged
    total = kept[:, 0].copy()
    for k in range(1, kept.shape[1]):  # in issue order, as the compiled round adds
        total += kept[:, k]
    weights = kept / total[:, None]
    return utility_matrix(weights, values, shape)
