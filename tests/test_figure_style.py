"""Figures for readers (issue 18, item 3): every figure the tool makes, drawn from small
real data (a tiny negotiation under each protocol, a few sweep rows, drawn values, a
failed job), reads in words: no raw config key or column name in any text of it (titles,
axis and tick labels, legends, annotations, colour bars), and a title that says what it
is, naming the scenario where there is one."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import redirect_stdout

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.analysis import tables
from sim.experiment.jobs import run_replications
from sim.front import cli, figures
from sim.front.callbacks import heatmap_figure
from tests.conftest import compose_config

DOTTED = re.compile(r"\b[a-z_]{2,}\.[a-z_]{2,}")  # war.support.usa, parties.russia.war_cost
SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")  # us_support, stability_score, single_text
SMALL_N = 5  # a heatmap cell with fewer replications is marked


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _negotiation(*overrides: str):
    cfg = compose_config(["max_rounds=30", *overrides])
    rows, model = run_replications(cfg, collect_trace=True)
    return cfg, rows[0], model


@pytest.fixture(scope="module")
def single():
    return _negotiation()


@pytest.fixture(scope="module")
def alternating():
    """Alternating offers under the calendar model: offers that swing between proposers."""
    return _negotiation(
        "protocol=alternating_offers", "bargaining=calendar", "war.stakes=territory"
    )


@pytest.fixture(scope="module")
def sweep_rows() -> pd.DataFrame:
    """Rows of four small jobs (us_support x protocol) and one failed job."""
    rows = []
    for us in (0.1, 0.9):
        for protocol in ("single_text", "alternating_offers"):
            cfg = compose_config(["sweep=smoke", f"us_support={us}", f"protocol={protocol}"])
            rows += run_replications(cfg)[0]
    frame = pd.DataFrame(rows)
    frame["error"] = None
    failed = frame.iloc[[0]].copy()
    failed["us_support"] = 0.5
    failed["error"] = "ValueError: boom"
    for column in ("agreement", "stable"):
        failed[column] = None
    return pd.concat([frame, failed], ignore_index=True)


@pytest.fixture(scope="module")
def drawn_rows() -> pd.DataFrame:
    """One job whose replications draw US support and Russia's capacity (`*_drawn`)."""
    cfg = compose_config(
        [
            "replications=24",
            "max_rounds=20",
            "uncertainty.us_support.dist=uniform",
            "uncertainty.us_support.scale=0.5",
            "uncertainty.russia_capacity.dist=lognormal",
            "uncertainty.russia_capacity.scale=0.5",
        ]
    )
    frame = pd.DataFrame(run_replications(cfg)[0])
    frame["error"] = None
    return frame


def cli_negotiation_figure(overrides: list[str], monkeypatch, folder) -> Figure:
    """negotiation.png as `python -m sim` draws it (the figure `_run_single` saves)."""
    drawn: list[Figure] = []
    original = figures.plot_trajectory

    def recording(*args, **kwargs):
        fig = original(*args, **kwargs)
        drawn.append(fig)
        return fig

    monkeypatch.setattr(figures, "plot_trajectory", recording)
    monkeypatch.setattr(Figure, "savefig", lambda *args, **kwargs: None)
    with redirect_stdout(io.StringIO()):
        cli._run_single(compose_config(overrides))(folder)
    (fig,) = drawn
    return fig


# -- what a figure says -------------------------------------------------------------------------
def texts(fig: Figure) -> list[str]:
    """Every visible, non-empty text of the figure once drawn: titles, suptitle, axis and
    tick labels, legend entries and titles, annotations, colour bar labels."""
    fig.canvas.draw()
    found = []
    for artist in fig.findobj(Text):
        if artist.get_visible() and artist.get_text().strip():
            found.append(artist.get_text())
    return found


def titles(fig: Figure) -> list[str]:
    found = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        found += [ax.get_title(loc) for loc in ("left", "center", "right")]
    return [t for t in found if t.strip()]


def raw_keys(text: str) -> list[str]:
    """What in `text` is a raw config key or column name, not words."""
    found = DOTTED.findall(text) + SNAKE.findall(text)
    if "_drawn" in text:
        found.append("_drawn")
    return found


def readable(name: str) -> str:
    return name.replace("_", " ")


