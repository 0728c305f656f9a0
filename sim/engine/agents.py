"""Mesa agents: one per party, the party's column of the model's (replications, parties)
state. An agent holds what does not change during a negotiation (name, strategy, leverage,
deadline, seat) and makes the party's offers for many replications at once; the model
holds the state and the turn order (docs/model.md, "Negotiation")."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.core.preferences import TOLERANCE
from sim.core.settings import StrategyName
from sim.core.solutions import within_batna
from sim.core.strategies import Strategy, make_strategy

if TYPE_CHECKING:
    from sim.core.scenario import Scenario
    from sim.core.settings import NegotiationSettings
    from sim.engine.model import NegotiationBatch


class Response(enum.StrEnum):
    accept = "accept"
    object = "object"


class Walkout(enum.StrEnum):
    batna = "batna"  # its BATNA beat all it could get, `walkout_patience` rounds running
    deadline = "deadline"  # a hard-liner at its deadline


def accepts(
    utility: float | np.ndarray,
    aspiration: float | np.ndarray,
    reservation: float | np.ndarray,
    crosses_red_line: bool | np.ndarray,
    delay_cost: float | np.ndarray = 0.0,
) -> bool | np.ndarray:
    """Acceptance rule: at least the aspiration less what a round's delay would cost (the
    responder's condition of Rubinstein 1982 with fixed costs; docs/model.md, "Delay
    costs"), never below the BATNA or across a red line (elementwise over arrays)."""
    return (
        ~np.asarray(crosses_red_line)
        & (utility >= aspiration - delay_cost - TOLERANCE)
        & (utility >= reservation - TOLERANCE)
    )


