"""Tables of result rows that figures and notebooks read: shares per group, where deals
land, the stability checks of each deal (docs/model.md, "Stability"). Pure pandas on
result rows; no figure here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


# -- sweeps ---------------------------------------------------------------------------------
def ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of replications that ran (failed jobs carry an `error`)."""
    if "error" in frame:
        return frame[frame["error"].isna()]
    return frame


def as_float(values: pd.Series) -> pd.Series:
    return pd.Series(values.to_numpy(dtype=float, na_value=np.nan), index=values.index)


def group_order(values: pd.Series, order: Sequence[Any] | None = None) -> list[str]:
    """The groups of a column as strings: in `order` when given (values absent from the
    data left out, values missing from `order` appended), else sorted by value."""
    present = values.dropna()
    if order is not None:
        names = [str(v) for v in order]
        seen = set(present.astype(str))
        return [n for n in names if n in seen] + sorted(seen - set(names))
    return [str(v) for v in sorted(present.unique(), key=lambda v: (str(type(v)), v))]


def typed_values(column: pd.Series, keys: Sequence[str]) -> list[Any]:
    """The values of `column` whose strings are `keys` (`group_order`'s), in that order."""
    by_text = {str(v): v for v in column.dropna().unique()}
    return [by_text.get(k, k) for k in keys]


def share_table(
    frame: pd.DataFrame, column: str, x: str, y: str | None = None, how: str = "mean"
) -> pd.DataFrame:
    """Mean of a 0/1 `column` per value of `x` (columns) and `y` (rows, descending).

    Failed replications (an `error`) are left out; missing values count as missing.
    `how="count"`: the number of replications behind each mean instead.
    """
    ok = ok_rows(frame)
    values = as_float(ok[column])
    if y is None:
        return values.groupby(ok[x]).agg(how).to_frame(name=column).T
    return values.groupby([ok[y], ok[x]]).agg(how).unstack(x).sort_index(ascending=False)


def facet_values(frame: pd.DataFrame, facets: Sequence[str]) -> list[tuple]:
    """The combinations of the `facets` columns' values among the rows that ran, sorted."""
    if not facets:
        return [()]
    ok = ok_rows(frame)
    found = ok[list(facets)].drop_duplicates().itertuples(index=False, name=None)
    return sorted(found, key=lambda combo: tuple(map(str, combo)))


def issue_levels(cfg: Any) -> dict[str, tuple[str, ...]]:
    """Each ordinal or categorical issue's levels in the config's order (`cfg.issues`)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, conf in cfg.issues.items():
        if str(conf.kind) == "ordinal":
            out[name] = tuple(conf.levels)
        elif str(conf.kind) == "categorical":
            out[name] = tuple(conf.categories)
    return out


def is_continuous(frame: pd.DataFrame, issue: str, levels: Mapping[str, Sequence[str]]) -> bool:
    if issue in levels or f"{issue}_position" not in frame:
        return False
    names = frame[issue].dropna().astype(str)  # no deal at all: an empty histogram
    return bool(pd.to_numeric(names, errors="coerce").notna().all())


def level_order(frame: pd.DataFrame, issue: str, levels: Mapping[str, Sequence[str]]) -> list[str]:
    """Levels in the given order; else by position on the scale; else as they come."""
    seen = [str(v) for v in frame[issue].dropna().unique()]
    if issue in levels:
        known = [str(v) for v in levels[issue]]
        return known + [v for v in seen if v not in known]
    if f"{issue}_position" in frame:
        pos = frame.groupby(frame[issue].astype(str))[f"{issue}_position"].mean()
        return sorted(seen, key=lambda v: (pos.get(v, np.inf), v))
    return sorted(seen)


def agreed_level_shares(frame: pd.DataFrame, issue: str, hue: str | None = None) -> pd.DataFrame:
    """Share of replications with a binding deal at each level of `issue` (rows: levels).

    One column per value of `hue` (or one column `all`); the denominator is every
    replication of the group that ran, so a column sums to its share with a binding deal.
    """
    ok = ok_rows(frame)
    groups = ok[hue].astype(str) if hue else pd.Series("all", index=ok.index)
    deal = binding_deals(ok) if "agreement" in ok else ok[issue].notna()
    levels = ok[issue].where(deal).astype("string")
    counts = pd.crosstab(levels, groups)
    totals = groups.value_counts()
    return counts.div(totals.reindex(counts.columns), axis=1).rename_axis(index=issue, columns=hue)


def binding_deals(ok: pd.DataFrame) -> pd.Series:
    """Replications with a binding deal."""
    return ok["agreement"].fillna(False).astype(bool)


def stability_checks(
    frame: pd.DataFrame, thresholds: Mapping[str, float] | Any | None = None
) -> pd.DataFrame:
    """The stability checks (docs/model.md, "Stability") of each binding deal, as booleans.

    Rows: the replications with a binding deal. Columns: `CHECKS`; each compares the
    result row's measure with `thresholds` (config `stability.thresholds`; by default the
    ones the rows were made with, their `stability.thresholds.*` columns, else
    `sim.core.stability.Thresholds()`) exactly as `sim.core.stability.is_stable` does, so `stable`
    here equals the row's own `stable`.
    """
    from sim.core.preferences import TOLERANCE
    from sim.core.stability import Thresholds

    prefix = "stability.thresholds."
    recorded = {c[len(prefix) :]: c for c in frame.columns if c.startswith(prefix)}
    if thresholds is None and recorded:
        values = ok_rows(frame)[list(recorded.values())].drop_duplicates()
        if len(values) > 1:
            raise ValueError(
                f"thresholds: the rows were made with {len(values)} sets of "
                "stability.thresholds; pass the ones to check against"
            )
        t = Thresholds(**{k: values[c].iloc[0] for k, c in recorded.items()})
    elif thresholds is None:
        t = Thresholds()
    elif isinstance(thresholds, Thresholds):
        t = thresholds
    else:
        t = Thresholds(**{k: thresholds[k] for k in thresholds})
    ok = ok_rows(frame)
    deals = ok[ok["agreement"].fillna(False).astype(bool)]
    num = {
        c: deals[c].astype(float) for c in ("ir_margin", "pareto_gap", "robustness", "durability")
    }
    out = pd.DataFrame(
        {
            "individually_rational": num["ir_margin"] >= t.ir_margin - TOLERANCE,
            "pareto_efficient": num["pareto_gap"] <= t.pareto_gap + TOLERANCE,
            "coalition_proof": (deals["blocking_coalitions"] >= 0)
            & (deals["blocking_coalitions"] <= t.blocking_coalitions),
            "robust": num["robustness"] >= t.robustness,
            "durable": num["durability"] >= t.durability,
            # NaN (the linear model measures none) passes, as in `is_stable`
            "no_commitment_problem": ~(
                deals["commitment_ratio"].astype(float) > t.commitment_ratio
                if "commitment_ratio" in deals
                else pd.Series(False, index=deals.index)
            ),
        },
        index=deals.index,
    )
    out["stable"] = out.all(axis=1)
    return out
