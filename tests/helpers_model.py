"""Shared builders for the negotiation-layer tests (test_war, test_strategies, test_model).

- `compose(*overrides)`: the config as `python -m sim <overrides>` sees it (Hydra's compose
  API on `conf/`), cached per override list; every call returns a fresh copy.
- `custom_config(patch)`: a hand-built problem, `patch` merged onto the bare schema
  `OmegaConf.structured(SimConfig)`.
- `fearon_config(...)`: Fearon's (1995) bargaining problem, one territory issue between an
  aggressor `a` (ideal 100) and a defender `b` (ideal 0), war that jumps to `100 p`.
- `run(cfg, seed)`: build the scenario and negotiate to the end (replication 0 of `seed`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from sim.engine.single import NegotiationModel
from sim.experiment.build import build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.draws import replication_seeds
from sim.experiment.schema import SimConfig, register_configs

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "conf"
PARTIES = ("usa", "russia", "ukraine", "europe")
# Agents compare utilities with this slack (sim.engine.agents.TOLERANCE); invariants use it too.
EPS = 1e-9


@functools.lru_cache(maxsize=64)
def _compose_cached(overrides: tuple[str, ...]) -> DictConfig:
    register_configs()
    # The session fixture in conftest.py may hold Hydra's global state open: park it, compose
    # on our own, and put it back, so that both can be used in one session.
    gh = GlobalHydra.instance()
    parked = gh.hydra if gh.is_initialized() else None
    if parked is not None:
        gh.clear()
    try:
        with hydra.initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
            return hydra.compose("config", overrides=list(overrides))
    finally:
        if parked is not None:
            GlobalHydra.instance().initialize(parked)


# The model before fighting (and before self-enforcing settlements, hopeful parties and the
# imposable lottery: issue 27)
CALENDAR = (
    "bargaining=calendar",
    "war.stakes=territory",
    "enforcement=assumed",
    "staying=patience",
    "war.lottery=ideals",
)


def calendar_unless_said(overrides: Sequence[str]) -> list[str]:
    """`overrides` after `CALENDAR` unless they choose the bargaining: the tests of the
    rules (protocols, seating, walkouts, the war's line) pin the earlier model, whose deals
    come from the tactics; tests/test_fighting.py pins the default."""
    said = any(o.lstrip("+~").startswith("bargaining=") for o in overrides)
    return list(overrides) if said else [*CALENDAR, *overrides]


def compose(*overrides: str) -> DictConfig:
    """The composed config for command-line `overrides` (a fresh, mutable copy), under
    `bargaining=calendar` unless they say otherwise (`calendar_unless_said`)."""
    return copy.deepcopy(_compose_cached(tuple(calendar_unless_said(overrides))))


def custom_config(patch: Mapping[str, Any]) -> DictConfig:
    """`patch` merged onto the schema's defaults (which name no party: no supporters);
    without `war.capacity`, the aggressor's is 1.0 and the defender's 0.3."""
    cfg = OmegaConf.merge(OmegaConf.structured(SimConfig), dict(patch))
    return with_default_capacities(cfg)


def with_default_capacities(cfg: DictConfig) -> DictConfig:
    """`cfg` with `war.capacity` {aggressor: 1.0, defender: 0.3} unless it has its own."""
    war = cfg.war
    if not war.capacity and war.aggressor is not None and war.defender is not None:
        war.capacity = {war.aggressor: 1.0, war.defender: 0.3}
    return cfg


def fearon_config(
    p: float = 0.6,
    cost_a: float = 0.05,
    cost_b: float = 0.1,
    strategy_a: str = "linear",
    strategy_b: str = "linear",
    protocol: str = "single_text",
    max_rounds: int = 30,
    contact_line: float = 50.0,
    resolution: float = 1.0,
) -> DictConfig:
    """Fearon's problem: territory 0..100 (a's share x 100), a wants 100, b wants 0.

    Capacities p and 1 - p with no supporters give the strength-implied line 100 p; an
    adjustment rate of 1 makes the line jump there, so that with a one-month horizon and no
    discounting the BATNAs are exactly p - c_a and (1 - p) - c_b.
    """
    return custom_config(
        {
            "scenario_name": "fearon",
            "max_rounds": max_rounds,
            "protocol": protocol,
            "mediator": "a",
            "phase_one_parties": ["a"],
            "issues": {
                "territory": {
                    "kind": "continuous",
                    "low": 0.0,
                    "high": 100.0,
                    "resolution": resolution,
                    "control": ["a", "b"],
                }
            },
            "parties": {
                "a": {
                    "capability": 1.0,
                    "strategy": strategy_a,
                    "war_cost": cost_a,
                    "preferences": {"territory": {"ideal": 100.0, "decay": 100.0, "salience": 1}},
                },
                "b": {
                    "capability": 1.0,
                    "strategy": strategy_b,
                    "war_cost": cost_b,
                    "preferences": {"territory": {"ideal": 0.0, "decay": 100.0, "salience": 1}},
                },
            },
            "war": {
                "territory_issue": "territory",
                "contact_line": contact_line,
                "capacity": {"a": p, "b": 1.0 - p},
                "aid_effectiveness": 0.0,
                "adjustment_rate": 1.0,
                "volatility": 0.0,
                "months_per_round": 1.0,
                "horizon_months": 1.0,
                "discount": 1.0,
                "aggressor": "a",
                "defender": "b",
            },
        },
    )


def run(cfg: Any, seed: int = 0, collect_trace: bool = True, **settings: Any) -> NegotiationModel:
    """Build the scenario and negotiate to the end, seeded from replication 0 of `seed`.

    `settings` override fields of `NegotiationSettings` (e.g. max_rounds).
    """
    scenario = build_scenario(cfg)
    negotiation = negotiation_settings(cfg, collect_trace=collect_trace, **settings)
    rng = np.random.default_rng(replication_seeds(seed, 1)[0])
    return NegotiationModel(scenario, negotiation, rng=rng).run()


def accepted_last(model: NegotiationModel) -> set[str]:
    """Names of the parties whose response in the last round was `accept`."""
    return {a.name for a in model.by_index if str(a.last_response) == "accept"}


def required_names(model: NegotiationModel, outcome: int) -> set[str]:
    """Parties that control some level `outcome` sets (must sign for it to bind)."""
    mask = model.problem.required_signatories[:, outcome]
    return {model.parties[i] for i in np.flatnonzero(mask)}
