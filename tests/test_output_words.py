"""The words of a run's printout and terms sheet (issue 29, items 2, 4 and 7): the neutral
mediator's stakes, what breaks a deal adding up, the terms in words with their scale's
ends, thresholds as "needs at least", the war's issue by its name, tables that stay
aligned with long party names, and the verdict line that opens the negotiation."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.experiment.assessment import RobustnessDraws, _what_breaks
from sim.experiment.build import build_scenario
from sim.experiment.jobs import run_replications
from sim.front.cli import (
    breaking_words,
    drawn_words,
    format_landscape,
    format_negotiation,
    format_stability,
    landscape,
    last_text,
    verdict_line,
)
from sim.front.terms import level_words, scale_words, terms_sheet, words
from tests.conftest import SIGNS, compose_config
from tests.helpers_hardening import minimal_config

# -- item 2: the mediator's stated ideal, and the stakes it does not weigh ----------------


def landscape_of(overrides: list[str]) -> tuple[Any, Any, str]:
    cfg = compose_config(overrides)
    scenario = build_scenario(cfg)
    row = landscape(
        scenario, scenario.static_reservation, str(cfg.mediator), float(cfg.mediator_bias)
    )
    return cfg, row, format_landscape(scenario, row)


def test_a_neutral_mediator_shows_the_ideal_it_states_and_why_it_has_no_stake_there():
    """dayton_1995: the USA mediates and controls a level of the guarantees only, so under
    mediator_bias=0 it weighs neither territory nor the constitution; the printout gives
    the ideals it states there, and says so."""
    cfg, row, text = landscape_of(["scenario=dayton_1995"])
    assert (cfg.mediator, cfg.mediator_bias) == ("usa", 0.0)
    assert row["mediator_unweighted"] == "territory,constitution"
    prefs = cfg.parties.usa.preferences
    assert row["ideal_usa_territory"] == f"{prefs.territory.ideal:g}"  # its stated 49, not 0
    levels = {v: k for k, v in cfg.issues.constitution.levels.items()}
    assert row["ideal_usa_constitution"] == levels[prefs.constitution.ideal]
    assert (
        "  usa (mediator, mediator_bias=0): no stake in territory and constitution (it "
        "controls no level of them): the ideal shown there is the one it states, and its "
        "utilities below weigh only guarantees"
    ) in text.splitlines()


def test_a_mediator_with_no_stake_at_all_and_a_partial_bias_are_said_so():
    cfg, row, text = landscape_of(["scenario=template"])
    mediator = str(cfg.mediator)
    stated = cfg.parties[mediator].preferences.border.ideal
    assert f"  {mediator:<10} border={stated:g}" in text.splitlines()
    (line,) = [x for x in text.splitlines() if "(mediator" in x]
    assert line.endswith(
        "no stake in border (it controls no level of it): the ideal shown there is the one it "
        "states, and its utilities below are all 0"
    )
    _, row, text = landscape_of(["mediator_bias=0.5"])
    assert (
        "  usa (mediator, mediator_bias=0.5): its stake in territory counts 0.5 times its "
        "stated salience (it controls no level of it)"
    ) in text.splitlines()
    _, row, text = landscape_of(["mediator_bias=1"])
    assert row["mediator_unweighted"] == "" and "(mediator" not in text


# -- item 4: what breaks a deal adds up ------------------------------------------------------


def test_the_draws_in_which_a_deal_fails_split_into_fighting_and_blocking():
    """Every failing draw either has a signatory that would rather fight, or (only) a
    blocking coalition: `robustness_blocked_share` is the second part."""
    rng = np.random.default_rng(3)
    k = 400
    held = rng.random(k) < 0.6
    walks = (rng.random((k, 3)) < 0.3) & ~held[:, None]  # only failing draws have walkers
    drawn = RobustnessDraws(salience=np.ones((k, 3, 1)))
    result = type("R", (), {"scenario": type("S", (), {"parties": ("a", "b", "c")})()})()
    found = _what_breaks(result, drawn, held, walks)
    fighting = (walks.any(axis=1)).mean()
    assert 0 < found["robustness_blocked_share"] < (~held).mean()
    assert found["robustness_blocked_share"] + fighting == pytest.approx((~held).mean())
    assert found["robustness_breaker_share"] == pytest.approx(walks.mean(axis=0).max())


FAILS = re.compile(r"it fails in (\d+)% of the redraws of the uncertain inputs")
BOTH = re.compile(r": in (\d+)% because .*, in the other (\d+)% because a coalition could block")


@given(
    n=st.integers(8, 1000),
    failing=st.integers(1, 1000),
    blocked=st.integers(0, 1000),
    top=st.integers(1, 1000),
)
def test_the_breakdown_of_the_failing_draws_adds_up_to_the_failing_share(n, failing, blocked, top):
    failing = min(failing, n)
    blocked = min(blocked, failing)
    walking = failing - blocked
    row = {
        "robustness": 1 - failing / n,
        "robustness_blocked_share": blocked / n,
        "robustness_breaker": "blocking coalition" if walking == 0 else "x",
        "robustness_breaker_share": failing / n if walking == 0 else min(top, walking) / n,
    }
    text = breaking_words(row)
    total = int(FAILS.match(text).group(1))
    assert total == round((1 - row["robustness"]) * 100)
    assert abs(total - failing / n * 100) <= 0.5 + 1e-9
    both = BOTH.search(text)
    if walking and blocked:
        assert both, text
        fight, block = map(int, both.groups())
        assert fight + block == total
        assert abs(fight - walking / n * 100) <= 1 and abs(block - blocked / n * 100) <= 1
    else:
        assert not both and text.startswith(FAILS.match(text).group(0) + ", in all of them")
        assert ("would rather fight" if walking else "a coalition could block") in text


def test_a_deal_failing_mostly_to_a_coalition_says_so_in_numbers_that_add_up():
    """paris_2026 with war costlier signs a deal a coalition could block: it fails in every
    draw, in a few because Russia would rather fight, in the rest only to the coalition."""
    rows, _ = run_replications(compose_config(["scenario=paris_2026", *SIGNS]))
    row = rows[0]
    assert row["robustness"] == 0 and 0 < row["robustness_blocked_share"] < 1
    (line,) = [x for x in format_stability(row) if "what breaks it" in x]
    fight, block = map(int, BOTH.search(line).groups())
    assert int(FAILS.search(line).group(1)) == 100 == fight + block
    assert block == round(row["robustness_blocked_share"] * 100)
    assert f"(most often {row['robustness_breaker']}, in " in line


# -- item 7: the terms sheet ---------------------------------------------------------------


def table_lines(sheet: str) -> dict[str, str]:
    """The terms table's rows by issue."""
    return {
        line.split(" | ")[0].removeprefix("| "): line
        for line in sheet.splitlines()
        if line.startswith("| ") and line.count(" | ") == 2
    }


