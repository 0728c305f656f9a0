"""`python -m sim.front.validate [options] [overrides]` (`./dev validate`): the forecast scorecard
(docs/validation.md). Every case (a real negotiation: a scenario file and, apart, a record
of what happened) is forecast by the model over its judgement values and by naive
baselines from the same file, and each forecast is scored against the record.

Options (Hydra's override grammar):

    cases=[dayton_1995,arusha_1993]   only these cases (default: all)
    cases_dir=PATH        also score a folder of your own: PATH/scenario/<case>.yaml and
                          PATH/records/<case>.yaml (docs/validation.md, "Adding a case")
    shipped=true          score the shipped cases (validation/*.yaml); false: only cases_dir's
    settings=128          draws of each case's judgement values (Latin hypercube)
    replications=8        negotiations per draw (the same seeds at every draw)
    as_written=32         negotiations at the file's own values (the "model as written")
    seed=0                the seed of the draws, the negotiations and the bootstrap
    bootstrap=2000        resamples of the cases for the intervals
    results_dir=results   writes <results_dir>/validation/<timestamp>/ (default: the
                          environment's SIM_RESULTS_DIR, else results)
    jobs=0                cases run at once (0: one per core); the rows do not depend on it
    compare=PATH          an earlier scorecard folder: prints and writes, per score and per
                          case, the model's loss then and now (a model change before/after)

Any other `key=value` is a config override applied to every case (e.g. `bargaining=calendar`
or `protocol=alternating_offers`: the scorecard of another model variant). Writes
`scorecard.md`, `scores.parquet`, `forecasts.parquet`, `rows.parquet`, `settings.parquet`
and `scorecard.png` (staged, renamed when whole) and prints the scores. Bad input (a case
without a record, a record naming an issue, level or party its scenario lacks, a record
without sources, an unknown option) is one line naming the file and the key, exit status
2, before anything runs. A case that fails to run is reported as failed in the scorecard.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sim.experiment import cases as case_files
from sim.experiment.error_lines import run_command
from sim.experiment.forecast import (
    BDM,
    MODEL,
    MODEL_AS_WRITTEN,
    QUANTITIES,
    CaseResult,
    RunPlan,
    compare_forecasts,
    forecasts_table,
    run_case,
    scores_table,
)
from sim.experiment.output_folders import check_writable, run_folder
from sim.experiment.results import clock, current_code_version, write_parquet_atomic
from sim.experiment.schema import plain
from sim.experiment.validation import ConfigError
from sim.front.labels import name as words_of
from sim.front.labels import reason_label
from sim.front.page_model import compose

FOLDER = "validation"  # under results_dir


@dataclass
class ValidateOptions:
    """The command's own options (module docstring)."""

    cases: list[str] = field(default_factory=list)
    cases_dir: str | None = None
    shipped: bool = True
    settings: int = 128
    replications: int = 8
    as_written: int = 32
    seed: int = 0
    bootstrap: int = 2000
    results_dir: str = field(default_factory=lambda: os.environ.get("SIM_RESULTS_DIR", "results"))
    jobs: int = 0  # cases run at once; 0: one per core this process may use
    compare: str | None = None  # an earlier scorecard folder to compare with


OPTION_KEYS = tuple(ValidateOptions.__dataclass_fields__)
COMPARED_FILES = ("forecasts.parquet", "scores.parquet")
CONFIG_KEYS_REFUSED = ("scenario", "replication", "sweep", "hydra.searchpath")


