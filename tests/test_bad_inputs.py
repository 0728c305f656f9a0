"""The catalogue of bad inputs: configs, command-line overrides, files and results folders.

Every bad input must end with one line naming the key (or file), the value and what is
allowed; through the CLI: exit status 2, exactly one `error: ` line on stderr, no
traceback (unless HYDRA_FULL_ERROR=1) and nothing written under results_dir.

Most cases run in-process: composition errors (OmegaConf types, enum values, config group
options, unknown keys) through Hydra's compose API and
`sim.experiment.error_lines.one_line`, semantic errors through
`sim.experiment.build.build_scenario` (`ConfigError`). A representative subset of every
route runs through the real CLI. Cases where the program does not (yet) give a clear
one-line error are written for the desired behaviour and marked xfail(strict=True)."""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from pathlib import Path

import hydra
import pandas as pd
import pytest
import yaml
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf.errors import OmegaConfBaseException

from sim.experiment import output_folders, results, sweepdir
from sim.experiment.build import build_scenario
from sim.experiment.error_lines import one_line
from sim.experiment.results import ResultsError
from sim.experiment.schema import IssuePreferenceConf, SimConfig
from sim.experiment.validation import ConfigError
from tests.helpers_hardening import (
    CONF_DIR,
    SMOKE,
    CliRun,
    copy_sweep,
    files_under,
    lock_held_by_another_process,
    reference_smoke_sweep,
    run_many,
    sweep_dir,
)

PARTIES = "['usa', 'russia', 'ukraine', 'europe']"
ISSUES = "['territory', 'nato', 'guarantees']"
NATO_LEVELS = (
    "['membership', 'irreversible_path', 'bid_dropped_for_guarantees', "
    "'non_alignment_in_constitution', 'treaty_neutrality']"
)
GUARANTEE_LEVELS = (
    "['article_5', 'european_force_us_backstop', 'european_force', 'monitoring_only', "
    "'guarantors_include_russia', 'none']"
)
PACKAGES = "['all', 'no_article_5', 'european_force', 'monitoring_only', 'none']"
# what the validator allows besides the schema's keys (brussels_2025's `aliases`)
DECLARED = (
    "an alias the scenario declares in `aliases` (['us_support', 'europe_support', "
    "'uncertainty.us_support', 'uncertainty.europe_support', 'uncertainty.russia_capacity', "
    "'uncertainty.ukraine_capacity'])"
)

# what sim.experiment.validation says a sweep_name must be
PLAIN_NAME_RULE = (
    "a plain folder name (letters, digits, '_', '-', '.'; no path separator, no '..', "
    "no leading dot)"
)


def fields_of(schema: type) -> list[str]:
    return [f.name for f in dataclasses.fields(schema)]


# an unknown key with no near key: the keys at its level (the schema's, and the aliases
# brussels_2025 sets at the top), never the schema's class name
UNKNOWN_FOO = (
    "foo: got an unknown key; allowed: a key of the config "
    f"({sorted([*fields_of(SimConfig), 'us_support', 'europe_support'])})"
)

MAX_ROUNDS_RULE = (
    "an integer in [1, 10,000] (a round is war.months_per_round months; "
    "for longer talks raise that)"
)


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


# --- 1. caught by our validator (sim.experiment.checks.validate via build_scenario) -----------

