"""Intervals wherever a share is shown, heatmaps faceted by every swept parameter, and
`replications=auto` (issue 13, item 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.statistics import share_summary
from sim.core.intervals import proportion_interval
from sim.experiment.build import build_scenario
from sim.experiment.jobs import run_replications
from sim.experiment.validation import ConfigError
from sim.front import figures
from sim.front.callbacks import summary
from tests.conftest import compose_config

RESULTS = ["outcome", "agreement", "stable", "robustness", "durability", "u_russia"]


def test_wilson_interval_closed_form():
    """Wilson (1927): 0 of 20 -> [0, z^2 / (n + z^2)]; 10 of 20 symmetric about 1/2."""
    z = 1.959963984540054
    assert proportion_interval(0, 20) == pytest.approx((0.0, 0.0, z**2 / (20 + z**2)))
    share, low, high = proportion_interval(10, 20)
    assert share == 0.5 and low == pytest.approx(1 - high) and 0.29 < low < 0.3


def test_share_summary_gives_each_group_its_share_interval_and_count():
    frame = pd.DataFrame(
        {
            "seating": ["a"] * 4 + ["b"] * 2 + ["b"],
            "agreement": [1, 1, 0, 1, 1, 0, 1],
            "stable": [0, 0, 0, 1, 1, 1, 0],
            "error": [None] * 6 + ["failed"],
        }
    )
    table = share_summary(frame, ["seating"]).set_index("seating")
    assert table["n"].tolist() == [4, 2]  # the failed row is left out
    assert table.loc["a", "agreement"] == 0.75
    low, high = proportion_interval(3, 4)[1:]
    assert (table.loc["a", "agreement_low"], table.loc["a", "agreement_high"]) == (low, high)
    assert share_summary(frame)["n"].tolist() == [6]


def test_the_sweep_summary_shows_an_interval_for_the_stable_share(tmp_path):
    frame = pd.DataFrame(
        {"job": ["j"] * 10, "agreement": [True] * 10, "stable": [True] * 3 + [False] * 7}
    )
    frame["months"] = 1.0
    text = summary(frame, tmp_path / "results.parquet")
    _, low, high = proportion_interval(3, 10)
    assert f"30% stable [95%: {low:.0%}-{high:.0%}]" in text


def test_the_heatmap_has_a_row_of_panels_per_facet_and_an_interval_per_cell():
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame(
        {
            "x": rng.choice([0.0, 0.5, 1.0], n),
            "y": rng.choice(["p", "q"], n),
            "seating": rng.choice(["inclusive", "phased"], n),
            "agreement": rng.random(n) < 0.6,
            "stable": rng.random(n) < 0.3,
        }
    )
    fig = figures.sweep_heatmap(frame, "x", "y", facets=["seating"])
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 4
    titles = [ax.get_title() for ax in panels]
    assert titles[0].endswith("seating: inclusive") and titles[3].endswith("seating: phased")
    # each cell: its share, its interval and count, for the facet's rows only
    part = frame[(frame["seating"] == "phased") & (frame["x"] == 0.0) & (frame["y"] == "p")]
    _, low, high = proportion_interval(int(part["stable"].sum()), len(part))
    texts = [t.get_text() for t in panels[3].texts]
    assert f"[{low:.0%}, {high:.0%}]\nn={len(part)}" in texts
    with pytest.raises(ValueError, match=r"^facets: 120 combinations"):
        figures.sweep_heatmap(frame.assign(k=range(n)), "x", "y", facets=["k"])


# --- replications=auto -----------------------------------------------------------------------


def _rows(*overrides: str) -> pd.DataFrame:
    return pd.DataFrame(run_replications(compose_config(list(overrides)))[0])


AUTO = ("replications=auto", "max_rounds=12", "ci_width=0.3", "replication_block=4")


def test_auto_stops_when_the_interval_is_narrow_enough():
    rows = _rows(*AUTO)
    n = len(rows)
    _, low, high = proportion_interval(int(rows["stable"].sum()), n)
    assert high - low <= 0.3 and n % 4 == 0
    _, low, high = proportion_interval(int(rows["stable"].iloc[: n - 4].sum()), n - 4)
    assert high - low > 0.3  # one block fewer was not enough
    assert rows["replications"].eq(n).all() and rows["replication"].tolist() == list(range(n))


def test_auto_rows_are_the_fixed_rows_of_the_same_replications():
    auto = _rows(*AUTO)
    fixed = _rows("replications=8", "max_rounds=12")
    pd.testing.assert_frame_equal(auto[RESULTS].iloc[:8], fixed[RESULTS])


def test_auto_at_each_design_point_and_a_cap():
    grid = (
        "uncertainty.us_support.dist=grid",
        "uncertainty.us_support.levels=[0,1]",
        "max_replications=6",
        "ci_width=0.01",
    )
    rows = _rows(*AUTO, *grid)
    assert rows.groupby("point").size().tolist() == [6, 6]  # capped
    assert rows["replication"].tolist() == [*range(6), *range(6, 12)]
    again = _rows(*AUTO, *grid)
    pd.testing.assert_frame_equal(rows[RESULTS], again[RESULTS])
    alone = _rows(*AUTO, *grid, "replication=8")
    pd.testing.assert_frame_equal(
        alone[RESULTS].reset_index(drop=True),
        rows[rows["replication"] == 8][RESULTS].reset_index(drop=True),
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["replications=some"], "replications: got 'some'; allowed: an integer >= 1 or 'auto'"),
        (["replications=0"], "replications: got 0; allowed: an integer >= 1 or 'auto'"),
        (
            ["replications=auto", "ci_width=0"],
            "ci_width: got 0.0; allowed: a number in (0, 1): the widest 95% interval",
        ),
        (
            ["replications=auto", "replication_block=2000"],
            "replication_block: got 2000; allowed: an integer in [1, 1000]",
        ),
    ],
)
def test_bad_auto_settings_are_one_line_errors(overrides, message):
    with pytest.raises(ConfigError) as info:
        build_scenario(compose_config(overrides))
    assert str(info.value) == message
