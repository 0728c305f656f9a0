"""The contact line of one negotiation (`plot_contact_line`): the line per round on the
territory scale with its named anchors (`territory_scale`, which the page's live figure
shares), the territory in the text on the table and an agreed territory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.front.figures.style import (
    BLACK,
    BLUE,
    GREY,
    ORANGE,
    ROUND_LABEL,
    TERRITORY_LABEL,
    _figure,
    _pretty,
    styled,
)


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
    territory_scale(ax, anchors)
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


def territory_scale(ax: Axes, anchors: Mapping[str, float] | None) -> None:
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
