"""Costs of war in an anchored unit (docs/model.md, "Costs of war in an anchored unit"): a
party's burden (the share of a year's output its war takes, a sourced figure) over the
stake's worth in years of output, `c = burden / (12 S)`; Fearon's range follows it."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.solutions import within_batna
from sim.core.war import monthly_war_cost
from sim.experiment.aliases import prepare
from sim.experiment.build import build_scenario
from sim.experiment.compiler import flat_parameters
from sim.experiment.schema import plain
from sim.experiment.validation import ConfigError, war_cost_of
from tests.conftest import compose_config
from tests.helpers_model import fearon_config


def test_a_month_costs_the_burden_over_twelve_times_the_stake_in_years():
    assert monthly_war_cost(0.36, 3.0) == pytest.approx(0.01)
    assert monthly_war_cost(0.0, 3.0) == 0.0
    # a stake worth twice as many years halves the monthly cost
    assert monthly_war_cost(0.2, 4.0) == pytest.approx(monthly_war_cost(0.2, 2.0) / 2)


def test_the_default_scenario_costs_are_the_sourced_burdens_in_its_unit():
    scenario = build_scenario(compose_config())
    parties = list(scenario.parties)
    costs = dict(zip(parties, scenario.war_costs, strict=True))
    assert costs["russia"] == pytest.approx(0.059 / 36)  # SIPRI 2023, stake 3 years
    assert costs["ukraine"] == pytest.approx(0.37 / 36)
    assert costs["usa"] == pytest.approx(0.001)  # a J cost where no burden is given
    later = build_scenario(compose_config(["scenario=plan_28_points_2025"]))
    assert later.war_costs[list(later.parties).index("ukraine")] == pytest.approx(0.34 / 36)


def fearon_by_burden(stake_years: float):
    """Fearon's duel (p = 0.6) with b's cost given as a burden of 0.6 of its output a year."""
    cfg = fearon_config(p=0.6, cost_a=0.05, cost_b=0.0)
    cfg.parties.b.war_burden = 0.6
    cfg.war.stake_years = stake_years
    return cfg


@pytest.mark.parametrize("stake_years", [0.5, 1.0, 2.0])
def test_fearon_range_top_is_p_plus_the_anchored_cost(stake_years):
    """One month of war (the duel's horizon): b takes any split up to p + c_b, with
    c_b = 0.6 / (12 S)."""
    scenario = build_scenario(fearon_by_burden(stake_years))
    batna = scenario.war_batna().value(50.0, 60.0)
    inside = np.flatnonzero(within_batna(scenario.utilities, batna).all(axis=0))
    top = 60.0 + 100.0 * 0.6 / (12.0 * stake_years)
    assert inside.max() == np.floor(top + 1e-9)
    assert inside.min() == 55  # p - c_a, untouched


def test_a_stake_worth_more_years_makes_war_cheaper_and_each_side_harder():
    def war_values(stake_years: float) -> np.ndarray:
        scenario = build_scenario(compose_config([f"war.stake_years={stake_years}"]))
        return scenario.war_batna().value(50.0, 60.0)

    cheap, dear = war_values(6.0), war_values(1.5)  # parties: usa, russia, ukraine, europe
    assert (cheap[1:3] > dear[1:3]).all()  # the belligerents pay their burdens
    assert cheap[[0, 3]] == pytest.approx(dear[[0, 3]])  # the others their J costs


def test_the_config_keeps_what_was_given_and_rows_carry_the_cost():
    """The cost is read from the burden (`war_cost_of`), never written into the config:
    a job's hash is that of what the user gave."""
    cfg = compose_config()
    prepare(cfg)
    assert cfg.parties.ukraine.war_cost == 0.0 and cfg.parties.ukraine.war_burden == 0.37
    assert war_cost_of(cfg.parties.ukraine, cfg.war) == pytest.approx(0.37 / 36)
    columns = flat_parameters(plain(cfg))
    assert columns["parties.ukraine.war_cost"] == pytest.approx(0.37 / 36)
    assert columns["war.stake_years"] == 3.0


def test_a_war_cost_can_replace_the_burden_when_the_burden_is_nulled():
    cfg = compose_config(["parties.ukraine.war_burden=null", "parties.ukraine.war_cost=0.02"])
    scenario = build_scenario(cfg)
    assert scenario.war_costs[list(scenario.parties).index("ukraine")] == 0.02


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        (["parties.ukraine.war_cost=0.02"], "parties.ukraine.war_cost", "war_burden=null"),
        (["parties.ukraine.war_burden=1.5"], "parties.ukraine.war_burden", "[0.0, 1.0]"),
        (["parties.ukraine.war_burden=-0.1"], "parties.ukraine.war_burden", "[0.0, 1.0]"),
        (["war.stake_years=0"], "war.stake_years", "years > 0"),
        (["war.stake_years=null"], "war.stake_years", "years > 0"),
    ],
)
def test_bad_burdens_name_the_key_the_value_and_what_is_allowed(overrides, key, allowed):
    with pytest.raises(ConfigError) as error:
        build_scenario(compose_config(overrides))
    assert error.value.key == key
    assert allowed in error.value.allowed
