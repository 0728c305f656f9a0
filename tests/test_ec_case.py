"""The European Community's emission standards for medium-sized cars (conf/scenario/
ec_emissions_1994.yaml): Bueno de Mesquita's (1994, p. 78) published inputs, read back as
the expected-utility model reads them, and a decision without a war that builds, runs and
refuses what needs a war (docs/new-conflict.md, "A decision without a war")."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from sim.core.scoring import weighted_mean, weighted_median
from sim.experiment.build import build_scenario
from sim.experiment.expected_utility import forecast_scenario, issue_inputs
from sim.experiment.validation import ConfigError
from tests.conftest import ROOT, compose_config

SCENARIO = "scenario=ec_emissions_1994"

# Bueno de Mesquita (1994, p. 78); Scholz, Calbert & Smith (2011, Table 1):
# actor -> (capability, position in years, salience)
TABLE = {
    "netherlands": (0.08, 4.0, 80.0),
    "belgium": (0.08, 7.0, 40.0),
    "luxembourg": (0.03, 4.0, 20.0),
    "germany": (0.16, 4.0, 80.0),
    "france": (0.16, 10.0, 60.0),
    "italy": (0.16, 10.0, 60.0),
    "united_kingdom": (0.16, 10.0, 90.0),
    "ireland": (0.05, 7.0, 10.0),
    "denmark": (0.05, 4.0, 100.0),
    "greece": (0.08, 7.0, 70.0),
}


@pytest.fixture(scope="module")
def cfg():
    return compose_config([SCENARIO])


@pytest.fixture(scope="module")
def inputs(cfg):
    return issue_inputs(cfg, "years")


def test_the_inputs_are_the_published_table(inputs):
    assert inputs.parties == tuple(TABLE)
    capability, position, salience = np.array(list(TABLE.values())).T
    assert inputs.positions.tolist() == position.tolist()
    assert inputs.capabilities.tolist() == capability.tolist()
    assert inputs.saliences.tolist() == (salience / 100).tolist()
    assert (inputs.issue.positions.min(), inputs.issue.positions.max()) == (4.0, 10.0)


def test_weighted_mean_and_median_of_the_positions(inputs):
    weights = inputs.capabilities * inputs.saliences
    assert round(weighted_mean(inputs.positions, weights), 2) == 7.39
    assert weighted_median(inputs.positions, weights) == 7.0


def test_the_forecast_lies_between_the_published_forecast_and_the_latest_position(cfg):
    """Bueno de Mesquita forecast 8.35 years (the decision: 8.83); the default options
    (Scholz et al.'s reading) put it later, short of the 10-year camp."""
    forecast = forecast_scenario(cfg)["years"].position
    assert 8.35 <= forecast <= 9.9


def test_the_scenario_builds_without_a_war(cfg):
    scenario = build_scenario(compose_config([SCENARIO]))
    assert scenario.war_sides is None and scenario.belligerents is None
    assert scenario.war_params.adjustment_rate == 0.0 and scenario.war_params.volatility == 0.0
    assert scenario.territory_issue == "years" and scenario.contact_line == 7.0
    assert not cfg.war.capacity and not cfg.war.support and cfg.war.aggressor is None


def run_cli(*overrides: str, results) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim", SCENARIO, f"results_dir={results}", *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_runs_it_to_the_end(tmp_path):
    run = run_cli(results=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "binding agreement" in run.stdout
    assert len(list((tmp_path / "runs").glob("*/result.parquet"))) == 1


NEEDS_A_WAR = "needs a war block: war.aggressor, war.defender and war.capacity"
NO_WAR = "empty without a war (war.aggressor and war.defender unset)"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["batna=war"], f"batna: got 'war'; allowed: static (batna=war {NEEDS_A_WAR})"),
        (
            ["bargaining=fighting"],
            f"bargaining: got 'fighting'; allowed: calendar (bargaining=fighting {NEEDS_A_WAR})",
        ),
        (["+war.capacity.france=1.0"], f"war.capacity: got {{'france': 1.0}}; allowed: {NO_WAR}"),
        (["+war.support.italy=0.5"], f"war.support: got {{'italy': 0.5}}; allowed: {NO_WAR}"),
    ],
)
def test_what_needs_a_war_is_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        build_scenario(compose_config([SCENARIO, *overrides]))


def test_the_cli_refuses_batna_war_without_a_war(tmp_path):
    run = run_cli("batna=war", results=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"error: batna: got 'war'; allowed: static (batna=war {NEEDS_A_WAR})"
    ]
