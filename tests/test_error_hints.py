"""Bad input whose one-line error says what to do (issue 29, item 9): a misspelt key names
the nearest keys at its level, a misspelt party the scenario's parties, a scenario file
without its `# @package _global_` line says so, and a sweep preset run with a scenario
of another family names the scenarios it is for. In-process through Hydra's compose API
and `sim.experiment.error_lines.one_line`; the same lines through the real CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hydra.errors import ConfigCompositionException

from sim.experiment.aliases import declaring_scenarios
from sim.experiment.build import build_scenario
from sim.experiment.error_lines import nearest, one_line
from sim.experiment.validation import ConfigError
from tests.conftest import compose_config
from tests.helpers_hardening import CONF_DIR, files_under, run_many

PARTIES = "['usa', 'russia', 'ukraine', 'europe']"
HEADER = "# @package _global_"

# misspelt keys given on the command line (Hydra refuses them while composing)
MISSPELT: dict[str, tuple[list[str], str]] = {
    "top_level": (
        ["us_suport=0.5"],
        "us_suport: got an unknown key; allowed: a key of the config (did you mean us_support?)",
    ),
    "nested": (
        ["war.suport.usa=0.3"],
        "war.suport: got an unknown key; allowed: a key of war (did you mean war.support?)",
    ),
    "stability": (
        ["stability.robustnes_draws=3"],
        "stability.robustnes_draws: got an unknown key; allowed: a key of stability "
        "(did you mean stability.robustness_draws?)",
    ),
    "party": (
        ["parties.rusia.war_cost=0.1"],
        f"parties.rusia: got an unknown party; allowed: one of {PARTIES} "
        "(did you mean parties.russia?)",
    ),
    "issue_of_a_party": (
        ["parties.usa.preferences.teritory.salience=1"],
        "parties.usa.preferences.teritory: got an unknown issue; allowed: one of "
        "['territory', 'nato', 'guarantees'] (did you mean parties.usa.preferences.territory?)",
    ),
    "supporter": (
        ["war.support.usaa=0.2"],
        "war.support.usaa: got an unknown supporter; allowed: one of ['usa', 'europe'] "
        "(did you mean war.support.usa?)",
    ),
    "new_package_without_plus": (
        ["guarantee_packages.mine=[none]"],
        "guarantee_packages.mine: got an unknown guarantee package; allowed: one of "
        "['no_article_5', 'european_force', 'monitoring_only', 'none'], or a new guarantee "
        "package added by an override with a leading '+'",
    ),
}


@pytest.mark.parametrize(("overrides", "message"), MISSPELT.values(), ids=MISSPELT.keys())
def test_a_misspelt_key_names_the_nearest_keys(compose, overrides, message):
    with pytest.raises(ConfigCompositionException) as info:
        compose(overrides)
    assert one_line(info.value) == message


@pytest.mark.parametrize("overrides", [["foo=1"], ["us_suport=0.5"], ["stability.x=1"]])
def test_an_unknown_key_never_names_a_schema_class(compose, overrides):
    with pytest.raises(ConfigCompositionException) as info:
        compose(overrides)
    message = one_line(info.value)
    assert not re.search(r"Conf\b|SimConfig|not in struct", message), message
    assert message.startswith(f"{overrides[0].partition('=')[0]}: got an unknown key; allowed: ")


def test_nearest_keeps_only_the_closest_readings():
    assert nearest("us_suport", ["us_support", "europe_support", "seed"]) == ["us_support"]
    assert nearest("rusia", ["usa", "russia", "ukraine", "europe"]) == ["russia"]
    assert nearest("zzz", ["usa", "russia"]) == []


# --- a scenario file without its `# @package _global_` line ---------------------------------


@pytest.fixture(scope="module")
def headerless_conf(tmp_path_factory) -> Path:
    """A config folder holding dayton_1995 without its first line, as `no_header`."""
    root = tmp_path_factory.mktemp("headerless_conf")
    (root / "scenario").mkdir()
    text = (CONF_DIR / "scenario" / "dayton_1995.yaml").read_text()
    first, rest = text.split("\n", 1)
    assert first == HEADER
    (root / "scenario" / "no_header.yaml").write_text(rest)
    return root


def headerless_message(where: str) -> str:
    return (
        f"scenario: got {where} without its first line '{HEADER}' (its keys landed under "
        f"'scenario', not at the top of the config); allowed: a scenario file that begins "
        f"with the line '{HEADER}': add that line at its top"
    )


def test_a_scenario_file_without_its_header_says_so(compose, headerless_conf):
    """Its keys land under `scenario:`; the error says why in one short line instead of
    printing the whole file's keys."""
    cfg = compose([f"hydra.searchpath=[file://{headerless_conf}]", "scenario=no_header"])
    assert "scenario" in cfg and "parties" in cfg.scenario
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    assert one_line(info.value) == headerless_message("a scenario file")


