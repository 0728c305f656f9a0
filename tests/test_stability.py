"""The five stability measures of sim.core.stability on hand-built cases with derived answers.

Every utility matrix, control array and level grid here is small enough to check by hand;
the expected numbers are derived in the comments next to them.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from sim.core import stability, war
from sim.core.stability import TOLERANCE, DurabilityParameters, Thresholds

# --- 1. individual rationality ------------------------------------------------------------


def test_ir_margin_is_the_shortfall_of_the_worst_off_signatory():
    u = np.array([0.50, 0.30, 0.70])
    d = np.array([0.40, 0.45, 0.20])  # surpluses 0.10, -0.15, 0.50
    everyone = np.ones(3, dtype=bool)
    assert stability.ir_margin(u, d, everyone) == pytest.approx(-0.15, abs=1e-12)


def test_ir_margin_counts_only_signatories():
    u = np.array([0.50, 0.30, 0.70])
    d = np.array([0.40, 0.45, 0.20])
    # Party 1 (the one below its BATNA) walked out: the margin is party 0's +0.10.
    signed = np.array([True, False, True])
    assert stability.ir_margin(u, d, signed) == pytest.approx(0.10, abs=1e-12)
    assert np.isnan(stability.ir_margin(u, d, np.zeros(3, dtype=bool)))


def test_ir_margin_is_zero_at_the_batna():
    u = np.array([0.4, 0.6])
    assert stability.ir_margin(u, u.copy(), np.ones(2, dtype=bool)) == 0.0


# --- 2. Pareto gap ------------------------------------------------------------------------

# Two parties (rows), four outcomes (columns):
#   o0 = (0.2, 0.3)  dominated by o1: gains (0.3, 0.1), uniform gain 0.1
#   o1 = (0.5, 0.4)  Pareto-optimal
#   o2 = (0.9, 0.1)  Pareto-optimal
#   o3 = (0.5, 0.3)  weakly dominated by o1 (only party 1 gains)
U2 = np.array([[0.2, 0.5, 0.9, 0.5], [0.3, 0.4, 0.1, 0.3]])


def test_pareto_gap_of_a_dominated_deal_is_the_uniform_improvement():
    assert stability.pareto_gap(U2, 0) == pytest.approx(0.1, abs=1e-12)


@pytest.mark.parametrize("outcome", [1, 2])
def test_pareto_gap_of_a_pareto_optimal_deal_is_zero(outcome):
    assert stability.pareto_gap(U2, outcome) == 0.0


def test_pareto_gap_is_zero_when_no_outcome_raises_every_party():
    # o1 raises party 1 by 0.1 and party 0 by nothing: no *uniform* gain (weak optimum).
    assert stability.pareto_gap(U2, 3) == 0.0


def test_pareto_gap_only_looks_at_feasible_outcomes():
    # Without o1 (say it crosses a red line) nothing raises both parties over o0.
    # (o3 = (0.5, 0.3) improves on o0 = (0.2, 0.3) for party 0 only.)
    feasible = np.array([True, False, True, True])
    assert stability.pareto_gap(U2, 0, feasible) == 0.0
    # A feasible set with no outcome at all has nothing to offer.
    assert stability.pareto_gap(U2, 0, np.zeros(4, dtype=bool)) == 0.0


def test_pareto_gap_takes_the_best_of_several_improvements():
    # Three parties; deal o0 = (0.1, 0.1, 0.1); o1 raises all by (0.2, 0.3, 0.05) -> 0.05;
    # o2 raises all by (0.15, 0.15, 0.2) -> 0.15. The gap is the larger: 0.15.
    U = np.array([[0.1, 0.3, 0.25], [0.1, 0.4, 0.25], [0.1, 0.15, 0.3]])
    assert stability.pareto_gap(U, 0) == pytest.approx(0.15, abs=1e-12)


# --- 3. coalitions, issue control and blocking ----------------------------------------------

# Three parties, two issues. Issue 0 has three levels and is controlled by parties {0, 1};
# level 2 of issue 0 also needs party 2 (e.g. a guarantee party 2 would provide). Issue 1
# has two levels and is controlled by party 2 alone.
GRID = np.array(list(itertools.product(range(3), range(2))))  # outcome o -> (l0, l1)
ISSUE_CONTROL = (np.array([True, True, False]), np.array([False, False, True]))
LEVEL_CONTROL = (
    np.array([[False, False, False], [False, False, False], [False, False, True]]),
    np.zeros((3, 2), dtype=bool),
)


def outcome_of(l0: int, l1: int) -> int:
    return [tuple(levels) for levels in GRID.tolist()].index((l0, l1))


def who(*parties: int) -> list[bool]:
    return [p in parties for p in range(3)]


def test_grid_is_as_documented():
    assert GRID.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]


def test_change_needs_issue_controllers_and_both_levels_controllers():
    needs, changed = stability.change_needs(GRID, np.array([0, 0]), ISSUE_CONTROL, LEVEL_CONTROL)
    assert needs.shape == (6, 3)
    assert changed.tolist() == [False, True, True, True, True, True]
    assert needs[outcome_of(0, 0)].tolist() == who()  # nothing changes, nobody needed
    assert needs[outcome_of(0, 1)].tolist() == who(2)  # issue 1: its controller
    assert needs[outcome_of(1, 0)].tolist() == who(0, 1)  # issue 0 to level 1
    # Issue 0 to level 2: its controllers and the controller of the NEW level.
    assert needs[outcome_of(2, 0)].tolist() == who(0, 1, 2)
    assert needs[outcome_of(1, 1)].tolist() == who(0, 1, 2)  # both issues change


def test_change_needs_includes_the_controller_of_the_old_level():
    # From a deal at level 2 of issue 0 (controlled by party 2), leaving it needs party 2 too.
    needs, changed = stability.change_needs(GRID, np.array([2, 0]), ISSUE_CONTROL, LEVEL_CONTROL)
    assert not changed[outcome_of(2, 0)]
    assert needs[outcome_of(1, 0)].tolist() == who(0, 1, 2)
    assert needs[outcome_of(0, 0)].tolist() == who(0, 1, 2)
    # Changing only issue 1 leaves issue 0 (and its level's controller) alone.
    assert needs[outcome_of(2, 1)].tolist() == who(2)


def test_coalitions_are_every_non_empty_subset_smallest_first():
    members = stability.coalitions(3)
    assert len(members) == 7
    assert [m.sum() for m in members] == [1, 1, 1, 2, 2, 2, 3]
    as_sets = [tuple(np.flatnonzero(m)) for m in members]
    assert len(set(as_sets)) == 7
    assert as_sets[-1] == (0, 1, 2)
    assert len(stability.coalitions(4)) == 15


# Utilities (parties x outcomes). Deal: outcome (0, 0) with u = (0.5, 0.5, 0.5).
#   (1, 0): (0.7, 0.6, 0.1): parties 0 and 1 both gain (0.2, 0.1) and control issue 0
#           -> {0, 1} blocks with surplus min(0.2, 0.1) = 0.1.
#   (0, 1): (0.9, 0.9, 0.0): parties 0 and 1 would gain 0.4 each, but issue 1 is party 2's,
#           and party 2 loses: no coalition can use it.
#   every other outcome: 0 for everybody.
U3 = np.zeros((3, 6))
U3[:, 0] = 0.5
U3[:, 2] = [0.7, 0.6, 0.1]
U3[:, 1] = [0.9, 0.9, 0.0]
DEAL = outcome_of(0, 0)


def blocking_case(U: np.ndarray, allowed: np.ndarray | None = None):
    needs, changed = stability.change_needs(GRID, GRID[DEAL], ISSUE_CONTROL, LEVEL_CONTROL)
    allowed = np.ones((6, 3), dtype=bool) if allowed is None else allowed
    gains = U.T - U[:, DEAL]
    return stability.blocking(gains, needs, changed, allowed, stability.coalitions(3))


def test_a_controlling_coalition_that_strictly_prefers_an_alternative_blocks():
    count, surplus = blocking_case(U3)
    assert isinstance(count, int)
    assert isinstance(surplus, float)
    # Only {0, 1} blocks: {0,1,2} controls everything but party 2 loses everywhere.
    assert count == 1
    assert surplus == pytest.approx(0.1, abs=1e-12)


def test_a_coalition_without_control_of_the_changed_issue_cannot_block():
    # Take away the (1, 0) alternative: the only outcome {0, 1} prefers strongly, (0, 1),
    # changes issue 1, which they do not control.
    U = U3.copy()
    U[:, 2] = 0.0
    assert blocking_case(U) == (0, 0.0)


def test_the_controller_of_an_issue_blocks_alone_when_everyone_gains():
    # Make (0, 1) better for everybody: party 2 controls issue 1 and blocks alone, and so
    # does every coalition containing it ({2}, {0,2}, {1,2}, {0,1,2}); together with {0,1}
    # via (1, 0) that is 5 blocking coalitions. The largest surplus: {2} alone gains 0.3.
    U = U3.copy()
    U[:, 1] = [0.9, 0.9, 0.8]
    count, surplus = blocking_case(U)
    assert count == 5
    assert surplus == pytest.approx(0.3, abs=1e-12)


def test_a_weak_gain_does_not_block():
    # Party 1 gains exactly nothing at (1, 0): not a strict improvement for all members.
    U = U3.copy()
    U[:, 2] = [0.7, 0.5, 0.1]
    assert blocking_case(U) == (0, 0.0)


def test_an_alternative_over_a_members_red_line_cannot_be_used():
    allowed = np.ones((6, 3), dtype=bool)
    allowed[outcome_of(1, 0), 0] = False  # (1, 0) crosses party 0's red line
    assert blocking_case(U3, allowed) == (0, 0.0)
    # A red line of a non-member (party 2) does not stop {0, 1}.
    allowed = np.ones((6, 3), dtype=bool)
    allowed[outcome_of(1, 0), 2] = False
    count, surplus = blocking_case(U3, allowed)
    assert count == 1
    assert surplus == pytest.approx(0.1, abs=1e-12)


def test_blocking_with_leading_draw_axes_counts_per_draw():
    needs, changed = stability.change_needs(GRID, GRID[DEAL], ISSUE_CONTROL, LEVEL_CONTROL)
    allowed = np.ones((6, 3), dtype=bool)
    members = stability.coalitions(3)
    U_everyone = U3.copy()
    U_everyone[:, 1] = [0.9, 0.9, 0.8]
    U_nobody = U3.copy()
    U_nobody[:, 2] = 0.0
    draws = [U3, U_everyone, U_nobody]
    gains = np.stack([U.T - U[:, DEAL] for U in draws])  # (3 draws, 6 outcomes, 3 parties)
    counts, surpluses = stability.blocking(gains, needs, changed, allowed, members)
    assert counts.shape == (3,)
    assert counts.tolist() == [1, 5, 0]
    np.testing.assert_allclose(surpluses, [0.1, 0.3, 0.0], atol=1e-12)
    # Two leading axes (2 x 3 draws) keep their shape.
    counts2, _ = stability.blocking(
        np.stack([gains, gains[::-1]]), needs, changed, allowed, members
    )
    assert counts2.shape == (2, 3)
    assert counts2.tolist() == [[1, 5, 0], [0, 5, 1]]


def naive_blocking(U, deal, grid, issue_control, level_control, allowed):
    """Section 4's definition written out coalition by coalition, outcome by outcome."""
    n_parties, n_outcomes = U.shape
    count, best_surplus = 0, 0.0
    for size in range(1, n_parties + 1):
        for members in itertools.combinations(range(n_parties), size):
            best = -np.inf
            for o in range(n_outcomes):
                needed: set[int] = set()
                for k in range(grid.shape[1]):
                    a, b = grid[deal, k], grid[o, k]
                    if a != b:
                        needed |= set(np.flatnonzero(issue_control[k]))
                        needed |= set(np.flatnonzero(level_control[k][:, a]))
                        needed |= set(np.flatnonzero(level_control[k][:, b]))
                if o == deal or not needed <= set(members):
                    continue
                if not all(allowed[o, i] for i in members):
                    continue
                best = max(best, min(U[i, o] - U[i, deal] for i in members))
            if best > TOLERANCE:
                count += 1
                best_surplus = max(best_surplus, best)
    return count, best_surplus


