"""Benchmark of the solution concepts in sim/core/solutions.py on realistic problem sizes.

Usage: ``.venv/bin/python benchmarks/solutions.py [--quick] [--numpy-max N]``

Four parties (Russia, Ukraine, USA, Europe) with linear-additive utilities over territory
(0..100 in T steps), NATO (3 levels) and guarantees (4 levels): (T + 1) * 12 outcomes for
T = 100, 1,000, 10,000, 100,000. Every size runs in a fresh subprocess pinned to one core
with OMP/OpenBLAS/MKL threads set to 1 before numpy is imported. Per size it reports the
median time of pareto_mask, nash, kalai_smorodinsky, egalitarian and utilitarian and of
their per-repetition total; the peak RSS of the worker process (``ru_maxrss``: interpreter,
imports, building U and all five concepts, read before the pure-numpy candidate runs); and
the tracemalloc peak of one pass of the five concepts (numpy/Python allocations only,
not moocore's C heap). It then compares moocore's non-dominated filter, which
``sim.core.solutions.pareto_mask`` uses, with a pure-numpy block-nested-loop filter and checks
that both give identical masks.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import moocore
import numpy as np

from sim.core import solutions
from sim.core.outcomes import Issue, OutcomeSpace
from sim.core.preferences import normalise_weights, positional_values, utility_matrix

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

PARTIES = ("Russia", "Ukraine", "USA", "Europe")
# (territory, nato, guarantees) ideal positions on the 0-100 scale and saliences.
IDEALS = np.array([[100, 100, 80], [0, 0, 0], [80, 75, 50], [50, 40, 25]], dtype=np.float64)
SALIENCE = np.array([[0.9, 0.8, 0.7], [0.9, 0.5, 0.95], [0.4, 0.3, 0.4], [0.6, 0.5, 0.9]])
D_PERCENTILE = 40.0  # each party's disagreement value: its 40th-percentile utility

STEPS = (100, 1_000, 10_000, 100_000)  # territory steps T: (T + 1) * 12 outcomes
QUICK_STEPS = STEPS[:2]
REPEATS = {100: 50, 1_000: 30, 10_000: 9, 100_000: 5}
NUMPY_REPEATS = {100: 10, 1_000: 5, 10_000: 3, 100_000: 1}
NUMPY_MAX_OUTCOMES = 120_012  # beyond this the O(n * front) numpy filter takes minutes

TARGET_SMALL = (12_012, 12e-3)  # outcomes, all five within this many seconds (<=)
TARGET_LARGE = (1_200_012, 3.0, 2e9)  # outcomes, all five under seconds and peak bytes (<)

CONCEPTS = ("pareto", "nash", "ks", "egal", "util")


def build_problem(steps: int) -> tuple[OutcomeSpace, np.ndarray, np.ndarray]:
    """The outcome space, utility matrix U (parties, outcomes) and disagreement vector d."""
    space = OutcomeSpace(
        (
            Issue.continuous("territory", 0.0, 100.0, 100.0 / steps),
            Issue.ordinal("nato", {"membership": 0.0, "bid_frozen": 50.0, "bid_dropped": 100.0}),
            Issue.ordinal(
                "guarantees",
                {"article5": 0.0, "coalition": 100 / 3, "bilateral": 200 / 3, "none": 100.0},
            ),
        )
    )
    weights = normalise_weights(SALIENCE)
    level_values = [
        np.stack([positional_values(issue.positions, ideal) for ideal in IDEALS[:, k]])
        for k, issue in enumerate(space.issues)
    ]
    U = utility_matrix(weights, level_values, space.shape)
    d = np.percentile(U, D_PERCENTILE, axis=1)
    return space, U, d


def numpy_nondominated(U: np.ndarray, block: int = 1024, front_block: int = 16_384) -> np.ndarray:
    """Pure-numpy twin of ``moocore.is_nondominated(U.T, maximise=True, keep_weakly=True)``.

    Sorts outcomes by (utilitarian sum, u_0, u_1, ...) descending, so anything that
    dominates an outcome comes strictly before it (float sums are monotone), collapses
    identical vectors (kept or dropped together), then runs a block-nested loop: each
    block of candidates is checked, vectorised, against the front found so far and then
    against itself. Checking only the front suffices because dominance is transitive.
    """
    U = np.asarray(U, dtype=np.float64)
    m, n = U.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((*(-U[i] for i in reversed(range(m))), -U.sum(axis=0)))
    P = U[:, order]
    first = np.empty(n, dtype=bool)
    first[0] = True
    first[1:] = (P[:, 1:] != P[:, :-1]).any(axis=0)
    Q = np.ascontiguousarray(P[:, first])  # unique vectors, rows = parties (contiguous)
    n_unique = Q.shape[1]
    front = np.empty_like(Q)
    n_front = 0
    keep = np.zeros(n_unique, dtype=bool)
    ge_buf = np.empty(block * front_block, dtype=bool)
    tmp_buf = np.empty(block * front_block, dtype=bool)
    for start in range(0, n_unique, block):
        cand = Q[:, start : start + block]
        idx = np.arange(start, start + cand.shape[1])
        for f0 in range(0, n_front, front_block):
            fb = front[:, f0 : min(f0 + front_block, n_front)]
            size = cand.shape[1] * fb.shape[1]
            ge = ge_buf[:size].reshape(cand.shape[1], fb.shape[1])
            tmp = tmp_buf[:size].reshape(ge.shape)
            np.greater_equal(fb[0][None, :], cand[0][:, None], out=ge)
            for k in range(1, m):
                np.greater_equal(fb[k][None, :], cand[k][:, None], out=tmp)
                ge &= tmp
            live = ~ge.any(axis=1)
            if not live.all():
                cand, idx = cand[:, live], idx[live]
                if cand.shape[1] == 0:
                    break
        if cand.shape[1]:
            ge = cand[0][None, :] >= cand[0][:, None]
            for k in range(1, m):
                ge &= cand[k][None, :] >= cand[k][:, None]
            np.fill_diagonal(ge, False)  # unique vectors: only another one can dominate
            live = ~ge.any(axis=1)
            cand, idx = cand[:, live], idx[live]
            front[:, n_front : n_front + cand.shape[1]] = cand
            n_front += cand.shape[1]
            keep[idx] = True
    mask = np.empty(n, dtype=bool)
    mask[order] = keep[np.cumsum(first) - 1]
    return mask


def brute_nondominated(U: np.ndarray) -> np.ndarray:
    """O(n^2) definition: no other outcome is >= everywhere and > somewhere."""
    ge = (U[:, :, None] >= U[:, None, :]).all(axis=0)  # ge[a, b]: a weakly dominates b
    gt = (U[:, :, None] > U[:, None, :]).any(axis=0)
    return ~(ge & gt).any(axis=0)


def self_check() -> str:
    """Check both filters against the definition on small tie-heavy random matrices."""
    rng = np.random.default_rng(0)
    cases = 0
    for m in (2, 3, 4, 5):
        for n in (1, 7, 300):
            for high in (2, 4, 1000):
                U = rng.integers(0, high, size=(m, n)).astype(np.float64)
                truth = brute_nondominated(U)
                assert (numpy_nondominated(U, block=16, front_block=32) == truth).all()
                assert (solutions.pareto_mask(U) == truth).all()
                cases += 1
    return f"{cases} tie-heavy random matrices: numpy filter == moocore == brute force"


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `repeats` calls, in seconds."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_size(steps: int, numpy_max: int) -> dict[str, object]:
    """Measure one size (meant to run in its own single-core subprocess)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    space, U, d = build_problem(steps)
    build = time.perf_counter() - t0
    n = U.shape[1]
    zopa = solutions.zopa_mask(U, d)
    if not zopa.any():
        raise RuntimeError(f"empty ZOPA for {n} outcomes with d={d.tolist()}")

    calls: dict[str, Callable[[], object]] = {
        "pareto": lambda: solutions.pareto_mask(U),
        "nash": lambda: solutions.nash(U, d),
        "ks": lambda: solutions.kalai_smorodinsky(U, d),
        "egal": lambda: solutions.egalitarian(U, d),
        "util": lambda: solutions.utilitarian(U),
    }
    results = {name: fn() for name, fn in calls.items()}  # warm-up, and kept for checks
    front = np.asarray(results["pareto"])
    for name in CONCEPTS[1:]:
        chosen = results[name]
        assert isinstance(chosen, int) and front[chosen], f"{name} chose a dominated outcome"
        assert name == "util" or zopa[chosen], f"{name} chose an outcome outside the ZOPA"

    gc.collect()
    repeats = REPEATS[steps]
    per_call: dict[str, list[float]] = {name: [] for name in CONCEPTS}
    totals = []
    for _ in range(repeats):
        total = 0.0
        for name, fn in calls.items():
            t = time.perf_counter()
            fn()
            dt = time.perf_counter() - t
            per_call[name].append(dt)
            total += dt
        totals.append(total)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    tracemalloc.start()
    for fn in calls.values():
        fn()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    out: dict[str, object] = {
        "steps": steps,
        "outcomes": n,
        "front": int(front.sum()),
        "zopa": int(zopa.sum()),
        "d": d.round(4).tolist(),
        "chosen": {name: space.describe(results[name]) for name in CONCEPTS[1:]},
        "build": build,
        "repeats": repeats,
        "times": {name: statistics.median(v) for name, v in per_call.items()},
        "total": statistics.median(totals),
        "rss_start": rss_start,
        "rss_peak": rss_peak,
        "traced_peak": traced_peak,
        "moocore_raw": _median_time(
            lambda: moocore.is_nondominated(U.T, maximise=True, keep_weakly=True), repeats
        ),
    }
    if n <= numpy_max:
        mask = numpy_nondominated(U)
        out["numpy_identical"] = bool((mask == front).all())
        out["numpy"] = _median_time(lambda: numpy_nondominated(U), NUMPY_REPEATS[steps])
        out["numpy_repeats"] = NUMPY_REPEATS[steps]
    return out


