"""The one negotiation engine (sim.engine.model): a batch of replications, each ending on its own.

What every replication must satisfy wherever it runs: the agreement invariants (IR, red
lines, issue control, Fearon's range) in batches; its result does not depend on the batch
it ran in or its position there (a property over random batches, learned information
included); the engine applies each party's `Strategy.aspiration` whatever the tactic; the
robustness shortcut equals the full computation."""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core import opponents
from sim.core.strategies import AspirationInput, Strategy
from sim.engine.model import BATCH_ELEMENTS, MAX_BATCH, EndReason, NegotiationBatch, batch_size
from sim.engine.result import NegotiationResult
from sim.engine.single import NegotiationModel
from sim.experiment.assessment import deal_structure, robustness
from sim.experiment.build import build_scenario
from sim.experiment.compiler import compile_job, design_of, negotiation_settings
from sim.experiment.draws import replication_seeds
from sim.experiment.replication import negotiate, replication_inputs
from tests.helpers_model import EPS, compose, custom_config, fearon_config
from tests.test_model import non_controller_red_line_config, walkout_after_framework_config

OVERRIDES = {
    "default": (),
    "alternating": ("protocol=alternating_offers",),
    "us_russia_first": ("seating=us_russia_first",),
    "us_russia_first_alternating": ("protocol=alternating_offers", "seating=us_russia_first"),
    "plan_28_points": ("scenario=plan_28_points_2025",),
    "paris_alternating": ("scenario=paris_2026", "protocol=alternating_offers"),
    "static_batna_walkouts": ("batna=static",),
    "volatile_war": ("war.volatility=4", "war.capacity.russia=3"),
    "reciprocal": ("parties.usa.strategy=reciprocal", "parties.europe.strategy=reciprocal"),
    "hardliner_leaves": ("parties.russia.strategy=hardliner", "parties.russia.deadline=20"),
    "mediator_leaves_at_once": ("parties.usa.strategy=hardliner", "parties.usa.deadline=1"),
    "europe_leaves_alternating": (
        "protocol=alternating_offers",
        "parties.europe.strategy=hardliner",
        "parties.europe.deadline=3",
    ),
    "drawn_saliences_and_support": (
        "uncertainty.salience.dist=lognormal",
        "uncertainty.salience.scale=0.3",
        "uncertainty.us_support.dist=uniform",
        "uncertainty.us_support.scale=0.3",
    ),
    "drawn_costs_short_talks": (
        "uncertainty.war_costs.dist=lognormal",
        "uncertainty.war_costs.scale=1.0",
        "max_rounds=30",
    ),
    "package_on_offer": ("guarantees_offer=monitoring_only", "protocol=alternating_offers"),
    "short_talks": ("max_rounds=3", "parties.russia.deadline=50"),
    "learned": ("information=learned",),
    "learned_alternating_phased": (
        "information=learned",
        "protocol=alternating_offers",
        "seating=us_russia_first",
        "war.volatility=2",
    ),
    "learned_drawn_saliences": (
        "information=learned",
        "uncertainty.salience.dist=lognormal",
        "uncertainty.salience.scale=0.3",
    ),
}


def categorical_config(protocol: str):
    """Three parties; a categorical issue (who monitors) beside a continuous one."""
    monitors = {"un": 1.0, "osce": 0.6, "china": 0.0}
    return custom_config(
        {
            "scenario_name": "categorical",
            "max_rounds": 40,
            "protocol": protocol,
            "mediator": "a",
            "phase_one_parties": ["a"],
            "batna": "static",
            "issues": {
                "x": {"kind": "continuous", "resolution": 5.0, "control": ["a", "b"]},
                "monitor": {
                    "kind": "categorical",
                    "categories": list(monitors),
                    "control": ["b", "c"],
                },
            },
            "parties": {
                "a": {
                    "capability": 2.0,
                    "reservation_value": 0.2,
                    "preferences": {
                        "x": {"ideal": 100.0, "salience": 1.0},
                        "monitor": {"table": {"un": 0.2, "osce": 1.0, "china": 0.5}},
                    },
                },
                "b": {
                    "strategy": "boulware",
                    "reservation_value": 0.2,
                    "preferences": {
                        "x": {"ideal": 0.0, "salience": 1.0},
                        "monitor": {"table": monitors, "salience": 0.5},
                    },
                },
                "c": {
                    "strategy": "conceder",
                    "capability": 0.5,
                    "reservation_value": 0.1,
                    "preferences": {
                        "x": {"ideal": 40.0, "salience": 0.3},
                        "monitor": {"table": {"un": 0.0, "osce": 0.3, "china": 1.0}},
                    },
                },
            },
            "war": {"territory_issue": "x", "aggressor": "a", "defender": "b"},
        },
    )


