"""The negotiation model (sim.engine.model, sim.engine.agents): Fearon's range, invariants,
seating, control.

Runs are kept small: the default scenario negotiates in well under a second, and property
tests draw at most a few dozen negotiations each.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.core.preferences import TOLERANCE
from sim.core.settings import (
    BatnaMode,
    EndReason,
    Information,
    Protocol,
    Seating,
    StrategyName,
)
from sim.core.strategies import STRATEGIES, Boulware, HardLiner
from sim.engine.agents import Response, accepts
from sim.engine.single import NegotiationModel
from sim.experiment.build import build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.replication import negotiation_row
from tests.helpers_model import (
    EPS,
    PARTIES,
    ROOT,
    accepted_last,
    compose,
    custom_config,
    fearon_config,
    required_names,
    run,
)

PROTOCOLS = [p.value for p in Protocol]
STRATEGY_NAMES = [s.value for s in StrategyName]


def check_agreement_invariants(model: NegotiationModel, all_red_lines: bool = True) -> None:
    """What every finished negotiation must satisfy (docs/model.md, "Negotiation")."""
    outcome = model.agreement
    row = negotiation_row(model.result(0))
    assert row["agreement"] == model.binding
    if model.binding:
        assert outcome is not None
        assert model.reason is EndReason.agreement
    if outcome is None:
        assert not model.binding
        return
    required = required_names(model, outcome)
    if not model.binding:
        assert model.reason is EndReason.not_binding
        return
    signed = accepted_last(model)
    # Binding: every party that controls a level the outcome sets has signed it ...
    assert required <= signed, (required, signed)
    # ... so none of them walked out, and
    assert not required & set(model.walkouts)
    assert model.implementable[outcome]
    # ... every signatory gets at least its BATNA and keeps to its red lines.
    for name in signed:
        i = model.parties.index(name)
        assert model.utilities[i, outcome] >= model.reservations[i] - EPS, name
        assert not model.red_line_crossed[i, outcome], name
    if all_red_lines:
        assert not model.red_line_crossed[:, outcome].any()


# --- Fearon (1995): the bargaining range [p - c_A, p + c_B] ------------------------------


@pytest.mark.parametrize(("p", "cost_a", "cost_b"), [(0.6, 0.05, 0.1), (0.3, 0.0, 0.2)])
def test_fearon_reservation_values_are_p_minus_c(p, cost_a, cost_b):
    cfg = fearon_config(p=p, cost_a=cost_a, cost_b=cost_b, max_rounds=5)
    scenario = build_scenario(cfg)  # validation accepts a war with no supporters
    assert len(cfg.war.support) == 0
    model = NegotiationModel(scenario, negotiation_settings(cfg), rng=0)
    assert model.war_params.supports.size == 0
    for _ in range(3):
        model.step()
        assert model.p_share == pytest.approx(p)
        assert model.contact_line == pytest.approx(100.0 * p if model.round > 1 else 50.0)
        np.testing.assert_allclose(model.reservations, [p - cost_a, 1.0 - p - cost_b], atol=1e-12)


def share_of_a(model: NegotiationModel) -> float:
    """Territory position of the agreement / 100: the aggressor's share of the prize."""
    level = model.problem.space.unravel(model.agreement)[0]
    return float(model.problem.space.issues[0].positions[level]) / 100.0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_fearon_agreements_lie_in_the_bargaining_range(protocol):
    p, cost_a, cost_b = 0.6, 0.05, 0.1
    mixes = [
        ("linear", "linear"),
        ("boulware", "conceder"),
        ("conceder", "boulware"),
        ("conceder", "conceder"),
        ("reciprocal", "conceder"),
        ("boulware", "boulware"),
    ]
    shares = []
    for strategy_a, strategy_b in mixes:
        for seed in (0, 1, 2):
            cfg = fearon_config(p, cost_a, cost_b, strategy_a, strategy_b, protocol)
            model = run(cfg, seed=seed, collect_trace=False)
            check_agreement_invariants(model)
            if model.binding:
                shares.append(share_of_a(model))
    assert len(shares) >= 12  # most of these mixes settle; the check is not vacuous
    shares = np.array(shares)
    assert np.all(shares >= p - cost_a - EPS)
    assert np.all(shares <= p + cost_b + EPS)
    assert shares.max() > shares.min()  # the strategies matter within the range


