"""The bargaining picture of two parties (`plot_bargaining`): every outcome in their
utility plane, the Pareto frontier, the ZOPA, the BATNAs, the Nash (1950),
Kalai-Smorodinsky (1975) and negotiated points. Its parts (`outcome_cloud`, `batna_marks`,
`mark_point`, `bargaining_handles`) also draw the page's live picture
(`sim.front.figures.live`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.front import labels
from sim.front.figures.style import (
    BLACK,
    GREY,
    LIGHT_GREY,
    ORANGE,
    SKY,
    VERMILLION,
    YELLOW,
    _figure,
    party_colours,
    styled,
)


@styled
def plot_bargaining(
    scenario: Any,
    reservations: Sequence[float] | np.ndarray,
    outcome: int | None = None,
    pair: tuple[str, str] | None = None,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    legend: bool = True,
    trail: Sequence[int] | None = None,
    live: bool = False,
) -> Figure:
    """The bargaining picture of two parties: every outcome in their utility plane.

    Light dots: every outcome (paler where it crosses some party's red line). The black
    line: the pair's Pareto frontier among the outcomes that cross no red line. Shaded:
    where both are at or above their BATNAs (dashed lines); blue dots: outcomes in the
    ZOPA of all parties (every party at or above its BATNA, no red line crossed). Marked:
    the Nash (1950) and Kalai-Smorodinsky (1975) solutions of all parties, with the
    BATNAs as disagreement point, and the negotiated outcome (a star).

    Parameters
    ----------
    scenario : a `sim.experiment.build.Scenario` (`utilities` (parties, outcomes), `parties`,
        `acceptable`, `party_index`).
    reservations : (parties,) the BATNAs, e.g. `model.reservations` at the end.
    outcome : the agreed outcome's index, or None without one.
    pair : the parties on the x and y axes; None: the war's aggressor and defender (the
        first two parties without a war).
    trail : the texts or offers on the table round by round (outcome indices), drawn as
        their path, the last one ringed.
    live : the talks go on (no "no agreement" note without an outcome).
    """
    from sim.core import solutions
    from sim.experiment.replication import concept_outcomes

    fig, ax = _figure(ax, (9.5, 5.8))
    if pair is None:
        sides = getattr(scenario, "war_sides", None) or (0, 1)
        pair = (scenario.parties[sides[0]], scenario.parties[sides[1]])
    a, b = pair
    i, j = scenario.party_index(a), scenario.party_index(b)
    U = np.asarray(scenario.utilities, dtype=float)
    d = np.asarray(reservations, dtype=float)
    feasible = np.asarray(scenario.acceptable, dtype=bool)
    x, y = U[i], U[j]
    colours = party_colours(scenario.parties)

    batna_marks(ax, (a, b), (d[i], d[j]), colours)
    outcome_cloud(ax, x, y, feasible)
    zopa = solutions.zopa_mask(U, d) & feasible
    ax.scatter(x[zopa], y[zopa], **ZOPA_LOOK)

    concepts = concept_outcomes(U, d, feasible)
    points = [
        ("Nash", concepts["nash"], *POINT_LOOKS["Nash"]),
        ("Kalai-Smorodinsky", concepts["kalai_smorodinsky"], *POINT_LOOKS["Kalai-Smorodinsky"]),
        ("negotiated", outcome, *POINT_LOOKS["negotiated"]),
    ]
    for label, point, *look in points:
        if point is None or point < 0:
            continue
        mark_point(ax, label, (x[point], y[point]), *look)
    if trail is not None and len(trail):
        path = np.asarray(trail, dtype=int)
        ax.plot(x[path], y[path], **TRAIL_LOOK)
        ax.plot(
            x[path[-1]], y[path[-1]], **RING_LOOK, label=f"text on the table (round {len(path)})"
        )
    if (outcome is None or outcome < 0) and not live:
        ax.text(0.98, 0.02, "no agreement", transform=ax.transAxes, **NO_AGREEMENT_LOOK)

    handles = [*bargaining_handles(a, b), *ax.get_legend_handles_labels()[0]]
    if legend:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(f"utility of {labels.name(a)} (0 = worst outcome, 1 = ideal)")
    ax.set_ylabel(f"utility of {labels.name(b)} (0 = worst outcome, 1 = ideal)")
    ax.set_title(title or bargaining_title(scenario, (a, b)))
    return fig


def bargaining_title(scenario: Any, pair: tuple[str, str]) -> str:
    """The title "Bargaining picture: a vs b", with the scenario's name when it has one."""
    title = f"Bargaining picture: {labels.name(pair[0])} vs {labels.name(pair[1])}"
    scenario_name = getattr(scenario, "name", None)
    return f"{title} ({labels.name(scenario_name)})" if scenario_name else title


ZOPA_LOOK: dict[str, Any] = {
    "s": 7,
    "color": SKY,
    "alpha": 0.8,
    "lw": 0,
    "rasterized": True,
    "zorder": 3,
}
"""The outcomes in the ZOPA of all parties (a scatter's keywords)."""


