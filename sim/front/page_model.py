"""The page's negotiation (`./dev app`, `sim.front.page`): a Mesa model built from the config the
command line composes, stepped round by round, and what the page shows of it.

`PageNegotiation(scenario=..., **values)` follows Mesa's conventions for a visualised model
(keyword-only parameters; `model_controls` gives them as Mesa's `model_params`), where each
value is a config key as on the command line (`protocol`, `war.support.<supporter>`,
`parties.<party>.strategy`): the config is composed by Hydra from conf/ with those overrides
and compiled (`sim.experiment.compiler.compile_job`), as `python -m sim` does; so a bad
value raises the error whose `sim.experiment.error_lines.one_line` the command line prints,
and the same controls and seed give the command line's deal. Every control is read from the
scenario's data (its parties, supporters, belligerents, guarantee packages), so the page
serves any scenario in conf/scenario/."""

from __future__ import annotations

import copy
import dataclasses
import functools
import shlex
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from sim.core.settings import Bargaining, Protocol, Seating, StrategyName
from sim.engine.single import NegotiationModel
from sim.experiment.assessment import STABILITY_PARTS
from sim.experiment.compiler import compile_job
from sim.experiment.draws import replication_seed
from sim.experiment.jobs import job_row
from sim.experiment.replication import replication_inputs, result_rows
from sim.experiment.schema import CONFIG_DIR, register_configs

SCENARIO_DIR = Path(CONFIG_DIR) / "scenario"
SWEEP_DIR = Path(CONFIG_DIR) / "sweep"
_COMPOSING = threading.Lock()  # Hydra's global state: one composition at a time


def default_scenario() -> str:
    """The scenario conf/config.yaml picks by default (its defaults list)."""
    import yaml

    config = yaml.safe_load((Path(CONFIG_DIR) / "config.yaml").read_text(encoding="utf-8"))
    for entry in config.get("defaults", []):
        if isinstance(entry, dict) and "scenario" in entry:
            return str(entry["scenario"])
    return scenario_names()[0]


def scenario_names() -> list[str]:
    """The scenarios in conf/scenario/, by file name."""
    return sorted(path.stem for path in SCENARIO_DIR.glob("*.yaml"))


DEFAULT_SCENARIO = default_scenario()


def compose(scenario: str, overrides: Sequence[str] = ()) -> DictConfig:
    """The config `python -m sim scenario=<scenario> <overrides>` composes (Hydra's compose
    API on conf/, the same schema and defaults), a copy of its own. Raises what Hydra raises
    for a bad value. The page composes the same controls again and again (their panel,
    the model, Reset): a composition is kept and copied (milliseconds against ~0.5 s)."""
    return copy.deepcopy(_composed(scenario, tuple(overrides)))


@functools.lru_cache(maxsize=32)
def _composed(scenario: str, overrides: tuple[str, ...]) -> DictConfig:
    import hydra
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    with _COMPOSING:
        held = GlobalHydra.instance()
        parked = held.hydra if held.is_initialized() else None
        if parked is not None:
            held.clear()
        try:
            with hydra.initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
                return hydra.compose("config", overrides=[f"scenario={scenario}", *overrides])
        finally:
            if parked is not None:
                GlobalHydra.instance().initialize(parked)


def as_override(key: str, value: Any) -> str:
    """`key=value` as a command line writes it (booleans in lower case, lists in brackets)."""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, float):
        value = f"{value:g}"
    return f"{key}={value}"


