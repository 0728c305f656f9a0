"""Building a scenario from a config: validate it, then turn it into arrays
(`sim.core.scenario.Scenario`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.core import war
from sim.core.outcomes import Issue, IssueKind, OutcomeSpace
from sim.core.preferences import (
    Link,
    Preferences,
    any_level_mask,
    mediator_stakes,
    normalise_weights,
    positional_values,
    red_line_mask,
    table_values,
)
from sim.core.scenario import PartyStrategy, Scenario
from sim.core.settings import Side, StrategyName, WarLottery, WarStakes
from sim.experiment.aliases import as_given, prepare
from sim.experiment.checks import validate
from sim.experiment.schema import PlainConfig, plain
from sim.experiment.validation import ConfigError, has_war, war_cost_of


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


def issue_level_values(issue: Issue, pref: Any | None) -> np.ndarray:
    """A party's value of each level of `issue` from its preference (0 without one)."""
    if pref is None:
        return np.zeros(issue.size)
    if pref.table is not None:
        return table_values(issue, dict(pref.table))
    return positional_values(issue.positions, pref.ideal, pref.decay, pref.curvature)


def _link_values(space: OutcomeSpace, link: Any) -> np.ndarray:
    """A `Link`'s table as (levels, levels), NaN for the pairs not listed."""
    first, second = (space.issue(name) for name in link.issues)
    values = np.full((first.size, second.size), np.nan)
    for a, row in link.table.items():
        for b, value in row.items():
            values[first.levels.index(a), second.levels.index(b)] = float(value)
    return values


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
    keep = list(cfg.guarantee_packages[cfg.guarantees_offer])  # its levels checked above
    if issue.default is not None and issue.default not in keep:
        keep.append(issue.default)
    if not keep:
        raise ConfigError(package_key, [], "at least one level (the issue has no status quo)")
    out = plain(cfg)  # a copy
    iss = out["issues"][issue_name]
    iss["levels"] = {k: v for k, v in iss["levels"].items() if k in keep}
    iss["level_control"] = {k: v for k, v in iss["level_control"].items() if k in keep}
    iss["shifts"] = {k: v for k, v in iss["shifts"].items() if k in keep}
    backing = out["war"]["guarantees"]["levels"]
    out["war"]["guarantees"]["levels"] = {k: v for k, v in backing.items() if k in keep}
    for party in out["parties"].values():
        pref = party["preferences"].get(issue_name)
        if pref is None:
            continue
        pref["red_line"] = [lv for lv in pref["red_line"] if lv in keep]
        rejects = party["ratification"]["rejects"].get(issue_name)
        if rejects is not None:
            rejects["red_line"] = [lv for lv in rejects["red_line"] if lv in keep]
        if pref["table"] is not None:
            pref["table"] = {k: v for k, v in pref["table"].items() if k in keep}
    for party in out["parties"].values():  # linked tables lose the levels not on offer
        for link in party["links"]:
            if issue_name not in link["issues"]:
                continue
            if link["issues"][0] == issue_name:
                link["table"] = {k: v for k, v in link["table"].items() if k in keep}
            else:
                link["table"] = {
                    k: {b: v for b, v in row.items() if b in keep}
                    for k, row in link["table"].items()
                }
    return plain(out)


def war_parameters(cfg: Any, space: OutcomeSpace, capabilities: np.ndarray) -> war.WarParameters:
    """War parameters from the config's `war` block: the belligerents' capacities, the
    supporters' levels and capabilities. Without a war (`has_war`), a war that never moves:
    no strength on either side (p = 1/2), no adjustment, no shocks."""
    war_conf = cfg.war
    if not has_war(cfg):
        territory = space.issue(nominal_line_issue(cfg))
        return war.WarParameters(
            aggressor_capacity=0.0,
            defender_capacity=0.0,
            supports=np.zeros(0),
            supporter_capabilities=np.zeros(0),
            aid_effectiveness=float(war_conf.aid_effectiveness),
            adjustment_rate=0.0,
            volatility=0.0,
            months_per_round=float(war_conf.months_per_round),
            horizon_months=float(war_conf.horizon_months),
            discount=float(war_conf.discount),
            low=float(territory.positions.min()),
            high=float(territory.positions.max()),
        )
    parties = list(cfg.parties)
    supporters = list(war_conf.support)
    supports = np.array([float(war_conf.support[s]) for s in supporters])
    caps = np.array([capabilities[parties.index(s)] for s in supporters])
    support_drift = np.array([float(war_conf.drift.supports.get(s, 0.0)) for s in supporters])
    backs = np.array(
        [str(war_conf.backing.get(s, Side.defender)) == Side.aggressor for s in supporters]
    )
    territory = space.issue(war_conf.territory_issue)
    return war.WarParameters(
        aggressor_capacity=float(war_conf.capacity[war_conf.aggressor]),
        defender_capacity=float(war_conf.capacity[war_conf.defender]),
        supports=supports,
        supporter_capabilities=caps,
        aid_effectiveness=float(war_conf.aid_effectiveness),
        adjustment_rate=float(war_conf.adjustment_rate),
        volatility=float(war_conf.volatility),
        months_per_round=float(war_conf.months_per_round),
        horizon_months=float(war_conf.horizon_months),
        discount=float(war_conf.discount),
        low=float(territory.positions.min()),
        high=float(territory.positions.max()),
        capacity_drift=float(war_conf.drift.capacity),
        support_drift=support_drift,
        backs_aggressor=backs if backs.any() else None,
    )


