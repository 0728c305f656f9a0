"""Any conflict from a YAML file: a conflict-neutral engine, aliases, replacing entries,
the template and Dayton 1995 (docs/new-conflict.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core import war
from sim.core.settings import Seating
from sim.experiment.build import build_scenario
from sim.experiment.compiler import design_of, negotiation_settings
from sim.experiment.designs import active_uncertainties, design_points
from sim.experiment.draws import apply_draws, draw_uncertain
from sim.experiment.jobs import run_replications
from sim.experiment.validation import ConfigError
from sim.front import figures
from tests.conftest import BEFORE_27, ROOT, compose_config
from tests.helpers_hardening import run_sim, sweep_dir

# Names of this war's parties and places: none may appear in the engine's code.
COUNTRY_WORDS = {"usa", "us", "russia", "russian", "ukraine", "ukrainian", "europe"}
COUNTRY_WORDS |= {"european", "nato", "kyiv", "moscow", "washington", "brussels", "paris"}
# Result columns that describe the job, not the negotiation.
JOB_COLUMNS = {"job", "code_version", "overrides", "us_support", "europe_support", "seating"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr):
            value = node.body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def _code_words(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every identifier and string literal in `path` but its docstrings."""
    tree = ast.parse(path.read_text())
    docs = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docs:
                out.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            out.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            out.append((node.lineno, node.attr))
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            out.append((node.lineno, node.name))
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            out.append((getattr(node, "lineno", 0), node.arg))
    return out


def test_the_engine_names_no_country():
    found = [
        f"{path.name}:{line}: {text!r}"
        for path in sorted((ROOT / "sim").glob("*.py"))
        for line, text in _code_words(path)
        if COUNTRY_WORDS & {w.lower() for w in re.split(r"[^A-Za-z]+|_", text)}
    ]
    assert found == []


def test_the_check_finds_a_country_in_code(tmp_path):
    source = tmp_path / "x.py"
    source.write_text('"""Russia is fine in a docstring."""\nus_support = {"europe": 1}\n')
    words = {w.lower() for _, t in _code_words(source) for w in re.split(r"[^A-Za-z]+|_", t)}
    assert {"us", "europe"} <= words and "russia" not in words


# --- the Russia-Ukraine scenarios are unchanged by the renaming ------------------------------


def test_default_rows_are_those_before_the_renaming():
    """Pinned from the code before the engine was made conflict-neutral (commit 0ff8ffa)."""
    rows = pd.DataFrame(run_replications(compose_config([*BEFORE_27, "replications=3"]))[0])
    assert rows["outcome"].tolist() == [2125, 2125, 2125]
    assert rows["territory_position"].tolist() == [70.0, 70.0, 70.0]
    assert rows["robustness"].tolist() == [0.734375, 0.75, 0.703125]
    assert rows["u_russia"].tolist() == pytest.approx([0.6979166666666665] * 3, abs=1e-12)
    assert rows["us_support"].tolist() == rows["war.support.usa"].tolist() == [0.3] * 3


def test_drawn_rows_are_those_before_the_renaming():
    """The same seed draws the same values under the general keys (commit 0ff8ffa)."""
    spreads = {
        "us_support": ("uniform", 0.1),
        "europe_support": ("normal", 0.1),
        "russia_capacity": ("lognormal", 0.3),
        "ukraine_capacity": ("uniform", 0.05),
        "war_costs": ("lognormal", 0.2),
        "salience": ("lognormal", 0.1),
    }
    overrides = [*BEFORE_27, "replications=6"]
    for name, (dist, scale) in spreads.items():
        overrides += [f"uncertainty.{name}.dist={dist}", f"uncertainty.{name}.scale={scale}"]
    rows = pd.DataFrame(run_replications(compose_config(overrides))[0])
    assert rows["outcome"].tolist() == [1675, 2275, 1315, 2426, 2426, 2005]
    assert rows["war.support.usa_drawn"].iloc[[0, 5]].tolist() == pytest.approx(
        [0.35416669939064965, 0.3932829219530957], abs=1e-15
    )
    assert rows["war.capacity.russia_drawn"].iloc[[0, 5]].tolist() == pytest.approx(
        [0.7588236401100956, 0.9118596730448459], abs=1e-15
    )
    assert rows["war.capacity.ukraine_drawn"].iloc[0] == pytest.approx(0.2979874547082539)
    assert rows["war_costs_drawn"].iloc[0] == pytest.approx(0.9813209945245488)
    assert rows["uncertainty.war.support.usa"].iloc[0] == "uniform(0.1)"


def _results(overrides: list[str]) -> pd.DataFrame:
    rows = pd.DataFrame(run_replications(compose_config(overrides))[0])
    return rows.drop(columns=[c for c in JOB_COLUMNS if c in rows])


