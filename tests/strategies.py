"""Hypothesis builders for the domain: utility matrices, bargaining problems, outcome spaces.

Utilities are drawn by default from a small set of exactly representable values, so that
ties, duplicate outcomes and dominated copies happen often and every sum, difference and
product of two of them is exact in floating point.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.core.outcomes import Issue, OutcomeSpace

TIE_VALUES = (0.0, 0.25, 0.5, 1.0)
tie_values = st.sampled_from(TIE_VALUES)
unit_floats = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)


@st.composite
def utility_matrices(
    draw,
    min_parties: int = 2,
    max_parties: int = 4,
    min_outcomes: int = 1,
    max_outcomes: int = 40,
    elements: st.SearchStrategy[float] = tie_values,
) -> np.ndarray:
    """A (parties, outcomes) float matrix."""
    n = draw(st.integers(min_parties, max_parties))
    m = draw(st.integers(min_outcomes, max_outcomes))
    return draw(hnp.arrays(np.float64, (n, m), elements=elements))


@st.composite
def disagreement_points(draw, U: np.ndarray) -> np.ndarray:
    """A vector d (parties,): zero, on the tie grid (often an empty ZOPA), or just below
    some outcome (a ZOPA that holds at least that outcome)."""
    n, m = U.shape
    kind = draw(st.sampled_from(("zero", "grid", "below_outcome")))
    if kind == "zero":
        return np.zeros(n)
    if kind == "grid":
        return np.array(
            draw(st.lists(st.sampled_from((0.0, 0.25, 0.5, 0.75, 1.0)), min_size=n, max_size=n))
        )
    j = draw(st.integers(0, m - 1))
    shift = np.array(draw(st.lists(st.sampled_from((0.0, 0.25)), min_size=n, max_size=n)))
    return np.maximum(U[:, j] - shift, 0.0)


@st.composite
def problems(draw, elements: st.SearchStrategy[float] = tie_values, **matrix_kwargs):
    """A bargaining problem (U, d)."""
    U = draw(utility_matrices(elements=elements, **matrix_kwargs))
    return U, draw(disagreement_points(U))


@st.composite
def symmetric_problems(draw, elements: st.SearchStrategy[float] = tie_values):
    """A two-party problem closed under swapping the parties: for every outcome (a, b)
    there is an outcome (b, a), the columns come in random order, and d = (t, t)."""
    pairs = draw(st.lists(st.tuples(elements, elements), min_size=1, max_size=20))
    cols = [*pairs, *((b, a) for a, b in pairs)]
    order = draw(st.permutations(range(len(cols))))
    U = np.array([cols[i] for i in order], dtype=np.float64).T
    t = draw(st.sampled_from((0.0, 0.25, 0.5)))
    return U, np.array([t, t])


@st.composite
def concave_symmetric_problems(draw):
    """A symmetric two-party problem whose frontier is the superellipse x^p + y^p = 1
    (p > 1, strictly concave), sampled symmetrically, with its symmetric point (s, s),
    s = 2^(-1/p), among the outcomes, and dominated interior points.

    Every frontier sample other than (s, s) is at least 0.05 away from it, so that the
    symmetric point wins every symmetric criterion by a margin far above rounding error.
    """
    p = draw(st.floats(1.5, 4.0))
    s = 2.0 ** (-1.0 / p)
    below = st.floats(0.0, s - 0.05)
    above = st.floats(s + 0.05, 1.0)
    xs = draw(st.lists(st.one_of(below, above), min_size=0, max_size=12))
    cols = [(s, s)]
    for x in xs:
        y = (1.0 - x**p) ** (1.0 / p)
        cols += [(x, y), (y, x)]
    for x, scale in draw(st.lists(st.tuples(unit_floats, st.floats(0.0, 0.95)), max_size=8)):
        y = (1.0 - x**p) ** (1.0 / p)
        cols += [(scale * x, scale * y), (scale * y, scale * x)]
    order = draw(st.permutations(range(len(cols))))
    U = np.array([cols[i] for i in order], dtype=np.float64).T
    t = draw(st.floats(0.0, 0.5))
    return U, np.array([t, t])


# --- outcome spaces -------------------------------------------------------------------


@st.composite
def continuous_issues(draw, name: str) -> Issue:
    resolution = draw(st.sampled_from((0.5, 1.0, 2.5, 5.0, 10.0, 25.0)))
    steps = draw(st.integers(0, min(5, int(100 / resolution))))
    low = draw(st.integers(0, int(100 - steps * resolution)))
    return Issue.continuous(name, float(low), low + steps * resolution, resolution)


@st.composite
def ordinal_issues(draw, name: str) -> Issue:
    positions = draw(st.lists(st.integers(0, 100), min_size=1, max_size=5, unique=True).map(sorted))
    return Issue.ordinal(name, {f"{name}_l{i}": float(p) for i, p in enumerate(positions)})


@st.composite
def categorical_issues(draw, name: str) -> Issue:
    size = draw(st.integers(1, 4))
    return Issue.categorical(name, [f"{name}_c{i}" for i in range(size)])


@st.composite
def outcome_spaces(draw, max_issues: int = 3) -> OutcomeSpace:
    """A small space (at most 6^3 outcomes) mixing the three issue kinds."""
    n_issues = draw(st.integers(1, max_issues))
    issues = []
    for k in range(n_issues):
        builder = draw(st.sampled_from((continuous_issues, ordinal_issues, categorical_issues)))
        issues.append(draw(builder(f"issue{k}")))
    return OutcomeSpace(tuple(issues))


@st.composite
def preference_inputs(draw, space: OutcomeSpace, max_parties: int = 3):
    """(weights, level_values, red_lines) for 1..max_parties parties over `space`:
    normalised weights (some zero), values in [0, 1], random red-line masks."""
    n = draw(st.integers(1, max_parties))
    k = len(space.issues)
    salience = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from((0.0, 0.5, 1.0, 3.0))))
    salience[:, 0] += 1.0  # no party with all-zero saliences
    weights = salience / salience.sum(axis=1, keepdims=True)
    values = tuple(
        draw(hnp.arrays(np.float64, (n, issue.size), elements=tie_values)) for issue in space.issues
    )
    red_lines = tuple(
        draw(hnp.arrays(np.bool_, (n, issue.size), elements=st.booleans()))
        for issue in space.issues
    )
    return weights, values, red_lines
