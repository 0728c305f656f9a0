"""The negotiation engine: one Mesa model whose state has a leading replication axis.

One `step()` is one round (one month of war by default) in every replication still
negotiating. Each replication keeps its own generator (`opening_draws`), scenario (after
its draws) and war parameters, and ends on its own; a replication's result does not
depend on the batch it runs in. `NegotiationModel` is a batch of one that also records the
round-by-round trace. The rules (docs/model.md):

- single negotiating text (Raiffa 1982, *The Art and Science of Negotiation*, ch. 14): the
  mediator drafts one text; every party at the table accepts or objects with a
  counter-proposal; the mediator moves the text toward the objectors' proposals,
  weighted by their leverage (capability), and snaps it to the outcome grid;
- multilateral alternating offers (Rubinstein 1982, extended to n parties): the parties
  at the table propose in turn; an offer passes when every required signatory at the
  table accepts it;
- seating: `inclusive` seats everyone from round 1; a phased seating seats the phase-one
  parties until they agree a framework or `phase_one_rounds` pass, then the others join
  and can accept, object or walk out; the framework's authors keep `framework_commitment`
  of their surplus in it (Schelling 1960);
- an agreement binds only when every party that controls a level it sets has signed it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from types import ModuleType

import mesa
import numpy as np

from sim.core import beliefs, jit, war
from sim.core.scenario import Anticipation, Scenario
from sim.core.settings import (
    BatnaMode,
    EndReason,
    Enforcement,
    Information,
    NegotiationSettings,
    Protocol,
)
from sim.core.strategies import AspirationInput
from sim.engine.agents import PartyAgent, Response, seat_parties
from sim.engine.compiled import CompiledRounds
from sim.engine.fighting import FightingBatch
from sim.engine.protocols import ProtocolRounds
from sim.engine.result import NegotiationResult
from sim.engine.settlement import AnticipatingBatch
from sim.engine.walkouts import WalkoutRules

# Parameters a batch's replications must share: the war's clock and scale, not its balance.
SHARED_WAR = ("adjustment_rate", "months_per_round", "horizon_months", "discount", "low", "high")

# With drawn saliences a replication brings its own utilities, preference orders and
# offer tables, (3 + parties) x parties x outcomes numbers: keep a batch's near this many
# (160 MB of float64), so that a job of 10^5 replications runs in bounded memory.
BATCH_ELEMENTS = 20_000_000
MAX_BATCH = 1_000  # beyond this a bigger batch is no faster (benchmarks/negotiation.py)

# The compiled round (sim.engine.compiled) after this many replication-rounds in numpy: its
# load, ~0.5 s (~0.27 s with numba loaded), is repaid at ~130 us a round on the NegMAS
# problem after ~2,000-4,000 rounds, so that a single run or the page never pays for it.
COMPILE_ROUNDS_AFTER = 4_000
_rounds_played = 0


def batch_size(n_parties: int, n_outcomes: int) -> int:
    """Replications per batch for an outcome space of this size (at least 1)."""
    per_replication = (3 + n_parties) * n_parties * n_outcomes
    return max(1, min(MAX_BATCH, BATCH_ELEMENTS // max(per_replication, 1)))


def opening_draws(
    rng: np.random.Generator | np.random.SeedSequence | int | None,
    n_parties: int,
    war_params: war.WarParameters,
    max_rounds: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Everything a negotiation draws, up front from its own generator: the
    alternating-offers turn order (a permutation of the parties) and the war's shocks."""
    generator = np.random.default_rng(rng)
    order = generator.permutation(n_parties)
    return order, war.war_shocks(war_params, max_rounds, generator)


