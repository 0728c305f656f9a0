"""Every speed target of issue 31 beside its figure, one line each:
``target | measured | met? | how measured``, then how many are met.

    ./dev python benchmarks/targets.py [--quick]

The measurements are the other scripts' (compare_negmas.py, sweep_throughput.py, page.py);
this script runs them and sets each figure beside its target:

- negotiations against NegMAS 0.16 on compare_negmas.py's problem (1,212 outcomes, 100
  rounds, CPU time on one core): NegMAS in its own virtualenv, `.venv-negmas` (made by
  `./dev negmas`), through compare_negmas.py's negotiation worker; ours here, with its
  functions, one `NegotiationModel` after another and as one `NegotiationBatch`;
- `sweep=support_grid` end to end (python -m sim -m, the packed sweeper, joblib on both
  cores; every stability part) and against its points run in-process;
- a 10^6-replication sweep: rate projected from two smaller ones (their difference gives
  the rate once running, the smaller one what starting and ending cost) and their peak
  memory (sweep_throughput.py --memory);
- `./dev run`: `python -m sim` in a fresh process (.venv already set up);
- the page: ready in Chromium after `./dev app` starts, and a Step in the browser, timed in
  the page from the click event until the change is painted (page.py; Playwright's own
  click, whose actionability checks come first, reported beside it).

`--quick` is a smoke run (the tests run it): sweep=smoke instead of support_grid, sweeps
of 100 and 200 replications instead of 4,000 and 8,000, one `python -m sim`, NegMAS's
quick plan and no browser. Nothing here fails for want of NegMAS or a browser: the line says what is
missing. A `python -m sim` that fails gets its line too (its error), and the script then
exits with status 1.
"""

from __future__ import annotations

import os

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
for _var in THREAD_VARS:
    os.environ.setdefault(_var, "1")  # before numpy loads, as the other scripts do

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks import compare_negmas, sweep_throughput  # noqa: E402
from sim.experiment.build import build_scenario  # noqa: E402
from sim.experiment.compiler import negotiation_settings  # noqa: E402

NEGMAS_PYTHON = ROOT / ".venv-negmas" / "bin" / "python"
NEGMAS_TIMEOUT = 1800  # seconds for NegMAS's worker
STEPS = compare_negmas.TARGET_NEGOTIATION[0]  # territory 0..100: 1,212 outcomes

ONE_AT_A_TIME = compare_negmas.TARGET_NEGOTIATION[1]["ours"]  # x NegMAS 0.16's rate
BATCHED = compare_negmas.TARGET_NEGOTIATION[1]["batched"]
SWEEP_RATE = 1_000.0  # replications per second, end to end
SWEEP_RATIO = 1.5  # wall / (in-process CPU / 2)
LONG_RATE = 2_000.0  # replications per second, 10^6 of them
LONG_MEMORY_MB = sweep_throughput.TARGET_MEMORY_MB  # 1 GB
RUN_SECONDS = 3.0
PAGE_READY = 5.0
PAGE_STEP = 0.2

# Full / --quick.
PRESET = {False: "support_grid", True: "smoke"}
# Two sweeps (replications, jobs) whose difference gives the rate a replication runs at once
# the sweep has started, and whose first gives what starting and ending cost: a sweep of
# 10^6 is projected from both. Jobs of 1,000 and 2,000 replications, more than one batch of
# the default scenario (`sim.engine.model.batch_size`: 235), so that a job's peak memory is
# the one a job of any size reaches (a job writes its rows batch by batch, `JobFile`).
LONG_SWEEP = {False: ((4_000, 4), (8_000, 4)), True: ((100, 2), (200, 2))}
LONG_N = 1_000_000
RUNS = {False: 3, True: 1}
PAGE_REPEATS = 8  # page.py's full run


@dataclass
class Row:
    target: str
    measured: str
    met: bool | None  # None: not measured
    how: str
    failed: bool = False  # our own measurement failed (the script then exits 1)


def line(target: str, measured: str, met: str, how: str) -> None:
    print(f"{target:<47} | {measured:<30} | {met:<4} | {how}", flush=True)


def show(row: Row) -> Row:
    """Print a target's line as soon as it is measured."""
    verdict = "n/a" if row.met is None else "yes" if row.met else "no"
    line(row.target, row.measured, verdict, row.how)
    return row


