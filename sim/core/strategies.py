"""Negotiation strategies: how a party's aspiration moves from its best toward its BATNA.

Each strategy is a class that says what it is (a `name` and a `classifier`, as in
Axelrod's strategies) and maps the round, the party's best and reservation utilities and
the others' last concessions to an aspiration level. Offers and acceptance use the
aspiration (see `sim.engine.agents`).

Time-dependent tactics follow Faratin, Sierra & Jennings (1998):
``a(t) = r + (b - r) * (1 - (t / T) ** (1 / e))``, with Boulware ``e < 1`` (concede
late), linear ``e = 1`` and conceder ``e > 1`` (concede early). The reciprocal tactic is
their relative tit-for-tat on concessions; the hard-liner never concedes and walks out at
its deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from sim.core.settings import StrategyName


@dataclass(slots=True)
class AspirationInput:
    """What a strategy sees in a round; the floats may be arrays over replications."""

    round: int  # 1-based
    deadline: int
    best: float  # the party's best utility among outcomes it can accept
    reservation: float  # its current BATNA
    previous: float  # its aspiration last round (best before round 1)
    others_concession: float  # mean drop of the others' aspirations last round, own scale


class Strategy:
    """Base class: a strategy declares its name and properties and sets aspirations."""

    name: ClassVar[StrategyName]
    classifier: ClassVar[dict[str, object]]
    default_exponent: ClassVar[float] = 1.0

    def __init__(self, exponent: float | None = None) -> None:
        self.exponent = self.default_exponent if exponent is None else float(exponent)
        if not self.exponent > 0:
            raise ValueError(f"concession exponent must be > 0, got {self.exponent}")

    def aspiration(self, x: AspirationInput) -> float:
        raise NotImplementedError

    def walks_out_at_deadline(self) -> bool:
        return bool(self.classifier["walks_out_at_deadline"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(exponent={self.exponent})"


def share_left(round_: int, deadline: int, exponent: float) -> float:
    """Faratin et al.'s ``1 - (t / T) ** (1 / e)``: the share of the way from the BATNA
    to the best that a time-dependent party still asks for in round `round_`."""
    progress = min(max(round_, 0) / max(deadline, 1), 1.0)
    return 1.0 - progress ** (1.0 / exponent)


def between(reservation: float, best: float, share: float) -> float:
    """The aspiration `share` of the way from `reservation` up to `best` (arrays too)."""
    return reservation + (best - reservation) * share


def time_dependent(x: AspirationInput, exponent: float) -> float:
    """Faratin et al. (1998) polynomial tactic; reaches the reservation at the deadline."""
    return between(x.reservation, x.best, share_left(x.round, x.deadline, exponent))


class Boulware(Strategy):
    name = StrategyName.boulware
    classifier: ClassVar[dict[str, object]] = {
        "time_dependent": True,
        "reactive": False,
        "concedes": True,
        "walks_out_at_deadline": False,
        "proposes_believed_nash": False,
    }
    default_exponent = 0.2

    def aspiration(self, x: AspirationInput) -> float:
        return time_dependent(x, self.exponent)


class Linear(Boulware):
    name = StrategyName.linear
    default_exponent = 1.0


class Conceder(Boulware):
    name = StrategyName.conceder
    default_exponent = 5.0


class Reciprocal(Strategy):
    """Concedes as much as the others conceded last round (relative tit-for-tat).

    Opens with one linear step so that two reciprocators do not wait on each other.
    """

    name = StrategyName.reciprocal
    classifier: ClassVar[dict[str, object]] = {
        "time_dependent": False,
        "reactive": True,
        "concedes": True,
        "walks_out_at_deadline": False,
        "proposes_believed_nash": False,
    }

    def aspiration(self, x: AspirationInput) -> float:
        if x.round <= 1:
            step = (x.best - x.reservation) / max(x.deadline, 1)
        else:
            step = self.exponent * np.maximum(x.others_concession, 0.0)
        return np.maximum(np.minimum(x.previous - step, x.best), x.reservation)


class HardLiner(Strategy):
    """Fixed demands: aspires to its best throughout; walks out at its deadline."""

    name = StrategyName.hardliner
    classifier: ClassVar[dict[str, object]] = {
        "time_dependent": False,
        "reactive": False,
        "concedes": False,
        "walks_out_at_deadline": True,
        "proposes_believed_nash": False,
    }

    def aspiration(self, x: AspirationInput) -> float:
        return np.maximum(x.best, x.reservation)


class WarValue(Strategy):
    """Accepts any deal worth at least its believed value of fighting on (its BATNA from its
    own beliefs, delay costs included) and proposes the Nash bargaining solution of the
    zone of agreement it believes in (`sim.engine.agents.PartyAgent.propose`). No clock: it
    concedes only as its beliefs about the war, and so its BATNA, move (Fearon 1995;
    Powell 2004). Walks out at its own deadline, if it has one."""

    name = StrategyName.war_value
    classifier: ClassVar[dict[str, object]] = {
        "time_dependent": False,
        "reactive": False,
        "concedes": False,
        "walks_out_at_deadline": True,
        "proposes_believed_nash": True,
    }

    def aspiration(self, x: AspirationInput) -> float:
        return x.reservation


STRATEGIES: dict[StrategyName, type[Strategy]] = {
    cls.name: cls for cls in (Boulware, Linear, Conceder, Reciprocal, HardLiner, WarValue)
}


def make_strategy(name: StrategyName | str, exponent: float | None = None) -> Strategy:
    """A strategy by name; unknown names raise ValueError listing the allowed ones."""
    try:
        key = StrategyName(name)
    except ValueError:
        allowed = [s.value for s in StrategyName]
        raise ValueError(f"strategy: got {name!r}; allowed: one of {allowed}") from None
    return STRATEGIES[key](exponent)


def strategies_where(**properties: object) -> list[type[Strategy]]:
    """Strategy classes whose classifier matches every given property (Axelrod's filter)."""
    return [
        cls
        for cls in STRATEGIES.values()
        if all(cls.classifier.get(k) == v for k, v in properties.items())
    ]
