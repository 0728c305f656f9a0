"""The compiled round in the batch: what it covers, the tables it reads, and what it
reports kept as the numpy round keeps it (`sim.core.round_kernel`, `sim.core.text_kernel`;
docs/model.md, "Negotiation", "Computed"). A mixin of `sim.engine.model.NegotiationBatch`,
whose state it reads; the model's step decides when a process turns to it."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from sim.core import rounds, strategies
from sim.core.outcomes import IssueKind
from sim.core.settings import BatnaMode, EndReason, Protocol, Staying
from sim.engine.agents import Walkout

# Each strategy's kind in the compiled round; the others (war_value) it does not cover.
KERNEL_KINDS = {
    strategies.Boulware: rounds.TIME_DEPENDENT,
    strategies.Linear: rounds.TIME_DEPENDENT,
    strategies.Conceder: rounds.TIME_DEPENDENT,
    strategies.Reciprocal: rounds.RECIPROCAL,
    strategies.HardLiner: rounds.HARD_LINER,
}
KERNEL_ENDS = {
    rounds.AGREEMENT: EndReason.agreement,
    rounds.NOT_BINDING: EndReason.not_binding,
    rounds.RATIFICATION_FAILED: EndReason.ratification_failed,
    rounds.BREAKDOWN: EndReason.breakdown,
}


class CompiledRounds:
    """The compiled round of `NegotiationBatch` (a mixin: the state is the model's)."""

    def _kernel_tables(self) -> None:
        """Whether the compiled round (`sim.core.round_kernel`, with `sim.core.text_kernel`
        for the single text) covers these settings, and the tables it reads: calendar
        bargaining (time-dependent, reciprocal and hard-liner strategies), under either
        protocol, seating, information and way of staying (a hopeful party's look ahead in
        numpy)."""
        s = self.settings
        self.tactics_changed = False
        kinds = [KERNEL_KINDS.get(type(a.strategy)) for a in self.by_index]
        self.kernel_covers = not self.private_beliefs and None not in kinds
        if not self.kernel_covers:
            return
        n, n_parties = self.n, len(self.parties)
        self._kinds = np.array(kinds, dtype=np.int64)
        self._exponents = np.array([a.strategy.exponent for a in self.by_index])
        self._clocks = np.array([a.deadline for a in self.by_index], dtype=np.int64)
        self._deadlines = self.deadlines.astype(np.int64)
        rejects = self.problem.ratification_rejects
        self._rejects = np.zeros_like(self.allowed) if rejects is None else rejects
        self._delay = np.zeros((n, n_parties)) if self.delay_costs is None else self.delay_costs
        self._ended = np.zeros(n, dtype=np.int64)
        self._left = np.zeros((n, n_parties), dtype=bool)
        self._rejecting = np.zeros((n, n_parties), dtype=bool)
        self._hopeful = s.staying is Staying.hopeful and s.batna is BatnaMode.war
        self._pending = np.zeros(n, dtype=bool)
        grid = np.ascontiguousarray(self.space.grid, dtype=np.int64)
        self.kernel_module = "sim.core.round_kernel"
        if s.protocol is Protocol.single_text:  # the text's step, and the same opening
            self.kernel_module = "sim.core.text_kernel"
            self._text_space = self._packed_space(grid)
        if self.learned:  # the frequency model's counts, updated in place
            self._learning = (True, tuple(self.level_counts), self.unchanged, self.last_offer, grid)
        else:
            nothing = np.zeros((1, 1, 1))
            self._learning = (False, (nothing,), nothing, np.zeros((1, 1), np.int64), grid)

    def _packed_space(self, grid: np.ndarray) -> tuple[np.ndarray, ...]:
        """The outcome grid as the compiled text step reads it, per issue padded to the
        most levels: control and red lines (issues, parties, levels), the grid, strides,
        sizes, level positions, each outcome's positions, which issues are categorical, the
        parties' level values."""
        space, problem = self.space, self.problem
        sizes = np.array(space.shape, dtype=np.int64)
        shape = (len(sizes), len(self.parties), int(sizes.max()))
        control = np.zeros(shape, dtype=bool)
        red_lines = np.zeros(shape, dtype=bool)
        values = np.full(shape, -np.inf)
        positions = np.full(shape[::2], np.nan)
        for k, issue in enumerate(space.issues):
            control[k, :, : sizes[k]] = problem.control[k]
            red_lines[k, :, : sizes[k]] = problem.preferences.red_lines[k]
            values[k, :, : sizes[k]] = problem.preferences.level_values[k]
            positions[k, : sizes[k]] = issue.positions
        categorical = np.array([i.kind is IssueKind.categorical for i in space.issues])
        return (
            control,
            red_lines,
            grid,
            np.asarray(space.strides, dtype=np.int64),
            sizes,
            positions,
            np.ascontiguousarray(space.grid_positions, dtype=np.float64),
            categorical,
            values,
        )

    def _compiled_round(self, kernel: ModuleType, live: np.ndarray) -> None:
        """This round in replications `live` by the compiled round: its opening
        (aspirations, walkouts), the single text's drafts in numpy (the mediator's Nash
        product, whose logarithms numpy computes its own way), then the protocol's moves;
        what it reports is kept as the numpy round keeps it."""
        s = self.settings
        events = kernel.open_round(
            live,
            self.round,
            self.shared,
            self.utility_rows,
            self.allowed,
            self.required,
            self.best,
            self.batnas,
            self.framework_floors,
            self._kinds,
            self._exponents,
            self._clocks,
            self._deadlines,
            self.walks_at_deadline,
            s.walkout_patience,
            self._reactive,
            self.aspirations,
            self.previous_aspirations,
            self.others_drop,
            self.seated,
            self.walked_out,
            self.frustrated,
            self.asked,
            self.can_implement,
            self.fully_implementable,
            self.zopa_witness,
            self.live,
            self.end_rounds,
            self._ended,
            self._left,
            self._hopeful,
            self._pending,
        )
        go = live
        if events:
            self._kernel_walkouts(live)
            go = live[self.live[live]]
        if s.protocol is Protocol.single_text and go.size:
            go = self._draft_texts(go)
        if go.size == 0:
            return
        terms = (self.allowed, self.required, self._rejects, self.batnas, self._delay)
        framework = (
            self.phases,
            self.frameworks,
            self.framework_rounds,
            self.framework_floors,
            s.framework_commitment,
        )
        ends = (
            self.agreements,
            self.signed,
            self.bound,
            self.live,
            self.end_rounds,
            self._ended,
            self._rejecting,
        )
        common = (self.round, self.shared, self.utility_rows, tuple(self.orders), self._learning)
        if s.protocol is Protocol.single_text:
            ended = kernel.single_text(
                go,
                self.drafter(go),
                *common,
                terms,
                framework,
                self.capabilities,
                s.text_step,
                self._text_space,
                self.aspirations,
                self.seated,
                self.walked_out,
                self.asked,
                self.accepted,
                self.can_implement,
                self.texts,
                self.offers,
                self.proposers,
                ends,
            )
        else:
            ended = kernel.alternating_offers(
                go,
                *common,
                terms,
                self.turn_order,
                framework,
                self.aspirations,
                self.seated,
                self.asked,
                self.accepted,
                self.can_implement,
                self.offers,
                self.proposers,
                ends,
            )
        for r in go[self._ended[go] != 0] if ended else ():
            self.reasons[r] = KERNEL_ENDS[int(self._ended[r])]
            if self._rejecting[r].any():
                self.rejected_by[r] = [self.parties[i] for i in np.flatnonzero(self._rejecting[r])]

    def _kernel_walkouts(self, live: np.ndarray) -> None:
        """The breakdowns and walkouts the compiled opening reports, kept as the numpy
        round keeps them."""
        for r in live[self._ended[live] != 0]:
            self.reasons[r] = KERNEL_ENDS[int(self._ended[r])]
        at_deadline = self.walks_at_deadline & (self.round >= self.deadlines)
        pending = self._pending[live]
        if pending.any():  # hopeful parties look ahead before they leave
            reps = live[pending]
            would = self._left[reps]
            impatient = self._hopeful_stay(reps, would & ~at_deadline[None, :])
            leaving = would & (at_deadline[None, :] | impatient)
            if leaving.any():
                self._leave(reps, leaving, at_deadline)
            live = live[~pending]
        left = live[self._left[live].any(axis=1)]
        if left.size:
            for r in left:
                for i in np.flatnonzero(self._left[r]):
                    why = Walkout.deadline if at_deadline[i] else Walkout.batna
                    self.walkout_names[r].append(self.parties[i])
                    self.walkout_whys[r].append(str(why))
            self.seated = self._seated()  # a new object: the turn order is found anew
