"""The config schema and its checks: composed with Hydra, validated by build_scenario."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hydra.errors import ConfigCompositionException
from omegaconf.errors import OmegaConfBaseException

from sim.core.outcomes import IssueKind
from sim.experiment.build import build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.error_lines import one_line
from sim.experiment.validation import ConfigError

PARTIES = "['usa', 'russia', 'ukraine', 'europe']"
ISSUES = "['territory', 'nato', 'guarantees']"
NATO_LEVELS = (
    "['membership', 'irreversible_path', 'bid_dropped_for_guarantees', "
    "'non_alignment_in_constitution', 'treaty_neutrality']"
)
ALIASES = (
    "['us_support', 'europe_support', 'uncertainty.us_support', 'uncertainty.europe_support', "
    "'uncertainty.russia_capacity', 'uncertainty.ukraine_capacity']"
)
TERRITORY_LEVELS = str([str(i) for i in range(101)])  # 0..100 at resolution 1

MAX_ROUNDS_RULE = (
    "an integer in [1, 10,000] (a round is war.months_per_round months; "
    "for longer talks raise that)"
)


def add_issue(**conf) -> dict:
    """A patch adding issue `extra` (command-line overrides cannot add to `issues`)."""
    return {"issues": {"extra": conf}}


def add_preference(party: str, issue: str, **conf) -> dict:
    return {"parties": {party: {"preferences": {issue: conf}}}}


def merge(*patches: dict) -> dict:
    out: dict = {}
    for patch in patches:
        _deep_update(out, patch)
    return out


def _deep_update(into: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_update(into[key], value)
        else:
            into[key] = value


CATEGORICAL = add_issue(kind="categorical", categories=["geneva", "riyadh"])

# (overrides, patch, message): one per check in sim.experiment.checks.validate (and
# build_scenario).
CASES = [
    # --- top level
    (
        ["~parties.russia", "~parties.ukraine", "~parties.europe"],
        None,
        "parties: got ['usa']; allowed: at least two parties",
    ),
    (
        ["~issues.territory", "~issues.nato", "~issues.guarantees"],
        None,
        "issues: got []; allowed: at least one issue",
    ),
    (["max_rounds=0"], None, "max_rounds: got 0; allowed: " + MAX_ROUNDS_RULE),
    (["walkout_patience=0"], None, "walkout_patience: got 0; allowed: an integer >= 1"),
    (["text_step=0"], None, "text_step: got 0.0; allowed: a number in (0, 1]"),
    (
        ["max_outcomes=0"],
        None,
        "max_outcomes: got 0; allowed: an integer in [1, 5,000,000] (every party's utility of "
        "every outcome is held in memory, with its preference order: a coarser grid or fewer "
        "levels)",
    ),
    (["us_support=1.5"], None, "us_support: got 1.5; allowed: a number in [0.0, 1.0]"),
    (["us_support=nan"], None, "us_support: got nan; allowed: a number in [0.0, 1.0]"),
    (["europe_support=-0.1"], None, "europe_support: got -0.1; allowed: a number in [0.0, 1.0]"),
    (["mediator=china"], None, f"mediator: got 'china'; allowed: a party in {PARTIES}"),
    (
        ["phase_one_parties=[usa,china]"],
        None,
        f"phase_one_parties: got 'china'; allowed: a party in {PARTIES}",
    ),
    (
        ["seating=us_russia_first", "phase_one_parties=[]"],
        None,
        "phase_one_parties: got []; allowed: 1+ parties (seating=us_russia_first seats them first)",
    ),
    (
        ["seating=phased", "phase_one_parties=[]"],
        None,
        "phase_one_parties: got []; allowed: 1+ parties (seating=phased seats them first)",
    ),
    (
        ["seating=round_table"],
        None,
        "seating: got 'round_table'; allowed: a seating in ['inclusive', 'phased', "
        "'us_russia_first']",
    ),
    (["mediator=null"], None, f"mediator: got None; allowed: a party in {PARTIES}"),
    (["phase_one_rounds=-1"], None, "phase_one_rounds: got -1; allowed: an integer >= 0"),
    # --- continuous issues
    (
        ["issues.territory.low=-10"],
        None,
        "issues.territory.low: got -10.0; allowed: a number in [0.0, 100.0]",
    ),
    (
        ["issues.territory.high=101"],
        None,
        "issues.territory.high: got 101.0; allowed: a number in [0.0, 100.0]",
    ),
    (
        ["issues.territory.low=60", "issues.territory.high=40"],
        None,
        "issues.territory.high: got 40.0; allowed: a number > low=60.0",
    ),
    (
        ["issues.territory.resolution=0"],
        None,
        "issues.territory.resolution: got 0.0; allowed: a number > 0",
    ),
    (
        ["issues.territory.resolution=inf"],
        None,
        "issues.territory.resolution: got inf; allowed: a number > 0",
    ),
    (
        ["issues.territory.resolution=3"],
        None,
        "issues.territory.resolution: got 3.0; "
        "allowed: a step that divides [0.0, 100.0] into whole steps",
    ),
    (
        ["issues.territory.resolution=0.0001", "max_outcomes=1000"],
        None,
        "issues.territory.resolution: got 0.0001; allowed: at most max_outcomes=1000 grid points",
    ),
    (
        ["issues.territory.low=10"],
        None,
        "issues.territory.anchors.borders_1991: got 0.0; allowed: a number in [10.0, 100.0]",
    ),
    # --- ordinal issues
    (
        ["issues.nato.levels.membership=-5"],
        None,
        "issues.nato.levels.membership: got -5.0; allowed: a number in [0.0, 100.0]",
    ),
    (
        ["issues.nato.levels.membership=30"],
        None,
        "issues.nato.levels: got {'membership': 30.0, 'irreversible_path': 25.0, "
        "'bid_dropped_for_guarantees': 50.0, 'non_alignment_in_constitution': 75.0, "
        "'treaty_neutrality': 100.0}; "
        "allowed: positions strictly increasing in the order the levels are listed",
    ),
    ([], add_issue(kind="ordinal"), "issues.extra.levels: got {}; allowed: 1+ named levels"),
    # --- categorical issues
    (
        [],
        add_issue(kind="categorical"),
        "issues.extra.categories: got []; allowed: 1+ level names",
    ),
    (
        [],
        add_issue(kind="categorical", categories=["a", "b", "a"]),
        "issues.extra.categories: got ['a', 'b', 'a']; allowed: unique names",
    ),
    # --- defaults and control
    (
        ["issues.nato.default=nope"],
        None,
        f"issues.nato.default: got 'nope'; allowed: a level in {NATO_LEVELS}",
    ),
    (
        ["issues.territory.default=50.5"],
        None,
        f"issues.territory.default: got '50.5'; allowed: a level in {TERRITORY_LEVELS}",
    ),
    (
        [],
        add_issue(kind="categorical", categories=["a"], default="b"),
        "issues.extra.default: got 'b'; allowed: a level in ['a']",
    ),
    (
        ["issues.nato.control=[ukraine,china]"],
        None,
        f"issues.nato.control: got 'china'; allowed: a party in {PARTIES}",
    ),
    (
        ["+issues.nato.level_control.accession=[usa]"],
        None,
        f"issues.nato.level_control: got 'accession'; allowed: a level in {NATO_LEVELS}",
    ),
    (
        ["issues.nato.level_control.membership=[usa,china]"],
        None,
        f"issues.nato.level_control.membership: got 'china'; allowed: a party in {PARTIES}",
    ),
    # --- parties
    (
        ["parties.usa.capability=-1"],
        None,
        "parties.usa.capability: got -1.0; allowed: a number in [0.0, 1000000.0]",
    ),
    (
        ["parties.usa.capability=inf"],
        None,
        "parties.usa.capability: got inf; allowed: a number in [0.0, 1000000.0]",
    ),
    (
        ["parties.usa.war_cost=-0.1"],
        None,
        "parties.usa.war_cost: got -0.1; allowed: a number in [0.0, 1.0]",
    ),
    (
        ["parties.usa.concession_exponent=0"],
        None,
        "parties.usa.concession_exponent: got 0.0; "
        "allowed: a number > 0 (< 1 Boulware, 1 linear, > 1 conceder)",
    ),
    (["parties.usa.deadline=0"], None, "parties.usa.deadline: got 0; allowed: an integer >= 1"),
    (
        ["parties.usa.reservation_value=1.5"],
        None,
        "parties.usa.reservation_value: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    (
        [],
        add_preference("usa", "sanctions", salience=1.0),
        f"parties.usa.preferences: got 'sanctions'; allowed: a issue in {ISSUES}",
    ),
    (
        ["parties.usa.preferences.territory.salience=-1"],
        None,
        "parties.usa.preferences.territory.salience: got -1.0; allowed: a number >= 0",
    ),
    (
        [
            f"parties.usa.preferences.{issue}.salience=0"
            for issue in ("territory", "nato", "guarantees")
        ],
        None,
        "parties.usa.preferences: got {'territory': 0.0, 'nato': 0.0, 'guarantees': 0.0}; "
        "allowed: non-negative saliences, not all zero",
    ),
    (
        [],
        add_preference("usa", "nato", table={"accession": 1.0}),
        f"parties.usa.preferences.nato.table: got 'accession'; allowed: a level in {NATO_LEVELS}",
    ),
    (
        [],
        add_preference("usa", "nato", table={"membership": 1.5}),
        "parties.usa.preferences.nato.table.membership: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    (
        ["parties.usa.preferences.territory.ideal=null"],
        None,
        "parties.usa.preferences.territory.ideal: got None; "
        "allowed: a position in [0, 100] (or a `table` of level values)",
    ),
    (
        [],
        merge(CATEGORICAL, add_preference("usa", "extra", salience=1.0)),
        "parties.usa.preferences.extra.table: got None; allowed: a table level -> value in [0, 1]",
    ),
    (
        ["parties.usa.preferences.territory.ideal=150"],
        None,
        "parties.usa.preferences.territory.ideal: got 150.0; allowed: a number in [0.0, 100.0]",
    ),
    (
        ["parties.usa.preferences.territory.decay=0"],
        None,
        "parties.usa.preferences.territory.decay: got 0.0; allowed: a number > 0",
    ),
    (
        ["parties.usa.preferences.territory.curvature=0"],
        None,
        "parties.usa.preferences.territory.curvature: got 0.0; allowed: a number > 0",
    ),
    (
        ["parties.usa.preferences.territory.reservation=-5"],
        None,
        "parties.usa.preferences.territory.reservation: got -5.0; "
        "allowed: a number in [0.0, 100.0]",
    ),
    (
        ["parties.ukraine.preferences.territory.red_line_above=120"],
        None,
        "parties.ukraine.preferences.territory.red_line_above: got 120.0; "
        "allowed: a number in [0.0, 100.0]",
    ),
    (
        ["+parties.ukraine.preferences.territory.red_line_below=-1"],
        None,
        "parties.ukraine.preferences.territory.red_line_below: got -1.0; "
        "allowed: a number in [0.0, 100.0]",
    ),
    (
        ["parties.usa.preferences.nato.red_line=[accession]"],
        None,
        "parties.usa.preferences.nato.red_line: got 'accession'; "
        f"allowed: a level in {NATO_LEVELS}",
    ),
    (
        [],
        merge(
            CATEGORICAL,
            add_preference("usa", "extra", salience=1.0, table={"geneva": 1.0}, ideal=50.0),
        ),
        "parties.usa.preferences.extra.ideal: got 50.0; "
        "allowed: null: the issue is categorical (use table / red_line)",
    ),
    (
        [],
        merge(
            CATEGORICAL,
            add_preference(
                "usa", "extra", salience=1.0, table={"geneva": 1.0}, red_line_above=50.0
            ),
        ),
        "parties.usa.preferences.extra.red_line_above: got 50.0; "
        "allowed: null: the issue is categorical (use table / red_line)",
    ),
    # --- replications, uncertainty, levers, stability
    (["replications=0"], None, "replications: got 0; allowed: an integer >= 1 or 'auto'"),
    (
        [],
        {"uncertainty": {"us_support": {"dist": "normal", "scale": -1.0}}},
        "uncertainty.us_support.scale: got -1.0; allowed: a number >= 0",
    ),
    (
        ["uncertainty.us_support.dist=weird"],
        None,
        "uncertainty.us_support.dist: got 'weird'; "
        "allowed: a distribution in ['fixed', 'uniform', 'normal', 'lognormal', 'grid']",
    ),
    # a spread set by its general key follows no alias (the alias is dropped): named by it
    (
        ["uncertainty.war.capacity.russia.scale=-1"],
        None,
        "uncertainty.war.capacity.russia.scale: got -1; allowed: a number >= 0",
    ),
    (
        ["uncertainty.parties.usa.war_cost.dist=grid"],
        None,
        "uncertainty.parties.usa.war_cost.levels: got []; "
        "allowed: a non-empty list of distinct numbers >= 0.0",
    ),
    (
        ["uncertainty.war.support.china.dist=uniform"],
        None,
        "uncertainty.war.support: got 'china'; allowed: a party of war.support in "
        "['usa', 'europe']",
    ),
    (
        ["uncertainty.parties.china.war_cost.dist=uniform"],
        None,
        f"uncertainty.parties: got 'china'; allowed: a party in {PARTIES}",
    ),
    (
        ["uncertainty.parties.usa.optimism.dist=uniform"],
        None,
        "uncertainty.parties.usa: got 'optimism'; allowed: a key in ['capability', 'war_cost']",
    ),
    (
        ["guarantees_offer=nope"],
        None,
        "guarantees_offer: got 'nope'; allowed: one of "
        "['all', 'no_article_5', 'european_force', 'monitoring_only', 'none']",
    ),
    (
        ["stability.robustness_draws=0"],
        None,
        "stability.robustness_draws: got 0; allowed: an integer in [1, 10,000]",
    ),
    (
        ["stability.salience_spread=-0.1"],
        None,
        "stability.salience_spread: got -0.1; allowed: a number >= 0",
    ),
    (
        ["stability.guarantees_issue=nope"],
        None,
        f"stability.guarantees_issue: got 'nope'; allowed: a issue (or null) in {ISSUES}",
    ),
    (
        ["stability.thresholds.robustness=1.5"],
        None,
        "stability.thresholds.robustness: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    # --- war
    (
        ["war.territory_issue=nope"],
        None,
        f"war.territory_issue: got 'nope'; allowed: a issue in {ISSUES}",
    ),
    (
        ["war.territory_issue=extra"],
        CATEGORICAL,
        "war.territory_issue: got 'extra'; allowed: a continuous or ordinal issue",
    ),
    (
        ["war.contact_line=120"],
        None,
        "war.contact_line: got 120.0; allowed: a number in [0.0, 100.0]",
    ),
    (["war.aggressor=china"], None, f"war.aggressor: got 'china'; allowed: a party in {PARTIES}"),
    (["war.defender=china"], None, f"war.defender: got 'china'; allowed: a party in {PARTIES}"),
    (
        ["war.defender=russia"],
        None,
        "war.defender: got 'russia'; allowed: a party other than the aggressor",
    ),
    (
        ["+war.support.china=0.5"],
        None,
        f"war.support: got 'china'; allowed: a party in {PARTIES}",
    ),
    (
        ["+war.support.russia=0.5"],
        None,
        "war.support: got 'russia'; allowed: a party other than ['russia', 'ukraine']",
    ),
    (
        ["war.support.usa=1.5"],
        None,
        "war.support.usa: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    (
        ["war.capacity.russia=-1"],
        None,
        "war.capacity.russia: got -1.0; allowed: a number in [0, 1e+06]",
    ),
    (
        ["war.capacity.ukraine=nan"],
        None,
        "war.capacity.ukraine: got nan; allowed: a number in [0, 1e+06]",
    ),
    (
        ["+war.capacity.usa=1"],
        None,
        "war.capacity: got {'russia': 1.0, 'ukraine': 0.3, 'usa': 1.0}; allowed: a capacity "
        "for each belligerent and no one else: keys ['russia', 'ukraine']",
    ),
    (
        ["~war.capacity.ukraine"],
        None,
        "war.capacity: got {'russia': 1.0}; allowed: a capacity for each belligerent and no "
        "one else: keys ['russia', 'ukraine']",
    ),
    (
        ["war.aid_effectiveness=-0.5"],
        None,
        "war.aid_effectiveness: got -0.5; allowed: a number in [0, 1e+06]",
    ),
    (["war.volatility=-1"], None, "war.volatility: got -1.0; allowed: a number in [0, 100]"),
    (
        ["war.capacity.russia=0", "war.capacity.ukraine=0"],
        None,
        "war.capacity: got {'russia': 0.0, 'ukraine': 0.0}; allowed: capacities not both zero",
    ),
    (
        ["war.adjustment_rate=1.5"],
        None,
        "war.adjustment_rate: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    (["war.discount=1.01"], None, "war.discount: got 1.01; allowed: a number in [0.0, 1.0]"),
    (
        ["war.months_per_round=0"],
        None,
        "war.months_per_round: got 0.0; allowed: a number in (0, 120]",
    ),
    (
        ["war.horizon_months=-1"],
        None,
        "war.horizon_months: got -1.0; allowed: a number in [0.0, 1200.0]",
    ),
    (
        ["uncertainty.salience.dist=grid", "uncertainty.salience.levels=[1,2]"],
        None,
        "uncertainty.salience.dist: got 'grid'; allowed: fixed, uniform, normal or lognormal",
    ),
    (
        ["uncertainty.us_support.dist=grid", "uncertainty.us_support.levels=[0,1.5]"],
        None,
        "uncertainty.us_support.levels: got [0, 1.5]; "
        "allowed: a non-empty list of distinct numbers in [0.0, 1.0]",
    ),
    (
        ["uncertainty.war.support.usa.dist=grid", "uncertainty.war.support.usa.levels=[0,1.5]"],
        None,
        "uncertainty.war.support.usa.levels: got [0, 1.5]; "
        "allowed: a non-empty list of distinct numbers in [0.0, 1.0]",
    ),
    (
        ["uncertainty.us_support.dist=grid"],
        None,
        "uncertainty.us_support.levels: got []; "
        "allowed: a non-empty list of distinct numbers in [0.0, 1.0]",
    ),
    (
        ["uncertainty.war_costs.dist=grid", "uncertainty.war_costs.levels=[1,1]"],
        None,
        "uncertainty.war_costs.levels: got [1.0, 1.0]; "
        "allowed: a non-empty list of distinct numbers >= 0.0",
    ),
    (
        ["uncertainty.us_support.dist=uniform", "uncertainty.us_support.levels=[0.5]"],
        None,
        "uncertainty.us_support.levels: got [0.5]; allowed: no levels unless dist=grid",
    ),
    (
        [
            "replications=2",
            "uncertainty.us_support.dist=grid",
            "uncertainty.us_support.levels=[0,1]",
            "replication=4",
        ],
        None,
        "replication: got 4; allowed: null or 0..3",
    ),
    (
        ["mediator_bias=1.5"],
        None,
        "mediator_bias: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    (
        [],
        {"war": {"drift": {"supports": {"russia": 0.1}}}},
        "war.drift.supports: got 'russia'; allowed: a supporter in ['usa', 'europe']",
    ),
    (
        ["war.guarantees.levels.article_5.force.usa=1.2"],
        None,
        "war.guarantees.levels.article_5.force.usa: got 1.2; allowed: a number in [0.0, 1.0]",
    ),
    (
        [],
        {"war": {"guarantees": {"levels": {"ceasefire": {"monitors": ["usa"]}}}}},
        "war.guarantees.levels: got 'ceasefire'; allowed: a level in ['article_5', "
        "'european_force_us_backstop', 'european_force', 'monitoring_only', "
        "'guarantors_include_russia', 'none']",
    ),
    (
        [],
        {"parties": {"ukraine": {"links": [{"issues": ["territory", "nato"]}]}}},
        "parties.ukraine.links.0.issues: got ['territory', 'nato']; allowed: issues other "
        "than the war's territory issue 'territory'",
    ),
    (
        [],
        {"parties": {"ukraine": {"links": [{"issues": ["nato", "nato"]}]}}},
        "parties.ukraine.links.0.issues: got ['nato', 'nato']; allowed: two different issues",
    ),
    (
        [],
        {
            "parties": {
                "ukraine": {
                    "links": [
                        {"issues": ["nato", "guarantees"], "table": {"membership": {"none": 1.5}}}
                    ]
                }
            }
        },
        "parties.ukraine.links.0.table.membership.none: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    (
        [],
        {
            "parties": {
                "ukraine": {
                    "links": [
                        {"issues": ["nato", "guarantees"], "table": {"associate": {"none": 0.5}}}
                    ]
                }
            }
        },
        "parties.ukraine.links.0.table: got 'associate'; allowed: a level of nato in "
        "['membership', 'irreversible_path', 'bid_dropped_for_guarantees', "
        "'non_alignment_in_constitution', 'treaty_neutrality']",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "patch", "message"),
    CASES,
    ids=[c[2].split("; allowed")[0].replace(": got ", "=") for c in CASES],
)
def test_invalid_config_is_rejected_with_a_one_line_message(compose, overrides, patch, message):
    cfg = compose(overrides, patch)
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$") as info:
        build_scenario(cfg)
    error = info.value
    assert message.startswith(f"{error.key}: got ")
    assert "\n" not in str(error)


def test_unknown_uncertainty_is_refused(compose):
    """The uncertain parameters are a fixed set (UncertaintyConf's keys and the aliases the
    scenario declares): `uncertainty` is open to the aliases while composing, and the
    validator refuses any other key."""
    cfg = compose([], {"uncertainty": {"rain": {"scale": 1.0}}})
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    assert str(info.value) == (
        "uncertainty.rain: got {'scale': 1.0}; allowed: a key of the config "
        "(['parties', 'salience', 'war', 'war_costs']) or an alias the scenario declares in "
        f"`aliases` ({ALIASES})"
    )


def test_unknown_top_level_key_is_refused(compose):
    """The root is open to a scenario's aliases while composing (so `+key` and a scenario
    file's keys compose): the validator refuses a key that is neither the schema's nor an
    alias; without `+`, Hydra refuses it first (tests/test_bad_inputs.py)."""
    with pytest.raises(ConfigError) as info:
        build_scenario(compose(["+max_round=5"]))
    error = info.value
    assert (error.key, error.value) == ("max_round", 5)
    assert str(error).startswith("max_round: got 5; allowed: a key of the config (['aliases', ")
    assert str(error).endswith(
        f"'war']) or an alias the scenario declares in `aliases` ({ALIASES})"
    )
    assert "'max_rounds'" in error.allowed


def test_a_general_key_set_directly_wins_over_its_alias(compose):
    """brussels_2025's `us_support` sets war.support.usa by interpolation; setting
    war.support.usa itself wins, and the alias, followed by no key, is dropped."""
    cfg = compose(["us_support=0.9", "war.support.usa=0.2"])
    scenario = build_scenario(cfg)
    assert "us_support" not in cfg and cfg.europe_support == 0.7
    assert dict(cfg.war.support) == {"usa": 0.2, "europe": 0.7}
    np.testing.assert_allclose(scenario.war_params.supports, [0.2, 0.7])
    aliased = build_scenario(compose(["us_support=0.9"]))
    np.testing.assert_allclose(aliased.war_params.supports, [0.9, 0.7])


def test_inclusive_seating_needs_no_first_phase(compose):
    """phase_one_parties must be non-empty only when the seating is phased."""
    cfg = compose(["seating=inclusive", "phase_one_parties=[]"])
    build_scenario(cfg)  # valid
    assert list(cfg.phase_one_parties) == []


def test_too_many_outcomes(compose):
    space = build_scenario(compose()).space
    size = space.size
    assert size == 101 * 5 * 6
    cfg = compose([f"max_outcomes={size - 1}"])
    with pytest.raises(
        ConfigError,
        match="^"
        + re.escape(
            f"issues: got '{size} outcomes'; allowed: at most max_outcomes={size - 1} "
            "(coarser resolution or fewer levels)"
        )
        + "$",
    ):
        build_scenario(cfg)
    assert build_scenario(compose([f"max_outcomes={size}"])).space.size == size


def test_config_error_fields():
    error = ConfigError("war.discount", 1.5, "a number in [0.0, 1.0]")
    assert (error.key, error.value, error.allowed) == (
        "war.discount",
        1.5,
        "a number in [0.0, 1.0]",
    )
    assert str(error) == "war.discount: got 1.5; allowed: a number in [0.0, 1.0]"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "protocol=nope",
            "protocol: Invalid value 'nope', expected one of [single_text, alternating_offers]",
        ),
        (
            "war.support.usa=abc",
            "war.support.usa: Value 'abc' of type 'str' could not be converted to Float",
        ),
        (
            "max_rounds=1.5",
            "max_rounds: Value '1.5' of type 'float' could not be converted to Integer",
        ),
    ],
)
def test_type_errors_surface_at_composition_with_the_key(compose, override, message):
    with pytest.raises(ConfigCompositionException) as info:
        compose([override])
    assert one_line(info.value) == message


def test_type_errors_through_an_alias_surface_when_read_with_the_alias(compose):
    """An alias is outside the schema, so it composes untyped; the typed key that follows
    it (war.support.usa: ${us_support}) refuses the value when read, naming the alias."""
    cfg = compose(["us_support=abc"])
    with pytest.raises(OmegaConfBaseException) as info:
        build_scenario(cfg)
    assert one_line(info.value) == (
        "us_support: Value 'abc' of type 'str' could not be converted to Float"
    )


# --- a valid config, built ----------------------------------------------------------------


def test_default_scenario_builds_to_arrays(compose):
    cfg = compose()
    scenario = build_scenario(cfg)
    territory = cfg.issues.territory
    n_territory = round((territory.high - territory.low) / territory.resolution) + 1
    assert scenario.parties == ("usa", "russia", "ukraine", "europe")
    assert scenario.space.names == ("territory", "nato", "guarantees")
    assert scenario.space.shape == (n_territory, len(cfg.issues.nato.levels), 6)
    assert scenario.space.issue("territory").kind is IssueKind.continuous
    assert scenario.utilities.shape == (4, scenario.space.size)
    assert ((scenario.utilities >= 0) & (scenario.utilities <= 1 + 1e-12)).all()
    np.testing.assert_allclose(scenario.preferences.weights.sum(axis=1), 1.0)
    # usa's saliences 0.4, 0.3, 0.4; the neutral mediator (mediator_bias 0) keeps its stake
    # only in nato and guarantees, where it controls levels (membership; Article 5 ...)
    np.testing.assert_allclose(scenario.preferences.weights[0], [0.0, 3 / 7, 4 / 7])
    np.testing.assert_allclose(scenario.preferences.weights[1:].sum(axis=1), 1.0)
    broker = build_scenario(compose(["mediator_bias=1"]))
    np.testing.assert_allclose(broker.preferences.weights[0], [4 / 11, 3 / 11, 4 / 11])
    np.testing.assert_array_equal(broker.preferences.weights[1:], scenario.preferences.weights[1:])
    np.testing.assert_array_equal(scenario.capabilities, [0.9, 1.0, 0.6, 0.7])


def test_default_scenario_static_reservation_closed_form(compose):
    # usa: territory ideal 80, no reservation point: its worst level (0) is worth 0.2;
    # nato ideal 75, none: worst (0) is 0.25; guarantees ideal 50, reservation 70: 0.8.
    scenario = build_scenario(compose(["parties.europe.reservation_value=0.6", "mediator_bias=1"]))
    expected_usa = (0.4 * 0.2 + 0.3 * 0.25 + 0.4 * 0.8) / 1.1
    assert scenario.static_reservation[0] == pytest.approx(expected_usa)
    assert scenario.static_reservation[3] == 0.6  # a fixed BATNA is taken as is


def test_default_scenario_red_lines_and_control(compose):
    scenario = build_scenario(compose())
    space = scenario.space
    crossed = scenario.red_line_crossed
    usa, russia, ukraine, europe = range(4)
    membership = space.index_of(
        {"territory": "50", "nato": "membership", "guarantees": "european_force"}
    )
    assert crossed[usa, membership] and crossed[russia, membership]
    assert not crossed[ukraine, membership] and not crossed[europe, membership]
    # ukraine's ratifier, anticipated, rejects territory above 50 (art. 73) and
    # non-alignment in the constitution (art. 157): its negotiators' red lines.
    at_50 = space.index_of(
        {"territory": "50", "nato": "treaty_neutrality", "guarantees": "article_5"}
    )
    at_51 = space.index_of(
        {"territory": "51", "nato": "treaty_neutrality", "guarantees": "article_5"}
    )
    amended = space.index_of(
        {"territory": "50", "nato": "non_alignment_in_constitution", "guarantees": "article_5"}
    )
    assert not crossed[ukraine, at_50]
    assert crossed[ukraine, at_51] and crossed[ukraine, amended]
    assert scenario.ratifiers[ukraine] == "referendum and constitution"
    assert not scenario.acceptable[membership]
    # Territory has no status quo: russia and ukraine sign any agreement; NATO membership
    # needs the alliance (usa, europe) as well.
    signers = scenario.required_signatories
    assert signers[[russia, ukraine]].all()
    assert signers[[usa, europe], membership].all()
    assert signers.shape == (4, space.size)


def test_continuous_default_from_config(compose):
    scenario = build_scenario(compose(["issues.territory.default=50"]))
    issue = scenario.space.issue("territory")
    assert issue.default == 50
    assert issue.levels[issue.default] == "50"


def test_plain_config_reads_like_the_config_it_copies():
    from sim.experiment.schema import plain
    from tests.helpers_model import compose as compose_overrides

    cfg = compose_overrides("uncertainty.us_support.dist=uniform")
    fast = plain(cfg)
    assert fast.stability.robustness_draws == cfg.stability.robustness_draws
    assert fast.uncertainty["us_support"].dist == "uniform"
    assert fast.uncertainty.war.support["usa"].dist == "uniform"  # the alias, resolved
    assert type(fast.protocol) is str and fast.protocol == "single_text"
    assert fast.war.support == dict(cfg.war.support) == {"usa": 0.3, "europe": 0.7}
    assert fast.war.capacity == dict(cfg.war.capacity)
    assert list(fast.parties) == list(cfg.parties)
    with pytest.raises(AttributeError, match="no_such_key"):
        _ = fast.no_such_key


def test_schema_defaults_are_the_engine_settings_defaults(compose):
    """One source for each default: SimConfig's negotiation settings are
    NegotiationSettings', the stability thresholds are Thresholds', the durability check's
    parameters DurabilityParameters'."""
    from omegaconf import OmegaConf

    from sim.core.settings import NegotiationSettings, StabilitySettings
    from sim.core.stability import DurabilityParameters, Thresholds
    from sim.experiment.compiler import stability_settings
    from sim.experiment.schema import SimConfig

    cfg = OmegaConf.structured(SimConfig)
    assert negotiation_settings(cfg) == NegotiationSettings()
    assert Thresholds(**cfg.stability.thresholds) == Thresholds()
    assert stability_settings(cfg).durability == DurabilityParameters()
    assert stability_settings(cfg) == StabilitySettings()
    assert stability_settings(compose()).model == StabilitySettings.model  # config.yaml runs it
