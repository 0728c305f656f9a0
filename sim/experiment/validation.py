"""Semantic checks of a composed config: what the schema's types cannot say (ranges,
names that must refer to each other). `validate` raises `ConfigError`, whose message is
one line: the key, the value received, what is allowed.
"""

from __future__ import annotations

import math
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.core.outcomes import SCALE_MAX, SCALE_MIN, Issue, IssueKind
from sim.core.war import monthly_war_cost

# Bounds on sizes: no input may run for minutes in silence or grow past the memory of its
# arrays (docs/troubleshooting.md). Each message says how to split larger work.
MAX_SEED = 2**63 - 1  # seeds are stored as int64
MAX_ROUNDS = 10_000  # rounds are months of war by default: 833 years
MAX_REPLICATIONS_PER_JOB = 100_000  # a job holds its rows (~11 kB each) until it writes them
MAX_DRAWS = 10_000  # robustness draws, durability paths
MAX_MONTHS = 1_200  # a century: the war's horizon, the months watched after a deal
MAX_STRENGTH = 1e6  # capacities, capabilities and aid effectiveness are relative strengths
MAX_ROBUSTNESS_BYTES = 2 * 1024**3  # draws x parties x outcomes x 8 bytes
MAX_OUTCOMES = 5_000_000  # the grid; the engine holds several (parties, outcomes) tables


class ConfigError(ValueError):
    """An invalid configuration value: `key`, the value received, what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}: got {_show(value)}; allowed: {allowed}")


class Words(str):
    """A value a ConfigError shows as written, unquoted: a description where the value
    itself would be unreadable (a whole file's keys)."""


PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def plain_name(name: str) -> bool:
    """A name that may be a folder under results_dir: nothing that climbs out or hides."""
    return PLAIN_NAME.fullmatch(name) is not None and ".." not in name


def _show(value: Any) -> str:
    if isinstance(value, Words):
        return str(value)
    if isinstance(value, DictConfig | dict) or OmegaConf.is_list(value):
        value = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
    return repr(value)


def require(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def require_in_scale(
    key: str, value: float | None, low: float = SCALE_MIN, high: float = SCALE_MAX
):
    if value is not None:
        require(
            math.isfinite(value) and low <= value <= high,
            key,
            value,
            f"a number in [{low}, {high}]",
        )


def require_known(key: str, names: list[str], allowed: list[str], what: str) -> None:
    for name in names:
        require(name in allowed, key, name, f"a {what} in {allowed}")


def issue_level_names(name: str, issue: Any) -> list[str]:
    """Level names an issue config declares (continuous: formatted grid positions)."""
    if issue.kind == IssueKind.continuous:
        return list(Issue.continuous(name, issue.low, issue.high, issue.resolution).levels)
    if issue.kind == IssueKind.ordinal:
        return list(issue.levels)
    return list(issue.categories)


def has_war(cfg: Any) -> bool:
    """A war beside the talks: `war.aggressor` or `war.defender` set. With neither, the
    scenario is a decision without a war (docs/new-conflict.md, "A decision without a
    war")."""
    return cfg.war.aggressor is not None or cfg.war.defender is not None


def war_cost_of(party: Any, war_conf: Any) -> float:
    """A party's cost of a month of war: its `war_cost`, or from its war's burden
    (`war_burden`, a share of a year's output) and the stake's worth in years of output
    (`war.stake_years`): `sim.core.war.monthly_war_cost` (docs/model.md, "Costs of war in an
    anchored unit"). The config is checked first (`validate`)."""
    burden = party.get("war_burden")
    if burden is None:
        return float(party.war_cost)
    return monthly_war_cost(float(burden), float(war_conf.stake_years))


def refuse_empty_dicts(args: list[str]) -> None:
    """`key={}` on the command line: Hydra merges it onto the key's dict, which changes
    nothing (a scenario's parties stay); say so instead of running as if it did."""
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and value.replace(" ", "") == "{}" and not key.startswith("hydra"):
            raise ConfigError(
                key.lstrip("+~"),
                {},
                f"entries to merge (an empty dict changes nothing); drop an entry with "
                f"'{key.lstrip('+~')}.<name>=null' (docs/new-conflict.md)",
            )
