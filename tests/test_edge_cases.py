"""Numerical edge cases: degenerate preferences and outcome spaces run without a crash,
without NaN where a value is defined, and end for a sensible reason.

Configs are merged onto the bare schema (`OmegaConf.structured(SimConfig)`) and run
in-process through `sim.experiment.jobs.run_replications` (scenario, draws, negotiation,
stability), the same path as `python -m sim`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.experiment.assessment import STABILITY_COLUMNS
from sim.experiment.build import build_scenario
from sim.experiment.jobs import run_replications
from sim.front.cli import format_landscape, format_negotiation, landscape
from tests.helpers_hardening import minimal_config
from tests.helpers_model import compose

PROTOCOLS = ("single_text", "alternating_offers")
SEATINGS = ("inclusive", "phased")  # minimal configs name no seating aliases

THREE_LEVELS = {"kind": "ordinal", "levels": {"low": 0.0, "mid": 50.0, "high": 100.0}}
GRID = {"kind": "continuous", "low": 0.0, "high": 100.0, "resolution": 10.0}
ISSUES = {"land": THREE_LEVELS, "status": GRID}


def party(war_cost: float = 0.002, **preferences: dict[str, Any]) -> dict[str, Any]:
    return {"war_cost": war_cost, "preferences": preferences}


def pref(ideal: float, salience: float = 1.0, **more: Any) -> dict[str, Any]:
    return {"ideal": ideal, "salience": salience, **more}


def nan_columns(row: dict[str, Any]) -> set[str]:
    return {k for k, v in row.items() if isinstance(v, float) and math.isnan(v)}


def undefined_without_agreement(row: dict[str, Any]) -> set[str]:
    """The columns that have no value when nothing was agreed: the utilities, the agreed
    positions, the distances to Nash / KS, and the stability measures."""
    cols = {k for k in row if k.startswith("u_") or k.endswith("_position")}
    reasons = {"blocking_coalition", "blocking_alternative", "closest_to_walking", "failing_parts"}
    reasons |= {"deciding_part"}
    reasons |= {"robustness_breaker", "robustness_shock"}
    cols |= {"dist_nash", "dist_ks"} | set(STABILITY_COLUMNS) - {
        "blocking_coalitions",
        "monitored",
        *reasons,
    }
    return cols | unjudged(row)


def unjudged(row: dict[str, Any]) -> set[str]:
    """Self-enforcement's columns without a value: all of them under `assumed`; whether the
    deal holds and when the war resumes without a deal; the month where it holds."""
    if row["enforcement"] == "assumed":
        return {"self_enforcing", "renewal_month", "self_enforcing_outcomes"}
    if row["outcome"] < 0:
        return {"self_enforcing", "renewal_month"}
    return {"renewal_month"} if row["self_enforcing"] == 1.0 else set()


def run(cfg, protocol: str, seating: str = "inclusive") -> list[dict[str, Any]]:
    cfg = cfg.copy()
    cfg.protocol, cfg.seating = protocol, seating
    rows, model = run_replications(cfg, collect_trace=True)
    scenario = model.problem
    # the printed report works too (the CLI prints it): without a deal it shows the last
    # text's values, or the BATNAs alone, never "nan"
    assert "nan" not in format_landscape(scenario, landscape(scenario, model.reservations))
    report = format_negotiation(model, rows[0])
    assert "nan" not in report
    return rows


def assert_defined(row: dict[str, Any]) -> None:
    """No NaN when there is an agreement; without one, NaN exactly where undefined."""
    if row["agreement"]:
        # the linear stability model measures no commitment ratio (docs/model.md)
        # nor what breaks the deal in its robustness draws
        linear = row["stability.model"] == "linear"
        unmeasured = {"commitment_ratio", "robustness_breaker_share", "robustness_blocked_share"}
        unmeasured = unmeasured if linear else set()
        unmeasured |= unjudged(row)
        assert nan_columns(row) == unmeasured, nan_columns(row)
        assert all(0.0 <= row[k] <= 1.0 + 1e-9 for k in row if k.startswith("u_"))
        assert 0.0 <= row["stability_score"] <= 1.0
    else:
        assert nan_columns(row) == undefined_without_agreement(row)
        assert row["blocking_coalitions"] == -1 and row["stable"] is False
    for key in ("contact_line", "p_share", "round", "zopa_size"):
        assert np.isfinite(row[key]), key
    for key in row:
        if key.startswith("reservation_"):
            assert np.isfinite(row[key]) and 0.0 <= row[key] <= 1.0, key


# --- the cases ------------------------------------------------------------------------------


def all_weight_on_one_issue(**top):
    return minimal_config(
        {
            "a": party(land=pref(0.0, 1.0), status=pref(0.0, 0.0)),
            "b": party(land=pref(100.0, 0.5), status=pref(100.0, 0.5)),
            "c": party(land=pref(50.0, 0.0), status=pref(30.0, 2.0)),
        },
        ISSUES,
        "land",
        **top,
    )


@pytest.mark.parametrize("enforcement", ["assumed", "self_enforcing"])
@pytest.mark.parametrize("seating", SEATINGS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_all_weight_on_one_issue(protocol, seating, enforcement):
    # replications draw salience factors: zero weights must stay zero, not turn into NaN
    cfg = all_weight_on_one_issue(
        replications=3,
        uncertainty={"salience": {"dist": "lognormal", "scale": 0.3}},
        enforcement=enforcement,
    )
    weights = build_scenario(cfg).preferences.weights
    np.testing.assert_allclose(weights[0], [1.0, 0.0])
    np.testing.assert_allclose(weights[2], [0.0, 1.0])
    rows = run(cfg, protocol, seating)
    assert len(rows) == 3
    for row in rows:
        assert_defined(row)
        assert row["reason"] in {"agreement", "breakdown", "deadline", "not_binding"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_identical_parties_agree_at_once_on_their_common_best(protocol):
    same = party(land=pref(30.0), status=pref(70.0))
    cfg = minimal_config({"a": same, "b": same, "c": same}, ISSUES, "land")
    scenario = build_scenario(cfg)
    best = float(scenario.utilities[0].max())
    (row,) = run(cfg, protocol)
    assert_defined(row)
    assert (row["agreement"], row["reason"], row["round"]) == (True, "agreement", 1)
    assert [row["u_a"], row["u_b"], row["u_c"]] == pytest.approx([best] * 3)
    assert row["reservation_a"] == row["reservation_b"] == row["reservation_c"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_all_ideal_points_equal_agree_in_round_one_at_the_ideal(protocol):
    cfg = minimal_config(
        {
            "a": party(land=pref(50.0, 1.0), status=pref(40.0, 0.2)),
            "b": party(land=pref(50.0, 0.3), status=pref(40.0, 1.0), war_cost=0.01),
            "c": party(land=pref(50.0, 0.5, decay=20.0), status=pref(40.0, 0.5, curvature=2.0)),
        },
        ISSUES,
        "land",
    )
    (row,) = run(cfg, protocol)
    assert_defined(row)
    assert (row["agreement"], row["reason"], row["round"]) == (True, "agreement", 1)
    assert (row["land"], row["status"]) == ("mid", "40")
    assert [row["u_a"], row["u_b"], row["u_c"]] == pytest.approx([1.0, 1.0, 1.0])
    assert row["pareto_gap"] == pytest.approx(0.0)
    assert row["blocking_coalitions"] == 0


@pytest.mark.parametrize("batna", ["war", "static"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_outcome_space_of_one_outcome(protocol, batna):
    one = {"kind": "ordinal", "levels": {"only": 50.0}}
    cfg = minimal_config(
        {
            "a": party(front=pref(0.0), status=pref(100.0, 0.5)),
            "b": party(front=pref(100.0), status=pref(0.0, 0.5)),
        },
        {"front": one, "status": {"kind": "ordinal", "levels": {"fixed": 20.0}}},
        "front",
        batna=batna,
    )
    scenario = build_scenario(cfg)
    assert scenario.space.size == 1
    rows = run(cfg, protocol)
    (row,) = rows
    assert_defined(row)
    # the only outcome is worth at least the BATNA (static: the worst level is that
    # outcome; war: fighting costs), so it is agreed at once
    assert (row["agreement"], row["reason"], row["round"]) == (True, "agreement", 1)
    assert row["outcome"] == 0 and row["zopa_size"] == 1
    assert row["pareto_gap"] == pytest.approx(0.0)
    assert row["blocking_coalitions"] == 0


def empty_zopa_config(max_rounds: int = 8):
    """Both parties' BATNA is 1.0 and no outcome gives both their ideal: nothing beats it."""
    return minimal_config(
        {
            "a": party(land=pref(0.0), status=pref(0.0)) | {"reservation_value": 1.0},
            "b": party(land=pref(100.0), status=pref(100.0)) | {"reservation_value": 1.0},
        },
        ISSUES,
        "land",
        batna="static",
        max_rounds=max_rounds,
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_empty_zopa_from_the_first_round(protocol):
    cfg = empty_zopa_config()
    (row,) = run(cfg, protocol)
    assert_defined(row)
    assert row["agreement"] is False and row["outcome"] == -1
    assert row["reason"] in {"breakdown", "deadline"}
    assert row["round"] <= 8
    if row["reason"] == "breakdown":  # after waiting walkout_patience rounds
        assert row["walked_out"] and row["round"] == cfg.walkout_patience
    assert row["reservation_a"] == row["reservation_b"] == 1.0
    assert np.isnan(row["u_a"]) and np.isnan(row["u_b"])
    assert row["stability_score"] == 0.0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_empty_zopa_is_reported_empty_after_the_breakdown(protocol):
    (row,) = run(empty_zopa_config(), protocol)
    assert row["zopa_size"] == 0


def test_an_empty_zopa_landscape_has_no_concept_but_the_utilitarian():
    cfg = minimal_config(
        {
            "a": party(land=pref(0.0)) | {"reservation_value": 1.0},
            "b": party(land=pref(100.0)) | {"reservation_value": 1.0},
        },
        {"land": THREE_LEVELS},
        "land",
        batna="static",
    )
    scenario = build_scenario(cfg)
    row = landscape(scenario, scenario.static_reservation)
    assert row["zopa_size"] == 0
    for concept in ("nash", "kalai_smorodinsky", "egalitarian"):
        assert row[f"{concept}_outcome"] == -1
        assert np.isnan(row[f"{concept}_u_a"])
    assert row["utilitarian_outcome"] >= 0
    assert not np.isnan(row["utilitarian_u_a"])
    text = format_landscape(scenario, row)
    assert text.count("none: the zone of possible agreement is empty") == 3


# -- no configuration without a possible deal crashes (issue 14, item 5) -----------------
PACKAGES = ["all", "no_article_5", "european_force", "monitoring_only", "none"]


@settings(max_examples=12, deadline=None)
@given(
    package=st.sampled_from(PACKAGES),
    protocol=st.sampled_from(["single_text", "alternating_offers"]),
    seating=st.sampled_from(["inclusive", "us_russia_first"]),
    bargaining=st.sampled_from(["fighting", "calendar"]),
    us_support=st.floats(0.0, 1.0),
    salience=st.sampled_from([0.0, 0.1, 0.4]),
    seed=st.integers(0, 2**16),
)
def test_random_configurations_give_rows_not_crashes(
    package, protocol, seating, bargaining, us_support, salience, seed
):
    overrides = [
        f"guarantees_offer={package}",
        f"protocol={protocol}",
        f"seating={seating}",
        f"bargaining={bargaining}",
        f"us_support={us_support}",
        f"seed={seed}",
        "replications=3",
        "max_rounds=25",
        "stability.robustness_draws=4",
        "stability.durability_paths=2",
        "uncertainty.war_costs.dist=lognormal",
        "uncertainty.war_costs.scale=0.25",
    ]
    if salience:
        overrides += [
            "uncertainty.salience.dist=lognormal",
            f"uncertainty.salience.scale={salience}",
        ]
    rows, _ = run_replications(compose(*overrides))
    assert len(rows) == 3
    for row in rows:
        assert row["reason"] in {"agreement", "breakdown", "deadline", "not_binding", "horizon"}
        assert row["agreement"] == (row["outcome"] >= 0 and row["binding"])


def test_a_configuration_where_every_outcome_crosses_a_red_line_ends_without_a_deal():
    # guarantees_offer=none leaves only "none", Ukraine's red line: no deal can exist
    for protocol in ("single_text", "alternating_offers"):
        for bargaining in ("fighting", "calendar"):
            rows, _ = run_replications(
                compose(
                    "guarantees_offer=none",
                    f"protocol={protocol}",
                    f"bargaining={bargaining}",
                    "replications=2",
                    "max_rounds=20",
                    "uncertainty.salience.dist=lognormal",
                    "uncertainty.salience.scale=0.1",
                    "stability.robustness_draws=4",
                    "stability.durability_paths=2",
                )
            )
            assert [r["agreement"] for r in rows] == [False, False]
