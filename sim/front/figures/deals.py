"""Figures of a sweep's deals: where they land (`plot_agreed_levels`), each party's utility
against its BATNA, the stability checks and parts, deals over time, feature scores. The
tables behind them: `sim.analysis.tables`; the heatmap: `sim.front.figures.heatmap`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from sim.analysis.tables import (
    agreed_level_shares,
    binding_deals,
    group_order,
    is_continuous,
    level_order,
    ok_rows,
    stability_checks,
    typed_values,
)
from sim.front import labels
from sim.front.figures.negotiation import marker_handle
from sim.front.figures.style import (
    BLACK,
    BLUE,
    CHECKS,
    GREY,
    OKABE_ITO,
    PART_TITLES,
    TERRITORY_LABEL,
    UTILITY_LABEL,
    _figure,
    _pretty,
    styled,
)


@styled
def plot_agreed_levels(
    frame: pd.DataFrame,
    issues: Sequence[str] | None = None,
    *,
    levels: Mapping[str, Sequence[str]] | None = None,
    hue: str | None = None,
    hue_order: Sequence[Any] | None = None,
    anchors: Mapping[str, float] | None = None,
    bin_width: float = 5.0,
    axes: Sequence[Axes] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Where binding deals land: one panel per issue.

    Named levels: horizontal bars of the share of replications with a binding deal at
    each level, levels top to bottom in the issue's order (`levels`, e.g. from
    `issue_levels(cfg)`; else ordered by their position on the scale). A continuous
    issue (territory): a histogram of its agreed position (`<issue>_position`), with the
    scale's `anchors`. With `hue`, one colour per value of that column, shares within it.

    Parameters
    ----------
    frame : result rows (`sim.experiment.results.load`).
    issues : the issue columns; default: every column with an `<issue>_position` column.
    ax : a single Axes, when only one issue is drawn.
    """
    levels = dict(levels or {})
    if issues is None:
        issues = [c[: -len("_position")] for c in frame.columns if c.endswith("_position")]
        issues = [c for c in issues if c in frame]
    issues = list(issues)
    ok = ok_rows(frame)
    continuous = {i: i in ok and is_continuous(ok, i, levels) for i in issues}
    if ax is not None:
        axes = [ax]
    if axes is None:
        fig, axes = _issue_panels(issues, continuous)
    else:
        axes = list(axes)
        fig = axes[0].figure
    groups = group_order(ok[hue], hue_order) if hue else ["all"]
    colours = {g: OKABE_ITO[k % len(OKABE_ITO)] for k, g in enumerate(groups)}
    if not hue:
        colours = {"all": BLUE}
    for panel, issue in zip(axes, issues, strict=False):
        if issue not in ok:
            panel.text(0.5, 0.5, f"no column {issue!r}", ha="center", transform=panel.transAxes)
            continue
        if not binding_deals(ok).any():
            panel.text(
                0.5,
                0.5,
                "no binding deal in these replications",
                ha="center",
                va="center",
                transform=panel.transAxes,
                color=GREY,
            )
        if continuous[issue]:
            _territory_histogram(panel, ok, issue, hue, groups, colours, anchors, bin_width)
        else:
            _level_bars(panel, ok, issue, hue, groups, colours, level_order(ok, issue, levels))
    if hue:
        handles = [Patch(color=colours[g], label=labels.value_label(g)) for g in groups]
        fig.legend(handles=handles, title=_legend_title(hue, ok), loc="outside right upper")
    heading = "Where binding deals land: share of replications at each level"
    fig.suptitle(labels.with_where(heading, frame), weight="bold")
    return fig


