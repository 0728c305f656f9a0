"""End-to-end sweep throughput on both cores with joblib, and Hydra's share of the time.

    ./dev python benchmarks/sweep_throughput.py [--jobs-grid 0,0.5,1] [--replications 50]

1. Runs a sweep (US support x seating x protocol, R replications per job) through
   `python -m sim -m ... hydra/launcher=joblib hydra.launcher.n_jobs=2` and times it,
   with the packed sweeper (the default: the points packed into a few jobs) and with
   Hydra's basic sweeper (one job per point).
2. Runs the same jobs' replications in this process, without Hydra, on one core.
3. Prints negotiation-replications per second for each sweep, and the share of its wall
   time not explained by the computation spread over both cores (Hydra, joblib,
   process start-up, each point's config, gathering): the overhead. Targets (issue 13):
   >= 1,000 replications per second, overhead under 10%.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `python -m sim` does, before numpy loads

from hydra import compose, initialize_config_dir  # noqa: E402

from sim.experiment import run_replications  # noqa: E402
from sim.schema import CONFIG_DIR, register_configs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 1000.0
TARGET_OVERHEAD = 0.10


def sweep_overrides(supports: list[str], replications: int) -> list[str]:
    return [
        f"us_support={','.join(supports)}",
        "seating=inclusive,us_russia_first",
        "protocol=single_text,alternating_offers",
        f"replications={replications}",
    ]


def run_sweep(overrides: list[str], results_dir: Path, sweeper: str = "packed") -> float:
    """Wall seconds of the whole sweep in a fresh process (start-up included)."""
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        *overrides,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"hydra/sweeper={sweeper}",
        f"results_dir={results_dir}",
        "sweep_name=throughput",
    ]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def compute_seconds(supports: list[str], replications: int) -> tuple[float, int]:
    """CPU seconds of the same jobs run in-process without Hydra, and the row count."""
    register_configs()
    total, rows = 0.0, 0
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        for support, seating, protocol in itertools.product(
            supports, ("inclusive", "us_russia_first"), ("single_text", "alternating_offers")
        ):
            cfg = compose(
                "config",
                overrides=[
                    f"us_support={support}",
                    f"seating={seating}",
                    f"protocol={protocol}",
                    f"replications={replications}",
                ],
            )
            start = time.process_time()
            out, _ = run_replications(cfg)
            total += time.process_time() - start
            rows += len(out)
    return total, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supports", default="0,0.5,1", help="US support levels to sweep")
    parser.add_argument("--replications", type=int, default=20)
    args = parser.parse_args()
    supports = args.supports.split(",")

    compute, rows = compute_seconds(supports, args.replications)
    print(f"jobs x replications: {rows // args.replications} x {args.replications} = {rows}")
    print(f"one core, no Hydra:  {compute:8.2f} s CPU  ({rows / compute:7.1f} replications/s)")
    for sweeper in ("packed", "basic"):
        with tempfile.TemporaryDirectory() as tmp:
            wall = run_sweep(sweep_overrides(supports, args.replications), Path(tmp), sweeper)
        rate = rows / wall
        overhead = max(0.0, 1.0 - (compute / 2) / wall)
        print(f"sweep, joblib x 2, hydra/sweeper={sweeper}:")
        print(f"  {wall:8.2f} s wall ({rate:7.1f} replications/s)")
        print(
            f"  replications per second: {rate:.1f} "
            f"(target >= {TARGET_RATE:.0f}: {'PASS' if rate >= TARGET_RATE else 'FAIL'})"
        )
        print(
            f"  overhead (Hydra, joblib, start-up, configs): {overhead:.0%} of wall time "
            f"(target < {TARGET_OVERHEAD:.0%}: {'PASS' if overhead < TARGET_OVERHEAD else 'FAIL'})"
        )


if __name__ == "__main__":
    main()
