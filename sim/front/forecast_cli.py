"""`python -m sim.front.forecast_cli [overrides...]` (`./dev forecast`): Bueno de Mesquita's
expected-utility forecast of every issue of a scenario (`sim.experiment.expected_utility`,
docs/model.md, "Bueno de Mesquita's expected-utility model").

The command line is `python -m sim`'s (Hydra overrides: `scenario=dayton_1995`, any config
key), composed as the page composes it (`sim.front.page_model.compose`) and checked by the
compile step. The model's options are the config's `bdm` block:

    bdm.q=1            the chance that nothing changes absent a challenge, in [0, 1]
    bdm.t=1            the chance that a change absent a challenge helps the actor, in [0, 1]
    bdm.rounds=8       rounds of challenges and offers
    bdm.probability=scholz   the denominator of the chance of winning (scholz | dyadic)
    bdm.compromise=scholz    which of several compromises an actor takes (scholz | nearest)
    bdm.risk=true      risk exponents from the security levels (false: all 1)

Prints, per issue, its scale and parties, the rounds (the median voter position, the
weighted mean, each party's position), the forecast and the options; an issue the model
cannot read (categorical, fewer than two parties with a position) is one line saying why.
Writes `<results_dir>/forecast/<timestamp>/` (staged in a hidden folder and renamed when
whole): `rounds.parquet` (one row per issue, round and party) and, per issue forecast,
`positions_<issue>.png` and `quadrants_<issue>.png` (the expected utilities in the first
round as the party of the largest capability x salience sees them). Bad input: one line
naming the key, the value and what is allowed; exit status 2; nothing written.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.bdm import BdmOptions
from sim.core.outcomes import IssueKind
from sim.experiment.error_lines import run_command
from sim.experiment.expected_utility import IssueForecast, forecast_scenario
from sim.experiment.output_folders import check_writable, run_folder
from sim.experiment.results import write_parquet_atomic
from sim.experiment.validation import ConfigError
from sim.front.page_model import DEFAULT_SCENARIO, compose

FOLDER = "forecast"  # under results_dir
WIDE = 80  # a table of rounds wider than this prints parties as rows, when that is narrower
COLUMNS = ["issue", "round", "party", "position", "median", "mean"]


def split_arguments(args: Sequence[str]) -> tuple[str, list[str]]:
    """The command line as (scenario, config overrides). Flags (`-m`, `--cfg`) are
    refused."""
    scenario, overrides = DEFAULT_SCENARIO, []
    for arg in args:
        key, sep, value = arg.partition("=")
        if arg.startswith("-") or not sep:
            raise ConfigError("arguments", arg, "config overrides key=value (e.g. bdm.q=0.5)")
        if key.lstrip("+~") == "scenario":
            scenario = value
        else:
            overrides.append(arg)
    return scenario, overrides


def view_party(forecast: IssueForecast) -> str:
    """The party of the largest capability x salience on the issue (the first of equals):
    whose view the quadrant plot takes."""
    inputs = forecast.inputs
    return inputs.parties[int(np.argmax(inputs.capabilities * inputs.saliences))]


def options_line(options: BdmOptions) -> str:
    """The options as the overrides that set them."""
    return (
        f"options: bdm.q={options.q:g} bdm.t={options.t:g} bdm.rounds={options.rounds} "
        f"bdm.probability={options.probability} bdm.compromise={options.compromise} "
        f"bdm.risk={str(options.risk).lower()}"
    )


def _layout(rows: list[list[str]], names_first: bool) -> list[str]:
    """Rows of cells as lines, right-aligned two spaces apart; the first column
    left-aligned when it holds names."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if k == 0 and names_first else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def rounds_table(forecast: IssueForecast) -> str:
    """The rounds as printed: a row per round (round, median voter position, weighted mean,
    each party's position), or, when that is wider than `WIDE` characters and the other way
    round is narrower, a row per party and a column per round."""
    rounds, parties = forecast.rounds, forecast.inputs.parties
    steps = range(rounds.positions.shape[0])
    by_round = [["round", "median", "mean", *parties]] + [
        [
            str(r),
            f"{rounds.medians[r]:.2f}",
            f"{rounds.means[r]:.2f}",
            *(f"{x:.2f}" for x in rounds.positions[r]),
        ]
        for r in steps
    ]
    by_party = [
        ["round", *(str(r) for r in steps)],
        ["median", *(f"{v:.2f}" for v in rounds.medians)],
        ["mean", *(f"{v:.2f}" for v in rounds.means)],
    ] + [[p, *(f"{v:.2f}" for v in rounds.positions[:, k])] for k, p in enumerate(parties)]
    tall, wide = _layout(by_round, False), _layout(by_party, True)
    width = max(map(len, tall))
    return "\n".join(tall if width <= WIDE or width <= max(map(len, wide)) else wide)


