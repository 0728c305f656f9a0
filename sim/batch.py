"""A job's replications as one Mesa model: the rules of `sim.model.NegotiationModel`, with
every party's state held as arrays over replications.

On a grid of a few thousand outcomes a negotiation round is mostly Python and Mesa
overhead, not arithmetic; a batch pays that overhead once per round for all its
replications. Each replication keeps its own generator (`sim.model.opening_draws`),
scenario (after its draws) and war parameters, and ends on its own: its result is the one
the one-negotiation model gives for the same inputs (tests/test_batch.py checks this).
Learned information (opponent models built from each replication's offers) and the
round-by-round trace stay with the one-negotiation model: see `supports`.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np

from sim import rounds, war
from sim.agents import TOLERANCE, Party, Walkout, seat_parties
from sim.config import BatnaMode, Information, Protocol, Seating
from sim.model import EndReason, NegotiationSettings, opening_draws, zopa_count
from sim.scenario import Scenario
from sim.strategies import AspirationInput, between, share_left

# Parameters a batch's replications must share: the war's clock and scale, not its balance.
SHARED_WAR = ("adjustment_rate", "months_per_round", "horizon_months", "discount", "low", "high")


# Below these many replications one model after another is faster than a batch: a batched
# round costs several times a single one in fixed overhead (default scenario, one core;
# measured with benchmarks/negotiation.py).
BATCH_FROM = {Protocol.single_text: 3, Protocol.alternating_offers: 8}


# With drawn saliences a replication brings its own utilities, preference orders and
# offer tables, (3 + parties) x parties x outcomes numbers: keep a batch's near this many
# (160 MB of float64), so that a job of 10^5 replications runs in bounded memory.
BATCH_ELEMENTS = 20_000_000
MAX_BATCH = 1_000  # beyond this a bigger batch is no faster (benchmarks/negotiation.py)


def batch_size(n_parties: int, n_outcomes: int) -> int:
    """Replications per batch for an outcome space of this size (at least 1)."""
    per_replication = (3 + n_parties) * n_parties * n_outcomes
    return max(1, min(MAX_BATCH, BATCH_ELEMENTS // max(per_replication, 1)))


def supports(settings: NegotiationSettings) -> bool:
    """Can these settings run as a batch? Everything but learned information."""
    return settings.information is Information.complete


def worth_batching(settings: NegotiationSettings, replications: int) -> bool:
    """Run these replications as a batch? Same results either way; this is about speed."""
    return supports(settings) and replications >= BATCH_FROM[settings.protocol]


class BatchPartyAgent(Party):
    """A party in every replication: its settings, and its offers for many replications at
    once. Its state is column `index` of the model's (replications, parties) arrays, which
    the model updates for all parties together (aspirations, responses, walkouts)."""

    model: BatchNegotiationModel

    def propose(self, reps: np.ndarray) -> np.ndarray:
        """Per replication: among its outcomes at or above its aspiration, the one the other
        seated parties value most (their smallest surplus); -1 where it has nothing to
        offer (`PartyAgent.propose`, the same ties: best first, then lowest index)."""
        m, i = self.model, self.index
        threshold = -(m.aspiration[reps, i] - TOLERANCE)
        if m.shared:
            order = m.orders[i][:1]  # (1, outcomes it can accept), best first
            count = np.searchsorted(m.neg_sorted[i][0], threshold, side="right")
        else:
            order = m.orders[i][reps]
            count = (m.neg_sorted[i][reps] <= threshold[:, None]).sum(axis=1)
        out = np.full(reps.size, -1, dtype=np.int64)
        width = int(count.max(initial=0))
        if width > 0:
            valid = np.arange(width)[None, :] < count[:, None]
            if not m.all_implementable[reps].all():
                valid &= np.take_along_axis(m.implementable[reps], order[:, :width], axis=1)
            value = self._others_value(reps, width)
            pick = np.argmax(np.where(valid, value, -np.inf), axis=1)
            at = np.arange(reps.size)
            unsure = ~valid[at, pick]  # every value -inf: the first candidate, as argmax
            pick[unsure] = np.argmax(valid[unsure], axis=1)
            found = valid.any(axis=1)
            chosen = np.broadcast_to(order[:, :width], valid.shape)[at, pick]
            out[found] = chosen[found]
        empty = out < 0  # its BATNA rose above all it can get: ask for its best
        if empty.any():
            full = np.broadcast_to(order, (reps.size, order.shape[1]))[empty]
            reachable = np.take_along_axis(m.implementable[reps[empty]], full, axis=1)
            first = full[np.arange(full.shape[0]), np.argmax(reachable, axis=1)]
            out[empty] = np.where(reachable.any(axis=1), first, -1)
        return out

    def _others_value(self, reps: np.ndarray, width: int) -> np.ndarray:
        """(len(reps), width): the smallest surplus of the other seated parties over the
        first `width` outcomes of this party's order (+inf with nobody else seated)."""
        m, i = self.model, self.index
        others = m.seated[reps] & (np.arange(len(m.parties)) != i)[None, :]
        code = others @ (1 << np.arange(others.shape[1]))
        value = np.full((reps.size, width), np.inf)
        patterns = code[:1] if (code == code[0]).all() else np.unique(code)
        for pattern in patterns:  # replications with the same parties seated
            sel = code == pattern
            js = np.flatnonzero(others[np.argmax(sel)])
            if js.size == 0:
                continue
            if m.shared:
                table = m.offer_tables[i][0][js, :width][None]
            else:
                table = m.offer_tables[i][reps[sel]][:, js, :width]
            value[sel] = (table - m.reservations[reps[sel]][:, js, None]).min(axis=1)
        return value


