"""Semantic checks of a composed config: what the schema's types cannot say (ranges,
names that must refer to each other). `validate` raises `ConfigError`, whose message is
one line: the key, the value received, what is allowed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from sim.core.outcomes import SCALE_MAX, SCALE_MIN, Issue, IssueKind
from sim.core.settings import Seating
from sim.core.war import monthly_war_cost
from sim.experiment.designs import (
    AUTO,
    MULTIPLIERS,
    PARTY_KINDS,
    SPREAD_DEFAULTS,
    Distribution,
    replications_per_job,
)
from sim.experiment.schema import SimConfig, UncertaintyConf

# Bounds on sizes: no input may run for minutes in silence or grow past the memory of its
# arrays (docs/troubleshooting.md). Each message says how to split larger work.
MAX_SEED = 2**63 - 1  # seeds are stored as int64
MAX_ROUNDS = 10_000  # rounds are months of war by default: 833 years
MAX_REPLICATIONS_PER_JOB = 100_000  # a job holds its rows (~11 kB each) until it writes them
MAX_DRAWS = 10_000  # robustness draws, durability paths
MAX_MONTHS = 1_200  # a century: the war's horizon, the months watched after a deal
MAX_STRENGTH = 1e6  # capacities, capabilities and aid effectiveness are relative strengths
MAX_ROBUSTNESS_BYTES = 2 * 1024**3  # draws x parties x outcomes x 8 bytes
MAX_OUTCOMES = 5_000_000  # the grid; the engine holds several (parties, outcomes) tables


class ConfigError(ValueError):
    """An invalid configuration value: `key`, the value received, what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}: got {_show(value)}; allowed: {allowed}")


PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def plain_name(name: str) -> bool:
    """A name that may be a folder under results_dir: nothing that climbs out or hides."""
    return PLAIN_NAME.fullmatch(name) is not None and ".." not in name


def _show(value: Any) -> str:
    if isinstance(value, DictConfig | dict) or OmegaConf.is_list(value):
        value = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
    return repr(value)


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
    if issue.kind == IssueKind.continuous:
        return list(Issue.continuous(name, issue.low, issue.high, issue.resolution).levels)
    if issue.kind == IssueKind.ordinal:
        return list(issue.levels)
    return list(issue.categories)


def _check_spread(key: str, node: Any, bounds: tuple[float, float] | None) -> None:
    """One uncertain parameter's `{dist, scale, levels}` at `uncertainty.<key>`; `bounds`
    where a grid value may lie (None: no grid, as for salience)."""
    key = f"uncertainty.{key}"
    _check(isinstance(node, dict | DictConfig), key, node, "{dist: ..., scale: ..., levels: [...]}")
    _known(key, list(node), list(SPREAD_DEFAULTS), "key")
    dist = node.get("dist", "fixed")
    _known(f"{key}.dist", [dist], [str(d) for d in Distribution], "distribution")
    scale = node.get("scale", 0.0)
    ok = isinstance(scale, int | float) and not isinstance(scale, bool)
    ok = ok and math.isfinite(scale) and scale >= 0
    _check(ok, f"{key}.scale", scale, "a number >= 0")
    values = node.get("levels", [])
    values = list(values) if values is not None else []
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    _check(numbers, f"{key}.levels", values, "a list of numbers")
    if dist != Distribution.grid:
        _check(not values, f"{key}.levels", values, "no levels unless dist=grid")
        return
    _check(bounds is not None, f"{key}.dist", "grid", "fixed, uniform, normal or lognormal")
    low, high = bounds
    ok = bool(values) and all(math.isfinite(v) and low <= v <= high for v in values)
    ok = ok and len(set(values)) == len(values)
    within = f"in [{low}, {high}]" if math.isfinite(high) else f">= {low}"
    _check(ok, f"{key}.levels", values, f"a non-empty list of distinct numbers {within}")