def test_a_scenario_block_that_is_not_a_file_keeps_the_plain_message(compose):
    """A top-level `scenario: 3` is an unknown key with a value, not a file without its
    header."""
    with pytest.raises(ConfigError) as info:
        build_scenario(compose([], {"scenario": 3}))
    assert one_line(info.value).startswith("scenario: got 3; allowed: a key of the config (")


# --- a sweep preset for another family of scenarios ---------------------------------------


def scenarios_declaring(alias: str) -> list[str]:
    """The scenarios whose composed config declares `alias` (Hydra's own composition, the
    oracle for `declaring_scenarios`, which reads the files)."""
    names = sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))
    return [n for n in names if alias in compose_config([f"scenario={n}"]).aliases]


@pytest.fixture(scope="module")
def us_support_family() -> list[str]:
    family = scenarios_declaring("us_support")
    assert family and "dayton_1995" not in family
    return family


@pytest.mark.parametrize("alias", ["us_support", "uncertainty.us_support", "europe_support"])
def test_declaring_scenarios_agrees_with_composition(alias, us_support_family):
    assert declaring_scenarios(alias) == scenarios_declaring(alias) == us_support_family


def test_declaring_scenarios_of_an_alias_nobody_declares():
    assert declaring_scenarios("max_round") == []


def preset_message(family: list[str]) -> str:
    return (
        "uncertainty.us_support: got {'dist': 'uniform', 'scale': 0.05}; allowed: a scenario "
        "for sweep=support_grid: the preset is for the scenarios that declare the alias "
        f"uncertainty.us_support ({family}); pick one of them (scenario=...), or set the keys "
        "directly without the preset"
    )


def test_a_preset_with_a_scenario_of_another_family(compose, us_support_family):
    preset = yaml.safe_load((CONF_DIR / "sweep" / "support_grid.yaml").read_text())
    assert "us_support" in preset["uncertainty"]  # the alias the message is about
    with pytest.raises(ConfigError) as info:
        build_scenario(compose(["sweep=support_grid", "scenario=dayton_1995"]))
    assert one_line(info.value) == preset_message(us_support_family)


def family_message(key: str, family: list[str], value: str) -> str:
    return (
        f"{key}: got {value}; allowed: a key of the config; {key} is an alias that only the "
        f"scenarios {family} declare: pick one of them (scenario=...), set the keys it stands "
        "for directly, or declare it in the scenario's `aliases`"
    )


def test_a_preset_renamed_is_not_named_but_the_family_is(compose, us_support_family):
    """With another sweep_name the preset cannot be told; the scenarios still are."""
    cfg = compose(["sweep=support_grid", "scenario=dayton_1995", "sweep_name=mine"])
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    value = "{'dist': 'uniform', 'scale': 0.05}"
    expected = family_message("uncertainty.us_support", us_support_family, value)
    assert one_line(info.value) == expected


def test_an_alias_of_another_family_on_the_command_line(compose, us_support_family):
    """Without `+` Hydra refuses it while composing; with `+` the validator does: both
    name the scenarios that declare it."""
    with pytest.raises(ConfigCompositionException) as info:
        compose(["scenario=dayton_1995", "us_support=0.5"])
    expected = family_message("us_support", us_support_family, "an unknown key")
    assert one_line(info.value) == expected
    with pytest.raises(ConfigError) as info:
        build_scenario(compose(["scenario=dayton_1995", "+us_support=0.5"]))
    assert one_line(info.value) == family_message("us_support", us_support_family, "0.5")


# --- through the real CLI ----------------------------------------------------------------


def test_cli_says_each_in_one_line_with_status_2(tmp_path, headerless_conf, us_support_family):
    file = headerless_conf / "scenario" / "no_header.yaml"
    cases = {
        "misspelt_key": (["us_suport=0.5"], MISSPELT["top_level"][1]),
        "misspelt_party": (["parties.rusia.war_cost=0.1"], MISSPELT["party"][1]),
        "headerless": (
            [f"hydra.searchpath=[file://{headerless_conf}]", "scenario=no_header"],
            headerless_message(f"the file {file}"),
        ),
        "preset": (
            ["-m", "sweep=support_grid", "scenario=dayton_1995"],
            preset_message(us_support_family),
        ),
    }
    runs = run_many(
        {
            name: ([*args, f"results_dir={tmp_path / name}"], None)
            for name, (args, _) in cases.items()
        }
    )
    for name, (_, line) in cases.items():
        run = runs[name]
        assert run.returncode == 2, run.show()
        assert run.stderr.splitlines() == [f"error: {line}"], run.show()
        assert "Traceback" not in run.stdout + run.stderr
        assert files_under(tmp_path / name) == []
