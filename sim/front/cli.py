"""The command line's single run (`python -m sim` without --multirun): negotiate once,
print the outcome-space landscape and the negotiation, write results/runs/<timestamp>/;
and the Hydra task that dispatches a job to it or to the sweep (`sim.experiment.jobs`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.statistics import describe_deals
from sim.core import solutions
from sim.core.preferences import controls_nothing
from sim.core.scenario import Scenario
from sim.core.settings import EndReason, Staying
from sim.core.stability import Thresholds
from sim.engine.agents import Walkout
from sim.engine.single import NegotiationModel
from sim.experiment import results
from sim.experiment.compiler import compile_job
from sim.experiment.jobs import (
    ANNOUNCE_FROM,
    JobProgress,
    announce,
    run_job,
    run_sweep_job,
    run_sweep_pack,
    task_overrides,
)
from sim.experiment.output_folders import check_writable, run_folder, runs_dir
from sim.experiment.replication import CONCEPTS, concept_outcomes
from sim.experiment.results import write_parquet_atomic


def landscape(
    scenario: Scenario, d: np.ndarray, mediator: str | None = None, mediator_bias: float = 1.0
) -> dict[str, Any]:
    """Outcome-space facts as one flat row: sizes, ideals, concepts with levels and utilities.

    A party's ideal on an issue is its ideal outcome's level where it weighs the issue, else
    the level it states it values most (None where it values all alike). With `mediator`
    (and its `mediator_bias`), `mediator_unweighted` names the issues whose stake the
    mediator loses (`sim.core.preferences.mediator_stakes`): those it states a preference on
    but controls no level of, when the bias is below 1."""
    U = scenario.utilities
    feasible = scenario.acceptable
    row: dict[str, Any] = {
        "scenario": scenario.name,
        "n_outcomes": scenario.space.size,
        "n_feasible": int(feasible.sum()),
        "pareto_size": int(solutions.pareto_mask(U[:, feasible]).sum()) if feasible.any() else 0,
        "zopa_size": int((solutions.zopa_mask(U, d) & feasible).sum()),
    }
    for i, party in enumerate(scenario.parties):
        row[f"reservation_{party}"] = float(d[i])
    for party, levels in zip(scenario.parties, stated_ideals(scenario), strict=True):
        for issue, level in levels.items():
            row[f"ideal_{party}_{issue}"] = level
    if mediator is not None and mediator in scenario.parties:
        m = scenario.parties.index(mediator)
        prefs = scenario.preferences
        nothing = controls_nothing(scenario.issue_control, scenario.level_control, m)
        unweighted = [
            issue
            for k, issue in enumerate(scenario.space.names)
            if nothing[k] and np.ptp(prefs.level_values[k][m]) > 0
        ]
        row["mediator"], row["mediator_bias"] = mediator, float(mediator_bias)
        row["mediator_unweighted"] = ",".join(unweighted) if float(mediator_bias) < 1 else ""
    for concept, outcome in concept_outcomes(U, d, feasible).items():
        row[f"{concept}_outcome"] = -1 if outcome is None else outcome
        for issue in scenario.space.names:
            row[f"{concept}_{issue}"] = (
                None if outcome is None else scenario.space.levels_of(outcome)[issue]
            )
        for i, party in enumerate(scenario.parties):
            row[f"{concept}_u_{party}"] = np.nan if outcome is None else float(U[i, outcome])
    return row


def stated_ideals(scenario: Scenario) -> list[dict[str, str | None]]:
    """Per party, its ideal level of each issue: its ideal outcome's level where it weighs
    the issue; where it does not (a mediator without a stake in it), the level it values
    most among those its red lines allow, as the scenario states it; None where it values
    every allowed level alike."""
    prefs = scenario.preferences
    best = prefs.ideal_outcomes(scenario.utilities)
    found = []
    for i, outcome in enumerate(best):
        levels: dict[str, str | None] = dict(scenario.space.levels_of(int(outcome)))
        for k, issue in enumerate(scenario.space.issues):
            if prefs.weights[i, k] > 0:
                continue
            values = np.where(prefs.red_lines[k][i], -np.inf, prefs.level_values[k][i])
            allowed = values[np.isfinite(values)]
            if allowed.size == 0 or np.ptp(allowed) == 0:
                levels[issue.name] = None
                continue
            top = np.flatnonzero(values == values.max())
            now = issue.levels.index(levels[issue.name])
            levels[issue.name] = issue.levels[now if now in top else int(top[0])]
        found.append(levels)
    return found


def name_width(parties: Sequence[str], least: int = 9) -> int:
    """The width of a table's party column: its longest name, at least `least`."""
    return max([least, *(len(p) for p in parties)])


