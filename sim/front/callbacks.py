"""Hydra callbacks for sweeps: lock and size at the start, gather and summarise at the end."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.analysis.statistics import describe_deals
from sim.experiment import provenance, results, sweepdir
from sim.experiment.designs import replications_per_job
from sim.experiment.error_lines import EXIT_PARTIAL, exit_with


def sweep_size(config: DictConfig) -> int | None:
    """Number of jobs in a multirun: the product of the sweep overrides' lengths.

    Counts the command line's sweep overrides and the preset's `hydra.sweeper.params`
    (the command line wins for a key in both); for the Optuna sweeper, `n_trials`.
    """
    sweeper = config.hydra.sweeper
    if "n_trials" in sweeper:
        return int(sweeper.n_trials)
    choices: dict[str, int] = {}
    parser = OverridesParser.create()
    for text in [*_preset_params(config), *config.hydra.overrides.task]:
        override = parser.parse_override(text)
        if override.is_sweep_override():
            choices[override.key_or_group] = len(list(override.sweep_string_iterator()))
        else:
            choices.pop(override.key_or_group, None)
    return math.prod(choices.values()) if choices else 1


def _preset_params(config: DictConfig) -> list[str]:
    """A sweep preset's `hydra.sweeper.params` as override strings (none: [])."""
    params = config.hydra.sweeper.get("params")
    if not params:
        return []
    return [f"{k}={v}" for k, v in OmegaConf.to_container(params).items()]


def refuse_invalid_constants(config: DictConfig) -> None:
    """Validate the sweep's common config before any job runs: an invalid value that is
    not swept would fail every job, so the sweep is refused, with nothing written. An
    error on a swept key is left to the jobs (each records its own)."""
    from sim.experiment.build import build_scenario
    from sim.experiment.validation import ConfigError

    base = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    try:
        build_scenario(base)
    except ConfigError as exc:
        swept = swept_keys(config)
        if not any(exc.key == k or exc.key.startswith(f"{k}.") for k in swept):
            raise