@settings(max_examples=25, deadline=None)
@given(
    p=st.floats(0.2, 0.8),
    cost_a=st.floats(0.0, 0.2),
    cost_b=st.floats(0.0, 0.2),
    strategy_a=st.sampled_from(STRATEGY_NAMES),
    strategy_b=st.sampled_from(STRATEGY_NAMES),
    protocol=st.sampled_from(PROTOCOLS),
    line=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**16),
)
def test_fearon_range_holds_for_any_war(
    p, cost_a, cost_b, strategy_a, strategy_b, protocol, line, seed
):
    cfg = fearon_config(
        p, cost_a, cost_b, strategy_a, strategy_b, protocol, max_rounds=20, contact_line=line
    )
    model = run(cfg, seed=seed, collect_trace=False)
    np.testing.assert_allclose(model.reservations, [p - cost_a, 1.0 - p - cost_b], atol=1e-12)
    check_agreement_invariants(model)
    if model.binding:
        assert p - cost_a - EPS <= share_of_a(model) <= p + cost_b + EPS


# --- invariants on the default scenario -------------------------------------------------


@st.composite
def brussels_variants(draw):
    """The default scenario with drawn protocol, seating, strategies, deadlines, supports."""
    cfg = compose()
    cfg.protocol = draw(st.sampled_from(PROTOCOLS))
    cfg.seating = draw(st.sampled_from([s.value for s in Seating]))
    cfg.information = draw(st.sampled_from([i.value for i in Information]))
    cfg.phase_one_rounds = draw(st.integers(0, 12))
    cfg.max_rounds = draw(st.integers(3, 60))
    cfg.war.support.usa = draw(st.floats(0.0, 1.0))
    cfg.war.support.europe = draw(st.floats(0.0, 1.0))
    for party in PARTIES:
        cfg.parties[party].strategy = draw(st.sampled_from(STRATEGY_NAMES))
        cfg.parties[party].deadline = draw(st.none() | st.integers(1, 60))
    return cfg, draw(st.integers(0, 2**16))


@settings(max_examples=30, deadline=None)
@given(variant=brussels_variants())
def test_every_agreement_is_rational_signed_by_its_controllers_and_within_red_lines(variant):
    cfg, seed = variant
    model = run(cfg, seed=seed, collect_trace=False)
    check_agreement_invariants(model)


def test_invariants_hold_for_the_default_runs():
    """Not vacuous: the default scenario settles under both protocols and seatings but
    one (alternating offers with the USA and Russia first: not binding by round 100, since
    Ukraine's ratifier rejects any line beyond the current one)."""
    settled = 0
    for protocol in PROTOCOLS:
        for seating in ("inclusive", "us_russia_first"):
            model = run(compose(f"protocol={protocol}", f"seating={seating}"))
            if model.binding:
                assert model.reason is EndReason.agreement
                check_agreement_invariants(model)
                settled += 1
    assert settled >= 3


def empty_zopa_config(reservations: dict[str, float], protocol: str):
    cfg = compose("batna=static", f"protocol={protocol}", "max_rounds=30")
    for party, value in reservations.items():
        cfg.parties[party].reservation_value = value
    return cfg


def test_empty_zopa_means_no_agreement():
    cfg = empty_zopa_config(dict.fromkeys(PARTIES, 1.0), "single_text")
    model = run(cfg)
    assert model.agreement is None and not model.binding
    assert (model.trace()["zopa_size"] == 0).all()
    # Nothing reachable beats anyone's BATNA: all walk out after `walkout_patience` rounds.
    assert model.reason is EndReason.breakdown
    assert model.round == cfg.walkout_patience
    assert sorted(model.walkouts) == sorted(PARTIES)


