"""Self-enforcing settlements (`enforcement=self_enforcing`; docs/model.md, "Self-enforcing
settlements"): the closed forms of the chased target and of Powell's (2006) boundary in
Fearon's duel, the comparative statics of the self-enforcing set, guarantees and the
deal's own terms, the engine drafting only self-enforcing deals, and the previous
behaviour (`assumed`) by name."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.core import enforcement, war
from sim.engine.model import NegotiationBatch
from sim.experiment.build import build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.validation import ConfigError
from tests.helpers_model import fearon_config

FORESIGHT = 24


def duel(drift: float = 0.0, costs: tuple[float, float] = (0.05, 0.05), p: float = 0.5, **war_):
    """Fearon's duel (`fearon_config`: BATNAs p - c, the line at the balance in a month, no
    discounting), the aggressor's capacity growing by `drift` a month in logs."""
    cfg = fearon_config(p=p, cost_a=costs[0], cost_b=costs[1])
    cfg.enforcement = "self_enforcing"
    cfg.foresight_months = FORESIGHT
    cfg.war.drift.capacity = drift
    for key, value in war_.items():
        cfg.war[key] = value
    return cfg


def shares(p: float, drift: float, months: np.ndarray) -> np.ndarray:
    """The aggressor's share of strength after `months` of log growth `drift`."""
    a = p * np.exp(drift * months)
    return a / (a + 1.0 - p)


def self_enforcing_positions(cfg) -> np.ndarray:
    scenario = build_scenario(cfg)
    found = scenario.anticipation(scenario.war_params, FORESIGHT)
    return scenario.space.issues[0].positions[found.self_enforcing]


# -- the chased target --------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 1.0])
def test_chasing_a_moving_target_ends_where_chasing_its_weighted_mean_does(rate):
    targets = np.array([40.0, 45.0, 52.0, 60.0, 61.0, 70.0])
    line = 30.0
    for target in targets:  # month by month
        line += rate * (target - line)
    (chased,) = enforcement.chased_targets(targets, rate, targets.size)
    assert war.expected_line(30.0, chased, rate, targets.size) == pytest.approx(line)
    assert enforcement.chase_weights(rate, targets.size).sum() == pytest.approx(1.0)


def test_constant_targets_chase_themselves_and_windows_slide():
    np.testing.assert_allclose(enforcement.chased_targets(np.full(10, 55.0), 0.1, 4), 55.0)
    ramp = np.arange(10.0)
    out = enforcement.chased_targets(ramp, 1.0, 3)  # a line that jumps: the window's last
    np.testing.assert_allclose(out, ramp[2:])
    with pytest.raises(ValueError, match="targets: got 2 months; allowed: at least"):
        enforcement.chased_targets(np.zeros(2), 0.1, 3)


# -- Fearon and Powell in the duel ---------------------------------------------------------
def test_without_a_shift_the_self_enforcing_set_is_fearons_range():
    found = self_enforcing_positions(duel(p=0.6, costs=(0.05, 0.1)))
    assert found.min() == pytest.approx(55.0)  # p - c_A
    assert found.max() == pytest.approx(70.0)  # p + c_D


@pytest.mark.parametrize("drift", [0.005, 0.01, 0.02])
def test_powells_condition_is_the_exact_boundary_of_the_self_enforcing_set(drift):
    costs = (0.05, 0.05)
    p_path = shares(0.5, drift, np.arange(FORESIGHT + 1))
    low, high = enforcement.self_enforcing_range(p_path, *costs)
    found = self_enforcing_positions(duel(drift, costs))
    positions = np.arange(0.0, 101.0)
    inside = (positions >= 100 * low - 1e-9) & (positions <= 100 * high + 1e-9)
    np.testing.assert_array_equal(np.isin(positions, found), inside)
    shift = p_path.max() - p_path.min()
    assert (found.size > 0) == (shift <= sum(costs))  # Powell: shift against total cost


