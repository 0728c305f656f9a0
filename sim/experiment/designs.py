"""What varies between a job's replications: the uncertain parameters, their
distributions, and the full factorial design over the grid parameters.

A parameter is named by the config key it varies (`war.support.<party>`,
`war.capacity.<party>`, `parties.<party>.war_cost`, `parties.<party>.capability`) or is
one of the all-party multipliers (`war_costs`, `salience`); its spread sits under the
same key in `uncertainty`.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Distribution(enum.StrEnum):
    fixed = "fixed"
    uniform = "uniform"  # value + U(-scale, scale)
    normal = "normal"  # value + N(0, scale)
    lognormal = "lognormal"  # value * exp(N(0, scale))
    grid = "grid"  # each of `levels` in turn: a full factorial over the grid parameters


# Per-party parameters: kind -> (its block under `uncertainty`, the range of its values).
PARTY_KINDS = {
    "capacity": ("war.capacity", (0.0, math.inf)),
    "support": ("war.support", (0.0, 1.0)),
    "capability": ("parties", (0.0, math.inf)),
    "war_cost": ("parties", (0.0, math.inf)),
}
# All-party multipliers around 1; salience has no grid.
MULTIPLIERS = ("salience", "war_costs")
SPREAD_DEFAULTS = {"dist": "fixed", "scale": 0.0, "levels": ()}


@dataclass(frozen=True)
class Uncertain:
    """One parameter a replication may draw: the config key it varies, whose it is, and
    its spread."""

    key: str  # e.g. war.support.<party>; a multiplier's own name
    kind: str  # a key of PARTY_KINDS, or a multiplier
    party: str | None
    dist: Distribution
    scale: float
    levels: tuple[float, ...]
    base: float = 1.0  # the configured value it is drawn around (`compiler.base_value`)

    @property
    def bounds(self) -> tuple[float, float]:
        """Where its values may lie: support levels are shares, the rest magnitudes."""
        return PARTY_KINDS[self.kind][1] if self.party is not None else (0.0, math.inf)

    @property
    def uncertainty_key(self) -> str:
        return f"uncertainty.{self.key}"


def spread(node: Any) -> dict[str, Any]:
    """A spread node's `dist`, `scale` and `levels`, the ones not given at their defaults."""
    given = dict(node) if isinstance(node, Mapping) else {}
    return {name: given.get(name, default) for name, default in SPREAD_DEFAULTS.items()}


def _declared(cfg: Any) -> list[tuple[str, str, str | None, Any]]:
    """(key, kind, party, spread node) for every parameter `uncertainty` names."""
    unc = cfg.uncertainty
    out = []
    for kind in ("capacity", "support"):
        for party, node in (unc.war.get(kind) or {}).items():
            out.append((f"war.{kind}.{party}", kind, party, node))
    for party, block in (unc.get("parties") or {}).items():
        for kind, node in (block or {}).items():
            out.append((f"parties.{party}.{kind}", str(kind), party, node))
    for name in MULTIPLIERS:
        out.append((name, name, None, unc[name]))
    return out


def uncertain_parameters(cfg: Any) -> list[Uncertain]:
    """Every parameter `uncertainty` names, drawn or not: the per-party ones by party
    name, then kind, then the multipliers (the order of their draws)."""
    params = []
    for key, kind, party, node in _declared(cfg):
        s = spread(node)
        levels = tuple(float(v) for v in s["levels"] or ())
        params.append(
            Uncertain(key, kind, party, Distribution(s["dist"]), float(s["scale"]), levels)
        )
    return sorted(params, key=lambda u: (u.party is None, u.party or "", u.kind))


def active_uncertainties(cfg: Any) -> list[Uncertain]:
    """The parameters drawn per replication (distribution not `fixed`), in draw order."""
    return [u for u in uncertain_parameters(cfg) if u.dist is not Distribution.fixed]


def design_points(cfg: Any) -> list[dict[str, float]]:
    """The grid parameters' values for each point of a job's full factorial design, in
    order (the last parameter in draw order varying fastest); [{}] without grid
    parameters."""
    grid = [u for u in active_uncertainties(cfg) if u.dist is Distribution.grid]
    axes = [u.levels for u in grid]
    return [
        dict(zip([u.key for u in grid], point, strict=True)) for point in itertools.product(*axes)
    ]


AUTO = "auto"  # `replications=auto`: as many as the stable share's interval needs


def is_auto(cfg: Any) -> bool:
    """Does the job add replications until its intervals are narrow enough?"""
    return str(cfg.replications) == AUTO


def repeats_per_point(cfg: Any) -> int:
    """Replications at each design point: `replications`, or at most `max_replications`
    under `replications=auto`."""
    return int(cfg.max_replications) if is_auto(cfg) else int(cfg.replications)


def replications_per_job(cfg: Any) -> int:
    """`replications` at every point of the job's design (under `auto`, the most it may
    run)."""
    return len(design_points(cfg)) * repeats_per_point(cfg)


@dataclass(frozen=True)
class AutoStop:
    """`replications=auto`: blocks of `block` replications at each design point until its
    stable share's 95% interval is at most `width` wide or `cap` ran there."""

    cap: int
    block: int
    width: float


@dataclass(frozen=True)
class Design:
    """A compiled job's replications (`sim.experiment.compiler.design_of`): the parameters
    each draws, in draw order; the grid's points; the replications at each point (under
    `auto`, the most that may run); `auto` when replications are added until intervals are
    narrow; `replication` when only that one runs."""

    uncertainties: tuple[Uncertain, ...] = ()
    points: tuple[dict[str, float], ...] = ({},)
    repeats: int = 1
    auto: AutoStop | None = None
    replication: int | None = None

    @property
    def size(self) -> int:
        """Replications at every point (under `auto`, the most that may run)."""
        return len(self.points) * self.repeats

    def point_of(self, replication: int) -> dict[str, float]:
        """Replication `replication`'s design point."""
        return self.points[replication // self.repeats]