@pytest.mark.parametrize("seed", range(8))
def test_blocking_agrees_with_the_definition_on_random_problems(seed):
    rng = np.random.default_rng(seed)
    n_parties, sizes = 4, (3, 2, 2)
    grid = np.array(list(itertools.product(*(range(s) for s in sizes))))
    issue_control = tuple(rng.random(n_parties) < 0.4 for _ in sizes)
    level_control = tuple(rng.random((n_parties, s)) < 0.2 for s in sizes)
    U = rng.random((n_parties, grid.shape[0]))
    allowed = rng.random((grid.shape[0], n_parties)) < 0.9
    deal = int(rng.integers(grid.shape[0]))
    needs, changed = stability.change_needs(grid, grid[deal], issue_control, level_control)
    got = stability.blocking(
        U.T - U[:, deal], needs, changed, allowed, stability.coalitions(n_parties)
    )
    want = naive_blocking(U, deal, grid, issue_control, level_control, allowed)
    assert got[0] == want[0]
    assert got[1] == pytest.approx(want[1], abs=1e-12)


# --- 4. robustness: perturbed utilities ------------------------------------------------------


def test_perturbed_utilities_without_perturbation_are_the_utilities():
    # Two parties, the GRID's two issues; U[i, o] = sum_k w[i, k] * values_k[i, level_k(o)].
    weights = np.array([[0.75, 0.25], [0.4, 0.6]])
    values = (np.array([[0.0, 0.5, 1.0], [1.0, 0.2, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    expected = np.array(
        [
            [weights[i, 0] * values[0][i, l0] + weights[i, 1] * values[1][i, l1] for i in range(2)]
            for l0, l1 in GRID
        ]
    )  # (outcomes, parties)
    ones = np.ones((3, 2, 2))
    got = stability.perturbed_utilities(weights, values, GRID, ones)
    assert got.shape == (3, 6, 2)
    for draw in got:
        np.testing.assert_allclose(draw, expected, atol=1e-12)
    # Scaling all of one party's saliences by the same factor changes nothing (weights are
    # renormalised); scaling one issue's salience does.
    same = np.ones((1, 2, 2))
    same[0, 0, :] = 3.0
    np.testing.assert_allclose(
        stability.perturbed_utilities(weights, values, GRID, same)[0], expected, atol=1e-12
    )
    tilt = np.ones((1, 2, 2))
    tilt[0, 0, 0] = 3.0  # party 0: w = (2.25, 0.25) / 2.5 = (0.9, 0.1)
    got = stability.perturbed_utilities(weights, values, GRID, tilt)[0]
    l0, l1 = GRID[outcome_of(2, 1)]
    assert got[outcome_of(2, 1), 0] == pytest.approx(
        0.9 * values[0][0, l0] + 0.1 * values[1][0, l1], abs=1e-12
    )
    np.testing.assert_allclose(got[:, 1], expected[:, 1], atol=1e-12)
    assert weights.tolist() == [[0.75, 0.25], [0.4, 0.6]]  # the input is not modified


# --- 5. durability -----------------------------------------------------------------------------

# Aggressor 0 values the line position (value = position / 100), defender 1 the opposite;
# territory weight 0.8 and 1.0, the aggressor also gets 0.1 from the other issues.
POSITIONS = np.array([0.0, 100.0])
VALUES = np.array([[0.0, 1.0], [1.0, 0.0]])
WEIGHTS = np.array([0.8, 1.0])
OTHER = np.array([0.1, 0.0])
COSTS = np.array([0.01, 0.01])
DEAL_LINE = 50.0
WAR = war.WarParameters(
    aggressor_capacity=1.0,
    defender_capacity=0.3,
    supports=np.array([0.5]),
    supporter_capabilities=np.array([1.0]),
    aid_effectiveness=0.5,
    adjustment_rate=0.1,
    volatility=0.0,
    months_per_round=1.0,
    horizon_months=24.0,
    discount=0.99,
)
CALM = DurabilityParameters(
    periods=6, paths=3, support_shock=0.0, capacity_shock=0.0, guarantee_strength=0.5,
    guarantee_cost=0.0,
)  # fmt: skip


def aggressor_war_value(guarantee: float, dp: DurabilityParameters) -> float:
    """The aggressor's value of renewed war from the deal line, written out by hand."""
    defender = 0.3 + 0.5 * 0.5 * 1.0 + guarantee * dp.guarantee_strength  # 0.55 (+0.5 g)
    p = 1.0 / (1.0 + defender)
    end_line = DEAL_LINE + (100 * p - DEAL_LINE) * (1 - 0.9**24)
    months = (1 - 0.99**24) / (1 - 0.99)  # discounted months of cost
    cost = 0.01 * (1 + guarantee * dp.guarantee_cost) * months
    return 0.8 * end_line / 100 + 0.1 - cost


def war_batna() -> war.WarBatna:
    """The two parties' war BATNA: territory alone plus `OTHER`, costs `COSTS` a month."""
    cost = COSTS * war.discounted_months(WAR.discount, WAR.horizon_months)
    return war.WarBatna(WAR, POSITIONS, VALUES, WEIGHTS, OTHER, cost)


def run_durability(deal, guarantee=0.0, dp=CALM, seed=0):
    return stability.durability_linear(
        np.asarray(deal, dtype=float), war_batna(), COSTS, DEAL_LINE, guarantee, 0, 1, dp,
        np.random.default_rng(seed),
    )  # fmt: skip


def test_war_value_written_out_by_hand_is_about_right():
    # p = 1/1.55, line 50 -> 63.36 after 24 months; 0.8 * 0.6336 + 0.1 - 0.2143 = 0.3926
    assert aggressor_war_value(0.0, CALM) == pytest.approx(0.3926, abs=1e-3)
    # A full guarantee adds 0.5 to the defender: p = 1/2.05, the line ends near 48.9.
    assert aggressor_war_value(1.0, CALM) == pytest.approx(0.2768, abs=1e-3)


def test_without_shocks_a_deal_below_the_aggressor_war_value_never_holds():
    value = aggressor_war_value(0.0, CALM)
    out = run_durability([value - 1e-6, 1.0])
    assert out["durability"] == 0.0
    assert out["renewed_war_share"] == 1.0
    assert out["powell_violations"] == 0.0  # no shocks: power never shifts
    assert out["max_power_shift"] == 0.0


def test_without_shocks_a_deal_just_above_every_war_value_always_holds():
    value = aggressor_war_value(0.0, CALM)
    out = run_durability([value + 1e-6, 1.0])
    assert out == {
        "durability": 1.0,
        "renewed_war_share": 0.0,
        "powell_violations": 0.0,
        "max_power_shift": 0.0,
    }


def test_a_deal_far_below_a_partys_war_value_has_zero_durability():
    # The defender's war value is at least 1 - 0.64 - 0.21 > 0.1: a deal giving it 0 fails.
    out = run_durability([1.0, 0.0])
    assert out["durability"] == 0.0
    assert out["renewed_war_share"] == 1.0


def test_a_guarantee_that_strengthens_the_defender_makes_the_deal_hold():
    # A deal worth 0.33 to the aggressor: below its war value without a guarantee (0.39),
    # above it with the strongest guarantee (0.28).
    deal = [0.5 * (aggressor_war_value(0.0, CALM) + aggressor_war_value(1.0, CALM)), 1.0]
    assert run_durability(deal, guarantee=0.0)["durability"] == 0.0
    assert run_durability(deal, guarantee=1.0)["durability"] == 1.0
    # Half a guarantee: p = 1 / 1.8, the line ends near 55.2, the war value near 0.33.
    half = aggressor_war_value(0.5, CALM)
    assert run_durability([half + 1e-6, 1.0], guarantee=0.5)["durability"] == 1.0
    assert run_durability([half - 1e-6, 1.0], guarantee=0.5)["durability"] == 0.0


def test_a_guarantee_cost_raises_the_aggressors_cost_of_war():
    costly = dataclasses.replace(CALM, guarantee_strength=0.0, guarantee_cost=2.0)
    # Cost x 3: 0.8 * 0.6336 + 0.1 - 3 * 0.2143 = -0.036.
    value = aggressor_war_value(1.0, costly)
    assert value == pytest.approx(-0.036, abs=1e-3)
    assert run_durability([value + 1e-6, 1.0], 1.0, costly)["durability"] == 1.0
    assert run_durability([value - 1e-6, 1.0], 1.0, costly)["durability"] == 0.0


SHOCKY = DurabilityParameters(
    periods=24, paths=16, support_shock=0.05, capacity_shock=0.03, guarantee_strength=0.5,
    guarantee_cost=1e6,
)  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_with_a_huge_guarantee_cost_the_aggressor_never_prefers_renewed_war(seed):
    # The aggressor gets nothing from the deal and would fight without a guarantee ...
    bare = run_durability([0.0, 1.0], guarantee=0.0, dp=SHOCKY, seed=seed)
    assert bare["renewed_war_share"] == 1.0
    assert bare["durability"] == 0.0
    # ... but a full guarantee multiplies its cost of war by a million.
    held = run_durability([0.0, 1.0], guarantee=1.0, dp=SHOCKY, seed=seed)
    assert held["renewed_war_share"] == 0.0
    # What still breaks the deal is Powell's shifting-power test, nothing else.
    assert held["durability"] == pytest.approx(1.0 - held["powell_violations"], abs=1e-12)


def test_powell_large_power_shifts_against_a_side_break_the_deal():
    # Nobody prefers war (the aggressor gets its best, the defender the deal utility 1),
    # but the aggressor's capacity jumps around by 50% a month while war costs 0.01 a month.
    wild = dataclasses.replace(CALM, periods=24, paths=16, capacity_shock=0.5)
    out = run_durability([1.0, 1.0], dp=wild)
    assert out["renewed_war_share"] == 0.0
    assert out["powell_violations"] > 0.0
    assert out["max_power_shift"] > 0.01
    assert out["durability"] == pytest.approx(1.0 - out["powell_violations"], abs=1e-12)
    # Whole periods over paths x periods: a multiple of 1/384.
    assert (out["durability"] * 16 * 24) == pytest.approx(round(out["durability"] * 384))


def test_durability_is_reproducible_from_the_generator_seed():
    assert run_durability([0.3, 0.3], dp=SHOCKY, seed=5) == run_durability(
        [0.3, 0.3], dp=SHOCKY, seed=5
    )


# Durability with zero shocks is the war BATNA. Three parties (aggressor, defender, a
# supporter), two issues: territory at 0 / 30 / 100 and another issue at its status quo.
HAND = war.WarParameters(
    aggressor_capacity=2.0,
    defender_capacity=0.5,
    supports=np.array([0.4, 0.8]),
    supporter_capabilities=np.array([1.5, 0.5]),
    aid_effectiveness=0.8,  # S_d = 0.5 + 0.8 (0.6 + 0.4) = 1.3, p = 2 / 3.3
    adjustment_rate=0.2,
    volatility=0.0,
    months_per_round=1.0,
    horizon_months=12.0,
    discount=0.95,
)
HAND_POSITIONS = np.array([0.0, 30.0, 100.0])
HAND_TERRITORY = np.array([[0.0, 0.5, 1.0], [1.0, 0.4, 0.0], [0.9, 0.6, 0.0]])
HAND_OTHER = np.array([[0.2, 1.0], [1.0, 0.0], [0.7, 0.3]])  # status quo: level 0
HAND_WEIGHTS = np.array([[0.7, 0.3], [0.9, 0.1], [0.5, 0.5]])
HAND_COSTS = np.array([0.02, 0.03, 0.005])
HAND_LINE = 30.0
STILL = DurabilityParameters(
    periods=5, paths=4, support_shock=0.0, capacity_shock=0.0, guarantee_strength=0.0,
    guarantee_cost=1.5,
)  # fmt: skip


def hand_batna() -> war.WarBatna:
    return war.war_batna(
        HAND, HAND_POSITIONS, HAND_TERRITORY, HAND_WEIGHTS, [HAND_TERRITORY, HAND_OTHER],
        [None, 0], 0, HAND_COSTS,
    )  # fmt: skip


def hand_war_values() -> np.ndarray:
    """Each party's war BATNA from the deal line, as the negotiation computes it."""
    target = war.target_line(war.aggressor_share(HAND), HAND.low, HAND.high)
    return hand_batna().value(HAND_LINE, target)


def run_still(deal: np.ndarray, guarantee: float = 0.0, dp: DurabilityParameters = STILL):
    return stability.durability_linear(
        deal, hand_batna(), HAND_COSTS, HAND_LINE, guarantee, 0, 1, dp, np.random.default_rng(0)
    )


def test_hand_war_values_written_out():
    # p = 2 / 3.3; the line moves from 30 toward 100 p, closing 1 - 0.8^12 of the gap.
    p = 2.0 / 3.3
    end = 30.0 + (100.0 * p - 30.0) * (1.0 - 0.8**12)
    months = (1.0 - 0.95**12) / 0.05
    share_above_30 = (end - 30.0) / 70.0  # the end line lies between the levels 30 and 100
    territory = HAND_TERRITORY[:, 1] + (HAND_TERRITORY[:, 2] - HAND_TERRITORY[:, 1]) * (
        share_above_30
    )
    expected = HAND_WEIGHTS[:, 0] * territory + HAND_WEIGHTS[:, 1] * HAND_OTHER[:, 0]
    expected -= HAND_COSTS * months
    np.testing.assert_allclose(hand_war_values(), expected, atol=1e-12)


@pytest.mark.parametrize("party", [0, 1, 2])
@pytest.mark.parametrize(
    ("offset", "war_share"),
    [
        (1e-6, 0.0),  # just above its BATNA: the deal holds
        (0.0, 0.0),  # exactly at it
        (-TOLERANCE / 2, 0.0),  # below by less than the tolerance
        (-2 * TOLERANCE, 1.0),  # below by more: renewed war, every period of every path
        (-1e-6, 1.0),
    ],
)
def test_durability_with_zero_shocks_equals_the_war_batna(party, offset, war_share):
    batna = hand_war_values()
    deal = batna + 0.5  # everyone else far better off under the deal
    deal[party] = batna[party] + offset
    out = run_still(deal)
    assert out["renewed_war_share"] == war_share
    assert out["powell_violations"] == 0.0  # no shocks: power never shifts
    assert out["max_power_shift"] == 0.0
    assert out["durability"] == 1.0 - war_share


@pytest.mark.parametrize("guarantee", [0.25, 1.0])
def test_a_guarantee_lowers_the_aggressors_war_batna_by_its_added_cost(guarantee):
    # No added strength (guarantee_strength 0): the line and p are as without a guarantee,
    # only the aggressor's cost is multiplied by 1 + guarantee * guarantee_cost.
    batna = hand_war_values()
    months = war.discounted_months(HAND.discount, HAND.horizon_months)
    guaranteed = batna.copy()
    guaranteed[0] -= guarantee * STILL.guarantee_cost * HAND_COSTS[0] * months
    for party in range(3):
        for value, war_share in [(guaranteed[party] + 1e-6, 0.0), (guaranteed[party] - 1e-6, 1.0)]:
            deal = batna + 0.5
            deal[party] = value
            assert run_still(deal, guarantee)["renewed_war_share"] == war_share, party
    # Between the two: renewed war without the guarantee, peace with it.
    between = batna + 0.5
    between[0] = 0.5 * (batna[0] + guaranteed[0])
    assert run_still(between, 0.0)["renewed_war_share"] == 1.0
    assert run_still(between, guarantee)["renewed_war_share"] == 0.0


def test_a_guarantee_that_strengthens_the_defender_is_extra_defender_strength():
    # The aggressor's BATNA with a guarantee that adds strength but no cost: the war BATNA
    # at the share of strength with the guarantee added to the defender.
    dp = dataclasses.replace(STILL, guarantee_strength=0.8, guarantee_cost=0.0)
    extra = 0.5 * dp.guarantee_strength
    defender = war.defender_strength(HAND, HAND.supports, HAND.supporter_capabilities, extra)
    assert defender == pytest.approx(1.3 + 0.4, abs=1e-12)
    p = war.strength_share(HAND.aggressor_capacity, defender)
    assert p == pytest.approx(2.0 / 3.7, abs=1e-12)
    value = hand_batna().value(HAND_LINE, war.target_line(p, HAND.low, HAND.high))
    assert value[0] < hand_war_values()[0]  # a stronger defender: a worse war for Russia
    for party in range(3):
        deal = value + 0.5
        deal[party] = value[party] + 1e-6
        assert run_still(deal, 0.5, dp)["renewed_war_share"] == 0.0
        deal[party] = value[party] - 1e-6
        assert run_still(deal, 0.5, dp)["renewed_war_share"] == 1.0


def test_strength_on_paths_is_the_war_formula_elementwise():
    # defender_strength and strength_share over (paths, periods), as durability uses them,
    # equal the scalar aggressor_share of the same numbers, element by element.
    rng = np.random.default_rng(3)
    supports = rng.uniform(0.0, 1.0, (4, 5, 2))
    capacity = rng.uniform(0.0, 3.0, (4, 5))
    capacity[0, 0] = 0.0
    strength = war.defender_strength(HAND, supports, HAND.supporter_capabilities, 0.25)
    p = war.strength_share(capacity, strength)
    assert strength.shape == p.shape == (4, 5)
    for i, j in itertools.product(range(4), range(5)):
        wp = dataclasses.replace(
            HAND, aggressor_capacity=capacity[i, j], supports=supports[i, j],
            defender_capacity=HAND.defender_capacity + 0.25,
        )  # fmt: skip
        assert p[i, j] == pytest.approx(war.aggressor_share(wp), abs=1e-12)
    # No strength at all: an even balance, for arrays as for floats.
    assert war.strength_share(np.zeros(3), np.zeros(3)).tolist() == [0.5] * 3
    assert war.strength_share(0.0, 0.0) == 0.5
    # Capabilities drawn per draw (draws, supporters) against one vector of supports.
    caps = rng.uniform(0.0, 2.0, (6, 2))
    by_draw = war.defender_strength(HAND, HAND.supports, caps)
    np.testing.assert_allclose(by_draw, 0.5 + 0.8 * (caps @ HAND.supports), atol=1e-12)


@pytest.mark.parametrize(
    ("position", "level"),
    [(0.0, 1.0), (100.0, 0.0), (25.0, 0.75), (50.0, 0.5), (-10.0, 1.0), (150.0, 0.0)],
)
def test_guarantee_level_is_one_at_article_5_and_zero_at_none(position, level):
    assert stability.guarantee_level(position) == pytest.approx(level, abs=1e-12)


def test_guarantee_level_on_a_custom_scale():
    assert stability.guarantee_level(20.0, low=20.0, high=60.0) == 1.0
    assert stability.guarantee_level(50.0, low=20.0, high=60.0) == pytest.approx(0.25)


# --- the score and the verdict -----------------------------------------------------------


DEFAULT = Thresholds()


def test_default_thresholds_match_the_config_defaults(compose):
    t = compose().stability.thresholds
    assert dataclasses.asdict(DEFAULT) == {k: t[k] for k in t}


def test_is_stable_when_every_measure_meets_its_threshold_exactly():
    shares = (DEFAULT.robustness, DEFAULT.durability)
    assert stability.is_stable(0.0, 0.01, 0, *shares, DEFAULT)
    # Within the numerical tolerance still counts.
    assert stability.is_stable(-TOLERANCE / 2, 0.01 + TOLERANCE / 2, 0, *shares, DEFAULT)
    assert stability.is_stable(0.0, 0.01, 0, *shares, DEFAULT, commitment=1.0)
    assert not stability.is_stable(0.0, 0.01, 0, *shares, DEFAULT, commitment=1.01)


@pytest.mark.parametrize(
    "measures",
    [
        (-1e-6, 0.0, 0, 1.0, 1.0),  # below a BATNA
        (0.1, 0.0101, 0, 1.0, 1.0),  # Pareto gap above 0.01
        (0.1, 0.0, 1, 1.0, 1.0),  # one blocking coalition
        (0.1, 0.0, 0, 0.94, 1.0),  # not robust enough (0.95)
        (0.1, 0.0, 0, 1.0, 0.49),  # not durable enough (0.5)
        (float("nan"), 0.0, 0, 1.0, 1.0),  # no signatory at all
    ],
)
def test_is_stable_fails_when_any_one_measure_misses(measures):
    assert stability.is_stable(*measures, DEFAULT) is False


def test_is_stable_follows_the_thresholds_given():
    lax = Thresholds(ir_margin=-0.1, pareto_gap=0.2, blocking_coalitions=2, robustness=0.5,
                     durability=0.5)  # fmt: skip
    assert stability.is_stable(-0.05, 0.15, 2, 0.5, 0.5, lax)
    assert not stability.is_stable(-0.05, 0.15, 3, 0.5, 0.5, lax)
    assert not stability.is_stable(-0.11, 0.15, 2, 0.5, 0.5, lax)


def test_stability_score_of_a_perfect_deal_is_one():
    assert stability.stability_score_linear(0.2, 0.0, 0, 15, 1.0, 1.0) == 1.0


def test_stability_score_is_the_mean_of_its_five_parts():
    # parts: IR 0 (margin < 0), 1 - 0.25, 1 - 3/15, 0.5, 0.4 -> (0 + .75 + .8 + .5 + .4) / 5
    score = stability.stability_score_linear(-0.1, 0.25, 3, 15, 0.5, 0.4)
    assert score == pytest.approx(0.49, abs=1e-12)


def test_stability_score_boundaries():
    # IR exactly 0 counts as rational; a gap above 1 is capped, a negative one floored.
    assert stability.stability_score_linear(0.0, 0.0, 0, 15, 1.0, 1.0) == 1.0
    assert stability.stability_score_linear(0.0, 5.0, 0, 15, 1.0, 1.0) == pytest.approx(0.8)
    assert stability.stability_score_linear(0.0, -1.0, 0, 15, 1.0, 1.0) == 1.0
    # Every coalition blocking, nothing robust or durable, not rational: 0.
    assert stability.stability_score_linear(-1.0, 1.0, 15, 15, 0.0, 0.0) == 0.0
    # No coalitions at all does not divide by zero.
    assert stability.stability_score_linear(0.0, 0.0, 0, 0, 1.0, 1.0) == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_stability_score_stays_in_the_unit_interval(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(1, 16))
        score = stability.stability_score_linear(
            rng.normal(), rng.normal(), int(rng.integers(0, n + 1)), n, rng.random(), rng.random()
        )
        assert 0.0 <= score <= 1.0