def check_figure(fig: Figure, what: str, scenario: str | None = None) -> None:
    bad = {t: raw_keys(t) for t in texts(fig) if raw_keys(t)}
    assert not bad, f"{what}: texts with raw keys: " + "; ".join(
        f"{t!r} ({', '.join(keys)})" for t, keys in bad.items()
    )
    heads = titles(fig)
    assert heads, f"{what}: no title"
    if scenario is not None:
        assert any(readable(scenario) in t for t in heads), (
            f"{what}: no title names the scenario {readable(scenario)!r}: {heads}"
        )


# -- every figure --------------------------------------------------------------------------------
def test_negotiation_png_single_text(monkeypatch, tmp_path):
    fig = cli_negotiation_figure(["max_rounds=30"], monkeypatch, tmp_path)
    check_figure(fig, "negotiation.png", "brussels_2025")
    head = " ".join(titles(fig))
    for word in ("single text", "inclusive"):
        assert word in head, f"negotiation.png: the title does not say {word!r}: {head!r}"
    assert "agreement" in head or "no deal" in head or "breakdown" in head, head


def test_negotiation_png_alternating_offers(monkeypatch, tmp_path):
    overrides = ["max_rounds=30", "protocol=alternating_offers", "seating=us_russia_first"]
    fig = cli_negotiation_figure(overrides, monkeypatch, tmp_path)
    check_figure(fig, "negotiation.png", "brussels_2025")
    head = " ".join(titles(fig))
    assert "alternating offers" in head and "us russia first" in head, head


def _one_negotiation_figures(negotiation) -> dict[str, tuple[Figure, str | None]]:
    cfg, row, model = negotiation
    trace, parties = model.trace(), list(model.problem.parties)
    anchors = dict(cfg.issues.territory.anchors)
    name = str(cfg.scenario_name)
    return {
        "trajectory": (figures.plot_trajectory(trace, parties, row["round"]), None),
        "bargaining": (
            figures.plot_bargaining(model.problem, model.reservations, row["outcome"]),
            name,
        ),
        "contact line": (
            figures.plot_contact_line(
                trace, anchors, end_round=row["round"], agreed=row["territory_position"]
            ),
            None,
        ),
    }


@pytest.mark.parametrize("protocol", ["single", "alternating"])
def test_figures_of_one_negotiation(protocol, request):
    for what, (fig, scenario) in _one_negotiation_figures(
        request.getfixturevalue(protocol)
    ).items():
        check_figure(fig, f"{what} ({protocol})", scenario)


def _sweep_figures(frame: pd.DataFrame) -> dict[str, Callable[[], Figure]]:
    ok = frame[frame["error"].isna()]
    cfg = compose_config()
    levels = tables.issue_levels(cfg)
    anchors = dict(cfg.issues.territory.anchors)
    parties = ["usa", "russia", "ukraine", "europe"]
    return {
        "heatmap (callbacks)": lambda: heatmap_figure(frame, ["us_support", "protocol"]),
        "heatmap, one parameter": lambda: figures.sweep_heatmap(frame, "protocol"),
        "heatmap, facets": lambda: figures.sweep_heatmap(
            frame, "us_support", "seed", facets=["protocol"]
        ),
        "agreed levels": lambda: figures.plot_agreed_levels(ok, levels=levels, anchors=anchors),
        "agreed levels by hue": lambda: figures.plot_agreed_levels(
            ok, levels=levels, anchors=anchors, hue="us_support"
        ),
        "utility vs BATNA": lambda: figures.plot_utility_vs_batna(ok, parties, by="protocol"),
        "stability checks": lambda: figures.plot_stability_checks(ok, by="us_support"),
        "deals over time": lambda: figures.plot_deals_over_time(ok, by="protocol"),
        "stability parts": lambda: figures.plot_stability_parts(ok, "us_support", "protocol"),
    }


@pytest.mark.parametrize(
    "what",
    [
        "heatmap (callbacks)",
        "heatmap, one parameter",
        "heatmap, facets",
        "agreed levels",
        "agreed levels by hue",
        "utility vs BATNA",
        "stability checks",
        "deals over time",
        "stability parts",
    ],
)
def test_sweep_figures(what, sweep_rows):
    fig = _sweep_figures(sweep_rows)[what]()
    check_figure(fig, what, "brussels_2025")


