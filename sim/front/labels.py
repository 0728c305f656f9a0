"""Words for what the figures show: config keys and result columns as readable names with
their units, values as text, tick labels rounded to what they can tell apart, and the
title of one negotiation.

`label(key)` reads the key's structure, not a list of names: the parties, supporters,
belligerents and issues in a key are taken from the key itself (`war.support.<supporter>`,
`parties.<party>.war_cost`, `u_<party>`, `<issue>_position`, `<key>_drawn`), the fixed
keys (settings, result columns) from a table, and anything else is turned into words, so
no figure shows a raw dotted or snake_case key. A scenario's aliases (`ally_support` for
`war.support.<supporter>`) are named after the key they set: pass `aliases` (alias ->
key; `aliases_of(cfg)` reads them from a config, `frame_aliases(frame)` from result rows).
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sim.core.settings import EndReason

SETTINGS = {
    "scenario": "scenario",
    "scenario_name": "scenario",
    "sweep_name": "sweep",
    "protocol": "protocol",
    "seating": "seating",
    "bargaining": "bargaining",
    "enforcement": "what makes a deal hold",
    "foresight_months": "foresight after a deal (months)",
    "information": "information",
    "batna": "BATNA model",
    "mediator": "mediator",
    "mediator_bias": "mediator's bias (0 facilitator, 1 broker)",
    "phase_one_rounds": "rounds of phase one",
    "phase_one_parties": "parties of phase one",
    "max_rounds": "rounds at most",
    "walkout_patience": "walkout patience (rounds)",
    "staying": "when a frustrated party leaves",
    "text_step": "text step (share of the way to the objectors)",
    "framework_commitment": "framework commitment (share of the surplus)",
    "guarantees_offer": "guarantees on offer",
    "max_outcomes": "outcomes at most",
    "seed": "seed",
    "replication": "replication",
    "replications": "replications",
    "ci_width": "interval width aimed at",
    "max_replications": "replications at most",
    "replication_block": "replications a block",
    "point": "design point",
    "overrides": "command line",
    "code_version": "code version",
    "job": "job",
    "error": "error",
    "n": "replications",
    "n_outcomes": "outcomes",
    "war_costs": "costs of war (multiplier)",
    "salience": "saliences (multiplier)",
}
"""The config's top-level settings and the columns every row carries."""

RESULTS = {
    "agreement": "binding deal",
    "binding": "binding",
    "reason": "how the talks ended",
    "round": "round the talks ended",
    "months": "months to deal",
    "belief_gap_start": "belief gap at the start (share of strength)",
    "belief_gap_end": "belief gap at the end (share of strength)",
    "walked_out": "parties that walked out",
    "walkout_reason": "why they walked out",
    "outcome": "agreed outcome (index)",
    "framework_outcome": "phase one's framework (index)",
    "contact_line": "contact line (territory scale 0-100)",
    "p_share": "aggressor's share of strength (0-1)",
    "zopa_size": "ZOPA (outcomes)",
    "signed_outcome": "deal signed, not ratified (index)",
    "rejected_by": "parties whose ratifiers rejected the deal",
    "self_enforcing": "self-enforcing deal (share)",
    "renewal_month": "months to the anticipated renewed war",
    "self_enforcing_outcomes": "self-enforcing outcomes",
    "nash_outcome": "Nash outcome (index)",
    "kalai_smorodinsky_outcome": "Kalai-Smorodinsky outcome (index)",
    "dist_nash": "distance to the Nash point (utility)",
    "dist_ks": "distance to the Kalai-Smorodinsky point (utility)",
    "ir_margin": "slack of the nearest signatory over its BATNA (utility)",
    "pareto_gap": "Pareto gap (utility)",
    "blocking_coalitions": "blocking coalitions (count)",
    "blocking_surplus": "what a blocking coalition gains alone (utility)",
    "robustness": "robustness (share of draws it survives)",
    "durability": "durability (share of months it holds)",
    "renewed_war_share": "share of shock paths back to war",
    "powell_violations": "Powell violations (count)",
    "max_power_shift": "largest shift of power (share of strength)",
    "commitment_ratio": "Powell's ratio (above 1: a commitment problem)",
    "guarantee_force": "force behind the guarantee",
    "monitored": "monitored",
    "stable": "stable deal",
    "stability_score": "stability score (0-1)",
    "blocking_coalition": "strongest blocking coalition",
    "blocking_alternative": "what that coalition would take instead",
    "closest_to_walking": "party nearest to walking away",
    "failing_parts": "parts of stability that fail",
    "deciding_part": "the part that decides it is not stable",
    "robustness_breaker": "party most often rather fighting in the draws",
    "robustness_breaker_share": "share of draws that party would rather fight",
    "robustness_blocked_share": "share of draws only a blocking coalition breaks it",
    "robustness_shock": "drawn input it fails most with",
    "phase": "phase",
    "proposer": "proposer",
    "offer": "offer on the table (index)",
}
"""Result and trace columns (docs/sweeps.md, "What the columns mean")."""