def _check_uncertainty(cfg: Any, parties: list[str]) -> None:
    """`uncertainty`: per-party spreads name a belligerent, a supporter or a party, as
    their block says; every spread is well formed (`_check_spread`)."""
    unc, war = cfg.uncertainty, cfg.war
    owners = {"capacity": [war.aggressor, war.defender], "support": list(war.support)}
    for kind, who in owners.items():
        block = unc.war[kind]
        for party, node in block.items():
            _check_spread(f"war.{kind}.{party}", node, PARTY_KINDS[kind][1])
        # a fixed spread draws nothing: it may stay behind when its party is dropped
        drawn = [p for p, node in block.items() if node.get("dist", "fixed") != "fixed"]
        _known(f"uncertainty.war.{kind}", drawn, who, "party of war." + kind)
    _known("uncertainty.parties", list(unc.parties), parties, "party")
    for party, block in unc.parties.items():
        key = f"uncertainty.parties.{party}"
        _check(isinstance(block, dict | DictConfig), key, block, "{war_cost: ..., capability: ...}")
        _known(key, list(block), ["capability", "war_cost"], "key")
        for kind, node in block.items():
            _check_spread(f"parties.{party}.{kind}", node, PARTY_KINDS[kind][1])
    for name in MULTIPLIERS:
        _check_spread(name, unc[name], None if name == "salience" else (0.0, math.inf))


def _check_links(cfg: Any, pname: str, levels_by_issue: dict[str, list]) -> None:
    """`parties.<name>.links`: two distinct issues the party has preferences on, not the
    war's territory issue, each in one link at most; the table's levels exist and its
    values are in [0, 1]."""
    party = cfg.parties[pname]
    seen: list[str] = []
    for n, link in enumerate(party.links):
        key = f"parties.{pname}.links.{n}"
        issues = list(link.issues)
        ok = len(issues) == 2 and issues[0] != issues[1]
        _check(ok, f"{key}.issues", issues, "two different issues")
        _known(f"{key}.issues", issues, list(party.preferences), "issue this party values")
        _check(
            cfg.war.territory_issue not in issues,
            f"{key}.issues",
            issues,
            f"issues other than the war's territory issue {cfg.war.territory_issue!r}",
        )
        _check(not set(issues) & set(seen), f"{key}.issues", issues, "issues in no other link")
        seen += issues
        first, second = issues
        _known(f"{key}.table", list(link.table), levels_by_issue[first], f"level of {first}")
        for level, row in link.table.items():
            _known(f"{key}.table.{level}", list(row), levels_by_issue[second], f"level of {second}")
            for other, value in row.items():
                _in_scale(f"{key}.table.{level}.{other}", value, 0.0, 1.0)


def _check_guarantees(cfg: Any, parties: list[str], levels_by_issue: dict[str, list]) -> None:
    """`war.guarantees`: its levels belong to `stability.guarantees_issue`, its guarantors
    and monitors are parties, credibilities are probabilities."""
    conf = cfg.war.guarantees
    cost = conf.cost_per_force
    ok = math.isfinite(cost) and cost >= 0
    _check(ok, "war.guarantees.cost_per_force", cost, "a number >= 0")
    if not conf.levels:
        return
    issue = cfg.stability.guarantees_issue
    _check(
        issue is not None,
        "war.guarantees.levels",
        list(conf.levels),
        "empty unless stability.guarantees_issue names the guarantees issue",
    )
    _known("war.guarantees.levels", list(conf.levels), levels_by_issue[issue], "level")
    for level, backing in conf.levels.items():
        key = f"war.guarantees.levels.{level}"
        _known(f"{key}.force", list(backing.force), parties, "party")
        _known(f"{key}.monitors", list(backing.monitors), parties, "party")
        for guarantor, chance in backing.force.items():
            _in_scale(f"{key}.force.{guarantor}", chance, 0.0, 1.0)


def _check_war_sides(cfg: Any, parties: list[str]) -> None:
    """`war.aggressor` and `war.defender`: two parties, each with a capacity in
    `war.capacity`; `war.support`: other parties, with levels in [0, 1]."""
    war = cfg.war
    _known("war.aggressor", [war.aggressor], parties, "party")
    _known("war.defender", [war.defender], parties, "party")
    sides = [war.aggressor, war.defender]
    _check(sides[0] != sides[1], "war.defender", war.defender, "a party other than the aggressor")
    capacity = dict(war.capacity)
    _check(
        sorted(capacity) == sorted(sides),
        "war.capacity",
        capacity,
        f"a capacity for each belligerent and no one else: keys {sides}",
    )
    for party, value in capacity.items():
        ok = math.isfinite(value) and 0 <= value <= MAX_STRENGTH
        _check(ok, f"war.capacity.{party}", value, f"a number in [0, {MAX_STRENGTH:g}]")
    _check(sum(capacity.values()) > 0, "war.capacity", capacity, "capacities not both zero")
    _known("war.support", list(war.support), parties, "party")
    for party, level in war.support.items():
        _check(party not in sides, "war.support", party, f"a party other than {sides}")
        _in_scale(f"war.support.{party}", level, 0.0, 1.0)
    _known("war.backing", list(war.backing), list(war.support), "supporter in war.support")


