"""The config's checks of the war (`sim.experiment.checks.validate` calls them): the
belligerents and their supporters (`check_war_sides`), a decision without a war, the war
beside the talks (`check_war`), a party's war burden (`check_war_burden`) and the guarantees
(`check_guarantees`). Each raises `sim.experiment.validation.ConfigError` on the first
problem, naming the key, the value and what is allowed."""

from __future__ import annotations

import math
from typing import Any

from sim.core.outcomes import IssueKind
from sim.experiment.validation import (
    MAX_MONTHS,
    MAX_STRENGTH,
    has_war,
    require,
    require_in_scale,
    require_known,
)

NEEDS_WAR = "needs a war block: war.aggressor, war.defender and war.capacity"
NO_WAR = "empty without a war (war.aggressor and war.defender unset)"


def _check_no_war(cfg: Any) -> None:
    """A decision without a war (`war.aggressor` and `war.defender` unset): static BATNAs,
    bargaining by the calendar, and no capacity, support, backing or guarantee force."""
    for key, needs, instead in (("batna", "war", "static"), ("bargaining", "fighting", "calendar")):
        value = str(cfg[key])
        require(value != needs, key, value, f"{instead} ({key}={needs} {NEEDS_WAR})")
    for key in ("capacity", "support", "backing"):
        require(not cfg.war[key], f"war.{key}", dict(cfg.war[key]), NO_WAR)
    levels = cfg.war.guarantees.levels
    require(not levels, "war.guarantees.levels", list(levels), NO_WAR)


def check_war_sides(cfg: Any, parties: list[str]) -> None:
    """`war.aggressor` and `war.defender`: two parties, each with a capacity in
    `war.capacity`; `war.support`: other parties, with levels in [0, 1]. Neither: a
    decision without a war (`_check_no_war`)."""
    war = cfg.war
    if not has_war(cfg):
        _check_no_war(cfg)
        return
    require_known("war.aggressor", [war.aggressor], parties, "party")
    require_known("war.defender", [war.defender], parties, "party")
    sides = [war.aggressor, war.defender]
    require(sides[0] != sides[1], "war.defender", war.defender, "a party other than the aggressor")
    capacity = dict(war.capacity)
    require(
        sorted(capacity) == sorted(sides),
        "war.capacity",
        capacity,
        f"a capacity for each belligerent and no one else: keys {sides}",
    )
    for party, value in capacity.items():
        ok = math.isfinite(value) and 0 <= value <= MAX_STRENGTH
        require(ok, f"war.capacity.{party}", value, f"a number in [0, {MAX_STRENGTH:g}]")
    require(sum(capacity.values()) > 0, "war.capacity", capacity, "capacities not both zero")
    require_known("war.support", list(war.support), parties, "party")
    for party, level in war.support.items():
        require(party not in sides, "war.support", party, f"a party other than {sides}")
        require_in_scale(f"war.support.{party}", level, 0.0, 1.0)
    require_known("war.backing", list(war.backing), list(war.support), "supporter in war.support")


def check_war(cfg: Any, issues: list[str]) -> None:
    """The war beside the talks: the line, its pace, the horizon, the drifts. Without a
    war, `war.territory_issue` is checked only when it names an issue (else the engine's
    line, which nothing moves, sits on the first issue with positions)."""
    war = cfg.war
    if has_war(cfg) or war.territory_issue in issues:
        require_known("war.territory_issue", [war.territory_issue], issues, "issue")
        require(
            cfg.issues[war.territory_issue].kind != IssueKind.categorical,
            "war.territory_issue",
            war.territory_issue,
            "a continuous or ordinal issue",
        )
    else:
        positioned = [n for n in issues if cfg.issues[n].kind != IssueKind.categorical]
        require(
            bool(positioned),
            "issues",
            issues,
            "at least one continuous or ordinal issue (the engine's line sits on one, even "
            "without a war)",
        )
    require_in_scale("war.contact_line", war.contact_line)
    for key in (
        "aid_effectiveness",
        "volatility",
        "belief_sd",
    ):
        value = war[key]
        most = {"volatility": 100.0, "belief_sd": 1.0}.get(key, MAX_STRENGTH)
        ok = math.isfinite(value) and 0 <= value <= most
        require(ok, f"war.{key}", value, f"a number in [0, {most:g}]")
    require_in_scale("war.adjustment_rate", war.adjustment_rate, 0.0, 1.0)
    require_in_scale("war.discount", war.discount, 0.0, 1.0)
    require(
        0 < war.months_per_round <= 120,
        "war.months_per_round",
        war.months_per_round,
        "a number in (0, 120]",
    )
    require_in_scale("war.horizon_months", war.horizon_months, 0.0, float(MAX_MONTHS))
    drift = war.drift
    # exp(drift x months) must stay finite over the watched months and the horizon
    require_in_scale("war.drift.capacity", drift.capacity, -0.25, 0.25)
    require_known("war.drift.supports", list(drift.supports), list(war.support), "supporter")
    for party, rate in drift.supports.items():
        ok = math.isfinite(rate) and -1 <= rate <= 1
        require(ok, f"war.drift.supports.{party}", rate, "a number in [-1, 1] (per month)")


def check_war_burden(name: str, party: Any, war_conf: Any) -> None:
    """`parties.<name>.war_burden`: null, or a share in [0, 1] with `war.stake_years` set
    and the party's `war_cost` left unset (the burden sets it)."""
    burden = party.get("war_burden")
    if burden is None:
        return
    key = f"parties.{name}.war_burden"
    require_in_scale(key, burden, 0.0, 1.0)
    years = war_conf.get("stake_years")
    require(
        years is not None and math.isfinite(years) and years > 0,
        "war.stake_years",
        years,
        f"a number of years > 0 (the unit of {key})",
    )
    require(
        party.war_cost == 0.0,
        f"parties.{name}.war_cost",
        party.war_cost,
        f"left unset: {key}={burden} sets it (set {key}=null to give a war cost instead)",
    )


def check_guarantees(cfg: Any, parties: list[str], levels_by_issue: dict[str, list]) -> None:
    """`war.guarantees`: its levels belong to `stability.guarantees_issue`, its guarantors
    and monitors are parties, credibilities are probabilities."""
    conf = cfg.war.guarantees
    cost = conf.cost_per_force
    ok = math.isfinite(cost) and cost >= 0
    require(ok, "war.guarantees.cost_per_force", cost, "a number >= 0")
    if not conf.levels:
        return
    issue = cfg.stability.guarantees_issue
    require(
        issue is not None,
        "war.guarantees.levels",
        list(conf.levels),
        "empty unless stability.guarantees_issue names the guarantees issue",
    )
    require_known("war.guarantees.levels", list(conf.levels), levels_by_issue[issue], "level")
    for level, backing in conf.levels.items():
        key = f"war.guarantees.levels.{level}"
        require_known(f"{key}.force", list(backing.force), parties, "party")
        require_known(f"{key}.monitors", list(backing.monitors), parties, "party")
        for guarantor, chance in backing.force.items():
            require_in_scale(f"{key}.force.{guarantor}", chance, 0.0, 1.0)
