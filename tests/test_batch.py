"""The batched model (sim.batch) gives every replication exactly the negotiation the
one-negotiation model (sim.model) gives it alone: same end, round, outcome, walkouts,
contact line and BATNAs, bit for bit, across protocols, seatings, strategies, walkouts,
frameworks, red lines, categorical issues and drawn uncertainties."""

from __future__ import annotations

import numpy as np
import pytest

from sim.batch import (
    BATCH_ELEMENTS,
    MAX_BATCH,
    BatchNegotiationModel,
    batch_size,
    supports,
    worth_batching,
)
from sim.config import Information
from sim.model import NegotiationModel, NegotiationSettings
from sim.replication import (
    apply_draws,
    draw_uncertain,
    negotiation_row,
    replication_seeds,
    run_replication,
    run_replications_batched,
)
from sim.scenario import build_scenario
from tests.helpers_model import compose, custom_config, fearon_config
from tests.test_model import non_controller_red_line_config, walkout_after_framework_config

REPLICATIONS = 6


def replication_inputs(cfg, seed: int = 3, replications: int = REPLICATIONS):
    """Per replication (scenario after draws, war parameters, negotiation seed), as
    sim.replication.run_replication derives them."""
    scenario = build_scenario(cfg)
    out = []
    for child in replication_seeds(seed, replications):
        draws_seed, model_seed, _ = child.spawn(3)
        draws_rng = np.random.default_rng(draws_seed)
        rep_scenario, wp = apply_draws(scenario, cfg, draw_uncertain(cfg, draws_rng), draws_rng)
        out.append((rep_scenario, wp, model_seed))
    return out


def single_models_and_batch(cfg, seed: int, replications: int):
    """The replications as one NegotiationModel each and as one batch, not yet run."""
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    inputs = replication_inputs(cfg, seed, replications)
    singles = [
        NegotiationModel(sc, settings, war_params=wp, rng=np.random.default_rng(s))
        for sc, wp, s in inputs
    ]
    batch = BatchNegotiationModel(
        [sc for sc, _, _ in inputs],
        settings,
        [wp for _, wp, _ in inputs],
        [np.random.default_rng(s) for _, _, s in inputs],
    )
    return singles, batch


def one_by_one_and_batched(cfg, seed: int = 3, replications: int = REPLICATIONS):
    singles, batch = single_models_and_batch(cfg, seed, replications)
    batch.run()
    return [m.run() for m in singles], [batch.replica(r) for r in range(replications)]


def assert_same_negotiation(replica, model) -> None:
    assert replica.reason == model.reason
    assert replica.round == model.round
    assert replica.outcome() == model.outcome()
    assert replica.binding == model.binding
    assert replica.framework == model.framework
    assert replica.walkouts == model.walkouts
    assert replica.walkout_reasons == model.walkout_reasons
    assert replica.contact_line == model.contact_line
    assert replica.p_share == model.p_share
    np.testing.assert_array_equal(replica.reservations, model.reservations)
    assert replica.zopa_size == model.zopa_size
    a, b = negotiation_row(replica), negotiation_row(model)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key]), key  # NaN == NaN


OVERRIDES = {
    "default": (),
    "alternating": ("protocol=alternating_offers",),
    "us_russia_first": ("seating=us_russia_first",),
    "us_russia_first_alternating": ("protocol=alternating_offers", "seating=us_russia_first"),
    "plan_28_points": ("scenario=plan_28_points_2025",),
    "paris_alternating": ("scenario=paris_2026", "protocol=alternating_offers"),
    "static_batna_walkouts": ("batna=static",),
    "volatile_war": ("war.volatility=4", "war.russia_capacity=3"),
    "reciprocal": ("parties.usa.strategy=reciprocal", "parties.europe.strategy=reciprocal"),
    "hardliner_leaves": ("parties.russia.strategy=hardliner", "parties.russia.deadline=20"),
    "mediator_leaves_at_once": ("parties.usa.strategy=hardliner", "parties.usa.deadline=1"),
    "mediator_leaves_later": ("parties.usa.strategy=hardliner", "parties.usa.deadline=4"),
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
}


@pytest.mark.parametrize("name", list(OVERRIDES))
def test_batch_matches_one_negotiation_at_a_time(name):
    singles, replicas = one_by_one_and_batched(compose(*OVERRIDES[name]))
    for replica, model in zip(replicas, singles, strict=True):
        assert_same_negotiation(replica, model)


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
                    "strategy": "linear",
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
        supporters={},
    )