class PageNegotiation(NegotiationModel):
    """One negotiation of a composed config, for the page: its replication `replication`
    (0, as `python -m sim` runs it, or a sweep row's), with the round-by-round trace.

    `values` are config keys and values as on the command line (`seed=3`,
    `war.support.<supporter>=0.4`); `overrides` are more, as text (a sweep row's
    `overrides` column). Raises `sim.experiment.validation.ConfigError` (or Hydra's error) for a bad
    value, before anything runs.
    """

    def __init__(
        self,
        *,
        scenario: str = DEFAULT_SCENARIO,
        overrides: str = "",
        replication: int = 0,
        **values: Any,
    ) -> None:
        self.scenario_name = scenario
        self.overrides = [*shlex.split(overrides), *(as_override(k, v) for k, v in values.items())]
        # replication 0 is the config's own (null): the composition the controls panel made
        chosen = [f"replication={int(replication)}"] if int(replication) else []
        cfg = compose(scenario, [*self.overrides, *chosen])
        # compiled as a sweep job: aliases checked, null entries dropped, validated
        self.compiled = compile_job(cfg, shlex.join(self.overrides))
        self.config = self.compiled.config
        self.job = self.compiled.digest  # the hash a sweep's job file is named by
        design = self.compiled.design
        r = int(design.replication or 0)
        self.repeats = design.repeats
        seed = replication_seed(self.compiled.seed, r)
        self.inputs = replication_inputs(self.compiled.scenario, design, seed, design.point_of(r))
        self.replication = r
        super().__init__(
            self.inputs.scenario,
            dataclasses.replace(self.compiled.settings, collect_trace=True),
            self.inputs.war_params,
            self.inputs.model_seed,
        )
        self._row: dict[str, Any] | None = None
        self.start_contact_line = float(self.contact_line)  # round 0's, before any fighting

    @property
    def ended(self) -> bool:
        """The talks are over (a deal, a breakdown or the horizon)."""
        return self.reason is not None

    def run_to_end(self) -> None:
        """Step until the talks end."""
        while self.running and not self.ended:
            self.step()

    def row(self) -> dict[str, Any]:
        """The result row `python -m sim` writes for this negotiation (its parameters, the
        outcome, the stability parts); only once the talks have ended."""
        if not self.ended:
            raise RuntimeError("the talks have not ended")
        if self._row is None:
            job = self.compiled
            found = result_rows([self.result(0)], [self.inputs], job.stability, {})[0]
            self._row = job_row(job.columns, self.problem, found, self.replication, self.repeats)
        return self._row

    def contact_lines(self, trace: pd.DataFrame | None = None) -> pd.DataFrame:
        """The contact line round by round from round 0, with the territory in the text
        (the trace's columns, `self.trace()` unless given; none at round 0)."""
        start = pd.DataFrame({"round": [0], "contact_line": [self.start_contact_line]})
        trace = self.trace() if trace is None else trace
        return pd.concat([start, trace], ignore_index=True) if len(trace) else start

    def text_trail(self) -> list[int]:
        """The text or offer on the table in each round so far (outcome indices)."""
        trace = self.trace()
        if "offer" not in trace:
            return []
        return [int(o) for o in trace["offer"] if o >= 0]


# -- controls ------------------------------------------------------------------------------


def _slider(label: str, value: Any, top: float) -> dict[str, Any]:
    """A Mesa `SliderFloat` control from 0 to `top` in steps of 0.05."""
    return {
        "type": "SliderFloat",
        "label": label,
        "value": round(float(value), 2),
        "min": 0.0,
        "max": top,
        "step": 0.05,
    }


def model_controls(cfg: Any, bargaining: str | None = None) -> dict[str, dict[str, Any]]:
    """The page's controls for a composed config, in Mesa's `model_params` format (`type`,
    `value`, `label` and the type's options), keyed by config key: protocol, seating,
    bargaining, each supporter's support, each belligerent's capacity, each party's
    strategy (not under `bargaining=fighting`, which ignores them: `bargaining` is the
    value chosen, the config's unless given), the guarantees on offer, seed and max rounds.
    Read from the scenario's data."""
    fighting = Bargaining(bargaining or cfg.bargaining) is Bargaining.fighting
    controls: dict[str, dict[str, Any]] = {
        "protocol": _select("protocol", cfg.protocol, [str(p) for p in Protocol]),
        "seating": _select(
            "seating",
            cfg.seating,
            [*(str(s) for s in Seating), *sorted(cfg.get("seating_aliases") or {})],
        ),
        "bargaining": _select("bargaining", cfg.bargaining, [str(b) for b in Bargaining]),
    }
    for supporter, level in (cfg.war.support or {}).items():
        controls[f"war.support.{supporter}"] = _slider(f"support: {supporter}", level, 1.0)
    for side, capacity in (cfg.war.capacity or {}).items():
        top = round(max(2.0, 2 * float(capacity)), 1)
        controls[f"war.capacity.{side}"] = _slider(f"capacity: {side}", capacity, top)
    for party, pc in (cfg.parties or {}).items():
        if pc is not None and not fighting:
            controls[f"parties.{party}.strategy"] = _select(
                f"strategy: {party}", pc.strategy, [str(s) for s in StrategyName]
            )
    controls["guarantees_offer"] = _select(
        "guarantees on offer",
        cfg.guarantees_offer,
        ["all", *sorted(k for k, v in (cfg.get("guarantee_packages") or {}).items() if v)],
    )
    controls["seed"] = {"type": "InputText", "label": "seed", "value": str(cfg.seed)}
    controls["max_rounds"] = {
        "type": "SliderInt",
        "label": "max rounds",
        "value": int(cfg.max_rounds),
        "min": 1,
        "max": max(300, int(cfg.max_rounds)),
        "step": 1,
    }
    return controls


