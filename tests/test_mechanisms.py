"""Stability that measures (docs/model.md, "Stability"): Powell's commitment test over the
horizon, durability under drift, guarantees as mechanisms, robustness over the uncertain
inputs, and the mediator as a lever."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim.core import stability, war
from sim.core.preferences import mediator_stakes
from sim.experiment.assessment import STABILITY_PARTS, deal_structure, robustness, stability_row
from sim.experiment.build import build_scenario
from sim.experiment.compiler import stability_settings
from sim.experiment.durability import deal_durability
from tests.conftest import BEFORE_27
from tests.helpers_model import compose as compose_now
from tests.helpers_model import run
from tests.helpers_sweeps import run_sim


def compose(*overrides: str):
    """The config, on the Russia-Ukraine scenarios' data before their stated red lines
    (`BEFORE_27`): these tests pin the mechanisms, not the data."""
    return compose_now(*BEFORE_27, *overrides)


# -- Powell (2006): delta shift / (1 - delta) > c_A + c_B -------------------------------


def test_the_commitment_ratio_is_powells_closed_form():
    # delta 0.9, a flow of 0.1 lost per period: 0.9 x 0.1 / 0.1 = 0.9 against costs 0.45.
    assert stability.commitment_ratio(0.1, 0.9, 0.2, 0.25) == pytest.approx(2.0)
    assert stability.commitment_ratio(0.01, 0.9, 0.2, 0.25) == pytest.approx(0.2)
    shifts = np.array([0.0, 0.05, 0.1])
    np.testing.assert_allclose(stability.commitment_ratio(shifts, 0.9, 0.2, 0.25), [0, 1, 2])


def test_a_costless_war_or_no_discounting_makes_any_shift_a_commitment_problem():
    assert stability.commitment_ratio(0.01, 0.9, 0.0, 0.0) == np.inf
    assert stability.commitment_ratio(0.01, 1.0, 0.2, 0.2) == np.inf
    assert stability.commitment_ratio(0.0, 0.9, 0.0, 0.0) == 0.0


# A two-party war on the territory line: the aggressor (0) values the high end, the defender
# (1) the low end, linearly; no supporters; the line reaches the target within the horizon.
HORIZON = 12.0
PARAMS = war.WarParameters(
    aggressor_capacity=1.0,
    defender_capacity=1.0,
    supports=np.zeros(0),
    supporter_capabilities=np.zeros(0),
    aid_effectiveness=0.0,
    adjustment_rate=1.0,
    volatility=0.0,
    months_per_round=1.0,
    horizon_months=HORIZON,
    discount=0.99,
)
POSITIONS = np.linspace(0.0, 100.0, 101)
MONTHLY_COSTS = np.array([0.004, 0.006])


def line_batna(params: war.WarParameters, costs: np.ndarray = MONTHLY_COSTS) -> war.WarBatna:
    values = np.vstack([POSITIONS / 100.0, 1.0 - POSITIONS / 100.0])
    return war.WarBatna(
        params,
        POSITIONS,
        values,
        np.ones(2),
        np.zeros(2),
        costs * war.discounted_months(params.discount, params.horizon_months),
    )


CALM = stability.DurabilityParameters(periods=24, paths=4, support_shock=0.0, capacity_shock=0.0)


def durability_of(params, deal=(0.6, 0.6), shift=(0.0, 0.0), dp=CALM, costs=MONTHLY_COSTS, seed=0):
    return stability.durability(
        np.array(deal),
        line_batna(params, costs),
        50.0,
        (0, 1),
        np.array(shift),
        dp,
        np.random.default_rng(seed),
    )


def test_the_anticipated_shift_over_the_horizon_against_both_costs_sets_the_ratio():
    """Capacity growing at r a month: p_t = e^{rt} / (e^{rt} + 1); the defender's value of
    war falls by p_{t+H} - p_t over the horizon, and the ratio is delta^H times that over
    the two belligerents' discounted costs, largest in the first month."""
    rate = 0.05
    found = durability_of(dataclasses.replace(PARAMS, capacity_drift=rate))
    t = np.arange(1, CALM.periods + 1)
    p = np.exp(rate * t) / (np.exp(rate * t) + 1)
    p_later = np.exp(rate * (t + HORIZON)) / (np.exp(rate * (t + HORIZON)) + 1)
    costs = MONTHLY_COSTS.sum() * war.discounted_months(0.99, HORIZON)
    ratios = 0.99**HORIZON * (p_later - p) / costs
    assert found["commitment_ratio"] == pytest.approx(ratios.max(), rel=1e-9)
    assert found["max_power_shift"] == pytest.approx((p_later - p).max(), rel=1e-9)
    assert found["powell_violations"] == pytest.approx((ratios > 1).mean())
    assert 0 < found["powell_violations"] < 1  # fires early, fades as p saturates
    assert found["durability"] <= 1 - found["powell_violations"] + 1e-12


