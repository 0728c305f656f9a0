"""The frequency opponent model (sim.core.opponents): closed forms on hand-computed offer lists.

Hindriks & Tykhonov (2008) and Baarslag et al. (2013), as implemented: the value of a level
is (count + 1) / (largest count on its issue + 1), and an issue's weight is
(1 + number of consecutive offers leaving it unchanged), normalised to sum to one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.core.opponents import estimated_utilities, frequency_model

SHAPE = (3, 2, 4)


@st.composite
def offer_lists(draw, shape=SHAPE, min_size=1):
    """(n, issues) offered levels, every level within its issue's range."""
    n = draw(st.integers(min_size, 12))
    columns = [draw(st.lists(st.integers(0, s - 1), min_size=n, max_size=n)) for s in shape]
    return np.array(columns, dtype=np.int64).T.reshape(n, len(shape))


def outcome_index(levels, shape) -> int:
    """The outcome's index in the grid (C order)."""
    return int(np.ravel_multi_index(tuple(levels), shape))


# --- no offers ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2,), (3, 2), SHAPE])
def test_with_no_offers_weights_are_equal_and_every_value_is_one(shape):
    weights, values = frequency_model(np.empty((0, len(shape)), dtype=np.int64), shape)
    np.testing.assert_array_equal(weights, np.full(len(shape), 1.0 / len(shape)))
    assert [v.tolist() for v in values] == [[1.0] * s for s in shape]
    # Every outcome is then worth the sum of the weights: 1.
    utilities = estimated_utilities(np.empty((0, len(shape)), dtype=np.int64), shape)
    assert utilities.shape == (int(np.prod(shape)),)
    np.testing.assert_allclose(utilities, 1.0, atol=1e-12)


# --- values: (count + 1) / (max count + 1) ------------------------------------------------


def test_level_values_by_hand():
    offers = np.array([[0, 1], [2, 1], [0, 0], [0, 1]])
    _, values = frequency_model(offers, (3, 2))
    # Issue 0: counts (3, 0, 1), max 3 -> (4/4, 1/4, 2/4).
    np.testing.assert_allclose(values[0], [1.0, 0.25, 0.5], atol=1e-12)
    # Issue 1: counts (1, 3), max 3 -> (2/4, 4/4).
    np.testing.assert_allclose(values[1], [0.5, 1.0], atol=1e-12)


