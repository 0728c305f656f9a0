"""Turning exceptions from our checks, OmegaConf and Hydra into one readable line."""

from __future__ import annotations

import difflib
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml
from hydra.errors import MissingConfigException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

# Read once at import, before `python -m sim` sets HYDRA_FULL_ERROR for its own use.
FULL_ERROR = os.environ.get("HYDRA_FULL_ERROR") == "1"

# Exit statuses a script can trust (docs/troubleshooting.md): 0 every job done, 1 an
# unexpected crash (a traceback), 2 bad input (nothing run, nothing written), 3 a sweep
# that ran with some jobs failed (the others' rows written; a rerun tries the failed again),
# 130 interrupted.
EXIT_BAD_INPUT = 2
ALIASED = re.compile(r"While dereferencing interpolation '\$\{([\w.]+)\}': ")
EXIT_PARTIAL = 3
UNKNOWN_KEY = re.compile(r"Key '(?P<key>[^']*)' (not in '|is not in struct)")
# What an entry of an open-ended block is called, by the block's name.
ENTRY_NOUNS = {
    "parties": "party",
    "issues": "issue",
    "preferences": "issue",
    "support": "supporter",
    "supports": "supporter",
    "capacity": "belligerent",
    "guarantee_packages": "guarantee package",
    "anchors": "anchor",
    "levels": "level",
    "seating_aliases": "seating",
}


def one_line(exc: BaseException) -> str:
    """The most specific message in an exception chain, on one line.

    OmegaConf's validation errors carry the key (`full_key`) and a message about the
    value; Hydra wraps them ("Error merging override ..."), so the cause is preferred.
    """
    from sim.experiment.results import ResultsError
    from sim.experiment.validation import ConfigError

    if isinstance(exc, ConfigError | ResultsError):
        return str(exc)
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{mark.name}:{mark.line + 1}:{mark.column + 1}: {exc.problem}"
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    for item in chain:
        if isinstance(item, MissingConfigException) and item.missing_cfg_file:
            return _missing_config(str(item.missing_cfg_file), item.options)
        if isinstance(item, OmegaConfBaseException) and getattr(item, "full_key", None):
            msg = str(getattr(item, "msg", None) or item).splitlines()[0].strip()
            unknown = _unknown_key(item, msg)
            if unknown:
                return unknown
            via = ALIASED.match(msg)  # a value given by a scenario's alias: name the alias
            if via:
                return f"{via.group(1)}: {msg[via.end() :]}"
            return f"{item.full_key}: {msg}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    lines = lines[:1] or [type(exc).__name__]
    for item in chain[1:]:
        cause = [line.strip() for line in str(item).splitlines() if line.strip()]
        if cause and cause[0] not in lines:
            lines.append(cause[0])
            break
    return ": ".join(lines)


def nearest(name: str, names: Sequence[str]) -> list[str]:
    """The names closest to a misspelt `name` (difflib's ratio >= 0.6, at most three),
    only those about as close as the best (a typo rarely has two readings)."""
    ratio = {n: difflib.SequenceMatcher(None, n, name).ratio() for n in names}
    close = difflib.get_close_matches(name, names, n=3)
    return [n for n in close if ratio[n] >= ratio[close[0]] - 0.1]


def _unknown_key(item: Any, msg: str) -> str | None:
    """`key: got an unknown key; allowed: ...` for a key OmegaConf found in no schema
    class or open-ended block, with the nearest keys there (`difflib`); for an alias
    only other scenarios declare, which they are. None for any other error."""
    from sim.experiment.aliases import family_hint

    found = UNKNOWN_KEY.match(msg)
    parent = getattr(item, "parent_node", None)
    full = str(item.full_key)
    key = found.group("key") if found else ""
    if not found or not isinstance(parent, DictConfig) or not full.endswith(key):
        return None
    here = full[: -len(key)].rstrip(".")
    names = [str(k) for k in parent if here or k != "hydra"]
    if not here:
        sweep_name = OmegaConf.select(parent, "sweep_name", throw_on_resolution_failure=False)
        hint = family_hint(key, sweep_name)
        if hint:
            return f"{full}: got an unknown key; allowed: {hint}"
    near = [f"{here}.{n}".lstrip(".") for n in nearest(key, names)]
    if parent._metadata.object_type in (dict, None):  # entries: parties, issues, ...
        noun = ENTRY_NOUNS.get(here.rpartition(".")[2], "key")
        allowed = f"one of {names}"
        if not near:
            allowed += f", or a new {noun} added by an override with a leading '+'"
    else:
        noun, allowed = "key", f"a key of {here or 'the config'}"
        if not near:
            allowed += f" ({sorted(names)})"
    if near:
        allowed += f" (did you mean {' or '.join(near)}?)"
    return f"{full}: got an unknown {noun}; allowed: {allowed}"


def _missing_config(missing: str, options: list[str] | None) -> str:
    """`group: got 'name'; allowed: one of [...]` for a config Hydra could not find.

    A value given as a file path (`scenario=conf/scenario/x.yaml`) is reported under its
    group, and an empty option list is filled from the group's folder in conf/.
    """
    from sim.experiment.schema import CONFIG_DIR

    if missing.endswith(".yaml") and "/" in missing:
        group, _, name = missing.partition("/")
    else:
        group, _, name = missing.rpartition("/")
    folder = Path(CONFIG_DIR) / group if group else Path(CONFIG_DIR)
    found = sorted(options or []) or sorted(p.stem for p in folder.glob("*.yaml"))
    return f"{group or 'config'}: got {name!r}; allowed: one of {found}"


def exit_with(exc: BaseException, status: int = 2, always_exit: bool = False) -> NoReturn:
    """Print `error: <one line>` to stderr and exit, or re-raise under HYDRA_FULL_ERROR=1.

    `always_exit`: where a raise would be swallowed (Hydra turns a callback's exceptions
    into warnings), print the traceback under HYDRA_FULL_ERROR=1 and still exit.
    """
    if FULL_ERROR:
        if not always_exit:
            raise exc
        traceback.print_exception(exc)
    print(f"error: {one_line(exc)}", file=sys.stderr)
    sys.exit(status)


def run_command(
    run: Callable[[list[str]], object], doc: str, argv: Sequence[str] | None = None
) -> None:
    """A command's entry (`python -m sim.front.sensitivity_cli`, `python -m sim.front.validate`):
    `-h` prints
    `doc`; bad input ends with one line and exit status 2, an interruption with 130."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(doc)
        return
    try:
        run(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        exit_with(exc)