def test_zero_mean_noise_alone_never_makes_a_commitment_problem():
    noisy = dataclasses.replace(CALM, support_shock=0.2, capacity_shock=0.2, paths=16)
    found = durability_of(PARAMS, dp=noisy)
    assert found["commitment_ratio"] == 0.0
    assert found["powell_violations"] == 0.0
    assert found["renewed_war_share"] > 0  # the noise does move the war's value, though


def test_a_deal_above_both_sides_value_of_war_lasts_without_drift():
    found = durability_of(PARAMS)
    assert found == {
        "durability": 1.0,
        "durable_paths": 1.0,
        "renewed_war_share": 0.0,
        "powell_violations": 0.0,
        "max_power_shift": 0.0,
        "commitment_ratio": 0.0,
    }


def test_optimism_about_renewed_war_breaks_a_deal_a_monitored_one_keeps():
    # At p = 0.5 the aggressor's war value is 0.5 - cost; a deal worth 0.52 beats it, but
    # not once it believes its share 0.1 higher.
    believed = durability_of(PARAMS, deal=(0.52, 0.6), shift=(0.1, 0.0))
    watched = durability_of(PARAMS, deal=(0.52, 0.6), shift=(0.0, 0.0))
    assert believed["renewed_war_share"] == 1.0 and believed["durability"] == 0.0
    assert watched["renewed_war_share"] == 0.0 and watched["durability"] == 1.0


def test_raising_the_aggressors_cost_lowers_the_commitment_ratio_as_the_formula_says():
    drifting = dataclasses.replace(PARAMS, capacity_drift=0.05)
    plain = durability_of(drifting)["commitment_ratio"]
    factor = 1.0 + 1.0 * 1.28  # cost_per_force 1, force of Article 5 in brussels_2025
    costs = war.guaranteed_costs(MONTHLY_COSTS, 0, 1.28, 1.0)
    assert costs[0] == pytest.approx(MONTHLY_COSTS[0] * factor) and costs[1] == MONTHLY_COSTS[1]
    guarded = durability_of(drifting, costs=costs)["commitment_ratio"]
    expected = plain * MONTHLY_COSTS.sum() / (MONTHLY_COSTS[0] * factor + MONTHLY_COSTS[1])
    assert guarded == pytest.approx(expected, rel=1e-9)


# -- guarantees as mechanisms (Fortna 2004, Walter 2002) -----------------------------------


