"""War as the outside option (sim.core.war) and the model's use of it: the contact line and
BATNAs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core import war
from sim.engine.single import NegotiationModel
from sim.experiment.build import build_scenario, war_parameters
from sim.experiment.compiler import negotiation_settings
from sim.experiment.validation import war_cost_of
from tests.helpers_model import compose, run


def params(**changes: object) -> war.WarParameters:
    base = war.WarParameters(
        aggressor_capacity=1.0,
        defender_capacity=0.3,
        supports=np.array([0.3, 0.7]),
        supporter_capabilities=np.array([0.9, 0.7]),
        aid_effectiveness=0.5,
        adjustment_rate=0.1,
        volatility=0.0,
        months_per_round=1.0,
        horizon_months=24.0,
        discount=0.99,
    )
    return dataclasses.replace(base, **changes)


# --- strength and the target line ------------------------------------------------------


def test_aggressor_share_is_capacity_over_total_strength():
    # S_d = 0.3 + 0.5 * (0.3 * 0.9 + 0.7 * 0.7) = 0.68; p = 1 / 1.68
    assert war.aggressor_share(params()) == pytest.approx(1.0 / 1.68, abs=1e-12)
    # No supporters: p = S_a / (S_a + S_d)
    alone = params(supports=np.array([]), supporter_capabilities=np.array([]))
    assert war.aggressor_share(alone) == pytest.approx(1.0 / 1.3, abs=1e-12)
    # Aid that does nothing leaves the bare capacities.
    assert war.aggressor_share(params(aid_effectiveness=0.0)) == pytest.approx(1.0 / 1.3)


def test_aggressor_share_with_no_strength_at_all_is_even():
    nothing = params(aggressor_capacity=0.0, defender_capacity=0.0, aid_effectiveness=0.0)
    assert war.aggressor_share(nothing) == 0.5


@settings(max_examples=30, deadline=None)
@given(
    us=st.floats(0.0, 1.0),
    eu=st.floats(0.0, 1.0),
    extra=st.floats(0.01, 1.0),
    which=st.sampled_from([0, 1]),
)
def test_more_support_for_the_defender_lowers_the_aggressor_share(us, eu, extra, which):
    low = np.array([us, eu])
    high = low.copy()
    high[which] += extra
    p_low = war.aggressor_share(params(supports=low))
    p_high = war.aggressor_share(params(supports=high))
    assert 0.0 < p_high < p_low < 1.0


def test_target_line_maps_the_share_onto_the_territory_scale():
    assert war.target_line(0.6) == pytest.approx(60.0)
    assert war.target_line(0.25, low=20.0, high=60.0) == pytest.approx(30.0)
    assert war.target_line(0.0, 10.0, 90.0) == 10.0
    assert war.target_line(1.0, 10.0, 90.0) == 90.0


# --- the contact line ------------------------------------------------------------------


def test_gap_closed_compounds_the_monthly_rate():
    assert war.gap_closed(0.1, 1.0) == pytest.approx(0.1)
    assert war.gap_closed(0.1, 2.0) == pytest.approx(0.19)  # 1 - 0.9^2
    assert war.gap_closed(0.5, 3.0) == pytest.approx(0.875)
    assert war.gap_closed(1.0, 1.0) == 1.0
    assert war.gap_closed(0.3, 0.0) == 0.0


@settings(max_examples=30, deadline=None)
@given(
    line=st.floats(0.0, 100.0),
    target=st.floats(0.0, 100.0),
    rate=st.floats(0.0, 1.0),
    months=st.floats(0.0, 12.0),
)
def test_advance_line_moves_toward_the_target_without_overshooting(line, target, rate, months):
    new = war.advance_line(line, target, rate, months, shock=0.0)
    # The remaining gap is (1 - rate)^months of the old one, on the same side.
    expected_gap = (line - target) * (1.0 - rate) ** months
    assert new - target == pytest.approx(expected_gap, abs=1e-9)
    assert min(line, target) - 1e-9 <= new <= max(line, target) + 1e-9


def test_advance_line_adds_the_shock_and_jumps_at_rate_one():
    assert war.advance_line(50.0, 60.0, 0.1, 1.0, 0.0) == pytest.approx(51.0)
    assert war.advance_line(50.0, 60.0, 0.1, 1.0, -2.5) == pytest.approx(48.5)
    assert war.advance_line(50.0, 60.0, 0.1, 2.0, 0.0) == pytest.approx(51.9)
    assert war.advance_line(50.0, 60.0, 1.0, 1.0, 0.0) == 60.0
    assert war.advance_line(70.0, 40.0, 0.5, 1.0, 0.0) == pytest.approx(55.0)  # moves down


def test_expected_line_converges_to_the_target_over_a_long_horizon():
    target = war.target_line(1.0 / 1.68)
    short = war.expected_line(50.0, target, 0.1, 1.0)
    medium = war.expected_line(50.0, target, 0.1, 24.0)
    long = war.expected_line(50.0, target, 0.1, 600.0)
    assert short == pytest.approx(50.0 + 0.1 * (target - 50.0))
    assert medium == pytest.approx(target - (target - 50.0) * 0.9**24)
    assert 50.0 < short < medium < long <= target
    assert long == pytest.approx(target, abs=1e-9)
    assert war.expected_line(80.0, 20.0, 0.05, 2000.0) == pytest.approx(20.0, abs=1e-9)
    # No time, no movement.
    assert war.expected_line(50.0, target, 0.1, 0.0) == 50.0


# --- costs and BATNAs ------------------------------------------------------------------


@pytest.mark.parametrize("discount", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("horizon", [0, 1, 2, 12, 24])
def test_discounted_months_is_the_geometric_sum(discount, horizon):
    by_sum = sum(discount**m for m in range(horizon))
    assert war.discounted_months(discount, float(horizon)) == pytest.approx(by_sum, abs=1e-12)
    if discount < 1.0:
        closed = (1.0 - discount**horizon) / (1.0 - discount)
        assert war.discounted_months(discount, float(horizon)) == pytest.approx(closed)


def test_discounted_months_without_discounting_is_the_horizon():
    assert war.discounted_months(1.0, 24.0) == 24.0
    assert war.discounted_months(1.0, 1.0) == 1.0
    assert war.discounted_months(1.0, 0.0) == 0.0


def test_war_batna_value_by_hand():
    # Two parties, territory at 0 / 50 / 100; at rate 1 the war ends at its target, 75.
    values = np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]])
    positions = np.array([0.0, 50.0, 100.0])
    weights = np.array([0.6, 0.9])
    status_quo = np.array([0.1, 0.05])
    costs = np.array([0.01, 0.02])
    wp = params(adjustment_rate=1.0, horizon_months=3.0, discount=0.5)
    # discounted months: 1 + 0.5 + 0.25 = 1.75
    cost = costs * war.discounted_months(wp.discount, wp.horizon_months)
    batna = war.WarBatna(wp, positions, values, weights, status_quo, cost)
    # A: 0.6 * 0.75 + 0.1 - 0.01 * 1.75 = 0.5325; B: 0.9 * 0.25 + 0.05 - 0.02 * 1.75 = 0.24
    np.testing.assert_allclose(batna.value(20.0, 75.0), [0.5325, 0.24], atol=1e-12)
    # The same from any starting line, and elementwise over an array of targets.
    np.testing.assert_allclose(batna.value(90.0, 75.0), [0.5325, 0.24], atol=1e-12)
    many = batna.value(20.0, np.full((2, 3), 75.0))
    assert many.shape == (2, 3, 2)
    np.testing.assert_allclose(many, np.broadcast_to([0.5325, 0.24], (2, 3, 2)), atol=1e-12)


@pytest.mark.parametrize(
    ("aggressor", "defender", "p"), [(1.5, 1.0, 0.6), (1.0, 1.0, 0.5), (1.0, 3.0, 0.25)]
)
def test_war_batna_is_fearon_p_minus_c(aggressor, defender, p):
    # One issue, linear values, a war that reaches 100 p (rate 1), one undiscounted month:
    # the BATNAs are Fearon's (1995) p - c_A and (1 - p) - c_B.
    wp = params(
        aggressor_capacity=aggressor, defender_capacity=defender, aid_effectiveness=0.0,
        adjustment_rate=1.0, horizon_months=1.0, discount=1.0,
    )  # fmt: skip
    assert war.aggressor_share(wp) == pytest.approx(p, abs=1e-12)
    positions = np.linspace(0.0, 100.0, 101)
    values = np.vstack([positions / 100.0, 1.0 - positions / 100.0])
    costs = np.array([0.05, 0.1])
    batna = war.war_batna(wp, positions, values, np.ones((2, 1)), [values], [None], 0, costs)
    got = batna.value(50.0, war.target_line(war.aggressor_share(wp), wp.low, wp.high))
    np.testing.assert_allclose(got, [p - 0.05, 1.0 - p - 0.1], atol=1e-12)


# --- the war in the model --------------------------------------------------------------


def test_war_parameters_read_the_config_and_the_support_levels():
    cfg = compose("us_support=0.2", "europe_support=0.9")
    scenario = build_scenario(cfg)
    wp = war_parameters(cfg, scenario.space, scenario.capabilities)
    supporters = list(cfg.war.support)
    assert supporters == ["usa", "europe"]
    np.testing.assert_allclose(wp.supports, [0.2, 0.9])
    np.testing.assert_allclose(
        wp.supporter_capabilities, [cfg.parties.usa.capability, cfg.parties.europe.capability]
    )
    assert (cfg.war.aggressor, cfg.war.defender) == ("russia", "ukraine")
    assert wp.aggressor_capacity == cfg.war.capacity.russia
    assert wp.defender_capacity == cfg.war.capacity.ukraine
    assert (wp.low, wp.high) == (0.0, 100.0)
    assert wp.horizon_months == cfg.war.horizon_months
    assert wp.discount == cfg.war.discount


def line_path(*overrides: str, rounds: int = 24) -> tuple[np.ndarray, NegotiationModel]:
    """Contact line per round with no shocks, parties that never settle."""
    hold = [
        f"parties.{p}.{k}"
        for p in ("usa", "russia", "ukraine", "europe")
        for k in ("strategy=hardliner", "deadline=100000", "reservation_value=0.0")
    ]
    cfg = compose("war.volatility=0", "batna=static", f"max_rounds={rounds}", *hold, *overrides)
    model = run(cfg)
    assert model.round == rounds and model.agreement is None  # the war went on throughout
    return model.trace()["contact_line"].to_numpy(), model


def test_contact_line_follows_the_closed_form_toward_the_target():
    lines, model = line_path()
    wp = model.war_params
    target = war.target_line(war.aggressor_share(wp), wp.low, wp.high)
    start = 50.0
    rounds = np.arange(1, lines.size + 1)
    # Round 1 is at the start; each later round closes adjustment_rate of the gap.
    expected = target + (start - target) * (1.0 - wp.adjustment_rate) ** (rounds - 1)
    np.testing.assert_allclose(lines, expected, atol=1e-9)
    assert model.p_share == pytest.approx(war.aggressor_share(wp))


def test_more_support_moves_the_line_down_and_less_moves_it_up():
    weak, m_weak = line_path("us_support=0.0", "europe_support=0.3")
    strong, m_strong = line_path("us_support=1.0", "europe_support=1.0")
    assert m_strong.p_share < 0.5 < m_weak.p_share
    # Weak support: the line advances (Russia gains); strong support: it is pushed back.
    assert np.all(np.diff(weak) > 0) and weak[-1] > 50.0
    assert np.all(np.diff(strong) < 0) and strong[-1] < 50.0
    assert np.all(strong[1:] < weak[1:])


@pytest.mark.parametrize("key", ["us_support", "europe_support"])
def test_each_support_level_alone_moves_the_line(key):
    low, m_low = line_path(f"{key}=0.1")
    high, m_high = line_path(f"{key}=0.9")
    assert m_high.p_share < m_low.p_share
    np.testing.assert_array_less(high[1:], low[1:])
    assert low[0] == high[0] == 50.0


def test_reservation_values_in_the_model_by_hand():
    """Round-1 BATNAs of the default scenario from its own preferences, computed here."""
    cfg = compose("war.volatility=0")
    scenario = build_scenario(cfg)
    model = NegotiationModel(scenario, negotiation_settings(cfg), rng=0)
    model.step()
    wp = model.war_params
    p = war.aggressor_share(wp)
    end = 50.0 + (100.0 * p - 50.0) * (1.0 - (1.0 - wp.adjustment_rate) ** wp.horizon_months)
    months = (1.0 - wp.discount**wp.horizon_months) / (1.0 - wp.discount)
    prefs = scenario.preferences
    space = scenario.space
    expected = []
    for i, party in enumerate(scenario.parties):
        total = 0.0
        for k, issue in enumerate(space.issues):
            values = prefs.level_values[k][i]
            if issue.name == "territory":
                total += prefs.weights[i, k] * np.interp(end, issue.positions, values)
            elif issue.default is None:
                total += prefs.weights[i, k] * values.min()
            else:
                total += prefs.weights[i, k] * values[issue.default]
        expected.append(total - war_cost_of(cfg.parties[party], cfg.war) * months)
    np.testing.assert_allclose(model.reservations, expected, atol=1e-12)


def test_reservations_move_with_the_war():
    """The line advances (p > 1/2 by default): Russia's BATNA rises, Ukraine's falls."""
    cfg = compose("war.volatility=0", "max_rounds=30")
    trace = run(cfg).trace()
    line = trace["contact_line"].to_numpy()
    assert np.all(np.diff(line) > 0)
    assert np.all(np.diff(trace["reservation_russia"].to_numpy()) > 0)
    assert np.all(np.diff(trace["reservation_ukraine"].to_numpy()) < 0)


def test_shocks_are_scaled_by_volatility_and_stay_on_the_scale():
    cfg = compose("war.volatility=20", "max_rounds=40", "war.adjustment_rate=0")
    lines = run(cfg, seed=3).trace()["contact_line"].to_numpy()
    steps = np.diff(lines)
    assert np.all((lines >= 0.0) & (lines <= 100.0))
    assert steps.std() > 5.0  # no drift at rate 0: the moves are the shocks (sd 20, clipped)


def test_a_discount_of_zero_means_only_the_first_month_of_war_counts():
    """war.discount=0 is meaningful (a party that does not look past this month): the
    discounted cost of any horizon is one month's cost."""
    assert war.discounted_months(0.0, 24.0) == 1.0
    assert war.discounted_months(0.0, 0.0) == 0.0
    scenario = build_scenario(compose("war.discount=0"))
    np.testing.assert_allclose(scenario.war_batna().cost, scenario.war_costs)


@pytest.mark.parametrize("stakes", ["territory", "all"])
def test_one_partys_view_of_the_batnas_is_its_row_of_everyones(stakes):
    """`WarBatna.perceived` for some viewers gives their rows of every viewer's view, to
    the bit (the hopeful look ahead reads one party's), with and without cost beliefs."""
    from tests.conftest import compose_config

    scenario = build_scenario(compose_config([f"war.stakes={stakes}"]))
    batna = scenario.war_batna(scenario.war_params)
    n, parties = 9, len(scenario.parties)
    rng = np.random.default_rng(5)
    lines = rng.uniform(0, 100, n)
    believed = rng.uniform(-10, 110, (n, parties))
    doubt = rng.uniform(0.5, 1.5, (n, parties))
    for costs in (None, doubt):
        everyone = batna.perceived(lines, believed, costs)
        for viewers in ([0], [2], [3, 1]):
            mine = batna.perceived(
                lines, believed[:, viewers], None if costs is None else costs[:, viewers], viewers
            )
            assert np.array_equal(mine, everyone[:, viewers, :])
    assert not np.array_equal(everyone[:, 0], batna.perceived(lines, believed, None)[:, 0])
