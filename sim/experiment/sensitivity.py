"""Which judgement values matter: one-at-a-time swings and Sobol indices over the numbers a
scenario file marks J (docs/model.md, "Sensitivity of judgement values").

The parameters are found in the data, never named here: every numeric leaf of the composed
config whose line in `conf/scenario/<scenario>.yaml` (or a scenario it builds on through its
defaults list) carries a comment starting with `J` (`judgement_parameters`), outside the
outcome space's structure (issues, anchors, control). Each gets a range by one rule
(`parameter_range`). A setting (values for some of them) is set on the composed config as a
sweep sets a point's values (`OmegaConf.update`, `apply_values`), compiled
(`sim.experiment.compiler.compile_job`) and run by the batch engine
(`sim.experiment.jobs.run_job`) with the config's seed, so every setting negotiates the
same replications (common random numbers) and a bad value is the usual one-line
`ConfigError`. Measured per setting (`OUTPUTS`): the share with a binding deal, the share
stable, the mean stability score, the mean position of the deals on the war's
territory issue and the mean months to a deal.

- one at a time (`one_at_a_time`): each parameter at the low and high end of its range,
  the others at their values; the swing of each output;
- global (`sobol_indices`, `sobol_over_parameters`): first-order and total Sobol indices
  (Sobol 2001) with bootstrap confidence intervals, from Saltelli's (2002) sampling scheme,
  through SALib (Herman & Usher 2017; `SALib.sample.sobol`, `SALib.analyze.sobol`).

`python -m sim.front.sensitivity_cli [overrides...]` runs both and writes
`results/sensitivity/<scenario>-<timestamp>/` (`sim.front.sensitivity_cli`).
"""

from __future__ import annotations

import copy
import math
import pickle
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.experiment.compiler import compile_job
from sim.experiment.designs import is_auto
from sim.experiment.jobs import run_job
from sim.experiment.judgement import LeftOut, Parameter, judgement_parameters, select_parameters
from sim.experiment.validation import ConfigError

OUTPUTS = {
    "deal_share": "share with a binding deal",
    "stable_share": "share with a stable deal",
    "stability_score": "mean stability score",
    "territory": "mean position of the deals on the territory issue",
    "months": "mean months to a deal",
}
"""What each setting measures over its replications (`summarise`); `territory` is the
position on the issue the war moves (`war.territory_issue`), `territory` and `months` are
means over the replications with a binding deal (NaN without one)."""

SETTING = "sensitivity"  # the `job` column of a setting's rows: they are never written


# --- one setting -------------------------------------------------------------------------


def summarise(rows: Sequence[Mapping[str, Any]], territory_issue: str) -> dict[str, float]:
    """`OUTPUTS` of one setting's replication rows (`sim.experiment.jobs.run_job`)."""
    deal = np.array([bool(r["agreement"]) for r in rows])
    stable = np.array([bool(r["stable"]) for r in rows])
    score = np.array([float(r["stability_score"]) for r in rows])
    column = f"{territory_issue}_position"
    position = np.array([float(r.get(column, np.nan)) for r in rows])
    months = np.array([float(r["months"]) for r in rows])
    n = max(len(rows), 1)
    return {
        "deal_share": float(deal.sum() / n),
        "stable_share": float(stable.sum() / n),
        "stability_score": float(score.sum() / n),
        "territory": float(position[deal].mean()) if deal.any() else math.nan,
        "months": float(months[deal].mean()) if deal.any() else math.nan,
    }


def as_overrides(values: Mapping[str, float | int]) -> list[str]:
    """A setting as command-line overrides (`key=value`, floats exactly)."""
    return [f"{key}={value!r}" for key, value in values.items()]


