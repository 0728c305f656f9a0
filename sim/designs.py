"""What varies between a job's replications: the uncertain parameters, their
distributions, and the full factorial design over the grid parameters."""

from __future__ import annotations

import enum
import itertools
from typing import Any


class Distribution(enum.StrEnum):
    fixed = "fixed"
    uniform = "uniform"  # value + U(-scale, scale)
    normal = "normal"  # value + N(0, scale)
    lognormal = "lognormal"  # value * exp(N(0, scale))
    grid = "grid"  # each of `levels` in turn: a full factorial over the grid parameters


# What a replication may draw, and where the drawn value goes.
UNCERTAIN_PARAMETERS = (
    "us_support",
    "europe_support",
    "russia_capacity",
    "ukraine_capacity",
    "war_costs",
    "salience",
)


def active_uncertainties(cfg: Any) -> list[str]:
    """Names of the parameters drawn per replication (distribution not `fixed`), sorted."""
    return sorted(n for n in UNCERTAIN_PARAMETERS if cfg.uncertainty[n].dist != "fixed")


def design_points(cfg: Any) -> list[dict[str, float]]:
    """The grid parameters' values for each point of a job's full factorial design, in
    order (the last parameter, by name, varying fastest); [{}] without grid parameters."""
    names = [n for n in active_uncertainties(cfg) if cfg.uncertainty[n].dist == "grid"]
    axes = [[float(v) for v in cfg.uncertainty[n].levels] for n in names]
    return [dict(zip(names, point, strict=True)) for point in itertools.product(*axes)]


def replications_per_job(cfg: Any) -> int:
    """`replications` at every point of the job's design."""
    return len(design_points(cfg)) * int(cfg.replications)
