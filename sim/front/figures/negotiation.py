"""Figures of one negotiation: each party's utility of the text against its BATNA round
by round (`plot_trajectory`), two parties' bargaining picture (`plot_bargaining`: the
Pareto frontier, the ZOPA, the BATNAs, the Nash (1950), Kalai-Smorodinsky (1975) and
negotiated points) and the contact line (`plot_contact_line`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from sim.core.settings import EndReason
from sim.front import labels
from sim.front.figures.style import (
    BLACK,
    BLUE,
    END_NOTE,
    GREY,
    LIGHT_GREY,
    ORANGE,
    ROUND_LABEL,
    SKY,
    TERRITORY_LABEL,
    TITLE_SIZE,
    UTILITY_LABEL,
    VERMILLION,
    YELLOW,
    _figure,
    _pretty,
    party_colours,
    styled,
)


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
    bars: bool | None = None,
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
    bars : draw each party's utility of the deal (or of the last text) against its BATNA
        as bars instead of the lines (`plot_margins`); by default when the talks lasted
        at most `BAR_ROUNDS` rounds, where lines of one or two points show little.
    """
    offers = alternates(trace, protocol)
    if bars is None:
        bars = 0 < trace["round"].nunique() <= BAR_ROUNDS
    if bars:
        return plot_margins(
            trace,
            parties,
            end_round,
            end_label,
            ax,
            reason=_end_reason(reason, end_label),
            title=OFFERS_TITLE if offers and title == TRAJECTORY_TITLE else title,
            legend=legend,
            offers=offers,
        )
    fig, ax = _figure(ax, (9, 4.6))
    colours = party_colours(parties)
    rounds = trace["round"].to_numpy()
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
    dots = {"own": False, "other": False}  # which kinds of offer dots were drawn
    for k, party in enumerate(parties):
        colour = colours[party]
        if standing is None:
            ax.plot(rounds, trace[f"u_{party}"], color=colour, lw=2)
        else:
            own_x, own_y, other_x, other_y = _offer_dots(trace, party)
            ax.plot(other_x, other_y, mec=colour, **OTHER_OFFER_LOOK)
            ax.plot(own_x, own_y, color=colour, **OWN_OFFER_LOOK)
            ax.plot(rounds, standing[:, k], color=colour, lw=2.2)
            dots["own"] |= len(own_x) > 0
            dots["other"] |= len(other_x) > 0
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
    handles = [*_trajectory_handles(parties, colours, offers, **dots), *end_handles]
    if legend:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if title:
        if offers and title == TRAJECTORY_TITLE:
            title = OFFERS_TITLE
        ax.set_title(title, fontsize=TITLE_SIZE if "\n" in title else None)
    return fig


BAR_ROUNDS = 2
"""Talks of at most this many rounds are drawn as bars (`plot_margins`), not lines."""
MARGIN_HATCH = "////"
BAR_LOOK: dict[str, Any] = {"height": 0.62, "edgecolor": BLACK, "lw": 0.6, "zorder": 2}
BATNA_TICK_LOOK: dict[str, Any] = {"color": BLACK, "lw": 1.8, "ls": "--", "zorder": 4}
MARGIN_LOOK: dict[str, Any] = {
    "fill": False,
    "hatch": MARGIN_HATCH,
    "edgecolor": BLACK,
    "lw": 0,
    "zorder": 3,
}