@settings(max_examples=20, deadline=None)
@given(
    levels=st.tuples(*[st.floats(0.4, 1.0)] * len(PARTIES)),
    protocol=st.sampled_from(PROTOCOLS),
    seed=st.integers(0, 2**16),
)
def test_no_agreement_whenever_the_zopa_is_empty(levels, protocol, seed):
    cfg = empty_zopa_config(dict(zip(PARTIES, levels, strict=True)), protocol)
    scenario = build_scenario(cfg)
    r = np.array(levels)[:, None]
    zopa = ((scenario.utilities >= r - TOLERANCE) & ~scenario.red_line_crossed).all(axis=0)
    assume(not zopa.any())
    model = NegotiationModel(
        scenario, negotiation_settings(cfg), rng=np.random.default_rng(seed)
    ).run()
    assert model.agreement is None and not model.binding
    assert (model.trace()["zopa_size"] == 0).all()
    assert model.reason is EndReason.breakdown


# --- reproducibility ---------------------------------------------------------------------

TRACE_SCRIPT = textwrap.dedent(
    """
    import hashlib, sys
    from tests.helpers_model import compose, run
    cfg = compose(
        "protocol=alternating_offers", "information=learned", "war.volatility=2.0",
        "max_rounds=40",
    )
    trace = run(cfg, seed=int(sys.argv[1])).trace()
    print(hashlib.sha256(trace.to_csv(index=False).encode()).hexdigest())
    """
)