def _issue_head(forecast: IssueForecast) -> list[str]:
    issue = forecast.inputs.issue
    low, high = float(issue.positions.min()), float(issue.positions.max())
    count = len(forecast.inputs.parties)
    lines = [f"{issue.name} ({issue.kind}, scale {low:g}-{high:g}): {count} parties"]
    if issue.kind is IssueKind.ordinal:
        levels = ", ".join(f"{n} {x:g}" for n, x in zip(issue.levels, issue.positions, strict=True))
        lines.append(f"levels: {levels}")
    return lines


def issue_report(name: str, forecast: IssueForecast | ConfigError) -> str:
    """One issue as printed: its head, the rounds, the forecast, the options and whose view
    the quadrant plot takes; or one line saying why the model cannot forecast it."""
    if isinstance(forecast, ConfigError):
        return f"{name}: no forecast: {forecast}"
    said = f"forecast: {forecast.position:.2f}"
    if forecast.level is not None:
        said += f" (nearest level: {forecast.level})"
    inputs, view = forecast.inputs, view_party(forecast)
    weight = float(np.max(inputs.capabilities * inputs.saliences))
    return "\n".join(
        [
            *_issue_head(forecast),
            rounds_table(forecast),
            said,
            options_line(forecast.rounds.options),
            f"quadrant plot: from {view}'s view (the largest capability x salience, {weight:.3g})",
        ]
    )


def report(scenario: str, forecasts: dict[str, IssueForecast | ConfigError]) -> str:
    """What the command prints: a line for the scenario, then each issue."""
    done = sum(not isinstance(f, ConfigError) for f in forecasts.values())
    head = (
        f"{scenario}: Bueno de Mesquita's expected-utility model, {done} of "
        f"{len(forecasts)} issues forecast"
    )
    return "\n\n".join([head, *(issue_report(n, f) for n, f in forecasts.items())])


def rounds_frame(forecasts: dict[str, IssueForecast | ConfigError]) -> pd.DataFrame:
    """One row per issue forecast, round and party: the party's position, the median voter
    position and the weighted mean of the round."""
    rows = [
        {
            "issue": name,
            "round": r,
            "party": party,
            "position": float(f.rounds.positions[r, k]),
            "median": float(f.rounds.medians[r]),
            "mean": float(f.rounds.means[r]),
        }
        for name, f in forecasts.items()
        if not isinstance(f, ConfigError)
        for r in range(f.rounds.positions.shape[0])
        for k, party in enumerate(f.inputs.parties)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def write(
    scenario: str,
    forecasts: dict[str, IssueForecast | ConfigError],
    results_dir: str | os.PathLike,
) -> Path:
    """`rounds.parquet` and each issue's two figures into a staging folder, renamed to
    `<results_dir>/forecast/<timestamp>/` when all are written."""
    import matplotlib.pyplot as plt

    from sim.front.figures import plot_bdm_positions, plot_bdm_quadrants

    with run_folder(Path(results_dir) / FOLDER) as (staging, final):
        write_parquet_atomic(rounds_frame(forecasts), staging / "rounds.parquet")
        for name, forecast in forecasts.items():
            if isinstance(forecast, ConfigError):
                continue
            for fig, file in (
                (plot_bdm_positions(forecast, scenario=scenario), f"positions_{name}.png"),
                (
                    plot_bdm_quadrants(forecast, view_party(forecast), 0, scenario=scenario),
                    f"quadrants_{name}.png",
                ),
            ):
                fig.savefig(staging / file, dpi=120, bbox_inches="tight")
                plt.close(fig)
    return final


def run(args: Sequence[str]) -> Path:
    """The command: compose, check, forecast, print, write; returns the folder written."""
    from sim.experiment.compiler import compile_job
    from sim.experiment.validation import refuse_empty_dicts

    refuse_empty_dicts(list(args))
    scenario, overrides = split_arguments(args)
    job = compile_job(compose(scenario, overrides), shlex.join(overrides))
    cfg = job.config
    check_writable(Path(cfg.results_dir) / FOLDER)  # before the work, writing nothing
    forecasts = forecast_scenario(cfg)
    name = str(cfg.scenario_name)
    print(report(name, forecasts))
    folder = write(name, forecasts, cfg.results_dir)
    print(f"\nwrote {folder}/ (rounds.parquet, positions_<issue>.png, quadrants_<issue>.png)")
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m sim.front.forecast_cli`: bad input ends with one line and exit status 2."""
    run_command(run, __doc__ or "", argv)


if __name__ == "__main__":
    main()
