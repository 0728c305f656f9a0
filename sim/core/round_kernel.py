"""The round of calendar bargaining as compiled kernels (numba) over a batch's arrays
(docs/model.md, "Negotiation", "Computed"): its opening, the proposals, the pass rule and
alternating offers; the single text's step is `sim.core.text_kernel`.

`open_round` opens a round in every live replication: each seated party's aspiration from
its strategy (Faratin, Sierra & Jennings 1998: time-dependent, reciprocal, hard-liner),
then the walkouts (a hard-liner at its deadline, a party whose BATNA beat all it could
get `walkout_patience` rounds running; a hopeful party under war BATNAs is flagged, and
the engine lets it look ahead). `alternating_offers` then plays the offer of the party
whose turn it is and the pass rule with frameworks and ratification, with learned
information the frequency models' estimates and counts. They are the numpy round of
`sim.engine.model.NegotiationBatch` (`_update_aspirations`, `_check_walkouts`,
`_alternating_round`, `_settle`, `opponents.frequency_utilities`) written as loops over
replications, parties and outcomes, the same comparisons and arithmetic in the same order,
so that every state they leave is the numpy round's to the bit; the numpy round stays the
definition and the test oracle (tests/test_round_kernel.py). A proposal walks the prefix
of the proposer's preference order at or above its aspiration, reading the others'
utilities where the numpy round gathers them from its offer table.

The engine uses them where they cover the settings (`NegotiationBatch.kernel_covers`)
once a process has played `model.COMPILE_ROUNDS_AFTER` replication-rounds. Compiled once
per machine (`cache=True`).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.core.preferences import TOLERANCE
from sim.core.rounds import (
    AGREEMENT,
    BREAKDOWN,
    GOING_ON,
    NOT_BINDING,
    RATIFICATION_FAILED,
    RECIPROCAL,
    TIME_DEPENDENT,
)

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


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
def _learned_model(
    i: int, r: int, seated: np.ndarray, learning: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """Each other seated party's issue weights and level denominators in the frequency
    model of its offers so far (`opponents.frequency_utilities`), as party `i` sees them."""
    _, counts, unchanged, _, grid = learning
    parties, issues = seated.size, grid.shape[1]
    weights = np.zeros((parties, issues))
    tops = np.ones((parties, issues))
    for j in range(parties):
        if j == i or not seated[j]:
            continue
        total = 1.0 + unchanged[r, j, 0]
        for k in range(1, issues):  # in issue order, as the numpy model sums
            total += 1.0 + unchanged[r, j, k]
        for k in range(issues):
            weights[j, k] = (1.0 + unchanged[r, j, k]) / total
            most = counts[k][r, j, 0]
            for level in range(1, counts[k].shape[2]):
                most = max(most, counts[k][r, j, level])
            tops[j, k] = most + 1.0
    return weights, tops


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
    r: int,
    learning: tuple,
) -> int:
    """`PartyAgent.propose`. `order`: party `i`'s outcomes that cross none of its red
    lines, best first (ties by index), so that those at or above its aspiration are a
    prefix: among the implementable ones, the first with the largest smallest surplus of
    the other seated parties (their utilities less their BATNAs, -inf across their red
    lines; with learned information, `learning`, their frequency models' estimates); with
    none, its first implementable outcome; -1 with none at all."""
    learned, counts, _, _, grid = learning
    parties = u.shape[0]
    weights, tops = np.zeros((1, 1)), np.ones((1, 1))
    if learned:
        weights, tops = _learned_model(i, r, seated, learning)
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
            if j == i or not seated[j]:
                continue
            if learned:
                estimate = 0.0
                for issue in range(grid.shape[1]):
                    level = grid[o, issue]
                    share = (counts[issue][r, j, level] + 1.0) / tops[j, issue]
                    estimate += weights[j, issue] * share
                value = min(value, estimate)
            else:
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
def _record_offer(r: int, p: int, o: int, learning: tuple) -> None:
    """`NegotiationBatch._record_offers`: party `p` offered `o` in replication `r`."""
    learned, counts, unchanged, last_offer, grid = learning
    if not learned:
        return
    last = last_offer[r, p]
    for k in range(grid.shape[1]):
        level = grid[o, k]
        counts[k][r, p, level] += 1.0
        if last >= 0 and grid[last, k] == level:
            unchanged[r, p, k] += 1.0
    last_offer[r, p] = o


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
    hopeful: bool,
    pending: np.ndarray,
    tolerance: float,
) -> bool:
    """`WalkoutRules._check_walkouts` (`_zopa_open` first) for replication `r`; True when
    the talks broke down. A `hopeful` party that would leave for want of a zone looks ahead
    first (`_hopeful_stay`, in numpy): then nobody leaves here, `left` holds who would, and
    `pending[r]` says the engine decides."""
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
    looks_ahead = False
    pending[r] = False
    for j in range(parties):
        at_deadline = walks_at_deadline[j] and round_ >= deadlines[j]
        if seated[r, j] and not at_deadline:
            frustrated[r, j] = frustrated[r, j] + 1 if best[j] < batnas[r, j] - tolerance else 0
        impatient = seated[r, j] and not at_deadline and frustrated[r, j] >= patience
        left[r, j] = seated[r, j] and (at_deadline or impatient)
        leaving |= left[r, j]
        looks_ahead |= hopeful and impatient
    if looks_ahead:
        pending[r] = True
        return False
    if not leaving:
        return False
    for j in range(parties):
        walked_out[r, j] |= left[r, j]
        seated[r, j] &= not walked_out[r, j]
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
def open_round(
    reps: np.ndarray,
    round_: int,
    shared: bool,
    utilities: np.ndarray,
    allowed: np.ndarray,
    required: np.ndarray,
    best: np.ndarray,
    batnas: np.ndarray,
    floors: np.ndarray,
    kinds: np.ndarray,
    exponents: np.ndarray,
    clocks: np.ndarray,
    deadlines: np.ndarray,
    walks_at_deadline: np.ndarray,
    patience: int,
    reactive: bool,
    aspirations: np.ndarray,
    previous_aspirations: np.ndarray,
    others_drop: np.ndarray,
    seated: np.ndarray,
    walked_out: np.ndarray,
    frustrated: np.ndarray,
    asked: np.ndarray,
    can_implement: np.ndarray,
    fully_implementable: np.ndarray,
    zopa_witness: np.ndarray,
    live: np.ndarray,
    end_rounds: np.ndarray,
    ended: np.ndarray,
    left: np.ndarray,
    hopeful: bool,
    pending: np.ndarray,
) -> int:
    """The opening of round `round_` in replications `reps`, in place: every seated party's
    aspiration (`NegotiationBatch._update_aspirations`, after the others' mean drop when a
    party is reactive; each strategy's clock is its party's `deadline`), then the walkouts
    (`WalkoutRules._check_walkouts`; a hard-liner leaves at `deadlines`). Per
    replication, `ended` is `BREAKDOWN` where the talks broke down, else `GOING_ON`;
    `left` who walked out, or, where `pending` (`hopeful` parties look ahead), who would.
    `utilities` and `best` have one row when `shared`. Returns how many replications had
    any of these."""
    parties = seated.shape[1]
    events = 0
    for k in range(reps.size):
        r = reps[k]
        row = 0 if shared else r
        ended[r] = GOING_ON
        if reactive:
            _others_drop(previous_aspirations[r], aspirations[r], seated[r], others_drop[r])
        for i in range(parties):
            asked[r, i] = False
            floor = max(batnas[r, i], floors[r, i])
            previous = aspirations[r, i]
            new = _aspiration(
                kinds[i],
                exponents[i],
                clocks[i],
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
            utilities[row],
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
            hopeful,
            pending,
            TOLERANCE,
        )
        if broke:
            ended[r], end_rounds[r], live[r] = BREAKDOWN, round_, False
        if broke or pending[r] or left[r].any():
            events += 1
    return events


@numba.njit(**_JIT)
def _answer_and_settle(
    r: int,
    o: int,
    round_: int,
    u: np.ndarray,
    alternating: bool,
    terms: tuple,
    framework: tuple,
    aspirations: np.ndarray,
    seated: np.ndarray,
    asked: np.ndarray,
    accepted: np.ndarray,
    ends: tuple,
) -> bool:
    """Every seated party's answer to outcome `o` in replication `r` (`agents.accepts`)
    and the pass rule (`NegotiationBatch._settle`); True when the talks ended. `terms`,
    `framework` and `ends` as `alternating_offers` takes them."""
    allowed, required, rejects, batnas, delay = terms
    phases, frameworks, framework_rounds, framework_floors, commitment = framework
    agreements, signed, bound, live, end_rounds, ended, rejected = ends
    parties = u.shape[0]
    tolerance = TOLERANCE
    phase_one = phases[r] == 1
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
    # Single text and phase one: everyone seated; else the required signatories at the
    # table (with none there, everyone seated).
    by_signatories = alternating and not phase_one and at_table
    accord = True
    binding = True
    for j in range(parties):
        need = (required[j, o] and seated[r, j]) if by_signatories else seated[r, j]
        accord &= accepted[r, j] or not need
        binding &= accepted[r, j] or not required[j, o]
    if not accord:
        return False
    if binding:
        ratifier_rejects = False
        for j in range(parties):
            rejected[r, j] = rejects[j, o] and accepted[r, j]
            ratifier_rejects |= rejected[r, j]
        if ratifier_rejects:
            signed[r] = o
            ended[r], end_rounds[r], live[r] = RATIFICATION_FAILED, round_, False
            return True
        agreements[r], bound[r] = o, True
        ended[r], end_rounds[r], live[r] = AGREEMENT, round_, False
        return True
    if phase_one:  # a framework: its authors keep `commitment` of their surplus in it
        frameworks[r], framework_rounds[r] = o, round_
        for j in range(parties):
            if seated[r, j]:
                surplus = u[j, o] - batnas[r, j]
                framework_floors[r, j] = batnas[r, j] + commitment * max(surplus, 0.0)
        return False
    agreements[r] = o
    ended[r], end_rounds[r], live[r] = NOT_BINDING, round_, False
    return True


@numba.njit(**_JIT)
def alternating_offers(
    reps: np.ndarray,
    round_: int,
    shared: bool,
    utilities: np.ndarray,
    orders: tuple,
    learning: tuple,
    terms: tuple,
    turn_order: np.ndarray,
    framework: tuple,
    aspirations: np.ndarray,
    seated: np.ndarray,
    asked: np.ndarray,
    accepted: np.ndarray,
    can_implement: np.ndarray,
    offers: np.ndarray,
    proposers: np.ndarray,
    ends: tuple,
) -> int:
    """The offer of round `round_` in replications `reps` (`_alternating_round`): the
    seated party whose turn it is proposes (phase two opens on a framework agreed the
    round before), the others answer, the pass rule. `orders`: each party's preference
    order (`Scenario.preference_order`), one row when `shared`; `learning` the frequency
    model's switch, counts, unchanged issues, last offers and the outcome grid; `terms`
    (allowed, required signatories, what the ratifiers reject, BATNAs, delay costs),
    `framework` (phases, frameworks, their rounds, the floors they leave, the commitment)
    and `ends` (agreements, signed deals, binding, live, end rounds, how each ended, who
    rejected) the engine's arrays. Returns how many replications ended."""
    allowed, _, _, batnas, _ = terms
    phases, frameworks, framework_rounds, _, _ = framework
    rejected = ends[6]
    parties = seated.shape[1]
    done = 0
    for k in range(reps.size):
        r = reps[k]
        row = 0 if shared else r
        u = utilities[row]
        n_seated = 0
        for j in range(parties):
            rejected[r, j] = False
            n_seated += 1 if seated[r, j] else 0
        turn = (round_ - 1) % n_seated  # the seated parties in the replication's order
        proposer = -1
        for p in range(parties):
            j = turn_order[r, p]
            if seated[r, j]:
                if turn == 0:
                    proposer = j
                    break
                turn -= 1
        proposers[r] = proposer
        f = frameworks[r]
        if phases[r] == 2 and f >= 0 and framework_rounds[r] == round_ - 1 and can_implement[r, f]:
            o = f
        else:
            o = _propose(
                proposer,
                u,
                allowed,
                orders[proposer][row],
                aspirations[r, proposer],
                batnas[r],
                seated[r],
                can_implement[r],
                TOLERANCE,
                r,
                learning,
            )
        if o < 0:
            continue
        offers[r] = o
        _record_offer(r, proposer, o, learning)
        done += _answer_and_settle(
            r,
            o,
            round_,
            u,
            True,
            terms,
            framework,
            aspirations,
            seated,
            asked,
            accepted,
            ends,
        )
    return done