def _check_ratification(cfg: Any, pname: str, levels_by_issue: dict[str, list[str]]) -> None:
    """A party's ratifier: issues and levels that exist, bounds on the 0-100 scale, and a
    name whenever it rejects anything."""
    conf = cfg.parties[pname].ratification
    key = f"parties.{pname}.ratification"
    _known(f"{key}.rejects", list(conf.rejects), list(levels_by_issue), "issue")
    if conf.rejects:
        _check(conf.by is not None, f"{key}.by", conf.by, "who ratifies (e.g. referendum)")
    for iname, rejects in conf.rejects.items():
        rkey = f"{key}.rejects.{iname}"
        _known(f"{rkey}.red_line", list(rejects.red_line), levels_by_issue[iname], "level")
        positioned = cfg.issues[iname].kind != IssueKind.categorical
        for bound in ("red_line_above", "red_line_below"):
            if positioned:
                _in_scale(f"{rkey}.{bound}", rejects[bound])
            else:
                _check(rejects[bound] is None, f"{rkey}.{bound}", rejects[bound],
                       "null: the issue is categorical (use red_line)")  # fmt: skip


def validate(cfg: Any) -> None:
    """Semantic checks of a composed config; raises ConfigError on the first problem. One
    checker per block: the settings, the issues, the parties, the design (replications,
    the war's sides, the uncertainties), stability and the war.

    Runs on the config `sim.experiment.scenario.offer_levels` returns, which has already
    checked `guarantees_offer` and the levels of the guarantee packages."""
    parties, issues = list(cfg.parties), list(cfg.issues)
    _check_settings(cfg, parties, issues)
    size, levels_by_issue = _check_issues(cfg, parties)
    _check_parties(cfg, issues, levels_by_issue)
    _check_design(cfg, parties)
    _check_stability(cfg, parties, issues, size, levels_by_issue)
    _check_war(cfg, issues)


def _check_settings(cfg: Any, parties: list[str], issues: list[str]) -> None:
    """The negotiation's settings, sizes and names."""
    _check(0 <= cfg.seed <= MAX_SEED, "seed", cfg.seed, f"an integer in [0, {MAX_SEED}]")
    _check(
        bool(str(cfg.results_dir).strip()),
        "results_dir",
        cfg.results_dir,
        "a non-empty folder name",
    )
    _check(
        plain_name(str(cfg.sweep_name)),
        "sweep_name",
        cfg.sweep_name,
        "a plain folder name (letters, digits, '_', '-', '.'; no path separator, no '..', "
        "no leading dot)",
    )
    seatings = [str(x) for x in Seating] + list(cfg.seating_aliases)
    _known("seating", [cfg.seating], seatings, "seating")
    unique = len(set(cfg.phase_one_parties)) == len(cfg.phase_one_parties)
    _check(unique, "phase_one_parties", list(cfg.phase_one_parties), "each party once")
    _check(len(parties) >= 2, "parties", parties, "at least two parties")
    _check(len(issues) >= 1, "issues", issues, "at least one issue")
    _check(
        1 <= cfg.max_rounds <= MAX_ROUNDS,
        "max_rounds",
        cfg.max_rounds,
        f"an integer in [1, {MAX_ROUNDS:,}] (a round is war.months_per_round months; "
        "for longer talks raise that)",
    )
    _check(cfg.walkout_patience >= 1, "walkout_patience", cfg.walkout_patience, "an integer >= 1")
    ok = 0 < cfg.text_step <= 1
    _check(ok, "text_step", cfg.text_step, "a number in (0, 1]")
    _in_scale("framework_commitment", cfg.framework_commitment, 0.0, 1.0)
    _in_scale("mediator_bias", cfg.mediator_bias, 0.0, 1.0)
    _check(
        1 <= cfg.max_outcomes <= MAX_OUTCOMES,
        "max_outcomes",
        cfg.max_outcomes,
        f"an integer in [1, {MAX_OUTCOMES:,}] (every party's utility of every outcome is held "
        "in memory, with its preference order: a coarser grid or fewer levels)",
    )
    _known("mediator", [cfg.mediator], parties, "party")
    _known("phase_one_parties", list(cfg.phase_one_parties), parties, "party")
    if cfg.seating_aliases.get(cfg.seating, cfg.seating) == Seating.phased:
        _check(
            len(cfg.phase_one_parties) >= 1,
            "phase_one_parties",
            list(cfg.phase_one_parties),
            f"1+ parties (seating={cfg.seating} seats them first)",
        )
    _check(cfg.phase_one_rounds >= 0, "phase_one_rounds", cfg.phase_one_rounds, "an integer >= 0")
    _check(
        1 <= cfg.foresight_months <= MAX_MONTHS,
        "foresight_months",
        cfg.foresight_months,
        f"an integer in [1, {MAX_MONTHS}] (a century)",
    )


