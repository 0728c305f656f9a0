"""Full factorial designs inside a job (`uncertainty.<name>.dist=grid`): every point of
the grid gets `replications` negotiations, the rows say which point and level, the grid
draws nothing from the random streams, and a row re-runs alone."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.experiment.designs import design_points, replications_per_job
from sim.experiment.jobs import run_replications
from tests.helpers_model import compose

GRID = (
    "uncertainty.us_support.dist=grid",
    "uncertainty.us_support.levels=[0,0.5,1]",
    "uncertainty.europe_support.dist=grid",
    "uncertainty.europe_support.levels=[0.2,0.8]",
)
# the same grid by the general keys
GENERAL_GRID = (
    "uncertainty.war.support.usa.dist=grid",
    "uncertainty.war.support.usa.levels=[0,0.5,1]",
    "uncertainty.war.support.europe.dist=grid",
    "uncertainty.war.support.europe.levels=[0.2,0.8]",
)
USA, EUROPE = "war.support.usa", "war.support.europe"  # the keys the grid varies
LIGHT = ("stability.robustness_draws=4", "stability.durability_paths=2", "max_rounds=40")


def rows(*overrides: str, **kwargs) -> pd.DataFrame:
    out, _ = run_replications(compose(*overrides, *LIGHT), **kwargs)
    return pd.DataFrame(out)


def test_every_point_of_the_grid_gets_its_replications():
    cfg = compose("replications=2", *GRID)
    points = design_points(cfg)
    assert points[:3] == [
        {"war.support.europe": 0.2, "war.support.usa": 0.0},
        {"war.support.europe": 0.2, "war.support.usa": 0.5},
        {"war.support.europe": 0.2, "war.support.usa": 1.0},
    ]
    assert len(points) == 6 and replications_per_job(cfg) == 12
    # the scenario's aliases (uncertainty.us_support) set the general keys' spreads
    assert design_points(compose("replications=2", *GENERAL_GRID)) == points
    frame = rows("replications=2", *GRID)
    assert frame["replication"].tolist() == list(range(12))
    assert frame["point"].tolist() == [r // 2 for r in range(12)]
    for point, group in frame.groupby("point"):
        assert group[f"{USA}_drawn"].nunique() == group[f"{EUROPE}_drawn"].nunique() == 1
        assert {
            EUROPE: group[f"{EUROPE}_drawn"].iloc[0],
            USA: group[f"{USA}_drawn"].iloc[0],
        } == points[point]
    # more support for Ukraine, a smaller Russian share of strength
    by_support = frame[frame[f"{EUROPE}_drawn"] == 0.2].groupby(f"{USA}_drawn")
    shares = by_support["p_share"].first().tolist()
    assert shares == sorted(shares, reverse=True) and len(set(shares)) == 3
    assert frame[f"uncertainty.{USA}"].iloc[0] == "grid[0.0, 0.5, 1.0]"
    assert frame[f"uncertainty.{EUROPE}"].iloc[0] == "grid[0.2, 0.8]"


def test_a_grid_draws_nothing_from_the_random_streams():
    drawn = ("uncertainty.ukraine_capacity.dist=uniform", "uncertainty.ukraine_capacity.scale=0.5")
    alone = rows("replications=3", *drawn)
    with_grid = rows("replications=3", *drawn, *GRID)
    # the first point's replications have the seeds of the job without a grid
    assert with_grid["war.capacity.ukraine_drawn"].iloc[:3].tolist() == pytest.approx(
        alone["war.capacity.ukraine_drawn"].tolist()
    )


@pytest.mark.parametrize("replication", [0, 7, 11])
def test_a_row_of_a_grid_re_runs_alone(replication):
    whole = rows("replications=2", *GRID)
    again = rows("replications=2", *GRID, f"replication={replication}")
    assert len(again) == 1
    columns = ["point", f"{USA}_drawn", f"{EUROPE}_drawn", "outcome", "robustness"]
    expected = whole.loc[whole["replication"] == replication, columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(again[columns], expected)


def test_a_grid_gives_the_same_rows_batched_and_one_by_one():
    batched = rows("replications=2", *GRID)
    one_by_one = rows("replications=2", *GRID, collect_trace=True)
    pd.testing.assert_frame_equal(batched, one_by_one)


def test_the_support_design_preset_is_a_valid_11_by_11_grid():
    from sim.experiment.build import build_scenario

    cfg = compose("sweep=support_design")
    build_scenario(cfg)  # validates
    points = design_points(cfg)
    assert len(points) == 121 and replications_per_job(cfg) == 1210
    assert points[12] == {EUROPE: 0.1, USA: 0.1}
