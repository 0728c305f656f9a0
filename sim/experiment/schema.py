"""The configuration schema, registered in Hydra's ConfigStore, and a plain copy of a
composed config.

OmegaConf enforces these types and enum values when Hydra composes the config; what types
cannot say (ranges, names that must refer to each other) is checked by `sim.experiment.validation`.
Defaults that the engine also knows are taken from the engine's own types
(`sim.core.settings.NegotiationSettings`, `sim.core.stability.Thresholds` and
`DurabilityParameters`), so each is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.core.bdm import BdmOptions, Compromise, Probability
from sim.core.outcomes import IssueKind
from sim.core.settings import (
    Bargaining,
    BatnaMode,
    Enforcement,
    Information,
    NegotiationSettings,
    Protocol,
    Seating,
    Side,
    StabilitySettings,
    Staying,
    StrategyName,
    WarLottery,
    WarStakes,
)
from sim.core.stability import DurabilityParameters, StabilityModel, Thresholds
from sim.experiment.designs import Distribution

# The repository's conf/ folder, absolute: under `python -m`, Hydra would read a relative
# path as a Python package.
CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "conf")


@dataclass
class IssueConf:
    kind: IssueKind = IssueKind.ordinal
    low: float = 0.0  # continuous: range on the 0-100 scale
    high: float = 100.0
    resolution: float = 5.0  # continuous: distance between grid points
    levels: dict[str, float] = field(default_factory=dict)  # ordinal: name -> position
    categories: list[str] = field(default_factory=list)  # categorical: names
    anchors: dict[str, float] = field(default_factory=dict)  # named points of the scale
    default: str | None = None  # status-quo level; None: every agreement must settle it
    control: list[str] = field(default_factory=list)  # parties who must sign any change
    level_control: dict[str, list[str]] = field(default_factory=dict)  # extra, per level
    # What a level does to the balance once in force (enforcement=self_enforcing; docs/model.md,
    # "Self-enforcing settlements"): level -> party -> change in its part of the balance (a
    # belligerent's war.capacity, a supporter's war.support level)
    shifts: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class IssuePreferenceConf:
    salience: float = 0.0
    ideal: float | None = None  # position of the ideal point (positioned issues)
    decay: float = 100.0  # distance from the ideal at which the value reaches 0
    curvature: float = 1.0  # 1 linear, < 1 concave, > 1 convex
    table: dict[str, float] | None = None  # level -> value in [0, 1] (required for categorical)
    reservation: float | None = None  # position of the reservation point; None: any
    red_line: list[str] = field(default_factory=list)  # levels never acceptable
    red_line_above: float | None = None
    red_line_below: float | None = None
    audience_cost: float | None = None  # None: the red lines above are vetoes; a number:
    # they are public commitments, and signing across them costs this much utility


@dataclass
class LinkConf:
    """Two issues a party values together (docs/model.md, "Linked issues"): `table` gives
    the value in [0, 1] of pairs of levels, first issue's level -> second's -> value;
    pairs not listed keep their additive value."""

    issues: list[str] = field(default_factory=list)
    table: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class RejectsConf:
    """The levels of one issue a ratifier rejects, as red lines are written."""

    red_line: list[str] = field(default_factory=list)
    red_line_above: float | None = None
    red_line_below: float | None = None


@dataclass
class RatificationConf:
    """Who must ratify what a party signs (Putnam 1988's two-level game; docs/model.md,
    "Ratification"): its name, the terms it rejects per issue, and whether the negotiator
    treats them as its own red lines at the table (`anticipated`: Schelling's tied hands)."""

    by: str | None = None  # e.g. referendum, parliament, constitutional court; None: none
    rejects: dict[str, RejectsConf] = field(default_factory=dict)
    anticipated: bool = False


@dataclass
class PartyConf:
    capability: float = 0.5  # leverage at the table and military/economic weight
    strategy: StrategyName = StrategyName.linear
    concession_exponent: float | None = None  # None: the strategy's own default
    deadline: int | None = None  # last round this party negotiates; None: max_rounds
    war_cost: float = 0.0  # utility lost per month of war
    delay_cost: float = 0.0  # utility a round without agreement costs it (Rubinstein 1982)
    war_burden: float | None = None  # or: the share of a year's output the war takes (then
    # war_cost = war_burden / (12 war.stake_years); docs/model.md)
    reservation_value: float | None = None  # fixed BATNA in [0, 1]; None: derived
    optimism: float = 0.0  # bargaining=fighting: prior bias of its belief about p toward its side
    cost_belief: float = 1.0  # bargaining=fighting: the others' war costs as it believes them,
    # a multiple of the true ones (> 1: it doubts their resolve)
    preferences: dict[str, IssuePreferenceConf] = field(default_factory=dict)
    links: list[LinkConf] = field(default_factory=list)
    ratification: RatificationConf = field(default_factory=RatificationConf)


@dataclass
class GuaranteeLevelConf:
    """What stands behind one level of the guarantees issue (Fortna 2004, Walter 2002)."""

    force: dict[str, float] = field(default_factory=dict)  # guarantor -> credibility in [0, 1]
    monitors: list[str] = field(default_factory=list)  # parties that watch the line


@dataclass
class GuaranteesConf:
    """Guarantees as mechanisms: per level of `stability.guarantees_issue`, its guarantors'
    credibility of intervening and its monitors; a level not listed has neither."""

    cost_per_force: float = 1.0  # aggressor's cost multiplier added per unit of force
    levels: dict[str, GuaranteeLevelConf] = field(default_factory=dict)


@dataclass
class DriftConf:
    """How the balance moves after a deal, per month (docs/model.md, "Durability")."""

    capacity: float = 0.0  # the aggressor's capacity, log growth (rebuilding in a ceasefire)
    supports: dict[str, float | None] = field(default_factory=dict)  # supporter -> change


@dataclass
class WarConf:
    """The war beside the talks (docs/model.md, "War and BATNA"): who fights,
    who backs whom, and how the line moves. Every party is named by the scenario."""

    territory_issue: str = "territory"
    contact_line: float = 50.0  # initial position on the territory scale
    aggressor: str | None = None  # the belligerent whose terms are the top of the scale
    defender: str | None = None  # the other belligerent (the bottom of the scale)
    capacity: dict[str, float] = field(default_factory=dict)  # belligerent -> own strength
    support: dict[str, float | None] = field(default_factory=dict)  # supporter -> level in
    # [0, 1] of its aid; null drops a supporter a base scenario declared
    backing: dict[str, Side] = field(default_factory=dict)  # supporter -> the side it
    # backs; a supporter not listed backs the defender
    aid_effectiveness: float = 0.5  # strength per unit of support x capability
    adjustment_rate: float = 0.1  # share of the gap to the strength-implied line per month
    volatility: float = 0.0  # sd of monthly shocks to the contact line (scale points)
    months_per_round: float = 1.0
    horizon_months: float = 24.0
    stake_years: float | None = None  # the whole stake in years of a party's output: the
    # unit of `parties.<name>.war_burden`
    discount: float = 0.99  # monthly discount factor
    belief_sd: float = 0.05  # bargaining=fighting: prior sd of each party's belief about p
    stakes: WarStakes = WarStakes.territory  # what a war that goes on decides
    lottery: WarLottery = WarLottery.ideals  # stakes=all: ideals (the default) or
    # imposable (the winner's best level no third party that must sign it red-lines)
    drift: DriftConf = field(default_factory=DriftConf)
    guarantees: GuaranteesConf = field(default_factory=GuaranteesConf)


@dataclass
class SpreadConf:
    dist: Distribution = Distribution.fixed
    scale: float = 0.0
    levels: list[float] = field(default_factory=list)  # dist=grid only


@dataclass
class WarUncertaintyConf:
    """Per party, as `{dist, scale, levels}` (`SpreadConf`'s fields; open dicts, so that
    `uncertainty.war.support.<party>.dist=uniform` needs no `+`)."""

    capacity: dict[str, Any] = field(default_factory=dict)  # belligerent -> spread
    support: dict[str, Any] = field(default_factory=dict)  # supporter -> spread


@dataclass
class UncertaintyConf:
    """What varies between replications (EMA Workbench's uncertainties): a distribution
    around the configured value; `fixed` means no draw; `grid` takes each of `levels` in
    turn instead (the job then runs `replications` at every point of the full factorial
    over its grid parameters). Per party: `war.capacity.<belligerent>`,
    `war.support.<supporter>`, `parties.<party>.war_cost` and `.capability`. war_costs
    and salience are multipliers around 1 (all parties' costs; each party's saliences
    independently); salience has no grid. A scenario may add aliases here
    (docs/new-conflict.md, "Aliases")."""

    war: WarUncertaintyConf = field(default_factory=WarUncertaintyConf)
    parties: dict[str, Any] = field(default_factory=dict)  # party -> {war_cost, capability}
    war_costs: SpreadConf = field(default_factory=SpreadConf)
    salience: SpreadConf = field(default_factory=SpreadConf)


@dataclass
class ThresholdsConf:
    """The schema of `stability.thresholds`; the defaults are sim.core.stability.Thresholds'."""

    ir_margin: float = Thresholds.ir_margin
    pareto_gap: float = Thresholds.pareto_gap
    blocking_coalitions: int = Thresholds.blocking_coalitions
    robustness: float = Thresholds.robustness
    durability: float = Thresholds.durability
    commitment_ratio: float = Thresholds.commitment_ratio


@dataclass
class StabilityConf:
    """The schema of `stability`; the defaults are sim.core.settings.StabilitySettings' (the
    durability check's, sim.core.stability.DurabilityParameters')."""

    model: StabilityModel = StabilitySettings.model
    robustness_draws: int = StabilitySettings.robustness_draws
    salience_spread: float = StabilitySettings.salience_spread
    reservation_spread: float = StabilitySettings.reservation_spread
    capability_spread: float = StabilitySettings.capability_spread
    support_spread: float = StabilitySettings.support_spread
    cost_spread: float = StabilitySettings.cost_spread
    belief_spread: float = StabilitySettings.belief_spread
    durability_periods: int = DurabilityParameters.periods  # months after the deal
    durability_paths: int = DurabilityParameters.paths
    support_shock: float = DurabilityParameters.support_shock  # sd of monthly support changes
    capacity_shock: float = DurabilityParameters.capacity_shock  # sd of the aggressor's
    # monthly log capacity change
    guarantee_strength: float = DurabilityParameters.guarantee_strength  # linear: defender
    # strength added by the strongest guarantee
    guarantee_cost: float = DurabilityParameters.guarantee_cost  # linear: aggressor cost
    # multiplier added by the strongest guarantee
    guarantees_issue: str | None = None  # the issue whose levels are guarantee packages
    thresholds: ThresholdsConf = field(default_factory=ThresholdsConf)


@dataclass
class BdmConf:
    """The schema of `bdm`: Bueno de Mesquita's expected-utility model (`./dev forecast`,
    the scorecard's `bdm` forecaster); the defaults are sim.core.bdm.BdmOptions'."""

    q: float = BdmOptions.q  # the chance nothing changes absent a challenge
    t: float = BdmOptions.t  # the chance an unchallenged change helps the actor
    rounds: int = BdmOptions.rounds
    probability: Probability = BdmOptions.probability  # scholz | dyadic
    compromise: Compromise = BdmOptions.compromise  # scholz | nearest
    risk: bool = BdmOptions.risk  # risk exponents from security levels (false: all 1)


@dataclass
class SimConfig:
    """The whole config; the negotiation settings' defaults are
    sim.core.settings.NegotiationSettings'."""

    scenario_name: str = "unnamed"
    aliases: list[str] = field(default_factory=list)  # a scenario's short names for keys
    seed: int = 0
    max_rounds: int = NegotiationSettings.max_rounds
    protocol: Protocol = NegotiationSettings.protocol
    seating: str = str(NegotiationSettings.seating)  # a Seating, or a key of seating_aliases
    seating_aliases: dict[str, Seating] = field(default_factory=dict)  # scenario's names
    mediator: str | None = NegotiationSettings.mediator  # a party; the scenario names it
    phase_one_parties: list[str] = field(default_factory=list)  # who sits first (phased)
    phase_one_rounds: int = NegotiationSettings.phase_one_rounds
    information: Information = NegotiationSettings.information
    batna: BatnaMode = NegotiationSettings.batna
    walkout_patience: int = NegotiationSettings.walkout_patience
    staying: Staying = NegotiationSettings.staying
    text_step: float = NegotiationSettings.text_step
    framework_commitment: float = NegotiationSettings.framework_commitment
    mediator_bias: float = NegotiationSettings.mediator_bias  # conf/config.yaml: 0, neutral
    bargaining: Bargaining = NegotiationSettings.bargaining
    enforcement: Enforcement = NegotiationSettings.enforcement
    foresight_months: int = NegotiationSettings.foresight_months
    max_outcomes: int = 2_000_000
    results_dir: str = "results"
    sweep_name: str = "adhoc"
    sweep_extend: bool = False  # a sweep into a folder of another: add values to swept keys
    replications: Any = 1  # an integer >= 1, or "auto" (ci_width, max_replications,
    # replication_block): replications at each design point until the stable share's 95%
    # interval is at most ci_width wide
    ci_width: float = 0.1
    max_replications: int = 1000
    replication_block: int = 20
    replication: int | None = None  # re-run only this replication of the job (0-based)
    sweep_pack: int | None = (
        None  # set by the packed sweeper (sim.experiment.sweeper): the job's points
    )
    uncertainty: UncertaintyConf = field(default_factory=UncertaintyConf)
    guarantees_offer: str = "all"  # a key of guarantee_packages
    guarantee_packages: dict[str, list[str] | None] = field(default_factory=dict)
    stability: StabilityConf = field(default_factory=StabilityConf)
    bdm: BdmConf = field(default_factory=BdmConf)
    # null drops an entry that a base scenario declared (docs/new-conflict.md)
    issues: dict[str, IssueConf | None] = field(default_factory=dict)
    parties: dict[str, PartyConf | None] = field(default_factory=dict)
    war: WarConf = field(default_factory=WarConf)


# Containers open to new keys when Hydra composes the config: the root and `uncertainty`
# for a scenario's aliases (checked by `sim.experiment.aliases.check_aliases`), and the per-party
# uncertainty dicts, so that a command line can draw any party's value without `+`.
OPEN_NODES = ("", "uncertainty", "uncertainty.war.capacity", "uncertainty.war.support")
OPEN_NODES += ("uncertainty.parties",)


def schema_node() -> DictConfig:
    """The schema as a config with `OPEN_NODES` open to new keys; the typed blocks reject
    unknown keys as ever (a misspelt key in a scenario file is an error)."""
    node = OmegaConf.structured(SimConfig)
    for path in OPEN_NODES:
        OmegaConf.set_struct(OmegaConf.select(node, path) if path else node, False)
    return node


def register_configs() -> None:
    """Register the schema so that `conf/config.yaml` can extend it, and the packed
    sweeper's config (`hydra/sweeper=packed`)."""
    from sim.experiment.sweeper import register

    ConfigStore.instance().store(name="sim_schema", node=schema_node())
    register()


class MissingKeyError(AttributeError):
    """A key the run needs is not in the config (deleted with `~key`, say)."""


class PlainConfig(dict):
    """A resolved config as nested dicts with attribute access, read-only by convention.

    Each OmegaConf node lookup costs tens of microseconds; code that reads the config
    often (scenario building, draws, stability settings) reads this copy instead.
    """

    path = ""  # where this block sits in the config, for errors

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            key = f"{self.path}.{name}" if self.path else name
            raise MissingKeyError(
                f"{key}: got no value (the key is missing); allowed: a value for it"
            ) from None


def plain(cfg: Any) -> PlainConfig:
    """`cfg` (a DictConfig) resolved into a `PlainConfig`, enums as their string values; a
    plain dict (or `PlainConfig`) copied as one."""

    def wrap(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            out = PlainConfig(
                {k: wrap(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
            )
            out.path = path
            return out
        if isinstance(value, list):
            return [wrap(v, path) for v in value]
        return value

    if isinstance(cfg, dict):
        return wrap(cfg, getattr(cfg, "path", ""))
    return wrap(OmegaConf.to_container(cfg, resolve=True, enum_to_str=True), "")