def test_the_force_behind_a_guarantee_is_capability_times_credibility_without_the_aggressor():
    credibility = np.array([[0.0, 0.8, 0.0, 0.8], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    capabilities = np.array([1.0, 0.9, 0.6, 0.7])
    force = war.guarantee_force(credibility, capabilities, aggressor=0)
    np.testing.assert_allclose(force, [0.8 * 0.9 + 0.8 * 0.7, 0.0, 0.5 * 0.9])


@pytest.fixture(scope="module")
def brussels():
    return build_scenario(compose("bargaining=fighting"))


def test_guarantors_including_russia_back_the_deal_as_little_as_no_guarantee(brussels):
    issue = brussels.space.issues[brussels.guarantee_issue]
    force = dict(zip(issue.levels, brussels.guarantee_force, strict=True))
    watched = dict(zip(issue.levels, brussels.guarantee_monitored, strict=True))
    assert force["guarantors_include_russia"] == force["none"] == 0.0
    assert not watched["guarantors_include_russia"] and not watched["none"]
    assert force["monitoring_only"] == 0.0 and watched["monitoring_only"]  # information only
    assert force["article_5"] > force["european_force_us_backstop"] > force["european_force"] > 0
    assert force["article_5"] == pytest.approx(0.9 * 0.8 + 0.7 * 0.8)  # usa, europe: J


def test_a_deal_with_guarantors_including_russia_lasts_exactly_as_one_without(brussels):
    cfg = compose("bargaining=fighting")
    result = run(cfg).result(0)
    space = brussels.space
    levels = dict(space.levels_of(result.outcome))
    found = {}
    for level in ("guarantors_include_russia", "none", "european_force"):
        outcome = space.index_of({**levels, "guarantees": level})
        other = dataclasses.replace(result, outcome=outcome)
        dp = stability.DurabilityParameters(paths=8)
        walks = stability.durability_walks(dp, 2, np.random.default_rng(1))
        found[level] = {k: v[0] for k, v in deal_durability([other], dp, [walks]).items()}
    assert found["guarantors_include_russia"] == found["none"]
    assert found["european_force"]["guarantee_force"] > 0
    assert found["european_force"]["durability"] >= found["none"]["durability"]


def test_a_guarantee_in_force_during_the_talks_lowers_the_aggressors_batna_by_its_cost():
    plain = build_scenario(compose("bargaining=fighting"))
    guarded = build_scenario(
        compose("bargaining=fighting", "issues.guarantees.default=european_force")
    )
    a = plain.war_sides[0]
    force = guarded.guarantee_force[guarded.guarantee_level()]
    months = war.discounted_months(plain.war_params.discount, plain.war_params.horizon_months)
    extra = plain.war_costs[a] * force * guarded.guarantee_cost * months
    gap = plain.war_batna().cost - guarded.war_batna().cost
    assert gap[a] == pytest.approx(-extra)
    assert np.delete(gap, a) == pytest.approx(0.0)


# -- the mediator as a lever ------------------------------------------------------------


def test_a_neutral_mediator_keeps_its_stake_only_where_it_controls_a_level():
    weights = np.array([[0.4, 0.3, 0.3], [0.5, 0.25, 0.25]])
    issue_control = [np.array([False, True]), np.array([False, True]), np.array([False, False])]
    level_control = [
        np.zeros((2, 3), bool),
        np.array([[True, False], [False, False]]),
        np.array([[False, True], [False, False]]),
    ]
    neutral = mediator_stakes(weights, issue_control, level_control, 0, 0.0)
    np.testing.assert_allclose(neutral[0], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(neutral[1], weights[1])  # the others keep theirs
    half = mediator_stakes(weights, issue_control, level_control, 0, 0.5)
    np.testing.assert_allclose(half[0], np.array([0.2, 0.3, 0.3]) / 0.8)
    np.testing.assert_array_equal(
        mediator_stakes(weights, issue_control, level_control, 0, 1.0), weights
    )


def test_the_default_deal_is_not_blocked_by_the_two_belligerents_together():
    cfg = compose("bargaining=fighting")
    result = run(cfg).result(0)
    row = stability_row(result, stability_settings(cfg), np.random.default_rng(0))
    assert result.agreement and row["blocking_coalitions"] == 0
    assert row["blocking_coalition"] == row["blocking_alternative"] == ""
    assert row["failing_parts"] == "robustness"  # 0.73 of the draws, below 0.95
    margins = result.utilities - result.reservations
    assert row["closest_to_walking"] == result.scenario.parties[int(np.argmin(margins))]


def test_the_reasons_name_the_coalition_that_blocks_and_what_it_would_take_instead():
    cfg = compose("bargaining=fighting", "mediator_bias=1")
    result = run(cfg).result(0)
    row = stability_row(result, stability_settings(cfg), np.random.default_rng(0))
    assert row["blocking_coalition"] == "russia,ukraine"
    assert row["failing_parts"].split(",")[:2] == ["blocking_coalitions", "robustness"]
    space, U = result.scenario.space, result.scenario.utilities
    levels = dict(item.split("=") for item in row["blocking_alternative"].split(", "))
    alternative = space.index_of(levels)
    gains = U[:, alternative] - U[:, result.outcome]
    members = [result.scenario.parties.index(p) for p in ("russia", "ukraine")]
    assert gains[members].min() == pytest.approx(row["blocking_surplus"])  # the strongest


def test_the_brokers_own_stake_pulls_the_deal_toward_its_ideal_and_gets_it_blocked():
    neutral = run(compose("bargaining=fighting")).result(0)
    biased_cfg = compose("bargaining=fighting", "mediator_bias=1")
    biased = run(biased_cfg).result(0)
    k = neutral.scenario.territory_k
    line = {r: float(r.scenario.space.grid_positions[r.outcome, k]) for r in (neutral, biased)}
    us_ideal = 80.0  # brussels_2025, J
    assert abs(line[biased] - us_ideal) < abs(line[neutral] - us_ideal)
    row = stability_row(biased, stability_settings(biased_cfg), np.random.default_rng(0))
    assert row["blocking_coalitions"] > 0


# -- robustness over the uncertain inputs ------------------------------------------------


def test_with_no_uncertainty_robustness_is_the_nominal_verdict():
    spreads = [
        f"stability.{k}=0"
        for k in (
            "salience_spread",
            "capability_spread",
            "support_spread",
            "cost_spread",
            "belief_spread",
        )
    ]
    cfg = compose("bargaining=fighting", *spreads)
    result = run(cfg).result(0)
    structure = deal_structure(result.scenario, result.outcome)
    assert robustness(result, cfg.stability, np.random.default_rng(0), structure) == 1.0
    biased_cfg = compose("bargaining=fighting", *spreads, "mediator_bias=1")
    biased = run(biased_cfg).result(0)
    structure = deal_structure(biased.scenario, biased.outcome)
    assert robustness(biased, biased_cfg.stability, np.random.default_rng(0), structure) == 0.0


def test_more_uncertainty_about_costs_makes_the_deal_less_robust():
    shares = []
    for spread in (0.0, 0.3, 1.0):
        quiet = [
            f"stability.{k}=0"
            for k in ("salience_spread", "capability_spread", "support_spread", "belief_spread")
        ]
        cfg = compose(
            "bargaining=fighting",
            "stability.robustness_draws=256",
            f"stability.cost_spread={spread}",
            *quiet,
        )
        result = run(cfg).result(0)
        structure = deal_structure(result.scenario, result.outcome)
        shares.append(robustness(result, cfg.stability, np.random.default_rng(0), structure))
    assert shares[0] == 1.0 and shares[0] >= shares[1] >= shares[2] and shares[2] < 1.0


# -- the parts across the reference sweep (conf/sweep/stability.yaml) --------------------


@pytest.fixture(scope="module")
def stability_sweep(tmp_path_factory) -> pd.DataFrame:
    # the reference sweep as the thresholds were derived on it: the model and red lines
    # before issue 27 (docs/model.md, "Thresholds")
    run = run_sim(tmp_path_factory.mktemp("stability"), "-m", "sweep=stability", *BEFORE_27)
    assert run.returncode == 0, run.describe()
    frame = pd.read_parquet(run.sweep_dir("stability") / "results.parquet")
    return frame[frame["agreement"]]


def test_each_part_varies_and_no_two_say_the_same_thing(stability_sweep):
    parts = stability_sweep[list(STABILITY_PARTS)]
    assert len(parts) >= 150
    assert (parts.std() > 0).all(), parts.std()
    corr = parts.corr().abs().to_numpy().copy()
    np.fill_diagonal(corr, 0.0)
    assert corr.max() < 0.8, parts.corr().round(2)


def test_stable_is_unblocked_and_more_and_differs_from_it_where_documented(stability_sweep):
    deals = stability_sweep
    t = compose("sweep=stability", "bargaining=fighting").stability.thresholds
    unblocked = deals["blocking_coalitions"] == 0
    fragile = (
        (deals["robustness"] < t.robustness)
        | (deals["durability"] < t.durability)
        | (deals["commitment_ratio"] > t.commitment_ratio)
        | (deals["ir_margin"] < t.ir_margin)
        | (deals["pareto_gap"] > t.pareto_gap)
    )
    pd.testing.assert_series_equal(deals["stable"], unblocked & ~fragile, check_names=False)
    assert (unblocked & ~deals["stable"]).any()  # unblocked, yet not robust or not durable
    assert deals["stable"].any()


def test_a_neutral_mediator_leaves_fewer_deals_a_coalition_can_overturn(stability_sweep):
    brussels = stability_sweep[stability_sweep["scenario"] == "brussels_2025"]
    unblocked = (brussels["blocking_coalitions"] == 0).groupby(brussels["mediator_bias"]).mean()
    assert unblocked[0.0] > unblocked[1.0]


# -- thresholds from sensitivity -----------------------------------------------------------


def test_threshold_sensitivity_counts_the_deals_within_one_standard_error():
    # draws 16: at t = 0.5 the standard error is 0.125, at t = 0.75 it is ~0.108.
    values = np.array([0.40, 0.50, 0.62, 0.70, 0.90, 1.00])
    found = stability.threshold_sensitivity(values, np.array([0.5, 0.75]), 16)
    np.testing.assert_allclose(found, [3 / 6, 1 / 6])  # 0.40, 0.50, 0.62; 0.70
    assert stability.least_sensitive_threshold(values, np.array([0.5, 0.75]), 16) == 0.75


def test_among_equally_sensitive_thresholds_the_most_demanding_is_chosen():
    values = np.array([0.0, 1.0])
    candidates = np.array([0.5, 0.6, 0.7])
    assert stability.least_sensitive_threshold(values, candidates, 64) == 0.7


def test_no_issue_is_left_where_its_controllers_would_jointly_move_it():
    """plan_28_points: the USA (ideal 60) and Europe (ideal 20) control sanctions outright;
    both prefer any level between to escalation (0) and to full lifting (100), so those two
    levels are unsettled; territory, NATO and guarantees have opposed or sole controllers
    who cannot move them alone, and stay settled at every level."""
    scenario = build_scenario(compose("bargaining=fighting", "scenario=plan_28_points_2025"))
    settled = scenario.settled_by_controllers
    k = scenario.space.names.index("sanctions")
    issue = scenario.space.issues[k]
    for level, name in enumerate(issue.levels):
        at = scenario.space.grid[:, k] == level
        expected = name not in ("escalation_and_asset_seizure", "full_lifting")
        assert settled[at].all() == expected and settled[at].any() == expected, name
    brussels = build_scenario(compose("bargaining=fighting"))
    assert brussels.settled_by_controllers.all()


def test_the_neutral_text_is_one_its_controllers_would_not_move():
    cfg = compose("bargaining=fighting", "scenario=plan_28_points_2025")
    model = run(cfg)
    text = model.texts[0] if model.texts[0] >= 0 else model.result(0).outcome
    assert model.result(0).scenario.settled_by_controllers[text]
    assert model.draft_weights.tolist() == [0.0, 1.0, 1.0, 0.0]  # usa, russia, ukraine, europe


# -- linked issues (Keeney & Raiffa 1976: preferential dependence) -----------------------

LINKED = ("bargaining=fighting", "scenario=paris_2026")


@pytest.fixture(scope="module")
def paris():
    linked = build_scenario(compose(*LINKED))
    cfg = compose(*LINKED)
    cfg.parties.ukraine.links = []
    return linked, build_scenario(cfg)


def test_a_linked_pair_is_worth_its_table_value_and_unlisted_pairs_stay_additive(paris):
    linked, additive = paris
    space, u = linked.space, linked.parties.index("ukraine")
    w = linked.preferences.weights[u]
    k = {name: space.names.index(name) for name in ("territory", "nato", "guarantees")}
    for terr, nato, guarantee, value in [
        ("50", "bid_dropped_for_guarantees", "european_force", 0.44),
        ("71", "treaty_neutrality", "monitoring_only", 0.13),
    ]:
        o = space.index_of({"territory": terr, "nato": nato, "guarantees": guarantee})
        territory = linked.preferences.level_values[k["territory"]][u, space.grid[o, 0]]
        expected = w[k["territory"]] * territory + (w[k["nato"]] + w[k["guarantees"]]) * value
        assert linked.utilities[u, o] == pytest.approx(expected)
        assert linked.utilities[u, o] < additive.utilities[u, o]  # renouncing NATO costs more
    unlisted = ~np.isin(space.grid[:, k["guarantees"]], [2, 3]) | (space.grid[:, k["nato"]] < 2)
    np.testing.assert_allclose(linked.utilities[:, unlisted], additive.utilities[:, unlisted])
    others = np.arange(len(linked.parties)) != u
    np.testing.assert_array_equal(linked.utilities[others], additive.utilities[others])


def test_perturbed_utilities_with_unit_factors_are_the_linked_utilities(paris):
    linked, _ = paris
    prefs = linked.preferences
    ones = np.ones((2, *prefs.weights.shape))
    got = stability.perturbed_utilities(
        prefs.weights, prefs.level_values, linked.space.grid, ones, links=prefs.links
    )
    np.testing.assert_allclose(got[1], linked.utilities.T, atol=1e-12)


def test_the_status_quo_of_the_war_counts_a_linked_pair_at_its_table_value():
    overrides = (*LINKED, "issues.nato.default=treaty_neutrality",
                 "issues.guarantees.default=monitoring_only")  # fmt: skip
    linked = build_scenario(compose(*overrides))
    cfg = compose(*overrides)
    cfg.parties.ukraine.links = []
    additive = build_scenario(cfg)
    u = linked.parties.index("ukraine")
    w = linked.preferences.weights[u]
    n, g = (linked.space.names.index(name) for name in ("nato", "guarantees"))
    v_n = linked.preferences.level_values[n][u, 4]  # treaty_neutrality
    v_g = linked.preferences.level_values[g][u, 3]  # monitoring_only
    gain = (w[n] + w[g]) * 0.13 - w[n] * v_n - w[g] * v_g
    difference = linked.war_batna().status_quo_other - additive.war_batna().status_quo_other
    assert difference[u] == pytest.approx(gain) and gain < 0
    assert np.delete(difference, u) == pytest.approx(0.0)


def test_a_package_on_offer_cuts_the_linked_table_to_its_levels():
    scenario = build_scenario(compose(*LINKED, "guarantees_offer=european_force"))
    (link,) = scenario.preferences.links
    issue = scenario.space.issues[link.issues[1]]
    assert "monitoring_only" in issue.levels and "article_5" not in issue.levels
    assert link.values.shape == (5, issue.size)
    assert np.nansum(link.values) == pytest.approx(0.44 + 0.25 + 0.38 + 0.19 + 0.32 + 0.13)


def test_fast_rebuilding_and_cheap_war_make_the_default_deal_a_commitment_problem():
    calm = compose("bargaining=fighting")
    shifting = compose(
        "bargaining=fighting",
        "war.drift.capacity=0.05",
        "parties.russia.war_cost=0.001",
        "parties.ukraine.war_cost=0.002",
    )
    rows = [
        stability_row(run(cfg).result(0), stability_settings(cfg), np.random.default_rng(0))
        for cfg in (calm, shifting)
    ]
    assert rows[0]["commitment_ratio"] < 1 and rows[0]["powell_violations"] == 0
    assert rows[1]["commitment_ratio"] > 1 and rows[1]["powell_violations"] > 0
    assert rows[1]["durability"] < rows[0]["durability"] and not rows[1]["stable"]


# -- stability judged under the deal's own terms (stability.model=deal) ----------------------


def test_a_path_holds_only_if_no_month_of_it_renews_the_war():
    rate = 0.05  # Powell fires early and fades: some months of every path fail
    found = durability_of(dataclasses.replace(PARAMS, capacity_drift=rate))
    assert 0 < found["durability"] < 1 and found["durable_paths"] == 0.0
    calm = durability_of(PARAMS)
    assert calm["durable_paths"] == calm["durability"] == 1.0


def test_the_deciding_part_is_the_one_furthest_outside_its_threshold():
    t = stability.Thresholds()
    row = {"ir_margin": 0.1, "pareto_gap": 0.0, "blocking_coalitions": 0, "robustness": 0.5,
           "durability": 0.1, "commitment_ratio": 0.2}  # fmt: skip
    parts = stability.StabilityModel.deal.parts
    # robustness 0.45 short of 0.95 (0.47 of it), durability 0.4 short of 0.5 (0.8 of it)
    assert stability.deciding_part(row, t, parts) == "durability"
    assert stability.deciding_part({**row, "durability": 0.9}, t, parts) == "robustness"
    blocked = {**row, "blocking_coalitions": 2}
    assert stability.deciding_part(blocked, t, parts) == "blocking_coalitions"
    fine = {**row, "robustness": 1.0, "durability": 1.0}
    assert stability.deciding_part(fine, t, parts) == ""
    irrational = {**fine, "ir_margin": -0.2}
    assert stability.deciding_part(irrational, t, parts) == ""  # a check, not a part
    old = stability.StabilityModel.mechanisms.parts
    assert stability.deciding_part(irrational, t, old) == "ir_margin"
    committed = {**fine, "commitment_ratio": 2.0}  # Powell's test is inside durability's
    assert stability.deciding_part(committed, t, parts) == ""
    assert stability.deciding_part(committed, t, old) == "commitment_ratio"
    assert "commitment_ratio" not in parts

    # what `stability_rows` passes under `deal`: no commitment ratio in `stable`
    assert stability.is_stable(np.inf, -np.inf, 0, 1.0, 1.0, t, np.nan)
    assert not stability.is_stable(np.inf, -np.inf, 0, 1.0, 1.0, t, 2.0)


def test_robustness_under_the_deals_guarantee_is_at_least_that_under_the_talks():
    from sim.experiment.assessment import robustness_batch, robustness_draws

    cfg = compose("bargaining=fighting", "stability.robustness_draws=128")
    signed = run(cfg).result(0)
    scenario = signed.scenario
    k = scenario.guarantee_issue
    levels = scenario.space.grid[signed.outcome].copy()
    levels[k] = int(np.argmax(scenario.guarantee_force))  # the strongest guarantee
    backed = int(np.flatnonzero((scenario.space.grid == levels).all(axis=1))[0])
    result = dataclasses.replace(signed, outcome=backed)
    assert scenario.guarantee_force[scenario.guarantee_level(result.outcome)] > 0
    assert scenario.guarantee_force[scenario.guarantee_level()] == 0  # none in the talks
    structure = [deal_structure(scenario, result.outcome)]
    drawn = [robustness_draws(result, stability_settings(cfg), np.random.default_rng(0))]
    talks = robustness_batch([result], drawn, structure)[0]
    deal = robustness_batch([result], drawn, structure, under_deal=True)[0]
    assert deal >= talks and deal > 0