def apply_values(
    cfg: DictConfig, values: Mapping[str, float | int], pickled: bytes | None = None
) -> DictConfig:
    """A copy of `cfg` with `values` set as Hydra sets a command line's and a sweep a
    point's (`OmegaConf.update`, merging; `sim.experiment.sweeper.apply_point` without parsing the
    text of the overrides, since the values are numbers already). `pickled`: `cfg` pickled
    once for many settings."""
    point = copy.deepcopy(cfg) if pickled is None else pickle.loads(pickled)
    with open_dict(point):
        for key, value in values.items():
            OmegaConf.update(point, key, value, merge=True)
    return point


class Settings:
    """Runs settings of one composed config: each a dict key -> value set on a copy of the
    config as a sweep sets a point (`apply_values`), compiled and run as a sweep job
    (`sim.experiment.compiler.compile_job`, `sim.experiment.jobs.run_job`) with the config's
    seed and replications (common random numbers). `progress(done)` after each."""

    def __init__(self, cfg: DictConfig, progress: Callable[[int], None] | None = None) -> None:
        if is_auto(cfg):
            raise ConfigError(
                "replications",
                cfg.replications,
                "an integer >= 1: every setting runs the same replications",
            )
        self.cfg = cfg
        self.pickled = pickle.dumps(cfg)
        self.territory_issue = str(cfg.war.territory_issue)
        self.progress = progress
        self.done = 0

    def run(self, values: Mapping[str, float | int]) -> dict[str, float]:
        """The outputs of one setting (`summarise`)."""
        overrides = as_overrides(values)
        cfg = apply_values(self.cfg, values, self.pickled)
        rows, _ = run_job(compile_job(cfg, " ".join(overrides), digest=SETTING))
        self.done += 1
        if self.progress is not None:
            self.progress(self.done)
        return summarise(rows, self.territory_issue)


# --- one at a time -----------------------------------------------------------------------


def one_at_a_time(settings: Settings, parameters: Sequence[Parameter]) -> pd.DataFrame:
    """Each parameter at the low and the high end of its range, the others at their values
    (OAT; Saltelli et al. 2008, ch. 1): one row per parameter and output with the base
    setting's value, the value at each end and the swing (high end minus low end)."""
    base = settings.run({})
    rows = []
    for p in parameters:
        at_low = _at_end(settings, p, "low")
        at_high = _at_end(settings, p, "high")
        for output in OUTPUTS:
            rows.append(
                {
                    "parameter": p.key,
                    "value": float(p.value),
                    "low": float(p.at(p.low)),
                    "high": float(p.at(p.high)),
                    "rule": p.rule,
                    "source": p.source,
                    "output": output,
                    "base": base[output],
                    "at_low": at_low[output],
                    "at_high": at_high[output],
                    "swing": at_high[output] - at_low[output],
                }
            )
    columns = ["parameter", "value", "low", "high", "rule", "source", "output", "base"]
    return pd.DataFrame(rows, columns=[*columns, "at_low", "at_high", "swing"])


def _at_end(settings: Settings, p: Parameter, end: str) -> dict[str, float]:
    """The outputs with `p` at its `end` ("low" or "high"); a value the config refuses is
    its ConfigError, saying that the rule's range gave it."""
    value = p.at(getattr(p, end))
    try:
        return settings.run({p.key: value})
    except ConfigError as exc:
        if exc.key != p.key:
            raise
        raise ConfigError(
            exc.key,
            exc.value,
            f"{exc.allowed} ({value:g} is the {end} end of its sensitivity range, {p.rule} "
            f"around {p.value:g})",
        ) from exc


# --- Sobol -------------------------------------------------------------------------------


def _power_of_two(n: int) -> bool:
    return n >= 1 and n & (n - 1) == 0


