"""Round maths shared by the one-negotiation model and the batched one, over a batch axis.

Every function takes arrays with a leading axis of negotiations (n); the one-negotiation
model calls them with n = 1, so both models move a text with the same arithmetic.
"""

from __future__ import annotations

import numpy as np

from sim.core.outcomes import IssueKind, OutcomeSpace

# The compiled round's codes (`sim.core.round_kernel`, read by the engine without numba):
# how a strategy's aspiration moves (`sim.core.strategies`) ...
TIME_DEPENDENT, RECIPROCAL, HARD_LINER = 0, 1, 2
# ... and how a replication ended in a round (`sim.core.settings.EndReason`).
GOING_ON, AGREEMENT, NOT_BINDING, RATIFICATION_FAILED, BREAKDOWN = 0, 1, 2, 3, 4


def text_levels_ok(
    control: tuple[np.ndarray, ...],
    red_lines: tuple[np.ndarray, ...],
    gone: np.ndarray,
    seated: np.ndarray,
    complete: bool,
) -> list[np.ndarray]:
    """Per issue, (n, levels) True where a text may use the level: no party that left
    (`gone`, (n, parties)) controls it and, with complete information, no seated party
    (`seated`, (n, parties)) has a red line at it. Outcomes built from these levels are
    exactly the implementable ones that cross no seated red line."""
    out = []
    for ctrl, red in zip(control, red_lines, strict=True):
        ok = ~(gone[:, :, None] & ctrl[None]).any(axis=1)
        if complete:
            ok &= ~(seated[:, :, None] & red[None]).any(axis=1)
        out.append(ok)
    return out


def _nearest_to_targets(
    space: OutcomeSpace,
    level_values: tuple[np.ndarray, ...],
    text: np.ndarray,
    proposals: np.ndarray,
    weights: np.ndarray,
    step: np.ndarray,
    levels_ok: list[np.ndarray],
    drafter: np.ndarray,
) -> np.ndarray:
    """The outcome nearest each row's target, `step` (per row) of the way to the weighted
    proposals, issue by issue (the distance is a sum over issues and the allowed outcomes
    a product of per-issue levels); ties go to the drafter's value of the level, then the
    lowest level."""
    grid, positions = space.grid, space.grid_positions
    rows = np.arange(text.size)
    here = positions[text]  # (n, issues); NaN for categorical issues
    proposed = np.where(proposals >= 0, proposals, text[:, None])
    # In party order, so the sums are the same for any n; a party without a proposal in
    # any row adds exact zeros and is skipped.
    proposers = np.flatnonzero((proposals >= 0).any(axis=0))
    pull = np.zeros_like(here)
    for p in proposers:
        pull += weights[:, p, None] * (positions[proposed[:, p]] - here)
    targets = here + step[:, None] * pull
    moved = np.zeros(text.size, dtype=np.int64)
    for k, issue in enumerate(space.issues):
        ok = levels_ok[k]
        if issue.kind is IssueKind.categorical:
            votes = np.zeros((text.size, issue.size))
            for p in proposers:
                votes[rows, grid[proposed[:, p], k]] += step * weights[:, p]  # step per row
            votes[rows, grid[text, k]] += 1.0 - step
            winner = np.argmax(votes, axis=1)
            distance = (np.arange(issue.size)[None, :] != winner[:, None]).astype(np.float64)
        else:
            distance = (issue.positions[None, :] - targets[:, k, None]) ** 2
        distance = np.where(ok, distance, np.inf)
        best = ok & (distance == distance.min(axis=1, keepdims=True))
        if (best.sum(axis=1) > 1).any():  # a tie somewhere: the drafter's value decides
            mine = np.where(best, level_values[k][drafter], -np.inf)
            best &= mine == mine.max(axis=1, keepdims=True)
        moved += np.argmax(best, axis=1) * space.strides[k]
    return moved


def move_texts(
    space: OutcomeSpace,
    level_values: tuple[np.ndarray, ...],
    text: np.ndarray,
    proposals: np.ndarray,
    capabilities: np.ndarray,
    step: float,
    levels_ok: list[np.ndarray],
    drafter: np.ndarray,
) -> np.ndarray:
    """Raiffa's step for n texts at once: move each text `step` of the way toward the
    objectors' proposals weighted by their leverage, and snap it to the nearest allowed
    outcome; if that is the old text (a step shorter than half the gap between levels),
    go the whole way. A text with no allowed level on some issue stays.

    text (n,); proposals (n, parties), -1 where a party made none; capabilities (parties,);
    levels_ok per issue (n, levels); drafter (n,) the drafting party's index.
    """
    has = proposals >= 0
    weights = np.where(has, np.maximum(capabilities, 1e-12)[None, :], 0.0)
    total = weights[:, 0].copy()
    for p in range(1, weights.shape[1]):  # in party order, as the compiled round adds
        total += weights[:, p]
    weights = weights / total[:, None]
    # Both moves at once, as rows n..2n-1: the step, and the whole way for the texts the
    # step leaves where they were.
    n = text.size
    both = _nearest_to_targets(
        space,
        level_values,
        np.concatenate([text, text]),
        np.vstack([proposals, proposals]),
        np.vstack([weights, weights]),
        np.repeat([step, 1.0], n),
        [np.vstack([ok, ok]) for ok in levels_ok],
        np.concatenate([drafter, drafter]),
    )
    moved = np.where(both[:n] == text, both[n:], both[:n])
    stuck = np.zeros(text.size, dtype=bool)
    for ok in levels_ok:
        stuck |= ~ok.any(axis=1)
    return np.where(stuck, text, moved)