def _spawn(steps: int, numpy_max: int) -> dict[str, object]:
    """Run one size in a fresh single-threaded interpreter and return its measurements."""
    env = dict(os.environ, **dict.fromkeys(THREAD_VARS, "1"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(steps)]
    cmd += ["--numpy-max", str(numpy_max)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker for T={steps} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(rows: list[dict[str, object]], numpy_max: int) -> None:
    """Print the timing table, targets and the Pareto filter comparison."""
    ms = 1e3
    mb = 1e6
    head = (
        f"{'outcomes':>9} {'front':>7} {'zopa':>7} {'reps':>4} | {'pareto':>8} {'nash':>7} "
        f"{'ks':>7} {'egal':>7} {'util':>7} | {'total':>8} | {'RSS MB':>7} {'+run':>6} "
        f"{'tm MB':>6} | target"
    )
    print("Solution concepts, median ms per call (one core; RSS = worker peak ru_maxrss,")
    print(
        "+run = that peak minus RSS after imports, tm = tracemalloc peak of one pass of all five)"
    )
    print(head)
    print("-" * len(head))
    verdicts = []
    for r in rows:
        t = r["times"]
        n, total, rss = r["outcomes"], r["total"], r["rss_peak"]
        target = ""
        if n == TARGET_SMALL[0]:
            ok = total <= TARGET_SMALL[1]
            target = f"<= {TARGET_SMALL[1] * ms:.0f} ms {_verdict(ok)}"
            verdicts.append((f"{n:,} outcomes: all five {total * ms:.2f} ms <= 12 ms", ok))
        elif n == TARGET_LARGE[0]:
            ok_t, ok_m = total < TARGET_LARGE[1], rss < TARGET_LARGE[2]
            target = f"< 3 s {_verdict(ok_t)}, < 2 GB {_verdict(ok_m)}"
            verdicts.append((f"{n:,} outcomes: all five {total:.3f} s < 3 s", ok_t))
            verdicts.append((f"{n:,} outcomes: peak RSS {rss / mb:,.0f} MB < 2,000 MB", ok_m))
        print(
            f"{n:>9,} {r['front']:>7,} {r['zopa']:>7,} {r['repeats']:>4} | "
            f"{t['pareto'] * ms:>8.2f} {t['nash'] * ms:>7.2f} {t['ks'] * ms:>7.2f} "
            f"{t['egal'] * ms:>7.2f} {t['util'] * ms:>7.2f} | {total * ms:>8.2f} | "
            f"{rss / mb:>7.0f} {(rss - r['rss_start']) / mb:>6.0f} "
            f"{r['traced_peak'] / mb:>6.1f} | {target}"
        )
    if not any(r["outcomes"] == TARGET_LARGE[0] for r in rows):
        verdicts.append((f"{TARGET_LARGE[0]:,} outcomes: not run (--quick)", None))

    print(
        "\nPareto filter: moocore (as sim.core.solutions.pareto_mask) vs pure-numpy BNL, median ms"
    )
    head2 = (
        f"{'outcomes':>9} {'front':>7} | {'pareto_mask':>11} {'moocore':>9} "
        f"{'numpy':>10} {'reps':>4} | {'numpy/moocore':>13} | masks"
    )
    print(head2)
    print("-" * len(head2))
    last = None
    for r in rows:
        moo = r["times"]["pareto"]
        if "numpy" in r:
            last = r
            ratio = r["numpy"] / moo
            rest = (
                f"{r['numpy'] * ms:>10.1f} {r['numpy_repeats']:>4} | {ratio:>12.0f}x | "
                f"{'identical' if r['numpy_identical'] else 'DIFFERENT'}"
            )
        else:
            est = ""
            if last is not None:
                scale = (r["outcomes"] * r["front"]) / (last["outcomes"] * last["front"])
                est = f", est. ~{last['numpy'] * scale:,.0f} s"
            rest = f"{'skipped':>10} {'':>4} | {'':>13} | (> --numpy-max {numpy_max:,}{est})"
        print(
            f"{r['outcomes']:>9,} {r['front']:>7,} | {moo * ms:>11.2f} "
            f"{r['moocore_raw'] * ms:>9.2f} {rest}"
        )

    print("\nTargets")
    for text, ok in verdicts:
        print(f"  {'----' if ok is None else _verdict(ok)}  {text}")
    big = rows[-1]
    print(f"\nChosen outcomes at {big['outcomes']:,} (d = {big['d']}):")
    for name, desc in big["chosen"].items():
        print(f"  {name:>6}: {desc}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: spawn one worker per size, then print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the two smallest sizes")
    parser.add_argument(
        "--numpy-max",
        type=int,
        default=NUMPY_MAX_OUTCOMES,
        help="largest outcome count for the pure-numpy Pareto filter (default %(default)s)",
    )
    parser.add_argument("--worker", type=int, metavar="T", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        if any(os.environ.get(v) != "1" for v in THREAD_VARS[:3]):
            print("warning: thread variables not set to 1 before numpy import", file=sys.stderr)
        print(json.dumps(run_size(args.worker, args.numpy_max)))
        return 0

    t0 = time.perf_counter()
    print(self_check())
    print(f"numpy {np.__version__}, moocore {moocore.__version__}, python {sys.version.split()[0]}")
    print()
    rows = [_spawn(steps, args.numpy_max) for steps in (QUICK_STEPS if args.quick else STEPS)]
    report(rows, args.numpy_max)
    print(f"\n(wall time {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
