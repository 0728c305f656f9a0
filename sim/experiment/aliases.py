"""A scenario's short names for config keys (`aliases`, docs/new-conflict.md) and the
first step of the compile: `prepare` checks the aliases and drops the entries set to null."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.experiment.schema import CONFIG_DIR, SimConfig, UncertaintyConf
from sim.experiment.validation import ConfigError, Words, require

# Blocks whose entries a scenario may drop with `name: null` (one that extends another
# scenario then gets exactly the parties, issues and supporters it wants).
DROPPABLE = ("parties", "issues", "war.support", "war.drift.supports", "guarantee_packages")
DROPPABLE += ("uncertainty.war.capacity", "uncertainty.war.support", "uncertainty.parties")
REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")
SIMCONFIG_KEYS = frozenset(f.name for f in dataclasses.fields(SimConfig))
UNCERTAINTY_KEYS = frozenset(f.name for f in dataclasses.fields(UncertaintyConf))
GLOBAL_HEADER = "# @package _global_"


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
    outside the schema (a misspelling; an alias only other scenarios declare; a config
    group's name, from a file without its `# @package _global_` line) is a ConfigError,
    which says which. An alias no key follows any more (its key was set directly) is
    dropped from `cfg`. Returns `alias_targets(cfg)`."""
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
            if key in known or f"{prefix}{key}" in declared:
                continue
            value = node._get_node(key)._value()
            if not prefix:
                _refuse_headerless(key, value)
            _refuse_other_scenarios_alias(f"{prefix}{key}", value, cfg.get("sweep_name"))
            raise ConfigError(
                f"{prefix}{key}",
                value,
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


def _read_yaml(path: Path) -> dict[str, Any]:
    """A config file's mapping; {} if it cannot be read as one."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def declaring_scenarios(alias: str) -> list[str]:
    """The scenarios in conf/scenario/ that declare `alias` in their `aliases`, their own
    or, when they set none, the one of the scenario they extend (`defaults`)."""
    files = {p.stem: _read_yaml(p) for p in sorted(Path(CONFIG_DIR, "scenario").glob("*.yaml"))}

    def declared(name: str, seen: frozenset[str]) -> list[Any]:
        data = files.get(name, {})
        if "aliases" in data:
            return list(data["aliases"] or [])
        bases = [d for d in data.get("defaults") or [] if isinstance(d, str)]
        for base in reversed(bases):  # the last one merged wins
            base = base.removeprefix("/scenario/")
            if base in files and base not in seen:
                found = declared(base, seen | {name})
                if found:
                    return found
        return []

    return [name for name in files if alias in declared(name, frozenset())]


def preset_setting(key: str, sweep_name: Any) -> str | None:
    """The sweep preset (conf/sweep/) that sets `key`, in its body or its swept
    `hydra.sweeper.params`, and whose `sweep_name` is `sweep_name`; None if none."""
    for path in sorted(Path(CONFIG_DIR, "sweep").glob("*.yaml")):
        data = _read_yaml(path)
        if data.get("sweep_name") != sweep_name:
            continue
        node: Any = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        params = ((data.get("hydra") or {}).get("sweeper") or {}).get("params") or {}
        if node is not None or key in params:
            return path.stem
    return None


def family_hint(alias: str, sweep_name: Any = None) -> str | None:
    """What is allowed instead of `alias`, an alias the current scenario does not declare:
    a scenario that declares it (and, if a preset set it, that the preset is for those),
    or the keys it stands for set directly. None if no scenario in conf/ declares it."""
    family = declaring_scenarios(alias)
    if not family:
        return None
    who = f"the scenarios that declare the alias {alias} ({family})"
    preset = preset_setting(alias, sweep_name) if sweep_name is not None else None
    if preset:
        return (
            f"a scenario for sweep={preset}: the preset is for {who}; pick one of them "
            "(scenario=...), or set the keys directly without the preset"
        )
    return (
        f"a key of the config; {alias} is an alias that only the scenarios {family} declare: "
        "pick one of them (scenario=...), set the keys it stands for directly, or declare it "
        "in the scenario's `aliases`"
    )


def _refuse_other_scenarios_alias(key: str, value: Any, sweep_name: Any) -> None:
    """`key`, outside the schema, is an alias other scenarios declare (a preset or a
    command line for another family of scenarios): say which, and what to do."""
    hint = family_hint(key, sweep_name)
    if hint is not None:
        raise ConfigError(key, value, hint)


def _refuse_headerless(key: str, value: Any) -> None:
    """A config group's name (`scenario`, `sweep`) holding a block at the top level: its
    file lacks the `# @package _global_` line, so its keys landed under `<group>:`."""
    if not (Path(CONFIG_DIR, key).is_dir() and isinstance(value, dict | DictConfig)):
        return
    path = _chosen_file(key)
    where = f"the file {path}" if path else f"a {key} file"
    raise ConfigError(
        key,
        Words(
            f"{where} without its first line {GLOBAL_HEADER!r} (its keys landed under "
            f"{key!r}, not at the top of the config)"
        ),
        f"a {key} file that begins with the line {GLOBAL_HEADER!r}: add that line at its top",
    )


def _chosen_file(group: str) -> str | None:
    """The file this Hydra run chose for `group`, if it is known and lacks the header."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    runtime = HydraConfig.get().runtime
    choice = runtime.choices.get(group)
    if not choice:
        return None
    folders = [Path(CONFIG_DIR)]
    folders += [Path(source.path) for source in runtime.config_sources if source.schema == "file"]
    for folder in folders:
        path = folder / group / f"{choice}.yaml"
        if path.is_file():
            lines = path.read_text().splitlines()
            return None if lines[:1] == [GLOBAL_HEADER] else str(path)
    return None


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