# id -> (overrides, patch merged after composition, the exact message)
VALIDATOR_CASES: dict[str, tuple[list[str], dict | None, str]] = {
    "support_1.5": (
        ["us_support=1.5"],
        None,
        "us_support: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    "support_negative": (
        ["europe_support=-0.2"],
        None,
        "europe_support: got -0.2; allowed: a number in [0.0, 1.0]",
    ),
    "negative_war_cost": (
        ["parties.usa.war_cost=-0.1"],
        None,
        "parties.usa.war_cost: got -0.1; allowed: a number in [0.0, 1.0]",
    ),
    "sweep_name_climbs_out": (
        ["sweep_name=../../somewhere"],
        None,
        "sweep_name: got '../../somewhere'; allowed: " + PLAIN_NAME_RULE,
    ),
    "sweep_name_with_a_separator": (
        ["sweep_name=a/b"],
        None,
        "sweep_name: got 'a/b'; allowed: " + PLAIN_NAME_RULE,
    ),
    "sweep_name_hidden": (
        ["sweep_name=.hidden"],
        None,
        "sweep_name: got '.hidden'; allowed: " + PLAIN_NAME_RULE,
    ),
    "optimism_beyond_the_share": (
        ["parties.russia.optimism=2"],
        None,
        "parties.russia.optimism: got 2.0; allowed: a number in [-1.0, 1.0]",
    ),
    "negative_cost_belief": (
        ["parties.ukraine.cost_belief=-1"],
        None,
        "parties.ukraine.cost_belief: got -1.0; allowed: a number >= 0",
    ),
    "negative_belief_sd": (
        ["war.belief_sd=-0.1"],
        None,
        "war.belief_sd: got -0.1; allowed: a number in [0, 1]",
    ),
    "negative_capability": (
        ["parties.usa.capability=-1"],
        None,
        "parties.usa.capability: got -1.0; allowed: a number in [0.0, 1000000.0]",
    ),
    "ideal_above_100": (
        ["parties.ukraine.preferences.territory.ideal=150"],
        None,
        "parties.ukraine.preferences.territory.ideal: got 150.0; allowed: a number in [0.0, 100.0]",
    ),
    "reservation_point_negative": (
        ["parties.usa.preferences.nato.reservation=-1"],
        None,
        "parties.usa.preferences.nato.reservation: got -1.0; allowed: a number in [0.0, 100.0]",
    ),
    "level_position_negative": (
        ["issues.nato.levels.membership=-5"],
        None,
        "issues.nato.levels.membership: got -5.0; allowed: a number in [0.0, 100.0]",
    ),
    "contact_line_101": (
        ["war.contact_line=101"],
        None,
        "war.contact_line: got 101.0; allowed: a number in [0.0, 100.0]",
    ),
    "reservation_value_1.5": (
        ["parties.usa.reservation_value=1.5"],
        None,
        "parties.usa.reservation_value: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    "resolution_0": (
        ["issues.territory.resolution=0"],
        None,
        "issues.territory.resolution: got 0.0; allowed: a number > 0",
    ),
    "resolution_not_dividing": (
        ["issues.territory.resolution=3"],
        None,
        "issues.territory.resolution: got 3.0; "
        "allowed: a step that divides [0.0, 100.0] into whole steps",
    ),
    "weights_all_zero": (
        [
            f"parties.ukraine.preferences.{i}.salience=0"
            for i in ("territory", "nato", "guarantees")
        ],
        None,
        "parties.ukraine.preferences: got {'territory': 0.0, 'nato': 0.0, 'guarantees': 0.0}; "
        "allowed: non-negative saliences, not all zero",
    ),
    "salience_negative": (
        ["parties.europe.preferences.nato.salience=-0.5"],
        None,
        "parties.europe.preferences.nato.salience: got -0.5; allowed: a number >= 0",
    ),
    "mediator_not_a_party": (
        ["mediator=china"],
        None,
        f"mediator: got 'china'; allowed: a party in {PARTIES}",
    ),
    "unknown_party_in_seats": (
        ["seating=us_russia_first", "phase_one_parties=[usa,china]"],
        None,
        f"phase_one_parties: got 'china'; allowed: a party in {PARTIES}",
    ),
    "empty_seat_list": (
        ["seating=us_russia_first", "phase_one_parties=[]"],
        None,
        "phase_one_parties: got []; allowed: 1+ parties (seating=us_russia_first seats them first)",
    ),
    "unknown_seating": (
        ["seating=round_table"],
        None,
        "seating: got 'round_table'; allowed: a seating in ['inclusive', 'phased', "
        "'us_russia_first']",
    ),
    "null_mediator": (
        ["mediator=null"],
        None,
        f"mediator: got None; allowed: a party in {PARTIES}",
    ),
    "empty_party_list": (
        [f"~parties.{p}" for p in ("usa", "russia", "ukraine", "europe")],
        None,
        "parties: got []; allowed: at least two parties",
    ),
    "one_party_left": (
        [f"~parties.{p}" for p in ("russia", "ukraine", "europe")],
        None,
        "parties: got ['usa']; allowed: at least two parties",
    ),
    "unknown_party_in_issue_control": (
        ["issues.nato.control=[ukraine,china]"],
        None,
        f"issues.nato.control: got 'china'; allowed: a party in {PARTIES}",
    ),
    "unknown_party_in_level_control": (
        ["issues.guarantees.level_control.article_5=[usa,nobody]"],
        None,
        f"issues.guarantees.level_control.article_5: got 'nobody'; allowed: a party in {PARTIES}",
    ),
    "unknown_level_in_level_control": (
        ["+issues.nato.level_control.accession=[usa]"],
        None,
        f"issues.nato.level_control: got 'accession'; allowed: a level in {NATO_LEVELS}",
    ),
    "unknown_level_in_red_line": (
        ["parties.usa.preferences.nato.red_line=[accession]"],
        None,
        "parties.usa.preferences.nato.red_line: got 'accession'; "
        f"allowed: a level in {NATO_LEVELS}",
    ),
    "unknown_issue_in_preferences": (
        [],
        {"parties": {"usa": {"preferences": {"sanctions": {"salience": 1.0, "red_line": ["x"]}}}}},
        f"parties.usa.preferences: got 'sanctions'; allowed: a issue in {ISSUES}",
    ),
    "unknown_status_quo_level": (
        ["issues.nato.default=nope"],
        None,
        f"issues.nato.default: got 'nope'; allowed: a level in {NATO_LEVELS}",
    ),
    "unknown_territory_issue": (
        ["war.territory_issue=land"],
        None,
        f"war.territory_issue: got 'land'; allowed: a issue in {ISSUES}",
    ),
    "unknown_aggressor": (
        ["war.aggressor=china"],
        None,
        f"war.aggressor: got 'china'; allowed: a party in {PARTIES}",
    ),
    "max_rounds_0": (["max_rounds=0"], None, "max_rounds: got 0; allowed: " + MAX_ROUNDS_RULE),
    "max_rounds_negative": (
        ["max_rounds=-5"],
        None,
        "max_rounds: got -5; allowed: " + MAX_ROUNDS_RULE,
    ),
    "replications_0": (
        ["replications=0"],
        None,
        "replications: got 0; allowed: an integer >= 1 or 'auto'",
    ),
    "replication_out_of_range": (
        ["replications=3", "replication=3"],
        None,
        "replication: got 3; allowed: null or 0..2",
    ),
    "replication_negative": (
        ["replication=-1"],
        None,
        "replication: got -1; allowed: null or 0..0",
    ),
    "guarantees_offer_unknown": (
        ["guarantees_offer=nope"],
        None,
        f"guarantees_offer: got 'nope'; allowed: one of {PACKAGES}",
    ),
    "package_naming_unknown_level": (
        ["guarantee_packages.none=[foo]", "guarantees_offer=none"],
        None,
        f"guarantee_packages.none: got 'foo'; allowed: levels of guarantees: {GUARANTEE_LEVELS}",
    ),
    "text_step_0": (["text_step=0"], None, "text_step: got 0.0; allowed: a number in (0, 1]"),
    "walkout_patience_0": (
        ["walkout_patience=0"],
        None,
        "walkout_patience: got 0; allowed: an integer >= 1",
    ),
    "deadline_0": (
        ["parties.russia.deadline=0"],
        None,
        "parties.russia.deadline: got 0; allowed: an integer >= 1",
    ),
    "war_discount_1.5": (
        ["war.discount=1.5"],
        None,
        "war.discount: got 1.5; allowed: a number in [0.0, 1.0]",
    ),
    "uncertainty_scale_negative": (
        ["sweep=smoke", "uncertainty.us_support.scale=-1"],
        None,
        "uncertainty.us_support.scale: got -1; allowed: a number >= 0",
    ),
    "uncertainty_key_unknown": (
        ["uncertainty.rain.dist=uniform"],
        None,
        "uncertainty.rain: got {'dist': 'uniform'}; allowed: a key of the config "
        f"(['parties', 'salience', 'war', 'war_costs']) or {DECLARED}",
    ),
    "unknown_distribution": (
        ["sweep=smoke", "uncertainty.us_support.dist=weird"],
        None,
        "uncertainty.us_support.dist: got 'weird'; "
        "allowed: a distribution in ['fixed', 'uniform', 'normal', 'lognormal', 'grid']",
    ),
    "unknown_supporter_drawn": (
        ["uncertainty.war.support.china.dist=uniform"],
        None,
        "uncertainty.war.support: got 'china'; allowed: a party of war.support in "
        "['usa', 'europe']",
    ),
    "stability_draws_0": (
        ["stability.robustness_draws=0"],
        None,
        "stability.robustness_draws: got 0; allowed: an integer in [1, 10,000]",
    ),
}


