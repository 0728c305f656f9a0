"""Solution concepts over a utility matrix (sim.core.solutions): properties and closed forms."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sim.core import solutions
from sim.core.outcomes import Issue, OutcomeSpace
from sim.core.preferences import TOLERANCE, Preferences, positional_values
from tests.strategies import (
    TIE_VALUES,
    concave_symmetric_problems,
    problems,
    symmetric_problems,
    unit_floats,
    utility_matrices,
)

BARGAINING = {
    "nash": solutions.nash,
    "kalai_smorodinsky": solutions.kalai_smorodinsky,
    "egalitarian": solutions.egalitarian,
}


def solve(concept: str, U: np.ndarray, d: np.ndarray) -> int | None:
    if concept == "utilitarian":
        return solutions.utilitarian(U)
    return BARGAINING[concept](U, d)


# --- brute-force oracles ---------------------------------------------------------------


def brute_pareto(U: np.ndarray) -> np.ndarray:
    """O(n^2): j is dropped iff some k is >= on every party and > on one."""
    ge = (U[:, :, None] >= U[:, None, :]).all(axis=0)  # [k, j]: k >= j everywhere
    gt = (U[:, :, None] > U[:, None, :]).any(axis=0)  # [k, j]: k > j somewhere
    return ~(ge & gt).any(axis=0)


def brute_zopa(U: np.ndarray, d: np.ndarray) -> np.ndarray:
    return np.array(
        [all(U[i, j] >= d[i] - TOLERANCE for i in range(U.shape[0])) for j in range(U.shape[1])]
    )


def nash_products(U, d, weights=None) -> np.ndarray:
    w = np.ones(U.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    gains = np.clip(U - d[:, None], 0.0, None)
    return np.prod(gains ** w[:, None], axis=0)


def ks_scores(U, d, zopa) -> np.ndarray:
    gains = U - d[:, None]
    span = gains[:, zopa].max(axis=1)
    moving = span > 0
    if not moving.any():
        return np.zeros(U.shape[1])
    return (gains[moving] / span[moving, None]).min(axis=0)


def criterion(concept: str, U, d, zopa=None) -> np.ndarray:
    """Each outcome's score under a concept's own criterion (before any tie-break)."""
    if concept == "nash":
        return nash_products(U, d)
    if concept == "kalai_smorodinsky":
        return ks_scores(U, d, brute_zopa(U, d) if zopa is None else zopa)
    if concept == "egalitarian":
        return (U - d[:, None]).min(axis=0)
    return U.sum(axis=0)


def oracle_select(U: np.ndarray, candidates: np.ndarray, score: np.ndarray) -> int:
    """The module's tie rule spelt out: max of (score, sum, u_0, u_1, ..., -index)."""
    return max(
        candidates,
        key=lambda j: (score[j], U[:, j].sum(), *U[:, j], -j),
    )


def assert_lowest_index_of_its_vector(U, chosen):
    same = np.flatnonzero((U[:, [chosen]] == U).all(axis=0))
    assert chosen == same[0]


# --- the builders ----------------------------------------------------------------------


def columns(U: np.ndarray) -> list[tuple[float, ...]]:
    return sorted(map(tuple, U.T))


@given(problems())
def test_problem_builder(problem):
    U, d = problem
    assert 2 <= U.shape[0] <= 4
    assert 1 <= U.shape[1] <= 40
    assert set(np.unique(U)) <= set(TIE_VALUES)
    assert d.shape == (U.shape[0],)
    assert (d >= 0).all()


@given(symmetric_problems())
def test_symmetric_problem_builder(problem):
    U, d = problem
    assert U.shape[0] == 2
    assert columns(U[::-1]) == columns(U)  # rows swapped == columns permuted
    assert d[0] == d[1]


@given(concave_symmetric_problems())
def test_concave_symmetric_problem_builder(problem):
    U, d = problem
    assert columns(U[::-1]) == columns(U)
    s = U[0][U[0] == U[1]].max()
    assert s >= 2 ** (-1 / 1.5)
    assert ((U[0] == s) & (U[1] == s)).sum() == 1  # the symmetric point (s, s), once
    assert d[0] == d[1] < s


# --- Pareto frontier -------------------------------------------------------------------


