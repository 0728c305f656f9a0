"""The figures' one style: a colour-blind-safe palette (Okabe & Ito), labelled axes in
words (`sim.front.labels`), a decorator that applies it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.front import labels

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, YELLOW, BLACK = OKABE_ITO
GREY = "#9A9A9A"
LIGHT_GREY = "#D9D9D9"

STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}
"""rcParams every figure here is drawn under (`matplotlib.pyplot.rc_context`)."""

UTILITY_LABEL = "utility (0 = worst outcome, 1 = ideal)"
TERRITORY_LABEL = "territory scale (0-100, higher favours the aggressor)"
ROUND_LABEL = "round (one month of war each)"
TITLE_SIZE = 10  # a title of several lines (a negotiation's scenario, settings and outcome)

CHECKS = {
    "individually_rational": "individually rational",
    "pareto_efficient": "Pareto efficient",
    "coalition_proof": "no blocking coalition",
    "robust": "robust to what we do not know",
    "durable": "durable as power drifts",
    "no_commitment_problem": "no commitment problem",
    "stable": "stable (all of them)",
}
"""Stability checks (docs/model.md, "Stability") and their labels, in the order shown."""

PART_TITLES = {
    "ir_margin": "slack of the nearest signatory (utility)",
    "blocking_surplus": "what a coalition gains alone (utility)",
    "robustness": "robustness: share of draws it survives",
    "durability": "durability: share of months it holds",
    "commitment_ratio": "Powell's ratio (above 1 fails)",
}


# The note at the top of the line where talks end (trajectory plots, static and live).
END_NOTE: dict[str, Any] = {
    "xycoords": ("data", "axes fraction"),
    "xytext": (-4, -4),
    "textcoords": "offset points",
    "ha": "right",
    "va": "top",
    "fontsize": 9,
}


def styled[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Draw under `STYLE`."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(STYLE):
            return function(*args, **kwargs)

    return wrapper


def party_colours(parties: Sequence[str]) -> dict[str, str]:
    return {p: OKABE_ITO[i % len(OKABE_ITO)] for i, p in enumerate(parties)}


def _figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _pretty(text: str) -> str:
    return labels.name(text)
