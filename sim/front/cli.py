"""The command line's single run (`python -m sim` without --multirun): negotiate once,
print the outcome-space landscape and the negotiation, write results/runs/<timestamp>/;
and the Hydra task that dispatches a job to it or to the sweep (`sim.experiment.jobs`)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.statistics import describe_deals
from sim.core import solutions
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
from sim.experiment.replication import CONCEPTS, concept_outcomes
from sim.experiment.results import (
    check_writable,
    publish_run_dir,
    staging_run_dir,
    write_parquet_atomic,
)


def landscape(scenario: Scenario, d: np.ndarray) -> dict[str, Any]:
    """Outcome-space facts as one flat row: sizes, ideals, concepts with levels and utilities."""
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
    for party, outcome in zip(
        scenario.parties, scenario.preferences.ideal_outcomes(U), strict=True
    ):
        for issue, level in scenario.space.levels_of(int(outcome)).items():
            row[f"ideal_{party}_{issue}"] = level
    for concept, outcome in concept_outcomes(U, d, feasible).items():
        row[f"{concept}_outcome"] = -1 if outcome is None else outcome
        for issue in scenario.space.names:
            row[f"{concept}_{issue}"] = (
                None if outcome is None else scenario.space.levels_of(outcome)[issue]
            )
        for i, party in enumerate(scenario.parties):
            row[f"{concept}_u_{party}"] = np.nan if outcome is None else float(U[i, outcome])
    return row


def format_landscape(scenario: Scenario, row: dict[str, Any]) -> str:
    parties = scenario.parties
    lines = [
        f"scenario {row['scenario']}: {row['n_outcomes']:,} outcomes "
        f"({row['n_feasible']:,} cross no red line), Pareto frontier {row['pareto_size']:,}, "
        f"ZOPA {row['zopa_size']:,}",
        "reservation values: " + ", ".join(f"{p} {row[f'reservation_{p}']:.3f}" for p in parties),
        "ideal outcomes:",
    ]
    for p in parties:
        levels = ", ".join(f"{i}={row[f'ideal_{p}_{i}']}" for i in scenario.space.names)
        lines.append(f"  {p:<10} {levels}")
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


def format_negotiation(model: NegotiationModel, row: dict[str, Any]) -> str:
    scenario = model.problem
    head = f"{row['scenario']} | {row['protocol']} | {row['seating']}: "
    lines = [head + ending_line(scenario, row)]
    lines.append(
        f"contact line {row['contact_line']:.1f} (territory scale), "
        f"{row['war.aggressor']}'s share of strength "
        f"{row['p_share']:.2f}, ZOPA {row['zopa_size']:,} outcomes in the last round"
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
        lines.append(f"party       {'utility' if text is None else 'of text'}  BATNA   margin")
        for i, p in enumerate(scenario.parties):
            u = row[f"u_{p}"] if text is None else float(text[1][i])
            r = row[f"reservation_{p}"]
            lines.append(f"  {p:<9} {u:7.3f} {r:7.3f} {u - r:+8.3f}")
    else:
        lines.append("party       BATNA")
        lines += [f"  {p:<9} {row[f'reservation_{p}']:7.3f}" for p in scenario.parties]
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
    lines.append("  month     " + "".join(f"{int(m):>7}" for m in shown) + "   deal  on the path")
    deal = scenario.utilities[:, outcome]
    path = found.path(outcome)[::step]
    for i in scenario.war_sides or ():
        values = "".join(f"{v:7.3f}" for v in path[:, i])
        on_path = found.values[i, outcome]  # -inf: broken at once, no deal
        shown_value = f"{on_path:7.3f}" if np.isfinite(on_path) else "   none"
        lines.append(f"  {scenario.parties[i]:<9} {values} {deal[i]:7.3f} {shown_value}")
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
    powell = "" if np.isnan(ratio) else f", Powell's ratio {ratio:.2f} (<= {t.commitment_ratio:g})"
    walker = row["closest_to_walking"]
    lines = [
        f"stability: {blocked}; {guarantee}",
        f"  robustness {row['robustness']:.2f} (>= {t.robustness:g}), durability "
        f"{row['durability']:.2f} (>= {t.durability:g}){powell} -> {verdict}",
        f"  nearest to walking away: {walker} "
        f"(margin {row[f'u_{walker}'] - row[f'reservation_{walker}']:+.3f})",
    ]
    if row["blocking_coalition"]:
        lines.append(
            f"  {row['blocking_coalition'].replace(',', ' and ')} would each do better on "
            f"their own with {row['blocking_alternative']}"
        )
    breaker = row.get("robustness_breaker") or ""
    if breaker:
        who = (
            "a coalition could block it"
            if breaker == "blocking coalition"
            else f"{breaker} would rather fight ({row['robustness_breaker_share']:.0%} of them)"
        )
        shock = row.get("robustness_shock") or ""
        when = ""
        if shock:
            key, _, direction = shock.partition(":")
            when = f"; it fails most when {drawn_words(key)} is drawn {direction}"
        lines.append(
            f"  what breaks it: it fails in {1 - row['robustness']:.0%} of the redraws of the "
            f"uncertain inputs; most often {who}{when}"
        )
    return lines


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
    check_writable(Path(cfg.results_dir) / "runs")  # before the work, writing nothing
    outputs = _run_single(cfg)
    staging, final = staging_run_dir(cfg.results_dir)
    try:
        row = outputs(staging)
        publish_run_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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
    facts = landscape(scenario, model.reservations)
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
