"""Figures (matplotlib): one style, labelled axes, a colour-blind-safe palette (Okabe & Ito).

Every function returns the `Figure` it drew on and accepts an optional `ax` (or `axes`,
for figures of several panels) to draw into an existing figure. Figures read results
(a trace, a result table, a `Scenario`); they do no simulation. Every key or column shown
is named in words with its unit (`sim.front.labels`), and titles say what the figure is from (the
scenario, the sweep).

Figures:

- `plot_trajectory`: utility of the text on the table and BATNA per party, per round
  (under alternating offers, the mean over the parties' standing offers, each offer a dot);
- `plot_bargaining`: two parties' utilities over the outcome space, with the Pareto
  frontier, the ZOPA, the BATNAs, and the Nash (1950), Kalai-Smorodinsky (1975) and
  negotiated points;
- `plot_contact_line`: the contact line and the territory in the text per round, on the
  territory scale with its named anchors;
- `sweep_heatmap`: share of replications with a binding deal and share stable over two
  swept parameters;
- `plot_agreed_levels`: where binding deals land, issue by issue;
- `plot_utility_vs_batna`: each party's utility of the deal against its BATNA;
- `plot_stability_checks`: the share of binding deals that pass each stability check;
- `plot_deals_over_time`: the share of replications with a binding deal by each month;
- `plot_feature_scores`: which parameters matter (e.g. EMA Workbench's feature scores).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.core.settings import EndReason
from sim.experiment.results import proportion_interval
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


# -- one negotiation ------------------------------------------------------------------------
@styled
def _mark_parties(
    ax: Axes,
    last: pd.DataFrame,
    parties: Sequence[str],
    colours: dict[str, str],
    end_round: int,
    column: str,
    marker: str,
    size: float,
) -> None:
    """One marker per party at the end round, on its `<column>_<party>` value."""
    for party in parties:
        ax.plot(
            end_round,
            last[f"{column}_{party}"].iloc[-1],
            marker=marker,
            ms=size,
            color=colours[party],
            mec=BLACK,
            mew=0.7,
            ls="none",
            zorder=5,
        )


TRAJECTORY_TITLE = "Utility of the text on the table, and each party's BATNA"
OFFERS_TITLE = "Utility of the offers on the table, and each party's BATNA"
ALTERNATING = "alternating_offers"


def alternates(trace: pd.DataFrame, protocol: str | None = None) -> bool:
    """Whether the trace is of alternating offers: `protocol` if given, else read from the
    trace (the proposer changes from one round to the next in most rounds)."""
    if protocol is not None:
        return str(protocol) == ALTERNATING
    if "proposer" not in trace or len(trace) < 3:
        return False
    proposers = trace["proposer"].astype("string")
    if proposers.dropna().nunique() < 2:
        return False
    changes = (proposers != proposers.shift()).fillna(True).to_numpy(dtype=bool)[1:]
    return bool(changes.mean() > 0.5)


def standing_offers(trace: pd.DataFrame, parties: Sequence[str]) -> np.ndarray:
    """(rounds, parties): each party's mean utility of the offers standing in each round,
    the latest offer of every seated party that has proposed so far (alternating offers:
    the offer on the table swings with its proposer; this does not)."""
    U = trace[[f"u_{p}" for p in parties]].to_numpy(dtype=float)
    proposers = trace["proposer"].to_numpy(dtype=object) if "proposer" in trace else []
    offers = trace["offer"].to_numpy(dtype=float) if "offer" in trace else np.zeros(len(trace))
    seated = {
        q: trace[f"seated_{q}"].to_numpy(dtype=bool)
        for q in dict.fromkeys(proposers)
        if q is not None and f"seated_{q}" in trace
    }
    latest: dict[Any, int] = {}
    out = np.full(U.shape, np.nan)
    for k in range(len(trace)):
        q = proposers[k] if len(proposers) else None
        if q is not None and offers[k] >= 0 and np.isfinite(U[k]).all():
            latest[q] = k
        rows = [r for who, r in latest.items() if who not in seated or seated[who][k]]
        rows = rows or list(latest.values())
        if rows:
            out[k] = U[rows].mean(axis=0)
    return out


def _offer_dots(
    trace: pd.DataFrame, party: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A party's utility of each offer: (rounds, values) of its own, then of the others'."""
    rounds = trace["round"].to_numpy()
    u = trace[f"u_{party}"].to_numpy(dtype=float)
    made = np.isfinite(u)
    if "offer" in trace:
        made &= trace["offer"].to_numpy(dtype=float) >= 0
    own = (
        trace["proposer"].to_numpy(dtype=object) == party
        if "proposer" in trace
        else np.zeros(len(trace), dtype=bool)
    )
    return rounds[made & own], u[made & own], rounds[made & ~own], u[made & ~own]


OWN_OFFER_LOOK: dict[str, Any] = {"marker": "o", "ms": 4.5, "mec": BLACK, "mew": 0.5, "ls": "none"}
OTHER_OFFER_LOOK: dict[str, Any] = {"marker": "o", "ms": 3.5, "mfc": "white", "mew": 0.9}
OTHER_OFFER_LOOK |= {"ls": "none", "alpha": 0.8}


