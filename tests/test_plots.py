"""sim.front.figures: each figure on a small real case (a negotiation, a few sweep rows)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.analysis import tables
from sim.core import solutions
from sim.experiment.jobs import run_replications
from sim.experiment.replication import concept_outcomes
from sim.front import figures
from tests.conftest import SIGNS


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def negotiation(compose):
    """One default negotiation (brussels_2025, war costlier: it signs) with its trace, and
    the config."""
    cfg = compose(["max_rounds=40", *SIGNS])
    rows, model = run_replications(cfg, collect_trace=True)
    return cfg, rows[0], model


@pytest.fixture(scope="module")
def long_negotiation(compose):
    """A negotiation that signs after many rounds (war costlier than the default's, less
    than under SIGNS): its trajectory is drawn as lines."""
    cfg = compose(["max_rounds=40", "war.stake_years=1.5"])
    rows, model = run_replications(cfg, collect_trace=True)
    assert rows[0]["reason"] == "agreement" and rows[0]["round"] > figures.BAR_ROUNDS
    return cfg, rows[0], model


@pytest.fixture(scope="module")
def phased(compose):
    cfg = compose(["max_rounds=30", "seating=us_russia_first", "phase_one_rounds=5"])
    rows, model = run_replications(cfg, collect_trace=True)
    return rows[0], model


@pytest.fixture(scope="module")
def sweep_rows(compose):
    """Result rows of four small jobs (us_support x protocol), 2 replications each."""
    rows = []
    for us in (0.1, 0.9):
        for protocol in ("single_text", "alternating_offers"):
            cfg = compose(["sweep=smoke", f"us_support={us}", f"protocol={protocol}"])
            rows += run_replications(cfg)[0]
    frame = pd.DataFrame(rows)
    frame["error"] = None
    return frame


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "no legend"
    return [t.get_text() for t in legend.get_texts()]


def _labelled(ax) -> None:
    assert ax.get_xlabel(), "x axis without a label"
    assert ax.get_ylabel(), "y axis without a label"


def _markers(ax, marker: str) -> list[Line2D]:
    return [line for line in ax.get_lines() if line.get_marker() == marker]


# -- trajectory -----------------------------------------------------------------------------
def test_trajectory_draws_each_party_and_marks_the_agreement(long_negotiation):
    _, row, model = long_negotiation
    trace, parties = model.trace(), list(model.problem.parties)
    label = f"{row['reason']}, round {row['round']}"
    fig = figures.plot_trajectory(trace, parties, row["round"], label)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    _labelled(ax)
    assert "utility" in ax.get_ylabel()
    texts = _legend_texts(ax)
    assert set(parties) <= set(texts)
    assert "BATNA (value of war)" in texts
    # a utility line and a BATNA line per party, with the trace's values
    for party in parties:
        ys = [line.get_ydata() for line in ax.get_lines() if len(line.get_xdata()) == len(trace)]
        assert any(np.allclose(y, trace[f"u_{party}"], equal_nan=True) for y in ys)
        assert any(np.allclose(y, trace[f"reservation_{party}"]) for y in ys)
    assert row["reason"] == "agreement"
    assert "agreement" in texts
    stars = _markers(ax, "*")
    assert len(stars) == len(parties)
    last = trace[trace["round"] == row["round"]].iloc[-1]
    got = sorted(float(s.get_ydata()[0]) for s in stars)
    assert got == pytest.approx(sorted(last[f"u_{p}"] for p in parties))
    assert all(s.get_xdata()[0] == row["round"] for s in stars)


def test_trajectory_into_a_given_axes_and_breakdown_marker(long_negotiation):
    _, row, model = long_negotiation
    trace, parties = model.trace(), list(model.problem.parties)
    fig, (left, right) = plt.subplots(1, 2)
    got = figures.plot_trajectory(trace, parties, row["round"], ax=right, reason="breakdown")
    assert got is fig
    assert not left.get_lines()
    crosses = _markers(right, "X")
    assert len(crosses) == len(parties)  # at each party's BATNA in the last round
    last = trace[trace["round"] == row["round"]].iloc[-1]
    assert sorted(float(c.get_ydata()[0]) for c in crosses) == pytest.approx(
        sorted(last[f"reservation_{p}"] for p in parties)
    )
    assert "breakdown (at the BATNA)" in _legend_texts(right)


def test_trajectory_shades_phase_one(phased):
    row, model = phased
    trace = model.trace()
    assert (trace["phase"] == 1).any()
    fig = figures.plot_trajectory(trace, list(model.problem.parties), row["round"])
    ax = fig.axes[0]
    spans = [p for p in ax.patches if p.get_x() <= 1 and p.get_width() > 0]
    assert spans, "phase one not shaded"
    last_phase_one = int(trace.loc[trace["phase"] == 1, "round"].max())
    assert spans[0].get_x() + spans[0].get_width() == pytest.approx(last_phase_one + 0.5)
    assert any("phase one: usa and russia only" in t.get_text() for t in ax.texts)


# -- bargaining picture ---------------------------------------------------------------------
def test_bargaining_marks_points_at_their_utilities(negotiation):
    _, row, model = negotiation
    problem, d = model.problem, model.reservations
    outcome = row["outcome"]
    assert outcome >= 0, "the default negotiation should reach an agreement"
    fig = figures.plot_bargaining(problem, d, outcome)
    ax = fig.axes[0]
    _labelled(ax)
    assert "russia" in ax.get_xlabel() and "ukraine" in ax.get_ylabel()
    texts = _legend_texts(ax)
    for name in ("Nash", "Kalai-Smorodinsky", "negotiated", "in the ZOPA of all parties"):
        assert name in texts
    U = problem.utilities
    i, j = problem.party_index("russia"), problem.party_index("ukraine")
    (star,) = _markers(ax, "*")
    assert star.get_xydata()[0] == pytest.approx([U[i, outcome], U[j, outcome]])
    concepts = concept_outcomes(U, d, problem.acceptable)
    (nash,) = _markers(ax, "D")
    assert nash.get_xydata()[0] == pytest.approx(U[[i, j], concepts["nash"]])
    (ks,) = _markers(ax, "s")
    assert ks.get_xydata()[0] == pytest.approx(U[[i, j], concepts["kalai_smorodinsky"]])
    # every outcome is a dot; the ZOPA of all parties is highlighted
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sum(sizes[:2]) == U.shape[1]
    assert sizes[2] == int((solutions.zopa_mask(U, d) & problem.acceptable).sum())
    # the BATNA lines
    assert any(np.allclose(line.get_xdata(), d[i]) for line in ax.get_lines())
    assert any(np.allclose(line.get_ydata(), d[j]) for line in ax.get_lines())


def test_bargaining_frontier_is_the_pairs_pareto_set(negotiation):
    _, row, model = negotiation
    problem = model.problem
    fig = figures.plot_bargaining(problem, model.reservations, row["outcome"], ("usa", "europe"))
    ax = fig.axes[0]
    (frontier,) = [line for line in ax.get_lines() if line.get_marker() == "o"]  # the front
    points = np.column_stack([frontier.get_xdata(), frontier.get_ydata()])
    U = problem.utilities[[problem.party_index("usa"), problem.party_index("europe")]]
    feasible = U[:, problem.acceptable]
    # no feasible outcome dominates a frontier point, and the best of each party is on it
    for p in points:
        at_least = (feasible >= p[:, None] - 1e-12).all(axis=0)
        better = (feasible > p[:, None] + 1e-12).any(axis=0)
        assert not (at_least & better).any()
    assert points[:, 0].max() == pytest.approx(feasible[0].max())
    assert points[:, 1].max() == pytest.approx(feasible[1].max())


def test_bargaining_without_agreement_and_unknown_party(negotiation):
    _, _, model = negotiation
    fig = figures.plot_bargaining(model.problem, model.reservations, None)
    ax = fig.axes[0]
    assert not _markers(ax, "*")
    assert any(t.get_text() == "no agreement" for t in ax.texts)
    with pytest.raises(KeyError, match="moldova"):
        figures.plot_bargaining(model.problem, model.reservations, None, ("russia", "moldova"))


# -- contact line ---------------------------------------------------------------------------
def test_contact_line_with_named_anchors(negotiation):
    cfg, row, model = negotiation
    trace = model.trace()
    anchors = dict(cfg.issues.territory.anchors)
    fig = figures.plot_contact_line(
        trace, anchors, end_round=row["round"], agreed=row["territory_position"]
    )
    ax = fig.axes[0]
    _labelled(ax)
    assert ax.get_ylim() == pytest.approx((-2, 102))
    assert {"contact line", "territory in the text on the table"} <= set(_legend_texts(ax))
    line = next(line for line in ax.get_lines() if line.get_label() == "contact line")
    assert np.allclose(line.get_ydata(), trace["contact_line"])
    (right,) = [child for child in ax.child_axes]
    labels = [t.get_text() for t in right.get_yticklabels()]
    named = dict(zip(right.get_yticks(), labels, strict=True))
    assert named[50.0] == "freeze current line" and named[0.0] == "borders 1991"
    (star,) = _markers(ax, "*")
    assert star.get_xydata()[0] == pytest.approx([row["round"], row["territory_position"]])


# -- sweeps ---------------------------------------------------------------------------------
def _mixed_frame() -> pd.DataFrame:
    """Shares that differ per cell, a failed job and a missing value."""
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame(
        {
            "us_support": rng.choice([0.0, 0.5, 1.0], n),
            "seating": rng.choice(["inclusive", "us_russia_first"], n),
            "agreement": rng.random(n) < 0.6,
            "stable": rng.random(n) < 0.3,
            "error": None,
        }
    )
    frame.loc[0, "error"] = "ValueError: boom"
    frame.loc[0, "agreement"] = True
    frame["stable"] = frame["stable"].astype("boolean")
    frame.loc[1, "stable"] = pd.NA
    return frame


def test_sweep_heatmap_values_equal_pandas_shares():
    frame = _mixed_frame()
    fig = figures.sweep_heatmap(frame, "us_support", "seating")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2
    ok = frame[frame["error"].isna()]
    for ax, column in zip(panels, ("agreement", "stable"), strict=True):
        expected = (
            ok.groupby(["seating", "us_support"])[column]
            .mean()
            .astype(float)
            .unstack("us_support")
            .sort_index(ascending=False)
        )
        (image,) = [im for im in ax.images if isinstance(im, AxesImage)]
        assert np.allclose(np.asarray(image.get_array()), expected.to_numpy())
        # values and keys in words (`sim.front.labels`)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["us russia first", "inclusive"]
        assert list(expected.index) == ["us_russia_first", "inclusive"]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.5", "1"]
        assert ax.get_xlabel() == "us support" and ax.get_ylabel() == "seating"
        shown = [t.get_text() for t in ax.texts if t.get_text().endswith("%")]
        assert shown == [f"{v:.0%}" for v in expected.to_numpy().ravel()]
    colorbar = [ax for ax in fig.axes if ax.get_ylabel() == "share of replications"]
    assert colorbar, "no colour bar"


def test_sweep_heatmap_one_parameter_and_real_rows(sweep_rows):
    fig = figures.sweep_heatmap(sweep_rows, "protocol")
    ax = fig.axes[0]
    (image,) = ax.images
    expected = sweep_rows.groupby("protocol")["agreement"].mean()
    assert np.allclose(np.asarray(image.get_array()), expected.to_numpy()[None, :])
    counts = [t.get_text().split("\n")[-1] for t in ax.texts if "n=" in t.get_text()]
    assert counts == [f"n={n}" for n in sweep_rows.groupby("protocol").size()]
    fig, ax = plt.subplots()
    assert figures.sweep_heatmap(sweep_rows, "us_support", "protocol", ["stable"], ax=ax) is fig
    with pytest.raises(ValueError, match="one Axes for 2 columns"):
        figures.sweep_heatmap(sweep_rows, "us_support", ax=ax)


def test_agreed_levels_bars_are_shares_in_level_order(negotiation, sweep_rows):
    cfg, _, _ = negotiation
    levels = tables.issue_levels(cfg)
    assert levels["nato"][0] == "membership" and levels["guarantees"][-1] == "none"
    anchors = dict(cfg.issues.territory.anchors)
    fig = figures.plot_agreed_levels(sweep_rows, levels=levels, anchors=anchors)
    axes = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
    assert set(axes) == {"territory", "nato", "guarantees"}
    n = len(sweep_rows)
    deals = sweep_rows[sweep_rows["agreement"]]
    for issue in ("nato", "guarantees"):
        ax = axes[issue]
        _labelled_x_only(ax)
        names = [t.get_text() for t in ax.get_yticklabels()]
        assert names == [v.replace("_", " ") for v in levels[issue]]
        widths = [bar.get_width() for bar in ax.patches]
        expected = deals[issue].value_counts().reindex(levels[issue], fill_value=0) / n
        assert widths == pytest.approx(expected.to_list())
    territory = axes["territory"]
    _labelled(territory)
    heights = np.array([bar.get_height() for bar in territory.patches])
    assert heights.sum() == pytest.approx(len(deals) / n)
    top = territory.child_axes[0]
    assert "freeze current line" in {t.get_text() for t in top.get_xticklabels()}


def _labelled_x_only(ax) -> None:
    assert ax.get_xlabel(), "x axis without a label"


def test_agreed_levels_by_hue_has_a_legend_and_group_shares(sweep_rows):
    fig = figures.plot_agreed_levels(
        sweep_rows, ["nato"], hue="protocol", hue_order=["single_text", "alternating_offers"]
    )
    (ax,) = [a for a in fig.axes if a.get_visible()]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["single text", "alternating offers"]
    assert legend.get_title().get_text() == "protocol"
    shares = tables.agreed_level_shares(sweep_rows, "nato", "protocol")
    assert shares.sum().to_dict() == pytest.approx(
        sweep_rows.groupby("protocol")["agreement"].mean().to_dict()
    )
    widths = sorted(b.get_width() for b in ax.patches if b.get_width() > 0)
    assert widths == pytest.approx(sorted(v for v in shares.to_numpy().ravel() if v > 0))


def test_utility_vs_batna_means(sweep_rows):
    parties = ["usa", "russia", "ukraine", "europe"]
    fig = figures.plot_utility_vs_batna(sweep_rows, parties, by="protocol")
    ax = fig.axes[0]
    _labelled(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == parties
    assert {"alternating offers", "single text"} <= set(_legend_texts(ax))
    big = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(big) == 2 * len(parties) * 2  # mean utility and mean BATNA, per party and group
    ys = sorted(float(line.get_ydata()[0]) for line in big)
    expected = []
    for party in parties:
        for _, group in sweep_rows.groupby("protocol"):
            expected += [group[f"u_{party}"].mean(), group[f"reservation_{party}"].mean()]
    assert ys == pytest.approx(sorted(expected))


def test_stability_checks_agree_with_the_rows_and_are_plotted(sweep_rows):
    checks = tables.stability_checks(sweep_rows)
    deals = sweep_rows[sweep_rows["agreement"]]
    assert list(checks.columns) == list(figures.CHECKS)
    assert (checks["stable"] == deals["stable"].astype(bool)).all()
    fig = figures.plot_stability_checks(sweep_rows)
    ax = fig.axes[0]
    assert ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == list(figures.CHECKS.values())
    assert [b.get_width() for b in ax.patches] == pytest.approx(checks.mean().to_list())
    assert _legend_texts(ax) == [f"{len(deals)} binding deals"]


def test_stability_checks_refuse_rows_made_with_different_thresholds(sweep_rows):
    mixed = sweep_rows.copy()
    mixed.loc[mixed.index[0], "stability.thresholds.robustness"] = 0.1
    with pytest.raises(ValueError, match=r"2 sets of stability\.thresholds"):
        tables.stability_checks(mixed)
    assert tables.stability_checks(mixed, {"robustness": 0.0}).notna().all().all()


def test_stability_parts_maps_are_the_means_over_deals(sweep_rows):
    fig = figures.plot_stability_parts(sweep_rows, "us_support", "protocol")
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == list(figures.PART_TITLES.values())
    deals = sweep_rows[sweep_rows["agreement"]]
    for ax, part in zip(panels, figures.PART_TITLES, strict=True):
        image = ax.get_images()[0]
        shown = np.ma.filled(image.get_array(), np.nan)
        # the ticks in words, in the order of the values (rows top down: descending)
        protocols = tables.group_order(sweep_rows["protocol"])[::-1]
        supports = tables.group_order(sweep_rows["us_support"])
        assert [t.get_text() for t in ax.get_yticklabels()] == [
            p.replace("_", " ") for p in protocols
        ]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "0.9"]
        for i, protocol in enumerate(protocols):
            for j, us in enumerate(supports):
                cell = deals[(deals["protocol"] == protocol) & (deals["us_support"] == float(us))]
                expected = cell[part].astype(float).mean() if len(cell) else np.nan
                np.testing.assert_allclose(shown[i, j], expected, equal_nan=True)
        low, high = image.get_clim()
        assert low == 0.0
        if part in ("robustness", "durability"):
            assert high == 1.0
        if part == "commitment_ratio":
            assert high >= 1.0  # Powell's threshold stays on the scale


def test_feature_scores_sorted_bars():
    scores = pd.DataFrame({1: [0.1, 0.6, 0.3]}, index=["seating", "us_support", "protocol"])
    fig = figures.plot_feature_scores(scores)
    ax = fig.axes[0]
    _labelled(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["seating", "protocol", "us support"]
    assert [b.get_width() for b in ax.patches] == pytest.approx([0.1, 0.3, 0.6])
    assert _legend_texts(ax) == ["feature score"]


def test_group_order():
    values = pd.Series([0.9, 0.1, 10.0, 0.1, None])
    assert tables.group_order(values) == ["0.1", "0.9", "10.0"]
    assert tables.group_order(pd.Series(["b", "a", "c"]), ["c", "x", "a"]) == ["c", "a", "b"]


def test_figures_without_any_deal(sweep_rows):
    none = sweep_rows.assign(agreement=False, stable=False, outcome=-1)
    for issue in ("territory", "nato", "guarantees"):
        none[issue] = None
        none[f"{issue}_position"] = np.nan
    for u in [c for c in none if c.startswith("u_")]:
        none[u] = np.nan
    fig = figures.plot_agreed_levels(none)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 3
    for ax in panels:
        assert "no binding deal in these replications" in [t.get_text() for t in ax.texts]
        assert all(bar.get_width() == 0 or bar.get_height() == 0 for bar in ax.patches)
    fig = figures.plot_stability_checks(none)
    assert _legend_texts(fig.axes[0]) == ["0 binding deals"]
    figures.plot_utility_vs_batna(none, ["usa", "russia"])


def test_sweep_heatmap_with_many_columns_stays_legible():
    levels = np.round(np.linspace(0, 1, 11), 1)
    frame = pd.DataFrame(
        {
            "war.support.usa_drawn": np.repeat(levels, 2),
            "agreement": [True, False] * 11,
            "stable": [False] * 22,
            "error": [None] * 22,
        }
    )
    many = figures.sweep_heatmap(frame, "war.support.usa_drawn")
    few = figures.sweep_heatmap(
        frame[frame["war.support.usa_drawn"] <= 0.2], "war.support.usa_drawn"
    )
    assert many.get_figwidth() > few.get_figwidth()
    ax = next(a for a in many.axes if a.images)
    # the intervals no longer fit; a cell of few replications (2 < SMALL_N) keeps its count
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["50%", "n=2"] * 11
    assert all(t.get_fontsize() < 10 for t in ax.texts)
    assert len([p for p in ax.patches if p.get_hatch()]) == 11
    ax = next(a for a in few.axes if a.images)
    counts = [t.get_text().split("\n")[-1] for t in ax.texts if "n=" in t.get_text()]
    assert counts == ["n=2"] * 3
    plt.close(many)
    plt.close(few)
