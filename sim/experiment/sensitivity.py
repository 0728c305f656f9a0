"""Which judgement values matter: one-at-a-time swings and Sobol indices over the numbers a
scenario file marks J (docs/model.md, "Sensitivity of judgement values").

The parameters are found in the data, never named here: every numeric leaf of the composed
config whose line in `conf/scenario/<scenario>.yaml` (or a scenario it builds on through its
defaults list) carries a comment starting with `J` (`judgement_parameters`), outside the
outcome space's structure (issues, anchors, control). Each gets a range by one rule
(`parameter_range`). A setting (values for some of them) is set on the composed config as a
sweep sets a point's values (`OmegaConf.update`, `apply_values`), prepared, validated and run by the
batch engine (`sim.experiment.jobs.run_replications`) with the config's seed, so every setting
negotiates the same replications (common random numbers) and a bad value is the usual
one-line `ConfigError`. Measured per setting (`OUTPUTS`): the share with a binding deal, the
share stable, the mean stability score, the mean position of the deals on the war's
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
import fnmatch
import math
import pickle
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.experiment.designs import is_auto
from sim.experiment.jobs import run_replications
from sim.experiment.schema import CONFIG_DIR, plain
from sim.experiment.validation import ConfigError, alias_targets, prepare

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

# --- which parameters --------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """Where a value is set in a scenario file: the file, its line (1-based) and the
    comment on that line (without the `#`)."""

    file: str
    line: int
    comment: str
    interpolated: bool = False  # `${...}`: the value follows another key


JUDGEMENT = re.compile(r"J(?![A-Za-z0-9_])")  # `J`, `J:`, `J;` at the start of a comment
STRUCTURE = ("issues",)  # blocks that define the outcome space, not values of the world
STRUCTURAL_PARTS = frozenset({"anchors", "control", "level_control"})


def is_judgement(comment: str) -> bool:
    """Does a comment mark its line's values as judgement (`J` or `J:` first)?"""
    return JUDGEMENT.match(comment.strip()) is not None


def scenario_files(scenario: str, config_dir: str | Path = CONFIG_DIR) -> list[Path]:
    """The files a scenario is composed of, in Hydra's order: the scenarios its defaults
    list builds on (recursively), then itself where `_self_` stands (last when absent)."""
    folder = Path(config_dir) / "scenario"

    def visit(name: str, seen: tuple[str, ...]) -> list[Path]:
        path = folder / f"{name}.yaml"
        if name in seen or not path.is_file():
            return []
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = [e for e in data.get("defaults") or [] if isinstance(e, str)]
        if "_self_" not in entries:
            entries.append("_self_")
        out: list[Path] = []
        for entry in entries:
            out += [path] if entry == "_self_" else visit(entry, (*seen, name))
        return out

    return visit(scenario, ())


def line_comments(text: str) -> dict[int, str]:
    """The comment ending each line of a YAML text (0-based line -> text after `#`): what
    follows the last YAML token on the line (so a `#` inside a value does not count)."""
    last: dict[int, int] = {}
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        mark = token.end_mark
        last[mark.line] = max(last.get(mark.line, 0), mark.column)
    out = {}
    for i, line in enumerate(text.splitlines()):
        rest = line[last.get(i, 0) :]
        if rest.lstrip().startswith("#"):
            out[i] = rest.lstrip()[1:].strip()
    return out


def _package(text: str) -> str:
    """The key prefix of a config file's `# @package` header (`_global_`: none)."""
    found = re.search(r"^#\s*@package\s+(\S+)", text, flags=re.MULTILINE)
    package = found.group(1) if found else "scenario"
    return "" if package == "_global_" else f"{package}."


