"""A validated scenario: outcome space, preferences, control and capabilities as arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from sim import war
from sim.config import ConfigError, validate
from sim.outcomes import Issue, IssueKind, OutcomeSpace
from sim.preferences import (
    Preferences,
    any_level_mask,
    normalise_weights,
    positional_values,
    red_line_mask,
    table_values,
)


def build_issue(name: str, conf: Any) -> Issue:
    kind = IssueKind(conf.kind)
    if kind is IssueKind.continuous:
        issue = Issue.continuous(name, conf.low, conf.high, conf.resolution)
        if conf.default is not None:
            return Issue(name, kind, issue.levels, issue.positions, issue.level_index(conf.default))
        return issue
    if kind is IssueKind.ordinal:
        return Issue.ordinal(name, dict(conf.levels), conf.default)
    return Issue.categorical(name, list(conf.categories), conf.default)


def _level_values(issue: Issue, pref: Any | None) -> np.ndarray:
    if pref is None:
        return np.zeros(issue.size)
    if pref.table is not None:
        return table_values(issue, dict(pref.table))
    return positional_values(issue.positions, pref.ideal, pref.decay, pref.curvature)


def _reservation_level_value(issue: Issue, pref: Any | None, values: np.ndarray) -> float:
    """Value of a party's reservation point on one issue; no point: its worst level."""
    if pref is None or pref.reservation is None:
        return float(values.min())
    if pref.table is None:
        return float(
            positional_values(np.array([pref.reservation]), pref.ideal, pref.decay, pref.curvature)[
                0
            ]
        )
    return float(values[issue.level_index(float(pref.reservation))])