@pytest.mark.parametrize(
    ("alias", "general"),
    [
        (
            ["us_support=0.6", "europe_support=0.2"],
            ["war.support.usa=0.6", "war.support.europe=0.2"],
        ),
        (
            ["uncertainty.us_support.dist=uniform", "uncertainty.us_support.scale=0.2"],
            ["uncertainty.war.support.usa.dist=uniform", "uncertainty.war.support.usa.scale=0.2"],
        ),
        (["seating=us_russia_first"], ["seating=phased"]),
    ],
    ids=["support", "uncertainty", "seating"],
)
def test_an_alias_and_its_general_key_give_the_same_rows(alias, general):
    common = ["replications=2", "max_rounds=12"]
    pd.testing.assert_frame_equal(_results([*common, *alias]), _results([*common, *general]))


def test_the_general_key_wins_and_drops_the_alias():
    cfg = compose_config(["us_support=0.1", "war.support.usa=0.9"])
    scenario = build_scenario(cfg)
    assert "us_support" not in cfg and "europe_support" in cfg
    assert scenario.war_params.supports.tolist() == [0.9, 0.7]
    rows = run_replications(compose_config(["war.support.usa=0.9", "max_rounds=5"]))[0]
    assert "us_support" not in rows[0] and rows[0]["war.support.usa"] == 0.9


def test_a_phased_alias_seats_like_phased():
    settings = negotiation_settings(compose_config(["seating=us_russia_first"]))
    assert settings.seating is Seating.phased and settings.phased
    assert settings.phase_one_parties == ("usa", "russia") and settings.mediator == "usa"


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["+mediatr=usa"],
            r"^mediatr: got 'usa'; allowed: a key of the config \(\[.*\]\) or an alias",
        ),
        (["+uncertainty.rain={dist:uniform}"], r"^uncertainty\.rain: got \{'dist': 'uniform'\}"),
        (["+aliases=[seed]"], r"^aliases: got 'seed'; allowed: names outside the schema"),
        (
            ["+war.capacity.usa=1"],
            r"^war\.capacity: got \{.*\}; allowed: a capacity for each belligerent and no one "
            r"else: keys \['russia', 'ukraine'\]$",
        ),
        (["+war.support.china=0.5"], r"^war\.support: got 'china'; allowed: a party in \["),
        (["war.support.europe=1.5"], r"^war\.support\.europe: got 1\.5; allowed: a number in"),
        (["war.aggressor=usa"], r"^war\.capacity: got .*keys \['usa', 'ukraine'\]$"),
        (["war.defender=russia"], r"^war\.defender: got 'russia'; allowed: a party other than"),
        (
            ["uncertainty.war.capacity.usa.dist=uniform"],
            r"^uncertainty\.war\.capacity: got 'usa'; allowed: a party of war\.capacity in "
            r"\['russia', 'ukraine'\]$",
        ),
        (
            ["uncertainty.parties.usa.courage.dist=uniform"],
            r"^uncertainty\.parties\.usa: got 'courage'; allowed: a key in "
            r"\['capability', 'war_cost'\]$",
        ),
        (
            ["uncertainty.parties.usa.capability.dist=grid"],
            r"^uncertainty\.parties\.usa\.capability\.levels: got \[\]; allowed: a non-empty",
        ),
        (["uncertainty.us_support.dist=weird"], r"^uncertainty\.us_support\.dist: got 'weird'"),
        (
            ["war.support.europe=null"],
            r"^war\.drift\.supports: got 'europe'; allowed: a supporter in \['usa'\]$",
        ),
        (
            [
                "war.support.europe=null",
                "war.drift.supports.europe=null",
                "uncertainty.europe_support.dist=normal",
            ],
            r"^uncertainty\.war\.support: got 'europe'; allowed: a party of war\.support in",
        ),
        (["seating=phased", "phase_one_parties=[]"], r"^phase_one_parties: got \[\]; allowed: 1\+"),
    ],
)
def test_bad_war_and_alias_keys_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError) as info:
        build_scenario(compose_config(overrides))
    assert re.search(message, str(info.value)), str(info.value)
    assert "\n" not in str(info.value)


def test_an_empty_dict_override_is_refused_on_the_command_line(tmp_path):
    run = run_sim([f"results_dir={tmp_path}", "war.support={}"])
    assert run.returncode == 2, run.show()
    assert run.stderr.strip() == (
        "error: war.support: got {}; allowed: entries to merge (an empty dict changes "
        "nothing); drop an entry with 'war.support.<name>=null' (docs/new-conflict.md)"
    )
    assert not tmp_path.joinpath("runs").exists()


# --- replacing, not merging ------------------------------------------------------------------


