"""The round of calendar talks under alternating offers as one compiled kernel (numba) over
a batch's arrays (docs/model.md, "Negotiation" and "Computed").

One call plays a round in every live replication: each seated party's aspiration from its
strategy (Faratin, Sierra & Jennings 1998: time-dependent, reciprocal, hard-liner), the
walkouts (a hard-liner at its deadline, a party whose BATNA beat all it could get
`walkout_patience` rounds running), the proposal of the party whose turn it is, the
answers, and the pass rule with ratification. It is the numpy round of
`sim.engine.model.NegotiationBatch` (`_update_aspirations`, `_check_walkouts`,
`_alternating_round`, `_settle`) written as loops over replications, parties and outcomes,
the same comparisons and the same arithmetic in the same order, so that every state it
leaves is the numpy round's to the bit; the numpy round stays the definition and the test
oracle (tests/test_round_kernel.py). A proposal walks the prefix of the proposer's preference
order at or above its aspiration, reading the others' utilities where the numpy round
gathers them from its offer table.

The engine uses it for the settings it covers (`NegotiationBatch._kernel_covers`) once a
process has played `model.COMPILE_ROUNDS_AFTER` replication-rounds. Compiled once per
machine (`cache=True`).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.core.preferences import TOLERANCE

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

# Strategy kinds (`sim.core.strategies`): how an aspiration moves.
TIME_DEPENDENT, RECIPROCAL, HARD_LINER = 0, 1, 2
# How a replication ended this round (`sim.core.settings.EndReason`, in the engine).
GOING_ON, AGREEMENT, NOT_BINDING, RATIFICATION_FAILED, BREAKDOWN = 0, 1, 2, 3, 4


@numba.njit(**_JIT)
def _others_drop(previous: np.ndarray, now: np.ndarray, seated: np.ndarray, out: np.ndarray):
    """`NegotiationBatch._mean_other_drop` for one replication (sums in party order)."""
    parties = now.size
    seats = 1.0 if seated[0] else 0.0
    dropped = (previous[0] - now[0]) * seats
    for j in range(1, parties):
        mine = 1.0 if seated[j] else 0.0
        seats += mine
        dropped += (previous[j] - now[j]) * mine
    for i in range(parties):
        mine = 1.0 if seated[i] else 0.0
        others = seats - mine
        total = dropped - (previous[i] - now[i]) * mine
        out[i] = total / others if others > 0 else 0.0


@numba.njit(**_JIT)
def _aspiration(
    kind: int,
    exponent: float,
    deadline: int,
    round_: int,
    best: float,
    floor: float,
    previous: float,
    others_drop: float,
) -> float:
    """`Strategy.aspiration` of each kind, then never below the floor."""
    if kind == TIME_DEPENDENT:  # strategies.time_dependent
        progress = min(max(round_, 0) / max(deadline, 1), 1.0)
        share = 1.0 - progress ** (1.0 / exponent)
        new = floor + (best - floor) * share
    elif kind == RECIPROCAL:
        if round_ <= 1:
            step = (best - floor) / max(deadline, 1)
        else:
            step = exponent * max(others_drop, 0.0)
        new = max(min(previous - step, best), floor)
    else:  # HARD_LINER
        new = max(best, floor)
    return max(new, floor)


@numba.njit(**_JIT)
def _propose(
    i: int,
    u: np.ndarray,
    allowed: np.ndarray,
    order: np.ndarray,
    aspiration: float,
    batnas: np.ndarray,
    seated: np.ndarray,
    can_implement: np.ndarray,
    tolerance: float,
) -> int:
    """`PartyAgent.propose` under complete information. `order`: party `i`'s outcomes that
    cross none of its red lines, best first (ties by index), so that those at or above its
    aspiration are a prefix: among the implementable ones, the first with the largest
    smallest surplus of the other seated parties (-inf across their red lines); with none,
    its first implementable outcome; -1 with none at all."""
    parties = u.shape[0]
    threshold = tolerance - aspiration  # on the negated utilities, as the numpy round
    pick, pick_value, first = -1, -np.inf, -1
    k = 0
    while k < order.size:
        o = order[k]
        if -u[i, o] > threshold:
            break
        k += 1
        if not can_implement[o]:
            continue
        if first < 0:
            first = o
        value = np.inf
        for j in range(parties):
            if j != i and seated[j]:
                value = min(value, (u[j, o] if allowed[j, o] else -np.inf) - batnas[j])
        if pick < 0 or value > pick_value:
            pick, pick_value = o, value
    if pick >= 0:
        return pick
    while first < 0 and k < order.size:  # below its aspiration: its best implementable
        if can_implement[order[k]]:
            first = order[k]
        k += 1
    return first


@numba.njit(**_JIT)
def _walkouts(
    r: int,
    round_: int,
    u: np.ndarray,
    allowed: np.ndarray,
    required: np.ndarray,
    batnas: np.ndarray,
    deadlines: np.ndarray,
    walks_at_deadline: np.ndarray,
    patience: int,
    seated: np.ndarray,
    walked_out: np.ndarray,
    frustrated: np.ndarray,
    can_implement: np.ndarray,
    fully_implementable: np.ndarray,
    zopa_witness: np.ndarray,
    left: np.ndarray,
    tolerance: float,
) -> bool:
    """`WalkoutRules._check_walkouts` (`_zopa_open` first) for replication `r`; True when
    the talks broke down."""
    parties, outcomes = u.shape
    witness = zopa_witness[r]
    w = max(witness, 0)
    open_ = witness >= 0 and can_implement[r, w]
    if open_:
        for j in range(parties):
            if not walked_out[r, j] and not (u[j, w] >= batnas[r, j] - tolerance and allowed[j, w]):
                open_ = False
                break
    if not open_:  # a full scan: the first outcome in the zone
        hit = -1
        for o in range(outcomes):
            if not can_implement[r, o]:
                continue
            inside = True
            for j in range(parties):
                if not walked_out[r, j] and not (
                    u[j, o] >= batnas[r, j] - tolerance and allowed[j, o]
                ):
                    inside = False
                    break
            if inside:
                hit = o
                break
        zopa_witness[r] = hit
        open_ = hit >= 0
    best = np.full(parties, np.inf)  # in a zone every party gets its BATNA
    if not open_:
        n_active = 0
        for j in range(parties):
            n_active += 0 if walked_out[r, j] else 1
        best[:] = -np.inf
        for o in range(outcomes):
            n_ok = 0
            for j in range(parties):
                if not walked_out[r, j] and u[j, o] >= batnas[r, j] - tolerance and allowed[j, o]:
                    n_ok += 1
            for i in range(parties):
                ok_i = 1 if u[i, o] >= batnas[r, i] - tolerance and allowed[i, o] else 0
                if n_ok - ok_i == n_active - 1 and allowed[i, o] and can_implement[r, o]:
                    best[i] = max(best[i], u[i, o])
    leaving = False
    for j in range(parties):
        at_deadline = walks_at_deadline[j] and round_ >= deadlines[j]
        if seated[r, j] and not at_deadline:
            frustrated[r, j] = frustrated[r, j] + 1 if best[j] < batnas[r, j] - tolerance else 0
        impatient = seated[r, j] and not at_deadline and frustrated[r, j] >= patience
        left[r, j] = seated[r, j] and (at_deadline or impatient)
        leaving |= left[r, j]
    if not leaving:
        return False
    for j in range(parties):
        walked_out[r, j] |= left[r, j]
        seated[r, j] = not walked_out[r, j]
    anything = False
    everything = True
    for o in range(outcomes):
        possible = True
        for j in range(parties):
            if walked_out[r, j] and required[j, o]:
                possible = False
                break
        can_implement[r, o] = possible
        anything |= possible
        everything &= possible
    fully_implementable[r] = everything
    anyone = False
    for j in range(parties):
        anyone |= seated[r, j]
    return not anything or not anyone


@numba.njit(**_JIT)
def alternating_round(
    reps: np.ndarray,
    round_: int,
    shared: bool,
    utilities: np.ndarray,
    orders: tuple,
    allowed: np.ndarray,
    required: np.ndarray,
    rejects: np.ndarray,
    best: np.ndarray,
    batnas: np.ndarray,
    floors: np.ndarray,
    delay: np.ndarray,
    kinds: np.ndarray,
    exponents: np.ndarray,
    deadlines: np.ndarray,
    walks_at_deadline: np.ndarray,
    patience: int,
    reactive: bool,
    turn_order: np.ndarray,
    aspirations: np.ndarray,
    previous_aspirations: np.ndarray,
    others_drop: np.ndarray,
    seated: np.ndarray,
    walked_out: np.ndarray,
    frustrated: np.ndarray,
    asked: np.ndarray,
    accepted: np.ndarray,
    can_implement: np.ndarray,
    fully_implementable: np.ndarray,
    zopa_witness: np.ndarray,
    offers: np.ndarray,
    proposers: np.ndarray,
    agreements: np.ndarray,
    signed: np.ndarray,
    bound: np.ndarray,
    live: np.ndarray,
    end_rounds: np.ndarray,
    ended: np.ndarray,
    left: np.ndarray,
    rejected: np.ndarray,
) -> None:
    """Round `round_` of inclusive, complete-information alternating offers in replications
    `reps`, in place: the state arrays of `NegotiationBatch` (replications, ...) and, per
    replication, `ended` (how it ended, `GOING_ON` if it did not), `left` (who walked out)
    and `rejected` (whose ratifier rejected the deal). `utilities`, `best` and each party's
    preference order in `orders` (`Scenario.preference_order`) have one row when `shared`,
    else one per replication; `delay` is zeros without delay costs,
    `rejects` all False without ratification."""
    parties = seated.shape[1]
    tolerance = TOLERANCE
    for k in range(reps.size):
        r = reps[k]
        row = 0 if shared else r
        u = utilities[row]
        ended[r] = GOING_ON
        if reactive:
            _others_drop(previous_aspirations[r], aspirations[r], seated[r], others_drop[r])
        for i in range(parties):
            asked[r, i] = False
            left[r, i] = False
            rejected[r, i] = False
            floor = max(batnas[r, i], floors[r, i])
            previous = aspirations[r, i]
            new = _aspiration(
                kinds[i],
                exponents[i],
                deadlines[i],
                round_,
                max(best[row, i], floor),
                floor,
                previous,
                others_drop[r, i],
            )
            if seated[r, i]:
                previous_aspirations[r, i] = previous
                aspirations[r, i] = new
        broke = _walkouts(
            r,
            round_,
            u,
            allowed,
            required,
            batnas,
            deadlines,
            walks_at_deadline,
            patience,
            seated,
            walked_out,
            frustrated,
            can_implement,
            fully_implementable,
            zopa_witness,
            left,
            tolerance,
        )
        if broke:
            ended[r], end_rounds[r], live[r] = BREAKDOWN, round_, False
            continue
        # The seated parties take turns in the replication's order.
        n_seated = 0
        for j in range(parties):
            n_seated += 1 if seated[r, j] else 0
        turn = (round_ - 1) % n_seated
        proposer = -1
        for p in range(parties):
            j = turn_order[r, p]
            if seated[r, j]:
                if turn == 0:
                    proposer = j
                    break
                turn -= 1
        proposers[r] = proposer
        o = _propose(
            proposer,
            u,
            allowed,
            orders[proposer][row],
            aspirations[r, proposer],
            batnas[r],
            seated[r],
            can_implement[r],
            tolerance,
        )
        if o < 0:
            continue
        offers[r] = o
        # The answers (`sim.engine.agents.accepts`) and the pass rule (`_settle`).
        at_table = False
        for j in range(parties):
            asked[r, j] = seated[r, j]
            accepted[r, j] = (
                seated[r, j]
                and allowed[j, o]
                and u[j, o] >= aspirations[r, j] - delay[r, j] - tolerance
                and u[j, o] >= batnas[r, j] - tolerance
            )
            at_table |= required[j, o] and seated[r, j]
        accord = True
        binding = True
        ratifier_rejects = False
        for j in range(parties):
            need = (required[j, o] and seated[r, j]) if at_table else seated[r, j]
            accord &= accepted[r, j] or not need
            binding &= accepted[r, j] or not required[j, o]
            rejected[r, j] = rejects[j, o] and accepted[r, j]
            ratifier_rejects |= rejected[r, j]
        if not accord:
            for j in range(parties):
                rejected[r, j] = False
            continue
        if binding and ratifier_rejects:
            signed[r] = o
            ended[r] = RATIFICATION_FAILED
        else:
            for j in range(parties):
                rejected[r, j] = False
            agreements[r] = o
            bound[r] = binding
            ended[r] = AGREEMENT if binding else NOT_BINDING
        end_rounds[r], live[r] = round_, False
