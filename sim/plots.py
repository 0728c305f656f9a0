"""Figures (matplotlib): one style, labelled axes, a colour-blind-safe palette (Okabe & Ito)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt
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