@pytest.mark.parametrize(
    ("overrides", "patch", "message"), VALIDATOR_CASES.values(), ids=VALIDATOR_CASES.keys()
)
def test_validator_rejects_with_one_line(compose, overrides, patch, message):
    cfg = compose(overrides, patch)
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$") as info:
        build_scenario(cfg)
    error = info.value
    assert str(error).startswith(f"{error.key}: got ")  # names the key and the value ...
    assert "; allowed: " in str(error)  # ... and what is allowed
    assert "\n" not in str(error)
    assert one_line(error) == message


# --- 2. caught while composing: OmegaConf types and enums, config groups, unknown keys -----

COMPOSE_CASES: dict[str, tuple[list[str], str]] = {
    "wrong_type_float": (
        ["war.support.usa=abc"],
        "war.support.usa: Value 'abc' of type 'str' could not be converted to Float",
    ),
    "wrong_type_list_for_float": (
        ["war.support.usa=[1,2]"],
        "war.support.usa: Value '[1, 2]' of type 'list' could not be converted to Float",
    ),
    "wrong_type_int": (
        ["max_rounds=1.5"],
        "max_rounds: Value '1.5' of type 'float' could not be converted to Integer",
    ),
    "wrong_type_seed": (
        ["seed=abc"],
        "seed: Value 'abc' of type 'str' could not be converted to Integer",
    ),
    "wrong_type_nested": (
        ["parties.usa.preferences.territory.salience=high"],
        "parties.usa.preferences.territory.salience: "
        "Value 'high' of type 'str' could not be converted to Float",
    ),
    "string_for_list": (
        ["phase_one_parties=usa"],
        "phase_one_parties: Invalid value assigned: str is not a ListConfig, list or tuple.",
    ),
    "null_for_required": (
        ["seed=null"],
        "seed: field 'seed' is not Optional",
    ),
    "unknown_protocol": (
        ["protocol=nope"],
        "protocol: Invalid value 'nope', expected one of [single_text, alternating_offers]",
    ),
    "unknown_strategy": (
        ["parties.russia.strategy=nope"],
        "parties.russia.strategy: Invalid value 'nope', "
        "expected one of [boulware, linear, conceder, reciprocal, hardliner, war_value]",
    ),
    "unknown_information": (
        ["information=psychic"],
        "information: Invalid value 'psychic', expected one of [complete, learned]",
    ),
    "unknown_batna": (
        ["batna=nope"],
        "batna: Invalid value 'nope', expected one of [war, static]",
    ),
    "unknown_multiplier_distribution": (
        ["uncertainty.war_costs.dist=weird"],
        "uncertainty.war_costs.dist: Invalid value 'weird', "
        "expected one of [fixed, uniform, normal, lognormal, grid]",
    ),
    "scenario_file_missing": (
        ["scenario=nope"],
        f"scenario: got 'nope'; allowed: one of {options('scenario')}",
    ),
    "empty_scenario_name": (
        ["scenario="],
        f"scenario: got ''; allowed: one of {options('scenario')}",
    ),
    "sweep_preset_missing": (
        ["sweep=nope"],
        f"sweep: got 'nope'; allowed: one of {options('sweep')}",
    ),
    "unknown_top_level_key": (["foo=1"], UNKNOWN_FOO),
    "unknown_nested_key": (
        ["parties.usa.preferences.territory.sal=1"],
        "parties.usa.preferences.territory.sal: got an unknown key; allowed: a key of "
        f"parties.usa.preferences.territory ({sorted(fields_of(IssuePreferenceConf))})",
    ),
    "sweep_list_in_single_run": (
        ["us_support=0.5,1.5"],
        "Ambiguous value for argument 'us_support=0.5,1.5'",
    ),
}