CUSTOM = {
    "fearon_single_text": lambda: fearon_config(protocol="single_text"),
    "fearon_alternating": lambda: fearon_config(protocol="alternating_offers"),
    "framework_then_walkout_single_text": lambda: walkout_after_framework_config("single_text"),
    "framework_then_walkout_alternating": lambda: walkout_after_framework_config(
        "alternating_offers"
    ),
    "red_line_without_control_single_text": lambda: non_controller_red_line_config("single_text"),
    "red_line_without_control_alternating": lambda: non_controller_red_line_config(
        "alternating_offers"
    ),
    "categorical_single_text": lambda: categorical_config("single_text"),
    "categorical_alternating": lambda: categorical_config("alternating_offers"),
}


@pytest.mark.parametrize("name", list(CUSTOM))
def test_batch_matches_one_negotiation_at_a_time_on_hand_built_problems(name):
    singles, replicas = one_by_one_and_batched(CUSTOM[name]())
    assert any(m.outcome() is not None for m in singles) or name.startswith("fearon")
    for replica, model in zip(replicas, singles, strict=True):
        assert_same_negotiation(replica, model)


def test_the_cases_cover_the_protocol_paths():
    """The equivalence cases reach every ending, walkouts of both kinds and frameworks."""
    reasons, walkouts, frameworks = set(), set(), 0
    for name in ("default", "static_batna_walkouts", "hardliner_leaves", "us_russia_first"):
        singles, _ = one_by_one_and_batched(compose(*OVERRIDES[name]), replications=2)
        reasons |= {str(m.reason) for m in singles}
        walkouts |= {why for m in singles for why in m.walkout_reasons}
        frameworks += sum(m.framework is not None for m in singles)
    singles, _ = one_by_one_and_batched(CUSTOM["framework_then_walkout_single_text"](), 1, 1)
    reasons |= {str(m.reason) for m in singles}
    assert {"agreement", "breakdown"} <= reasons
    assert walkouts == {"batna", "deadline"}
    assert frameworks > 0


def test_a_replication_does_not_depend_on_its_batch():
    cfg = compose("war.volatility=4", "protocol=alternating_offers")
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    inputs = replication_inputs(cfg, seed=11, replications=5)

    def batch(chosen):
        return BatchNegotiationModel(
            [inputs[i][0] for i in chosen],
            settings,
            [inputs[i][1] for i in chosen],
            [np.random.default_rng(inputs[i][2]) for i in chosen],
        ).run()

    whole = batch(range(5))
    for r in range(5):
        alone = batch([r]).replica(0)
        inside = whole.replica(r)
        assert (alone.outcome(), alone.round, alone.contact_line) == (
            inside.outcome(),
            inside.round,
            inside.contact_line,
        )


def test_learned_information_is_refused_by_the_batch():
    cfg = compose("information=learned")
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    assert not supports(settings)
    assert supports(NegotiationSettings.from_config(compose(), collect_trace=False))
    scenario = build_scenario(cfg)
    with pytest.raises(ValueError, match=r"information: got 'learned'; a batch allows: 'complete'"):
        BatchNegotiationModel([scenario], settings, [scenario.war_params], [0])
    assert settings.information is Information.learned


def test_a_batch_needs_one_shared_outcome_space():
    a = build_scenario(compose())
    b = build_scenario(compose("issues.territory.resolution=2"))
    settings = NegotiationSettings.from_config(compose(), collect_trace=False)
    with pytest.raises(ValueError, match="share their outcome space"):
        BatchNegotiationModel([a, b], settings, [a.war_params, b.war_params], [0, 1])
    with pytest.raises(ValueError, match="one scenario, war parameters and generator"):
        BatchNegotiationModel([a, a], settings, [a.war_params], [0, 1])


@pytest.mark.parametrize(
    "name", ["default", "mediator_leaves_at_once", "us_russia_first_alternating", "reciprocal"]
)
def test_round_by_round_the_batch_follows_each_negotiation(name):
    """Offers, aspirations, BATNAs and the line agree in every round, not just at the end."""
    cfg = compose(*OVERRIDES[name], "max_rounds=40")
    singles, batch = single_models_and_batch(cfg, seed=5, replications=3)
    while batch.running:
        batch.step()
        for r, model in enumerate(singles):
            if not model.running:
                continue
            model.step()
            assert batch.offer[r] == (-1 if model.offer is None else model.offer)
            aspirations = [a.aspiration for a in model.by_index]
            np.testing.assert_array_equal(batch.aspiration[r], aspirations)
            np.testing.assert_array_equal(batch.reservations[r], model.reservations)
            assert batch.contact_line[r] == model.contact_line
    assert not any(model.running for model in singles)


def same_row(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (a[k] != a[k] and b[k] != b[k])
        for k in a  # NaN equals NaN
    )


