"""Red lines as public commitments (`audience_cost`; docs/model.md, "Public commitments"):
signing across one costs its author a fixed utility (Fearon 1994) instead of being
impossible; the zone of agreement, the stability draws and the errors follow."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.core import stability
from sim.core.solutions import within_batna
from sim.engine.model import NegotiationBatch
from sim.experiment.build import build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.validation import ConfigError
from tests.helpers_model import fearon_config


def duel(audience_cost: float | None):
    """Fearon's duel, p = 0.6, c = 0.05 and 0.1 (every split in [55, 70] beats war), b
    publicly committed to nothing above 55 for a."""
    cfg = fearon_config(p=0.6, cost_a=0.05, cost_b=0.1)
    cfg.bargaining, cfg.mediator_bias = "fighting", 0.0
    pref = cfg.parties.b.preferences.territory
    pref.red_line_above, pref.audience_cost = 55.0, audience_cost
    return cfg


def zone(cfg) -> np.ndarray:
    """The outcomes (= a's share x 100 here) worth its war BATNA to both, no red line crossed."""
    scenario = build_scenario(cfg)
    batna = scenario.war_batna().value(50.0, 60.0)
    inside = within_batna(scenario.utilities, batna).all(axis=0) & scenario.acceptable
    return np.flatnonzero(inside)


@pytest.mark.parametrize("cost", [0.0, 0.05, 0.1])
def test_a_commitment_pulls_the_zone_in_by_its_audience_cost(cost):
    found = zone(duel(cost))
    assert found.min() == 55 and found.max() == round(70 - 100 * cost)


def test_a_commitment_dearer_than_the_surplus_is_a_veto_and_a_veto_is_one():
    assert zone(duel(0.3)).tolist() == [55] == zone(duel(None)).tolist()


def test_the_cost_is_taken_from_its_author_alone_where_the_commitment_is_crossed():
    priced = build_scenario(duel(0.05)).utilities
    free = build_scenario(duel(0.0)).utilities
    np.testing.assert_allclose(priced[0], free[0])
    np.testing.assert_allclose(priced[1, :56], free[1, :56])
    np.testing.assert_allclose(priced[1, 56:], free[1, 56:] - 0.05)


def test_the_deal_moves_toward_the_commitment_as_its_cost_grows():
    deals = []
    for cost in (0.0, 0.05, 0.1):
        cfg = duel(cost)
        scenario = build_scenario(cfg)
        settings = negotiation_settings(cfg, collect_trace=False)
        (result,) = NegotiationBatch([scenario], settings, rngs=[0]).run().results()
        deals.append(result.outcome)
    assert deals == sorted(deals, reverse=True) and deals[0] > deals[-1] >= 55


def test_stability_draws_and_coefficients_carry_the_cost_whatever_the_weights():
    status = {"kind": "ordinal", "levels": {"low": 0.0, "high": 100.0}}
    wants = {name: {"preferences": {"status": {"ideal": ideal, "salience": 0.5}}}
             for name, ideal in (("a", 100.0), ("b", 0.0))}  # fmt: skip
    cfg = OmegaConf.merge(duel(0.05), {"issues": {"status": status}, "parties": wants})
    scenario = build_scenario(cfg)
    prefs, grid = scenario.preferences, scenario.space.grid
    weights = prefs.weights
    by_coefficients = np.einsum("pok,pk->po", prefs.coefficients(grid), weights)
    np.testing.assert_allclose(by_coefficients, scenario.utilities)
    factors = np.exp(np.random.default_rng(0).normal(0, 0.3, (5, *weights.shape)))
    drawn = stability.perturbed_utilities(
        weights, prefs.level_values, grid, factors, penalty=prefs.audience_penalty(grid)
    )  # (draws, outcomes, parties)
    w = stability.perturbed_weights(weights, factors)
    expected = np.einsum("pok,dpk->dop", prefs.coefficients(grid), w)
    np.testing.assert_allclose(drawn, expected)


@pytest.mark.parametrize(
    ("above", "cost", "message"),
    [
        (
            55.0,
            -0.1,
            "parties.b.preferences.territory.audience_cost: got -0.1; allowed: a number >= 0",
        ),
        (
            None,
            0.1,
            "parties.b.preferences.territory.audience_cost: got 0.1; allowed: null, or a red",
        ),
    ],
)
def test_bad_audience_costs_are_named(above, cost, message):
    cfg = duel(cost)
    cfg.parties.b.preferences.territory.red_line_above = above
    with pytest.raises(ConfigError, match=message):
        build_scenario(cfg)