@given(utility_matrices())
@example(np.array([[0.5, 0.5, 1.0, 0.0], [0.5, 0.5, 0.0, 1.0]]))  # identical vectors kept
@example(np.array([[0.5, 0.5, 0.5], [0.25, 0.5, 0.5]]))  # weakly dominated copy dropped
def test_pareto_mask_equals_brute_force_with_ties(U):
    mask = solutions.pareto_mask(U)
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, brute_pareto(U))


@given(utility_matrices(max_parties=5, max_outcomes=60, elements=unit_floats))
def test_pareto_mask_equals_brute_force_on_continuous_utilities(U):
    np.testing.assert_array_equal(solutions.pareto_mask(U), brute_pareto(U))


@given(utility_matrices())
def test_pareto_mask_keeps_every_copy_of_a_frontier_vector(U):
    doubled = np.concatenate([U, U], axis=1)
    mask = solutions.pareto_mask(doubled)
    np.testing.assert_array_equal(mask[: U.shape[1]], mask[U.shape[1] :])
    np.testing.assert_array_equal(mask[: U.shape[1]], brute_pareto(U))


def test_pareto_mask_small_cases():
    U = np.array([[1.0, 0.5, 0.5, 0.0, 0.25], [0.0, 0.5, 0.5, 1.0, 0.25]])
    assert solutions.pareto_mask(U).tolist() == [True, True, True, True, False]
    assert solutions.pareto_mask(np.array([[0.2, 0.7, 0.7, 0.1]])).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert solutions.pareto_mask(np.zeros((3, 0))).shape == (0,)


# --- ZOPA ------------------------------------------------------------------------------


def test_zopa_mask_is_inclusive():
    U = np.array([[0.5, 0.4, 0.9], [0.5, 0.9, 0.49]])
    assert solutions.zopa_mask(U, np.array([0.5, 0.5])).tolist() == [True, False, False]


@given(problems())
def test_zopa_mask_equals_brute_force(problem):
    U, d = problem
    np.testing.assert_array_equal(solutions.zopa_mask(U, d), brute_zopa(U, d))


def test_within_batna_allows_the_tolerance_with_batch_axes():
    # Two replications x two parties x four outcomes: worth d, d - TOLERANCE / 2,
    # d - 2 TOLERANCE and d + 0.1 to party 0; party 1 always gets d + 0.1.
    d = np.array([[0.3, 0.6], [0.7, 0.2]])
    offsets = np.array([0.0, -TOLERANCE / 2, -2 * TOLERANCE, 0.1])
    U = np.empty((2, 2, 4))
    U[:, 0] = d[:, [0]] + offsets
    U[:, 1] = d[:, [1]] + 0.1
    assert U[1, 0, 2] == d[1, 0] - 2 * TOLERANCE
    inside = solutions.within_batna(U, d)
    assert inside.shape == (2, 2, 4)
    assert inside.tolist() == [[[True, True, False, True], [True] * 4]] * 2
    zopa = solutions.zopa_mask(U, d)
    assert zopa.tolist() == [[True, True, False, True]] * 2
    # Each replication alone gives its row; the 2-D case is the same test.
    for r in range(2):
        np.testing.assert_array_equal(solutions.zopa_mask(U[r], d[r]), zopa[r])
        np.testing.assert_array_equal(solutions.within_batna(U[r], d[r]), inside[r])
        np.testing.assert_array_equal(zopa[r], brute_zopa(U[r], d[r]))


def test_zopa_mask_checks_the_shape_of_d():
    with pytest.raises(ValueError, match=re.escape("d must have shape (2, 2), got (2,)")):
        solutions.zopa_mask(np.zeros((2, 2, 3)), np.zeros(2))


# --- bargaining solutions: properties --------------------------------------------------


ALL = (*sorted(BARGAINING), "utilitarian")