WAR = {
    "territory_issue": "territory issue",
    "contact_line": "contact line at the start (territory scale 0-100)",
    "aggressor": "aggressor",
    "defender": "defender",
    "aid_effectiveness": "aid effectiveness (strength per unit of support)",
    "adjustment_rate": "contact line's adjustment (share of the gap a month)",
    "volatility": "war volatility (sd of monthly shocks, scale points)",
    "months_per_round": "months per round",
    "horizon_months": "horizon (months)",
    "discount": "discount factor (a month)",
    "belief_sd": "spread of beliefs about the balance of strength (sd)",
    "stakes": "what a war that goes on settles",
    "drift.capacity": "aggressor's capacity after a deal (log growth a month)",
    "guarantees.cost_per_force": "aggressor's cost per unit of guarantee force",
}
"""`war.<field>`: the war's parameters."""

PARTY = {
    "strategy": "strategy",
    "capability": "capability (weight)",
    "war_cost": "cost of war (utility a month)",
    "optimism": "optimism (share of strength)",
    "cost_belief": "belief about the others' costs (multiple of the true ones)",
    "deadline": "deadline (round)",
    "concession_exponent": "concession exponent",
    "reservation_value": "reservation value (utility)",
    "links": "linked issues",
}
"""`parties.<party>.<field>`: a party's parameters."""

STABILITY = {
    "model": "stability model",
    "robustness_draws": "draws for robustness",
    "durability_paths": "shock paths for durability",
}

# `<prefix>_<party>`: one column per party, the party taken from the column's name
PER_PARTY = {
    "u": "utility (0-1)",
    "reservation": "BATNA (utility)",
    "aspiration": "aspiration (utility)",
    "belief": "believed share of strength of the aggressor",
    "seated": "seated",
    "response": "response",
}

REASONS = {
    EndReason.agreement: "agreement",
    EndReason.not_binding: "agreed, not binding",
    EndReason.breakdown: "breakdown",
    EndReason.deadline: "no agreement by the deadline",
    EndReason.horizon: "no deal within the horizon",
    EndReason.ratification_failed: "signed, ratification failed",
}
"""How talks end (`sim.core.settings.EndReason`), in words: one entry per ending."""

FIXED = {**SETTINGS, **RESULTS}


def name(value: Any) -> str:
    """A name from the data (party, issue, level, scenario, protocol) as words."""
    return str(value).replace("_", " ")


def words(key: str) -> str:
    """Any key as words: dots and underscores become spaces."""
    return re.sub(r"\s+", " ", str(key).replace(".", " ").replace("_", " ")).strip()


def label(key: Any, aliases: Mapping[str, str] | None = None) -> str:
    """A readable name, with its unit, for a config key or result column.

    `war.support.ally` -> "ally support (share of capability)", `war.capacity.north` ->
    "north capacity (own strength)", `parties.north.war_cost` -> "north: cost of war
    (utility a month)", `war.support.ally_drawn` -> "ally support (share of capability),
    drawn", `stability_score` -> "stability score (0-1)". An alias in `aliases` (alias ->
    key) is named after its key. A text that already reads as words (with a space) is
    returned as it is.
    """
    key = str(key)
    if " " in key or not key:
        return key
    if aliases and key in aliases:
        return label(aliases[key])
    if key in FIXED:
        return FIXED[key]
    if key.endswith("_drawn"):
        return f"{label(key.removesuffix('_drawn'), aliases)}, drawn"
    for end in ("low", "high"):  # a share's interval (`sim.analysis.statistics.share_summary`)
        base = key.removesuffix(f"_{end}")
        if base != key and base in FIXED:
            return f"{FIXED[base]}, 95% interval, {end}"
    return _structured(key, aliases) or words(key)


