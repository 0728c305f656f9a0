"""The same negotiation problem in NegMAS and in sim: solution concepts and negotiations.

Usage: ``.venv/bin/python benchmarks/compare_negmas.py [--quick] [--profile]``
(NegMAS comes with the ``bench`` extra: ``pip install -e '.[bench]'``).

The problem. Four parties (usa, russia, ukraine, europe); issues territory (integer
0..T, our positions 100 j / T), nato (3 levels) and guarantees (4 levels); linear-additive
utilities with the ideals and saliences of benchmarks/solutions.py; a fixed reserved
value per party. T = 100 (1,212 outcomes) and T = 1,000 (12,012). Our side is built the
way the simulator builds it: an OmegaConf config merged onto the ``SimConfig`` schema,
turned into a ``Scenario`` by ``sim.experiment.build.build_scenario``. The NegMAS side gets the
very same numbers: each ``LinearAdditiveUtilityFunction`` has the scenario's weights, a
``TableFun`` per issue holding the scenario's level values, and the scenario's reserved
value; the worker checks that both give bit-identical utilities on every outcome.

Solution concepts. NegMAS ``pareto_frontier`` (which evaluates every ufun on every outcome
and drops outcomes below any reserved value), ``nash_points`` and ``kalai_points`` against
``Preferences.utilities`` + the same reserved-value filter (``zopa_mask``) +
``pareto_mask``, ``nash`` and ``kalai_smorodinsky``. NegMAS gets its outcome list
enumerated once, outside the timing (a small favour to NegMAS). NegMAS's ``kalai_points``
maximises min_i (u_i - r_i), which is our ``egalitarian`` (Kalai 1977), not
Kalai-Smorodinsky; the correctness check compares it with both.

Negotiations. NegMAS ``SAOMechanism(n_steps=100)`` with four ``BoulwareTBNegotiator``
against our ``alternating_offers`` protocol, every party ``boulware``, ``max_rounds=100``,
static BATNAs equal to the reserved values, ``war.volatility=0``, every issue controlled
by all four parties (so, as in SAO, an offer passes only when all four accept it).

Concession curves. NegMAS's Boulware is ``PolyAspiration(1, "boulware")``: relative level
``1 - t ** 4``, scaled onto [max(worst utility, reserved value), best utility], at relative
time ``t = (step + 1) / (n_steps + 1)`` (step 0-based). Ours (Faratin et al. 1998) is
``a = r + (b - r) (1 - (k / D) ** (1 / e))`` in round k (1-based) with deadline D. So
``e = 1 / 4`` (NegMAS exponent p maps to our e = 1 / p) and D = n_steps + 1 = 101 while
``max_rounds`` stays 100: round k then sits at NegMAS's step k - 1, t = k / 101, and the
two curves coincide (the worker checks this numerically). What still differs, by design of
each tool: a NegMAS step gives each of the four negotiators a turn to accept the standing
offer or reject it with a counter-offer (up to 4 offers per step), where our round has one
proposer and three simultaneous responses; NegMAS's proposer offers its own worst outcome
above its aspiration, ours the outcome the others value most among those; NegMAS widens
its utility band by ``eps = 1e-4``, ours by 1e-9.

Method. Every measurement runs in a fresh worker process pinned to one core, with
OMP/OpenBLAS/MKL threads set to 1 before numpy is imported. Within a worker the two tools
alternate, NegMAS then ours, each repetition, after one untimed warm-up each; the table
gives medians over repetitions. Times are the worker's CPU time (``time.process_time``),
so that other processes on a shared machine do not count; the targets are also given on
wall-clock time. A solution-concept repetition is a batch of calls lasting at least 0.2 s
of CPU (0.05 s with ``--quick``; one NegMAS call at 12,012 outcomes is longer than that),
so that both tools are timed warm, not our sub-millisecond call right after NegMAS has
flushed the caches. A negotiation repetition is a batch of negotiations back to back,
each building its mechanism (``SAOMechanism`` and four negotiators, whose utility
inverters sort the outcomes anew) or model (``NegotiationModel``) from the prebuilt
problem and running it to the end: 200 each on 1,212 outcomes; on 12,012, 20 NegMAS and
50 of ours (NegMAS takes about a second per negotiation there). Ours run twice: one
``NegotiationModel`` after another, and the same negotiations (same seeds) as one
``NegotiationBatch`` (``sim.engine.model``: a replication per negotiation, arrays over
replications; a ``NegotiationModel`` is a batch of one), which is how a sweep job runs its
replications; the worker checks that both end every negotiation the same way.

``--profile`` skips the comparison and prints a cProfile summary of 50 of our
negotiations on the 1,212-outcome problem (NegMAS not needed).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sim.core import solutions
from sim.core.settings import NegotiationSettings
from sim.core.strategies import AspirationInput, make_strategy
from sim.engine.model import NegotiationBatch
from sim.engine.single import NegotiationModel
from sim.experiment.build import Scenario, build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.schema import SimConfig

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
REPO = Path(__file__).resolve().parent.parent

PARTIES = ("usa", "russia", "ukraine", "europe")
ISSUES = ("territory", "nato", "guarantees")
# Ideal positions (territory, nato, guarantees) on the 0-100 scale and saliences: the
# values of benchmarks/solutions.py.
IDEALS = {
    "usa": (80.0, 75.0, 50.0),
    "russia": (100.0, 100.0, 80.0),
    "ukraine": (0.0, 0.0, 0.0),
    "europe": (50.0, 40.0, 25.0),
}
SALIENCE = {
    "usa": (0.4, 0.3, 0.4),
    "russia": (0.9, 0.8, 0.7),
    "ukraine": (0.9, 0.5, 0.95),
    "europe": (0.6, 0.5, 0.9),
}
NATO_LEVELS = {"membership": 0.0, "bid_frozen": 50.0, "bid_dropped": 100.0}
GUARANTEE_LEVELS = {"article5": 0.0, "coalition": 100 / 3, "bilateral": 200 / 3, "none": 100.0}
# Reserved values (our static BATNAs), about each party's 40th-percentile utility.
RESERVED = {"usa": 0.6, "russia": 0.45, "ukraine": 0.45, "europe": 0.6}

STEPS = (100, 1_000)  # territory 0..T: (T + 1) * 12 outcomes
N_STEPS = 100  # NegMAS n_steps = our max_rounds
PROFILE_NEGOTIATIONS = 50

# Solution concepts: repetitions and the shortest batch (CPU seconds), full / --quick.
SOLUTION_REPS = {False: {100: 15, 1_000: 9}, True: {100: 3, 1_000: 3}}
MIN_BATCH = {False: 0.2, True: 0.05}
# Negotiations per T: repetitions, NegMAS negotiations per batch, ours per batch.
NEGOTIATION_PLAN: dict[bool, dict[int, dict[str, int]]] = {
    False: {
        100: {"reps": 5, "negmas": 200, "ours": 200},
        1_000: {"reps": 3, "negmas": 20, "ours": 50},
    },
    True: {100: {"reps": 2, "negmas": 20, "ours": 50}},
}

TARGET_SOLUTIONS = (1_000, 100.0)  # T; ours at least this many times faster
# T; our throughput at least these multiples of NegMAS's, batched and one at a time (issue 31)
TARGET_NEGOTIATION = (100, {"batched": 150.0, "ours": 10.0})


class Clock:
    """CPU and wall time since creation."""

    def __init__(self) -> None:
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()

    def cpu(self) -> float:
        return time.process_time() - self.cpu0

    def wall(self) -> float:
        return time.perf_counter() - self.wall0


# -- the problem, our side ------------------------------------------------------------------
def our_exponent(negmas_exponent: float) -> float:
    """Our Faratin exponent e for a NegMAS PolyAspiration exponent p: t**p = t**(1/e)."""
    return 1.0 / negmas_exponent


def sim_config(steps: int, exponent: float) -> DictConfig:
    """The problem as a config merged onto the SimConfig schema."""
    everyone = list(PARTIES)
    issues = {
        "territory": {
            "kind": "continuous",
            "low": 0.0,
            "high": 100.0,
            "resolution": 100.0 / steps,
            "control": everyone,
        },
        "nato": {"kind": "ordinal", "levels": NATO_LEVELS, "control": everyone},
        "guarantees": {"kind": "ordinal", "levels": GUARANTEE_LEVELS, "control": everyone},
    }
    parties = {
        name: {
            "strategy": "boulware",
            "concession_exponent": exponent,
            "deadline": N_STEPS + 1,  # our clock k / 101 = NegMAS's (step + 1) / (n_steps + 1)
            "reservation_value": RESERVED[name],
            "preferences": {
                issue: {"ideal": IDEALS[name][k], "salience": SALIENCE[name][k]}
                for k, issue in enumerate(ISSUES)
            },
        }
        for name in PARTIES
    }
    overrides = {
        "scenario_name": f"negmas_compare_T{steps}",
        "mediator": PARTIES[0],  # a single text needs one; alternating offers ignore it
        "bargaining": "calendar",  # time-dependent Boulware tactics, as NegMAS's
        "protocol": "alternating_offers",
        "seating": "inclusive",
        "information": "complete",
        "batna": "static",
        "max_rounds": N_STEPS,
        "issues": issues,
        "parties": parties,
        "phase_one_parties": list(PARTIES[:2]),
        "war": {  # static BATNAs: the war block only names the sides (the scenario requires them)
            "volatility": 0.0,
            "territory_issue": "territory",
            "aggressor": PARTIES[1],
            "defender": PARTIES[2],
            "capacity": {PARTIES[1]: 1.0, PARTIES[2]: 0.3},
        },
    }
    return OmegaConf.merge(OmegaConf.structured(SimConfig), overrides)


def our_concepts(scenario: Scenario) -> dict[str, Any]:
    """Utilities, the reserved-value filter, Pareto mask, Nash and KS (CPU seconds)."""
    d = scenario.static_reservation
    t0 = time.process_time()
    U = scenario.preferences.utilities()
    rational = np.flatnonzero(solutions.zopa_mask(U, d))
    Ur = U[:, rational]
    front = solutions.pareto_mask(Ur)
    t1 = time.process_time()
    nash = solutions.nash(Ur, d)
    t2 = time.process_time()
    ks = solutions.kalai_smorodinsky(Ur, d)
    t3 = time.process_time()
    return {
        "times": {"pareto": t1 - t0, "nash": t2 - t1, "kalai": t3 - t2},
        "rational": rational,
        "front": rational[front],
        "nash": _original(nash, rational),
        "ks": _original(ks, rational),
        "egal": _original(solutions.egalitarian(Ur, d), rational),
    }


def _original(chosen: int | None, rational: np.ndarray) -> int | None:
    """Outcome index in the full space of an index into the rational subset."""
    return None if chosen is None else int(rational[chosen])


# -- the problem, NegMAS's side -------------------------------------------------------------
def negmas_problem(scenario: Scenario) -> tuple[Any, list[Any], list[tuple[Any, ...]]]:
    """NegMAS outcome space, ufuns (same weights, level values, reserved values), outcomes."""
    from negmas import LinearAdditiveUtilityFunction, make_issue, make_os
    from negmas.preferences import TableFun

    space = scenario.space
    levels = [list(range(space.issues[0].size)), *[list(i.levels) for i in space.issues[1:]]]
    issues = [make_issue(values=(0, space.issues[0].size - 1), name=ISSUES[0])]
    issues += [make_issue(values=lv, name=n) for n, lv in zip(ISSUES[1:], levels[1:], strict=True)]
    outcome_space = make_os(issues, name=scenario.name)
    prefs = scenario.preferences
    ufuns = []
    for i, party in enumerate(scenario.parties):
        values = [
            TableFun({lv: float(v) for lv, v in zip(names, prefs.level_values[k][i], strict=True)})
            for k, names in enumerate(levels)
        ]
        ufuns.append(
            LinearAdditiveUtilityFunction(
                values=values,
                weights=[float(w) for w in prefs.weights[i]],
                outcome_space=outcome_space,
                reserved_value=float(scenario.static_reservation[i]),
                name=party,
            )
        )
    return outcome_space, ufuns, list(outcome_space.enumerate())


def negmas_concepts(outcome_space: Any, ufuns: list[Any], outcomes: list[Any]) -> dict[str, Any]:
    """NegMAS pareto_frontier, nash_points and kalai_points (CPU seconds)."""
    from negmas.preferences.ops import kalai_points, nash_points, pareto_frontier

    t0 = time.process_time()
    frontier, indices = pareto_frontier(ufuns, outcomes=outcomes)
    t1 = time.process_time()
    nash = nash_points(ufuns, frontier, outcome_space=outcome_space)
    t2 = time.process_time()
    kalai = kalai_points(ufuns, frontier, outcome_space=outcome_space)
    t3 = time.process_time()
    return {
        "times": {"pareto": t1 - t0, "nash": t2 - t1, "kalai": t3 - t2},
        "front": np.asarray(indices, dtype=np.int64),
        "nash": [int(indices[j]) for _, j in nash],
        "kalai": [int(indices[j]) for _, j in kalai],
    }


def negmas_boulware_exponent() -> float:
    """The exponent of NegMAS's BoulwareTBNegotiator curve (4 in 0.10-0.16)."""
    from negmas.negotiators.helpers import PolyAspiration

    return float(PolyAspiration(1.0, "boulware").exponent)


