"""Figures for every ending (issue items 3, 6 and 8): negotiation.png of talks of one or
two rounds draws each party's utility of the deal (or of the last text) against its BATNA
as bars, with no legend entry for what is not drawn; the sweep heatmap draws a 0% share
as 0% on its colour scale (not like a failed cell), hatches only where the count says
something, and gives the mean stability score per cell."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.experiment.jobs import run_replications
from sim.front import cli, figures
from sim.front.callbacks import heatmap_figure, summary_columns
from sim.front.figures import heatmap
from tests.conftest import SIGNS, compose_config


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def negotiation_png(overrides: list[str], monkeypatch, folder) -> tuple[Figure, dict]:
    """The figure `python -m sim <overrides>` saves as negotiation.png, and its row."""
    drawn: list[Figure] = []
    original = figures.plot_trajectory

    def recording(*args, **kwargs):
        fig = original(*args, **kwargs)
        drawn.append(fig)
        return fig

    monkeypatch.setattr(figures, "plot_trajectory", recording)
    monkeypatch.setattr(Figure, "savefig", lambda *args, **kwargs: None)
    with redirect_stdout(io.StringIO()):
        row = cli._run_single(compose_config(overrides))(folder)
    (fig,) = drawn
    return fig, row


def _trace(overrides: list[str]):
    rows, model = run_replications(compose_config(overrides), collect_trace=True)
    return rows[0], model.trace(), list(model.problem.parties)


# -- legend entries stand for drawn artists -------------------------------------------------------
def _visible_line(line: Line2D) -> bool:
    """A line that shows on the axes: a marker at a point, or a segment of two points."""
    n = len(np.atleast_1d(line.get_xdata()))
    marked = line.get_marker() not in (None, "None", "", " ", "none")
    drawn = line.get_linestyle() not in ("None", "", " ", "none") and n > 1
    return line.get_visible() and n > 0 and (marked or drawn)


def _same_colour(a, b) -> bool:
    return np.allclose(to_rgba(a)[:3], to_rgba(b)[:3])


def _drawn_for(ax, handle) -> bool:
    """Whether the axes show an artist that a legend `handle` stands for."""
    if isinstance(handle, Line2D):
        candidates = [
            line
            for line in ax.get_lines()
            if _visible_line(line)
            and line.get_linestyle() == handle.get_linestyle()
            and line.get_marker() == handle.get_marker()
        ]
        if _same_colour(handle.get_color(), figures.GREY) or handle.get_marker() not in (
            None,
            "None",
            "",
        ):
            return bool(candidates)  # a grey entry stands for the style in any colour
        return any(_same_colour(line.get_color(), handle.get_color()) for line in candidates)
    if isinstance(handle, Patch):
        if handle.get_hatch():
            return any(
                p.get_hatch() == handle.get_hatch() and p.get_width() > 0 for p in ax.patches
            )
        return any(len(c) and any(b.get_width() > 0 for b in c) for c in ax.containers)
    raise AssertionError(f"a legend entry of an unknown kind: {handle!r}")


def assert_legend_drawn(ax) -> list[str]:
    """Every legend entry stands for an artist drawn on `ax`; returns their labels."""
    legend = ax.get_legend()
    assert legend is not None, "no legend"
    labels = [t.get_text() for t in legend.get_texts()]
    handles = legend.legend_handles
    assert len(handles) == len(labels)
    missing = [text for text, h in zip(labels, handles, strict=True) if not _drawn_for(ax, h)]
    assert not missing, f"legend entries for nothing drawn: {missing}"
    return labels


def _bars(ax) -> list:
    (container,) = ax.containers
    return list(container)


# -- negotiation.png ---------------------------------------------------------------------------
def test_round_one_deal_draws_a_bar_per_party_against_its_batna(monkeypatch, tmp_path):
    fig, row = negotiation_png(["max_rounds=30", *SIGNS], monkeypatch, tmp_path)
    assert row["reason"] == "agreement" and row["round"] == 1
    (ax,) = fig.axes
    parties = ["usa", "russia", "ukraine", "europe"]
    bars = _bars(ax)
    assert len(bars) == len(parties)
    u = np.array([row[f"u_{p}"] for p in parties])
    d = np.array([row[f"reservation_{p}"] for p in parties])
    assert [b.get_width() for b in bars] == pytest.approx(u)
    # bars top to bottom in the parties' order, each in its party's colour
    centres = [b.get_y() + b.get_height() / 2 for b in bars]
    assert centres == sorted(centres) and ax.yaxis_inverted()
    colours = figures.party_colours(parties)
    assert all(
        _same_colour(b.get_facecolor(), colours[p]) for b, p in zip(bars, parties, strict=True)
    )
    # each BATNA a tick across its bar; each margin hatched between the two
    for k, (dk, centre) in enumerate(zip(d, centres, strict=True)):
        ticks = [
            line
            for line in ax.get_lines()
            if np.allclose(line.get_xdata(), dk) and min(line.get_ydata()) < centre
        ]
        assert ticks and max(ticks[0].get_ydata()) > centre, f"no BATNA tick for {parties[k]}"
    margins = sorted(p.get_width() for p in ax.patches if p.get_hatch())
    assert margins == pytest.approx(sorted(abs(u - d)))
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [f"{p}\nmargin {m:+.2f}" for p, m in zip(parties, u - d, strict=True)]
    # sensible limits: the utility scale, widened to any BATNA below 0
    low, high = ax.get_xlim()
    assert low <= min(0.0, d.min()) - 0.01 and 1.0 <= high <= 1.1
    assert ax.get_xlabel() == figures.UTILITY_LABEL
    labels = assert_legend_drawn(ax)
    assert labels == ["utility of the deal", "BATNA (value of war)", "margin (utility minus BATNA)"]
    assert ax.get_legend().get_title().get_text() == "agreement, round 1"
    assert "binding agreement in round 1" in ax.get_title()  # titled as the lines would be


def test_two_rounds_without_a_deal_draw_the_last_text(monkeypatch, tmp_path):
    fig, row = negotiation_png(["max_rounds=2"], monkeypatch, tmp_path)
    assert row["round"] == 2 and not row["agreement"]
    (ax,) = fig.axes
    _, trace, parties = _trace(["max_rounds=2"])
    last = trace[trace["round"] == 2].iloc[-1]
    assert [b.get_width() for b in _bars(ax)] == pytest.approx([last[f"u_{p}"] for p in parties])
    labels = assert_legend_drawn(ax)
    assert labels[0] == "utility of the last text"
    # a text some party values below its BATNA: the shortfall hatched past the bar's end
    short = [p for p in parties if last[f"u_{p}"] < last[f"reservation_{p}"]]
    assert short, "the case should have a party short of its BATNA"
    ends = {round(p.get_x() + p.get_width(), 9) for p in ax.patches if p.get_hatch()}
    assert {round(float(last[f"reservation_{p}"]), 9) for p in short} <= ends


def test_walkout_in_round_three_keeps_the_lines(monkeypatch, tmp_path):
    fig, row = negotiation_png(["max_rounds=30"], monkeypatch, tmp_path)
    assert row["reason"] == "breakdown" and row["round"] == 3
    (ax,) = fig.axes
    assert not ax.containers
    assert ax.get_xlim() == pytest.approx((0.5, 3.5))
    labels = assert_legend_drawn(ax)
    assert "breakdown (at the BATNA)" in labels and "utility of the text" in labels


def test_dayton_deal_in_round_one(monkeypatch, tmp_path):
    fig, row = negotiation_png(["scenario=dayton_1995"], monkeypatch, tmp_path)
    assert row["round"] == 1
    (ax,) = fig.axes
    parties = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
    assert len(_bars(ax)) == len(parties) == 6
    assert_legend_drawn(ax)
    assert "dayton 1995" in ax.get_title()


def test_alternating_offers_round_one_and_forced_lines():
    row, trace, parties = _trace(["protocol=alternating_offers", *SIGNS])
    assert row["round"] == 1
    fig = figures.plot_trajectory(trace, parties, row["round"], protocol="alternating_offers")
    ax = fig.axes[0]
    assert len(_bars(ax)) == len(parties)
    assert ax.get_title() == figures.OFFERS_TITLE
    assert_legend_drawn(ax)
    # the lines can still be asked for
    fig = figures.plot_trajectory(
        trace, parties, 1, reason="agreement", protocol="alternating_offers", bars=False
    )
    ax = fig.axes[0]
    assert not ax.containers and len(_stars(ax)) == len(parties)


def _stars(ax) -> list[Line2D]:
    return [line for line in ax.get_lines() if line.get_marker() == "*"]


def test_end_utilities_fall_back_to_the_last_text():
    trace = pd.DataFrame(
        {
            "round": [1, 2],
            "u_a": [0.4, np.nan],
            "u_b": [0.7, np.nan],
            "reservation_a": [0.3, 0.35],
            "reservation_b": [0.5, 0.55],
        }
    )
    u, d = figures.end_utilities(trace, ["a", "b"], 2)
    assert u == pytest.approx([0.4, 0.7]) and d == pytest.approx([0.35, 0.55])
    fig = figures.plot_margins(trace.iloc[1:], ["a", "b"], 2, reason="breakdown")
    ax = fig.axes[0]
    assert not any(b.get_width() for c in ax.containers for b in c)  # no text: no bar
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a\nno text", "b\nno text"]
    assert assert_legend_drawn(ax) == ["BATNA (value of war)"]


# -- heatmap -----------------------------------------------------------------------------------
def _frame(cells: dict[tuple[float, str], tuple[int, float]], failed=()) -> pd.DataFrame:
    """Rows per (x, y) cell: (replications, share with a deal); a deal scores 0.5; `failed`
    cells hold one failed job."""
    rows = []
    for (x, y), (n, share) in cells.items():
        deals = round(n * share)
        for k in range(n):
            deal = k < deals
            rows.append(
                {
                    "x": x,
                    "y": y,
                    "agreement": deal,
                    "stable": False,
                    "stability_score": 0.5 if deal else 0.0,
                    "error": None,
                }
            )
    for x, y in failed:
        rows.append(
            {"x": x, "y": y, "agreement": None, "stable": None, "stability_score": None}
            | {"error": "ValueError: boom"}
        )
    frame = pd.DataFrame(rows)
    frame["stable"] = frame["stable"].astype("boolean")
    return frame


def _panels(fig) -> list:
    return [ax for ax in fig.axes if ax.images]


def _cell(ax, x, y) -> tuple[int, int]:
    xs = [t.get_text() for t in ax.get_xticklabels()]
    ys = [t.get_text() for t in ax.get_yticklabels()]
    return ys.index(y), xs.index(x)


def _cell_colour(ax, i: int, j: int) -> np.ndarray:
    """The colour a cell shows: the image's, under whatever filled patches cover it."""
    (image,) = ax.images
    values = np.ma.masked_invalid(np.asarray(image.get_array(), dtype=float))
    colour = np.array(image.to_rgba(values)[i, j], dtype=float)
    for patch in sorted(ax.patches, key=lambda p: p.get_zorder()):
        x0, y0 = patch.get_xy()
        covers = x0 <= j <= x0 + patch.get_width() and y0 <= i <= y0 + patch.get_height()
        if covers and patch.get_fill():
            face = np.array(patch.get_facecolor(), dtype=float)
            colour[:3] = face[3] * face[:3] + (1 - face[3]) * colour[:3]
    return colour[:3]