def parse_arguments(args: Sequence[str]) -> tuple[ValidateOptions, list[str]]:
    """The command line as (options, config overrides for every case); Hydra's override
    grammar, options typed by `ValidateOptions` (a wrong type is OmegaConf's error naming
    the key)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    node = OmegaConf.structured(ValidateOptions)
    overrides = []
    for arg in args:
        if arg.startswith("-") or "=" not in arg:
            allowed = f"options key=value ({', '.join(OPTION_KEYS)}) and config overrides"
            raise ConfigError("arguments", arg, allowed)
        override = parser.parse_override(arg)
        key = override.key_or_group
        if key in OPTION_KEYS:
            OmegaConf.update(node, key, override.value(), merge=False)
        elif key.lstrip("+~") in CONFIG_KEYS_REFUSED or key.startswith("hydra."):
            raise ConfigError(key, override.value(), "not set here: each case sets its own")
        else:
            overrides.append(arg)
    options: ValidateOptions = OmegaConf.to_object(node)  # type: ignore[assignment]
    for key in ("settings", "replications", "as_written", "bootstrap"):
        value = getattr(options, key)
        if not 1 <= value <= 100_000:
            raise ConfigError(key, value, "an integer from 1 to 100,000")
    if not options.shipped and not options.cases_dir:
        raise ConfigError("shipped", False, "true, or false with cases_dir=PATH")
    if not 0 <= options.jobs <= 256:
        raise ConfigError("jobs", options.jobs, "0 (one per core) or an integer from 1 to 256")
    if options.compare is not None:
        earlier = Path(options.compare).expanduser()
        if not all((earlier / name).is_file() for name in COMPARED_FILES):
            allowed = f"a scorecard folder holding {' and '.join(COMPARED_FILES)}"
            raise ConfigError("compare", options.compare, allowed)
    return options, overrides


def gather_cases(options: ValidateOptions) -> list[case_files.Case]:
    """The cases to score, in order: the shipped ones, then the folder's."""
    found = case_files.shipped_cases() if options.shipped else []
    if options.cases_dir:
        found += case_files.folder_cases(Path(options.cases_dir).expanduser().absolute())
    case_files.check_unique(found)
    return case_files.select_cases(found, list(options.cases))


def compose_case(case: case_files.Case, overrides: Sequence[str], seed: int) -> Any:
    """A case's config as `python -m sim scenario=<case>` composes it, with a user's folder
    on Hydra's search path, the durability horizon at 24 months (the record's question)."""
    extra = [f"seed={seed}", f"stability.durability_periods={case_files.HOLD_MONTHS}"]
    if not case.shipped:
        extra.append(f"hydra.searchpath=[file://{case.config_dir}]")
    return compose(case.name, [*overrides, *extra])


def prepare_cases(
    options: ValidateOptions, overrides: Sequence[str]
) -> list[tuple[case_files.Case, case_files.Record, Any]]:
    """Every case composed and its record checked against it, before anything runs."""
    found = []
    for case in gather_cases(options):
        record = case_files.load_record(case.record_path)
        cfg = compose_case(case, overrides, options.seed)
        case_files.check_record(record, plain(cfg))
        found.append((case, record, cfg))
    return found


def short_talks(prepared: Sequence[tuple[case_files.Case, case_files.Record, Any]]) -> list[str]:
    """A line for each case whose talks the model ends before the record's horizon
    (`max_rounds` x `war.months_per_round` months): a deal it cannot reach in time counts
    as none."""
    lines = []
    for case, record, cfg in prepared:
        months = float(cfg.max_rounds) * float(cfg.war.months_per_round)
        if months < record.horizon_months:
            lines.append(
                f"note: {case.name}: the model's talks end at month {months:g} (max_rounds x "
                f"war.months_per_round), before the record's horizon of "
                f"{record.horizon_months:g} months"
            )
    return lines


# --- what is printed and written ----------------------------------------------------------


FORECASTER_WORDS = {
    MODEL: "model (over its judgement values)",
    MODEL_AS_WRITTEN: "model at the file's values",
    BDM: "Bueno de Mesquita's model",
    "weighted_median": "weighted median",
    "weighted_mean": "weighted mean (compromise)",
    "midpoint": "midpoint of the belligerents",
    "status_quo": "status quo",
    "always": "always",
    "never": "never",
    "base_rate": "base rate (other cases)",
}


def _num(x: Any, digits: int = 3) -> str:
    if isinstance(x, str):
        return x
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def scores_text(scores: pd.DataFrame) -> str:
    """The scores as a Markdown table: per quantity, each forecaster's mean loss with its
    95% interval over cases and its skill against the best baseline."""
    lines = [
        "| score | forecaster | cases | score [95% interval] | skill vs best baseline [95%] |",
        "|---|---|---:|---|---|",
    ]
    for _, s in scores.iterrows():
        best = s.forecaster == s.best_baseline
        skill = (
            "best baseline"
            if best
            else (f"{_num(s.skill, 2)} [{_num(s.skill_low, 2)}, {_num(s.skill_high, 2)}]")
        )
        lines.append(
            f"| {QUANTITIES[s.quantity]} | {FORECASTER_WORDS[s.forecaster]} | {s.cases} | "
            f"{s.score:.3f} [{s.low:.3f}, {s.high:.3f}] | {skill} |"
        )
    return "\n".join(lines)