def _structured(key: str, aliases: Mapping[str, str] | None) -> str | None:
    """The label of a key whose structure names a party or an issue, or None."""
    parts = key.split(".")
    head, rest = parts[0], parts[1:]
    if head == "uncertainty" and rest:
        return f"{label('.'.join(rest), aliases)}: how it is drawn"
    if head == "war" and rest:
        field = ".".join(rest)
        if field in WAR:
            return WAR[field]
        if len(rest) == 2 and rest[0] == "support":
            return f"{name(rest[1])} support (share of capability)"
        if len(rest) == 2 and rest[0] == "capacity":
            return f"{name(rest[1])} capacity (own strength)"
        if len(rest) == 3 and rest[:2] == ["drift", "supports"]:
            return f"{name(rest[2])} support after a deal (change a month)"
        if len(rest) >= 4 and rest[:2] == ["guarantees", "levels"]:
            level, what = name(rest[2]), rest[3]
            if what == "force" and len(rest) == 5:
                return f"{name(rest[4])}'s credibility in {level}"
            return f"{words(what)} of {level}"
        return f"war: {words(field)}"
    if head == "parties" and len(rest) >= 2:
        party, field = name(rest[0]), rest[1:]
        if len(field) == 3 and field[0] == "preferences":
            return f"{party}: {words(field[2])} of {name(field[1])}"
        joined = ".".join(field)
        return f"{party}: {PARTY.get(joined, words(joined))}"
    if head == "stability" and rest:
        if len(rest) == 2 and rest[0] == "thresholds":
            return f"threshold of {label(rest[1])}"
        return STABILITY.get(".".join(rest), f"stability: {words('.'.join(rest))}")
    if len(parts) == 1:
        prefix, sep, who = key.partition("_")
        if sep and prefix in PER_PARTY and who:
            return f"{name(who)}: {PER_PARTY[prefix]}"
        if key.endswith("_position"):
            return f"{name(key[: -len('_position')])}: agreed position (scale 0-100)"
    return None


