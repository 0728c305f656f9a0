"""A scenario's short names for config keys (`aliases`, docs/new-conflict.md) and the
first step of the compile: `prepare` checks the aliases and drops the entries set to null."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from sim.experiment.schema import SimConfig, UncertaintyConf
from sim.experiment.validation import require

# Blocks whose entries a scenario may drop with `name: null` (one that extends another
# scenario then gets exactly the parties, issues and supporters it wants).
DROPPABLE = ("parties", "issues", "war.support", "war.drift.supports", "guarantee_packages")
DROPPABLE += ("uncertainty.war.capacity", "uncertainty.war.support", "uncertainty.parties")
REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")
SIMCONFIG_KEYS = frozenset(f.name for f in dataclasses.fields(SimConfig))
UNCERTAINTY_KEYS = frozenset(f.name for f in dataclasses.fields(UncertaintyConf))


def alias_targets(cfg: Any) -> dict[str, str]:
    """Key -> the alias it follows (`war.support.ally: ${ally_support}` gives
    `{"war.support.ally": "ally_support"}`), for the aliases `cfg.aliases` declares."""
    if not isinstance(cfg, DictConfig):
        return {}
    declared = set(cfg.get("aliases") or ())
    out: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{path}.{key}".lstrip("."))
        elif isinstance(value, str):
            found = REFERENCE.fullmatch(value)
            if found and found.group(1) in declared:
                out[path] = found.group(1)

    walk(OmegaConf.to_container(cfg, resolve=False), "")
    return out


def as_given(key: str, targets: dict[str, str]) -> str:
    """`key` as the user may have written it: through the alias it follows, if any
    (`war.support.ally` -> `ally_support`, `uncertainty.war.support.ally.scale` ->
    `uncertainty.ally_support.scale`)."""
    for target, alias in targets.items():
        if key == target or key.startswith(f"{target}."):
            return alias + key[len(target) :]
    return key


def check_aliases(cfg: Any) -> dict[str, str]:
    """A scenario's aliases (`aliases`, docs/new-conflict.md): short names outside the
    schema, at the top level or in `uncertainty` (`ally_support`, `uncertainty.ally_support`),
    that keys follow by interpolation (`war.support.ally: ${ally_support}`). Any other key
    outside the schema (a misspelling) is a ConfigError. An alias no key follows any more
    (its key was set directly) is dropped from `cfg`. Returns `alias_targets(cfg)`."""
    if not isinstance(cfg, DictConfig):
        return {}
    declared = list(cfg.get("aliases") or ())
    for alias in declared:
        top, _, rest = alias.partition(".")
        ok = (not rest and top not in SIMCONFIG_KEYS) or (
            top == "uncertainty" and "." not in rest and rest not in UNCERTAINTY_KEYS
        )
        require(ok, "aliases", alias, "names outside the schema, `name` or `uncertainty.name`")
    for prefix, node, known in (
        ("", cfg, SIMCONFIG_KEYS),
        ("uncertainty.", cfg.get("uncertainty"), UNCERTAINTY_KEYS),
    ):
        for key in list(node or {}):
            require(
                key in known or f"{prefix}{key}" in declared,
                f"{prefix}{key}",
                node._get_node(key)._value(),
                f"a key of the config ({sorted(known)}) or an alias the scenario declares "
                f"in `aliases` ({declared})",
            )
    targets = alias_targets(cfg)
    used = set(targets.values())
    for alias in declared:
        if alias not in used and OmegaConf.select(cfg, alias) is not None:
            top, _, rest = alias.partition(".")
            node = cfg.uncertainty if rest else cfg
            with open_dict(node):
                del node[rest or top]
    return targets


def prepare(cfg: Any) -> dict[str, str]:
    """Check the aliases (`check_aliases`) and drop, in place, the entries set to null in
    `DROPPABLE` blocks; returns the keys that follow an alias (`alias_targets`).
    Idempotent."""
    targets = check_aliases(cfg)
    for path in DROPPABLE:
        node = OmegaConf.select(cfg, path) if isinstance(cfg, DictConfig) else None
        if node is None:
            continue
        gone = [key for key in node if node[key] is None]
        if gone:
            with open_dict(node):
                for key in gone:
                    del node[key]
    return targets
