"""Intervals for the shares and medians every summary prints: Wilson's (1927) score
interval of a proportion, and a distribution-free interval of a median (Conover 1999).
Pure numpy."""

from __future__ import annotations

from typing import Any

import numpy as np

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def proportion_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """The share and its Wilson (1927) score interval: (share, low, high); NaNs for n = 0."""
    if n <= 0:
        return (float("nan"),) * 3
    share = successes / n
    denominator = 1.0 + z**2 / n
    centre = (share + z**2 / (2 * n)) / denominator
    half = z * ((share * (1 - share) / n + z**2 / (4 * n**2)) ** 0.5) / denominator
    return share, max(0.0, centre - half), min(1.0, centre + half)


def median_interval(values: Any, z: float = Z95) -> tuple[float, float, float]:
    """The median and a distribution-free interval for it: the order statistics of ranks
    ``n/2 -+ z sqrt(n)/2`` (Conover 1999, section 3.2, normal approximation); NaNs when
    empty."""
    x = sorted(float(v) for v in values)
    n = len(x)
    if n == 0:
        return (float("nan"),) * 3
    half = z * n**0.5 / 2
    low = max(int(n / 2 - half), 0)
    high = min(int(-(-(n / 2 + half) // 1)), n - 1)
    return float(np.median(x)), x[low], x[high]