def nominal_line_issue(cfg: Any) -> str:
    """The issue the engine's war line sits on: `war.territory_issue`, or without a war
    (`has_war`), where that names no issue, the first issue with positions (the line stays
    at its middle: nothing moves it). The config is checked first (`validate`)."""
    name = str(cfg.war.territory_issue)
    if has_war(cfg) or name in cfg.issues:
        return name
    return next(n for n, conf in cfg.issues.items() if conf.kind != IssueKind.categorical)


def no_war_line(params: war.WarParameters) -> float:
    """Without a war, the line where the war's balance would put it (the middle of its
    issue), so that it never moves."""
    return float(war.target_line(war.aggressor_share(params), params.low, params.high))


def guarantee_mechanisms(cfg: Any, space: OutcomeSpace) -> dict[str, Any]:
    """The Scenario fields of guarantees as mechanisms: per level of the guarantees issue,
    each guarantor's credibility (the force behind it is `Scenario.guarantee_force`) and
    whether it puts monitors on the line
    (a monitor or a force guarantor other than the aggressor). Empty without the issue or
    without `war.guarantees.levels`."""
    name = cfg.stability.guarantees_issue
    backing = cfg.war.guarantees.levels
    if name is None or name not in space.names or not backing:
        return {}
    parties = list(cfg.parties)
    aggressor = parties.index(str(cfg.war.aggressor))
    k = space.names.index(name)
    issue = space.issues[k]
    credibility = np.zeros((issue.size, len(parties)))
    watched = np.zeros((issue.size, len(parties)), dtype=bool)
    for level, conf in backing.items():
        j = issue.level_index(level)
        for guarantor, chance in conf.force.items():
            credibility[j, parties.index(guarantor)] = float(chance)
        for monitor in conf.monitors:
            watched[j, parties.index(monitor)] = True
    watched |= credibility > 0
    watched[:, aggressor] = False
    return {
        "guarantee_issue": k,
        "guarantee_credibility": credibility,
        "guarantee_monitored": watched.any(axis=1),
        "guarantee_cost": float(cfg.war.guarantees.cost_per_force),
    }


