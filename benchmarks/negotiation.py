"""Negotiation throughput on the default 4-party problem, and where a round's time goes.

    ./dev python benchmarks/negotiation.py [--n 200] [--profile]

Prints negotiations per second (one core, no trace collection, max_rounds=100) for both
protocols, the mean number of rounds, the time per round, Mesa's own cost per step and
per model, and with --profile a cProfile summary of a round. Target (issue 3): >= 400
negotiations per second. Then the same negotiations run as batches of R replications in
one model (`sim.batch`, as sweep jobs run them) for several R: where a batch starts to
pay is what `sim.batch.BATCH_FROM` encodes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import mesa  # noqa: E402
import numpy as np  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from sim.app import CONFIG_DIR  # noqa: E402
from sim.batch import BatchNegotiationModel  # noqa: E402
from sim.model import NegotiationModel, NegotiationSettings  # noqa: E402
from sim.scenario import build_scenario  # noqa: E402

TARGET = 400.0


def compose_default(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose("config", overrides=["max_rounds=100", *overrides])


def throughput(cfg: DictConfig, n: int) -> tuple[float, float]:
    """Negotiations per second (best of 3 batches of n) and mean rounds."""
    scenario = build_scenario(cfg)
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    NegotiationModel(scenario, settings, rng=np.random.default_rng(0)).run()  # warm caches
    best, rounds = 0.0, []
    for _ in range(3):
        start = time.perf_counter()
        for i in range(n):
            model = NegotiationModel(scenario, settings, rng=np.random.default_rng(i)).run()
            rounds.append(model.round)
        best = max(best, n / (time.perf_counter() - start))
    return best, float(np.mean(rounds))


def batched_throughput(cfg: DictConfig, size: int, n: int) -> float:
    """Negotiations per second as batches of `size` (best of 3 rounds of >= n)."""
    scenario = build_scenario(cfg)
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    wp = scenario.war_params

    def batch(first: int) -> None:
        seeds = [np.random.default_rng(first + r) for r in range(size)]
        BatchNegotiationModel([scenario] * size, settings, [wp] * size, seeds).run()

    batch(0)  # warm caches
    best = 0.0
    batches = max(1, n // size)
    for _ in range(3):
        start = time.perf_counter()
        for b in range(batches):
            batch(b * size)
        best = max(best, batches * size / (time.perf_counter() - start))
    return best


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
    settings = NegotiationSettings.from_config(cfg, collect_trace=False)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        NegotiationModel(scenario, settings, rng=np.random.default_rng(i)).run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="negotiations per batch")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    args = parser.parse_args()

    from sim.config import register_configs

    register_configs()
    step_us, model_us = mesa_overhead()
    print(f"Mesa alone: {step_us:.1f} us per empty step, {model_us:.0f} us per empty model")
    print(f"{'protocol':<20} {'negotiations/s':>15} {'rounds':>7} {'us/round':>9}  target")
    for protocol in ("single_text", "alternating_offers"):
        cfg = compose_default(f"protocol={protocol}")
        rate, rounds = throughput(cfg, args.n)
        verdict = "PASS" if rate >= TARGET else "FAIL"
        per_round = 1e6 / rate / rounds
        print(
            f"{protocol:<20} {rate:15.1f} {rounds:7.1f} {per_round:9.1f}  "
            f">= {TARGET:.0f}/s {verdict}"
        )
    sizes = (1, 3, 6, 20, 200)
    print("\nbatched (negotiations/s by replications per batch):")
    print(f"{'protocol':<20} " + " ".join(f"{'R=' + str(r):>9}" for r in sizes) + "  target")
    for protocol in ("single_text", "alternating_offers"):
        cfg = compose_default(f"protocol={protocol}")
        rates = [batched_throughput(cfg, size, args.n) for size in sizes]
        verdict = "PASS" if max(rates) >= TARGET else "FAIL"
        print(
            f"{protocol:<20} "
            + " ".join(f"{rate:9.1f}" for rate in rates)
            + f"  >= {TARGET:.0f}/s {verdict}"
        )
    if args.profile:
        print(profile(compose_default(), min(args.n, 50)))


if __name__ == "__main__":
    main()
