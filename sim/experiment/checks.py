"""The config's semantic checks (`validate`), one checker per block: the settings, the
issues, the parties, the design, stability and the war (the war's checkers are
`sim.experiment.checks_war`). Each raises `sim.experiment.validation.ConfigError` on the
first problem, naming the key, the value and what is allowed."""

from __future__ import annotations

import itertools
import math
from typing import Any

from omegaconf import DictConfig

from sim.core.outcomes import IssueKind
from sim.core.settings import Seating
from sim.experiment.checks_war import check_guarantees, check_war, check_war_burden, check_war_sides
from sim.experiment.designs import (
    AUTO,
    MULTIPLIERS,
    PARTY_KINDS,
    SPREAD_DEFAULTS,
    Distribution,
    replications_per_job,
)
from sim.experiment.validation import (
    MAX_DRAWS,
    MAX_MONTHS,
    MAX_OUTCOMES,
    MAX_REPLICATIONS_PER_JOB,
    MAX_ROBUSTNESS_BYTES,
    MAX_ROUNDS,
    MAX_SEED,
    MAX_STRENGTH,
    has_war,
    issue_level_names,
    plain_name,
    require,
    require_in_scale,
    require_known,
)


def _check_spread(key: str, node: Any, bounds: tuple[float, float] | None) -> None:
    """One uncertain parameter's `{dist, scale, levels}` at `uncertainty.<key>`; `bounds`
    where a grid value may lie (None: no grid, as for salience)."""
    key = f"uncertainty.{key}"
    require(
        isinstance(node, dict | DictConfig), key, node, "{dist: ..., scale: ..., levels: [...]}"
    )
    require_known(key, list(node), list(SPREAD_DEFAULTS), "key")
    dist = node.get("dist", "fixed")
    require_known(f"{key}.dist", [dist], [str(d) for d in Distribution], "distribution")
    scale = node.get("scale", 0.0)
    ok = isinstance(scale, int | float) and not isinstance(scale, bool)
    ok = ok and math.isfinite(scale) and scale >= 0
    require(ok, f"{key}.scale", scale, "a number >= 0")
    values = node.get("levels", [])
    values = list(values) if values is not None else []
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    require(numbers, f"{key}.levels", values, "a list of numbers")
    if dist != Distribution.grid:
        require(not values, f"{key}.levels", values, "no levels unless dist=grid")
        return
    require(bounds is not None, f"{key}.dist", "grid", "fixed, uniform, normal or lognormal")
    low, high = bounds
    ok = bool(values) and all(math.isfinite(v) and low <= v <= high for v in values)
    ok = ok and len(set(values)) == len(values)
    within = f"in [{low}, {high}]" if math.isfinite(high) else f">= {low}"
    require(ok, f"{key}.levels", values, f"a non-empty list of distinct numbers {within}")


def _check_uncertainty(cfg: Any, parties: list[str]) -> None:
    """`uncertainty`: per-party spreads name a belligerent, a supporter or a party, as
    their block says; every spread is well formed (`_check_spread`)."""
    unc, war = cfg.uncertainty, cfg.war
    sides = [war.aggressor, war.defender] if has_war(cfg) else []
    owners = {"capacity": sides, "support": list(war.support)}
    for kind, who in owners.items():
        block = unc.war[kind]
        for party, node in block.items():
            _check_spread(f"war.{kind}.{party}", node, PARTY_KINDS[kind][1])
        # a fixed spread draws nothing: it may stay behind when its party is dropped
        drawn = [p for p, node in block.items() if node.get("dist", "fixed") != "fixed"]
        require_known(f"uncertainty.war.{kind}", drawn, who, "party of war." + kind)
    require_known("uncertainty.parties", list(unc.parties), parties, "party")
    for party, block in unc.parties.items():
        key = f"uncertainty.parties.{party}"
        require(
            isinstance(block, dict | DictConfig), key, block, "{war_cost: ..., capability: ...}"
        )
        require_known(key, list(block), ["capability", "war_cost"], "key")
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
        require(ok, f"{key}.issues", issues, "two different issues")
        require_known(f"{key}.issues", issues, list(party.preferences), "issue this party values")
        require(
            not has_war(cfg) or cfg.war.territory_issue not in issues,
            f"{key}.issues",
            issues,
            f"issues other than the war's territory issue {cfg.war.territory_issue!r}",
        )
        require(not set(issues) & set(seen), f"{key}.issues", issues, "issues in no other link")
        seen += issues
        first, second = issues
        require_known(f"{key}.table", list(link.table), levels_by_issue[first], f"level of {first}")
        for level, row in link.table.items():
            require_known(
                f"{key}.table.{level}", list(row), levels_by_issue[second], f"level of {second}"
            )
            for other, value in row.items():
                require_in_scale(f"{key}.table.{level}.{other}", value, 0.0, 1.0)