@pytest.mark.parametrize(("overrides", "message"), COMPOSE_CASES.values(), ids=COMPOSE_CASES.keys())
def test_composition_rejects_with_one_line(compose, overrides, message):
    with pytest.raises((ConfigCompositionException, MissingConfigException)) as info:
        compose(overrides)
    assert one_line(info.value) == message


# an alias (brussels_2025's `aliases`) is outside the schema: it composes untyped, and the
# typed key that follows it refuses the value when read, naming the alias
ALIAS_TYPE_CASES: dict[str, tuple[list[str], str]] = {
    "wrong_type_float": (
        ["us_support=abc"],
        "us_support: Value 'abc' of type 'str' could not be converted to Float",
    ),
    "wrong_type_list_for_float": (
        ["us_support=[1,2]"],
        "us_support: Value '[1, 2]' of type 'ListConfig' could not be converted to Float",
    ),
}


@pytest.mark.parametrize(
    ("overrides", "message"), ALIAS_TYPE_CASES.values(), ids=ALIAS_TYPE_CASES.keys()
)
def test_alias_of_the_wrong_type_rejects_with_one_line(compose, overrides, message):
    cfg = compose(overrides)
    with pytest.raises(OmegaConfBaseException) as info:
        build_scenario(cfg)
    assert one_line(info.value) == message


def test_launcher_that_does_not_exist(compose):
    """The allowed launchers depend on the installed plugins: basic and joblib always."""
    with pytest.raises(MissingConfigException) as info:
        compose(["hydra/launcher=nope"])
    message = one_line(info.value)
    assert re.fullmatch(r"hydra/launcher: got 'nope'; allowed: one of \[.*\]", message)
    assert "'basic'" in message and "'joblib'" in message


def test_deleting_a_required_key(compose):
    """`~parties` composes (the key is gone) and fails at its first use, naming it."""
    error = raised(lambda: build_scenario(compose(["~parties"])))
    assert one_line(error) == "parties: got no value (the key is missing); allowed: a value for it"


# --- 3. files: scenario files a user wrote ------------------------------------------------

USER_SCENARIOS = {
    # YAML forbids a key twice in one mapping: OmegaConf's loader raises (no last-wins), so
    # two parties with the same name in a scenario file stop the program.
    "duplicate_party": """\
# @package _global_
defaults:
  - brussels_2025
  - _self_
scenario_name: duplicate_party
parties:
  usa:
    capability: 0.9
  usa:
    capability: 0.1
""",
    "malformed": "# @package _global_\nparties: [usa, russia\n",
    "unknown_key": """\
# @package _global_
defaults:
  - brussels_2025
  - _self_
scenario_name: unknown_key
negotiators: 3
""",
    "no_parties": """\
# @package _global_
scenario_name: no_parties
issues:
  x: {kind: ordinal, levels: {a: 0.0, b: 100.0}}
parties: {}
war: {territory_issue: x}
""",
}


@pytest.fixture(scope="module")
def user_conf(tmp_path_factory) -> Path:
    """A config folder on Hydra's search path holding the user-written scenario files."""
    root = tmp_path_factory.mktemp("user_conf")
    (root / "scenario").mkdir()
    for name, text in USER_SCENARIOS.items():
        (root / "scenario" / f"{name}.yaml").write_text(text)
    return root


def compose_user_scenario(compose, user_conf: Path, name: str):
    return compose([f"hydra.searchpath=[file://{user_conf}]", f"scenario={name}"])


def test_scenario_file_with_unknown_key(compose, user_conf):
    """The root is open to a scenario's aliases while composing: the validator refuses a
    key that is neither the schema's nor an alias the scenario declares."""
    cfg = compose_user_scenario(compose, user_conf, "unknown_key")
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    message = one_line(info.value)
    assert message.startswith("negotiators: got 3; allowed: a key of the config (['aliases', ")
    assert message.endswith(f"'war']) or {DECLARED}")
    assert "'parties'" in info.value.allowed and "\n" not in message


def test_scenario_file_with_no_parties(compose, user_conf):
    cfg = compose_user_scenario(compose, user_conf, "no_parties")
    with pytest.raises(ConfigError, match=r"^parties: got \[\]; allowed: at least two parties$"):
        build_scenario(cfg)


@pytest.mark.parametrize("name", ["duplicate_party", "malformed"])
def test_broken_yaml_is_an_error_not_a_silent_merge(compose, user_conf, name):
    """Current behaviour: a key given twice (e.g. a party) or broken YAML stops composition
    with PyYAML's error; the message is one line (but see the xfail below)."""
    with pytest.raises(yaml.YAMLError) as info:
        compose_user_scenario(compose, user_conf, name)
    assert "\n" not in one_line(info.value)


@pytest.mark.parametrize(
    ("name", "detail"),
    [("duplicate_party", "duplicate key usa"), ("malformed", "expected ',' or ']'")],
)
def test_broken_yaml_message_names_the_file_and_the_problem(compose, user_conf, name, detail):
    with pytest.raises(yaml.YAMLError) as info:
        compose_user_scenario(compose, user_conf, name)
    message = one_line(info.value)
    assert f"{name}.yaml" in message
    assert detail in message


# --- 4. results folders and files ------------------------------------------------------------


@pytest.fixture
def regular_file(tmp_path) -> Path:
    """A results_dir that is an existing regular file (root ignores chmod: this still
    cannot be written into, and fails with NotADirectoryError)."""
    path = tmp_path / "not_a_folder"
    path.write_text("a file, not a folder\n")
    return path


