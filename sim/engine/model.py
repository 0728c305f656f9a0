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
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.core import beliefs, opponents, rounds, war
from sim.core.preferences import TOLERANCE
from sim.core.problem import Anticipation, Scenario
from sim.core.settings import (
    BatnaMode,
    EndReason,
    Enforcement,
    Information,
    NegotiationSettings,
    Protocol,
    Staying,
)
from sim.core.solutions import within_batna
from sim.core.strategies import AspirationInput
from sim.engine.agents import PartyAgent, Response, Walkout, accepts, seat_parties
from sim.engine.settlement import AnticipatingBatch

# Parameters a batch's replications must share: the war's clock and scale, not its balance.
SHARED_WAR = ("adjustment_rate", "months_per_round", "horizon_months", "discount", "low", "high")

# With drawn saliences a replication brings its own utilities, preference orders and
# offer tables, (3 + parties) x parties x outcomes numbers: keep a batch's near this many
# (160 MB of float64), so that a job of 10^5 replications runs in bounded memory.
BATCH_ELEMENTS = 20_000_000
MAX_BATCH = 1_000  # beyond this a bigger batch is no faster (benchmarks/negotiation.py)


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


def zone_of_agreement(
    utilities: np.ndarray,
    reservations: np.ndarray,
    allowed: np.ndarray,
    active: np.ndarray,
    implementable: np.ndarray,
) -> np.ndarray:
    """(..., outcomes): implementable outcomes that every active party may accept (no red
    line of its own) and values at least at its BATNA. utilities (..., parties, outcomes),
    reservations and active (..., parties), allowed (parties, outcomes), implementable
    (..., outcomes)."""
    inside = within_batna(utilities, reservations) & allowed
    return (inside | ~active[..., None]).all(axis=-2) & implementable


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