def _check_ratification(cfg: Any, pname: str, levels_by_issue: dict[str, list[str]]) -> None:
    """A party's ratifier: issues and levels that exist, bounds on the 0-100 scale, and a
    name whenever it rejects anything."""
    conf = cfg.parties[pname].ratification
    key = f"parties.{pname}.ratification"
    require_known(f"{key}.rejects", list(conf.rejects), list(levels_by_issue), "issue")
    if conf.rejects:
        require(conf.by is not None, f"{key}.by", conf.by, "who ratifies (e.g. referendum)")
    for iname, rejects in conf.rejects.items():
        rkey = f"{key}.rejects.{iname}"
        require_known(f"{rkey}.red_line", list(rejects.red_line), levels_by_issue[iname], "level")
        positioned = cfg.issues[iname].kind != IssueKind.categorical
        for bound in ("red_line_above", "red_line_below"):
            if positioned:
                require_in_scale(f"{rkey}.{bound}", rejects[bound])
            else:
                require(rejects[bound] is None, f"{rkey}.{bound}", rejects[bound],
                       "null: the issue is categorical (use red_line)")  # fmt: skip


MAX_BDM_ROUNDS = 1_000  # rounds of the expected-utility model; each is O(actors^3)


def validate(cfg: Any) -> None:
    """Semantic checks of a composed config; raises ConfigError on the first problem. One
    checker per block: the settings, the issues, the parties, the design (replications,
    the war's sides, the uncertainties), stability and the war.

    Runs on the config `sim.experiment.build.offer_levels` returns, which has already
    checked `guarantees_offer` and the levels of the guarantee packages."""
    parties, issues = list(cfg.parties), list(cfg.issues)
    _check_settings(cfg, parties, issues)
    size, levels_by_issue = _check_issues(cfg, parties)
    _check_parties(cfg, issues, levels_by_issue)
    _check_design(cfg, parties)
    _check_stability(cfg, parties, issues, size, levels_by_issue)
    check_war(cfg, issues)
    _check_bdm(cfg)


