"""Who stays at the table: the zone each party sees, and who walks out and when (patience,
a hard-liner's deadline, a hopeful party's look ahead). A mixin of
`sim.engine.model.NegotiationBatch`, whose state it reads."""

from __future__ import annotations

import numpy as np

from sim.core.preferences import TOLERANCE
from sim.core.settings import (
    BatnaMode,
    EndReason,
    Staying,
)
from sim.core.solutions import within_batna
from sim.engine.agents import Walkout


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


class WalkoutRules:
    """Walkouts of `NegotiationBatch` (a mixin: it holds no state)."""

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
        impatient = self._hopeful_stay(live, impatient)
        leaving = seated & (at_deadline | impatient)
        if not leaving.any():
            return live
        self._leave(live, leaving, at_deadline)
        return live[self.live[live]]

    def _hopeful_stay(self, reps: np.ndarray, impatient: np.ndarray) -> np.ndarray:
        """`impatient` (len(reps), parties) less the parties that stay because they expect a
        zone to open before their deadline (`staying=hopeful` under war BATNAs; under static
        BATNAs a zone closed now stays closed: nothing moves them)."""
        if not (
            self.settings.staying is Staying.hopeful
            and self.settings.batna is BatnaMode.war
            and impatient.any()
        ):
            return impatient
        impatient = impatient.copy()
        k, i = np.nonzero(impatient)
        impatient[k, i] = ~self._zone_ahead(reps[k], i, ~self.walked_out[reps[k]])
        return impatient

    def _leave(self, reps: np.ndarray, leaving: np.ndarray, at_deadline: np.ndarray) -> None:
        """The parties in `leaving` (len(reps), parties) walk out (a hard-liner at its
        deadline where `at_deadline`, else for want of anything worth its BATNA): what they
        control can no longer be agreed, and a replication where nothing can, or nobody is
        left at the table, breaks down."""
        self.walked_out[reps] |= leaving
        changed = reps[leaving.any(axis=1)]
        for k in np.flatnonzero(leaving.any(axis=1)):
            for i in np.flatnonzero(leaving[k]):
                why = Walkout.deadline if at_deadline[i] else Walkout.batna
                self.walkout_names[reps[k]].append(self.parties[i])
                self.walkout_whys[reps[k]].append(str(why))
        gone = self.walked_out[changed]
        self.can_implement[changed] = ~(gone[:, :, None] & self.required[None]).any(axis=1)
        self.fully_implementable[changed] = self.can_implement[changed].all(axis=1)
        self.seated = self._seated()
        broke = ~self.can_implement[changed].any(axis=1) | ~self.seated[changed].any(axis=1)
        self._end(changed[broke], EndReason.breakdown)
