"""`python -m sim` end to end, in subprocesses: output, result files, one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core import solutions
from sim.experiment.build import build_scenario
from sim.front.cli import drawn_words
from tests.conftest import CONF_DIR, ROOT, SIGNS

CONCEPTS = ("nash", "kalai_smorodinsky", "egalitarian", "utilitarian")
STAMP = re.compile(r"^\d{8}-\d{6}-\d{6}$")  # runs/<UTC timestamp>/

# name -> command-line overrides (besides results_dir)
RUNS: dict[str, list[str]] = {
    "default": [],
    "signs": list(SIGNS),
    "out_of_range": ["us_support=1.5"],
    "unknown_scenario": ["scenario=nope"],
    "type_error": ["us_support=abc"],
}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    results: Path  # the run's results_dir (not created beforehand)
    cwd: Path  # its working directory (empty beforehand)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    """Every run of RUNS, started together (each a fresh interpreter on this checkout),
    each with its own empty working directory and `results_dir`."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    started = {}
    for name, overrides in RUNS.items():
        root = tmp_path_factory.mktemp(name)
        cwd, results = root / "cwd", root / "results"
        cwd.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", f"results_dir={results}", *overrides],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started[name] = (proc, results, cwd)
    done = {}
    for name, (proc, results, cwd) in started.items():
        out, err = proc.communicate(timeout=300)
        done[name] = Run(proc.returncode, out, err, results, cwd)
    return done


@pytest.fixture(scope="module")
def scenario(compose):
    return build_scenario(compose())


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


# --- the default run ----------------------------------------------------------------------


def test_default_run_succeeds(runs):
    run = runs["default"]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "error" not in run.stderr.lower()


def test_default_run_ends_in_ukraines_walkout_and_shows_the_text_it_left(runs, scenario):
    """The default run (README; docs/model.md, "Costs of war in an anchored unit"): no
    self-enforcing deal every party accepts comes within Ukraine's horizon, so it walks out
    in round 3; the printout shows the last text and what each party makes of it."""
    out = runs["default"].stdout
    assert re.search(r"^brussels_2025 \| single_text \| inclusive: breakdown in round 3: "
                     r"walked out: ukraine \(", out, re.M), out  # fmt: skip
    text = re.search(r"^the last text on the table: (.*)$", out, re.M)
    assert text, out
    assert scenario.space.index_of(parse_levels(text.group(1))) >= 0
    assert re.search(r"^party       of text   BATNA   margin$", out, re.M)
    margins = {}
    for p in scenario.parties:  # its value on the anticipated path against its BATNA
        number = r"([+-]?\d+\.\d{3})"
        found = re.search(rf"^  {p:<9} +{number} +{number} +{number}$", out, re.M)
        assert found, (p, out)
        value, batna, margin = map(float, found.groups())
        assert margin == pytest.approx(value - batna, abs=1.5e-3)
        margins[p] = margin
    assert margins["russia"] < 0 and margins["ukraine"] < 0  # neither belligerent takes it
    assert "NOT self-enforcing" in out and "stability:" not in out


def test_a_run_that_signs_prints_each_part_of_stability_and_the_verdict(runs):
    """With war costlier (the stake worth one year of output): a deal in month 1, unblocked,
    neither robust nor durable."""
    out = runs["signs"].stdout
    assert re.search(r"binding agreement in round 1 \(month 1\)", out), out
    assert re.search(r"^stability: no blocking coalition; guarantee force \d\.\d\d", out, re.M)
    verdict = re.search(r"robustness (\S+) \(needs at least 0\.95\), durability (\S+) "
                        r"\(needs at least 0\.5\), Powell's ratio (\S+) \(needs at most 1\) "
                        r"-> (.*)$", out, re.M)  # fmt: skip
    assert verdict, out
    robustness, durability, ratio = map(float, verdict.groups()[:3])
    assert 0 <= ratio < 1
    checks = (
        ("robustness below 0.95", robustness < 0.95),
        ("durability below 0.5", durability < 0.5),
    )
    failing = [name for name, bad in checks if bad]
    assert verdict.group(4) == ("stable" if not failing else "not stable: " + ", ".join(failing))
    assert "would each do better" not in out  # nobody blocks the neutral text