def _hatched_at(ax, i: int, j: int) -> bool:
    return any(p.get_hatch() and np.allclose(p.get_xy(), (j - 0.5, i - 0.5)) for p in ax.patches)


def test_a_zero_share_is_dark_not_the_failed_grey():
    frame = _frame({(0.0, "p"): (3, 0.0), (1.0, "p"): (8, 0.0), (0.0, "q"): (8, 1.0)}, [(1.0, "q")])
    fig = figures.sweep_heatmap(frame, "x", "y", ["agreement"], score=None)
    (ax,) = _panels(fig)
    zero_small, zero, failed = _cell(ax, "0", "p"), _cell(ax, "1", "p"), _cell(ax, "1", "q")
    scale_zero = np.array(ax.images[0].cmap(0.0)[:3])
    # a 0% cell shows the scale's 0, small (hatched) or not; a failed cell, its grey
    assert _cell_colour(ax, *zero) == pytest.approx(scale_zero)
    assert _cell_colour(ax, *zero_small) == pytest.approx(scale_zero)
    assert _hatched_at(ax, *zero_small) and not _hatched_at(ax, *zero)
    grey = _cell_colour(ax, *failed)
    assert np.abs(grey - scale_zero).max() > 0.5
    # no colour of the scale is near the failed grey
    scale = ax.images[0].cmap(np.linspace(0, 1, 256))[:, :3]
    assert np.abs(scale - grey).max(axis=1).min() > 0.1
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("0%") == 2 and any(t.startswith("failed") for t in texts)