class SweepResults(Callback):
    """Takes the sweep folder's lock and records the sweep's size; at the end gathers
    the job files into results.parquet, draws the heatmap and prints a summary.

    Hydra turns a callback's exceptions into warnings and goes on; a sweep that cannot
    take its folder must stop, so errors here end the program (one line, status 2).
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            refuse_invalid_constants(config)
            total = sweep_size(config)
            params = config.hydra.sweeper.get("params")
            definition = sweepdir.sweep_definition(
                list(config.hydra.overrides.task),
                OmegaConf.to_container(params) if params else {},
                provenance.current_code_version(),
                OmegaConf.to_container(config, resolve=False),
            )
            notes = results.start_sweep(
                sweep_dir, total, definition, extend=bool(config.get("sweep_extend"))
            )
        except Exception as exc:
            exit_with(exc, always_exit=True)
        # the workers this launcher starts end when it ends, however it ends
        os.environ[sweepdir.LAUNCHER_ENV] = sweepdir.Holder.me().text()
        sweepdir.start_reaper()
        per_job = replications_per_job(config)
        print(f"sweep: {total} jobs x {per_job} replications -> {sweep_dir}")
        for note in notes:
            print(note)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            damaged: list[str] = []
            path = results.gather_to_file(sweep_dir, on_error="move", damaged=damaged)
            frame = results.load(path, columns=summary_columns(path, swept_keys(config)))
            print(summary(frame, path))
            for note in _state_notes(sweep_dir):
                if note.startswith("sweep extended"):
                    print(note)
            heatmap = write_heatmap(frame, config, sweep_dir)
            if heatmap is not None:
                print(f"heatmap: {heatmap}")
            if damaged:
                raise PartialFailure(
                    f"{len(damaged)} job files failed their checks and were left out of "
                    f"{path.name} (a rerun runs their jobs again); the first: {damaged[0]}"
                )
            failed = frame["error"].notna() if "error" in frame else None
            if failed is not None and failed.any():
                jobs = frame["job"].nunique() if "job" in frame else len(frame)
                bad = frame.loc[failed, "job"].nunique() if "job" in frame else int(failed.sum())
                first = frame.loc[failed, "error"].iloc[0]
                raise PartialFailure(
                    f"{bad} of {jobs} jobs failed (rows with an `error` in {path.name}; "
                    f"a rerun tries them again); the first: {first}"
                )
        except PartialFailure as exc:
            exit_with(exc, status=EXIT_PARTIAL, always_exit=True)
        except OSError as exc:  # the heatmap on a full disk or a read-only folder
            exit_with(results.write_error(exc.filename or sweep_dir, exc), always_exit=True)
        except Exception as exc:
            exit_with(exc, always_exit=True)
        finally:
            results.end_sweep(sweep_dir)


def _state_notes(sweep_dir: Path) -> list[str]:
    """What the start of this sweep said about its folder (`results.start_sweep`)."""
    try:
        return list(json.loads((sweep_dir / results.SWEEP_STATE).read_text()).get("notes", []))
    except (OSError, ValueError):
        return []


class PartialFailure(Exception):
    """A sweep that ran but not every job of which succeeded (exit status 3)."""


def summary(frame: Any, path: Path) -> str:
    """Jobs, failures, share of replications with a deal and share stable, the file."""
    if frame.empty:
        return f"sweep finished: no rows; {path}"
    failed = frame["error"].notna() if "error" in frame else frame.index != frame.index
    ok = frame[~failed]
    jobs = frame["job"].nunique() if "job" in frame else len(frame)
    failed_jobs = frame.loc[failed, "job"].nunique() if "job" in frame else int(failed.sum())
    if ok.empty:
        return f"sweep finished: {jobs} jobs, all failed -> {path}"
    return (
        f"sweep finished: {jobs} jobs ({failed_jobs} failed), {len(ok)} replications: "
        f"{describe_deals(ok)} -> {path}"
    )


def summary_columns(path: Path, swept: list[str]) -> list[str]:
    """The columns of results.parquet the summary and the heatmap read (the sweep's rows
    held in memory a few columns wide, however many there are)."""
    import pyarrow.parquet as pq

    wanted = {"error", "job", "agreement", "binding", "stable", "stability_score", "months"}
    wanted |= {"round", "replication", "scenario", "sweep_name", *swept}
    return [
        name
        for name in pq.read_schema(path).names
        if name in wanted or name.startswith("uncertainty.") or name.endswith("_drawn")
    ]


def swept_keys(config: DictConfig) -> list[str]:
    """Keys with more than one value in this sweep, in the order they were given."""
    parser = OverridesParser.create()
    keys = []
    for text in [*_preset_params(config), *config.hydra.overrides.task]:
        override = parser.parse_override(text)
        if override.is_sweep_override() and override.key_or_group not in keys:
            keys.append(override.key_or_group)
    return keys


HEATMAP_BINS = 8  # bins per drawn parameter when the heatmap is over drawn values


def heatmap_axes(frame: Any, swept: list[str]) -> tuple[Any, list[str]]:
    """The frame and the columns a sweep's heatmap is drawn over (x, y, then the facets):
    the grid parameters of the jobs' designs, then the swept parameters other than the
    seed; failing those, the first two parameters the replications drew, binned; failing
    those too, whatever was swept."""
    grid = [
        f"{column.removeprefix('uncertainty.')}_drawn"
        for column in frame.columns
        if column.startswith("uncertainty.")
        and frame[column].astype(str).str.startswith("grid").all()
        and frame.get(f"{column.removeprefix('uncertainty.')}_drawn", frame.index[:0]).nunique() > 1
    ]
    keys = grid + [k for k in swept if k in frame.columns and k != "seed"]
    if "scenario" in swept and "scenario" not in keys:
        keys.append("scenario")
    if keys:
        return frame, keys
    drawn = [c for c in frame.columns if c.endswith("_drawn") and frame[c].nunique() > 1][:2]
    if not drawn:
        return frame, [k for k in swept if k in frame.columns][:2]
    # Few values are shown as they are; values drawn from a distribution, binned.
    axes = {
        c: frame[c] if frame[c].nunique() <= HEATMAP_BINS else bin_midpoints(frame[c], HEATMAP_BINS)
        for c in drawn
    }
    return frame.assign(**axes), drawn


def bin_midpoints(values: Any, bins: int) -> np.ndarray:
    """Each value replaced by the midpoint of its bin, `bins` equal bins over the range."""
    x = np.asarray(values, dtype=np.float64)
    edges = np.linspace(np.nanmin(x), np.nanmax(x), bins + 1)
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    return np.round((edges[index] + edges[index + 1]) / 2, 3)


def write_heatmap(frame: Any, config: DictConfig, sweep_dir: Path) -> Path | None:
    """heatmap.png next to results.parquet: x and y the first two of `heatmap_axes`, one
    row of panels for each combination of the others (`sim.front.figures.sweep_heatmap`'s
    facets), as many of them as `MAX_FACETS` rows allow; any left over is pooled, and
    the figure's title says so."""
    from sim.front.labels import aliases_of

    fig = heatmap_figure(frame, swept_keys(config), aliases_of(config))
    if fig is None:
        return None
    path = sweep_dir / "heatmap.png"
    tmp = sweep_dir / ".heatmap.png.tmp"
    fig.savefig(tmp, dpi=120, format="png")
    tmp.replace(path)
    return path


def heatmap_figure(frame: Any, swept: list[str], aliases: dict[str, str] | None = None) -> Any:
    """A sweep's heatmap figure (`write_heatmap`) over its swept keys, or None when there
    is nothing to draw. Its axes are named in words (`sim.front.labels`; a scenario's alias
    after the key it sets: `aliases`, alias -> key, else read from the rows), binned
    values as such; its title says what the colour is, the sweep, the scenario and the
    replications per cell, and what was pooled."""
    from sim.analysis.tables import facet_values
    from sim.front import labels
    from sim.front.figures import MAX_FACETS, sweep_heatmap

    given = frame
    frame, keys = heatmap_axes(frame, swept)
    if not keys or frame.empty or "agreement" not in frame:
        return None
    binned = [k for k in keys if frame is not given and not frame[k].equals(given[k])]
    x = keys[0]
    y = keys[1] if len(keys) > 1 else None
    facets: list[str] = []
    for key in keys[2:]:
        if len(facet_values(frame, [*facets, key])) <= MAX_FACETS:
            facets.append(key)
    pooled = [k for k in keys[2:] if k not in facets]
    found = {**labels.frame_aliases(frame), **(aliases or {})}
    names = {k: labels.label(k, found) for k in keys}
    for key in binned:
        names[key] += f" (bin midpoints, {HEATMAP_BINS} bins)"
    note = None
    if pooled:
        note = f"pooled over {', '.join(names[k] for k in pooled)} (too many combinations to facet)"
    return sweep_heatmap(frame, x, y, facets=facets, names=names, note=note)