@styled
def plot_trajectory(
    trace: pd.DataFrame,
    parties: Sequence[str],
    end_round: int | None = None,
    end_label: str | None = None,
    ax: Axes | None = None,
    *,
    reason: str | None = None,
    title: str | None = TRAJECTORY_TITLE,
    legend: bool = True,
    protocol: str | None = None,
) -> Figure:
    """Every party's utility for the text or offer per round (solid) and its BATNA (dashed).

    Under alternating offers the offer on the table is each proposer's in turn, and its
    utility swings with the proposer: each offer is then a dot (filled: the party's own
    offer) and the solid line is the party's mean utility of the standing offers (every
    seated party's latest; `standing_offers`).

    Parameters
    ----------
    trace : the model's per-round table (`NegotiationModel.trace()`): `round`, `u_<party>`,
        `reservation_<party>`, optionally `phase`, `proposer`, `offer` and `seated_<party>`.
    parties : the parties to draw, in palette order.
    end_round, end_label : the round the talks ended, and what to write there.
    reason : how they ended (`agreement`, `breakdown`, `deadline`, `not_binding`); by
        default read from `end_label`. An agreement is marked with a star on each
        party's line, a breakdown with a cross.
    title : the title (`sim.front.labels.negotiation_title` gives one naming the scenario, the
        protocol, the seating and the outcome); under alternating offers the default
        reads "offers".
    protocol : `single_text` or `alternating_offers`; by default read from the trace.
    """
    fig, ax = _figure(ax, (9, 4.6))
    colours = party_colours(parties)
    rounds = trace["round"].to_numpy()
    offers = alternates(trace, protocol)
    phase_one = trace["phase"].to_numpy() == 1 if "phase" in trace else np.zeros(len(trace), bool)
    if phase_one.any():
        seated = [
            p
            for p in parties
            if f"seated_{p}" not in trace or trace[f"seated_{p}"].to_numpy()[phase_one].all()
        ]
        ax.axvspan(
            rounds[phase_one].min() - 0.5,
            rounds[phase_one].max() + 0.5,
            color=LIGHT_GREY,
            alpha=0.45,
            lw=0,
            zorder=0,
        )
        ax.annotate(
            _phase_note(seated),
            xy=(rounds[phase_one].min() - 0.5, 0.02),
            xycoords=("data", "axes fraction"),
            xytext=(3, 0),
            textcoords="offset points",
            fontsize=8,
            color="#555555",
        )
    standing = standing_offers(trace, parties) if offers else None
    for k, party in enumerate(parties):
        colour = colours[party]
        if standing is None:
            ax.plot(rounds, trace[f"u_{party}"], color=colour, lw=2)
        else:
            own_x, own_y, other_x, other_y = _offer_dots(trace, party)
            ax.plot(other_x, other_y, mec=colour, **OTHER_OFFER_LOOK)
            ax.plot(own_x, own_y, color=colour, **OWN_OFFER_LOOK)
            ax.plot(rounds, standing[:, k], color=colour, lw=2.2)
        ax.plot(rounds, trace[f"reservation_{party}"], color=colour, lw=1.2, ls="--")
    reason = _end_reason(reason, end_label)
    end_handles: list[Line2D] = []
    if end_round is not None:
        ax.axvline(end_round, color=BLACK, lw=1, ls=":")
        ax.annotate(end_label or f"round {end_round}", xy=(end_round, 1.0), **END_NOTE)
        last = trace[trace["round"] == end_round]
        marks = end_marks(reason) if len(last) else None
        if marks is not None:
            column, marker, label, size, mark_size = marks
            _mark_parties(ax, last, parties, colours, end_round, column, marker, mark_size)
            end_handles.append(_marker_handle(marker, label, ms=size))
    ax.set_xlabel(ROUND_LABEL)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole
    ax.set_ylabel(UTILITY_LABEL)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(rounds.min() - 0.5 if len(rounds) else 0, rounds.max() + 0.5 if len(rounds) else 1)
    handles = [*_trajectory_handles(parties, colours, offers), *end_handles]
    if legend:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if title:
        if offers and title == TRAJECTORY_TITLE:
            title = OFFERS_TITLE
        ax.set_title(title, fontsize=TITLE_SIZE if "\n" in title else None)
    return fig


def _phase_note(seated: Sequence[str]) -> str:
    return "phase one: " + " and ".join(labels.name(p) for p in seated) + " only"


def end_marks(reason: str | None) -> tuple[str, str, str, float, float] | None:
    """How a trajectory marks its end (`EndReason`): the trace column the marks sit on, the
    marker, its legend label, its size in the legend and on the axes; None for an ending
    it does not mark."""
    match labels.ending(reason):
        case EndReason.agreement | EndReason.not_binding as found:
            return "u", "*", labels.reason_label(found), 11, 13
        case EndReason.breakdown:
            return "reservation", "X", "breakdown (at the BATNA)", 9, 10
    return None


def _end_reason(reason: str | None, end_label: str | None) -> str | None:
    """How the talks ended: `reason`, else read from the end's label ("agreement, round 3",
    "agreed, not binding, round 9", "not_binding, round 9")."""
    if reason is not None or not end_label:
        return reason
    text = end_label.strip()
    for key, words in labels.REASONS.items():
        if text.startswith((words, key, labels.name(key))):
            return key
    return text.replace(",", " ").split()[0]


def _trajectory_handles(
    parties: Sequence[str], colours: Mapping[str, str], offers: bool = False
) -> list[Line2D]:
    """The trajectory's legend: one colour per party, then the line styles (and, under
    alternating offers, the dots)."""
    lines = [Line2D([], [], color=GREY, lw=2, label="utility of the text")]
    if offers:
        lines = [
            Line2D([], [], color=GREY, lw=2, label="mean of standing offers"),
            Line2D([], [], color=GREY, label="its own offer", **OWN_OFFER_LOOK),
            Line2D([], [], mec=GREY, label="another party's offer", **OTHER_OFFER_LOOK),
        ]
    return [
        *(Line2D([], [], color=colours[p], lw=2.5, label=labels.name(p)) for p in parties),
        *lines,
        Line2D([], [], color=GREY, lw=1.2, ls="--", label="BATNA (value of war)"),
    ]