@given(problem=problems())
@example(  # empty ZOPA: no outcome gives the first party 0.75
    problem=(np.array([[0.5, 0.25], [1.0, 1.0]]), np.array([0.75, 0.0]))
)
@example(  # every outcome in the ZOPA leaves someone without gain: Nash scores all -inf
    problem=(np.array([[0.5, 0.25, 0.5], [0.25, 0.5, 0.25]]), np.array([0.25, 0.25]))
)
@example(  # equal products 0.5 * 0.75 * 0.25 and 0.5 * 0.25 * 0.75 whose log sums differ by an ulp
    problem=(
        np.array([[0.5, 0.5, 0.5, 0.5], [1.0, 0.5, 0.5, 0.5], [0.5, 1.0, 0.5, 0.5]]),
        np.array([0.0, 0.25, 0.25]),
    )
)
def test_solutions_in_zopa_pareto_optimal_and_chosen_by_the_tie_rule(problem):
    """Each concept's outcome is in the ZOPA (None exactly when it is empty), Pareto-optimal,
    and the best by the module's rule: criterion, then utilitarian sum, then utilities
    party by party, then lowest index. Utilities are multiples of 1/4, so the criteria
    (Nash products included) are exact, and so are their ties."""
    U, d = problem
    zopa = brute_zopa(U, d)
    pareto = brute_pareto(U)
    for concept in ALL:
        chosen = solve(concept, U, d)
        candidates = np.flatnonzero(zopa) if concept != "utilitarian" else np.arange(U.shape[1])
        if candidates.size == 0:
            assert chosen is None, concept
            continue
        assert isinstance(chosen, int), concept
        assert concept == "utilitarian" or zopa[chosen], concept
        assert pareto[chosen], concept
        score = criterion(concept, U, d, zopa)
        assert score[chosen] == score[candidates].max(), concept
        assert chosen == oracle_select(U, candidates, score), concept
        assert_lowest_index_of_its_vector(U, chosen)


@given(problem=problems(elements=unit_floats))
def test_solutions_on_continuous_utilities(problem):
    U, d = problem
    zopa = brute_zopa(U, d)
    pareto = brute_pareto(U)
    for concept in BARGAINING:
        chosen = BARGAINING[concept](U, d)
        if not zopa.any():
            assert chosen is None, concept
            continue
        assert zopa[chosen], concept
        assert pareto[chosen], concept
        score = criterion(concept, U, d, zopa)
        assert score[chosen] == pytest.approx(score[zopa].max(), rel=1e-12, abs=1e-15), concept


def test_nash_equal_products_tie_whatever_the_rounding_of_their_logs():
    U = np.array([[0.5, 0.5, 0.5, 0.5], [1.0, 0.5, 0.5, 0.5], [0.5, 1.0, 0.5, 0.5]])
    d = np.array([0.0, 0.25, 0.25])
    # Outcomes 0 and 1: gains (0.5, 0.75, 0.25) and (0.5, 0.25, 0.75), sums equal; the
    # second party's utility decides, whichever order the parties come in.
    assert solutions.nash(U, d) == 0
    assert solutions.nash(U[[0, 2, 1]], d[[0, 2, 1]]) == 1


def test_nash_breaks_equal_products_by_sum_then_first_party():
    # Products 0.25 each; sums 1.25, 1.25, 1.0; then the first party's utility.
    U = np.array([[0.25, 1.0, 0.5], [1.0, 0.25, 0.5]])
    assert solutions.nash(U, np.zeros(2)) == 1


@given(problem=problems(), data=st.data())
def test_permuting_outcomes_permutes_the_answer(problem, data):
    U, d = problem
    perm = np.array(data.draw(st.permutations(range(U.shape[1]))))
    for concept in ALL:
        chosen = solve(concept, U, d)
        permuted = solve(concept, U[:, perm], d)
        if chosen is None:
            assert permuted is None, concept
            continue
        # Identical columns may swap places: compare the chosen utility vectors.
        np.testing.assert_array_equal(U[:, perm][:, permuted], U[:, chosen], err_msg=concept)


@given(problem=problems(min_parties=2, max_parties=4), data=st.data())
def test_relabelling_the_parties_keeps_the_criterion_value(problem, data):
    U, d = problem
    order = np.array(data.draw(st.permutations(range(U.shape[0]))))
    for concept in ALL:
        chosen = solve(concept, U, d)
        relabelled = solve(concept, U[order], d[order])
        if chosen is None:
            assert relabelled is None, concept
            continue
        score = criterion(concept, U, d)
        assert score[relabelled] == score[chosen], concept


