"""Which judgement values matter (`sim.experiment.sensitivity`): the tornado chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.front import labels
from sim.front.figures.style import BLACK, BLUE, GREY, VERMILLION, _figure, _pretty, styled

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
