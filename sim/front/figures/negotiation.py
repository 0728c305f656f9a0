"""Figures of one negotiation: each party's utility of the text against its BATNA round
by round (`plot_trajectory`), or as bars for talks of a round or two (`plot_margins`).
Two parties' bargaining picture is `sim.front.figures.bargaining`, the contact line
`sim.front.figures.contact`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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
    END_NOTE,
    GREY,
    LIGHT_GREY,
    ROUND_LABEL,
    TITLE_SIZE,
    UTILITY_LABEL,
    _figure,
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


def offer_dots(
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
            reason=end_reason(reason, end_label),
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
            phase_note(seated),
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
            own_x, own_y, other_x, other_y = offer_dots(trace, party)
            ax.plot(other_x, other_y, mec=colour, **OTHER_OFFER_LOOK)
            ax.plot(own_x, own_y, color=colour, **OWN_OFFER_LOOK)
            ax.plot(rounds, standing[:, k], color=colour, lw=2.2)
            dots["own"] |= len(own_x) > 0
            dots["other"] |= len(other_x) > 0
        ax.plot(rounds, trace[f"reservation_{party}"], color=colour, lw=1.2, ls="--")
    reason = end_reason(reason, end_label)
    end_handles: list[Line2D] = []
    if end_round is not None:
        ax.axvline(end_round, color=BLACK, lw=1, ls=":")
        ax.annotate(end_label or f"round {end_round}", xy=(end_round, 1.0), **END_NOTE)
        last = trace[trace["round"] == end_round]
        marks = end_marks(reason) if len(last) else None
        if marks is not None:
            column, marker, label, size, mark_size = marks
            _mark_parties(ax, last, parties, colours, end_round, column, marker, mark_size)
            end_handles.append(marker_handle(marker, label, ms=size))
    ax.set_xlabel(ROUND_LABEL)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # rounds are whole
    ax.set_ylabel(UTILITY_LABEL)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(rounds.min() - 0.5 if len(rounds) else 0, rounds.max() + 0.5 if len(rounds) else 1)
    handles = [*trajectory_handles(parties, colours, offers, **dots), *end_handles]
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


def phase_note(seated: Sequence[str]) -> str:
    """The note on the phase-one span: who sits in it."""
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


def end_reason(reason: str | None, end_label: str | None) -> str | None:
    """How the talks ended: `reason`, else read from the end's label ("agreement, round 3",
    "agreed, not binding, round 9", "not_binding, round 9")."""
    if reason is not None or not end_label:
        return reason
    text = end_label.strip()
    for key, words in labels.REASONS.items():
        if text.startswith((words, key, labels.name(key))):
            return key
    return text.replace(",", " ").split()[0]


def trajectory_handles(
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


def marker_handle(marker: str, label: str, ms: float = 8, **kwargs: Any) -> Line2D:
    """A legend entry of a marker alone (white, edged in black unless `kwargs` say)."""
    style = {"color": "white", "mec": BLACK, "mew": 0.8, **kwargs}
    return Line2D([], [], marker=marker, ms=ms, ls="none", label=label, **style)