def cases_text(results: Sequence[CaseResult], forecasts: pd.DataFrame, seed: int) -> str:
    """Per case: what happened, the model's forecast and the weighted median's terms."""
    lines = [
        "| case | happened | model: P(deal in horizon) [95%] | model: month | model: P(holds) "
        "| terms: signed / model / weighted median | how the model's talks end "
        "| negotiations, seconds |",
        "|---|---|---|---:|---:|---|---|---|",
    ]
    for r in results:
        rec = r.record
        happened = (
            f"signed month {rec.month:.1f}, {'held' if rec.held else 'broke down'}"
            if rec.agreement
            else f"none in {rec.horizon_months:g} months"
        )
        if r.rows is None:
            lines.append(f"| {r.case.name} | {happened} | **failed**: {r.error} | | | | | |")
            continue
        f = r.model_forecasts(seed)[MODEL]
        endings = ", ".join(
            f"{reason_label(k)} {v:.0%}" for k, v in sorted(f.reasons.items(), key=lambda x: -x[1])
        )
        terms = []
        for issue, actual in rec.terms.items():
            wm = r.baselines["weighted_median"][issue]
            scale = r.scales[issue]
            shown = (_num(scale.shown(x)) for x in (actual, f.terms[issue], wm))
            terms.append(f"{issue}: {' / '.join(shown)}")
        lines.append(
            f"| {r.case.name} | {happened} | {f.p_agreement:.2f} [{f.p_low:.2f}, {f.p_high:.2f}] "
            f"| {_num(f.month)} | {f.p_holds:.2f} | {'; '.join(terms) or '-'} "
            f"| {endings} | {f.negotiations}, {r.seconds:.0f} |"
        )
    return "\n".join(lines)


def scorecard_markdown(
    results: Sequence[CaseResult],
    forecasts: pd.DataFrame,
    scores: pd.DataFrame,
    options: ValidateOptions,
    overrides: Sequence[str],
    seconds: float,
) -> str:
    failed = [r for r in results if r.rows is None]
    plan = (
        f"{options.settings} draws of each case's judgement values x {options.replications} "
        f"negotiations, and {options.as_written} at the file's values; seed {options.seed}; "
        f"{options.bootstrap} bootstrap resamples of the cases"
    )
    return "\n".join(
        [
            "# Forecast scorecard",
            "",
            f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code version "
            f"{current_code_version()}; took {clock(seconds)}",
            f"- command: `{' '.join(['python -m sim.front.validate', *sys.argv[1:]])}`",
            f"- config overrides for every case: {' '.join(overrides) or 'none'}",
            f"- cases: {len(results)} ({len(failed)} failed to run); {plan}",
            "- scores are mean losses over the cases (lower is better); intervals are 95% "
            "percentile bootstrap intervals over cases; skill = 1 - score / score of the best "
            "baseline (docs/validation.md); '-' where that baseline scores 0 (no room to improve)",
            "",
            "## Scores",
            "",
            scores_text(scores) if len(scores) else "no case ran",
            "",
            "## Cases",
            "",
            cases_text(results, forecasts, options.seed),
            "",
        ]
    )


def _legend(ax: Any) -> None:
    """A panel's legend below it, off the points."""
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)


def _probability_panel(
    ax: Any, frame: pd.DataFrame, cases: list[str], xlabel: str, title: str
) -> None:
    """One row per case: the model's, the model-as-written's and the base rate's
    probabilities of an event, and what happened (0 or 1)."""
    y = np.arange(len(cases))
    for who, marker, colour in ((MODEL, "o", "C0"), (MODEL_AS_WRITTEN, "s", "C1"),
                                ("base_rate", "^", "C2")):  # fmt: skip
        part = frame[frame.forecaster == who].set_index("case").reindex(cases)
        ax.scatter(part.forecast, y, marker=marker, color=colour, label=FORECASTER_WORDS[who],
                   zorder=3)  # fmt: skip
    actual = frame[frame.forecaster == MODEL].set_index("case").reindex(cases)
    ax.scatter(actual.actual, y, marker="*", s=160, color="k", label="what happened", zorder=4)
    ax.set_yticks(y, [words_of(n) for n in cases])
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    _legend(ax)