@contextlib.contextmanager
def one_core() -> Iterator[None]:
    """This process on one core (as compare_negmas.py's workers are), then as before."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


# -- negotiations against NegMAS ------------------------------------------------------------
def negmas_figures(quick: bool) -> dict[str, Any] | str:
    """compare_negmas.py's negotiation worker in .venv-negmas: its figures, or why not."""
    if not NEGMAS_PYTHON.exists():
        return "not measured: run ./dev negmas first (NegMAS 0.16 needs its own virtualenv)"
    env = dict(os.environ, **dict.fromkeys(THREAD_VARS, "1"))
    cmd = [str(NEGMAS_PYTHON), str(ROOT / "benchmarks" / "compare_negmas.py")]
    cmd += ["--worker", "negotiation", "--steps", str(STEPS), *(["--quick"] if quick else [])]
    try:
        done = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=NEGMAS_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return f"not measured: NegMAS's worker ran over {NEGMAS_TIMEOUT} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1][:80]
        return f"not measured: NegMAS's worker failed (exit code {done.returncode}: {last})"
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return "not measured: NegMAS's worker printed no figures"


def our_rates(exponent: float, plan: dict[str, int]) -> dict[str, Any]:
    """Our negotiations per second (CPU, one core) on compare_negmas.py's problem, one at a
    time and batched, with its plan (repetitions of `ours` negotiations; medians)."""
    cfg = compare_negmas.sim_config(STEPS, exponent)
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    n = plan["ours"]
    rates: dict[str, list[float]] = {"ours": [], "batched": []}
    same = True
    with one_core():
        compare_negmas.run_our_batch(scenario, settings, 1, 10**6)  # warm-up
        compare_negmas.run_our_batched(scenario, settings, 2, 10**6)
        for rep in range(plan["reps"]):
            gc.collect()
            cpu, _, ends = compare_negmas.run_our_batch(scenario, settings, n, rep * n)
            rates["ours"].append(n / cpu)
            gc.collect()
            cpu, _, ends_batched = compare_negmas.run_our_batched(scenario, settings, n, rep * n)
            rates["batched"].append(n / cpu)
            same &= ends_batched == ends
    return {
        "rate": {tool: statistics.median(r) for tool, r in rates.items()},
        "same": same,
        "outcomes": int(scenario.utilities.shape[1]),
    }


def negotiation_rows(quick: bool) -> list[Row]:
    targets = {
        "ours": f"negotiations one at a time >= {ONE_AT_A_TIME:.0f}x NegMAS",
        "batched": f"negotiations batched >= {BATCHED:.0f}x NegMAS",
    }
    goals = {"ours": ONE_AT_A_TIME, "batched": BATCHED}
    theirs = negmas_figures(quick)
    if isinstance(theirs, str):
        return [show(Row(targets[tool], theirs, None, "compare_negmas.py")) for tool in targets]
    plan = theirs["plan"]
    ours = our_rates(theirs["exponents"][1], plan)
    negmas_rate = theirs["rate"]["negmas"]
    rows = []
    for tool, target in targets.items():
        ratio = ours["rate"][tool] / negmas_rate
        alternated = theirs["rate"][tool] / negmas_rate
        what = (
            "one NegotiationModel after another"
            if tool == "ours"
            else f"{plan['ours']} as one NegotiationBatch"
            + ("" if ours["same"] else ", ends DIFFER from one at a time")
        )
        how = (
            f"CPU, one core, {ours['outcomes']:,} outcomes, {compare_negmas.N_STEPS} rounds: "
            f"NegMAS {theirs['negmas_version']} {negmas_rate:.1f}/s "
            f"({plan['reps']} x {plan['negmas']} SAO, compare_negmas.py's worker in .venv-negmas); "
            f"ours {ours['rate'][tool]:,.0f}/s here ({plan['reps']} x {plan['ours']}, {what}); "
            f"alternated in NegMAS's worker: {alternated:.1f}x"
        )
        rows.append(show(Row(target, f"{ratio:.1f}x", ratio >= goals[tool], how)))
    return rows