def outcome_cloud(ax: Axes, x: np.ndarray, y: np.ndarray, feasible: np.ndarray) -> Line2D | None:
    """Every outcome as a dot (paler across a red line) and the pair's Pareto frontier
    among those that cross none (returned; None without a feasible outcome)."""
    from sim.core import solutions

    ax.scatter(x[~feasible], y[~feasible], s=5, color=LIGHT_GREY, lw=0, rasterized=True, zorder=1)
    ax.scatter(
        x[feasible], y[feasible], s=6, color=GREY, alpha=0.5, lw=0, rasterized=True, zorder=2
    )
    if feasible.any():
        idx = np.flatnonzero(feasible)
        front = idx[solutions.pareto_mask(np.vstack([x[idx], y[idx]]))]
        order = np.lexsort((-y[front], x[front]))
        return ax.plot(
            x[front][order], y[front][order], color=BLACK, lw=1.4, marker="o", ms=2.5, zorder=4
        )[0]
    return None


def batna_marks(
    ax: Axes, pair: tuple[str, str], batnas: tuple[float, float], colours: Mapping[str, str]
) -> list[Any]:
    """The pair's BATNAs: the area where both are at or above them, the two dashed lines
    and their labels (in that order)."""
    (a, b), (da, db) = pair, batnas
    area = ax.add_patch(
        plt.Rectangle((da, db), 1.05 - da, 1.05 - db, color=YELLOW, alpha=0.18, lw=0, zorder=0)
    )
    return [
        area,
        ax.axvline(da, color=colours[a], ls="--", lw=1.3, zorder=4),
        ax.axhline(db, color=colours[b], ls="--", lw=1.3, zorder=4),
        ax.annotate(
            f"{labels.name(a)}'s BATNA {da:.2f}",
            xy=(da, 0.0),
            xytext=(-3, 3),
            textcoords="offset points",
            rotation=90,
            ha="right",
            va="bottom",
            fontsize=8,
            color=colours[a],
        ),
        ax.annotate(
            f"{labels.name(b)}'s BATNA {db:.2f}",
            xy=(1.0, db),
            xytext=(0, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
            color=colours[b],
        ),
    ]


TRAIL_LOOK: dict[str, Any] = {"color": VERMILLION, "lw": 1.0, "alpha": 0.7, "zorder": 5}
"""The path of the texts on the table."""
RING_LOOK: dict[str, Any] = {
    "marker": "o",
    "ms": 11,
    "mfc": "none",
    "mec": VERMILLION,
    "mew": 2,
    "ls": "none",
    "zorder": 6,
}
"""The ring around the text on the table now."""
NO_AGREEMENT_LOOK: dict[str, Any] = {
    "ha": "right",
    "va": "bottom",
    "fontsize": 9,
    "color": VERMILLION,
}

POINT_LOOKS: dict[str, tuple[str, str, float, tuple[int, int]]] = {
    "Nash": ("D", "white", 8, (45, -35)),
    "Kalai-Smorodinsky": ("s", "white", 7, (45, 25)),
    "negotiated": ("*", ORANGE, 17, (-45, -45)),
}
"""The bargaining picture's marked points: marker, face colour, size, label offset."""


def mark_point(
    ax: Axes,
    label: str,
    at: tuple[float, float],
    marker: str,
    face: str,
    size: float,
    offset: tuple[int, int],
) -> tuple[Line2D, Any]:
    """A marked point of the bargaining picture and its boxed label."""
    (line,) = ax.plot(
        *at,
        marker=marker,
        ms=size,
        mfc=face,
        mec=BLACK,
        mew=1.0,
        ls="none",
        zorder=5 if marker == "*" else 6,
        label=label,
    )
    note = ax.annotate(
        label,
        at,
        xytext=offset,
        textcoords="offset points",
        fontsize=8.5,
        ha="left" if offset[0] > 0 else "right",
        va="center",
        arrowprops={"arrowstyle": "-", "color": BLACK, "lw": 0.7, "shrinkB": 5},
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": GREY, "lw": 0.5},
        zorder=7,
    )
    return line, note


def bargaining_handles(a: str, b: str) -> list[Any]:
    """The bargaining picture's legend entries for what is drawn for the pair `a`, `b`."""
    return [
        Line2D([], [], marker="o", color=GREY, ls="none", ms=4, label="outcome"),
        Line2D(
            [],
            [],
            marker="o",
            color=LIGHT_GREY,
            ls="none",
            ms=4,
            label="outcome crossing a red line",
        ),
        Line2D([], [], marker="o", color=SKY, ls="none", ms=4, label="in the ZOPA of all parties"),
        Patch(
            color=YELLOW,
            alpha=0.35,
            lw=0,
            label=f"{labels.name(a)} and {labels.name(b)} at or above their BATNAs",
        ),
        Line2D(
            [],
            [],
            color=BLACK,
            lw=1.4,
            marker="o",
            ms=2.5,
            label=f"Pareto frontier of {labels.name(a)}, {labels.name(b)}",
        ),
        Line2D([], [], color=GREY, ls="--", label="BATNA (the party's colour)"),
    ]
