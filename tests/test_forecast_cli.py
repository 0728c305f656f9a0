"""`python -m sim.front.forecast_cli` (`./dev forecast`): Bueno de Mesquita's forecast of a
scenario's issues, printed and written (rounds.parquet, a positions figure and a quadrant
figure per issue), and the two figures' contents."""

from __future__ import annotations

import re
import subprocess
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.collections import PathCollection

from sim.core import bdm
from sim.core.outcomes import Issue
from sim.experiment.expected_utility import IssueForecast, IssueInputs, forecast_scenario
from sim.experiment.validation import ConfigError
from sim.front import figures, forecast_cli
from sim.front.labels import name as words
from tests.conftest import ROOT, compose_config
from tests.test_figure_style import check_figure

FORECAST = re.compile(r"^forecast: (-?\d+\.\d{2})(?: \(nearest level: (\S+)\))?$", re.M)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _command(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.front.forecast_cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _forecasts(scenario: str) -> dict[str, IssueForecast | ConfigError]:
    return forecast_scenario(compose_config([f"scenario={scenario}"]))


@pytest.mark.parametrize("scenario", ["dayton_1995", "brussels_2025"])
def test_the_command_prints_and_writes_the_forecast(scenario, tmp_path):
    done = _command([f"scenario={scenario}", f"results_dir={tmp_path}"])
    assert done.returncode == 0, done.stderr
    expected = {n: f for n, f in _forecasts(scenario).items() if isinstance(f, IssueForecast)}
    assert expected, "the scenario has no issue the model forecasts"
    printed = FORECAST.findall(done.stdout)
    assert printed == [(f"{f.position:.2f}", f.level or "") for f in expected.values()], done.stdout
    for issue, f in expected.items():
        assert f"{issue} ({f.inputs.issue.kind}, " in done.stdout
        assert f"{len(f.inputs.parties)} parties" in done.stdout
    assert "options: bdm.q=1 bdm.t=1 bdm.rounds=8 bdm.probability=scholz" in done.stdout

    (folder,) = (tmp_path / "forecast").iterdir()  # no staging folder left
    assert f"wrote {folder}/" in done.stdout
    rows = pd.read_parquet(folder / "rounds.parquet")
    assert list(rows.columns) == ["issue", "round", "party", "position", "median", "mean"]
    sizes = {n: f.rounds.positions.shape for n, f in expected.items()}
    assert len(rows) == sum(r * p for r, p in sizes.values())
    for issue, f in expected.items():
        part = rows[rows.issue == issue].sort_values(["round", "party"])
        table = part.pivot(index="round", columns="party", values="position")
        np.testing.assert_allclose(table[list(f.inputs.parties)].to_numpy(), f.rounds.positions)
        last = part[part["round"] == part["round"].max()]
        np.testing.assert_allclose(last["median"], f.position)
    pictures = sorted(p.name for p in folder.glob("*.png"))
    assert pictures == sorted(
        [f"positions_{n}.png" for n in expected] + [f"quadrants_{n}.png" for n in expected]
    )
    assert all((folder / p).stat().st_size > 0 for p in pictures)


def test_a_bad_option_is_one_line_and_exit_2(tmp_path):
    done = _command(["scenario=dayton_1995", "bdm.q=2", f"results_dir={tmp_path}"])
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: bdm.q: got 2"), done.stderr
    assert "a probability in [0, 1]" in errors[0]
    assert not (tmp_path / "forecast").exists()


def test_an_issue_the_model_cannot_read_is_one_line(tmp_path):
    alone = [f"parties.{p}.preferences.nato.salience=0" for p in ("usa", "ukraine", "europe")]
    done = _command(["scenario=brussels_2025", *alone, f"results_dir={tmp_path}"])
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stdout.splitlines() if line.startswith("nato")]
    assert said == [
        "nato: no forecast: parties.<name>.preferences.nato: got '1 party with a position'; "
        "allowed: at least two parties with a position (`ideal` or a `table`) and a salience "
        "above 0 on the issue"
    ]
    assert "2 of 3 issues forecast" in done.stdout
    (folder,) = (tmp_path / "forecast").iterdir()
    assert set(pd.read_parquet(folder / "rounds.parquet")["issue"]) == {"territory", "guarantees"}
    assert not (folder / "positions_nato.png").exists()


def test_the_options_reach_the_model(tmp_path):
    done = _command(
        ["scenario=dayton_1995", "bdm.rounds=3", "bdm.q=0.5", f"results_dir={tmp_path}"]
    )
    assert done.returncode == 0, done.stderr
    assert "options: bdm.q=0.5 bdm.t=1 bdm.rounds=3 " in done.stdout
    (folder,) = (tmp_path / "forecast").iterdir()
    rows = pd.read_parquet(folder / "rounds.parquet")
    assert sorted(rows["round"].unique()) == [0, 1, 2, 3]


