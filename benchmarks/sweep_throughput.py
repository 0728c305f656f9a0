"""End-to-end sweep throughput on both cores with joblib, against the same work in-process.

    ./dev python benchmarks/sweep_throughput.py [--preset support_grid] [--sweepers packed,basic]
    ./dev python benchmarks/sweep_throughput.py --memory 1000000 [--jobs 20]
    ./dev python benchmarks/sweep_throughput.py --quick   # sweep=smoke, packed: a smoke run

1. Runs a preset (`conf/sweep/<preset>.yaml`) through `python -m sim -m sweep=<preset>
   hydra/launcher=joblib hydra.launcher.n_jobs=2`, with the packed sweeper (the default:
   points packed into a few jobs) and with Hydra's basic sweeper (one job per point), and
   times it from the command to its end (start-up, gathering and the heatmap included);
   the peak memory of its largest process (GNU time's maximum resident set).
2. Runs the same points' replications in this process, one point after another, without
   Hydra: CPU seconds on one core, config handling included.
3. Prints replications per second end to end, the ratio of the wall time to the in-process
   time spread over both cores (target <= 1.25), and the share of the wall time the
   in-process work does not explain (Hydra, joblib, start-up, gathering; target < 10%).
With `--memory N`: one sweep of N replications in `--jobs` jobs (drawn support levels and
capacities), its wall time and the peak memory of its largest process (target < 1 GB).
Issue 13's targets: >= 1,000 replications per second, overhead < 10%.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as `python -m sim` does, before numpy loads

import yaml  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402

from sim.experiment.jobs import run_replications  # noqa: E402
from sim.experiment.schema import CONFIG_DIR, register_configs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 1000.0
TARGET_OVERHEAD = 0.10
TARGET_RATIO = 1.25
TARGET_MEMORY_MB = 1000.0


def preset_points(preset: str) -> list[list[str]]:
    """Every point of a preset: the product of its swept values, as overrides."""
    data = yaml.safe_load((Path(CONFIG_DIR) / "sweep" / f"{preset}.yaml").read_text())
    params = data["hydra"]["sweeper"]["params"]
    keys = list(params)
    values = [str(params[k]).split(",") for k in keys]
    return [
        [f"{k}={v}" for k, v in zip(keys, combo, strict=True)]
        for combo in itertools.product(*values)
    ]


def timed_run(args: list[str], results_dir: Path) -> tuple[float, float, str]:
    """Wall seconds of `python -m sim <args>` in a fresh process (start-up included), the
    peak resident memory of its largest process (MB) and its output."""
    cmd = [
        "/usr/bin/time",
        "-f",
        "maxrss_kb=%M",
        sys.executable,
        "-m",
        "sim",
        *args,
        f"results_dir={results_dir}",
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    found = re.search(r"maxrss_kb=(\d+)", done.stderr)
    return wall, int(found.group(1)) / 1024 if found else float("nan"), done.stdout


def compute_seconds(preset: str, points: list[list[str]]) -> tuple[float, int]:
    """CPU seconds of the preset's points run in this process without Hydra, one after
    another, and the row count."""
    register_configs()
    total, rows = 0.0, 0
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        for point in points:
            cfg = compose("config", overrides=[f"sweep={preset}", *point])
            start = time.process_time()
            out, _ = run_replications(cfg)
            total += time.process_time() - start
            rows += len(out)
    return total, rows


def target(ok: bool, what: str) -> str:
    return f"(target {what}: {'PASS' if ok else 'FAIL'})"


def sweep_wall(preset: str, sweeper: str) -> tuple[float, float]:
    """Wall seconds of the preset end to end with joblib on both cores, and the peak memory
    of its largest process (MB)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["-m", f"sweep={preset}", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
        wall, peak, _ = timed_run([*args, f"hydra/sweeper={sweeper}"], Path(tmp))
    return wall, peak


def throughput(preset: str, sweepers: list[str]) -> None:
    points = preset_points(preset)
    compute, rows = compute_seconds(preset, points)
    print(f"preset {preset}: {len(points)} points, {rows} replications")
    rate = rows / compute
    print(f"in-process, one core, no Hydra: {compute:7.2f} s CPU ({rate:6.1f} replications/s)")
    for sweeper in sweepers:
        wall, peak = sweep_wall(preset, sweeper)
        rate = rows / wall
        ratio = wall / (compute / 2)
        overhead = max(0.0, 1.0 - 1.0 / ratio)
        print(f"sweep, joblib x 2, hydra/sweeper={sweeper}: {wall:6.2f} s wall, peak {peak:.0f} MB")
        print(
            f"  replications per second: {rate:7.1f}",
            target(rate >= TARGET_RATE, f">= {TARGET_RATE:.0f}"),
        )
        print(
            f"  wall / in-process on 2 cores: {ratio:.2f}",
            target(ratio <= TARGET_RATIO, f"<= {TARGET_RATIO}"),
        )
        print(
            f"  overhead: {overhead:.0%} of wall time", target(overhead < TARGET_OVERHEAD, "< 10%")
        )


def memory_run(replications: int, jobs: int) -> dict[str, Any]:
    """One sweep of `replications` (rounded up to a multiple of `jobs`) in `jobs` jobs, joblib
    on both cores: replications, wall seconds, peak memory of the largest process (MB), the
    size of results.parquet (MB) and the sweep's output."""
    per_job = -(-replications // jobs)
    args = [
        "-m",
        f"seed={','.join(str(s) for s in range(jobs))}",
        f"replications={per_job}",
        "uncertainty.us_support.dist=uniform",
        "uncertainty.us_support.scale=0.3",
        "uncertainty.russia_capacity.dist=lognormal",
        "uncertainty.russia_capacity.scale=0.2",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "sweep_name=memory",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        wall, peak, out = timed_run(args, Path(tmp))
        size = (Path(tmp) / "sweeps" / "memory" / "results.parquet").stat().st_size / 1e6
    total = per_job * jobs
    return {"replications": total, "wall": wall, "peak": peak, "size": size, "out": out}


def memory(replications: int, jobs: int) -> None:
    run = memory_run(replications, jobs)
    total, wall, peak, size = run["replications"], run["wall"], run["peak"], run["size"]
    out = run["out"]
    print(f"{total:,} replications in {jobs} jobs: {wall:7.1f} s wall ({total / wall:.1f}/s)")
    print(f"  results.parquet {size:.0f} MB; {out.strip().splitlines()[-2][:100] if out else ''}")
    ok = peak < TARGET_MEMORY_MB
    print(f"  peak memory of the largest process: {peak:.0f} MB", target(ok, "< 1000 MB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="support_grid")
    parser.add_argument("--sweepers", default="packed,basic")
    parser.add_argument("--memory", type=int, default=0, help="replications of a memory run")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument(
        "--quick", action="store_true", help="sweep=smoke with the packed sweeper only"
    )
    args = parser.parse_args()
    if args.quick:
        args.preset, args.sweepers = "smoke", "packed"
    if args.memory:
        memory(args.memory, args.jobs)
    else:
        throughput(args.preset, args.sweepers.split(","))


if __name__ == "__main__":
    main()
