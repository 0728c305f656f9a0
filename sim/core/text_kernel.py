"""The single negotiating text's round compiled (numba): the answers to the text, the pass
rule, the objections and Raiffa's step (docs/model.md, "Negotiation", "Computed"), after
the opening of `sim.core.round_kernel`, which this module also gives the engine.

They are `sim.engine.protocols.ProtocolRounds._single_text_round` after its drafts (those
stay in numpy: a mediator's Nash product takes logarithms), `rounds.move_texts` and
`rounds.text_levels_ok`, the same comparisons and arithmetic in the same order: the
numpy round stays the definition and the test oracle (tests/test_round_kernel.py).
Compiled once per machine (`cache=True`).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.core.preferences import TOLERANCE
from sim.core.round_kernel import (
    _JIT,
    _answer_and_settle,
    _propose,
    _record_offer,
    open_round,
)

__all__ = ["open_round", "single_text"]


@numba.njit(**_JIT)
def _nearest(
    text: int,
    proposals: np.ndarray,
    weights: np.ndarray,
    step: float,
    ok: np.ndarray,
    drafter: int,
    space: tuple,
) -> int:
    """`rounds._nearest_to_targets` for one text (`space` as `single_text` takes it): the
    outcome nearest the point `step` of the way to the weighted proposals, issue by issue;
    ties to the drafter's value of the level, then the lowest level."""
    _, _, grid, strides, sizes, positions, grid_positions, categorical, level_values = space
    parties = proposals.size
    issues = sizes.size
    moved = 0
    for k in range(issues):
        size = sizes[k]
        distance = np.empty(size)
        if categorical[k]:
            votes = np.zeros(size)
            for p in range(parties):
                if proposals[p] >= 0:
                    votes[grid[proposals[p], k]] += step * weights[p]
            votes[grid[text, k]] += 1.0 - step
            winner = 0
            for level in range(1, size):
                if votes[level] > votes[winner]:
                    winner = level
            for level in range(size):
                distance[level] = 0.0 if level == winner else 1.0
        else:
            here = grid_positions[text, k]
            pull = 0.0
            for p in range(parties):
                if proposals[p] >= 0:
                    pull += weights[p] * (grid_positions[proposals[p], k] - here)
            target = here + step * pull
            for level in range(size):
                gap = positions[k, level] - target
                distance[level] = gap * gap
        nearest = np.inf
        for level in range(size):
            if ok[k, level] and distance[level] < nearest:
                nearest = distance[level]
        pick, pick_value = 0, -np.inf
        found = False
        for level in range(size):  # the first of the nearest the drafter values most
            if ok[k, level] and distance[level] == nearest:
                value = level_values[k, drafter, level]
                if not found or value > pick_value:
                    pick, pick_value, found = level, value, True
        moved += pick * strides[k]
    return moved


@numba.njit(**_JIT)
def _move_text(
    r: int,
    text: int,
    proposals: np.ndarray,
    capabilities: np.ndarray,
    text_step: float,
    drafter: int,
    seated: np.ndarray,
    walked_out: np.ndarray,
    space: tuple,
    complete: bool,
) -> int:
    """`rounds.move_texts` for one text, on the levels `rounds.text_levels_ok` allows
    (the seated parties' red lines only under `complete` information): the step, or the
    whole way where the step stays put; a text with no allowed level on some issue
    stays."""
    control, red_lines, sizes = space[0], space[1], space[4]
    parties = proposals.size
    issues, _, width = control.shape
    ok = np.zeros((issues, width), dtype=np.bool_)
    for k in range(issues):
        any_ok = False
        for level in range(sizes[k]):
            fine = True
            for j in range(parties):
                if (walked_out[r, j] and control[k, j, level]) or (
                    complete and seated[r, j] and red_lines[k, j, level]
                ):
                    fine = False
                    break
            ok[k, level] = fine
            any_ok |= fine
        if not any_ok:
            return text
    weights = np.zeros(parties)
    total = 0.0
    for p in range(parties):
        if proposals[p] >= 0:
            weights[p] = max(capabilities[p], 1e-12)
        total += weights[p]
    for p in range(parties):
        weights[p] = weights[p] / total
    moved = _nearest(text, proposals, weights, text_step, ok, drafter, space)
    if moved == text:
        moved = _nearest(text, proposals, weights, 1.0, ok, drafter, space)
    return moved


@numba.njit(**_JIT)
def single_text(
    reps: np.ndarray,
    drafters: np.ndarray,
    round_: int,
    shared: bool,
    utilities: np.ndarray,
    orders: tuple,
    learning: tuple,
    terms: tuple,
    framework: tuple,
    capabilities: np.ndarray,
    text_step: float,
    space: tuple,
    aspirations: np.ndarray,
    seated: np.ndarray,
    walked_out: np.ndarray,
    asked: np.ndarray,
    accepted: np.ndarray,
    can_implement: np.ndarray,
    texts: np.ndarray,
    offers: np.ndarray,
    proposers: np.ndarray,
    ends: tuple,
) -> int:
    """Round `round_` of the single text in replications `reps`, each with a text drafted
    by `drafters` (`_single_text_round` after its drafts): every seated party answers, the
    pass rule, then each objector proposes and the text moves toward the proposals
    (Raiffa's step). `space`: the outcome grid as `NegotiationBatch._packed_space` packs
    it; the other tuples as `alternating_offers` takes them.
    Returns how many replications ended."""
    allowed, _, _, batnas, _ = terms
    rejected = ends[6]
    parties = seated.shape[1]
    proposals = np.empty(parties, dtype=np.int64)
    done = 0
    for k in range(reps.size):
        r = reps[k]
        row = 0 if shared else r
        u = utilities[row]
        o = texts[r]
        drafter = drafters[k]
        offers[r], proposers[r] = o, drafter
        for j in range(parties):
            rejected[r, j] = False
        if _answer_and_settle(
            r,
            o,
            round_,
            u,
            False,
            terms,
            framework,
            aspirations,
            seated,
            asked,
            accepted,
            ends,
        ):
            done += 1
            continue
        moving = False
        for i in range(parties):  # the objections are simultaneous
            proposals[i] = -1
            if seated[r, i] and not accepted[r, i]:
                proposals[i] = _propose(
                    i,
                    u,
                    allowed,
                    orders[i][row],
                    aspirations[r, i],
                    batnas[r],
                    seated[r],
                    can_implement[r],
                    TOLERANCE,
                    r,
                    learning,
                )
                moving |= proposals[i] >= 0
        for i in range(parties):  # counted once all are made
            if proposals[i] >= 0:
                _record_offer(r, i, proposals[i], learning)
        if moving:
            texts[r] = _move_text(
                r,
                o,
                proposals,
                capabilities,
                text_step,
                drafter,
                seated,
                walked_out,
                space,
                not learning[0],
            )
    return done