def _select(label: str, value: Any, values: list[str]) -> dict[str, Any]:
    value = str(value)
    return {
        "type": "Select",
        "label": label,
        "value": value,
        "values": values if value in values else [value, *values],
    }


# -- what the page shows at the end --------------------------------------------------------

PART_NAMES = {
    "ir_margin": "individual rationality (least margin over the BATNA)",
    "blocking_surplus": "blocking coalitions (best gain of one acting alone)",
    "robustness": "robustness (share of draws it survives)",
    "durability": "durability (share of shock paths it holds)",
    "commitment_ratio": "Powell's ratio (shift of power vs cost of war)",
}


def deal_levels(model: PageNegotiation) -> dict[str, str]:
    """The agreed level of each issue (empty without an agreement)."""
    outcome = model.agreement
    if outcome is None:
        return {}
    return {k: str(v) for k, v in model.problem.space.levels_of(outcome).items()}


def margins(row: Mapping[str, Any], parties: Sequence[str]) -> pd.DataFrame:
    """Each party's utility of the deal, its BATNA and its margin."""
    return pd.DataFrame(
        [
            {
                "party": p,
                "utility": row[f"u_{p}"],
                "BATNA": row[f"reservation_{p}"],
                "margin": row[f"u_{p}"] - row[f"reservation_{p}"],
            }
            for p in parties
        ]
    )


def stability_table(row: Mapping[str, Any]) -> pd.DataFrame:
    """The five stability parts: value, threshold, passed or failed (empty without a
    binding deal)."""
    if not row["agreement"]:
        return pd.DataFrame(columns=["part", "value", "threshold", "holds"])
    failing = set(filter(None, str(row["failing_parts"]).split(",")))
    prefix = "stability.thresholds."
    out = []
    for part in STABILITY_PARTS:
        check = "blocking_coalitions" if part == "blocking_surplus" else part
        threshold = row.get(prefix + check)
        if part == "blocking_surplus":
            value, rule = row["blocking_coalitions"], f"<= {threshold:g} coalitions"
        elif part in ("ir_margin", "robustness", "durability"):
            value, rule = row[part], f">= {threshold:g}"
        else:
            value, rule = row[part], f"<= {threshold:g}"
        out.append(
            {
                "part": PART_NAMES[part],
                "value": value,
                "threshold": rule,
                "holds": check not in failing,
            }
        )
    return pd.DataFrame(out)


def why_it_fails(row: Mapping[str, Any]) -> list[str]:
    """What breaks the deal, in words: the blocking coalition and its alternative, the
    shocks under which war comes back, Powell's ratio; empty for a stable deal."""
    if not row["agreement"]:
        return []
    lines = []
    if row["blocking_coalition"]:
        lines.append(
            f"{row['blocking_coalition'].replace(',', ' and ')} would do better on their own "
            f"with {row['blocking_alternative']}"
        )
    failing = set(filter(None, str(row["failing_parts"]).split(",")))
    if "ir_margin" in failing:
        lines.append(f"{row['closest_to_walking']} signs below its BATNA")
    if "robustness" in failing:
        lines.append(
            f"it survives {row['robustness']:.0%} of the draws of what is not known "
            "(saliences, capacities, support, war costs, beliefs); below the threshold"
        )
    share = row.get("renewed_war_share")
    if share is not None and np.isfinite(share) and share > 0:
        lines.append(
            f"under post-deal shocks to support and capacity, a party prefers renewed war on "
            f"{share:.0%} of the paths (largest shift of power {row['max_power_shift']:.2f}, "
            f"{int(row['powell_violations'])} Powell violations)"
        )
    return lines


def replay_overrides(row: Mapping[str, Any]) -> tuple[str, str, int]:
    """(scenario, overrides, replication) that replay a sweep's result row: the row's
    `overrides` after its sweep preset (conf/sweep/<sweep_name>.yaml, whose settings are
    not in the overrides), and its replication."""
    words = shlex.split(str(row.get("overrides") or ""))
    scenario = str(row.get("scenario") or DEFAULT_SCENARIO)
    rest = []
    for word in words:
        key, _, value = word.partition("=")
        if key == "scenario":
            scenario = value
        else:
            rest.append(word)
    preset = str(row.get("sweep_name") or "")
    if (SWEEP_DIR / f"{preset}.yaml").exists() and not any(w.startswith("sweep=") for w in rest):
        rest.insert(0, f"sweep={preset}")
    return scenario, shlex.join(rest), int(row.get("replication") or 0)