def check_terms(cfg: Any, levels: dict[str, Any], sheet: str) -> None:
    """Each issue's level once, in words, with what the ends of its scale mean."""
    table = table_lines(sheet)
    for issue, spec in cfg.issues.items():
        level = str(levels[issue])
        line = table[issue]
        _, agreed, meaning = line.strip("| ").split(" | ")
        if spec.kind == "ordinal":
            assert agreed == words(level) and line.count(words(level)) == 1, line
            assert level == words(level) or level not in line, line
            ranked = sorted(spec.levels.items(), key=lambda kv: kv[1])
            ends = [f"{v:g} is {words(k)}" for k, v in (ranked[0], ranked[-1]) if k != level]
        else:
            assert agreed == level
            at = {float(v): k for k, v in spec.anchors.items()}
            ends = [
                f"{end:g} is {words(at[end])}"
                for end in (spec.low, spec.high)
                if end != float(level)
            ]
        assert ends and all(end in meaning for end in ends), (ends, line)


def test_the_terms_sheet_names_each_level_once_with_its_scale_and_needs_at_least(tmp_path):
    cfg = compose_config(list(SIGNS))
    rows, model = run_replications(cfg, collect_trace=True)
    row = rows[0]
    assert row["agreement"]
    sheet = terms_sheet(cfg, row, list(model.problem.parties), format_stability(row), tmp_path)
    check_terms(cfg, row, sheet)
    assert (
        "| nato | treaty neutrality | 100, the high end of the scale, where 0 is membership |"
        in sheet
    )
    assert (
        "| territory | 50 | freeze current line, on a scale where 0 is borders 1991 and 100 is "
        "four oblasts recognised |"
    ) in sheet
    assert "robustness 0.86 (needs at least 0.95), durability 0.96 (needs at least 0.5), " in sheet
    assert "Powell's ratio 0.06 (needs at most 1)" in sheet
    assert ">=" not in sheet and "<=" not in sheet