def sobol_indices(
    names: Sequence[str],
    bounds: Sequence[tuple[float, float]],
    evaluate: Callable[[np.ndarray], np.ndarray],
    samples: int,
    seed: int,
    outputs: Sequence[str] = ("y",),
) -> pd.DataFrame:
    """First-order and total Sobol (2001) indices of each output of `evaluate` over the box
    `bounds` (uniform inputs), with 95% bootstrap intervals: Saltelli's (2002) scheme
    through SALib, `samples` base samples (a power of 2; N (D + 2) evaluations, no second
    order), scrambled and seeded by `seed`. `evaluate(X)` takes the (n, D) sample and
    returns (n, len(outputs)). An output that is undefined somewhere (NaN) or constant has
    no indices: NaN, and a `note` says why."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if not _power_of_two(samples):
        raise ConfigError("sensitivity.samples", samples, "a power of 2 (or 0: no Sobol indices)")
    problem = {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}
    x = sample.sample(problem, samples, calc_second_order=False, seed=seed)
    # SALib seeds its bootstrap only with a truthy seed: a child of `seed`, never 0
    resampling = int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1
    y = np.asarray(evaluate(x), dtype=float).reshape(len(x), len(outputs))
    rows = []
    for j, output in enumerate(outputs):
        values = y[:, j]
        note = ""
        if not np.isfinite(values).all():
            note = f"undefined in {int((~np.isfinite(values)).sum())} of {len(values)} settings"
        elif np.ptp(values) == 0:
            note = "the same in every setting: no variance to apportion"
        if note:
            found = dict.fromkeys(("S1", "S1_conf", "ST", "ST_conf"), np.full(len(names), np.nan))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                found = analyze.analyze(
                    problem, values, calc_second_order=False, conf_level=0.95, seed=resampling
                )
        for i, name in enumerate(names):
            rows.append(
                {
                    "parameter": name,
                    "output": output,
                    **{k: float(found[k][i]) for k in ("S1", "S1_conf", "ST", "ST_conf")},
                    "samples": samples,
                    "evaluations": len(x),
                    "note": note,
                }
            )
    return pd.DataFrame(rows)


def sobol_over_parameters(
    settings: Settings, parameters: Sequence[Parameter], samples: int, seed: int
) -> pd.DataFrame:
    """`sobol_indices` of every output (`OUTPUTS`) over the parameters' ranges, each sample
    a setting run by `settings`."""

    def evaluate(x: np.ndarray) -> np.ndarray:
        out = []
        for row in x:
            found = settings.run({p.key: p.at(v) for p, v in zip(parameters, row, strict=True)})
            out.append([found[o] for o in OUTPUTS])
        return np.array(out)

    return sobol_indices(
        [p.key for p in parameters],
        [(p.low, p.high) for p in parameters],
        evaluate,
        samples,
        seed,
        tuple(OUTPUTS),
    )


# --- the analysis ------------------------------------------------------------------------


@dataclass
class SensitivityOptions:
    """The command's own options (`sensitivity.<name>=...` on its command line)."""

    samples: int = 32  # Sobol base samples N, a power of 2 (N (D + 2) settings); 0: OAT only
    output: str = "stability_score"  # the output that ranks the table and the tornado chart
    top: int = 5  # rows of the printed table
    keys: list[str] = field(default_factory=list)  # only these J values (fnmatch patterns)


@dataclass
class OptionsNode:
    sensitivity: SensitivityOptions = field(default_factory=SensitivityOptions)


OPTIONS_PREFIX = "sensitivity."
MAX_SAMPLES = 2**16


