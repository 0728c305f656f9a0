"""Forecasts of a case's talks by the model and by naive baselines, from its scenario file
only, and their scores against the records (docs/validation.md).

- The model (`model_rows`, `model_forecast`): the case's judgement values (the J-marked
  numbers `sim.experiment.judgement.judgement_parameters` finds, over the ranges of its rule)
  drawn
  by Latin hypercube sampling (McKay, Beckman and Conover 1979), `settings` draws, each
  negotiated `replications` times with the usual shocks (the war's, the stability draws)
  by the batch engine, with common random numbers across draws. It forecasts the
  probability of an agreement within the horizon, the median month of one, the median
  terms per issue and the probability that a deal holds 24 months (its durability over
  24 months). The model at the file's own values is scored beside it.
- The baselines (`baseline_terms`): the weighted median and the weighted mean of the
  parties' ideal points (weights capability x salience, saliences renormalised per party
  as the model does), the midpoint of the two belligerents' ideals, and the status quo
  (the contact line on the war's issue, each issue's default elsewhere, the scale's
  midpoint where an issue has none); for whether and when a deal comes and whether it
  holds, "always", "never" and the other cases' base rate (`scorecard`).

Records are never passed to the model: `model_rows` takes a case's scenario only.
"""

from __future__ import annotations

import copy
import math
import pickle
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core import scoring
from sim.core.intervals import proportion_interval
from sim.core.outcomes import Issue, IssueKind
from sim.experiment.build import build_issue, issue_level_values
from sim.experiment.cases import HOLD_MONTHS, Case, Record
from sim.experiment.compiler import compile_job
from sim.experiment.jobs import run_job
from sim.experiment.judgement import Parameter, judgement_parameters
from sim.experiment.schema import plain
from sim.experiment.sensitivity import apply_values, as_overrides

MODEL, MODEL_AS_WRITTEN = "model", "model_as_written"
BDM = "bdm"  # Bueno de Mesquita's expected-utility model: terms only
MODELS = (MODEL, MODEL_AS_WRITTEN, BDM)  # forecasters scored against the best baseline
TERM_BASELINES = ("weighted_median", "weighted_mean", "midpoint", "status_quo")
EVENT_BASELINES = ("always", "never", "base_rate")
FORECASTERS = (*MODELS, *TERM_BASELINES, *EVENT_BASELINES)
NO_HOLD_FORECAST = 0.5  # the model's P(holds) where it makes no deal within the horizon
ROW_COLUMNS = ("agreement", "months", "reason", "durability", "stable")


@dataclass(frozen=True)
class RunPlan:
    """How many negotiations a case's forecast takes: `settings` draws of its judgement
    values, `replications` each, and `as_written` replications at the file's values."""

    settings: int = 128
    replications: int = 8
    as_written: int = 32
    seed: int = 0


# --- the model ------------------------------------------------------------------------


def case_seed(seed: int, case: str) -> np.random.SeedSequence:
    """The draws' seed of a case: the run's seed and the case's name (crc32, the same in
    every process)."""
    return np.random.SeedSequence([seed, zlib.crc32(case.encode())])


def latin_hypercube(parameters: Sequence[Parameter], n: int, rng: np.random.Generator) -> list:
    """`n` settings of `parameters`, each range cut into n strata, one draw per stratum,
    strata paired at random across parameters (McKay et al. 1979)."""
    settings: list[dict[str, float | int]] = [{} for _ in range(n)]
    for p in parameters:
        strata = (rng.permutation(n) + rng.random(n)) / n
        for k, u in enumerate(strata):
            settings[k][p.key] = p.at(p.low + u * (p.high - p.low))
    return settings


def _run(cfg: Any, values: dict[str, float | int], replications: int, pickled: bytes) -> list:
    point = apply_values(cfg, {**values, "replications": replications}, pickled)
    job = compile_job(point, " ".join(as_overrides(values)), digest="validation")
    rows, _ = run_job(job)
    return rows


def _kept(rows: list[dict], issues: list[str], setting: int) -> list[dict]:
    kept = []
    for row in rows:
        out = {"setting": setting, "replication": int(row["replication"])}
        out.update({k: row[k] for k in ROW_COLUMNS})
        for issue in issues:
            out[f"{issue}_position"] = row.get(f"{issue}_position", math.nan)
            out[issue] = row.get(issue)
        kept.append(out)
    return kept