def test_the_set_shrinks_as_the_shift_speeds_up_and_grows_with_the_costs_of_war():
    sizes = [self_enforcing_positions(duel(d)).size for d in (0.0, 0.005, 0.01, 0.02)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    by_cost = [self_enforcing_positions(duel(0.01, (c, c))).size for c in (0.05, 0.1, 0.2)]
    assert by_cost == sorted(by_cost) and by_cost[0] < by_cost[-1]


def test_a_broken_deal_is_worth_peace_until_the_renewal_then_war_and_none_if_at_once():
    deal = np.array([[0.7, 0.2, 0.5], [0.3, 0.8, 0.5]])  # (parties, outcomes)
    renewed = np.zeros((3, 2, 3))
    renewed[2, 0, 1] = 0.5  # party 0 prefers war over outcome 1 from month 2 on
    renewed[:, 1, 2] = 0.6  # party 1 prefers war over outcome 2 at once
    first = enforcement.first_renewal(deal, renewed, (0, 1), 1e-9)
    assert first.tolist() == [-1, 2, 0]
    value = enforcement.continuation(deal, renewed, first, np.arange(3), 0.9)
    np.testing.assert_allclose(value[:, 0], deal[:, 0])
    np.testing.assert_allclose(value[:, 1], (1 - 0.81) * deal[:, 1] + 0.81 * renewed[2, :, 1])
    assert np.isneginf(value[:, 2]).all()


# -- guarantees and the deal's own terms -----------------------------------------------------
def with_guarantee(cfg, shifts: dict | None = None):
    """A third party `c` that would fight for the `force` level of a `guarantees` issue
    (status quo `none`) with certainty; `shifts` per level of that issue."""
    issue = {"kind": "categorical", "categories": ["none", "force"], "default": "none",
             "control": ["a", "b"], "shifts": shifts or {}}  # fmt: skip
    c_wants = {"salience": 1.0, "table": {"none": 0.0, "force": 1.0}}
    patch = {
        "issues": {"guarantees": issue},
        "parties": {"c": {"capability": 1.0, "preferences": {"guarantees": c_wants}}},
        "stability": {"guarantees_issue": "guarantees"},
        "war": {"guarantees": {"cost_per_force": 2.0, "levels": {"force": {"force": {"c": 1.0}}}}},
    }
    return OmegaConf.merge(cfg, patch)


def test_a_guarantee_whose_force_offsets_the_shift_restores_agreement():
    cfg = with_guarantee(duel(0.02))
    scenario = build_scenario(cfg)
    found = scenario.anticipation(scenario.war_params, FORESIGHT)
    level = scenario.space.grid[:, 1]
    assert not found.self_enforcing[level == 0].any()  # no deal holds without it
    assert found.self_enforcing[level == 1].any()  # the aggressor's cost tripled: some do
    settings = negotiation_settings(cfg, collect_trace=False)
    (result,) = NegotiationBatch([scenario], settings, rngs=[0]).run().results()
    assert result.agreement and result.self_enforcing
    assert scenario.space.grid[result.outcome, 1] == 1


def test_a_term_that_weakens_the_defender_shrinks_the_set_by_its_shift():
    weakened = build_scenario(with_guarantee(duel(), {"force": {"b": -0.1}}))
    p_after = 0.5 / (0.5 + 0.4)
    np.testing.assert_allclose(
        weakened.balance_after(weakened.war_params, np.zeros(1), np.array([0.0, -0.1, 0.0])),
        p_after,
    )
    found = weakened.anticipation(weakened.war_params, FORESIGHT)
    grid, positions = weakened.space.grid, weakened.space.issues[0].positions
    at_force = positions[grid[found.self_enforcing & (grid[:, 1] == 1), 0]]
    # the guarantee triples the aggressor's cost (0.15) but the balance moves to 0.556
    assert at_force.min() == pytest.approx(np.ceil(100 * (p_after - 0.15)))
    assert at_force.max() == pytest.approx(np.floor(100 * (p_after + 0.05)))


# -- the engine -------------------------------------------------------------------------------
def run_duel(cfg, n: int = 4):
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    return NegotiationBatch([scenario] * n, settings, rngs=list(range(n))).run().results()


@pytest.mark.parametrize("bargaining", ["fighting", "calendar"])
def test_with_no_shift_the_deal_is_in_fearons_range_and_bargaining_over_it_unchanged(bargaining):
    cfg = duel(p=0.6, costs=(0.05, 0.1))
    cfg.bargaining, cfg.mediator_bias = bargaining, 0.0
    enforced = run_duel(cfg)
    cfg.enforcement = "assumed"
    assumed = run_duel(cfg)
    assert all(r.self_enforcing for r in enforced)
    assert all(55 <= r.outcome <= 70 for r in enforced)  # outcome index = position here
    assert all(r.self_enforcing is None and r.anticipation is None for r in assumed)
    if bargaining == "fighting":  # the zone and the Nash product are the same
        assert [r.outcome for r in enforced] == [r.outcome for r in assumed]
    else:  # a tactic concedes from the best it can hold without a fight: 70, not 100
        assert [r.outcome for r in enforced] != [r.outcome for r in assumed]


def test_the_mediator_drafts_nothing_when_no_deal_holds_and_the_talks_end_without_one():
    results = run_duel(duel(0.02))  # the shift beats the costs of war: nothing holds
    assert not any(r.agreement for r in results)
    cfg = duel(0.02)
    cfg.enforcement = "assumed"  # the model before signs at once
    assert all(r.agreement for r in run_duel(cfg))


def test_a_side_that_expects_the_balance_to_move_its_way_values_waiting():
    horizon = 12
    cfg = duel(0.01, horizon_months=float(horizon))
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    batch = NegotiationBatch([scenario], settings, rngs=[0])
    batch.step()
    p_end = shares(0.5, 0.01, np.array([horizon - 1.0]))[0]  # the line jumps: the last month
    cost = 0.05 * horizon
    np.testing.assert_allclose(batch.batnas[0], [p_end - cost, 1 - p_end - cost])
    cfg.enforcement = "assumed"
    before = NegotiationBatch([scenario], negotiation_settings(cfg), rngs=[0])
    before.step()
    assert batch.batnas[0, 0] > before.batnas[0, 0]  # the gaining side asks more
    assert batch.batnas[0, 1] < before.batnas[0, 1]


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"force": {"z": 0.1}}, "issues.guarantees.shifts.force: got 'z'; allowed: a belligerent"),
        ({"most": {"a": 0.1}}, "issues.guarantees.shifts: got 'most'; allowed: a level in"),
        ({"force": {"a": float("nan")}}, "issues.guarantees.shifts.force.a: got nan; allowed:"),
    ],
)
def test_bad_shifts_are_named(patch, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build_scenario(with_guarantee(duel(), patch))


def test_a_foresight_out_of_range_is_named():
    cfg = duel()
    cfg.foresight_months = 0
    with pytest.raises(ConfigError, match=r"foresight_months: got 0; allowed: an integer in \[1"):
        build_scenario(cfg)


# -- talks that go on ---------------------------------------------------------------------------
def drifting_duel(staying: str, drift: float = 0.02):
    """The duel at p = 0.5 (c = 0.05 each) with a publicly vetoing anything below 60: no zone
    at the opening; the balance drifting a's way opens one once p >= 0.55 (month 10.03 at
    0.02 a month), with one month of foresight so that a deal then holds."""
    cfg = fearon_config(p=0.5, cost_a=0.05, cost_b=0.05, max_rounds=40)
    cfg.bargaining, cfg.mediator_bias = "fighting", 0.0
    cfg.enforcement, cfg.foresight_months, cfg.staying = "self_enforcing", 1, staying
    cfg.war.drift.capacity = drift
    cfg.parties.a.preferences.territory.red_line_below = 60.0
    return cfg


def test_a_hopeful_party_stays_while_the_zone_is_expected_to_open_and_signs_when_it_does():
    (patient,) = run_duel(drifting_duel("patience"), n=1)
    assert patient.reason == "breakdown" and patient.round == 3
    (hopeful,) = run_duel(drifting_duel("hopeful"), n=1)
    opens = np.log(0.55 / 0.45) / 0.02
    assert hopeful.agreement and hopeful.outcome >= 60 and hopeful.walkouts == ()
    assert opens <= hopeful.months <= opens + 4  # the table refreshed within a point's drift


def test_a_hopeful_party_leaves_when_no_zone_can_open_before_its_deadline():
    (still,) = run_duel(drifting_duel("hopeful", drift=0.0), n=1)
    assert still.reason == "breakdown" and still.round == 3  # nothing will change: it goes
    cfg = drifting_duel("hopeful")
    cfg.max_rounds = 8  # the zone would open after the horizon
    (short,) = run_duel(cfg, n=1)
    assert short.reason == "breakdown" and short.round == 3


def test_the_deals_are_revalued_on_the_path_from_the_month_they_would_be_signed():
    scenario = build_scenario(duel(0.01))
    start = 10.0
    found = scenario.anticipation(scenario.war_params, FORESIGHT, start)
    p_path = shares(0.5, 0.01, start + np.arange(FORESIGHT + 1))
    low, high = enforcement.self_enforcing_range(p_path, 0.05, 0.05)
    positions = scenario.space.issues[0].positions[found.self_enforcing]
    assert positions.min() == np.ceil(100 * low - 1e-9) and positions.max() == np.floor(
        100 * high + 1e-9
    )


def test_next_preferred_counts_the_months_until_war_is_preferred_from_each_month():
    prefers = np.array([[False, True], [True, False], [False, False], [True, False]])
    np.testing.assert_array_equal(
        enforcement.next_preferred(prefers), [[1, 0], [1, 4], [3, 4], [3, 4]]
    )
    first = enforcement.first_renewal(np.zeros((1, 2)), prefers[:, None, :] * 1.0, (0,), 1e-9)
    np.testing.assert_array_equal(first, [1, 0])  # the same month from month 0


@pytest.mark.parametrize(
    "overrides", [[], ["scenario=plan_28_points_2025"], ["scenario=dayton_1995"]]
)
def test_several_starts_at_once_give_each_start_s_own_anticipation_to_the_bit(overrides):
    from tests.conftest import compose_config

    scenario = build_scenario(compose_config(overrides))
    starts = [7.0, 0.0, 3.0, 4.0, 40.0, 2.5, 0.5]  # out of order, a gap, half months
    together = scenario.anticipations(scenario.war_params, 18, starts)
    for start, found in zip(starts, together, strict=True):
        alone = scenario.anticipation(scenario.war_params, 18, start)
        np.testing.assert_array_equal(found.first, alone.first)
        np.testing.assert_array_equal(found.values, alone.values)
        np.testing.assert_array_equal(found.renewed, alone.renewed)
        np.testing.assert_array_equal(found.months, np.arange(19))


def test_a_later_start_sees_the_same_path_shifted():
    scenario = build_scenario(duel(0.01))
    early, late = scenario.anticipations(scenario.war_params, FORESIGHT, [3.0, 5.0])
    np.testing.assert_array_equal(early.renewed[:, 2:], late.renewed[:, :-2])


def test_a_batch_keeps_one_replication_s_looks_ahead_at_a_time():
    """A hopeful party's looks ahead are held for one input set at a time (a batch's memory
    does not grow with every replication's months ahead); the rows do not depend on it."""
    from tests.conftest import compose_config

    cfg = compose_config(["staying=hopeful"])
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    wp = scenario.war_params
    params = [
        dataclasses.replace(wp, aggressor_capacity=wp.aggressor_capacity * f)
        for f in (0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
    ]
    batch = NegotiationBatch([scenario] * 6, settings, params, [1, 2, 3, 4, 5, 6])
    looked = []
    values_ahead = batch._values_ahead

    def spy(*args, **kwargs):
        found = values_ahead(*args, **kwargs)
        looked.append({key[:-1] for key in batch._looked_ahead})
        return found

    batch._values_ahead = spy
    batch.run()
    assert looked and max(len(keys) for keys in looked) == 1
    assert len(set().union(*looked)) > 1  # several replications looked ahead


@pytest.mark.parametrize("overrides", [[], ["scenario=dayton_1995"], ["scenario=paris_2026"]])
def test_renewal_signatures_are_the_unique_rows_of_the_levels_that_set_renewed_war(overrides):
    from tests.conftest import compose_config

    scenario = build_scenario(compose_config(overrides))
    signatures, which, examples = scenario.renewal_signatures
    grid, k = scenario.space.grid, scenario.territory_k
    columns = [j for j in range(grid.shape[1]) if j != k and (
        j == scenario.guarantee_issue
        or (scenario.level_shifts is not None and np.any(scenario.level_shifts[j]))
    )]  # fmt: skip
    rows, inverse = np.unique(grid[:, columns], axis=0, return_inverse=True)
    np.testing.assert_array_equal(signatures, rows)
    np.testing.assert_array_equal(which, inverse.reshape(-1))
    np.testing.assert_array_equal(grid[list(examples)][:, columns], rows)


def test_a_subset_of_deals_gets_their_own_columns_of_every_deal_s_paths():
    from tests.conftest import compose_config

    scenario = build_scenario(compose_config([]))
    chosen = np.flatnonzero((~scenario.red_line_crossed).all(axis=0))[::-1]  # any order
    assert 0 < chosen.size < scenario.space.size
    starts = [0.0, 2.0, 9.0]
    every = scenario.anticipations(scenario.war_params, 18, starts)
    some = scenario.anticipations(scenario.war_params, 18, starts, chosen)
    for full, part in zip(every, some, strict=True):
        np.testing.assert_array_equal(part.values, full.values[:, chosen])
        np.testing.assert_array_equal(part.first, full.first[chosen])
        assert part.renewal_month(0) == full.renewal_month(int(chosen[0]))


def test_no_deal_to_value_gives_empty_paths_for_every_start():
    from tests.conftest import compose_config

    scenario = build_scenario(compose_config([]))
    none = np.array([], dtype=np.int64)
    found = scenario.anticipations(scenario.war_params, 12, [0.0, 3.0], none)
    assert len(found) == 2
    assert found[1].values.shape == (len(scenario.parties), 0) and found[1].first.size == 0


def test_chase_weights_are_kept_per_rate_and_horizon_and_read_only():
    first = enforcement.chase_weights(0.07, 24)
    assert enforcement.chase_weights(0.07, 24) is first  # every path of a sweep asks
    assert not first.flags.writeable
    lags = np.arange(23, -1, -1, dtype=np.float64)
    kept = 1.0 - 0.07
    assert np.array_equal(first, 0.07 * kept**lags / (1.0 - kept**24))
    assert enforcement.chase_weights(0.0, 4).tolist() == [0.25] * 4
