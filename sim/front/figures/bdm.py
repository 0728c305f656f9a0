"""Bueno de Mesquita's expected-utility model on one issue
(`sim.experiment.expected_utility`): each party's position round by round with the median
voter position and the weighted mean (`plot_bdm_positions`), and one party's
expected-utility quadrant plot (`plot_bdm_quadrants`, Bueno de Mesquita 1994's figure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.core.outcomes import IssueKind
from sim.front import labels
from sim.front.figures.style import BLACK, GREY, LIGHT_GREY, OKABE_ITO, VERMILLION, _figure, styled

if TYPE_CHECKING:
    from sim.experiment.expected_utility import IssueForecast

PARTY_PALETTE = OKABE_ITO[:-1]  # black is the median voter's
PARTY_STYLES = ("-", "--", ":", "-.")  # after every colour of the palette, the next style
PARTY_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
BDM_ROUND_LABEL = "round (0: the parties' own positions)"


def _title(text: str, scenario: str | None) -> str:
    return f"{labels.name(scenario)}: {text}" if scenario else text


def _scale(forecast: IssueForecast) -> tuple[float, float]:
    positions = forecast.inputs.issue.positions
    return float(np.min(positions)), float(np.max(positions))


@styled
def plot_bdm_positions(
    forecast: IssueForecast, *, scenario: str | None = None, ax: Axes | None = None
) -> Figure:
    """Each party's position round by round in Bueno de Mesquita's model (one coloured line
    per party, named in the legend), the median voter position (thick black) and the mean
    weighted by capability x salience (dashed black), the forecast (the last median) marked
    with a star. The y axis is the issue's scale, its named levels as ticks on an ordinal
    issue; `scenario` names the figure."""
    inputs, rounds = forecast.inputs, forecast.rounds
    issue = inputs.issue
    fig, ax = _figure(ax, (9, 4.8))
    steps = np.arange(rounds.positions.shape[0])
    n = len(inputs.parties)
    for k, party in enumerate(inputs.parties):
        # markers shrink party by party: where positions coincide, each still shows
        ax.plot(
            steps,
            rounds.positions[:, k],
            color=PARTY_PALETTE[k % len(PARTY_PALETTE)],
            ls=PARTY_STYLES[k // len(PARTY_PALETTE) % len(PARTY_STYLES)],
            lw=1.4,
            marker=PARTY_MARKERS[k % len(PARTY_MARKERS)],
            ms=8.0 - 5.0 * k / max(n - 1, 1),
            mec="white",
            mew=0.4,
            label=labels.name(party),
            zorder=4,
        )
    ax.plot(steps, rounds.medians, color=BLACK, lw=3.4, label="median voter position", zorder=3)
    ax.plot(steps, rounds.means, color=BLACK, lw=1.8, ls="--", label="weighted mean", zorder=3)
    level = forecast.level
    said = f"forecast: {forecast.position:.2f}" + (
        f" ({labels.name(level)})" if level is not None else ""
    )
    ax.scatter(
        [steps[-1]],
        [forecast.position],
        s=160,
        marker="*",
        color=VERMILLION,
        edgecolors=BLACK,
        linewidths=0.7,
        zorder=6,
        label=said,
    )
    low, high = _scale(forecast)
    margin = 0.04 * ((high - low) or 1.0)
    ax.set_ylim(low - margin, high + margin)
    if issue.kind is IssueKind.ordinal:
        ax.set_yticks(issue.positions, [labels.name(x) for x in issue.levels])
        ax.set_ylabel(f"{labels.name(issue.name)} (levels at their positions, {low:g}-{high:g})")
    else:
        ax.set_ylabel(f"position on {labels.name(issue.name)} (scale {low:g}-{high:g})")
    ax.set_xlim(-0.3, steps[-1] + 0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(BDM_ROUND_LABEL)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    what = f"{labels.name(issue.name)}: positions round by round in Bueno de Mesquita's model"
    ax.set_title(labels.wrap(_title(what, scenario), 80))
    return fig


# Each region's name and where it is written (the middle of its octant, as an angle in
# degrees): from the actor's view, x its expected utility of challenging the other, y the
# other's of challenging it; a confrontation above or below y = x, a compromise or a
# capitulation on either side of y = -x (`sim.core.bdm.offers`).
REGIONS = (
    (67.5, "conflict:\n{other} ahead"),
    (22.5, "conflict:\n{actor} ahead"),
    (-22.5, "compromise:\n{other} gives ground"),
    (-67.5, "capitulation:\n{other} gives in"),
    (112.5, "compromise:\n{actor} gives ground"),
    (157.5, "capitulation:\n{actor} gives in"),
    (225.0, "status quo"),
)
REGION_SIZE, LABEL_SIZE = 8, 9  # font sizes of the regions' names and the parties'
# Where a party's label may go (offset from its point in points, left edge or right edge
# or centre at it), tried in this order until one covers nothing drawn before.
LABEL_SPOTS = [(7, 0), (-7, 0), (0, 12), (0, -12), (7, 12), (7, -12), (-7, 12), (-7, -12)]
LABEL_SPOTS += [(0, 24), (0, -24), (7, 24), (7, -24), (-7, 24), (-7, -24)]


def _label_place(
    at: tuple[float, float], width: float, taken: list[tuple[float, float, float, float]]
) -> tuple[tuple[float, float], tuple[float, float, float, float]]:
    """The first of `LABEL_SPOTS` where a label `width` points wide beside the point `at`
    (in points) overlaps none of the boxes `taken` (the last spot if every one does), and
    the box it takes."""

    def box(dx: float, dy: float) -> tuple[float, float, float, float]:
        left = at[0] + dx - (0 if dx > 0 else width if dx < 0 else width / 2)
        return (left, at[1] + dy - 5.5, left + width, at[1] + dy + 5.5)

    def free(b: tuple[float, float, float, float]) -> bool:
        return all(b[2] <= t[0] or t[2] <= b[0] or b[3] <= t[1] or t[3] <= b[1] for t in taken)

    for dx, dy in LABEL_SPOTS:
        if free(box(dx, dy)):
            return (dx, dy), box(dx, dy)
    dx, dy = LABEL_SPOTS[-1]
    return (dx, dy), box(dx, dy)


@styled
def plot_bdm_quadrants(
    forecast: IssueForecast,
    actor: str,
    round_: int = 0,
    *,
    scenario: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Bueno de Mesquita (1994)'s expected-utility plot from `actor`'s view in round
    `round_` (0: before anyone moves): for each other party j a point at x = the actor's
    expected utility of challenging j, y = j's of challenging the actor, both as the actor
    sees them (`rounds.expected[round_, a, a, j]` and `[round_, a, j, a]`). Both positive:
    conflict, the one above the diagonal y = x ahead; one positive, one negative: the loser
    compromises where the winner gains more than it loses (the side of y = -x nearer the
    winner's axis), else capitulates; both negative: the status quo."""
    parties = list(forecast.inputs.parties)
    if actor not in parties:
        raise ValueError(f"actor: got {actor!r}; allowed: one of {parties}")
    expected = forecast.rounds.expected
    if not 0 <= round_ < expected.shape[0]:
        raise ValueError(
            f"round_: got {round_}; allowed: an integer in [0, {expected.shape[0] - 1}]"
        )
    a = parties.index(actor)
    others = [j for j in range(len(parties)) if j != a]
    x = expected[round_, a, a, others]
    y = expected[round_, a, others, a]
    fig, ax = _figure(ax, (7.2, 6.8))
    reach = float(np.max(np.abs(np.concatenate([x, y]))) if others else 0.0) * 1.25 or 1.0
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_aspect("equal")
    ax.grid(False)
    ax.axhline(0.0, color=GREY, lw=1.0, zorder=1)
    ax.axvline(0.0, color=GREY, lw=1.0, zorder=1)
    line = np.array([-reach, reach])
    ax.plot(line, line, color=LIGHT_GREY, lw=1.0, zorder=1)
    ax.plot(line, -line, color=LIGHT_GREY, lw=1.0, zorder=1)
    who = {"actor": labels.name(actor), "other": "the other"}
    per_point = 2 * reach / (fig.get_figwidth() * 72 * ax.get_position().width)  # data a point
    taken = []  # what a party's label must not cover, in points: region names, points
    for angle, text in REGIONS:
        words = text.format(**who)
        at = 0.72 * reach * np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
        ax.text(*at, words, ha="center", va="center", fontsize=REGION_SIZE, color=GREY,
                style="italic", zorder=2)  # fmt: skip
        half = np.array([0.3 * REGION_SIZE * max(map(len, words.split("\n"))), REGION_SIZE])
        taken.append((*(at / per_point - half), *(at / per_point + half)))
    colours = {j: PARTY_PALETTE[j % len(PARTY_PALETTE)] for j in others}
    ax.scatter(
        x, y, s=46, c=[colours[j] for j in others], edgecolors=BLACK, linewidths=0.6, zorder=5
    )
    spots = np.column_stack([x, y]) / per_point
    taken += [(px - 4, py - 4, px + 4, py + 4) for px, py in spots]
    for j, (px, py) in zip(others, spots, strict=True):
        text = labels.name(parties[j])
        (dx, dy), box = _label_place((px, py), 0.6 * LABEL_SIZE * len(text), taken)
        taken.append(box)
        ax.annotate(
            text,
            (px * per_point, py * per_point),
            xytext=(dx, dy),
            textcoords="offset points",
            ha="left" if dx > 0 else "right" if dx < 0 else "center",
            va="center",
            fontsize=LABEL_SIZE,
            color=BLACK,
            zorder=6,
        )
    name = labels.name(actor)
    ax.set_xlabel(f"{name}'s expected utility of challenging the other (as {name} sees it)")
    ax.set_ylabel(f"the other's expected utility of challenging {name}\n(as {name} sees it)")
    issue = labels.name(forecast.inputs.issue.name)
    what = f"{issue}: expected utilities as {name} sees them, round {round_}"
    ax.set_title(labels.wrap(_title(what, scenario), 70))
    return fig
