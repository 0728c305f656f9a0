"""Figures (matplotlib): one style, labelled axes, a colour-blind-safe palette (Okabe & Ito)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def party_colours(parties: Sequence[str]) -> dict[str, str]:
    return {p: OKABE_ITO[i % len(OKABE_ITO)] for i, p in enumerate(parties)}


def plot_trajectory(
    trace: pd.DataFrame,
    parties: Sequence[str],
    end_round: int | None = None,
    end_label: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Every party's utility for the text or offer per round (solid) and its BATNA (dashed)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    else:
        fig = ax.figure
    colours = party_colours(parties)
    for party in parties:
        ax.plot(trace["round"], trace[f"u_{party}"], color=colours[party], lw=2, label=party)
        ax.plot(
            trace["round"],
            trace[f"reservation_{party}"],
            color=colours[party],
            lw=1.2,
            ls="--",
            label=f"{party} BATNA",
        )
    if end_round is not None:
        ax.axvline(end_round, color="black", lw=1, ls=":")
        ax.annotate(
            end_label or f"round {end_round}",
            xy=(end_round, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-4, -4),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=9,
        )
    ax.set_xlabel("round (one month of war each)")
    ax.set_ylabel("utility (0 = worst, 1 = ideal)")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(ncols=2, fontsize=8, loc="lower left", frameon=False)
    ax.set_title("Utility of the text on the table, and each party's BATNA")
    return fig


def _share_table(frame: pd.DataFrame, column: str, x: str, y: str | None) -> pd.DataFrame:
    ok = frame[frame["error"].isna()] if "error" in frame else frame
    values = ok[column].astype(float)
    if y is None:
        return values.groupby(ok[x]).mean().to_frame(name=column).T
    return values.groupby([ok[y], ok[x]]).mean().unstack(x).sort_index(ascending=False)


def sweep_heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str | None = None,
    columns: Sequence[str] = ("agreement", "stable"),
) -> Figure:
    """Share of replications with a binding deal, and share stable, over two swept parameters."""
    titles = {"agreement": "share with a binding deal", "stable": "share with a stable deal"}
    fig, axes = plt.subplots(
        1, len(columns), figsize=(5.2 * len(columns), 4.2), layout="constrained", squeeze=False
    )
    image = None
    for ax, column in zip(axes[0], columns, strict=True):
        table = _share_table(frame, column, x, y)
        image = ax.imshow(
            table.to_numpy(dtype=float), cmap="cividis", vmin=0, vmax=1, aspect="auto"
        )
        ax.set_xticks(
            range(table.shape[1]), [_tick(v) for v in table.columns], rotation=30, ha="right"
        )
        ax.set_yticks(range(table.shape[0]), [_tick(v) for v in table.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y or "")
        ax.set_title(titles.get(column, column))
        for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
            if np.isfinite(value):
                colour = "black" if value > 0.6 else "white"
                ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color=colour)
    if image is not None:
        fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="share of replications")
    return fig


def _tick(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