def _check_issues(cfg: Any, parties: list[str]) -> tuple[int, dict[str, list[str]]]:
    """Each issue's scale, levels, control and shifts; returns the outcome space's size and
    each issue's level names."""
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
        in_balance = [str(cfg.war.aggressor), str(cfg.war.defender), *cfg.war.support]
        for level, changes in issue.shifts.items():
            _known(f"{key}.shifts", [level], levels, "level")
            what = "belligerent or supporter in war (its part of the balance)"
            _known(f"{key}.shifts.{level}", list(changes), in_balance, what)
            for pname, change in changes.items():
                _check(
                    math.isfinite(change),
                    f"{key}.shifts.{level}.{pname}",
                    change,
                    "a finite number (a change in capacity or in a support level)",
                )
    _check(
        size <= cfg.max_outcomes,
        "issues",
        f"{size} outcomes",
        f"at most max_outcomes={cfg.max_outcomes} (coarser resolution or fewer levels)",
    )
    return size, levels_by_issue


def _check_parties(cfg: Any, issues: list[str], levels_by_issue: dict[str, list[str]]) -> None:
    """Each party's numbers, preferences, links and ratifier."""
    for pname, party in cfg.parties.items():
        key = f"parties.{pname}"
        _in_scale(f"{key}.capability", party.capability, 0.0, MAX_STRENGTH)
        _in_scale(f"{key}.war_cost", party.war_cost, 0.0, 1.0)  # utility a month
        _check_war_burden(pname, party, cfg.war)
        _in_scale(f"{key}.delay_cost", party.delay_cost, 0.0, 1.0)  # utility a round
        _in_scale(f"{key}.optimism", party.optimism, -1.0, 1.0)
        _check(
            math.isfinite(party.cost_belief) and party.cost_belief >= 0,
            f"{key}.cost_belief",
            party.cost_belief,
            "a number >= 0",
        )
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
            if pref.audience_cost is not None:
                _check(
                    math.isfinite(pref.audience_cost) and pref.audience_cost >= 0,
                    f"{pkey}.audience_cost",
                    pref.audience_cost,
                    "a number >= 0 (utility lost by signing across the commitment)",
                )
                _check(
                    bool(pref.red_line)
                    or pref.red_line_above is not None
                    or pref.red_line_below is not None,
                    f"{pkey}.audience_cost",
                    pref.audience_cost,
                    "null, or a red line on the issue for it to price (red_line, "
                    "red_line_above or red_line_below)",
                )
            if not positioned:
                for bound in ("red_line_above", "red_line_below", "ideal", "reservation"):
                    _check(
                        pref[bound] is None,
                        f"{pkey}.{bound}",
                        pref[bound],
                        "null: the issue is categorical (use table / red_line)",
                    )
        _check_links(cfg, pname, levels_by_issue)
        _check_ratification(cfg, pname, levels_by_issue)
        _check(
            sum(saliences) > 0,
            f"{key}.preferences",
            {k: p.salience for k, p in party.preferences.items()},
            "non-negative saliences, not all zero",
        )