CUSTOM = {
    "fearon_alternating": lambda: fearon_config(protocol="alternating_offers"),
    "framework_then_walkout": lambda: walkout_after_framework_config("single_text"),
    "framework_then_walkout_alternating": lambda: walkout_after_framework_config(
        "alternating_offers"
    ),
    "red_line_without_control": lambda: non_controller_red_line_config("single_text"),
    "categorical_single_text": lambda: categorical_config("single_text"),
    "categorical_alternating_learned": lambda: _learned(categorical_config("alternating_offers")),
}


def _learned(cfg):
    cfg.information = "learned"
    return cfg


def config(name: str):
    return CUSTOM[name]() if name in CUSTOM else compose(*OVERRIDES[name])


@functools.cache
def inputs_of(name: str, seed: int = 3, replications: int = 6):
    """Each replication's inputs (scenario after its draws, war parameters, seeds)."""
    cfg = config(name)
    scenario = build_scenario(cfg)
    return cfg, [
        replication_inputs(scenario, design_of(cfg), s)
        for s in replication_seeds(seed, replications)
    ]


def batch_of(name: str, chosen, **overrides) -> NegotiationBatch:
    cfg, inputs = inputs_of(name)
    picked = [inputs[i] for i in chosen]
    return NegotiationBatch(
        [x.scenario for x in picked],
        negotiation_settings(cfg, collect_trace=False, **overrides),
        [x.war_params for x in picked],
        [x.model_seed for x in picked],
    ).run()


@functools.cache
def alone(name: str, r: int) -> NegotiationResult:
    return batch_of(name, [r]).result(0)


