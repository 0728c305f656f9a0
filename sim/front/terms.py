"""A run's terms sheet (`results/runs/<ts>/deal.md`): the scenario and settings, the terms
agreed with what each level means on the scenario's own scale (its named anchors), each
party's gain over war, the stability verdict with its reasons, and the figure. Terms are
explained in docs/glossary.md."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
SETTINGS = (  # what a reader needs to know of how the talks were run (config keys)
    "protocol",
    "seating",
    "bargaining",
    "information",
    "batna",
    "mediator",
    "mediator_bias",
    "guarantees_offer",
    "max_rounds",
    "seed",
)


def words(name: str) -> str:
    """`freeze_current_line` -> "freeze current line"."""
    return str(name).replace("_", " ")


def level_meaning(value: float, anchors: Mapping[str, float]) -> str:
    """Where `value` sits on a scale with named `anchors`: the anchor it is, or the two it
    lies between (or the one it is beyond)."""
    points = sorted((float(v), str(k)) for k, v in anchors.items())
    if not points:
        return ""
    for v, name in points:
        if abs(value - v) < 1e-9:
            return words(name)
    below = [(v, n) for v, n in points if v < value]
    above = [(v, n) for v, n in points if v > value]
    if below and above:
        (lv, ln), (hv, hn) = below[-1], above[0]
        return f"between {words(ln)} ({lv:g}) and {words(hn)} ({hv:g})"
    v, name = below[-1] if below else above[0]
    return f"{'beyond' if below else 'short of'} {words(name)} ({v:g})"


def scale_words(value: float, low: tuple[float, str], high: tuple[float, str]) -> str:
    """Where `value` sits between a scale's two ends (position, name; "" unnamed), saying
    what the ends mean and never naming the level `value` is a second time."""
    (lv, ln), (hv, hn) = low, high

    def point(position: float, name: str) -> str:
        return f"{position:g} ({words(name)})" if name else f"{position:g}"

    for at, other, end in ((lv, (hv, hn), "low"), (hv, (lv, ln), "high")):
        if abs(value - at) < 1e-9:
            if other[1]:
                return f"the {end} end of the scale, where {other[0]:g} is {words(other[1])}"
            return f"the {end} end of its {lv:g}-{hv:g} scale"
    if ln and hn:
        return f"on a scale where {lv:g} is {words(ln)} and {hv:g} is {words(hn)}"
    return f"on a scale from {point(lv, ln)} to {point(hv, hn)}"


def level_words(level: Any, spec: Mapping[str, Any]) -> tuple[str, str]:
    """An issue's level in words, once, and what it means on the issue's scale (`spec`,
    the issue's config): a point of a continuous scale by its named `anchors`, an ordinal
    level by its position; each with what the scale's ends mean."""
    anchors = {str(k): float(v) for k, v in dict(spec.get("anchors") or {}).items()}
    levels = {str(k): float(v) for k, v in dict(spec.get("levels") or {}).items()}
    if levels:  # ordinal: the level's name says it, its position places it
        if str(level) not in levels:
            return words(level), ""
        ranked = sorted((v, k) for k, v in levels.items())
        position = levels[str(level)]
        if ranked[0][0] == ranked[-1][0]:
            return words(level), "the only position of its scale"
        return words(level), f"{position:g}, {scale_words(position, ranked[0], ranked[-1])}"
    if spec.get("categories"):  # no order: the other choices
        others = [words(c) for c in spec["categories"] if str(c) != str(level)]
        return words(level), "a choice without order" + (
            f"; the others: {', '.join(others)}" if others else ""
        )
    try:
        value = float(level)
    except (TypeError, ValueError):
        return words(level), ""
    low, high = float(spec.get("low", 0.0)), float(spec.get("high", 100.0))
    named: dict[float, str] = {}
    for name, position in anchors.items():
        named.setdefault(position, name)
    ends = (low, named.get(low, "")), (high, named.get(high, ""))
    where = scale_words(value, *ends)
    meaning = level_meaning(value, anchors) if anchors else ""
    return str(level), f"{meaning}, {where}" if meaning else where


def terms_rows(cfg: Any, row: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(issue, agreed level in words, what it means) per issue of the deal."""
    out = []
    for issue, spec in cfg.issues.items():
        level = row.get(issue)
        if level is None:
            continue
        agreed, meaning = level_words(level, spec)
        out.append((str(issue), agreed, meaning))
    return out


def terms_sheet(
    cfg: Any,
    row: Mapping[str, Any],
    parties: list[str],
    stability_lines: list[str],
    folder: Path,
    figure: str = "negotiation.png",
    last_text: tuple[Mapping[str, Any], Mapping[str, float]] | None = None,
) -> str:
    """The Markdown terms sheet of one run's first replication; without a deal, the text
    on the table when the talks ended (`last_text`: a row with its levels, and each
    party's value of it), if any."""
    glossary = None
    if GLOSSARY.exists():  # a relative link inside the repository, else the file's path
        inside = GLOSSARY.parent.parent in folder.resolve().parents
        glossary = os.path.relpath(GLOSSARY, folder.resolve()) if inside else str(GLOSSARY)
    title = f"# Terms sheet: {row['scenario']} ({row['protocol']}, {row['seating']})"
    lines = [title, ""]
    if row["outcome"] >= 0:
        kind = "A binding agreement" if row["binding"] else "An agreement NOT binding"
        lines.append(f"{kind} in round {row['round']} (month {row['months']:g}).")
        lines += ["", "## The terms", "", "| issue | agreed | what it means |", "|---|---|---|"]
        lines += [f"| {i} | {level} | {meaning} |" for i, level, meaning in terms_rows(cfg, row)]
    else:
        lines.append(
            f"No agreement: the talks ended with `{row['reason']}` in round {row['round']}."
        )
        if last_text is not None:
            levels, _ = last_text
            lines += ["", "## The last text on the table", "", "| issue | level | what it means |"]
            lines.append("|---|---|---|")
            lines += [f"| {i} | {lv} | {meaning} |" for i, lv, meaning in terms_rows(cfg, levels)]
    what = "the deal" if row["outcome"] >= 0 or last_text is None else "the last text"
    lines += [
        "",
        "## Each party's gain over war",
        "",
        "Utilities are each party's own 0-1 scale: compare a party's deal with its BATNA, "
        "not parties with each other.",
        "",
        f"| party | utility of {what} | BATNA (value of fighting on) | gain |",
        "|---|---|---|---|",
    ]
    for p in parties:
        u = float(row[f"u_{p}"]) if what == "the deal" else float(last_text[1][p])
        r = float(row[f"reservation_{p}"])
        lines.append(f"| {p} | {u:.3f} | {r:.3f} | {u - r:+.3f} |")
    if row.get("agreement"):
        verdict = "stable" if row["stable"] else "not stable"
        lines += ["", f"## Stability: {verdict}", ""]
        lines += [f"- {line.strip()}" for line in stability_lines]
        if row.get("failing_parts"):
            lines.append(f"- failing checks (column `failing_parts`): {row['failing_parts']}")
    lines += ["", "## Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {row[key]} |" for key in SETTINGS if key in row]
    if row.get("overrides"):
        lines.append(f"| command line | `{row['overrides']}` |")
    lines += ["", "## The negotiation", "", f"![each party's utility round by round]({figure})"]
    if glossary:
        lines += [
            "",
            f"Terms (BATNA, ZOPA, robustness, ...) are explained in [the glossary]({glossary}).",
        ]
    return "\n".join(lines) + "\n"