class NegotiationBatch(AnticipatingBatch, mesa.Model):
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
        s = self.settings = settings or NegotiationSettings()
        war_params = list(war_params or [sc.war_params for sc in scenarios])
        rngs = list(rngs or [None] * len(scenarios))
        if not len(scenarios) == len(war_params) == len(rngs) > 0:
            raise ValueError("one scenario, war parameters and generator per replication")
        first = scenarios[0]
        for sc, wp in zip(scenarios, war_params, strict=True):
            if sc.space is not first.space or sc.parties != first.parties:
                raise ValueError("a batch's scenarios must share their outcome space and parties")
            for name in SHARED_WAR:
                if getattr(wp, name) != getattr(war_params[0], name):
                    raise ValueError(f"a batch's war parameters must share {name}")
        self.problem = first  # what the replications share: space, parties, control
        self.scenarios = list(scenarios)
        self.rep_war_params = war_params
        self._anticipated_cache: dict[tuple, Anticipation] = {}  # shared inputs, this month
        self._looked_ahead: dict[tuple, Anticipation] = {}  # this round's looks ahead
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
        self.delay_costs = np.stack(
            [np.zeros(n_parties) if sc.delay_costs is None else sc.delay_costs for sc in scenarios]
        )
        self.p_shares = np.array([war.aggressor_share(wp) for wp in war_params])
        wp0 = war_params[0]
        self.targets = war.target_line(self.p_shares, wp0.low, wp0.high)
        self.lines = np.full(n, first.contact_line)
        self._init_drift(scenarios, war_params)
        draws = [
            opening_draws(rng, n_parties, wp, s.max_rounds)
            for rng, wp in zip(rngs, war_params, strict=True)
        ]
        self.turn_order = np.stack([order for order, _ in draws])
        self.shocks = np.stack([shocks for _, shocks in draws])

        self.by_index: list[PartyAgent] = seat_parties(self, first, s)
        self.joins = np.array([a.joins_in_phase for a in self.by_index])
        self.deadlines = np.array([a.deadline for a in self.by_index])
        self.walks_at_deadline = np.array(
            [a.strategy.walks_out_at_deadline() for a in self.by_index]
        )
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
        self.perceived = np.zeros((n, n_parties, n_parties))  # [r, i, j]: j's BATNA as i sees it
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

        self.round = 0
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

    def _set_tables(self, distinct: Sequence[Scenario], rows: np.ndarray | None = None) -> None:
        """The values the parties bargain over, their preference orders and offer tables,
        from `distinct` (one scenario when the replications share them): all of them, or
        rows `rows` of them (the replications whose valuations changed)."""
        n_parties = len(self.parties)
        utilities = np.stack([sc.utilities for sc in distinct])  # (rows, parties, outcomes)
        orders = [
            np.stack([sc.preference_order[i][0] for sc in distinct]) for i in range(n_parties)
        ]
        neg_sorted = [  # utilities in preference order, negated: for searchsorted
            np.stack([-sc.preference_order[i][1] for sc in distinct]) for i in range(n_parties)
        ]
        tables = [np.stack([sc.offer_tables[i] for sc in distinct]) for i in range(n_parties)]
        best = np.max(utilities, axis=2, where=self.allowed[None], initial=-np.inf)
        if rows is None:
            self.utility_rows, self.orders, self.neg_sorted = utilities, orders, neg_sorted
            self.offer_tables, self.best = tables, best
            return
        self.utility_rows[rows] = utilities
        self.best[rows] = best
        for i in range(n_parties):
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
        self._looked_ahead.clear()
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

    def run(self) -> NegotiationBatch:
        """Step until every replication has ended."""
        while self.running:
            self.step()
        return self

    def _advance_war(self, reps: np.ndarray) -> None:
        wp = self.rep_war_params[0]
        before = self.lines[reps] if self.private_beliefs else None
        self._move_lines(reps, wp)
        if before is not None:
            self._learn(reps, before, wp)

    def _learn(self, reps: np.ndarray, before: np.ndarray, wp: war.WarParameters) -> None:
        """Every party updates its belief about the target line on the month's move of the
        contact line (`sim.core.beliefs.update`), a signal all of them see."""
        signal = beliefs.implied_target(
            before, self.lines[reps], wp.adjustment_rate, wp.months_per_round
        )
        rho = self.signal_precisions[reps]
        for value in np.unique(rho):  # replications share it unless volatility is drawn
            sel = reps[rho == value]
            self.belief_means[sel], self.belief_precisions[sel] = beliefs.update(
                self.belief_means[sel],
                self.belief_precisions[sel],
                signal[rho == value],
                float(value),
            )

    def _move_lines(self, reps: np.ndarray, wp: war.WarParameters) -> None:
        if self.n == 1:  # plain floats: several times cheaper than arrays of one
            line = war.advance_line(
                float(self.lines[0]),
                float(self.targets[0]),
                wp.adjustment_rate,
                wp.months_per_round,
                float(self.shocks[0, self.round - 2]),
            )
            self.lines[0] = min(max(line, wp.low), wp.high)
            return
        line = war.advance_line(
            self.lines[reps],
            self.targets[reps],
            wp.adjustment_rate,
            wp.months_per_round,
            self.shocks[reps, self.round - 2],
        )
        self.lines[reps] = np.minimum(np.maximum(line, wp.low), wp.high)

    def _set_reservations(self, live: np.ndarray) -> None:
        """This round's BATNAs: fixed, or the value of continuing the war from the line;
        with private beliefs, each party's from its own belief, and what it thinks the
        others' are from the same belief (it does not see theirs)."""
        if self.private_beliefs:
            if self.settings.batna is BatnaMode.static:
                self.batnas[live] = self.static_reservation[live]
                self.perceived[live] = self.batnas[live][:, None, :]
                return
            batna = self.war_batna if live.size == self.n else self.war_batna.rows(live)
            believed = self.belief_means[live] + self.target_offset[live, None]
            self.perceived[live] = batna.perceived(
                self.lines[live], believed, self.cost_beliefs[live]
            )
            self.batnas[live] = np.diagonal(self.perceived[live], axis1=1, axis2=2)
            return
        if self.settings.batna is BatnaMode.static:
            self.batnas[live] = self.static_reservation[live]
        elif self.n == 1:  # plain floats: the cheap path of `war.interp_rows`
            target = float(self.targets[0] + self.target_offset[0])
            self.batnas[:] = self.war_batna.value(float(self.lines[0]), target)
        elif live.size == self.n:
            self.batnas[:] = self.war_batna.value(self.lines, self.targets + self.target_offset)
        else:
            batna = self.war_batna.rows(live)
            target = self.targets[live] + self.target_offset[live]
            self.batnas[live] = batna.value(self.lines[live], target)

    def _mean_other_drop(self, reps: np.ndarray) -> np.ndarray:
        """For each party, the mean drop of the other seated parties' aspirations last round."""
        drops = self.previous_aspirations[reps] - self.aspirations[reps]
        seated = self.seated[reps].astype(np.float64)
        others = seated.sum(axis=1, keepdims=True) - seated
        total = (drops * seated).sum(axis=1, keepdims=True) - drops * seated
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

    # -- what parties know and can get ----------------------------------------------------
    def others_value(self, index: int, reps: np.ndarray, width: int) -> np.ndarray:
        """(len(reps), width): the smallest surplus of the other seated parties over the
        first `width` outcomes of party `index`'s preference order, as it knows them:
        complete information, their utilities minus their BATNAs (-inf across their red
        lines); learned, the frequency model of their offers (BATNAs unknown, 0); +inf
        with nobody else seated."""
        if reps.size == 1 and not self.learned:  # one negotiation: plain slices
            r = reps[0]
            js = np.flatnonzero(self.seated[r])
            js = js[js != index]
            if js.size == 0:
                return np.full((1, width), np.inf)
            table = self.offer_tables[index][0 if self.shared else r]
            return (table[js, :width] - self.batnas[r, js, None]).min(axis=0)[None]
        others = self.seated[reps] & (np.arange(len(self.parties)) != index)[None, :]
        value = np.full((reps.size, width), np.inf)
        if self.learned:
            estimates = self._learned_utilities(reps)  # (reps, parties, outcomes)
            order = self.orders[index][self.urows(reps), :width]
            known = np.take_along_axis(estimates, order[:, None, :], axis=2)
            return np.min(known, axis=1, where=others[:, :, None], initial=np.inf)
        code = others @ (1 << np.arange(others.shape[1]))
        patterns = code[:1] if (code == code[0]).all() else np.unique(code)
        for pattern in patterns:  # replications with the same parties seated
            sel = code == pattern
            js = np.flatnonzero(others[np.argmax(sel)])
            if js.size == 0:
                continue
            if self.shared:
                table = self.offer_tables[index][0][js, :width][None]
            else:
                table = self.offer_tables[index][reps[sel]][:, js, :width]
            value[sel] = (table - self.batnas[reps[sel]][:, js, None]).min(axis=1)
        return value

    def _learned_utilities(self, reps: np.ndarray) -> np.ndarray:
        """(len(reps), parties, outcomes): every party's utility as the frequency model of
        its offers so far estimates it (`sim.core.opponents.frequency_utilities`)."""
        n_parties = len(self.parties)
        counts = [c[reps].reshape(reps.size * n_parties, -1) for c in self.level_counts]
        unchanged = self.unchanged[reps].reshape(reps.size * n_parties, -1)
        estimates = opponents.frequency_utilities(counts, unchanged, self.space.shape)
        return estimates.reshape(reps.size, n_parties, -1)

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

    def _zopa_open(self, reps: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Per replication: is some implementable outcome worth its BATNA to every active
        party? Last round's witness first; a full scan only where it dropped out."""
        res = self.batnas[reps]
        witness = self.zopa_witness[reps]
        w = np.maximum(witness, 0)
        u = self.u_at(reps, w)  # (reps, parties)
        ok = within_batna(u[:, :, None], res)[:, :, 0] & self.allowed[:, w].T
        open_ = (witness >= 0) & self.can_implement[reps, w] & (ok | ~active).all(axis=1)
        if open_.all():
            return open_
        scan = np.flatnonzero(~open_)
        r = reps[scan]
        inside = zone_of_agreement(
            self.utility_rows[self.urows(r)],
            res[scan],
            self.allowed,
            active[scan],
            self.can_implement[r],
        )
        hit = inside.argmax(axis=1)
        found = inside[np.arange(r.size), hit]
        self.zopa_witness[r] = np.where(found, hit, -1)
        open_[scan] = found
        return open_

    def perceived_by(self, index: int, reps: np.ndarray) -> np.ndarray:
        """(len(reps), parties): every party's BATNA as party `index` believes it (its own
        BATNA at `index`); the true ones under common beliefs."""
        if self.private_beliefs:
            return self.perceived[reps, index]
        return self.batnas[reps]

    def believed_best(self, reps: np.ndarray, active: np.ndarray) -> np.ndarray:
        """(len(reps), parties): for each party, the most it believes it could get: its
        best implementable outcome that every other active party would accept, as it
        believes their BATNAs to be (-inf where it believes there is none)."""
        u = self.utility_rows[self.urows(reps)]  # (reps or 1, parties, outcomes)
        accept = within_batna(u[:, None], self.perceived[reps]) & self.allowed
        others = active[:, None, :] & ~np.eye(len(self.parties), dtype=bool)[None]
        zone = (accept | ~others[..., None]).all(axis=2)  # (reps, i, outcomes)
        zone &= self.allowed[None] & self.can_implement[reps][:, None, :]
        u = np.broadcast_to(u, zone.shape)
        return np.max(u, axis=2, where=zone, initial=-np.inf)

    def zopa_size(self, r: int) -> int:
        """Implementable outcomes worth its BATNA to every party of replication `r` that is
        still there, now; 0 when every party has left."""
        if self.walked_out[r].all():
            return 0
        inside = zone_of_agreement(
            self.utility_rows[self.urows(np.array([r]))[0]],
            self.batnas[r],
            self.allowed,
            ~self.walked_out[r],
            self.can_implement[r],
        )
        return int(np.count_nonzero(inside))

    def _check_walkouts(self, live: np.ndarray) -> np.ndarray:
        """Let seated parties walk out: a hard-liner at its deadline, anyone whose BATNA beat
        all it could still get `walkout_patience` rounds running. Ends the replications that
        broke down and returns those that go on to negotiate this round."""
        active = ~self.walked_out[live]
        at_deadline = self.walks_at_deadline & (self.round >= self.deadlines)
        seated = self.seated[live]
        if self.private_beliefs:  # what each party believes it could still get
            best = self.believed_best(live, active)
            closed = np.array([], dtype=np.int64)
        else:
            zopa_open = self._zopa_open(live, active)
            if zopa_open.all() and not at_deadline.any():  # nobody can be frustrated: all stay
                self.frustrated[live] = np.where(seated, 0, self.frustrated[live])
                return live
            best = np.full(active.shape, np.inf)  # in a ZOPA every party gets its BATNA
            closed = np.flatnonzero(~zopa_open)
        if closed.size:
            r = live[closed]
            u = np.broadcast_to(
                self.utility_rows[self.urows(r)], (r.size, *self.utility_rows.shape[1:])
            )
            ok = within_batna(u, self.batnas[r]) & self.allowed
            n_ok = (ok & active[closed, :, None]).sum(axis=1)
            n_active = active[closed].sum(axis=1)
            others_ok = (n_ok[:, None, :] - ok) == (n_active - 1)[:, None, None]
            reachable = others_ok & self.allowed & self.can_implement[r][:, None, :]
            best[closed] = np.max(u, axis=2, where=reachable, initial=-np.inf)
        counting = seated & ~at_deadline
        frustrated = np.where(best < self.batnas[live] - TOLERANCE, self.frustrated[live] + 1, 0)
        self.frustrated[live] = np.where(counting, frustrated, self.frustrated[live])
        patience = self.settings.walkout_patience
        impatient = seated & ~at_deadline & (self.frustrated[live] >= patience)
        if (  # under static BATNAs a zone closed now stays closed: nothing moves them
            self.settings.staying is Staying.hopeful
            and self.settings.batna is BatnaMode.war
            and impatient.any()
        ):
            k, i = np.nonzero(impatient)
            impatient[k, i] = ~self._zone_ahead(live[k], i, active[k])
        leaving = seated & (at_deadline | impatient)
        if not leaving.any():
            return live
        self.walked_out[live] |= leaving
        changed = live[leaving.any(axis=1)]
        for k in np.flatnonzero(leaving.any(axis=1)):
            for i in np.flatnonzero(leaving[k]):
                why = Walkout.deadline if at_deadline[i] else Walkout.batna
                self.walkout_names[live[k]].append(self.parties[i])
                self.walkout_whys[live[k]].append(str(why))
        gone = self.walked_out[changed]
        self.can_implement[changed] = ~(gone[:, :, None] & self.required[None]).any(axis=1)
        self.fully_implementable[changed] = self.can_implement[changed].all(axis=1)
        self.seated = self._seated()
        broke = ~self.can_implement[changed].any(axis=1) | ~self.seated[changed].any(axis=1)
        self._end(changed[broke], EndReason.breakdown)
        return live[self.live[live]]

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
        rejected = binding & self._rejected(reps, outcome, accepted)
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
            self.delay_costs[reps],
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

    def _single_text_round(self, reps: np.ndarray) -> None:
        text = self.texts[reps]
        redraft = (text < 0) | ~self.can_implement[reps, np.maximum(text, 0)]
        if redraft.any():
            text[redraft] = self._propose(reps[redraft], self.drafter(reps[redraft]), draft=True)
            self.texts[reps] = text
        has = text >= 0
        reps, text = reps[has], text[has]
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


class NegotiationModel(NegotiationBatch):
    """One negotiation: a batch of one, read as plain values, with its round-by-round trace
    (Mesa's DataCollector) when `settings.collect_trace`.

    The scenario is held as `problem`: Mesa's `Model.scenario` is taken by its own
    experiment settings.
    """

    def __init__(
        self,
        scenario: Scenario,
        settings: NegotiationSettings | None = None,
        war_params: war.WarParameters | None = None,
        rng: np.random.Generator | np.random.SeedSequence | int | None = None,
    ) -> None:
        super().__init__([scenario], settings, [war_params or scenario.war_params], [rng])
        trace = self.settings.collect_trace
        self.datacollector = mesa.DataCollector(model_reporters=self._reporters() if trace else {})

    def step(self) -> None:
        if not self.running:
            return
        super().step()
        if self.settings.collect_trace:
            self.datacollector.collect(self)

    def run(self) -> NegotiationModel:
        super().run()
        return self

    # -- replication 0 as plain values ----------------------------------------------------
    @property
    def utilities(self) -> np.ndarray:
        return self.utility_rows[0]

    @property
    def war_params(self) -> war.WarParameters:
        return self.rep_war_params[0]

    @property
    def phase(self) -> int:
        return int(self.phases[0])

    @property
    def contact_line(self) -> float:
        return float(self.lines[0])

    @property
    def p_share(self) -> float:
        return float(self.p_shares[0])

    @property
    def reservations(self) -> np.ndarray:
        return self.batnas[0]

    @property
    def implementable(self) -> np.ndarray:
        return self.can_implement[0]

    @property
    def offer(self) -> int | None:
        return None if self.offers[0] < 0 else int(self.offers[0])

    @property
    def text(self) -> int | None:
        return None if self.texts[0] < 0 else int(self.texts[0])

    @property
    def proposer(self) -> str | None:
        return None if self.proposers[0] < 0 else self.parties[int(self.proposers[0])]

    @property
    def agreement(self) -> int | None:
        return None if self.agreements[0] < 0 else int(self.agreements[0])

    @property
    def binding(self) -> bool:
        return bool(self.bound[0])

    @property
    def reason(self) -> EndReason | None:
        return self.reasons[0]

    @property
    def framework(self) -> int | None:
        return None if self.frameworks[0] < 0 else int(self.frameworks[0])

    @property
    def framework_round(self) -> int | None:
        return None if self.framework_rounds[0] < 0 else int(self.framework_rounds[0])

    @property
    def walkouts(self) -> list[str]:
        return list(self.walkout_names[0])

    @property
    def walkout_reasons(self) -> list[str]:
        return list(self.walkout_whys[0])

    def outcome(self) -> int | None:
        """The agreed outcome, binding or not; None without one."""
        return self.agreement

    # -- records --------------------------------------------------------------------------
    def _reporters(self) -> dict[str, Any]:
        reporters: dict[str, Any] = {
            "round": lambda m: m.round,
            "phase": lambda m: m.phase,
            "proposer": lambda m: m.proposer,
            "offer": lambda m: -1 if m.offer is None else m.offer,
            "contact_line": lambda m: m.contact_line,
            "p_share": lambda m: m.p_share,
            "zopa_size": lambda m: m.zopa_size(0),
        }
        for k, issue in enumerate(self.space.issues):
            reporters[issue.name] = lambda m, k=k, issue=issue: (
                None if m.offer is None else issue.levels[int(m.space.grid[m.offer, k])]
            )
        for agent in self.by_index:
            i, name = agent.index, agent.name
            reporters[f"u_{name}"] = lambda m, i=i: (
                np.nan if m.offer is None else float(m.utilities[i, m.offer])
            )
            reporters[f"aspiration_{name}"] = lambda m, i=i: m.by_index[i].aspiration
            reporters[f"reservation_{name}"] = lambda m, i=i: float(m.reservations[i])
            reporters[f"seated_{name}"] = lambda m, i=i: m.by_index[i].seated
            reporters[f"response_{name}"] = lambda m, i=i: (
                None if m.by_index[i].last_response is None else str(m.by_index[i].last_response)
            )
            if self.private_beliefs:  # the aggressor's share of strength as `name` believes it
                reporters[f"belief_{name}"] = lambda m, i=i: float(
                    beliefs.strength_beliefs(
                        m.belief_means[0, i], m.war_params.low, m.war_params.high
                    )
                )
        return reporters

    def trace(self) -> pd.DataFrame:
        """One row per round: the offer or text, utilities, aspirations, BATNAs, the line."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)


__all__ = [
    "BATCH_ELEMENTS",
    "MAX_BATCH",
    "NegotiationBatch",
    "NegotiationModel",
    "NegotiationResult",
    "Response",
    "batch_size",
    "opening_draws",
    "zone_of_agreement",
]