def trace_hash_in_subprocess(seed: int, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", TRACE_SCRIPT, str(seed)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_same_seed_same_trace_in_two_processes():
    first = trace_hash_in_subprocess(11, "1")
    second = trace_hash_in_subprocess(11, "2")
    assert len(first) == 64
    assert first == second
    cfg = compose(
        "protocol=alternating_offers", "information=learned", "war.volatility=2.0", "max_rounds=40"
    )
    here = run(cfg, seed=11).trace()
    assert hashlib.sha256(here.to_csv(index=False).encode()).hexdigest() == first


def test_same_seed_same_trace_in_process():
    cfg = compose("protocol=alternating_offers")
    pd.testing.assert_frame_equal(run(cfg, seed=5).trace(), run(cfg, seed=5).trace())


def test_different_seeds_give_different_contact_line_paths():
    cfg = compose("war.volatility=0.5", "max_rounds=20")
    paths = [run(cfg, seed=s).trace()["contact_line"].to_numpy() for s in (0, 1, 2)]
    n = min(len(p) for p in paths)
    assert n >= 10
    assert not np.allclose(paths[0][:n], paths[1][:n])
    assert not np.allclose(paths[1][:n], paths[2][:n])
    assert all(p[0] == 50.0 for p in paths)  # the first round is fought from the start line


def test_no_volatility_no_randomness_in_the_line():
    cfg = compose("war.volatility=0", "max_rounds=20")
    a, b = (run(cfg, seed=s).trace()["contact_line"].to_numpy() for s in (0, 1))
    n = min(len(a), len(b))
    np.testing.assert_array_equal(a[:n], b[:n])


# --- seating -----------------------------------------------------------------------------


def phase_one_end(model: NegotiationModel) -> int:
    k = model.settings.phase_one_rounds
    return min(k, model.framework_round) if model.framework_round is not None else k


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("k", [3, 6])
def test_us_russia_first_seats_ukraine_and_europe_after_phase_one(protocol, k):
    model = run(compose("seating=us_russia_first", f"phase_one_rounds={k}", f"protocol={protocol}"))
    trace = model.trace().set_index("round")
    end = phase_one_end(model)
    assert 1 <= end <= k and model.round > end
    first, later = trace.loc[1:end], trace.loc[end + 1 :]
    assert (first["phase"] == 1).all() and (later["phase"] == 2).all()
    for party in ("usa", "russia"):
        assert first[f"seated_{party}"].all()
        assert first[f"response_{party}"].notna().any()
    for party in ("ukraine", "europe"):
        assert not first[f"seated_{party}"].any()
        assert first[f"response_{party}"].isna().all()  # None: not at the table
        assert later[f"seated_{party}"].iloc[0]
        assert later[f"response_{party}"].iloc[0] in ("accept", "object")
    # The texts of phase one come only from the phase-one parties.
    assert set(first["proposer"]) <= {"usa", "russia"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_inclusive_seats_everyone_from_round_one(protocol):
    model = run(compose("seating=inclusive", f"protocol={protocol}"))
    trace = model.trace()
    first = trace.iloc[0]
    for party in PARTIES:
        assert first[f"seated_{party}"]
        assert first[f"response_{party}"] in ("accept", "object")
    assert model.walkouts == []
    assert trace[[f"seated_{p}" for p in PARTIES]].all(axis=None)  # in every round


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_phase_one_agreement_is_a_framework_not_a_binding_deal(protocol):
    cfg = compose(
        "seating=us_russia_first",
        "phase_one_rounds=10",
        f"protocol={protocol}",
        "parties.usa.strategy=conceder",
        "parties.russia.strategy=conceder",
    )
    model = run(cfg)
    framework, when = model.framework, model.framework_round
    assert framework is not None and 1 <= when <= 10
    trace = model.trace().set_index("round")
    row = trace.loc[when]
    assert row["offer"] == framework and row["phase"] == 1
    assert row["response_usa"] == row["response_russia"] == "accept"
    assert pd.isna(row["response_ukraine"])
    # Territory needs Ukraine, which was not at the table: the talks went on.
    assert "ukraine" in required_names(model, framework)
    assert model.round > when
    after = trace.loc[when + 1]
    assert after["phase"] == 2 and after["seated_ukraine"] and after["seated_europe"]
    assert after["offer"] == framework  # the framework is put to the newcomers
    assert negotiation_row(model.result(0))["framework_outcome"] == framework


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_framework_at_the_last_round_ends_not_binding(protocol):
    """phase_one_rounds >= max_rounds: the US-Russia framework is never signed by Ukraine."""
    cfg = compose(
        "seating=us_russia_first",
        "max_rounds=1",
        "phase_one_rounds=5",
        f"protocol={protocol}",
        "parties.usa.strategy=conceder",
        "parties.russia.strategy=conceder",
    )
    model = run(cfg)
    row = negotiation_row(model.result(0))
    assert model.framework is not None
    assert model.reason is EndReason.not_binding and row["reason"] == "not_binding"
    assert row["agreement"] is False and row["binding"] is False
    assert row["outcome"] == -1 and row["framework_outcome"] == model.framework


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_framework_ukraine_never_signs_ends_not_binding(protocol):
    """The newcomers join once a framework exists; if no binding deal follows, not_binding."""
    cfg = compose(
        "seating=us_russia_first",
        "max_rounds=20",
        "phase_one_rounds=20",
        f"protocol={protocol}",
        "parties.usa.strategy=conceder",
        "parties.russia.strategy=conceder",
        "parties.ukraine.strategy=hardliner",
        "parties.ukraine.deadline=1000",  # holds out, but stays at the table
    )
    model = run(cfg)
    row = negotiation_row(model.result(0))
    assert model.framework is not None and model.framework_round < 20
    assert row["reason"] == "not_binding" and row["round"] == 20
    assert row["agreement"] is False and row["walked_out"] == ""


# --- issue control -----------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("leaver", ["europe", "usa"])
def test_no_level_controlled_by_a_party_that_walked_out_is_agreed(protocol, leaver):
    cfg = compose(
        f"protocol={protocol}",
        f"parties.{leaver}.strategy=hardliner",
        f"parties.{leaver}.deadline=3",
    )
    model = run(cfg)
    assert model.walkouts == [leaver]
    assert model.binding  # the others still settle, on what they can settle alone
    leaver_i = model.parties.index(leaver)
    controlled = model.problem.required_signatories[leaver_i]
    assert controlled.any()
    np.testing.assert_array_equal(model.implementable, ~controlled)
    assert not controlled[model.agreement]
    assert leaver not in required_names(model, model.agreement)
    check_agreement_invariants(model)
    # From the walkout on, no text or offer needed the leaver.
    offers = model.trace().query("round > 3")["offer"].to_numpy()
    assert not controlled[offers[offers >= 0]].any()


def walkout_after_framework_config(protocol: str):
    """US and RU agree a framework with a European force in round 1; EU walks out in round 2.

    Hand-built: territory (RU and UA must sign any level) and a force whose `eu_force`
    level needs EU. Everyone's BATNA is 0, so only the pass rule decides.
    """
    pref = {"territory": {"ideal": 0.0, "salience": 1.0}, "force": {"ideal": 25.0, "salience": 1}}
    return custom_config(
        {
            "scenario_name": "walkout_after_framework",
            "max_rounds": 10,
            "protocol": protocol,
            "seating": "phased",
            "mediator": "us",
            "phase_one_parties": ["us", "ru"],
            "phase_one_rounds": 5,
            "batna": "static",
            "issues": {
                "territory": {
                    "kind": "continuous",
                    "resolution": 25.0,
                    "control": ["ru", "ua"],
                },
                "force": {
                    "kind": "ordinal",
                    "levels": {"eu_force": 25.0, "none": 100.0},
                    "default": "none",
                    "level_control": {"eu_force": ["eu"]},
                },
            },
            "parties": {
                "us": {
                    "strategy": "conceder",
                    "reservation_value": 0.0,
                    "preferences": {**pref, "territory": {"ideal": 50.0, "salience": 1.0}},
                },
                "ru": {
                    "strategy": "conceder",
                    "reservation_value": 0.0,
                    "preferences": {
                        "territory": {"ideal": 100.0, "salience": 1.0},
                        "force": {"ideal": 25.0, "salience": 0.01},
                    },
                },
                "ua": {
                    "strategy": "conceder",
                    "deadline": 1,
                    "reservation_value": 0.0,
                    "preferences": pref,
                },
                "eu": {
                    "strategy": "hardliner",
                    "deadline": 1,  # walks out as soon as it is seated
                    "reservation_value": 0.0,
                    "preferences": {**pref, "force": {"ideal": 100.0, "salience": 1.0}},
                },
            },
            "war": {"aggressor": "ru", "defender": "ua"},
        },
    )


def check_walkout_after_framework(model: NegotiationModel) -> None:
    space = model.problem.space
    assert model.framework_round == 1
    assert space.levels_of(model.framework)["force"] == "eu_force"
    assert model.walkouts == ["eu"]
    eu = model.parties.index("eu")
    if model.agreement is not None:
        assert not model.problem.required_signatories[eu, model.agreement]
    assert model.binding
    check_agreement_invariants(model)


def test_single_text_redrafts_a_framework_that_needs_a_party_that_left():
    model = run(walkout_after_framework_config("single_text"))
    check_walkout_after_framework(model)


def test_alternating_offers_do_not_reoffer_a_framework_that_needs_a_party_that_left():
    model = run(walkout_after_framework_config("alternating_offers"))
    check_walkout_after_framework(model)


def non_controller_red_line_config(protocol: str):
    """a and b control x; c has a red line above 60 on x but controls nothing."""
    return custom_config(
        {
            "max_rounds": 20,
            "protocol": protocol,
            "mediator": "a",
            "phase_one_parties": ["a"],
            "batna": "static",
            "issues": {
                "x": {"kind": "continuous", "resolution": 10.0, "control": ["a", "b"]},
            },
            "parties": {
                "a": {
                    "strategy": "boulware",
                    "reservation_value": 0.0,
                    "preferences": {"x": {"ideal": 100.0, "salience": 1.0}},
                },
                "b": {
                    "strategy": "conceder",
                    "reservation_value": 0.0,
                    "preferences": {"x": {"ideal": 50.0, "salience": 1.0}},
                },
                "c": {
                    "strategy": "linear",
                    "reservation_value": 0.0,
                    "preferences": {"x": {"ideal": 0.0, "salience": 1.0, "red_line_above": 60}},
                },
            },
            "war": {"territory_issue": "x", "aggressor": "a", "defender": "b"},
        },
    )


def test_single_text_respects_the_red_line_of_a_party_without_control():
    model = run(non_controller_red_line_config("single_text"))
    assert model.binding
    check_agreement_invariants(model)


def test_alternating_offers_need_only_the_required_signatories():
    """By design (docs/model.md: an offer passes when every required signatory accepts), a
    seated party that controls nothing cannot veto, even across its red line."""
    model = run(non_controller_red_line_config("alternating_offers"))
    assert model.binding
    c = model.problem.party_index("c")
    assert model.red_line_crossed[c, model.agreement]
    assert not model.required[c, model.agreement]


# --- strategies in the model ------------------------------------------------------------


def test_hardliner_walks_out_at_its_deadline_and_the_talks_break_down():
    cfg = compose("parties.russia.strategy=hardliner", "parties.russia.deadline=5")
    model = run(cfg)
    row = negotiation_row(model.result(0))
    assert isinstance(model.by_index[model.parties.index("russia")].strategy, HardLiner)
    assert model.reason is EndReason.breakdown and row["reason"] == "breakdown"
    assert model.round == 5 and row["walked_out"] == "russia"
    assert not row["agreement"]
    trace = model.trace()
    russia = model.by_index[model.parties.index("russia")]
    assert russia.best == pytest.approx(1.0)
    assert (trace["aspiration_russia"] == russia.best).all()  # never conceded
    assert (trace["seated_russia"] == [True] * 4 + [False]).all()


def test_a_hardliner_without_control_leaving_does_not_end_the_talks():
    cfg = compose("parties.europe.strategy=hardliner", "parties.europe.deadline=2")
    model = run(cfg)
    assert model.walkouts == ["europe"]
    assert model.reason is not EndReason.breakdown
    assert not model.trace().query("round >= 2")["seated_europe"].any()


# --- command-line overrides --------------------------------------------------------------


def test_override_protocol():
    default, alternating = compose(), compose("protocol=alternating_offers")
    assert negotiation_settings(default).protocol is Protocol.single_text
    assert negotiation_settings(alternating).protocol is Protocol.alternating_offers
    assert set(run(default).trace()["proposer"]) == {"usa"}  # the mediator's single text
    model = run(alternating)
    assert model.settings.protocol is Protocol.alternating_offers
    assert set(model.trace()["proposer"]) == set(PARTIES)  # everyone proposes in turn


def test_override_seating():
    model = run(compose("seating=us_russia_first"))
    assert model.settings.seating is Seating.phased  # the scenario's name for it
    assert not model.trace()["seated_ukraine"].iloc[0]
    assert run(compose()).trace()["seated_ukraine"].iloc[0]


def test_override_seed():
    from sim.experiment.jobs import run_replications

    cfg = compose("seed=7")
    assert cfg.seed == 7
    rows7, _ = run_replications(cfg)
    rows0, _ = run_replications(compose("seed=0"))
    assert rows7[0]["seed"] == 7 and rows0[0]["seed"] == 0
    assert rows7[0]["contact_line"] != rows0[0]["contact_line"]  # other shocks to the line
    rows7_again, _ = run_replications(compose("seed=7"))
    assert rows7_again[0]["contact_line"] == rows7[0]["contact_line"]


@pytest.mark.parametrize(
    ("key", "value", "other", "index"),
    [("us_support", 0.3, 0.9, 0), ("europe_support", 0.8, 0.2, 1)],
)
def test_override_support_levels(key, value, other, index):
    cfg, other_cfg = compose(f"{key}={value}"), compose(f"{key}={other}")
    assert cfg[key] == value
    party = ("usa", "europe")[index]
    assert list(cfg.war.support)[index] == party
    assert cfg.war.support[party] == value  # the alias sets the supporter's level
    model, other_model = (run(c, collect_trace=False) for c in (cfg, other_cfg))
    assert model.war_params.supports[index] == value
    assert other_model.war_params.supports[index] == other
    # More support for Ukraine, smaller Russian share of strength, in the result row too.
    assert (model.p_share < other_model.p_share) == (value > other)
    row, other_row = negotiation_row(model.result(0)), negotiation_row(other_model.result(0))
    assert row["p_share"] == pytest.approx(model.p_share)
    assert (row["p_share"] < other_row["p_share"]) == (value > other)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_override_a_party_strategy(name):
    cfg = compose(f"parties.russia.strategy={name}")
    model = NegotiationModel(build_scenario(cfg), negotiation_settings(cfg), rng=0)
    russia = model.by_index[model.parties.index("russia")]
    assert type(russia.strategy) is STRATEGIES[StrategyName(name)]


def test_override_russia_boulware_and_its_effect():
    model = run(compose("parties.russia.strategy=boulware"))
    assert isinstance(model.by_index[model.parties.index("russia")].strategy, Boulware)
    conceding = run(compose("parties.russia.strategy=conceder"))
    assert model.binding and conceding.binding
    # A conceding Russia settles sooner, or for less.
    u_boulware = model.utilities[model.parties.index("russia"), model.agreement]
    u_conceder = conceding.utilities[conceding.parties.index("russia"), conceding.agreement]
    assert conceding.round < model.round or u_conceder < u_boulware


def test_override_max_rounds():
    cfg = compose("max_rounds=60")
    assert cfg.max_rounds == 60
    model = run(cfg)
    assert model.settings.max_rounds == 60
    assert all(a.deadline == 60 for a in model.by_index)  # no deadline of its own: max_rounds
    assert model.round <= 60
    assert run(compose()).round > 60  # by default the talks run past round 60


def test_override_batna_static_freezes_reservations():
    trace = run(compose("batna=static", "max_rounds=20")).trace()
    for party in PARTIES:
        assert trace[f"reservation_{party}"].nunique() == 1
    assert negotiation_settings(compose("batna=static")).batna is BatnaMode.static


# --- party agents -------------------------------------------------------------------------


def test_accepts_needs_aspiration_batna_and_no_red_line():
    assert accepts(0.6, 0.6, 0.5, False)
    assert accepts(0.6 - TOLERANCE / 2, 0.6, 0.5, False)  # rounding slack
    assert not accepts(0.59, 0.6, 0.5, False)
    assert not accepts(0.6, 0.5, 0.7, False)  # below the BATNA
    assert not accepts(1.0, 0.0, 0.0, True)  # across a red line


@pytest.mark.parametrize("aspiration", [0.99, 0.9, 0.75, 0.6, 0.3])
def test_propose_picks_what_the_others_value_most_then_own_then_lowest_index(aspiration):
    """The offer rule against a brute force over all outcomes (complete information)."""
    model = NegotiationModel(
        build_scenario(compose()),
        negotiation_settings(compose(), collect_trace=False),
        rng=np.random.default_rng(0),
    )
    model.step()
    U, d = model.utilities, model.reservations
    for agent in model.by_index:
        model.aspirations[0, agent.index] = aspiration * agent.best
        others = [j for j in range(len(model.parties)) if j != agent.index]
        surplus = np.where(model.red_line_crossed[others], -np.inf, U[others] - d[others, None])
        value = surplus.min(axis=0)
        candidates = np.flatnonzero(
            (U[agent.index] >= agent.aspiration - TOLERANCE)
            & ~model.red_line_crossed[agent.index]
            & model.implementable
        )
        best = candidates[value[candidates] == value[candidates].max()]
        best = best[U[agent.index, best] == U[agent.index, best].max()]
        assert agent.propose(np.array([0])).tolist() == [int(best.min())]


def test_responses_are_recorded_as_strings():
    model = run(compose("max_rounds=5"))
    values = set(model.trace()[[f"response_{p}" for p in PARTIES]].stack().dropna())
    assert values <= {str(Response.accept), str(Response.object)}