def test_null_drops_a_supporter_and_the_war_follows():
    """Without Europe: p = C_a / (C_a + C_d + e s_usa c_usa) (docs/model.md, "War")."""
    cfg = compose_config(["war.support.europe=null", "war.drift.supports.europe=null"])
    scenario = build_scenario(cfg)
    wp = scenario.war_params
    assert list(cfg.war.support) == ["usa"] and wp.supports.tolist() == [0.3]
    expected = 1.0 / (1.0 + 0.3 + 0.5 * 0.3 * 0.9)
    assert war.aggressor_share(wp) == pytest.approx(expected, abs=1e-12)


def test_entries_set_to_null_are_dropped_and_what_named_them_is_an_error():
    """What a scenario extending another writes as `parties: {broker: null}`."""
    dropped = ["scenario=template", "parties.broker=null"]
    cfg = compose_config([*dropped, "mediator=north", "phase_one_parties=[north]"])
    assert build_scenario(cfg).parties == ("north", "south")
    with pytest.raises(ConfigError) as info:
        build_scenario(compose_config(dropped))
    assert str(info.value) == "mediator: got 'broker'; allowed: a party in ['north', 'south']"


# --- any conflict: the template, a generic scenario that sweeps, draws and plots ------------


def test_the_template_builds_and_negotiates():
    cfg = compose_config(["scenario=template", "replications=4"])
    scenario = build_scenario(cfg)
    assert scenario.parties == ("north", "south", "broker")
    assert scenario.space.size == 21 and scenario.war_sides == (0, 1)
    assert war.aggressor_share(scenario.war_params) == pytest.approx(0.5)
    rows = pd.DataFrame(run_replications(cfg)[0])
    assert len(rows) == 4 and rows["agreement"].all()
    assert rows["war.capacity.north"].eq(1.0).all() and "us_support" not in rows


def test_per_party_draws_go_where_their_keys_say():
    cfg = compose_config(
        [
            "scenario=template",
            "replications=2",
            "uncertainty.war.capacity.south.dist=grid",
            "uncertainty.war.capacity.south.levels=[0.5,2]",
            "uncertainty.parties.north.war_cost.dist=grid",
            "uncertainty.parties.north.war_cost.levels=[0.01]",
            "uncertainty.parties.broker.capability.dist=lognormal",
            "uncertainty.parties.broker.capability.scale=0.2",
        ]
    )
    scenario = build_scenario(cfg)
    keys = [u.key for u in active_uncertainties(cfg)]
    assert keys == ["parties.broker.capability", "parties.north.war_cost", "war.capacity.south"]
    assert design_points(cfg) == [
        {"parties.north.war_cost": 0.01, "war.capacity.south": 0.5},
        {"parties.north.war_cost": 0.01, "war.capacity.south": 2.0},
    ]
    rng = np.random.default_rng(0)
    active = design_of(cfg).uncertainties
    draws = draw_uncertain(active, rng, design_points(cfg)[1])
    drawn, wp = apply_draws(scenario, draws, rng, active)
    assert wp.defender_capacity == 2.0 and wp.aggressor_capacity == 1.0
    assert drawn.war_costs.tolist() == [0.01, 0.006, 0.001]
    assert drawn.capabilities[2] == draws["parties.broker.capability"] != 0.9
    assert draws["parties.broker.capability"] == pytest.approx(
        0.9 * np.exp(np.random.default_rng(0).normal(0.0, 0.2))
    )


def test_a_drawn_capability_moves_aid_and_guarantee_force():
    """Force = sum over guarantors of capability x credibility (docs/model.md,
    "Guarantees"); aid = support x capability."""
    cfg = compose_config(
        [
            "uncertainty.parties.europe.capability.dist=grid",
            "uncertainty.parties.europe.capability.levels=[0.35]",
        ]
    )
    scenario = build_scenario(cfg)
    active = design_of(cfg).uncertainties
    draws = draw_uncertain(active, np.random.default_rng(0), design_points(cfg)[0])
    drawn, wp = apply_draws(scenario, draws, np.random.default_rng(0), active)
    assert wp.supporter_capabilities.tolist() == [0.9, 0.35]
    level = scenario.space.issue("guarantees").level_index("european_force")
    assert scenario.guarantee_force[level] == pytest.approx(0.7 * 0.6)
    assert drawn.guarantee_force[level] == pytest.approx(0.35 * 0.6)


