"""The page's live figures: drawn once, then updated round by round (`LiveTrajectory`,
`LiveBargaining`, `LiveContactLine`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.front import labels
from sim.front.figures.bargaining import (
    NO_AGREEMENT_LOOK,
    POINT_LOOKS,
    RING_LOOK,
    TRAIL_LOOK,
    ZOPA_LOOK,
    bargaining_handles,
    bargaining_title,
    batna_marks,
    mark_point,
    outcome_cloud,
)
from sim.front.figures.contact import (
    AGREED_TERRITORY_LOOK,
    CONTACT_LINE_LOOK,
    TEXT_TERRITORY_LOOK,
    territory_scale,
)
from sim.front.figures.negotiation import (
    ALTERNATING,
    OFFERS_TITLE,
    OTHER_OFFER_LOOK,
    OWN_OFFER_LOOK,
    end_marks,
    end_reason,
    marker_handle,
    offer_dots,
    phase_note,
    standing_offers,
    trajectory_handles,
)
from sim.front.figures.style import (
    BLACK,
    END_NOTE,
    GREY,
    LIGHT_GREY,
    ROUND_LABEL,
    STYLE,
    TITLE_SIZE,
    UTILITY_LABEL,
    party_colours,
)

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
            handles = trajectory_handles(parties, colours, self.offers)
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
                own_x, own_y, other_x, other_y = offer_dots(trace, party)
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
            self.phase_note.set_text(phase_note(seated))
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
        reason = end_reason(reason, end_label)
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
            handles.append(marker_handle(marker, label, ms=size))
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
            frontier = outcome_cloud(ax, x, y, feasible=self.feasible)
            animate = self.animate
            if frontier is not None:  # drawn over the ZOPA, which moves
                animate(frontier)
            self.area, self.batna_x, self.batna_y, self.note_x, self.note_y = (
                animate(artist) for artist in batna_marks(ax, pair, (0.0, 0.0), colours)
            )
            self.zopa = animate(ax.scatter([], [], **ZOPA_LOOK))
            self.trail = animate(ax.plot([], [], **TRAIL_LOOK)[0])
            self.points = {
                label: tuple(animate(artist) for artist in mark_point(ax, label, (0, 0), *look))
                for label, look in POINT_LOOKS.items()
            }
            self.ring = animate(
                ax.plot([], [], **RING_LOOK, label="text on the table (ringed: this round)")[0]
            )
            self.no_agreement = animate(
                ax.text(0.98, 0.02, "no agreement", transform=ax.transAxes, **NO_AGREEMENT_LOOK)
            )
            handles = [
                *bargaining_handles(a, b),
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
            territory_scale(ax, anchors)
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
