"""Value functions, utility matrices and red lines (sim.core.preferences)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sim.core.outcomes import Issue, OutcomeSpace
from sim.core.preferences import (
    Preferences,
    any_level_mask,
    normalise_weights,
    positional_values,
    red_line_mask,
    table_values,
    utility_matrix,
)
from tests.strategies import outcome_spaces, preference_inputs

GRID = np.arange(0.0, 101.0)
positions_on_scale = st.floats(0.0, 100.0)


# --- positional values ----------------------------------------------------------------


def test_positional_values_closed_form():
    v = positional_values(np.array([30.0, 40.0, 50.0, 70.0, 90.0, 0.0]), 30.0, 40.0, 2.0)
    # (1 - min(|x - 30| / 40, 1)) ** 2
    np.testing.assert_allclose(v, [1.0, 0.5625, 0.25, 0.0, 0.0, 0.0625])


@given(ideal=positions_on_scale, decay=st.floats(0.5, 200.0), curvature=st.floats(0.1, 5.0))
def test_positional_values_shape(ideal, decay, curvature):
    v = positional_values(GRID, ideal, decay, curvature)
    assert v.shape == GRID.shape
    assert ((v >= 0.0) & (v <= 1.0)).all()
    assert positional_values(np.array([ideal]), ideal, decay, curvature)[0] == 1.0
    distance = np.abs(GRID - ideal)
    np.testing.assert_array_equal(v[distance >= decay], 0.0)
    assert (v[distance < decay * (1 - 1e-9)] > 0.0).all()
    # Monotone: the farther from the ideal, the lower (never higher) the value.
    order = np.argsort(distance, kind="stable")
    assert (np.diff(v[order]) <= 0.0).all()


@given(ideal=positions_on_scale, decay=st.floats(0.5, 200.0))
def test_curvature_bends_the_value_function(ideal, decay):
    concave = positional_values(GRID, ideal, decay, 0.5)
    linear = positional_values(GRID, ideal, decay, 1.0)
    convex = positional_values(GRID, ideal, decay, 2.0)
    assert (concave >= linear).all()
    assert (linear >= convex).all()
    distance = np.abs(GRID - ideal)
    inside = (distance < decay) & (distance > 1e-6)  # closer, 1 - d/decay rounds to 1
    assert (concave[inside] > linear[inside]).all()
    assert (linear[inside] > convex[inside]).all()
    np.testing.assert_allclose(concave**2, linear, atol=1e-12)
    np.testing.assert_allclose(linear**2, convex, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decay": 0.0}, "decay must be > 0, got 0.0"),
        ({"decay": -5.0}, "decay must be > 0, got -5.0"),
        ({"decay": float("nan")}, "decay must be > 0, got nan"),
        ({"curvature": 0.0}, "curvature must be > 0, got 0.0"),
        ({"curvature": -1.0}, "curvature must be > 0, got -1.0"),
    ],
)
def test_positional_values_errors(kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        positional_values(GRID, 50.0, **kwargs)


# --- level tables and red lines --------------------------------------------------------

NATO = Issue.ordinal("nato", {"membership": 0.0, "path": 25.0, "dropped": 50.0, "neutral": 100.0})


def test_table_values_in_level_order_missing_levels_worth_zero():
    values = table_values(NATO, {"neutral": 1.0, "membership": 0.2, "dropped": 0.6})
    np.testing.assert_array_equal(values, [0.2, 0.0, 0.6, 1.0])


def test_table_values_unknown_level():
    with pytest.raises(
        KeyError,
        match=re.escape(
            "issue 'nato': unknown levels ['accession', 'nope'] in value table; "
            "allowed: ['membership', 'path', 'dropped', 'neutral']"
        ),
    ):
        table_values(NATO, {"nope": 1.0, "accession": 0.5, "path": 0.1})


def test_red_line_mask_by_level_and_bounds():
    np.testing.assert_array_equal(red_line_mask(NATO), [False, False, False, False])
    np.testing.assert_array_equal(red_line_mask(NATO, ["membership"]), [True, False, False, False])
    # Bounds are strict: a level exactly at the bound is acceptable.
    np.testing.assert_array_equal(red_line_mask(NATO, above=50.0), [False, False, False, True])
    np.testing.assert_array_equal(red_line_mask(NATO, below=25.0), [True, False, False, False])
    np.testing.assert_array_equal(
        red_line_mask(NATO, ["dropped"], above=60.0, below=10.0), [True, False, True, True]
    )
    territory = Issue.continuous("territory", 0.0, 100.0, 20.0)
    np.testing.assert_array_equal(
        red_line_mask(territory, ["0"], above=80.0), [True, False, False, False, False, True]
    )


def test_red_line_mask_unknown_level():
    with pytest.raises(KeyError, match=re.escape("issue 'nato': unknown level 'accession'")):
        red_line_mask(NATO, ["accession"])


# --- weights ----------------------------------------------------------------------------


def test_normalise_weights_rows_sum_to_one_and_keep_proportions():
    w = normalise_weights(np.array([[0.4, 0.3, 0.4], [0.0, 2.0, 6.0]]))
    np.testing.assert_allclose(w, [[4 / 11, 3 / 11, 4 / 11], [0.0, 0.25, 0.75]])
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    ("salience", "message"),
    [
        ([[1.0, -0.1]], "saliences must be non-negative"),
        ([[1.0, 1.0], [0.0, 0.0]], "saliences must not all be zero for a party"),
    ],
)
def test_normalise_weights_errors(salience, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        normalise_weights(np.array(salience))


# --- utility matrices -----------------------------------------------------------------


def naive_utilities(space: OutcomeSpace, weights, level_values) -> np.ndarray:
    """u_i(o) = sum_k w_ik v_ik(o_k), one outcome at a time."""
    n = weights.shape[0]
    U = np.zeros((n, space.size))
    for o in range(space.size):
        idx = space.unravel(o)
        for i in range(n):
            U[i, o] = sum(
                weights[i, k] * level_values[k][i, idx[k]] for k in range(len(space.issues))
            )
    return U


def naive_red_line_crossed(space: OutcomeSpace, red_lines) -> np.ndarray:
    n = red_lines[0].shape[0]
    out = np.zeros((n, space.size), dtype=bool)
    for o in range(space.size):
        idx = space.unravel(o)
        for i in range(n):
            out[i, o] = any(red_lines[k][i, idx[k]] for k in range(len(space.issues)))
    return out


def test_utility_matrix_small_closed_form():
    territory = Issue.continuous("territory", 0.0, 100.0, 50.0)
    space = OutcomeSpace((territory, NATO))
    weights = np.array([[0.75, 0.25], [0.5, 0.5]])
    values = (
        np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]),
        np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.5, 1.0]]),
    )
    U = utility_matrix(weights, values)
    assert U.shape == (2, 12)
    # Outcome 6 = (territory 50, nato dropped): 0.75*0.5 + 0.25*0 and 0.5*0.5 + 0.5*0.5.
    np.testing.assert_allclose(U[:, 6], [0.375, 0.5])
    np.testing.assert_allclose(U, naive_utilities(space, weights, values))
    np.testing.assert_allclose(utility_matrix(weights, values, space.shape), U)


@given(st.data())
def test_utility_matrix_equals_naive_computation(data):
    space = data.draw(outcome_spaces())
    weights, values, red_lines = data.draw(preference_inputs(space))
    U = utility_matrix(weights, values, space.shape)
    assert U.shape == (weights.shape[0], space.size)
    np.testing.assert_allclose(U, naive_utilities(space, weights, values), rtol=0, atol=1e-12)
    assert ((U >= -1e-12) & (U <= 1 + 1e-12)).all()
    prefs = Preferences(
        tuple(f"p{i}" for i in range(weights.shape[0])), space, weights, values, red_lines
    )
    np.testing.assert_array_equal(prefs.utilities(), U)
    crossed = naive_red_line_crossed(space, red_lines)
    np.testing.assert_array_equal(prefs.red_line_crossed(), crossed)
    np.testing.assert_array_equal(any_level_mask(red_lines, space.shape), crossed)


# --- Preferences ----------------------------------------------------------------------


def two_party_preferences(red_lines=()) -> Preferences:
    territory = Issue.continuous("territory", 0.0, 100.0, 25.0)
    space = OutcomeSpace((territory, NATO))
    weights = normalise_weights(np.array([[0.6, 0.4], [0.5, 0.5]]))
    values = (
        np.vstack(
            [
                positional_values(territory.positions, 0.0),
                positional_values(territory.positions, 100.0),
            ]
        ),
        np.vstack(
            [
                table_values(NATO, {"membership": 1.0, "path": 0.8, "dropped": 0.3}),
                table_values(NATO, {"neutral": 1.0, "dropped": 0.7, "path": 0.2}),
            ]
        ),
    )
    return Preferences(("ukraine", "russia"), space, weights, values, red_lines)


def test_ideal_outcomes_without_red_lines_are_each_partys_best():
    prefs = two_party_preferences()
    space = prefs.space
    ideal = prefs.ideal_outcomes()
    assert space.levels_of(int(ideal[0])) == {"territory": "0", "nato": "membership"}
    assert space.levels_of(int(ideal[1])) == {"territory": "100", "nato": "neutral"}
    np.testing.assert_allclose(prefs.utilities()[[0, 1], ideal], [1.0, 1.0])
    assert not prefs.red_line_crossed().any()


def test_ideal_outcomes_respect_own_red_lines_only():
    territory_lines = np.array([[True, False, False, False, False], [False] * 5])  # ukraine: not 0
    nato_lines = np.array([[False] * 4, [False, False, False, True]])  # russia: not neutral
    prefs = two_party_preferences((territory_lines, nato_lines))
    ideal = prefs.ideal_outcomes()
    space = prefs.space
    assert space.levels_of(int(ideal[0])) == {"territory": "25", "nato": "membership"}
    assert space.levels_of(int(ideal[1])) == {"territory": "100", "nato": "dropped"}
    # Utilities themselves ignore red lines; red_line_crossed marks them.
    crossed = prefs.red_line_crossed()
    assert crossed[0, space.index_of({"territory": "0", "nato": "neutral"})]
    assert crossed[1, space.index_of({"territory": "50", "nato": "neutral"})]
    assert not crossed[1, space.index_of({"territory": "0", "nato": "membership"})]


def test_ideal_outcomes_break_ties_by_lowest_index():
    space = OutcomeSpace((Issue.categorical("venue", ["a", "b", "c"]),))
    prefs = Preferences(("x",), space, np.array([[1.0]]), (np.array([[0.5, 1.0, 1.0]]),))
    assert prefs.ideal_outcomes().tolist() == [1]
    U = np.array([[0.2, 0.2, 0.1]])
    assert prefs.ideal_outcomes(U).tolist() == [0]


@given(st.data())
def test_ideal_outcomes_are_best_among_own_acceptable(data):
    space = data.draw(outcome_spaces())
    weights, values, red_lines = data.draw(preference_inputs(space))
    n = weights.shape[0]
    prefs = Preferences(tuple(f"p{i}" for i in range(n)), space, weights, values, red_lines)
    U, crossed = prefs.utilities(), prefs.red_line_crossed()
    assume((~crossed).any(axis=1).all())  # every party has some acceptable outcome
    ideal = prefs.ideal_outcomes()
    for i in range(n):
        allowed = np.flatnonzero(~crossed[i])
        assert not crossed[i, ideal[i]]
        assert U[i, ideal[i]] == U[i, allowed].max()
        assert ideal[i] == allowed[U[i, allowed] == U[i, allowed].max()][0]


def test_preferences_lookup_and_checks():
    prefs = two_party_preferences()
    assert prefs.party_index("russia") == 1
    with pytest.raises(
        KeyError, match=re.escape("unknown party 'usa'; allowed: ['ukraine', 'russia']")
    ):
        prefs.party_index("usa")
    space, values = prefs.space, prefs.level_values
    with pytest.raises(ValueError, match=re.escape("weights shape (2, 3) != (2, 2)")):
        Preferences(prefs.parties, space, np.full((2, 3), 1 / 3), values)
    with pytest.raises(
        ValueError, match=r"^weights must sum to 1 for every party \(0: a mediator with no stake\)$"
    ):
        Preferences(prefs.parties, space, np.array([[0.5, 0.5], [0.5, 0.4]]), values)
    with pytest.raises(ValueError, match=re.escape("issue 'nato': level values shape (2, 3)")):
        Preferences(prefs.parties, space, prefs.weights, (values[0], values[1][:, :3]))
