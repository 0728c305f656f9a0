"""A negotiation problem as arrays: outcome space, preferences, control, capabilities,
strategies and the war's parameters. Core layer: no config, no Hydra."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from types import ModuleType
from typing import Any

import numpy as np

from sim.core import enforcement, jit, war
from sim.core.outcomes import OutcomeSpace
from sim.core.preferences import TOLERANCE, Preferences, any_level_mask
from sim.core.settings import StrategyName


@dataclass(frozen=True)
class PartyStrategy:
    """A party's negotiation strategy: its name, concession exponent (None: the strategy's
    default) and deadline (None: the negotiation's `max_rounds`)."""

    name: StrategyName
    exponent: float | None = None
    deadline: int | None = None


def _talk_months(
    starts: np.ndarray, n_months: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]]:
    """`_months_of_talks`, kept per set of starts: every replication asks the same few."""
    return _months_of_talks(tuple(starts.tolist()), n_months, horizon)


@functools.lru_cache(maxsize=256)
def _months_of_talks(
    starts_: tuple[float, ...], n_months: int, horizon: int
) -> tuple[np.ndarray, np.ndarray, tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]]:
    """The months of the talks at which a deal signed at one of `starts` could be renewed
    (its `n_months` months each), each once, ordered by fraction of a month then month so
    that each start's months are a run of them: those months, the index of each start's
    first, and per fraction of a month the run of months its war is chased along (with
    each month's offset in it and its index among the months): chasing each start's own
    months gives the same sums."""
    starts = np.asarray(starts_, dtype=np.float64)
    absolute, at = np.unique(starts[:, None] + np.arange(n_months), return_inverse=True)
    fractions = np.mod(absolute, 1.0)
    order = np.lexsort((absolute, fractions))
    absolute, fractions = absolute[order], fractions[order]
    first_at = np.argsort(order)[at.reshape(starts.size, n_months)[:, 0]]
    runs = []
    for fraction in np.unique(fractions):
        mine = np.flatnonzero(fractions == fraction)
        offsets = np.round(absolute[mine] - absolute[mine[0]]).astype(np.int64)
        run = absolute[mine[0]] + np.arange(offsets[-1] + horizon, dtype=np.float64)
        runs.append((run, offsets, mine))
    for array in (absolute, first_at, *(a for run in runs for a in run)):
        array.setflags(write=False)  # kept: shared by every caller
    return absolute, first_at, tuple(runs)


# The anticipated paths run compiled (`sim.core.kernels`, the same numbers to the bit) once
# a process has computed this many. Loading numba and the compiled code costs ~0.6 s, the
# time of some 300-450 calls in numpy (benchmarks/kernels.py): a single negotiation or the
# page (a few calls) never pays it; a process past 50 is a bulk one (a sweep worker makes
# thousands) and gains seconds; one that stops between 50 and ~400 loses up to ~0.5 s.
COMPILE_AFTER = 50
_anticipations_computed = 0


def _compiled() -> ModuleType | None:
    """`sim.core.kernels` once this process has computed `COMPILE_AFTER` anticipations
    (this one counted), else None: numpy. Where numba cannot be imported, numpy throughout
    (the same numbers), said once in a warning (`sim.core.jit.load`)."""
    global _anticipations_computed
    _anticipations_computed += 1
    if _anticipations_computed <= COMPILE_AFTER:
        return None
    return jit.load("sim.core.kernels", "the anticipated paths")


@dataclass(frozen=True, eq=False)
class _Paths:
    """The paths a set of deals has (`Scenario._find_paths`): what depends on neither the
    war's parameters nor its costs, kept by the scenario and its draws."""

    path_of: np.ndarray  # (outcomes,) each deal's path
    signature: np.ndarray  # (paths,) its signature's index in `examples`
    shifts: list[np.ndarray | None]  # the shifts of the balance the paths' terms make
    pair_shift: np.ndarray  # (pairs,) a (shift, line level) pair's shift ...
    pair_level: np.ndarray  # (pairs,) ... and line level
    pair_of: np.ndarray  # (paths,) each path's pair
    examples: tuple[int, ...]  # an outcome of each signature the paths use (its guarantee)


