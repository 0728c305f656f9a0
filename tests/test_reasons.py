"""Why a deal holds or breaks, in words and in columns (issue 18): what breaks a deal in its
robustness draws, and the terms sheet each run writes (`deal.md`)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from sim.experiment.assessment import RobustnessDraws, _what_breaks, drawn_inputs
from sim.experiment.jobs import run_replications
from sim.front.cli import drawn_words, format_stability
from sim.front.terms import level_meaning, terms_rows
from tests.conftest import SIGNS, compose_config
from tests.helpers_hardening import run_sim

SHOCK = re.compile(r"^(war|parties)\.[a-z_]+\.[a-z_]+:(higher|lower)$")


def synthetic(k: int = 200, seed: int = 1):
    """Draws of a scenario with three parties, two of them supporters (c, then b) and a
    the aggressor."""
    rng = np.random.default_rng(seed)
    drawn = RobustnessDraws(
        salience=np.ones((k, 3, 2)),
        supports=rng.normal(0, 0.1, (k, 2)),
        scale=np.exp(rng.normal(0, 0.1, (k, 4))),
        costs=np.exp(rng.normal(0, 0.3, (k, 3))),
        optimism=rng.normal(0, 0.05, (k, 3)),
    )
    scenario = SimpleNamespace(parties=("a", "b", "c"), supporters=(2, 1), war_sides=(0, 1))
    return SimpleNamespace(scenario=scenario), drawn


def test_the_input_that_separates_failing_from_holding_draws_is_named_with_its_direction():
    result, drawn = synthetic()
    held = drawn.supports[:, 0] > -0.05  # the deal fails when c's support is drawn low
    walks = np.zeros((held.size, 3), dtype=bool)
    walks[~held, 1] = True  # and then b would rather fight
    found = _what_breaks(result, drawn, held, walks)
    assert found == {
        "robustness_breaker": "b",
        "robustness_breaker_share": pytest.approx((~held).mean()),
        "robustness_blocked_share": 0.0,  # b would rather fight in every failing draw
        "robustness_shock": "war.support.c:lower",
    }
    assert drawn_words("war.support.c") == "c's support"
    assert drawn_words("parties.b.war_cost") == "b's war cost"


def test_a_deal_failing_only_to_coalitions_and_a_deal_that_never_fails():
    result, drawn = synthetic()
    held = drawn.costs[:, 2] < 1.1  # fails when c's cost is high; nobody walks: a block
    walks = np.zeros((held.size, 3), dtype=bool)
    found = _what_breaks(result, drawn, held, walks)
    assert found["robustness_breaker"] == "blocking coalition"
    assert found["robustness_breaker_share"] == pytest.approx((~held).mean())
    assert found["robustness_blocked_share"] == pytest.approx((~held).mean())
    assert found["robustness_shock"] == "parties.c.war_cost:higher"
    always = _what_breaks(result, drawn, np.ones(held.size, bool), walks)
    assert always == {
        "robustness_breaker": "",
        "robustness_breaker_share": 0.0,
        "robustness_blocked_share": 0.0,
        "robustness_shock": "",
    }


def test_drawn_inputs_are_named_by_config_key_from_the_scenarios_data():
    result, drawn = synthetic(k=5)
    inputs = drawn_inputs(result, drawn)
    assert list(inputs) == [
        "war.support.c",
        "war.support.b",
        "war.capacity.a",
        "war.capacity.b",
        "parties.c.capability",
        "parties.b.capability",
        "parties.a.war_cost",
        "parties.a.optimism",
        "parties.b.war_cost",
        "parties.b.optimism",
        "parties.c.war_cost",
        "parties.c.optimism",
    ]
    np.testing.assert_array_equal(inputs["parties.b.capability"], drawn.scale[:, 3])


@pytest.mark.parametrize("overrides", [[], ["scenario=paris_2026"], ["bargaining=calendar"]])
def test_every_deal_row_says_what_breaks_it(overrides):
    rows, _ = run_replications(compose_config([*overrides, "replications=4"]))
    for row in rows:
        if not row["agreement"]:
            assert row["robustness_breaker"] == "" and np.isnan(row["robustness_breaker_share"])
            assert np.isnan(row["robustness_blocked_share"])
            continue
        failing = 1.0 - row["robustness"]
        assert 0 <= row["robustness_blocked_share"] <= failing + 1e-12
        if failing == 0:
            assert row["robustness_breaker"] == "" and row["robustness_shock"] == ""
            continue
        parties = list(compose_config(overrides).parties)
        assert row["robustness_breaker"] in [*parties, "blocking coalition"]
        assert 0 < row["robustness_breaker_share"] <= failing + 1e-12  # among the failures
        if row["robustness"] > 0:  # both failing and holding draws: an input separates them
            assert SHOCK.match(row["robustness_shock"]), row["robustness_shock"]
        text = "\n".join(format_stability(row))
        assert f"it fails in {round(failing * 100)}% of the redraws" in text


def test_a_level_between_two_anchors_is_named_by_both():
    anchors = {"borders": 0.0, "line": 50.0, "dmz": 65.0, "plan": 80.0}
    assert level_meaning(70, anchors) == "between dmz (65) and plan (80)"
    assert level_meaning(50, anchors) == "line"
    assert level_meaning(90, anchors) == "beyond plan (80)"
    assert level_meaning(-5, anchors) == "short of borders (0)"


def test_a_run_writes_its_terms_sheet(tmp_path):
    run = run_sim([f"results_dir={tmp_path}", *SIGNS])
    assert run.returncode == 0, run.show()
    [sheet] = tmp_path.glob("runs/*/deal.md")
    text = sheet.read_text()
    cfg = compose_config(list(SIGNS))
    import pandas as pd

    row = pd.read_parquet(sheet.parent / "result.parquet").iloc[0].to_dict()
    assert text.startswith(f"# Terms sheet: {row['scenario']} ({row['protocol']}, ")
    for issue, level, meaning in terms_rows(cfg, row):
        assert f"| {issue} | {level} | {meaning} |" in text
    territory = float(row["territory"])
    assert level_meaning(territory, dict(cfg.issues.territory.anchors)) in text
    for party in cfg.parties:
        gain = row[f"u_{party}"] - row[f"reservation_{party}"]
        assert f"| {party} | {row[f'u_{party}']:.3f} | " in text and f"{gain:+.3f} |" in text
    assert "## Stability: " in text and "what breaks it" in text
    assert "](negotiation.png)" in text and "glossary.md" in text
    assert "deal.md" in run.stdout
