"""Self-enforcing settlements in the engine (docs/model.md, "Self-enforcing settlements"
and "Talks that go on"): the balance drifting during the talks, every deal re-valued on
the path the parties anticipate (`Scenario.anticipation`), and a frustrated party's look
ahead for a zone that may open. A part of `sim.engine.model.NegotiationBatch`, whose state it
reads and writes; the maths is `sim.core.enforcement`'s."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.core import enforcement, war
from sim.core.scenario import Anticipation, Scenario
from sim.core.solutions import within_batna

# Points the balance's target line may drift on the territory scale before the parties
# re-value every deal on the path anticipated from then (self-enforcing settlements).
REFRESH_POINTS = 1.0
HOPE_POINTS = 12  # months a party looks at ahead before it gives up (`staying=hopeful`)


class AnticipatingBatch:
    """The self-enforcement part of `NegotiationBatch` (a mixin: it uses the batch's
    scenarios, war parameters, settings, targets, beliefs and tables)."""

    scenarios: list[Scenario]
    rep_war_params: list[war.WarParameters]
    settings: Any
    anticipations: list[Anticipation] | None

    def _init_drift(
        self, scenarios: Sequence[Scenario], war_params: Sequence[war.WarParameters]
    ) -> None:
        """The balance drifting during the talks: the true target month by month, and the
        one each party's value of war chases over the horizon
        (`enforcement.chased_targets`), as an offset from the current one; none without
        self-enforcement or without drift."""
        s, n, wp0 = self.settings, len(scenarios), war_params[0]
        self.target_path: np.ndarray | None = None
        self.target_offset = np.zeros(n)
        if self.anticipations is not None and any(
            wp.capacity_drift != 0 or (wp.support_drift is not None and np.any(wp.support_drift))
            for wp in war_params
        ):
            horizon = war.whole_months(wp0.horizon_months)
            talks = int(np.ceil(s.max_rounds * wp0.months_per_round)) + 1
            months = np.arange(talks + horizon, dtype=np.float64)
            path = np.stack(
                [
                    war.target_line(sc.balance_after(wp, months), wp0.low, wp0.high)
                    for sc, wp in zip(scenarios, war_params, strict=True)
                ]
            )
            self.target_path = path[:, :talks]
            chased = enforcement.chased_targets(path, wp0.adjustment_rate, horizon)[:, :talks]
            self.chase_offset = chased - self.target_path
            self.target_offset = self.chase_offset[:, 0].copy()
            self.valued_at_target = self.target_path[:, 0].copy()  # where the tables were made

    def _talk_month(self) -> int:
        """The month of the talks this round opens (round 1: month 0)."""
        return round((self.round - 1) * self.rep_war_params[0].months_per_round)

    def _anticipation_key(self, r: int) -> tuple[Any, ...]:
        """What replication `r`'s anticipated paths depend on: its scenario and drawn war
        parameters (replications with the same inputs share them)."""
        wp = self.rep_war_params[r]
        return (
            id(self.scenarios[r]),
            *(np.asarray(getattr(wp, k)).tobytes() for k in war.PER_REPLICATION),
        )

    def _anticipated(self, r: int, month: int) -> Anticipation:
        """Replication `r`'s deals on the path anticipated from `month` of the talks, for
        the rest of the talks (the tables' own), shared by the replications with the same
        inputs until the tables are next refreshed."""
        key = (*self._anticipation_key(r), month)
        found = self._anticipated_cache.get(key)
        if found is None:
            sc, wp = self.scenarios[r], self.rep_war_params[r]
            found = sc.anticipation(wp, self.settings.foresight_months, float(month))
            self._anticipated_cache[key] = found
        return found

    def _values_ahead(self, r: int, months: Sequence[int]) -> np.ndarray:
        """(months, parties, red-line-free outcomes): replication `r`'s deals nobody vetoes,
        each valued on the path anticipated from each of `months` (a look ahead: no other
        deal can make a zone). The months not yet known are computed in one pass
        (`Scenario.anticipations`) and kept while the looks ahead are of its inputs (one
        input set at a time: a batch's memory; a month's path does not depend on the round
        it is looked at from)."""
        base = self._anticipation_key(r)
        if self._looked_ahead and next(iter(self._looked_ahead))[:-1] != base:
            self._looked_ahead.clear()
        missing = []
        for month in dict.fromkeys(months):
            key = (*base, month)
            if key in self._looked_ahead:
                continue
            table = self._anticipated_cache.get(key)
            if table is None:
                missing.append(month)
            else:
                self._looked_ahead[key] = table.values[:, self.red_line_free]
        if missing:
            sc, wp = self.scenarios[r], self.rep_war_params[r]
            made = sc.anticipations(
                wp, self.settings.foresight_months, [float(m) for m in missing], self.red_line_free
            )
            for month, anticipation in zip(missing, made, strict=True):
                self._looked_ahead[(*base, month)] = anticipation.values
        return np.stack([self._looked_ahead[(*base, month)] for month in months])

    def _refresh_anticipations(self, reps: np.ndarray, month: int) -> None:
        """Re-value every deal on the path anticipated from this month, for the
        replications whose balance has drifted at least `REFRESH_POINTS` on the territory
        scale since their table was computed (self-enforcing settlements)."""
        moved = np.abs(self.target_path[reps, month] - self.valued_at_target[reps])
        stale = reps[moved >= REFRESH_POINTS]
        if stale.size == 0:
            return
        self._anticipated_cache.clear()  # the replications' own tables keep theirs
        for r in stale:
            self.anticipations[r] = self._anticipated(r, month)
            self.draftable[r] = self.anticipations[r].self_enforcing
        self.valued_at_target[stale] = self.target_path[stale, month]
        if self.shared:  # the replications share their drift: one table for all
            valuation = self.anticipations[stale[0]].values
            self._set_tables([dataclasses.replace(self.problem, valuation=valuation)])
            return
        valued = [
            dataclasses.replace(self.scenarios[r], valuation=self.anticipations[r].values)
            for r in stale
        ]
        self._set_tables(valued, stale)

    def _drift_balance(self, reps: np.ndarray) -> None:
        """This month's target line on the drifting balance; every party knows the drift,
        so its believed target moves by as much (it learns the level, not the trend)."""
        month = min(self._talk_month(), self.target_path.shape[1] - 1)
        moved = self.target_path[reps, month] - self.targets[reps]
        self.targets[reps] = self.target_path[reps, month]
        self.target_offset[reps] = self.chase_offset[reps, month]
        if self.private_beliefs:
            self.belief_means[reps] += moved[:, None]
        self._refresh_anticipations(reps, month)

    def _zone_ahead(self, reps: np.ndarray, parties: np.ndarray, active: np.ndarray) -> np.ndarray:
        """For each replication `reps[k]` and party `parties[k]`: does it believe a deal
        worth every active party's value of war will exist in some month before its own
        deadline (`staying=hopeful`; docs/model.md, "Talks that go on")? It looks at
        `HOPE_POINTS` months ahead, the line moving toward the target it believes in and
        the balance drifting as known (self-enforcement), every party's value of war then
        judged by its own belief and its belief about their costs."""
        wp = self.rep_war_params[0]
        found = np.zeros(reps.size, dtype=bool)
        for k, (r, i) in enumerate(zip(reps, parties, strict=True)):
            left = (self.deadlines[i] - self.round) * wp.months_per_round
            if left <= 0:
                continue
            months = np.linspace(wp.months_per_round, left, min(HOPE_POINTS, int(left) or 1))
            now = self.belief_means[r, i] if self.private_beliefs else self.targets[r]
            ahead = np.full(months.size, float(now))
            offset = np.full(months.size, float(self.target_offset[r]))
            if self.target_path is not None:
                step = self._talk_month()
                at = np.minimum(step + np.round(months).astype(int), self.target_path.shape[1] - 1)
                ahead += self.target_path[r, at] - self.target_path[r, step]
                offset = self.chase_offset[r, at]
            lines = war.expected_line(self.lines[r], ahead, wp.adjustment_rate, months)
            believed = np.repeat((ahead + offset)[:, None], len(self.parties), axis=1)
            doubt = self.cost_beliefs[r] if self.private_beliefs else np.ones(len(self.parties))
            costs = np.repeat(doubt[None], months.size, axis=0)
            view = self.war_batna.rows(np.full(months.size, r)).perceived(
                lines, believed[:, [i]], costs[:, [i]], viewers=[i]
            )
            batnas = view[:, 0, :]  # (months, parties): as party i sees them
            free = self.red_line_free  # a zone's deals cross nobody's red line
            if self.target_path is None:  # the deals keep their values
                u = self.utility_rows[self.urows(np.array([r]))[0]][None, :, free]
            else:  # each deal valued on the path anticipated from that month
                u = self._values_ahead(r, [int(m) for m in at])
            ok = within_batna(u, batnas) | ~active[k][None, :, None]
            zone = ok.all(axis=1) & self.can_implement[r, free]
            found[k] = zone.any()
        return found