def build_scenario(cfg: Any, targets: dict[str, str] | None = None) -> Scenario:
    """Validate a composed config and turn it into arrays. Raises ConfigError.

    `cfg` is pruned in place first (`sim.experiment.aliases.prepare`: its aliases checked, the
    entries set to null dropped), so that whatever reads it next sees the same config;
    then validated and read as a `PlainConfig` (dict lookups, not OmegaConf nodes). A
    `PlainConfig` is taken as prepared already, `targets` its aliases'
    (`sim.experiment.aliases.prepare`), to name errors by them."""
    if not isinstance(cfg, PlainConfig):
        targets = prepare(cfg)
        cfg = plain(cfg)
    targets = targets or {}
    cfg = offer_levels(cfg)
    try:
        validate(cfg)
    except ConfigError as exc:  # named as the user may have given it: by its alias
        raise ConfigError(as_given(exc.key, targets), exc.value, exc.allowed) from None
    parties = tuple(cfg.parties)
    issues = tuple(build_issue(name, conf) for name, conf in cfg.issues.items())
    space = OutcomeSpace(issues)

    salience = np.zeros((len(parties), len(issues)))
    level_values, red_lines, issue_control, level_control = [], [], [], []
    ratifier_lines: list[np.ndarray] = []
    audience_costs: list[np.ndarray] = []
    anticipated = np.array([bool(cfg.parties[p].ratification.anticipated) for p in parties])
    static = np.zeros(len(parties))
    for k, issue in enumerate(issues):
        values = np.zeros((len(parties), issue.size))
        lines = np.zeros((len(parties), issue.size), dtype=bool)
        costs = np.zeros((len(parties), issue.size))
        for i, pname in enumerate(parties):
            pref = cfg.parties[pname].preferences.get(issue.name)
            values[i] = issue_level_values(issue, pref)
            if pref is not None:
                salience[i, k] = pref.salience
                crossed = red_line_mask(
                    issue, list(pref.red_line), pref.red_line_above, pref.red_line_below
                )
                if pref.audience_cost is None:
                    lines[i] = crossed
                else:  # a public commitment, not a veto (Fearon 1994)
                    costs[i] = crossed * float(pref.audience_cost)
        level_values.append(values)
        red_lines.append(lines)
        audience_costs.append(costs)
        ratifier_lines.append(ratification_lines(cfg, parties, issue))
        if anticipated.any():  # a tied hand: the negotiator's own red line at the table
            lines |= ratifier_lines[-1] & anticipated[:, None]

        issue_conf = cfg.issues[issue.name]
        base = np.array([p in issue_conf.control for p in parties])
        levels = np.zeros((len(parties), issue.size), dtype=bool)
        for level, controllers in issue_conf.level_control.items():
            for pname in controllers:
                levels[parties.index(pname), issue.level_index(level)] = True
        issue_control.append(base)
        level_control.append(levels)

    weights = normalise_weights(salience)
    mediator = parties.index(str(cfg.mediator))
    weights = mediator_stakes(
        weights, issue_control, level_control, mediator, float(cfg.mediator_bias)
    )
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

    links = tuple(
        Link(
            party=i,
            issues=(space.names.index(link.issues[0]), space.names.index(link.issues[1])),
            values=_link_values(space, link),
        )
        for i, pname in enumerate(parties)
        for link in cfg.parties[pname].links
    )
    preferences = Preferences(
        parties,
        space,
        weights,
        tuple(level_values),
        tuple(red_lines),
        links,
        tuple(audience_costs) if any(c.any() for c in audience_costs) else (),
    )
    capabilities = np.array([float(cfg.parties[p].capability) for p in parties])
    sides = None  # a decision without a war: no belligerents
    if has_war(cfg):
        sides = (parties.index(str(cfg.war.aggressor)), parties.index(str(cfg.war.defender)))
    war_params = war_parameters(cfg, space, capabilities)
    line_issue = nominal_line_issue(cfg)
    strategies = tuple(
        PartyStrategy(
            StrategyName(str(pc.strategy)),
            None if pc.concession_exponent is None else float(pc.concession_exponent),
            None if pc.deadline is None else int(pc.deadline),
        )
        for pc in (cfg.parties[p] for p in parties)
    )
    supporters = tuple(parties.index(str(s)) for s in cfg.war.support)
    return Scenario(
        name=str(cfg.scenario_name),
        preferences=preferences,
        capabilities=capabilities,
        war_costs=np.array([war_cost_of(cfg.parties[p], cfg.war) for p in parties]),
        static_reservation=static,
        delay_costs=np.array([float(cfg.parties[p].delay_cost) for p in parties]),
        issue_control=tuple(issue_control),
        level_control=tuple(level_control),
        strategies=strategies,
        war_params=war_params,
        contact_line=float(cfg.war.contact_line) if sides else no_war_line(war_params),
        territory_issue=line_issue,
        optimism=np.array([float(cfg.parties[p].optimism) for p in parties]),
        belief_sd=float(cfg.war.belief_sd),
        cost_beliefs=np.array([float(cfg.parties[p].cost_belief) for p in parties]),
        belligerents=sides if WarStakes(str(cfg.war.stakes)) is WarStakes.all else None,
        imposable_lottery=WarLottery(str(cfg.war.lottery)) is WarLottery.imposable,
        war_sides=sides,
        level_shifts=level_shifts(cfg, space, parties),
        ratifiers=tuple(cfg.parties[p].ratification.by for p in parties),
        ratification_rejects=(
            any_level_mask(ratifier_lines, space.shape)
            if any(lines.any() for lines in ratifier_lines)
            else None
        ),
        supporters=supporters,
        **guarantee_mechanisms(cfg, space),
    )


def ratification_lines(cfg: Any, parties: tuple[str, ...], issue: Issue) -> np.ndarray:
    """(parties, levels): the levels of `issue` each party's ratifier rejects."""
    out = np.zeros((len(parties), issue.size), dtype=bool)
    for i, pname in enumerate(parties):
        rejects = cfg.parties[pname].ratification.rejects.get(issue.name)
        if rejects is not None:
            out[i] = red_line_mask(
                issue, list(rejects.red_line), rejects.red_line_above, rejects.red_line_below
            )
    return out


def level_shifts(
    cfg: Any, space: OutcomeSpace, parties: tuple[str, ...]
) -> tuple[np.ndarray, ...] | None:
    """Per issue (levels, parties): `issues.<name>.shifts`, each party's change in its part
    of the balance once the level is in force; None when no issue has any."""
    out = []
    for issue in space.issues:
        table = np.zeros((issue.size, len(parties)))
        for level, changes in cfg.issues[issue.name].shifts.items():
            for pname, change in changes.items():
                table[issue.level_index(level), parties.index(pname)] = float(change)
        out.append(table)
    return tuple(out) if any(t.any() for t in out) else None