@given(problem=symmetric_problems())
@example(  # the symmetric outcome (0.5, 0.5) ties on the Nash product but loses on the sum
    problem=(np.array([[0.25, 1.0, 0.5], [1.0, 0.25, 0.5]]), np.zeros(2))
)
def test_symmetric_problem_answer_is_symmetric_up_to_the_tie_rule(problem):
    """In a discrete symmetric problem the criterion's maximisers form a symmetric set,
    which need not hold a symmetric outcome; the tie rule then picks, of a mirrored
    pair, the one better for the first party."""
    U, d = problem
    for concept in ALL:
        chosen = solve(concept, U, d)
        swapped = solve(concept, U[::-1], d[::-1])
        if chosen is None:
            assert swapped is None, concept
            assert not brute_zopa(U, d).any(), concept
            continue
        u = U[:, chosen]
        # Swapping the parties gives the same set of outcomes, hence the same answer.
        np.testing.assert_array_equal(U[::-1][:, swapped], u, err_msg=concept)
        mirror = np.flatnonzero((U[0] == u[1]) & (U[1] == u[0]))
        assert mirror.size > 0, concept
        score = criterion(concept, U, d)
        assert score[mirror[0]] == score[chosen], concept
        assert u[0] >= u[1], concept


def test_discrete_symmetric_problem_can_have_an_asymmetric_nash_answer():
    U = np.array([[0.25, 1.0, 0.5], [1.0, 0.25, 0.5]])
    d = np.zeros(2)
    assert solutions.nash(U, d) == 1  # (1, 0.25): products all 0.25, sum 1.25 beats 1.0
    assert solutions.utilitarian(U) == 1
    assert solutions.egalitarian(U, d) == 2  # min 0.5 beats 0.25
    assert solutions.kalai_smorodinsky(U, d) == 2


@given(problem=concave_symmetric_problems())
def test_concave_symmetric_problem_gets_the_symmetric_point(problem):
    U, d = problem
    s = U[0][U[0] == U[1]].max()
    for concept in ALL:
        chosen = solve(concept, U, d)
        assert chosen is not None, concept
        assert U[0, chosen] == U[1, chosen] == s, concept


# --- weights -----------------------------------------------------------------------------

weight_vectors = st.lists(st.sampled_from((0.0, 0.5, 1.0, 2.0)), min_size=4, max_size=4)


@given(problem=problems(), weights=weight_vectors)
def test_weighted_nash_maximises_the_weighted_product(problem, weights):
    U, d = problem
    w = np.array(weights[: U.shape[0]])
    chosen = solutions.nash(U, d, w)
    zopa = brute_zopa(U, d)
    if not zopa.any():
        assert chosen is None
        return
    assert zopa[chosen]
    assert brute_pareto(U)[chosen]
    products = nash_products(U, d, w)
    assert products[chosen] == pytest.approx(products[zopa].max(), rel=1e-12, abs=1e-15)


@given(U=utility_matrices(), weights=weight_vectors)
def test_utilitarian_maximises_the_weighted_sum(U, weights):
    w = np.array(weights[: U.shape[0]])
    chosen = solutions.utilitarian(U, w)
    total = w @ U
    assert total[chosen] == total.max()
    assert brute_pareto(U)[chosen]
    assert chosen == oracle_select(U, np.arange(U.shape[1]), total)
    unweighted = solutions.utilitarian(U)
    assert U[:, unweighted].sum() == U.sum(axis=0).max()


# --- edge cases and errors -------------------------------------------------------------


def test_single_outcome_exactly_at_the_disagreement_point():
    U = np.array([[0.5], [0.5]])
    d = np.array([0.5, 0.5])
    assert solutions.nash(U, d) == 0
    assert solutions.kalai_smorodinsky(U, d) == 0
    assert solutions.egalitarian(U, d) == 0
    # Within the tolerance of d still counts as at d (and gains nothing); beyond it, not.
    for concept in BARGAINING.values():
        assert concept(U, np.array([0.5, 0.5 + TOLERANCE / 2])) == 0
        assert concept(U, np.array([0.5, 0.5 + 2 * TOLERANCE])) is None


def test_nash_with_zero_weights_ignores_that_party():
    U = np.array([[1.0, 0.6, 0.0], [0.0, 0.6, 1.0]])
    d = np.zeros(2)
    assert solutions.nash(U, d) == 1
    assert solutions.nash(U, d, np.array([1.0, 0.0])) == 0
    assert solutions.nash(U, d, np.array([0.0, 1.0])) == 2
    # No weight at all: every score is 0, the sum decides (1.2).
    assert solutions.nash(U, d, np.array([0.0, 0.0])) == 1


def test_kalai_smorodinsky_leaves_out_a_party_that_cannot_gain():
    U = np.array([[0.2, 0.9, 0.5], [0.5, 0.5, 0.5]])
    assert solutions.kalai_smorodinsky(U, np.array([0.0, 0.5])) == 1
    # Nobody can gain: the tie rule alone (sum, then party 0) decides.
    flat = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert solutions.kalai_smorodinsky(flat, np.array([0.5, 0.5])) == 0


