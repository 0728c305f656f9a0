"""The negotiation's settings as plain values: protocol, seating, strategies' names, what
parties know, where BATNAs come from (docs/model.md, "Negotiation").

Core layer: the engine reads these; the Hydra schema (`sim.experiment.schema`) takes its defaults
from here, so that each default is written once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sim.core.stability import DurabilityParameters, StabilityModel, Thresholds


class Protocol(enum.StrEnum):
    single_text = "single_text"
    alternating_offers = "alternating_offers"


class Seating(enum.StrEnum):
    inclusive = "inclusive"  # everyone from round 1
    phased = "phased"  # `phase_one_parties` first, the others after `phase_one_rounds`


class Bargaining(enum.StrEnum):
    """What drives a deal (docs/model.md, "Bargaining while fighting")."""

    fighting = "fighting"  # private beliefs about the war, learned month by month; every
    # party accepts what beats its believed value of fighting on (`war_value` tactic)
    calendar = "calendar"  # the true balance known to all; each party's own tactic,
    # time-dependent ones conceding toward their deadline


class WarStakes(enum.StrEnum):
    """What a war that goes on decides (docs/model.md, "War and BATNA")."""

    territory = "territory"  # the line only; the other issues stay at their status quo
    all = "all"  # also the other issues: the aggressor's terms with probability p (Fearon)


class WarLottery(enum.StrEnum):
    """With `WarStakes.all`, which level of each other issue the war's winner gets
    (docs/model.md, "What a war can impose")."""

    ideals = "ideals"  # its ideal level, whoever else must sign it (the default)
    imposable = "imposable"  # its best level among those no third party that must sign
    # them red-lines (Fearon 1995's lottery over what the winner could impose)


class Enforcement(enum.StrEnum):
    """What makes a deal hold (docs/model.md, "Self-enforcing settlements")."""

    assumed = "assumed"  # a signed deal is enforced as written; the balance is fixed
    # during the talks (the default, kept to compare with)
    self_enforcing = "self_enforcing"  # the balance drifts during the talks and after a
    # deal; each deal is valued on the path the parties anticipate (peace until a side
    # prefers renewed war, then war), and the mediator drafts only self-enforcing deals


class Staying(enum.StrEnum):
    """When a party with nothing it believes it can get leaves the talks (docs/model.md,
    "Talks that go on")."""

    patience = "patience"  # after `walkout_patience` rounds running (the default)
    hopeful = "hopeful"  # only once it believes no deal can come before its deadline: it
    # stays, fighting, while it expects a zone to open (its beliefs, the line, the drift)


class Side(enum.StrEnum):
    """The side of the war a supporter backs (docs/model.md, "War and BATNA")."""

    aggressor = "aggressor"
    defender = "defender"


class StrategyName(enum.StrEnum):
    boulware = "boulware"
    linear = "linear"
    conceder = "conceder"
    reciprocal = "reciprocal"
    hardliner = "hardliner"
    war_value = "war_value"


class Information(enum.StrEnum):
    complete = "complete"
    learned = "learned"


class EndReason(enum.StrEnum):
    """How talks end: the one list every output reads (the rows' `reason`)."""

    agreement = "agreement"
    breakdown = "breakdown"
    deadline = "deadline"
    not_binding = "not_binding"
    horizon = "horizon"  # bargaining=fighting: no deal within the simulation's horizon
    ratification_failed = "ratification_failed"  # signed, then rejected by a ratifier

    @property
    def has_terms(self) -> bool:
        """The talks ended on terms every seated party accepted (binding or not)."""
        return self in (EndReason.agreement, EndReason.not_binding)


class BatnaMode(enum.StrEnum):
    war = "war"
    static = "static"


def seating(name: str, aliases: Any) -> Seating:
    """The seating `name` stands for: a `Seating`, or a scenario's name for one
    (`seating_aliases`, e.g. a phased seating named after who sits first)."""
    return Seating(aliases.get(name, name))


@dataclass(frozen=True)
class NegotiationSettings:
    """Protocol, seating and war settings shared by the replications of a negotiation."""

    protocol: Protocol = Protocol.single_text
    seating: Seating = Seating.inclusive
    mediator: str | None = None  # a party; scenarios name it
    phase_one_parties: tuple[str, ...] = ()
    phase_one_rounds: int = 10
    max_rounds: int = 100
    information: Information = Information.complete
    batna: BatnaMode = BatnaMode.war
    walkout_patience: int = 3  # rounds a party waits with its BATNA above all it can get
    staying: Staying = Staying.patience  # and then leaves, or stays while it has hope
    text_step: float = 0.5  # share of the way the mediator moves the text toward objectors
    framework_commitment: float = 0.5  # share of its framework surplus a phase-one party keeps
    bargaining: Bargaining = Bargaining.calendar
    enforcement: Enforcement = Enforcement.assumed
    foresight_months: int = 36  # J: months after a deal the parties look ahead
    mediator_bias: float = 1.0  # weight of the non-belligerents' interests in the mediator's
    # text, and its stake in issues it controls no level of (1: every party weighs alike)
    collect_trace: bool = True

    @property
    def fighting(self) -> bool:
        """Private beliefs and the `war_value` tactic for every party?"""
        return self.bargaining is Bargaining.fighting

    @property
    def phased(self) -> bool:
        """Do some parties sit alone in a first phase?"""
        return self.seating is Seating.phased and self.phase_one_rounds > 0


@dataclass(frozen=True)
class StabilitySettings:
    """How a deal's stability is measured (docs/model.md, "Stability"): the model, the
    spreads of the robustness draws, the durability check's shocks and what `stable`
    requires. The Hydra schema (`sim.experiment.schema.StabilityConf`) takes its defaults
    from here and from `DurabilityParameters` and `Thresholds`."""

    model: StabilityModel = StabilityModel.mechanisms
    robustness_draws: int = 64
    salience_spread: float = 0.1  # sd of log-normal factors on saliences
    reservation_spread: float = 0.05  # linear: sd of normal noise on reservation values
    capability_spread: float = 0.1  # sd of log-normal factors on capacities and capabilities
    support_spread: float = 0.1  # mechanisms: sd of normal noise on each support level
    cost_spread: float = 0.3  # mechanisms: sd of log-normal factors on each party's war cost
    belief_spread: float = 0.05  # mechanisms: sd of normal noise on each party's optimism
    durability: DurabilityParameters = field(default_factory=DurabilityParameters)
    guarantees_issue: str | None = None  # linear: the issue whose positions are guarantees
    thresholds: Thresholds = field(default_factory=Thresholds)