def model_rows(
    case: Case,
    cfg: Any,
    plan: RunPlan,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model's negotiations of a case: its composed config `cfg` at the file's values
    (`setting` -1, `plan.as_written` replications) and at `plan.settings` Latin hypercube
    draws of its judgement values (`plan.replications` each, the same seeds at every
    draw). Returns the rows (one per negotiation) and the settings (case, setting, key,
    value). Reads the scenario only: no record."""
    cfg = copy.deepcopy(cfg)
    parameters, _ = judgement_parameters(cfg, case.name, case.config_dir)
    rng = np.random.default_rng(case_seed(plan.seed, case.name))
    draws = latin_hypercube(parameters, plan.settings, rng)  # [{}, ...] without parameters
    pickled = pickle.dumps(cfg)
    issues = list(cfg.issues)
    rows = _kept(_run(cfg, {}, plan.as_written, pickled), issues, -1)
    for k, values in enumerate(draws):
        rows += _kept(_run(cfg, values, plan.replications, pickled), issues, k)
        if progress is not None:
            progress(k + 1, len(draws))
    settings = [
        {"setting": k, "key": key, "value": float(v)}
        for k, values in enumerate(draws)
        for key, v in values.items()
    ]
    frame = pd.DataFrame(rows)
    frame.insert(0, "case", case.name)
    table = pd.DataFrame(settings, columns=["setting", "key", "value"])
    table.insert(0, "case", case.name)
    return frame, table


# --- the case's issues and the baselines ------------------------------------------------


@dataclass(frozen=True)
class IssueScale:
    """An issue as the scorer reads it: its levels' positions (NaN: categorical), its
    scale's span and its status-quo point."""

    name: str
    kind: IssueKind
    levels: tuple[str, ...]
    positions: np.ndarray
    low: float
    high: float
    status_quo: float | str

    @property
    def positioned(self) -> bool:
        return self.kind is not IssueKind.categorical

    def position(self, value: float | str) -> float:
        """A record's or forecast's value as a position on the scale."""
        if isinstance(value, str):
            return float(self.positions[self.levels.index(value)])
        return float(value)

    def shown(self, value: float | str) -> float | str:
        """A position as its level's name where it is one (ordinal issues), else as is."""
        if self.kind is IssueKind.ordinal and not isinstance(value, str):
            hits = np.flatnonzero(np.isclose(self.positions, float(value)))
            return self.levels[int(hits[0])] if hits.size else float(value)
        return value

    def error(self, forecast: float | str, actual: float | str) -> float:
        """|forecast - actual| on a 0-1 scale: distance over the scale's span (ordinal
        levels by position), 0 or 1 for a categorical issue."""
        if not self.positioned:
            return float(str(forecast) != str(actual))
        span = self.high - self.low
        return abs(self.position(forecast) - self.position(actual)) / span if span > 0 else 0.0


def issue_scales(cfg: Any) -> dict[str, IssueScale]:
    """Every issue of a case's plain config, with the status quo of `baseline_terms`."""
    out = {}
    for name, conf in cfg.issues.items():
        issue: Issue = build_issue(name, conf)
        if issue.positioned:
            low, high = float(np.min(issue.positions)), float(np.max(issue.positions))
        else:
            low, high = math.nan, math.nan
        if name == str(cfg.war.territory_issue):
            status: float | str = float(cfg.war.contact_line)
        elif issue.default is not None:
            level = issue.levels[issue.default]
            status = float(issue.positions[issue.default]) if issue.positioned else level
        else:
            status = (low + high) / 2 if issue.positioned else issue.levels[0]
        out[name] = IssueScale(name, issue.kind, issue.levels, issue.positions, low, high, status)
    return out


def ideal_points(cfg: Any, issue_name: str) -> tuple[list[str], list[float | str], np.ndarray]:
    """The parties with a preference on the issue, their ideals (a position, or the level
    they value most) and their weights capability x salience (saliences renormalised per
    party)."""
    issue = build_issue(issue_name, cfg.issues[issue_name])
    parties, ideals, weights = [], [], []
    for party, conf in cfg.parties.items():
        prefs = conf.preferences or {}
        pref = prefs.get(issue_name)
        total = sum(float(p.salience) for p in prefs.values() if p is not None)
        if pref is None or total <= 0 or float(pref.salience) <= 0:
            continue
        if pref.table is None and pref.ideal is not None:
            ideal: float | str = float(pref.ideal)
        else:
            k = int(np.argmax(issue_level_values(issue, pref)))
            ideal = float(issue.positions[k]) if issue.positioned else issue.levels[k]
        parties.append(party)
        ideals.append(ideal)
        weights.append(float(conf.capability) * float(pref.salience) / total)
    return parties, ideals, np.array(weights)


def baseline_terms(cfg: Any) -> dict[str, dict[str, float | str]]:
    """Each terms baseline's point forecast per issue (`TERM_BASELINES`), and Bueno de
    Mesquita's model's (`BDM`, `bdm_terms`)."""
    scales = issue_scales(cfg)
    aggressor, defender = str(cfg.war.aggressor), str(cfg.war.defender)
    out: dict[str, dict[str, float | str]] = {b: {} for b in TERM_BASELINES}
    for name, scale in scales.items():
        parties, ideals, weights = ideal_points(cfg, name)
        out["status_quo"][name] = scale.status_quo
        if not parties:
            for b in ("weighted_median", "weighted_mean", "midpoint"):
                out[b][name] = scale.status_quo
            continue
        if not scale.positioned:
            mode = scoring.weighted_mode([str(x) for x in ideals], weights)
            for b in ("weighted_median", "weighted_mean", "midpoint"):
                out[b][name] = mode  # no order: every central tendency is the weighted mode
            continue
        x = np.array(ideals, dtype=float)
        out["weighted_median"][name] = scoring.weighted_median(x, weights)
        out["weighted_mean"][name] = scoring.weighted_mean(x, weights)
        sides = [x[parties.index(p)] for p in (aggressor, defender) if p in parties]
        out["midpoint"][name] = float(np.mean(sides)) if sides else scale.status_quo
    out[BDM] = bdm_terms(cfg, scales, out)
    return out


def bdm_terms(
    cfg: Any, scales: dict[str, IssueScale], baselines: dict[str, dict[str, float | str]]
) -> dict[str, float | str]:
    """Bueno de Mesquita's forecast per issue (`sim.experiment.expected_utility`, options
    `bdm`); where it has none (an issue without order, fewer than two parties with a
    position), what the central-tendency baselines give there: the weighted mode of a
    categorical issue, the status quo of an issue nobody takes a position on."""
    from sim.experiment.expected_utility import forecast_scenario

    found = forecast_scenario(cfg)
    return {
        name: found[name].position
        if not isinstance(found[name], Exception)
        else baselines["weighted_median"][name]
        for name in scales
    }


# --- the model's forecast from its rows ---------------------------------------------------


@dataclass(frozen=True)
class ModelForecast:
    """What the model's rows forecast for one case (and horizon)."""

    p_agreement: float
    p_low: float
    p_high: float
    negotiations: int
    deals: int
    month: float
    terms: dict[str, float | str]
    p_holds: float
    reasons: dict[str, float]


def model_forecast(
    rows: pd.DataFrame,
    scales: dict[str, IssueScale],
    horizon: float,
    rng: np.random.Generator,
    resamples: int = 2000,
) -> ModelForecast:
    """The forecast of a set of rows (one forecaster: the draws, or the file's values):
    P(agreement within `horizon` months) with a 95% bootstrap interval over settings
    (clusters of common random numbers), the median month and terms of those deals, their
    mean 24-month durability. Without a deal in the horizon: the month is the horizon, the
    terms the status quo, P(holds) 1/2 (`NO_HOLD_FORECAST`)."""
    within = rows["agreement"].astype(bool) & (rows["months"] <= horizon + 1e-9)
    settings = rows["setting"].to_numpy()
    labels, groups = np.unique(settings, return_inverse=True)
    hits = np.bincount(groups, weights=within.to_numpy(float), minlength=labels.size)
    sizes = np.bincount(groups, minlength=labels.size)
    if labels.size > 1:
        picks = rng.integers(0, labels.size, size=(resamples, labels.size))
        boot = hits[picks].sum(axis=1) / sizes[picks].sum(axis=1)
        low, high = scoring.interval(boot)
    else:  # one setting: the Wilson interval of its replications
        _, low, high = proportion_interval(int(hits.sum()), int(sizes.sum()))
    deals = rows[within]
    terms: dict[str, float | str] = {}
    for name, scale in scales.items():
        if deals.empty:
            terms[name] = scale.status_quo
        elif scale.positioned:
            terms[name] = float(np.median(deals[f"{name}_position"].to_numpy(float)))
        else:
            terms[name] = str(deals[name].astype(str).mode().iloc[0])
    durability = deals["durability"].to_numpy(float)
    durability = durability[~np.isnan(durability)]
    reasons = rows["reason"].value_counts(normalize=True).to_dict()
    return ModelForecast(
        p_agreement=float(within.mean()),
        p_low=low,
        p_high=high,
        negotiations=len(rows),
        deals=int(within.sum()),
        month=float(np.median(deals["months"])) if len(deals) else float(horizon),
        terms=terms,
        p_holds=float(durability.mean()) if durability.size else NO_HOLD_FORECAST,
        reasons={str(k): float(v) for k, v in reasons.items()},
    )


# --- the scorecard ------------------------------------------------------------------------


@dataclass
class CaseResult:
    """A case as scored: its record, its issues, the model's rows (None when it failed to
    run, with the one-line `error`) and the seconds it took."""

    case: Case
    record: Record
    scales: dict[str, IssueScale]
    baselines: dict[str, dict[str, float | str]]
    rows: pd.DataFrame | None
    settings: pd.DataFrame | None
    seconds: float
    error: str = ""
    _forecasts: dict[int, dict[str, ModelForecast]] = field(default_factory=dict, repr=False)

    def model_forecasts(self, seed: int = 0) -> dict[str, ModelForecast]:
        """The model's forecasts of this case (`MODEL`: over the draws, `MODEL_AS_WRITTEN`:
        at the file's values), computed once per seed; empty when the case failed."""
        if self.rows is None:
            return {}
        if seed not in self._forecasts:
            rng = np.random.default_rng(case_seed(seed, self.case.name))
            rows, horizon = self.rows, self.record.horizon_months
            self._forecasts[seed] = {
                MODEL: model_forecast(rows[rows.setting >= 0], self.scales, horizon, rng),
                MODEL_AS_WRITTEN: model_forecast(rows[rows.setting < 0], self.scales, horizon, rng),
            }
        return self._forecasts[seed]


QUANTITIES = {
    "agreement": "Brier score of an agreement within the horizon",
    "holds": f"Brier score of a signed deal holding {HOLD_MONTHS} months",
    "terms": "mean absolute error of the terms (0-1 scale per issue)",
    "month": "absolute error of the month of the agreement",
}


def forecasts_table(results: Sequence[CaseResult], seed: int = 0) -> pd.DataFrame:
    """Every forecaster's forecast of every quantity of every case that ran, beside what
    happened, with its error (long form: case, forecaster, quantity, issue, forecast,
    actual, loss). `quantity`: agreement (probability; loss Brier), holds (probability,
    cases with a deal; Brier), month (cases with a deal; absolute error in months), term
    (per issue of a deal's terms; error on a 0-1 scale)."""
    ran = [r for r in results if r.rows is not None]
    agreed = np.array([r.record.agreement for r in ran], dtype=float)
    base_agree = scoring.leave_one_out_rate(agreed)
    with_deal = [r for r in ran if r.record.agreement]
    held = np.array([bool(r.record.held) for r in with_deal], dtype=float)
    base_hold = dict(
        zip([r.case.name for r in with_deal], scoring.leave_one_out_rate(held), strict=True)
    )
    months = np.array([r.record.month for r in with_deal])
    base_month = dict(
        zip([r.case.name for r in with_deal], scoring.leave_one_out_median(months), strict=True)
    )
    out: list[dict[str, Any]] = []

    def add(
        r: CaseResult,
        who: str,
        quantity: str,
        forecast: Any,
        actual: Any,
        loss: float,
        issue: str = "",
    ) -> None:
        out.append(
            {
                "case": r.case.name,
                "forecaster": who,
                "quantity": quantity,
                "issue": issue,
                "forecast": forecast if isinstance(forecast, str) else float(forecast),
                "actual": actual if isinstance(actual, str) else float(actual),
                "loss": float(loss),
            }
        )

    for i, r in enumerate(ran):
        rec, models = r.record, r.model_forecasts(seed)
        y = float(rec.agreement)
        probability = {who: f.p_agreement for who, f in models.items()}
        probability.update(always=1.0, never=0.0, base_rate=base_agree[i])
        for who, p in probability.items():
            if not math.isnan(p):
                add(r, who, "agreement", p, y, float(scoring.brier(p, y)))
        if not rec.agreement:
            continue
        hold = {who: f.p_holds for who, f in models.items()}
        hold.update(always=1.0, never=0.0, base_rate=base_hold[r.case.name])
        for who, p in hold.items():
            if not math.isnan(p):
                add(r, who, "holds", p, float(rec.held), float(scoring.brier(p, float(rec.held))))
        month = {who: f.month for who, f in models.items()}
        month["base_rate"] = base_month[r.case.name]
        for who, m in month.items():
            if not math.isnan(m):
                add(r, who, "month", m, rec.month, abs(m - rec.month))
        terms = {who: f.terms for who, f in models.items()}
        terms.update({b: r.baselines[b] for b in (*TERM_BASELINES, BDM) if b in r.baselines})
        for who, forecast in terms.items():
            for issue, actual in rec.terms.items():
                scale = r.scales[issue]
                add(
                    r,
                    who,
                    "term",
                    forecast[issue],
                    actual,
                    scale.error(forecast[issue], actual),
                    issue,
                )
    return pd.DataFrame(
        out, columns=["case", "forecaster", "quantity", "issue", "forecast", "actual", "loss"]
    )


def case_losses(forecasts: pd.DataFrame) -> pd.DataFrame:
    """One loss per case, forecaster and scored quantity: the term errors averaged over a
    case's issues (`terms`), the others as they are."""
    frame = forecasts.copy()
    frame["quantity"] = frame["quantity"].replace({"term": "terms"})
    return frame.groupby(["quantity", "forecaster", "case"], as_index=False)["loss"].mean()


def compare_forecasts(then: pd.DataFrame, now: pd.DataFrame, who: str = MODEL) -> pd.DataFrame:
    """`who`'s loss per case and score in two scorecards' forecasts (`forecasts_table`),
    for the cases and scores both hold: quantity, case, then, now."""
    a = case_losses(then)
    b = case_losses(now)
    a, b = a[a.forecaster == who], b[b.forecaster == who]
    both = a.merge(b, on=["quantity", "case"], suffixes=("_then", "_now"))
    order = {q: k for k, q in enumerate(QUANTITIES)}
    both = both.assign(rank=both.quantity.map(order)).sort_values(["rank", "case"])
    both = both.rename(columns={"loss_then": "then", "loss_now": "now"})
    return both[["quantity", "case", "then", "now"]].reset_index(drop=True)


def scores_table(
    forecasts: pd.DataFrame, seed: int = 0, resamples: int = 2000, level: float = 0.95
) -> pd.DataFrame:
    """Per quantity and forecaster: the mean loss over the cases every forecaster of that
    quantity scored, its paired bootstrap interval over cases, and its skill against the
    best baseline (the lowest mean loss among the forecasters other than the models:
    the negotiation model's two and Bueno de Mesquita's),
    with its interval (`sim.core.scoring.scores_with_intervals`)."""
    losses = case_losses(forecasts)
    rows = []
    for q, quantity in enumerate(QUANTITIES):
        table = losses[losses.quantity == quantity].pivot(
            index="forecaster", columns="case", values="loss"
        )
        table = table.dropna(axis=0, how="all").dropna(axis=1)  # cases all scored
        if table.empty or table.shape[1] == 0:
            continue
        order = [f for f in FORECASTERS if f in table.index]
        table = table.loc[order]
        baselines = [k for k, f in enumerate(order) if f not in MODELS]
        if not baselines:  # e.g. the month with a single signed case: no base rate to learn
            table = table.reindex([*order, "none"]).fillna(math.nan)
            baselines = [len(order)]

        def best(mean: np.ndarray, baselines: list[int] = baselines) -> int:
            finite = [k for k in baselines if not math.isnan(mean[k])]
            return finite[int(np.argmin(mean[finite]))] if finite else baselines[0]

        rng = np.random.default_rng(np.random.SeedSequence([seed, q]))
        found = scoring.scores_with_intervals(table.to_numpy(), rng, resamples, level, best)
        reference = table.index[int(found["reference"][0])]
        reference = "" if reference == "none" else reference
        for k, forecaster in enumerate(order):
            rows.append(
                {
                    "quantity": quantity,
                    "forecaster": forecaster,
                    "cases": table.shape[1],
                    "score": found["mean"][k],
                    "low": found["low"][k],
                    "high": found["high"][k],
                    "best_baseline": reference,
                    "skill": found["skill"][k],
                    "skill_low": found["skill_low"][k],
                    "skill_high": found["skill_high"][k],
                }
            )
    return pd.DataFrame(rows)


def run_case(
    case: Case,
    record: Record,
    cfg: Any,
    plan: RunPlan,
    progress: Callable[[int, int], None] | None = None,
) -> CaseResult:
    """A case's baselines and the model's rows; a failure to run is kept, with its one
    line, never raised (the scorecard reports it as failed)."""
    from sim.experiment.error_lines import one_line

    resolved = plain(copy.deepcopy(cfg))
    scales, baselines = issue_scales(resolved), baseline_terms(resolved)
    started = time.monotonic()
    try:
        rows, settings = model_rows(case, cfg, plan, progress)
    except Exception as exc:  # a case that cannot run is reported, not fatal
        seconds = time.monotonic() - started
        return CaseResult(case, record, scales, baselines, None, None, seconds, one_line(exc))
    return CaseResult(case, record, scales, baselines, rows, settings, time.monotonic() - started)