def test_kalai_smorodinsky_normalises_by_the_best_gain_in_the_zopa():
    # Party 0 can gain up to 0.8, party 1 up to 0.4: KS equalises the shares of those.
    # Shares of the best gain: (1, 0), (0.5, 0.5), (0.3125, 0.75), (0, 1).
    U = np.array([[0.8, 0.4, 0.25, 0.0], [0.0, 0.2, 0.3, 0.4]])
    d = np.zeros(2)
    assert solutions.kalai_smorodinsky(U, d) == 1
    assert solutions.egalitarian(U, d) == 2  # raw gains: min 0.25 beats 0.2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: solutions.pareto_mask(np.zeros(3)),
            "U must be 2-D (parties, outcomes), got shape (3,)",
        ),
        (
            lambda: solutions.nash(np.zeros((2, 3)), np.zeros(3)),
            "d must have shape (2,), got (3,)",
        ),
        (
            lambda: solutions.egalitarian(np.zeros((2, 3)), np.zeros((2, 1))),
            "d must have shape (2,), got (2, 1)",
        ),
        (
            lambda: solutions.nash(np.ones((2, 3)), np.zeros(2), np.array([1.0, -1.0])),
            "weights must be non-negative, got [1.0, -1.0]",
        ),
        (
            lambda: solutions.nash(np.ones((2, 3)), np.zeros(2), np.ones(3)),
            "weights must have shape (2,), got (3,)",
        ),
        (
            lambda: solutions.utilitarian(np.ones((2, 3)), np.array([-0.5, 1.0])),
            "weights must be non-negative, got [-0.5, 1.0]",
        ),
        (lambda: solutions.utilitarian(np.zeros((2, 0))), "U has no outcomes"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()


# --- closed forms on a territorial split ------------------------------------------------
#
# One continuous issue, 0..100 at resolution 1; party A's ideal is 0, party B's is 100,
# both with decay 100. With t = x / 100, v_A(t) = (1 - t)^c (c = A's curvature) and
# v_B(t) = t. The outcome index is the position x.


def split(curvature_a: float = 1.0, decay_b: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    issue = Issue.continuous("territory", 0.0, 100.0, 1.0)
    space = OutcomeSpace((issue,))
    values = np.vstack(
        [
            positional_values(issue.positions, 0.0, 100.0, curvature_a),
            positional_values(issue.positions, 100.0, decay_b),
        ]
    )
    prefs = Preferences(("a", "b"), space, np.ones((2, 1)), (values,))
    return prefs.utilities(), issue.positions


def test_split_grid():
    U, x = split()
    assert U.shape == (2, 101)
    np.testing.assert_array_equal(x, np.arange(101.0))
    np.testing.assert_allclose(U[0], 1 - x / 100)
    np.testing.assert_allclose(U[1], x / 100)


def test_linear_split_from_zero_is_even():
    # max (1 - t) t, min(1 - t, t) and KS with ideal (1, 1): all at t = 1/2.
    U, _ = split()
    d = np.zeros(2)
    assert solutions.nash(U, d) == 50
    assert solutions.kalai_smorodinsky(U, d) == 50
    assert solutions.egalitarian(U, d) == 50


def test_linear_split_with_a_better_batna_for_a():
    # d = (0.2, 0): gains (0.8 - t, t). Nash max (0.8 - t) t at t = 0.4; the ZOPA is
    # t <= 0.8, where both best gains are 0.8, so KS and egalitarian solve 0.8 - t = t.
    # A's better outside option moves the deal toward A's ideal (0): 40, not 60.
    U, _ = split()
    d = np.array([0.2, 0.0])
    zopa = np.flatnonzero(solutions.zopa_mask(U, d))
    assert zopa[0] == 0
    assert zopa[-1] in (79, 80)  # t = 0.8 sits on the boundary, up to rounding
    assert solutions.nash(U, d) == 40
    assert solutions.kalai_smorodinsky(U, d) == 40
    assert solutions.egalitarian(U, d) == 40


def test_ks_and_egalitarian_differ_when_the_gains_scale_differently():
    # B's decay is 200: v_B = 1 - (1 - t) / 2 = (1 + t) / 2. With d = (0.1, 0.5) the gains
    # are (0.9 - t, t / 2) on t <= 0.9, best gains 0.9 and 0.45.
    # Nash: max (0.9 - t) t / 2 at t = 0.45. KS: (0.9 - t) / 0.9 = (t / 2) / 0.45 at t = 0.45.
    # Egalitarian: 0.9 - t = t / 2 at t = 0.6.
    U, _ = split(decay_b=200.0)
    d = np.array([0.1, 0.5])
    assert solutions.nash(U, d) == 45
    assert solutions.kalai_smorodinsky(U, d) == 45
    assert solutions.egalitarian(U, d) == 60


@pytest.mark.parametrize(("wa", "wb", "expected"), [(1.0, 3.0, 75), (2.0, 1.0, 33), (1.0, 1.0, 50)])
def test_weighted_nash_split(wa, wb, expected):
    # max wa log(1 - t) + wb log t: t = wb / (wa + wb).
    U, _ = split()
    chosen = solutions.nash(U, np.zeros(2), np.array([wa, wb]))
    assert chosen == expected
    assert abs(chosen - 100 * wb / (wa + wb)) <= 1


def bisect(f, lo: float, hi: float) -> float:
    """Root of a continuous f with f(lo) > 0 > f(hi)."""
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


@pytest.mark.parametrize("c", [0.5, 0.8, 2.0, 3.0])
def test_curved_split_nash_ks_egalitarian(c):
    # Nash: max c log(1 - t) + log t, so t* = 1 / (1 + c): a concave A (c < 1, slow early
    # loss) concedes more, a convex A concedes less.
    # KS (ideal (1, 1), d = 0) and egalitarian both solve (1 - t)^c = t.
    U, x = split(curvature_a=c)
    d = np.zeros(2)
    t = x / 100
    nash_t = 1 / (1 + c)
    equal_t = bisect(lambda s: (1 - s) ** c - s, 0.0, 1.0)
    if c == 0.5:
        assert equal_t == pytest.approx((math.sqrt(5) - 1) / 2)
    if c == 2.0:
        assert equal_t == pytest.approx((3 - math.sqrt(5)) / 2)
    nash = solutions.nash(U, d)
    assert abs(nash - 100 * nash_t) <= 1
    assert nash == int(np.argmax((1 - t) ** c * t))  # the grid's own argmax
    for concept in ("kalai_smorodinsky", "egalitarian"):
        chosen = BARGAINING[concept](U, d)
        assert abs(chosen - 100 * equal_t) <= 1
        assert chosen == int(np.argmax(np.minimum((1 - t) ** c, t)))


def test_curved_split_known_grid_points():
    U, _ = split(curvature_a=0.5)
    d = np.zeros(2)
    assert solutions.nash(U, d) == 67  # t* = 2/3
    assert solutions.kalai_smorodinsky(U, d) == 62  # t* = (sqrt 5 - 1) / 2 = 0.618
    assert solutions.egalitarian(U, d) == 62
    U, _ = split(curvature_a=2.0)
    assert solutions.nash(U, d) == 33  # t* = 1/3
    assert solutions.kalai_smorodinsky(U, d) == 38  # t* = (3 - sqrt 5) / 2 = 0.382


@pytest.mark.parametrize(
    ("c", "weights", "expected"),
    [
        # max wa (1 - t)^c + wb t. Linear, weights (2, 1) or (1, 3): a corner.
        (1.0, (2.0, 1.0), 0),
        (1.0, (1.0, 3.0), 100),
        # c = 1/2: wa / (2 sqrt(1 - t)) = wb, so 1 - t = (wa / (2 wb))^2.
        (0.5, (1.0, 1.0), 75),  # t = 3/4
        (0.5, (1.0, 3.0), 97),  # t = 35/36 = 0.972
        (0.5, (3.0, 1.0), 0),  # no interior root: the derivative is negative everywhere
    ],
)
def test_weighted_utilitarian_split(c, weights, expected):
    U, _ = split(curvature_a=c)
    assert solutions.utilitarian(U, np.array(weights)) == expected


def test_unweighted_utilitarian_on_a_linear_split_is_flat():
    U, _ = split()
    chosen = solutions.utilitarian(U)
    assert U[:, chosen].sum() == pytest.approx(1.0, abs=1e-12)
    assert U[:, chosen].sum() == U.sum(axis=0).max()