def negmas_version() -> str:
    import negmas

    return str(negmas.__version__)


# -- checks ---------------------------------------------------------------------------------
def check_problem(scenario: Scenario, ufuns: list[Any], outcomes: list[Any]) -> dict[str, Any]:
    """Same outcomes in the same order, bit-identical utilities, same reserved values."""
    space = scenario.space
    expected = [
        (int(row[0]), space.issues[1].levels[row[1]], space.issues[2].levels[row[2]])
        for row in space.grid
    ]
    U_negmas = np.array([[float(u(o)) for o in outcomes] for u in ufuns])
    U = scenario.utilities
    reserved = np.array([float(u.reserved_value) for u in ufuns])
    return {
        "same_outcome_order": [tuple(o) for o in outcomes] == expected,
        "utilities_identical": bool(np.array_equal(U_negmas, U)),
        "utilities_max_abs_diff": float(np.abs(U_negmas - U).max()),
        "reserved": reserved.tolist(),
        "reserved_identical": bool(np.array_equal(reserved, scenario.static_reservation)),
        "reserved_above_min": bool((reserved >= U.min(axis=1)).all()),
        "duplicate_vectors": int(U.shape[1] - np.unique(U.T, axis=0).shape[0]),
    }


def check_curves(scenario: Scenario, exponent: float) -> float:
    """Largest gap between NegMAS's Boulware and ours over the rounds, all parties."""
    from negmas.negotiators.helpers import PolyAspiration

    curve = PolyAspiration(1.0, "boulware")
    strategy = make_strategy("boulware", exponent)
    U = scenario.utilities
    gap = 0.0
    for i in range(len(scenario.parties)):
        best, worst = float(U[i].max()), float(U[i].min())
        r = float(scenario.static_reservation[i])
        low = max(worst, r)  # NegMAS scales onto [max(worst, reserved), best]
        for k in range(1, N_STEPS + 1):
            theirs = low + (best - low) * curve.utility_at(k / (N_STEPS + 1))
            ours = strategy.aspiration(AspirationInput(k, N_STEPS + 1, best, r, best, 0.0))
            gap = max(gap, abs(theirs - ours))
    return gap


