"""Issues and the outcome grid (sim.core.outcomes)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given

from sim.core.outcomes import Issue, IssueKind, OutcomeSpace
from tests.strategies import outcome_spaces


def small_space() -> OutcomeSpace:
    return OutcomeSpace(
        (
            Issue.continuous("territory", 0.0, 100.0, 50.0),  # 0, 50, 100
            Issue.ordinal("nato", {"membership": 0.0, "neutrality": 100.0}, default="membership"),
            Issue.categorical("venue", ["geneva", "riyadh", "istanbul", "vienna"]),
        )
    )


def million_space() -> OutcomeSpace:
    """10,001 x 10 x 10 = 1,000,100 outcomes."""
    return OutcomeSpace(
        (
            Issue.continuous("territory", 0.0, 100.0, 0.01),
            Issue.ordinal("nato", {f"n{i}": 10.0 * i for i in range(10)}),
            Issue.categorical("venue", [f"v{i}" for i in range(10)]),
        )
    )


# --- issues ---------------------------------------------------------------------------


def test_continuous_issue_grid_and_level_names():
    issue = Issue.continuous("territory", 20.0, 30.0, 2.5)
    assert issue.kind is IssueKind.continuous
    assert issue.size == 5
    np.testing.assert_array_equal(issue.positions, [20.0, 22.5, 25.0, 27.5, 30.0])
    assert issue.levels == ("20", "22.5", "25", "27.5", "30")
    assert issue.default is None
    assert issue.positioned


def test_continuous_level_names_at_fine_resolution_are_clean_and_unique():
    issue = Issue.continuous("territory", 0.0, 100.0, 0.01)
    assert issue.size == 10_001
    assert issue.levels[:4] == ("0", "0.01", "0.02", "0.03")
    assert issue.levels[7] == "0.07"  # not 0.07000000000000001
    assert issue.levels[-2:] == ("99.99", "100")
    assert len(set(issue.levels)) == issue.size


def test_continuous_level_names_stay_unique_beyond_six_significant_digits():
    # 100,001 grid points between 50 and 51: six significant digits would call the first
    # ten all "50"; the names must tell every grid point apart.
    issue = Issue.continuous("territory", 50.0, 51.0, 1e-5)
    assert issue.size == 100_001
    assert len(set(issue.levels)) == issue.size
    assert issue.levels[:3] == ("50", "50.00001", "50.00002")
    assert issue.levels[-1] == "51"


def test_continuous_default_is_the_nearest_grid_point():
    assert Issue.continuous("t", 0.0, 100.0, 10.0, default=46.0).default == 5
    assert Issue.continuous("t", 0.0, 100.0, 10.0, default=44.0).default == 4


def test_continuous_single_point_range():
    issue = Issue.continuous("t", 40.0, 40.0, 1.0)
    assert issue.levels == ("40",)


@pytest.mark.parametrize(
    ("resolution", "message"),
    [
        (0.0, "issue 't': resolution 0.0 must be > 0"),
        (-1.0, "issue 't': resolution -1.0 must be > 0"),
        (float("nan"), "issue 't': resolution nan must be > 0"),
        (0.3, "issue 't': resolution 0.3 does not divide [0.0, 100.0]"),
        (30.0, "issue 't': resolution 30.0 does not divide [0.0, 100.0]"),
        (200.0, "issue 't': resolution 200.0 does not divide [0.0, 100.0]"),
    ],
)
def test_continuous_bad_resolution(resolution, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Issue.continuous("t", 0.0, 100.0, resolution)


def test_ordinal_issue_keeps_order_positions_and_default():
    issue = Issue.ordinal("nato", {"membership": 0.0, "path": 25.0, "neutral": 100.0}, "path")
    assert issue.kind is IssueKind.ordinal
    assert issue.levels == ("membership", "path", "neutral")
    np.testing.assert_array_equal(issue.positions, [0.0, 25.0, 100.0])
    assert issue.default == 1


def test_categorical_issue_has_no_positions():
    issue = Issue.categorical("venue", ["geneva", "riyadh"], default="riyadh")
    assert issue.kind is IssueKind.categorical
    assert not issue.positioned
    assert np.isnan(issue.positions).all()
    assert issue.default == 1


def test_issue_positions_are_read_only():
    issue = Issue.continuous("t", 0.0, 10.0, 5.0)
    with pytest.raises(ValueError, match="read-only"):
        issue.positions[0] = 3.0


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (
            lambda: Issue.categorical("v", []),
            ValueError,
            "issue 'v': no levels; allowed: at least one",
        ),
        (
            lambda: Issue.categorical("v", ["a", "b", "a"]),
            ValueError,
            "issue 'v': duplicate level names ['a', 'b', 'a']",
        ),
        (
            lambda: Issue("v", IssueKind.ordinal, ("a", "b"), np.array([0.0])),
            ValueError,
            "issue 'v': one position per level expected",
        ),
        (
            lambda: Issue.ordinal("v", {"a": 0.0}, default="b"),
            KeyError,
            "unknown default level 'b'; allowed: ['a']",
        ),
        (
            lambda: Issue.categorical("v", ["a"], default="b"),
            KeyError,
            "unknown default level 'b'; allowed: ['a']",
        ),
    ],
)
def test_issue_construction_errors(build, error, message):
    with pytest.raises(error, match=re.escape(message)):
        build()


def test_level_index_by_name_and_by_nearest_position():
    issue = Issue.ordinal("nato", {"membership": 0.0, "path": 25.0, "neutral": 100.0})
    assert issue.level_index("path") == 1
    assert issue.level_index(30.0) == 1
    assert issue.level_index(70.0) == 2
    continuous = Issue.continuous("t", 0.0, 100.0, 10.0)
    assert continuous.level_index("30") == 3
    assert continuous.level_index("30.0") == 3  # a number given as text: nearest position
    assert continuous.level_index(34.9) == 3


def test_level_index_errors():
    nato = Issue.ordinal("nato", {"membership": 0.0, "neutral": 100.0})
    with pytest.raises(
        KeyError,
        match=re.escape("issue 'nato': unknown level 'nope'; allowed: ['membership', 'neutral']"),
    ):
        nato.level_index("nope")
    with pytest.raises(KeyError, match=re.escape("issue 't': unknown level 'far'")):
        Issue.continuous("t", 0.0, 10.0, 5.0).level_index("far")
    venue = Issue.categorical("venue", ["geneva"])
    with pytest.raises(
        KeyError, match=re.escape("issue 'venue' is categorical: give a level name, not 3.0")
    ):
        venue.level_index(3.0)


# --- the outcome space ----------------------------------------------------------------


def test_space_size_shape_and_names():
    space = small_space()
    assert space.names == ("territory", "nato", "venue")
    assert space.shape == (3, 2, 4)
    assert space.size == 24
    assert space.issue("nato").levels == ("membership", "neutrality")


def test_space_errors():
    with pytest.raises(
        ValueError, match=re.escape("outcome space: no issues; allowed: at least one issue")
    ):
        OutcomeSpace(())
    a = Issue.categorical("a", ["x"])
    with pytest.raises(
        ValueError, match=re.escape("outcome space: duplicate issue names ['a', 'a']")
    ):
        OutcomeSpace((a, a))
    with pytest.raises(
        KeyError, match=re.escape("unknown issue 'b'; allowed: ['territory', 'nato', 'venue']")
    ):
        small_space().issue("b")


def test_level_indices_enumerate_in_c_order():
    space = small_space()
    idx = space.level_indices()
    assert idx.shape == (24, 3)
    assert idx.dtype == np.uint8
    expected = np.array(list(itertools.product(range(3), range(2), range(4))))
    np.testing.assert_array_equal(idx, expected)


def test_level_indices_dtype_grows_with_the_largest_issue():
    space = OutcomeSpace((Issue.continuous("t", 0.0, 100.0, 0.25), Issue.categorical("v", ["a"])))
    assert space.level_indices().dtype == np.uint16  # 401 levels
    np.testing.assert_array_equal(space.level_indices()[-1], [400, 0])


def test_positions_per_outcome():
    space = small_space()
    pos = space.positions()
    assert pos.shape == (24, 3)
    np.testing.assert_array_equal(pos[:8, 0], 0.0)
    np.testing.assert_array_equal(pos[8:16, 0], 50.0)
    np.testing.assert_array_equal(pos[16:, 0], 100.0)
    np.testing.assert_array_equal(pos[:8, 1], [0.0] * 4 + [100.0] * 4)
    assert np.isnan(pos[:, 2]).all()


def test_ravel_unravel_round_trip_on_every_outcome():
    space = small_space()
    every = np.arange(space.size)
    idx = space.unravel(every)
    np.testing.assert_array_equal(idx, space.level_indices())
    np.testing.assert_array_equal(space.ravel(idx), every)
    np.testing.assert_array_equal(space.unravel(7), [0, 1, 3])
    assert space.ravel([2, 1, 3]) == 23
    assert isinstance(space.ravel([2, 1, 3]), int)


def test_levels_of_and_index_of_round_trip_on_every_outcome():
    space = small_space()
    for outcome in range(space.size):
        levels = space.levels_of(outcome)
        assert space.index_of(levels) == outcome
    assert space.levels_of(9) == {"territory": "50", "nato": "membership", "venue": "riyadh"}
    assert space.index_of({"territory": 48.0, "nato": "membership", "venue": "riyadh"}) == 9
    assert space.describe(9) == "territory=50, nato=membership, venue=riyadh"


@given(outcome_spaces())
def test_round_trips_on_random_spaces(space):
    every = np.arange(space.size)
    idx = space.level_indices()
    assert idx.shape == (space.size, len(space.issues))
    np.testing.assert_array_equal(space.unravel(every), idx)
    np.testing.assert_array_equal(space.ravel(idx), every)
    for outcome in (0, space.size // 2, space.size - 1):
        assert space.index_of(space.levels_of(outcome)) == outcome


def test_levels_of_and_index_of_errors():
    space = small_space()
    with pytest.raises(IndexError, match=re.escape("outcome 24 outside [0, 24)")):
        space.levels_of(24)
    with pytest.raises(IndexError, match=re.escape("outcome -1 outside [0, 24)")):
        space.levels_of(-1)
    with pytest.raises(
        KeyError,
        match=re.escape(
            "outcome levels: missing issues ['venue'], unknown ['x']; "
            "allowed: ['territory', 'nato', 'venue']"
        ),
    ):
        space.index_of({"territory": "0", "nato": "membership", "x": "y"})


def test_million_outcome_space_round_trips():
    space = million_space()
    assert space.shape == (10_001, 10, 10)
    assert space.size == 1_000_100
    rng = np.random.default_rng(20250213)
    outcomes = rng.integers(0, space.size, 5_000)
    idx = space.unravel(outcomes)
    assert idx.shape == (5_000, 3)
    np.testing.assert_array_equal(idx[:, 0], outcomes // 100)
    np.testing.assert_array_equal(idx[:, 1], outcomes // 10 % 10)
    np.testing.assert_array_equal(idx[:, 2], outcomes % 10)
    np.testing.assert_array_equal(space.ravel(idx), outcomes)
    # The whole grid at once, vectorised: the enumeration agrees with unravel.
    every = space.level_indices()
    assert every.shape == (1_000_100, 3)
    np.testing.assert_array_equal(every[outcomes], idx)
    np.testing.assert_array_equal(space.ravel(every), np.arange(space.size))
    positions = space.positions()
    np.testing.assert_allclose(positions[outcomes, 0], (outcomes // 100) * 0.01, atol=1e-9)
    np.testing.assert_array_equal(positions[outcomes, 1], (outcomes // 10 % 10) * 10.0)
    for outcome in outcomes[:200]:
        levels = space.levels_of(int(outcome))
        assert levels["territory"] == f"{(outcome // 100) / 100:g}"
        assert space.index_of(levels) == outcome