def test_a_sweep_of_one_replication_per_cell_is_not_hatched():
    cells = {(x, y): (1, float(x > 0.4)) for x in (0.0, 0.5, 1.0) for y in ("p", "q")}
    fig = figures.sweep_heatmap(_frame(cells), "x", "y")
    panels = _panels(fig)
    assert len(panels) == 3  # binding deal, stable deal, mean stability score
    for ax in panels:
        assert not [p for p in ax.patches if p.get_hatch()]
        assert not [t for t in ax.texts if "n=" in t.get_text() or "[" in t.get_text()]
    head = fig.get_suptitle()
    assert "each cell is one replication" in head and "hatched" not in head
    assert "1 replications" not in head


def test_hatching_marks_only_the_cells_of_few_replications():
    cells = {(0.0, "p"): (1, 1.0), (0.5, "p"): (3, 0.0), (1.0, "p"): (6, 0.5)}
    cells |= {(0.0, "q"): (10, 0.3), (0.5, "q"): (5, 0.4), (1.0, "q"): (4, 0.5)}
    frame = _frame(cells)
    fig = figures.sweep_heatmap(frame, "x", "y")
    for ax in _panels(fig):
        for (x, y), (n, _) in cells.items():
            at = _cell(ax, f"{x:g}", y)
            assert _hatched_at(ax, *at) == (n < figures.SMALL_N), (ax.get_title(), x, y, n)
    assert "(hatched: fewer than 5)" in fig.get_suptitle()


