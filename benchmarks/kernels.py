"""The anticipated paths in numpy and compiled (sim/core/kernels.py), on the shipped
scenarios.

    ./dev python benchmarks/kernels.py [--quick]

Prints, per scenario, the time of one `Scenario.anticipations` call (all deals, one start;
then the twelve starts and the deals nobody vetoes that a hopeful party's look ahead asks
for) with numpy and with the kernels (CPU, one core, best of repetitions), each kernel
beside the numpy function it fuses on that call's own arrays, and checks that both give
the same numbers to the bit. Then what the kernels cost a process before their first call
(`import numba` and loading the cached machine code, in a fresh process): the numpy calls
that cost as much, against `scenario.COMPILE_AFTER`, after which a process turns to them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402

from sim.core import enforcement, kernels  # noqa: E402
from sim.core import scenario as scenario_module  # noqa: E402
from sim.experiment.build import build_scenario  # noqa: E402
from sim.experiment.schema import CONFIG_DIR, register_configs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = ("brussels_2025", "paris_2026", "dayton_1995")
LOOK_AHEAD_STARTS = [float(m) for m in range(12)]
COMPILE_AFTER = scenario_module.COMPILE_AFTER  # as shipped (the calls below set it)


def best_time(call: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` calls, CPU seconds (after one untimed call)."""
    call()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def anticipations(sc, starts: list[float], outcomes, compiled: bool) -> list:
    scenario_module.COMPILE_AFTER = -1 if compiled else 10**12
    return sc.anticipations(sc.war_params, 12, starts, outcomes)


def same(a: list, b: list) -> bool:
    return all(
        np.array_equal(getattr(x, f), getattr(y, f))
        for x, y in zip(a, b, strict=True)
        for f in ("first", "values", "renewed", "path_of")
    )


def scenario_rows(name: str, repeats: int) -> None:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        sc = build_scenario(compose("config", overrides=[f"scenario={name}"]))
    vetoed = sc.red_line_crossed.any(axis=0)
    free = np.flatnonzero(~vetoed)
    for label, starts, outcomes in (
        (f"all {sc.space.size:,} deals, one start", [0.0], None),
        (f"{free.size:,} deals nobody vetoes, 12 starts", LOOK_AHEAD_STARTS, free),
    ):
        numpy_call, compiled_call = (
            lambda s=starts, o=outcomes, c=compiled: anticipations(sc, s, o, c)
            for compiled in (False, True)
        )
        slow, fast = best_time(numpy_call, repeats), best_time(compiled_call, repeats)
        equal = same(numpy_call(), compiled_call())
        print(
            f"  {label}: numpy {slow * 1e3:6.2f} ms, compiled {fast * 1e3:6.2f} ms "
            f"({slow / fast:4.1f}x), equal to the bit: {equal}"
        )
    kernel_rows(sc, repeats)


def kernel_rows(sc, repeats: int) -> None:
    """Each kernel beside its numpy function, on all deals' arrays (one start)."""
    scenario_module.COMPILE_AFTER = 10**12
    paths = sc._paths(None)
    params = sc.war_params
    batna = sc.war_batna(params)
    positions = sc.space.issues[sc.territory_k].positions
    months = 13  # one start: the 12 months of foresight and the month of the deal
    rng = np.random.default_rng(0)
    lines = positions[paths.pair_level]
    targets = rng.uniform(positions[0], positions[-1], (lines.size, months))
    cost = np.zeros((lines.size, len(sc.parties)))
    numpy_values = best_time(lambda: batna.value_on_paths(lines, targets, cost), repeats)
    compiled_values = best_time(lambda: kernels.path_values(batna, lines, targets, cost), repeats)
    renewed = batna.value_on_paths(lines, targets, cost)[paths.pair_of]
    args = (sc.utilities, renewed, paths.path_of, sc.war_sides, 1e-9, np.array([0]), 12, 0.99)
    numpy_renewals = best_time(lambda: enforcement.renewals(*args), repeats)
    compiled_renewals = best_time(lambda: kernels.renewals(*args), repeats)
    print(
        f"  war values on {lines.size} paths x {months} months: numpy "
        f"{numpy_values * 1e6:5.0f} us, kernel {compiled_values * 1e6:5.0f} us; renewals of "
        f"{sc.space.size:,} deals: numpy {numpy_renewals * 1e6:5.0f} us, kernel "
        f"{compiled_renewals * 1e6:5.0f} us"
    )


def load_cost() -> float:
    """Seconds a fresh process takes to import numba and run a cached kernel once."""
    code = (
        "import time, numpy as np\n"
        "start = time.perf_counter()\n"
        "from sim.core import kernels\n"
        "kernels.renewals(np.zeros((2, 3)), np.zeros((1, 2, 2)), np.zeros(3, np.int64), "
        "(0,), 0.0, np.array([0]), 1, 0.9)\n"
        "print(time.perf_counter() - start)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return float(done.stdout.split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one scenario, few repetitions")
    args = parser.parse_args(argv)
    register_configs()
    repeats = 3 if args.quick else 20
    for name in SCENARIOS[:1] if args.quick else SCENARIOS:
        print(f"{name}: Scenario.anticipations, CPU, one core, best of {repeats}")
        scenario_rows(name, repeats)
    load_cost()  # the first run may compile and cache the kernels: not what is measured
    load = min(load_cost() for _ in range(1 if args.quick else 3))
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        sc = build_scenario(compose("config"))
    per_call = best_time(lambda: anticipations(sc, [0.0], None, False), repeats)
    print(
        f"loading the kernels in a fresh process (import numba, the cached code): {load:.2f} s, "
        f"the time of {load / per_call:.0f} numpy calls of brussels_2025's; a process "
        f"turns to them after {COMPILE_AFTER} (scenario.COMPILE_AFTER)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