@dataclass(frozen=True, eq=False)
class Anticipation:
    """Every deal on the path the parties anticipate (`Scenario.anticipation`)."""

    months: np.ndarray  # (months,) 0, 1, ..., foresight: months after the deal
    first: np.ndarray  # (outcomes,) index into `months` of the first renewed war; -1 none
    values: np.ndarray  # (parties, outcomes) each deal's continuation value
    renewed: np.ndarray  # (paths, months, parties) value of renewed war
    path_of: np.ndarray  # (outcomes,) row of `renewed`: the deal's line level, guarantee and
    # the terms that shift the balance set it

    @property
    def self_enforcing(self) -> np.ndarray:
        """(outcomes,) no belligerent prefers renewed war within the foresight."""
        return self.first < 0

    def renewal_month(self, outcome: int) -> float | None:
        """Months after the deal until the war resumes; None when it holds throughout."""
        first = int(self.first[outcome])
        return None if first < 0 else float(self.months[first])

    def path(self, outcome: int) -> np.ndarray:
        """(months, parties) each party's value of renewing the war in each month after
        `outcome` is signed."""
        return self.renewed[self.path_of[outcome]]


@dataclass(frozen=True, eq=False)
class Scenario:
    """Everything a negotiation needs, as arrays and plain values (built from a config by
    `sim.experiment.build.build_scenario`)."""

    name: str
    preferences: Preferences
    capabilities: np.ndarray  # (parties,)
    war_costs: np.ndarray  # (parties,) utility per month of war
    static_reservation: np.ndarray  # (parties,) from reservation points or fixed values
    issue_control: tuple[np.ndarray, ...]  # per issue (parties,): must consent to any change
    level_control: tuple[np.ndarray, ...]  # per issue (parties, levels): must consent to that level
    strategies: tuple[PartyStrategy, ...]  # per party
    war_params: war.WarParameters  # as configured, before any replication's draws
    contact_line: float  # initial position of the contact line on the territory scale
    territory_issue: str  # the issue the war moves
    optimism: np.ndarray | None = None  # (parties,) prior bias of p toward its side; None: 0
    belief_sd: float = 0.0  # prior sd of every party's belief about p
    cost_beliefs: np.ndarray | None = None  # (parties,) the others' war costs as each
    # party believes them, a multiple of the true ones (its doubt of their resolve); None: 1
    belligerents: tuple[int, int] | None = None  # (aggressor, defender) when the war's
    # stakes are all issues (`sim.core.settings.WarStakes.all`); None: the line only
    war_sides: tuple[int, int] | None = None  # (aggressor, defender), whatever the stakes
    imposable_lottery: bool = False  # stakes all: the winner gets only the levels it could
    # impose (`war.imposable_levels`; `sim.core.settings.WarLottery.imposable`), else its ideal
    # Guarantees as mechanisms (docs/model.md, "Guarantees"): the issue whose levels are
    # guarantee packages, each guarantor's credibility of intervening for each level,
    # whether a level puts monitors on the line, and the aggressor's cost per unit of force.
    guarantee_issue: int | None = None
    guarantee_credibility: np.ndarray | None = None  # (levels, parties) in [0, 1]
    guarantee_monitored: np.ndarray | None = None  # (levels,) bool
    guarantee_cost: float = 0.0
    # What a deal's terms do to the balance (docs/model.md, "Self-enforcing settlements"):
    # per issue (levels, parties), the change in each party's part of it once the level is
    # in force: a belligerent's capacity, a supporter's support level; None: nothing.
    level_shifts: tuple[np.ndarray, ...] | None = None
    supporters: tuple[int, ...] = ()  # party index of each entry of `war_params.supports`
    # Ratification (docs/model.md, "Ratification"): who ratifies each party's signature
    # (None: nobody) and (parties, outcomes) the deals its ratifier rejects; None: none do.
    ratifiers: tuple[str | None, ...] = ()
    ratification_rejects: np.ndarray | None = None
    # (parties, outcomes) the values the parties bargain over in place of `utilities`
    # (each deal's continuation value, `Scenario.anticipation`); None: the utilities.
    valuation: np.ndarray | None = None
    # (parties,) utility a round without agreement costs each party, so that it accepts a
    # text worth its aspiration less that (docs/model.md, "Delay costs"); None: nothing.
    delay_costs: np.ndarray | None = None
    # What is derived from the outcome space, the guarantee issue and the shifts alone (the
    # deals' anticipated paths): one dict shared with every copy `dataclasses.replace` makes
    # (a replication's draws), each entry checked against the objects it was derived from.
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def guarantee_force(self) -> np.ndarray | None:
        """(levels,) the force behind each guarantee level (`war.guarantee_force`), from the
        guarantors' capabilities (drawn ones too); None without guarantees."""
        if self.guarantee_credibility is None or self.war_sides is None:
            return None
        return war.guarantee_force(self.guarantee_credibility, self.capabilities, self.war_sides[0])

    @cached_property
    def party_cost_beliefs(self) -> np.ndarray:
        n = len(self.parties)
        return np.ones(n) if self.cost_beliefs is None else np.asarray(self.cost_beliefs, float)

    @cached_property
    def party_optimism(self) -> np.ndarray:
        n = len(self.parties)
        return np.zeros(n) if self.optimism is None else np.asarray(self.optimism, float)

    @cached_property
    def control(self) -> tuple[np.ndarray, ...]:
        """Per issue (parties, levels): must sign an agreement that sets that level.

        The issue's controllers sign every level but the status quo; a level's own
        controllers (e.g. the providers of a guarantee) sign that level.
        """
        out = []
        for issue, base, levels in zip(
            self.space.issues, self.issue_control, self.level_control, strict=True
        ):
            changed = np.ones(issue.size, dtype=bool)
            if issue.default is not None:
                changed[issue.default] = False
            out.append((base[:, None] & changed[None, :]) | levels)
        return tuple(out)

    @property
    def parties(self) -> tuple[str, ...]:
        return self.preferences.parties

    @property
    def space(self) -> OutcomeSpace:
        return self.preferences.space

    @cached_property
    def utilities(self) -> np.ndarray:
        if self.valuation is not None:
            return self.valuation
        U = self.preferences.utilities()
        U.setflags(write=False)
        return U

    @cached_property
    def red_line_crossed(self) -> np.ndarray:
        return self.preferences.red_line_crossed()

    @cached_property
    def acceptable(self) -> np.ndarray:
        """(outcomes,) crosses no party's red line."""
        return ~self.red_line_crossed.any(axis=0)

    @cached_property
    def settled_by_controllers(self) -> np.ndarray:
        """(outcomes,) True where no issue sits at a level its controllers (`issue_control`,
        when the issue has any) could jointly replace, on their own, with one all of them
        strictly prefer: a level needing no one else's consent (`level_control`) and
        crossing none of their red lines. Utilities being additive, this is a test per
        issue: the single-issue part of the core with issue control."""
        prefs = self.preferences
        keep = []
        for k, (base, levels) in enumerate(
            zip(self.issue_control, self.level_control, strict=True)
        ):
            size = self.space.issues[k].size
            linked = any(link.party in np.flatnonzero(base) and k in link.issues
                         for link in prefs.links)  # fmt: skip
            if not base.any() or linked:  # a linked issue is not judged on its own
                keep.append(np.ones(size, dtype=bool))
                continue
            own = ~(levels & ~base[:, None]).any(axis=0)  # (levels,) no outsider's consent
            values = prefs.level_values[k][base]  # (controllers, levels)
            better = (values[:, None, :] > values[:, :, None] + TOLERANCE).all(axis=0)
            reachable = own[None, :] & own[:, None] & ~prefs.red_lines[k][base].any(axis=0)
            keep.append(~(better & reachable).any(axis=1))  # (from a, to b)
        return ~any_level_mask([~k[None] for k in keep], self.space.shape)[0]

    @cached_property
    def required_signatories(self) -> np.ndarray:
        """(parties, outcomes): parties that control some level the outcome sets."""
        return any_level_mask(self.control, self.space.shape)

    @cached_property
    def preference_order(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Per party: the outcomes crossing none of its red lines, best first (ties by
        index), and their utilities. The outcomes at or above an aspiration are a prefix."""
        out = []
        for i in range(len(self.parties)):
            allowed = np.flatnonzero(~self.red_line_crossed[i])
            order = allowed[np.argsort(-self.utilities[i, allowed], kind="stable")]
            order.setflags(write=False)
            out.append((order, self.utilities[i, order]))
        return tuple(out)

    @cached_property
    def offer_tables(self) -> tuple[np.ndarray, ...]:
        """Per proposer: (parties, outcomes in its `preference_order`) every party's
        utility, -inf across that party's red line: what a proposer weighs, in the order
        it searches, so that a round reads a prefix instead of gathering columns."""
        known = np.where(self.red_line_crossed, -np.inf, self.utilities)
        out = []
        for order, _ in self.preference_order:
            table = np.ascontiguousarray(known[:, order])
            table.setflags(write=False)
            out.append(table)
        return tuple(out)

    @cached_property
    def territory_k(self) -> int:
        """Index of the issue the war moves."""
        return self.space.names.index(self.territory_issue)

    def guarantee_level(self, outcome: int | None = None) -> int | None:
        """The guarantee level an outcome sets, or the one in force (the issue's status quo)
        with no outcome; None without guarantees as mechanisms."""
        if self.guarantee_issue is None or self.guarantee_force is None:
            return None
        if outcome is None:
            return self.space.issues[self.guarantee_issue].default
        return int(self.space.grid[outcome, self.guarantee_issue])

    def costs_under(self, level: int | None, costs: np.ndarray | None = None) -> np.ndarray:
        """War costs per month (default: the scenario's) with guarantee `level` in force:
        the aggressor's raised by the force behind it (`war.guaranteed_costs`)."""
        costs = self.war_costs if costs is None else costs
        if level is None or self.war_sides is None or self.guarantee_force is None:
            return costs
        force = self.guarantee_force[level]
        return war.guaranteed_costs(costs, self.war_sides[0], force, self.guarantee_cost)

    def war_batna(
        self,
        params: war.WarParameters | None = None,
        outcome: int | None = None,
        weights: np.ndarray | None = None,
        costs: np.ndarray | None = None,
    ) -> war.WarBatna:
        """The parties' war BATNA under `params` (default: the scenario's own), with the
        guarantee in force during the talks, or, given a deal's `outcome`, the one it sets
        (the value of renewed war after it). `weights` ([n,] parties, issues) and `costs`
        ([n,] parties, per month) replace the scenario's, for draws of them."""
        prefs, k = self.preferences, self.territory_k
        return war.war_batna(
            params or self.war_params,
            self.space.issues[k].positions,
            prefs.level_values[k],
            prefs.weights if weights is None else weights,
            prefs.level_values,
            [issue.default for issue in self.space.issues],
            k,
            self.costs_under(self.guarantee_level(outcome), costs),
            self.belligerents,
            prefs.links,
            self.imposable_levels if self.imposable_lottery else None,
            self._war_other_issues if weights is None else None,
        )

    @cached_property
    def _monthly_costs(self) -> dict[_Paths, np.ndarray]:
        """Per set of paths (`_paths`), each signature's war costs a month with the
        guarantee it sets in force: this scenario's costs, kept (a draw of them is another
        scenario)."""
        return {}

    @cached_property
    def _war_other_issues(self) -> war.OtherIssues:
        """`war.other_issues` at the scenario's own weights (`war_batna`): what a war leaves
        on the other issues, the same under any war parameters and costs."""
        prefs = self.preferences
        return war.other_issues(
            prefs.weights,
            prefs.level_values,
            [issue.default for issue in self.space.issues],
            self.territory_k,
            self.belligerents,
            prefs.links,
            self.imposable_levels if self.imposable_lottery else None,
        )

    def balance_after(
        self, params: war.WarParameters, months: np.ndarray, shift: np.ndarray | None = None
    ) -> np.ndarray:
        """(months,) the aggressor's share of strength `months` after now, the scenario's
        drifts applied (`war.drifted`), and `shift` (parties,): each party's change in its
        part of the balance (`level_shifts` summed over a deal's terms)."""
        capacity, supports = war.drifted(params, np.asarray(months, dtype=np.float64))
        if shift is None or self.war_sides is None or not np.any(shift):
            return war.share_at(params, capacity, supports)
        aggressor, defender = self.war_sides
        supporters = self.supporter_indices
        shifted = dataclasses.replace(
            params, defender_capacity=params.defender_capacity + shift[defender]
        )
        capacity = np.maximum(capacity + shift[aggressor], 0.0)
        supports = np.clip(supports + shift[supporters], 0.0, 1.0)
        return war.share_at(shifted, capacity, supports)

    @cached_property
    def supporter_indices(self) -> np.ndarray:
        """The parties whose support levels `war_params.supports` holds, in its order."""
        return np.asarray(self.supporters, dtype=np.int64)

    @cached_property
    def renewal_signatures(self) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
        """The outcomes grouped by what, beside the line, sets the value of renewing the war
        after them: their guarantee level and the levels that shift the balance. Returns
        (signatures, `which` (outcomes,) row of each outcome's signature, one outcome per
        signature)."""
        grid = self.space.grid
        k_line = self.territory_k
        sig_issues = [k for k in range(len(self.space.issues)) if k != k_line and (
            k == self.guarantee_issue
            or (self.level_shifts is not None and np.any(self.level_shifts[k]))
        )]  # fmt: skip
        levels = grid[:, sig_issues].astype(np.int64)
        # Each row as one integer, the first issue most significant: unique integers in the
        # order of unique rows, without sorting rows.
        radix = np.asarray([self.space.shape[k] for k in sig_issues], dtype=np.int64)
        place = np.cumprod(np.append(radix[1:], 1)[::-1])[::-1][: radix.size]
        codes, which = np.unique(levels @ place, return_inverse=True)
        signatures = (codes[:, None] // place) % radix
        which = which.reshape(-1)
        which.setflags(write=False)
        examples = tuple(int(np.flatnonzero(which == s)[0]) for s in range(len(signatures)))
        return signatures, which, examples

    def anticipation(
        self, params: war.WarParameters, foresight_months: int, start_month: float = 0.0
    ) -> Anticipation:
        """Every deal valued on the path the parties anticipate from `start_month` of the
        talks (`anticipations` for one start)."""
        return self.anticipations(params, foresight_months, [start_month])[0]

    def anticipations(
        self,
        params: war.WarParameters,
        foresight_months: int,
        start_months: Sequence[float],
        outcomes: np.ndarray | None = None,
    ) -> list[Anticipation]:
        """Every deal valued on the path the parties anticipate from each of `start_months`
        of the talks (`sim.core.enforcement`): month by month over `foresight_months`, each
        party's value of renewing the war from the deal's line, toward the line the balance
        then implies (drifting, shifted by the deal's terms; the war's horizon chased month
        by month, `enforcement.chased_targets`), its guarantee in force; the first month a
        belligerent prefers that war; and each deal's continuation value. The start months
        share one pass over the balance and the war's values. With `outcomes` (indices),
        only those deals, in that order: each deal's path is its own."""
        if self.war_sides is None:
            raise ValueError("anticipation needs a war: the scenario has no belligerents")
        horizon = war.whole_months(params.horizon_months)
        months = np.arange(foresight_months + 1)
        starts = np.asarray(start_months, dtype=np.float64)
        if starts.size == 0:
            return []
        absolute, first_at, runs = _talk_months(starts, months.size, horizon)
        deal = self.utilities  # the valuation where one is set
        if outcomes is not None:
            deal = deal[:, outcomes]
        if deal.shape[1] == 0:  # no deal to value
            none = np.empty((0, months.size, len(self.parties)))
            empty = np.empty(0, dtype=np.int64)
            return [Anticipation(months, empty, deal, none, empty) for _ in range(starts.size)]
        compiled = _compiled()
        paths = self._paths(outcomes)
        values = self._path_values(params, paths, runs, absolute.size, compiled)
        last = months.size - 1
        first, cont = (compiled or enforcement).renewals(
            deal, values, paths.path_of, self.war_sides, TOLERANCE, first_at, last, params.discount
        )
        return [
            Anticipation(months, first[j], cont[j], values[:, a0 : a0 + last + 1], paths.path_of)
            for j, a0 in enumerate(first_at)
        ]

    def _paths(self, outcomes: np.ndarray | None) -> _Paths:
        """The paths of the deals (all, or `outcomes`), kept in `derived` for each set of
        deals asked, as long as the space, guarantee issue and shifts are the same objects."""
        key = ("paths", None if outcomes is None else np.asarray(outcomes).tobytes())
        sources = (self.space, self.territory_issue, self.guarantee_issue, self.level_shifts)
        kept = self.derived.get(key)
        if kept is None or any(a is not b for a, b in zip(kept[0], sources, strict=True)):
            kept = self.derived[key] = (sources, self._find_paths(outcomes))
        return kept[1]

    def _find_paths(self, outcomes: np.ndarray | None) -> _Paths:
        """Each deal's path (its renewal signature and line level), the signatures the
        paths use with the shift of the balance each makes, and the (shift, line level)
        pairs the paths share."""
        _, which, examples = self.renewal_signatures
        grid = self.space.grid
        line_level = grid[:, self.territory_k]
        if outcomes is not None:
            which, line_level = which[outcomes], line_level[outcomes]
        levels = self.space.issues[self.territory_k].positions.size
        codes, path_of = np.unique(which * levels + line_level, return_inverse=True)
        path_signature, path_level = np.divmod(codes, levels)
        used, path_signature = np.unique(path_signature, return_inverse=True)
        shifts: list[np.ndarray | None] = []  # one per shift of the balance the signatures make
        shift_of = np.empty(used.size, dtype=np.int64)
        by_shift: dict[bytes, int] = {}
        for row, s in enumerate(used):
            shift = None
            if self.level_shifts is not None:
                shift = sum(
                    self.level_shifts[k][int(grid[examples[s], k])] for k in range(len(grid[0]))
                )
            key = b"" if shift is None or not np.any(shift) else np.asarray(shift).tobytes()
            if key not in by_shift:
                by_shift[key] = len(shifts)
                shifts.append(shift)
            shift_of[row] = by_shift[key]
        pairs, pair_of = np.unique(
            shift_of[path_signature] * levels + path_level, return_inverse=True
        )
        pair_shift, pair_level = np.divmod(pairs, levels)
        examples_used = tuple(examples[s] for s in used)
        return _Paths(
            path_of, path_signature, shifts, pair_shift, pair_level, pair_of, examples_used
        )

    def _path_values(
        self,
        params: war.WarParameters,
        paths: _Paths,
        runs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
        n_months: int,
        compiled: ModuleType | None = None,
    ) -> np.ndarray:
        """The value of renewed war on each path (`_find_paths`) in each of the `n_months`
        months of the talks `runs` cover (`_talk_months`): (paths, months, parties)."""
        positions = self.space.issues[self.territory_k].positions
        horizon = war.whole_months(params.horizon_months)
        chased = np.empty((len(paths.shifts), n_months))  # the targets each shift chases
        for row, shift in enumerate(paths.shifts):
            for run, offsets, mine in runs:
                p = self.balance_after(params, run, shift)
                targets = war.target_line(p, params.low, params.high)
                chase = enforcement.chased_targets(targets, params.adjustment_rate, horizon)
                chased[row, mine] = chase[offsets]
        # Paths that chase alike from one line differ only in their costs (the guarantee in
        # force), the last term of the war's value: valued once, each its own cost after.
        batna = self.war_batna(params)
        value = batna.value_on_paths if compiled is None else partial(compiled.path_values, batna)
        free = value(  # minus no cost: the same numbers, from which each path's is subtracted
            positions[paths.pair_level],
            chased[paths.pair_shift],
            np.zeros((paths.pair_level.size, len(self.parties))),
        )
        monthly = self._monthly_costs.get(paths)
        if monthly is None:  # each signature's costs a month, its guarantee in force
            monthly = np.stack([self.costs_under(self.guarantee_level(x)) for x in paths.examples])
            self._monthly_costs[paths] = monthly
        costs = war.horizon_cost(params, monthly)
        if compiled is not None:
            return compiled.paths_less_costs(free, paths.pair_of, costs, paths.signature)
        return free[paths.pair_of] - costs[paths.signature][:, None, :]

    @cached_property
    def imposable_levels(self) -> tuple[np.ndarray, ...] | None:
        """Per issue, the levels a war's winner could impose (`war.imposable_levels`);
        None without belligerents."""
        if self.belligerents is None:
            return None
        prefs = self.preferences
        return war.imposable_levels(
            prefs.red_lines, self.issue_control, self.level_control, self.belligerents
        )

    def party_index(self, name: str) -> int:
        return self.preferences.party_index(name)
