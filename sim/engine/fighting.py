"""The war beside the talks, in the batch: the line moves, the parties learn from it, and
each round's BATNAs and what each party believes the others hold follow. A mixin of
`sim.engine.model.NegotiationBatch`, whose state it reads."""

from __future__ import annotations

import numpy as np

from sim.core import beliefs, opponents, war
from sim.core.settings import (
    BatnaMode,
)
from sim.core.solutions import within_batna


class FightingBatch:
    """The war of `NegotiationBatch`: lines, learning, BATNAs (a mixin: it holds no state)."""

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
            if live.size == self.n:
                self.batnas[:] = self.static_reservation
            else:
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