def parse_options(overrides: Sequence[str]) -> SensitivityOptions:
    """The `sensitivity.<name>=value` overrides (Hydra's override grammar, typed by
    `SensitivityOptions`: a wrong type or an unknown name is OmegaConf's error, with its
    key) as checked options."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    node = OmegaConf.structured(OptionsNode)
    parser = OverridesParser.create()
    for text in overrides:
        override = parser.parse_override(text)
        OmegaConf.update(node, override.key_or_group, override.value(), merge=True)
    options = OmegaConf.to_object(node).sensitivity
    samples = options.samples
    ok = samples == 0 or (_power_of_two(samples) and samples <= MAX_SAMPLES)
    _check(ok, "samples", samples, f"0 (no Sobol indices) or a power of 2 up to {MAX_SAMPLES:,}")
    _check(options.output in OUTPUTS, "output", options.output, f"one of {list(OUTPUTS)}")
    _check(options.top >= 1, "top", options.top, "an integer >= 1")
    return options


def _check(ok: bool, name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{OPTIONS_PREFIX}{name}", value, allowed)


@dataclass
class SensitivityResult:
    """What `analyse` found: the parameters varied, those left out, the OAT frame, the
    Sobol frame (empty with `samples=0`), the settings run and the seconds they took."""

    scenario: str
    parameters: list[Parameter]
    left_out: list[LeftOut]
    oat: pd.DataFrame
    sobol: pd.DataFrame
    settings: int
    seconds: float
    replications: int
    options: SensitivityOptions


def planned_settings(n_parameters: int, samples: int) -> int:
    """Settings an analysis runs: the base, two per parameter, N (D + 2) for Sobol."""
    return 1 + 2 * n_parameters + (samples * (n_parameters + 2) if samples else 0)


def analyse(
    cfg: DictConfig,
    options: SensitivityOptions | None = None,
    scenario: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """OAT and (unless `options.samples` is 0) Sobol indices of the composed `cfg`'s
    judgement values; the seed of the replications and of the Sobol sample is `cfg.seed`.
    `progress(done, total)` after each setting."""
    options = options or SensitivityOptions()
    found, left = judgement_parameters(cfg, scenario)
    parameters = select_parameters(found, options.keys)
    if not parameters:
        raise ConfigError(
            "scenario",
            scenario or cfg.scenario_name,
            "a scenario whose files mark numbers J (judgement values to vary)",
        )
    if options.samples:
        try:
            import SALib  # noqa: F401
        except ImportError:
            raise ConfigError(
                "sensitivity.samples",
                options.samples,
                "0 (one at a time only): SALib is not installed (pip install -e '.[analysis]')",
            ) from None
    total = planned_settings(len(parameters), options.samples)
    settings = Settings(cfg, None if progress is None else lambda done: progress(done, total))
    start = time.monotonic()
    oat = one_at_a_time(settings, parameters)
    sobol = (
        sobol_over_parameters(settings, parameters, options.samples, int(cfg.seed))
        if options.samples
        else pd.DataFrame(columns=["parameter", "output", "S1", "S1_conf", "ST", "ST_conf"])
    )
    return SensitivityResult(
        scenario=str(scenario or cfg.scenario_name),
        parameters=parameters,
        left_out=left,
        oat=oat,
        sobol=sobol,
        settings=settings.done,
        seconds=time.monotonic() - start,
        replications=int(cfg.replications),
        options=options,
    )


def ranking(oat: pd.DataFrame, sobol: pd.DataFrame, output: str) -> pd.DataFrame:
    """One row per parameter: its value and range, its OAT swing in each output and its
    total Sobol index (with its interval) for `output`; most important first (by that
    total index, then by the size of the swing in `output`)."""
    wide = oat.pivot(index="parameter", columns="output", values="swing")
    info = oat.drop_duplicates("parameter").set_index("parameter")
    table = info[["value", "low", "high", "rule"]].join(wide.add_prefix("swing_"))
    if len(sobol):
        indices = sobol[sobol["output"] == output].set_index("parameter")
        table = table.join(indices[["ST", "ST_conf", "S1", "S1_conf"]])
    else:
        table = table.assign(ST=np.nan, ST_conf=np.nan, S1=np.nan, S1_conf=np.nan)
    order = pd.DataFrame(
        {"st": table["ST"].fillna(-1.0), "swing": table[f"swing_{output}"].abs().fillna(-1.0)}
    )
    ranked = order.sort_values(["st", "swing"], ascending=False, kind="stable").index
    return table.loc[ranked].reset_index()
