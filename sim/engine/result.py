"""How one negotiation ended (`NegotiationResult`): what the result rows and the stability
assessment read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.core import war
from sim.core.scenario import Anticipation, Scenario
from sim.core.settings import (
    EndReason,
    NegotiationSettings,
)


@dataclass(frozen=True, eq=False)
class NegotiationResult:
    """How one negotiation ended: what stability measures and result rows read."""

    scenario: Scenario  # the replication's, after its draws
    settings: NegotiationSettings
    war_params: war.WarParameters
    reason: EndReason
    round: int
    outcome: int | None  # the agreed outcome, binding or not
    binding: bool
    framework: int | None  # a phase-one framework, if one was agreed
    walkouts: tuple[str, ...]
    walkout_reasons: tuple[str, ...]  # a `sim.engine.agents.Walkout` per name in `walkouts`
    contact_line: float
    p_share: float
    reservations: np.ndarray  # (parties,) BATNAs in the last round
    zopa_size: int  # implementable outcomes worth its BATNA to every party still there
    months: float = 0.0  # months of talks (and war) to the end: round x months_per_round
    belief_gap_start: float = 0.0  # spread of the parties' believed p in round 1
    belief_gap_end: float = 0.0  # ... in the last round (0 under common beliefs)
    anticipation: Anticipation | None = None  # every deal on the anticipated path
    # (enforcement=self_enforcing; None otherwise)
    signed: int | None = None  # the deal signed at the table that a ratifier rejected
    rejected_by: tuple[str, ...] = ()  # the parties whose ratifiers rejected it

    @property
    def self_enforcing(self) -> bool | None:
        """No belligerent prefers renewed war within the foresight, on the path anticipated
        at the opening; None without an outcome or without self-enforcement."""
        if self.anticipation is None or self.outcome is None:
            return None
        return bool(self.anticipation.self_enforcing[self.outcome])

    @property
    def renewal_month(self) -> float | None:
        """Months after the deal until the anticipated renewed war; None where it holds
        through the foresight (or without self-enforcement)."""
        if self.anticipation is None or self.outcome is None:
            return None
        return self.anticipation.renewal_month(self.outcome)

    @property
    def agreement(self) -> bool:
        """A binding agreement."""
        return self.binding and self.outcome is not None

    @property
    def utilities(self) -> np.ndarray:
        """(parties,) each party's utility of the outcome; NaN without one."""
        if self.outcome is None:
            return np.full(len(self.scenario.parties), np.nan)
        return self.scenario.utilities[:, self.outcome]

    @property
    def signatories(self) -> np.ndarray:
        """(parties,) True for the parties that did not walk out."""
        return np.array([p not in self.walkouts for p in self.scenario.parties])

    @cached_property
    def war_batna(self) -> war.WarBatna:
        return self.scenario.war_batna(self.war_params)
