"""The configuration schema (registered in Hydra's ConfigStore) and its semantic checks.

OmegaConf enforces types and enum values when Hydra composes the config; `validate`
checks what types cannot say (ranges, names that must refer to each other) and raises
`ConfigError`, whose message is one line: the key, the value received, what is allowed.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from sim.outcomes import SCALE_MAX, SCALE_MIN, IssueKind
from sim.settings import BatnaMode, Information, Protocol, Seating, StrategyName
from sim.stability import Thresholds


class ConfigError(ValueError):
    """An invalid configuration value: `key`, the value received, what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}: got {_show(value)}; allowed: {allowed}")


def _show(value: Any) -> str:
    if isinstance(value, DictConfig | dict) or OmegaConf.is_list(value):
        value = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
    return repr(value)


class Distribution(enum.StrEnum):
    fixed = "fixed"
    uniform = "uniform"  # value + U(-scale, scale)
    normal = "normal"  # value + N(0, scale)
    lognormal = "lognormal"  # value * exp(N(0, scale))
    grid = "grid"  # each of `levels` in turn: a full factorial over the grid parameters


# What a replication may draw, and where the drawn value goes.
UNCERTAIN_PARAMETERS = (
    "us_support",
    "europe_support",
    "russia_capacity",
    "ukraine_capacity",
    "war_costs",
    "salience",
)


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


@dataclass
class PartyConf:
    capability: float = 0.5  # leverage at the table and military/economic weight
    strategy: StrategyName = StrategyName.linear
    concession_exponent: float | None = None  # None: the strategy's own default
    deadline: int | None = None  # last round this party negotiates; None: max_rounds
    war_cost: float = 0.0  # utility lost per month of war
    reservation_value: float | None = None  # fixed BATNA in [0, 1]; None: derived
    preferences: dict[str, IssuePreferenceConf] = field(default_factory=dict)


@dataclass
class WarConf:
    territory_issue: str = "territory"
    contact_line: float = 50.0  # initial position on the territory scale
    russia_capacity: float = 1.0
    ukraine_capacity: float = 0.3
    aid_effectiveness: float = 0.5  # strength per unit of support x capability
    adjustment_rate: float = 0.1  # share of the gap to the strength-implied line per month
    volatility: float = 0.0  # sd of monthly shocks to the contact line (scale points)
    months_per_round: float = 1.0
    horizon_months: float = 24.0
    discount: float = 0.99  # monthly discount factor
    aggressor: str = "russia"
    defender: str = "ukraine"
    supporters: dict[str, str] = field(
        default_factory=lambda: {"usa": "us_support", "europe": "europe_support"}
    )


@dataclass
class SpreadConf:
    dist: Distribution = Distribution.fixed
    scale: float = 0.0
    levels: list[float] = field(default_factory=list)  # dist=grid only


@dataclass
class UncertaintyConf:
    """What varies between replications (EMA Workbench's uncertainties): a distribution
    around the configured value; `fixed` means no draw; `grid` takes each of `levels` in
    turn instead (the job then runs `replications` at every point of the full factorial
    over its grid parameters). war_costs and salience are multipliers around 1 (all
    parties' costs; each party's saliences independently); salience has no grid."""

    us_support: SpreadConf = field(default_factory=SpreadConf)
    europe_support: SpreadConf = field(default_factory=SpreadConf)
    russia_capacity: SpreadConf = field(default_factory=SpreadConf)
    ukraine_capacity: SpreadConf = field(default_factory=SpreadConf)
    war_costs: SpreadConf = field(default_factory=SpreadConf)
    salience: SpreadConf = field(default_factory=SpreadConf)


def active_uncertainties(cfg: Any) -> list[str]:
    """Names of the parameters drawn per replication (distribution not `fixed`), sorted."""
    return sorted(n for n in UNCERTAIN_PARAMETERS if cfg.uncertainty[n].dist != "fixed")