def value_marks(path: Path) -> dict[str, Mark]:
    """Every scalar value a config file sets, by its dotted key, with its line's comment
    (lists are skipped: their entries are names, not values)."""
    text = path.read_text(encoding="utf-8")
    comments = line_comments(text)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    out: dict[str, Mark] = {}

    def walk(node: yaml.Node, key: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for name, value in node.value:
                walk(value, f"{key}.{name.value}" if key else str(name.value))
        elif isinstance(node, yaml.ScalarNode):
            line = node.start_mark.line
            linked = "${" in str(node.value)
            out[key] = Mark(str(path), line + 1, comments.get(line, ""), linked)

    if root is not None:
        walk(root, _package(text).rstrip("."))
    out.pop("defaults", None)
    return out


def scenario_marks(scenario: str, config_dir: str | Path = CONFIG_DIR) -> dict[str, Mark]:
    """Each key a scenario's files set -> where it is set last (a scenario that builds on
    another overrides its lines with its own)."""
    out: dict[str, Mark] = {}
    for path in scenario_files(scenario, config_dir):
        out.update(value_marks(path))
    return out


@dataclass(frozen=True)
class Parameter:
    """A judgement value to vary: the key a command line sets (`parties.<party>.war_cost`,
    or a scenario's alias), its value in the composed config, its range and the rule that
    gave it, and where the scenario sets it."""

    key: str
    value: float
    low: float
    high: float
    rule: str
    integer: bool
    source: str

    def at(self, x: float) -> float | int:
        """A value of this parameter as set on the config (an integer for an integer)."""
        return round(x) if self.integer else float(x)


# The range rule (docs/model.md, "Sensitivity of judgement values"), by the key a value
# sets (an alias by the key it stands for). Shares: levels on a bounded scale of their own.
SHARES = {
    "war.support.*": (0.0, 1.0),
    "parties.*.preferences.*.salience": (0.0, 1.0),
    "parties.*.preferences.*.table.*": (0.0, 1.0),
    "parties.*.optimism": (-1.0, 1.0),
    "parties.*.reservation_value": (0.0, 1.0),
    "war.guarantees.levels.*.force.*": (0.0, 1.0),
}
POSITIONS = (
    "parties.*.preferences.*.ideal",
    "parties.*.preferences.*.reservation",
    "parties.*.preferences.*.red_line_above",
    "parties.*.preferences.*.red_line_below",
    "war.contact_line",
)
FACTORS = ("war.discount",)  # per-period factors near 1: their complement is the rate
SHARE_STEP = 0.1  # a share's range: its value +- 0.1 (a position: +- 0.1 of its scale)
FACTOR = 1.5  # a magnitude's range: its value / 1.5 to its value x 1.5


def _matches(key: str, patterns: Sequence[str] | Mapping[str, Any]) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatchcase(key, p)), None)


def _issue_scale(cfg: Any, key: str) -> tuple[float, float] | None:
    """The scale of the issue a position key lies on (its preference's issue, or the war's
    territory issue for the contact line): [low, high] of a continuous issue, the lowest
    and highest level position of an ordinal one."""
    parts = key.split(".")
    issue = parts[3] if parts[0] == "parties" else str(cfg.war.territory_issue)
    conf = cfg.issues.get(issue) if cfg.issues is not None else None
    if conf is None:
        return None
    if conf.get("levels"):
        positions = [float(v) for v in conf.levels.values()]
        return min(positions), max(positions)
    if conf.get("low") is not None and conf.get("high") is not None:
        return float(conf.low), float(conf.high)
    return None


def parameter_range(key: str, value: float, cfg: Any) -> tuple[float, float, str] | None:
    """The range a judgement value is varied over, and the rule that gave it; None when the
    rule gives none (a magnitude of 0). `key` is the key the value sets (an alias already
    turned into the key it stands for). The rule (docs/model.md, "Sensitivity of judgement
    values"; the spreads follow the practice of Saltelli et al. 2008, ch. 1: ranges wide
    enough to show an effect, narrow enough to stay plausible):

    - a share on a bounded scale (a support level, a salience, an optimism, a guarantor's
      credibility, a level value): value +- 0.1, clipped to its scale;
    - a position on an issue's scale (an ideal, a reservation, a red line, the contact
      line): value +- 0.1 of the scale's span, clipped to the scale;
    - a per-period factor near 1 (a discount factor): its complement, the rate, x/÷ 1.5;
    - any other number (capacities, capabilities, costs, rates, months): x/÷ 1.5, keeping
      its sign; an integer rounded, by at least 1; 0 has no range.
    """
    value = float(value)
    share = _matches(key, SHARES)
    if share is not None:
        low, high = SHARES[share]
        return (
            max(low, value - SHARE_STEP),
            min(high, value + SHARE_STEP),
            f"share +-{SHARE_STEP:g}",
        )
    if _matches(key, POSITIONS):
        scale = _issue_scale(cfg, key)
        if scale is not None:
            step = SHARE_STEP * (scale[1] - scale[0])
            return (
                max(scale[0], value - step),
                min(scale[1], value + step),
                f"position +-{step:g} ({SHARE_STEP:g} of the scale)",
            )
    if _matches(key, FACTORS):
        rate = 1.0 - value
        if rate <= 0:
            return None
        return max(0.0, 1.0 - rate * FACTOR), 1.0 - rate / FACTOR, f"1 - value x/÷{FACTOR:g}"
    if value == 0:
        return None
    a, b = sorted((value / FACTOR, value * FACTOR))
    return a, b, f"x/÷{FACTOR:g}"


