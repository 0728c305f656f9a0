"""Stability at batch speed (issue 13, item 2): the replications of a batch go through the
robustness draws, the coalition checks and the durability paths at once, with the values
each replication had alone (pinned from the per-replication implementation, commit
3390983), and the shortcuts that make it fast (the block bound, one party's own value of
war) are exact."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core import stability, war
from sim.core.preferences import TOLERANCE
from sim.experiment.assessment import deal_structure
from sim.experiment.build import build_scenario
from sim.experiment.compiler import compile_job
from sim.experiment.draws import replication_seeds
from sim.experiment.jobs import run_replications
from sim.experiment.replication import negotiate
from tests.conftest import BEFORE_27, SIGNS, compose_config

# Rows 0-2 of each configuration, computed one replication at a time before the batch.
BEFORE = {
    (): {
        "robustness": [0.734375, 0.75, 0.703125],
        "commitment_ratio": [0.16073509342641099] * 3,
        "max_power_shift": [0.0662955374655374] * 3,
        "ir_margin": [0.07646958048174834] * 3,
    },
    (
        "uncertainty.us_support.dist=uniform",
        "uncertainty.us_support.scale=0.1",
        "uncertainty.russia_capacity.dist=lognormal",
        "uncertainty.russia_capacity.scale=0.3",
        "uncertainty.war_costs.dist=lognormal",
        "uncertainty.war_costs.scale=0.2",
        "uncertainty.salience.dist=lognormal",
        "uncertainty.salience.scale=0.1",
        "uncertainty.europe_support.dist=normal",
        "uncertainty.europe_support.scale=0.1",
        "uncertainty.ukraine_capacity.dist=uniform",
        "uncertainty.ukraine_capacity.scale=0.05",
        "uncertainty.parties.usa.capability.dist=lognormal",
        "uncertainty.parties.usa.capability.scale=0.3",
        "uncertainty.parties.russia.war_cost.dist=lognormal",
        "uncertainty.parties.russia.war_cost.scale=0.3",
    ): {
        "robustness": [0.609375, 0.796875, 0.75],
        "max_power_shift": [0.06901582190185829, 0.057672113908754374, 0.07215038027357518],
        "commitment_ratio": [0.15948919456040056, 0.13393052725020135, 0.16142134655756626],
        "ir_margin": [0.06844222925902188, 0.08993001588740362, 0.08954895476331592],
    },
    ("scenario=paris_2026",): {  # linked issues
        "robustness": [0.890625, 0.84375, 0.890625],
        "commitment_ratio": [0.16100938712858182] * 3,
    },
    ("bargaining=calendar",): {  # renewed war in some months
        "robustness": [0.984375, 1.0, 0.984375],
        "durability": [0.9887152777777778, 0.9913194444444444, 0.9895833333333334],
        "renewed_war_share": [0.011284722222222222, 0.008680555555555556, 0.010416666666666666],
        "ir_margin": [0.14521560354995355, 0.14543137789183225, 0.14522174887734318],
    },
}


@pytest.mark.parametrize("overrides", list(BEFORE), ids=["default", "draws", "links", "calendar"])
def test_batched_stability_gives_the_values_of_one_replication_at_a_time(overrides):
    rows, _ = run_replications(compose_config([*BEFORE_27, *overrides, "replications=3"]))
    for column, values in BEFORE[overrides].items():
        # equal to the last bits on one numpy; 1e-12 leaves room for another numpy's
        # summation order (numpy 2.5 moved ir_margin by 1e-16)
        assert [row[column] for row in rows] == pytest.approx(values, rel=1e-12, abs=1e-15), column


def test_a_batch_of_deals_and_each_deal_alone_agree_column_for_column():
    """Replications with different draws (hence BATNAs, lines, weights) in one batch, and the
    same replications one per batch: every stability column is equal, bit for bit."""
    cfg = compose_config(
        [
            "uncertainty.salience.dist=lognormal",
            "uncertainty.salience.scale=0.2",
            "uncertainty.us_support.dist=uniform",
            "uncertainty.us_support.scale=0.3",
            "bargaining=calendar",
            *SIGNS,
        ]
    )
    job, seeds = compile_job(cfg), replication_seeds(5, 6)
    together, _ = negotiate(job, seeds)
    alone, _ = negotiate(job, seeds, batch_size=1)  # the same seeds: reusable
    assert len({row["outcome"] for row in together}) > 1  # several deals in one batch
    for a, b in zip(together, alone, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key]), key


def test_utilities_are_linear_in_the_weights_links_and_audience_costs_included():
    scenario = build_scenario(compose_config(["scenario=paris_2026"]))
    prefs = scenario.preferences
    assert prefs.links
    C = prefs.coefficients(scenario.space.grid)
    np.testing.assert_allclose(np.einsum("pok,pk->po", C, prefs.weights), scenario.utilities)
    rng = np.random.default_rng(0)
    factors = np.exp(rng.normal(0.0, 0.5, (3, *prefs.weights.shape)))
    assert prefs.audience_costs  # Russia's commitment (docs/calibration.md)
    drawn = stability.perturbed_utilities(
        prefs.weights,
        prefs.level_values,
        scenario.space.grid,
        factors,
        links=prefs.links,
        penalty=prefs.audience_penalty(scenario.space.grid),
    )  # (draws, outcomes, parties)
    weights = stability.perturbed_weights(prefs.weights, factors)
    np.testing.assert_allclose(np.einsum("pok,dpk->dop", C, weights), drawn, atol=1e-12)


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1), st.floats(0.05, 0.8))
def test_no_outcome_outside_the_bound_blocks_under_weights_inside_the_box(seed, spread):
    """`may_block` is sound: draw weights within [low, high] (the box the bound is taken
    over), and every outcome some coalition would block with is among those it keeps."""
    scenario, outcome = _brussels_deal()
    prefs = scenario.preferences
    *_, options, members = deal_structure(scenario, outcome)
    rng = np.random.default_rng(seed)
    factors = np.exp(rng.normal(0.0, spread, (16, *prefs.weights.shape)))
    weights = stability.perturbed_weights(prefs.weights, factors)
    kept = stability.may_block(
        prefs.coefficients(scenario.space.grid),
        outcome,
        weights.min(axis=0),
        weights.max(axis=0),
        options,
        members,
    )
    U = stability.perturbed_utilities(
        prefs.weights, prefs.level_values, scenario.space.grid, factors, parties_first=True
    )
    gains = U - U[:, [outcome], :]  # (parties, outcomes, draws)
    for c in np.flatnonzero(options.any(axis=0)):
        can = options[:, c]
        blocks = (gains[members[c]].min(axis=0) > TOLERANCE).any(axis=1) & can
        assert not (blocks & ~kept).any()
    assert kept.sum() < options.any(axis=1).sum()  # and it prunes


@functools.cache
def _brussels_deal():
    cfg = compose_config(list(SIGNS))
    job = compile_job(cfg)
    rows, _ = negotiate(job, replication_seeds(0, 1))
    return job.scenario, rows[0]["outcome"]


def test_own_values_are_the_diagonal_of_what_each_party_sees():
    scenario = build_scenario(compose_config())
    batna = scenario.war_batna()
    assert batna.aggressor_other is not None  # the lottery over the other issues too
    rng = np.random.default_rng(1)
    lines = rng.uniform(0, 100, 50)
    targets = rng.uniform(-10, 110, (50, len(scenario.parties)))
    seen = batna.perceived(lines, targets)
    np.testing.assert_array_equal(
        war.own_values(batna, lines, targets), np.diagonal(seen, axis1=1, axis2=2)
    )
    x = rng.uniform(0, 100, (7, len(scenario.parties)))
    xp, fp = batna.territory_positions, batna.territory_values
    np.testing.assert_array_equal(
        war.interp_own(x, xp, fp), np.diagonal(war.interp_rows(x, xp, fp), axis1=-2, axis2=-1)
    )
    pair = [0, 2]
    np.testing.assert_array_equal(
        war.own_values(batna.of(pair), lines, targets[:, pair]),
        war.own_values(batna, lines, targets)[:, pair],
    )


def test_joined_war_parameters_drift_as_each_replication_alone():
    base = build_scenario(compose_config()).war_params
    params = [
        dataclasses.replace(
            base,
            aggressor_capacity=base.aggressor_capacity * f,
            supports=base.supports * f,
            capacity_drift=0.01 * f,
            support_drift=np.full(base.supports.size, -0.01 * f),
        )
        for f in (0.5, 1.0, 1.5)
    ]
    months = np.arange(1.0, 13.0)
    capacity, supports = war.drifted(war.join_params(params), months)
    for j, p in enumerate(params):
        alone_capacity, alone_supports = war.drifted(p, months)
        np.testing.assert_array_equal(capacity[j], alone_capacity)
        np.testing.assert_array_equal(supports[j], alone_supports)
        spread = war.spread(war.join_params(params), 1)
        np.testing.assert_allclose(
            war.share_at(spread, capacity, supports)[j],
            war.share_at(p, alone_capacity, alone_supports),
            rtol=1e-15,
        )


def test_the_commitment_ratio_of_an_array_is_each_ratio():
    shift = np.array([[0.0, 0.1, 0.3], [0.2, 0.0, 0.05]])
    costs_a, costs_b = np.array([[0.5], [0.0]]), np.array([[0.5], [0.0]])
    found = stability.commitment_ratio(shift, 0.9, costs_a, costs_b)
    assert found[0].tolist() == pytest.approx([0.0, 0.9, 2.7])
    assert found[1].tolist() == [np.inf, 0.0, np.inf]  # a costless war: any loss is worth it
    assert stability.commitment_ratio(0.1, 0.9, 0.5, 0.5) == pytest.approx(0.9)
