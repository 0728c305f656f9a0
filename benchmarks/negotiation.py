"""Negotiation throughput on the default 4-party problem, one at a time and batched.

    ./dev python benchmarks/negotiation.py [--n 200] [--profile] [--quick]

Prints negotiations per second (one core, no trace collection, max_rounds=100) for both
protocols, each with the numpy round and the compiled one (sim/core/round_kernel.py, used
from the first round here): one `NegotiationModel` (a batch of one) after another, then the same
negotiations as batches of R replications in one `NegotiationBatch` (as sweep jobs run
them), with the mean number of rounds, the time per round and Mesa's own cost per step
and per model; with --profile a cProfile summary of one-at-a-time negotiations.

Targets (issue 11, the one engine): one at a time no slower than 0.8x the two-engine
figures of session 2 on this machine (51/s single text, 163/s alternating offers);
batched at R=200 no slower than 2,558/s (alternating offers, compare_negmas.py's problem)
and no slower than before on this problem. The figures are CPU-bound: run on a quiet
machine.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import time
from collections.abc import Iterator

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import mesa  # noqa: E402
import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from sim.engine import model as model_module  # noqa: E402
from sim.engine.model import NegotiationBatch  # noqa: E402
from sim.engine.single import NegotiationModel  # noqa: E402
from sim.experiment.build import build_scenario  # noqa: E402
from sim.experiment.compiler import negotiation_settings  # noqa: E402
from sim.experiment.schema import CONFIG_DIR, register_configs  # noqa: E402

# One at a time before the engines were merged (session 2, this machine): the floor is 0.8x.
BEFORE_ONE_AT_A_TIME = {"single_text": 51.0, "alternating_offers": 163.0}
FLOOR = 0.8


# The calendar model: talks that run to round ~92, so that a figure is a cost per round
# (under bargaining=fighting the default scenario agrees in round 1).
CALENDAR = ["bargaining=calendar", "war.stakes=territory"]


def compose_default(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose("config", overrides=["max_rounds=100", *CALENDAR, *overrides])


def throughput(cfg: DictConfig, n: int) -> tuple[float, float]:
    """Negotiations per second one at a time (best of 3 runs of n) and mean rounds."""
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    NegotiationModel(scenario, settings, rng=0).run()  # warm caches
    best, rounds = 0.0, []
    for _ in range(3):
        start = time.process_time()
        for i in range(n):
            rounds.append(NegotiationModel(scenario, settings, rng=i).run().round)
        best = max(best, n / (time.process_time() - start))
    return best, float(np.mean(rounds))


def batched_throughput(cfg: DictConfig, size: int, n: int) -> float:
    """Negotiations per second as batches of `size` (best of 3 runs of >= n)."""
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    wp = scenario.war_params

    def batch(first: int) -> None:
        NegotiationBatch(
            [scenario] * size, settings, [wp] * size, list(range(first, first + size))
        ).run()

    batch(0)  # warm caches
    best = 0.0
    batches = max(1, n // size)
    for _ in range(3):
        start = time.process_time()
        for b in range(batches):
            batch(b * size)
        best = max(best, batches * size / (time.process_time() - start))
    return best


ROUNDS = ("numpy", "compiled")  # the numpy round, and the compiled one (sim/core/round_kernel.py)


@contextlib.contextmanager
def played(kind: str) -> Iterator[None]:
    """Rounds played in numpy or compiled from the first (`model.COMPILE_ROUNDS_AFTER`)."""
    shipped = model_module.COMPILE_ROUNDS_AFTER
    model_module.COMPILE_ROUNDS_AFTER = 10**12 if kind == "numpy" else -1
    try:
        yield
    finally:
        model_module.COMPILE_ROUNDS_AFTER = shipped


def covered(cfg: DictConfig) -> bool:
    """Does the compiled round cover this config's settings?"""
    scenario = build_scenario(cfg)
    return NegotiationModel(scenario, negotiation_settings(cfg), rng=0).kernel_covers


def mesa_overhead() -> tuple[float, float]:
    """Mesa's own cost: microseconds per empty step and per empty model."""

    class Empty(mesa.Model):
        def __init__(self) -> None:
            super().__init__(rng=np.random.default_rng(0))

        def step(self) -> None:
            pass

    model = Empty()
    start = time.perf_counter()
    for _ in range(20_000):
        model.step()
    per_step = (time.perf_counter() - start) / 20_000 * 1e6
    start = time.perf_counter()
    for _ in range(500):
        Empty()
    per_model = (time.perf_counter() - start) / 500 * 1e6
    return per_step, per_model


def profile(cfg: DictConfig, n: int) -> str:
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        NegotiationModel(scenario, settings, rng=i).run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="negotiations per measurement")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument(
        "--quick", action="store_true", help="5 negotiations, batches of 1 and 3 (a smoke run)"
    )
    args = parser.parse_args()
    if args.quick:
        args.n = min(args.n, 5)

    register_configs()
    step_us, model_us = mesa_overhead()
    print(f"Mesa alone: {step_us:.1f} us per empty step, {model_us:.0f} us per empty model")
    print("one at a time (NegotiationModel, a batch of one), CPU time:")
    print(
        f"{'protocol':<20} {'round':<9} {'negotiations/s':>15} {'rounds':>7} {'us/round':>9}"
        "  target"
    )
    uncovered = False
    for protocol, before in BEFORE_ONE_AT_A_TIME.items():
        cfg = compose_default(f"protocol={protocol}")
        for kind in ROUNDS:
            with played(kind):
                rate, rounds = throughput(cfg, args.n)
            label = kind if kind == "numpy" or covered(cfg) else f"{kind}*"
            uncovered |= label.endswith("*")
            verdict = "PASS" if rate >= FLOOR * before else "FAIL"
            print(
                f"{protocol:<20} {label:<9} {rate:15.1f} {rounds:7.1f} {1e6 / rate / rounds:9.1f}"
                f"  >= {FLOOR * before:.0f}/s ({FLOOR}x {before:.0f}) {verdict}"
            )
    sizes = (1, 3) if args.quick else (1, 3, 6, 20, 200)
    print("\nbatched (NegotiationBatch, negotiations/s by replications per batch):")
    print(f"{'protocol':<20} {'round':<9} " + " ".join(f"{'R=' + str(r):>9}" for r in sizes))
    for protocol in BEFORE_ONE_AT_A_TIME:
        cfg = compose_default(f"protocol={protocol}")
        for kind in ROUNDS:
            with played(kind):
                rates = [batched_throughput(cfg, size, args.n) for size in sizes]
            label = kind if kind == "numpy" or covered(cfg) else f"{kind}*"
            print(f"{protocol:<20} {label:<9} " + " ".join(f"{rate:9.1f}" for rate in rates))
    if uncovered:
        print(
            "* the compiled round does not cover these settings "
            "(NegotiationBatch.kernel_covers): the numpy round ran"
        )
    if args.profile:
        print(profile(compose_default(), min(args.n, 50)))


if __name__ == "__main__":
    main()