@pytest.mark.parametrize(
    "overrides",
    [
        ("uncertainty.us_support.dist=uniform", "uncertainty.us_support.scale=0.3"),
        ("protocol=alternating_offers", "uncertainty.salience.dist=lognormal"),
        ("seating=us_russia_first", "war.volatility=4"),
    ],
)
def test_batched_rows_equal_rows_one_by_one_stability_included(overrides):
    cfg = compose(*overrides, "stability.robustness_draws=8", "stability.durability_paths=4")
    scenario = build_scenario(cfg)
    # SeedSequence.spawn counts its calls: each path gets its own, equal, seeds.
    alone = [run_replication(scenario, cfg, seed)[0] for seed in replication_seeds(9, 4)]
    batched = run_replications_batched(scenario, cfg, replication_seeds(9, 4))
    assert len(batched) == 4
    assert any(row["agreement"] for row in alone)
    for a, b in zip(batched, alone, strict=True):
        assert same_row(a, b)


def test_jobs_batch_only_where_it_pays_and_the_settings_allow():
    single = NegotiationSettings.from_config(compose(), collect_trace=False)
    alternating = NegotiationSettings.from_config(
        compose("protocol=alternating_offers"), collect_trace=False
    )
    learned = NegotiationSettings.from_config(compose("information=learned"), collect_trace=False)
    assert [worth_batching(single, n) for n in (1, 2, 3, 20)] == [False, False, True, True]
    assert [worth_batching(alternating, n) for n in (7, 8)] == [False, True]
    assert not worth_batching(learned, 100)


def test_a_long_job_runs_in_batches_of_bounded_size_with_the_same_rows():
    cfg = compose("uncertainty.us_support.dist=uniform", "uncertainty.us_support.scale=0.5")
    cfg.stability.robustness_draws, cfg.stability.durability_paths = 4, 2
    scenario = build_scenario(cfg)
    whole = run_replications_batched(scenario, cfg, replication_seeds(2, 7))
    calls = []
    in_threes = run_replications_batched(
        scenario,
        cfg,
        replication_seeds(2, 7),
        batch_size=3,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(3, 7), (6, 7), (7, 7)]
    assert len(whole) == len(in_threes) == 7
    for a, b in zip(whole, in_threes, strict=True):
        assert same_row(a, b)


def test_batch_size_keeps_the_largest_arrays_bounded():
    assert batch_size(2, 1_212) == MAX_BATCH  # 1,650 would fit: capped
    assert batch_size(4, 3_030) == BATCH_ELEMENTS // (7 * 4 * 3_030) == 235
    assert batch_size(4, 1_200_012) == 1
    assert batch_size(4, 10**8) == 1


def _edge_cases():
    from tests.test_edge_cases import (
        ISSUES,
        all_weight_on_one_issue,
        empty_zopa_config,
        minimal_config,
        party,
        pref,
    )

    same = party(land=pref(30.0), status=pref(70.0))
    one = {"kind": "ordinal", "levels": {"only": 50.0}}
    single_outcome = minimal_config(
        {"a": party(front=pref(0.0)), "b": party(front=pref(100.0))},
        {"front": one, "status": {"kind": "ordinal", "levels": {"fixed": 20.0}}},
        "front",
    )
    salience = {"salience": {"dist": "lognormal", "scale": 0.3}}
    return {
        "all_weight_on_one_issue": all_weight_on_one_issue(uncertainty=salience),
        "identical_parties": minimal_config({"a": same, "b": same, "c": same}, ISSUES, "land"),
        "one_outcome": single_outcome,
        "empty_zopa": empty_zopa_config(),
    }


@pytest.mark.parametrize("seating", ["inclusive", "us_russia_first"])
@pytest.mark.parametrize("protocol", ["single_text", "alternating_offers"])
@pytest.mark.parametrize(
    "case", ["all_weight_on_one_issue", "identical_parties", "one_outcome", "empty_zopa"]
)
def test_batch_matches_one_negotiation_at_a_time_on_edge_cases(case, protocol, seating):
    cfg = _edge_cases()[case]
    cfg.protocol, cfg.seating = protocol, seating
    singles, replicas = one_by_one_and_batched(cfg, replications=4)
    for replica, model in zip(replicas, singles, strict=True):
        assert_same_negotiation(replica, model)


def test_a_long_job_reports_its_progress_now_and_then(capsys, tmp_path):
    from sim.experiment import JobProgress

    report = JobProgress(tmp_path, "abc", every=0.0)
    report(250, 1000)
    report(1000, 1000)  # the end is reported by the sweep, not here
    quiet = JobProgress(tmp_path, "abc", every=3600.0)
    quiet(500, 1000)
    assert capsys.readouterr().out == "job abc: 250/1,000 replications\n"