def test_a_generic_conflict_sweeps_draws_and_plots(tmp_path):
    run = run_sim(
        [
            "-m",
            "scenario=template",
            "war.capacity.north=0.8,1.2",
            "replications=3",
            "max_rounds=20",
            "uncertainty.war.capacity.south.dist=lognormal",
            "uncertainty.war.capacity.south.scale=0.2",
            f"results_dir={tmp_path}",
            "sweep_name=generic",
        ]
    )
    assert run.returncode == 0, run.show()
    sweep = sweep_dir(tmp_path, "generic")
    frame = pd.read_parquet(sweep / "results.parquet")
    assert len(frame) == 6 and frame["error"].isna().all()
    assert sorted(frame["war.capacity.north"].unique()) == [0.8, 1.2]
    # the same seed in both jobs: the same draws (common random numbers)
    assert frame["war.capacity.south_drawn"].nunique() == 3
    assert (sweep / "heatmap.png").stat().st_size > 0
    fig = figures.sweep_heatmap(frame, "war.capacity.north")
    assert fig.axes and fig.axes[0].get_xlabel()


PATRON = {
    "parties": {
        "patron": {
            "capability": 0.8,
            "war_cost": 0.001,
            "preferences": {"border": {"ideal": 100.0, "salience": 1.0}},
        }
    },
}


def _with_patron(level: float, side: str = "aggressor") -> object:
    cfg = compose_config(["scenario=template", "replications=2"], patch=PATRON)
    cfg.war.support = {"patron": level}
    cfg.war.backing = {"patron": side}
    return cfg


def test_a_supporter_of_the_aggressor_adds_to_its_strength():
    """S_a = C_a + e s c over the aggressor's backers (docs/model.md, "War and BATNA"):
    1 + 0.5 x 0.5 x 0.8 = 1.2 against the defender's 1."""
    scenario = build_scenario(_with_patron(0.5))
    assert scenario.war_params.backs_aggressor.tolist() == [True]
    assert war.aggressor_share(scenario.war_params) == pytest.approx(1.2 / 2.2, abs=1e-12)
    defended = build_scenario(_with_patron(0.5, "defender"))
    assert war.aggressor_share(defended.war_params) == pytest.approx(1.0 / 2.2, abs=1e-12)
    shares = [war.aggressor_share(build_scenario(_with_patron(s)).war_params) for s in (0, 0.5, 1)]
    assert shares[0] == pytest.approx(0.5) and shares[0] < shares[1] < shares[2]


def test_a_war_with_a_patron_of_the_aggressor_negotiates_and_is_assessed():
    rows = pd.DataFrame(run_replications(_with_patron(1.0))[0])
    assert rows["p_share"].eq(1.4 / 2.4).all() and rows["war.backing.patron"].eq("aggressor").all()
    assert rows["robustness"].between(0, 1).all() and rows["durability"].between(0, 1).all()


def test_backing_names_a_supporter():
    cfg = _with_patron(0.5)
    cfg.war.backing = {"north": "aggressor"}
    with pytest.raises(ConfigError, match=r"^war\.backing: got 'north'; allowed: a supporter"):
        build_scenario(cfg)


def test_dayton_builds_with_its_six_parties_and_three_issues():
    scenario = build_scenario(compose_config(["scenario=dayton_1995"]))
    assert scenario.parties == ("bosnia", "serbia", "croatia", "usa", "europe", "russia")
    assert scenario.space.names == ("territory", "constitution", "guarantees")
    # p = 1 / (1 + 0.6 + 0.5 (0.8 x 0.7 + 0.4 x 1.0 + 0.3 x 0.8)) (docs/calibration.md)
    assert war.aggressor_share(scenario.war_params) == pytest.approx(1 / 2.2)


def test_dayton_and_its_protocols_run_from_the_command_line(tmp_path):
    run = run_sim(
        [
            "-m",
            "scenario=dayton_1995",
            "protocol=single_text,alternating_offers",
            f"results_dir={tmp_path}",
            "sweep_name=dayton",
        ]
    )
    assert run.returncode == 0, run.show()
    frame = pd.read_parquet(sweep_dir(tmp_path, "dayton") / "results.parquet")
    assert sorted(frame["protocol"]) == ["alternating_offers", "single_text"]
    assert frame["guarantees"].notna().all() and frame["constitution"].notna().all()


def test_a_model_without_a_mediator_says_so():
    from sim.engine.single import NegotiationModel

    scenario = build_scenario(compose_config(["scenario=template"]))
    with pytest.raises(ValueError, match=r"^NegotiationSettings\.mediator: got None; allowed"):
        NegotiationModel(scenario, rng=0)
    settings = negotiation_settings(compose_config(["scenario=template"]))
    assert settings.mediator == "broker"


def test_the_rules_preset_sweeps_any_scenario(tmp_path):
    args = ["-m", "sweep=rules", "scenario=template", "replications=2", "max_rounds=8"]
    run = run_sim([*args, f"results_dir={tmp_path}"])
    assert run.returncode == 0, run.show()
    frame = pd.read_parquet(sweep_dir(tmp_path, "rules") / "results.parquet")
    assert frame.groupby(["protocol", "seating", "bargaining"]).size().tolist() == [2] * 8
    assert frame["error"].isna().all() and frame["war_costs_drawn"].nunique() == 2