def test_default_run_names_the_aggressor_in_the_share_of_strength(runs, scenario):
    """The engine names no country: the printout takes the aggressor, and the issue the
    war moves, from the scenario."""
    out = runs["default"].stdout
    aggressor = scenario.parties[scenario.war_sides[0]]
    assert aggressor == "russia"
    assert re.search(
        rf"^contact line \d+\.\d \({scenario.territory_issue} scale\), {aggressor}'s share of "
        r"strength 0\.\d\d, ZOPA [\d,]+ outcomes in the last round$",
        out,
        re.M,
    ), out


def test_each_run_opens_its_negotiation_with_a_verdict_in_plain_words(runs):
    """The first line of the negotiation block says what happened, from the row's
    columns: the walkout of the default run; the deal of the run that signs, with the share
    of plausible worlds it fails in and the drawn input it fails most with."""
    out = runs["default"].stdout.splitlines()
    first = out.index("") + 1  # the negotiation block follows the landscape's blank line
    assert out[first] == "in short: no deal: ukraine walked out in round 3"
    assert out[first + 1].startswith("brussels_2025 | single_text | inclusive: breakdown")
    (result,) = (runs["signs"].results / "runs").glob("*/result.parquet")
    row = pd.read_parquet(result).iloc[0]
    key, _, direction = row["robustness_shock"].partition(":")
    out = runs["signs"].stdout.splitlines()
    assert out[out.index("") + 1] == (
        f"in short: a deal in round 1 that fails in {round((1 - row['robustness']) * 100)}% of "
        f"plausible worlds, mostly when {drawn_words(key)} is {direction}"
    )


def test_default_run_says_which_stakes_the_neutral_mediator_has_not(runs, scenario, compose):
    """Under mediator_bias=0 the mediator weighs no issue it controls no level of: the
    printout shows the ideal it states there and says why it has no stake."""
    cfg = compose()
    mediator = str(cfg.mediator)
    lines = runs["default"].stdout.splitlines()
    stated = cfg.parties[mediator].preferences.territory.ideal
    ideal = next(line for line in lines if line.startswith(f"  {mediator:<10} "))
    assert f"territory={stated:g}," in ideal
    weighed = [
        name
        for name, w in zip(scenario.space.names, scenario.preferences.weights[0], strict=True)
        if w > 0
    ]
    assert scenario.parties[0] == mediator and weighed == ["nato", "guarantees"]
    assert (
        f"  {mediator} (mediator, mediator_bias=0): no stake in territory (it controls no level "
        "of it): the ideal shown there is the one it states, and its utilities below weigh "
        "only nato and guarantees"
    ) in lines


def test_default_run_prints_the_outcome_space_size(runs, scenario, compose):
    cfg = compose()
    size = 1
    for issue in cfg.issues.values():
        if issue.kind == "continuous":
            size *= round((issue.high - issue.low) / issue.resolution) + 1
        else:
            size *= len(issue.levels or issue.categories)
    assert size == scenario.space.size
    first = runs["default"].stdout.splitlines()[0]
    assert first.startswith(f"scenario {cfg.scenario_name}: {size:,} outcomes (")


