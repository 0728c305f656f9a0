"""The page's second tab: a sweep's results under `results/sweeps/`, its heatmap, its rows
filtered by any column, and any row opened on the first tab as a replay."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import solara

from sim.front.png import figure_png

if TYPE_CHECKING:
    import pandas as pd

RESULTS_DIR = Path(os.environ.get("SIM_RESULTS_DIR", "results"))


def sweep_folders(results_dir: Path = RESULTS_DIR) -> list[str]:
    """Sweep folders under `results_dir`/sweeps/ (those with job files)."""
    root = results_dir / "sweeps"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "jobs").is_dir())


def swept_columns(frame: pd.DataFrame) -> list[str]:
    """Keys that take more than one value in the rows' overrides, in order of appearance."""
    import pandas as pd

    seen: dict[str, set[str]] = {}
    for text in frame.get("overrides", pd.Series(dtype=str)).dropna().unique():
        for word in shlex.split(str(text)):
            key, sep, value = word.partition("=")
            if sep:
                seen.setdefault(key, set()).add(value)
    return [k for k, v in seen.items() if len(v) > 1]


def heatmap_png(frame: pd.DataFrame) -> bytes | None:
    """The sweep's heatmap of the rows (shares with their 95% intervals and counts)."""
    from sim.front.callbacks import heatmap_figure

    fig = heatmap_figure(frame, swept_columns(frame))
    return None if fig is None else figure_png(fig, dpi=80, tight=True)


@solara.component
def SweepExplorer(results_dir: Path, on_open: Callable[[dict[str, Any]], None]) -> None:
    """Choose a sweep folder, see its heatmap, filter its rows, open one as a negotiation."""
    folders = sweep_folders(results_dir)
    folder, set_folder = solara.use_state(folders[0] if folders else "")
    filters, set_filters = solara.use_state({})
    column, set_column = solara.use_state("")
    chosen_row, set_chosen_row = solara.use_state(0)
    loaded = solara.use_memo(
        lambda: _load(results_dir / "sweeps" / folder) if folder else "", dependencies=[folder]
    )
    if not folders:
        solara.Text(
            f"No sweep under {results_dir / 'sweeps'} yet: ./dev run -m sweep=smoke",
            classes=["no-sweeps"],
        )
        return
    solara.Select(
        "sweep", value=folder, values=folders, on_value=lambda f: (set_folder(f), set_filters({}))
    )
    if isinstance(loaded, str):
        solara.Error(loaded)
        return
    frame = loaded
    for key, value in filters.items():
        frame = frame[frame[key].astype(str) == value]
    image = heatmap_png(frame) if len(frame) else None
    with solara.Row():
        columns = [c for c in loaded.columns if loaded[c].astype(str).nunique() > 1]
        solara.Select("filter on", value=column or None, values=columns, on_value=set_column)
        if column in loaded:
            values = sorted(loaded[column].astype(str).unique())
            solara.Select(
                "value",
                value=filters.get(column),
                values=values,
                on_value=lambda v: set_filters({**filters, column: v}),
            )
        solara.Button("clear filters", on_click=lambda: set_filters({}))
    if filters:
        solara.Text("filters: " + ", ".join(f"{k} = {v}" for k, v in filters.items()))
    solara.Text(f"{len(frame):,} rows", classes=["row-count"])
    if image is not None and len(frame):
        solara.Image(image, classes=["heatmap"])
    if len(frame):
        solara.DataFrame(frame.reset_index(drop=True), items_per_page=10)
        with solara.Row():
            solara.InputInt("row", value=chosen_row, on_value=set_chosen_row)
            solara.Button(
                "Open as a negotiation",
                on_click=lambda: on_open(
                    frame.iloc[min(max(chosen_row, 0), len(frame) - 1)].to_dict()
                ),
                classes=["open-row"],
            )


def _load(folder: Path) -> pd.DataFrame | str:
    from sim.experiment.error_lines import one_line
    from sim.experiment.results import load

    try:
        return load(folder, on_error="skip")
    except Exception as exc:
        return f"error: {one_line(exc)}"