class PartyAgent(mesa.Agent):
    """A party at (or waiting for) the table, in every replication of the model.

    Its state is column `index` of the model's (replications, parties) arrays, which the
    model updates for all parties together; the properties read replication 0, the
    negotiation of a batch of one (`sim.engine.single.NegotiationModel`).
    """

    model: NegotiationBatch

    def __init__(
        self,
        model: NegotiationBatch,
        name: str,
        index: int,
        strategy: Strategy,
        capability: float,
        deadline: int,
        joins_in_phase: int = 1,
    ) -> None:
        super().__init__(model)
        self.proposes_believed_nash = bool(strategy.classifier.get("proposes_believed_nash"))
        self.name = name
        self.index = index
        self.strategy = strategy
        self.capability = capability
        self.deadline = deadline
        self.joins_in_phase = joins_in_phase

    # -- tactics: the compiled round is planned for them ------------------------------------
    @property
    def strategy(self) -> Strategy:
        return self._strategy

    @strategy.setter
    def strategy(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self.model.tactics_changed = True

    @property
    def deadline(self) -> int:
        return self._deadline

    @deadline.setter
    def deadline(self, deadline: int) -> None:
        self._deadline = deadline
        self.model.tactics_changed = True

    # -- replication 0 ---------------------------------------------------------------------
    @property
    def utility(self) -> np.ndarray:
        return self.model.utility_rows[0, self.index]

    @property
    def best(self) -> float:
        return float(self.model.best[0, self.index])

    @property
    def aspiration(self) -> float:
        return float(self.model.aspirations[0, self.index])

    @property
    def reservation(self) -> float:
        return float(self.model.batnas[0, self.index])

    @property
    def seated(self) -> bool:
        return bool(self.model.seated[0, self.index])

    @property
    def walked_out(self) -> bool:
        return bool(self.model.walked_out[0, self.index])

    @property
    def last_response(self) -> Response | None:
        """Its answer to this round's text or offer; None if it was not asked."""
        m = self.model
        if not m.asked[0, self.index]:
            return None
        return Response.accept if m.accepted[0, self.index] else Response.object

    # -- moves ----------------------------------------------------------------------------
    def propose(self, reps: np.ndarray) -> np.ndarray:
        """Per replication in `reps`: among its outcomes at or above its aspiration, the
        one the other seated parties value most (their smallest surplus, as far as it knows
        them); -1 where it has nothing to offer.

        Ties go to its own utility, then the lowest index: the candidates are a prefix of
        its outcomes sorted best first, so the first maximum is the one. When its BATNA
        rose above all it can get, it asks for its best implementable outcome.
        """
        if self.proposes_believed_nash:
            return self.believed_nash(reps)
        m, i = self.model, self.index
        threshold = TOLERANCE - m.aspirations[reps, i]  # on the negated utilities
        if m.shared:
            order = m.orders[i][:1]  # (1, outcomes it can accept), best first
            count = np.searchsorted(m.neg_sorted[i][0], threshold, side="right")
            rows = np.zeros(reps.size, dtype=np.intp)
        else:
            order = m.orders[i][reps]
            count = (m.neg_sorted[i][reps] <= threshold[:, None]).sum(axis=1)
            rows = np.arange(reps.size)
        width = int(count.max())
        out = np.full(reps.size, -1, dtype=np.int64)
        if width > 0:
            value = m.others_value(i, reps, width)  # (reps, width), -inf across red lines
            valid = None  # None: every one of the `width` candidates is valid
            if reps.size > 1 and (count < width).any():
                valid = np.arange(width)[None, :] < count[:, None]
            if not m.fully_implementable[reps].all():
                reachable = np.take_along_axis(m.can_implement[reps], order[rows, :width], axis=1)
                valid = reachable if valid is None else valid & reachable
            if valid is not None:
                value = np.where(valid, value, -np.inf)
            pick = value.argmax(axis=1)
            unsure = value[np.arange(reps.size), pick] == -np.inf
            if valid is None:
                pick[unsure] = 0  # no value above -inf: the first candidate
                out = order[rows, pick]
            else:
                if unsure.any():
                    pick[unsure] = valid[unsure].argmax(axis=1)
                out = np.where(valid[np.arange(reps.size), pick], order[rows, pick], -1)
        empty = out < 0
        if empty.any() and order.shape[1] > 0:  # none: every outcome crosses its red lines
            full = order[rows[empty]]
            reachable = np.take_along_axis(m.can_implement[reps[empty]], full, axis=1)
            first = full[np.arange(full.shape[0]), reachable.argmax(axis=1)]
            out[empty] = np.where(reachable.any(axis=1), first, -1)
        return out

    def believed_nash(
        self,
        reps: np.ndarray,
        weights: np.ndarray | None = None,
        columns: np.ndarray | None = None,
        drafting: bool = False,
    ) -> np.ndarray:
        """Per replication: the Nash bargaining solution (Nash 1950) of the zone of
        agreement this party believes in: the implementable outcome, across nobody's red
        line, worth at least its BATNA to every seated party as this party believes them
        (`model.perceived_by`), that maximises the product of those believed surpluses.
        Where it believes the zone empty, the outcome whose smallest believed surplus is
        largest (the nearest to agreement it can see); -1 with nothing implementable.
        `weights` (parties,) make it the asymmetric Nash product ``prod_i (u_i - d_i)^w_i``
        (Kalai 1977): whose interests a mediator's text weighs (`model.draft_weights`);
        `columns` narrows the candidates (`model.draft_columns`); `drafting` (a mediator's
        text) to the deals it may draft (`model.draftable`: the self-enforcing ones)."""
        m, i = self.model, self.index
        cols = m.red_line_free if columns is None else columns  # across nobody's red line
        if cols.size == 0:
            return np.full(reps.size, -1, dtype=np.int64)
        u = m.utility_rows[m.urows(reps)][:, :, cols]  # (reps or 1, parties, candidates)
        batnas = m.perceived_by(i, reps)  # (reps, parties)
        who = m.seated[reps].copy()
        who[:, i] = True
        if weights is not None:  # a mediator's text weighs the belligerents, seated or not
            who[:, weights >= 1.0] = True
        possible = m.can_implement[reps][:, cols]
        if drafting and m.draftable is not None:  # a mediator's text: self-enforcing deals
            possible &= m.draftable[reps][:, cols]
        wanted = (within_batna(u, batnas) | ~who[:, :, None]).all(axis=1) & possible
        zone = wanted.any(axis=1)
        score = np.full(possible.shape, -np.inf)
        if zone.any():  # the Nash product, in logs, only where the zone is
            r, c = np.nonzero(wanted)
            gains = u[0 if u.shape[0] == 1 else r, :, c] - batnas[r]  # (pairs, parties)
            logs = np.log(np.maximum(gains, TOLERANCE))
            if weights is not None:
                logs = logs * weights
            score[r, c] = np.sum(logs, axis=1, where=who[r])
        if not zone.all():  # the smallest believed surplus, where no zone is believed
            far = np.flatnonzero(~zone)
            surplus = u[0 if u.shape[0] == 1 else far] - batnas[far][:, :, None]
            nearest = np.min(surplus, axis=1, where=who[far][:, :, None], initial=np.inf)
            score[far] = np.where(possible[far], nearest, -np.inf)
        pick = score.argmax(axis=1)
        found = possible[np.arange(reps.size), pick]
        return np.where(found, cols[pick], -1)


def seat_parties(
    model: NegotiationBatch, scenario: Scenario, settings: NegotiationSettings
) -> list[PartyAgent]:
    """One agent per party of `scenario` in `model`, by index: strategies and deadlines from
    the scenario, seats from `settings` (the phase-one parties first when the seating is
    phased). A missing mediator raises ValueError; unknown mediator or phase-one names
    raise KeyError naming the parties."""
    s = settings
    if s.mediator is None:
        raise ValueError(
            f"NegotiationSettings.mediator: got None; allowed: a party in "
            f"{list(scenario.parties)} (`sim.experiment.compiler.negotiation_settings` "
            "takes the config's)"
        )
    for name in (s.mediator, *s.phase_one_parties):
        scenario.party_index(name)
    for i, name in enumerate(scenario.parties):
        plan = scenario.strategies[i]
        tactic = StrategyName.war_value if s.fighting else plan.name
        exponent = None if s.fighting else plan.exponent
        # A war_value party has no clock; only a deadline of its own ends its talks.
        never = s.max_rounds + 1
        PartyAgent(
            model,
            name=name,
            index=i,
            strategy=make_strategy(tactic, exponent),
            capability=float(scenario.capabilities[i]),
            deadline=plan.deadline or (never if tactic is StrategyName.war_value else s.max_rounds),
            joins_in_phase=2 if s.phased and name not in s.phase_one_parties else 1,
        )
    return sorted(model.agents, key=lambda a: a.index)