def _levels(scenario: Scenario, outcomes: Sequence[int]) -> set[tuple[int, ...]]:
    """Outcomes as level-index tuples."""
    rows = scenario.space.grid[np.asarray(outcomes, dtype=np.int64)]
    return {tuple(int(x) for x in row) for row in rows}


def _describe(scenario: Scenario, outcomes: Sequence[int | None]) -> list[str]:
    return [scenario.space.describe(int(o)) for o in outcomes if o is not None]


def compare_concepts(scenario: Scenario, theirs: dict, ours: dict) -> dict[str, Any]:
    """Pareto sets as sets of level tuples, Nash and Kalai points, and why they differ."""
    U = scenario.utilities
    space = scenario.space
    theirs_front, ours_front = _levels(scenario, theirs["front"]), _levels(scenario, ours["front"])
    only_ours = [int(space.ravel(t)) for t in sorted(ours_front - theirs_front)]
    only_theirs = [int(space.ravel(t)) for t in sorted(theirs_front - ours_front)]
    # NegMAS keeps one outcome of a group with identical utility vectors; we keep them all.
    front_vectors = {tuple(U[:, o]) for o in theirs["front"].tolist()}
    tied = sum(tuple(U[:, o]) in front_vectors for o in only_ours)
    return {
        "rational": len(ours["rational"]),
        "front_negmas": len(theirs_front),
        "front_ours": len(ours_front),
        "front_equal": theirs_front == ours_front,
        "front_only": [len(only_ours), len(only_theirs)],
        "front_only_ours_tied": tied,
        "front_only_examples": [
            _describe(scenario, only_ours[:3]),
            _describe(scenario, only_theirs[:3]),
        ],
        "nash_negmas": _describe(scenario, theirs["nash"]),
        "nash_ours": _describe(scenario, [ours["nash"]]),
        "nash_equal": theirs["nash"] == [ours["nash"]],
        "nash_ours_in_negmas": ours["nash"] in theirs["nash"],
        "kalai_negmas": _describe(scenario, theirs["kalai"]),
        "ks_ours": _describe(scenario, [ours["ks"]]),
        "egal_ours": _describe(scenario, [ours["egal"]]),
        "kalai_is_egal": ours["egal"] in theirs["kalai"],
        "kalai_is_ks": ours["ks"] in theirs["kalai"],
    }