def test_level_values_of_a_single_offer():
    # One offer: the offered level counts 1 (value 2/2), every other level 0 (value 1/2).
    _, values = frequency_model(np.array([[1, 0, 3]]), SHAPE)
    np.testing.assert_allclose(values[0], [0.5, 1.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(values[1], [1.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(values[2], [0.5, 0.5, 0.5, 1.0], atol=1e-12)


@given(offer_lists())
def test_level_values_are_the_closed_form(offers):
    _, values = frequency_model(offers, SHAPE)
    for k, size in enumerate(SHAPE):
        counts = [int((offers[:, k] == level).sum()) for level in range(size)]
        expected = [(c + 1) / (max(counts) + 1) for c in counts]
        np.testing.assert_allclose(values[k], expected, atol=1e-12)
        assert values[k].max() == 1.0  # the most offered level
        assert (values[k] > 0).all()


# --- weights: (1 + unchanged) / sum --------------------------------------------------------


def test_weights_by_hand():
    # Consecutive pairs: (0,0)->(0,1) keeps issue 0; (0,1)->(0,0) keeps issue 0;
    # (0,0)->(1,0) keeps issue 1. Unchanged (2, 1): weights (3, 2) / 5.
    offers = np.array([[0, 0], [0, 1], [0, 0], [1, 0]])
    weights, _ = frequency_model(offers, (3, 2))
    np.testing.assert_allclose(weights, [0.6, 0.4], atol=1e-12)


def test_weights_of_a_single_offer_are_equal():
    weights, _ = frequency_model(np.array([[2, 1, 0]]), SHAPE)
    np.testing.assert_allclose(weights, [1 / 3] * 3, atol=1e-12)


@given(offer_lists())
def test_weights_are_the_closed_form(offers):
    weights, _ = frequency_model(offers, SHAPE)
    unchanged = [
        sum(offers[t, k] == offers[t - 1, k] for t in range(1, len(offers)))
        for k in range(len(SHAPE))
    ]
    kept = np.array(unchanged, dtype=float) + 1.0
    np.testing.assert_allclose(weights, kept / kept.sum(), atol=1e-12)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


@given(offer_lists(), st.integers(0, len(SHAPE) - 1))
def test_an_issue_never_changed_gets_the_largest_weight(offers, k):
    offers[:, k] = offers[0, k]  # issue k is never changed
    weights, _ = frequency_model(offers, SHAPE)
    assert weights[k] == weights.max()
    # Strictly larger than any issue that changed at least once.
    changed = (np.diff(offers, axis=0) != 0).any(axis=0)
    assert (weights[k] > weights[changed]).all()


# --- estimated utilities --------------------------------------------------------------------


def test_estimated_utilities_are_the_weighted_sum_by_hand():
    # Weights (0.6, 0.4) (see test_weights_by_hand); issue 0 counts (3, 1, 0) -> values
    # (1, 1/2, 1/4); issue 1 counts (3, 1) -> values (1, 1/2).
    offers = np.array([[0, 0], [0, 1], [0, 0], [1, 0]])
    got = estimated_utilities(offers, (3, 2))
    # Outcomes in C order: (0,0) (0,1) (1,0) (1,1) (2,0) (2,1).
    by_hand = [
        0.6 * 1.0 + 0.4 * 1.0,
        0.6 * 1.0 + 0.4 * 0.5,
        0.6 * 0.5 + 0.4 * 1.0,
        0.6 * 0.5 + 0.4 * 0.5,
        0.6 * 0.25 + 0.4 * 1.0,
        0.6 * 0.25 + 0.4 * 0.5,
    ]
    np.testing.assert_allclose(got, by_hand, atol=1e-12)
    np.testing.assert_allclose(got, [1.0, 0.8, 0.7, 0.5, 0.55, 0.35], atol=1e-12)


@given(offer_lists())
def test_estimated_utilities_are_the_model_weights_times_values(offers):
    weights, values = frequency_model(offers, SHAPE)
    got = estimated_utilities(offers, SHAPE)
    for levels in np.ndindex(*SHAPE):
        expected = sum(w * v[level] for w, v, level in zip(weights, values, levels, strict=True))
        assert got[outcome_index(levels, SHAPE)] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("repeats", [1, 2, 5])
@pytest.mark.parametrize("outcome", [0, 7, 23])
def test_a_party_always_offering_one_outcome_ranks_it_first(outcome, repeats):
    levels = np.unravel_index(outcome, SHAPE)
    offers = np.tile(np.array(levels), (repeats, 1))
    utilities = estimated_utilities(offers, SHAPE)
    assert utilities[outcome] == pytest.approx(1.0, abs=1e-12)
    assert int(np.argmax(utilities)) == outcome
    others = np.delete(utilities, outcome)
    assert (others < utilities[outcome]).all()


# --- comparative statics ---------------------------------------------------------------------


@given(offer_lists(), st.data())
def test_offering_a_level_more_often_never_lowers_its_value(offers, data):
    k = data.draw(st.integers(0, len(SHAPE) - 1))
    level = data.draw(st.integers(0, SHAPE[k] - 1))
    extra = offers[-1].copy()
    extra[k] = level
    _, before = frequency_model(offers, SHAPE)
    _, after = frequency_model(np.vstack([offers, extra]), SHAPE)
    assert after[k][level] >= before[k][level]
    # ... and never raises the value of another level of that issue.
    others = np.arange(SHAPE[k]) != level
    assert (after[k][others] <= before[k][others] + 1e-12).all()


@given(offer_lists(), st.integers(0, len(SHAPE) - 1))
def test_keeping_an_issue_while_changing_the_others_raises_its_weight(offers, k):
    extra = offers[-1].copy()
    for j, size in enumerate(SHAPE):
        if j != k:
            extra[j] = (extra[j] + 1) % size  # every other issue changes
    weights_before, _ = frequency_model(offers, SHAPE)
    weights_after, _ = frequency_model(np.vstack([offers, extra]), SHAPE)
    assert weights_after[k] > weights_before[k]