def _check_settings(cfg: Any, parties: list[str], issues: list[str]) -> None:
    """The negotiation's settings, sizes and names."""
    require(0 <= cfg.seed <= MAX_SEED, "seed", cfg.seed, f"an integer in [0, {MAX_SEED}]")
    require(
        bool(str(cfg.results_dir).strip()),
        "results_dir",
        cfg.results_dir,
        "a non-empty folder name",
    )
    require(
        plain_name(str(cfg.sweep_name)),
        "sweep_name",
        cfg.sweep_name,
        "a plain folder name (letters, digits, '_', '-', '.'; no path separator, no '..', "
        "no leading dot)",
    )
    seatings = [str(x) for x in Seating] + list(cfg.seating_aliases)
    require_known("seating", [cfg.seating], seatings, "seating")
    unique = len(set(cfg.phase_one_parties)) == len(cfg.phase_one_parties)
    require(unique, "phase_one_parties", list(cfg.phase_one_parties), "each party once")
    require(len(parties) >= 2, "parties", parties, "at least two parties")
    require(len(issues) >= 1, "issues", issues, "at least one issue")
    require(
        1 <= cfg.max_rounds <= MAX_ROUNDS,
        "max_rounds",
        cfg.max_rounds,
        f"an integer in [1, {MAX_ROUNDS:,}] (a round is war.months_per_round months; "
        "for longer talks raise that)",
    )
    require(cfg.walkout_patience >= 1, "walkout_patience", cfg.walkout_patience, "an integer >= 1")
    ok = 0 < cfg.text_step <= 1
    require(ok, "text_step", cfg.text_step, "a number in (0, 1]")
    require_in_scale("framework_commitment", cfg.framework_commitment, 0.0, 1.0)
    require_in_scale("mediator_bias", cfg.mediator_bias, 0.0, 1.0)
    require(
        1 <= cfg.max_outcomes <= MAX_OUTCOMES,
        "max_outcomes",
        cfg.max_outcomes,
        f"an integer in [1, {MAX_OUTCOMES:,}] (every party's utility of every outcome is held "
        "in memory, with its preference order: a coarser grid or fewer levels)",
    )
    require_known("mediator", [cfg.mediator], parties, "party")
    require_known("phase_one_parties", list(cfg.phase_one_parties), parties, "party")
    if cfg.seating_aliases.get(cfg.seating, cfg.seating) == Seating.phased:
        require(
            len(cfg.phase_one_parties) >= 1,
            "phase_one_parties",
            list(cfg.phase_one_parties),
            f"1+ parties (seating={cfg.seating} seats them first)",
        )
    require(cfg.phase_one_rounds >= 0, "phase_one_rounds", cfg.phase_one_rounds, "an integer >= 0")
    require(
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
            require_in_scale(f"{key}.low", issue.low)
            require_in_scale(f"{key}.high", issue.high)
            require(
                issue.high > issue.low, f"{key}.high", issue.high, f"a number > low={issue.low}"
            )
            require(
                math.isfinite(issue.resolution) and issue.resolution > 0,
                f"{key}.resolution",
                issue.resolution,
                "a number > 0",
            )
            steps = (issue.high - issue.low) / issue.resolution
            require(
                steps >= 1 - 1e-9 and abs(steps - round(steps)) <= 1e-6 * max(1.0, steps),
                f"{key}.resolution",
                issue.resolution,
                f"a step that divides [{issue.low}, {issue.high}] into whole steps",
            )
            require(
                steps + 1 <= cfg.max_outcomes,
                f"{key}.resolution",
                issue.resolution,
                f"at most max_outcomes={cfg.max_outcomes} grid points",
            )
            for anchor, pos in issue.anchors.items():
                require_in_scale(f"{key}.anchors.{anchor}", pos, issue.low, issue.high)
        elif issue.kind == IssueKind.ordinal:
            require(len(issue.levels) >= 1, f"{key}.levels", issue.levels, "1+ named levels")
            positions = list(issue.levels.values())
            for level, pos in issue.levels.items():
                require_in_scale(f"{key}.levels.{level}", pos)
            require(
                all(a < b for a, b in itertools.pairwise(positions)),
                f"{key}.levels",
                issue.levels,
                "positions strictly increasing in the order the levels are listed",
            )
        else:
            cats = list(issue.categories)
            require(len(cats) >= 1, f"{key}.categories", cats, "1+ level names")
            require(len(set(cats)) == len(cats), f"{key}.categories", cats, "unique names")
        levels = issue_level_names(name, issue)
        levels_by_issue[name] = levels
        size *= len(levels)
        if issue.default is not None:
            require_known(f"{key}.default", [issue.default], levels, "level")
        require_known(f"{key}.control", list(issue.control), parties, "party")
        for level, controllers in issue.level_control.items():
            require_known(f"{key}.level_control", [level], levels, "level")
            require_known(f"{key}.level_control.{level}", list(controllers), parties, "party")
        sides = [str(cfg.war.aggressor), str(cfg.war.defender)] if has_war(cfg) else []
        in_balance = [*sides, *cfg.war.support]
        for level, changes in issue.shifts.items():
            require_known(f"{key}.shifts", [level], levels, "level")
            what = "belligerent or supporter in war (its part of the balance)"
            require_known(f"{key}.shifts.{level}", list(changes), in_balance, what)
            for pname, change in changes.items():
                require(
                    math.isfinite(change),
                    f"{key}.shifts.{level}.{pname}",
                    change,
                    "a finite number (a change in capacity or in a support level)",
                )
    require(
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
        require_in_scale(f"{key}.capability", party.capability, 0.0, MAX_STRENGTH)
        require_in_scale(f"{key}.war_cost", party.war_cost, 0.0, 1.0)  # utility a month
        check_war_burden(pname, party, cfg.war)
        require_in_scale(f"{key}.delay_cost", party.delay_cost, 0.0, 1.0)  # utility a round
        require_in_scale(f"{key}.optimism", party.optimism, -1.0, 1.0)
        require(
            math.isfinite(party.cost_belief) and party.cost_belief >= 0,
            f"{key}.cost_belief",
            party.cost_belief,
            "a number >= 0",
        )
        if party.concession_exponent is not None:
            require(
                party.concession_exponent > 0,
                f"{key}.concession_exponent",
                party.concession_exponent,
                "a number > 0 (< 1 Boulware, 1 linear, > 1 conceder)",
            )
        if party.deadline is not None:
            require(party.deadline >= 1, f"{key}.deadline", party.deadline, "an integer >= 1")
        require_in_scale(f"{key}.reservation_value", party.reservation_value, 0.0, 1.0)
        require_known(f"{key}.preferences", list(party.preferences), issues, "issue")
        saliences = [p.salience for p in party.preferences.values()]
        for iname, pref in party.preferences.items():
            pkey = f"{key}.preferences.{iname}"
            issue = cfg.issues[iname]
            levels = levels_by_issue[iname]
            require(
                math.isfinite(pref.salience) and pref.salience >= 0,
                f"{pkey}.salience",
                pref.salience,
                "a number >= 0",
            )
            positioned = issue.kind != IssueKind.categorical
            if pref.table is not None:
                require_known(f"{pkey}.table", list(pref.table), levels, "level")
                for level, value in pref.table.items():
                    require_in_scale(f"{pkey}.table.{level}", value, 0.0, 1.0)
            elif positioned:
                require(
                    pref.ideal is not None,
                    f"{pkey}.ideal",
                    pref.ideal,
                    "a position in [0, 100] (or a `table` of level values)",
                )
            else:
                require(False, f"{pkey}.table", None, "a table level -> value in [0, 1]")
            require_in_scale(f"{pkey}.ideal", pref.ideal)
            require(pref.decay > 0, f"{pkey}.decay", pref.decay, "a number > 0")
            require(pref.curvature > 0, f"{pkey}.curvature", pref.curvature, "a number > 0")
            require_in_scale(f"{pkey}.reservation", pref.reservation)
            require_in_scale(f"{pkey}.red_line_above", pref.red_line_above)
            require_in_scale(f"{pkey}.red_line_below", pref.red_line_below)
            require_known(f"{pkey}.red_line", list(pref.red_line), levels, "level")
            if pref.audience_cost is not None:
                require(
                    math.isfinite(pref.audience_cost) and pref.audience_cost >= 0,
                    f"{pkey}.audience_cost",
                    pref.audience_cost,
                    "a number >= 0 (utility lost by signing across the commitment)",
                )
                require(
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
                    require(
                        pref[bound] is None,
                        f"{pkey}.{bound}",
                        pref[bound],
                        "null: the issue is categorical (use table / red_line)",
                    )
        _check_links(cfg, pname, levels_by_issue)
        _check_ratification(cfg, pname, levels_by_issue)
        require(
            sum(saliences) > 0,
            f"{key}.preferences",
            {k: p.salience for k, p in party.preferences.items()},
            "non-negative saliences, not all zero",
        )


def _check_design(cfg: Any, parties: list[str]) -> None:
    """How many replications, the war's sides, the uncertain inputs."""
    reps = cfg.replications
    ok = reps == AUTO or (isinstance(reps, int) and not isinstance(reps, bool) and reps >= 1)
    require(ok, "replications", reps, f"an integer >= 1 or {AUTO!r}")
    if reps == AUTO:
        width = cfg.ci_width
        require(0 < width < 1, "ci_width", width, "a number in (0, 1): the widest 95% interval")
        most = cfg.max_replications
        require(most >= 1, "max_replications", most, "an integer >= 1")
        block = cfg.replication_block
        require(1 <= block <= most, "replication_block", block, f"an integer in [1, {most}]")
    check_war_sides(cfg, parties)
    _check_uncertainty(cfg, parties)
    per_job = replications_per_job(cfg)
    require(
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
        require(ok, "replication", cfg.replication, f"null or 0..{total - 1}")


def _check_stability(
    cfg: Any,
    parties: list[str],
    issues: list[str],
    size: int,
    levels_by_issue: dict[str, list[str]],
) -> None:
    """The stability assessment's sizes, spreads, thresholds and guarantees."""
    stability_conf = cfg.stability
    for key, most in (
        ("robustness_draws", MAX_DRAWS),
        ("durability_paths", MAX_DRAWS),
        ("durability_periods", MAX_MONTHS),
    ):
        require(
            1 <= stability_conf[key] <= most,
            f"stability.{key}",
            stability_conf[key],
            f"an integer in [1, {most:,}]",
        )
    most = max(1, MAX_ROBUSTNESS_BYTES // (8 * len(parties) * size))
    require(
        stability_conf.robustness_draws <= most,
        "stability.robustness_draws",
        stability_conf.robustness_draws,
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
        value = stability_conf.thresholds[key.split(".")[1]] if "." in key else stability_conf[key]
        ok = math.isfinite(value) and value >= 0
        require(ok, f"stability.{key}", value, "a number >= 0")
    if stability_conf.guarantees_issue is not None:
        require_known(
            "stability.guarantees_issue",
            [stability_conf.guarantees_issue],
            issues,
            "issue (or null)",
        )
    check_guarantees(cfg, parties, levels_by_issue)
    require_in_scale(
        "stability.thresholds.robustness", stability_conf.thresholds.robustness, 0.0, 1.0
    )
    require_in_scale(
        "stability.thresholds.durability", stability_conf.thresholds.durability, 0.0, 1.0
    )


def _check_bdm(cfg: Any) -> None:
    """The expected-utility model's parameters (`bdm`)."""
    conf = cfg.get("bdm")
    if conf is None:
        return
    for key in ("q", "t"):
        require(0.0 <= conf[key] <= 1.0, f"bdm.{key}", conf[key], "a probability in [0, 1]")
    require(1 <= conf.rounds <= MAX_BDM_ROUNDS, "bdm.rounds", conf.rounds,
            f"an integer in [1, {MAX_BDM_ROUNDS}]")  # fmt: skip