# -- workers --------------------------------------------------------------------------------
def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _batch(run: Callable[[], dict[str, Any]], min_seconds: float) -> dict[str, float]:
    """Mean CPU seconds per call of each timed part, over calls filling `min_seconds`."""
    sums: dict[str, float] = {}
    calls = 0
    clock = Clock()
    while calls == 0 or clock.cpu() < min_seconds:
        for key, value in run()["times"].items():
            sums[key] = sums.get(key, 0.0) + value
        calls += 1
    out = {key: value / calls for key, value in sums.items()}
    out["total"] = sum(out.values())
    out["wall"] = clock.wall() / calls
    out["calls"] = calls
    return out


def solutions_worker(steps: int, quick: bool) -> dict[str, Any]:
    """Time and compare the solution concepts on one problem size."""
    exponent = our_exponent(negmas_boulware_exponent())
    scenario = build_scenario(sim_config(steps, exponent))
    outcome_space, ufuns, outcomes = negmas_problem(scenario)
    problem = check_problem(scenario, ufuns, outcomes)

    theirs = negmas_concepts(outcome_space, ufuns, outcomes)  # warm-up, kept for the checks
    ours = our_concepts(scenario)
    runs = {
        "negmas": lambda: negmas_concepts(outcome_space, ufuns, outcomes),
        "ours": lambda: our_concepts(scenario),
    }
    batches: dict[str, list[dict[str, float]]] = {"negmas": [], "ours": []}
    for _ in range(SOLUTION_REPS[quick][steps]):
        for tool, run in runs.items():  # NegMAS, then ours
            gc.collect()
            batches[tool].append(_batch(run, MIN_BATCH[quick]))
    times = {
        tool: {key: statistics.median(b[key] for b in per) for key in per[0]}
        for tool, per in batches.items()
    }
    return {
        "steps": steps,
        "outcomes": int(scenario.utilities.shape[1]),
        "negmas_version": negmas_version(),
        "problem": problem,
        "reps": SOLUTION_REPS[quick][steps],
        "times": times,
        **compare_concepts(scenario, theirs, ours),
    }