@styled
def plot_margins(
    trace: pd.DataFrame,
    parties: Sequence[str],
    end_round: int | None = None,
    end_label: str | None = None,
    ax: Axes | None = None,
    *,
    reason: str | None = None,
    title: str | None = TRAJECTORY_TITLE,
    legend: bool = True,
    offers: bool = False,
) -> Figure:
    """Each party's utility of the deal (of the last text or offer without one) as a bar,
    its BATNA as a dashed tick across it and the margin between the two hatched, its
    value under the party's name (`plot_trajectory` of talks of one or two rounds).

    Parameters
    ----------
    trace : the model's per-round table (`plot_trajectory`'s).
    end_round, end_label : the round the talks ended (its text is drawn; by default the
        last), and what to call the end (the legend's title).
    reason : how they ended (`EndReason`): with terms, the bars are "the deal".
    offers : alternating offers ("the last offer" without a deal).
    """
    fig, ax = _figure(ax, (9, 1.6 + 0.55 * max(len(parties), 2)))
    colours = party_colours(parties)
    u, d = end_utilities(trace, parties, end_round)
    found = labels.ending(reason)
    if found is not None and found.has_terms:
        what = "utility of the deal"
    else:
        what = "utility of the last offer" if offers else "utility of the last text"
    y = np.arange(len(parties))
    drawn = np.isfinite(u)
    ax.barh(y[drawn], u[drawn], color=[colours[p] for p in np.asarray(parties)[drawn]], **BAR_LOOK)
    half = BAR_LOOK["height"] / 2
    margins = u - d
    shown = drawn & np.isfinite(d) & (np.abs(margins) > 0)
    for k in np.flatnonzero(shown):
        low = min(u[k], d[k])
        ax.add_patch(Rectangle((low, y[k] - half), abs(margins[k]), 2 * half, **MARGIN_LOOK))
    batnas = np.isfinite(d)
    for k in np.flatnonzero(batnas):
        ax.plot([d[k], d[k]], [y[k] - half - 0.08, y[k] + half + 0.08], **BATNA_TICK_LOOK)
    ticks = [
        f"{labels.name(p)}\nmargin {m:+.2f}" if np.isfinite(m) else f"{labels.name(p)}\nno text"
        for p, m in zip(parties, margins, strict=True)
    ]
    ax.set_yticks(y, ticks)
    ax.set_ylim(len(parties) - 0.5, -0.5)  # the first party on top
    values = np.concatenate([u[drawn], d[batnas]])  # a BATNA may lie below 0 (war is worse)
    ax.set_xlim(min(0.0, values.min(initial=0) - 0.03), max(1.02, values.max(initial=1) + 0.03))
    ax.set_xlabel(UTILITY_LABEL)
    ax.grid(axis="y", visible=False)
    handles: list[Any] = []
    if drawn.any():
        handles.append(Patch(facecolor=GREY, edgecolor=BLACK, lw=0.6, label=what))
    if batnas.any():
        handles.append(Line2D([], [], **BATNA_TICK_LOOK, label="BATNA (value of war)"))
    if shown.any():
        handles.append(Patch(**MARGIN_LOOK, label="margin (utility minus BATNA)"))
    if legend and handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0,
            title=end_label,
            alignment="left",
        )
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE if "\n" in title else None)
    return fig


def end_utilities(
    trace: pd.DataFrame, parties: Sequence[str], end_round: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(utilities, BATNAs), one per party, at the end: each party's utility of the text on
    the table in the last round up to `end_round` that has one (NaN without any), and its
    BATNA in that last round."""
    rows = trace if end_round is None else trace[trace["round"] <= end_round]
    if not len(rows):
        rows = trace
    U = rows[[f"u_{p}" for p in parties]].to_numpy(dtype=float)
    D = rows[[f"reservation_{p}" for p in parties]].to_numpy(dtype=float)
    nan = np.full(len(parties), np.nan)
    if not len(U):
        return nan, nan
    texts = np.flatnonzero(np.isfinite(U).all(axis=1))
    return (U[texts[-1]] if len(texts) else nan), D[-1]


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
    parties: Sequence[str],
    colours: Mapping[str, str],
    offers: bool = False,
    own: bool = True,
    other: bool = True,
) -> list[Line2D]:
    """The trajectory's legend: one colour per party, then the line styles (and, under
    alternating offers, the dots: `own`, `other`, those of the kinds drawn)."""
    lines = [Line2D([], [], color=GREY, lw=2, label="utility of the text")]
    if offers:
        lines = [Line2D([], [], color=GREY, lw=2, label="mean of standing offers")]
        if own:
            lines.append(Line2D([], [], color=GREY, label="its own offer", **OWN_OFFER_LOOK))
        if other:
            lines.append(
                Line2D([], [], mec=GREY, label="another party's offer", **OTHER_OFFER_LOOK)
            )
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
