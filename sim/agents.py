"""Mesa agents: one per party, holding its state; the maths lives in pure functions."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.config import Seating
from sim.strategies import AspirationInput, Strategy, make_strategy

if TYPE_CHECKING:
    from sim.model import NegotiationModel
    from sim.scenario import Scenario

# Utilities are sums of a few floats: compare with a little slack so that an outcome worth
# exactly the aspiration is not refused because of rounding.
TOLERANCE = 1e-9


class Response(enum.StrEnum):
    accept = "accept"
    object = "object"


class Walkout(enum.StrEnum):
    batna = "batna"  # its BATNA beat all it could still get, `walkout_patience` rounds running
    deadline = "deadline"  # a hard-liner at its deadline


def accepts(utility: float, aspiration: float, reservation: float, crosses_red_line: bool) -> bool:
    """Acceptance rule: at least the aspiration, never below the BATNA or across a red line."""
    return (
        not crosses_red_line
        and utility >= aspiration - TOLERANCE
        and utility >= reservation - TOLERANCE
    )


class Party(mesa.Agent):
    """What every party agent holds: its name, index, strategy, leverage, deadline and the
    phase in which it takes its seat."""

    def __init__(
        self,
        model: mesa.Model,
        name: str,
        index: int,
        strategy: Strategy,
        capability: float,
        deadline: int,
        joins_in_phase: int = 1,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.index = index
        self.strategy = strategy
        self.capability = capability
        self.deadline = deadline
        self.joins_in_phase = joins_in_phase


def seat_parties[P: Party](
    model: mesa.Model, scenario: Scenario, settings: Any, kind: type[P]
) -> list[P]:
    """Create one `kind` agent per party of `scenario` in `model`, by index: strategies and
    deadlines from the scenario, seats from `settings` (phase-one parties first under
    `us_russia_first`). Unknown mediator or phase-one names raise KeyError."""
    s = settings
    for name in (s.mediator, *s.phase_one_parties):
        scenario.party_index(name)  # raises KeyError naming the allowed parties
    phased = s.seating is Seating.us_russia_first and s.phase_one_rounds > 0
    for i, name in enumerate(scenario.parties):
        strategy, exponent, deadline = scenario.party_settings[i]
        kind(
            model,
            name=name,
            index=i,
            strategy=make_strategy(strategy, exponent),
            capability=float(scenario.capabilities[i]),
            deadline=deadline or s.max_rounds,
            joins_in_phase=2 if phased and name not in s.phase_one_parties else 1,
        )
    return sorted(model.agents, key=lambda a: a.index)


class PartyAgent(Party):
    """A party at (or waiting for) the table.

    Holds its utility row, capability, strategy, seat (the phase it joins in), and its
    current aspiration and reservation value; the model calls it in turn order.
    """

    def __init__(self, model: NegotiationModel, *args: Any, **kwargs: Any) -> None:
        super().__init__(model, *args, **kwargs)  # Party's fields
        self.utility = model.utilities[self.index]
        self.own_red_line = model.red_line_crossed[self.index]
        self.best = float(np.max(self.utility, where=~self.own_red_line, initial=-np.inf))
        self.reservation = 0.0
        self.aspiration = self.best
        self.previous_aspiration = self.best
        self.walked_out = False
        self.framework_floor = -np.inf  # what it keeps of a phase-one framework it agreed
        self.frustrated_rounds = 0
        self.last_response: Response | None = None

    # -- state ----------------------------------------------------------------------------
    @property
    def seated(self) -> bool:
        return not self.walked_out and self.model.phase >= self.joins_in_phase

    def update_aspiration(self) -> None:
        """Set this round's BATNA and aspiration: never below the BATNA, nor below the
        share `framework_commitment` of its surplus in a phase-one framework it agreed
        (the authors of a framework defend it: commitment, Schelling 1960)."""
        model = self.model
        self.reservation = float(model.reservations[self.index])
        self.previous_aspiration = self.aspiration
        floor = max(self.reservation, self.framework_floor)
        x = AspirationInput(
            round=model.round,
            deadline=self.deadline,
            best=max(self.best, floor),
            reservation=floor,
            previous=self.aspiration,
            others_concession=model.last_concession(self.index),
        )
        self.aspiration = max(self.strategy.aspiration(x), floor)

    def consider_walkout(self, best_available: float) -> Walkout | None:
        """Walk out when the BATNA beats all it can still get for `patience` rounds in a
        row, or, for a hard-liner, at its deadline; returns why, or None to stay."""
        if self.strategy.walks_out_at_deadline() and self.model.round >= self.deadline:
            self.walked_out = True
            return Walkout.deadline
        if best_available < self.reservation - TOLERANCE:
            self.frustrated_rounds += 1
        else:
            self.frustrated_rounds = 0
        if self.frustrated_rounds >= self.model.walkout_patience:
            self.walked_out = True
            return Walkout.batna
        return None

    # -- moves ----------------------------------------------------------------------------
    def propose(self) -> int | None:
        """Among outcomes at or above the aspiration, the one the others value most.

        Ties go to the proposer's own utility, then the lowest index: the candidates are a
        prefix of its outcomes sorted best first, so the first maximum is the one.
        """
        model = self.model
        order, utility = model.problem.preference_order[self.index]
        count = int(np.searchsorted(-utility, -(self.aspiration - TOLERANCE), side="right"))
        candidates = order[:count]
        value = model.others_value(self.index, count)
        if not model.all_implementable:
            keep = model.implementable[candidates]
            candidates, value = candidates[keep], value[keep]
        if candidates.size == 0:  # its BATNA rose above all it can get: ask for its best
            reachable = order[model.implementable[order]]
            return int(reachable[0]) if reachable.size else None
        return int(candidates[int(np.argmax(value))])

    def respond(self, outcome: int) -> Response:
        ok = accepts(
            float(self.utility[outcome]),
            self.aspiration,
            self.reservation,
            bool(self.own_red_line[outcome]),
        )
        self.last_response = Response.accept if ok else Response.object
        return self.last_response