def test_the_last_text_on_the_sheet_is_in_words_too(tmp_path):
    cfg = compose_config([])
    rows, model = run_replications(cfg, collect_trace=True)
    row, scenario = rows[0], model.problem
    text = last_text(model)
    assert not row["agreement"] and text is not None
    levels = {**row, **scenario.space.levels_of(text[0])}
    values = dict(zip(scenario.parties, text[1], strict=True))
    sheet = terms_sheet(cfg, row, list(scenario.parties), [], tmp_path, last_text=(levels, values))
    check_terms(cfg, levels, sheet)
    assert (
        "| territory | 49 | between borders 1991 (0) and freeze current line (50), on a scale "
        "where 0 is borders 1991 and 100 is four oblasts recognised |"
    ) in sheet


def test_scale_words_at_the_ends_between_them_and_without_names():
    assert scale_words(0, (0, "claim_a"), (100, "claim_b")) == (
        "the low end of the scale, where 100 is claim b"
    )
    assert scale_words(100, (0, "claim_a"), (100, "")) == (
        "the high end of the scale, where 0 is claim a"
    )
    assert scale_words(30, (0, "claim_a"), (100, "claim_b")) == (
        "on a scale where 0 is claim a and 100 is claim b"
    )
    assert scale_words(30, (0, ""), (100, "claim_b")) == "on a scale from 0 to 100 (claim b)"
    assert scale_words(0, (0, ""), (100, "")) == "the low end of its 0-100 scale"
    spec = {"kind": "categorical", "categories": ["red", "blue", "green"]}
    assert level_words("blue", spec) == ("blue", "a choice without order; the others: red, green")


# -- item 7: the printout ----------------------------------------------------------------------


def test_the_contact_line_is_on_the_scale_of_the_issue_the_war_moves():
    cfg = compose_config(["scenario=template"])
    assert cfg.war.territory_issue == "border"
    rows, model = run_replications(cfg, collect_trace=True)
    lines = format_negotiation(model, rows[0]).splitlines()
    assert lines[2].startswith(f"contact line {rows[0]['contact_line']:.1f} (border scale), ")
    assert "territory" not in "\n".join(lines)


LONG = "a_party_with_a_rather_long_name"
NUMBER = re.compile(r"[+-]?\d+\.\d{3}")


def long_name_model() -> tuple[Any, Any, dict[str, Any]]:
    grid = {"kind": "continuous", "low": 0.0, "high": 100.0, "resolution": 10.0}
    parties = {
        LONG: {"war_cost": 0.02, "preferences": {"land": {"ideal": 100.0, "salience": 1.0}}},
        "b": {"war_cost": 0.02, "preferences": {"land": {"ideal": 0.0, "salience": 1.0}}},
    }
    cfg = minimal_config(parties, {"land": grid}, "land", enforcement="self_enforcing")
    rows, model = run_replications(cfg, collect_trace=True)
    return cfg, model, rows[0]