def _synthetic(parties: int, rounds: int) -> IssueForecast:
    """A forecast of `parties` parties spread over a 0-100 scale (a table's layout)."""
    names = tuple(f"party{k}" for k in range(parties))
    x = np.linspace(0.0, 100.0, parties)
    c, s = np.linspace(1.0, 2.0, parties), np.full(parties, 0.8)
    issue = Issue.continuous("scale", 0.0, 100.0, 1.0)
    inputs = IssueInputs(issue, names, x, c, s)
    return IssueForecast(inputs, bdm.run(x, c, s, bdm.BdmOptions(rounds=rounds)))


def test_the_table_puts_parties_as_rows_when_rounds_as_rows_would_be_too_wide():
    few = forecast_cli.rounds_table(_synthetic(4, 8)).splitlines()
    assert few[0].split() == ["round", "median", "mean", "party0", "party1", "party2", "party3"]
    assert len(few) == 1 + 9
    many = forecast_cli.rounds_table(_synthetic(10, 8)).splitlines()
    assert many[0].split() == ["round", *map(str, range(9))]
    assert [line.split()[0] for line in many[1:]] == ["median", "mean"] + [
        f"party{k}" for k in range(10)
    ]
    assert max(map(len, many)) <= forecast_cli.WIDE


def test_the_view_is_the_party_of_the_largest_capability_times_salience():
    f = _synthetic(5, 2)
    assert forecast_cli.view_party(f) == "party4"  # capability 2, the largest


# -- the figures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def constitution() -> IssueForecast:
    """An ordinal issue of six parties."""
    f = _forecasts("dayton_1995")["constitution"]
    assert isinstance(f, IssueForecast)
    return f


def test_the_positions_figure_has_a_line_per_party_and_the_median_and_mean(constitution):
    f = constitution
    fig = figures.plot_bdm_positions(f, scenario="dayton_1995")
    check_figure(fig, "positions", "dayton_1995")
    (ax,) = fig.axes
    lines = ax.get_lines()
    parties = [words(p) for p in f.inputs.parties]
    assert [line.get_label() for line in lines] == [
        *parties,
        "median voter position",
        "weighted mean",
    ]
    for k, line in enumerate(lines[: len(parties)]):
        np.testing.assert_allclose(line.get_ydata(), f.rounds.positions[:, k])
        np.testing.assert_allclose(line.get_xdata(), np.arange(f.rounds.positions.shape[0]))
    median, mean = lines[-2:]
    np.testing.assert_allclose(median.get_ydata(), f.rounds.medians)
    np.testing.assert_allclose(mean.get_ydata(), f.rounds.means)
    assert median.get_color() == mean.get_color() == figures.BLACK
    assert median.get_linewidth() > max(line.get_linewidth() for line in lines[:-2])
    assert mean.get_linestyle() == "--"
    colours = {line.get_color() for line in lines[: len(parties)]}
    assert len(colours) == len(parties) and colours <= set(figures.OKABE_ITO)
    (star,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(star.get_offsets(), [[f.rounds.positions.shape[0] - 1, f.position]])
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [words(level) for level in f.inputs.issue.levels]
    np.testing.assert_allclose(ax.get_yticks(), f.inputs.issue.positions)


@pytest.mark.parametrize("round_", [0, 3])
def test_the_quadrant_plot_has_a_labelled_point_per_other_party(constitution, round_):
    f = constitution
    parties = list(f.inputs.parties)
    actor = forecast_cli.view_party(f)
    a = parties.index(actor)
    fig = figures.plot_bdm_quadrants(f, actor, round_, scenario="dayton_1995")
    check_figure(fig, "quadrants", "dayton_1995")
    (ax,) = fig.axes
    eu = f.rounds.expected[round_]
    want = {words(p): (eu[a, a, j], eu[a, j, a]) for j, p in enumerate(parties) if j != a}
    annotations = {t.get_text(): t.xy for t in ax.texts if hasattr(t, "xy")}
    assert set(annotations) == set(want)
    for party, (x, y) in want.items():
        np.testing.assert_allclose(annotations[party], (x, y), err_msg=party)
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(points.get_offsets(), list(want.values()))
    shown = " ".join(t.get_text().replace("\n", " ") for t in ax.texts)
    for region in ("conflict", "compromise", "capitulation", "status quo"):
        assert region in shown, region
    head = ax.get_title().replace("\n", " ")
    assert words(actor) in head and f"round {round_}" in head, head
    low, high = ax.get_xlim()
    assert low < min(x for x, _ in want.values()) and high > max(x for x, _ in want.values())
    assert ax.get_ylim() == ax.get_xlim()  # the diagonals at 45 degrees


def test_the_quadrant_plot_refuses_an_unknown_actor_or_round(constitution):
    with pytest.raises(ValueError, match=r"^actor: got 'nobody'; allowed: one of"):
        figures.plot_bdm_quadrants(constitution, "nobody")
    rounds = constitution.rounds.expected.shape[0]
    with pytest.raises(ValueError, match=rf"^round_: got {rounds}; allowed"):
        figures.plot_bdm_quadrants(constitution, constitution.inputs.parties[0], rounds)
