"""Which judgement values matter (`sim.experiment.sensitivity`, `python -m
sim.front.sensitivity_cli`): the J
values found from the scenario files' comments, their ranges, one-at-a-time swings with
common random numbers, Sobol indices through SALib against a known function, the tornado
chart and the command end to end."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from sim.experiment.judgement import (
    is_judgement,
    judgement_parameters,
    parameter_range,
    scenario_marks,
    select_parameters,
)
from sim.experiment.sensitivity import (
    OUTPUTS,
    Settings,
    apply_values,
    one_at_a_time,
    parse_options,
    ranking,
    sobol_indices,
    summarise,
)
from sim.experiment.validation import ConfigError
from sim.front import figures
from sim.front.labels import label
from sim.front.page_model import compose
from sim.front.sensitivity_cli import DEFAULT_REPLICATIONS, split_arguments
from tests.conftest import BEFORE_27, ROOT
from tests.helpers_hardening import files_under


@pytest.fixture(scope="module")
def brussels():
    cfg = compose("brussels_2025", ["replications=2"])
    found, left = judgement_parameters(cfg, "brussels_2025")
    return cfg, {p.key: p for p in found}, {x.key: x for x in left}


# --- which parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "judgement"),
    [
        ("J", True),
        ("J: one point of the scale", True),
        ("J; S: seed, Europe insists", True),
        ("S: Kiel tracker", False),
        ("S: ready to drop the bid; J: values", False),
        ("Judgement", False),
        ("", False),
    ],
)
def test_a_comment_marks_judgement_when_it_starts_with_j(comment, judgement):
    assert is_judgement(comment) is judgement


def test_the_j_values_of_brussels_are_found_from_the_comments(brussels):
    _, params, left = brussels
    for key in (
        "us_support",  # an alias, J on its own line
        "parties.usa.war_cost",
        "war.stake_years",  # the unit of the belligerents' sourced burdens
        "parties.ukraine.optimism",
        "parties.europe.preferences.territory.salience",  # "J; S: ..." in a flow mapping
        "war.capacity.russia",
        "war.discount",
        "war.guarantees.levels.article_5.force.usa",  # a flow mapping two levels deep
        "parties.russia.preferences.territory.audience_cost",  # J in a block mapping
        "parties.ukraine.preferences.territory.salience",  # "J; its red line is ..."
    ):
        assert key in params, key
    for key in (
        "war.contact_line",  # S
        "parties.usa.preferences.nato.salience",  # S
        "parties.russia.preferences.territory.red_line_below",  # S, beside J lines
        "parties.russia.war_burden",  # S: SIPRI
        "parties.russia.war_cost",  # set from the burden, in no file
        "war.guarantees.levels.guarantors_include_russia.force.russia",  # S
        "max_rounds",  # conf/config.yaml, not the scenario
    ):
        assert key not in params, key
    assert "issues.territory.resolution" in left  # J, but the outcome space's structure
    assert "war.drift.supports.europe" in left  # J, but 0: no relative range
    assert not any(k.startswith("issues.") for k in params)
    assert params["parties.usa.war_cost"].source == "conf/scenario/brussels_2025.yaml:85"


def test_a_scenario_that_builds_on_another_takes_its_own_lines():
    cfg = compose("paris_2026", ["replications=2"])
    params = {p.key: p for p in judgement_parameters(cfg, "paris_2026")[0]}
    assert params["us_support"].value == 0.15
    assert params["us_support"].source.startswith("conf/scenario/paris_2026.yaml:")
    assert params["war.capacity.russia"].value == 0.95
    assert params["parties.usa.war_cost"].source.startswith("conf/scenario/brussels_2025")
    assert params["war.stake_years"].source.startswith("conf/scenario/brussels_2025")
    assert "parties.russia.war_burden" not in params  # S in both files
    # brussels marks it J; paris sets it again on a line that starts with S
    assert "parties.usa.preferences.guarantees.salience" not in params


def test_marks_follow_the_defaults_list_and_ignore_a_hash_inside_a_value(tmp_path):
    scenarios = tmp_path / "scenario"
    scenarios.mkdir()
    (scenarios / "base.yaml").write_text(
        "# @package _global_\n"
        "a: 1.0  # J\n"
        "b: {x: 2.0, y: 'not # a comment'}  # J: both\n"
        "c: 3.0  # S: a source\n"
        "d: ${a}  # J: follows a\n"
    )
    (scenarios / "child.yaml").write_text(
        "# @package _global_\ndefaults:\n  - base\n  - _self_\nb:\n  x: 4.0  # S: newer\n"
    )
    marks = scenario_marks("child", tmp_path)
    assert {k: (Path(m.file).name, m.line, m.comment) for k, m in marks.items()} == {
        "a": ("base.yaml", 2, "J"),
        "b.x": ("child.yaml", 6, "S: newer"),
        "b.y": ("base.yaml", 3, "J: both"),
        "c": ("base.yaml", 4, "S: a source"),
        "d": ("base.yaml", 5, "J: follows a"),
    }
    assert [k for k, m in marks.items() if m.interpolated] == ["d"]


def test_a_command_line_value_is_the_base_and_a_directly_set_alias_key_drops_the_alias():
    cfg = compose("brussels_2025", ["parties.usa.war_cost=0.006", "war.support.usa=0.5"])
    params = {p.key: p for p in judgement_parameters(cfg, "brussels_2025")[0]}
    assert params["parties.usa.war_cost"].value == 0.006
    assert "us_support" not in params  # the key it stood for was set directly


def test_keys_select_parameters_by_pattern(brussels):
    _, params, _ = brussels
    chosen = select_parameters(list(params.values()), ["war.capacity.*", "parties.*.optimism"])
    assert [p.key for p in chosen] == [
        "parties.russia.optimism",
        "parties.ukraine.optimism",
        "war.capacity.russia",
        "war.capacity.ukraine",
    ]
    with pytest.raises(ConfigError, match=r"^sensitivity.keys: got 'nope\.\*'; allowed: "):
        select_parameters(list(params.values()), ["nope.*"])


# --- ranges --------------------------------------------------------------------------------


def test_ranges_obey_the_rule(brussels):
    cfg, params, _ = brussels
    expected = {
        "us_support": (0.2, 0.4),  # a support level: +-0.1
        "parties.russia.optimism": (0.0, 0.2),  # +-0.1, within [-1, 1]
        "parties.russia.preferences.territory.salience": (0.8, 1.0),  # clipped at 1
        "war.guarantees.levels.article_5.force.usa": (0.7, 0.9),  # a credibility
        "parties.russia.preferences.territory.ideal": (90.0, 100.0),  # +-10 of 0-100, clipped
        "parties.ukraine.preferences.nato.reservation": (45.0, 65.0),
        "parties.usa.war_cost": (0.001 / 1.5, 0.0015),  # a cost: x/÷1.5
        "war.stake_years": (2.0, 4.5),  # x/÷1.5
        "war.capacity.russia": (1 / 1.5, 1.5),
        "war.horizon_months": (16.0, 36.0),
        "war.drift.supports.usa": (-0.0075, -0.005 / 1.5),  # the sign kept
        "war.discount": (1 - 0.015, 1 - 0.01 / 1.5),  # the rate 1 - 0.99, x/÷1.5
    }
    for key, (low, high) in expected.items():
        assert (params[key].low, params[key].high) == pytest.approx((low, high)), key
    for p in params.values():
        assert p.low < p.high and p.low <= p.value <= p.high, p
        if p.rule.startswith("share"):
            assert p.high - p.low <= 0.2 + 1e-12
        elif p.rule.startswith("x/÷"):
            assert (p.low, p.high) == pytest.approx(tuple(sorted((p.value / 1.5, p.value * 1.5))))
    assert parameter_range("war.drift.capacity", 0.0, cfg) is None  # 0 has no relative range
    assert parameter_range("war.support.somebody", 0.95, cfg)[:2] == pytest.approx((0.85, 1.0))


def test_an_integer_judgement_value_gets_integer_ends():
    cfg = compose("plan_28_points_2025", ["replications=2"])
    params = {p.key: p for p in judgement_parameters(cfg, "plan_28_points_2025")[0]}
    rounds = params["phase_one_rounds"]  # 6 # J
    assert rounds.integer and (rounds.low, rounds.high) == (4, 9)
    assert isinstance(rounds.at(6.6), int)


# --- one setting, one at a time -------------------------------------------------------------


def test_a_setting_is_set_as_on_the_command_line(brussels):
    cfg, _, _ = brussels
    point = apply_values(cfg, {"us_support": 0.35, "parties.usa.war_cost": 0.005})
    assert point.war.support.usa == 0.35 and point.parties.usa.war_cost == 0.005
    assert cfg.war.support.usa == 0.3  # the base is untouched


def test_summarise_counts_deals_over_all_replications_and_means_over_deals():
    rows = [
        {
            "agreement": True,
            "stable": True,
            "stability_score": 1.0,
            "months": 2.0,
            "t_position": 60,
        },
        {
            "agreement": True,
            "stable": False,
            "stability_score": 0.5,
            "months": 4.0,
            "t_position": 80,
        },
        {"agreement": False, "stable": False, "stability_score": 0.0, "months": 24.0},
    ]
    found = summarise(rows, "t")
    assert found == pytest.approx(
        {
            "deal_share": 2 / 3,
            "stable_share": 1 / 3,
            "stability_score": 0.5,
            "territory": 70.0,
            "months": 3.0,
        }
    )
    assert math.isnan(summarise(rows[2:], "t")["territory"])


def test_oat_is_deterministic_and_more_aggressor_capacity_moves_deals_its_way():
    # on the data before the stated red lines (BEFORE_27): with them the default
    # deal trades territory for neutrality, and territory is no longer monotone in
    # Russia's capacity (docs/validation.md, "Model changes, scored")
    cfg = compose("brussels_2025", [*BEFORE_27, "replications=2"])
    params = {p.key: p for p in judgement_parameters(cfg, "brussels_2025")[0]}
    aggressor = f"war.capacity.{cfg.war.aggressor}"
    chosen = select_parameters(list(params.values()), ["war.capacity.*"])
    first = one_at_a_time(Settings(cfg), chosen)
    again = one_at_a_time(Settings(cfg), chosen)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == len(chosen) * len(OUTPUTS)
    territory = first[(first["parameter"] == aggressor) & (first["output"] == "territory")]
    row = territory.iloc[0]
    # a stronger aggressor expects more from war, so the deals give it more territory
    assert row["at_low"] < row["base"] < row["at_high"]
    assert row["swing"] == pytest.approx(row["at_high"] - row["at_low"])


def test_an_end_the_config_refuses_says_the_range_gave_it():
    cfg = compose("brussels_2025", ["replications=1", "parties.usa.war_cost=0.9"])
    params = judgement_parameters(cfg, "brussels_2025")[0]
    chosen = select_parameters(params, ["parties.usa.war_cost"])
    with pytest.raises(ConfigError) as info:
        one_at_a_time(Settings(cfg), chosen)
    assert str(info.value) == (
        "parties.usa.war_cost: got 1.35; allowed: a number in [0.0, 1.0] "
        "(1.35 is the high end of its sensitivity range, x/÷1.5 around 0.9)"
    )


def test_auto_replications_are_refused():
    with pytest.raises(ConfigError, match=r"^replications: got 'auto'"):
        Settings(compose("brussels_2025", ["replications=auto"]))


# --- Sobol ---------------------------------------------------------------------------------


def test_sobol_through_the_wrapper_finds_the_ishigami_indices():
    """Ishigami & Homma (1990), a = 7, b = 0.1: S1 = (0.314, 0.442, 0), ST = (0.558,
    0.442, 0.244) (Saltelli et al. 2008, Primer)."""
    found = sobol_indices(
        ["x1", "x2", "x3"],
        [(-math.pi, math.pi)] * 3,
        lambda x: np.column_stack([Ishigami.evaluate(x), np.ones(len(x))]),
        samples=1024,
        seed=0,
        outputs=("y", "constant"),
    )
    y = found[found["output"] == "y"].set_index("parameter")
    assert y["S1"].to_numpy() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.05)
    assert y["ST"].to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.05)
    assert (y["ST_conf"] > 0).all() and (y["evaluations"] == 1024 * 5).all()
    constant = found[found["output"] == "constant"]
    assert constant["ST"].isna().all() and constant["note"].str.contains("no variance").all()
    again = sobol_indices(
        ["x1", "x2", "x3"],
        [(-math.pi, math.pi)] * 3,
        lambda x: Ishigami.evaluate(x)[:, None],
        samples=1024,
        seed=0,
    )
    pd.testing.assert_frame_equal(again, found[found["output"] == "y"].reset_index(drop=True))


def test_sobol_needs_a_power_of_two():
    with pytest.raises(ConfigError, match=r"^sensitivity\.samples: got 48; allowed: a power of 2"):
        sobol_indices(["x"], [(0.0, 1.0)], lambda x: x, samples=48, seed=0)


def test_ranking_puts_the_largest_total_index_first():
    oat = pd.DataFrame(
        [
            {
                "parameter": k,
                "value": 1.0,
                "low": 0.5,
                "high": 1.5,
                "rule": "x/÷1.5",
                "output": o,
                "swing": s,
            }
            for k, s in (("a", 0.1), ("b", 0.3), ("c", 0.2))
            for o in OUTPUTS
        ]
    )
    sobol = pd.DataFrame(
        [
            {"parameter": k, "output": o, "S1": st / 2, "S1_conf": 0.1, "ST": st, "ST_conf": 0.1}
            for k, st in (("a", 0.5), ("b", np.nan), ("c", 0.7))
            for o in OUTPUTS
        ]
    )
    assert ranking(oat, sobol, "stable_share")["parameter"].tolist() == ["c", "a", "b"]
    assert ranking(oat, sobol.iloc[0:0], "stable_share")["parameter"].tolist() == ["b", "c", "a"]


# --- options, the figure, the command -------------------------------------------------------


def test_options_are_typed_and_checked():
    options = parse_options(
        ["sensitivity.samples=64", "sensitivity.keys=[war.*,parties.*.war_cost]"]
    )
    assert options.samples == 64 and options.keys == ["war.*", "parties.*.war_cost"]
    for text, message in (
        ("sensitivity.samples=48", "sensitivity.samples: got 48; allowed: 0 (no Sobol"),
        ("sensitivity.output=x", "sensitivity.output: got 'x'; allowed: one of ["),
        ("sensitivity.top=0", "sensitivity.top: got 0; allowed: an integer >= 1"),
    ):
        with pytest.raises(ConfigError) as info:
            parse_options([text])
        assert str(info.value).startswith(message)
    scenario, overrides, own = split_arguments(
        ["scenario=paris_2026", "seed=3", "sensitivity.top=3"]
    )
    assert (scenario, overrides, own) == (
        "paris_2026",
        [f"replications={DEFAULT_REPLICATIONS}", "seed=3"],
        ["sensitivity.top=3"],
    )
    assert split_arguments(["replications=20"])[1] == ["replications=20"]


def test_tornado_labels_are_words_sorted_by_swing():
    rows = []
    for key, low, high in (
        ("parties.somebody.war_cost", 0.6, 0.8),
        ("war.capacity.somebody", 0.2, 0.9),
        ("war.guarantees.levels.strong.force.other", 0.5, 0.5),
    ):
        rows.append(
            {
                "parameter": key,
                "value": 1.0,
                "low": 0.5,
                "high": 1.5,
                "output": "stable_share",
                "base": 0.5,
                "at_low": low,
                "at_high": high,
            }
        )
    fig = figures.tornado_figure(pd.DataFrame(rows), "stable_share", "brussels_2025: stable deals")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [  # largest swing on top: the last tick
        f"{label('war.guarantees.levels.strong.force.other')} (0.5 to 1.5)",
        "somebody: cost of war (utility a month) (0.5 to 1.5)",
        "somebody capacity (own strength) (0.5 to 1.5)",
    ]
    assert ax.get_title() == "brussels_2025: stable deals"
    assert "share with a stable deal" in ax.get_xlabel()
    matplotlib.pyplot.close(fig)


def _command(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.front.sensitivity_cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_command_writes_the_three_files(tmp_path):
    done = _command(
        [
            "replications=1",
            "sensitivity.samples=2",
            "sensitivity.keys=[war.capacity.*,parties.*.optimism]",
            f"results_dir={tmp_path}",
        ]
    )
    assert done.returncode == 0, done.stderr
    folders = list((tmp_path / "sensitivity").iterdir())
    assert [f.name.startswith("brussels_2025-") for f in folders] == [True]  # no staging left
    assert sorted(p.name for p in folders[0].iterdir()) == [
        "oat.parquet",
        "sobol.parquet",
        "tornado.png",
    ]
    oat = pd.read_parquet(folders[0] / "oat.parquet")
    sobol = pd.read_parquet(folders[0] / "sobol.parquet")
    assert len(oat) == len(sobol) == 4 * len(OUTPUTS)
    assert (sobol["evaluations"] == 2 * (4 + 2)).all()
    assert "4 judgement values, 21 settings x 1 replications" in done.stdout
    assert "swing deal_share" in done.stdout and "ST stability_score" in done.stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["us_support=1.5"], "error: us_support: got 1.5; allowed: a number in [0.0, 1.0]"),
        (
            ["sensitivity.samples=3"],
            "error: sensitivity.samples: got 3; allowed: 0 (no Sobol indices) or a power of 2 "
            "up to 65,536",
        ),
    ],
)
def test_a_bad_override_gives_one_line_and_status_2(tmp_path, args, line):
    done = _command([*args, f"results_dir={tmp_path / 'results'}"])
    assert done.returncode == 2
    assert done.stderr.splitlines() == [line]
    assert files_under(tmp_path) == []
