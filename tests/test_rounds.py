"""Raiffa's text step over a batch of texts (sim.core.rounds.move_texts): the target, the snap
to the grid, the drafter's tie rule and texts that cannot move, row by row."""

from __future__ import annotations

import numpy as np

from sim.core.outcomes import Issue, OutcomeSpace
from sim.core.rounds import move_texts

SPACE = OutcomeSpace((Issue.continuous("x", 0.0, 100.0, 10.0),))  # levels 0, 10, ..., 100
# Party 0 values low positions, party 1 high ones (the drafter's tie rule reads these).
VALUES = (np.vstack([np.linspace(1.0, 0.0, 11), np.linspace(0.0, 1.0, 11)]),)
CAPABILITIES = np.array([1.0, 3.0])


def level(position: float) -> int:
    return round(position / 10)


def move(texts, proposals, drafters, levels_ok=None, step=0.5):
    n = len(texts)
    ok = levels_ok or [np.ones((n, 11), dtype=bool)]
    return move_texts(
        SPACE,
        VALUES,
        np.array(texts),
        np.array(proposals),
        CAPABILITIES,
        step,
        ok,
        np.array(drafters),
    ).tolist()


def test_the_text_moves_half_way_toward_the_leverage_weighted_proposals():
    # target 20 + 0.5 * ((1 * 0 + 3 * 100) / 4 - 20) = 47.5 -> 50
    assert move([level(20)], [[level(0), level(100)]], [0]) == [level(50)]
    # only party 1 objects: 20 + 0.5 * (80 - 20) = 50
    assert move([level(20)], [[-1, level(80)]], [0]) == [level(50)]


def test_a_tie_between_two_levels_goes_to_the_drafters_preference():
    # 20 + 0.5 * (50 - 20) = 35: 30 and 40 are equally near
    assert move([level(20)], [[-1, level(50)]], [0]) == [level(30)]
    assert move([level(20)], [[-1, level(50)]], [1]) == [level(40)]


def test_a_step_too_short_to_leave_the_level_goes_the_whole_way():
    # 40 + 0.5 * (50 - 40) = 45 ties 40 and 50; drafter 0 picks 40, the old text: go to 50
    assert move([level(40)], [[level(50), -1]], [0]) == [level(50)]


def test_rows_are_independent_and_a_text_without_allowed_levels_stays():
    stuck = np.zeros((2, 11), dtype=bool)
    stuck[0] = True  # row 0 may use every level, row 1 none
    out = move([level(20), level(70)], [[-1, level(50)], [level(0), -1]], [1, 0], [stuck])
    assert out == [level(40), level(70)]
    # the same rows one at a time give the same texts
    assert move([level(20)], [[-1, level(50)]], [1]) == [out[0]]


def test_levels_that_are_not_allowed_are_skipped():
    ok = np.ones((1, 11), dtype=bool)
    ok[0, level(50)] = False
    # target 50 is not allowed: 40 and 60 tie; drafter 1 prefers 60
    assert move([level(20)], [[-1, level(80)]], [1], [ok]) == [level(60)]
