"""`python -m sim.front.sensitivity_cli [overrides...]` (`./dev sensitivity`): which judgement
values
matter, for one scenario (`sim.experiment.sensitivity`).

The command line is `python -m sim`'s (Hydra overrides: `scenario=paris_2026`,
`replications=20`, `seed=3`, any config key), composed as the page composes it
(`sim.front.page_model.compose`), plus the command's own options, typed by
`sim.experiment.sensitivity.SensitivityOptions`:

    sensitivity.samples=32          Sobol base samples N, a power of 2; N (D + 2) settings
                                    for D parameters (0: one at a time only)
    sensitivity.output=stability_score  the output that ranks the table and the tornado
                                    (deal_share, stable_share, stability_score, territory,
                                    months)
    sensitivity.top=5               rows of the printed table
    sensitivity.keys=[...]          only the judgement values matching these patterns
                                    (fnmatch, e.g. 'sensitivity.keys=[war.*,parties.*.war_cost]')

Every setting runs `replications` negotiations (8 unless the command line says) with the
seed `seed`, the same at every setting. Writes `<results_dir>/sensitivity/<scenario>-<time>/`
(`oat.parquet`, `sobol.parquet`, `tornado.png`: staged in a hidden folder and renamed when
whole) and prints the most important parameters. Bad input: one line naming the key, the
value and what is allowed; exit status 2; nothing written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.experiment.error_lines import run_command
from sim.experiment.output_folders import check_writable, run_folder
from sim.experiment.results import clock, write_parquet_atomic
from sim.experiment.sensitivity import (
    OPTIONS_PREFIX,
    OUTPUTS,
    SensitivityResult,
    analyse,
    parse_options,
    ranking,
)
from sim.experiment.validation import ConfigError
from sim.front.labels import name as words_of
from sim.front.page_model import DEFAULT_SCENARIO, compose

DEFAULT_REPLICATIONS = 8  # per setting, unless the command line gives `replications`
FOLDER = "sensitivity"  # under results_dir


def split_arguments(args: Sequence[str]) -> tuple[str, list[str], list[str]]:
    """The command line as (scenario, config overrides, `sensitivity.*` options); the
    replications default to `DEFAULT_REPLICATIONS`. Flags (`-m`, `--cfg`) are refused."""
    scenario, overrides, options = DEFAULT_SCENARIO, [], []
    for arg in args:
        key, sep, value = arg.partition("=")
        name = key.lstrip("+~")
        if arg.startswith("-") or not sep:
            raise ConfigError(
                "arguments", arg, "config overrides key=value and sensitivity.<option>=value"
            )
        if name == "scenario":
            scenario = value
        elif name.startswith(OPTIONS_PREFIX):
            options.append(arg)
        else:
            overrides.append(arg)
    if not any(o.partition("=")[0].lstrip("+~") == "replications" for o in overrides):
        overrides.insert(0, f"replications={DEFAULT_REPLICATIONS}")
    return scenario, overrides, options


class Progress:
    """Prints how many settings have run, with an ETA: first after `first` seconds, then
    at most every `every` seconds."""

    def __init__(self, every: float = 15.0, first: float = 5.0) -> None:
        self.started = time.monotonic()
        self.every, self.next = every, self.started + first

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now >= self.next:
            self.next = now + self.every
            eta = (now - self.started) / done * (total - done)
            print(f"sensitivity: {done:,}/{total:,} settings, ETA {clock(eta)}", flush=True)


def _number(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.3g}"


def _swing(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:+.2f}"


def top_table(result: SensitivityResult) -> pd.DataFrame:
    """The `top` most important parameters (`sim.experiment.sensitivity.ranking` by the chosen
    output) as printed: the parameter, its value, its range, its one-at-a-time swing in the
    share with a binding deal and in the share stable, its total Sobol index."""
    output = result.options.output
    ranked = ranking(result.oat, result.sobol, output).head(result.options.top)
    table = pd.DataFrame(
        {
            "parameter": ranked["parameter"],
            "value": ranked["value"].map(_number),
            "range": [
                f"[{_number(a)}, {_number(b)}]"
                for a, b in zip(ranked["low"], ranked["high"], strict=True)
            ],
        }
    )
    for name in dict.fromkeys(("deal_share", "stable_share", output)):
        table[f"swing {name}"] = ranked[f"swing_{name}"].map(_swing)
    table[f"ST {output} (95%)"] = [
        "-" if pd.isna(st) else f"{st:.2f} +- {conf:.2f}"
        for st, conf in zip(ranked["ST"], ranked["ST_conf"], strict=True)
    ]
    return table


def report(result: SensitivityResult) -> str:
    """What the command prints: the sizes, the parameters left out and the top table."""
    o = result.options
    sobol = f"Sobol N={o.samples}" if o.samples else "no Sobol indices (sensitivity.samples=0)"
    lines = [
        f"{result.scenario}: {len(result.parameters)} judgement values, {result.settings:,} "
        f"settings x {result.replications} replications (one at a time, {sobol}) in "
        f"{clock(result.seconds)}",
    ]
    if result.left_out:
        left = ", ".join(f"{x.key} ({x.reason})" for x in result.left_out)
        lines.append(f"not varied: {left}")
    notes = result.sobol[result.sobol["output"] == o.output]["note"] if len(result.sobol) else []
    if len(notes) and notes.iloc[0]:
        lines.append(f"no Sobol indices for {o.output}: {notes.iloc[0]}")
    by = "total Sobol index ST" if o.samples else "one-at-a-time swing"
    lines.append(f"the {o.top} that matter most for the {OUTPUTS[o.output]} (by {by}):")
    lines.append(top_table(result).to_string(index=False))
    return "\n".join(lines)


def write(result: SensitivityResult, results_dir: str | os.PathLike) -> Path:
    """`oat.parquet`, `sobol.parquet` and `tornado.png` into a staging folder, renamed to
    `<results_dir>/sensitivity/<scenario>-<timestamp>/` when all are written."""
    import matplotlib.pyplot as plt

    from sim.front.figures import tornado_figure

    with run_folder(Path(results_dir) / FOLDER, f"{result.scenario}-") as (staging, final):
        write_parquet_atomic(result.oat, staging / "oat.parquet")
        write_parquet_atomic(result.sobol, staging / "sobol.parquet")
        output = result.options.output
        title = f"{words_of(result.scenario)}: which judgement values move the {OUTPUTS[output]}"
        fig = tornado_figure(result.oat, output, title)
        fig.savefig(staging / "tornado.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
    return final


def run(args: Sequence[str]) -> Path:
    """The command: compose, analyse, print, write; returns the folder written."""
    from sim.experiment.validation import refuse_empty_dicts

    refuse_empty_dicts(list(args))
    scenario, overrides, own = split_arguments(args)
    options = parse_options(own)
    cfg = compose(scenario, overrides)
    check_writable(Path(cfg.results_dir) / FOLDER)  # before the work, writing nothing
    result = analyse(cfg, options, scenario, progress=Progress())
    print(report(result))
    folder = write(result, cfg.results_dir)
    print(f"wrote {folder}/ (oat.parquet, sobol.parquet, tornado.png)")
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m sim.front.sensitivity_cli`: bad input ends with one line and exit status 2."""
    run_command(run, __doc__ or "", argv)


if __name__ == "__main__":
    main()
