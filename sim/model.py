"""The negotiation as a Mesa model: one `step()` is one round (one month of war by default).

Protocols:
- single negotiating text (Raiffa 1982, *The Art and Science of Negotiation*, ch. 14): the
  mediator drafts one text; every party at the table accepts or objects with a
  counter-proposal; the mediator moves the text toward the objectors' proposals,
  weighted by their leverage (capability), and snaps it to the outcome grid;
- multilateral alternating offers (Rubinstein 1982, extended to n parties): the parties
  at the table propose in turn; an offer passes when every required signatory at the
  table accepts it.

Seating: `inclusive` seats everyone from round 1; `us_russia_first` seats the phase-one
parties until they agree a framework or `phase_one_rounds` pass, then the others join
and can accept, object or walk out. An agreement binds only when every party that
controls a level it sets has signed it (DESIGN.md, issue control).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet

from sim import rounds, war
from sim.agents import TOLERANCE, PartyAgent, Response, seat_parties
from sim.config import BatnaMode, Information, Protocol, Seating
from sim.opponents import estimated_utilities
from sim.scenario import Scenario


class EndReason(enum.StrEnum):
    agreement = "agreement"
    breakdown = "breakdown"
    deadline = "deadline"
    not_binding = "not_binding"


@dataclass(frozen=True)
class NegotiationSettings:
    """Protocol, seating and war settings for one negotiation."""

    protocol: Protocol = Protocol.single_text
    seating: Seating = Seating.inclusive
    mediator: str = "usa"
    phase_one_parties: tuple[str, ...] = ("usa", "russia")
    phase_one_rounds: int = 10
    max_rounds: int = 100
    information: Information = Information.complete
    batna: BatnaMode = BatnaMode.war
    walkout_patience: int = 3
    text_step: float = 0.5
    framework_commitment: float = 0.5
    collect_trace: bool = True

    @classmethod
    def from_config(cls, cfg: Any, **overrides: Any) -> NegotiationSettings:
        values = {
            "protocol": Protocol(cfg.protocol),
            "seating": Seating(cfg.seating),
            "mediator": str(cfg.mediator),
            "phase_one_parties": tuple(cfg.phase_one_parties),
            "phase_one_rounds": int(cfg.phase_one_rounds),
            "max_rounds": int(cfg.max_rounds),
            "information": Information(cfg.information),
            "batna": BatnaMode(cfg.batna),
            "walkout_patience": int(cfg.walkout_patience),
            "text_step": float(cfg.text_step),
            "framework_commitment": float(cfg.framework_commitment),
        }
        values.update(overrides)
        return cls(**values)


def opening_draws(
    rng: np.random.Generator | int | None,
    n_parties: int,
    war_params: war.WarParameters,
    max_rounds: int,
) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    """A negotiation's generator and everything drawn from it: the alternating-offers
    turn order (a permutation of the parties) and the war's shocks, drawn up front so that
    a replication gives the same negotiation alone or in a batch (`sim.batch`)."""
    generator = np.random.default_rng(rng)
    order = generator.permutation(n_parties)
    return generator, order, war.war_shocks(war_params, max_rounds, generator)


def zopa_count(
    utilities: np.ndarray,
    reservations: np.ndarray,
    allowed: np.ndarray,
    active: np.ndarray,
    implementable: np.ndarray,
) -> int:
    """Implementable outcomes every `active` party may accept and values at its BATNA."""
    if not active.any():
        return 0
    inside = utilities[active] >= reservations[active, None] - TOLERANCE
    inside &= allowed[active]
    return int(np.count_nonzero(inside.all(axis=0) & implementable))


class NegotiationModel(mesa.Model):
    """One negotiation between the scenario's parties, round by round.

    The scenario is held as `problem`: Mesa's `Model.scenario` is taken by its own
    experiment settings.
    """

    def __init__(
        self,
        scenario: Scenario,
        settings: NegotiationSettings | None = None,
        war_params: war.WarParameters | None = None,
        contact_line: float | None = None,
        territory_issue: str | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        cfg = scenario.config
        s = settings or NegotiationSettings.from_config(cfg)
        wp = war_params or scenario.war_params
        generator, order, self._shocks = opening_draws(rng, len(scenario.parties), wp, s.max_rounds)
        super().__init__(rng=generator)
        self.problem = scenario
        self.settings = s
        self.war_params = wp
        initial_line, default_territory = scenario.war_settings
        self.contact_line = initial_line if contact_line is None else float(contact_line)
        self.walkout_patience = s.walkout_patience

        self.parties = scenario.parties
        self.utilities = scenario.utilities
        self.red_line_crossed = scenario.red_line_crossed
        self.required = scenario.required_signatories
        self.capabilities = scenario.capabilities
        n_parties = len(self.parties)

        terr_name = territory_issue or default_territory
        self.territory_k = scenario.space.names.index(terr_name)
        self.war_batna = scenario.war_batna(self.war_params, self.territory_k)
        self.territory_positions = self.war_batna.territory_positions
        self.territory_values = self.war_batna.territory_values
        self.territory_weights = self.war_batna.territory_weights
        self.status_quo_other = self.war_batna.status_quo_other

        self.by_index: list[PartyAgent] = seat_parties(self, scenario, s, PartyAgent)
        phased = s.seating is Seating.us_russia_first and s.phase_one_rounds > 0
        self.mediator = self.by_index[scenario.party_index(s.mediator)]
        self.turn_order: list[PartyAgent] = [self.by_index[i] for i in order]

        self.round = 0
        self.phase = 1 if phased else 2
        self.reservations = np.zeros(n_parties)
        self.p_share = war.aggressor_share(self.war_params)
        self._target_line = war.target_line(self.p_share, self.war_params.low, self.war_params.high)
        self.implementable = np.ones(self.utilities.shape[1], dtype=bool)
        self.all_implementable = True
        self.offer: int | None = None
        self.proposer: str | None = None
        self.text: int | None = None
        self.framework: int | None = None
        self.framework_round: int | None = None
        self.agreement: int | None = None
        self.binding = False
        self.reason: EndReason | None = None
        self.walkouts: list[str] = []
        self.walkout_reasons: list[str] = []  # sim.agents.Walkout, per name in `walkouts`
        self._zopa_witness: int | None = None
        self._text_levels_cache: dict[tuple, list[np.ndarray]] = {}
        self.offer_history: list[list[int]] = [[] for _ in self.parties]
        self._known: np.ndarray | None = None  # learned surplus, until the next offer

        self.allowed = ~self.red_line_crossed  # (parties, outcomes)
        self._reactive = any(a.strategy.classifier["reactive"] for a in self.by_index)
        self._others_drop = np.zeros(n_parties)
        self._seated_idx: list[int] = []
        self._active = np.ones(n_parties, dtype=bool)  # not walked out
        self.seated: AgentSet = self._seated_agents()
        self.datacollector = mesa.DataCollector(
            model_reporters=self._reporters() if s.collect_trace else {}
        )

    # -- the round ------------------------------------------------------------------------
    def step(self) -> None:
        if not self.running:
            return
        self.round += 1
        if self.round > 1:
            self._advance_war()
        if self._update_phase():
            self.seated = self._seated_agents()
        self.reservations = self._reservation_values()
        if self._reactive:
            self._others_drop = self._mean_other_drop()
        for agent in self.by_index:
            agent.last_response = None
        self.seated.do("update_aspiration")  # independent of each other: any order
        if not self._check_walkouts():
            if self.settings.protocol is Protocol.single_text:
                self._single_text_round()
            else:
                self._alternating_round()
        if self.running and self.round >= self.settings.max_rounds:
            self._end(EndReason.not_binding if self.framework is not None else EndReason.deadline)
        if self.settings.collect_trace:
            self.datacollector.collect(self)

    def run(self) -> NegotiationModel:
        """Step until agreement, breakdown or the deadline."""
        while self.running:
            self.step()
        return self

    def _update_phase(self) -> bool:
        """Move to phase two when phase one is over; True when the seating changed."""
        s = self.settings
        if self.phase == 1 and (self.framework is not None or self.round > s.phase_one_rounds):
            self.phase = 2
            return True
        return False

    def _seated_agents(self) -> AgentSet:
        seated = self.agents.select(lambda a: a.seated)
        self._seated_idx = sorted(a.index for a in seated)
        return seated

    def _mean_other_drop(self) -> np.ndarray:
        """For each party, the mean drop of the other seated parties' aspirations last round."""
        drops = np.array([a.previous_aspiration - a.aspiration for a in self.by_index])
        seated = np.array([a.seated for a in self.by_index], dtype=np.float64)
        others = seated.sum() - seated
        total = (drops * seated).sum() - drops * seated
        return np.divide(total, others, out=np.zeros_like(total), where=others > 0)

    def _advance_war(self) -> None:
        wp = self.war_params
        shock = float(self._shocks[self.round - 2])
        line = war.advance_line(
            self.contact_line, self._target_line, wp.adjustment_rate, wp.months_per_round, shock
        )
        self.contact_line = min(max(line, wp.low), wp.high)

    def _reservation_values(self) -> np.ndarray:
        if self.settings.batna is BatnaMode.static:
            return self.problem.static_reservation
        # The war parameters are fixed for the negotiation: so are p, the target and costs.
        return self.war_batna.value(self.contact_line, self._target_line)

    def war_batna_draws(
        self, aggressor_capacity: np.ndarray, supporter_capabilities: np.ndarray, line: float
    ) -> np.ndarray:
        """(draws, parties) war BATNAs for draws of capacities (`war.WarBatna.draws`)."""
        return self.war_batna.draws(aggressor_capacity, supporter_capabilities, line)

    # -- what parties know and can get ----------------------------------------------------
    def last_concession(self, index: int) -> float:
        """Mean drop of the other seated parties' aspirations in the previous round."""
        return float(self._others_drop[index])

    def _learned_surplus(self) -> np.ndarray:
        """(parties, outcomes): each party's utility as the frequency model of its past
        offers estimates it (BATNAs unknown, 0)."""
        if self._known is None:
            shape = self.problem.space.shape
            rows = []
            for history in self.offer_history:
                levels = self.problem.space.unravel(np.asarray(history, dtype=np.int64))
                rows.append(estimated_utilities(levels.reshape(-1, len(shape)), shape))
            self._known = np.vstack(rows)
        return self._known

    def others_value(self, index: int, count: int) -> np.ndarray:
        """The smallest believed surplus among the other seated parties, over the first
        `count` outcomes of party `index`'s preference order. Complete information: true
        utilities minus true BATNAs, -inf across a red line; learned: the frequency model."""
        others = [j for j in self._seated_idx if j != index]
        if not others:
            return np.zeros(count)
        if self.settings.information is Information.complete:
            table = self.problem.offer_tables[index]
            return (table[others, :count] - self.reservations[others, None]).min(axis=0)
        order = self.problem.preference_order[index][0][:count]
        return self._learned_surplus()[:, order][others].min(axis=0)

    def _zopa_open(self, active: np.ndarray) -> bool:
        """Is there an implementable outcome every active party values at its BATNA?

        Checks last round's witness first (O(parties)); scans all outcomes only when the
        witness has dropped out of the zone.
        """
        w = self._zopa_witness
        if w is not None and self.implementable[w]:
            ok = (self.utilities[:, w] >= self.reservations - TOLERANCE) & self.allowed[:, w]
            if (ok | ~active).all():
                return True
        d = self.reservations[active] - TOLERANCE
        inside = (self.utilities[active] >= d[:, None]) & self.allowed[active]
        inside = inside.all(axis=0) & self.implementable
        hit = int(np.argmax(inside))
        self._zopa_witness = hit if inside[hit] else None
        return self._zopa_witness is not None

    @property
    def zopa_size(self) -> int:
        """Implementable outcomes every active party values at least at its BATNA, now."""
        active = np.array([not a.walked_out for a in self.by_index])
        return zopa_count(
            self.utilities, self.reservations, self.allowed, active, self.implementable
        )

    def _check_walkouts(self) -> bool:
        """Let seated parties walk out; returns True when the talks broke down."""
        active = self._active
        zopa_open = self._zopa_open(active)
        if not zopa_open:
            ok = (self.utilities >= self.reservations[:, None] - TOLERANCE) & self.allowed
            n_ok = ok[active].sum(axis=0)
            n_active = int(active.sum())
        left = False
        for agent in self.seated:
            if zopa_open:
                best = np.inf  # a ZOPA outcome gives every party at least its BATNA
            else:
                others_ok = (n_ok - ok[agent.index]) == n_active - 1
                reachable = others_ok & self.allowed[agent.index] & self.implementable
                best = float(np.max(agent.utility, where=reachable, initial=-np.inf))
            why = agent.consider_walkout(best)
            if why is not None:
                self.walkouts.append(agent.name)
                self.walkout_reasons.append(str(why))
                left = True
        if left:
            self._active = np.array([not a.walked_out for a in self.by_index])
            gone = ~self._active
            self.implementable = ~self.required[gone].any(axis=0)
            self.all_implementable = bool(self.implementable.all())
            self.seated = self._seated_agents()
            if not self.implementable.any() or not any(a.seated for a in self.by_index):
                self._end(EndReason.breakdown)
                return True
        return False

    # -- protocols ------------------------------------------------------------------------
    def _record_offer(self, agent: PartyAgent, outcome: int) -> None:
        self.offer_history[agent.index].append(outcome)
        self._known = None  # the learned estimates change with every offer

    def _settle(self, outcome: int, accepted: set[int], seated: set[int]) -> bool:
        """Apply the pass rule to a text or offer; returns True when the talks ended."""
        required = set(np.flatnonzero(self.required[:, outcome]).tolist())
        if self.settings.protocol is Protocol.single_text or self.phase == 1:
            accord = accepted >= seated
        else:
            # Every required signatory at the table; with none required, everyone seated.
            accord = accepted >= ((required & seated) or seated)
        if not accord:
            return False
        if accepted >= required:
            self.agreement, self.binding = outcome, True
            self._end(EndReason.agreement)
            return True
        if self.phase == 1:
            self.framework, self.framework_round = outcome, self.round
            keep = self.settings.framework_commitment
            for agent in self.seated:
                surplus = float(agent.utility[outcome]) - agent.reservation
                agent.framework_floor = agent.reservation + keep * max(surplus, 0.0)
            return False
        self.agreement, self.binding = outcome, False
        self._end(EndReason.not_binding)
        return True

    def _alternating_round(self) -> None:
        seated = [a for a in self.turn_order if a.seated]  # the fixed turn order
        proposer = seated[(self.round - 1) % len(seated)]
        if (
            self.phase == 2
            and self.framework is not None
            and self.framework_round == self.round - 1
            and self.implementable[self.framework]
        ):
            outcome = self.framework  # phase two opens on the framework
        else:
            outcome = proposer.propose()
        self.proposer = proposer.name
        if outcome is None:
            return
        self.offer = outcome
        self._record_offer(proposer, outcome)
        accepted = {a.index for a in seated if a.respond(outcome) is Response.accept}
        self._settle(outcome, accepted, {a.index for a in seated})

    def _single_text_round(self) -> None:
        seated = list(self.seated)
        if self.text is None or not self.implementable[self.text]:
            self.text = self.drafter().propose()
            if self.text is None:
                return
        self.offer, self.proposer = self.text, self.drafter().name
        accepted = {a.index for a in seated if a.respond(self.text) is Response.accept}
        if self._settle(self.text, accepted, {a.index for a in seated}):
            return
        objectors = [a for a in seated if a.index not in accepted]
        proposals = []
        for agent in objectors:
            proposal = agent.propose()
            if proposal is not None:
                self._record_offer(agent, proposal)
                proposals.append((agent.index, proposal))
        if proposals:
            self.text = self._move_text(self.text, proposals)

    def drafter(self) -> PartyAgent:
        """The mediator; if it walked out, the seated party with the most leverage."""
        if not self.mediator.walked_out:
            return self.mediator
        return max(self.seated, key=lambda a: (a.capability, -a.index))

    def _move_text(self, text: int, proposals: list[tuple[int, int]]) -> int:
        """Raiffa's step toward the objectors' proposals (`sim.rounds.move_texts`)."""
        offers = np.full((1, len(self.parties)), -1, dtype=np.int64)
        for index, outcome in proposals:
            offers[0, index] = outcome
        moved = rounds.move_texts(
            self.problem.space,
            self.problem.preferences.level_values,
            np.array([text]),
            offers,
            self.capabilities,
            self.settings.text_step,
            self._text_levels(),
            np.array([self.drafter().index]),
        )
        return int(moved[0])

    def _text_levels(self) -> list[np.ndarray]:
        """Per issue, (1, levels): the levels a text may use now (`rounds.text_levels_ok`)."""
        gone = tuple(a.index for a in self.by_index if a.walked_out)
        key = (gone, tuple(self._seated_idx))
        if key not in self._text_levels_cache:
            n = len(self.parties)
            gone_mask = np.isin(np.arange(n), gone)[None, :]
            seated_mask = np.isin(np.arange(n), self._seated_idx)[None, :]
            self._text_levels_cache[key] = rounds.text_levels_ok(
                self.problem.control,
                self.problem.preferences.red_lines,
                gone_mask,
                seated_mask,
                self.settings.information is Information.complete,
            )
        return self._text_levels_cache[key]

    def _end(self, reason: EndReason) -> None:
        self.reason = reason
        self.running = False

    # -- records --------------------------------------------------------------------------
    def _reporters(self) -> dict[str, Any]:
        reporters: dict[str, Any] = {
            "round": lambda m: m.round,
            "phase": lambda m: m.phase,
            "proposer": lambda m: m.proposer,
            "offer": lambda m: -1 if m.offer is None else m.offer,
            "contact_line": lambda m: m.contact_line,
            "p_share": lambda m: m.p_share,
            "zopa_size": lambda m: m.zopa_size,
        }
        for k, issue in enumerate(self.problem.space.issues):
            reporters[issue.name] = lambda m, k=k, issue=issue: (
                None if m.offer is None else issue.levels[int(m.problem.space.unravel(m.offer)[k])]
            )
        for agent in sorted(self.agents, key=lambda a: a.index):
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
        return reporters

    def trace(self) -> pd.DataFrame:
        """One row per round: the offer or text, utilities, aspirations, BATNAs, the line."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def outcome(self) -> int | None:
        """The agreed outcome, binding or not; None without one."""
        return self.agreement