def assert_same_result(a: NegotiationResult, b: NegotiationResult) -> None:
    for field in ("reason", "round", "outcome", "binding", "framework", "walkouts"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.walkout_reasons == b.walkout_reasons
    assert (a.contact_line, a.p_share, a.zopa_size) == (b.contact_line, b.p_share, b.zopa_size)
    np.testing.assert_array_equal(a.reservations, b.reservations)


# --- agreement invariants, in batches ----------------------------------------------------


def check_invariants(batch: NegotiationBatch, r: int) -> None:
    """What every replication must satisfy when it ends (docs/model.md, issue control)."""
    result = batch.result(r)
    assert batch.reasons[r] is not None and not batch.live[r]
    assert 1 <= result.round <= batch.settings.max_rounds
    assert set(result.walkouts) <= set(batch.parties)
    assert len(result.walkouts) == len(result.walkout_reasons)
    if result.outcome is None:
        assert not result.binding
        assert result.reason in (EndReason.breakdown, EndReason.deadline, EndReason.not_binding)
        return
    if not result.binding:
        assert result.reason is EndReason.not_binding
        return
    assert result.reason is EndReason.agreement and result.agreement
    outcome = result.outcome
    signed = set(np.flatnonzero(batch.asked[r] & batch.accepted[r]))
    required = set(np.flatnonzero(batch.required[:, outcome]))
    assert required <= signed  # every controlling party signed ...
    assert not {batch.parties[i] for i in required} & set(result.walkouts)  # ... and stayed
    assert batch.can_implement[r, outcome]
    u = result.scenario.utilities[:, outcome]
    for i in signed:  # individually rational, within the signatories' red lines
        assert u[i] >= result.reservations[i] - EPS
        assert not batch.red_line_crossed[i, outcome]
    np.testing.assert_array_equal(result.utilities, u)


@pytest.mark.parametrize("name", [*OVERRIDES, *CUSTOM])
def test_every_replication_of_a_batch_keeps_the_agreement_invariants(name):
    batch = batch_of(name, range(6))
    for r in range(batch.n):
        check_invariants(batch, r)


def test_the_cases_reach_every_ending_both_walkouts_and_frameworks():
    reasons, whys, frameworks = set(), set(), 0
    names = ("static_batna_walkouts", "hardliner_leaves", "short_talks")
    for name in (*names, "us_russia_first", "learned_alternating_phased"):
        for result in batch_of(name, range(6)).results():
            reasons.add(str(result.reason))
            whys |= set(result.walkout_reasons)
            frameworks += result.framework is not None
    reasons |= {str(r.reason) for r in batch_of("framework_then_walkout", range(2)).results()}
    assert reasons == {"agreement", "breakdown", "deadline", "not_binding"}
    assert whys == {"batna", "deadline"}
    assert frameworks > 0


@pytest.mark.parametrize("protocol", ["single_text", "alternating_offers"])
def test_fearon_range_holds_in_a_batch_of_different_wars(protocol):
    """Fearon (1995): any deal gives the aggressor a share in [p - c_a, p + c_b]; here
    each replication of one batch fights its own war (p from 0.2 to 0.8)."""
    cost_a, cost_b = 0.05, 0.1
    cfg = fearon_config(cost_a=cost_a, cost_b=cost_b, protocol=protocol)
    scenario = build_scenario(cfg)
    shares = [0.2, 0.35, 0.5, 0.65, 0.8]
    wars = [
        dataclasses.replace(scenario.war_params, aggressor_capacity=p, defender_capacity=1 - p)
        for p in shares
    ]
    batch = NegotiationBatch(
        [scenario] * len(shares),
        negotiation_settings(cfg, collect_trace=False),
        wars,
        list(range(len(shares))),
    ).run()
    for r, p in enumerate(shares):
        result = batch.result(r)
        assert result.binding, p
        np.testing.assert_allclose(result.reservations, [p - cost_a, 1 - p - cost_b], atol=1e-12)
        x = scenario.space.grid_positions[result.outcome, 0] / 100.0
        assert p - cost_a - EPS <= x <= p + cost_b + EPS, (p, x)


# --- a replication does not depend on its batch -------------------------------------------

PROPERTY_CASES = [
    "default",
    "alternating",
    "us_russia_first_alternating",
    "volatile_war",
    "reciprocal",
    "hardliner_leaves",
    "drawn_saliences_and_support",
    "learned",
    "learned_alternating_phased",
    "learned_drawn_saliences",
    "categorical_alternating_learned",
]


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(PROPERTY_CASES),
    chosen=st.lists(st.integers(0, 5), min_size=1, max_size=6, unique=True),
)
def test_a_replication_ends_the_same_in_any_batch_at_any_position(name, chosen):
    batch = batch_of(name, chosen)
    for position, r in enumerate(chosen):
        assert_same_result(batch.result(position), alone(name, r))