def design_points(cfg: Any) -> list[dict[str, float]]:
    """The grid parameters' values for each point of a job's full factorial design, in
    order (the last parameter, by name, varying fastest); [{}] without grid parameters."""
    names = [n for n in active_uncertainties(cfg) if cfg.uncertainty[n].dist == "grid"]
    axes = [[float(v) for v in cfg.uncertainty[n].levels] for n in names]
    return [dict(zip(names, point, strict=True)) for point in itertools.product(*axes)]


def replications_per_job(cfg: Any) -> int:
    """`replications` at every point of the job's design."""
    return len(design_points(cfg)) * int(cfg.replications)


@dataclass
class ThresholdsConf:
    """The schema of `stability.thresholds`; the defaults are sim.stability.Thresholds'."""

    ir_margin: float = Thresholds.ir_margin
    pareto_gap: float = Thresholds.pareto_gap
    blocking_coalitions: int = Thresholds.blocking_coalitions
    robustness: float = Thresholds.robustness
    durability: float = Thresholds.durability


@dataclass
class StabilityConf:
    robustness_draws: int = 64
    salience_spread: float = 0.1  # sd of log-normal factors on saliences
    reservation_spread: float = 0.05  # sd of normal noise on reservation values
    capability_spread: float = 0.1  # sd of log-normal factors on capacities and capabilities
    durability_periods: int = 36  # months after the deal
    durability_paths: int = 32
    support_shock: float = 0.05  # sd of monthly changes in support levels
    capacity_shock: float = 0.03  # sd of monthly log changes in the aggressor's capacity
    guarantee_strength: float = 0.5  # defender strength added by the strongest guarantee
    guarantee_cost: float = 2.0  # aggressor cost multiplier added by the strongest guarantee
    guarantees_issue: str | None = None  # the issue whose level strengthens the defender
    thresholds: ThresholdsConf = field(default_factory=ThresholdsConf)


@dataclass
class SimConfig:
    scenario_name: str = "unnamed"
    seed: int = 0
    max_rounds: int = 100
    protocol: Protocol = Protocol.single_text
    seating: Seating = Seating.inclusive
    mediator: str = "usa"
    phase_one_parties: list[str] = field(default_factory=lambda: ["usa", "russia"])
    phase_one_rounds: int = 10
    information: Information = Information.complete
    batna: BatnaMode = BatnaMode.war
    walkout_patience: int = 3  # rounds a party waits with its BATNA above all it can get
    text_step: float = 0.5  # share of the way the mediator moves the text toward objectors
    framework_commitment: float = 0.5  # share of its framework surplus a phase-one party keeps
    us_support: float = 0.5
    europe_support: float = 0.5
    max_outcomes: int = 2_000_000
    results_dir: str = "results"
    sweep_name: str = "adhoc"
    replications: int = 1
    replication: int | None = None  # re-run only this replication of the job (0-based)
    uncertainty: UncertaintyConf = field(default_factory=UncertaintyConf)
    guarantees_offer: str = "all"  # a key of guarantee_packages
    guarantee_packages: dict[str, list[str]] = field(default_factory=dict)
    stability: StabilityConf = field(default_factory=StabilityConf)
    issues: dict[str, IssueConf] = field(default_factory=dict)
    parties: dict[str, PartyConf] = field(default_factory=dict)
    war: WarConf = field(default_factory=WarConf)


def register_configs() -> None:
    """Register the schema so that `conf/config.yaml` can extend it."""
    ConfigStore.instance().store(name="sim_schema", node=SimConfig)


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def _in_scale(key: str, value: float | None, low: float = SCALE_MIN, high: float = SCALE_MAX):
    if value is not None:
        _check(
            math.isfinite(value) and low <= value <= high,
            key,
            value,
            f"a number in [{low}, {high}]",
        )


def _known(key: str, names: list[str], allowed: list[str], what: str) -> None:
    for name in names:
        _check(name in allowed, key, name, f"a {what} in {allowed}")


def issue_level_names(name: str, issue: Any) -> list[str]:
    """Level names an issue config declares (continuous: formatted grid positions)."""
    from sim.outcomes import Issue

    if issue.kind == IssueKind.continuous:
        return list(Issue.continuous(name, issue.low, issue.high, issue.resolution).levels)
    if issue.kind == IssueKind.ordinal:
        return list(issue.levels)
    return list(issue.categories)