def joined(names: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c` ("" for none)."""
    names = list(names)
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def mediator_line(scenario: Scenario, row: dict[str, Any]) -> str | None:
    """Which stakes the mediator loses under its `mediator_bias`, and why, in words; None
    when it loses none."""
    unweighted = [i for i in str(row.get("mediator_unweighted") or "").split(",") if i]
    if not unweighted:
        return None
    mediator, bias = row["mediator"], float(row["mediator_bias"])
    them = "it" if len(unweighted) == 1 else "them"
    why = f"it controls no level of {them}"
    head = f"  {mediator} (mediator, mediator_bias={bias:g}): "
    if bias > 0:
        return (
            f"{head}its stake in {joined(unweighted)} counts {bias:g} times its stated "
            f"salience ({why})"
        )
    weights = scenario.preferences.weights[scenario.parties.index(mediator)]
    weighed = [issue for issue, w in zip(scenario.space.names, weights, strict=True) if w > 0]
    counts = (
        f"its utilities below weigh only {joined(weighed)}"
        if weighed
        else "its utilities below are all 0"
    )
    return (
        f"{head}no stake in {joined(unweighted)} ({why}): the ideal shown there is the one "
        f"it states, and {counts}"
    )


def format_landscape(scenario: Scenario, row: dict[str, Any]) -> str:
    parties = scenario.parties
    width = name_width(parties)
    lines = [
        f"scenario {row['scenario']}: {row['n_outcomes']:,} outcomes "
        f"({row['n_feasible']:,} cross no red line), Pareto frontier {row['pareto_size']:,}, "
        f"ZOPA {row['zopa_size']:,}",
        "reservation values: " + ", ".join(f"{p} {row[f'reservation_{p}']:.3f}" for p in parties),
        "ideal outcomes:",
    ]
    for p in parties:
        levels = ", ".join(
            f"{i}={'any' if row[f'ideal_{p}_{i}'] is None else row[f'ideal_{p}_{i}']}"
            for i in scenario.space.names
        )
        lines.append(f"  {p:<{width + 1}} {levels}")
    stakes = mediator_line(scenario, row)
    if stakes is not None:
        lines.append(stakes)
    lines.append("solution concepts (utility per party):")
    for concept in CONCEPTS:
        if row[f"{concept}_outcome"] < 0:
            lines.append(f"  {concept:<18} none: the zone of possible agreement is empty")
            continue
        levels = ", ".join(f"{i}={row[f'{concept}_{i}']}" for i in scenario.space.names)
        utils = " ".join(f"{p}={row[f'{concept}_u_{p}']:.3f}" for p in parties)
        lines.append(f"  {concept:<18} {levels}  |  {utils}")
    return "\n".join(lines)


def ending_line(scenario: Scenario, row: dict[str, Any]) -> str:
    """How the talks ended, the first line of the printout (`EndReason`, one case each)."""
    when = f"round {row['round']}"
    match EndReason(row["reason"]):
        case EndReason.agreement | EndReason.not_binding if row["outcome"] >= 0:
            levels = ", ".join(f"{i}={row[i]}" for i in scenario.space.names)
            kind = (
                "binding agreement"
                if row["binding"]
                else "NOT binding (a controlling party has not signed)"
            )
            return f"{kind} in {when} (month {row['months']:g}): {levels}"
        case EndReason.breakdown:
            hopeful = row.get("staying") == str(Staying.hopeful)
            why = {
                str(Walkout.batna): "it sees no deal it would take before its deadline"
                if hopeful
                else "its BATNA beat anything it could still get",
                str(Walkout.deadline): "a hard-liner at its deadline",
            }
            left = [
                f"{who} ({why.get(reason, reason)})"
                for who, reason in zip(
                    row["walked_out"].split(","), row["walkout_reason"].split(","), strict=True
                )
            ]
            return f"breakdown in {when}: walked out: " + "; ".join(left)
        case EndReason.not_binding:
            framework = scenario.space.describe(row["framework_outcome"])
            return (
                f"no binding agreement by {when}; "
                f"the framework ({framework}) was never signed by every controlling party"
            )
        case EndReason.ratification_failed:
            signed = scenario.space.describe(row["signed_outcome"])
            by = [
                f"{p}'s {scenario.ratifiers[scenario.party_index(p)]}"
                for p in row["rejected_by"].split(",")
            ]
            rejected = " and ".join(by)
            return f"signed in {when} ({signed}), then rejected by {rejected}: ratification failed"
        case EndReason.horizon:
            return f"no deal within the horizon ({row['months']:g} months, {when}): still fighting"
        case _:
            return f"no agreement by the deadline ({when})"


def percent(share: float) -> int:
    """A share as whole percent, as the printout shows it."""
    return round(float(share) * 100)


def verdict_line(row: dict[str, Any]) -> str:
    """The talks in one plain sentence, from the row's columns: a deal, with the share of
    plausible worlds (robustness draws) in which it fails and the drawn input it fails most
    with; or no deal, and why."""
    when = f"round {row['round']}"
    if row["agreement"]:
        text = f"a deal in {when}"
        robustness = row.get("robustness")
        if robustness is None or not np.isfinite(robustness):
            return text
        if robustness >= 1:
            return f"{text} that holds in every plausible world drawn"
        if robustness <= 0:
            return f"{text} that fails in every plausible world drawn"
        failing = percent(1 - robustness)
        text += (
            f" that fails in {failing}% of plausible worlds"
            if failing > 0
            else " that fails in fewer than 1% of plausible worlds"
        )
        shock = row.get("robustness_shock") or ""
        if shock:
            key, _, direction = shock.partition(":")
            text += f", mostly when {drawn_words(key)} is {direction}"
        return text
    match EndReason(row["reason"]):
        case EndReason.breakdown:
            who = [p for p in str(row.get("walked_out") or "").split(",") if p]
            return f"no deal: {joined(who)} walked out in {when}" if who else f"no deal: {when}"
        case EndReason.ratification_failed:
            who = [p for p in str(row.get("rejected_by") or "").split(",") if p]
            return f"no deal: signed in {when}, then rejected by the ratifiers of {joined(who)}"
        case EndReason.not_binding if row["outcome"] >= 0:
            return f"no binding deal: agreed in {when}, but a controlling party has not signed"
        case EndReason.not_binding:
            return f"no binding deal by {when}: a controlling party never signed the framework"
        case EndReason.horizon:
            return f"no deal: still fighting at the horizon ({row['months']:g} months, {when})"
        case _:
            return f"no deal by the deadline ({when})"


def format_negotiation(model: NegotiationModel, row: dict[str, Any]) -> str:
    scenario = model.problem
    width = name_width(scenario.parties)
    head = f"{row['scenario']} | {row['protocol']} | {row['seating']}: "
    lines = [f"in short: {verdict_line(row)}", head + ending_line(scenario, row)]
    zopa = f"ZOPA {row['zopa_size']:,} outcomes in the last round"
    if scenario.war_sides is None:  # a decision without a war: no line, no balance
        lines.append(zopa)
    else:
        lines.append(
            f"contact line {row['contact_line']:.1f} ({scenario.territory_issue} scale), "
            f"{row['war.aggressor']}'s share of strength {row['p_share']:.2f}, {zopa}"
        )
    if row["bargaining"] == "fighting":
        lines.append(
            "beliefs about the balance of strength: spread "
            f"{row['belief_gap_start']:.3f} in round 1, {row['belief_gap_end']:.3f} at the end"
        )
    text = None if row["outcome"] >= 0 else last_text(model)
    if row["outcome"] >= 0 or text is not None:  # the deal, or the text the talks ended on
        if text is not None:
            lines.append(f"the last text on the table: {scenario.space.describe(text[0])}")
        value = "utility" if text is None else "of text"
        lines.append(f"{'party':<{width + 2}} {value:>7} {'BATNA':>7} {'margin':>8}")
        for i, p in enumerate(scenario.parties):
            u = row[f"u_{p}"] if text is None else float(text[1][i])
            r = row[f"reservation_{p}"]
            lines.append(f"  {p:<{width}} {u:7.3f} {r:7.3f} {u - r:+8.3f}")
    else:
        lines.append(f"{'party':<{width + 2}} {'BATNA':>7}")
        lines += [f"  {p:<{width}} {row[f'reservation_{p}']:7.3f}" for p in scenario.parties]
    if row["outcome"] >= 0:
        lines.append(
            f"distance in utility space: to Nash {row['dist_nash']:.3f}, "
            f"to Kalai-Smorodinsky {row['dist_ks']:.3f}"
        )
    if model.anticipations is not None:
        lines += format_anticipation(model, row)
    if row["agreement"]:
        lines += format_stability(row)
    return "\n".join(lines)


def last_text(model: NegotiationModel) -> tuple[int, np.ndarray] | None:
    """The text on the table when talks ended without a deal, with each party's value of
    it (on the path it anticipates, under self-enforcement: what it weighed against its
    BATNA); None when there was none."""
    text = int(model.texts[0])
    if text < 0:
        return None
    return text, model.u_at(np.array([0]), np.array([text]))[0]


def format_anticipation(model: NegotiationModel, row: dict[str, Any], step: int = 6) -> list[str]:
    """Self-enforcement (docs/model.md, "Self-enforcing settlements"): for the deal, or the
    outcome the talks stand on, each belligerent's value of renewing the war month by
    month after it, against the deal's value to it, and whether it is self-enforcing."""
    found = model.anticipations[0]
    scenario = model.problem
    count = int(np.count_nonzero(found.self_enforcing))
    lines = [
        f"self-enforcing deals: {count:,} of {scenario.space.size:,} outcomes hold for "
        f"{int(found.months[-1])} months on the path the parties anticipate"
    ]
    outcome = row["outcome"] if row["outcome"] >= 0 else max(int(model.texts[0]), -1)
    if outcome < 0:
        return [*lines, "  the mediator had no self-enforcing deal to draft"]
    which = "the deal" if row["outcome"] >= 0 else "the last text"
    renewal = found.renewal_month(outcome)
    verdict = (
        "self-enforcing: no belligerent prefers renewed war"
        if renewal is None
        else f"NOT self-enforcing: the war resumes in month {renewal:g}"
    )
    lines.append(f"{which} is {verdict}; value of renewing the war, months after it:")
    shown = found.months[::step]
    width = name_width(scenario.parties)
    months = "".join(f"{int(m):>7}" for m in shown)
    lines.append(f"  {'month':<{width}} {months} {'deal':>7} {'on the path':>11}")
    deal = scenario.utilities[:, outcome]
    path = found.path(outcome)[::step]
    for i in scenario.war_sides or ():
        values = "".join(f"{v:7.3f}" for v in path[:, i])
        on_path = found.values[i, outcome]  # -inf: broken at once, no deal
        shown_value = f"{on_path:7.3f}" if np.isfinite(on_path) else "   none"
        lines.append(f"  {scenario.parties[i]:<{width}} {values} {deal[i]:7.3f} {shown_value:>11}")
    return lines


FAILING = {
    "ir_margin": "a signatory below its BATNA",
    "pareto_gap": "not Pareto efficient",
    "blocking_coalitions": "a blocking coalition",
    "robustness": "robustness below {robustness:g}",
    "durability": "durability below {durability:g}",
    "commitment_ratio": "a commitment problem",
}


def format_stability(row: dict[str, Any]) -> list[str]:
    """The deal's stability part by part, against the thresholds it was judged by, and why
    it holds or breaks (`sim.experiment.replication` reasons columns)."""
    prefix = "stability.thresholds."
    t = Thresholds(**{k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)})
    n = int(row["blocking_coalitions"])
    blocked = (
        "no blocking coalition"
        if n == 0
        else f"{n} blocking coalition{'s' * (n > 1)} (the best gains {row['blocking_surplus']:.3f})"
    )
    guarantee = f"guarantee force {row['guarantee_force']:.2f}" + (
        ", monitored" if row["monitored"] else ", not monitored"
    )
    failed = [
        FAILING[part].format(robustness=t.robustness, durability=t.durability)
        for part in filter(None, row["failing_parts"].split(","))
    ]
    verdict = "stable" if row["stable"] else "not stable: " + ", ".join(failed)
    ratio = row["commitment_ratio"]
    powell = (
        ""
        if np.isnan(ratio)
        else f", Powell's ratio {ratio:.2f} (needs at most {t.commitment_ratio:g})"
    )
    walker = row["closest_to_walking"]
    lines = [
        f"stability: {blocked}; {guarantee}",
        f"  robustness {row['robustness']:.2f} (needs at least {t.robustness:g}), durability "
        f"{row['durability']:.2f} (needs at least {t.durability:g}){powell} -> {verdict}",
        f"  nearest to walking away: {walker} "
        f"(margin {row[f'u_{walker}'] - row[f'reservation_{walker}']:+.3f})",
    ]
    if row["blocking_coalition"]:
        members = row["blocking_coalition"].split(",")
        alone = "would do better on its own"
        if len(members) > 1:
            alone = "would each do better on their own"
        lines.append(f"  {joined(members)} {alone} with {row['blocking_alternative']}")
    breaker = row.get("robustness_breaker") or ""
    if breaker:
        shock = row.get("robustness_shock") or ""
        when = ""
        if shock:
            key, _, direction = shock.partition(":")
            when = f"; it fails most when {drawn_words(key)} is drawn {direction}"
        lines.append(f"  what breaks it: {breaking_words(row)}{when}")
    return lines


def breaking_words(row: dict[str, Any]) -> str:
    """The share of robustness draws in which the deal fails, split into those in which
    some signatory would rather fight (and the one that would most often) and those in
    which only a blocking coalition breaks it; the two parts, in whole percent, add up to
    the whole."""
    failing = 1 - float(row["robustness"])
    total = percent(failing)
    head = f"it fails in {total}% of the redraws of the uncertain inputs"
    breaker = row["robustness_breaker"]
    blocked = row.get("robustness_blocked_share")
    if blocked is None or not np.isfinite(blocked):  # a row without the split
        if breaker == "blocking coalition":
            return f"{head}; most often a coalition could block it"
        share = percent(row["robustness_breaker_share"])
        return f"{head}; most often {breaker} would rather fight (in {share}% of the redraws)"
    walking = failing - float(blocked)
    fight = percent(walking)  # and `total - fight` blocked: the parts add up to the whole
    if walking < 1e-9:
        return (
            f"{head}, in all of them because a coalition could block it "
            "(no party would rather fight)"
        )
    share = float(row["robustness_breaker_share"])
    who = (
        f"{breaker} would rather fight"
        if abs(share - walking) < 1e-9  # in every draw where some signatory would
        else f"some party would rather fight (most often {breaker}, in {percent(share)}% of "
        "the redraws)"
    )
    if blocked < 1e-9:
        return f"{head}, in all of them because {who}"
    return (
        f"{head}: in {fight}% because {who}, in the other {total - fight}% because a "
        "coalition could block it while no party would rather fight"
    )


def drawn_words(key: str) -> str:
    """A robustness draw's input (`sim.experiment.assessment.drawn_inputs`) in words."""
    parts = key.split(".")
    if parts[0] == "war" and len(parts) == 3:
        return f"{parts[2]}'s {parts[1]}"
    if parts[0] == "parties" and len(parts) == 3:
        return f"{parts[1]}'s {parts[2].replace('_', ' ')}"
    return key.replace("_", " ").replace(".", " ")


def run_single(cfg: Any) -> dict[str, Any]:
    """`python -m sim`: negotiate, print, write results/runs/<timestamp>/."""
    check_writable(runs_dir(cfg.results_dir))  # before the work, writing nothing
    outputs = _run_single(cfg)
    with run_folder(runs_dir(cfg.results_dir)) as (staging, final):
        row = outputs(staging)
    print(f"wrote {final}/ (deal.md, result.parquet, trace.parquet, negotiation.png)")
    return row


def _run_single(cfg: Any) -> Callable[[Path], dict[str, Any]]:
    """Negotiate and print; returns the function that writes the run's files into a folder:
    the rows, the trace, negotiation.png (the trajectory, titled with the scenario, the
    protocol, the seating and how the talks ended) and deal.md (the terms sheet)."""
    from sim.front import figures
    from sim.front.labels import negotiation_title, reason_label
    from sim.front.terms import terms_sheet

    job = compile_job(cfg, task_overrides())
    progress = None
    if job.design.size >= ANNOUNCE_FROM:
        print(f"running {announce(job)}", flush=True)
        progress = JobProgress("run", every=15.0)
    rows, model = run_job(job, collect_trace=True, progress=progress)
    scenario = model.problem
    facts = landscape(
        scenario, model.reservations, rows[0].get("mediator"), rows[0].get("mediator_bias", 1.0)
    )
    rows = [{**{k: v for k, v in facts.items() if k not in r}, **r} for r in rows]
    row = rows[0]
    print(format_landscape(scenario, facts))
    print()
    print(format_negotiation(model, row))
    if len(rows) > 1:
        print(f"{len(rows)} replications: {describe_deals(pd.DataFrame(rows))}")
    trace = model.trace()

    def write(folder: Path) -> dict[str, Any]:
        write_parquet_atomic(results.rows_frame(rows), folder / "result.parquet")
        write_parquet_atomic(trace, folder / "trace.parquet")
        fig = figures.plot_trajectory(
            trace,
            scenario.parties,
            row["round"],
            f"{reason_label(row['reason'])}, round {row['round']}",
            reason=row["reason"],
            title=negotiation_title(row, scenario.space.names),
            protocol=row["protocol"],
        )
        fig.savefig(folder / "negotiation.png", dpi=120)
        stability = format_stability(row) if row["agreement"] else []
        text = None if row["agreement"] else last_text(model)
        if text is not None:  # its levels and values, as the sheet's columns read them
            text = (
                {**row, **scenario.space.levels_of(text[0])},
                dict(zip(scenario.parties, text[1], strict=True)),
            )
        sheet = terms_sheet(cfg, row, list(scenario.parties), stability, folder, last_text=text)
        (folder / "deal.md").write_text(sheet, encoding="utf-8")
        return row

    return write


def hydra_task(cfg: Any) -> Any:
    """The Hydra task: a single run, or one job of a multirun sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get() if HydraConfig.initialized() else None
    if hc is not None and hc.mode == RunMode.MULTIRUN:
        if cfg.sweep_pack is not None:
            return run_sweep_pack(cfg, Path(hc.sweep.dir))
        return run_sweep_job(cfg, Path(hc.sweep.dir))
    return run_single(cfg)