def test_results_dir_is_a_file_for_a_single_run(regular_file):
    with pytest.raises(ResultsError) as info:
        output_folders.staging_run_dir(regular_file)
    assert str(info.value) == (
        f"{regular_file}/runs: cannot write results (Not a directory); set results_dir"
    )
    assert isinstance(info.value.__cause__, NotADirectoryError)
    assert regular_file.read_text() == "a file, not a folder\n"


def test_results_dir_is_a_file_for_a_sweep(regular_file):
    target = regular_file / "sweeps" / "smoke"
    with pytest.raises(ResultsError) as info:
        results.start_sweep(target, 8)
    assert str(info.value) == f"{target}: cannot write results (Not a directory); set results_dir"
    assert isinstance(info.value.__cause__, NotADirectoryError)


def test_sweep_lock_held_by_a_live_process_refuses(tmp_path):
    sweep = tmp_path / "sweeps" / "smoke"
    with lock_held_by_another_process(sweep) as holder:
        with pytest.raises(ResultsError) as info:
            results.start_sweep(sweep, 8)
        assert str(info.value) == (
            f"{sweep}: another sweep ({sweepdir.lock_holder(sweep).describe()}) is writing "
            "here; wait for it or choose another sweep_name"
        )
        assert sweepdir.lock_holder(sweep).pid == holder.pid
        assert files_under(sweep) == [sweep / ".lock"]  # no .sweep.json, no jobs


def write_job(sweep: Path, job: str, replications: int = 2) -> Path:
    frame = pd.DataFrame(
        {"job": [job] * replications, "replication": range(replications), "agreement": True}
    )
    return results.write_parquet_atomic(frame, sweep / "jobs" / f"{job}.parquet")


def corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    else:  # garbage
        path.write_bytes(b"not parquet at all\n" * 10)


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
def test_load_a_damaged_parquet_file_names_it(tmp_path, how):
    path = write_job(tmp_path, "a" * 16)
    corrupt(path, how)
    with pytest.raises(ResultsError, match=f"^{re.escape(str(path))}: unreadable Parquet file"):
        results.load(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "{p}/missing: no such file or folder"),
        (
            lambda p: p,
            "{p}: not a run folder (result.parquet) or a sweep folder (jobs/, results.parquet)",
        ),
    ],
    ids=["no_such_folder", "folder_not_a_sweep"],
)
def test_load_a_folder_that_is_not_a_run_or_sweep(tmp_path, make, message):
    (tmp_path / "notes.txt").write_text("not results")
    with pytest.raises(ResultsError) as info:
        results.load(make(tmp_path))
    assert str(info.value) == message.format(p=tmp_path)


def test_load_with_an_unknown_on_error_value(tmp_path):
    write_job(tmp_path, "b" * 16)
    with pytest.raises(
        ValueError, match=r"^on_error: got 'ignore'; allowed: 'raise', 'skip' or 'move'$"
    ):
        results.load(tmp_path, on_error="ignore")


# --- 5. loading a sweep with one corrupted job file (stop or skip, never silent) ------------


@pytest.fixture
def sweep_with_damaged_job(tmp_path) -> tuple[Path, Path]:
    sweep = tmp_path / "sweeps" / "demo"
    for job in ("1" * 16, "2" * 16, "3" * 16):
        write_job(sweep, job)
    damaged = sweep / "jobs" / f"{'2' * 16}.parquet"
    corrupt(damaged, "truncated")
    return sweep, damaged


def test_load_stops_at_a_damaged_job_file_by_default(sweep_with_damaged_job):
    sweep, damaged = sweep_with_damaged_job
    with pytest.raises(ResultsError, match=f"^{re.escape(str(damaged))}: unreadable"):
        results.load(sweep)
    with pytest.raises(ResultsError, match=re.escape(str(damaged))):
        results.gather_to_file(sweep)
    assert not (sweep / "results.parquet").exists()  # nothing gathered from partial data


def test_load_skips_a_damaged_job_file_with_a_warning_naming_it(sweep_with_damaged_job):
    sweep, damaged = sweep_with_damaged_job
    with pytest.warns(UserWarning) as caught:
        frame = results.load(sweep, on_error="skip")
    messages = [str(w.message) for w in caught]
    assert [m for m in messages if str(damaged) in m], messages
    assert sorted(frame["job"].unique()) == ["1" * 16, "3" * 16]
    assert len(frame) == 4


def test_load_without_damage_warns_nothing(tmp_path):
    sweep = tmp_path / "sweeps" / "demo"
    for job in ("1" * 16, "3" * 16):
        write_job(sweep, job)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = results.load(sweep, on_error="skip")
    assert len(frame) == 4


# --- 6. the desired behaviour where the program is not (yet) clear: xfail -----------------