def _issue_panels(
    issues: Sequence[str], continuous: Mapping[str, bool]
) -> tuple[Figure, list[Axes]]:
    """A figure with a full-width row per continuous issue, then two named issues a row."""
    named = [i for i in issues if not continuous[i]]
    rows = sum(continuous.values()) + int(np.ceil(len(named) / 2))
    ncols = 2 if len(named) > 1 else 1
    fig = plt.figure(figsize=(11 if ncols == 2 else 6.5, 3.4 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, ncols)
    axes: dict[str, Axes] = {}
    row = 0
    for issue in issues:
        if continuous[issue]:
            axes[issue] = fig.add_subplot(grid[row, :])
            row += 1
    for k, issue in enumerate(named):
        axes[issue] = fig.add_subplot(grid[row + k // 2, k % 2])
    return fig, [axes[i] for i in issues]


def _level_bars(
    ax: Axes,
    ok: pd.DataFrame,
    issue: str,
    hue: str | None,
    groups: list[str],
    colours: Mapping[str, str],
    order: list[str],
) -> None:
    shares = agreed_level_shares(ok, issue, hue).reindex(index=order, columns=groups).fillna(0.0)
    keys = ok[hue].astype(str) if hue else pd.Series("all", index=ok.index)
    deals = binding_deals(ok) if "agreement" in ok else ok[issue].notna()
    height = 0.8 / len(groups)
    positions = np.arange(len(order))
    for k, group in enumerate(groups):
        offset = (k - (len(groups) - 1) / 2) * height
        ax.barh(
            positions + offset,
            shares[group].to_numpy(),
            height=height * 0.95,
            color=colours[group],
            label=group,
        )
        # A group whose deals never settle this issue does not have it (another scenario's
        # issue): no bars, no marks. Otherwise a share of 0 is shown, not left out.
        mine = (keys == group) & deals
        lacks = bool(mine.any()) and ok.loc[mine, issue].isna().all()
        if len(groups) <= BAR_LABELS_UP_TO and not lacks:
            _bar_values(ax, positions + offset, shares[group].to_numpy(), colours[group])
    ax.set_yticks(positions, [_pretty(v) for v in order])
    ax.invert_yaxis()
    ax.set_xlim(0, max(1.0, float(shares.to_numpy().max(initial=0)) * 1.15))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of replications with a binding deal here")
    ax.set_title(labels.label(issue))
    ax.grid(axis="y", visible=False)


BAR_LABELS_UP_TO = 3  # groups of bars whose values are written at their ends
ZERO_LOOK: dict[str, Any] = {"marker": "D", "ms": 5, "mec": BLACK, "mew": 0.6, "ls": "none"}
ZERO_LOOK |= {"clip_on": False, "zorder": 4}  # a bar of 0, on the axis
BAR_TEXT: dict[str, Any] = {"va": "center", "fontsize": 7.5}


def _bar_values(ax: Axes, positions: np.ndarray, values: np.ndarray, colour: str) -> None:
    """Each bar's value at its end; a bar of 0, which would not show, marked by a diamond
    on the axis."""
    for p, value in zip(positions, values, strict=True):
        if not np.isfinite(value):
            continue
        ax.text(value, p, f"  {value:.0%}" if value == 0 else f" {value:.0%}", **BAR_TEXT)
        if value == 0:
            ax.plot(0, p, **ZERO_LOOK, mfc=colour)


def _territory_histogram(
    ax: Axes,
    ok: pd.DataFrame,
    issue: str,
    hue: str | None,
    groups: list[str],
    colours: Mapping[str, str],
    anchors: Mapping[str, float] | None,
    bin_width: float,
) -> None:
    position = f"{issue}_position"
    deal = binding_deals(ok) if "agreement" in ok else ok[issue].notna()
    keys = ok[hue].astype(str) if hue else pd.Series("all", index=ok.index)
    bins = np.arange(0.0, 100.0 + bin_width, bin_width) - bin_width / 2
    values, weights, used = [], [], []
    for group in groups:
        in_group = keys == group
        n = int(in_group.sum())
        if n == 0:
            continue
        v = ok.loc[in_group & deal, position].dropna().to_numpy(dtype=float)
        values.append(v)
        weights.append(np.full(v.size, 1.0 / n))
        used.append(group)
    top = 0.0
    if used:
        heights, _, _ = ax.hist(
            values,
            bins=bins,
            weights=weights,
            color=[colours[g] for g in used],
            label=[labels.value_label(g) for g in used],
            histtype="bar",
            edgecolor="white",
            lw=0.6,
        )
        top = float(np.max(heights, initial=0))
    if anchors:
        items = sorted(dict(anchors).items(), key=lambda kv: float(kv[1]))
        for _, value in items:
            ax.axvline(float(value), color=GREY, ls=":", lw=0.9, zorder=0)
        top_axis = ax.secondary_xaxis("top")
        top_axis.set_xticks(
            [float(v) for _, v in items],
            [_pretty(k) for k, _ in items],
            rotation=35,
            ha="left",
            fontsize=7,
        )
        top_axis.tick_params(length=0, pad=1)
    ax.set_xlim(-bin_width, 100 + bin_width)
    ax.set_ylim(0, max(top * 1.15, 0.1))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(
        f"agreed {_pretty(issue)} ({TERRITORY_LABEL.split(' (')[0]}, bins of {bin_width:g})"
    )
    ax.set_ylabel("share of replications")
    ax.set_title(labels.label(issue))


@styled
def plot_utility_vs_batna(
    frame: pd.DataFrame,
    parties: Sequence[str],
    by: str | None = None,
    ax: Axes | None = None,
    *,
    order: Sequence[Any] | None = None,
    title: str | None = "Utility of the deal against each party's BATNA",
) -> Figure:
    """Each party's utility of the agreed outcome (filled) and its BATNA (hollow).

    Small markers: replications (utilities only where there was an agreement); large
    markers joined by a line: their means, so the line's length is the mean margin over
    the BATNA (above: the deal beats war; below: it does not). With `by`, one colour per
    value of that column.
    """
    fig, ax = _figure(ax, (9, 4.6))
    ok = ok_rows(frame)
    keys = ok[by].astype(str) if by else pd.Series("all", index=ok.index)
    groups = group_order(ok[by], order) if by else ["all"]
    colours = {g: OKABE_ITO[k % len(OKABE_ITO)] for k, g in enumerate(groups)}
    width = 0.7 / max(len(groups), 1)
    rng = np.random.default_rng(0)  # jitter only
    for p, party in enumerate(parties):
        for k, group in enumerate(groups):
            rows = ok[keys == group]
            centre = p + (k - (len(groups) - 1) / 2) * width
            u = rows[f"u_{party}"].to_numpy(dtype=float)
            d = rows[f"reservation_{party}"].to_numpy(dtype=float)
            jitter = rng.uniform(-0.25, 0.25, u.size) * width
            ax.scatter(
                centre - width * 0.15 + jitter,
                d,
                s=12,
                facecolors="none",
                edgecolors=colours[group],
                lw=0.8,
                alpha=0.6,
            )
            ax.scatter(
                centre + width * 0.15 + jitter, u, s=12, color=colours[group], alpha=0.6, lw=0
            )
            mean_u = np.nanmean(u) if np.isfinite(u).any() else np.nan
            mean_d = np.nanmean(d) if np.isfinite(d).any() else np.nan
            ax.plot([centre, centre], [mean_d, mean_u], color=colours[group], lw=2)
            ax.plot(centre, mean_d, marker="o", ms=9, mfc="white", mec=colours[group], mew=2)
            ax.plot(centre, mean_u, marker="o", ms=9, color=colours[group], mec=BLACK, mew=0.6)
    ax.set_xticks(range(len(parties)), [labels.name(p) for p in parties])
    ax.set_xlim(-0.6, len(parties) - 0.4)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel(UTILITY_LABEL)
    ax.set_xlabel("party")
    ax.grid(axis="x", visible=False)
    handles = [
        marker_handle("o", "utility of the deal (mean)", color=GREY, mec=BLACK, mew=0.6),
        marker_handle("o", "BATNA (mean)", mec=GREY, mew=2),
    ]
    if by:
        handles += [Patch(color=colours[g], label=labels.value_label(g)) for g in groups]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0,
        title=_legend_title(by, ok),
    )
    if title:
        ax.set_title(labels.with_where(title, frame))
    return fig


def _legend_title(column: str | None, frame: pd.DataFrame) -> str | None:
    """A legend's title: the column grouped by, in words (an alias named after its key)."""
    if column is None:
        return None
    return labels.label(column, labels.frame_aliases(frame))


@styled
def plot_stability_checks(
    frame: pd.DataFrame,
    by: str | None = None,
    thresholds: Mapping[str, float] | Any | None = None,
    ax: Axes | None = None,
    *,
    order: Sequence[Any] | None = None,
    title: str | None = "Which stability checks binding deals pass",
) -> Figure:
    """Share of the binding deals passing each stability check, and all of them (stable).

    With `by`, one bar per value of that column; the bar's label gives the number of
    binding deals it is a share of.
    """
    fig, ax = _figure(ax, (8.5, 4.2))
    checks = stability_checks(frame, thresholds)
    ok = ok_rows(frame)
    keys = (ok[by].astype(str) if by else pd.Series("all", index=ok.index)).loc[checks.index]
    groups = group_order(ok[by], order) if by else ["all"]
    colours = {g: OKABE_ITO[k % len(OKABE_ITO)] for k, g in enumerate(groups)}
    if not by:
        colours = {"all": BLUE}
    names = list(CHECKS)
    height = 0.8 / len(groups)
    positions = np.arange(len(names))
    for k, group in enumerate(groups):
        rows = checks[keys == group]
        shares = (
            rows.mean().reindex(names).to_numpy(dtype=float) if len(rows) else np.zeros(len(names))
        )
        offset = (k - (len(groups) - 1) / 2) * height
        label = (
            f"{labels.value_label(group)} ({len(rows)} deals)"
            if by
            else f"{len(rows)} binding deals"
        )
        ax.barh(positions + offset, shares, height=height * 0.95, color=colours[group], label=label)
        if len(groups) <= BAR_LABELS_UP_TO and len(rows):
            _bar_values(ax, positions + offset, shares, colours[group])
    ax.axhline(len(names) - 1.5, color=GREY, lw=0.8)
    ax.set_yticks(positions, [CHECKS[n] for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of binding deals passing the check")
    ax.grid(axis="y", visible=False)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0,
        title=_legend_title(by, ok),
    )
    if title:
        ax.set_title(labels.with_where(title, frame))
    return fig


@styled
def plot_feature_scores(
    scores: pd.Series | pd.DataFrame,
    ax: Axes | None = None,
    *,
    title: str | None = "Which parameters matter",
    xlabel: str = "feature score (share of the trees' impurity decrease)",
    aliases: Mapping[str, str] | None = None,
) -> Figure:
    """Horizontal bars of feature scores, largest on top (e.g. EMA Workbench's
    `feature_scoring.get_ex_feature_scores(...)[0]`, a one-column DataFrame); the
    parameters named in words (`sim.front.labels.label`, with a scenario's `aliases`)."""
    if isinstance(scores, pd.DataFrame):
        scores = scores.iloc[:, 0]
    scores = scores.astype(float).sort_values(ascending=True)
    fig, ax = _figure(ax, (7, 0.45 * len(scores) + 1.4))
    ax.barh(
        [labels.label(str(i), aliases) for i in scores.index],
        scores.to_numpy(),
        color=BLUE,
        label="feature score",
    )
    for p, value in enumerate(scores):
        ax.text(value, p, f" {value:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, max(float(scores.max()) * 1.2 if len(scores) else 0.0, 0.05))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("parameter")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return fig


@styled
def plot_deals_over_time(
    frame: pd.DataFrame,
    by: str | None = None,
    ax: Axes | None = None,
    *,
    order: Sequence[Any] | None = None,
    title: str | None = "When deals come: share of replications with a binding deal by month",
) -> Figure:
    """The cumulative share of replications with a binding deal by each month of talks
    (a step curve per value of `by`), up to the horizon; where a curve ends below 1 the
    rest ended without a deal (horizon, breakdown, not binding)."""
    fig, ax = _figure(ax, (8.0, 4.2))
    ok = ok_rows(frame)
    months = ok["months"] if "months" in ok else ok["round"]
    groups = group_order(ok[by], order) if by else ["all"]
    keys = ok[by].astype(str) if by else pd.Series("all", index=ok.index)
    horizon = float(months.max()) if len(months) else 1.0
    for k, group in enumerate(groups):
        rows = keys == group
        deals = np.sort(months[rows & ok["agreement"].astype(bool)].to_numpy(dtype=float))
        n = int(rows.sum())
        if n == 0:
            continue
        x = np.concatenate([[0.0], deals, [horizon]])
        y = np.concatenate([[0.0], np.arange(1, deals.size + 1) / n, [deals.size / n]])
        label = f"{labels.value_label(group)} ({n} replications)" if by else f"{n} replications"
        ax.step(x, y, where="post", color=OKABE_ITO[k % len(OKABE_ITO)], label=label)
    ax.set_xlabel("months of talks (and war)")
    ax.set_ylabel("share with a binding deal")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(title=_legend_title(by, ok), fontsize=8, loc="lower right")
    if title:
        ax.set_title(labels.with_where(title, frame), weight="bold")
    return fig


@styled
def plot_stability_parts(
    frame: pd.DataFrame,
    x: str,
    y: str | None = None,
    parts: Sequence[str] = tuple(PART_TITLES),
) -> Figure:
    """One map per part of stability: its mean over the binding deals at each value of the
    swept `x` (and `y`), each map on its own colour scale; a cell without a deal is blank.
    The parts answer different questions (docs/model.md, "Stability"), so each is read on
    its own rather than as one share."""
    ok = ok_rows(frame)
    deals = ok[ok["agreement"].fillna(False).astype(bool)]
    parts = [p for p in parts if p in deals]
    columns = min(len(parts), 3)
    rows = -(-len(parts) // columns)
    n_y = 1 if y is None else max(ok[y].nunique(), 1)
    width = min(max(4.6, 1.4 + 0.55 * ok[x].nunique()), 8.0)
    height = min(max(2.4 + 0.45 * n_y, 2.8), 6.0)
    fig, grid = plt.subplots(
        rows, columns, figsize=(width * columns, height * rows), layout="constrained", squeeze=False
    )
    fig.suptitle(
        labels.with_where("Each part of stability: its mean over the binding deals", frame),
        weight="bold",
    )
    x_values = group_order(ok[x])
    y_values = group_order(ok[y])[::-1] if y else [None]
    aliases = labels.frame_aliases(ok)
    for ax, part in zip(grid.flat, parts, strict=False):
        keys = [deals[x].astype(str)] + ([deals[y].astype(str)] if y else [])
        means = deals[part].astype(float).groupby(keys).mean()
        values = np.full((len(y_values), len(x_values)), np.nan)
        for i, yv in enumerate(y_values):
            for j, xv in enumerate(x_values):
                key = (xv, yv) if y else xv
                if key in means.index:
                    values[i, j] = means[key]
        # Shares on [0, 1]; the others from 0, Powell's ratio at least up to its threshold 1.
        # Yellow is better throughout: more slack, robustness, durability; less to gain.
        cmap = "cividis_r" if part in ("blocking_surplus", "commitment_ratio") else "cividis"
        finite = values[np.isfinite(values)]
        top = float(finite.max()) if finite.size else 1.0
        high = {"robustness": 1.0, "durability": 1.0, "commitment_ratio": max(top, 1.0)}
        vmax = high.get(part, top if top > 0 else 1.0)
        image = ax.imshow(values, cmap=cmap, aspect="auto", vmin=0.0, vmax=vmax)
        fig.colorbar(image, ax=ax, shrink=0.85, label="mean over binding deals")
        x_ticks = labels.tick_labels(typed_values(ok[x], x_values))
        long = max((len(v) for v in x_ticks), default=0) > 8
        ax.set_xticks(
            range(len(x_values)),
            x_ticks,
            rotation=30 if long or len(x_values) > 6 else 0,
            ha="right" if long else "center",
        )
        ax.set_yticks(
            range(len(y_values)), labels.tick_labels(typed_values(ok[y], y_values)) if y else [""]
        )
        ax.set_xlabel(labels.label(x, aliases))
        ax.set_ylabel(labels.label(y, aliases) if y else "")
        ax.set_title(PART_TITLES.get(part, part), fontsize=10)
        ax.grid(False)
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value) and len(x_values) <= 12:
                dark = (value < vmax / 2) != (cmap.endswith("_r"))
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
    for ax in list(grid.flat)[len(parts) :]:
        ax.set_visible(False)
    return fig