def run_negmas_batch(
    outcome_space: Any, ufuns: list[Any], n: int
) -> tuple[float, float, list[dict]]:
    """`n` SAO negotiations back to back: CPU and wall seconds, what each ended with."""
    from negmas import BoulwareTBNegotiator, SAOMechanism

    ends = []
    clock = Clock()
    for _ in range(n):
        mechanism = SAOMechanism(outcome_space=outcome_space, n_steps=N_STEPS)
        for ufun in ufuns:
            mechanism.add(BoulwareTBNegotiator(ufun=ufun, name=ufun.name))
        state = mechanism.run()
        ends.append({"agreement": state.agreement, "rounds": int(state.step)})
    return clock.cpu(), clock.wall(), ends


def run_our_batch(
    scenario: Scenario, settings: NegotiationSettings, n: int, seed: int
) -> tuple[float, float, list[dict]]:
    """`n` of our negotiations back to back: CPU and wall seconds, what each ended with."""
    ends = []
    clock = Clock()
    for i in range(n):
        model = NegotiationModel(scenario, settings, rng=seed + i).run()
        ends.append({"agreement": model.agreement, "rounds": int(model.round)})
    return clock.cpu(), clock.wall(), ends


def run_our_batched(
    scenario: Scenario, settings: NegotiationSettings, n: int, seed: int
) -> tuple[float, float, list[dict]]:
    """The same `n` negotiations (same seeds) as one batch (`sim.engine.model.NegotiationBatch`)."""
    clock = Clock()
    batch = NegotiationBatch(
        [scenario] * n, settings, [scenario.war_params] * n, list(range(seed, seed + n))
    ).run()
    ends = []
    for r in range(n):
        result = batch.result(r)
        ends.append({"agreement": result.outcome, "rounds": result.round})
    return clock.cpu(), clock.wall(), ends


def _summarise(scenario: Scenario, ends: list[dict], front: set[int]) -> dict[str, Any]:
    """Agreements, rounds, rationality and Pareto optimality of a list of negotiations."""
    agreed = [e["agreement"] for e in ends if e["agreement"] is not None]
    U = scenario.utilities
    d = scenario.static_reservation
    return {
        "count": len(ends),
        "agreements": len(agreed),
        "median_rounds": statistics.median(e["rounds"] for e in ends),
        "pareto_optimal": sum(o in front for o in agreed),
        "rational": sum(bool((U[:, o] >= d).all()) for o in agreed),
        "median_utilities": np.median(U[:, agreed], axis=1).round(3).tolist() if agreed else None,
        "most_common": (
            scenario.space.describe(max(set(agreed), key=agreed.count)) if agreed else None
        ),
    }


