"""The compile step (docs/layout.md, "Where configuration stops"): a job's config, read
once, as the typed and frozen values its replications run on. Every entry point (the
command line, a sweep's jobs, the page, the scorecard, the sensitivity analysis) calls
`compile_job`; below it nothing takes a config (tests/test_layers.py guards it)."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.core.scenario import Scenario
from sim.core.settings import (
    Bargaining,
    BatnaMode,
    Enforcement,
    Information,
    NegotiationSettings,
    Protocol,
    StabilitySettings,
    Staying,
    seating,
)
from sim.core.stability import DurabilityParameters, StabilityModel, Thresholds
from sim.experiment.aliases import prepare
from sim.experiment.build import build_scenario
from sim.experiment.designs import (
    AutoStop,
    Design,
    Uncertain,
    active_uncertainties,
    design_points,
    is_auto,
    repeats_per_point,
)
from sim.experiment.results import current_code_version, job_hash
from sim.experiment.schema import PlainConfig, plain
from sim.experiment.validation import war_cost_of


@dataclass(frozen=True)
class Job:
    """One job, compiled: the scenario as configured (before any replication's draws), the
    negotiation's and the stability measures' settings, the design of its replications,
    its seed, the columns every row carries and its hash. `config` is the prepared plain
    config it was compiled from: what the job's hash and record are of, read by nothing
    that runs the job."""

    scenario: Scenario
    settings: NegotiationSettings
    stability: StabilitySettings
    design: Design
    seed: int
    columns: Mapping[str, Any]
    digest: str
    config: PlainConfig
    targets: Mapping[str, str]


def compile_job(
    cfg: Any,
    overrides: str = "",
    digest: str | None = None,
    targets: Mapping[str, str] | None = None,
) -> Job:
    """`cfg` (a DictConfig, or a prepared `PlainConfig` with its alias `targets`) checked
    and compiled (`prepare`, `plain`, `build_scenario`, which validates); `overrides` is
    the job's command line and `digest` names it (its `job_hash` unless given)."""
    if isinstance(cfg, PlainConfig):  # prepared already
        config, targets = cfg, dict(targets or {})
    else:
        targets = prepare(cfg)
        config = plain(cfg)  # read from here on: plain dicts, not OmegaConf nodes
    digest = job_hash(config) if digest is None else digest
    scenario = build_scenario(config, dict(targets))
    return Job(
        scenario=scenario,
        settings=negotiation_settings(config, collect_trace=False),
        stability=stability_settings(config),
        design=design_of(config),
        seed=int(config.seed),
        columns=job_columns(config, overrides, digest),
        digest=digest,
        config=config,
        targets=targets,
    )


def negotiation_settings(cfg: Any, **overrides: Any) -> NegotiationSettings:
    """The negotiation's settings from a config (a DictConfig, a `PlainConfig`, any object
    with its attributes); `overrides` replace fields."""
    defaults = NegotiationSettings
    values = {
        "protocol": Protocol(cfg.protocol),
        "seating": seating(cfg.seating, getattr(cfg, "seating_aliases", None) or {}),
        "mediator": None if cfg.mediator is None else str(cfg.mediator),
        "phase_one_parties": tuple(cfg.phase_one_parties),
        "phase_one_rounds": int(cfg.phase_one_rounds),
        "max_rounds": int(cfg.max_rounds),
        "information": Information(cfg.information),
        "batna": BatnaMode(cfg.batna),
        "walkout_patience": int(cfg.walkout_patience),
        "staying": Staying(getattr(cfg, "staying", defaults.staying)),
        "text_step": float(cfg.text_step),
        "framework_commitment": float(cfg.framework_commitment),
        "bargaining": Bargaining(cfg.bargaining),
        "mediator_bias": float(cfg.mediator_bias),
        "enforcement": Enforcement(getattr(cfg, "enforcement", defaults.enforcement)),
        "foresight_months": int(getattr(cfg, "foresight_months", defaults.foresight_months)),
    }
    values.update(overrides)
    return NegotiationSettings(**values)


def stability_settings(cfg: Any) -> StabilitySettings:
    """How the job measures a deal's stability: its `stability` block, typed."""
    stability_conf = cfg.stability
    return StabilitySettings(
        model=StabilityModel(stability_conf.model),
        robustness_draws=int(stability_conf.robustness_draws),
        salience_spread=float(stability_conf.salience_spread),
        reservation_spread=float(stability_conf.reservation_spread),
        capability_spread=float(stability_conf.capability_spread),
        support_spread=float(stability_conf.support_spread),
        cost_spread=float(stability_conf.cost_spread),
        belief_spread=float(stability_conf.belief_spread),
        durability=DurabilityParameters(
            periods=int(stability_conf.durability_periods),
            paths=int(stability_conf.durability_paths),
            support_shock=float(stability_conf.support_shock),
            capacity_shock=float(stability_conf.capacity_shock),
            guarantee_strength=float(stability_conf.guarantee_strength),
            guarantee_cost=float(stability_conf.guarantee_cost),
        ),
        guarantees_issue=None
        if stability_conf.guarantees_issue is None
        else str(stability_conf.guarantees_issue),
        thresholds=Thresholds(**{k: v for k, v in stability_conf.thresholds.items()}),
    )


def design_of(cfg: Any) -> Design:
    """What varies between the job's replications: the parameters drawn (each with the
    configured value it is drawn around), the grid's points, the replications at each and
    when `replications=auto` stops."""
    auto = None
    if is_auto(cfg):
        auto = AutoStop(int(cfg.max_replications), int(cfg.replication_block), float(cfg.ci_width))
    return Design(
        uncertainties=tuple(
            dataclasses.replace(u, base=base_value(cfg, u)) for u in active_uncertainties(cfg)
        ),
        points=tuple(design_points(cfg)),
        repeats=repeats_per_point(cfg),
        auto=auto,
        replication=None if cfg.replication is None else int(cfg.replication),
    )


def base_value(cfg: Any, u: Uncertain) -> float:
    """The configured value a parameter is drawn around (1 for a multiplier)."""
    match u.kind:
        case "support" | "capacity":
            return float(cfg.war[u.kind][u.party])
        case "war_cost":
            return war_cost_of(cfg.parties[u.party], cfg.war)
        case "capability":
            return float(cfg.parties[u.party][u.kind])
    return 1.0


def _flat(key: str, value: Any) -> dict[str, Any]:
    """A nested block as dotted columns (`war.drift.supports.<party>`), lists as text."""
    if isinstance(value, Mapping):
        return {k: v for name, sub in value.items() for k, v in _flat(f"{key}.{name}", sub).items()}
    if isinstance(value, enum.Enum):
        return {key: str(value)}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return {key: ",".join(map(str, value))}
    return {key: value}


def flat_parameters(cfg: Any) -> dict[str, Any]:
    """The job's parameters as flat columns: settings (a scenario's aliases among them,
    e.g. `ally_support`), war, each party's strategy, the drawn parameters' spreads."""
    out: dict[str, Any] = {}
    skip = {"results_dir", "issues", "parties", "war", "uncertainty", "stability"}
    skip |= {"guarantee_packages", "phase_one_parties", "replication", "seating_aliases"}
    skip |= {"aliases", "sweep_pack", "sweep_extend", "bdm"}  # bdm: `./dev forecast`'s
    for key, value in cfg.items():
        if key not in skip:
            out[key] = str(value) if isinstance(value, enum.Enum) else value
    out["scenario"] = str(cfg.scenario_name)
    out["phase_one_parties"] = ",".join(cfg.phase_one_parties)
    for key, value in cfg.war.items():
        if value is not None:  # a key left unset writes no column (a null would be text)
            out.update(_flat(f"war.{key}", value))
    out["stability.model"] = str(cfg.stability.model)
    out["stability.robustness_draws"] = int(cfg.stability.robustness_draws)
    out["stability.durability_paths"] = int(cfg.stability.durability_paths)
    out.update(_flat("stability.thresholds", cfg.stability.thresholds))
    for party, pc in cfg.parties.items():
        out[f"parties.{party}.strategy"] = str(pc.strategy)
        out[f"parties.{party}.capability"] = float(pc.capability)
        out[f"parties.{party}.war_cost"] = war_cost_of(pc, cfg.war)
        out[f"parties.{party}.optimism"] = float(pc.optimism)
        out[f"parties.{party}.cost_belief"] = float(pc.cost_belief)
    for u in active_uncertainties(cfg):
        if u.dist == "grid":
            out[u.uncertainty_key] = f"grid{list(u.levels)}"
        else:
            out[u.uncertainty_key] = f"{u.dist}({u.scale})"
    return out


def job_columns(cfg: Any, overrides: str, digest: str) -> dict[str, Any]:
    """What every row of a job carries besides its replication's results: its parameters
    (`flat_parameters`), its command line, the code version, its seed and its hash."""
    return {
        **flat_parameters(cfg),
        "overrides": overrides,
        "code_version": current_code_version(),
        "seed": int(cfg.seed),
        "job": digest,
    }
