"""Figures (matplotlib), a module per family: one style (`style`), one negotiation
(`negotiation`), its bargaining picture (`bargaining`) and contact line (`contact`), the
page's live figures (`live`), a sweep's heatmap (`heatmap`) and its deals (`deals`), which
judgement values matter (`sensitivity`), Bueno de Mesquita's expected-utility model on one
issue (`bdm`). Every function returns the `Figure` it drew on and accepts an optional `ax`
(or `axes`) to draw into an existing figure; figures read results and do no simulation;
every key or column shown is named in words with its unit (`sim.front.labels`). The package
re-exports each family's public names; the tables behind the sweep figures are
`sim.analysis.tables`."""

from __future__ import annotations

from sim.front.figures.bargaining import (
    bargaining_title,
    plot_bargaining,
)
from sim.front.figures.bdm import (
    BDM_ROUND_LABEL,
    plot_bdm_positions,
    plot_bdm_quadrants,
)
from sim.front.figures.contact import (
    plot_contact_line,
)
from sim.front.figures.deals import (
    BAR_LABELS_UP_TO,
    plot_agreed_levels,
    plot_deals_over_time,
    plot_feature_scores,
    plot_stability_checks,
    plot_stability_parts,
    plot_utility_vs_batna,
)
from sim.front.figures.heatmap import (
    HATCH,
    HEATMAP_TITLES,
    HEATMAP_WHAT,
    MAX_FACETS,
    SMALL_N,
    heatmap_title,
    sweep_heatmap,
)
from sim.front.figures.live import (
    FIRST_SPAN,
    LIVE_CONTACT_TITLE,
    LIVE_TRAJECTORY_TITLE,
    LiveBargaining,
    LiveContactLine,
    LiveFigure,
    LiveTrajectory,
    live_xlim,
)
from sim.front.figures.negotiation import (
    ALTERNATING,
    BAR_ROUNDS,
    OFFERS_TITLE,
    TRAJECTORY_TITLE,
    alternates,
    end_marks,
    end_utilities,
    plot_margins,
    plot_trajectory,
    standing_offers,
)
from sim.front.figures.sensitivity import (
    tornado_figure,
)
from sim.front.figures.style import (
    BLACK,
    BLUE,
    CHECKS,
    GREEN,
    GREY,
    LIGHT_GREY,
    OKABE_ITO,
    ORANGE,
    PART_TITLES,
    PURPLE,
    ROUND_LABEL,
    SKY,
    TERRITORY_LABEL,
    TITLE_SIZE,
    UTILITY_LABEL,
    VERMILLION,
    YELLOW,
    party_colours,
    styled,
)

__all__ = [
    "ALTERNATING",
    "BAR_LABELS_UP_TO",
    "BAR_ROUNDS",
    "BDM_ROUND_LABEL",
    "BLACK",
    "BLUE",
    "CHECKS",
    "FIRST_SPAN",
    "GREEN",
    "GREY",
    "HATCH",
    "HEATMAP_TITLES",
    "HEATMAP_WHAT",
    "LIGHT_GREY",
    "LIVE_CONTACT_TITLE",
    "LIVE_TRAJECTORY_TITLE",
    "MAX_FACETS",
    "OFFERS_TITLE",
    "OKABE_ITO",
    "ORANGE",
    "PART_TITLES",
    "PURPLE",
    "ROUND_LABEL",
    "SKY",
    "SMALL_N",
    "TERRITORY_LABEL",
    "TITLE_SIZE",
    "TRAJECTORY_TITLE",
    "UTILITY_LABEL",
    "VERMILLION",
    "YELLOW",
    "LiveBargaining",
    "LiveContactLine",
    "LiveFigure",
    "LiveTrajectory",
    "alternates",
    "bargaining_title",
    "end_marks",
    "end_utilities",
    "heatmap_title",
    "live_xlim",
    "party_colours",
    "plot_agreed_levels",
    "plot_bargaining",
    "plot_bdm_positions",
    "plot_bdm_quadrants",
    "plot_contact_line",
    "plot_deals_over_time",
    "plot_feature_scores",
    "plot_margins",
    "plot_stability_checks",
    "plot_stability_parts",
    "plot_trajectory",
    "plot_utility_vs_batna",
    "standing_offers",
    "styled",
    "sweep_heatmap",
    "tornado_figure",
]
