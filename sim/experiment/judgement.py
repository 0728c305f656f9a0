"""A scenario's judgement values: the numbers its files mark `J` (in the scenario's file or
one it builds on), each with the range one rule gives it (a share +-0.1, a position +-0.1
of its scale, anything else x/÷1.5; docs/model.md, "Sensitivity of judgement values").
The sensitivity analysis and the scorecard vary them."""

from __future__ import annotations

import copy
import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from sim.experiment.aliases import alias_targets, prepare
from sim.experiment.schema import CONFIG_DIR
from sim.experiment.validation import ConfigError

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