@pytest.mark.parametrize("name", ["default", "learned_alternating_phased", "reciprocal"])
def test_a_negotiation_is_a_batch_of_one_round_by_round(name):
    """NegotiationModel (with its trace) and a batch step in lockstep: same offers,
    aspirations, BATNAs and line in every round, not only at the end."""
    cfg, inputs = inputs_of(name)
    settings_ = negotiation_settings(cfg, collect_trace=True, max_rounds=40)
    singles = [
        NegotiationModel(x.scenario, settings_, x.war_params, x.model_seed) for x in inputs[:3]
    ]
    batch = NegotiationBatch(
        [x.scenario for x in inputs[:3]],
        settings_,
        [x.war_params for x in inputs[:3]],
        [x.model_seed for x in inputs[:3]],
    )
    while batch.running:
        batch.step()
        for r, model in enumerate(singles):
            if not model.running:
                continue
            model.step()
            assert batch.offers[r] == (-1 if model.offer is None else model.offer)
            np.testing.assert_array_equal(
                batch.aspirations[r], [a.aspiration for a in model.by_index]
            )
            np.testing.assert_array_equal(batch.batnas[r], model.reservations)
            assert batch.lines[r] == model.contact_line
    assert not any(model.running for model in singles)
    for r, model in enumerate(singles):
        assert len(model.trace()) == model.round
        assert_same_result(model.result(0), batch.result(r))


def test_the_trace_follows_the_round_state():
    model = NegotiationModel(
        build_scenario(compose()), negotiation_settings(compose()), rng=0
    ).run()
    trace = model.trace()
    assert trace["round"].tolist() == list(range(1, model.round + 1))
    last = trace.iloc[-1]
    assert last["offer"] == model.agreement
    for agent in model.by_index:
        assert last[f"aspiration_{agent.name}"] == agent.aspiration
        assert last[f"reservation_{agent.name}"] == agent.reservation
        assert last[f"response_{agent.name}"] == str(agent.last_response)


# --- the engine applies each strategy's own rule ------------------------------------------


class Stepwise(Strategy):
    """A tactic the engine has never seen: concede a fixed 0.01 a round."""

    name = "stepwise"  # type: ignore[assignment]
    classifier = {  # noqa: RUF012
        "time_dependent": True,
        "reactive": False,
        "concedes": True,
        "walks_out_at_deadline": False,
    }

    def aspiration(self, x: AspirationInput):
        return x.best - 0.01 * x.round


def test_the_engine_sets_aspirations_with_the_strategy_it_is_given():
    """Every tactic goes through `Strategy.aspiration`: a new one is not replaced by a
    formula the engine knows (the drift of the old batch copy)."""
    cfg, inputs = inputs_of("default")
    batch = NegotiationBatch(
        [x.scenario for x in inputs[:3]],
        negotiation_settings(cfg, collect_trace=False),
        [x.war_params for x in inputs[:3]],
        [x.model_seed for x in inputs[:3]],
    )
    party = batch.by_index[1]
    party.strategy = Stepwise()
    for _ in range(5):
        batch.step()
        best, floor = batch.best[0, 1], batch.batnas[:, 1]
        expected = np.maximum(np.maximum(best, floor) - 0.01 * batch.round, floor)
        np.testing.assert_array_equal(batch.aspirations[batch.live, 1], expected[batch.live])


# --- learned information, batched ---------------------------------------------------------


def test_learned_counts_give_the_frequency_model_of_the_offers_made():
    """The engine's running counts estimate each party as `sim.core.opponents` does from its
    whole offer history (here read back from the trace of alternating offers)."""
    cfg = compose("information=learned", "protocol=alternating_offers", "max_rounds=30")
    model = NegotiationModel(build_scenario(cfg), negotiation_settings(cfg), rng=4)
    model.run()
    trace = model.trace()
    estimates = model._learned_utilities(np.array([0]))[0]
    space = model.space
    for agent in model.by_index:
        offers = trace.loc[trace["proposer"] == agent.name, "offer"].to_numpy()
        assert offers.size > 0
        levels = space.grid[offers]
        expected = opponents.estimated_utilities(levels, space.shape)
        np.testing.assert_allclose(estimates[agent.index], expected, rtol=0, atol=1e-12)


def test_learned_and_complete_information_differ():
    complete = [r.outcome for r in batch_of("default", range(6)).results()]
    learned = [r.outcome for r in batch_of("learned", range(6)).results()]
    assert complete != learned


# --- jobs: rows, batches, the robustness shortcut -----------------------------------------


def same_row(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (a[k] != a[k] and b[k] != b[k])
        for k in a  # NaN equals NaN
    )