def test_heatmap_over_drawn_values(drawn_rows):
    fig = heatmap_figure(drawn_rows, ["seed"])
    check_figure(fig, "heatmap over drawn values", "brussels_2025")


def test_feature_scores():
    scores = pd.Series(
        {"war.support.usa_drawn": 0.4, "us_support": 0.3, "parties.russia.war_cost": 0.2}
    )
    check_figure(figures.plot_feature_scores(scores), "feature scores")


def test_the_pages_live_figures():
    page = pytest.importorskip("sim.front.page")
    from sim.front.page_model import PageNegotiation

    model = PageNegotiation(max_rounds=30, protocol="alternating_offers")
    pictures = page.LivePictures(model, page.live_figures(), None)
    pictures.render(model)
    for what in ("trajectory", "bargaining", "contact_line"):
        check_figure(getattr(pictures, what).fig, f"live {what}, round 0", "brussels_2025")
    model.run_to_end()
    pictures.render(model)
    for what in ("trajectory", "bargaining", "contact_line"):
        check_figure(getattr(pictures, what).fig, f"live {what}, at the end", "brussels_2025")
    head = " ".join(titles(pictures.trajectory.fig))
    assert "alternating offers" in head and "inclusive" in head, head
    assert f"round {model.round}" in head, head


# -- the readings the issue asked for --------------------------------------------------------------
def _heatmap_panel(fig: Figure):
    return next(ax for ax in fig.axes if ax.images)


def test_heatmap_marks_small_and_failed_cells_and_rounds_bin_ticks(sweep_rows, drawn_rows):
    fig = figures.sweep_heatmap(sweep_rows, "us_support", "protocol", ["agreement"])
    ax = _heatmap_panel(fig)
    shown = [t.get_text() for t in ax.texts]
    # us_support=0.5: its only job failed; a failed cell, not a share
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "0.5", "0.9"]
    # every other cell holds 2 replications (< 5): hatched
    assert sum("failed" in t for t in shown) == 1, shown
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 4 + 1  # 4 cells of 2 replications, 1 failed
    fig = heatmap_figure(drawn_rows, ["seed"])
    ax = _heatmap_panel(fig)
    ticks = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    assert all(len(t.replace("-", "").replace(".", "")) <= 3 for t in ticks), ticks


def test_alternating_offers_trajectory_does_not_zigzag(alternating):
    """Under alternating offers the offer on the table swings with its proposer; the
    figure's lines (one per party, solid) move far less than the raw utilities do."""
    _, row, model = alternating
    trace, parties = model.trace(), list(model.problem.parties)
    fig = figures.plot_trajectory(trace, parties, row["round"])
    ax = fig.axes[0]
    solid = [line for line in ax.get_lines() if len(line.get_xdata()) > 5 and line.get_ls() == "-"]
    assert len(solid) == len(parties)
    raw = sum(np.nansum(np.abs(np.diff(trace[f"u_{p}"].to_numpy(float)))) for p in parties)
    drawn = sum(np.nansum(np.abs(np.diff(np.asarray(line.get_ydata(), float)))) for line in solid)
    assert drawn < 0.5 * raw, f"the lines travel {drawn:.1f}, the raw offers {raw:.1f}"


def test_zero_bars_are_visible(sweep_rows):
    ok = sweep_rows[sweep_rows["error"].isna()]
    three = pd.concat(
        [ok.assign(scenario=name) for name in ("first_case", "second_case", "third_case")],
        ignore_index=True,
    )
    fig = figures.plot_stability_checks(three, by="scenario")
    ax = fig.axes[0]
    zero = [t for t in ax.texts if t.get_text().strip() == "0%"]
    assert zero, "a 0% bar has no label"
    assert any(line.get_marker() not in (None, "None", "") for line in ax.get_lines())


def test_tornado_chart():
    rows = [
        {"parameter": key, "value": 1.0, "low": 0.5, "high": 1.5, "output": "stable_share",
         "base": 0.5, "at_low": low, "at_high": high}
        for key, low, high in (
            ("parties.russia.war_cost", 0.6, 0.8),
            ("war.capacity.russia", 0.2, 0.9),
            ("parties.ukraine.optimism", 0.5, 0.4),
        )
    ]  # fmt: skip
    fig = figures.tornado_figure(pd.DataFrame(rows), "stable_share", "brussels 2025: stable deals")
    check_figure(fig, "tornado chart", "brussels_2025")