# Where a grid value may lie: support levels are shares, the rest magnitudes or factors.
GRID_RANGES = {
    "us_support": (0.0, 1.0),
    "europe_support": (0.0, 1.0),
    "russia_capacity": (0.0, math.inf),
    "ukraine_capacity": (0.0, math.inf),
    "war_costs": (0.0, math.inf),
}


def _check_grid(name: str, spread: Any) -> None:
    key = f"uncertainty.{name}"
    values = list(spread.levels)
    if spread.dist != Distribution.grid:
        _check(not values, f"{key}.levels", values, "no levels unless dist=grid")
        return
    _check(name in GRID_RANGES, f"{key}.dist", "grid", "fixed, uniform, normal or lognormal")
    low, high = GRID_RANGES[name]
    ok = bool(values) and all(math.isfinite(v) and low <= v <= high for v in values)
    ok = ok and len(set(values)) == len(values)
    within = f"in [{low}, {high}]" if math.isfinite(high) else f">= {low}"
    _check(ok, f"{key}.levels", values, f"a non-empty list of distinct numbers {within}")


def validate(cfg: Any) -> None:
    """Semantic checks of a composed config; raises ConfigError on the first problem."""
    known_keys = {f.name for f in dataclasses.fields(SimConfig)}
    for key in cfg:
        _check(key in known_keys, str(key), cfg[key], f"a key of the config: {sorted(known_keys)}")
    parties = list(cfg.parties)
    issues = list(cfg.issues)
    _check(cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    for key in ("results_dir", "sweep_name"):
        _check(bool(str(cfg[key]).strip()), key, cfg[key], "a non-empty folder name")
    unique = len(set(cfg.phase_one_parties)) == len(cfg.phase_one_parties)
    _check(unique, "phase_one_parties", list(cfg.phase_one_parties), "each party once")
    _check(len(parties) >= 2, "parties", parties, "at least two parties")
    _check(len(issues) >= 1, "issues", issues, "at least one issue")
    _check(cfg.max_rounds >= 1, "max_rounds", cfg.max_rounds, "an integer >= 1")
    _check(cfg.walkout_patience >= 1, "walkout_patience", cfg.walkout_patience, "an integer >= 1")
    ok = 0 < cfg.text_step <= 1
    _check(ok, "text_step", cfg.text_step, "a number in (0, 1]")
    _in_scale("framework_commitment", cfg.framework_commitment, 0.0, 1.0)
    _check(cfg.max_outcomes >= 1, "max_outcomes", cfg.max_outcomes, "an integer >= 1")
    for key in ("us_support", "europe_support"):
        _in_scale(key, cfg[key], 0.0, 1.0)
    _known("mediator", [cfg.mediator], parties, "party")
    _known("phase_one_parties", list(cfg.phase_one_parties), parties, "party")
    _check(
        len(cfg.phase_one_parties) >= 1, "phase_one_parties", cfg.phase_one_parties, "1+ parties"
    )
    _check(cfg.phase_one_rounds >= 0, "phase_one_rounds", cfg.phase_one_rounds, "an integer >= 0")

    size = 1
    levels_by_issue: dict[str, list[str]] = {}
    for name, issue in cfg.issues.items():
        key = f"issues.{name}"
        if issue.kind == IssueKind.continuous:
            _in_scale(f"{key}.low", issue.low)
            _in_scale(f"{key}.high", issue.high)
            _check(issue.high > issue.low, f"{key}.high", issue.high, f"a number > low={issue.low}")
            _check(
                math.isfinite(issue.resolution) and issue.resolution > 0,
                f"{key}.resolution",
                issue.resolution,
                "a number > 0",
            )
            steps = (issue.high - issue.low) / issue.resolution
            _check(
                steps >= 1 - 1e-9 and abs(steps - round(steps)) <= 1e-6 * max(1.0, steps),
                f"{key}.resolution",
                issue.resolution,
                f"a step that divides [{issue.low}, {issue.high}] into whole steps",
            )
            _check(
                steps + 1 <= cfg.max_outcomes,
                f"{key}.resolution",
                issue.resolution,
                f"at most max_outcomes={cfg.max_outcomes} grid points",
            )
            for anchor, pos in issue.anchors.items():
                _in_scale(f"{key}.anchors.{anchor}", pos, issue.low, issue.high)
        elif issue.kind == IssueKind.ordinal:
            _check(len(issue.levels) >= 1, f"{key}.levels", issue.levels, "1+ named levels")
            positions = list(issue.levels.values())
            for level, pos in issue.levels.items():
                _in_scale(f"{key}.levels.{level}", pos)
            _check(
                all(a < b for a, b in itertools.pairwise(positions)),
                f"{key}.levels",
                issue.levels,
                "positions strictly increasing in the order the levels are listed",
            )
        else:
            cats = list(issue.categories)
            _check(len(cats) >= 1, f"{key}.categories", cats, "1+ level names")
            _check(len(set(cats)) == len(cats), f"{key}.categories", cats, "unique names")
        levels = issue_level_names(name, issue)
        levels_by_issue[name] = levels
        size *= len(levels)
        if issue.default is not None:
            _known(f"{key}.default", [issue.default], levels, "level")
        _known(f"{key}.control", list(issue.control), parties, "party")
        for level, controllers in issue.level_control.items():
            _known(f"{key}.level_control", [level], levels, "level")
            _known(f"{key}.level_control.{level}", list(controllers), parties, "party")
    _check(
        size <= cfg.max_outcomes,
        "issues",
        f"{size} outcomes",
        f"at most max_outcomes={cfg.max_outcomes} (coarser resolution or fewer levels)",
    )

    for pname, party in cfg.parties.items():
        key = f"parties.{pname}"
        _check(
            math.isfinite(party.capability) and party.capability >= 0,
            f"{key}.capability",
            party.capability,
            "a number >= 0",
        )
        _check(party.war_cost >= 0, f"{key}.war_cost", party.war_cost, "a number >= 0")
        if party.concession_exponent is not None:
            _check(
                party.concession_exponent > 0,
                f"{key}.concession_exponent",
                party.concession_exponent,
                "a number > 0 (< 1 Boulware, 1 linear, > 1 conceder)",
            )
        if party.deadline is not None:
            _check(party.deadline >= 1, f"{key}.deadline", party.deadline, "an integer >= 1")
        _in_scale(f"{key}.reservation_value", party.reservation_value, 0.0, 1.0)
        _known(f"{key}.preferences", list(party.preferences), issues, "issue")
        saliences = [p.salience for p in party.preferences.values()]
        for iname, pref in party.preferences.items():
            pkey = f"{key}.preferences.{iname}"
            issue = cfg.issues[iname]
            levels = levels_by_issue[iname]
            _check(
                math.isfinite(pref.salience) and pref.salience >= 0,
                f"{pkey}.salience",
                pref.salience,
                "a number >= 0",
            )
            positioned = issue.kind != IssueKind.categorical
            if pref.table is not None:
                _known(f"{pkey}.table", list(pref.table), levels, "level")
                for level, value in pref.table.items():
                    _in_scale(f"{pkey}.table.{level}", value, 0.0, 1.0)
            elif positioned:
                _check(
                    pref.ideal is not None,
                    f"{pkey}.ideal",
                    pref.ideal,
                    "a position in [0, 100] (or a `table` of level values)",
                )
            else:
                _check(False, f"{pkey}.table", None, "a table level -> value in [0, 1]")
            _in_scale(f"{pkey}.ideal", pref.ideal)
            _check(pref.decay > 0, f"{pkey}.decay", pref.decay, "a number > 0")
            _check(pref.curvature > 0, f"{pkey}.curvature", pref.curvature, "a number > 0")
            _in_scale(f"{pkey}.reservation", pref.reservation)
            _in_scale(f"{pkey}.red_line_above", pref.red_line_above)
            _in_scale(f"{pkey}.red_line_below", pref.red_line_below)
            _known(f"{pkey}.red_line", list(pref.red_line), levels, "level")
            if not positioned:
                for bound in ("red_line_above", "red_line_below", "ideal", "reservation"):
                    _check(
                        pref[bound] is None,
                        f"{pkey}.{bound}",
                        pref[bound],
                        "null: the issue is categorical (use table / red_line)",
                    )
        _check(
            sum(saliences) > 0,
            f"{key}.preferences",
            {k: p.salience for k, p in party.preferences.items()},
            "non-negative saliences, not all zero",
        )

    _check(cfg.replications >= 1, "replications", cfg.replications, "an integer >= 1")
    for name in UNCERTAIN_PARAMETERS:
        spread = cfg.uncertainty[name]
        ok = math.isfinite(spread.scale) and spread.scale >= 0
        _check(ok, f"uncertainty.{name}.scale", spread.scale, "a number >= 0")
        _check_grid(name, spread)
    if cfg.replication is not None:
        total = replications_per_job(cfg)
        ok = 0 <= cfg.replication < total
        _check(ok, "replication", cfg.replication, f"null or 0..{total - 1}")
    packages = ["all", *cfg.guarantee_packages]
    _known("guarantees_offer", [cfg.guarantees_offer], packages, "package")

    st = cfg.stability
    for key in ("robustness_draws", "durability_periods", "durability_paths"):
        _check(st[key] >= 1, f"stability.{key}", st[key], "an integer >= 1")
    for key in (
        "salience_spread",
        "reservation_spread",
        "capability_spread",
        "support_shock",
        "capacity_shock",
        "guarantee_strength",
        "guarantee_cost",
    ):
        ok = math.isfinite(st[key]) and st[key] >= 0
        _check(ok, f"stability.{key}", st[key], "a number >= 0")
    if st.guarantees_issue is not None:
        _known("stability.guarantees_issue", [st.guarantees_issue], issues, "issue (or null)")
    _in_scale("stability.thresholds.robustness", st.thresholds.robustness, 0.0, 1.0)
    _in_scale("stability.thresholds.durability", st.thresholds.durability, 0.0, 1.0)

    war = cfg.war
    _known("war.territory_issue", [war.territory_issue], issues, "issue")
    _check(
        cfg.issues[war.territory_issue].kind != IssueKind.categorical,
        "war.territory_issue",
        war.territory_issue,
        "a continuous or ordinal issue",
    )
    _in_scale("war.contact_line", war.contact_line)
    _known("war.aggressor", [war.aggressor], parties, "party")
    _known("war.defender", [war.defender], parties, "party")
    _known("war.supporters", list(war.supporters), parties, "party")
    _known("war.supporters", list(war.supporters.values()), ["us_support", "europe_support"], "key")
    for key in ("russia_capacity", "ukraine_capacity", "aid_effectiveness", "volatility"):
        value = war[key]
        _check(math.isfinite(value) and value >= 0, f"war.{key}", value, "a number >= 0")
    _check(
        war.russia_capacity + war.ukraine_capacity > 0,
        "war.russia_capacity",
        war.russia_capacity,
        "capacities not both zero",
    )
    _in_scale("war.adjustment_rate", war.adjustment_rate, 0.0, 1.0)
    _in_scale("war.discount", war.discount, 0.0, 1.0)
    _check(war.months_per_round > 0, "war.months_per_round", war.months_per_round, "> 0")
    _check(war.horizon_months >= 0, "war.horizon_months", war.horizon_months, "a number >= 0")


class PlainConfig(dict):
    """A resolved config as nested dicts with attribute access, read-only by convention.

    Each OmegaConf node lookup costs tens of microseconds; code that reads the config
    once per replication (draws, stability settings) reads this copy instead.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def plain(cfg: Any) -> PlainConfig:
    """`cfg` (a DictConfig) resolved into a `PlainConfig`, enums as their string values."""

    def wrap(value: Any) -> Any:
        if isinstance(value, dict):
            return PlainConfig({k: wrap(v) for k, v in value.items()})
        if isinstance(value, list):
            return [wrap(v) for v in value]
        return value

    return wrap(OmegaConf.to_container(cfg, resolve=True, enum_to_str=True))