def negotiation_worker(steps: int, quick: bool) -> dict[str, Any]:
    """Throughput of both tools on one problem size, alternating NegMAS and ours."""
    plan = NEGOTIATION_PLAN[quick][steps]
    negmas_exponent = negmas_boulware_exponent()
    exponent = our_exponent(negmas_exponent)
    cfg = sim_config(steps, exponent)
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    outcome_space, ufuns, _ = negmas_problem(scenario)
    space = scenario.space

    def index_of(outcome: tuple[Any, ...]) -> int:
        levels = [int(outcome[0])]
        levels += [space.issues[k].levels.index(outcome[k]) for k in range(1, len(ISSUES))]
        return int(space.ravel(levels))

    run_negmas_batch(outcome_space, ufuns, 1)  # warm-up
    run_our_batch(scenario, settings, 1, 10**6)
    run_our_batched(scenario, settings, 2, 10**6)
    tools = ("negmas", "ours", "batched")
    rows: dict[str, list[tuple[float, float, int, int]]] = {tool: [] for tool in tools}
    ends: dict[str, list[dict]] = {tool: [] for tool in tools}
    for rep in range(plan["reps"]):
        gc.collect()
        cpu, wall, batch = run_negmas_batch(outcome_space, ufuns, plan["negmas"])
        rows["negmas"].append((cpu, wall, len(batch), sum(e["rounds"] for e in batch)))
        ends["negmas"] += [
            {**e, "agreement": _maybe_index(e["agreement"], index_of)} for e in batch
        ]
        gc.collect()
        cpu, wall, batch = run_our_batch(scenario, settings, plan["ours"], rep * plan["ours"])
        rows["ours"].append((cpu, wall, len(batch), sum(e["rounds"] for e in batch)))
        ends["ours"] += batch
        gc.collect()
        cpu, wall, batch = run_our_batched(scenario, settings, plan["ours"], rep * plan["ours"])
        rows["batched"].append((cpu, wall, len(batch), sum(e["rounds"] for e in batch)))
        ends["batched"] += batch

    U = scenario.utilities
    rational = np.flatnonzero(solutions.zopa_mask(U, scenario.static_reservation))
    front = set(rational[solutions.pareto_mask(U[:, rational])].tolist())
    return {
        "steps": steps,
        "outcomes": int(U.shape[1]),
        "negmas_version": negmas_version(),
        "plan": plan,
        "exponents": [negmas_exponent, exponent],
        "curve_gap": check_curves(scenario, exponent),
        "rate": {tool: statistics.median(n / c for c, _, n, _ in r) for tool, r in rows.items()},
        "rate_wall": {
            tool: statistics.median(n / w for _, w, n, _ in r) for tool, r in rows.items()
        },
        "per_round": {
            tool: statistics.median(c / k for c, _, _, k in r) for tool, r in rows.items()
        },
        "summary": {tool: _summarise(scenario, ends[tool], front) for tool in tools[:2]},
        "batched_equal": ends["batched"] == ends["ours"],
    }


def _maybe_index(outcome: tuple[Any, ...] | None, index_of: Callable) -> int | None:
    return None if outcome is None else index_of(outcome)


def _short_paths(stats: pstats.Stats) -> None:
    """File names relative to the repository or site-packages: sim/engine/model.py,
    mesa/model.py."""
    roots = sorted({str(REPO), *(p for p in sys.path if p)}, key=len, reverse=True)

    def short(func: tuple[str, int, str]) -> tuple[str, int, str]:
        for root in roots:
            if func[0].startswith(root + os.sep):
                return (func[0][len(root) + 1 :], *func[1:])
        return func

    stats.stats = {
        short(f): (cc, nc, tt, ct, {short(c): v for c, v in callers.items()})
        for f, (cc, nc, tt, ct, callers) in stats.stats.items()
    }
    stats.top_level = {short(f) for f in stats.top_level}
    stats.fcn_list = None


def profile_worker(steps: int) -> str:
    """cProfile summary of PROFILE_NEGOTIATIONS of our negotiations."""
    cfg = sim_config(steps, our_exponent(4.0))  # NegMAS's Boulware exponent, without NegMAS
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    run_our_batch(scenario, settings, 1, 10**6)  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    cpu, wall, ends = run_our_batch(scenario, settings, PROFILE_NEGOTIATIONS, 0)
    profiler.disable()
    rounds = sum(e["rounds"] for e in ends)
    out = io.StringIO()
    out.write(
        f"{PROFILE_NEGOTIATIONS} of our negotiations on {scenario.utilities.shape[1]:,} "
        f"outcomes, {rounds} rounds, under the profiler: {cpu:.2f} s CPU, {wall:.2f} s wall "
        f"({cpu / rounds * 1e6:.0f} us CPU per round; the times below are wall clock)\n"
    )
    stats = pstats.Stats(profiler, stream=out)
    _short_paths(stats)
    stats.sort_stats("cumulative").print_stats(20)
    out.write("The same, top 15 by own time (tottime):\n")
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