# -- sweeps ---------------------------------------------------------------------------------
def sim_failed(exc: subprocess.CalledProcessError, targets: Sequence[str], how: str) -> list[Row]:
    """A line per target for a `python -m sim` that failed: its error line or its last."""
    lines = [line for line in (exc.stderr or "").splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("maxrss_kb=", "Command exited"))]
    said = ([line for line in lines if line.startswith("error:")] or lines or ["no message"])[-1]
    why = f"not measured: python -m sim failed (exit code {exc.returncode}: {said[:100]})"
    return [show(Row(t, why, None, how, failed=True)) for t in targets]


def sweep_rows(quick: bool) -> list[Row]:
    targets = (
        f"sweep=support_grid >= {SWEEP_RATE:,.0f} replications/s",
        f"sweep=support_grid wall <= {SWEEP_RATIO}x in-process",
    )
    preset = PRESET[quick]
    points = sweep_throughput.preset_points(preset)
    compute, rows = sweep_throughput.compute_seconds(preset, points)
    try:
        wall, peak = sweep_throughput.sweep_wall(preset, "packed")
    except subprocess.CalledProcessError as exc:
        return sim_failed(exc, targets, f"sweep={preset} (sweep_throughput.py)")
    rate, ratio = rows / wall, wall / (compute / 2)
    note = "; sweep=smoke in --quick, not support_grid" if quick else ""
    sweep = (
        f"sweep={preset} ({len(points)} points, {rows:,} replications, every stability part) "
        "through python -m sim -m, packed sweeper, joblib x 2"
    )
    return [
        show(
            Row(
                targets[0],
                f"{rate:,.1f} replications/s{' (smoke)' if quick else ''}",
                rate >= SWEEP_RATE,
                f"{sweep}: {wall:.1f} s wall from the command to its end, peak {peak:,.0f} MB "
                f"(sweep_throughput.py){note}",
            )
        ),
        show(
            Row(
                targets[1],
                f"{ratio:.2f}x{' (smoke)' if quick else ''}",
                ratio <= SWEEP_RATIO,
                f"{wall:.1f} s wall / ({compute:.1f} s CPU of its points in-process, one core, "
                f"no Hydra / 2 cores) (sweep_throughput.py){note}",
            )
        ),
    ]


def long_sweep_rows(quick: bool) -> list[Row]:
    targets = (
        f"10^6-replication sweep >= {LONG_RATE:,.0f} replications/s",
        f"10^6-replication sweep < {LONG_MEMORY_MB / 1000:.0f} GB per worker",
    )
    runs = []
    for replications, jobs in LONG_SWEEP[quick]:
        try:
            runs.append(sweep_throughput.memory_run(replications, jobs))
        except subprocess.CalledProcessError as exc:
            how = f"sweep_throughput.py --memory {replications} --jobs {jobs}"
            return sim_failed(exc, targets, how)
    (n1, wall1), (n2, wall2) = ((r["replications"], r["wall"]) for r in runs)
    marginal = (n2 - n1) / max(wall2 - wall1, 1e-9)  # replications/s once running
    fixed = max(wall1 - n1 / marginal, 0.0)  # starting, composing, gathering, ending
    rate = LONG_N / (fixed + LONG_N / marginal)
    peak = max(r["peak"] for r in runs)
    jobs = LONG_SWEEP[quick][1][1]
    sweep = (
        f"the default scenario, drawn support and capacity, joblib x 2: {n1:,} replications in "
        f"{wall1:.1f} s and {n2:,} in {wall2:.1f} s (sweep_throughput.py --memory N --jobs "
        f"{jobs}), so {marginal:,.0f}/s once running and {fixed:.1f} s to start and end"
    )
    return [
        show(
            Row(
                targets[0],
                f"{rate:,.1f} replications/s",
                rate >= LONG_RATE,
                f"projected to {LONG_N:,}: {sweep}",
            )
        ),
        show(
            Row(
                targets[1],
                f"{peak:,.0f} MB",
                peak < LONG_MEMORY_MB,
                f"{sweep}: the peak resident memory of its largest process, launcher or worker "
                "(GNU time); a job holds one batch of replications at a time, however many it "
                "runs",
            )
        ),
    ]