def scorecard_figure(results: Sequence[CaseResult], forecasts: pd.DataFrame) -> Any:
    """Predicted against actual per case: P(agreement within the horizon), the terms on a
    0-1 scale per issue, the month of the agreement, P(holds 24 months)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 11))
    names = [r.case.name for r in results if r.rows is not None]
    _probability_panel(
        axes[0, 0],
        forecasts[forecasts.quantity == "agreement"],
        names,
        "probability of an agreement within the horizon (actual: 0 none, 1 signed)",
        "Will they agree within the horizon?",
    )

    ax = axes[0, 1]
    terms = forecasts[forecasts.quantity == "term"]
    scale = {(r.case.name, i): s for r in results for i, s in r.scales.items()}
    for who, marker, colour in (
        (MODEL, "o", "C0"),
        (BDM, "^", "C2"),
        ("weighted_median", "x", "C3"),
        ("status_quo", "+", "C7"),
    ):
        part = terms[terms.forecaster == who]
        xs, ys = [], []
        for _, t in part.iterrows():
            s = scale[(t.case, t.issue)]
            if s.positioned and s.high > s.low:
                xs.append((s.position(t.actual) - s.low) / (s.high - s.low))
                ys.append((s.position(t.forecast) - s.low) / (s.high - s.low))
        ax.scatter(xs, ys, marker=marker, color=colour, label=FORECASTER_WORDS[who])
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--")
    ax.set_xlabel("signed terms, share of the issue's scale (each case and issue)")
    ax.set_ylabel("forecast terms, share of the scale")
    ax.set_title("Terms: forecast against signed")
    _legend(ax)

    ax = axes[1, 0]
    month = forecasts[forecasts.quantity == "month"]
    for who, marker, colour in ((MODEL, "o", "C0"), ("base_rate", "^", "C2")):
        part = month[month.forecaster == who]
        ax.scatter(
            part.actual, part.forecast, marker=marker, color=colour, label=FORECASTER_WORDS[who]
        )
        mine = part[part.forecaster == MODEL].sort_values("actual")
        for k, (_, t) in enumerate(mine.iterrows()):  # labels staggered: close points crowd
            ax.annotate(words_of(t.case), (t.actual, t.forecast), xytext=(4, 4 + 9 * (k % 4)),
                        textcoords="offset points", fontsize=7)  # fmt: skip
    top = max([12.0, *month.actual.tolist(), *month.forecast.tolist()])
    ax.plot([0, top], [0, top], color="0.6", lw=1, ls="--")
    ax.set_xlabel("months from the opening of the talks to the signature")
    ax.set_ylabel("forecast month")
    ax.set_title("When: forecast against signed (cases with an agreement)")
    _legend(ax)

    holds = forecasts[forecasts.quantity == "holds"]
    _probability_panel(
        axes[1, 1],
        holds,
        list(dict.fromkeys(holds.case)),
        "probability the deal holds 24 months (actual: 0 broke down, 1 held)",
        "Will the deal hold?",
    )
    fig.suptitle("Forecast scorecard: the model and naive baselines against what happened")
    fig.tight_layout()
    return fig


def write(
    results: Sequence[CaseResult],
    forecasts: pd.DataFrame,
    scores: pd.DataFrame,
    markdown: str,
    results_dir: str | os.PathLike,
    comparison: pd.DataFrame | None = None,
) -> Path:
    """The scorecard's files into a hidden staging folder, renamed to
    `<results_dir>/validation/<timestamp>/` when all are written."""
    import matplotlib.pyplot as plt

    with run_folder(Path(results_dir) / FOLDER) as (staging, final):
        ran = [r for r in results if r.rows is not None]
        rows = pd.concat([r.rows for r in ran], ignore_index=True) if ran else pd.DataFrame()
        settings = (
            pd.concat([r.settings for r in ran], ignore_index=True) if ran else pd.DataFrame()
        )
        status = pd.DataFrame(
            [
                {
                    "case": r.case.name,
                    "ran": r.rows is not None,
                    "error": r.error,
                    "seconds": r.seconds,
                    "scenario": str(r.case.scenario_path),
                    "record": str(r.record.path),
                }
                for r in results
            ]
        )
        (staging / "scorecard.md").write_text(markdown, encoding="utf-8")
        write_parquet_atomic(scores, staging / "scores.parquet")
        write_parquet_atomic(_stringified(forecasts), staging / "forecasts.parquet")
        write_parquet_atomic(_stringified(rows), staging / "rows.parquet")
        write_parquet_atomic(settings, staging / "settings.parquet")
        write_parquet_atomic(status, staging / "cases.parquet")
        if comparison is not None:
            write_parquet_atomic(comparison, staging / "comparison.parquet")
        fig = scorecard_figure(results, forecasts)
        fig.savefig(staging / "scorecard.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
    return final


def _stringified(frame: pd.DataFrame) -> pd.DataFrame:
    """Mixed columns (a forecast that is a level name in one row, a number in another) as
    text, so that Parquet can hold them; numeric columns kept."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: None if v is None else str(v))
    return out