XFAIL_CASES = {
    "plus_unknown_top_level_key": pytest.param(
        ["+max_round=5"],
        r"^\+?max_round[: ]",
        id="plus_unknown_top_level_key",
    ),
    "duplicate_party_in_seats": pytest.param(
        ["seating=us_russia_first", "phase_one_parties=[usa,usa]"],
        r"^phase_one_parties: got .*usa.*; allowed: ",
        id="duplicate_party_in_seats",
    ),
    "empty_party_dict_override": pytest.param(
        ["parties={}"],
        r"^parties: got .*; allowed: at least two parties",
        marks=pytest.mark.xfail(
            strict=True,
            reason="`parties={}` is merged onto the scenario's parties (OmegaConf merge "
            "semantics), so it is a silent no-op: the run goes on with all four parties "
            "(the CLI refuses it before composing: CLI_LINES['empty_dict_override'])",
        ),
        id="empty_party_dict_override",
    ),
    "package_not_offered_names_unknown_level": pytest.param(
        ["guarantee_packages.none=[foo]"],
        r"^guarantee_packages\.none: got 'foo'; allowed: ",
        id="package_not_offered_names_unknown_level",
    ),
    "negative_seed": pytest.param(
        ["seed=-1"],
        r"^seed: got -1; allowed: ",
        id="negative_seed",
    ),
    "uncertainty_unknown_key_on_command_line": pytest.param(
        ["+uncertainty.rain={dist:uniform,scale:1}"],
        "^"
        + re.escape(
            "uncertainty.rain: got {'dist': 'uniform', 'scale': 1}; allowed: a key of the "
            f"config (['parties', 'salience', 'war', 'war_costs']) or {DECLARED}"
        )
        + "$",
        id="uncertainty_unknown_key_on_command_line",
    ),
    "uncertainty_negative_scale_on_command_line": pytest.param(
        ["+uncertainty.us_support={dist:uniform,scale:-1}"],
        r"^uncertainty\.us_support\.scale: got -1(\.0)?; allowed: a number >= 0$",
        id="uncertainty_negative_scale_on_command_line",
    ),
    "unknown_issue_in_preferences_on_command_line": pytest.param(
        ["+parties.usa.preferences.sanctions.red_line=[x]"],
        r"^parties\.usa\.preferences(\.sanctions)?: got 'sanctions'.*allowed: .*territory",
        marks=pytest.mark.xfail(
            strict=True,
            reason="adding to a party's typed `preferences` from the command line fails in "
            "OmegaConf: 'sanctions: Invalid type assigned: dict is not a subclass of "
            "IssuePreferenceConf. value: {}' (no full key, no allowed issues)",
        ),
        id="unknown_issue_in_preferences_on_command_line",
    ),
    "empty_results_dir": pytest.param(
        ["results_dir="],
        r"^results_dir: got ''; allowed: ",
        id="empty_results_dir",
    ),
    "empty_sweep_name": pytest.param(
        ["sweep_name="],
        r"^sweep_name: got ''; allowed: ",
        id="empty_sweep_name",
    ),
    "scenario_given_as_a_path": pytest.param(
        ["scenario=conf/scenario/brussels_2025.yaml"],
        r"^scenario: got 'conf/scenario/brussels_2025\.yaml'; allowed: one of \[",
        id="scenario_given_as_a_path",
    ),
}


@pytest.mark.parametrize(("overrides", "pattern"), XFAIL_CASES.values())
def test_desired_one_line_error(compose, overrides, pattern):
    """The input must be refused with one line matching `pattern`, at composition or by
    the validator."""
    message = one_line(raised(lambda: build_scenario(compose(overrides))))
    assert "\n" not in message
    assert re.search(pattern, message), message


def raised(call) -> BaseException:
    """The exception `call()` raises (any type: either error route is fine)."""
    try:
        call()
    except Exception as exc:
        return exc
    pytest.fail("no error raised")


def compose_primary(name: str) -> None:
    """`python -m sim --config-name=<name>`, composed in-process."""
    global_hydra = GlobalHydra.instance()
    parked = global_hydra.hydra if global_hydra.is_initialized() else None
    global_hydra.clear()
    try:
        with hydra.initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
            hydra.compose(name)
    finally:
        if parked is not None:
            GlobalHydra.instance().initialize(parked)


def test_config_name_that_does_not_exist():
    """`--config-name=nope`: refused, but the allowed list it prints is empty (see xfail)."""
    with pytest.raises(MissingConfigException) as info:
        compose_primary("nope")
    assert one_line(info.value).startswith("config: got 'nope'; allowed: one of ")


def test_config_name_error_lists_the_primary_config():
    with pytest.raises(MissingConfigException) as info:
        compose_primary("nope")
    assert "'config'" in one_line(info.value)


# --- 7. through the real CLI: one representative per error route ---------------------------


def scenario_options() -> str:
    return str(options("scenario"))