def _check_design(cfg: Any, parties: list[str]) -> None:
    """How many replications, the war's sides, the uncertain inputs."""
    reps = cfg.replications
    ok = reps == AUTO or (isinstance(reps, int) and not isinstance(reps, bool) and reps >= 1)
    _check(ok, "replications", reps, f"an integer >= 1 or {AUTO!r}")
    if reps == AUTO:
        width = cfg.ci_width
        _check(0 < width < 1, "ci_width", width, "a number in (0, 1): the widest 95% interval")
        most = cfg.max_replications
        _check(most >= 1, "max_replications", most, "an integer >= 1")
        block = cfg.replication_block
        _check(1 <= block <= most, "replication_block", block, f"an integer in [1, {most}]")
    _check_war_sides(cfg, parties)
    _check_uncertainty(cfg, parties)
    per_job = replications_per_job(cfg)
    _check(
        per_job <= MAX_REPLICATIONS_PER_JOB,
        "replications",
        cfg.replications,
        f"at most {MAX_REPLICATIONS_PER_JOB:,} replications per job (here {per_job:,}: "
        "replications x grid points); split the work over seeds, e.g. -m seed=0,1,2,3 with "
        "a quarter of the replications each",
    )
    if cfg.replication is not None:
        total = replications_per_job(cfg)
        ok = 0 <= cfg.replication < total
        _check(ok, "replication", cfg.replication, f"null or 0..{total - 1}")


