"""Where `stable`'s thresholds come from, and how the parts of stability relate.

Reads the gathered results of the reference sweep (`./dev run -m sweep=stability`) and
prints, for robustness and durability, the share of deals within one Monte Carlo standard
error of each candidate threshold (`sim.core.stability.threshold_sensitivity`) and the least
sensitive one (the values in conf/config.yaml, docs/model.md "Thresholds"); then each
part's spread, their correlations, and how `stable` differs from "no blocking coalition".

    ./dev run -m sweep=stability
    ./dev python benchmarks/thresholds.py [results/sweeps/stability/results.parquet]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from sim.core import stability
from sim.experiment.assessment import STABILITY_PARTS

CANDIDATES = np.round(np.arange(0.5, 0.951, 0.05), 2)


def main(path: str) -> None:
    frame = pd.read_parquet(path)
    deals = frame[frame["agreement"]].copy()
    print(f"{path}: {len(frame)} replications, {len(deals)} binding deals")
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", None)
    draws = {  # a deal's share is over this many draws (durability: independent paths)
        "robustness": int(deals["stability.robustness_draws"].iloc[0]),
        "durability": int(deals["stability.durability_paths"].iloc[0]),
    }
    for part, n in draws.items():
        sensitivity = stability.threshold_sensitivity(deals[part], CANDIDATES, n)
        best = stability.least_sensitive_threshold(deals[part], CANDIDATES, n)
        print(f"\n{part}: share of deals within one standard error (draws {n}) of t")
        for t, s in zip(CANDIDATES, sensitivity, strict=True):
            mark = "  <- least sensitive" if t == best else ""
            print(f"  t = {t:.2f}: {s:.3f}   share >= t: {(deals[part] >= t).mean():.3f}{mark}")
    print("\nparts (binding deals):")
    print(deals[list(STABILITY_PARTS)].describe().T[["mean", "std", "min", "max"]].round(3))
    print("\ncorrelations:")
    print(deals[list(STABILITY_PARTS)].corr().round(2))
    unblocked = deals["blocking_coalitions"] == 0
    print(f"\nstable {deals['stable'].mean():.1%}, unblocked {unblocked.mean():.1%}")
    print(pd.crosstab(deals["stable"], unblocked, rownames=["stable"], colnames=["unblocked"]))
    keys = [k for k in ("scenario", "mediator_bias") if k in deals]
    if keys:
        table = deals.assign(unblocked=unblocked).groupby(keys)
        columns = ["stable", "unblocked", "robustness", "durability", "commitment_ratio"]
        print("\n", table[columns].mean().round(3))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/sweeps/stability/results.parquet")
