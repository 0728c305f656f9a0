"""A round under each protocol (Raiffa's single negotiating text, multilateral alternating
offers): who proposes, who answers, how the text moves. A mixin of
`sim.engine.model.NegotiationBatch`, whose state it reads."""

from __future__ import annotations

import numpy as np

from sim.core import rounds
from sim.engine.agents import accepts


class ProtocolRounds:
    """The rounds of `NegotiationBatch` under each protocol (a mixin: it holds no state)."""

    def _propose(self, reps: np.ndarray, proposer: np.ndarray, draft: bool = False) -> np.ndarray:
        """Each replication's proposal by its `proposer`; a mediator's `draft` of the single
        text is the asymmetric Nash product of `draft_weights` unless its bias is 1."""
        out = np.full(reps.size, -1, dtype=np.int64)
        neutral = draft and self.settings.mediator_bias < 1.0
        for agent in self.by_index:
            mine = proposer == agent.index
            if mine.any():
                if neutral and agent.index == self.mediator:
                    out[mine] = agent.believed_nash(
                        reps[mine], self.draft_weights, self.draft_columns, drafting=True
                    )
                else:
                    out[mine] = agent.propose(reps[mine])
        return out

    def _respond(self, reps: np.ndarray, outcome: np.ndarray) -> np.ndarray:
        """(len(reps), parties): which seated parties accept each replication's text or
        offer (`sim.engine.agents.accepts`); who answered and how is kept in `asked`, `accepted`."""
        seated = self.seated[reps]
        accepted = seated & accepts(
            self.u_at(reps, outcome),
            self.aspirations[reps],
            self.batnas[reps],
            self.red_line_crossed[:, outcome].T,
            0.0 if self.delay_costs is None else self.delay_costs[reps],
        )
        self.asked[reps] = seated
        self.accepted[reps] = accepted
        return accepted

    def _turns(self) -> tuple[np.ndarray, np.ndarray]:
        """Per replication, the seated parties in its turn order (padded) and how many;
        recomputed only when the seating changed."""
        if self._turns_of is not self.seated:
            in_turn = np.take_along_axis(self.seated, self.turn_order, axis=1)
            first = np.argsort(~in_turn, axis=1, kind="stable")  # seated first, in order
            self._turns_cache = (
                np.take_along_axis(self.turn_order, first, axis=1),
                in_turn.sum(axis=1),
            )
            self._turns_of = self.seated
        return self._turns_cache

    def _alternating_round(self, reps: np.ndarray) -> None:
        sequence, seated = self._turns()  # the seated parties take turns in a fixed order
        proposer = sequence[reps, (self.round - 1) % seated[reps]]
        self.proposers[reps] = proposer
        framework = self.frameworks[reps]
        if (framework >= 0).any():
            opens = (  # phase two opens on the framework
                (self.phases[reps] == 2)
                & (framework >= 0)
                & (self.framework_rounds[reps] == self.round - 1)
                & self.can_implement[reps, np.maximum(framework, 0)]
            )
            outcome = np.where(opens, framework, -1)
            outcome[~opens] = self._propose(reps[~opens], proposer[~opens])
        else:
            outcome = self._propose(reps, proposer)
        made = outcome >= 0
        if not made.all():
            reps, outcome, proposer = reps[made], outcome[made], proposer[made]
        self.offers[reps] = outcome
        if self.learned:
            self._record_offers(reps, proposer, outcome)
        self._settle(reps, outcome, self._respond(reps, outcome))

    def drafter(self, reps: np.ndarray) -> np.ndarray:
        """The mediator; where it walked out, the seated party with the most leverage
        (the lowest index among equals)."""
        gone = self.walked_out[reps, self.mediator]
        if not gone.any():
            return np.full(reps.size, self.mediator)
        seated = self.seated[reps]
        leverage = np.where(seated, self.capabilities[None, :], -np.inf)
        acting = np.argmax(leverage == leverage.max(axis=1, keepdims=True), axis=1)
        return np.where(gone, acting, self.mediator)

    def _draft_texts(self, reps: np.ndarray) -> np.ndarray:
        """A text drafted where there is none or it can no longer be implemented; the
        replications in `reps` that have one."""
        text = self.texts[reps]
        redraft = (text < 0) | ~self.can_implement[reps, np.maximum(text, 0)]
        if redraft.any():
            text[redraft] = self._propose(reps[redraft], self.drafter(reps[redraft]), draft=True)
            self.texts[reps] = text
        return reps[text >= 0]

    def _single_text_round(self, reps: np.ndarray) -> None:
        reps = self._draft_texts(reps)
        text = self.texts[reps]
        self.offers[reps] = text
        drafter = self.drafter(reps)
        self.proposers[reps] = drafter
        accepted = self._respond(reps, text)
        ended = self._settle(reps, text, accepted)
        objecting = self.seated[reps] & ~accepted & ~ended[:, None]
        proposals = np.full(objecting.shape, -1, dtype=np.int64)
        for agent in self.by_index:
            mine = objecting[:, agent.index]
            if mine.any():
                proposals[mine, agent.index] = agent.propose(reps[mine])
        # The objections are simultaneous: none is counted before all are made.
        if self.learned:
            made = np.nonzero(proposals >= 0)
            self._record_offers(reps[made[0]], made[1], proposals[made])
        moving = (proposals >= 0).any(axis=1)
        if moving.any():
            r = reps[moving]
            self.texts[r] = rounds.move_texts(
                self.space,
                self.problem.preferences.level_values,
                self.texts[r],
                proposals[moving],
                self.capabilities,
                self.settings.text_step,
                self._text_levels(r),
                drafter[moving],  # nobody leaves after the drafting
            )

    def _text_levels(self, reps: np.ndarray) -> list[np.ndarray]:
        """Per issue, (len(reps), levels): the levels a text may use now
        (`rounds.text_levels_ok`), kept per pattern of leavers and seats."""
        gone, seated = self.walked_out[reps], self.seated[reps]
        if reps.size > 1:
            return rounds.text_levels_ok(
                self.problem.control,
                self.problem.preferences.red_lines,
                gone,
                seated,
                not self.learned,
            )
        key = (gone.tobytes(), seated.tobytes())
        if key not in self._levels_ok_cache:
            self._levels_ok_cache[key] = rounds.text_levels_ok(
                self.problem.control,
                self.problem.preferences.red_lines,
                gone,
                seated,
                not self.learned,
            )
        return self._levels_ok_cache[key]
