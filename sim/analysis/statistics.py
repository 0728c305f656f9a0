"""Statistics of result rows with their intervals: the share with a binding deal, the
months to it, the share stable, per group (`sim.core.intervals`)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sim.core.intervals import median_interval, proportion_interval


def describe_deals(frame: pd.DataFrame) -> str:
    """ "N% with a binding deal [95%: a-b], median month m [l, h], S% stable" for a frame of
    replication rows (`deal_statistics`)."""
    deals = deal_statistics(frame)
    when = (
        f", median month {deals['months_to_deal']:g} "
        f"[{deals['months_to_deal_low']:g}, {deals['months_to_deal_high']:g}]"
        if deals["deal_rate"] > 0
        else ""
    )
    stable, low, high = proportion_interval(int(frame["stable"].astype(bool).sum()), len(frame))
    return (
        f"{deals['deal_rate']:.0%} with a binding deal "
        f"[95%: {deals['deal_rate_low']:.0%}-{deals['deal_rate_high']:.0%}]{when}, "
        f"{stable:.0%} stable [95%: {low:.0%}-{high:.0%}]"
    )


def share_summary(
    frame: pd.DataFrame,
    by: Sequence[str] = (),
    columns: Sequence[str] = ("agreement", "stable"),
) -> pd.DataFrame:
    """Per group of `by` (every row when empty): `n` replications (failed jobs' rows left
    out) and, for each 0/1 result column, its share with a Wilson (1927) 95% interval
    (`<column>`, `<column>_low`, `<column>_high`)."""
    ok = frame[frame["error"].isna()] if "error" in frame else frame
    groups = ok.groupby(list(by), sort=True, dropna=False) if by else [((), ok)]
    out = []
    for key, group in groups:
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row["n"] = len(group)
        for column in columns:
            hits = int(group[column].astype(bool).sum())
            share, low, high = proportion_interval(hits, len(group))
            row.update({column: share, f"{column}_low": low, f"{column}_high": high})
        out.append(row)
    return pd.DataFrame(out)


def deal_statistics(frame: pd.DataFrame) -> dict[str, float]:
    """Share of replications with a binding deal and months to it, each with a 95%
    interval: deal_rate (+ _low, _high), months_to_deal (median over the deals, + _low,
    _high)."""
    deals = frame["agreement"].astype(bool)
    rate, rate_low, rate_high = proportion_interval(int(deals.sum()), len(frame))
    months = frame.loc[deals, "months"] if "months" in frame else frame.loc[deals, "round"]
    median, low, high = median_interval(months)
    return {
        "deal_rate": rate,
        "deal_rate_low": rate_low,
        "deal_rate_high": rate_high,
        "months_to_deal": median,
        "months_to_deal_low": low,
        "months_to_deal_high": high,
    }