# -- ./dev run ------------------------------------------------------------------------------
def run_row(quick: bool) -> Row:
    target = f"./dev run < {RUN_SECONDS:.0f} s wall"
    walls = []
    for _ in range(RUNS[quick]):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                walls.append(sweep_throughput.timed_run([], Path(tmp))[0])
            except subprocess.CalledProcessError as exc:
                return sim_failed(exc, [target], "python -m sim results_dir=<tmp>")[0]
    wall = statistics.median(walls)
    runs = ", ".join(f"{w:.2f}" for w in walls)
    return show(
        Row(
            target,
            f"{wall:.2f} s",
            wall < RUN_SECONDS,
            f"python -m sim results_dir=<tmp> in a fresh process, the default job, .venv set up "
            f"(./dev's own check not timed); median of {len(walls)} ({runs} s)",
        )
    )


# -- the page -------------------------------------------------------------------------------
def page_rows(quick: bool) -> list[Row]:
    targets = (
        f"page ready in Chromium < {PAGE_READY:.0f} s",
        f"a step in the browser < {PAGE_STEP} s",
    )
    if quick:
        return [show(Row(t, "skipped in --quick", None, "page.py")) for t in targets]
    missing = [m for m in ("playwright", "solara") if importlib.util.find_spec(m) is None]
    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        missing.append("Debian's chromium (/usr/bin/chromium)")
    figures: dict[str, Any] = {}
    why = f"not measured: {', '.join(missing)} missing" if missing else None
    if why is None:
        from benchmarks import page

        try:
            with contextlib.redirect_stdout(io.StringIO()):  # page.py's own lines
                figures = page.serve_and_step(PAGE_REPEATS)
        except Exception as exc:  # a browser that hangs or crashes: say so, keep the rest
            first = (str(exc).strip().splitlines() or [""])[0][:80]
            why = f"not measured: the browser run failed ({type(exc).__name__}: {first})"
        else:
            if "missing" in figures:
                why = f"not measured: {figures['missing']} missing"
    if why is not None:
        return [show(Row(t, why, None, "page.py")) for t in targets]
    shown = figures["shown"]
    last = statistics.median(figures["step_in_page"])
    clicked = statistics.median(figures["step"][1:])
    calendar = figures.get("calendar")
    step = max(last, statistics.median(calendar["in_page"])) if calendar else last
    in_calendar = (
        f", a bargaining=calendar round median {statistics.median(calendar['in_page']):.3f} s "
        f"({statistics.median(calendar['click']):.3f} s through Playwright's click)"
        if calendar
        else " (bargaining=calendar not measured: its select was not found)"
    )
    return [
        show(
            Row(
                targets[0],
                f"{shown:.2f} s",
                shown < PAGE_READY,
                f"from starting python -m sim.front.serve (as ./dev app) until headless Chromium "
                f"(already open) shows the Step button and the three figures; the server answers "
                f"after {figures['served']:.2f} s (page.py)",
            )
        ),
        show(
            Row(
                targets[1],
                f"{step:.3f} s",
                step < PAGE_STEP,
                f"the slower median of, in the page (from the click event until the change is "
                f"painted): the default scenario's last round, until the deal panel shows, "
                f"{last:.3f} s over {len(figures['step_in_page'])} ({clicked:.3f} s through "
                f"Playwright's click, whose actionability checks come first){in_calendar} "
                "(page.py)",
            )
        ),
    ]


# -- the report -----------------------------------------------------------------------------
def commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def header(quick: bool) -> None:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Issue 31's targets{' (--quick: a smoke run, not the figures)' if quick else ''}")
    print(
        f"machine: {os.cpu_count()} cores ({usable} usable), {platform.system()} "
        f"{platform.machine()}, load average {load:.1f} at the start; Python "
        f"{platform.python_version()}, numpy {np.__version__}; commit {commit()}"
    )
    print()
    line("target", "measured", "met?", "how measured")
    print("-" * 120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: small sweeps, no browser"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    header(args.quick)
    rows = [
        *negotiation_rows(args.quick),
        *sweep_rows(args.quick),
        *long_sweep_rows(args.quick),
        run_row(args.quick),
        *page_rows(args.quick),
    ]
    met = sum(r.met is True for r in rows)
    unmeasured = sum(r.met is None for r in rows)
    print("-" * 120)
    print(
        f"{met} of {len(rows)} targets met"
        + (f" ({unmeasured} not measured)" if unmeasured else "")
        + f"; {time.perf_counter() - start:.0f} s"
    )
    if any(r.failed for r in rows):
        print("error: a measurement failed (its line says how)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
