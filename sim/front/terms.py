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


def terms_rows(cfg: Any, row: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(issue, agreed level, what it means) per issue of the deal."""
    out = []
    for issue, spec in cfg.issues.items():
        level = row.get(issue)
        if level is None:
            continue
        anchors = dict(spec.get("anchors") or {})
        try:
            meaning = level_meaning(float(level), anchors) if anchors else words(level)
        except (TypeError, ValueError):  # an ordinal issue: its level's name says it
            levels = dict(spec.get("levels") or {})
            meaning = words(level) + (
                f" ({levels[level]:g} on its scale)" if level in levels else ""
            )
        out.append((str(issue), str(level), meaning))
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