@pytest.fixture(scope="module")
def cli(tmp_path_factory, user_conf) -> dict[str, tuple[CliRun, Path]]:
    """Each CLI case run once (a few processes at a time); name -> (run, its results_dir),
    except "damaged_job_file" -> (run, the damaged job file)."""
    base = tmp_path_factory.mktemp("cli")
    commands, dirs = {}, {}

    def add(name, args, env=None, results_dir=None):
        results_dir = results_dir or base / name / "results"
        dirs[name] = results_dir
        commands[name] = ([*args, f"results_dir={results_dir}"], env)

    add("omegaconf_type", ["us_support=abc"])
    add("enum_value", ["protocol=nope"])
    add("missing_scenario", ["scenario=nope"])
    add("missing_sweep_preset", ["-m", "sweep=nope"])
    add("unknown_key", ["foo=1"])
    add("empty_dict_override", ["parties={}"])
    add("validator_range", ["us_support=1.5"])
    add("validator_name", ["mediator=china"])
    add("validator_discount", ["war.discount=1.5"])
    add("sweep_name_escapes", ["-m", "sweep=smoke", "sweep_name=../../escaped"])
    # issue 14, kind 3: names used as folder names are plain names
    add("sweep_name_hidden", ["-m", "sweep=smoke", "sweep_name=.hidden"])
    add("sweep_name_nested", ["-m", "sweep=smoke", "sweep_name=a/b"])
    # kind 1: sizes with no bound are refused before any work, naming the limit
    add("size_replications", ["replications=1000000000000"])
    add("size_rounds", ["max_rounds=100000000"])
    add("size_draws", ["stability.robustness_draws=100000"])
    eleven = "[0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1]"
    grid = []
    for who in ("us", "europe"):
        grid += [
            f"uncertainty.{who}_support.dist=grid",
            f"uncertainty.{who}_support.levels={eleven}",
        ]
    add("size_grid", ["replications=1000", *grid])  # 11 x 11 points x 1,000
    add("size_outcomes", ["max_outcomes=1000000000000"])
    # kind 4: a sweep whose every job fails is a partial failure (3), not bad input
    add("all_jobs_fail", ["-m", "us_support=1.5,2.0", "max_rounds=2", "replications=1",
                          "stability.robustness_draws=2", "sweep_name=allfail"])  # fmt: skip
    # kind 2: what used to fail after the analysis fails before it, naming its key
    add("late_seed", ["seed=99999999999999999999999"])
    add("late_overflow_aid", ["war.aid_effectiveness=1e308"])
    add("late_overflow_horizon", ["war.horizon_months=1e12"])
    add("late_results_dir_single", ["max_rounds=2"], results_dir=Path("/proc/sim-nope"))
    add("late_results_dir_sweep", [*SMOKE], results_dir=Path("/proc/sim-nope"))
    add(
        "duplicate_yaml_key",
        [f"hydra.searchpath=[file://{user_conf}]", "scenario=duplicate_party"],
    )
    add("full_error", ["us_support=1.5"], env={"HYDRA_FULL_ERROR": "1"})

    # results_dir is an existing regular file: single run and sweep.
    file_dir = base / "results_file"
    file_dir.mkdir()
    (file_dir / "results").write_text("a file\n")
    add("results_file_single", ["max_rounds=2"], results_dir=file_dir / "results")
    add("results_file_sweep", [*SMOKE], results_dir=file_dir / "results")

    # a sweep folder whose lock another live process holds (started below)
    locked = base / "locked" / "results"
    add("lock_live", [*SMOKE], results_dir=locked)

    # desired behaviour, xfail: a sweep with an invalid constant; the lock under
    # HYDRA_FULL_ERROR=1
    add("sweep_invalid_constant", [*SMOKE, "text_step=0"])
    locked_full = base / "locked_full" / "results"
    add("full_error_lock", [*SMOKE, "max_rounds=3"], {"HYDRA_FULL_ERROR": "1"}, locked_full)

    # a finished sweep rerun over its first job's file, truncated
    damaged = base / "damaged" / "results"
    copy_sweep(reference_smoke_sweep(tmp_path_factory)[0], damaged)
    first_job = damaged_first_job(damaged)
    add("damaged_job_file", [*SMOKE], results_dir=damaged)

    with (
        lock_held_by_another_process(sweep_dir(locked)),
        lock_held_by_another_process(sweep_dir(locked_full)),
    ):
        runs = run_many(commands, workers=6)
    out = {name: (run, dirs[name]) for name, run in runs.items()}
    out["damaged_job_file"] = (runs["damaged_job_file"], first_job)
    return out


def damaged_first_job(results_dir: Path) -> Path:
    """Truncate the smoke sweep's first job file (a copy of a finished sweep's)."""
    from tests.conftest import compose_config

    cfg = compose_config(
        [
            "us_support=0.1",
            "seating=inclusive",
            "protocol=single_text",
            "sweep=smoke",
            f"results_dir={results_dir}",
        ]
    )
    path, _ = results.job_paths(sweep_dir(results_dir), cfg)
    assert path.is_file()
    corrupt(path, "truncated")
    return path


CLI_LINES = {
    "omegaconf_type": "us_support: Value 'abc' of type 'str' could not be converted to Float",
    "enum_value": "protocol: Invalid value 'nope', expected one of "
    "[single_text, alternating_offers]",
    "missing_scenario": f"scenario: got 'nope'; allowed: one of {scenario_options()}",
    "missing_sweep_preset": f"sweep: got 'nope'; allowed: one of {options('sweep')}",
    "unknown_key": UNKNOWN_FOO,
    "empty_dict_override": "parties: got {}; allowed: entries to merge (an empty dict changes "
    "nothing); drop an entry with 'parties.<name>=null' (docs/new-conflict.md)",
    "validator_range": "us_support: got 1.5; allowed: a number in [0.0, 1.0]",
    "validator_name": f"mediator: got 'china'; allowed: a party in {PARTIES}",
    "validator_discount": "war.discount: got 1.5; allowed: a number in [0.0, 1.0]",
    "duplicate_yaml_key": "duplicate_party.yaml:9:3: found duplicate key usa",
    "sweep_name_escapes": "sweep_name: got '../../escaped'; allowed: " + PLAIN_NAME_RULE,
    "sweep_name_hidden": "sweep_name: got '.hidden'; allowed: " + PLAIN_NAME_RULE,
    "sweep_name_nested": "sweep_name: got 'a/b'; allowed: " + PLAIN_NAME_RULE,
    "size_replications": "replications: got 1000000000000; allowed: at most 100,000 "
    "replications per job (here 1,000,000,000,000: replications x grid points); split the "
    "work over seeds, e.g. -m seed=0,1,2,3 with a quarter of the replications each",
    "size_rounds": "max_rounds: got 100000000; allowed: an integer in [1, 10,000] (a round "
    "is war.months_per_round months; for longer talks raise that)",
    "size_draws": "stability.robustness_draws: got 100000; allowed: an integer in [1, 10,000]",
    "size_grid": "replications: got 1000; allowed: at most 100,000 replications per job "
    "(here 121,000: replications x grid points); split the work over seeds, e.g. "
    "-m seed=0,1,2,3 with a quarter of the replications each",
    "size_outcomes": "max_outcomes: got 1000000000000; allowed: an integer in [1, 5,000,000] "
    "(every party's utility of every outcome is held in memory, with its preference order: "
    "a coarser grid or fewer levels)",
    "late_seed": "seed: got 99999999999999999999999; allowed: an integer in "
    "[0, 9223372036854775807]",
    "late_overflow_aid": "war.aid_effectiveness: got 1e+308; allowed: a number in [0, 1e+06]",
    "late_overflow_horizon": "war.horizon_months: got 1000000000000.0; allowed: a number in "
    "[0.0, 1200.0]",
    "late_results_dir_single": "/proc/sim-nope/runs: cannot write results (No such file or "
    "directory); set results_dir",
    "late_results_dir_sweep": "/proc/sim-nope/sweeps/smoke: cannot write results (No such "
    "file or directory); set results_dir",
}


