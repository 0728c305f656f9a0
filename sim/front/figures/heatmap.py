"""The heatmap of a sweep: each cell's share with its 95% interval and count, and the
mean stability score, small and failed cells marked, one row of panels per combination of
the other swept parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.patheffects import withStroke

from sim.analysis.tables import (
    facet_values,
    ok_rows,
    share_table,
)
from sim.core.intervals import proportion_interval
from sim.front import labels
from sim.front.figures.style import (
    BLACK,
    LIGHT_GREY,
    TITLE_SIZE,
    styled,
)

HEATMAP_TITLES = {
    "agreement": "share with a binding deal",
    "binding": "share with a binding text",
    "stable": "share with a stable deal",
}
HEATMAP_WHAT = {
    "agreement": "a binding deal",
    "binding": "a binding text",
    "stable": "a stable deal",
}
SCORE = "stability_score"
SCORE_TITLE = "mean stability score (0 without a deal)"
MAX_FACETS = 12  # rows of heatmap panels, one per combination of the facet parameters
SMALL_N = 5  # a heatmap cell of fewer replications is hatched: its share says little


@styled
def sweep_heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str | None = None,
    columns: Sequence[str] = ("agreement", "stable"),
    *,
    facets: Sequence[str] = (),
    axes: Sequence[Axes] | None = None,
    ax: Axes | None = None,
    names: Mapping[str, str] | None = None,
    title: str | None = None,
    note: str | None = None,
    score: str | None = SCORE,
) -> Figure:
    """Share of replications with a binding deal, and share stable, over two swept parameters.

    One panel per entry of `columns` (0/1 result columns), then one of the mean of `score`
    (a column in [0, 1], by default the stability score) when the rows have it and no `ax`
    is given, and one row of panels per combination of the `facets` columns' values
    (nothing pooled over them); each cell shows the share (the mean) of the replications
    with that `x` (and `y`) value, its Wilson (1927) 95% interval and its count below. A
    cell of fewer than `SMALL_N` replications is hatched, unless every cell holds one
    replication (the title then says so once); one whose every job failed (rows with an
    `error`) is grey, crossed and says so; a cell without rows is left blank.

    Parameters
    ----------
    names : what to call `x`, `y` and the facets; by default `sim.front.labels.label` of each
        (a scenario's alias named after the key it sets, `sim.front.labels.frame_aliases`).
    title : the figure's title; by default, on a figure drawn here, what the colour is,
        where the rows are from (sweep, scenario) and the replications per cell.
    note : a line under the title (e.g. what was pooled).
    """
    columns = list(columns)
    means = [score] if score is not None and score in frame and ax is None else []
    combos = facet_values(frame, facets)
    if len(combos) > MAX_FACETS:
        raise ValueError(
            f"facets: {len(combos)} combinations of {list(facets)}; at most {MAX_FACETS}"
        )
    own = axes is None and ax is None
    if ax is not None:
        if len(columns) != 1 or len(combos) != 1:
            raise ValueError(f"ax: one Axes for {len(columns)} columns {columns}; pass axes=")
        axes = [ax]
    if axes is None:
        rows = 1 if y is None else ok_rows(frame)[y].nunique()
        height = min(max(2.4 + 0.6 * rows, 3.0), 8.0)
        width = min(max(5.2, 1.5 + 0.62 * ok_rows(frame)[x].nunique()), 12.0)  # per panel
        fig, grid = plt.subplots(
            len(combos),
            len(columns) + len(means),
            figsize=(width * (len(columns) + len(means)), height * len(combos)),
            layout="constrained",
            squeeze=False,
        )
        axes = list(grid.ravel())
    else:
        axes = list(axes)
        fig = axes[0].figure
    panels_per_row = len(columns) + len(means)
    if len(axes) != len(combos) * panels_per_row:
        raise ValueError(
            f"axes: {len(axes)} Axes for {len(combos)} x {panels_per_row} panels"
            + (f" (with the mean {score}; score=None leaves it out)" if means else "")
        )
    aliases = labels.frame_aliases(frame)
    shown = {k: labels.label(k, aliases) for k in [x, *([y] if y else []), *facets]}
    shown.update(names or {})
    image = None
    one = replications_per_cell(frame, x, y, facets) == (1, 1)
    panels = iter(axes)
    for combo in combos:
        part = frame
        for key, value in zip(facets, combo, strict=True):
            part = part[part[key] == value]
        where = ", ".join(
            f"{shown[k]}: {labels.value_label(v)}" for k, v in zip(facets, combo, strict=True)
        )
        for column in [*columns, *means]:
            mean = column in means
            name = (
                (SCORE_TITLE if column == SCORE else f"mean {labels.label(column)}")
                if mean
                else HEATMAP_TITLES.get(column, f"share {labels.label(column)}")
            )
            image = _heatmap_panel(
                next(panels),
                part,
                column,
                x,
                y,
                f"{name}\n{where}" if where else name,
                shown,
                mean=mean,
                one=one,
            )
    if image is not None:
        what = "share, or mean score (0-1)" if means else "share of replications"
        fig.colorbar(image, ax=axes, shrink=0.8, label=what)
    heading = (
        title
        if title is not None
        else (
            heatmap_title(frame, x, y, columns, facets, score=means[0] if means else None)
            if own
            else None
        )
    )
    if note:
        heading = f"{heading}\n{note}" if heading else note
    if heading:
        fig.suptitle(heading, fontsize=TITLE_SIZE + 1, weight="bold")
    return fig


def heatmap_title(
    frame: pd.DataFrame,
    x: str,
    y: str | None = None,
    columns: Sequence[str] = ("agreement", "stable"),
    facets: Sequence[str] = (),
    *,
    score: str | None = None,
) -> str:
    """A heatmap's title: what the colour is, where the rows are from (sweep, scenario),
    the replications per cell and what the marks mean."""
    what = [HEATMAP_WHAT.get(c, labels.label(c)) for c in columns]
    lines = ["Share of replications with " + " and with ".join(what)]
    if score is not None:
        lines[0] += "; mean " + ("stability score" if score == SCORE else labels.label(score))
    where = labels.where_text(frame)
    sizes = replications_per_cell(frame, x, y, facets)
    if sizes is not None:
        low, high = sizes
        if high == 1:
            count = "each cell is one replication (100% = yes, 0% = no)"
        elif low == high:
            count = f"{low} replications per cell"
        else:
            count = f"{low}-{high} replications per cell"
        if low < SMALL_N and high > 1:
            count += f" (hatched: fewer than {SMALL_N})"
    else:
        count = "no replication ran"
    if len(_failed_rows(frame)):
        count += "; grey and crossed: every job failed"
    lines.append(f"{where}: {count}" if where else count)
    return "\n".join(lines)


def replications_per_cell(
    frame: pd.DataFrame, x: str, y: str | None = None, facets: Sequence[str] = ()
) -> tuple[int, int] | None:
    """The fewest and the most replications that ran in a cell of the heatmap (None when
    none ran)."""
    ok = ok_rows(frame)
    if not len(ok):
        return None
    sizes = ok.groupby([*facets, *([y] if y else []), x], dropna=False).size()
    return int(sizes.min()), int(sizes.max())


def _failed_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of jobs that failed (an `error`)."""
    if "error" in frame:
        return frame[frame["error"].notna()]
    return frame.iloc[:0]


def _with_values(existing: Sequence[Any], extra: pd.Series, descending: bool = False) -> list:
    """`existing` values and those of `extra` not among them, sorted."""
    values = list(existing) + [v for v in extra.dropna().unique() if v not in set(existing)]
    try:
        return sorted(values, reverse=descending)
    except TypeError:
        return sorted(values, key=str, reverse=descending)


def _heatmap_panel(
    ax: Axes,
    frame: pd.DataFrame,
    column: str,
    x: str,
    y: str | None,
    title: str,
    shown: Mapping[str, str] | None = None,
    *,
    mean: bool = False,
    one: bool = False,
) -> AxesImage:
    """One heatmap panel: the share of `column` per cell (`mean`: its mean, a number in
    [0, 1]), its 95% interval and count; a cell of few replications hatched (not when
    every cell is `one` replication), one of failed jobs only marked as failed."""
    shown = shown or {}
    tables = [share_table(frame, column, x, y, how) for how in ("mean", "count", "sum")]
    failed = _failed_rows(frame)
    failed = failed[failed[[x, *([y] if y else [])]].notna().all(axis=1)] if len(failed) else failed
    if len(failed):
        xs = _with_values(tables[0].columns, failed[x])
        if y is None:
            tables = [t.reindex(columns=xs) for t in tables]
            fails = failed.groupby(x).size().reindex(xs).to_frame().T
        else:
            ys = _with_values(tables[0].index, failed[y], descending=True)
            tables = [t.reindex(index=ys, columns=xs) for t in tables]
            fails = failed.groupby([y, x]).size().unstack(x).reindex(index=ys, columns=xs)
        fails = fails.fillna(0).to_numpy(dtype=float)
    else:
        fails = np.zeros(tables[0].shape)
    table = tables[0]
    values = table.to_numpy(dtype=float)
    n, hits = (np.nan_to_num(t.to_numpy(dtype=float)) for t in tables[1:])
    cmap = plt.get_cmap(CMAP).with_extremes(bad=EMPTY)  # a cell without rows: blank
    image = ax.imshow(values, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    ticks = labels.tick_labels(table.columns)
    long = max((len(t) for t in ticks), default=0) > 8
    ax.set_xticks(
        range(table.shape[1]),
        ticks,
        rotation=30 if long else 0,
        ha="right" if long else "center",
    )
    if y is None:
        ax.set_yticks([])
    else:
        ax.set_yticks(range(table.shape[0]), labels.tick_labels(table.index))
    ax.set_xlabel(shown.get(x, labels.label(x)))
    ax.set_ylabel(shown.get(y, labels.label(y)) if y else "")
    ax.set_title(title)
    ax.grid(False)
    # Cells narrow as columns are added: shrink the labels, and drop the interval and
    # count when there are too many columns to read them (a small cell keeps its count).
    # With one replication per cell there is no interval to give, nor a count to warn of.
    wide = table.shape[1] <= 8
    share_size = 10 if wide else max(5, 10 - (table.shape[1] - 8) // 2)
    for (i, j), value in np.ndenumerate(values):
        count, failures = int(n[i, j]), int(fails[i, j])
        if count == 0 or not np.isfinite(value):
            if failures:
                _failed_cell(ax, i, j)
                jobs = f"\n({failures} job{'s' * (failures > 1)})" if wide else ""
                ax.text(j, i, f"failed{jobs}", **CELL_TEXT, fontsize=share_size - 1, color=BLACK)
            continue
        small = count < SMALL_N and not one
        look = {**CELL_TEXT, "color": "black" if value > DARK_BELOW else "white"}
        if small:  # the hatching stops short of the text, in the cell's own colour
            _small_cell(ax, i, j, DARK_HATCH if value > DARK_BELOW else LIGHT_HATCH)
            look["path_effects"] = [withStroke(linewidth=3, foreground=image.to_rgba(value))]
        detail = wide and not one
        ax.text(
            j,
            i - (0.12 if detail and not mean else 0.0),
            f"{value:.2f}" if mean else f"{value:.0%}",
            **look,
            fontsize=share_size,
            fontweight="bold",
        )
        more = f"\n{failures} failed" if failures else ""
        if mean:  # the counts and intervals are the share panels'
            if more and detail:
                ax.text(j, i + 0.25, more.strip(), **look, fontsize=6.5)
        elif detail:
            _, low, high = proportion_interval(round(hits[i, j]), count)
            ax.text(
                j,
                i + 0.2,
                f"[{low:.0%}, {high:.0%}]\nn={count}{more}",
                **look,
                fontsize=6.5,
                linespacing=1.0,
            )
        elif small:
            ax.text(j, i + 0.3, f"n={count}", **look, fontsize=max(5, share_size - 2))
    return image


CELL_TEXT: dict[str, Any] = {"ha": "center", "va": "center", "zorder": 3, "in_layout": False}


def _small_cell(ax: Axes, i: int, j: int, colour: str) -> None:
    """A heatmap cell of few replications: hatched over its colour (which stays as it is)."""
    ax.add_patch(
        Rectangle(
            (j - 0.5, i - 0.5),
            1,
            1,
            fill=False,
            edgecolor=colour,
            hatch=SMALL_HATCH,
            lw=0,
            zorder=2,
        )
    )


def _failed_cell(ax: Axes, i: int, j: int) -> None:
    """A heatmap cell whose every job failed: grey (no colour of the scale) and crossed."""
    ax.add_patch(
        Rectangle(
            (j - 0.5, i - 0.5),
            1,
            1,
            facecolor=FAILED,
            edgecolor=HATCH,
            hatch=FAILED_HATCH,
            lw=0,
            zorder=2,
        )
    )


CMAP = "cividis"  # 0 dark blue, 1 yellow: no grey of it is near `FAILED`'s
DARK_BELOW = 0.6  # cells of a lower value are dark: white text, light hatching
HATCH = "#666666"
DARK_HATCH = "#444444"
LIGHT_HATCH = "#C8C8C8"
SMALL_HATCH = "//"
FAILED = LIGHT_GREY
FAILED_HATCH = "xx"
EMPTY = "white"