@dataclass(frozen=True, eq=False)
class Scenario:
    """Everything the negotiation needs from a config, validated, as numpy arrays."""

    name: str
    preferences: Preferences
    capabilities: np.ndarray  # (parties,)
    war_costs: np.ndarray  # (parties,) utility per month of war
    static_reservation: np.ndarray  # (parties,) from reservation points or fixed values
    issue_control: tuple[np.ndarray, ...]  # per issue (parties,): must consent to any change
    level_control: tuple[np.ndarray, ...]  # per issue (parties, levels): must consent to that level
    config: Any

    @cached_property
    def control(self) -> tuple[np.ndarray, ...]:
        """Per issue (parties, levels): must sign an agreement that sets that level.

        The issue's controllers sign every level but the status quo; a level's own
        controllers (e.g. the providers of a guarantee) sign that level.
        """
        out = []
        for issue, base, levels in zip(
            self.space.issues, self.issue_control, self.level_control, strict=True
        ):
            changed = np.ones(issue.size, dtype=bool)
            if issue.default is not None:
                changed[issue.default] = False
            out.append((base[:, None] & changed[None, :]) | levels)
        return tuple(out)

    @property
    def parties(self) -> tuple[str, ...]:
        return self.preferences.parties

    @property
    def space(self) -> OutcomeSpace:
        return self.preferences.space

    @cached_property
    def utilities(self) -> np.ndarray:
        U = self.preferences.utilities()
        U.setflags(write=False)
        return U

    @cached_property
    def red_line_crossed(self) -> np.ndarray:
        return self.preferences.red_line_crossed()

    @cached_property
    def acceptable(self) -> np.ndarray:
        """(outcomes,) crosses no party's red line."""
        return ~self.red_line_crossed.any(axis=0)

    @cached_property
    def required_signatories(self) -> np.ndarray:
        """(parties, outcomes): parties that control some level the outcome sets."""
        return any_level_mask(self.control, self.space.shape)

    @cached_property
    def party_settings(self) -> tuple[tuple[str, float | None, int | None], ...]:
        """Per party (strategy name, concession exponent, deadline) as plain values, so that
        building a model does not read the config again."""
        out = []
        for name in self.parties:
            pc = self.config.parties[name]
            exponent = None if pc.concession_exponent is None else float(pc.concession_exponent)
            deadline = None if pc.deadline is None else int(pc.deadline)
            out.append((str(pc.strategy), exponent, deadline))
        return tuple(out)

    @cached_property
    def war_params(self) -> war.WarParameters:
        """The war parameters of the config (support levels as configured, no draws)."""
        return war_parameters(self.config, self)

    @cached_property
    def war_settings(self) -> tuple[float, str]:
        """(initial contact line, territory issue) from the config's war block."""
        return float(self.config.war.contact_line), str(self.config.war.territory_issue)

    @cached_property
    def preference_order(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """Per party: the outcomes crossing none of its red lines, best first (ties by
        index), and their utilities. The outcomes at or above an aspiration are a prefix."""
        out = []
        for i in range(len(self.parties)):
            allowed = np.flatnonzero(~self.red_line_crossed[i])
            order = allowed[np.argsort(-self.utilities[i, allowed], kind="stable")]
            order.setflags(write=False)
            out.append((order, self.utilities[i, order]))
        return tuple(out)

    @cached_property
    def offer_tables(self) -> tuple[np.ndarray, ...]:
        """Per proposer: (parties, outcomes in its `preference_order`) every party's
        utility, -inf across that party's red line: what a proposer weighs, in the order
        it searches, so that a round reads a prefix instead of gathering columns."""
        known = np.where(self.red_line_crossed, -np.inf, self.utilities)
        out = []
        for order, _ in self.preference_order:
            table = np.ascontiguousarray(known[:, order])
            table.setflags(write=False)
            out.append(table)
        return tuple(out)

    def war_batna(self, params: war.WarParameters, territory_k: int) -> war.WarBatna:
        """The parties' war BATNA under `params`, territory being issue `territory_k`."""
        prefs = self.preferences
        return war.war_batna(
            params,
            self.space.issues[territory_k].positions,
            prefs.level_values[territory_k],
            prefs.weights,
            prefs.level_values,
            [issue.default for issue in self.space.issues],
            territory_k,
            self.war_costs,
        )

    def party_index(self, name: str) -> int:
        return self.preferences.party_index(name)


def offer_levels(cfg: Any) -> Any:
    """The config with the guarantees issue cut to the levels of `guarantees_offer`.

    The status-quo level always stays (no agreement on guarantees leaves it in place);
    red lines, value tables and level control on removed levels are dropped with them.
    """
    issue_name = cfg.stability.guarantees_issue
    issue = cfg.issues.get(issue_name) if issue_name is not None else None
    if issue is not None and issue.kind == IssueKind.ordinal:
        for name, package in cfg.guarantee_packages.items():
            for level in package:
                if level not in issue.levels:
                    allowed = f"levels of {issue_name}: {list(issue.levels)}"
                    raise ConfigError(f"guarantee_packages.{name}", level, allowed)
    if cfg.guarantees_offer == "all":
        return cfg
    package_key = f"guarantee_packages.{cfg.guarantees_offer}"
    if cfg.guarantees_offer not in cfg.guarantee_packages:
        allowed = ["all", *cfg.guarantee_packages]
        raise ConfigError("guarantees_offer", cfg.guarantees_offer, f"one of {allowed}")
    if issue_name is None or issue_name not in cfg.issues:
        raise ConfigError("stability.guarantees_issue", issue_name, f"one of {list(cfg.issues)}")
    issue = cfg.issues[issue_name]
    if issue.kind != IssueKind.ordinal:
        raise ConfigError(
            f"issues.{issue_name}.kind", str(issue.kind), "ordinal, to offer packages"
        )
    keep = list(cfg.guarantee_packages[cfg.guarantees_offer])
    for level in keep:
        if level not in issue.levels:
            raise ConfigError(package_key, level, f"levels of {issue_name}: {list(issue.levels)}")
    if issue.default is not None and issue.default not in keep:
        keep.append(issue.default)
    if not keep:
        raise ConfigError(package_key, [], "at least one level (the issue has no status quo)")
    out = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    iss = out["issues"][issue_name]
    iss["levels"] = {k: v for k, v in iss["levels"].items() if k in keep}
    iss["level_control"] = {k: v for k, v in iss["level_control"].items() if k in keep}
    for party in out["parties"].values():
        pref = party["preferences"].get(issue_name)
        if pref is None:
            continue
        pref["red_line"] = [lv for lv in pref["red_line"] if lv in keep]
        if pref["table"] is not None:
            pref["table"] = {k: v for k, v in pref["table"].items() if k in keep}
    return OmegaConf.create(out)


def war_parameters(cfg: Any, scenario: Scenario) -> war.WarParameters:
    """War parameters from the config's `war` block and the support levels."""
    wc = cfg.war
    supporters = list(wc.supporters)
    supports = np.array([float(cfg[wc.supporters[s]]) for s in supporters])
    caps = np.array([scenario.capabilities[scenario.party_index(s)] for s in supporters])
    territory = scenario.space.issue(wc.territory_issue)
    return war.WarParameters(
        aggressor_capacity=float(wc.russia_capacity),
        defender_capacity=float(wc.ukraine_capacity),
        supports=supports,
        supporter_capabilities=caps,
        aid_effectiveness=float(wc.aid_effectiveness),
        adjustment_rate=float(wc.adjustment_rate),
        volatility=float(wc.volatility),
        months_per_round=float(wc.months_per_round),
        horizon_months=float(wc.horizon_months),
        discount=float(wc.discount),
        low=float(territory.positions.min()),
        high=float(territory.positions.max()),
    )


def build_scenario(cfg: Any) -> Scenario:
    """Validate a composed config and turn it into arrays. Raises ConfigError."""
    cfg = offer_levels(cfg)
    validate(cfg)
    parties = tuple(cfg.parties)
    issues = tuple(build_issue(name, conf) for name, conf in cfg.issues.items())
    space = OutcomeSpace(issues)

    salience = np.zeros((len(parties), len(issues)))
    level_values, red_lines, issue_control, level_control = [], [], [], []
    static = np.zeros(len(parties))
    for k, issue in enumerate(issues):
        values = np.zeros((len(parties), issue.size))
        lines = np.zeros((len(parties), issue.size), dtype=bool)
        for i, pname in enumerate(parties):
            pref = cfg.parties[pname].preferences.get(issue.name)
            values[i] = _level_values(issue, pref)
            if pref is not None:
                salience[i, k] = pref.salience
                lines[i] = red_line_mask(
                    issue, list(pref.red_line), pref.red_line_above, pref.red_line_below
                )
        level_values.append(values)
        red_lines.append(lines)

        issue_conf = cfg.issues[issue.name]
        base = np.array([p in issue_conf.control for p in parties])
        levels = np.zeros((len(parties), issue.size), dtype=bool)
        for level, controllers in issue_conf.level_control.items():
            for pname in controllers:
                levels[parties.index(pname), issue.level_index(level)] = True
        issue_control.append(base)
        level_control.append(levels)

    weights = normalise_weights(salience)
    for i, pname in enumerate(parties):
        fixed = cfg.parties[pname].reservation_value
        if fixed is not None:
            static[i] = fixed
            continue
        static[i] = sum(
            weights[i, k]
            * _reservation_level_value(
                issue, cfg.parties[pname].preferences.get(issue.name), level_values[k][i]
            )
            for k, issue in enumerate(issues)
        )

    preferences = Preferences(parties, space, weights, tuple(level_values), tuple(red_lines))
    return Scenario(
        name=str(cfg.scenario_name),
        preferences=preferences,
        capabilities=np.array([float(cfg.parties[p].capability) for p in parties]),
        war_costs=np.array([float(cfg.parties[p].war_cost) for p in parties]),
        static_reservation=static,
        issue_control=tuple(issue_control),
        level_control=tuple(level_control),
        config=cfg,
    )