def assert_one_error_line(run: CliRun, line: str | None = None, pattern: str | None = None):
    assert run.returncode == 2, run.show()
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.show()
    assert lines[0].startswith("error: "), run.show()
    if line is not None:
        assert lines[0] == f"error: {line}"
    if pattern is not None:
        assert re.fullmatch(pattern, lines[0]), lines[0]
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize("name", CLI_LINES)
def test_cli_one_line_status_2_nothing_written(cli, name):
    run, results_dir = cli[name]
    if name == "duplicate_yaml_key":  # the line starts with the file's absolute path
        assert_one_error_line(run, pattern=rf"error: /.*/{re.escape(CLI_LINES[name])}")
    else:
        assert_one_error_line(run, CLI_LINES[name])
    assert files_under(results_dir) == []
    assert not (results_dir.parent / "escaped").exists()  # sweep_name_escapes


def test_cli_exit_statuses_tell_bad_input_from_partial_failure(cli):
    """2: bad input, nothing written; 3: the sweep ran, its jobs failed, their rows are
    written; one line on stderr either way (docs/troubleshooting.md)."""
    bad, _ = cli["validator_range"]
    assert bad.returncode == 2
    run, results_dir = cli["all_jobs_fail"]
    assert run.returncode == 3, run.show()
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: 2 of 2 jobs failed (rows with an `error` in results.parquet")
    # "the first" in the gathered order (by job hash): either of the two
    assert re.search(
        r"the first: us_support: got (1\.5|2\.0); allowed: a number in \[0\.0, 1\.0\]$", line
    )
    frame = results.load(sweep_dir(results_dir).parent / "allfail")
    assert len(frame) == 2 and frame["error"].notna().all()


def test_cli_results_dir_is_a_file_single_run(cli):
    run, results_dir = cli["results_file_single"]
    assert_one_error_line(
        run, f"{results_dir}/runs: cannot write results (Not a directory); set results_dir"
    )
    assert results_dir.read_text() == "a file\n"  # untouched, still a file
    assert files_under(results_dir.parent) == [results_dir]


def test_cli_results_dir_is_a_file_sweep(cli):
    run, results_dir = cli["results_file_sweep"]
    assert_one_error_line(
        run,
        f"{sweep_dir(results_dir)}: cannot write results (Not a directory); set results_dir",
    )
    assert results_dir.read_text() == "a file\n"
    assert "Launching" not in run.stdout  # refused before any job


def test_cli_sweep_into_a_folder_locked_by_a_live_process(cli):
    run, results_dir = cli["lock_live"]
    sweep = sweep_dir(results_dir)
    holder = sweepdir.lock_holder(sweep)  # the process that held it during the run
    assert holder is not None and holder.pid != os.getpid()
    assert_one_error_line(
        run,
        f"{sweep}: another sweep ({holder.describe()}) is writing here; "
        "wait for it or choose another sweep_name",
    )
    assert files_under(results_dir) == [sweep / ".lock"]  # no job files, nothing else


def test_cli_sweep_over_a_damaged_job_file_reruns_that_job_and_keeps_the_file(cli):
    """On a rerun, the damaged file of a done job is found at the start, kept aside in
    jobs/damaged/ (nothing lost) and the job runs again; the sweep lands."""
    run, damaged = cli["damaged_job_file"]
    results_dir = damaged.parent.parent.parent.parent
    assert run.returncode == 0, run.show()
    jobs = sweep_dir(results_dir) / "jobs"
    assert (
        f"moved 1 unreadable job files to {jobs / 'damaged'} (their jobs run again if this "
        "sweep has them)" in run.stdout
    )
    assert (jobs / "damaged" / damaged.name).exists()
    assert run.stdout.count("already done, skipped") == 7
    frame = results.load(sweep_dir(results_dir))
    assert len(frame) == 8 * 2
    assert frame["error"].isna().all()


def test_cli_hydra_full_error_shows_the_traceback(cli):
    run, results_dir = cli["full_error"]
    assert run.returncode == 1, run.show()
    assert "Traceback (most recent call last)" in run.stderr
    assert "ConfigError: us_support: got 1.5; allowed: a number in [0.0, 1.0]" in run.stderr
    assert files_under(results_dir) == []


# --- CLI cases where the current behaviour is not the desired one ---------------------------


def test_cli_sweep_with_an_invalid_constant_is_refused(cli):
    run, results_dir = cli["sweep_invalid_constant"]
    assert_one_error_line(run, "text_step: got 0.0; allowed: a number in (0, 1]")
    assert not list((sweep_dir(results_dir) / "jobs").glob("*"))


def test_cli_full_error_does_not_bypass_the_sweep_lock(cli):
    run, results_dir = cli["full_error_lock"]
    sweep = sweep_dir(results_dir)
    assert run.returncode != 0, run.show()
    assert "another sweep" in run.stderr
    assert files_under(results_dir) == [sweep / ".lock"]