def test_the_heatmap_gives_the_mean_stability_score_per_cell():
    cells = {
        (0.0, "p"): (6, 0.5),
        (1.0, "p"): (6, 1.0),
        (0.0, "q"): (6, 0.0),
        (1.0, "q"): (6, 1 / 3),
    }
    frame = _frame(cells, [(0.5, "q")])
    fig = heatmap_figure(frame, ["x", "y"])
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels][-1] == heatmap.SCORE_TITLE
    ax = panels[-1]
    ok = frame[frame["error"].isna()]
    expected = (
        ok.groupby(["y", "x"])["stability_score"].mean().unstack("x").sort_index(ascending=False)
    )
    shown = np.asarray(ax.images[0].get_array(), dtype=float)
    assert shown[:, [0, 2]] == pytest.approx(expected.to_numpy())
    assert np.isnan(shown[:, 1]).all()  # x = 0.5: its only job failed
    means = [t.get_text() for t in ax.texts if "." in t.get_text()]
    assert means == [f"{v:.2f}" for v in expected.to_numpy().ravel()]
    assert sum(t.get_text().startswith("failed") for t in ax.texts) == 1
    assert "mean stability score" in fig.get_suptitle()
    colorbar = [a for a in fig.axes if a.get_ylabel() == "share, or mean score (0-1)"]
    assert colorbar, "the colour bar does not say it also gives the mean score"
    # drawn into one given Axes, as before: the share only
    fig, one = plt.subplots()
    assert figures.sweep_heatmap(frame, "x", "y", ["stable"], ax=one) is fig
    assert len(_panels(fig)) == 1


def test_the_sweep_summary_reads_the_stability_score(tmp_path):
    path = tmp_path / "results.parquet"
    _frame({(0.0, "p"): (2, 0.5)}).assign(other=1).to_parquet(path)
    columns = summary_columns(path, ["x", "y"])
    assert "stability_score" in columns and "other" not in columns