def _check_batch(
    scenarios: Sequence[Scenario],
    war_params: list[war.WarParameters],
    rngs: list[np.random.Generator | np.random.SeedSequence | int | None],
) -> None:
    """A batch's replications share their outcome space, parties and `SHARED_WAR`."""
    if not len(scenarios) == len(war_params) == len(rngs) > 0:
        raise ValueError("one scenario, war parameters and generator per replication")
    first = scenarios[0]
    for sc, wp in zip(scenarios, war_params, strict=True):
        if sc.space is not first.space or sc.parties != first.parties:
            raise ValueError("a batch's scenarios must share their outcome space and parties")
        for name in SHARED_WAR:
            if getattr(wp, name) != getattr(war_params[0], name):
                raise ValueError(f"a batch's war parameters must share {name}")


class NegotiationBatch(
    ProtocolRounds, FightingBatch, WalkoutRules, AnticipatingBatch, CompiledRounds, mesa.Model
):
    """Replications of one negotiation, round by round, as arrays over replications.

    `scenarios`, `war_params` and `rngs` give each replication its scenario (its drawn
    saliences and war costs), war parameters (its drawn support and capacities) and
    generator. The scenarios share their outcome space, parties, red lines and control.
    """

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        settings: NegotiationSettings | None = None,
        war_params: Sequence[war.WarParameters] | None = None,
        rngs: Sequence[np.random.Generator | np.random.SeedSequence | int | None] | None = None,
    ) -> None:
        super().__init__(rng=0)  # the model itself draws nothing
        self.settings = settings or NegotiationSettings()
        war_params = list(war_params or [sc.war_params for sc in scenarios])
        rngs = list(rngs or [None] * len(scenarios))
        _check_batch(scenarios, war_params, rngs)
        # Fixed for the batch's life (Gymnax's parameters): tables read by every round.
        self._fixed_tables(scenarios, war_params)
        self._init_drift(scenarios, war_params)
        self._opening(rngs, war_params)
        self._seat()
        self._mediator_tables()
        # What a round changes (Gymnax's state), at round 0.
        self._priors(scenarios, war_params)
        self._start_state()
        self._kernel_tables()

    def _fixed_tables(
        self, scenarios: Sequence[Scenario], war_params: list[war.WarParameters]
    ) -> None:
        """What the replications share (space, parties, red lines, control), the values
        they bargain over (valued on the anticipated path under self-enforcement), the war's
        BATNAs, static reservations, delay costs and the true balance of strength."""
        s, first = self.settings, scenarios[0]
        self.problem = first  # what the replications share: space, parties, control
        self.scenarios = list(scenarios)
        self.rep_war_params = war_params
        self._anticipated_cache: dict[tuple, Anticipation] = {}  # shared inputs, this month
        self._looked_ahead: dict[tuple, np.ndarray] = {}  # one input set's values ahead
        self.n = n = len(scenarios)
        self.parties = first.parties
        self.space = first.space
        n_parties = len(self.parties)

        self.red_line_crossed = first.red_line_crossed
        self.allowed = ~self.red_line_crossed
        self.red_line_free = np.flatnonzero(self.allowed.all(axis=0))  # outcomes nobody vetoes
        self.required = first.required_signatories
        self.capabilities = first.capabilities
        # Self-enforcing settlements (docs/model.md): every deal valued on the path the
        # parties anticipate, and only the self-enforcing ones drafted.
        self.anticipations: list[Anticipation] | None = None
        valued = self.scenarios
        if (
            s.enforcement is Enforcement.self_enforcing
            and s.batna is BatnaMode.war
            and first.war_sides is not None
        ):
            self.anticipations = [self._anticipated(r, 0) for r in range(n)]
            valued = [
                dataclasses.replace(sc, valuation=a.values)
                for sc, a in zip(scenarios, self.anticipations, strict=True)
            ]
        self.shared = all(sc.preferences is first.preferences for sc in scenarios) and (
            self.anticipations is None
            or all(a is self.anticipations[0] for a in self.anticipations)
        )
        self._set_tables(valued[:1] if self.shared else valued)

        batnas = [sc.war_batna(wp) for sc, wp in zip(scenarios, war_params, strict=True)]
        self.war_batna = war.WarBatna(  # every replication's weights, status quo and costs
            war_params[0],
            batnas[0].territory_positions,
            batnas[0].territory_values,
            np.stack([b.territory_weights for b in batnas]),
            np.stack([b.status_quo_other for b in batnas]),
            np.stack([b.cost for b in batnas]),
            *(
                (
                    np.stack([b.aggressor_other for b in batnas]),
                    np.stack([b.defender_other for b in batnas]),
                )
                if batnas[0].aggressor_other is not None
                else (None, None)
            ),
        )
        self.static_reservation = np.stack([sc.static_reservation for sc in scenarios])
        none = np.zeros(n_parties)
        delay = [none if sc.delay_costs is None else sc.delay_costs for sc in scenarios]
        # (replications, parties) what a round without agreement costs; None: nothing, and
        # the acceptance rule skips it on every round
        self.delay_costs = np.stack(delay) if any(d.any() for d in delay) else None
        self.p_shares = np.array([war.aggressor_share(wp) for wp in war_params])
        wp0 = war_params[0]
        self.targets = war.target_line(self.p_shares, wp0.low, wp0.high)

    def _opening(
        self,
        rngs: list[np.random.Generator | np.random.SeedSequence | int | None],
        war_params: list[war.WarParameters],
    ) -> None:
        """Each replication's draws, up front (`opening_draws`)."""
        s, n_parties = self.settings, len(self.parties)
        draws = [
            opening_draws(rng, n_parties, wp, s.max_rounds)
            for rng, wp in zip(rngs, war_params, strict=True)
        ]
        self.turn_order = np.stack([order for order, _ in draws])
        self.shocks = np.stack([shocks for _, shocks in draws])

    def _seat(self) -> None:
        """The party agents in their seats, when each joins, its deadline."""
        s, first = self.settings, self.problem
        self.by_index: list[PartyAgent] = seat_parties(self, first, s)
        self.joins = np.array([a.joins_in_phase for a in self.by_index])
        self.deadlines = np.array([a.deadline for a in self.by_index])
        self.walks_at_deadline = np.array(
            [a.strategy.walks_out_at_deadline() for a in self.by_index]
        )

    def _priors(self, scenarios: Sequence[Scenario], war_params: list[war.WarParameters]) -> None:
        """Under bargaining while fighting, each party's prior belief about the balance
        (sim.core.beliefs; the rounds update it) and how precise a round's news of it is."""
        s, n_parties = self.settings, len(self.parties)
        wp0 = war_params[0]
        self.private_beliefs = s.fighting
        if self.private_beliefs:  # sim.core.beliefs: priors around the true line, by optimism
            optimism = np.stack([sc.party_optimism for sc in scenarios])
            party_sides = beliefs.sides(self.war_batna.territory_values)
            self.belief_means = beliefs.prior_means(
                self.targets, optimism, party_sides, wp0.low, wp0.high
            )
            self.belief_precisions = np.stack(
                [
                    np.full(n_parties, beliefs.prior_precision(sc.belief_sd, wp0.low, wp0.high))
                    for sc in scenarios
                ]
            )
            self.signal_precisions = np.array(
                [
                    beliefs.signal_precision(wp.volatility, wp.adjustment_rate, wp.months_per_round)
                    for wp in war_params
                ]
            )
            self.belief_gap_start = beliefs.belief_gap(self.belief_means, wp0.low, wp0.high)
            self.cost_beliefs = np.stack([sc.party_cost_beliefs for sc in scenarios])

    def _mediator_tables(self) -> None:
        """Who mediates and the outcomes and weights of its text."""
        s, first = self.settings, self.problem
        self.mediator = first.party_index(s.mediator)
        # The mediator's text (docs/model.md, "The mediator"): the asymmetric Nash product
        # with weight 1 on the belligerents (without a war, the parties that control an
        # issue outright) and `mediator_bias` on the others, among the outcomes that leave
        # no issue where its controllers would jointly move it.
        weighed = np.zeros(len(self.parties), dtype=bool)
        weighed[list(first.war_sides or ())] = True
        if not weighed.any():
            weighed = np.any(first.issue_control, axis=0)
        self.draft_weights = np.where(weighed, 1.0, s.mediator_bias)
        self.draft_columns = np.intersect1d(
            self.red_line_free, np.flatnonzero(first.settled_by_controllers)
        )
        if self.draft_columns.size == 0:
            self.draft_columns = self.red_line_free
        self.draftable = (  # (n, outcomes) the deals a mediator may draft
            None
            if self.anticipations is None
            else np.stack([a.self_enforcing for a in self.anticipations])
        )
        self._reactive = any(a.strategy.classifier["reactive"] for a in self.by_index)
        self.learned = s.information is Information.learned

    def _start_state(self) -> None:
        """The round state at round 0: who sits and who left, BATNAs and aspirations, the
        text or offer on the table, deals and frameworks, how each replication ended."""
        s, n, n_parties = self.settings, self.n, len(self.parties)
        self.round = 0
        self.lines = np.full(n, self.problem.contact_line)  # the contact line, moved by fighting
        self.perceived = np.zeros((n, n_parties, n_parties))  # [r, i, j]: j's BATNA as i sees it
        self.live = np.ones(n, dtype=bool)
        self._everyone = np.arange(n)
        self.end_rounds = np.zeros(n, dtype=np.int64)
        self.phases = np.full(n, 1 if s.phased else 2)
        self.batnas = np.zeros((n, n_parties))
        self.aspirations = np.broadcast_to(self.best, (n, n_parties)).copy()
        self.previous_aspirations = self.aspirations.copy()
        self.framework_floors = np.full((n, n_parties), -np.inf)
        self.others_drop = np.zeros((n, n_parties))
        self.walked_out = np.zeros((n, n_parties), dtype=bool)
        self.frustrated = np.zeros((n, n_parties), dtype=np.int64)
        self.asked = np.zeros((n, n_parties), dtype=bool)  # answered this round's text/offer
        self.accepted = np.zeros((n, n_parties), dtype=bool)  # ... and accepted it
        self.seated = self._seated()
        self._turns_of: np.ndarray | None = None
        self.can_implement = np.ones((n, self.space.size), dtype=bool)  # no leaver's veto
        self.fully_implementable = np.ones(n, dtype=bool)
        self.zopa_witness = np.full(n, -1)
        self.texts = np.full(n, -1)
        self.offers = np.full(n, -1)
        self.proposers = np.full(n, -1)
        self.agreements = np.full(n, -1)
        self.signed = np.full(n, -1)  # a deal signed and then not ratified
        self.rejected_by: list[list[str]] = [[] for _ in range(n)]
        self.bound = np.zeros(n, dtype=bool)
        self.frameworks = np.full(n, -1)
        self.framework_rounds = np.full(n, -1)
        self.reasons: list[EndReason | None] = [None] * n
        self.walkout_names: list[list[str]] = [[] for _ in range(n)]
        self.walkout_whys: list[list[str]] = [[] for _ in range(n)]
        self._levels_ok_cache: dict[tuple[bytes, bytes], list[np.ndarray]] = {}
        if self.learned:  # the frequency opponent model's counts (sim.core.opponents)
            shape = (n, n_parties)
            self.level_counts = [np.zeros((*shape, size)) for size in self.space.shape]
            self.unchanged = np.zeros((*shape, len(self.space.shape)))
            self.last_offer = np.full(shape, -1, dtype=np.int64)
        self._set_reservations(self._everyone)  # the BATNAs the parties open with; each
        # round sets its own before anything reads them

    def _set_tables(self, distinct: Sequence[Scenario], rows: np.ndarray | None = None) -> None:
        """The values the parties bargain over, their preference orders and offer tables,
        from `distinct` (one scenario when the replications share them): all of them, or
        rows `rows` of them (the replications whose valuations changed). Bargaining while
        fighting, every party proposes the Nash solution it believes in and no order is
        read: none is sorted."""
        n_parties = len(self.parties)
        utilities = np.stack([sc.utilities for sc in distinct])  # (rows, parties, outcomes)
        best = np.max(utilities, axis=2, where=self.allowed[None], initial=-np.inf)
        ordered = not self.settings.fighting
        if ordered:
            orders = [
                np.stack([sc.preference_order[i][0] for sc in distinct]) for i in range(n_parties)
            ]
            neg_sorted = [  # utilities in preference order, negated: for searchsorted
                np.stack([-sc.preference_order[i][1] for sc in distinct]) for i in range(n_parties)
            ]
            tables = [np.stack([sc.offer_tables[i] for sc in distinct]) for i in range(n_parties)]
        if rows is None:
            self.utility_rows, self.best = utilities, best
            if ordered:
                self.orders, self.neg_sorted, self.offer_tables = orders, neg_sorted, tables
            return
        self.utility_rows[rows] = utilities
        self.best[rows] = best
        for i in range(n_parties if ordered else 0):
            self.orders[i][rows] = orders[i]
            self.neg_sorted[i][rows] = neg_sorted[i]
            self.offer_tables[i][rows] = tables[i]

    # -- arrays over replications ---------------------------------------------------------
    def urows(self, reps: np.ndarray) -> np.ndarray:
        """Rows of the per-replication preference arrays for `reps` (one row when shared)."""
        return np.zeros_like(reps) if self.shared else reps

    def u_at(self, reps: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
        """(len(reps), parties): every party's utility of each replication's outcome."""
        if self.shared:
            return self.utility_rows[0][:, outcomes].T
        return self.utility_rows[reps, :, outcomes]

    def _seated(self) -> np.ndarray:
        return ~self.walked_out & (self.phases[:, None] >= self.joins[None, :])

    # -- the round ------------------------------------------------------------------------
    def step(self) -> None:
        live = self._everyone if self.live.all() else np.flatnonzero(self.live)
        if live.size == 0:
            self.running = False
            return
        self.round += 1
        s = self.settings
        if self.round > 1:
            if self.target_path is not None:
                self._drift_balance(live)
            self._advance_war(live)
        if s.phased:
            over = (self.frameworks[live] >= 0) | (self.round > s.phase_one_rounds)
            joining = live[over & (self.phases[live] == 1)]
            if joining.size:
                self.phases[joining] = 2
                self.seated = self._seated()
        self._set_reservations(live)
        kernel = self._round_kernel(live.size)
        if kernel is not None:
            self._compiled_round(kernel, live)
        else:
            if self._reactive:
                self.others_drop[live] = self._mean_other_drop(live)
            self.asked[live] = False
            self._update_aspirations(live)
            go = self._check_walkouts(live)
            if go.size:
                if s.protocol is Protocol.single_text:
                    self._single_text_round(go)
                else:
                    self._alternating_round(go)
        if self.round >= s.max_rounds:
            open_ = np.flatnonzero(self.live)
            framed = self.frameworks[open_] >= 0
            self._end(open_[framed], EndReason.not_binding)
            last = EndReason.horizon if s.fighting else EndReason.deadline
            self._end(open_[~framed], last)
        self.running = bool(self.live.any())

    # -- the compiled round (sim.engine.compiled) ------------------------------------
    def _round_kernel(self, replications: int) -> ModuleType | None:
        """The compiled round where it covers the settings and this process has played
        `COMPILE_ROUNDS_AFTER` replication-rounds (these counted); else None: numpy."""
        global _rounds_played
        if self.tactics_changed:  # a party's strategy or deadline was replaced
            self._kernel_tables()
        if not self.kernel_covers:
            return None
        _rounds_played += replications
        if _rounds_played <= COMPILE_ROUNDS_AFTER:
            return None
        return jit.load(self.kernel_module, "the rounds")

    def run(self) -> NegotiationBatch:
        """Step until every replication has ended."""
        while self.running:
            self.step()
        return self

    def _mean_other_drop(self, reps: np.ndarray) -> np.ndarray:
        """For each party, the mean drop of the other seated parties' aspirations last round."""
        drops = self.previous_aspirations[reps] - self.aspirations[reps]
        seated = self.seated[reps].astype(np.float64)
        weighted = drops * seated
        seats, dropped = seated[:, 0].copy(), weighted[:, 0].copy()
        for j in range(1, seated.shape[1]):  # in party order, as the compiled round adds
            seats += seated[:, j]
            dropped += weighted[:, j]
        others = seats[:, None] - seated
        total = dropped[:, None] - weighted
        return np.divide(total, others, out=np.zeros_like(total), where=others > 0)

    def _update_aspirations(self, live: np.ndarray) -> None:
        """Every seated party's aspiration this round, from its strategy: never below its
        BATNA nor below what it keeps of a framework it agreed."""
        seated = self.seated[live]
        floor = np.maximum(self.batnas[live], self.framework_floors[live])
        best = np.maximum(self.best[0] if self.shared else self.best[live], floor)
        previous = self.aspirations[live]
        new = np.empty_like(previous)
        # Party by party (rows of the transposed arrays are views): each its own strategy.
        best_t, floor_t, previous_t = best.T, floor.T, previous.T
        drops_t = self.others_drop[live].T
        for agent in self.by_index:
            i = agent.index
            x = AspirationInput(
                round=self.round,
                deadline=agent.deadline,
                best=best_t[i],
                reservation=floor_t[i],
                previous=previous_t[i],
                others_concession=drops_t[i],
            )
            new[:, i] = agent.strategy.aspiration(x)
        np.maximum(new, floor, out=new)
        if seated.all():
            self.previous_aspirations[live] = previous
            self.aspirations[live] = new
            return
        self.previous_aspirations[live] = np.where(
            seated, previous, self.previous_aspirations[live]
        )
        self.aspirations[live] = np.where(seated, new, previous)

    def _record_offers(self, reps: np.ndarray, parties: np.ndarray, outcomes: np.ndarray) -> None:
        """Count offers for the opponent model: party `parties[k]` offered `outcomes[k]` in
        replication `reps[k]` (each pair at most once per call)."""
        if reps.size == 0:
            return
        levels = self.space.grid[outcomes]  # (k, issues)
        for k, counts in enumerate(self.level_counts):
            counts[reps, parties, levels[:, k]] += 1.0
        last = self.last_offer[reps, parties]
        had = last >= 0
        same = self.space.grid[np.maximum(last, 0)] == levels
        self.unchanged[reps, parties] += same & had[:, None]
        self.last_offer[reps, parties] = outcomes

    # -- protocols ------------------------------------------------------------------------
    def _end(self, reps: np.ndarray, reason: EndReason) -> None:
        for r in reps:
            self.reasons[r] = reason
        self.end_rounds[reps] = self.round
        self.live[reps] = False

    def _settle(self, reps: np.ndarray, outcome: np.ndarray, accepted: np.ndarray) -> np.ndarray:
        """The pass rule for each replication's text or offer; True where the talks ended.

        Single text and phase one: everyone seated accepts. Alternating offers in phase
        two: every required signatory at the table (with none there, everyone seated).
        Binding when every required signatory signed, unless a signatory's ratifier
        rejects it (the talks then end, `ratification_failed`); otherwise a phase-one
        framework (its authors keep `framework_commitment` of their surplus in it) or a
        deal that does not bind."""
        seated = self.seated[reps]
        required = self.required[:, outcome].T
        phase_one = self.phases[reps] == 1
        if self.settings.protocol is Protocol.single_text:
            need = seated
        else:
            at_table = required & seated
            need = np.where((phase_one | ~at_table.any(axis=1))[:, None], seated, at_table)
        accord = (accepted | ~need).all(axis=1)
        if not accord.any():
            return accord
        binding = accord & (accepted | ~required).all(axis=1)
        framework = accord & ~binding & phase_one
        not_binding = accord & ~binding & ~phase_one
        rejected = np.zeros_like(binding)
        if binding.any():  # only a binding deal goes to the ratifiers
            rejected[binding] = self._rejected(reps[binding], outcome[binding], accepted[binding])
        if rejected.any():
            failed = reps[rejected]
            self.signed[failed] = outcome[rejected]
            self._end(failed, EndReason.ratification_failed)
            binding &= ~rejected
        done = reps[binding]
        self.agreements[done], self.bound[done] = outcome[binding], True
        self._end(done, EndReason.agreement)
        if framework.any():
            f = reps[framework]
            self.frameworks[f], self.framework_rounds[f] = outcome[framework], self.round
            res = self.batnas[f]
            surplus = self.u_at(f, outcome[framework]) - res
            floor = res + self.settings.framework_commitment * np.maximum(surplus, 0.0)
            self.framework_floors[f] = np.where(self.seated[f], floor, self.framework_floors[f])
        loose = reps[not_binding]
        self.agreements[loose] = outcome[not_binding]
        self._end(loose, EndReason.not_binding)
        return binding | not_binding | rejected

    def _rejected(self, reps: np.ndarray, outcome: np.ndarray, signed: np.ndarray) -> np.ndarray:
        """Per replication: does the ratifier of a party that signed `outcome` reject it
        (Putnam 1988)? The rejecting parties are kept in `rejected_by`."""
        rejects = self.problem.ratification_rejects
        if rejects is None:
            return np.zeros(reps.size, dtype=bool)
        by = rejects[:, outcome].T & signed  # (reps, parties)
        for k in np.flatnonzero(by.any(axis=1)):
            self.rejected_by[reps[k]] = [self.parties[i] for i in np.flatnonzero(by[k])]
        return by.any(axis=1)

    # -- results --------------------------------------------------------------------------
    def result(self, r: int) -> NegotiationResult:
        """How replication `r` ended (or stands, if it has not)."""
        return NegotiationResult(
            scenario=self.scenarios[r],
            settings=self.settings,
            war_params=self.rep_war_params[r],
            reason=self.reasons[r],
            round=int(self.end_rounds[r] or self.round),
            outcome=None if self.agreements[r] < 0 else int(self.agreements[r]),
            binding=bool(self.bound[r]),
            framework=None if self.frameworks[r] < 0 else int(self.frameworks[r]),
            walkouts=tuple(self.walkout_names[r]),
            walkout_reasons=tuple(self.walkout_whys[r]),
            contact_line=float(self.lines[r]),
            p_share=float(self.p_shares[r]),
            reservations=self.batnas[r].copy(),
            zopa_size=self.zopa_size(r),
            months=int(self.end_rounds[r] or self.round) * self.rep_war_params[r].months_per_round,
            belief_gap_start=float(self.belief_gap_start[r]) if self.private_beliefs else 0.0,
            belief_gap_end=self.belief_gap(r),
            anticipation=None if self.anticipations is None else self.anticipations[r],
            signed=None if self.signed[r] < 0 else int(self.signed[r]),
            rejected_by=tuple(self.rejected_by[r]),
        )

    def belief_gap(self, r: int) -> float:
        """The spread of replication `r`'s parties' believed p now (0 under common beliefs)."""
        if not self.private_beliefs:
            return 0.0
        wp = self.rep_war_params[r]
        return float(beliefs.belief_gap(self.belief_means[r], wp.low, wp.high))

    def results(self) -> list[NegotiationResult]:
        return [self.result(r) for r in range(self.n)]


__all__ = [
    "BATCH_ELEMENTS",
    "MAX_BATCH",
    "NegotiationBatch",
    "Response",
    "batch_size",
    "opening_draws",
]