def _run_one(
    case: case_files.Case,
    record: case_files.Record,
    overrides: list[str],
    seed: int,
    plan: RunPlan,
) -> CaseResult:
    """One case in a worker process: composed again there (Hydra's state is per process)."""
    return run_case(case, record, compose_case(case, overrides, seed), plan)


def run_cases(
    prepared: list[tuple[case_files.Case, case_files.Record, Any]],
    overrides: list[str],
    plan: RunPlan,
    jobs: int,
) -> list[CaseResult]:
    """Every case, `jobs` at once (joblib's processes; in this process for 1), in order,
    each reported as it ends."""
    jobs = min(jobs or len(os.sched_getaffinity(0)), len(prepared)) or 1
    if jobs == 1:
        found = (run_case(case, record, cfg, plan) for case, record, cfg in prepared)
    else:
        from joblib import Parallel, delayed

        found = Parallel(n_jobs=jobs, return_as="generator")(
            delayed(_run_one)(case, record, overrides, plan.seed, plan)
            for case, record, _ in prepared
        )
    results = []
    for k, result in enumerate(found, start=1):
        status = f"failed: {result.error}" if result.rows is None else "ran"
        name = result.case.name
        print(f"[{k}/{len(prepared)}] {name}: {status} ({result.seconds:.0f} s)", flush=True)
        results.append(result)
    return results


def comparison_text(table: pd.DataFrame, earlier: str) -> str:
    """The model's mean loss per score then and now (cases scored in both), then the cases
    whose loss changed, as Markdown."""
    if table.empty:
        return f"no score in common with {earlier}"
    lines = [
        f"Against {earlier} (the model over its judgement values; lower is better):",
        "",
        "| score | cases | then | now | change |",
        "|---|---:|---:|---:|---:|",
    ]
    totals = table.groupby("quantity", sort=False)[["then", "now"]].agg(["mean", "size"])
    for quantity, row in totals.iterrows():
        then, now = row[("then", "mean")], row[("now", "mean")]
        lines.append(
            f"| {QUANTITIES[quantity]} | {int(row[('then', 'size')])} | {then:.3f} | {now:.3f} "
            f"| {now - then:+.3f} |"
        )
    moved = table[~np.isclose(table.then, table.now)]
    lines += ["", f"{len(moved)} case scores changed" + (":" if len(moved) else ".")]
    if len(moved):
        lines += ["", "| case | score | then | now |", "|---|---|---:|---:|"]
        for _, m in moved.iterrows():
            lines.append(f"| {m.case} | {m.quantity} | {m.then:.3f} | {m.now:.3f} |")
    return "\n".join(lines)


def run(args: Sequence[str]) -> Path:
    """The command: check every case, run them, score, print, write."""
    options, overrides = parse_arguments(args)
    prepared = prepare_cases(options, overrides)
    check_writable(Path(options.results_dir) / FOLDER)  # before the work, writing nothing
    notes = short_talks(prepared)
    for line in notes:
        print(line)
    plan = RunPlan(options.settings, options.replications, options.as_written, options.seed)
    started = time.monotonic()
    results = run_cases(prepared, overrides, plan, options.jobs)
    forecasts = forecasts_table(results, options.seed)
    scores = scores_table(forecasts, options.seed, options.bootstrap)
    seconds = time.monotonic() - started
    markdown = scorecard_markdown(results, forecasts, scores, options, overrides, seconds)
    if notes:
        markdown += "\n## Notes\n\n" + "\n".join(f"- {line[6:]}" for line in notes) + "\n"
    comparison = None
    if options.compare is not None:
        then = pd.read_parquet(Path(options.compare).expanduser() / "forecasts.parquet")
        comparison = compare_forecasts(then, forecasts)
        text = comparison_text(comparison, options.compare)
        markdown += f"\n## Against an earlier scorecard\n\n{text}\n"
    print(scores_text(scores) if len(scores) else "no case ran")
    print(cases_text(results, forecasts, options.seed))
    if comparison is not None:
        print(comparison_text(comparison, options.compare))
    folder = write(results, forecasts, scores, markdown, options.results_dir, comparison)
    files = "scorecard.md, scorecard.png, scores.parquet, forecasts.parquet, rows.parquet, "
    files += "settings.parquet, cases.parquet" + (
        ", comparison.parquet" if comparison is not None else ""
    )
    print(f"wrote {folder}/ ({files})")
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m sim.front.validate`: bad input ends with one line and exit status 2."""
    run_command(run, __doc__ or "", argv)


if __name__ == "__main__":
    main()
