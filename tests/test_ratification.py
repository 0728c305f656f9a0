"""Ratification (Putnam 1988; docs/model.md, "Ratification"): a deal signed at the table
that a signatory's ratifier rejects ends the talks as `ratification_failed`; a ratifier
the negotiator anticipates binds it at the table (Schelling's tied hands) and moves the
deal into the ratifier's set; bad ratifier config is named."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from sim.core.settings import EndReason
from sim.engine.model import NegotiationBatch
from sim.engine.single import NegotiationModel
from sim.experiment.build import build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.replication import negotiation_row
from sim.experiment.validation import ConfigError
from sim.front.cli import format_negotiation
from tests.helpers_model import fearon_config


def duel(anticipated: bool = False, rejects: dict | None = None):
    """Fearon's duel, p = 0.6, c = 0.05 and 0.1: every split in [55, 70] beats war; b's
    voters reject any share above 55 for a."""
    cfg = fearon_config(p=0.6, cost_a=0.05, cost_b=0.1)
    cfg.bargaining, cfg.mediator_bias = "fighting", 0.0
    ratification = {
        "by": "referendum",
        "rejects": rejects or {"territory": {"red_line_above": 55.0}},
        "anticipated": anticipated,
    }
    return OmegaConf.merge(cfg, {"parties": {"b": {"ratification": ratification}}})


def results(cfg, n: int = 4):
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    return NegotiationBatch([scenario] * n, settings, rngs=list(range(n))).run().results()


def test_a_deal_outside_a_ratifiers_set_fails_ratification():
    found = results(duel())
    assert all(r.reason is EndReason.ratification_failed for r in found)
    assert all(not r.agreement and r.outcome is None for r in found)
    assert all(r.signed > 55 and r.rejected_by == ("b",) for r in found)  # index = share
    row = negotiation_row(found[0])
    assert row["reason"] == "ratification_failed" and row["rejected_by"] == "b"
    assert row["signed_outcome"] == found[0].signed and row["outcome"] == -1


def test_without_the_ratifier_the_same_talks_sign_the_same_deal():
    cfg = duel()
    cfg.parties.b.ratification.rejects = {}
    cfg.parties.b.ratification.by = None
    signed = [r.outcome for r in results(cfg)]
    assert signed == [r.signed for r in results(duel())]


def test_an_anticipated_ratifier_ties_the_negotiators_hands():
    found = results(duel(anticipated=True))
    assert all(r.agreement and r.outcome == 55 for r in found)  # the ratifier's best for a


def test_a_deal_inside_the_ratifiers_set_is_ratified():
    found = results(duel(rejects={"territory": {"red_line_above": 90.0}}))
    assert all(r.agreement and r.reason is EndReason.agreement for r in found)


def test_the_report_names_the_ratifier_that_rejected_the_deal():
    cfg = duel()
    scenario = build_scenario(cfg)
    model = NegotiationModel(scenario, negotiation_settings(cfg), rng=0).run()
    row = negotiation_row(model.result(0))
    row.update({"seating": "inclusive", "war.aggressor": "a"})
    report = format_negotiation(model, row)
    assert "then rejected by b's referendum: ratification failed" in report


@pytest.mark.parametrize(
    ("ratification", "message"),
    [
        ({"by": "vote", "rejects": {"land": {}}}, "parties.b.ratification.rejects: got 'land'"),
        (
            {"rejects": {"territory": {"red_line_above": 50.0}}},
            "parties.b.ratification.by: got None",
        ),
        (
            {"by": "vote", "rejects": {"territory": {"red_line_above": 150.0}}},
            "parties.b.ratification.rejects.territory.red_line_above: got 150.0",
        ),
    ],
)
def test_bad_ratifiers_are_named(ratification, message):
    cfg = OmegaConf.merge(fearon_config(), {"parties": {"b": {"ratification": ratification}}})
    with pytest.raises(ConfigError, match=message):
        build_scenario(cfg)


def test_recognition_apart_from_control_in_the_28_point_plan():
    """plan_28_points_2025 separates recognition from control (docs/model.md): Ukraine
    never signs de jure recognition (its constitution, arts. 2 and 73) at any line, its
    ratifier rejects the land beyond the opening line whatever is recognised, and a de facto
    recognition of the line as it stands is open to it."""
    from tests.conftest import compose_config

    scenario = build_scenario(compose_config(["scenario=plan_28_points_2025"]))
    names = [issue.name for issue in scenario.space.issues]
    grid = scenario.space.grid
    level = {
        name: i for i, name in enumerate(scenario.space.issues[names.index("recognition")].levels)
    }
    territory = scenario.space.issues[names.index("territory")].positions[
        grid[:, names.index("territory")]
    ]
    ukraine = list(scenario.parties).index("ukraine")
    vetoed = scenario.red_line_crossed[ukraine]
    rejects = scenario.ratification_rejects[ukraine]
    recognised = grid[:, names.index("recognition")]
    assert vetoed[recognised == level["de_jure"]].all()
    assert rejects[territory > 50].all()
    open_to_it = (recognised == level["de_facto"]) & (territory == 50) & ~vetoed & ~rejects
    assert open_to_it.any()
    # control and recognition vary apart: every pair of a line and a recognition exists
    pairs = set(zip(territory, recognised, strict=True))
    assert len(pairs) == len(set(territory)) * len(level)
