"""One negotiation: a batch of one (`NegotiationModel`), read as plain values, with its
round-by-round trace (Mesa's DataCollector)."""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.core import beliefs, war
from sim.core.scenario import Scenario
from sim.core.settings import (
    EndReason,
    NegotiationSettings,
)
from sim.engine.model import NegotiationBatch


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