def value_label(value: Any) -> str:
    """A value as text: numbers as short as they are (`0.5`, `70`), names in words."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):g}"
    return name(value)


def tick_labels(values: Iterable[Any]) -> list[str]:
    """Tick labels for the values of an axis: numbers rounded to what the spacing between
    them can tell apart (bin midpoints 0.0625, 0.1875 -> "0.06", "0.19"; 3.159 among
    values 0.36 apart -> "3.2"), never more digits than the values have; names in words."""
    values = list(values)
    numbers = []
    for v in values:
        if isinstance(v, bool) or not _is_number(v):
            return [value_label(v) for v in values]
        numbers.append(float(v))
    finite = sorted({x for x in numbers if math.isfinite(x)})
    exact = 0  # the digits the values have
    while exact < 12 and any(abs(x - round(x, exact)) > 1e-9 * max(1, abs(x)) for x in finite):
        exact += 1
    gaps = [b - a for a, b in itertools.pairwise(finite) if b > a]
    # a rounding error below a quarter of the smallest gap
    enough = max(0, math.ceil(-math.log10(min(gaps) / 2))) if gaps else exact
    if enough < exact:  # rounded: every label with as many decimals
        return [f"{x:.{enough}f}" if math.isfinite(x) else str(x) for x in numbers]
    return [_short(x) for x in numbers]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _short(x: float) -> str:
    """A number without trailing zeros (as `:g`, without its exponents)."""
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.12f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def ending(reason: Any) -> EndReason | None:
    """A row's `reason` as the enum, or None for a value no ending has (a failed job's)."""
    try:
        return EndReason(str(reason))
    except ValueError:
        return None


def reason_label(reason: Any) -> str:
    """How the talks ended, in words."""
    return REASONS.get(str(reason), name(reason))


def scenarios_text(frame: Any, most: int = 3) -> str | None:
    """The scenario(s) of result rows in words (up to `most` named, else how many), or None
    without a `scenario` column."""
    column = next((c for c in ("scenario", "scenario_name") if c in frame), None)
    if column is None:
        return None
    found = [str(v) for v in dict.fromkeys(frame[column].dropna())]
    if not found:
        return None
    if len(found) > most:
        return f"{len(found)} scenarios"
    return ", ".join(name(v) for v in found)


def where_text(frame: Any) -> str | None:
    """What result rows are from: the sweep (when they carry its name) and the scenario(s)."""
    scenarios = scenarios_text(frame)
    sweeps = (
        [str(v) for v in dict.fromkeys(frame["sweep_name"].dropna())]
        if "sweep_name" in frame
        else []
    )
    sweep = f"sweep {name(sweeps[0])}" if len(sweeps) == 1 else None
    if sweep and scenarios:
        return f"{sweep}, {scenarios}"
    return sweep or scenarios


def with_where(title: str | None, frame: Any) -> str | None:
    """`title` with what the rows are from on a line of its own, unless it says so."""
    where = where_text(frame)
    if not title or not where or where in title:
        return title
    return f"{title}\n{where}"


def negotiation_title(row: Mapping[str, Any], issues: Sequence[str] = (), width: int = 90) -> str:
    """The title of one negotiation: its scenario, protocol and seating, then how it ended
    (the agreed terms, or the end and why) when `row` has a `reason`.

    `row` is a result row (`python -m sim`'s, `PageNegotiation.row()`) or any mapping with
    `scenario`, `protocol`, `seating` and optionally `reason`, `round`, `months`,
    `binding`, `walked_out` and a level per issue in `issues`.
    """
    head = (
        f"{name(row.get('scenario', ''))}: {name(row.get('protocol', ''))}, "
        f"seating {name(row.get('seating', ''))}"
    )
    reason = row.get("reason")
    if reason is None or (isinstance(reason, float) and math.isnan(reason)):
        return head
    return head + "\n" + wrap(outcome_text(row, issues), width)


def wrap(text: str, width: int = 90) -> str:
    """`text` on lines of at most about `width` characters, broken after "; " where it
    can be (an agreement's terms stay whole), else between words."""
    pieces = re.split(r"(?<=; )", text)
    lines = [""]
    for piece in pieces:
        if lines[-1] and len(lines[-1]) + len(piece) > width:
            lines.append("")
        lines[-1] += piece
    return "\n".join(textwrap.fill(line.rstrip(), width) for line in lines)


def outcome_text(row: Mapping[str, Any], issues: Sequence[str] = ()) -> str:
    """How the talks ended, in words: the terms of a deal, or the end and why."""
    reason = ending(row.get("reason"))
    when = f"round {row.get('round')}" if row.get("round") is not None else ""
    months = row.get("months")
    if when and _is_number(months) and math.isfinite(months) and months != row.get("round"):
        when += f" (month {float(months):g})"
    terms = "; ".join(
        f"{name(issue)}: {value_label(row[issue])}"
        for issue in issues
        if row.get(issue) is not None
        and not (isinstance(row[issue], float) and math.isnan(row[issue]))
    )
    match reason:
        case EndReason.agreement:
            text = f"binding agreement in {when}"
        case EndReason.not_binding:
            text = f"agreed in {when}, not binding (a controlling party has not signed)"
        case EndReason.breakdown:
            who = [name(p) for p in str(row.get("walked_out") or "").split(",") if p]
            text = f"breakdown in {when}" + (f": {' and '.join(who)} walked out" if who else "")
        case EndReason.horizon:
            text = f"no deal within the horizon ({when}): still fighting"
        case EndReason.deadline:
            text = f"no agreement by the deadline ({when})"
        case EndReason.ratification_failed:
            who = [name(p) for p in str(row.get("rejected_by") or "").split(",") if p]
            text = f"signed in {when}, then rejected by the ratifiers of {' and '.join(who)}"
        case _:
            text = f"{reason_label(row.get('reason'))}, {when}"
    if terms and reason is not None and reason.has_terms:
        text += f": {terms}"
    return text


def aliases_of(cfg: Any) -> dict[str, str]:
    """A config's aliases: alias -> the key it sets (`ally_support` -> `war.support.ally`)."""
    from sim.experiment.aliases import alias_targets

    return {alias: target for target, alias in alias_targets(cfg).items()}


def frame_aliases(frame: Any, sample: int = 2000) -> dict[str, str]:
    """Aliases found in result rows: a column without a dot (`ally_support`) whose values
    equal, row by row, those of one dotted column that shares a word with it
    (`war.support.ally`; a word of one may be the start of the other's: `al_support`).
    Rows carry both, a scenario's alias and the key it sets; a few rows are compared."""
    columns = [str(c) for c in frame.columns]
    keys = [
        c
        for c in columns
        if "." in c and not c.startswith("uncertainty.") and not c.endswith("_drawn")
    ]
    loose = [
        c
        for c in columns
        if "." not in c
        and c not in FIXED
        and not c.endswith("_drawn")
        and _structured(c, None) is None
    ]
    if not keys or not loose:
        return {}
    if "error" in frame:  # a failed job's row may hold what it was given, unresolved
        frame = frame[frame["error"].isna()]
    rows = frame.iloc[:: max(1, len(frame) // sample)] if len(frame) > sample else frame
    found: dict[str, str] = {}
    for column in loose:
        mine = set(column.split("_"))
        scored = []
        for key in keys:
            theirs = set(re.split(r"[._]", key))
            score = 2 * len(mine & theirs) + sum(
                1 for a in mine for b in theirs if a != b and len(a) > 1 and b.startswith(a)
            )
            if score >= 2 and _same(rows[column], rows[key]):
                scored.append((score, key))
        scored.sort(reverse=True)
        if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
            found[column] = scored[0][1]
    return found


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(((a == b) | (a.isna() & b.isna())).all()) and bool(a.notna().any())
    except (TypeError, ValueError):
        return False