class BatchNegotiationModel(mesa.Model):
    """Replications of one negotiation, round by round, as arrays over replications.

    `scenarios`, `war_params` and `rngs` give each replication's scenario (its drawn
    saliences and war costs), war parameters (its drawn support and capacities) and
    generator. The scenarios share their outcome space, parties, red lines and control.
    """

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        settings: NegotiationSettings,
        war_params: Sequence[war.WarParameters],
        rngs: Sequence[np.random.Generator | int],
    ) -> None:
        super().__init__(rng=0)  # the model itself draws nothing
        if not supports(settings):
            raise ValueError(
                f"information: got {settings.information.value!r}; a batch allows: 'complete'"
            )
        if not len(scenarios) == len(war_params) == len(rngs) > 0:
            raise ValueError("one scenario, war parameters and generator per replication")
        first = scenarios[0]
        for sc, wp in zip(scenarios, war_params, strict=True):
            if sc.space is not first.space or sc.parties != first.parties:
                raise ValueError("a batch's scenarios must share their outcome space and parties")
            for name in SHARED_WAR:
                if getattr(wp, name) != getattr(war_params[0], name):
                    raise ValueError(f"a batch's war parameters must share {name}")
        s = self.settings = settings
        self.scenarios = list(scenarios)
        self.war_params = list(war_params)
        self.n = n = len(scenarios)
        self.parties = first.parties
        self.space = first.space
        n_parties = len(self.parties)

        self.red_line_crossed = first.red_line_crossed
        self.allowed = ~self.red_line_crossed
        self.required = first.required_signatories
        self.capabilities = first.capabilities
        shared = all(sc.preferences is first.preferences for sc in scenarios)
        distinct = [first] if shared else self.scenarios
        self.utilities = np.stack([sc.utilities for sc in distinct])  # (1 or n, parties, out)
        self.orders = [
            np.stack([sc.preference_order[i][0] for sc in distinct]) for i in range(n_parties)
        ]
        self.sorted_utilities = [
            np.stack([sc.preference_order[i][1] for sc in distinct]) for i in range(n_parties)
        ]
        self.neg_sorted = [-u for u in self.sorted_utilities]  # ascending: for searchsorted
        self.offer_tables = [
            np.stack([sc.offer_tables[i] for sc in distinct]) for i in range(n_parties)
        ]
        self.best = np.max(self.utilities, axis=2, where=self.allowed[None], initial=-np.inf)
        self.shared = shared

        initial_line, territory_name = first.war_settings
        self.territory_k = self.space.names.index(territory_name)
        batnas = [
            sc.war_batna(wp, self.territory_k) for sc, wp in zip(scenarios, war_params, strict=True)
        ]
        self.batnas = batnas
        self.war_batna = war.WarBatna(
            war_params[0],
            batnas[0].territory_positions,
            batnas[0].territory_values,
            np.stack([b.territory_weights for b in batnas]),
            np.stack([b.status_quo_other for b in batnas]),
            np.stack([b.cost for b in batnas]),
        )
        self.p_share = np.array([war.aggressor_share(wp) for wp in war_params])
        wp0 = war_params[0]
        self.target_line = war.target_line(self.p_share, wp0.low, wp0.high)
        self.static_reservation = np.stack([sc.static_reservation for sc in scenarios])
        self.contact_line = np.full(n, initial_line)
        draws = [
            opening_draws(rng, n_parties, wp, s.max_rounds)
            for rng, wp in zip(rngs, war_params, strict=True)
        ]
        self.turn_order = np.stack([order for _, order, _ in draws])
        self.shocks = np.stack([shocks for _, _, shocks in draws])

        phased = s.seating is Seating.us_russia_first and s.phase_one_rounds > 0
        self.by_index: list[BatchPartyAgent] = seat_parties(self, first, s, BatchPartyAgent)
        self.joins = np.array([a.joins_in_phase for a in self.by_index])
        self.deadlines = np.array([a.deadline for a in self.by_index])
        self.walks_at_deadline = np.array(
            [a.strategy.walks_out_at_deadline() for a in self.by_index]
        )
        self.time_dependent = np.array(
            [bool(a.strategy.classifier["time_dependent"]) for a in self.by_index]
        )
        self.mediator = first.party_index(s.mediator)
        self._reactive = any(a.strategy.classifier["reactive"] for a in self.by_index)

        self.round = 0
        self.live = np.ones(n, dtype=bool)
        self.end_round = np.zeros(n, dtype=np.int64)
        self.phase = np.full(n, 1 if phased else 2)
        self.reservations = np.zeros((n, n_parties))
        self.aspiration = np.broadcast_to(self.best, (n, n_parties)).copy()
        self.previous_aspiration = self.aspiration.copy()
        self.framework_floor = np.full((n, n_parties), -np.inf)
        self.others_drop = np.zeros((n, n_parties))
        self.walked_out = np.zeros((n, n_parties), dtype=bool)
        self.frustrated = np.zeros((n, n_parties), dtype=np.int64)
        self.seated = self._seated()
        self.implementable = np.ones((n, self.space.size), dtype=bool)
        self.all_implementable = np.ones(n, dtype=bool)
        self.zopa_witness = np.full(n, -1)
        self.text = np.full(n, -1)
        self.offer = np.full(n, -1)
        self.agreement = np.full(n, -1)
        self.binding = np.zeros(n, dtype=bool)
        self.framework = np.full(n, -1)
        self.framework_round = np.full(n, -1)
        self.reason: list[EndReason | None] = [None] * n
        self.walkouts: list[list[str]] = [[] for _ in range(n)]
        self.walkout_reasons: list[list[str]] = [[] for _ in range(n)]

    # -- arrays over replications ---------------------------------------------------------
    def urows(self, reps: np.ndarray) -> np.ndarray:
        """Rows of the utility arrays for replications `reps` (one row when shared)."""
        return np.zeros_like(reps) if self.shared else reps

    def u_at(self, reps: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
        """(len(reps), parties): every party's utility of each replication's outcome."""
        return self.utilities[self.urows(reps), :, outcomes]

    def _seated(self) -> np.ndarray:
        return ~self.walked_out & (self.phase[:, None] >= self.joins[None, :])

    # -- the round ------------------------------------------------------------------------
    def step(self) -> None:
        live = np.flatnonzero(self.live)
        if live.size == 0:
            self.running = False
            return
        self.round += 1
        s = self.settings
        if self.round > 1:
            self._advance_war(live)
        if s.seating is Seating.us_russia_first:
            over = (self.framework[live] >= 0) | (self.round > s.phase_one_rounds)
            self.phase[live[over & (self.phase[live] == 1)]] = 2
        self.seated = self._seated()
        if s.batna is BatnaMode.static:
            self.reservations[live] = self.static_reservation[live]
        else:
            batna = self.war_batna.rows(live)  # each replication its weights and costs
            self.reservations[live] = batna.value(self.contact_line[live], self.target_line[live])
        if self._reactive:
            self.others_drop[live] = self._mean_other_drop(live)
        self._update_aspirations(live)
        go = self._check_walkouts(live)
        if go.size:
            if s.protocol is Protocol.single_text:
                self._single_text_round(go)
            else:
                self._alternating_round(go)
        if self.round >= s.max_rounds:
            open_ = np.flatnonzero(self.live)
            framed = self.framework[open_] >= 0
            self._end(open_[framed], EndReason.not_binding)
            self._end(open_[~framed], EndReason.deadline)
        self.running = bool(self.live.any())

    def run(self) -> BatchNegotiationModel:
        """Step until every replication has ended."""
        while self.running:
            self.step()
        return self

    def _update_aspirations(self, live: np.ndarray) -> None:
        """Every seated party's aspiration this round (`PartyAgent.update_aspiration`):
        never below its BATNA nor below what it keeps of a framework it agreed."""
        seated = self.seated[live]
        floor = np.maximum(self.reservations[live], self.framework_floor[live])
        best = np.maximum(self.best[self.urows(live)], floor)
        previous = self.aspiration[live]
        shares = [
            share_left(self.round, a.deadline, a.strategy.exponent) if timed else 0.0
            for a, timed in zip(self.by_index, self.time_dependent, strict=True)
        ]
        new = between(floor, best, np.array(shares)[None, :])
        for agent in self.by_index:
            if not self.time_dependent[agent.index]:
                i = agent.index
                x = AspirationInput(
                    round=self.round,
                    deadline=agent.deadline,
                    best=best[:, i],
                    reservation=floor[:, i],
                    previous=previous[:, i],
                    others_concession=self.others_drop[live, i],
                )
                new[:, i] = agent.strategy.aspiration(x)
        new = np.maximum(new, floor)
        self.previous_aspiration[live] = np.where(seated, previous, self.previous_aspiration[live])
        self.aspiration[live] = np.where(seated, new, previous)

    def _advance_war(self, reps: np.ndarray) -> None:
        wp = self.war_params[0]
        line = war.advance_line(
            self.contact_line[reps],
            self.target_line[reps],
            wp.adjustment_rate,
            wp.months_per_round,
            self.shocks[reps, self.round - 2],
        )
        self.contact_line[reps] = np.minimum(np.maximum(line, wp.low), wp.high)

    def _mean_other_drop(self, reps: np.ndarray) -> np.ndarray:
        drops = self.previous_aspiration[reps] - self.aspiration[reps]
        seated = self.seated[reps].astype(np.float64)
        others = seated.sum(axis=1, keepdims=True) - seated
        total = (drops * seated).sum(axis=1, keepdims=True) - drops * seated
        return np.divide(total, others, out=np.zeros_like(total), where=others > 0)

    def _zopa_open(self, reps: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Per replication: is some implementable outcome worth its BATNA to every active
        party? Last round's witness first; a full scan only where it dropped out."""
        res = self.reservations[reps]
        witness = self.zopa_witness[reps]
        open_ = np.zeros(reps.size, dtype=bool)
        known = np.flatnonzero(witness >= 0)
        if known.size:
            w, r = witness[known], reps[known]
            ok = (self.u_at(r, w) >= res[known] - TOLERANCE) & self.allowed[:, w].T
            open_[known] = self.implementable[r, w] & (ok | ~active[known]).all(axis=1)
        scan = np.flatnonzero(~open_)
        if scan.size:
            r = reps[scan]
            inside = (
                self.utilities[self.urows(r)] >= res[scan, :, None] - TOLERANCE
            ) & self.allowed
            inside = (inside | ~active[scan, :, None]).all(axis=1) & self.implementable[r]
            hit = np.argmax(inside, axis=1)
            found = inside[np.arange(r.size), hit]
            self.zopa_witness[r] = np.where(found, hit, -1)
            open_[scan] = found
        return open_

    def _check_walkouts(self, live: np.ndarray) -> np.ndarray:
        """Let seated parties walk out; ends the replications that broke down and returns
        those that go on to negotiate this round."""
        active = ~self.walked_out[live]
        best = np.full(active.shape, np.inf)  # in a ZOPA every party gets its BATNA
        closed = np.flatnonzero(~self._zopa_open(live, active))
        if closed.size:
            r = live[closed]
            u = np.broadcast_to(self.utilities[self.urows(r)], (r.size, *self.utilities.shape[1:]))
            ok = (u >= self.reservations[r, :, None] - TOLERANCE) & self.allowed
            n_ok = (ok & active[closed, :, None]).sum(axis=1)
            n_active = active[closed].sum(axis=1)
            others_ok = (n_ok[:, None, :] - ok) == (n_active - 1)[:, None, None]
            reachable = others_ok & self.allowed & self.implementable[r][:, None, :]
            best[closed] = np.max(u, axis=2, where=reachable, initial=-np.inf)
        # Walk out: a hard-liner at its deadline, anyone whose BATNA beat all it could get
        # `walkout_patience` rounds running (`PartyAgent.consider_walkout`).
        seated = self.seated[live]
        at_deadline = self.walks_at_deadline & (self.round >= self.deadlines)
        counting = seated & ~at_deadline
        frustrated = np.where(
            best < self.reservations[live] - TOLERANCE, self.frustrated[live] + 1, 0
        )
        self.frustrated[live] = np.where(counting, frustrated, self.frustrated[live])
        leaving = seated & (at_deadline | (self.frustrated[live] >= self.settings.walkout_patience))
        self.walked_out[live] |= leaving
        left_any = np.zeros(self.n, dtype=bool)
        left_any[live] = leaving.any(axis=1)
        for k in np.flatnonzero(leaving.any(axis=1)):
            for i in np.flatnonzero(leaving[k]):
                why = Walkout.deadline if at_deadline[i] else Walkout.batna
                self.walkouts[live[k]].append(self.parties[i])
                self.walkout_reasons[live[k]].append(str(why))
        changed = np.flatnonzero(left_any)
        if changed.size:
            gone = self.walked_out[changed]
            self.implementable[changed] = ~(gone[:, :, None] & self.required[None]).any(axis=1)
            self.all_implementable[changed] = self.implementable[changed].all(axis=1)
            self.seated = self._seated()
            broke = ~self.implementable[changed].any(axis=1) | ~self.seated[changed].any(axis=1)
            self._end(changed[broke], EndReason.breakdown)
        return live[self.live[live]]

    # -- protocols ------------------------------------------------------------------------
    def _end(self, reps: np.ndarray, reason: EndReason) -> None:
        for r in reps:
            self.reason[r] = reason
        self.end_round[reps] = self.round
        self.live[reps] = False

    def _settle(self, reps: np.ndarray, outcome: np.ndarray, accepted: np.ndarray) -> np.ndarray:
        """The pass rule for each replication's text or offer (`NegotiationModel._settle`);
        returns True where the talks ended."""
        seated = self.seated[reps]
        required = self.required[:, outcome].T
        phase_one = self.phase[reps] == 1
        everyone = phase_one | (self.settings.protocol is Protocol.single_text)
        at_table = required & seated
        need = np.where((everyone | ~at_table.any(axis=1))[:, None], seated, at_table)
        accord = (accepted | ~need).all(axis=1)
        binding = accord & (accepted | ~required).all(axis=1)
        framework = accord & ~binding & phase_one
        not_binding = accord & ~binding & ~phase_one
        done = reps[binding]
        self.agreement[done], self.binding[done] = outcome[binding], True
        self._end(done, EndReason.agreement)
        if framework.any():
            f = reps[framework]
            self.framework[f], self.framework_round[f] = outcome[framework], self.round
            res = self.reservations[f]
            surplus = self.u_at(f, outcome[framework]) - res
            floor = res + self.settings.framework_commitment * np.maximum(surplus, 0.0)
            self.framework_floor[f] = np.where(self.seated[f], floor, self.framework_floor[f])
        loose = reps[not_binding]
        self.agreement[loose] = outcome[not_binding]
        self._end(loose, EndReason.not_binding)
        return binding | not_binding

    def _propose(self, reps: np.ndarray, proposer: np.ndarray) -> np.ndarray:
        out = np.full(reps.size, -1, dtype=np.int64)
        for agent in self.by_index:
            mine = proposer == agent.index
            if mine.any():
                out[mine] = agent.propose(reps[mine])
        return out

    def _responses(self, reps: np.ndarray, outcome: np.ndarray) -> np.ndarray:
        """(len(reps), parties): which seated parties accept each replication's text or
        offer (`sim.agents.accepts`): at least the aspiration and the BATNA, no red line."""
        u = self.u_at(reps, outcome)
        return (
            self.seated[reps]
            & ~self.red_line_crossed[:, outcome].T
            & (u >= self.aspiration[reps] - TOLERANCE)
            & (u >= self.reservations[reps] - TOLERANCE)
        )

    def _alternating_round(self, reps: np.ndarray) -> None:
        order = self.turn_order[reps]
        rows = np.arange(reps.size)[:, None]
        in_turn = self.seated[reps][rows, order]  # seated, in each replication's turn order
        k = (self.round - 1) % in_turn.sum(axis=1)
        position = np.argmax(in_turn & (np.cumsum(in_turn, axis=1) - 1 == k[:, None]), axis=1)
        proposer = order[np.arange(reps.size), position]
        framework = self.framework[reps]
        opens = (
            (self.phase[reps] == 2)
            & (framework >= 0)
            & (self.framework_round[reps] == self.round - 1)
            & self.implementable[reps, np.maximum(framework, 0)]
        )
        outcome = np.where(opens, framework, -1)
        outcome[~opens] = self._propose(reps[~opens], proposer[~opens])
        made = outcome >= 0
        reps, outcome = reps[made], outcome[made]
        self.offer[reps] = outcome
        self._settle(reps, outcome, self._responses(reps, outcome))

    def drafter(self, reps: np.ndarray) -> np.ndarray:
        """The mediator; where it walked out, the seated party with the most leverage."""
        seated = self.seated[reps]
        leverage = np.where(seated, self.capabilities[None, :], -np.inf)
        acting = np.argmax(leverage == leverage.max(axis=1, keepdims=True), axis=1)
        return np.where(self.walked_out[reps, self.mediator], acting, self.mediator)

    def _single_text_round(self, reps: np.ndarray) -> None:
        text = self.text[reps]
        redraft = (text < 0) | ~self.implementable[reps, np.maximum(text, 0)]
        if redraft.any():
            text[redraft] = self._propose(reps[redraft], self.drafter(reps[redraft]))
            self.text[reps] = text
        has = text >= 0
        reps, text = reps[has], text[has]
        self.offer[reps] = text
        accepted = self._responses(reps, text)
        ended = self._settle(reps, text, accepted)
        objecting = self.seated[reps] & ~accepted & ~ended[:, None]
        proposals = np.full(objecting.shape, -1, dtype=np.int64)
        for agent in self.by_index:
            mine = objecting[:, agent.index]
            if mine.any():
                proposals[mine, agent.index] = agent.propose(reps[mine])
        moving = (proposals >= 0).any(axis=1)
        if moving.any():
            r = reps[moving]
            levels_ok = rounds.text_levels_ok(
                self.scenarios[0].control,
                self.scenarios[0].preferences.red_lines,
                self.walked_out[r],
                self.seated[r],
                complete=True,
            )
            self.text[r] = rounds.move_texts(
                self.space,
                self.scenarios[0].preferences.level_values,
                self.text[r],
                proposals[moving],
                self.capabilities,
                self.settings.text_step,
                levels_ok,
                self.drafter(r),
            )

    # -- results --------------------------------------------------------------------------
    def replica(self, r: int) -> Replica:
        """Replication `r`'s result, with the attributes of a finished NegotiationModel that
        `sim.replication`'s rows read."""
        return Replica(self, r)


class Replica:
    """One replication of a finished batch, read like a finished `NegotiationModel`."""

    def __init__(self, batch: BatchNegotiationModel, r: int) -> None:
        self.problem = batch.scenarios[r]
        self.settings = batch.settings
        self.war_params = batch.war_params[r]
        self.war_batna = batch.batnas[r]
        self.territory_k = batch.territory_k
        self.territory_positions = self.war_batna.territory_positions
        self.territory_values = self.war_batna.territory_values
        self.territory_weights = self.war_batna.territory_weights
        self.status_quo_other = self.war_batna.status_quo_other
        self.round = int(batch.end_round[r] or batch.round)
        self.reason = batch.reason[r]
        self.binding = bool(batch.binding[r])
        self.agreement = None if batch.agreement[r] < 0 else int(batch.agreement[r])
        self.framework = None if batch.framework[r] < 0 else int(batch.framework[r])
        self.walkouts = list(batch.walkouts[r])
        self.walkout_reasons = list(batch.walkout_reasons[r])
        self.contact_line = float(batch.contact_line[r])
        self.p_share = float(batch.p_share[r])
        self.reservations = batch.reservations[r].copy()
        self._active = ~batch.walked_out[r]
        self._implementable = batch.implementable[r]

    @property
    def zopa_size(self) -> int:
        return zopa_count(
            self.problem.utilities,
            self.reservations,
            ~self.problem.red_line_crossed,
            self._active,
            self._implementable,
        )

    def outcome(self) -> int | None:
        return self.agreement

    def war_batna_draws(
        self, aggressor_capacity: np.ndarray, supporter_capabilities: np.ndarray, line: float
    ) -> np.ndarray:
        return self.war_batna.draws(aggressor_capacity, supporter_capabilities, line)