def test_default_run_prints_every_ideal_outcome(runs, scenario):
    """Each party's ideal outcome, but where it has no stake (the neutral mediator on the
    issues it controls no level of): there, the ideal it states."""
    lines = runs["default"].stdout.splitlines()
    ideal = scenario.preferences.ideal_outcomes()
    weights = scenario.preferences.weights
    for i, (party, outcome) in enumerate(zip(scenario.parties, ideal, strict=True)):
        levels = dict(scenario.space.levels_of(int(outcome)))
        for k, issue in enumerate(scenario.space.issues):
            if weights[i, k] == 0:  # no stake: the level it values most
                levels[issue.name] = issue.levels[
                    int(scenario.preferences.level_values[k][i].argmax())
                ]
        text = ", ".join(f"{k}={v}" for k, v in levels.items())
        assert f"  {party:<10} {text}" in lines


def concept_line(stdout: str, concept: str) -> str:
    found = [line for line in stdout.splitlines() if line.startswith(f"  {concept:<18} ")]
    assert len(found) == 1, f"{concept}: {found}"
    return found[0][len(f"  {concept:<18} ") :]


def parse_levels(text: str) -> Mapping[str, str]:
    return dict(item.split("=", 1) for item in text.split(", "))


@pytest.mark.parametrize("concept", CONCEPTS)
def test_default_run_prints_each_solution_concept(runs, scenario, concept):
    text = concept_line(runs["default"].stdout, concept)
    if text == "none: the zone of possible agreement is empty":
        assert concept != "utilitarian"  # the utilitarian solution needs no ZOPA
        return
    levels, utilities = text.split("  |  ")
    outcome = scenario.space.index_of(parse_levels(levels))
    assert scenario.acceptable[outcome]  # crosses no red line
    expected = " ".join(
        f"{p}={u:.3f}"
        for p, u in zip(scenario.parties, scenario.utilities[:, outcome], strict=True)
    )
    assert utilities == expected


def test_default_run_prints_the_utilitarian_outcome_among_acceptable_ones(runs, scenario):
    # Unlike the other concepts, the utilitarian one does not depend on reservation values.
    feasible = np.flatnonzero(scenario.acceptable)
    best = feasible[solutions.utilitarian(scenario.utilities[:, feasible])]
    levels = concept_line(runs["default"].stdout, "utilitarian").split("  |  ")[0]
    assert scenario.space.index_of(parse_levels(levels)) == best


def test_default_run_writes_one_result_row(runs, scenario):
    run = runs["default"]
    run_dirs = list((run.results / "runs").iterdir())
    assert len(run_dirs) == 1  # no staging folder left behind
    assert STAMP.match(run_dirs[0].name), run_dirs[0].name
    results = [p for p in files_under(run.results) if p.name == "result.parquet"]
    assert results == [run_dirs[0] / "result.parquet"]
    assert not [p for p in files_under(run.results) if p.name.startswith(".")]
    frame = pd.read_parquet(results[0])
    assert len(frame) == 1
    assert frame["scenario"].iloc[0] == scenario.name
    assert frame["seed"].iloc[0] == 0


def test_result_row_records_the_outcome_space_size(runs, scenario):
    (result,) = (runs["default"].results / "runs").glob("*/result.parquet")
    frame = pd.read_parquet(result)
    assert "n_outcomes" in frame.columns, sorted(frame.columns)
    assert frame["n_outcomes"].tolist() == [scenario.space.size]


def test_default_run_writes_nothing_in_the_working_directory(runs):
    assert files_under(runs["default"].cwd) == []


# --- bad input ------------------------------------------------------------------------------


def scenario_names() -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / "scenario").glob("*.yaml"))


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("out_of_range", "error: us_support: got 1.5; allowed: a number in [0.0, 1.0]"),
        ("unknown_scenario", f"error: scenario: got 'nope'; allowed: one of {scenario_names()}"),
        (
            "type_error",
            "error: us_support: Value 'abc' of type 'str' could not be converted to Float",
        ),
    ],
)
def test_bad_override_gives_one_line_and_status_2(runs, name, line):
    run = runs[name]
    assert run.returncode == 2
    assert run.stderr.splitlines() == [line]
    assert "Traceback" not in run.stdout + run.stderr
    assert not run.results.exists()
    assert files_under(run.cwd) == []