@pytest.mark.parametrize("overrides", [(), ("information=learned", "war.volatility=3")])
def test_rows_do_not_depend_on_batch_size_or_the_traced_first_replication(overrides):
    cfg = compose(
        *overrides,
        "uncertainty.us_support.dist=uniform",
        "uncertainty.us_support.scale=0.5",
        "stability.robustness_draws=4",
        "stability.durability_paths=2",
    )
    job = compile_job(cfg)
    # SeedSequence.spawn counts its calls: each run gets its own, equal, seeds.
    whole, none = negotiate(job, replication_seeds(2, 7))
    calls = []
    in_threes, _ = negotiate(
        job,
        replication_seeds(2, 7),
        batch_size=3,
        progress=lambda d, t: calls.append((d, t)),
    )
    traced, first = negotiate(job, replication_seeds(2, 7), trace_first=True, batch_size=4)
    assert none is None and isinstance(first, NegotiationModel) and len(first.trace()) > 0
    assert calls == [(3, 7), (6, 7), (7, 7)]
    assert any(row["agreement"] for row in whole)
    for a, b, c in zip(whole, in_threes, traced, strict=True):
        assert same_row(a, b) and same_row(a, c)


@pytest.mark.parametrize(
    "name", ["default", "drawn_saliences_and_support", "package_on_offer", "learned"]
)
def test_the_robustness_shortcut_equals_the_full_computation(name):
    """Robustness draws over "outcomes some coalition could move to, and the deal" give
    the share computed over every outcome (the oracle), draw for draw."""
    cfg, _ = inputs_of(name)
    results = [r for r in batch_of(name, range(6)).results() if r.agreement]
    assert results
    for k, result in enumerate(results):
        structure = deal_structure(result.scenario, result.outcome)
        short = robustness(result, cfg.stability, np.random.default_rng(k), structure)
        full = robustness(
            result, cfg.stability, np.random.default_rng(k), structure, every_outcome=True
        )
        assert short == full
        assert 0.0 <= short <= 1.0


def test_a_result_reads_plainly():
    result = batch_of("default", [0]).result(0)
    assert result.agreement and result.outcome is not None
    assert result.signatories.all()
    none = dataclasses.replace(result, outcome=None, binding=False)
    assert not none.agreement and np.isnan(none.utilities).all()


def test_a_batch_needs_one_shared_outcome_space():
    a = build_scenario(compose())
    b = build_scenario(compose("issues.territory.resolution=2"))
    settings_ = negotiation_settings(compose(), collect_trace=False)
    with pytest.raises(ValueError, match="share their outcome space"):
        NegotiationBatch([a, b], settings_, [a.war_params, b.war_params], [0, 1])
    with pytest.raises(ValueError, match="one scenario, war parameters and generator"):
        NegotiationBatch([a, a], settings_, [a.war_params], [0, 1])
    slow = dataclasses.replace(a.war_params, adjustment_rate=0.5)
    with pytest.raises(ValueError, match="must share adjustment_rate"):
        NegotiationBatch([a, a], settings_, [a.war_params, slow], [0, 1])


def test_batch_size_keeps_the_largest_arrays_bounded():
    assert batch_size(2, 1_212) == MAX_BATCH  # 1,650 would fit: capped
    assert batch_size(4, 3_030) == BATCH_ELEMENTS // (7 * 4 * 3_030) == 235
    assert batch_size(4, 1_200_012) == 1
    assert batch_size(4, 10**8) == 1


def test_a_long_job_reports_its_progress_now_and_then(capsys, tmp_path):
    from sim.experiment.jobs import JobProgress

    report = JobProgress("job abc", every=0.0)
    report(250, 1000)
    report(1000, 1000)  # the end is reported by the sweep, not here
    quiet = JobProgress("job abc", every=3600.0, first=3600.0)
    quiet(500, 1000)
    out = capsys.readouterr().out
    assert re.fullmatch(r"job abc: 250/1,000 replications, ETA 0:00:0\d\n", out), out