# -- parent ---------------------------------------------------------------------------------
def _spawn(task: str, steps: int, quick: bool) -> Any:
    """Run one task in a fresh single-threaded interpreter; its last stdout line is JSON."""
    env = dict(os.environ, **dict.fromkeys(THREAD_VARS, "1"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", task, "--steps", str(steps)]
    cmd += ["--quick"] if quick else []
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker {task} T={steps} failed with exit code {proc.returncode}")
    if task == "profile":
        return proc.stdout
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _row(figure: str, negmas: str, ours: str, ratio: str) -> str:
    return f"{figure:<52} {negmas:>10} {ours:>10} {ratio:>8}"


def print_table(sol: list[dict], neg: list[dict]) -> None:
    """Figure, NegMAS, ours, ratio (how many times faster ours is)."""
    ms = 1e3
    names = {"pareto": "Pareto frontier", "nash": "Nash", "kalai": "Kalai", "total": "all three"}
    print(_row("figure (CPU time, one core)", "NegMAS", "ours", "ratio"))
    print("-" * 83)
    for r in sol:
        for key, name in names.items():
            a, b = r["times"]["negmas"][key], r["times"]["ours"][key]
            label = f"{name}, {r['outcomes']:,} outcomes (ms)"
            print(_row(label, f"{a * ms:,.2f}", f"{b * ms:,.3f}", f"{a / b:,.0f}x"))
    for r in neg:
        a, b = r["rate"]["negmas"], r["rate"]["ours"]
        label = f"negotiations per second, {r['outcomes']:,} outcomes"
        print(_row(label, f"{a:,.2f}", f"{b:,.1f}", f"{b / a:.1f}x"))
        a, b = r["rate"]["negmas"], r["rate"]["batched"]
        label = f"  the same, ours batched ({r['plan']['ours']} in one model)"
        print(_row(label, f"{a:,.2f}", f"{b:,.1f}", f"{b / a:.1f}x"))
        a, b = r["per_round"]["negmas"], r["per_round"]["ours"]
        label = f"ms per step (NegMAS) or round (ours), {r['outcomes']:,} outcomes"
        print(_row(label, f"{a * ms:.3f}", f"{b * ms:.3f}", f"{a / b:.1f}x"))
    print(
        "Medians over repetitions. Solution concepts: "
        + ", ".join(f"{r['reps']} batches at {r['outcomes']:,}" for r in sol)
        + ". Pareto includes evaluating the utilities and the reserved-value filter; NegMAS's "
        "Kalai is kalai_points, ours kalai_smorodinsky. Negotiations: "
        + "; ".join(
            f"{p['plan']['reps']} x ({p['plan']['negmas']} NegMAS + {p['plan']['ours']} ours) "
            f"at {p['outcomes']:,}"
            for p in neg
        )
        + "."
    )


def print_targets(sol: list[dict], neg: list[dict]) -> None:
    """PASS/FAIL per target, on CPU time and on wall-clock time."""
    print("\nTargets")
    for r in sol:
        if r["steps"] == TARGET_SOLUTIONS[0]:
            t = r["times"]
            ratio = t["negmas"]["total"] / t["ours"]["total"]
            wall = t["negmas"]["wall"] / t["ours"]["wall"]
            print(
                f"  {_verdict(ratio >= TARGET_SOLUTIONS[1])}  solution concepts on "
                f"{r['outcomes']:,} outcomes: {ratio:,.0f}x faster than NegMAS "
                f"(target >= {TARGET_SOLUTIONS[1]:.0f}x; wall clock {wall:,.0f}x)"
            )
    for r in neg:
        if r["steps"] != TARGET_NEGOTIATION[0]:
            continue
        for tool, how in (("batched", "batched, as sweep jobs run"), ("ours", "one at a time")):
            ratio = r["rate"][tool] / r["rate"]["negmas"]
            wall = r["rate_wall"][tool] / r["rate_wall"]["negmas"]
            goal = TARGET_NEGOTIATION[1][tool]
            print(
                f"  {_verdict(ratio >= goal)}  negotiation throughput on "
                f"{r['outcomes']:,} outcomes, {how}: {ratio:.1f}x NegMAS's "
                f"(target >= {goal:.0f}x; wall clock {wall:.1f}x)"
            )


def print_checks(sol: list[dict], neg: list[dict]) -> None:
    """Same problem in both tools, and the correctness comparison."""
    print("\nSame problem in both tools?")
    for r in sol:
        p = r["problem"]
        utilities = (
            "bit-identical"
            if p["utilities_identical"]
            else f"max |diff| {p['utilities_max_abs_diff']:.1e}"
        )
        print(
            f"  {r['outcomes']:,} outcomes: outcome order "
            f"{'same' if p['same_outcome_order'] else 'DIFFERENT'}, utilities {utilities}, "
            f"reserved values {'identical' if p['reserved_identical'] else 'DIFFERENT'} "
            f"{p['reserved']}{'' if p['reserved_above_min'] else ' (some below the minimum)'}, "
            f"{p['duplicate_vectors']} outcomes repeat another's utility vector"
        )
    for r in neg:
        p, e = r["exponents"]
        print(
            f"  Boulware at {r['outcomes']:,} outcomes: NegMAS exponent {p:g} = our e {e:g}; "
            f"largest gap between the two curves over {N_STEPS} rounds, 4 parties: "
            f"{r['curve_gap']:.1e}"
        )

    print("\nCorrectness, on the outcomes at or above every reserved value")
    for r in sol:
        print(f"  {r['outcomes']:,} outcomes, {r['rational']:,} at or above every reserved value:")
        if r["front_equal"]:
            print(f"    Pareto set: identical, {r['front_ours']:,} outcomes")
        else:
            n_ours, n_theirs = r["front_only"]
            ex_ours, ex_theirs = r["front_only_examples"]
            print(
                f"    Pareto set: DIFFERENT: ours {r['front_ours']:,}, NegMAS "
                f"{r['front_negmas']:,}; {n_ours} only in ours ({r['front_only_ours_tied']} with "
                f"the utility vector of a NegMAS point: identical vectors, NegMAS keeps one), "
                f"{n_theirs} only in NegMAS's; e.g. {ex_ours} / {ex_theirs}"
            )
        if r["nash_equal"]:
            nash = "same outcome"
        elif r["nash_ours_in_negmas"]:
            nash = "ours is one of NegMAS's tied points"
        else:
            nash = "DIFFERENT"
        print(f"    Nash: {nash}: NegMAS {r['nash_negmas']}, ours {r['nash_ours']}")
        egal = "= our egalitarian" if r["kalai_is_egal"] else f"!= our egalitarian {r['egal_ours']}"
        ks = "= our KS" if r["kalai_is_ks"] else f"!= our Kalai-Smorodinsky {r['ks_ours']}"
        print(f"    NegMAS kalai_points {r['kalai_negmas']}: {egal}; {ks}")

    print("\nNegotiation outcomes (informational: offer and acceptance rules differ)")
    for r in neg:
        same = "identical" if r["batched_equal"] else "DIFFERENT"
        print(f"  {r['outcomes']:,} ours batched vs one at a time, same seeds: {same} ends")
        for tool in ("negmas", "ours"):
            s = r["summary"][tool]
            print(
                f"  {r['outcomes']:,} {'NegMAS' if tool == 'negmas' else 'ours':>6}: "
                f"{s['agreements']}/{s['count']} agreed, median "
                f"{s['median_rounds']:g} {'steps' if tool == 'negmas' else 'rounds'}, "
                f"{s['rational']} rational, {s['pareto_optimal']} Pareto-optimal; median "
                f"utilities {s['median_utilities']}; most often {s['most_common']}"
            )


def main(argv: list[str] | None = None) -> int:
    """Entry point: spawn the workers, then print the table, targets and checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and negotiations")
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"only profile {PROFILE_NEGOTIATIONS} of our negotiations (1,212 outcomes)",
    )
    parser.add_argument(
        "--worker", choices=("solutions", "negotiation", "profile"), help=argparse.SUPPRESS
    )
    parser.add_argument("--steps", type=int, default=STEPS[0], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        if any(os.environ.get(v) != "1" for v in THREAD_VARS[:3]):
            print("warning: thread variables not set to 1 before numpy import", file=sys.stderr)
        _pin_one_core()
        warnings.filterwarnings("ignore", module="negmas")
        if args.worker == "profile":
            print(profile_worker(args.steps))
            return 0
        work = solutions_worker if args.worker == "solutions" else negotiation_worker
        print(json.dumps(work(args.steps, args.quick)))
        return 0

    t0 = time.perf_counter()
    if args.profile:
        print(_spawn("profile", STEPS[0], args.quick))
        return 0
    if importlib.util.find_spec("negmas") is None:
        raise SystemExit(
            "NegMAS is not installed: ./dev negmas runs this against NegMAS 0.16 in its own "
            "virtualenv (or pip install -e '.[bench]' for 0.10.23 beside the test extra); "
            "--profile runs our side alone"
        )
    sol = [_spawn("solutions", steps, args.quick) for steps in STEPS]
    neg = [_spawn("negotiation", steps, args.quick) for steps in NEGOTIATION_PLAN[args.quick]]
    print(
        f"NegMAS {sol[0]['negmas_version']}, numpy {np.__version__}, "
        f"python {sys.version.split()[0]}; each worker on one core\n"
    )
    print_table(sol, neg)
    print_targets(sol, neg)
    print_checks(sol, neg)
    print(f"\n(wall time {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