def test_a_long_party_name_keeps_every_table_aligned():
    cfg, model, row = long_name_model()
    assert row["agreement"]
    scenario = model.problem
    lines = format_negotiation(model, row).splitlines()
    # each party's utility, BATNA and margin end where their column's label ends
    head = next(i for i, line in enumerate(lines) if line.startswith("party "))
    labels = [m.end() for m in re.finditer(r"utility|BATNA|margin", lines[head])]
    for line in lines[head + 1 : head + 3]:
        assert [m.end() for m in NUMBER.finditer(line)] == labels, lines[head : head + 3]
    # the values of renewing the war end where their month (then "deal", "path") ends
    head = next(i for i, line in enumerate(lines) if line.startswith("  month "))
    labels = [m.end() for m in re.finditer(r"\b\d+\b|deal|path", lines[head])]
    for line in lines[head + 1 : head + 3]:
        assert [m.end() for m in NUMBER.finditer(line)] == labels, lines[head : head + 3]
    # the ideal outcomes start in one column
    facts = landscape(scenario, model.reservations, str(cfg.mediator), float(cfg.mediator_bias))
    text = format_landscape(scenario, facts).splitlines()
    ideals = [x for x in text if "  land=" in x and x.split()[0] in scenario.parties]
    assert len(ideals) == 2 and len({x.index("land=") for x in ideals}) == 1


@pytest.mark.parametrize(
    ("row", "line"),
    [
        (
            {"robustness": 0.75, "robustness_shock": "parties.x.optimism:higher"},
            "a deal in round 2 that fails in 25% of plausible worlds, mostly when x's "
            "optimism is higher",
        ),
        (
            {"robustness": 0.5, "robustness_shock": "war.support.y:lower"},
            "a deal in round 2 that fails in 50% of plausible worlds, mostly when y's "
            "support is lower",
        ),
        (
            {"robustness": 1.0, "robustness_shock": ""},
            "a deal in round 2 that holds in every plausible world drawn",
        ),
        (
            {"robustness": 0.0, "robustness_shock": ""},
            "a deal in round 2 that fails in every plausible world drawn",
        ),
        (
            {"agreement": False, "reason": "breakdown", "walked_out": "x,y", "outcome": -1},
            "no deal: x and y walked out in round 2",
        ),
        (
            {
                "agreement": False,
                "reason": "ratification_failed",
                "rejected_by": "y",
                "outcome": -1,
            },
            "no deal: signed in round 2, then rejected by the ratifiers of y",
        ),
        (
            {"agreement": False, "reason": "horizon", "months": 24.0, "outcome": -1},
            "no deal: still fighting at the horizon (24 months, round 2)",
        ),
        (
            {"agreement": False, "reason": "deadline", "outcome": -1},
            "no deal by the deadline (round 2)",
        ),
        (
            {"agreement": False, "reason": "not_binding", "outcome": 4},
            "no binding deal: agreed in round 2, but a controlling party has not signed",
        ),
        (
            {"agreement": False, "reason": "not_binding", "outcome": -1},
            "no binding deal by round 2: a controlling party never signed the framework",
        ),
    ],
)
def test_the_verdict_says_what_happened_in_plain_words(row, line):
    base = {"agreement": True, "reason": "agreement", "round": 2, "outcome": 3}
    assert verdict_line({**base, **row}) == line


def test_the_verdict_opens_the_negotiation_block():
    rows, model = run_replications(compose_config(list(SIGNS)), collect_trace=True)
    row = rows[0]
    key, _, direction = row["robustness_shock"].partition(":")
    first = format_negotiation(model, row).splitlines()[0]
    assert first == (
        f"in short: a deal in round 1 that fails in {round((1 - row['robustness']) * 100)}% "
        f"of plausible worlds, mostly when {drawn_words(key)} is {direction}"
    )