def _marker_handle(marker: str, label: str, ms: float = 8, **kwargs: Any) -> Line2D:
    style = {"color": "white", "mec": BLACK, "mew": 0.8, **kwargs}
    return Line2D([], [], marker=marker, ms=ms, ls="none", label=label, **style)


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
    scenario : a `sim.experiment.scenario.Scenario` (`utilities` (parties, outcomes), `parties`,
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

    _batna_marks(ax, (a, b), (d[i], d[j]), colours)
    _outcome_cloud(ax, x, y, feasible)
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
        _mark_point(ax, label, (x[point], y[point]), *look)
    if trail is not None and len(trail):
        path = np.asarray(trail, dtype=int)
        ax.plot(x[path], y[path], **TRAIL_LOOK)
        ax.plot(
            x[path[-1]], y[path[-1]], **RING_LOOK, label=f"text on the table (round {len(path)})"
        )
    if (outcome is None or outcome < 0) and not live:
        ax.text(0.98, 0.02, "no agreement", transform=ax.transAxes, **NO_AGREEMENT_LOOK)

    handles = [*_bargaining_handles(a, b), *ax.get_legend_handles_labels()[0]]
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


def _outcome_cloud(ax: Axes, x: np.ndarray, y: np.ndarray, feasible: np.ndarray) -> Line2D | None:
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


def _batna_marks(
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


def _mark_point(
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


def _bargaining_handles(a: str, b: str) -> list[Any]:
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


@styled
def plot_contact_line(
    trace: pd.DataFrame,
    anchors: Mapping[str, float] | None = None,
    ax: Axes | None = None,
    *,
    end_round: int | None = None,
    agreed: float | None = None,
    territory: str | None = "territory",
    title: str | None = "Contact line and the territory in the text",
    legend: bool = True,
) -> Figure:
    """The contact line per round on the territory scale, with its named anchors.

    Parameters
    ----------
    trace : the model's per-round table: `round`, `contact_line` and, when `territory`
        names a column, the territory level of the text on the table.
    anchors : named points of the territory scale, e.g. `cfg.issues.territory.anchors`
        ({"freeze_current_line": 50, ...}); drawn as dotted lines named on the right.
    end_round, agreed : the round and the territory position of an agreement (a star).
    """
    fig, ax = _figure(ax, (9, 4.2))
    rounds = trace["round"].to_numpy()
    _territory_scale(ax, anchors)
    ax.plot(rounds, trace["contact_line"], **CONTACT_LINE_LOOK)
    if territory and territory in trace:
        text = pd.to_numeric(trace[territory], errors="coerce")
        if text.notna().any():
            ax.step(rounds, text, **TEXT_TERRITORY_LOOK)
    if agreed is not None and np.isfinite(agreed):
        at = end_round if end_round is not None else rounds.max()
        ax.plot(at, agreed, **AGREED_TERRITORY_LOOK, label=f"agreed territory ({agreed:g})")
    if len(rounds):
        ax.set_xlim(rounds.min() - 0.5, rounds.max() + 0.5)
    if legend:
        ax.legend(loc="lower left")
    if title:
        ax.set_title(title)
    return fig


CONTACT_LINE_LOOK: dict[str, Any] = {"color": BLACK, "lw": 2, "label": "contact line", "zorder": 3}
TEXT_TERRITORY_LOOK: dict[str, Any] = {
    "where": "mid",
    "color": BLUE,
    "lw": 1.3,
    "ls": "--",
    "zorder": 2,
    "label": "territory in the text on the table",
}
AGREED_TERRITORY_LOOK: dict[str, Any] = {
    "marker": "*",
    "ms": 15,
    "color": ORANGE,
    "mec": BLACK,
    "mew": 0.8,
    "ls": "none",
    "zorder": 5,
}


def _territory_scale(ax: Axes, anchors: Mapping[str, float] | None) -> None:
    """The territory scale: its named anchors as dotted lines, named on the right."""
    for value in dict(anchors or {}).values():
        ax.axhline(float(value), color=GREY, lw=0.8, ls=":", zorder=1)
    if anchors:
        right = ax.secondary_yaxis("right")
        items = sorted(dict(anchors).items(), key=lambda kv: float(kv[1]))
        right.set_yticks([float(v) for _, v in items], [_pretty(k) for k, _ in items])
        right.tick_params(labelsize=8, length=0)
        right.spines["right"].set_visible(False)
    ax.set_ylim(-2, 102)
    ax.set_xlabel(ROUND_LABEL)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(TERRITORY_LABEL)


# -- live figures (the page): drawn once, then updated round by round ----------------------
LIVE_TRAJECTORY_TITLE = "Utility of the text on the table, and each party's BATNA"
LIVE_CONTACT_TITLE = "Contact line and the territory in the text"
FIRST_SPAN = 10  # rounds the live figures' x axis shows at first; doubled when reached


def live_xlim(rounds: np.ndarray, start: float) -> tuple[float, float]:
    """The x limits of a live figure: from `start`, FIRST_SPAN rounds doubled until the
    last round fits (the axis, and so the background, changes only a few times)."""
    last = float(rounds.max()) + 0.5 if len(rounds) else start
    span = FIRST_SPAN
    while start + span < last:
        span *= 2
    return start, start + span


class LiveFigure:
    """A figure of the page in two layers: the background (axes, ticks, labels, legend,
    what does not move) drawn once and kept as pixels, and the animated artists drawn
    over it by every `png()`; `redraw()` marks the background stale (new axis limits).

    Subclasses build the figure once (`matplotlib.pyplot.rc_context(STYLE)`) and update
    the animated artists' data (`set_data`, `set_offsets`, `set_text`) in `update`."""

    def __init__(self, fig: Figure, margins: Mapping[str, float] | None = None) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        fig.clf()
        if margins:
            fig.subplots_adjust(**margins)
        self.fig = fig
        self.animated: list[Any] = []
        self.background_draws = 0  # how often the background was drawn (tests, benchmark)
        self._background: Any = None

    def animate[A](self, artist: A) -> A:
        """Mark `artist` as redrawn over the background on every `png()`."""
        artist.set_animated(True)  # type: ignore[attr-defined]
        self.animated.append(artist)
        return artist

    def redraw(self) -> None:
        """Draw the background again at the next `png()`."""
        self._background = None

    def _set_xlim(self, ax: Axes, limits: tuple[float, float]) -> None:
        if tuple(ax.get_xlim()) != limits:
            ax.set_xlim(*limits)
            self.redraw()

    def png(self, compress_level: int = 1) -> bytes:
        """The figure now as PNG: the kept background, the animated artists over it."""
        import io

        from PIL import Image

        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw()  # animated artists are left out
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self.background_draws += 1
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()  # type: ignore[attr-defined]
        for artist in sorted(self.animated, key=lambda a: a.get_zorder()):
            if artist.get_visible():
                artist.draw(renderer)
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=compress_level)
        return buffer.getvalue()


def _end_legend(ax: Axes, handles: list[Any], **where: Any) -> Any:
    """A second legend for what only the end shows (animated: added over the background)."""
    from matplotlib.legend import Legend

    with plt.rc_context(STYLE):
        legend = Legend(ax, handles, [h.get_label() for h in handles], borderaxespad=0, **where)
    ax.add_artist(legend)
    return legend


class LiveTrajectory(LiveFigure):
    """`plot_trajectory` for the page: each party's utility of the text and BATNA, round
    by round (`update` with the trace so far), the phase one shading, and at the end the
    end line, its label and the parties' marks. Under alternating offers (`protocol`),
    each offer is a dot and the line the mean of the standing offers, as in
    `plot_trajectory`. The title (`title`, e.g. `sim.front.labels.negotiation_title`) is drawn
    over the background, so that `update(..., title=)` can change it at no cost."""

    def __init__(
        self,
        fig: Figure,
        parties: Sequence[str],
        margins: Mapping[str, float] | None = None,
        *,
        protocol: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(fig, margins)
        self.offers = protocol is not None and str(protocol) == ALTERNATING
        with plt.rc_context(STYLE):
            ax = self.ax = fig.add_subplot()
            self.parties = list(parties)
            colours = party_colours(parties)
            ax.set_xlabel(ROUND_LABEL)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(UTILITY_LABEL)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(*live_xlim(np.array([]), 0.5))
            default = OFFERS_TITLE if self.offers else LIVE_TRAJECTORY_TITLE
            self.title = self.animate(
                ax.set_title(title or default, fontsize=TITLE_SIZE if title else None)
            )
            handles = _trajectory_handles(parties, colours, self.offers)
            ax.legend(
                handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0
            )
            animate = self.animate
            self.phase = animate(
                ax.axvspan(0, 1, color=LIGHT_GREY, alpha=0.45, lw=0, zorder=0, visible=False)
            )
            self.phase_note = animate(
                ax.annotate(
                    "",
                    xy=(0, 0.02),
                    xycoords=("data", "axes fraction"),
                    xytext=(3, 0),
                    textcoords="offset points",
                    fontsize=8,
                    color="#555555",
                )
            )
            self.lines = {
                p: (
                    animate(ax.plot([], [], color=colours[p], lw=2.2 if self.offers else 2)[0]),
                    animate(ax.plot([], [], color=colours[p], lw=1.2, ls="--")[0]),
                )
                for p in parties
            }
            self.dots = (
                {
                    p: (
                        animate(ax.plot([], [], color=colours[p], **OWN_OFFER_LOOK)[0]),
                        animate(ax.plot([], [], mec=colours[p], **OTHER_OFFER_LOOK)[0]),
                    )
                    for p in parties
                }
                if self.offers
                else {}
            )
            self.hint = animate(
                ax.text(
                    0.5,
                    0.5,
                    "press Step or Play",
                    transform=ax.transAxes,
                    ha="center",
                    color=GREY,
                    fontsize=11,
                )
            )
            self.end_line = animate(ax.axvline(0, color=BLACK, lw=1, ls=":", visible=False))
            self.end_note = animate(ax.annotate("", xy=(0, 1.0), visible=False, **END_NOTE))
            face = [colours[p] for p in parties]
            marks = {"ec": BLACK, "linewidths": 0.7, "zorder": 5, "visible": False}
            self.stars = animate(ax.scatter([], [], marker="*", s=13**2, **marks))
            self.crosses = animate(ax.scatter([], [], marker="X", s=10**2, **marks))
            self.faces = face
            self.end_legend: Any = None

    def update(
        self,
        trace: pd.DataFrame,
        end_round: int | None = None,
        end_label: str | None = None,
        reason: str | None = None,
        *,
        title: str | None = None,
    ) -> None:
        """Show the trace so far and, once the talks have ended, how they ended; `title`,
        when given, replaces the title."""
        if title is not None:
            self.title.set_text(title)
            self.title.set_fontsize(TITLE_SIZE)
        rounds = trace["round"].to_numpy() if len(trace) else np.array([], dtype=int)
        self._set_xlim(self.ax, live_xlim(rounds, 0.5))
        self.hint.set_visible(not len(rounds))
        standing = standing_offers(trace, self.parties) if self.offers and len(rounds) else None
        for k, (party, (utility, batna)) in enumerate(self.lines.items()):
            if len(rounds):
                values = trace[f"u_{party}"].to_numpy() if standing is None else standing[:, k]
                utility.set_data(rounds, values)
                batna.set_data(rounds, trace[f"reservation_{party}"].to_numpy())
            if party in self.dots and len(rounds):
                own_x, own_y, other_x, other_y = _offer_dots(trace, party)
                self.dots[party][0].set_data(own_x, own_y)
                self.dots[party][1].set_data(other_x, other_y)
        phase_one = (
            (trace["phase"].to_numpy() == 1) if "phase" in trace else np.zeros(len(trace), bool)
        )
        self.phase.set_visible(bool(phase_one.any()))
        self.phase_note.set_visible(bool(phase_one.any()))
        if phase_one.any():
            lo, hi = rounds[phase_one].min() - 0.5, rounds[phase_one].max() + 0.5
            self.phase.set_x(lo)
            self.phase.set_width(hi - lo)
            seated = [
                p
                for p in self.parties
                if f"seated_{p}" not in trace or trace[f"seated_{p}"].to_numpy()[phase_one].all()
            ]
            self.phase_note.set_text(_phase_note(seated))
            self.phase_note.xy = (lo, 0.02)
        ended = end_round is not None
        for artist in (self.end_line, self.end_note):
            artist.set_visible(ended)
        self.stars.set_visible(False)
        self.crosses.set_visible(False)
        if not ended:
            if self.end_legend is not None:
                self.end_legend.set_visible(False)
            return
        reason = _end_reason(reason, end_label)
        self.end_line.set_xdata([end_round, end_round])
        self.end_note.set_text(end_label or f"round {end_round}")
        self.end_note.xy = (end_round, 1.0)
        lo, hi = self.ax.get_xlim()
        left_half = end_round < (lo + hi) / 2  # the label on the side with room
        self.end_note.set_horizontalalignment("left" if left_half else "right")
        self.end_note.xyann = (4, -4) if left_half else (-4, -4)
        last = trace[trace["round"] == end_round]
        handles = []
        found = end_marks(reason) if len(last) else None
        marks = None
        if found is not None:
            column, marker, label, size, _ = found
            marks = self.stars if marker == "*" else self.crosses
            handles.append(_marker_handle(marker, label, ms=size))
        if marks is not None:
            values = [last[f"{column}_{p}"].iloc[-1] for p in self.parties]
            marks.set_offsets(np.column_stack([np.full(len(values), end_round), values]))
            marks.set_facecolor(self.faces)
            marks.set_visible(True)
        if self.end_legend is None and handles:
            self.end_legend = self.animate(
                _end_legend(self.ax, handles, loc="lower left", bbox_to_anchor=(1.01, 0.0))
            )
        if self.end_legend is not None:
            self.end_legend.set_visible(bool(handles))


class LiveBargaining(LiveFigure):
    """`plot_bargaining` for the page: the outcome cloud and the pair's Pareto frontier
    drawn once; the BATNAs, the ZOPA, the Nash and Kalai-Smorodinsky points, the text's
    path and the deal updated round by round."""

    def __init__(
        self,
        fig: Figure,
        scenario: Any,
        pair: tuple[str, str] | None = None,
        margins: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(fig, margins)
        if pair is None:
            sides = getattr(scenario, "war_sides", None) or (0, 1)
            pair = (scenario.parties[sides[0]], scenario.parties[sides[1]])
        a, b = self.pair = pair
        self.i, self.j = scenario.party_index(a), scenario.party_index(b)
        self.U = np.asarray(scenario.utilities, dtype=float)
        self.feasible = np.asarray(scenario.acceptable, dtype=bool)
        x, y = self.x, self.y = self.U[self.i], self.U[self.j]
        with plt.rc_context(STYLE):
            ax = self.ax = fig.add_subplot()
            colours = party_colours(scenario.parties)
            frontier = _outcome_cloud(ax, x, y, feasible=self.feasible)
            animate = self.animate
            if frontier is not None:  # drawn over the ZOPA, which moves
                animate(frontier)
            self.area, self.batna_x, self.batna_y, self.note_x, self.note_y = (
                animate(artist) for artist in _batna_marks(ax, pair, (0.0, 0.0), colours)
            )
            self.zopa = animate(ax.scatter([], [], **ZOPA_LOOK))
            self.trail = animate(ax.plot([], [], **TRAIL_LOOK)[0])
            self.points = {
                label: tuple(animate(artist) for artist in _mark_point(ax, label, (0, 0), *look))
                for label, look in POINT_LOOKS.items()
            }
            self.ring = animate(
                ax.plot([], [], **RING_LOOK, label="text on the table (ringed: this round)")[0]
            )
            self.no_agreement = animate(
                ax.text(0.98, 0.02, "no agreement", transform=ax.transAxes, **NO_AGREEMENT_LOOK)
            )
            handles = [
                *_bargaining_handles(a, b),
                self.points["Nash"][0],
                self.points["Kalai-Smorodinsky"][0],
                self.ring,
            ]
            ax.legend(
                handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0
            )
            self.end_legend = animate(
                _end_legend(
                    ax, [self.points["negotiated"][0]], loc="lower left", bbox_to_anchor=(1.01, 0.0)
                )
            )
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.set_aspect("equal")
            ax.set_xlabel(f"utility of {labels.name(a)} (0 = worst outcome, 1 = ideal)")
            ax.set_ylabel(f"utility of {labels.name(b)} (0 = worst outcome, 1 = ideal)")
            ax.set_title(bargaining_title(scenario, pair))

    def update(
        self,
        reservations: Sequence[float] | np.ndarray,
        outcome: int | None = None,
        trail: Sequence[int] = (),
        live: bool = True,
    ) -> None:
        """Show the BATNAs now, the points they make, the text's path and the deal."""
        from sim.core import solutions
        from sim.experiment.replication import concept_outcomes

        (a, b), x, y = self.pair, self.x, self.y
        d = np.asarray(reservations, dtype=float)
        da, db = d[self.i], d[self.j]
        self.area.set_bounds(da, db, 1.05 - da, 1.05 - db)
        self.batna_x.set_xdata([da, da])
        self.batna_y.set_ydata([db, db])
        self.note_x.set_text(f"{labels.name(a)}'s BATNA {da:.2f}")
        self.note_x.xy = (da, 0.0)
        self.note_y.set_text(f"{labels.name(b)}'s BATNA {db:.2f}")
        self.note_y.xy = (1.0, db)
        zopa = solutions.zopa_mask(self.U, d) & self.feasible
        self.zopa.set_offsets(np.column_stack([x[zopa], y[zopa]]))
        concepts = concept_outcomes(self.U, d, self.feasible)
        found = {
            "Nash": concepts["nash"],
            "Kalai-Smorodinsky": concepts["kalai_smorodinsky"],
            "negotiated": outcome,
        }
        for label, (marker, note) in self.points.items():
            point = found[label]
            shown = point is not None and point >= 0
            marker.set_visible(shown)
            note.set_visible(shown)
            if shown:
                marker.set_data([x[point]], [y[point]])
                note.xy = (x[point], y[point])
        self.end_legend.set_visible(found["negotiated"] is not None and found["negotiated"] >= 0)
        path = np.asarray(trail, dtype=int)
        self.trail.set_data(x[path], y[path])
        self.ring.set_visible(bool(len(path)))
        if len(path):
            self.ring.set_data([x[path[-1]]], [y[path[-1]]])
        self.no_agreement.set_visible((outcome is None or outcome < 0) and not live)


class LiveContactLine(LiveFigure):
    """`plot_contact_line` for the page: the territory scale drawn once; the contact line,
    the territory in the text and the agreed territory updated round by round."""

    def __init__(
        self,
        fig: Figure,
        anchors: Mapping[str, float] | None = None,
        territory: str | None = "territory",
        margins: Mapping[str, float] | None = None,
        *,
        title: str | None = None,
    ) -> None:
        super().__init__(fig, margins)
        self.territory = territory
        with plt.rc_context(STYLE):
            ax = self.ax = fig.add_subplot()
            _territory_scale(ax, anchors)
            ax.set_xlim(*live_xlim(np.array([]), -0.5))
            self.line = self.animate(ax.plot([], [], **CONTACT_LINE_LOOK)[0])
            self.text = self.animate(ax.step([], [], **TEXT_TERRITORY_LOOK)[0])
            ax.legend(
                handles=[self.line, self.text] if territory else [self.line], loc="lower left"
            )
            self.agreed = self.animate(
                ax.plot([], [], **AGREED_TERRITORY_LOOK, label="agreed territory")[0]
            )
            self.end_legend = self.animate(_end_legend(ax, [self.agreed], loc="lower right"))
            ax.set_title(title or LIVE_CONTACT_TITLE)

    def update(
        self, trace: pd.DataFrame, end_round: int | None = None, agreed: float | None = None
    ) -> None:
        """Show the contact line so far and, at a deal, the agreed territory."""
        rounds = trace["round"].to_numpy()
        self._set_xlim(self.ax, live_xlim(rounds, -0.5))
        self.line.set_data(rounds, trace["contact_line"].to_numpy())
        text = (
            pd.to_numeric(trace[self.territory], errors="coerce").to_numpy()
            if self.territory and self.territory in trace
            else np.array([])
        )
        self.text.set_data(rounds[: len(text)], text)
        shown = agreed is not None and bool(np.isfinite(agreed))
        self.agreed.set_visible(shown)
        self.end_legend.set_visible(shown)
        if shown:
            at = end_round if end_round is not None else rounds.max()
            self.agreed.set_data([at], [agreed])
            (label,) = self.end_legend.get_texts()
            label.set_text(f"agreed territory ({agreed:g})")


# -- sweeps ---------------------------------------------------------------------------------
def _ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of replications that ran (failed jobs carry an `error`)."""
    if "error" in frame:
        return frame[frame["error"].isna()]
    return frame


def _as_float(values: pd.Series) -> pd.Series:
    return pd.Series(values.to_numpy(dtype=float, na_value=np.nan), index=values.index)


def group_order(values: pd.Series, order: Sequence[Any] | None = None) -> list[str]:
    """The groups of a column as strings: in `order` when given (values absent from the
    data left out, values missing from `order` appended), else sorted by value."""
    present = values.dropna()
    if order is not None:
        names = [str(v) for v in order]
        seen = set(present.astype(str))
        return [n for n in names if n in seen] + sorted(seen - set(names))
    return [str(v) for v in sorted(present.unique(), key=lambda v: (str(type(v)), v))]


def _typed(column: pd.Series, keys: Sequence[str]) -> list[Any]:
    """The values of `column` whose strings are `keys` (`group_order`'s), in that order."""
    by_text = {str(v): v for v in column.dropna().unique()}
    return [by_text.get(k, k) for k in keys]


def share_table(
    frame: pd.DataFrame, column: str, x: str, y: str | None = None, how: str = "mean"
) -> pd.DataFrame:
    """Mean of a 0/1 `column` per value of `x` (columns) and `y` (rows, descending).

    Failed replications (an `error`) are left out; missing values count as missing.
    `how="count"`: the number of replications behind each mean instead.
    """
    ok = _ok_rows(frame)
    values = _as_float(ok[column])
    if y is None:
        return values.groupby(ok[x]).agg(how).to_frame(name=column).T
    return values.groupby([ok[y], ok[x]]).agg(how).unstack(x).sort_index(ascending=False)


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
MAX_FACETS = 12  # rows of heatmap panels, one per combination of the facet parameters
SMALL_N = 5  # a heatmap cell of fewer replications is hatched: its share says little


def facet_values(frame: pd.DataFrame, facets: Sequence[str]) -> list[tuple]:
    """The combinations of the `facets` columns' values among the rows that ran, sorted."""
    if not facets:
        return [()]
    ok = _ok_rows(frame)
    found = ok[list(facets)].drop_duplicates().itertuples(index=False, name=None)
    return sorted(found, key=lambda combo: tuple(map(str, combo)))


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
) -> Figure:
    """Share of replications with a binding deal, and share stable, over two swept parameters.

    One panel per entry of `columns` (0/1 result columns), and one row of panels per
    combination of the `facets` columns' values (nothing pooled over them); each cell
    shows the share of the replications with that `x` (and `y`) value, its Wilson (1927)
    95% interval and its count below. A cell of fewer than `SMALL_N` replications is
    hatched; one whose every job failed (rows with an `error`) says so.

    Parameters
    ----------
    names : what to call `x`, `y` and the facets; by default `sim.front.labels.label` of each
        (a scenario's alias named after the key it sets, `sim.front.labels.frame_aliases`).
    title : the figure's title; by default, on a figure drawn here, what the colour is,
        where the rows are from (sweep, scenario) and the replications per cell.
    note : a line under the title (e.g. what was pooled).
    """
    columns = list(columns)
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
        rows = 1 if y is None else _ok_rows(frame)[y].nunique()
        height = min(max(2.4 + 0.6 * rows, 3.0), 8.0)
        width = min(max(5.2, 1.5 + 0.62 * _ok_rows(frame)[x].nunique()), 12.0)  # per panel
        fig, grid = plt.subplots(
            len(combos),
            len(columns),
            figsize=(width * len(columns), height * len(combos)),
            layout="constrained",
            squeeze=False,
        )
        axes = list(grid.ravel())
    else:
        axes = list(axes)
        fig = axes[0].figure
    if len(axes) != len(combos) * len(columns):
        raise ValueError(f"axes: {len(axes)} Axes for {len(combos)} x {len(columns)} panels")
    aliases = labels.frame_aliases(frame)
    shown = {k: labels.label(k, aliases) for k in [x, *([y] if y else []), *facets]}
    shown.update(names or {})
    image = None
    panels = iter(axes)
    for combo in combos:
        part = frame
        for key, value in zip(facets, combo, strict=True):
            part = part[part[key] == value]
        where = ", ".join(
            f"{shown[k]}: {labels.value_label(v)}" for k, v in zip(facets, combo, strict=True)
        )
        for column in columns:
            name = HEATMAP_TITLES.get(column, f"share {labels.label(column)}")
            image = _heatmap_panel(
                next(panels), part, column, x, y, f"{name}\n{where}" if where else name, shown
            )
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="share of replications")
    heading = (
        title
        if title is not None
        else (heatmap_title(frame, x, y, columns, facets) if own else None)
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
) -> str:
    """A heatmap's title: what the colour is, where the rows are from (sweep, scenario),
    the replications per cell and what the marks mean."""
    what = [HEATMAP_WHAT.get(c, labels.label(c)) for c in columns]
    lines = ["Share of replications with " + " and with ".join(what)]
    where = labels.where_text(frame)
    ok = _ok_rows(frame)
    keys = [*facets, *([y] if y else []), x]
    sizes = ok.groupby(keys, dropna=False).size() if len(ok) else pd.Series(dtype=int)
    if len(sizes):
        low, high = int(sizes.min()), int(sizes.max())
        count = (
            f"{low} replications per cell" if low == high else f"{low}-{high} replications per cell"
        )
        if low < SMALL_N:
            count += f" (hatched: fewer than {SMALL_N})"
    else:
        count = "no replication ran"
    if len(_failed_rows(frame)):
        count += "; grey and crossed: every job failed"
    lines.append(f"{where}: {count}" if where else count)
    return "\n".join(lines)


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
) -> AxesImage:
    """One heatmap panel: the share of `column` per cell, its 95% interval and count; a
    cell of few replications hatched, one of failed jobs only marked as failed."""
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
    image = ax.imshow(values, cmap="cividis", vmin=0, vmax=1, aspect="auto")
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
    wide = table.shape[1] <= 8
    share_size = 10 if wide else max(5, 10 - (table.shape[1] - 8) // 2)
    for (i, j), value in np.ndenumerate(values):
        count, failures = int(n[i, j]), int(fails[i, j])
        if count == 0 or not np.isfinite(value):
            if failures:
                _cell_mark(ax, i, j, LIGHT_GREY, "xx", 0.9)
                jobs = f"\n({failures} job{'s' * (failures > 1)})" if wide else ""
                ax.text(j, i, f"failed{jobs}", **CELL_TEXT, fontsize=share_size - 1, color=BLACK)
            continue
        small = count < SMALL_N
        if small:
            _cell_mark(ax, i, j, "white", "///", 0.55)
        colour = "black" if value > 0.6 or small else "white"
        ax.text(
            j,
            i - (0.12 if wide else 0.0),
            f"{value:.0%}",
            **CELL_TEXT,
            fontsize=share_size,
            color=colour,
            fontweight="bold",
        )
        if wide:
            _, low, high = proportion_interval(round(hits[i, j]), count)
            more = f"\n{failures} failed" if failures else ""
            ax.text(
                j,
                i + 0.2,
                f"[{low:.0%}, {high:.0%}]\nn={count}{more}",
                **CELL_TEXT,
                fontsize=6.5,
                color=colour,
                linespacing=1.0,
            )
        elif small:
            ax.text(j, i + 0.3, f"n={count}", **CELL_TEXT, fontsize=max(5, share_size - 2))
    return image


CELL_TEXT: dict[str, Any] = {"ha": "center", "va": "center", "zorder": 3}


def _cell_mark(ax: Axes, i: int, j: int, face: str, hatch: str, alpha: float) -> None:
    """A heatmap cell washed over (`face` at `alpha`) and hatched: few replications, or
    failed jobs."""
    corner, look = (j - 0.5, i - 0.5), {"lw": 0, "zorder": 2}
    ax.add_patch(Rectangle(corner, 1, 1, facecolor=face, alpha=alpha, **look))
    ax.add_patch(Rectangle(corner, 1, 1, fill=False, edgecolor=HATCH, hatch=hatch, **look))


HATCH = "#666666"


def issue_levels(cfg: Any) -> dict[str, tuple[str, ...]]:
    """Each ordinal or categorical issue's levels in the config's order (`cfg.issues`)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, conf in cfg.issues.items():
        if str(conf.kind) == "ordinal":
            out[name] = tuple(conf.levels)
        elif str(conf.kind) == "categorical":
            out[name] = tuple(conf.categories)
    return out


def _is_continuous(frame: pd.DataFrame, issue: str, levels: Mapping[str, Sequence[str]]) -> bool:
    if issue in levels or f"{issue}_position" not in frame:
        return False
    names = frame[issue].dropna().astype(str)  # no deal at all: an empty histogram
    return bool(pd.to_numeric(names, errors="coerce").notna().all())


def _level_order(frame: pd.DataFrame, issue: str, levels: Mapping[str, Sequence[str]]) -> list[str]:
    """Levels in the given order; else by position on the scale; else as they come."""
    seen = [str(v) for v in frame[issue].dropna().unique()]
    if issue in levels:
        known = [str(v) for v in levels[issue]]
        return known + [v for v in seen if v not in known]
    if f"{issue}_position" in frame:
        pos = frame.groupby(frame[issue].astype(str))[f"{issue}_position"].mean()
        return sorted(seen, key=lambda v: (pos.get(v, np.inf), v))
    return sorted(seen)


def agreed_level_shares(frame: pd.DataFrame, issue: str, hue: str | None = None) -> pd.DataFrame:
    """Share of replications with a binding deal at each level of `issue` (rows: levels).

    One column per value of `hue` (or one column `all`); the denominator is every
    replication of the group that ran, so a column sums to its share with a binding deal.
    """
    ok = _ok_rows(frame)
    groups = ok[hue].astype(str) if hue else pd.Series("all", index=ok.index)
    deal = _deals(ok) if "agreement" in ok else ok[issue].notna()
    levels = ok[issue].where(deal).astype("string")
    counts = pd.crosstab(levels, groups)
    totals = groups.value_counts()
    return counts.div(totals.reindex(counts.columns), axis=1).rename_axis(index=issue, columns=hue)


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
    ok = _ok_rows(frame)
    continuous = {i: i in ok and _is_continuous(ok, i, levels) for i in issues}
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
        if not _deals(ok).any():
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
            _level_bars(panel, ok, issue, hue, groups, colours, _level_order(ok, issue, levels))
    if hue:
        handles = [Patch(color=colours[g], label=labels.value_label(g)) for g in groups]
        fig.legend(handles=handles, title=_legend_title(hue, ok), loc="outside right upper")
    heading = "Where binding deals land: share of replications at each level"
    fig.suptitle(labels.with_where(heading, frame), weight="bold")
    return fig


def _deals(ok: pd.DataFrame) -> pd.Series:
    """Replications with a binding deal."""
    return ok["agreement"].fillna(False).astype(bool)


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
    deals = _deals(ok) if "agreement" in ok else ok[issue].notna()
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
    deal = _deals(ok) if "agreement" in ok else ok[issue].notna()
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
    ok = _ok_rows(frame)
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
        _marker_handle("o", "utility of the deal (mean)", color=GREY, mec=BLACK, mew=0.6),
        _marker_handle("o", "BATNA (mean)", mec=GREY, mew=2),
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


def stability_checks(
    frame: pd.DataFrame, thresholds: Mapping[str, float] | Any | None = None
) -> pd.DataFrame:
    """The stability checks (docs/model.md, "Stability") of each binding deal, as booleans.

    Rows: the replications with a binding deal. Columns: `CHECKS`; each compares the
    result row's measure with `thresholds` (config `stability.thresholds`; by default the
    ones the rows were made with, their `stability.thresholds.*` columns, else
    `sim.core.stability.Thresholds()`) exactly as `sim.core.stability.is_stable` does, so `stable`
    here equals the row's own `stable`.
    """
    from sim.core.preferences import TOLERANCE
    from sim.core.stability import Thresholds

    prefix = "stability.thresholds."
    recorded = {c[len(prefix) :]: c for c in frame.columns if c.startswith(prefix)}
    if thresholds is None and recorded:
        values = _ok_rows(frame)[list(recorded.values())].drop_duplicates()
        if len(values) > 1:
            raise ValueError(
                f"thresholds: the rows were made with {len(values)} sets of "
                "stability.thresholds; pass the ones to check against"
            )
        t = Thresholds(**{k: values[c].iloc[0] for k, c in recorded.items()})
    elif thresholds is None:
        t = Thresholds()
    elif isinstance(thresholds, Thresholds):
        t = thresholds
    else:
        t = Thresholds(**{k: thresholds[k] for k in thresholds})
    ok = _ok_rows(frame)
    deals = ok[ok["agreement"].fillna(False).astype(bool)]
    num = {
        c: deals[c].astype(float) for c in ("ir_margin", "pareto_gap", "robustness", "durability")
    }
    out = pd.DataFrame(
        {
            "individually_rational": num["ir_margin"] >= t.ir_margin - TOLERANCE,
            "pareto_efficient": num["pareto_gap"] <= t.pareto_gap + TOLERANCE,
            "coalition_proof": (deals["blocking_coalitions"] >= 0)
            & (deals["blocking_coalitions"] <= t.blocking_coalitions),
            "robust": num["robustness"] >= t.robustness,
            "durable": num["durability"] >= t.durability,
            # NaN (the linear model measures none) passes, as in `is_stable`
            "no_commitment_problem": ~(
                deals["commitment_ratio"].astype(float) > t.commitment_ratio
                if "commitment_ratio" in deals
                else pd.Series(False, index=deals.index)
            ),
        },
        index=deals.index,
    )
    out["stable"] = out.all(axis=1)
    return out


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
    ok = _ok_rows(frame)
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
    ok = _ok_rows(frame)
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
    ok = _ok_rows(frame)
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
        x_ticks = labels.tick_labels(_typed(ok[x], x_values))
        long = max((len(v) for v in x_ticks), default=0) > 8
        ax.set_xticks(
            range(len(x_values)),
            x_ticks,
            rotation=30 if long or len(x_values) > 6 else 0,
            ha="right" if long else "center",
        )
        ax.set_yticks(
            range(len(y_values)), labels.tick_labels(_typed(ok[y], y_values)) if y else [""]
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


# -- which judgement values matter (sim.experiment.sensitivity) ------------------------------------


def _short(value: float) -> str:
    return f"{value:.3g}"


@styled
def tornado_figure(
    oat_frame: pd.DataFrame,
    output: str,
    title: str,
    *,
    top: int | None = 20,
    ax: Axes | None = None,
) -> Figure:
    """A tornado chart of one-at-a-time swings (`sim.experiment.sensitivity.one_at_a_time`): for
    each
    parameter, the change in `output` from its base value when the parameter is set to the
    low (blue) and to the high (vermilion) end of its range, the others at their values;
    the largest swings on top (the `top` largest; None: all). Labels are the parameters in
    words with their ranges. Tornado diagrams: Howard (1988); one-at-a-time designs:
    Saltelli et al. (2008), ch. 1."""
    import textwrap

    from matplotlib.transforms import offset_copy

    from sim.experiment.sensitivity import OUTPUTS

    part = oat_frame[oat_frame["output"] == output]
    base = float(part["base"].iloc[0]) if len(part) else float("nan")
    low = part["at_low"].astype(float) - base
    high = part["at_high"].astype(float) - base
    size = np.fmax(low.abs(), high.abs()).fillna(-1.0)
    order = part.assign(_size=size.to_numpy()).sort_values("_size", ascending=False, kind="stable")
    shown = order if top is None else order.head(top)
    shown = shown.iloc[::-1]  # largest on top
    n = len(shown)
    fig, ax = _figure(ax, (8, 0.36 * n + 1.8))
    rows = np.arange(n)
    for values, offset, colour, label in (
        (shown["at_low"].astype(float) - base, 0.19, BLUE, "low end of its range"),
        (shown["at_high"].astype(float) - base, -0.19, VERMILLION, "high end of its range"),
    ):
        ax.barh(
            rows + offset, values.fillna(0.0), left=base, height=0.36, color=colour, label=label
        )
        for y, value in zip(rows + offset, values, strict=True):
            if np.isnan(value):
                ax.text(base, y, " undefined (no deal)", va="center", fontsize=7, color=GREY)
    ax.axvline(base, color=BLACK, linewidth=1.0, label=f"base value ({_short(base)})")
    names = [
        f"{labels.label(k)} ({_short(lo)} to {_short(hi)})"
        for k, lo, hi in zip(shown["parameter"], shown["low"], shown["high"], strict=True)
    ]
    ax.set_yticks(rows, names)
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    described = OUTPUTS.get(output, _pretty(output))
    note = f"; the {n} largest swings of {len(order)}" if n < len(order) else ""
    ax.set_xlabel(f"{described}\n(each parameter at the ends of its range, the others fixed{note})")
    below = offset_copy(ax.transAxes, fig=fig, y=-56, units="points")  # under the x label
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=below, ncol=3)
    ax.set_title(textwrap.fill(title, 70))
    return fig