@dataclass(frozen=True)
class LeftOut:
    """A judgement value that is not varied, and why."""

    key: str
    value: Any
    reason: str


def judgement_parameters(
    cfg: DictConfig, scenario: str | None = None, config_dir: str | Path = CONFIG_DIR
) -> tuple[list[Parameter], list[LeftOut]]:
    """The scenario's judgement values in the composed `cfg` (its overrides applied), in the
    order its files set them, each with its range (`parameter_range`); and the numeric J
    values left out: the outcome space's structure (issues, anchors, control) and values
    the rule gives no range. `scenario`: the scenario's file name (`cfg.scenario_name` by
    default)."""
    scenario = str(scenario or cfg.scenario_name)
    prepared = copy.deepcopy(cfg)
    prepare(prepared)  # an alias whose key the command line set directly is gone
    stands_for = {alias: target for target, alias in alias_targets(prepared).items()}
    found: list[Parameter] = []
    left: list[LeftOut] = []
    for key, mark in scenario_marks(scenario, config_dir).items():
        if mark.interpolated or not is_judgement(mark.comment):
            continue  # a value that follows another key is varied through that key
        value = OmegaConf.select(prepared, key, default=None)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # a name, a list, a null: not a number to vary
        parts = key.split(".")
        if parts[0] in STRUCTURE or STRUCTURAL_PARTS & set(parts):
            left.append(LeftOut(key, value, "structure of the outcome space"))
            continue
        span = parameter_range(stands_for.get(key, key), value, prepared)
        integer = isinstance(value, int)
        if span is not None and integer:
            low, high, rule = span
            span = (min(round(low), value - 1), max(round(high), value + 1), f"{rule}, rounded")
        if span is None or span[0] == span[1]:
            left.append(LeftOut(key, value, "0: the rule gives it no range"))
            continue
        source = f"{Path(mark.file).relative_to(Path(config_dir).parent)}:{mark.line}"
        found.append(Parameter(key, value, span[0], span[1], span[2], integer, source))
    return found, left


def select_parameters(parameters: list[Parameter], patterns: Sequence[str]) -> list[Parameter]:
    """The parameters whose key matches one of `patterns` (fnmatch; all when empty); a
    pattern that matches none is a ConfigError naming the keys there are."""
    if not patterns:
        return parameters
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(p.key, pattern) for p in parameters):
            keys = [p.key for p in parameters]
            allowed = f"a pattern (fnmatch) matching a judgement value: {keys}"
            raise ConfigError("sensitivity.keys", pattern, allowed)
    return [p for p in parameters if any(fnmatch.fnmatchcase(p.key, x) for x in patterns)]


# --- one setting -------------------------------------------------------------------------


def summarise(rows: Sequence[Mapping[str, Any]], territory_issue: str) -> dict[str, float]:
    """`OUTPUTS` of one setting's replication rows (`sim.experiment.jobs.run_replications`)."""
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
    config as a sweep sets a point (`apply_values`), prepared, validated and run as a sweep
    job (`sim.experiment.jobs.run_replications`) with the config's seed and replications (common
    random numbers). `progress(done)` after each."""

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
        targets = prepare(cfg)
        fast = plain(cfg)
        rows, _ = run_replications(
            fast, overrides=" ".join(overrides), digest=SETTING, targets=targets
        )
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