def _check_stability(
    cfg: Any,
    parties: list[str],
    issues: list[str],
    size: int,
    levels_by_issue: dict[str, list[str]],
) -> None:
    """The stability assessment's sizes, spreads, thresholds and guarantees."""
    st = cfg.stability
    for key, most in (
        ("robustness_draws", MAX_DRAWS),
        ("durability_paths", MAX_DRAWS),
        ("durability_periods", MAX_MONTHS),
    ):
        _check(1 <= st[key] <= most, f"stability.{key}", st[key], f"an integer in [1, {most:,}]")
    most = max(1, MAX_ROBUSTNESS_BYTES // (8 * len(parties) * size))
    _check(
        st.robustness_draws <= most,
        "stability.robustness_draws",
        st.robustness_draws,
        f"at most {most:,} for {size:,} outcomes (draws x parties x outcomes x 8 bytes <= 2 GiB)",
    )
    for key in (
        "salience_spread",
        "reservation_spread",
        "capability_spread",
        "support_shock",
        "capacity_shock",
        "guarantee_strength",
        "guarantee_cost",
        "support_spread",
        "cost_spread",
        "belief_spread",
        "thresholds.commitment_ratio",
    ):
        value = st.thresholds[key.split(".")[1]] if "." in key else st[key]
        ok = math.isfinite(value) and value >= 0
        _check(ok, f"stability.{key}", value, "a number >= 0")
    if st.guarantees_issue is not None:
        _known("stability.guarantees_issue", [st.guarantees_issue], issues, "issue (or null)")
    _check_guarantees(cfg, parties, levels_by_issue)
    _in_scale("stability.thresholds.robustness", st.thresholds.robustness, 0.0, 1.0)
    _in_scale("stability.thresholds.durability", st.thresholds.durability, 0.0, 1.0)


def _check_war(cfg: Any, issues: list[str]) -> None:
    """The war beside the talks: the line, its pace, the horizon, the drifts."""
    war = cfg.war
    _known("war.territory_issue", [war.territory_issue], issues, "issue")
    _check(
        cfg.issues[war.territory_issue].kind != IssueKind.categorical,
        "war.territory_issue",
        war.territory_issue,
        "a continuous or ordinal issue",
    )
    _in_scale("war.contact_line", war.contact_line)
    for key in (
        "aid_effectiveness",
        "volatility",
        "belief_sd",
    ):
        value = war[key]
        most = {"volatility": 100.0, "belief_sd": 1.0}.get(key, MAX_STRENGTH)
        ok = math.isfinite(value) and 0 <= value <= most
        _check(ok, f"war.{key}", value, f"a number in [0, {most:g}]")
    _in_scale("war.adjustment_rate", war.adjustment_rate, 0.0, 1.0)
    _in_scale("war.discount", war.discount, 0.0, 1.0)
    _check(
        0 < war.months_per_round <= 120,
        "war.months_per_round",
        war.months_per_round,
        "a number in (0, 120]",
    )
    _in_scale("war.horizon_months", war.horizon_months, 0.0, float(MAX_MONTHS))
    drift = war.drift
    # exp(drift x months) must stay finite over the watched months and the horizon
    _in_scale("war.drift.capacity", drift.capacity, -0.25, 0.25)
    _known("war.drift.supports", list(drift.supports), list(war.support), "supporter")
    for party, rate in drift.supports.items():
        ok = math.isfinite(rate) and -1 <= rate <= 1
        _check(ok, f"war.drift.supports.{party}", rate, "a number in [-1, 1] (per month)")


# Blocks whose entries a scenario may drop with `name: null` (one that extends another
# scenario then gets exactly the parties, issues and supporters it wants).
DROPPABLE = ("parties", "issues", "war.support", "war.drift.supports", "guarantee_packages")
DROPPABLE += ("uncertainty.war.capacity", "uncertainty.war.support", "uncertainty.parties")
REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.]*)\}")
SIMCONFIG_KEYS = frozenset(f.name for f in dataclasses.fields(SimConfig))
UNCERTAINTY_KEYS = frozenset(f.name for f in dataclasses.fields(UncertaintyConf))


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
    outside the schema (a misspelling) is a ConfigError. An alias no key follows any more
    (its key was set directly) is dropped from `cfg`. Returns `alias_targets(cfg)`."""
    if not isinstance(cfg, DictConfig):
        return {}
    declared = list(cfg.get("aliases") or ())
    for alias in declared:
        top, _, rest = alias.partition(".")
        ok = (not rest and top not in SIMCONFIG_KEYS) or (
            top == "uncertainty" and "." not in rest and rest not in UNCERTAINTY_KEYS
        )
        _check(ok, "aliases", alias, "names outside the schema, `name` or `uncertainty.name`")
    for prefix, node, known in (
        ("", cfg, SIMCONFIG_KEYS),
        ("uncertainty.", cfg.get("uncertainty"), UNCERTAINTY_KEYS),
    ):
        for key in list(node or {}):
            _check(
                key in known or f"{prefix}{key}" in declared,
                f"{prefix}{key}",
                node._get_node(key)._value(),
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


def war_cost_of(party: Any, war_conf: Any) -> float:
    """A party's cost of a month of war: its `war_cost`, or from its war's burden
    (`war_burden`, a share of a year's output) and the stake's worth in years of output
    (`war.stake_years`): `sim.core.war.monthly_war_cost` (docs/model.md, "Costs of war in an
    anchored unit"). The config is checked first (`validate`)."""
    burden = party.get("war_burden")
    if burden is None:
        return float(party.war_cost)
    return monthly_war_cost(float(burden), float(war_conf.stake_years))


def _check_war_burden(name: str, party: Any, war_conf: Any) -> None:
    burden = party.get("war_burden")
    if burden is None:
        return
    key = f"parties.{name}.war_burden"
    _in_scale(key, burden, 0.0, 1.0)
    years = war_conf.get("stake_years")
    _check(
        years is not None and math.isfinite(years) and years > 0,
        "war.stake_years",
        years,
        f"a number of years > 0 (the unit of {key})",
    )
    _check(
        party.war_cost == 0.0,
        f"parties.{name}.war_cost",
        party.war_cost,
        f"left unset: {key}={burden} sets it (set {key}=null to give a war cost instead)",
    )


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


def refuse_empty_dicts(args: list[str]) -> None:
    """`key={}` on the command line: Hydra merges it onto the key's dict, which changes
    nothing (a scenario's parties stay); say so instead of running as if it did."""
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and value.replace(" ", "") == "{}" and not key.startswith("hydra"):
            raise ConfigError(
                key.lstrip("+~"),
                {},
                f"entries to merge (an empty dict changes nothing); drop an entry with "
                f"'{key.lstrip('+~')}.<name>=null' (docs/new-conflict.md)",
            )
